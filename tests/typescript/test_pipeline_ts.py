"""The TypeScript processor example takes the processor's place in a `witgen run` pipeline
(issue 5: "the Go and TypeScript SDKs join the same pipeline when they land"). It imports WASI
(componentize-js); the fast path serves those imports itself (`_wasi.py`) and runs it."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.pipeline.conftest import run_with_processor
from tests.python_host.rust_plugins import example_components
from tests.typescript.conftest import build_example


@pytest.fixture(scope="module")
def ts_processor() -> Path:
    return build_example()


def test_pipeline_with_typescript_processor(ts_processor: Path, tmp_path: Path) -> None:
    p, written = run_with_processor(tmp_path, example_components(), ts_processor, 120, {})
    acc = p.accounting
    assert p.stages[1].metrics.mode == "core"  # WASI 0.2 served by the fast path
    assert p.failure is None and acc.balanced and acc.source == 120
    records = [r for r in written if r.id.startswith("t-rec-")]
    assert len(records) == acc.out > 0 and len({r.id for r in records}) == len(records)
    for record in records:
        assert ("processed-by", "uppercase") in record.metadata
    assert all(s.metrics.errors == 0 for s in p.stages)
