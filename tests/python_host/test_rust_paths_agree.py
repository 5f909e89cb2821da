"""On the example Rust plugins, the fast path and the generic path give the same answers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.python_host.conftest import RecordingHost
from tests.python_host.rust_plugins import example_components
from dataflare_core import DestinationPlugin, FilterPlugin, ProcessorPlugin, TransformerPlugin
from dataflare_core.types import DataRecord

records = st.builds(
    DataRecord,
    id=st.text(max_size=8),
    timestamp=st.integers(-(2**63), 2**63 - 1),
    payload=st.one_of(
        st.binary(max_size=24), st.text(alphabet="ab\n!", max_size=12).map(str.encode)
    ),
    metadata=st.lists(
        st.tuples(st.sampled_from(["drop", "k"]), st.sampled_from(["true", "v"])), max_size=2
    ),
)
KINDS = {
    "processor": (ProcessorPlugin, "process_batch"),
    "filter": (FilterPlugin, "keep_batch"),
    "transformer": (TransformerPlugin, "transform_batch"),
    "destination": (DestinationPlugin, "write_batch"),
}


@pytest.fixture(scope="module")
def pairs() -> dict[str, tuple[Any, Any, RecordingHost, RecordingHost]]:
    components = example_components()
    out = {}
    for kind, (cls, _) in KINDS.items():
        hosts = RecordingHost({"filter.min-size": "2"}), RecordingHost({"filter.min-size": "2"})
        generic, fast = (
            cls.load(components[kind], logging=h, metrics=h, config=h, cache=False, fast=f)
            for h, f in zip(hosts, (False, True))
        )
        assert (generic.prepared.mode, fast.prepared.mode) == ("component", "core")
        out[kind] = (generic, fast, *hosts)
    return out


@settings(max_examples=60)
@given(st.sampled_from(sorted(KINDS)), st.lists(records, max_size=8))
def test_batches_agree(pairs: dict[str, Any], kind: str, batch: list[DataRecord]) -> None:
    generic, fast, generic_host, fast_host = pairs[kind]
    method = KINDS[kind][1]
    assert getattr(fast, method)(batch) == getattr(generic, method)(batch)
    # the plugins talked to their hosts the same way too
    assert fast_host.lines == generic_host.lines
    assert fast_host.counters == generic_host.counters
