"""Exported resources (source cursors, aggregator windows) on the example Rust plugins,
on the generic path and on the fast path (which keeps the handle table itself)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.python_host.conftest import RecordingHost
from tests.python_host.rust_plugins import example_components
from dataflare_core import AggregatorPlugin, Err, Ok, PluginClosed, SourcePlugin
from dataflare_core.types import DataRecord, ErrorKind


@pytest.fixture(scope="module")
def components() -> dict[str, Path]:
    return example_components()


@pytest.fixture(params=[False, True], ids=["generic", "fast"])
def fast(request: pytest.FixtureRequest) -> bool:
    return bool(request.param)


def test_source_cursor_reads_resumes_and_closes(components: dict[str, Path], fast: bool) -> None:
    host = RecordingHost({"source.count": "5"})
    plugin = SourcePlugin.load(
        components["source"], logging=host, metrics=host, config=host, cache=False, fast=fast
    )
    assert plugin.prepared.mode == ("core" if fast else "component")
    with plugin.source.cursor() as cursor:
        first = cursor.read_batch(3)
        assert isinstance(first, Ok) and [r.id for r in first.value] == ["rec-0", "rec-1", "rec-2"]
        assert cursor.position() == 3
    with pytest.raises(PluginClosed):
        cursor.position()  # left the `with` block: the handle is gone
    resumed = plugin.source.cursor_resume(4)
    assert isinstance(resumed, Ok)
    with resumed.value as again:
        rest = again.read_batch(10)
        assert isinstance(rest, Ok) and [r.id for r in rest.value] == ["rec-4"]
        assert again.read_batch(10) == Ok([])
    refused = plugin.source.cursor_resume(99)
    assert isinstance(refused, Err) and refused.value.kind is ErrorKind.INVALID_INPUT


def test_aggregator_windows_borrow_and_merge(components: dict[str, Path], fast: bool) -> None:
    host = RecordingHost()
    plugin = AggregatorPlugin.load(
        components["aggregator"], logging=host, metrics=host, config=host, cache=False, fast=fast
    )
    left = plugin.aggregator.accumulator("left")
    right = plugin.aggregator.accumulator("right")
    assert left.add_batch([DataRecord("a", 3, b"abc", []), DataRecord("b", 9, b"d", [])]) == Ok(2)
    assert right.add(DataRecord("c", 5, b"ef", [])) == Ok(None)
    rejected = right.add(DataRecord("", 1, b"", []))
    assert isinstance(rejected, Err) and rejected.value.kind is ErrorKind.INVALID_INPUT
    assert plugin.stats(left) == (2, 4)  # borrow: `left` stays usable
    merged = plugin.aggregator.accumulator_merge(left, right)
    assert merged.emit() == DataRecord("left+right", 9, b"count=3;bytes=6", [])
    assert plugin.aggregator.accumulator("empty").emit() is None
    for window in (left, right, merged):
        window.close()
        window.close()  # idempotent
    with pytest.raises(PluginClosed):
        left.emit()


def test_resources_die_with_a_trapped_instance(components: dict[str, Path], fast: bool) -> None:
    host = RecordingHost({"source.count": "3"})
    plugin = SourcePlugin.load(
        components["source"], logging=host, metrics=host, config=host, cache=False, fast=fast
    )
    cursor = plugin.source.cursor()
    plugin.close()
    with pytest.raises(PluginClosed):
        cursor.read_batch(1)
    cursor.close()  # closing what is already gone is harmless
