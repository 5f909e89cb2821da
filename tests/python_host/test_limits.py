"""Limits and failure handling: fuel and epoch deadlines, memory caps, traps, reuse, cache."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import pytest

from tests.python_host.conftest import RecordingHost
from dataflare_core import (
    Limits,
    PluginClosed,
    PluginMemoryLimit,
    PluginTimeout,
    PluginTrap,
    ProcessorPlugin,
)
from dataflare_core.types import DataRecord, ProcessingResultEmit

OK = DataRecord("fine", 1, b"x", [])
Loader = Callable[[Path, Limits], ProcessorPlugin]


@pytest.fixture(params=[False, True], ids=["generic", "fast"])
def fast(request: pytest.FixtureRequest) -> bool:
    return bool(request.param)


@pytest.fixture
def load(fast: bool) -> Callable[[Path, Limits], ProcessorPlugin]:
    def load(path: Path, limits: Limits) -> ProcessorPlugin:
        plugin = ProcessorPlugin.load(
            path, logging=RecordingHost(), limits=limits, cache=False, fast=fast
        )
        assert plugin.prepared.mode == ("core" if fast else "component")
        return plugin

    return load


def test_infinite_loop_stopped_by_fuel_then_plugin_reused(
    processor_wat: Path, load: Loader
) -> None:
    p = load(processor_wat, Limits(fuel=2_000_000))
    with pytest.raises(PluginTimeout):
        p.process(DataRecord("loop", 1, b"x", []))
    assert p.process(OK) == ProcessingResultEmit(OK)


def test_infinite_loop_stopped_by_epoch_deadline(processor_wat: Path, load: Loader) -> None:
    p = load(processor_wat, Limits(timeout=0.05))
    with pytest.raises(PluginTimeout):
        p.process_batch([OK, DataRecord("loop", 1, b"x", [])])
    assert p.process_batch([OK]) == [ProcessingResultEmit(OK)]


def test_trap_is_typed_and_the_host_stays_usable(processor_wat: Path, load: Loader) -> None:
    p = load(processor_wat, Limits())
    with pytest.raises(PluginTrap) as info:
        p.process(DataRecord("trap", 1, b"x", []))
    assert not isinstance(info.value, PluginTimeout)
    assert "unreachable" in str(info.value)
    assert p.process(OK) == ProcessingResultEmit(OK)


def test_memory_limit_refuses_growth(processor_wat: Path, load: Loader) -> None:
    grow = DataRecord("grow", 1, b"x", [])  # asks for 16 MiB more per record
    roomy = load(processor_wat, Limits(memory_bytes=64 << 20))
    assert roomy.process(grow) == ProcessingResultEmit(grow)
    tight = load(processor_wat, Limits(memory_bytes=8 << 20))
    with pytest.raises(PluginTrap):
        tight.process(grow)
    assert tight.process(OK) == ProcessingResultEmit(OK)


def test_trap_at_the_memory_limit_says_memory(
    processor_wat: Path, load: Loader, fast: bool
) -> None:
    """The fast path reads the memory after a trap: at the limit, the refused growth is why."""
    grow = DataRecord("grow", 1, b"x", [])  # 16 MiB more per record: the third is refused
    p = load(processor_wat, Limits(memory_bytes=34 << 20))
    assert p.process(grow) == ProcessingResultEmit(grow)
    assert p.process(grow) == ProcessingResultEmit(grow)
    with pytest.raises(PluginTrap) as info:
        p.process(grow)
    if fast:
        assert isinstance(info.value, PluginMemoryLimit)
        assert info.value.reason == "memory"
        assert "memory at the limit of 35651584 bytes" in str(info.value)
    else:  # wasmtime.component exposes no core memory to read: a plain trap
        assert info.value.reason == "trap"
    assert p.process(OK) == ProcessingResultEmit(OK)
    with pytest.raises(PluginTrap) as info:
        p.process(DataRecord("trap", 1, b"x", []))
    assert info.value.reason == "trap" and not isinstance(info.value, PluginMemoryLimit)


def test_closed_plugin_refuses_calls(processor_wat: Path, load: Loader) -> None:
    p = load(processor_wat, Limits())
    p.close()
    with pytest.raises(PluginClosed):
        p.process(OK)


def test_compiled_code_cache(processor_wat: Path, tmp_path: Path, fast: bool) -> None:
    def again() -> ProcessorPlugin:
        return ProcessorPlugin.load(
            processor_wat, logging=RecordingHost(), cache_dir=tmp_path, fast=fast
        )

    first = again()
    # the component (its types are checked on both paths) and, on the fast path, its module
    cached = sorted(tmp_path.glob("*.cwasm"))
    assert len(cached) == (2 if fast else 1)
    assert all(p.with_suffix(".sha256").is_file() for p in cached)  # a digest beside each
    stamps = [p.stat().st_mtime_ns for p in cached]
    second = again()
    assert [p.stat().st_mtime_ns for p in cached] == stamps  # served from the cache
    assert first.process(OK) == second.process(OK)
    for entry in cached:
        entry.write_bytes(b"not compiled code")
    assert again().process(OK) == ProcessingResultEmit(OK)  # a corrupt entry is recompiled
    assert all(p.stat().st_mtime_ns != s for p, s in zip(cached, stamps))


def test_prepared_component_gives_independent_instances(processor_wat: Path, fast: bool) -> None:
    prepared = ProcessorPlugin.prepare(
        processor_wat, logging=RecordingHost(), cache=False, fast=fast
    )
    a, b = ProcessorPlugin(prepared), ProcessorPlugin(prepared)
    with pytest.raises(PluginTrap):
        a.process(DataRecord("trap", 1, b"x", []))
    assert b.process(OK) == ProcessingResultEmit(OK)
