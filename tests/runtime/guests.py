"""Building the runtime corpus: each case's guests (Rust, Go, TypeScript) and Python bindings.

A case is a folder `tests/runtime/<case>/` with one `test.wit` (one world) and a guest per
language written against that language's generated SDK: `guest.rs`, `guest.go`, `guest.ts`.
Everything is built with witgen's one recipe per language (`witgen.toolchains.*`) under
`target/runtime/`, each component cached by a digest of its inputs (the WIT, the guest, the
generated SDK), so a warm run builds nothing and a cold one builds each guest once: all Rust
guests in one cargo run, each Go guest with `go build`, each TypeScript guest with tsc and
componentize-js (also kept in the recipe's cache under `.toolchains/`: the slow one).

`component(case, lang)` returns the component's path, or raises `GuestUnavailable` with the
reason (a guest the language's SDK cannot generate or build yet); `bindings(case)` imports the
case's generated Python package.
"""

from __future__ import annotations

import functools
import hashlib
import importlib
import os
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Callable

import witgen
from witgen import backends, frontend
from witgen.diagnostics import WitgenError
from witgen.fsio import write_tree
from witgen.paths import REPO_ROOT
from witgen.toolchains import go as go_recipe
from witgen.toolchains.base import BuildFailed
from witgen.toolchains import rust as rust_recipe
from witgen.toolchains import typescript as ts_recipe

HERE = Path(__file__).parent
OUT = REPO_ROOT / "target" / "runtime"
LANGUAGES = ("rust", "go", "typescript")
SOURCES = {"rust": "guest.rs", "go": "guest.go", "typescript": "guest.ts"}
CASES = sorted(p.name for p in HERE.iterdir() if (p / "test.wit").is_file())


class GuestUnavailable(Exception):
    """A case's guest in one language cannot be built (the message says why)."""


class ToolchainMissing(GuestUnavailable):
    """The language's toolchain is not installed here."""


def wit(case: str) -> Path:
    return HERE / case / "test.wit"


@functools.cache
def world(case: str) -> str:
    resolve = frontend.load(wit(case))
    assert resolve.main_package is not None
    (name,) = resolve.packages[resolve.main_package].worlds
    return name


def module_name(case: str) -> str:
    return "runtime_" + case.replace("-", "_")


def _generate(lang: str, case: str, package_name: str) -> dict[str, str]:
    resolve = frontend.load(wit(case))
    assert resolve.main_package is not None
    worlds = sorted(resolve.packages[resolve.main_package].worlds.values())
    options = backends.GenerateOptions(
        source=f"tests/runtime/{case}/test.wit", package_name=package_name
    )
    try:
        return dict(backends.available()[lang].generate(resolve, worlds, options))
    except WitgenError as exc:
        raise GuestUnavailable(f"the {lang} backend refuses the case: {exc}") from None


def _digest(*parts: str | bytes | Path) -> str:
    h = hashlib.sha256(witgen.__version__.encode())
    for part in parts:
        data = part.read_bytes() if isinstance(part, Path) else part
        h.update(data if isinstance(data, bytes) else data.encode())
        h.update(b"\0")
    return h.hexdigest()[:16]


def _files_digest(files: dict[str, str]) -> str:
    return _digest(*(f"{path}\0{text}" for path, text in sorted(files.items())))


def _cached(out: Path, build: Callable[[Path], None]) -> Path:
    """`out` if it was built before, else `build(staged)` and then renamed into place."""
    if out.is_file():
        return out
    for stale in out.parent.glob(out.name.rsplit("-", 1)[0] + "-*.wasm"):
        stale.unlink()  # builds of older inputs
    out.parent.mkdir(parents=True, exist_ok=True)
    staged = out.with_name(f".{out.stem}.{os.getpid()}.wasm")
    try:
        build(staged)
        os.replace(staged, out)
    finally:
        staged.unlink(missing_ok=True)
    return out


# ---------------------------------------------------------------------------- Python


@functools.cache
def bindings(case: str) -> ModuleType:
    """The case's generated Python package (`runtime_<case>`), imported."""
    files = _generate("python", case, module_name(case))
    root = OUT / "python" / case
    write_tree(root, files, force=True)
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    return importlib.import_module(module_name(case))


# ---------------------------------------------------------------------------- Rust


@functools.cache
def _rust_all() -> dict[str, Path | str]:
    """Every Rust guest, in one cargo workspace and one cargo run: case -> component or reason."""
    found: dict[str, Path | str] = {}
    sdks: dict[str, dict[str, str]] = {}
    guests: dict[str, tuple[str, str]] = {}
    for case in CASES:
        source = HERE / case / SOURCES["rust"]
        if not source.is_file():
            found[case] = "the case has no Rust guest"
            continue
        sdk = f"runtime-{case}-sdk"
        try:
            sdks[sdk] = _generate("rust", case, sdk)
        except GuestUnavailable as exc:
            found[case] = str(exc)
            continue
        guests[f"runtime-{case}"] = (sdk, source.read_text(encoding="utf-8"))
    if rust_recipe.missing_tools():
        raise ToolchainMissing("missing: " + ", ".join(rust_recipe.missing_tools()))
    workspace = rust_recipe.TARGET_DIR / "runtime"
    try:
        rust_recipe.build_workspace(workspace, sdks, guests)
    except rust_recipe.ToolchainError:
        # one guest that does not compile stops the whole run: build each alone to say which
        for crate, (sdk, code) in guests.items():
            try:
                rust_recipe.build_workspace(workspace, {sdk: sdks[sdk]}, {crate: (sdk, code)})
            except rust_recipe.ToolchainError as exc:
                found[crate.removeprefix("runtime-")] = f"cargo build failed: {exc}"[-3000:]
    for crate in guests:
        case = crate.removeprefix("runtime-")
        if case in found:
            continue
        found[case] = rust_recipe.componentize(
            rust_recipe.core_module(crate), wit(case), world(case), OUT / "rust" / f"{case}.wasm"
        )
    return found


def _rust(case: str) -> Path:
    result = _rust_all()[case]
    if isinstance(result, str):
        raise GuestUnavailable(result)
    return result


# ---------------------------------------------------------------------------- Go


def _go(case: str) -> Path:
    source = HERE / case / SOURCES["go"]
    if not source.is_file():
        raise GuestUnavailable("the case has no Go guest")
    if go_recipe.check():
        raise ToolchainMissing("missing: " + ", ".join(m.what for m in go_recipe.check()))
    module = f"runtime/{case}"
    sdk = _generate("go", case, module)
    key = _digest(wit(case), source, _files_digest(sdk))
    stage = OUT / "go" / case

    def build(staged: Path) -> None:
        if stage.exists():
            shutil.rmtree(stage)
        write_tree(stage / "sdk", sdk)
        shutil.copyfile(source, stage / "main.go")
        (stage / "go.mod").write_text(
            f"module runtime-guest/{case}\n\ngo 1.24\n\nrequire {module} v0.0.0\n\n"
            f"replace {module} => ./sdk\n",
            encoding="utf-8",
        )
        try:
            go_recipe.build_guest(stage, wit(case), world(case), staged)
        except BuildFailed as exc:
            raise GuestUnavailable(f"the Go guest does not build: {exc}") from None

    return _cached(OUT / "go" / f"{case}-{key}.wasm", build)


# ---------------------------------------------------------------------------- TypeScript


def _typescript(case: str) -> Path:
    source = HERE / case / SOURCES["typescript"]
    if not source.is_file():
        raise GuestUnavailable("the case has no TypeScript guest")
    if ts_recipe.check():
        raise ToolchainMissing("missing: " + ", ".join(m.what for m in ts_recipe.check()))
    sdk = _generate("typescript", case, f"@runtime/{case}-sdk")
    key = _digest(wit(case), source, _files_digest(sdk), " ".join(ts_recipe.PACKAGES))
    stage = OUT / "typescript" / case

    def build(staged: Path) -> None:
        if stage.exists():
            shutil.rmtree(stage)
        write_tree(stage / "sdk", sdk)
        shutil.copyfile(source, stage / "guest.ts")
        tsc = [str(ts_recipe.tool("tsc")), "--strict", "--target", "es2022", "--module"]
        tsc += ["es2022", "--moduleResolution", "bundler", "--lib", "es2022,esnext.disposable"]
        tsc += ["--outDir", str(stage / "js"), str(stage / "guest.ts")]
        done = subprocess.run(tsc, cwd=stage, capture_output=True, text=True)
        if done.returncode != 0:
            raise GuestUnavailable(f"tsc: {done.stdout}{done.stderr}")
        entry = next((stage / "js").rglob("guest.js"))
        try:
            ts_recipe.componentize(entry, wit(case), world(case), staged)
        except BuildFailed as exc:
            raise GuestUnavailable(f"componentize-js: {exc}") from None

    # componentize-js takes ~20 s a guest: finished components are also kept in the TypeScript
    # recipe's content-addressed cache (under .toolchains/, which outlives target/)
    shared = ts_recipe.cache_dir() / f"runtime-{case}-{key}.wasm"
    out = OUT / "typescript" / f"{case}-{key}.wasm"
    if not out.is_file() and shared.is_file():
        out.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(shared, out)
    built = _cached(out, build)
    if not shared.is_file():
        shared.parent.mkdir(parents=True, exist_ok=True)
        staged = shared.with_name(f".{shared.name}.{os.getpid()}")
        shutil.copyfile(built, staged)
        os.replace(staged, shared)
    return built


_BUILDERS = {"rust": _rust, "go": _go, "typescript": _typescript}


@functools.cache
def _component(case: str, lang: str) -> Path | GuestUnavailable:
    try:
        return _BUILDERS[lang](case)
    except GuestUnavailable as exc:
        return exc


def component(case: str, lang: str) -> Path:
    """The component of `case`'s guest in `lang`, built once per session (cached on disk)."""
    found = _component(case, lang)
    if isinstance(found, GuestUnavailable):
        raise found
    return found
