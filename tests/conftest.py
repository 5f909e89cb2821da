"""Shared test configuration: Hypothesis profiles and toolchain checks."""

from __future__ import annotations

import os
import shutil
from typing import NoReturn

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


def unavailable(reason: str) -> NoReturn:
    """A missing toolchain or extra: a failure under CI (whose install step provides everything),
    elsewhere a skip that prints the reason."""
    import pytest

    if os.environ.get("CI"):
        pytest.fail(f"{reason}; .ci/install must install it")
    pytest.skip(f"{reason} (run .ci/install)")


def require_tool(name: str) -> str:
    """Path of a required external tool; a missing one is a failure in CI, never a silent skip."""
    path = shutil.which(name)
    if path is None:
        unavailable(f"{name} is not installed")
    return path
