"""The end-to-end pipeline on the example Rust plugins: every record's fate is accounted for."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from examples.pipeline.pipeline import KINDS, Pipeline
from tests.python_host.rust_plugins import example_components
from dataflare_core.types import DataRecord, ErrorKind, PluginError

SOURCE_COUNT = 250
MIN_SIZE = 2

payloads = st.one_of(
    st.binary(max_size=12),  # often not UTF-8: rejected by the transformer
    st.text(alphabet="ab\n!", max_size=10).map(str.encode),  # skips, splits, '!' failures
)
metadata = st.lists(st.sampled_from([("drop", "true"), ("drop", "false"), ("k", "v")]), max_size=2)


@pytest.fixture(scope="module")
def components() -> dict[str, Path]:
    return example_components()


@pytest.fixture(scope="module", params=[None, False], ids=["auto", "generic"])
def pipeline(components: dict[str, Path], request: pytest.FixtureRequest) -> Pipeline:
    settings_ = {"source.count": str(SOURCE_COUNT), "filter.min-size": str(MIN_SIZE)}
    p = Pipeline(components, settings_, fast=request.param)
    if request.param is None:  # every stage runs on the fast path
        assert {m.mode for m in p.metrics.values()} == {"core"}
    return p


def check_fates(pipeline: Pipeline, extra: list[DataRecord], batch_size: int) -> None:
    before = pipeline.host.counters.get("destination.records", 0)
    report = pipeline.run(batch_size=batch_size, extra=extra)
    inputs = {f"rec-{i}": None for i in range(SOURCE_COUNT)} | {r.id: r for r in extra}

    # every record that entered (and every child of a split) has exactly one fate
    expected = set(inputs)
    for fate in report.fates.values():
        expected.update(fate.children)
    assert set(report.fates) == expected

    # nothing written twice, nothing written that has no `written` fate
    written_ids = [r.id for r in report.written]
    assert len(written_ids) == len(set(written_ids))
    assert sorted(written_ids) == sorted(
        f"t-{rid}" for rid, fate in report.fates.items() if fate.outcome == "written"
    )
    # the destination plugin counted the same number of records (through its metrics import)
    counted = pipeline.host.counters.get("destination.records", 0) - before
    assert counted == len(report.written) + len(report.summaries)
    # the aggregator windows hold exactly the written records
    assert sum(count for _, count, _ in report.windows) == len(report.written)

    for rid, fate in report.fates.items():
        record = inputs.get(rid)
        if fate.outcome == "rejected":
            assert isinstance(fate.error, PluginError)
            assert fate.error.kind is ErrorKind.INVALID_INPUT and fate.error.message
        if record is None:
            continue
        if fate.outcome == "skipped":
            assert record.payload == b""
        elif fate.outcome == "split":
            assert b"\n" in record.payload
            assert fate.children == tuple(
                f"{rid}-{n}" for n in range(record.payload.count(b"\n") + 1)
            )
        elif fate.outcome == "rejected" and fate.stage == "processor":
            assert record.payload.startswith(b"!")
        elif fate.outcome == "dropped":
            assert len(record.payload) < MIN_SIZE or ("drop", "true") in record.metadata
        elif fate.outcome == "written":
            assert len(record.payload) >= MIN_SIZE and ("drop", "true") not in record.metadata


def test_source_records_are_all_written(pipeline: Pipeline) -> None:
    check_fates(pipeline, [], batch_size=64)


@settings(max_examples=15)
@given(
    st.lists(st.tuples(payloads, metadata), max_size=40),
    st.sampled_from([7, 50, 1000]),
)
def test_every_fate_is_accounted_for(
    pipeline: Pipeline, rows: list[tuple[bytes, list[tuple[str, str]]]], batch_size: int
) -> None:
    extra = [DataRecord(f"x{i}", i, payload, meta) for i, (payload, meta) in enumerate(rows)]
    check_fates(pipeline, extra, batch_size)


def test_metrics_cover_every_plugin(pipeline: Pipeline) -> None:
    report = pipeline.run(batch_size=100)
    assert set(report.metrics) == set(KINDS)
    for m in report.metrics.values():
        assert m.calls > 0 and m.load_seconds > 0 and m.errors == 0
    table = report.table()
    for kind in KINDS:
        assert kind in table
