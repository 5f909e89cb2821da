"""Fused stages (witgen/pipeline/fusion.py, `fuse = true`): the example pipelines give the same
records to their destination, the same books and the same per-stage counts fused as unfused."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from witgen.pipeline import arrow_flow, fusion
from witgen.pipeline import contract as contract_mod
from witgen.pipeline import spec as spec_mod
from witgen.pipeline.runtime import Pipeline
from witgen.paths import REPO_ROOT

from tests.conftest import unavailable

CACHE = REPO_ROOT / "target" / "pipeline-tests" / "cache"
# the sync examples (streaming.toml's streaming plugins never fuse: tests/pipeline/test_streaming.py)
EXAMPLES = sorted(
    p for p in (REPO_ROOT / "examples" / "pipeline").glob("*.toml") if p.stem != "streaming"
)
COMPONENTS = REPO_ROOT / "target" / "rust-guests" / "components"


def _copy(example: Path, tmp_path: Path) -> Path:
    """The example file beside its outputs in `tmp_path`, components by absolute path, no
    call deadlines."""
    text = example.read_text()
    text = re.sub(r'"[./]*target/rust-guests/components/', f'"{COMPONENTS}/', text)
    # no per-call deadline: on a loaded machine one run could time out where the other did not
    text = re.sub(r"(?m)^timeout = .*$", "", text)
    path = tmp_path / example.name
    path.write_text(text)
    return path


def _run(path: Path, fuse: bool, records: int, monkeypatch: Any) -> dict[str, Any]:
    p = Pipeline(spec_mod.load(path), contract_mod.load(None), cache_dir=CACHE, hot_reload=False)
    p.fuse = fuse
    p.load()
    written: list[Any] = []
    fused_runs = fusion.runs(p, p.stages[1:])
    for stage in p.stages:
        batch = arrow_flow.codec(stage.bindings).batch
        real = batch.call
        sig = stage.bindings._abi.DESTINATION__WRITE_BATCH

        def call(instance: Any, called: Any, *args: Any, _real: Any = real, _sig: Any = sig) -> Any:
            if called is _sig:
                arg = args[0]
                if isinstance(arg, batch.GuestRows):  # still in the previous guest: lift it
                    arg = batch.pa.RecordBatch.from_struct_array(
                        batch._lift(arg.rt, arg.desc, arg.rows, 0)
                    )
                written.extend(json.dumps(r, default=repr, sort_keys=True) for r in arg.to_pylist())
            return _real(instance, called, *args)

        monkeypatch.setattr(batch, "call", call)
    p.run(records)
    monkeypatch.undo()
    stages = [
        (s.spec.name, s.metrics.records_out, s.metrics.errors, s.metrics.record_errors)
        for s in p.stages
    ]
    return {
        "books": p.accounting.to_json(),
        "balanced": p.accounting.balanced,
        "failure": p.failure,
        "stages": stages,
        "written": sorted(written),
        "runs": fused_runs,
        "dead": sorted((path.parent).glob("*.jsonl")),
    }


@pytest.mark.parametrize("example", EXAMPLES, ids=[e.stem for e in EXAMPLES])
def test_fused_and_unfused_runs_agree(
    example: Path, rust: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not arrow_flow.available():
        unavailable("fusion needs numpy and pyarrow (the `arrow` extra)")
    results = {}
    for fuse in (True, False):
        folder = tmp_path / ("fused" if fuse else "unfused")
        folder.mkdir()
        results[fuse] = _run(_copy(example, folder), fuse, 3000, monkeypatch)
    fused, unfused = results[True], results[False]
    assert fused["runs"] and not unfused["runs"]  # the example has stages to fuse
    assert fused["balanced"] and fused["failure"] is None, fused["books"]
    assert len(fused["written"]) > 0
    for key in ("books", "stages", "written"):
        assert fused[key] == unfused[key], key
    for a, b in zip(fused["dead"], unfused["dead"]):  # dead letters: same records
        assert sorted(a.read_text().splitlines()) == sorted(b.read_text().splitlines())


@pytest.mark.parametrize(
    "fault, policy",
    [
        ("trap", {"on_error": "skip"}),
        ("invalid", {"on_error": "dead-letter", "dead_letter": "dead.jsonl"}),
        ("trap", {"on_error": "retry", "retries": 1, "then": "skip"}),
    ],
    ids=["trap-skip", "invalid-dead-letter", "trap-retry"],
)
def test_a_fault_inside_a_fused_run_settles_as_unfused(
    fault: str,
    policy: dict[str, Any],
    rust: dict[str, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # source -> processor -> (a filter that faults on some records) -> transformer ->
    # destination: the filter's input is still in the processor's guest when it faults
    from tests.pipeline.conftest import stage_toml
    from tests.pipeline.plugins import fault_filter

    if not arrow_flow.available():
        unavailable("fusion needs numpy and pyarrow (the `arrow` extra)")
    text = "batch_size = 50\n"
    text += stage_toml("source", rust["source"], config={"source.count": "300"})
    text += stage_toml("processor", rust["processor"])
    text += stage_toml("filter", fault_filter(fault, (7, 120, 121)), **policy)
    text += stage_toml("transformer", rust["transformer"])
    text += stage_toml("destination", rust["destination"])
    results = {}
    for fuse in (True, False):
        folder = tmp_path / ("fused" if fuse else "unfused")
        folder.mkdir()
        path = folder / "pipeline.toml"
        path.write_text(text)
        results[fuse] = _run(path, fuse, 300, monkeypatch)
    fused, unfused = results[True], results[False]
    assert fused["runs"] == [(0, 4)] and fused["failure"] is None and fused["balanced"]
    assert fused["books"]["out"] < 300  # the faulting records were set aside
    for key in ("books", "stages", "written"):
        assert fused[key] == unfused[key], key
    for a, b in zip(fused["dead"], unfused["dead"]):
        assert sorted(a.read_text().splitlines()) == sorted(b.read_text().splitlines())


def _rejecting(got: Any) -> Any:
    """The processor's Arrow result with the records whose index is a multiple of 7 turned
    into `failed(plugin-error)`, as a rejecting plugin would answer."""
    import pyarrow as pa

    ids = [e["id"] if e else None for e in got.column("emit").to_pylist()]
    reject = [i is not None and int(i.split("-")[1]) % 7 == 0 for i in ids]
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
    return pa.RecordBatch.from_arrays([cases, emit, got.column("split"), failed], schema=got.schema)


def test_records_a_fused_stage_rejects_go_through_its_policy(
    rust: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Unfused, the processor's Arrow result is rewritten (arrow_flow._call); fused, its raw
    # result reports the same cases (RawResult.tags / lift): either way records 0, 7, 14...
    # are `failed` and go to the dead-letter file, and the batch goes on without them.
    from tests.pipeline.conftest import stage_toml

    if not arrow_flow.available():
        unavailable("fusion needs numpy and pyarrow (the `arrow` extra)")
    text = "batch_size = 50\n"
    text += stage_toml("source", rust["source"], config={"source.count": "140"})
    text += stage_toml(
        "processor", rust["processor"], on_error="dead-letter", dead_letter="d.jsonl"
    )
    for kind in ("filter", "transformer", "destination"):
        text += stage_toml(kind, rust[kind])
    real_call = arrow_flow._call

    def call(c: Any, plugin: Any, name: str, *args: Any) -> Any:
        got = real_call(c, plugin, name, *args)
        return _rejecting(got) if name == "PROCESSOR__PROCESS_BATCH" else got

    results = {}
    for fuse in (True, False):
        folder = tmp_path / ("fused" if fuse else "unfused")
        folder.mkdir()
        path = folder / "pipeline.toml"
        path.write_text(text)
        contract = contract_mod.load(None)
        batch = arrow_flow.codec(contract.bindings).batch
        real_lift, real_tags = batch.RawResult.lift, batch.RawResult.tags

        def lift(raw: Any) -> Any:
            got = real_lift(raw)
            return _rejecting(got) if raw.desc[1][0] == "variant" else got

        def tags(raw: Any, elements: Any) -> Any:
            if raw.desc[1][0] != "variant":
                return real_tags(raw, elements)
            names = [n for n, _ in batch._cases(raw.desc[1])]
            cases = lift(raw).column("case").to_pylist()
            return batch.np.array([names.index(c) for c in cases], dtype=batch.np.int32)

        monkeypatch.setattr(batch.RawResult, "lift", lift)
        monkeypatch.setattr(batch.RawResult, "tags", tags)
        monkeypatch.setattr(arrow_flow, "_call", call)
        results[fuse] = _run(path, fuse, 140, monkeypatch)
    fused, unfused = results[True], results[False]
    assert fused["runs"] and fused["failure"] is None and fused["balanced"]
    assert fused["books"]["dead_lettered"] == 20
    for key in ("books", "stages", "written"):
        assert fused[key] == unfused[key], key
    for a, b in zip(fused["dead"], unfused["dead"]):
        assert sorted(a.read_text().splitlines()) == sorted(b.read_text().splitlines())
