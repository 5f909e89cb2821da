"""Building TypeScript guests into WebAssembly components (the one TypeScript recipe).

    tsc -p PROJECT                    # --strict, emits JS under target/witgen/js/
    componentize-js ENTRY.js --wit WIT -n WORLD -d http fetch-event -o plugin.wasm

`-d http fetch-event` keeps wasi:http out of the component's imports. The npm packages live in
`toolchains_dir()/node/` (installed by `witgen toolchain install typescript`); a stamp file
records the exact package list. preview2-shim is pinned at top level because componentize-js
imports it without declaring it, and newer shims fail with `os error 44`.

componentize-js takes ~10 s and ~800 MB per build, so finished components are also kept in a
content-addressed cache (`toolchains_dir()/build-cache/typescript/<digest>.wasm`, keyed by every
input file and the package list): building the same sources twice, in any folder, is a copy.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from witgen.paths import read_text
from witgen.toolchains.base import BuildFailed, Missing, run, toolchains_dir

if TYPE_CHECKING:
    from witgen.author.project import Project

PACKAGES = (
    "typescript@7.0.2",
    "prettier@3.10.1",
    "@bytecodealliance/jco@1.35.0",
    "@bytecodealliance/componentize-js@0.23.0",
    "@bytecodealliance/preview2-shim@0.17.5",
)
NODE_MISSING = Missing("Node.js and npm", "apt-get install -y nodejs npm")
# package.json (PACKAGES, exact) and the package-lock.json that pins every transitive npm package:
# `npm ci` installs exactly that tree. Refresh the lock deliberately: `npm install` in a copy of
# this folder, run the TypeScript tests, copy the new package-lock.json back.
NPM_LOCK_DIR = Path(__file__).with_name("npm")


def node_dir() -> Path:
    return toolchains_dir() / "node"


def node_bin() -> Path:
    return node_dir() / "node_modules" / ".bin"


def tool(name: str) -> Path:
    return node_bin() / name


def npm_install_command() -> list[str]:
    return ["npm", "ci", "--prefix", str(node_dir()), "--no-audit", "--no-fund", "--loglevel=error"]


def _stamp_text() -> str:
    lock = read_text(NPM_LOCK_DIR / "package-lock.json").encode("utf-8")
    return " ".join(PACKAGES) + " lock:" + hashlib.sha256(lock).hexdigest()[:16]


def _stamp() -> Path:
    return node_dir() / ".installed"


def _installed() -> bool:
    stamp = _stamp()
    return (
        stamp.is_file()
        and stamp.read_text(encoding="utf-8").strip() == _stamp_text()
        and tool("tsc").exists()
        and tool("componentize-js").exists()
    )


def check() -> list[Missing]:
    missing = []
    if shutil.which("node") is None or shutil.which("npm") is None:
        missing.append(NODE_MISSING)
    if not _installed():
        missing.append(Missing(f"npm packages in {node_dir()}", " ".join(npm_install_command())))
    return missing


def install(out: TextIO) -> None:
    if shutil.which("npm") is None:
        raise BuildFailed("installing the TypeScript toolchain", f"{NODE_MISSING}")
    if _installed():
        return
    node_dir().mkdir(parents=True, exist_ok=True)
    for name in ("package.json", "package-lock.json"):
        (node_dir() / name).write_text(read_text(NPM_LOCK_DIR / name), encoding="utf-8")
    print(f"installing npm packages into {node_dir()}: {' '.join(PACKAGES)}", file=out, flush=True)
    subprocess.run(npm_install_command(), check=True)
    _stamp().write_text(_stamp_text() + "\n", encoding="utf-8")


def digest(files: list[Path], root: Path, *extra: str) -> str:
    """Content digest of `files` (named relative to `root`) and extra strings."""
    h = hashlib.sha256(" ".join(PACKAGES).encode())
    for text in extra:
        h.update(text.encode() + b"\0")
    for path in sorted(files):
        h.update(str(path.relative_to(root)).encode() + b"\0")
        h.update(path.read_bytes() + b"\0")
    return h.hexdigest()[:24]


def cache_dir() -> Path:
    return toolchains_dir() / "build-cache" / "typescript"


def componentize(entry_js: Path, wit: Path, world: str, out: Path) -> Path:
    """componentize-js one compiled entry module into the component `out`."""
    out.parent.mkdir(parents=True, exist_ok=True)
    staged = out.with_name(f".{out.stem}.{os.getpid()}.wasm")
    try:
        run([str(tool("componentize-js")), str(entry_js), "--wit", str(wit), "-n", world,
             "-d", "http", "fetch-event", "-o", str(staged)], "componentize-js")  # fmt: skip
        os.replace(staged, out)
    finally:
        staged.unlink(missing_ok=True)
    return out


def sources(project: Project) -> list[Path]:
    skip = {"target", "node_modules", "fixtures", ".git"}
    found = []
    for path in project.root.rglob("*"):
        rel = path.relative_to(project.root)
        if rel.parts[0] in skip or not path.is_file():
            continue
        if path.suffix in (".ts", ".wit", ".json", ".js"):
            found.append(path)
    return found


def build(project: Project, *, release: bool) -> Path:
    """tsc, then componentize-js (or the content-addressed cache); the component."""
    out = project.component(release)
    key = digest(sources(project), project.root, project.world)
    cached = cache_dir() / f"{key}.wasm"
    if cached.is_file():
        out.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(cached, out)
        return out
    js = project.out_dir / "js"
    run([str(tool("tsc")), "-p", str(project.root), "--outDir", str(js)], "tsc")
    entry = js / "plugin.js"
    if not entry.is_file():
        raise BuildFailed("tsc", f"tsc did not write {entry} (the entry module is plugin.ts)")
    componentize(entry, project.wit, project.world, out)
    cache_dir().mkdir(parents=True, exist_ok=True)
    staged = cached.with_suffix(f".{os.getpid()}.tmp")
    shutil.copyfile(out, staged)
    os.replace(staged, cached)
    return out
