"""Building TypeScript guests into components, cached: tsc -> componentize-js -> wasmtime.

componentize-js runs through witgen's one recipe (`witgen.toolchains.typescript`).

componentize-js takes ~20 s and wasmtime needs ~7 s to compile its 12 MB output, so the
serialized component is kept under target/typescript/<name>/ keyed by a hash of every input
(the plugin sources, the generated SDK, the WIT, the pinned toolchain, the wasmtime version).
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import wasmtime
from wasmtime import component as wc

from tests.typescript.conftest import GENERATED, TSC_FLAGS, node_tool, run
from witgen.paths import DEFAULT_WIT, REPO_ROOT
from witgen.toolchains import typescript as ts_recipe

WIT = DEFAULT_WIT / "dataflare.wit"
TARGET = REPO_ROOT / "target" / "typescript"


@dataclass(frozen=True)
class Guest:
    name: str  # cache folder under target/typescript/
    world: str
    entry: Path  # the plugin's .ts entry module (3 levels below the repo root)
    tsconfig: Path | None = None  # compile with this project (its outDir must be the cache's js/)
    wit: Path = WIT  # the WIT the world is in

    @property
    def cache(self) -> Path:
        return TARGET / self.name

    def input_hash(self) -> str:
        digest = hashlib.sha256(importlib.metadata.version("wasmtime").encode())
        digest.update(self.world.encode())
        digest.update(" ".join(ts_recipe.PACKAGES).encode())
        inputs = [self.entry, self.wit]
        inputs += [self.tsconfig] if self.tsconfig else []
        inputs += sorted(p for p in GENERATED.rglob("*") if p.is_file())
        for path in inputs:
            digest.update(str(path.relative_to(REPO_ROOT)).encode())
            digest.update(path.read_bytes())
        return digest.hexdigest()[:16]

    def compile_js(self) -> Path:
        js = self.cache / "js"
        if self.tsconfig is not None:
            proc = run("tsc", "-p", self.tsconfig)
        else:
            flags = [f for f in TSC_FLAGS if f != "--noEmit"]
            proc = run("tsc", *flags, "--rootDir", REPO_ROOT, "--outDir", js, self.entry)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        entry = js / self.entry.relative_to(REPO_ROOT).with_suffix(".js")
        assert entry.exists(), f"tsc did not write {entry}"
        return entry

    def component(self, engine: wasmtime.Engine) -> wc.Component:
        cached = self.cache / f"component-{self.input_hash()}.cwasm"
        if cached.exists():
            return wc.Component.deserialize(engine, cached.read_bytes())
        entry = self.compile_js()
        wasm = self.cache / "plugin.wasm"
        node_tool("componentize-js")  # skips (or fails in CI) when the toolchain is missing
        try:
            ts_recipe.componentize(entry, self.wit, self.world, wasm)  # witgen's one recipe
        except ts_recipe.BuildFailed as failure:
            raise AssertionError(str(failure)) from None
        comp = wc.Component.from_file(engine, str(wasm))
        for stale in self.cache.glob("component-*.cwasm"):
            stale.unlink()
        tmp = cached.with_suffix(".tmp")
        tmp.write_bytes(comp.serialize())
        os.replace(tmp, cached)
        return comp


@dataclass
class Host:
    """The host side of a DataFlare plugin's imports; records what the plugin logs and counts."""

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
                add(config, "get-int", self.get_int)
                add(config, "get-all", lambda: list(self.config.items()))

    def get_int(self, key: str) -> int | None:
        """`result<s64>`: an int is `ok`, None is `err` (missing or not an integer)."""
        value = self.config.get(key, "")
        return int(value) if value.lstrip("-").isdigit() else None

    def count(self, name: str, delta: int) -> None:
        self.counters[name] = self.counters.get(name, 0) + delta


@dataclass
class Plugin:
    """One instance of a guest component, with the functions of one exported interface."""

    store: wasmtime.Store
    instance: wc.Instance
    interface: str
    host: Host

    @classmethod
    def instantiate(
        cls, engine: wasmtime.Engine, comp: wc.Component, interface: str, host: Host
    ) -> Plugin:
        linker = wc.Linker(engine)
        linker.add_wasip2()
        host.link(linker)
        store = wasmtime.Store(engine)
        store.set_wasi(wasmtime.WasiConfig())
        return cls(store, linker.instantiate(store, comp), interface, host)

    def call(self, name: str, *args: Any) -> Any:
        iface = self.instance.get_export_index(self.store, self.interface)
        index = self.instance.get_export_index(self.store, name, iface)
        assert index is not None, f"{self.interface} does not export {name}"
        func = self.instance.get_func(self.store, index)
        assert func is not None
        return func(self.store, *args)


def record(rid: str, payload: bytes, metadata: list[tuple[str, str]] | None = None) -> wc.Record:
    """A `data-record` as wasmtime-py takes it."""
    rec = wc.Record()
    fields = {"id": rid, "timestamp": 1_700_000_000_000, "payload": payload}
    for name, value in {**fields, "metadata": metadata or []}.items():
        setattr(rec, name, value)  # wasmtime-py records take fields as attributes
    return rec
