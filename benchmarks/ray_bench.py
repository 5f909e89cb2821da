"""`witgen run --engine ray` against the local engine, in the same process, on this machine.

    python3 benchmarks/ray_bench.py [--records N] [--spin S]

Needs the ray extra (`pip install 'witgen[ray]'`). Starts one local Ray (2 CPUs, as the tests)
and prints, for source -> filter -> destination over the example Rust source and destination
and a WAT filter that spins S loop iterations per record inside wasm (CPU-bound plugin work):

  * records/s on the local engine (1 instance) and on Ray with 1 and 2 filter actors, each run
    end to end (actor start-up included) and, separately, the start-up alone (a 1-record run);
  * what Ray adds per batch: the same records in batches of 10 and of 1000, on each engine;
    (time difference) / (difference in batch count) is the cost of one batch, and Ray's minus
    local's is what Ray adds per batch (Arrow conversion, actor call, object store, ledger);
  * records/s through the shipped pipeline (source -> processor -> filter -> transformer ->
    destination, example plugins) on each engine, with the records handed to the plugins by the
    batch codec (Arrow into guest memory) and, as the previous baseline, as typed records;
  * the Arrow conversion alone (`arrow_codec`), per batch of 100 records, both directions.
Numbers only; nothing is asserted. Another process's load shows: compare ratios.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO)]

from witgen.pipeline import contract as contract_mod  # noqa: E402
from witgen.pipeline import spec as spec_mod  # noqa: E402
from witgen.pipeline.runtime import Pipeline  # noqa: E402
from witgen.toolchains import rust  # noqa: E402


def pipeline_file(
    tmp: Path, comps: dict[str, Path], filt: Path, count: int, batch: int, n: int
) -> Path:
    text = f"batch_size = {batch}\nhot_reload = false\n"
    text += f'[[stage]]\nkind = "source"\ncomponent = "{comps["source"]}"\n'
    text += f'config = {{ "source.count" = "{count}" }}\n'
    text += f'[[stage]]\nkind = "filter"\ncomponent = "{filt}"\ninstances = {n}\n'
    text += f'[[stage]]\nkind = "destination"\ncomponent = "{comps["destination"]}"\n'
    path = tmp / f"p-{count}-{batch}-{n}.toml"
    path.write_text(text)
    return path


def run(path: Path, engine: str, cache: Path, arrow: bool | None = None) -> float:
    from witgen.pipeline.ray_engine import RayPipeline

    spec = spec_mod.load(path)
    contract = contract_mod.load(None)
    if engine == "ray":
        p: Pipeline = RayPipeline(spec, contract, cache_dir=cache)
    else:
        p = Pipeline(spec, contract, cache_dir=cache, hot_reload=False)
    p.arrow = arrow  # None: the batch codec where a stage runs on the fast path; False: typed
    p.load()
    start = time.perf_counter()
    acc = p.run()
    took = time.perf_counter() - start
    assert acc.balanced and p.failure is None, acc.line()
    return took


def shipped_file(tmp: Path, comps: dict[str, Path], count: int) -> Path:
    """source -> processor -> filter -> transformer -> destination, the example Rust plugins."""
    text = "batch_size = 1000\nhot_reload = false\n"
    for kind in ("source", "processor", "filter", "transformer", "destination"):
        text += f'[[stage]]\nkind = "{kind}"\ncomponent = "{comps[kind]}"\n'
        if kind == "source":
            text += f'config = {{ "source.count" = "{count}" }}\n'
    path = tmp / f"shipped-{count}.toml"
    path.write_text(text)
    return path


def codec(count: int = 100, rounds: int = 200) -> tuple[float, float]:
    from witgen.pipeline import arrow_codec
    from witgen.pipeline.ray_engine import record_type

    rtype = record_type(contract_mod.load(None).bindings)
    records = [
        rtype(id=f"rec-{i}", timestamp=i, payload=b"x" * 64, metadata=[("index", str(i))])
        for i in range(count)
    ]
    start = time.perf_counter()
    for _ in range(rounds):
        table = arrow_codec.from_records(records, [0] * count)
    enc = (time.perf_counter() - start) / rounds
    start = time.perf_counter()
    for _ in range(rounds):
        arrow_codec.to_records(table, rtype)
    dec = (time.perf_counter() - start) / rounds
    return enc, dec


def shipped_pipeline(tmp: Path, comps: dict[str, Path], cache: Path, count: int) -> None:
    """records/s through the shipped pipeline on each engine, batch codec against typed records
    (the previous way), the two taking turns, each run next to a 1-record run (the start-up,
    seconds on Ray) that is subtracted; best of 2."""
    print(
        f"source -> processor -> filter -> transformer -> destination (example plugins),"
        f" {count:,} records, batch 1000"
    )
    shipped = shipped_file(tmp, comps, count)
    warm = shipped_file(tmp, comps, 1)
    for engine in ("local", "ray"):
        rates: dict[bool | None, float] = {False: 0.0, None: 0.0}
        for _ in range(2):
            for arrow in (False, None):
                start_up = run(warm, engine, cache, arrow)
                took = run(shipped, engine, cache, arrow) - start_up
                rates[arrow] = max(rates[arrow], (count - 1) / max(took, 1e-6))
        print(
            f"  {engine:<6} typed records (previous) {rates[False]:>10,.0f} records/s   batch"
            f" codec {rates[None]:>10,.0f} records/s   x{rates[None] / rates[False]:.2f}"
            "   (start-up subtracted)"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=5_000)
    parser.add_argument("--spin", type=int, default=200_000, help="loop iterations per record")
    parser.add_argument(
        "--shipped", type=int, default=100_000, help="records through the shipped pipeline"
    )
    parser.add_argument("--shipped-only", action="store_true", help="only the shipped pipeline")
    args = parser.parse_args()
    from tests.pipeline.plugins import fault_filter
    from witgen.pipeline.ray_engine import require_ray

    ray = require_ray()
    os.environ.setdefault("RAY_BACKEND_LOG_LEVEL", "fatal")
    ray.init(
        num_cpus=2, include_dashboard=False, logging_level=logging.WARNING, log_to_driver=False
    )
    comps = rust.build_examples()
    spinning = fault_filter(spin=args.spin)
    cheap = fault_filter()
    n = args.records
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        cache = tmp / "cache"
        if args.shipped_only:
            shipped_pipeline(tmp, comps, cache, args.shipped)
            ray.shutdown()
            return 0
        print(
            f"source -> filter (spin {args.spin}/record) -> destination, {n:,} records, batch 100"
        )
        run(pipeline_file(tmp, comps, spinning, 1, 100, 1), "local", cache)  # compile once
        start_up = min(
            run(pipeline_file(tmp, comps, spinning, 1, 100, w), "ray", cache) for w in (1, 1)
        )
        local = run(pipeline_file(tmp, comps, spinning, n, 100, 1), "local", cache)
        print(f"  {'local, 1 instance':<28} {n / local:>12,.0f} records/s  ({local:.2f} s)")
        for workers in (1, 2):
            took = run(pipeline_file(tmp, comps, spinning, n, 100, workers), "ray", cache)
            steady = took - start_up
            rest = f"{n / steady:,.0f}/s" if steady > 0.05 else "within the noise"
            print(
                f"  {f'ray, {workers} filter actor(s)':<28} {n / took:>12,.0f} records/s  "
                f"({took:.2f} s; less the start-up: {rest})"
            )
        print(f"  ray start-up (a 1-record run, best of 2): {start_up:.2f} s")
        shipped_pipeline(tmp, comps, cache, args.shipped)

        print(f"what one batch costs ({n:,} records of a cheap filter, batches of 10 and 1000)")
        added: dict[str, float] = {}
        for engine in ("local", "ray"):
            small = run(pipeline_file(tmp, comps, cheap, n, 10, 1), engine, cache)
            large = run(pipeline_file(tmp, comps, cheap, n, 1000, 1), engine, cache)
            batches = n // 10 - n // 1000
            added[engine] = (small - large) / batches
            print(f"  {engine:<6} {added[engine] * 1e6:>10,.0f} µs per batch")
        print(f"  ray adds {(added['ray'] - added['local']) * 1e6:,.0f} µs per batch")
    enc, dec = codec()
    print(f"arrow_codec, 100 records: to Arrow {enc * 1e6:,.0f} µs, from Arrow {dec * 1e6:,.0f} µs")
    ray.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
