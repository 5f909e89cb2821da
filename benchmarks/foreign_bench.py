"""Per-call cost of the Python host on a guest built by another toolchain: the wit-bindgen
guest of tests/foreign (crates.io `wit-bindgen`, not witgen's SDK), called through the bindings
`witgen generate --lang python` makes, on the fast path (witgen's C-API runtime) against the
generic path (wasmtime-py's component API) in the same process.

Prints microseconds per call for each shape and the generic/fast ratio. Rounds alternate
between the paths so that background load hits both alike.

    python3 benchmarks/foreign_bench.py [--calls N]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Any, Callable

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.foreign import guests  # noqa: E402
from tests.foreign.test_rust_shapes import Host, big_value  # noqa: E402


def shapes(plugin: Any) -> dict[str, Callable[[], Any]]:
    from foreign_shapes import Err
    from foreign_shapes.foreign import Perms, Point

    text = "wörds " * 170  # ~1 KiB
    points = [Point(x=i, y=-i) for i in range(100)]
    big = big_value(5)
    strings = ["abc", "défg", "😀"] * 10
    many = (1, -2, 3, -4, 0.5, 1.5, "x", "s", b"\x01", 7, True, 8, -9, 10, -11, 2.5, "t", Err("e"))
    counter = plugin.shapes.counter("bench", 0)
    return {
        "u32 -> u32": lambda: plugin.u32_rt(7),
        "f32, f64 -> tuple": lambda: plugin.float_bits(0.5, 0.25),
        "string 1 KiB -> string": lambda: plugin.string_rt(text),
        "list<point> 100 -> list": lambda: plugin.list_points(points),
        "record of 22 kinds -> record": lambda: plugin.big_rt(big),
        "20 params (spilled) -> string": lambda: plugin.many_params(
            *many, Point(x=1, y=2), Perms.READ
        ),
        "list<string> via a host import": lambda: plugin.via_strings(strings),
        "resource method": lambda: counter.add(1),
    }


def measure(fns: dict[str, Callable[[], Any]], calls: int, rounds: int = 7) -> dict[str, float]:
    samples: dict[str, list[float]] = {name: [] for name in fns}
    per_round = max(1, calls // rounds)
    for _ in range(rounds):
        for name, fn in fns.items():
            start = time.perf_counter()
            for _ in range(per_round):
                fn()
            samples[name].append((time.perf_counter() - start) / per_round)
    return {name: statistics.median(v) for name, v in samples.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--calls", type=int, default=3000)
    args = parser.parse_args()
    component = guests.build("shapes")
    guests.bindings("shapes")
    from foreign_shapes import Foreign

    loaded = {}
    for label, fast in (("generic", False), ("fast", True)):
        host = Host()
        loaded[label] = Foreign.load(component, host=host, imports=host, cache=False, fast=fast)
    per_path = {label: shapes(p) for label, p in loaded.items()}
    names = list(per_path["fast"])
    interleaved = {f"{label}:{n}": per_path[label][n] for n in names for label in per_path}
    times = measure(interleaved, args.calls)
    print(f"wit-bindgen guest ({component.name}), {args.calls} calls per shape, us per call")
    print(f"{'shape':34} {'generic':>9} {'fast':>9} {'generic/fast':>13}")
    for n in names:
        g, f = times[f"generic:{n}"] * 1e6, times[f"fast:{n}"] * 1e6
        print(f"{n:34} {g:9.2f} {f:9.2f} {g / f:12.1f}x")


if __name__ == "__main__":
    main()
