"""Benchmarks of the generated Python host bindings: generic path vs fast path, side by side.

    python3 benchmarks/python_host_bench.py [--rounds N] [--skip-rust]

Prints, in one run on the same plugins:
  * records/s through `process-batch` (batches of 1000 records, 64-byte payloads) on the
    generic `wasmtime.component` path and on the generated fast path, for the hand-written
    processor (pure conversion cost) and the example Rust processor (which also calls two
    host imports per record);
  * per-call overhead of a `func(u32) -> u32`, against a bare wasmtime-py component call, the
    route typed methods took before exports of flat scalars were called without generated code
    (`CoreInstance.call`), the previous fast path's call machinery (`_old_calls.py`, same
    plugin, same run) and the bare ctypes C call (the floor of a pure-Python call path);
  * the cost of one host import (a Python method the guest calls in a loop), now and with the
    previous fast path's import callback;
  * load time from the compiled cache, instantiate time, and memory per instance.
Numbers only (and ratios against the generic path measured in the same process); nothing is
asserted. The machine's load shows in the numbers: compare ratios, not absolutes.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import gc
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable, cast

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "generated" / "python")]
sys.pycache_prefix = str(REPO / "target" / "pycache")

import wasmtime  # noqa: E402
import wasmtime.component as wc  # noqa: E402

from dataflare_core import ProcessorPlugin  # noqa: E402
from dataflare_core.types import DataRecord  # noqa: E402
from benchmarks._old_calls import previous_fast_path  # noqa: E402
from tests.python_host.conftest import RecordingHost  # noqa: E402

WAT_PROCESSOR = REPO / "tests" / "python_host" / "guests" / "processor.wat"
GUESTS = REPO / "benchmarks" / "guests"


def best(fn: Callable[[], Any], rounds: int) -> float:
    """The fastest of `rounds` runs, in seconds of this thread's CPU time (everything measured
    here runs on the calling thread; CPU time is what other processes on a shared machine
    disturb least), with the cyclic GC paused as `timeit` does."""
    return alternating({"": fn}, rounds)[""]


def alternating(fns: dict[str, Callable[[], Any]], rounds: int) -> dict[str, float]:
    """`best` of each function, the functions taking turns round by round (an A/B under the
    same drift of the machine)."""
    times: dict[str, list[float]] = {name: [] for name in fns}
    enabled = gc.isenabled()
    gc.disable()
    try:
        for _ in range(rounds):
            for name, fn in fns.items():
                start = time.thread_time()
                fn()
                times[name].append(time.thread_time() - start)
    finally:
        if enabled:
            gc.enable()
    return {name: min(t) for name, t in times.items()}


def batch(n: int = 1000) -> list[DataRecord]:
    return [
        DataRecord(f"rec-{i}", 1_700_000_000_000 + i, bytes(64), [("index", str(i))])
        for i in range(n)
    ]


def records_per_second(component: Path, rounds: int) -> dict[str, float]:
    from dataflare_core import _core as core_module

    records = batch()
    plugins = {}
    for mode in ("component", "core", "previous"):
        host = RecordingHost()
        with previous_fast_path(core_module) if mode == "previous" else contextlib.nullcontext():
            plugin = ProcessorPlugin.load(
                component,
                logging=host,
                metrics=host,
                config=host,
                cache=False,
                fast=mode != "component",
            )
        plugin.process_batch(records)  # warm up
        plugins[mode] = plugin

    def previous() -> None:
        with previous_fast_path(core_module):
            plugins["previous"].process_batch(records)

    turns = {
        "core": functools.partial(plugins["core"].process_batch, records),
        "previous": previous,
    }
    out = {mode: len(records) / s for mode, s in alternating(turns, rounds).items()}
    out["component"] = len(records) / best(lambda: plugins["component"].process_batch(records), 2)
    return out


def per_call_u32(rounds: int) -> dict[str, float]:
    from tests.python_host.wat_guests import build_echo

    component = build_echo()
    from test_echo import EchoWorld
    from test_echo import _core as echo_core

    n = 2000
    out: dict[str, float] = {}
    # bare wasmtime-py: component call with the exported function looked up once
    engine = wasmtime.Engine()
    comp = wc.Component(engine, component.read_bytes())
    store = wasmtime.Store(engine)
    inst = wc.Linker(engine).instantiate(store, comp)
    func = inst.get_func(store, "add-one")
    assert func is not None

    def bare() -> None:
        for i in range(n):
            func(store, i)

    out["wasmtime-py bare"] = best(bare, rounds) / n
    generic = EchoWorld.load(component, cache=False, fast=False)
    out["component"] = best(lambda: [generic.add_one(i) for i in range(n // 10)], rounds) / (
        n // 10
    )
    world = EchoWorld.load(component, cache=False, fast=True)
    with previous_fast_path(echo_core):
        old = EchoWorld.load(component, cache=False, fast=True)

    def typed(w: Any) -> Callable[[], None]:
        def loop() -> None:
            add_one = w.add_one
            for i in range(n):
                add_one(i)

        return loop

    # the previous machinery is swapped in (class attributes) only while its turn runs
    def previous() -> None:
        with previous_fast_path(echo_core):
            typed(old)()

    # what a typed method did before exports of flat scalars had their own path: `call`, the
    # generated export function, `invoke` (same instance, same run)
    instance = world._instance

    def through_call() -> None:
        for i in range(n):
            cast(int, instance.call(None, "add-one", (i,)))

    both = alternating(
        {
            "core": typed(world),
            "core, through call": through_call,
            "core, previous call path": previous,
        },
        rounds,
    )
    out.update({name: seconds / n for name, seconds in both.items()})
    out["bare C call (ctypes)"] = bare_c_call(world, rounds)
    return out


def bare_c_call(world: Any, rounds: int, n: int = 20000) -> float:
    """One `wasmtime_func_call_unchecked` of add-one through ctypes, nothing else: the floor of
    any pure-Python call path (a call's ctypes overhead is ~0.25 us of it here)."""
    raw = world._instance._funcs["add-one"]
    c_call, c_args = raw.c_call, raw.c_args

    def loop() -> None:
        for _ in range(n):
            c_call(*c_args)

    return best(loop, rounds) / n


def build_imports_guest() -> Path:
    """The host-import guest (`benchmarks/guests/imports.*`), bindings in package `bench_imports`."""
    from tests.python_host.wat_guests import build_guest

    return build_guest(GUESTS / "imports.wit", GUESTS / "imports.wat", "caller", "bench_imports")


class TickHost:
    def tick(self, x: int) -> int:
        return (x + 1) & 0xFFFFFFFF


def host_import_cost(rounds: int) -> dict[str, float]:
    """Seconds per host import (a u32 -> u32 Python function the guest calls in a loop)."""
    component = build_imports_guest()
    from bench_imports import Caller
    from bench_imports import _core as imports_core

    n = 20000
    generic = Caller.load(component, host=TickHost(), cache=False, fast=False)
    out = {"component": best(lambda: generic.call_host(n // 10), rounds) / (n // 10)}
    plugin = Caller.load(component, host=TickHost(), cache=False, fast=True)
    assert plugin.prepared.mode == "core" and plugin.call_host(n) == n
    with previous_fast_path(imports_core):
        old = Caller.load(component, host=TickHost(), cache=False, fast=True)

    def previous() -> None:
        with previous_fast_path(imports_core):
            old.call_host(n)

    turns = {"core": lambda: plugin.call_host(n), "core, previous call path": previous}
    out.update({name: seconds / n for name, seconds in alternating(turns, rounds).items()})
    return out


def load_and_instantiate(component: Path, rounds: int) -> dict[str, dict[str, float]]:
    host = RecordingHost()
    out: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as cache:
        for fast in (False, True):
            kwargs: dict[str, Any] = dict(
                logging=host, metrics=host, config=host, cache_dir=cache, fast=fast
            )
            cold_start = time.perf_counter()
            prepared = ProcessorPlugin.prepare(component, **kwargs)
            cold = time.perf_counter() - cold_start
            warm = best(lambda: ProcessorPlugin.prepare(component, **kwargs), rounds)
            inst = best(lambda: ProcessorPlugin(prepared), rounds * 5)
            sample = ProcessorPlugin(prepared)
            sample.info()
            linear = getattr(sample._instance, "memory_size", lambda: float("nan"))()
            out[prepared.mode] = {
                "compile (cold)": cold,
                "load from cache": warm,
                "instantiate": inst,
                "memory per instance": memory_per_instance(prepared),
                "linear memory": linear,
            }
    return out


def rss() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096


def memory_per_instance(prepared: Any, count: int = 50) -> float:
    gc.collect()
    before = rss()
    keep = [ProcessorPlugin(prepared) for _ in range(count)]
    for p in keep:
        p.info()  # touch the instance so its memory is really mapped
    gc.collect()
    return (rss() - before) / count


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--skip-rust", action="store_true", help="skip the Rust example plugin")
    args = parser.parse_args()

    print("== records/s through process-batch (batches of 1000, 64-byte payloads)")
    plugins = {"hand-written WAT processor": WAT_PROCESSOR}
    if not args.skip_rust:
        from witgen.toolchains import rust

        if rust.missing_tools():
            print(f"   (Rust processor skipped: missing {', '.join(rust.missing_tools())})")
        else:
            plugins["example Rust processor"] = rust.build_example("processor")
    for name, path in plugins.items():
        rps = records_per_second(path, args.rounds)
        ratio = rps["core"] / rps["component"]
        print(
            f"   {name:<28} generic {rps['component']:>10,.0f}/s   fast {rps['core']:>10,.0f}/s"
            f"   x{ratio:.1f}   previous fast path {rps['previous']:>10,.0f}/s"
            f" (now x{rps['core'] / rps['previous']:.2f})"
        )

    print("== per-call overhead, func(u32) -> u32 (target <= 0.6 us on the fast path)")
    calls = per_call_u32(args.rounds)
    base = calls["component"]
    previous = calls["core, previous call path"]
    for name, seconds in calls.items():
        print(
            f"   {name:<28} {seconds * 1e6:>8.2f} us   ({base / seconds:>5.1f}x the generic path,"
            f" {previous / seconds:>4.2f}x the previous fast path)"
        )

    print("== host import, u32 -> u32 served by a Python method (per import)")
    imports = host_import_cost(args.rounds)
    previous = imports["core, previous call path"]
    for name, seconds in imports.items():
        print(
            f"   {name:<28} {seconds * 1e6:>8.2f} us   ({previous / seconds:>4.2f}x the previous"
            " fast path)"
        )

    for name, path in plugins.items():
        print(f"== load, instantiate, memory ({name})")
        load_report(load_and_instantiate(path, args.rounds))
    return 0


def load_report(stats: dict[str, dict[str, float]]) -> None:
    for key in ("compile (cold)", "load from cache", "instantiate"):
        g, f = stats["component"][key], stats["core"][key]
        print(f"   {key:<28} generic {g * 1e3:>8.3f} ms   fast {f * 1e3:>8.3f} ms")
    g, f = (stats[m]["memory per instance"] for m in ("component", "core"))
    print(
        f"   {'memory per instance (RSS)':<28} generic {g / 1024:>8.0f} KiB  fast {f / 1024:>8.0f} KiB"
    )
    linear = stats["core"]["linear memory"]
    print(f"   {'guest linear memory':<28} {linear / 1024:>17.0f} KiB (reserved, touched lazily)")


if __name__ == "__main__":
    raise SystemExit(main())
