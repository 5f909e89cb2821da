"""End to end: the example processor plugin, written in TypeScript against the generated SDK,
compiled with tsc, componentized with componentize-js and called from Python with wasmtime.

Building takes ~20 s (componentize-js) and compiling the 12 MB component ~7 s, so the
serialized component is cached under target/typescript/ keyed by a hash of every input.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import pytest
import wasmtime
from wasmtime import component as wc

from tests.typescript.conftest import EXAMPLE, GENERATED, run
from witgen.paths import DEFAULT_WIT, REPO_ROOT

CACHE = REPO_ROOT / "target" / "typescript" / "processor"
WORLD = "processor-plugin"
PROCESSOR = "dataflare:core/processor@1.0.0"


def input_hash() -> str:
    """Everything the component depends on: plugin, SDK, WIT, pinned toolchain, wasmtime."""
    digest = hashlib.sha256(importlib.metadata.version("wasmtime").encode())
    inputs = [EXAMPLE / "plugin.ts", EXAMPLE / "tsconfig.json", DEFAULT_WIT / "dataflare.wit"]
    inputs += sorted(p for p in GENERATED.rglob("*") if p.is_file())
    inputs.append(REPO_ROOT / ".ci" / "install.d" / "typescript.sh")
    for path in inputs:
        digest.update(str(path.relative_to(REPO_ROOT)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def build_component(engine: wasmtime.Engine) -> wc.Component:
    """tsc -> componentize-js -> wasmtime compile; the serialized result is cached."""
    cached = CACHE / f"plugin-{input_hash()}.cwasm"
    if cached.exists():
        return wc.Component.deserialize(engine, cached.read_bytes())
    proc = run("tsc", "-p", EXAMPLE)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    entry = CACHE / "js" / "examples" / "typescript" / "processor" / "plugin.js"
    wasm = CACHE / "plugin.wasm"
    proc = run(
        "componentize-js",
        entry,
        "--wit",
        DEFAULT_WIT / "dataflare.wit",
        "-n",
        WORLD,
        "-d",
        "http",
        "fetch-event",
        "-o",
        wasm,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    comp = wc.Component.from_file(engine, str(wasm))
    for stale in CACHE.glob("plugin-*.cwasm"):
        stale.unlink()
    tmp = cached.with_suffix(".tmp")
    tmp.write_bytes(comp.serialize())
    os.replace(tmp, cached)
    return comp


@dataclass
class Host:
    """The host side of the plugin's imports: records what the plugin logs and counts."""

    config: dict[str, str] = field(default_factory=dict)
    logs: list[tuple[str, str]] = field(default_factory=list)
    counters: dict[str, int] = field(default_factory=dict)

    def link(self, linker: wc.Linker) -> None:
        def add(iface: wc.LinkerInstance, name: str, fn: Callable[..., Any]) -> None:
            iface.add_func(name, lambda _store, *args: fn(*args))

        with linker.root() as root:
            with root.add_instance("dataflare:core/logging@1.0.0") as logging:
                add(logging, "log", lambda level, msg: self.logs.append((level, msg)))
                add(logging, "enabled", lambda level: True)
            with root.add_instance("dataflare:core/metrics@1.0.0") as metrics:
                add(metrics, "counter-add", self.count)
                add(metrics, "histogram-record", lambda name, value, labels: None)
            with root.add_instance("dataflare:core/config@1.0.0") as config:
                add(config, "get", self.config.get)
                add(config, "get-int", lambda key: 0)
                add(config, "get-all", lambda: list(self.config.items()))

    def count(self, name: str, delta: int) -> None:
        self.counters[name] = self.counters.get(name, 0) + delta


@dataclass
class Plugin:
    store: wasmtime.Store
    instance: wc.Instance
    host: Host

    def call(self, name: str, *args: Any) -> Any:
        iface = self.instance.get_export_index(self.store, PROCESSOR)
        index = self.instance.get_export_index(self.store, name, iface)
        assert index is not None, f"{PROCESSOR} does not export {name}"
        func = self.instance.get_func(self.store, index)
        assert func is not None
        return func(self.store, *args)


@pytest.fixture(scope="module")
def engine_and_component() -> tuple[wasmtime.Engine, wc.Component]:
    run("tsc", "--version")  # skips (locally) or fails (CI) without the toolchain
    engine = wasmtime.Engine()
    return engine, build_component(engine)


@pytest.fixture
def plugin(engine_and_component: tuple[wasmtime.Engine, wc.Component]) -> Plugin:
    engine, comp = engine_and_component
    host = Host(config={"id-prefix": "p/"})
    linker = wc.Linker(engine)
    linker.add_wasip2()
    host.link(linker)
    store = wasmtime.Store(engine)
    store.set_wasi(wasmtime.WasiConfig())
    return Plugin(store, linker.instantiate(store, comp), host)


def record(rid: str, payload: bytes, metadata: list[tuple[str, str]] | None = None) -> wc.Record:
    rec = wc.Record()
    rec.id = rid
    rec.timestamp = 1_700_000_000_000
    rec.payload = payload
    rec.metadata = metadata or []
    return rec


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
