"""Records/s of `stream<data-record>` on the async host: generic codec vs the bulk codecs.

The same Rust guests as benchmarks/async_stream_bench.py (tests/async/rust_guest: streaming
source `read`; tests/async/rust_destination: streaming destination `write`), bound twice in one
process: once with the canonical-ABI layer's generic codec per element (what the async host
used before), once with `_async.typed_codec` over the fast path's generated helpers for
`data-record` (generated/python's `_ld_<id>`/`_st_<id>`: a whole buffer lifted in one frame per
record, lowered into one bytearray with every string/list allocated in one trip into wasm). The
synchronous fast path (`read-batch` / `write-batch`) is measured beside them as the baseline.
Rounds alternate; read the ratios, not the absolutes.

    python3 benchmarks/async_codec_bench.py [--records N] [--rounds R] [--batch B]
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import statistics
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "tests" / "async"), str(REPO / "generated" / "python")]

import async_stream_bench as sync_bench  # noqa: E402
import rust_source  # noqa: E402
from witgen import frontend  # noqa: E402
from witgen.hostrt import _async  # noqa: E402
from witgen.paths import DEFAULT_WIT  # noqa: E402
from witgen.toolchains import rust  # noqa: E402


def record_codec_factory() -> tuple[rust_source.RecordCodec, Any]:
    """`typed_codec` over the generated fast path's helpers for `data-record`."""
    resolve = frontend.load(DEFAULT_WIT)
    tid = next(i for i, t in enumerate(resolve.types) if t.name == "data-record")
    fast = importlib.import_module("dataflare_core._fast")
    types = importlib.import_module("dataflare_core.types")
    load, put = getattr(fast, f"_ld_{tid}"), getattr(fast, f"_st_{tid}")

    def factory(plugin: _async.AsyncPlugin) -> _async.Codec:
        return _async.typed_codec(plugin, 32, 8, load, put)

    return factory, types.DataRecord


def write_rate(destination: rust_source.Destination, records: list[Any], batch: int) -> float:
    async def body() -> float:
        start = time.perf_counter()
        call = asyncio.ensure_future(destination.plugin.call("write"))
        await asyncio.sleep(0)
        writer = destination.writers.pop()
        for i in range(0, len(records), batch):
            await writer.write(records[i : i + batch])
        writer.close()
        await call
        return len(records) / (time.perf_counter() - start)

    return asyncio.run(body())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--batch", type=int, default=1000)
    args = parser.parse_args()
    missing = rust.missing_tools()
    if missing:
        print(f"cannot build the Rust guests; missing: {', '.join(missing)}")
        return 2
    factory, record_class = record_codec_factory()
    source = rust_source.build().read_bytes()
    dest = rust_source.build_destination().read_bytes()
    plain = sync_bench.make_records(args.records)
    typed = [record_class(r["id"], r["timestamp"], r["payload"], r["metadata"]) for r in plain]
    readers = {"generic": rust_source.bind(source), "bulk": rust_source.bind(source, factory)}
    writers = {
        "generic": rust_source.Destination(dest),
        "bulk": rust_source.Destination(dest, factory),
    }
    keys = ("read-batch", "read-generic", "read-bulk", "write-batch", "write-generic", "write-bulk")
    rates: dict[str, list[float]] = {k: [] for k in keys}
    n, b = args.records, args.batch
    for _ in range(args.rounds):
        rates["read-batch"].append(sync_bench.sync_read_batch(n, b))
        rates["read-generic"].append(sync_bench.read_rate(readers["generic"], n, b))
        rates["read-bulk"].append(sync_bench.read_rate(readers["bulk"], n, b))
        rates["write-batch"].append(sync_bench.sync_write_batch(n, b))
        rates["write-generic"].append(write_rate(writers["generic"], plain, b))
        rates["write-bulk"].append(write_rate(writers["bulk"], typed, b))
    best = {k: max(v) for k, v in rates.items()}
    median = {k: statistics.median(v) for k, v in rates.items()}
    print(f"{n} data-records, batches of {b}, best (median) of {args.rounds}")
    labels = {
        "read-batch": "guest -> host  sync read-batch (fast path)",
        "read-generic": "guest -> host  async stream, generic codec",
        "read-bulk": "guest -> host  async stream, typed_codec",
        "write-batch": "host -> guest  sync write-batch (fast path)",
        "write-generic": "host -> guest  async stream, generic codec",
        "write-bulk": "host -> guest  async stream, typed_codec",
    }
    for key in keys:
        print(f"  {labels[key]:<46} {best[key]:10,.0f} ({median[key]:,.0f}) records/s")
    for way in ("read", "write"):
        base = best[f"{way}-batch"]
        print(
            f"  {way}: generic/sync {best[f'{way}-generic'] / base:.2f}, "
            f"typed_codec/sync {best[f'{way}-bulk'] / base:.2f}, "
            f"typed_codec/generic {best[f'{way}-bulk'] / best[f'{way}-generic']:.2f}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
