"""Real WASI releases installed on the machine (Rust's vendored `wasi` crate: 0.2.4; jco's
builtin WIT: 0.2.12 and 0.3.0), compared release against release, both ways: our guest verdict
must match `wasm-tools component semver-check` on every world they share."""

from __future__ import annotations

import glob
import os
import subprocess
from pathlib import Path

import pytest
from compat_oracle import fast_wasm_tools, wasm_tools  # noqa: F401 (fixtures)

from witgen import compat, frontend, ir
from witgen.paths import REPO_ROOT

RUST_WASI = "/usr/src/rustc-*/library/vendor/wasi-*+wasi-0.2.4/wit/deps"
JCO_WIT = REPO_ROOT / ".toolchains/node/node_modules/@bytecodealliance/jco/lib/wit/builtin"
WORLDS = [
    "wasi:clocks/imports",
    "wasi:filesystem/imports",
    "wasi:sockets/imports",
    "wasi:random/imports",
    "wasi:cli/imports",
    "wasi:cli/command",
    "wasi:http/imports",
    "wasi:http/proxy",
]
STEPS = [("0.2.4", "0.2.12"), ("0.2.12", "0.3.0")]


def _releases() -> dict[str, list[Path]]:
    found: dict[str, list[Path]] = {}
    rust = sorted(glob.glob(RUST_WASI))
    if rust:
        found["0.2.4"] = sorted(p for p in Path(rust[-1]).iterdir() if p.is_dir())
    for version in ("0.2.12", "0.3.0"):
        folder = JCO_WIT / version
        if folder.is_dir():
            found[version] = sorted(p for p in folder.iterdir() if p.is_dir())
    return found


@pytest.fixture(scope="module")
def wasi(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, ir.Resolve]:
    """One root package whose deps/ hold every release side by side (as semver-check needs)."""
    releases = _releases()
    if len(releases) < 3:
        message = f"WASI releases not installed (found {sorted(releases)}; run .ci/install)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    root = tmp_path_factory.mktemp("wasi-releases")
    (root / "root.wit").write_text("package compat:releases;\n")
    (root / "deps").mkdir()
    for version, packages in releases.items():
        for pkg in packages:
            (root / "deps" / f"{pkg.name}-{version}").symlink_to(pkg, target_is_directory=True)
    return root, frontend.load(root)


def _cases() -> list[tuple[str, str, str]]:
    cases = []
    for old, new in STEPS:
        for world in WORLDS:
            if new == "0.3.0" and world.startswith("wasi:http"):
                continue  # wasi:http 0.3 renamed its worlds
            cases += [(world, old, new), (world, new, old)]
    return cases


@pytest.mark.parametrize("world, old, new", _cases())
def test_wasi_release_verdicts(wasi, world, old, new, fast_wasm_tools):
    root, resolve = wasi
    report = compat.check(
        resolve,
        resolve,
        old_world=resolve.find_world(f"{world}@{old}"),
        new_world=resolve.find_world(f"{world}@{new}"),
    )
    cmd = [fast_wasm_tools, "component", "semver-check", "--prev", f"{world}@{old}"]
    oracle = subprocess.run([*cmd, "--new", f"{world}@{new}", str(root)], capture_output=True)
    assert (not report.breaks(compat.Side.GUESTS)) == (oracle.returncode == 0), [
        f.message for f in report.errors
    ]
