"""Typed calls against the hand-written processor, on the generic and on the fast path."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.python_host.conftest import RecordingHost
from dataflare_core import Limits, PluginLoadError, ProcessorPlugin  # noqa: E402
from dataflare_core.types import (  # noqa: E402
    Capabilities,
    DataRecord,
    ErrorKind,
    PluginError,
    ProcessingResultEmit,
    ProcessingResultFailed,
    ProcessingResultSkip,
)
from dataflare_core.logging import Level  # noqa: E402

records = st.builds(
    DataRecord,
    id=st.text(max_size=12).filter(lambda s: s not in ("loop", "trap", "grow")),
    timestamp=st.integers(min_value=0, max_value=2**63 - 1),
    payload=st.binary(min_size=1, max_size=64),
    metadata=st.lists(st.tuples(st.text(max_size=8), st.text(max_size=8)), max_size=4),
)


@pytest.fixture(scope="module", params=[False, True], ids=["generic", "fast"])
def plugin(processor_wat: Path, request: pytest.FixtureRequest) -> ProcessorPlugin:
    return ProcessorPlugin.load(
        processor_wat, logging=RecordingHost(), cache=False, fast=request.param
    )


@pytest.mark.parametrize("fast", [False, True], ids=["generic", "fast"])
def test_info_is_typed_and_calls_the_host_import(processor_wat: Path, fast: bool) -> None:
    host = RecordingHost()
    with ProcessorPlugin.load(processor_wat, logging=host, cache=False, fast=fast) as p:
        info = p.info()
    assert info.name == "hand-written-processor"
    assert info.version == "1.0.0"
    assert info.capabilities == Capabilities.BATCHING | Capabilities.ORDERED
    assert host.lines == [(Level.INFO, "info called")]


def test_every_case_of_processing_result(plugin: ProcessorPlugin) -> None:
    rec = DataRecord("r1", 7, b"\x00\xff", [("k", "v")])
    assert plugin.process(rec) == ProcessingResultEmit(rec)
    assert plugin.process(DataRecord("r2", -1, b"x", [])) == ProcessingResultSkip()
    failed = plugin.process(DataRecord("r3", 1, b"", []))
    assert failed == ProcessingResultFailed(
        PluginError(ErrorKind.INVALID_INPUT, "empty payload", "r3")
    )


@given(st.lists(records, max_size=20))
def test_batch_round_trip(plugin: ProcessorPlugin, batch: list[DataRecord]) -> None:
    assert plugin.process_batch(batch) == [ProcessingResultEmit(r) for r in batch]


def test_exports_are_reachable_through_the_interface_attribute(plugin: ProcessorPlugin) -> None:
    assert plugin.processor.info().name == "hand-written-processor"


@pytest.mark.parametrize("fast", [False, True], ids=["generic", "fast"])
def test_missing_import_implementation_is_a_load_error(processor_wat: Path, fast: bool) -> None:
    with pytest.raises(PluginLoadError, match="dataflare:core/logging@1.0.0"):
        ProcessorPlugin.load(processor_wat, cache=False, fast=fast)


def test_unreadable_component_is_a_load_error(tmp_path: Path) -> None:
    with pytest.raises(PluginLoadError, match="cannot read"):
        ProcessorPlugin.load(tmp_path / "missing.wasm", cache=False)
    bad = tmp_path / "bad.wasm"
    bad.write_bytes(b"\x00asm\x01\x00\x00\x00garbage")
    with pytest.raises(PluginLoadError, match="invalid component"):
        ProcessorPlugin.load(bad, cache=False)


def test_wrong_world_is_a_load_error(processor_wat: Path) -> None:
    from dataflare_core import FilterPlugin

    with pytest.raises(PluginLoadError, match="does not export"):
        FilterPlugin.load(processor_wat, logging=RecordingHost(), cache=False)


def test_default_limits_apply(processor_wat: Path) -> None:
    p = ProcessorPlugin.load(processor_wat, logging=RecordingHost(), cache=False)
    assert p.process(DataRecord("a", 1, b"x", [])) == ProcessingResultEmit(
        DataRecord("a", 1, b"x", [])
    )
    assert Limits().memory_bytes is not None


class FailingLog(RecordingHost):
    def log(self, level: Level, message: str) -> None:
        raise LookupError("the log sink is gone")


@pytest.mark.parametrize("fast", [False, True], ids=["generic", "fast"])
def test_host_import_error_propagates_and_the_plugin_recovers(
    processor_wat: Path, fast: bool
) -> None:
    host = FailingLog()
    plugin = ProcessorPlugin.load(processor_wat, logging=host, cache=False, fast=fast)
    with pytest.raises(LookupError, match="log sink"):
        plugin.info()  # `info` logs through the host
    rec = DataRecord("ok", 1, b"x", [])
    assert plugin.process(rec) == ProcessingResultEmit(rec)
