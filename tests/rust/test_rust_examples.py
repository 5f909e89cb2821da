"""The example plugins of examples/rust/ (one per plugin kind of wit/dataflare.wit), built to
components with the generated SDK and driven from Python through wasmtime: records in,
results out, and the logging/metrics/config imports observed on the host side."""

from __future__ import annotations

from pathlib import Path

import pytest
import wasmtime
import wasmtime.component as wc

from witgen.toolchains.rust import PLUGIN_KINDS, build_examples

from .host import Guest, Observed, iface, instantiate, record
from .toolchain import require_rust_toolchain


@pytest.fixture(scope="module")
def components() -> dict[str, Path]:
    require_rust_toolchain()
    return build_examples()


def plugin(components: dict[str, Path], kind: str, **config: str) -> tuple[Guest, str]:
    return instantiate(components[kind], Observed(config=dict(config))), iface(kind)


def fields(value: wc.Record) -> dict[str, object]:
    return dict(value.__dict__)


@pytest.mark.parametrize("kind", PLUGIN_KINDS)
def test_every_kind_describes_itself(components: dict[str, Path], kind: str) -> None:
    assert components[kind].read_bytes()[:8] == b"\0asm\x0d\0\x01\0"  # a component
    guest, name = plugin(components, kind)
    info = fields(guest.call("info", interface=name))
    assert info["version"] == "0.1.0" and info["name"]
    assert "batching" in info["capabilities"]


def test_processor(components: dict[str, Path]) -> None:
    guest, P = plugin(components, "processor")
    out = guest.call("process", record("a", b"hello", 7, [("k", "v")]), interface=P)
    assert out.tag == "emit"
    assert fields(out.payload) == {
        "id": "a",
        "timestamp": 7,
        "payload": b"HELLO",
        "metadata": [("k", "v"), ("processed-by", "uppercase")],
    }
    assert guest.call("process", record("b", b""), interface=P) == wc.Variant("skip")
    failed = guest.call("process", record("c", b"!x"), interface=P)
    assert failed.tag == "failed"
    assert fields(failed.payload) == {
        "kind": "invalid-input",
        "message": "payload starts with '!'",
        "record-id": "c",
    }
    batch = guest.call("process-batch", [record("d", b"x\ny"), record("e", b"z")], interface=P)
    assert [r.tag for r in batch] == ["split", "emit"]
    assert [(p.id, p.payload) for p in batch[0].payload] == [("d-0", b"X"), ("d-1", b"Y")]
    assert guest.seen.counters == {"processor.records": 5}
    assert guest.seen.logs[0] == ("debug", "processing a") and len(guest.seen.logs) == 5


def test_filter_reads_config(components: dict[str, Path]) -> None:
    guest, F = plugin(components, "filter", **{"filter.min-size": "3"})
    assert guest.call("keep", record("a", b"abcd"), interface=F) is True
    assert guest.call("keep", record("b", b"ab"), interface=F) is False
    batch = [record("c", b"long enough"), record("d", b"long", metadata=[("drop", "true")])]
    assert guest.call("keep-batch", batch, interface=F) == [True, False]
    assert guest.seen.counters == {"filter.kept": 2, "filter.dropped": 2}
    default, _ = plugin(components, "filter")
    assert default.call("keep", record("e", b"a"), interface=F) is True


def test_transformer(components: dict[str, Path]) -> None:
    guest, T = plugin(components, "transformer", **{"transformer.prefix": "x-"})
    ok = guest.call("transform", record("a", b"hey"), interface=T)
    assert ok.tag == "ok" and fields(ok.payload)["id"] == "x-a"
    assert fields(ok.payload)["metadata"] == [("length", "3")]
    batch = guest.call("transform-batch", [record("b", b"\xff"), record("c", b"")], interface=T)
    assert [r.tag for r in batch] == ["err", "ok"]
    assert fields(batch[0].payload)["kind"] == "invalid-input"
    assert guest.seen.logs == [("warn", "b is not UTF-8")]


def test_source_cursor(components: dict[str, Path]) -> None:
    guest, S = plugin(components, "source", **{"source.count": "5"})
    s = guest.store
    cursor = guest.call("[constructor]cursor", interface=S)
    read = guest.func("[method]cursor.read-batch", S)
    # result<list<data-record>, plugin-error> is untagged in wasmtime-py: a list is `ok`
    first = read(s, cursor, 3)
    assert [r.id for r in first] == ["rec-0", "rec-1", "rec-2"]
    assert fields(first[1]) == {
        "id": "rec-1",
        "timestamp": 1_700_000_000_001,
        "payload": b"record 1",
        "metadata": [("index", "1")],
    }
    assert guest.call("[method]cursor.position", cursor, interface=S) == 3
    assert [r.id for r in read(s, cursor, 10)] == ["rec-3", "rec-4"]
    assert read(s, cursor, 10) == []
    resumed = guest.call("[static]cursor.resume", 4, interface=S)
    assert isinstance(resumed, wc.ResourceAny) and resumed.owned
    assert [r.id for r in read(s, resumed, 10)] == ["rec-4"]
    past = guest.call("[static]cursor.resume", 9, interface=S)
    assert isinstance(past, wc.Record) and "past the end" in past.message
    cursor.drop(s)
    resumed.drop(s)
    assert guest.seen.logs == [("info", "cursor opened")]


def test_destination(components: dict[str, Path]) -> None:
    guest, D = plugin(components, "destination")
    assert guest.call("close", interface=D) == wc.Variant("err")  # nothing written yet
    written = guest.call("write-batch", [record("a", b"12"), record("b", b"345")], interface=D)
    assert written == 2  # result<u32, plugin-error>: untagged in wasmtime-py
    bad = guest.call("write-batch", [record("", b"")], interface=D)
    assert isinstance(bad, wc.Record) and bad.kind == "invalid-input"
    assert guest.call("flush", interface=D) is None  # `ok` of result<_, plugin-error>
    assert guest.call("close", interface=D) == wc.Variant("ok")
    assert guest.seen.counters == {"destination.records": 2}
    assert guest.seen.histograms == [("destination.bytes", 5.0, [("batch", "2")])]
    assert guest.seen.logs == [("info", "flushed 2 records, 5 bytes")]


def test_aggregator_resources(components: dict[str, Path]) -> None:
    guest, A = plugin(components, "aggregator")
    s = guest.store
    new = guest.func("[constructor]accumulator", A)
    left, right = new(s, "l"), new(s, "r")
    assert guest.call("[method]accumulator.emit", left, interface=A) is None
    assert guest.call("[method]accumulator.add", left, record("a", b"xy", 5), interface=A) is None
    added = guest.call(
        "[method]accumulator.add-batch", right, [record("b", b"abc", 9)] * 2, interface=A
    )
    assert added == 2
    assert guest.call("stats", right, interface=A) == (2, 6)
    merged = guest.call("[static]accumulator.merge", left, right, interface=A)
    summary = guest.call("[method]accumulator.emit", merged, interface=A)
    assert fields(summary) == {
        "id": "l+r",
        "timestamp": 9,
        "payload": b"count=3;bytes=8",
        "metadata": [],
    }
    rejected = guest.call("[method]accumulator.add", left, record("", b""), interface=A)
    assert isinstance(rejected, wc.Record) and rejected.kind == "invalid-input"
    for handle in (left, right, merged):
        handle.drop(s)
    with pytest.raises(wasmtime.WasmtimeError):
        guest.call("stats", left, interface=A)
    assert guest.seen.counters == {"aggregator.windows": 2}  # merge bypasses the constructor


def test_processor_memory_is_bounded(components: dict[str, Path]) -> None:
    """With a 3 MiB store limit, 2,000 batch calls would trap if any call leaked memory."""
    guest, P = plugin(components, "processor")
    guest.store.set_limits(memory_size=3 * 1024 * 1024)
    batch = [record(f"r{i}", b"payload" * 8, i, [("k", "v")]) for i in range(8)]
    process_batch = guest.func("process-batch", P)
    for _ in range(2_000):
        process_batch(guest.store, batch)
    assert guest.seen.counters["processor.records"] == 16_000
