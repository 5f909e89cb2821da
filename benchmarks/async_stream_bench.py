"""Records/s between Rust guests and the Python host: async `stream<data-record>` vs sync batches.

Guest -> host: streaming-source `read` vs source `cursor.read-batch`; host -> guest:
streaming-destination `write` vs destination `write-batch`.

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
import importlib
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "tests" / "async")]

import rust_source  # noqa: E402
from witgen.hostrt import _async  # noqa: E402
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
    return read_rate(rust_source.bind(component), count, batch)


def read_rate(plugin: _async.AsyncPlugin, count: int, batch: int) -> float:
    """Records/s of reading `count` records from the source's stream, `batch` at a time."""

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


def make_records(count: int) -> list[dict[str, object]]:
    return [
        {
            "id": f"rec-{i}",
            "timestamp": 1_700_000_000_000 + i,
            "payload": i.to_bytes(8, "little"),
            "metadata": [("source", "bench")],
        }
        for i in range(count)
    ]


def sync_write_batch(count: int, batch: int) -> float:
    contract = contract_mod.load(None)
    host = HostServices("destination", {}, contract.bindings)
    components = rust.build_examples()
    plugin = contract.plugin_class("destination").load(
        components["destination"], logging=host, metrics=host, config=host
    )
    record_class = importlib.import_module(f"{contract.bindings.__name__}.types").DataRecord
    records = [
        record_class(r["id"], r["timestamp"], r["payload"], r["metadata"])
        for r in make_records(count)
    ]
    start = time.perf_counter()
    for i in range(0, count, batch):
        plugin.write_batch(records[i : i + batch])
    elapsed = time.perf_counter() - start
    plugin.close()
    return count / elapsed


def async_write(component: bytes, count: int, batch: int) -> float:
    destination = rust_source.Destination(component)
    records = make_records(count)

    async def body() -> float:
        start = time.perf_counter()
        call = asyncio.ensure_future(destination.plugin.call("write"))
        await asyncio.sleep(0)
        writer = destination.writers.pop()
        for i in range(0, count, batch):
            await writer.write(records[i : i + batch])
        writer.close()
        await call
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
    source = rust_source.build().read_bytes()
    destination = rust_source.build_destination().read_bytes()
    rates: dict[str, list[float]] = {k: [] for k in ("read", "stream", "write", "stream-in")}
    for _ in range(args.rounds):
        rates["read"].append(sync_read_batch(args.records, args.batch))
        rates["stream"].append(async_stream(source, args.records, args.batch))
        rates["write"].append(sync_write_batch(args.records, args.batch))
        rates["stream-in"].append(async_write(destination, args.records, args.batch))
    best = {k: max(v) for k, v in rates.items()}
    median = {k: statistics.median(v) for k, v in rates.items()}
    print(f"{args.records} data-records, batches of {args.batch}, best (median) of {args.rounds}")
    rows = [
        ("guest -> host  sync read-batch (fast path)", "read"),
        ("guest -> host  async stream (_async)", "stream"),
        ("host -> guest  sync write-batch (fast path)", "write"),
        ("host -> guest  async stream (_async)", "stream-in"),
    ]
    for label, key in rows:
        print(f"  {label:<46} {best[key]:10,.0f} ({median[key]:,.0f}) records/s")
    print(f"  async / sync, guest -> host: {best['stream'] / best['read']:.2f} (best)")
    print(f"  async / sync, host -> guest: {best['stream-in'] / best['write']:.2f} (best)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
