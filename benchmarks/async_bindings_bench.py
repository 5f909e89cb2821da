"""Records/s of a `stream<data-record>` through generated async Python bindings.

The Rust streaming source and destination of tests/async (contract 1.1.0) are run through the
package `witgen generate --lang python` writes for the contract (`_asyncvals`'s descriptor-driven
values) and, as the baseline in the same process, through the hand-written binding of
tests/async/rust_source.py (witgen's canonical-ABI codec). Prints records/s of each and the
ratio.

    python3 benchmarks/async_bindings_bench.py [--records N]
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "async"))

import rust_source  # noqa: E402

from witgen import frontend  # noqa: E402
from witgen.backends import GenerateOptions  # noqa: E402
from witgen.backends.python import generator  # noqa: E402


def generated(out: Path) -> Any:
    resolve = frontend.load(rust_source.CONTRACT)
    worlds = [i for i, w in enumerate(resolve.worlds) if w.package == resolve.main_package]
    options = GenerateOptions("examples/contract-1.1.0/dataflare.wit", "bench_streaming")
    for path, text in generator.generate(resolve, worlds, options).items():
        (out / path).parent.mkdir(parents=True, exist_ok=True)
        (out / path).write_text(text, encoding="utf-8")
    sys.path.insert(0, str(out))
    return importlib.import_module("bench_streaming")


async def read_all(call: Any, n: int) -> float:
    start = time.perf_counter()
    stream, resume = await call(0)
    got = 0
    while got < n:
        part = await stream.read(min(256, n - got))
        assert part
        got += len(part)
    stream.close()
    await resume
    return n / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=20_000)
    n = parser.parse_args().records
    source = rust_source.build().read_bytes()
    dest = rust_source.build_destination().read_bytes()
    with tempfile.TemporaryDirectory() as tmp:
        pkg = generated(Path(tmp))
        gen_source = pkg.StreamingSourcePlugin.load(source)
        gen_dest = pkg.StreamingDestinationPlugin.load(dest)
        hand_source = rust_source.bind(source)
        hand_dest = rust_source.Destination(dest)
        types = importlib.import_module("bench_streaming.types")
        records = [types.DataRecord(f"rec-{i}", i, bytes(16), [("k", "v")]) for i in range(n)]
        dicts = [
            {"id": r.id, "timestamp": r.timestamp, "payload": r.payload, "metadata": r.metadata}
            for r in records
        ]
        rows = []
        for _ in range(2):  # the second round is the one printed (warm)
            gen_read = asyncio.run(read_all(gen_source.read, n))
            hand_read = asyncio.run(read_all(lambda p: hand_source.call("read", p), n))
            start = time.perf_counter()
            asyncio.run(gen_dest.write(records))
            gen_write = n / (time.perf_counter() - start)
            start = time.perf_counter()
            asyncio.run(hand_dest.write(dicts))
            hand_write = n / (time.perf_counter() - start)
            rows = [
                ("guest -> host (read)", gen_read, hand_read),
                ("host -> guest (write)", gen_write, hand_write),
            ]
    print(f"{n} data-records per run")
    print(f"{'stream':24} {'generated rec/s':>16} {'hand-built rec/s':>17} {'ratio':>7}")
    for name, ours, base in rows:
        print(f"{name:24} {ours:16,.0f} {base:17,.0f} {ours / base:7.2f}")


if __name__ == "__main__":
    main()
