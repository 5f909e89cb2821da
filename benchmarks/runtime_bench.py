"""Benchmarks of the `witgen run` runtime against the plan's targets, side by side with the bare
generated bindings in the same process.

    python3 benchmarks/runtime_bench.py [--records N] [--rounds R]

Prints, on the example Rust plugins (built once into target/rust-guests/):
  * plugin load, cold (compile, and for the runtime the checks: wasm-tools + compat) and cached
    (compiled code and passed checks from the on-disk caches): target < 10 ms cached;
  * per-call overhead: what a call through the runtime (pool, metrics, fault handling) adds to
    the same call on a bare instance: target < 1 µs; the bare call itself is shown too, and with
    the previous fast path's call machinery (`_old_calls.py`) in the same run;
  * memory per instance (process RSS growth per extra instance): target < 1 MB;
  * records/s through the whole six-stage pipeline: target > 100k records/s, with a bare loop
    over the same plugins (no policies, no accounting) as the baseline, and the same run on the
    previous fast path's calls and host imports;
  * records/s with 1, 2 and 4 instances per stage after the source, and the speed-up.
Numbers only; nothing is asserted. The machine's load shows: compare ratios, not absolutes.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO)]
sys.pycache_prefix = str(REPO / "target" / "pycache")

from benchmarks._old_calls import previous_fast_path  # noqa: E402
from witgen.pipeline import contract as contract_mod  # noqa: E402
from witgen.pipeline import spec as spec_mod  # noqa: E402
from witgen.pipeline.runtime import HostServices, Pipeline, Plugin  # noqa: E402
from witgen.toolchains import rust  # noqa: E402

KINDS = ("source", "processor", "filter", "transformer", "aggregator", "destination")
RESULTS: list[tuple[str, str, str, str]] = []


def best(fn: Callable[[], Any], rounds: int) -> float:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def rss() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096


def target(name: str, measured: str, goal: str, met: bool) -> None:
    RESULTS.append((name, measured, goal, "met" if met else "MISSED"))


def pipeline_file(
    tmp: Path, components: dict[str, Path], count: int, kinds: tuple[str, ...], instances: int
) -> Path:
    text = "batch_size = 1000\n"
    for kind in kinds:
        text += f'[[stage]]\nkind = "{kind}"\ncomponent = "{components[kind]}"\n'
        if kind == "source":
            text += f'config = {{ "source.count" = "{count}" }}\n'
        else:
            text += f"instances = {instances}\n"
    path = tmp / f"p-{len(kinds)}-{instances}.toml"
    path.write_text(text)
    return path


def load_times(contract: Any, components: dict[str, Path], rounds: int) -> None:
    kind = "processor"
    cls = contract.plugin_class(kind)
    host = HostServices(kind, {}, contract.bindings)
    io = dict(logging=host, metrics=host, config=host)
    path = components[kind]
    bare_cold = best(lambda: cls(cls.prepare(path, cache=False, **io)), 1)
    with tempfile.TemporaryDirectory() as d:
        cls(cls.prepare(path, cache_dir=d, **io))
        bare_cached = best(lambda: cls(cls.prepare(path, cache_dir=d, **io)), rounds)
    spec = spec_mod.load(pipeline_file(Path(tempfile.mkdtemp()), components, 10, KINDS, 1))
    stage = spec.stages[1]

    def runtime_load(cache: Path) -> float:
        p = Plugin(stage, contract, {}, [], cache, 1)
        start = time.perf_counter()
        p.load()
        took = time.perf_counter() - start
        p.close()
        return took

    with tempfile.TemporaryDirectory() as d:
        run_cold = runtime_load(Path(d))
        run_cached = min(runtime_load(Path(d)) for _ in range(rounds))
    print("plugin load (processor)              bare bindings    witgen run")
    print(
        f"  cold (compile{' + checks':<10})          {bare_cold * 1e3:9.1f} ms  {run_cold * 1e3:9.1f} ms"
    )
    print(
        f"  cached                             {bare_cached * 1e3:9.2f} ms  {run_cached * 1e3:9.2f} ms"
    )
    target("cached load (witgen run)", f"{run_cached * 1e3:.2f} ms", "< 10 ms", run_cached < 0.010)


def per_call(contract: Any, components: dict[str, Path], rounds: int) -> None:
    spec = spec_mod.load(pipeline_file(Path(tempfile.mkdtemp()), components, 10, KINDS, 1))
    core = bindings_core(contract)
    with tempfile.TemporaryDirectory() as d:
        p = Plugin(spec.stages[2], contract, {}, [], Path(d), 1)  # the filter
        p.load()
        gen, inst = p.acquire()
        n = 2000
        bare = best(lambda: [inst.info() for _ in range(n)], rounds) / n
        p.release(gen, inst)
        through = best(lambda: [p.call(0, lambda q: q.info()) for _ in range(n)], rounds) / n
        noop = best(lambda: [p.call(0, lambda q: None) for _ in range(n)], rounds) / n
        with previous_fast_path(core):
            old = Plugin(spec.stages[2], contract, {}, [], Path(d), 1)
            old.load()
        gen, inst = p.acquire()
        old_gen, old_inst = old.acquire()

        def previous_calls() -> None:
            with previous_fast_path(core):
                for _ in range(n):
                    old_inst.info()

        # thread CPU time, the two taking turns: an A/B the machine's load disturbs least
        turns = {"now": lambda: [inst.info() for _ in range(n)], "previous": previous_calls}
        ab = {name: seconds / n for name, seconds in cpu_alternating(turns, rounds).items()}
        previous = ab["previous"]
        p.release(gen, inst)
        old.release(old_gen, old_inst)
        p.close()
        old.close()
    print(
        f"per call (filter info())              bare {bare * 1e6:8.2f} µs   through the runtime "
        f"{through * 1e6:8.2f} µs   runtime's own overhead (no-op call) {noop * 1e6:6.2f} µs"
    )
    print(
        f"  bare, CPU time per call: now {ab['now'] * 1e6:8.2f} µs   previous fast path's calls"
        f" {previous * 1e6:8.2f} µs   (now x{previous / ab['now']:.2f})"
    )
    target("per-call overhead added by the runtime", f"{noop * 1e6:.2f} µs", "< 1 µs", noop < 1e-6)
    target("per-call, bare bindings (for reference)", f"{bare * 1e6:.2f} µs", "< 1 µs", bare < 1e-6)


def cpu_alternating(fns: dict[str, Callable[[], Any]], rounds: int) -> dict[str, float]:
    """The least thread CPU time of each function, the functions taking turns round by round."""
    times: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(rounds):
        for name, fn in fns.items():
            start = time.thread_time()
            fn()
            times[name].append(time.thread_time() - start)
    return {name: min(t) for name, t in times.items()}


def bindings_core(contract: Any) -> Any:
    """The `_core` module of the contract's generated bindings (the fast path's runtime)."""
    return importlib.import_module(f"{contract.bindings.__name__}._core")


def memory(contract: Any, components: dict[str, Path]) -> None:
    cls = contract.plugin_class("processor")
    host = HostServices("processor", {}, contract.bindings)
    with tempfile.TemporaryDirectory() as d:
        prepared = cls.prepare(
            components["processor"], cache_dir=d, logging=host, metrics=host, config=host
        )
        keep = [cls(prepared) for _ in range(5)]
        for k in keep:
            k.info()
        gc.collect()
        before = rss()
        n = 50
        more = [cls(prepared) for _ in range(n)]
        for k in more:
            k.info()
        gc.collect()
        per = (rss() - before) / n
        for k in keep + more:
            k.close()
    print(f"memory per instance (processor, RSS growth over {n})      {per / 1024:8.0f} KiB")
    target("memory per instance", f"{per / 2**20:.2f} MB", "< 1 MB", per < 2**20)


def bare_pipeline(contract: Any, components: dict[str, Path], count: int) -> float:
    """The same six plugins driven by a plain loop over the bare bindings."""
    b = contract.bindings
    plugins: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as d:
        for kind in KINDS:
            host = HostServices(kind, {"source.count": str(count)}, b)
            plugins[kind] = contract.plugin_class(kind).load(
                components[kind], logging=host, metrics=host, config=host, cache_dir=d
            )
        start = time.perf_counter()
        with plugins["source"].source.cursor() as cursor:
            window = 0
            while True:
                batch = cursor.read_batch(1000).value
                if not batch:
                    break
                results = plugins["processor"].process_batch(batch)
                records = [r.value for r in results if type(r).__name__.endswith("Emit")]
                keep = plugins["filter"].keep_batch(records)
                records = [r for r, k in zip(records, keep) if k]
                records = [r.value for r in plugins["transformer"].transform_batch(records)]
                with plugins["aggregator"].aggregator.accumulator(f"w{window}") as acc:
                    acc.add_batch(records)
                    summary = acc.emit()
                plugins["destination"].write_batch(records)
                if summary is not None:
                    plugins["destination"].write_batch([summary])
                window += 1
        plugins["destination"].flush()
        seconds = time.perf_counter() - start
        for p in plugins.values():
            p.close()
    return count / seconds


def bare_arrow_pipeline(contract: Any, components: dict[str, Path], count: int) -> float:
    """The same six plugins in a plain loop with Arrow batches (the batch codec, `call_batch`),
    timing each stage: the floor of `witgen run` with these plugins on this machine."""
    import pyarrow as pa  # imported before the clock starts

    b = contract.bindings
    plugins: dict[str, Any] = {}
    spent = dict.fromkeys(KINDS, 0.0)
    clock = time.perf_counter
    with tempfile.TemporaryDirectory() as d:
        for kind in KINDS:
            host = HostServices(kind, {"source.count": str(count)}, b)
            plugins[kind] = contract.plugin_class(kind).load(
                components[kind], logging=host, metrics=host, config=host, cache_dir=d
            )
        start = clock()
        cursor = plugins["source"].source.cursor()
        window = 0
        while True:
            t0 = clock()
            batch = plugins["source"].call_batch("[method]cursor.read-batch", cursor, 1000).value
            t1 = clock()
            spent["source"] += t1 - t0
            if not batch.num_rows:
                break
            results = plugins["processor"].call_batch("process-batch", batch)
            t2 = clock()
            spent["processor"] += t2 - t1
            batch = pa.RecordBatch.from_struct_array(results.column("emit"))
            keep = plugins["filter"].call_batch("keep-batch", batch)
            t3 = clock()
            spent["filter"] += t3 - t2
            batch = batch.filter(keep)
            done = plugins["transformer"].call_batch("transform-batch", batch)
            batch = pa.RecordBatch.from_struct_array(done.column("ok"))
            t4 = clock()
            spent["transformer"] += t4 - t3
            with plugins["aggregator"].aggregator.accumulator(f"w{window}") as acc:
                plugins["aggregator"].call_batch("[method]accumulator.add-batch", acc, batch)
                summary = acc.emit()
            t5 = clock()
            spent["aggregator"] += t5 - t4
            plugins["destination"].call_batch("write-batch", batch)
            if summary is not None:
                plugins["destination"].write_batch([summary])
            spent["destination"] += clock() - t5
            window += 1
        cursor.close()
        plugins["destination"].flush()
        seconds = clock() - start
        for p in plugins.values():
            p.close()
    print(
        "  bare Arrow loop, µs per record by stage: "
        + ", ".join(f"{k} {v / count * 1e6:.2f}" for k, v in spent.items())
    )
    return count / seconds


def run_pipeline(
    contract: Any, path: Path, cache: Path, arrow: bool | None = None
) -> tuple[float, str]:
    p = Pipeline(spec_mod.load(path), contract, cache_dir=cache, hot_reload=False)
    p.arrow = arrow  # None: records as Arrow between fast-path stages; False: typed records
    p.load()
    acc = p.run()
    assert acc.balanced and p.failure is None, acc.line()
    return p.records_per_second, p.stages[1].metrics.mode


def throughput(contract: Any, components: dict[str, Path], count: int) -> None:
    tmp = Path(tempfile.mkdtemp())
    cache = tmp / "cache"
    bare = bare_pipeline(contract, components, count)
    six = pipeline_file(tmp, components, count, KINDS, 1)
    # now and the previous fast path's calls and imports taking turns (best of 3 each): the
    # same drift of a shared machine for both
    core = bindings_core(contract)
    runs: dict[str, list[float]] = {"typed": [], "ours": [], "previous": [], "previous typed": []}
    mode = ""
    for _ in range(3):
        runs["typed"].append(run_pipeline(contract, six, cache, arrow=False)[0])
        rate, mode = run_pipeline(contract, six, cache)
        runs["ours"].append(rate)
        with previous_fast_path(core):
            runs["previous"].append(run_pipeline(contract, six, cache)[0])
            runs["previous typed"].append(run_pipeline(contract, six, cache, arrow=False)[0])
    typed, ours = max(runs["typed"]), max(runs["ours"])
    previous, previous_typed = max(runs["previous"]), max(runs["previous typed"])
    print(
        f"six-stage pipeline, {count} records ({mode} path)   bare loop {bare:10,.0f} records/s"
        f"   witgen run {ours:10,.0f} records/s   ratio {ours / bare:5.2f}"
    )
    floor = bare_arrow_pipeline(contract, components, count)
    print(f"  bare loop with Arrow batches (the floor with these plugins) {floor:10,.0f} records/s")
    print(
        f"  witgen run with typed records between stages {typed:10,.0f} records/s;"
        f" with Arrow batches {ours:10,.0f} records/s   ratio {ours / typed:5.2f}"
    )
    print(
        f"  previous fast path's calls and imports: Arrow batches {previous:10,.0f} records/s"
        f" (now x{ours / previous:.2f}), typed records {previous_typed:10,.0f} records/s"
        f" (now x{typed / previous_typed:.2f})"
    )
    target(
        "pipeline throughput (issue 14)",
        f"{ours:,.0f} records/s",
        ">= 1M records/s",
        ours >= 1_000_000,
    )
    target(
        "pipeline throughput (witgen run)",
        f"{ours:,.0f} records/s",
        "> 100k records/s",
        ours > 100_000,
    )
    kinds = ("source", "processor", "transformer", "destination")
    rates = {}
    for n in (1, 2, 4):
        rates[n] = statistics.median(
            run_pipeline(contract, pipeline_file(tmp, components, count, kinds, n), cache)[0]
            for _ in range(2)
        )
    print("instances per stage (source -> processor -> transformer -> destination)")
    for n, rate in rates.items():
        print(f"  {n}: {rate:10,.0f} records/s   speed-up {rate / rates[1]:4.2f}x")
    target(
        "speed-up with 2 instances",
        f"{rates[2] / rates[1]:.2f}x",
        "> 1x (2 cores)",
        rates[2] > rates[1],
    )
    # The same with a stage whose time is spent inside wasm (a filter spinning per record):
    # what threads give when wasm, which runs without the GIL, dominates.
    from tests.pipeline.plugins import fault_filter

    spinning = dict(components, filter=fault_filter(spin=20_000))
    kinds = ("source", "filter", "destination")
    wasm_rates = {}
    for n in (1, 2, 4):
        wasm_rates[n] = statistics.median(
            run_pipeline(contract, pipeline_file(tmp, spinning, count, kinds, n), cache)[0]
            for _ in range(2)
        )
    print("instances per stage, wasm-bound filter (source -> spinning filter -> destination)")
    for n, rate in wasm_rates.items():
        print(f"  {n}: {rate:10,.0f} records/s   speed-up {rate / wasm_rates[1]:4.2f}x")
    target(
        "speed-up, 2 instances, wasm-bound stage",
        f"{wasm_rates[2] / wasm_rates[1]:.2f}x",
        "> 1x (2 cores)",
        wasm_rates[2] > wasm_rates[1],
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=4000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    missing = rust.missing_tools()
    if missing:
        print(f"cannot build the example plugins; missing: {', '.join(missing)}")
        return 2
    components = rust.build_examples()
    contract = contract_mod.load(None)
    load_times(contract, components, args.rounds)
    per_call(contract, components, args.rounds)
    memory(contract, components)
    throughput(contract, components, args.records)
    print()
    print(f"{'target':<42} {'measured':>18} {'goal':>18}  verdict")
    for name, measured, goal, verdict in RESULTS:
        print(f"{name:<42} {measured:>18} {goal:>18}  {verdict}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
