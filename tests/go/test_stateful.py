"""ExportNew (witrt.Stateful) through a real Go guest in wasmtime: tests/go/stateful_guest builds
its processor once per instance from the `tag` configuration; without one, the constructor's
plugin-error comes back through each function's own error channel (a `failed` result, one per
record of a batch) and functions without one trap."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

import pytest
import wasmtime
from wasmtime.component import Component, Linker, Record

from go.conftest import CACHE, build_component, generate_sdk
from witgen.paths import DEFAULT_WIT

HERE = Path(__file__).parent
IFACE = "dataflare:core/processor@1.0.0"


def record(id: str) -> Record:
    r = Record()
    setattr(r, "id", id)
    setattr(r, "timestamp", 1)
    setattr(r, "payload", b"x")
    setattr(r, "metadata", [])
    return r


class Instance:
    def __init__(self, engine: wasmtime.Engine, component: Component, tag: str | None) -> None:
        self.config_reads = 0
        linker = Linker(engine)
        linker.add_wasip2()
        with linker.root() as root:
            with root.add_instance("dataflare:core/logging@1.0.0") as logging:
                logging.add_func("log", lambda _s, level, msg: None)
                logging.add_func("enabled", lambda _s, level: False)
            with root.add_instance("dataflare:core/metrics@1.0.0") as metrics:
                metrics.add_func("counter-add", lambda _s, name, delta: None)
                metrics.add_func("histogram-record", lambda _s, name, value, labels: None)
            with root.add_instance("dataflare:core/config@1.0.0") as config:
                config.add_func("get", lambda _s, key: self._get(tag))
                config.add_func("get-int", lambda _s, key: 0)
                config.add_func("get-all", lambda _s: [])
        self.store = wasmtime.Store(engine)
        self.store.set_wasi(wasmtime.WasiConfig())
        self.instance = linker.instantiate(self.store, component)

    def _get(self, tag: str | None) -> str | None:
        self.config_reads += 1
        return tag

    def call(self, name: str, *args: Any) -> Any:
        iface = self.instance.get_export_index(self.store, IFACE)
        index = self.instance.get_export_index(self.store, name, iface)
        assert index is not None, name
        func = self.instance.get_func(self.store, index)
        assert func is not None, name
        return func(self.store, *args)


@pytest.fixture(scope="module")
def component(
    engine: wasmtime.Engine, adapter: Path, wasm_tools: str, go: str
) -> Iterator[Component]:
    sdk = CACHE / "stateful-sdk"
    generate_sdk(DEFAULT_WIT / "dataflare.wit", sdk, "witgen/stateful")
    yield build_component(
        engine,
        name="stateful",
        guest=HERE / "stateful_guest",
        sdk=sdk,
        wit=DEFAULT_WIT,
        world="processor-plugin",
        adapter=adapter,
        wasm_tools=wasm_tools,
        go=go,
    )


def test_constructor_runs_once_and_state_is_kept(
    engine: wasmtime.Engine, component: Component
) -> None:
    plugin = Instance(engine, component, "t")
    assert plugin.call("info").name == "stateful-t"
    assert plugin.call("process", record("a")).payload.id == "a:t:1"
    batch = plugin.call("process-batch", [record("b"), record("c")])
    assert [r.payload.id for r in batch] == ["b:t:2", "c:t:3"]
    assert plugin.config_reads == 1  # the configuration is read once per instance


def test_constructor_error_reaches_each_error_channel(
    engine: wasmtime.Engine, component: Component
) -> None:
    plugin = Instance(engine, component, None)
    failed = plugin.call("process", record("a"))
    assert failed.tag == "failed"
    assert failed.payload.kind == "bad-config" and failed.payload.message == "no tag configured"
    batch = plugin.call("process-batch", [record("b"), record("c"), record("d")])
    assert [(r.tag, r.payload.message) for r in batch] == [("failed", "no tag configured")] * 3
    with pytest.raises(wasmtime.WasmtimeError, match="unreachable"):  # info: no error channel
        plugin.call("info")
