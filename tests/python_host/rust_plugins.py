"""The example Rust plugins (examples/rust/), built once per session with witgen's recipe."""

from __future__ import annotations

import os
from pathlib import Path

import pytest


def example_components() -> dict[str, Path]:
    """kind -> component path; a missing toolchain fails in CI and skips (with reason) locally."""
    from witgen.toolchains import rust

    missing = rust.missing_tools()
    if missing:
        message = f"cannot build the Rust example plugins; missing: {', '.join(missing)}"
        if os.environ.get("CI"):
            pytest.fail(message + " (.ci/install must install them)")
        pytest.skip(message)
    return rust.build_examples()
