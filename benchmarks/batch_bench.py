"""The Arrow batch codec (`_batch.py`) against today's typed fast path, in the same run.

    python3 benchmarks/batch_bench.py [--rounds N] [--records N] [--skip-rust] [--skip-ts]

Prints, for batches of `--records` data-records (64-byte payloads, two metadata pairs):
  * `process-batch` on the hand-written WAT processor (pure conversion; its guest code only
    copies): records/s for the whole call, and split into lowering (Python until the core
    call starts), the guest, and lifting (after the core call until post-return), typed vs
    Arrow, with the ratio;
  * the same for the example Rust processor and filter (which call host imports per record);
  * the TypeScript example processor (componentize-js) on the generic path and on the fast
    path (WASI 0.2 served by `_wasi.py`), with the guest's own time per record;
  * the issue's targets: >= 2M records/s each way, >= 10x today's fast path.
Numbers only; nothing is asserted. Other processes share the machine: compare ratios.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any, Callable

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "generated" / "python")]
sys.pycache_prefix = str(REPO / "target" / "pycache")

import pyarrow as pa  # noqa: E402

from dataflare_core import FilterPlugin, ProcessorPlugin, _abi, _batch, _core  # noqa: E402
from dataflare_core.types import DataRecord  # noqa: E402
from tests.python_host.conftest import RecordingHost  # noqa: E402

WAT_PROCESSOR = REPO / "tests" / "python_host" / "guests" / "processor.wat"
META = pa.list_(pa.struct([("key", pa.string()), ("value", pa.string())]))
RESULTS: list[tuple[str, str, str, str]] = []


class Phases:
    """Splits calls into lowering / guest / lifting by timestamping the core call."""

    def __init__(self) -> None:
        self.marks: list[float] = []
        self._invoke = _core.CoreInstance.invoke
        self._post = _core.CoreInstance.post_return

    def __enter__(self) -> Phases:
        marks = self.marks
        invoke, post = self._invoke, self._post

        def timed_invoke(rt: Any, name: str, args: Any) -> Any:
            marks.append(time.perf_counter())
            try:
                return invoke(rt, name, args)
            finally:
                marks.append(time.perf_counter())

        def timed_post(rt: Any, name: str, res: Any) -> None:
            marks.append(time.perf_counter())
            post(rt, name, res)

        _core.CoreInstance.invoke = timed_invoke  # type: ignore[method-assign]
        _core.CoreInstance.post_return = timed_post  # type: ignore[method-assign]
        return self

    def __exit__(self, *_: Any) -> None:
        _core.CoreInstance.invoke = self._invoke  # type: ignore[method-assign]
        _core.CoreInstance.post_return = self._post  # type: ignore[method-assign]

    def run(self, fn: Callable[[], Any], rounds: int) -> tuple[float, float, float, float]:
        """Best (total, lower, guest, lift) seconds over `rounds` calls."""
        best: tuple[float, float, float, float] | None = None
        for _ in range(rounds):
            self.marks.clear()
            start = time.perf_counter()
            fn()
            end = time.perf_counter()
            invoke, returned, post = self.marks[-3:]
            got = (end - start, invoke - start, returned - invoke, post - returned)
            if best is None or got[0] < best[0]:
                best = got
        assert best is not None
        return best


def records(n: int) -> list[DataRecord]:
    return [
        DataRecord(
            f"rec-{i}",
            1_700_000_000_000 + i,
            bytes([i % 251]) * 64,
            [("index", str(i)), ("source", "bench")],
        )
        for i in range(n)
    ]


def to_arrow(recs: list[DataRecord]) -> Any:
    return pa.RecordBatch.from_arrays(
        [
            pa.array([r.id for r in recs], pa.string()),
            pa.array([r.timestamp for r in recs], pa.int64()),
            pa.array([r.payload for r in recs], pa.binary()),
            pa.array([[{"key": k, "value": v} for k, v in r.metadata] for r in recs], META),
        ],
        names=["id", "timestamp", "payload", "metadata"],
    )


def compare(
    label: str, typed: Callable[[], Any], arrow: Callable[[], Any], n: int, rounds: int
) -> dict[str, float]:
    with Phases() as phases:
        t = phases.run(typed, rounds)
        a = phases.run(arrow, rounds)
    print(f"{label}  ({n} records per call)")
    print(f"  {'':10} {'typed fast path':>18} {'Arrow batch':>18} {'ratio':>8}")
    out = {}
    for i, name in enumerate(("whole call", "lowering", "guest", "lifting")):
        rt, ra = n / t[i], n / a[i]
        print(f"  {name:10} {rt:14,.0f} r/s {ra:14,.0f} r/s {ra / rt:7.1f}x")
        out[name] = ra
        out[name + " ratio"] = ra / rt
    return out


def typescript(recs: list[DataRecord], batch: Any, io: dict[str, Any], rounds: int) -> None:
    """The TypeScript example processor (componentize-js): generic path vs fast path (its WASI
    0.2 imports served by `_wasi.py`), typed and Arrow, with the guest's own share."""
    from witgen.author import builder
    from witgen.author.project import Project
    from witgen.diagnostics import WitgenError

    try:
        component = builder.build(Project.load(REPO / "examples/typescript/processor")).component
    except WitgenError as exc:
        print(f"the TypeScript example cannot be built here ({exc}); skipping it")
        return
    cache = REPO / "target" / "batch-bench-cache"
    recs = recs[:200]  # the generic path needs ~0.5 ms a record
    batch = batch.slice(0, len(recs))
    n = len(recs)
    generic = ProcessorPlugin.load(component, fast=False, cache_dir=cache, **io)
    fast = ProcessorPlugin.load(component, fast=True, cache_dir=cache, **io)
    assert fast.processor.process_batch(recs) == generic.processor.process_batch(recs)
    slow = min(_timed(lambda: generic.processor.process_batch(recs)) for _ in range(3))
    sig = _abi.PROCESSOR__PROCESS_BATCH
    with Phases() as phases:
        typed = phases.run(lambda: fast.processor.process_batch(recs), rounds)
        arrow = phases.run(lambda: _batch.call(fast._instance, sig, batch), rounds)
    print(f"process-batch, TypeScript example processor (componentize-js)  ({n} records per call)")
    print(f"  generic path        {n / slow:12,.0f} r/s")
    for label, got in (("fast path, typed", typed), ("fast path, Arrow", arrow)):
        print(
            f"  {label:<19} {n / got[0]:12,.0f} r/s   ratio {slow / got[0]:5.1f}x"
            f"   guest {got[2] / n * 1e6:6.1f} us/record, host {(got[0] - got[2]) / n * 1e6:5.1f}"
        )
    ratio = slow / typed[0]
    RESULTS.append(("TypeScript, fast vs generic", f"{ratio:.1f}x", ">= 10x", ratio >= 10))
    bound = (slow / n) / (typed[2] / n)
    print(
        f"  the guest alone (StarlingMonkey running the plugin's JS) takes"
        f" {typed[2] / n * 1e6:.0f} us a record: no host can pass {bound:.1f}x the generic path"
    )


def _timed(fn: Callable[[], Any]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--records", type=int, default=1000)
    parser.add_argument("--skip-rust", action="store_true")
    parser.add_argument("--skip-ts", action="store_true")
    args = parser.parse_args()
    n = args.records
    recs = records(n)
    batch = to_arrow(recs)
    host = RecordingHost()
    io = dict(logging=host, metrics=host, config=host)
    proc = ProcessorPlugin.load(WAT_PROCESSOR, fast=True, **io)
    sig = _abi.PROCESSOR__PROCESS_BATCH
    got = compare(
        "process-batch, hand-written WAT processor (pure conversion)",
        lambda: proc.processor.process_batch(recs),
        lambda: _batch.call(proc._instance, sig, batch),
        n,
        args.rounds,
    )
    for way, key in (("lowering", "lowering"), ("lifting", "lifting")):
        RESULTS.append(
            (f"{way} (WAT processor)", f"{got[key]:,.0f} r/s", ">= 2M r/s", got[key] >= 2e6)
        )
        RESULTS.append(
            (
                f"{way} vs today's fast path",
                f"{got[key + ' ratio']:.1f}x",
                ">= 10x",
                got[key + " ratio"] >= 10,
            )
        )
    if not args.skip_rust:
        from witgen.toolchains import rust

        if rust.missing_tools():
            print("the Rust example plugins cannot be built here; skipping them")
        else:
            comps = rust.build_examples()
            proc = ProcessorPlugin.load(comps["processor"], fast=True, **io)
            compare(
                "process-batch, example Rust processor (2 host imports per record)",
                lambda: proc.processor.process_batch(recs),
                lambda: _batch.call(proc._instance, sig, batch),
                n,
                args.rounds,
            )
            flt = FilterPlugin.load(comps["filter"], fast=True, **io)
            compare(
                "keep-batch, example Rust filter (1 host import per record)",
                lambda: flt.filter.keep_batch(recs),
                lambda: _batch.call(flt._instance, _abi.FILTER__KEEP_BATCH, batch),
                n,
                args.rounds,
            )
    if not args.skip_ts:
        typescript(recs, batch, io, args.rounds)
    print()
    print(f"{'target':<36} {'measured':>16} {'goal':>12}  verdict")
    for name, measured, goal, met in RESULTS:
        print(f"{name:<36} {measured:>16} {goal:>12}  {'met' if met else 'MISSED'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
