"""Generated names that collide are disambiguated deterministically, and the package still
type-checks and imports (tests/python_host/wit/name_clashes.wit says which collisions)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from witgen import backends, frontend
from witgen.backends import python as python_backend
from witgen.fsio import write_tree
from witgen.paths import REPO_ROOT

WIT = Path(__file__).parent / "wit" / "name_clashes.wit"


def _generate(out: Path) -> dict[str, str]:
    resolve = frontend.load(WIT)
    options = backends.GenerateOptions(source=WIT.name, package_name="clash_pkg")
    files = python_backend.generate(resolve, [resolve.find_world("clash")], options)
    write_tree(out, files, force=True)
    return files


def test_output_is_deterministic(tmp_path: Path) -> None:
    assert _generate(tmp_path / "a") == _generate(tmp_path / "b")


def test_names_step_aside(tmp_path: Path) -> None:
    _generate(tmp_path)
    iface = (tmp_path / "clash_pkg" / "clash_iface.py").read_text()
    world = (tmp_path / "clash_pkg" / "clash.py").read_text()
    for name in ("Any_", "Result_", "Optional_", "Protocol_", "ClashHost", "ClashExports_"):
        assert f"class {name}" in iface or f"{name}: TypeAlias" in iface, name
    assert "from typing import" in iface and "Protocol" in iface
    assert "Clash as _clash_iface_Clash" in world  # the type, beside the world class Clash
    assert "        component_: ClashImports | None = None," not in world
    assert "    def prepare_(self" not in world  # an export named like a member is not flattened


def test_typed_modules_pass_mypy_strict(tmp_path: Path) -> None:
    _generate(tmp_path)
    # _fast.py is python/fast.py's output: see test_package_imports
    config = tmp_path / "mypy.ini"
    config.write_text("[mypy]\n[mypy-clash_pkg._fast]\nignore_errors = True\n")
    done = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", "--cache-dir=/dev/null"]
        + ["--config-file", str(config), "-p", "clash_pkg"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={**os.environ, "MYPYPATH": str(REPO_ROOT)},
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_package_imports(tmp_path: Path) -> None:
    _generate(tmp_path)
    done = subprocess.run(
        [sys.executable, "-c", "import clash_pkg"], cwd=tmp_path, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
