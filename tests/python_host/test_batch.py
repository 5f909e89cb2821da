"""The Arrow batch codec (`_batch.py`) against the typed methods: same records in, same results
out, on the hand-written WAT processor and on the example Rust plugins (which also call host
imports per record: the host must see the same calls on both paths)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dataflare_core import (
    DestinationPlugin,
    Err,
    FilterPlugin,
    Ok,
    ProcessorPlugin,
    SourcePlugin,
    TransformerPlugin,
    _abi,
    _batch,
)
from dataflare_core.types import (
    DataRecord,
    ErrorKind,
    PluginError,
    ProcessingResultEmit,
    ProcessingResultFailed,
    ProcessingResultSkip,
    ProcessingResultSplit,
)

from .conftest import RecordingHost
from .rust_plugins import example_components

META = pa.list_(pa.struct([("key", pa.string()), ("value", pa.string())]))
SCHEMA = pa.schema(
    [("id", pa.string()), ("timestamp", pa.int64()), ("payload", pa.binary()), ("metadata", META)]
)

text = st.text(max_size=12)
records = st.lists(
    st.builds(
        DataRecord,
        id=text,
        timestamp=st.integers(-(2**63), 2**63 - 1),
        payload=st.binary(max_size=80),
        metadata=st.lists(st.tuples(text, text), max_size=3),
    ),
    max_size=40,
)


def to_arrow(recs: list[DataRecord]) -> Any:
    return pa.RecordBatch.from_arrays(
        [
            pa.array([r.id for r in recs], pa.string()),
            pa.array([r.timestamp for r in recs], pa.int64()),
            pa.array([r.payload for r in recs], pa.binary()),
            pa.array([[{"key": k, "value": v} for k, v in r.metadata] for r in recs], META),
        ],
        schema=SCHEMA,
    )


def record(row: dict[str, Any]) -> DataRecord:
    return DataRecord(
        row["id"],
        row["timestamp"],
        row["payload"],
        [(p["f0"], p["f1"]) for p in row["metadata"]],
    )


def records_of(batch: Any) -> list[DataRecord]:
    return [record(row) for row in batch.to_pylist()]


def plugin_error(row: dict[str, Any]) -> PluginError:
    return PluginError(ErrorKind(row["kind"]), row["message"], row["record_id"])


def processing_results(batch: Any) -> list[Any]:
    out: list[Any] = []
    for row in batch.to_pylist():
        case = row["case"]
        if case == "emit":
            out.append(ProcessingResultEmit(record(row["emit"])))
        elif case == "skip":
            out.append(ProcessingResultSkip())
        elif case == "split":
            out.append(ProcessingResultSplit([record(r) for r in row["split"]]))
        else:
            out.append(ProcessingResultFailed(plugin_error(row["failed"])))
    return out


def transform_results(batch: Any) -> list[Any]:
    return [
        Ok(record(row["ok"])) if row["case"] == "ok" else Err(plugin_error(row["err"]))
        for row in batch.to_pylist()
    ]


@pytest.fixture(scope="module")
def rust() -> dict[str, Path]:
    return example_components()


def load(cls: Any, path: Path, settings_: dict[str, str] | None = None) -> tuple[Any, Any]:
    host = RecordingHost(settings_)
    plugin = cls.load(path, logging=host, metrics=host, config=host, fast=True)
    return plugin, host


SETTINGS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@SETTINGS
@given(recs=records)
def test_wat_processor_batch_equals_typed(processor_wat: Path, recs: list[DataRecord]) -> None:
    plugin, _ = load(ProcessorPlugin, processor_wat)
    typed = plugin.processor.process_batch(recs)
    got = _batch.call(plugin._instance, _abi.PROCESSOR__PROCESS_BATCH, to_arrow(recs))
    assert got.num_rows == len(recs)
    assert processing_results(got) == typed


RUST_CASES: list[tuple[Any, str, dict[str, str], Any, Any, Any]] = [
    (
        ProcessorPlugin,
        "processor",
        {},
        lambda p, recs: p.processor.process_batch(recs),
        _abi.PROCESSOR__PROCESS_BATCH,
        processing_results,
    ),
    (
        FilterPlugin,
        "filter",
        {"filter.min-size": "3"},
        lambda p, recs: p.filter.keep_batch(recs),
        _abi.FILTER__KEEP_BATCH,
        lambda a: a.to_pylist(),
    ),
    (
        TransformerPlugin,
        "transformer",
        {"transformer.prefix": "t-"},
        lambda p, recs: p.transformer.transform_batch(recs),
        _abi.TRANSFORMER__TRANSFORM_BATCH,
        transform_results,
    ),
    (
        DestinationPlugin,
        "destination",
        {},
        lambda p, recs: p.destination.write_batch(recs),
        _abi.DESTINATION__WRITE_BATCH,
        lambda r: r,
    ),
]


@pytest.fixture(scope="module")
def rust_pairs(rust: dict[str, Path]) -> list[tuple[Any, Any, Any, Any]]:
    """(typed plugin, its host, batch plugin, its host) for each case of RUST_CASES."""
    out = []
    for cls, kind, conf, *_ in RUST_CASES:
        out.append((*load(cls, rust[kind], conf), *load(cls, rust[kind], conf)))
    return out


@SETTINGS
@given(recs=records)
def test_rust_plugins_batch_equals_typed(
    rust_pairs: list[tuple[Any, Any, Any, Any]], recs: list[DataRecord]
) -> None:
    batch = to_arrow(recs)
    for (_, kind, _, typed_call, sig, convert), pair in zip(RUST_CASES, rust_pairs):
        typed_plugin, typed_host, batch_plugin, batch_host = pair
        for h in (typed_host, batch_host):
            h.counters.clear()
            h.lines.clear()
        typed = typed_call(typed_plugin, recs)
        got = _batch.call(batch_plugin._instance, sig, batch)
        assert convert(got) == typed, kind
        # the guest made the same host calls on both paths
        assert batch_host.counters == typed_host.counters, kind
        assert batch_host.lines == typed_host.lines, kind


@pytest.mark.parametrize("count", [0, 1, 7, 1000])
def test_source_read_batch_lifts_what_typed_lifts(rust: dict[str, Path], count: int) -> None:
    conf = {"source.count": "1200"}
    typed_plugin, _ = load(SourcePlugin, rust["source"], conf)
    batch_plugin, _ = load(SourcePlugin, rust["source"], conf)
    typed_cursor = typed_plugin.source.cursor()
    batch_cursor = batch_plugin.source.cursor()
    for _ in range(2):
        typed = typed_cursor.read_batch(count)
        got = _batch.call(
            batch_plugin._instance, _abi.SOURCE__METHOD_CURSOR_READ_BATCH, batch_cursor, count
        )
        assert isinstance(got, Ok) and isinstance(typed, Ok)
        assert records_of(got.value) == typed.value


def test_batch_from_a_slice_and_several_chunks(processor_wat: Path) -> None:
    recs = [DataRecord(f"r{i}", i, bytes([i]) * i, [("k", str(i))] * (i % 3)) for i in range(30)]
    plugin, _ = load(ProcessorPlugin, processor_wat)
    sliced = to_arrow(recs).slice(5, 20)
    got = _batch.call(plugin._instance, _abi.PROCESSOR__PROCESS_BATCH, sliced)
    assert processing_results(got) == plugin.processor.process_batch(recs[5:25])
    table = pa.Table.from_batches([to_arrow(recs[:10]), to_arrow(recs[10:])])
    got = _batch.call(plugin._instance, _abi.PROCESSOR__PROCESS_BATCH, table)
    assert processing_results(got) == plugin.processor.process_batch(recs)


def test_bad_batches_are_refused_and_the_instance_keeps_working(processor_wat: Path) -> None:
    plugin, _ = load(ProcessorPlugin, processor_wat)
    sig = _abi.PROCESSOR__PROCESS_BATCH
    good = to_arrow([DataRecord("a", 1, b"x", [])])
    with_null = pa.RecordBatch.from_arrays(
        [pa.array(["a", None]), pa.array([1, 2]), pa.array([b"", b""]), pa.array([[], []], META)],
        schema=SCHEMA,
    )
    with pytest.raises(ValueError, match="null"):
        _batch.call(plugin._instance, sig, with_null)
    too_big = pa.RecordBatch.from_arrays(
        [pa.array(["a"]), pa.array([2**64 - 1], pa.uint64()), pa.array([b""]), good.column(3)],
        names=SCHEMA.names,
    )
    with pytest.raises(ValueError, match="out of range for s64"):
        _batch.call(plugin._instance, sig, too_big)
    wrong = pa.RecordBatch.from_arrays(
        [pa.array(["a"]), pa.array([1]), pa.array([3]), good.column(3)], names=SCHEMA.names
    )
    with pytest.raises(TypeError, match="binary"):
        _batch.call(plugin._instance, sig, wrong)
    missing = good.drop_columns(["payload"])
    with pytest.raises(ValueError, match="no column `payload`"):
        _batch.call(plugin._instance, sig, missing)
    got = _batch.call(plugin._instance, sig, good)
    assert processing_results(got) == plugin.processor.process_batch(records_of_input(good))


def records_of_input(batch: Any) -> list[DataRecord]:
    return [
        DataRecord(
            r["id"], r["timestamp"], r["payload"], [(p["key"], p["value"]) for p in r["metadata"]]
        )
        for r in batch.to_pylist()
    ]


def test_layout_matches_the_abi() -> None:
    assert _batch.size_align(_abi.T3) == (32, 8)  # data-record
    assert _batch.size_align(_abi.T8) == (40, 8)  # processing-result
    assert _batch.size_align(_abi.T6) == (24, 4)  # plugin-error
    assert _batch.supports(_abi.PROCESSOR__PROCESS_BATCH)
    assert _batch.supports(_abi.SOURCE__METHOD_CURSOR_READ_BATCH)
    assert not _batch.supports(_abi.PROCESSOR__INFO)  # flags in its result


def test_generic_path_has_no_batch_call(processor_wat: Path) -> None:
    host = RecordingHost()
    plugin = ProcessorPlugin.load(
        processor_wat, logging=host, metrics=host, config=host, fast=False
    )
    with pytest.raises(_batch.BatchUnavailable, match="generic path"):
        _batch.call(plugin._instance, _abi.PROCESSOR__PROCESS_BATCH, to_arrow([]))


def test_call_batch_on_the_generated_class(processor_wat: Path, rust: dict[str, Path]) -> None:
    recs = [DataRecord(f"r{i}", i, bytes([i]) * i, [("k", str(i))]) for i in range(9)]
    plugin, _ = load(ProcessorPlugin, processor_wat)
    typed = plugin.processor.process_batch(recs)
    for name in ("process_batch", "process-batch", "dataflare:core/processor@1.0.0#process-batch"):
        assert processing_results(plugin.call_batch(name, to_arrow(recs))) == typed
    with pytest.raises(ValueError, match="not an export"):
        plugin.call_batch("keep-batch", to_arrow(recs))
    source, _ = load(SourcePlugin, rust["source"], {"source.count": "5"})
    got = source.call_batch("[method]cursor.read-batch", source.source.cursor(), 10)
    assert isinstance(got, Ok) and got.value.column("id").to_pylist()[:2] == ["rec-0", "rec-1"]
