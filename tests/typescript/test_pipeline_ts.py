"""The TypeScript processor example takes the processor's place in the DataFlare pipeline
(issue 5: "the Go and TypeScript SDKs join the same pipeline when they land"). It imports WASI
(componentize-js), so the host bindings run it on the generic wasmtime.component path."""

from __future__ import annotations

from pathlib import Path

import pytest
import wasmtime

from examples.pipeline.pipeline import KINDS, Pipeline
from tests.python_host.rust_plugins import example_components
from tests.typescript.conftest import node_tool
from tests.typescript.test_component import PROCESSOR


@pytest.fixture(scope="module")
def ts_processor() -> Path:
    node_tool("componentize-js")  # skips (locally) or fails (CI) without the toolchain
    PROCESSOR.component(wasmtime.Engine())
    wasm = PROCESSOR.cache / "plugin.wasm"
    if not wasm.exists():  # a cached compiled form without its source component: rebuild
        for stale in PROCESSOR.cache.glob("component-*.cwasm"):
            stale.unlink()
        PROCESSOR.component(wasmtime.Engine())
    return wasm


def test_pipeline_with_typescript_processor(ts_processor: Path) -> None:
    components = dict(example_components())
    components["processor"] = ts_processor
    settings = {"source.count": "120", "filter.min-size": "1"}
    pipeline = Pipeline(components, settings)
    try:
        report = pipeline.run(batch_size=50)
    finally:
        pipeline.close()
    assert report.metrics["processor"].mode != "core"  # WASI-importing: the generic path
    assert all(f"rec-{i}" in report.fates for i in range(120))
    written = [r.id for r in report.written]
    assert len(written) == len(set(written)) > 0
    for record in report.written:
        assert ("processed-by", "uppercase") in record.metadata
    assert set(report.metrics) == set(KINDS)
    assert all(m.errors == 0 for m in report.metrics.values())
