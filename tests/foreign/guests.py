"""Guests built by other toolchains than witgen, for the differential tests of tests/foreign/.

The Rust guests use the `wit-bindgen` crate from the crate registry (as benchmarks/rust_bench.py
does) and are built with witgen's Rust recipe (Debian rustc-web, -Zbuild-std, wasm32) in cargo
workspaces under `target/rust-guests/foreign/` (one per set of wit-bindgen features: cargo unifies
features within a workspace), all with the target directory `target/rust-guests/foreign/target/`;
wit-bindgen embeds the component type itself, so `wasm-tools component new` alone makes the
component. Python bindings for the same WIT are generated into `target/foreign/bindings/`
(package `foreign_shapes`, ...). Everything is cached: a warm run rebuilds nothing.

The crates come from cargo's download cache: `.ci/install.d/rust.sh` runs `prefetch()` (network),
the builds run `--offline` and fetch (network) only when something is missing from the cache.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from witgen import backends, frontend
from witgen.backends import python as python_backend
from witgen.fsio import write_tree
from witgen.paths import REPO_ROOT
from witgen.toolchains import rust

HERE = Path(__file__).parent
WIT = HERE / "wit"
OUT = REPO_ROOT / "target" / "foreign"
WIT_BINDGEN = "0.63"
WORKSPACES = rust.TARGET_DIR / "foreign"
# A target directory of their own: these builds take build-std's dependencies (hashbrown,
# dlmalloc, ...) from the crate registry, the suite's other Rust guests from Debian's vendored
# sources, and cargo fingerprints a crate by its source path, so in the shared target/rust-guests
# each switch between the two rebuilt the standard library (and every crate above it).
TARGET_DIR = WORKSPACES / "target"
# std without its default features: no unwinding (the guests abort on panic) and no backtrace
# symbolisation (object, gimli, addr2line, miniz_oxide: nothing a wasm guest can use)
BUILD_STD = ["-Zbuild-std=std,panic_abort", "-Zbuild-std-features="]
# The tests need wit-bindgen's ABI, not fast guests: no LTO, parallel codegen, light
# optimisation. The standard library is built with this profile too: most of a cold build.
PROFILE = """
[profile.release]
opt-level = 1
debug = false
lto = false
codegen-units = 16
panic = "abort"
strip = true
incremental = false
"""

# crate -> (WIT file, world, bindings package, wit-bindgen features, source directory)
GUESTS: dict[str, tuple[str, str, str, list[str], str]] = {
    "shapes": ("foreign.wit", "foreign", "foreign_shapes", [], "shapes"),
    "async-shapes": ("async.wit", "async-shapes", "foreign_async", ["async-spawn"], "async-shapes"),
    # the same source with wit-bindgen's inter-task wakeups (a unit stream): what a guest
    # needs to survive the host cancelling a call while a spawned task is asleep
    "async-wakeup": (
        "async.wit",
        "async-shapes",
        "foreign_async",
        ["async-spawn", "inter-task-wakeup"],
        "async-shapes",
    ),
}


def require_rust() -> None:
    """Skip (locally, with the reason) or fail (under CI) when the toolchain is missing."""
    missing = rust.missing_tools()
    if missing:
        message = f"cannot build the wit-bindgen guests; missing: {', '.join(missing)}"
        if os.environ.get("CI"):
            pytest.fail(message + " (.ci/install must install them)")
        pytest.skip(message)


def _write(path: Path, text: str) -> None:
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def _manifest(crate: str, features: list[str]) -> str:
    feats = ", ".join(f'"{f}"' for f in features)
    dep = (
        f'{{ version = "{WIT_BINDGEN}", features = [{feats}] }}' if features else f'"{WIT_BINDGEN}"'
    )
    return (
        f'[package]\nname = "foreign-{crate}"\nversion = "0.1.0"\nedition = "2021"\n'
        f'publish = false\n\n[lib]\ncrate-type = ["cdylib"]\n\n[dependencies]\nwit-bindgen = {dep}\n'
    )


_built: dict[str, Path] = {}
# what cargo says when the crate registry cannot be reached
_NO_REGISTRY = ("failed to get `", "failed to download", "Unable to update registry")


def build(crate: str) -> Path:
    """The component of guest `crate` (all guests are built together, once per process)."""
    require_rust()
    if crate in _built:
        return _built[crate]
    outs = {name: OUT / f"{name}.wasm" for name in GUESTS}
    inputs = [HERE / "guests.py"] + [WIT / spec[0] for spec in GUESTS.values()]
    inputs += [HERE / "guests" / spec[4] / "src" / "lib.rs" for spec in GUESTS.values()]
    newest = max(p.stat().st_mtime for p in inputs)
    if all(out.exists() and out.stat().st_mtime > newest for out in outs.values()):
        _built.update(outs)  # nothing changed: no cargo run
        return _built[crate]
    for root, target in _layout():
        if target == rust.TARGET:
            _cargo_build(root, target)
    tool = shutil.which("wasm-tools")
    assert tool is not None  # rust.missing_tools() checked it
    for name in GUESTS:
        core = TARGET_DIR / rust.TARGET / "release" / f"foreign_{name.replace('-', '_')}.wasm"
        out = outs[name]
        if (
            not out.exists()
            or out.stat().st_mtime <= newest
            or out.stat().st_mtime < core.stat().st_mtime
        ):
            out.parent.mkdir(parents=True, exist_ok=True)
            staged = out.with_name(f".{name}.{os.getpid()}.wasm")
            subprocess.run([tool, "component", "new", str(core), "-o", str(staged)], check=True)
            os.replace(staged, out)
        _built[name] = out
    return _built[crate]


def _layout() -> list[tuple[Path, str]]:
    """Write the cargo workspaces of all guests; (workspace root, target) of each."""
    workspaces = []
    # Cargo unifies a dependency's features across a workspace: guests asking for different
    # wit-bindgen features get a workspace each (all share the target directory).
    groups: dict[tuple[str, ...], list[str]] = {}
    for name, spec in GUESTS.items():
        groups.setdefault(tuple(spec[3]), []).append(name)
    for i, names in enumerate(groups.values()):
        root = WORKSPACES / f"ws{i}"
        for name in names:
            wit, _, _, features, source = GUESTS[name]
            src = HERE / "guests" / source / "src" / "lib.rs"
            _write(root / name / "Cargo.toml", _manifest(name, features))
            _write(root / name / "src" / "lib.rs", src.read_text("utf-8"))
            _write(root / name / "src" / wit, (WIT / wit).read_text("utf-8"))
        members = ", ".join(f'"{name}"' for name in names)
        _write(
            root / "Cargo.toml", f'[workspace]\nresolver = "2"\nmembers = [{members}]\n' + PROFILE
        )
        workspaces.append((root, rust.TARGET))
    root = WORKSPACES / "wasi"
    source = HERE / "guests" / "wasi" / "src" / "lib.rs"
    _write(root / "wasi" / "Cargo.toml", _manifest("wasi", []))
    _write(root / "wasi" / "src" / "lib.rs", source.read_text("utf-8"))
    _write(root / "wasi" / "src" / "wasi.wit", (WIT / "wasi.wit").read_text("utf-8"))
    _write(root / "Cargo.toml", '[workspace]\nresolver = "2"\nmembers = ["wasi"]\n' + PROFILE)
    workspaces.append((root, WASI_TARGET))
    return workspaces


def _cargo_build(root: Path, target: str) -> None:
    """`cargo build` of one workspace from cargo's download cache; what is missing there is
    fetched first (the only step that needs the network)."""
    if target == rust.TARGET:
        cmd = rust.cargo_command(root, vendored=False)
        cmd.remove(BUILD_STD[0])
        cmd += BUILD_STD
    else:  # wasm32-wasip1: std over wasi-libc, linked by lld
        flags = [
            "-C",
            "link-self-contained=no",
            "-L",
            str(WASI_LIBC),
            "-C",
            f"linker={WASI_LINKER}",
        ]
        cmd = [str(rust.DEBIAN_CARGO), "build", "--release", "--target", target, *BUILD_STD]
        cmd += ["--manifest-path", str(root / "Cargo.toml"), "--quiet"]
        cmd += ["--config", f"target.{target}.rustflags={flags!r}".replace("'", '"')]
    cmd.append("--offline")
    env = rust._env(TARGET_DIR)
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if proc.returncode != 0 and "offline" in proc.stderr:
        fetched = _fetch(root, target)
        if fetched.returncode != 0:
            text = fetched.stderr
            if any(sign in text for sign in _NO_REGISTRY):
                # wit-bindgen (and futures) come from the crate registry on the first build
                message = f"cannot fetch wit-bindgen {WIT_BINDGEN} from the crate registry"
                if os.environ.get("CI"):
                    pytest.fail(f"{message} (.ci/install.d/rust.sh fetches it):\n{text}")
                pytest.skip(f"{message} (offline?)")
            raise rust.ToolchainError(f"cargo fetch failed in {root}:\n{text[-6000:]}")
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        raise rust.ToolchainError(f"cargo build failed in {root}:\n{proc.stderr[-6000:]}")


def _fetch(root: Path, target: str) -> subprocess.CompletedProcess[str]:
    """`cargo fetch` of a workspace and of its build-std dependencies (network)."""
    cmd = [str(rust.DEBIAN_CARGO), "fetch", "--manifest-path", str(root / "Cargo.toml")]
    cmd += ["--target", target, *BUILD_STD]
    return subprocess.run(cmd, capture_output=True, text=True, env=rust._env(TARGET_DIR))


def prefetch() -> None:
    """Download every crate the guests need into cargo's cache (`.ci/install.d/rust.sh`), so
    the test run does not need the network."""
    for root, target in _layout():
        proc = _fetch(root, target)
        if proc.returncode != 0:
            raise SystemExit(f"error: cargo fetch failed in {root}:\n{proc.stderr[-6000:]}")
    print(f"wit-bindgen {WIT_BINDGEN} and its dependencies are in cargo's download cache")


def bindings(crate: str) -> str:
    """Generate the Python bindings of guest `crate`'s world; returns the package name."""
    wit, world, package, _, _ = GUESTS[crate]
    path = WIT / wit
    resolve = frontend.load(path)
    files = python_backend.generate(
        resolve,
        [resolve.find_world(world)],
        backends.GenerateOptions(source=str(path.relative_to(REPO_ROOT)), package_name=package),
    )
    _install(package, files)
    return package


# ------------------------------------------------------------------ a guest over WASI (std)

WASI_TARGET = "wasm32-wasip1"
WASI_LIBC = Path("/usr/lib/wasm32-wasi")  # Debian's wasi-libc (.ci/install)
WASI_LINKER = "wasm-ld-22"  # Debian's lld-22 (.ci/install)


def build_wasi() -> Path:
    """The component of tests/foreign/guests/wasi: built for wasm32-wasip1 with std (wasi-libc
    linked by lld), made a component with the WASI preview-1 reactor adapter that
    `witgen toolchain install go` fetches, so it imports WASI 0.2 as wasm32-wasip1 guests do."""
    require_rust()
    from witgen.toolchains import go

    adapter = go.adapter_path()
    missing = [str(p) for p in (WASI_LIBC, adapter) if not p.exists()]
    if shutil.which(WASI_LINKER) is None:
        missing.append(WASI_LINKER)
    if missing:
        message = f"cannot build the WASI guest; missing: {', '.join(missing)}"
        if os.environ.get("CI"):
            pytest.fail(message + " (.ci/install must install them)")
        pytest.skip(message + " (run .ci/install)")
    out = OUT / "wasi.wasm"
    source = HERE / "guests" / "wasi" / "src" / "lib.rs"
    inputs = [HERE / "guests.py", WIT / "wasi.wit", source]
    if out.exists() and out.stat().st_mtime > max(p.stat().st_mtime for p in inputs):
        return out
    for root, target in _layout():
        if target == WASI_TARGET:
            _cargo_build(root, target)
    core = TARGET_DIR / WASI_TARGET / "release" / "foreign_wasi.wasm"
    tool = shutil.which("wasm-tools")
    assert tool is not None
    staged = out.with_name(f".wasi.{os.getpid()}.wasm")
    adapt = f"wasi_snapshot_preview1={adapter}"
    subprocess.run(
        [tool, "component", "new", str(core), "--adapt", adapt, "-o", str(staged)], check=True
    )
    os.replace(staged, out)
    return out


def wasi_bindings() -> str:
    path = WIT / "wasi.wit"
    resolve = frontend.load(path)
    files = python_backend.generate(
        resolve,
        [resolve.find_world("wasi-guest")],
        backends.GenerateOptions(
            source=str(path.relative_to(REPO_ROOT)), package_name="foreign_wasi"
        ),
    )
    _install("foreign_wasi", files)
    return "foreign_wasi"


def _install(package: str, files: dict[str, str]) -> None:
    """Write a generated package into its own folder (write_tree removes the files of a
    folder's earlier generation that are not written again) and make it importable."""
    where = OUT / "bindings" / package
    write_tree(where, files)
    if str(where) not in sys.path:
        sys.path.insert(0, str(where))


if __name__ == "__main__":  # `python3 tests/foreign/guests.py prefetch` (.ci/install.d/rust.sh)
    if sys.argv[1:] != ["prefetch"]:
        raise SystemExit("usage: python3 tests/foreign/guests.py prefetch")
    prefetch()
