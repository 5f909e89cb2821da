"""Records/s of `witgen run` pipelines with streaming plugins beside the same with sync ones.

Four pipelines on contract 1.1.0 (examples/contract-1.1.0), each source -> destination, all
plugins Rust and making or taking the same records (`rec-<i>`, a timestamp, an 8-byte payload,
one metadata pair):

    sync      examples/rust/source (read-batch)       -> examples/rust/destination (write-batch)
    stream    examples/rust/streaming-source (stream) -> examples/rust/destination
    stream-in examples/rust/source                    -> examples/rust/streaming-destination
    both      examples/rust/streaming-source          -> examples/rust/streaming-destination

Each runs in this process through `witgen.pipeline.runtime.Pipeline` (load excluded, the run's
own clock: `Pipeline.records_per_second`); rounds alternate and the ratio to `sync` is what to
read, not the absolutes.

    python3 benchmarks/pipeline_stream_bench.py [--records N] [--batch B] [--rounds R]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.pipeline.streaming_plugins import build_all  # noqa: E402
from witgen.pipeline import contract as contract_mod  # noqa: E402
from witgen.pipeline import spec as spec_mod  # noqa: E402
from witgen.pipeline.runtime import Pipeline  # noqa: E402
from witgen.toolchains import rust  # noqa: E402

CONTRACT = REPO / "examples" / "contract-1.1.0"


def pipeline_file(
    tmp: Path, name: str, source: Path, destination: Path, count: int, batch: int
) -> Path:
    text = (
        f'contract = "{CONTRACT}"\nbatch_size = {batch}\nhot_reload = false\n'
        f'[[stage]]\nkind = "source"\ncomponent = "{source}"\n'
        f'config = {{ "source.count" = "{count}" }}\n'
        f'[[stage]]\nkind = "destination"\ncomponent = "{destination}"\n'
    )
    path = tmp / f"{name}.toml"
    path.write_text(text)
    return path


def once(path: Path, cache: Path, count: int) -> float:
    spec = spec_mod.load(path)
    pipeline = Pipeline(spec, contract_mod.load(spec.contract), cache_dir=cache, hot_reload=False)
    pipeline.load()
    try:
        accounting = pipeline.run()
    finally:
        pipeline.close()
    assert pipeline.failure is None, pipeline.failure
    assert accounting.records_in == count and accounting.balanced, accounting.line()
    return pipeline.records_per_second


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    missing = rust.missing_tools()
    if missing:
        print(f"cannot build the Rust plugins; missing: {', '.join(missing)}")
        return 2
    sync = {
        "source": rust.build_example("source"),
        "destination": rust.build_example("destination"),
    }
    streaming = build_all()
    shapes = {
        "sync": (sync["source"], sync["destination"]),
        "stream": (streaming["source"], sync["destination"]),
        "stream-in": (sync["source"], streaming["destination"]),
        "both": (streaming["source"], streaming["destination"]),
    }
    rates: dict[str, list[float]] = {k: [] for k in shapes}
    with tempfile.TemporaryDirectory(prefix="witgen-stream-bench-") as tmp:
        root = Path(tmp)
        files = {
            k: pipeline_file(root, k, s, d, args.records, args.batch)
            for k, (s, d) in shapes.items()
        }
        for k in files:  # warm: bindings generated, components compiled into the cache
            once(files[k], root / "cache", args.records)
        for _ in range(args.rounds):
            for k in files:
                rates[k].append(once(files[k], root / "cache", args.records))
    best = {k: max(v) for k, v in rates.items()}
    median = {k: statistics.median(v) for k, v in rates.items()}
    print(
        f"witgen run, {args.records} data-records, batch_size {args.batch}, "
        f"best (median) of {args.rounds}"
    )
    labels = {
        "sync": "sync source -> sync destination",
        "stream": "streaming source -> sync destination",
        "stream-in": "sync source -> streaming destination",
        "both": "streaming source -> streaming destination",
    }
    for k, label in labels.items():
        ratio = best[k] / best["sync"]
        print(f"  {label:<44} {best[k]:10,.0f} ({median[k]:,.0f}) records/s  x{ratio:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
