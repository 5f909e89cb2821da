"""Skip-or-fail rule for tests that need the Rust wasm32 toolchain (see tests/conftest.py)."""

from __future__ import annotations

import os

import pytest

from witgen.toolchains.rust import missing_tools


def require_rust_toolchain() -> None:
    """A missing toolchain fails in CI (`CI` set) and skips locally, never silently."""
    missing = missing_tools()
    if not missing:
        return
    message = "Rust wasm32 toolchain missing: " + ", ".join(missing) + " (run .ci/install)"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)
