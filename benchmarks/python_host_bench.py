"""Benchmarks of the generated Python host bindings: generic path vs fast path, side by side.

    python3 benchmarks/python_host_bench.py [--rounds N] [--skip-rust]

Prints, in one run on the same plugins:
  * records/s through `process-batch` (batches of 1000 records, 64-byte payloads) on the
    generic `wasmtime.component` path and on the generated fast path, for the hand-written
    processor (pure conversion cost) and the example Rust processor (which also calls two
    host imports per record);
  * per-call overhead of a `func(u32) -> u32`, against a bare wasmtime-py component call;
  * load time from the compiled cache, instantiate time, and memory per instance.
Numbers only (and ratios against the generic path measured in the same process); nothing is
asserted. The machine's load shows in the numbers: compare ratios, not absolutes.
"""

from __future__ import annotations

import argparse
import gc
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "generated" / "python")]
sys.pycache_prefix = str(REPO / "target" / "pycache")

import wasmtime  # noqa: E402
import wasmtime.component as wc  # noqa: E402

from dataflare_core import ProcessorPlugin  # noqa: E402
from dataflare_core.types import DataRecord  # noqa: E402
from tests.python_host.conftest import RecordingHost  # noqa: E402

WAT_PROCESSOR = REPO / "tests" / "python_host" / "guests" / "processor.wat"


def best(fn: Callable[[], Any], rounds: int) -> float:
    """The fastest of `rounds` runs, in seconds (the least disturbed by other processes)."""
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def batch(n: int = 1000) -> list[DataRecord]:
    return [
        DataRecord(f"rec-{i}", 1_700_000_000_000 + i, bytes(64), [("index", str(i))])
        for i in range(n)
    ]


def records_per_second(component: Path, rounds: int) -> dict[str, float]:
    records = batch()
    out = {}
    for fast in (False, True):
        host = RecordingHost()
        plugin = ProcessorPlugin.load(
            component, logging=host, metrics=host, config=host, cache=False, fast=fast
        )
        plugin.process_batch(records)  # warm up
        out[plugin.prepared.mode] = len(records) / best(
            lambda: plugin.process_batch(records), rounds
        )
    return out


def per_call_u32(rounds: int) -> dict[str, float]:
    from tests.python_host.wat_guests import build_echo

    component = build_echo()
    from test_echo import EchoWorld

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
    for fast in (False, True):
        world = EchoWorld.load(component, cache=False, fast=fast)

        def typed() -> None:
            for i in range(n):
                world.add_one(i)

        out[world.prepared.mode] = best(typed, rounds) / n
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
            f"   x{ratio:.1f}"
        )

    print("== per-call overhead, func(u32) -> u32")
    calls = per_call_u32(args.rounds)
    base = calls["component"]
    for name, seconds in calls.items():
        print(f"   {name:<28} {seconds * 1e6:>8.2f} us   ({base / seconds:.1f}x the generic path)")

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
