"""`witgen run`: on-error policies, injected faults, lifecycle, exit statuses and accounting.

Pipelines are the Rust example source and destination around a WAT filter that faults on the
records chosen per test (tests/pipeline/plugins.py). Every run must balance: records in = out +
skipped + failed + dead-lettered, and the destination's own counter (its `metrics` import) must
equal `out`: nothing lost, nothing written twice.
"""

from __future__ import annotations

import importlib
import json
import threading
import time
from pathlib import Path
from typing import Any, Callable

import pytest

from tests.pipeline.conftest import stage_toml
from tests.pipeline.plugins import fault_filter
from witgen.cli import main
from witgen.paths import REPO_ROOT
from witgen.pipeline import contract as contract_mod
from witgen.pipeline import spec as spec_mod
from witgen.pipeline.lifecycle import TRANSITIONS, IllegalTransition, Lifecycle, State
from witgen.pipeline.runtime import Pipeline

CACHE = REPO_ROOT / "target" / "pipeline-tests" / "cache"


def load(path: Path, events: list[Any] | None = None) -> Pipeline:
    spec = spec_mod.load(path)
    listeners = [events.append] if events is not None else []
    p = Pipeline(
        spec,
        contract_mod.load(spec.contract),
        listeners=listeners,
        cache_dir=CACHE,
        hot_reload=False,
    )
    p.load()
    return p


def written(p: Pipeline) -> int:
    return p.stages[-1].host.counters.get("destination.records", 0)


def cli(path: Path, tmp_path: Path, *extra: str) -> tuple[int, dict[str, Any]]:
    out = tmp_path / "metrics.json"
    status = main(
        [
            "run",
            str(path),
            "-q",
            "--no-hot-reload",
            "--cache-dir",
            str(CACHE),
            "--metrics-json",
            str(out),
            *extra,
        ]
    )
    doc = json.loads(out.read_text()) if out.exists() else {}
    return status, doc


# ---------------------------------------------------------------------------- clean run


def test_clean_run_balances_and_exits_0(write_pipeline, tmp_path, rust) -> None:
    path = write_pipeline(stage_toml("filter", fault_filter(drop_every=10)), count=300)
    status, doc = cli(path, tmp_path)
    acc = doc["accounting"]
    assert status == 0 and acc["balanced"]
    assert acc["in"] == 300 and acc["filtered"] == 30 and acc["out"] == 270
    stages = {s["name"]: s for s in doc["stages"]}
    assert stages["filter"]["records_in"] == 300 and stages["filter"]["records_out"] == 270
    for s in doc["stages"]:
        assert s["load_seconds"] > 0 and s["init_seconds"] > 0 and s["calls"] > 0
        assert s["state"] == "Stopped" and s["error_rate"] == 0
    assert doc["state"] == "Stopped"


def test_records_limit(write_pipeline, tmp_path) -> None:
    path = write_pipeline(stage_toml("filter", fault_filter()), count=1000)
    status, doc = cli(path, tmp_path, "--records", "120")
    assert status == 0 and doc["accounting"]["source"] == 120 == doc["accounting"]["out"]


# ---------------------------------------------------------------------------- policies


def test_fail_policy_stops_with_exit_1(write_pipeline, tmp_path) -> None:
    path = write_pipeline(stage_toml("filter", fault_filter("trap", (37,)), on_error="fail"))
    status, doc = cli(path, tmp_path)
    acc = doc["accounting"]
    assert status == 1
    assert acc["balanced"] and acc["failed"] == 50  # the batch holding record 37
    assert doc["state"].startswith("Error(") and "trap" in doc["state"]
    assert acc["source"] < 300 or acc["out"] == 250  # nothing new was read after the failure


@pytest.mark.parametrize("fault", ["trap", "timeout", "memory", "host", "invalid"])
def test_each_fault_is_isolated_and_skipped(write_pipeline, fault: str) -> None:
    limits = {"timeout": 0.3, "memory": "4 MiB"}
    path = write_pipeline(
        stage_toml("filter", fault_filter(fault, (37, 180)), on_error="skip", limits=limits)
    )
    events: list[Any] = []
    p = load(path, events)
    acc = p.run()
    assert p.failure is None and acc.balanced
    # bisection sets aside exactly the faulting records (for `invalid`, the whole call is
    # refused, so the half holding the record is narrowed down to it too)
    assert acc.skipped == 2 and acc.out == 298 == written(p)
    faults = [e for e in events if e.kind == "fault"]
    assert faults and all(e.stage == "filter" for e in faults)
    kind = {
        "trap": "trap",
        "timeout": "timeout",
        "memory": "trap",
        "host": "host-error",
        "invalid": "invalid-value",
    }[fault]
    assert all(e.reason.startswith(kind) for e in faults), faults[0].reason
    assert p.stages[1].metrics.recycled == len(faults)  # each fault recycled the instance
    assert p.stages[1].metrics.errors == len(faults)


def test_dead_letter_to_jsonl(write_pipeline, tmp_path) -> None:
    stage = stage_toml(
        "filter", fault_filter("trap", (37, 80)), on_error="dead-letter", dead_letter="dead.jsonl"
    )
    path = write_pipeline(stage)
    status, doc = cli(path, tmp_path)
    assert status == 0 and doc["accounting"]["dead_lettered"] == 2
    lines = [json.loads(x) for x in (tmp_path / "dead.jsonl").read_text().splitlines()]
    assert sorted(x["record"]["id"] for x in lines) == ["rec-37", "rec-80"]
    assert all(x["stage"] == "filter" and "trap" in x["reason"] for x in lines)


def test_dead_letter_to_a_destination_plugin(write_pipeline, rust) -> None:
    sink = f'[[dead_letter]]\nname = "dlq"\nkind = "destination"\ncomponent = "{rust["destination"]}"\n'
    stage = stage_toml(
        "filter", fault_filter("host", (3, 99, 250)), on_error="dead-letter", dead_letter="dlq"
    )
    p = load(write_pipeline(stage, top=sink))
    acc = p.run()
    assert p.failure is None and acc.balanced and acc.dead_lettered == 3
    assert p.sinks["dlq"].host.counters["destination.records"] == 3
    assert written(p) == acc.out == 297


def test_retry_recovers_a_transient_fault(write_pipeline) -> None:
    # the filter traps on the second call of each instance; a retry runs on a fresh one
    stage = stage_toml("filter", fault_filter("second"), on_error="retry", retries=2)
    p = load(write_pipeline(stage, count=300, batch=50))
    acc = p.run()
    assert p.failure is None and acc.balanced and acc.out == 300 == written(p)
    assert p.stages[1].metrics.errors >= 2  # faults happened and were retried away


def test_retry_then_skip_when_the_fault_persists(write_pipeline) -> None:
    stage = stage_toml(
        "filter", fault_filter("trap", (10,)), on_error="retry", retries=3, then="skip"
    )
    p = load(write_pipeline(stage, count=100))
    acc = p.run()
    assert p.failure is None and acc.balanced and acc.skipped == 1 and acc.out == 99
    assert p.stages[1].metrics.errors >= 4  # the first attempt and three retries


def test_retry_then_fail(write_pipeline, tmp_path) -> None:
    stage = stage_toml("filter", fault_filter("trap", (10,)), on_error="retry", retries=1)
    status, doc = cli(write_pipeline(stage, count=100), tmp_path)
    assert status == 1 and doc["accounting"]["balanced"] and doc["accounting"]["failed"] > 0


@pytest.mark.parametrize(
    "policy, extra",
    [
        ("skip", {}),
        ("dead-letter", {"dead_letter": "dead.jsonl"}),
        ("fail", {}),
        ("retry", {"retries": 2, "then": "skip"}),
    ],
)
def test_record_level_errors_follow_the_policy(
    write_pipeline, rust, tmp_path, monkeypatch, policy: str, extra: dict[str, Any]
) -> None:
    # The real Rust processor runs; the records it handles whose index is a multiple of 7
    # come back as `failed(plugin-error)`, as a plugin that rejects them would answer.
    from witgen.pipeline import runtime

    real = runtime.Plugin.call

    def call(self, records, fn):  # type: ignore[no-untyped-def]
        result = real(self, records, fn)
        if self.spec.kind != "processor":
            return result
        types = importlib.import_module(self.bindings.__name__ + ".types")
        error = types.PluginError(types.ErrorKind.INVALID_INPUT, "rejected", None)
        return [
            types.ProcessingResultFailed(error) if int(r.value.id.split("-")[1]) % 7 == 0 else r
            for r in result
        ]

    monkeypatch.setattr(runtime.Plugin, "call", call)
    stage = stage_toml("processor", rust["processor"], on_error=policy, **extra)
    p = load(write_pipeline(stage, count=140))
    p.arrow = False  # `call` above rewrites typed results (tests/pipeline/test_arrow_flow.py)
    acc = p.run()
    assert acc.balanced
    if policy == "fail":  # the first rejected record stops the run; batches read finish
        assert p.failure is not None and "rejected" in p.failure and acc.failed >= 1
        assert acc.failed == p.stages[1].metrics.record_errors
        return
    assert p.stages[1].metrics.record_errors == 20
    assert p.failure is None and acc.out == 120 == written(p)
    if policy == "dead-letter":
        assert acc.dead_lettered == 20
        ids = [
            json.loads(x)["record"]["id"]
            for x in (tmp_path / "dead.jsonl").read_text().splitlines()
        ]
        assert sorted(ids) == sorted(f"rec-{i}" for i in range(0, 140, 7))
    else:
        assert acc.skipped == 20


def test_unbalanced_run_exits_1(write_pipeline, tmp_path, monkeypatch) -> None:
    # A destination that reports writing fewer records than it got leaves records without a
    # fate: the run must say so and exit 1.
    from witgen.pipeline import runtime

    real = runtime.Pipeline._call

    def short(self, stage, records, window):  # type: ignore[no-untyped-def]
        if stage.spec.kind == "destination" and len(records) > 1:
            self.accounting.add(out=len(records) - 1)
            return []
        return real(self, stage, records, window)

    monkeypatch.setattr(runtime.Pipeline, "_call", short)
    status, doc = cli(write_pipeline(count=100), tmp_path)
    assert status == 1 and not doc["accounting"]["balanced"]
    assert "does not balance" in doc["state"]


# ---------------------------------------------------------------------------- lifecycle


def test_lifecycle_of_a_run_with_pause_and_resume(write_pipeline) -> None:
    events: list[Any] = []
    p = load(write_pipeline(stage_toml("filter", fault_filter()), count=20000, batch=20), events)
    for plugin in p.all_plugins():
        assert plugin.lifecycle.history == [State.LOADING, State.INITIALIZING, State.READY]
    runner = threading.Thread(target=p.run)
    runner.start()
    while p.accounting.source == 0:
        time.sleep(0.005)
    p.pause()
    assert p.lifecycle.state is State.PAUSED
    time.sleep(0.2)  # in-flight batches finish; nothing new is read
    frozen = p.accounting.source
    time.sleep(0.3)
    assert p.accounting.source == frozen < 20000
    p.resume()
    runner.join(timeout=120)
    assert p.accounting.source == 20000 and p.accounting.balanced
    expected = [
        State.LOADING,
        State.INITIALIZING,
        State.READY,
        State.PROCESSING,
        State.PAUSED,
        State.PROCESSING,
        State.STOPPING,
        State.STOPPED,
    ]
    assert p.lifecycle.history == expected
    for plugin in p.all_plugins():
        assert plugin.lifecycle.history == expected
    states = [(e.stage, e.old, e.new) for e in events if e.kind == "state"]
    assert ("filter", State.PAUSED, State.PROCESSING) in states


def test_graceful_stop_drains_in_flight_batches(write_pipeline) -> None:
    p = load(
        write_pipeline(stage_toml("filter", fault_filter(), instances=2), count=10**6, batch=25)
    )
    runner = threading.Thread(target=p.run)
    runner.start()
    while p.accounting.source < 100:
        time.sleep(0.005)
    p.stop()
    runner.join(timeout=120)
    acc = p.accounting
    assert 100 <= acc.source < 10**6
    assert acc.balanced and acc.out == acc.source == written(p)  # every batch read finished
    assert p.lifecycle.history[-2:] == [State.STOPPING, State.STOPPED]


def test_error_state_carries_its_reason(write_pipeline) -> None:
    p = load(write_pipeline(stage_toml("filter", fault_filter("trap", (5,)))))
    p.run()
    assert p.lifecycle.state is State.ERROR and "trap" in (p.lifecycle.reason or "")
    assert p.lifecycle.label.startswith("Error(")
    # the stage that failed ends in Error(reason) too; the others stop normally
    source, flt, dest = p.stages
    assert flt.lifecycle.history[-3:] == [State.PROCESSING, State.STOPPING, State.ERROR]
    assert "unreachable" in (flt.lifecycle.reason or "")
    assert source.lifecycle.state is State.STOPPED and dest.lifecycle.state is State.STOPPED


def test_live_display_renders_states_and_rates(write_pipeline) -> None:
    from rich.console import Console

    from witgen.pipeline.metrics import LiveDisplay

    p = load(write_pipeline(stage_toml("filter", fault_filter()), count=100))
    p.run()
    console = Console(record=True, width=160)
    console.print(LiveDisplay(p).render())
    text = console.export_text()
    for needle in ("source", "filter", "destination", "Stopped", "records/s", "balanced"):
        assert needle in text


def test_every_transition_is_checked() -> None:
    seen: list[Any] = []
    for old, allowed in TRANSITIONS.items():
        for new in State:
            lc = Lifecycle("s", [seen.append])
            lc.state = old
            if new in allowed:
                lc.to(new, "why" if new is State.ERROR else None)
                assert lc.state is new
            else:
                with pytest.raises(IllegalTransition):
                    lc.to(new)
    errors = [e for e in seen if e.new is State.ERROR]
    assert errors and all(e.reason == "why" for e in errors)
    # exactly the eight states of the plan
    assert [s.value for s in State] == [
        "Loading",
        "Initializing",
        "Ready",
        "Processing",
        "Paused",
        "Stopping",
        "Stopped",
        "Error",
    ]


# ---------------------------------------------------------------------------- pool


def test_instance_pool_runs_every_record_once(write_pipeline) -> None:
    p = load(
        write_pipeline(
            stage_toml("filter", fault_filter("trap", (500,)), instances=4, on_error="skip"),
            count=3000,
            batch=40,
            destination={"instances": 2},
        )
    )
    acc = p.run()
    assert acc.balanced and acc.skipped == 1 and acc.out == 2999
    assert sum(pl.host.counters.get("destination.records", 0) for pl in [p.stages[-1]]) == 2999


def test_a_source_fault_fails_the_run(tmp_path, rust) -> None:
    # 2000 instructions cannot make a batch of records: the read runs out of fuel
    text = (
        "batch_size = 100\n"
        + stage_toml(
            "source",
            rust["source"],
            config={"source.count": "500"},
            limits={"fuel": 2000},
            on_error="retry",
            retries=2,
        )
        + stage_toml("destination", rust["destination"])
    )
    path = tmp_path / "p.toml"
    path.write_text(text)
    events: list[Any] = []
    p = load(path, events)
    acc = p.run()
    assert p.failure is not None and "timeout" in p.failure
    assert acc.balanced and acc.source == 0
    assert sum(e.kind == "fault" for e in events) == 3  # the first read and two retries
    assert p.stages[0].lifecycle.state is State.ERROR
