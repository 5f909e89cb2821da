"""The committed generated package type-checks with mypy --strict and is black-formatted."""

from __future__ import annotations

import subprocess
import sys

from tests.python_host.conftest import GENERATED


def test_mypy_strict_is_clean() -> None:
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--strict",
            "--no-incremental",
            "--cache-dir",
            "/dev/null",
            "dataflare_core",
        ],
        cwd=GENERATED,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_black_check_is_clean() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "black", "--check", "--quiet", "."],
        cwd=GENERATED,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_package_has_py_typed() -> None:
    assert (GENERATED / "dataflare_core" / "py.typed").is_file()


def test_package_imports_without_witgen() -> None:
    # A fresh interpreter with only the generated package on the path (no repo root).
    code = (
        "import sys; sys.path = [p for p in sys.path if p not in ('', '.')];"
        "import dataflare_core, dataflare_core.processor_plugin;"
        "assert 'witgen' not in sys.modules"
    )
    proc = subprocess.run(
        [
            sys.executable,
            "-I",
            "-B",
            "-c",
            f"import sys; sys.path.insert(0, {str(GENERATED)!r}); {code}",
        ],
        capture_output=True,
        text=True,
        cwd="/",
    )
    assert proc.returncode == 0, proc.stderr
