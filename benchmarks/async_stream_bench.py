"""Records/s from a Rust guest to the Python host: async `stream<data-record>` vs sync `read-batch`.

Both guests are Rust and make the same records (`rec-<i>`, a timestamp, an 8-byte payload, one
metadata pair). The async one (tests/async/rust_guest, contract 1.1.0 `streaming-source.read`)
runs on witgen/hostrt/_async.py, its records lifted with the canonical-ABI layer's generic
codec; the sync one (examples/rust/source, `cursor.read-batch(1000)`) on the generated fast path
with its type-specialised lift. Rounds alternate; the ratio is what to read, not the absolutes.

    python3 benchmarks/async_stream_bench.py [--records N] [--rounds R]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "tests" / "async")]

import rust_source  # noqa: E402
from witgen.pipeline import contract as contract_mod  # noqa: E402
from witgen.pipeline.runtime import HostServices  # noqa: E402
from witgen.toolchains import rust  # noqa: E402


def sync_read_batch(count: int, batch: int) -> float:
    contract = contract_mod.load(None)
    host = HostServices("source", {"source.count": str(count)}, contract.bindings)
    components = rust.build_examples()
    plugin = contract.plugin_class("source").load(
        components["source"], logging=host, metrics=host, config=host
    )
    start = time.perf_counter()
    got = 0
    with plugin.source.cursor() as cursor:
        while True:
            records = cursor.read_batch(batch).value
            if not records:
                break
            got += len(records)
    elapsed = time.perf_counter() - start
    plugin.close()
    assert got == count, got
    return count / elapsed


def async_stream(component: bytes, count: int, batch: int) -> float:
    plugin = rust_source.bind(component)

    async def body() -> float:
        start = time.perf_counter()
        stream, resume = await plugin.call("read", 0)
        got = 0
        while got < count:
            part = await stream.read(min(batch, count - got))
            assert part is not None
            got += len(part)
        stream.close()
        await resume
        return count / (time.perf_counter() - start)

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
    component = rust_source.build().read_bytes()
    sync_rates, async_rates = [], []
    for _ in range(args.rounds):
        sync_rates.append(sync_read_batch(args.records, args.batch))
        async_rates.append(async_stream(component, args.records, args.batch))
    sync_best, async_best = max(sync_rates), max(async_rates)
    print(
        f"{args.records} data-records guest -> host, reads of {args.batch}, best of {args.rounds}"
    )
    print(f"  sync read-batch (fast path)        {sync_best:12,.0f} records/s")
    print(f"  async stream<data-record> (_async) {async_best:12,.0f} records/s")
    print(f"  async / sync                       {async_best / sync_best:12.2f}")
    print(
        f"  (medians: {statistics.median(sync_rates):,.0f} / {statistics.median(async_rates):,.0f})"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
