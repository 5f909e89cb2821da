"""`witgen run` with records as Arrow between fast-path stages (witgen/pipeline/arrow_flow.py):
the same records reach the destination, with the same books, as on the typed path."""

from __future__ import annotations

import importlib
import json
from pathlib import Path
from typing import Any

import pytest

from tests.pipeline.conftest import stage_toml
from witgen.pipeline import arrow_flow
from witgen.pipeline import contract as contract_mod
from witgen.pipeline import spec as spec_mod
from witgen.pipeline.runtime import Pipeline
from witgen.paths import REPO_ROOT

CACHE = REPO_ROOT / "target" / "pipeline-tests" / "cache"
KINDS = ("processor", "filter", "transformer", "aggregator")
ATTEMPT = arrow_flow.attempt  # (before any test patches it)


def run(path: Path, arrow: bool | None, monkeypatch: Any) -> tuple[Pipeline, list[Any], int]:
    """Runs the pipeline; (it, what the destination was given as typed records, in order,
    summaries included; Arrow calls made)."""
    spec = spec_mod.load(path)
    p = Pipeline(spec, contract_mod.load(None), cache_dir=CACHE, hot_reload=False)
    p.arrow = arrow
    p.fuse = False  # stage by stage (fused stages are tests/pipeline/test_fusion.py's)
    p.load()
    written: list[Any] = []
    calls = [0]

    def attempt(pipeline: Any, stage: Any, rows: Any, window: str, fault: Any) -> Any:
        calls[0] += 1
        if stage.spec.kind == "destination":
            written.extend(rows)  # as typed records, to compare
        return ATTEMPT(pipeline, stage, rows, window, fault)

    monkeypatch.setattr(arrow_flow, "attempt", attempt)
    real = p.stages[-1].call

    def tap(n: int, fn: Any) -> Any:
        class Tap:
            def __init__(self, inst: Any) -> None:
                self._inst = inst

            def write_batch(self, records: list[Any]) -> Any:
                written.extend(records)
                return self._inst.write_batch(records)

            def __getattr__(self, name: str) -> Any:
                return getattr(self._inst, name)

        return real(n, lambda inst: fn(Tap(inst)))

    p.stages[-1].call = tap  # type: ignore[method-assign]
    p.run()
    return p, written, calls[0]


def books(p: Pipeline) -> dict[str, Any]:
    acc = p.accounting
    return {
        "line": acc.line(),
        "metrics": [(s.metrics.records_in, s.metrics.records_out) for s in p.stages],
        "counters": [s.host.counters for s in p.stages],
    }


@pytest.mark.parametrize("batch", [1, 7, 64])
def test_same_records_and_books_as_the_typed_path(
    write_pipeline: Any, rust: dict[str, Path], monkeypatch: Any, batch: int
) -> None:
    config = {
        "filter": {"filter.min-size": "9"},
        "transformer": {"transformer.prefix": "t-"},
    }
    middle = [stage_toml(k, rust[k], config=config.get(k, {})) for k in KINDS]
    path = write_pipeline(*middle, count=300, batch=batch)
    typed, typed_out, none = run(path, False, monkeypatch)
    assert none == 0
    arrow, arrow_out, calls = run(path, None, monkeypatch)
    assert calls > 0  # the Arrow path ran
    assert typed.failure is None and arrow.failure is None
    assert arrow_out == typed_out and len(typed_out) > 0
    assert books(arrow) == books(typed)


def test_record_level_errors_in_arrow_mode(
    write_pipeline: Any, rust: dict[str, Path], monkeypatch: Any, tmp_path: Path
) -> None:
    # The Rust processor's answers for records whose index is a multiple of 7 are turned
    # into `failed(plugin-error)` in the Arrow result, as a rejecting plugin would answer.
    import pyarrow as pa

    real = arrow_flow._call

    def call(c: Any, plugin: Any, name: str, *args: Any) -> Any:
        got = real(c, plugin, name, *args)
        if name != "PROCESSOR__PROCESS_BATCH":
            return got
        ids = args[0].column("id").to_pylist()
        reject = [int(i.split("-")[1]) % 7 == 0 for i in ids]
        case = got.column("case")
        indices = [3 if r else x for r, x in zip(reject, case.indices.to_pylist())]
        failed = pa.array(
            [
                {"kind": "invalid-input", "message": "rejected", "record_id": None} if r else None
                for r in reject
            ],
            got.schema.field("failed").type,
        )
        emit = pa.array(
            [None if r else e for r, e in zip(reject, got.column("emit").to_pylist())],
            got.schema.field("emit").type,
        )
        cases = pa.DictionaryArray.from_arrays(pa.array(indices, pa.int32()), case.dictionary)
        return pa.RecordBatch.from_arrays(
            [cases, emit, got.column("split"), failed], schema=got.schema
        )

    monkeypatch.setattr(arrow_flow, "_call", call)
    dead = tmp_path / "dead.jsonl"
    stage = stage_toml(
        "processor", rust["processor"], on_error="dead-letter", dead_letter=str(dead)
    )
    path = write_pipeline(stage, count=140)
    spec = spec_mod.load(path)
    p = Pipeline(spec, contract_mod.load(None), cache_dir=CACHE, hot_reload=False)
    p.fuse = False  # the patched `_call` is the stage-by-stage Arrow path's
    p.load()
    acc = p.run()
    assert p.failure is None and acc.balanced
    assert p.stages[1].metrics.record_errors == 20
    assert acc.dead_lettered == 20 and acc.out == 120
    ids = [json.loads(x)["record"]["id"] for x in dead.read_text().splitlines()]
    assert sorted(ids) == sorted(f"rec-{i}" for i in range(0, 140, 7))


def test_rows_behave_like_a_list_of_records(rust: dict[str, Path]) -> None:
    contract = contract_mod.load(None)
    codec = arrow_flow.codec(contract.bindings)
    types = importlib.import_module(contract.bindings.__name__ + ".types")
    recs = [types.DataRecord(f"r{i}", i, bytes([i]), [("k", str(i))]) for i in range(5)]
    rows = arrow_flow.Rows(codec.from_py(recs), codec)
    assert len(rows) == 5 and bool(rows) and not arrow_flow.Rows(rows.batch.slice(0, 0), codec)
    assert list(rows) == recs and list(rows[1:3]) == recs[1:3] and rows.row(4) == recs[4]
    joined = arrow_flow.join([rows[:2], recs[2:4], rows[4:]])
    assert isinstance(joined, arrow_flow.Rows) and list(joined) == recs
    assert arrow_flow.join([recs[:1], [], recs[1:]]) == recs


def test_from_py_builds_the_batch_column_by_column(rust: dict[str, Path]) -> None:
    """Records of every shape (no metadata, several pairs, empty and non-ASCII strings, empty
    payload) come back from the column-built batch, whose schema is the row-built one's."""
    contract = contract_mod.load(None)
    codec = arrow_flow.codec(contract.bindings)
    types = importlib.import_module(contract.bindings.__name__ + ".types")
    recs = [
        types.DataRecord("", 0, b"", []),
        types.DataRecord("ünï-✓", -(2**63), b"\x00\xff" * 9, [("k", "v"), ("ключ", ""), ("", "x")]),
        types.DataRecord("r", 2**63 - 1, bytearray(b"ab"), [(str(j), "z" * j) for j in range(40)]),
    ]
    batch = codec.from_py(recs)
    import pyarrow as pa

    rows = pa.array([arrow_flow._plain(codec.record, r) for r in recs], type=codec.type)
    assert batch.schema == pa.RecordBatch.from_struct_array(rows).schema
    got = list(arrow_flow.Rows(batch, codec))
    assert [(r.id, r.timestamp, bytes(r.payload), list(r.metadata)) for r in got] == [
        (r.id, r.timestamp, bytes(r.payload), list(r.metadata)) for r in recs
    ]
    assert codec.from_py([]).num_rows == 0
