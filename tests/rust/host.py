"""A small wasmtime host for Rust guest components: loads a component, serves the DataFlare
host interfaces (logging, metrics, config) from Python and records what the guest did.

Components are compiled once per engine and cached (`Config.cache` also keeps compiled code on
disk between runs).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import wasmtime
import wasmtime.component as wc

PKG = "dataflare:core"
VERSION = "1.0.0"

_engine: wasmtime.Engine | None = None
_compiled: dict[tuple[str, float], wc.Component] = {}


def engine() -> wasmtime.Engine:
    global _engine
    if _engine is None:
        config = wasmtime.Config()
        config.cache = True
        _engine = wasmtime.Engine(config)
    return _engine


def component(path: Path) -> wc.Component:
    key = (str(path), path.stat().st_mtime)
    if key not in _compiled:
        _compiled[key] = wc.Component(engine(), path.read_bytes())
    return _compiled[key]


@dataclass
class Observed:
    """What the guest asked of the host, plus the configuration it can read."""

    config: dict[str, str] = field(default_factory=dict)
    logs: list[tuple[str, str]] = field(default_factory=list)
    counters: dict[str, int] = field(default_factory=dict)
    histograms: list[tuple[str, float, list[tuple[str, str]]]] = field(default_factory=list)


def iface(name: str) -> str:
    return f"{PKG}/{name}@{VERSION}"


def add_dataflare_host(linker: wc.Linker, seen: Observed) -> None:
    levels = ["trace", "debug", "info", "warn", "error"]

    def get_int(_store: Any, key: str) -> int | None:
        # result<s64> is untagged in wasmtime-py: an int is `ok`, None is `err`.
        try:
            return int(seen.config[key])
        except (KeyError, ValueError):
            return None

    def counter_add(_store: Any, name: str, delta: int) -> None:
        seen.counters[name] = seen.counters.get(name, 0) + delta

    with linker.root() as root:
        with root.add_instance(iface("logging")) as logging:
            logging.add_func("log", lambda _s, level, msg: seen.logs.append((level, msg)))
            logging.add_func("enabled", lambda _s, level: levels.index(level) >= 1)
        with root.add_instance(iface("metrics")) as metrics:
            metrics.add_func("counter-add", counter_add)
            metrics.add_func(
                "histogram-record",
                lambda _s, name, value, labels: seen.histograms.append((name, value, labels)),
            )
        with root.add_instance(iface("config")) as config:
            config.add_func("get", lambda _s, key: seen.config.get(key))
            config.add_func("get-int", get_int)
            config.add_func("get-all", lambda _s: list(seen.config.items()))


@dataclass
class Guest:
    """One instance of a guest component with its store."""

    store: wasmtime.Store
    instance: wc.Instance
    seen: Observed

    def func(self, name: str, interface: str | None = None) -> wc.Func:
        parent = None
        if interface is not None:
            parent = self.instance.get_export_index(self.store, interface)
            assert parent is not None, f"no exported instance {interface}"
        index = self.instance.get_export_index(self.store, name, parent)
        assert index is not None, f"no exported function {name}"
        func = self.instance.get_func(self.store, index)
        assert func is not None
        return func

    def call(self, name: str, *args: Any, interface: str | None = None) -> Any:
        return self.func(name, interface)(self.store, *args)


def instantiate(path: Path, seen: Observed | None = None) -> Guest:
    seen = seen if seen is not None else Observed()
    linker = wc.Linker(engine())
    add_dataflare_host(linker, seen)
    store = wasmtime.Store(engine())
    instance = linker.instantiate(store, component(path))
    return Guest(store, instance, seen)


def record(id: str, payload: bytes, timestamp: int = 0, metadata: Any = ()) -> wc.Record:
    """A `data-record` value for wasmtime."""
    r = wc.Record()
    setattr(r, "id", id)
    setattr(r, "timestamp", timestamp)
    setattr(r, "payload", payload)
    setattr(r, "metadata", list(metadata))
    return r
