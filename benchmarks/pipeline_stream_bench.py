"""Records/s of `witgen run` pipelines with streaming plugins beside the same with sync ones.

Four pipelines on contract 1.1.0 (examples/contract-1.1.0), each source -> destination, all
plugins Rust and making or taking the same records (`rec-<i>`, a timestamp, an 8-byte payload,
one metadata pair):

    sync      examples/rust/source (read-batch)       -> examples/rust/destination (write-batch)
    stream    examples/rust/streaming-source (stream) -> examples/rust/destination
    stream-in examples/rust/source                    -> examples/rust/streaming-destination
    both      examples/rust/streaming-source          -> examples/rust/streaming-destination

and `stream-in` again with the destination's record store swapped for the one it had before
(one `cabi_realloc` call per string and list, `per_block_store` here) against the current one
(all of a batch's strings and lists allocated in one trip into the guest).

Each runs in this process through `witgen.pipeline.runtime.Pipeline` (load excluded, the run's
own clock: `Pipeline.records_per_second`); rounds alternate and the ratio to `sync` is what to
read, not the absolutes.

    python3 benchmarks/pipeline_stream_bench.py [--records N] [--batch B] [--rounds R]
"""

from __future__ import annotations

import argparse
import statistics
import struct
import sys
import tempfile
from pathlib import Path
from typing import Any, Sequence

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.pipeline.streaming_plugins import build_all  # noqa: E402
from witgen.pipeline import contract as contract_mod  # noqa: E402
from witgen.pipeline import spec as spec_mod  # noqa: E402
from witgen.pipeline import streaming as streaming_mod  # noqa: E402
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


def per_block_store(plugin: Any, values: Sequence[Any], ptr: int) -> None:
    """The streaming destination's record store before the one-trip allocation, kept as the
    reference: one `cabi_realloc` call per string and list of every record."""
    realloc = plugin.realloc
    blocks: list[tuple[int, bytes]] = []
    heads: list[tuple[int, ...]] = []
    for r in values:
        rid, payload = r.id.encode("utf-8"), bytes(r.payload)
        ip, pp = realloc(1, len(rid)), realloc(1, len(payload))
        blocks += ((ip, rid), (pp, payload))
        mp = realloc(4, 16 * len(r.metadata))
        words: list[int] = []
        for k, v in r.metadata:
            kb, vb = k.encode("utf-8"), v.encode("utf-8")
            kp, vp = realloc(1, len(kb)), realloc(1, len(vb))
            blocks += ((kp, kb), (vp, vb))
            words += (kp, len(kb), vp, len(vb))
        if words:
            blocks.append((mp, struct.pack(f"<{len(words)}I", *words)))
        heads.append((ip, len(rid), int(r.timestamp), pp, len(payload), mp, len(r.metadata)))
    mem = plugin.view()
    for addr, data in blocks:
        mem[addr : addr + len(data)] = data
    for i, head in enumerate(heads):
        struct.pack_into("<IIqIIII", mem, ptr + 32 * i, *head)


ONE_TRIP = streaming_mod._store_records


def once(path: Path, cache: Path, count: int, store: Any = ONE_TRIP) -> float:
    streaming_mod._store_records = store  # the destination codec looks it up per batch
    try:
        return run_once(path, cache, count)
    finally:
        streaming_mod._store_records = ONE_TRIP


def run_once(path: Path, cache: Path, count: int) -> float:
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
        "stream-in-per-block": (sync["source"], streaming["destination"]),
    }
    stores = {"stream-in-per-block": per_block_store}
    rates: dict[str, list[float]] = {k: [] for k in shapes}
    with tempfile.TemporaryDirectory(prefix="witgen-stream-bench-") as tmp:
        root = Path(tmp)
        files = {
            k: pipeline_file(root, k, s, d, args.records, args.batch)
            for k, (s, d) in shapes.items()
        }
        for k in files:  # warm: bindings generated, components compiled into the cache
            once(files[k], root / "cache", args.records, stores.get(k, ONE_TRIP))
        for _ in range(args.rounds):
            for k in files:
                store = stores.get(k, ONE_TRIP)
                rates[k].append(once(files[k], root / "cache", args.records, store))
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
        "stream-in-per-block": "  the same, one cabi_realloc per block (before)",
    }
    for k, label in labels.items():
        ratio = best[k] / best["sync"]
        print(f"  {label:<44} {best[k]:10,.0f} ({median[k]:,.0f}) records/s  x{ratio:.2f}")
    one, each = best["stream-in"], best["stream-in-per-block"]
    print(f"  streaming destination, one-trip allocation / per-block: x{one / each:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
