"""The Arrow batch codec (`_batch.py`) against today's typed fast path, in the same run.

    python3 benchmarks/batch_bench.py [--rounds N] [--records N] [--skip-rust] [--skip-ts]
        [--skip-pipeline] [--pipeline-records N]

Prints, for batches of `--records` data-records (64-byte payloads, two metadata pairs):
  * `process-batch` on the hand-written WAT processor (pure conversion; its guest code only
    copies): records/s for the whole call, and split into lowering (Python until the core
    call starts), the guest, and lifting (after the core call until post-return), typed vs
    Arrow, with the ratio;
  * the same for the example Rust processor and filter (which call host imports per record);
  * the TypeScript example processor (componentize-js) on the generic path and on the fast
    path (WASI 0.2 served by `_wasi.py`), with the guest's own time per record;
  * `witgen run` over the shipped example plugins (source -> processor -> filter -> transformer
    -> destination): typed records between stages, Arrow batches, fused stages; time per stage,
    host imports per record and their cost, and what the run would need without them;
  * the issue's targets: >= 2M records/s each way, >= 10x today's fast path, 1M records/s
    through the pipeline.
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


PIPELINE_KINDS = ("source", "processor", "filter", "transformer", "destination")
HOST_METHODS = ("log", "enabled", "counter_add", "histogram_record", "get", "get_int", "get_all")


def pipeline(count: int, rounds: int) -> None:
    """`witgen run` over the shipped example Rust plugins (source -> processor -> filter ->
    transformer -> destination, batches of 1000): typed records between stages (the fast path
    before the batch codec), Arrow batches between stages, and fused stages, in the same run;
    then where the time goes (per stage, host imports) and the floor."""
    import tempfile

    from witgen.pipeline import contract as contract_mod
    from witgen.pipeline import spec as spec_mod
    from witgen.pipeline.runtime import HostServices, Pipeline
    from witgen.toolchains import rust

    if rust.missing_tools():
        print("the Rust example plugins cannot be built here; skipping the pipeline")
        return
    comps = rust.build_examples()
    tmp = Path(tempfile.mkdtemp())
    text = "batch_size = 1000\n"
    for kind in PIPELINE_KINDS:
        text += f'[[stage]]\nkind = "{kind}"\ncomponent = "{comps[kind]}"\n'
        if kind == "source":
            text += f'config = {{ "source.count" = "{count}" }}\n'
    path = tmp / "pipeline.toml"
    path.write_text(text)
    contract = contract_mod.load(None)
    modes = {
        "typed records between stages": dict(arrow=False, fuse=False),
        "Arrow batches between stages": dict(arrow=None, fuse=False),
        "fused stages (fuse = true)": dict(arrow=None, fuse=True),
    }
    rates: dict[str, float] = {}
    last: dict[str, Any] = {}
    for _ in range(max(2, rounds // 2)):  # alternating: the machine's load hits every mode
        for name, how in modes.items():
            p = Pipeline(spec_mod.load(path), contract, cache_dir=tmp / "cache", hot_reload=False)
            p.arrow, p.fuse = how["arrow"], how["fuse"]
            p.load()
            acc = p.run()
            assert acc.balanced and p.failure is None, acc.line()
            if p.records_per_second > rates.get(name, 0.0):
                rates[name] = p.records_per_second
                last[name] = p  # the best run's own stage metrics
    base = rates["typed records between stages"]
    print(f"witgen run, {' -> '.join(PIPELINE_KINDS)} ({count} records, example Rust plugins)")
    for name, rate in rates.items():
        print(f"  {name:<30} {rate:12,.0f} r/s   ratio {rate / base:5.2f}x")
    fused = rates["fused stages (fuse = true)"]
    RESULTS.append(("pipeline, fused (witgen run)", f"{fused:,.0f} r/s", ">= 1M r/s", fused >= 1e6))

    # where the time goes: per stage (the fused run), host imports per record and their cost
    calls: dict[tuple[str, str], int] = {}
    real = {m: getattr(HostServices, m) for m in HOST_METHODS}

    def counting(method: str) -> Any:
        def count_call(self: Any, *args: Any) -> Any:
            calls[(self.stage, method)] = calls.get((self.stage, method), 0) + 1
            return real[method](self, *args)

        return count_call

    for method in HOST_METHODS:
        setattr(HostServices, method, counting(method))
    try:
        p = Pipeline(spec_mod.load(path), contract, cache_dir=tmp / "cache", hot_reload=False)
        p.load()
        p.run()
    finally:
        for method, fn in real.items():
            setattr(HostServices, method, fn)
    per_import = _host_import_seconds()
    fp = last["fused stages (fuse = true)"]
    n = fp.accounting.source
    print("  fused run, per source record (time inside each stage's calls):")
    total_imports = 0.0
    for stage in fp.stages:
        made = sum(v for (who, _), v in calls.items() if who == stage.spec.name) / n
        total_imports += made
        print(
            f"    {stage.spec.kind:<12} {stage.metrics.busy_seconds / n * 1e6:6.2f} us"
            f"   host imports {made:4.1f}"
        )
    busy = sum(s.metrics.busy_seconds for s in fp.stages) / n
    wall = fp.elapsed / n
    print(
        f"  one host import (a Python function the guest calls) costs {per_import * 1e6:.2f} us:"
        f" {total_imports:.1f} imports a record = {total_imports * per_import * 1e6:.1f} us"
        f" of the {wall * 1e6:.1f} us a record takes ({busy * 1e6:.1f} us inside plugin calls)"
    )
    _floor(comps, count, tmp, rounds)
    floor = max(wall - total_imports * per_import, 1e-9)
    print(
        f"  without the host imports the same run would need ~{floor * 1e6:.1f} us a record"
        f" (~{1 / floor:,.0f} r/s): the batch codec, the hand-overs and the guests' own work"
    )


def _floor(comps: dict[str, Path], count: int, tmp: Path, rounds: int) -> None:
    """The same kind of run with a processor and a filter that call no host import (the
    hand-written WAT processor and a WAT filter): the batch codec, the hand-overs and the
    runtime alone, fused and unfused."""
    import subprocess

    from tests.pipeline.plugins import fault_filter
    from witgen.pipeline import contract as contract_mod
    from witgen.pipeline import spec as spec_mod
    from witgen.pipeline.runtime import Pipeline

    processor = tmp / "processor-wat.wasm"
    subprocess.run(["wasm-tools", "parse", str(WAT_PROCESSOR), "-o", str(processor)], check=True)
    parts = {"source": comps["source"], "processor": processor, "filter": fault_filter()}
    parts["destination"] = comps["destination"]
    text = "batch_size = 1000\n"
    for kind, component in parts.items():
        text += f'[[stage]]\nkind = "{kind}"\ncomponent = "{component}"\n'
        if kind == "source":
            text += f'config = {{ "source.count" = "{count}" }}\n'
    path = tmp / "floor.toml"
    path.write_text(text)
    contract = contract_mod.load(None)
    rates: dict[bool, float] = {}
    for _ in range(max(2, rounds // 2)):
        for fuse in (False, True):
            p = Pipeline(spec_mod.load(path), contract, cache_dir=tmp / "cache", hot_reload=False)
            p.fuse = fuse
            p.load()
            acc = p.run()
            assert acc.balanced and p.failure is None, acc.line()
            rates[fuse] = max(rates.get(fuse, 0.0), p.records_per_second)
    print(
        "  no host imports (WAT processor and filter between the Rust source and destination):"
        f" unfused {rates[False]:,.0f} r/s, fused {rates[True]:,.0f} r/s"
        f" ({1e6 / rates[True]:.2f} us a record)"
    )


def _host_import_seconds() -> float:
    """Seconds per host import on the fast path (benchmarks/guests/imports.*: a u32 -> u32
    Python function the guest calls in a loop)."""
    from tests.python_host.wat_guests import build_guest

    guests = REPO / "benchmarks" / "guests"
    component = build_guest(
        guests / "imports.wit", guests / "imports.wat", "caller", "bench_imports"
    )
    from bench_imports import Caller

    class Tick:
        def tick(self, x: int) -> int:
            return (x + 1) & 0xFFFFFFFF

    plugin = Caller.load(component, host=Tick(), cache=False, fast=True)
    n = 20000
    return min(_timed(lambda: plugin.call_host(n)) for _ in range(5)) / n


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
    parser.add_argument("--skip-pipeline", action="store_true")
    parser.add_argument("--pipeline-records", type=int, default=20000)
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
    if not args.skip_pipeline:
        pipeline(args.pipeline_records, args.rounds)
    print()
    print(f"{'target':<36} {'measured':>16} {'goal':>12}  verdict")
    for name, measured, goal, met in RESULTS:
        print(f"{name:<36} {measured:>16} {goal:>12}  {'met' if met else 'MISSED'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
