"""The host survives every fault with a typed error, the same on the generic and fast paths:
Ctrl-C and SystemExit (inside a guest or a host import), re-entering an instance from one of
its host imports, a misaligned `cabi_realloc`, and invalid `Limits`."""

from __future__ import annotations

import math
import os
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from tests.python_host.conftest import RecordingHost
from dataflare_core import Limits, PluginTimeout, PluginTrap, ProcessorPlugin
from dataflare_core.types import DataRecord, ProcessingResultEmit

OK = DataRecord("fine", 1, b"x", [])
LOOP = DataRecord("loop", 1, b"x", [])


@pytest.fixture(params=[False, True], ids=["generic", "fast"])
def fast(request: pytest.FixtureRequest) -> bool:
    return bool(request.param)


def load(wat: Path, fast: bool, host: Any = None, limits: Limits | None = None) -> ProcessorPlugin:
    plugin = ProcessorPlugin.load(
        wat, logging=host or RecordingHost(), limits=limits or Limits(), cache=False, fast=fast
    )
    assert plugin.prepared.mode == ("core" if fast else "component")
    return plugin


class Raising(RecordingHost):
    def __init__(self, exc: BaseException) -> None:
        super().__init__()
        self.exc = exc

    def log(self, level: Any, message: str) -> None:
        raise self.exc


@pytest.mark.parametrize("exc", [KeyboardInterrupt(), SystemExit(3)], ids=["ctrl-c", "exit"])
def test_base_exceptions_in_a_host_import_propagate_as_themselves(
    processor_wat: Path, fast: bool, exc: BaseException
) -> None:
    plugin = load(processor_wat, fast, Raising(exc))
    with pytest.raises(type(exc)) as info:
        plugin.info()  # `info` logs through the host
    assert info.value is exc
    assert plugin.process(OK) == ProcessingResultEmit(OK)  # a fresh instance serves on


def _interrupt_main_after(seconds: float) -> threading.Timer:
    main = threading.main_thread().ident
    assert main is not None
    timer = threading.Timer(seconds, signal.pthread_kill, (main, signal.SIGINT))
    timer.start()
    return timer


@pytest.mark.parametrize("limits", [Limits(), Limits(timeout=60.0), Limits(fuel=10**15)])
def test_ctrl_c_interrupts_a_running_guest(
    processor_wat: Path, fast: bool, limits: Limits, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert threading.current_thread() is threading.main_thread()
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    plugin = load(processor_wat, fast, limits=limits)
    # someone else's unraisable hook installed after the bindings were imported
    ignored: list[Any] = []
    monkeypatch.setattr(sys, "unraisablehook", ignored.append)
    timer = _interrupt_main_after(0.3)
    started = time.monotonic()
    try:
        with pytest.raises(KeyboardInterrupt):
            plugin.process(LOOP)  # spins forever
    finally:
        timer.cancel()
    assert time.monotonic() - started < 10
    assert ignored == []  # nothing "ignored on calling ctypes callback function"
    assert plugin.process(OK) == ProcessingResultEmit(OK)


def test_the_epoch_ticker_runs_only_while_a_call_runs(processor_wat: Path, fast: bool) -> None:
    plugin = load(processor_wat, fast)
    plugin.process(OK)
    instance: Any = plugin._instance
    ticker = instance.prepared.ticker if not fast else instance.core.engine.ticker
    assert ticker.running == []  # nothing in progress: the thread only counts idle ticks


class Reentrant(RecordingHost):
    plugin: ProcessorPlugin

    def log(self, level: Any, message: str) -> None:
        self.plugin.process(OK)  # calls back into the instance that is calling us


def test_reentering_an_instance_from_its_host_import_traps(processor_wat: Path, fast: bool) -> None:
    host = Reentrant()
    plugin = load(processor_wat, fast, host)
    host.plugin = plugin
    with pytest.raises(PluginTrap, match="re-entered"):
        plugin.info()
    assert plugin.process(OK) == ProcessingResultEmit(OK)


def test_another_instance_may_be_called_from_a_host_import(processor_wat: Path, fast: bool) -> None:
    host = Reentrant()
    plugin = load(processor_wat, fast, host)
    host.plugin = load(processor_wat, fast)
    assert plugin.info().name


def test_misaligned_pointer_from_cabi_realloc_traps(
    processor_wat: Path, tmp_path: Path, fast: bool
) -> None:
    text = processor_wat.read_text(encoding="utf-8")
    honest = """(if (local.get $old_size) (then (memory.copy (local.get $new) (local.get $old) (local.get $old_size))))
      (local.get $new))"""
    assert honest in text
    skewed = tmp_path / "skewed.wat"
    skewed.write_text(
        text.replace(
            honest,
            honest.replace(
                "(local.get $new))",
                "(i32.add (local.get $new) (i32.gt_u (local.get $align) (i32.const 1))))",
            ),
        ),
        encoding="utf-8",
    )
    plugin = load(skewed, fast)
    with pytest.raises(PluginTrap):
        plugin.process_batch([OK])  # the list of records is allocated with align 8
    assert plugin.info().name  # nothing for the host to allocate: the plugin still works


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"fuel": -1}, "Limits.fuel must be between 1 and 2**64-1"),
        ({"fuel": 0}, "Limits.fuel must be between 1 and 2**64-1"),
        ({"fuel": 2**64}, "Limits.fuel must be between 1 and 2**64-1"),
        ({"fuel": 1.5}, "Limits.fuel must be an int or None"),
        ({"memory_bytes": -1}, "Limits.memory_bytes must be between 1 and 2**63-1"),
        ({"memory_bytes": 2**63}, "Limits.memory_bytes must be between 1 and 2**63-1"),
        ({"memory_bytes": True}, "Limits.memory_bytes must be an int or None"),
        ({"timeout": math.nan}, "Limits.timeout must be more than 0"),
        ({"timeout": math.inf}, "Limits.timeout must be more than 0"),
        ({"timeout": 1e300}, "Limits.timeout must be more than 0"),
        ({"timeout": 0}, "Limits.timeout must be more than 0"),
        ({"timeout": -2.0}, "Limits.timeout must be more than 0"),
        ({"timeout": "5"}, "Limits.timeout must be seconds or None"),
    ],
)
def test_invalid_limits_are_refused_at_construction(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError) as info:
        Limits(**kwargs)
    assert str(info.value).startswith(message)


def test_valid_limits_at_the_edges(processor_wat: Path, fast: bool) -> None:
    plugin = load(processor_wat, fast, limits=Limits(fuel=2**64 - 1, timeout=365 * 24 * 3600.0))
    assert plugin.process(OK) == ProcessingResultEmit(OK)
    short = load(processor_wat, fast, limits=Limits(timeout=0.001))
    try:  # a quick call fits in 1 ms, unless the machine is busy: then it is a typed timeout
        assert short.process(OK) == ProcessingResultEmit(OK)
    except PluginTimeout:
        pass


def test_sigint_handler_is_left_alone(processor_wat: Path) -> None:
    before = signal.getsignal(signal.SIGINT)
    load(processor_wat, True).process(OK)
    assert signal.getsignal(signal.SIGINT) is before
    assert os.getpid() > 0
