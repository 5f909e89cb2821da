"""WASI is denied unless granted: environment and arguments reach a plugin only when given."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from tests.python_host.wat_guests import build_probe


@pytest.fixture(scope="module")
def probe() -> Path:
    return build_probe()


def load(component: Path, **kwargs: Any) -> Any:
    from test_probe import Probe

    return Probe.load(component, cache=False, **kwargs)


def test_nothing_is_granted_by_default(probe: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WITGEN_TEST_SECRET", "hunter2")
    assert os.environ["WITGEN_TEST_SECRET"] == "hunter2"
    plugin = load(probe)
    assert plugin.environment() == []
    assert plugin.arguments() == []


def test_granted_environment_and_arguments_are_visible(probe: Path) -> None:
    from test_probe import WasiGrants

    plugin = load(probe, wasi=WasiGrants(env={"REGION": "eu", "MODE": "test"}, args=["run"]))
    assert sorted(plugin.environment()) == [("MODE", "test"), ("REGION", "eu")]
    assert plugin.arguments() == ["run"]


def test_wasi_imports_run_on_the_fast_path(probe: Path) -> None:
    # WASI 0.2 imports are served by the fast path itself (`_wasi.py`), under the same grants
    plugin = load(probe)
    assert plugin.prepared.mode == "core", plugin.prepared.fast_unavailable
    grants = dict(env={"REGION": "eu"}, args=["run", "-v"])
    from test_probe import WasiGrants

    fast = load(probe, wasi=WasiGrants(**grants), fast=True)
    generic = load(probe, wasi=WasiGrants(**grants), fast=False)
    assert fast.prepared.mode == "core" and generic.prepared.mode == "component"
    assert fast.environment() == generic.environment() == [("REGION", "eu")]
    assert fast.arguments() == generic.arguments() == ["run", "-v"]


def test_wasi_imports_are_not_host_protocols() -> None:
    build_probe()
    import inspect

    from test_probe import Probe

    params = inspect.signature(Probe.load).parameters
    assert "environment" not in params
