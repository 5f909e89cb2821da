"""The Go processor example takes the processor's place in the DataFlare pipeline (issue 5:
"the Go and TypeScript SDKs join the same pipeline when they land"); every record's fate is
still accounted for, on the fast path and on the generic path."""

from __future__ import annotations

from pathlib import Path

import pytest
import wasmtime

from examples.pipeline.pipeline import KINDS, Pipeline
from tests.go.conftest import CACHE, REPO_ROOT, build_component
from tests.python_host.rust_plugins import example_components


@pytest.fixture(scope="module")
def go_processor(engine: wasmtime.Engine, adapter: Path, wasm_tools: str, go: str) -> Path:
    build_component(
        engine,
        name="processor",
        guest=REPO_ROOT / "examples" / "go" / "processor",
        sdk=REPO_ROOT / "generated" / "go",
        wit=REPO_ROOT / "wit",
        world="processor-plugin",
        adapter=adapter,
        wasm_tools=wasm_tools,
        go=go,
    )
    (component,) = CACHE.glob("processor-*.component.wasm")
    return component


@pytest.mark.parametrize("fast", [None, False], ids=["auto", "generic"])
def test_pipeline_with_go_processor(go_processor: Path, fast: bool | None) -> None:
    components = dict(example_components())
    components["processor"] = go_processor
    settings = {"source.count": "300", "filter.min-size": "1", "tag": "go"}
    pipeline = Pipeline(components, settings, fast=fast)
    try:
        report = pipeline.run(batch_size=64)
    finally:
        pipeline.close()
    assert len(report.fates) >= 300
    assert all(f"rec-{i}" in report.fates for i in range(300))
    written = [r.id for r in report.written]
    assert len(written) == len(set(written)) > 0
    # the Go processor upper-cases payloads and tags what it emits
    for record in report.written:
        assert record.payload == record.payload.upper()
        assert ("processed-by", "go") in record.metadata
    assert pipeline.host.counters.get("records-in", 0) >= 300
    assert set(report.metrics) == set(KINDS)
    if fast is None:
        assert report.metrics["processor"].mode == "core"
