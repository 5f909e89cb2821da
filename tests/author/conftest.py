"""Shared helpers for the author's-loop tests: run witgen in-process, one shared build cache.

Every Rust project builds into the one cargo target directory the Rust SDK tests use
(target/rust-guests), so the standard library is compiled once; Go's build cache is per user
anyway; TypeScript components are cached by content (witgen.toolchains.typescript).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from witgen.cli import main
from witgen.paths import REPO_ROOT
from witgen.toolchains import recipe
from witgen.toolchains.rust import TARGET_DIR


def witgen(capsys: pytest.CaptureFixture[str], *argv: str | Path) -> tuple[int, str, str]:
    """Run `witgen ARGV...` in this process; (exit status, stdout, stderr)."""
    capsys.readouterr()
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def require_toolchain(lang: str) -> None:
    missing = recipe(lang).check()
    if missing:
        message = f"the {lang} toolchain is incomplete: {', '.join(map(str, missing))}"
        if os.environ.get("CI"):
            pytest.fail(message + " (.ci/install must install it)")
        pytest.skip(message)


@pytest.fixture(autouse=True)
def shared_cargo_target(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CARGO_TARGET_DIR", str(TARGET_DIR))


@pytest.fixture(scope="session")
def projects(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("projects")


assert REPO_ROOT.is_dir()
