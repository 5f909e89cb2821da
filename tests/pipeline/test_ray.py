"""`witgen run --engine ray`: the same pipeline on the local engine and on Ray (a local Ray with 2
CPUs, started once for the session) writes the same records, with the same accounting and the
same per-stage counts, under every on-error policy. Plus the dataset source, the `PluginStage`
Python API and the message when Ray is not installed.
"""

from __future__ import annotations

import json
import os
import sys
from collections import Counter
from pathlib import Path
from typing import Any, Iterator

import pytest

from tests.pipeline.conftest import spy_destination, stage_toml
from tests.pipeline.plugins import fault_filter
from witgen.cli import main
from witgen.paths import REPO_ROOT
from witgen.pipeline import contract as contract_mod
from witgen.pipeline import spec as spec_mod
from witgen.pipeline.runtime import Pipeline

CACHE = REPO_ROOT / "target" / "pipeline-tests" / "cache"


def _need_ray() -> Any:
    from witgen.pipeline.ray_engine import require_ray
    from witgen.diagnostics import UsageError

    try:
        import pyarrow  # noqa: F401

        return require_ray()  # imports Ray without its signal handler (wasmtime traps here)
    except (ImportError, UsageError) as exc:
        message = f"the Ray tests need the ray extra: {exc}"
        if os.environ.get("CI"):
            pytest.fail(message + " (.ci/install must install it)")
        pytest.skip(message)


@pytest.fixture(scope="session")
def ray_session() -> Iterator[Any]:
    """One local Ray (2 CPUs) for every Ray test; the engine joins it instead of starting one."""
    import logging

    ray = _need_ray()
    os.environ.setdefault("RAY_BACKEND_LOG_LEVEL", "fatal")
    started = not ray.is_initialized()
    if started:
        ray.init(
            num_cpus=2,
            include_dashboard=False,
            logging_level=logging.WARNING,
            log_to_driver=False,
        )
    yield ray
    if started:
        ray.shutdown()


def run_local(path: Path) -> tuple[Pipeline, list[Any]]:
    spec = spec_mod.load(path)
    p = Pipeline(spec, contract_mod.load(spec.contract), cache_dir=CACHE, hot_reload=False)
    p.load()
    seen = spy_destination(p)
    p.run()
    return p, seen


def run_ray(path: Path, **options: Any) -> Any:
    from witgen.pipeline.ray_engine import RayOptions, RayPipeline

    spec = spec_mod.load(path)
    p = RayPipeline(
        spec,
        contract_mod.load(spec.contract),
        cache_dir=CACHE,
        options=RayOptions(keep_written=True, **options),
    )
    p.load()
    p.run()
    return p


def key(record: Any) -> tuple[Any, ...]:
    return (record.id, record.timestamp, bytes(record.payload), tuple(map(tuple, record.metadata)))


def books(p: Pipeline) -> dict[str, Any]:
    """What must be equal between the engines: the accounting, each stage's records in and
    out and faults, and the final states."""
    stages = {
        s.spec.name: (
            s.metrics.records_in,
            s.metrics.records_out,
            s.metrics.errors,
            s.metrics.recycled,  # each fault recycled the faulting instance, on both engines
        )
        for s in p.all_plugins()
    }
    faults = Counter(e.stage for e in p.events if e.kind == "fault")
    return {
        "accounting": p.accounting.to_json(),
        "stages": stages,
        "faults": dict(faults),
        "states": {s.spec.name: s.lifecycle.state.value for s in p.all_plugins()},
        "failed": p.failure is not None,
    }


def test_same_records_accounting_and_counts(write_pipeline, rust, ray_session) -> None:
    """Every kind of stage, an aggregator included (its summaries are written too)."""
    path = write_pipeline(
        stage_toml("processor", rust["processor"]),
        stage_toml("filter", fault_filter(drop_every=10)),
        stage_toml("transformer", rust["transformer"]),
        stage_toml("aggregator", rust["aggregator"]),
        count=300,
    )
    local, seen = run_local(path)
    on_ray = run_ray(path)
    assert local.failure is None and on_ray.failure is None
    assert on_ray.accounting.balanced and on_ray.accounting.out == 270
    assert on_ray.accounting.generated == local.accounting.generated > 0
    assert Counter(map(key, on_ray.written)) == Counter(map(key, seen))
    assert books(on_ray) == books(local)
    assert on_ray.read_tasks >= 1 and not on_ray.ordered  # the aggregator is not `ordered`


def test_in_order_when_every_stage_is_ordered(write_pipeline, rust, ray_session) -> None:
    path = write_pipeline(stage_toml("filter", fault_filter(drop_every=7)), count=1000, batch=40)
    local, seen = run_local(path)
    on_ray = run_ray(path, read_windows=4, read_records=1)
    assert on_ray.ordered
    assert on_ray.read_tasks == 7  # the source's cursor was split into ranges of 160 records
    assert [key(r) for r in on_ray.written] == [key(r) for r in seen]
    assert books(on_ray) == books(local)


def test_policies_give_the_same_books(write_pipeline, tmp_path, ray_session) -> None:
    """A trapping plugin under skip, dead-letter and retry: the faulting records are isolated
    the same way (bisection), the instance is recycled, the accounting is the same."""
    path = write_pipeline(
        stage_toml("filter", fault_filter("trap", (37, 180)), name="skips", on_error="skip"),
        stage_toml(
            "filter",
            fault_filter("trap", (80, 81)),
            name="dead",
            on_error="dead-letter",
            dead_letter="dead.jsonl",
        ),
        stage_toml("filter", fault_filter("second"), name="retries", on_error="retry", retries=2),
        count=300,
    )
    dead = tmp_path / "dead.jsonl"
    local, seen = run_local(path)
    local_dead = sorted(json.loads(x)["record"]["id"] for x in dead.read_text().splitlines())
    dead.unlink()
    on_ray = run_ray(path)
    ray_dead = sorted(json.loads(x)["record"]["id"] for x in dead.read_text().splitlines())
    assert local_dead == ray_dead == ["rec-80", "rec-81"]
    acc = on_ray.accounting
    assert acc.balanced and acc.skipped == 2 and acc.dead_lettered == 2 and acc.out == 296
    assert Counter(map(key, on_ray.written)) == Counter(map(key, seen))
    assert books(on_ray) == books(local)
    assert books(on_ray)["faults"]["retries"] >= 1  # the transient trap, retried


def test_fail_policy_fails_the_run_on_both(write_pipeline, tmp_path, ray_session) -> None:
    path = write_pipeline(stage_toml("filter", fault_filter("trap", (37,)), on_error="fail"))
    out = tmp_path / "m.json"
    common = ["run", str(path), "-q", "--cache-dir", str(CACHE), "--metrics-json", str(out)]
    assert main([*common, "--no-hot-reload"]) == 1
    local = json.loads(out.read_text())
    assert main([*common, "--engine", "ray"]) == 1
    remote = json.loads(out.read_text())
    for doc in (local, remote):
        acc = doc["accounting"]
        assert acc["balanced"] and acc["failed"] == 50  # the batch holding record 37
        assert doc["state"].startswith("Error(") and "trap" in doc["state"]
        # Ray reads ahead in parallel read tasks, so how much was read before the stop may
        # differ; every record read has exactly one fate on both
        assert acc["out"] == acc["source"] - 50


def test_dataset_source_as_first_stage(write_pipeline, rust, tmp_path, ray_session) -> None:
    """A Parquet file holding exactly what the Rust source generates gives the same output."""
    import pyarrow.parquet as pq

    from witgen.pipeline import arrow_codec

    path = write_pipeline(stage_toml("filter", fault_filter(drop_every=10)), count=200)
    local, seen = run_local(path)
    rows = [
        (f"rec-{i}", 1_700_000_000_000 + i, f"record {i}".encode(), [("index", str(i))])
        for i in range(200)
    ]

    class Rec:
        def __init__(self, id: str, timestamp: int, payload: bytes, metadata: Any) -> None:
            self.id, self.timestamp, self.payload, self.metadata = id, timestamp, payload, metadata

    pq.write_table(arrow_codec.from_records([Rec(*r) for r in rows]), tmp_path / "in.parquet")
    text = path.read_text()
    text = text.replace(f'component = "{rust["source"]}"', 'component = "in.parquet"', 1)
    path.write_text(text)
    on_ray = run_ray(path)
    assert on_ray.failure is None and on_ray.accounting.source == 200
    assert on_ray.accounting.out == 180 == local.accounting.out
    assert Counter(map(key, on_ray.written)) == Counter(map(key, seen))


def test_plugin_stage_python_api(ray_session) -> None:
    import ray.data

    from witgen.pipeline import arrow_codec
    from witgen.pipeline.ray_engine import PluginStage

    class Rec:
        def __init__(self, i: int) -> None:
            self.id, self.timestamp = f"rec-{i}", 1_700_000_000_000 + i
            self.payload, self.metadata = b"x", [("k", "v")]

    table = arrow_codec.from_records([Rec(i) for i in range(50)])
    ds = ray.data.from_arrow(table).map_batches(
        PluginStage,
        fn_constructor_kwargs={
            "component": fault_filter(drop_every=5).read_bytes(),
            "kind": "filter",
        },
        concurrency=1,
        batch_format="pyarrow",
        batch_size=None,
    )
    import pyarrow as pa

    out = pa.concat_tables(ds.iter_batches(batch_format="pyarrow", batch_size=None))
    assert out.column("id").to_pylist() == [f"rec-{i}" for i in range(50) if i % 5]
    assert out.column("metadata").to_pylist()[0] == [{"key": "k", "value": "v"}]


def test_without_ray_the_message_says_how_to_install(write_pipeline, monkeypatch, capsys) -> None:
    path = write_pipeline(stage_toml("filter", fault_filter()))
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` now fails
    assert main(["run", str(path), "--engine", "ray"]) == 2
    err = capsys.readouterr().err
    assert "--engine ray needs" in err and "pip install 'witgen[ray]'" in err
    assert "Traceback" not in err


def test_address_needs_the_ray_engine(write_pipeline, capsys) -> None:
    path = write_pipeline(stage_toml("filter", fault_filter()))
    assert main(["run", str(path), "--address", "auto"]) == 2
    assert "--address needs --engine ray" in capsys.readouterr().err


def test_keyed_aggregator_on_both(write_pipeline, rust, ray_session) -> None:
    """`key`: one accumulator per value of a metadata key within each window, on both."""
    path = write_pipeline(stage_toml("aggregator", rust["aggregator"], key="index"), count=40)
    local, seen = run_local(path)
    on_ray = run_ray(path)
    assert local.accounting.generated == 40  # `index` is unique per record
    assert books(on_ray) == books(local)
    assert Counter(map(key, on_ray.written)) == Counter(map(key, seen))
    ids = {r.id for r in seen if not r.id.startswith("rec-")}
    assert {"window-0/index=0", "window-0/index=39"} <= ids


def test_key_only_on_an_aggregator(write_pipeline) -> None:
    path = write_pipeline(stage_toml("filter", fault_filter(), key="user"))
    with pytest.raises(spec_mod.PipelineError, match="only applies to an aggregator"):
        spec_mod.load(path)
