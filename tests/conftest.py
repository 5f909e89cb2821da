"""Shared test configuration: Hypothesis profiles and toolchain checks."""

from __future__ import annotations

import os
import shutil

from hypothesis import HealthCheck, settings

# "ci" (default) keeps the suite fast on 2 cores; "thorough" is the nightly-style run:
#   python -m pytest --hypothesis-profile=thorough
settings.register_profile(
    "ci",
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile(
    "thorough",
    max_examples=5000,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


def require_tool(name: str) -> str:
    """Path of a required external tool; a missing one is a failure in CI, never a silent skip."""
    path = shutil.which(name)
    if path is None:
        import pytest

        if os.environ.get("CI"):
            pytest.fail(f"{name} is not installed; .ci/install must install it")
        pytest.skip(f"{name} is not installed (run .ci/install)")
    return path
