"""Benchmark: lowering + lifting a batch of 1000 `data-record`s (wit/dataflare.wit).

Prints, for the same batch of values, the round-trip time of
  1. witgen's canonical-ABI layer (lower into a bytearray memory, lift back),
  2. witgen's layer over a real wasmtime guest memory and its `cabi_realloc`,
  3. wasmtime-py's own conversion: calling an echo component `echo(list<data-record>)` that
     hands the list straight back (Python values -> C values -> guest memory and back),
with records per second and ratios against wasmtime-py (the baseline, measured in this run).

    python3 benchmarks/abi_bench.py [--batch 1000] [--repeat 7]
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import Any, Callable

import wasmtime
import wasmtime.component as wc

from witgen import frontend
from witgen.abi import Layouts
from witgen.abi.codec import AbiContext
from witgen.abi.memory import BytesMemory, WasmtimeMemory
from witgen.abi.probe import generate_list_echo
from witgen.abi.wasmtime_values import WasmtimeValues

GUEST = """
(module
  (memory (export "memory") 64)
  (global $heap (mut i32) (i32.const 1024))
  (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32)
    (local $p i32)
    (local.set $p (i32.and (i32.add (global.get $heap) (i32.sub (local.get 2) (i32.const 1)))
                           (i32.sub (i32.const 0) (local.get 2))))
    (global.set $heap (i32.add (local.get $p) (local.get 3)))
    (local.get $p))
  (func (export "reset") (global.set $heap (i32.const 1024))))
"""


def make_batch(n: int) -> list[dict[str, Any]]:
    return [
        {
            "id": f"rec-{i:06d}",
            "timestamp": 1_700_000_000_000 + i,
            "payload": bytes(range(i % 64)) * 2,
            "metadata": [("source", "sensor-é"), ("seq", str(i))],
        }
        for i in range(n)
    ]


def best_of(repeat: int, fn: Callable[[], Any]) -> tuple[float, float]:
    """(best, median) wall time of `repeat` runs."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times), statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()

    resolve = frontend.load()
    layouts = Layouts(resolve)
    types_iface = next(i for i, it in enumerate(resolve.interfaces) if it.name == "types")
    record = resolve.interfaces[types_iface].types["data-record"]
    batch_type = next(
        i
        for i, t in enumerate(resolve.types)
        if t.name is None and getattr(t.kind, "type", None) == record
    )
    batch = make_batch(args.batch)

    # 1. our layer, bytearray memory (one context, a fresh memory per round trip)
    cx_bytes = AbiContext(layouts)

    def ours_bytes() -> None:
        cx_bytes.memory = BytesMemory(1 << 20)
        flat = cx_bytes.lower_flat(batch, batch_type)
        assert cx_bytes.lift_flat(flat, batch_type) == batch

    lowered = AbiContext(layouts, BytesMemory(1 << 20))
    lowered_flat = lowered.lower_flat(batch, batch_type)

    def ours_lower_only() -> None:
        cx_bytes.memory = BytesMemory(1 << 20)
        cx_bytes.lower_flat(batch, batch_type)

    def ours_lift_only() -> None:
        lowered.lift_flat(lowered_flat, batch_type)

    # 2. our layer, a wasmtime guest's memory and cabi_realloc
    engine = wasmtime.Engine()
    store = wasmtime.Store(engine)
    instance = wasmtime.Instance(store, wasmtime.Module(engine, GUEST), [])
    guest_memory = WasmtimeMemory.from_instance(store, instance)
    reset: Any = instance.exports(store)["reset"]
    cx_guest = AbiContext(layouts, guest_memory)

    def ours_wasmtime_memory() -> None:
        reset(store)
        flat = cx_guest.lower_flat(batch, batch_type)
        assert cx_guest.lift_flat(flat, batch_type) == batch

    # 3. wasmtime-py's own conversion through an echo component
    component = wc.Component(engine, generate_list_echo(layouts, record))
    cstore = wasmtime.Store(engine)
    echo_instance = wc.Linker(engine).instantiate(cstore, component)
    echo: Any = echo_instance.get_func(cstore, "echo")
    echo_reset: Any = echo_instance.get_func(cstore, "reset")
    conv = WasmtimeValues(resolve)
    wbatch = [conv.to_wasmtime(r, record) for r in batch]

    def wasmtime_echo() -> None:
        echo_reset(cstore)
        out = echo(cstore, wbatch)
        assert len(out) == len(wbatch)

    def wasmtime_echo_with_our_model() -> None:
        echo_reset(cstore)
        out = echo(cstore, [conv.to_wasmtime(r, record) for r in batch])
        assert [conv.from_wasmtime(r, record) for r in out] == batch

    for fn in (ours_bytes, ours_wasmtime_memory, wasmtime_echo, wasmtime_echo_with_our_model):
        fn()  # warm up and check the round trip is exact

    results = [
        ("witgen lower+lift, bytearray memory", best_of(args.repeat, ours_bytes)),
        ("  of which lower", best_of(args.repeat, ours_lower_only)),
        ("  of which lift", best_of(args.repeat, ours_lift_only)),
        ("witgen lower+lift, wasmtime guest memory", best_of(args.repeat, ours_wasmtime_memory)),
        ("wasmtime-py echo component (baseline)", best_of(args.repeat, wasmtime_echo)),
        (
            "wasmtime-py echo + conversion to/from witgen values",
            best_of(args.repeat, wasmtime_echo_with_our_model),
        ),
    ]
    baseline = next(r[1][0] for r in results if "baseline" in r[0])
    n = args.batch
    print(f"round trip of {n} data-records (best of {args.repeat}; median in brackets)")
    for label, (best, median) in results:
        print(
            f"  {label:<52} {best * 1e3:8.2f} ms [{median * 1e3:8.2f}]  "
            f"{n / best:>10,.0f} records/s  x{baseline / best:5.2f} vs wasmtime-py"
        )


if __name__ == "__main__":
    main()
