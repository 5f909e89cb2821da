"""The shipped pipeline files (examples/pipeline/*.toml) run through `witgen run` on the example
Rust plugins: every record accounted for, metrics for every stage, the JSON and Prometheus
outputs, and the same numbers from the plugins' own counters."""

from __future__ import annotations

import json
import socket
import urllib.request
from pathlib import Path

import pytest

from tests.python_host.rust_plugins import example_components
from witgen.cli import main
from witgen.paths import REPO_ROOT
from witgen.pipeline import contract as contract_mod
from witgen.pipeline import metrics
from witgen.pipeline import spec as spec_mod
from witgen.pipeline.runtime import Pipeline

EXAMPLES = REPO_ROOT / "examples" / "pipeline"
CACHE = REPO_ROOT / "target" / "pipeline-tests" / "cache"
KINDS = ("source", "processor", "filter", "transformer", "aggregator", "destination")


@pytest.fixture(scope="module", autouse=True)
def components() -> dict[str, Path]:
    return example_components()  # builds target/rust-guests/components/, which the files name


@pytest.mark.parametrize("name", ["dataflare.toml", "parallel.toml"])
def test_shipped_pipeline_runs(
    name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "metrics.json"
    status = main(
        [
            "run",
            str(EXAMPLES / name),
            "--records",
            "300",
            "--metrics-json",
            str(out),
            "--no-hot-reload",
            "--cache-dir",
            str(CACHE),
        ]
    )
    printed = capsys.readouterr().out
    assert status == 0, printed
    doc = json.loads(out.read_text())
    assert doc["schema"] == "witgen.run/v1" and doc["state"] == "Stopped"
    acc = doc["accounting"]
    assert acc["source"] == 300 and acc["balanced"]
    assert acc["in"] == acc["out"] + acc["skipped"] + acc["failed"] + acc["dead_lettered"]
    for stage in doc["stages"]:
        for key in (
            "load_seconds",
            "init_seconds",
            "avg_call_seconds",
            "throughput_records_per_second",
            "memory_bytes",
            "error_rate",
            "records_in",
            "records_out",
        ):
            assert key in stage
        assert stage["state"] == "Stopped"
    assert "balanced" in printed and "records/s" in printed
    assert "\x1b[" not in printed  # no live display when stdout is not a terminal


def test_destination_counts_what_the_runtime_wrote() -> None:
    spec = spec_mod.load(EXAMPLES / "dataflare.toml")
    p = Pipeline(spec, contract_mod.load(None), cache_dir=CACHE, hot_reload=False)
    p.load()
    assert [s.spec.kind for s in p.stages] == list(KINDS)
    acc = p.run(records=500)
    sink = p.stages[-1].host.counters["destination.records"]
    assert acc.balanced and acc.source == 500
    assert sink == acc.out + acc.generated  # records and window summaries
    assert p.stages[1].host.counters["processor.records"] == 500
    for stage in p.stages:
        m = stage.metrics
        assert m.calls > 0 and m.load_seconds > 0 and m.errors == 0
        assert m.avg_call_seconds > 0 and m.throughput > 0
    assert "uppercase" in metrics.table(p)


def test_prometheus_exposition() -> None:
    spec = spec_mod.load(EXAMPLES / "parallel.toml")
    p = Pipeline(spec, contract_mod.load(None), cache_dir=CACHE, hot_reload=False)
    p.load()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    stop = metrics.serve_prometheus(p, port)
    try:
        p.run(records=200)
        text = (
            urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10).read().decode()
        )
    finally:
        stop()
    assert 'witgen_stage_records_in_total{kind="processor",stage="processor"} 200.0' in text
    assert 'witgen_records_total{fate="out"} 200.0' in text
    for name in (
        "load_seconds",
        "init_seconds",
        "avg_call_seconds",
        "memory_bytes",
        "error_rate",
        "throughput_records_per_second",
    ):
        assert f"witgen_stage_{name}{{" in text
