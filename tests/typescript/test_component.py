"""End to end: the example processor plugin, written in TypeScript against the generated SDK,
built by `witgen build` (tsc, then componentize-js) and called from Python with wasmtime-py."""

from __future__ import annotations

import pytest
import wasmtime
from wasmtime import component as wc

from tests.typescript.conftest import build_example
from tests.typescript.guests import Host, Plugin, record


@pytest.fixture(scope="module")
def processor_component() -> tuple[wasmtime.Engine, wc.Component]:
    engine = wasmtime.Engine()
    return engine, wc.Component.from_file(engine, str(build_example()))


@pytest.fixture
def plugin(processor_component: tuple[wasmtime.Engine, wc.Component]) -> Plugin:
    engine, comp = processor_component
    host = Host(config={"id-prefix": "p/"})
    return Plugin.instantiate(engine, comp, "dataflare:core/processor@1.0.0", host)


def test_info_describes_the_plugin(plugin: Plugin) -> None:
    info = plugin.call("info")
    assert (info.name, info.version) == ("uppercase", "1.0.0")
    assert info.capabilities == {"batching", "ordered"}


def test_process_emits_a_rewritten_record(plugin: Plugin) -> None:
    out = plugin.call("process", record("r1", b"hello, world", [("k", "v")]))
    assert out.tag == "emit"
    rec = out.payload
    assert rec.id == "p/r1"  # the prefix came from the host's config import
    assert rec.timestamp == 1_700_000_000_000  # s64 <-> bigint round trip
    assert rec.payload == b"HELLO, WORLD"
    assert rec.metadata == [("k", "v"), ("processed-by", "uppercase")]
    assert plugin.host.counters == {"records-in": 1}  # u64 <- bigint


def test_process_skips_records_tagged_drop(plugin: Plugin) -> None:
    out = plugin.call("process", record("r2", b"x", [("drop", "yes")]))
    assert out.tag == "skip" and out.payload is None
    assert ("debug", "dropping r2") in plugin.host.logs


def test_process_splits_lines(plugin: Plugin) -> None:
    out = plugin.call("process", record("r3", b"ab\n\ncd\n", [("split", "lines")]))
    assert out.tag == "split"
    assert [(r.id, r.payload) for r in out.payload] == [("p/r3#0", b"AB"), ("p/r3#1", b"CD")]


def test_config_err_from_the_host_is_thrown_and_caught(
    processor_component: tuple[wasmtime.Engine, wc.Component],
) -> None:
    # get-int returns `err` for a non-integer: the plugin's catch means "no limit"; with an
    # integer it is `ok` and limits the split
    engine, comp = processor_component
    interface = "dataflare:core/processor@1.0.0"
    tagged = record("r5", b"a\nb\nc", [("split", "lines")])
    for value, expected in (("many", 3), ("2", 2)):
        host = Host(config={"max-parts": value})
        out = Plugin.instantiate(engine, comp, interface, host).call("process", tagged)
        assert (out.tag, len(out.payload)) == ("split", expected)


def test_process_reports_failure_as_a_variant(plugin: Plugin) -> None:
    out = plugin.call("process", record("r4", b""))
    assert out.tag == "failed"
    err = out.payload
    assert (err.kind, err.message, getattr(err, "record-id")) == (
        "invalid-input",
        "empty payload",
        "r4",
    )


def test_process_batch_keeps_order(plugin: Plugin) -> None:
    batch = [record(f"b{i}", b"x" * i) for i in range(4)]
    out = plugin.call("process-batch", batch)
    assert [r.tag for r in out] == ["failed", "emit", "emit", "emit"]
    assert [r.payload.payload for r in out[1:]] == [b"X", b"XX", b"XXX"]
    assert ("info", "processing a batch of 4") in plugin.host.logs
    assert plugin.host.counters == {"records-in": 4}
