"""witgen's own code keeps the house rules: black-formatted and `mypy --strict` clean."""

from __future__ import annotations

import subprocess
import sys

from witgen.paths import REPO_ROOT


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *args], cwd=REPO_ROOT, capture_output=True, text=True, timeout=600
    )


def test_python_sources_are_black_formatted() -> None:
    proc = run("black", "--check", "--quiet", "witgen", "tests", "benchmarks", "examples")
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_witgen_package_is_mypy_strict_clean() -> None:
    proc = run("mypy", "--strict", "--no-error-summary", "witgen")
    assert proc.returncode == 0, proc.stdout + proc.stderr
