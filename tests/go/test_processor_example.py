"""The example Go processor plugin (examples/go/processor), built to a component and driven
from Python with wasmtime: records in, processing results out, host imports observed."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

import pytest
import wasmtime
from wasmtime.component import Component, Linker, Record

from go.conftest import build_example
from witgen.paths import REPO_ROOT

EXAMPLE = REPO_ROOT / "examples" / "go" / "processor"

IFACE = "dataflare:core/processor@1.0.0"


class Host:
    """The host side of logging, metrics and config, recording what the plugin did."""

    def __init__(self) -> None:
        self.logs: list[tuple[str, str]] = []
        self.counters: dict[str, int] = {}
        self.config = {"tag": "go-test"}

    def link(self, linker: Linker) -> None:
        with linker.root() as root:
            with root.add_instance("dataflare:core/logging@1.0.0") as logging:
                logging.add_func("log", lambda _s, level, msg: self.logs.append((level, msg)))
                logging.add_func("enabled", lambda _s, level: True)
            with root.add_instance("dataflare:core/metrics@1.0.0") as metrics:
                metrics.add_func("counter-add", self._counter_add)
                metrics.add_func("histogram-record", lambda _s, name, value, labels: None)
            with root.add_instance("dataflare:core/config@1.0.0") as config:
                config.add_func("get", lambda _s, key: self.config.get(key))
                config.add_func("get-int", lambda _s, key: 0)
                config.add_func("get-all", lambda _s: list(self.config.items()))

    def _counter_add(self, _store: Any, name: str, delta: int) -> None:
        self.counters[name] = self.counters.get(name, 0) + delta


class Plugin:
    def __init__(self, engine: wasmtime.Engine, component: Any) -> None:
        self.host = Host()
        linker = Linker(engine)
        linker.add_wasip2()
        self.host.link(linker)
        self.store = wasmtime.Store(engine)
        self.store.set_wasi(wasmtime.WasiConfig())
        self.instance = linker.instantiate(self.store, component)
        iface = self.instance.get_export_index(self.store, IFACE)
        assert iface is not None

        def func(name: str) -> Any:
            index = self.instance.get_export_index(self.store, name, iface)
            assert index is not None, name
            return self.instance.get_func(self.store, index)

        self.info = func("info")
        self.process = func("process")
        self.process_batch = func("process-batch")

    def call(self, f: Any, *args: Any) -> Any:
        return f(self.store, *args)


def record(id: str, payload: bytes, metadata: list[tuple[str, str]] | None = None) -> Record:
    r = Record()
    setattr(r, "id", id)
    setattr(r, "timestamp", 1_700_000_000_000)
    setattr(r, "payload", payload)
    setattr(r, "metadata", metadata or [])
    return r


@pytest.fixture(scope="module")
def plugin(engine: wasmtime.Engine, adapter: Path, wasm_tools: str, go: str) -> Iterator[Plugin]:
    component = Component.from_file(engine, str(build_example(EXAMPLE)))
    yield Plugin(engine, component)


def test_info(plugin: Plugin) -> None:
    info = plugin.call(plugin.info)
    assert info.name == "go-upper" and info.version == "1.0.0"
    assert info.capabilities == {"batching", "ordered"}


def test_process_emits_changed_record(plugin: Plugin) -> None:
    out = plugin.call(plugin.process, record("r1", b"hello", [("k", "v")]))
    # processing-result is a variant whose payload types overlap: wasmtime tags it.
    assert out.tag == "emit"
    emitted = out.payload
    assert emitted.id == "r1" and emitted.payload == b"HELLO"
    assert emitted.timestamp == 1_700_000_000_000
    assert emitted.metadata == [("k", "v"), ("processed-by", "go-test")]


def test_process_skip_split_and_failed(plugin: Plugin) -> None:
    assert plugin.call(plugin.process, record("empty", b"")).tag == "skip"
    split = plugin.call(plugin.process, record("s", b"a|b|c"))
    assert split.tag == "split"
    assert [r.payload for r in split.payload] == [b"A", b"B", b"C"]
    failed = plugin.call(plugin.process, record("bad", b"\xff\xfe"))
    assert failed.tag == "failed"
    assert failed.payload.kind == "invalid-input"
    assert failed.payload.message == "payload is not UTF-8"
    assert getattr(failed.payload, "record-id") == "bad"


def test_imports_are_observed(plugin: Plugin) -> None:
    before = plugin.host.counters.get("records-in", 0)
    logs_before = len(plugin.host.logs)
    plugin.call(plugin.process, record("x", b""))
    plugin.call(plugin.process, record("y", b"1|2"))
    assert plugin.host.counters["records-in"] == before + 2
    assert plugin.host.logs[logs_before:] == [
        ("debug", "skipping empty record x"),
        ("info", "split record y"),
    ]


def test_process_batch_in_order(plugin: Plugin) -> None:
    plugin.host.config["tag"] = "batch"
    records = [record(f"r{i}", f"p{i}".encode()) for i in range(50)] + [record("e", b"")]
    results = plugin.call(plugin.process_batch, records)
    assert [r.tag for r in results] == ["emit"] * 50 + ["skip"]
    assert [r.payload.payload for r in results[:50]] == [f"P{i}".encode() for i in range(50)]
    assert all(r.payload.metadata[-1] == ("processed-by", "batch") for r in results[:50])


def test_repeated_calls_reuse_memory_correctly(plugin: Plugin) -> None:
    # cabi_realloc hands out sbrk regions that are reset once each call's arguments are copied;
    # a value read after its region was reused would come back corrupted.
    records = [record(f"id-{i}", f"payload {i}|x".encode(), [("n", str(i))]) for i in range(8)]
    expected = [plugin.call(plugin.process, r) for r in records]
    for round_ in range(250):
        r = records[round_ % len(records)]
        assert plugin.call(plugin.process, r) == expected[round_ % len(records)]
