"""The Go processor example takes the processor's place in a `witgen run` pipeline (issue 5:
"the Go and TypeScript SDKs join the same pipeline when they land"); every record is still
accounted for."""

from __future__ import annotations

from pathlib import Path

import pytest
import wasmtime

from tests.go.conftest import REPO_ROOT, build_example
from tests.pipeline.conftest import run_with_processor
from tests.python_host.rust_plugins import example_components


@pytest.fixture(scope="module")
def go_processor(engine: wasmtime.Engine, adapter: Path, wasm_tools: str, go: str) -> Path:
    return build_example(REPO_ROOT / "examples" / "go" / "processor")


def test_pipeline_with_go_processor(go_processor: Path, tmp_path: Path) -> None:
    p, written = run_with_processor(
        tmp_path, example_components(), go_processor, 300, {"tag": "go"}
    )
    acc = p.accounting
    assert p.failure is None and acc.balanced and acc.source == 300
    records = [r for r in written if r.id.startswith("t-rec-")]
    assert len(records) == acc.out > 0
    assert len({r.id for r in records}) == len(records)
    # the Go processor upper-cases payloads and tags what it emits
    for record in records:
        assert record.payload == record.payload.upper()
        assert ("processed-by", "go") in record.metadata
    assert p.stages[1].host.counters.get("records-in", 0) >= 300
