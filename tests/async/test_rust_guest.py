"""A Rust guest with an async export returning `stream<data-record>` + `future<result<...>>`,
run by the async host (contract 1.1.0, world `streaming-source-plugin`). The source is called
through witgen's generated Python bindings of the contract (`StreamingSourcePlugin`); the
destination through the hand-written binding of rust_source.py (the benchmarks' too).

The guests (tests/async/rust_guest, tests/async/rust_destination) use witgen's generated Rust SDK
for the streaming worlds (async export glue, the stream/future types of `read`/`write`, the
async runtime `async_rt`; see rust_source.write_sdk) and are built with the Rust recipe, then
made components by wasm-tools.
"""

from __future__ import annotations

import asyncio
import importlib
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import rust_source
from witgen import frontend
from witgen.abi.values import Ok
from witgen.backends import GenerateOptions
from witgen.backends.python import generator as python_generator


@pytest.fixture(scope="module")
def component() -> bytes:
    rust_source.require_rust()
    return rust_source.build().read_bytes()


@pytest.fixture(scope="module")
def plugin(component: bytes, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The source through witgen's generated Python bindings of the streaming contract."""
    bindings = generated_bindings(tmp_path_factory.mktemp("bindings"))
    return bindings.StreamingSourcePlugin.load(component)


def generated_bindings(out: Path) -> ModuleType:
    """`witgen generate --lang python` of the 1.1.0 contract, imported (`streaming_guest_py`)."""
    resolve = frontend.load(rust_source.CONTRACT)
    worlds = [i for i, w in enumerate(resolve.worlds) if w.package == resolve.main_package]
    options = GenerateOptions("examples/contract-1.1.0/dataflare.wit", "streaming_guest_py")
    for path, text in python_generator.generate(resolve, worlds, options).items():
        (out / path).parent.mkdir(parents=True, exist_ok=True)
        (out / path).write_text(text, encoding="utf-8")
    sys.path.insert(0, str(out))
    return importlib.import_module("streaming_guest_py")


def generated_ok() -> Any:
    """The bindings' own `Ok` (each generated package has its runtime)."""
    return importlib.import_module("streaming_guest_py").Ok


def expected(i: int) -> dict[str, Any]:
    return {
        "id": f"rec-{i}",
        "timestamp": 1_700_000_000_000 + i,
        "payload": i.to_bytes(8, "little"),
        "metadata": [("source", "rust-async")],
    }


def as_dict(record: Any) -> dict[str, Any]:
    return {
        "id": record.id,
        "timestamp": record.timestamp,
        "payload": record.payload,
        "metadata": record.metadata,
    }


@settings(max_examples=15)
@given(st.integers(0, 2**40), st.integers(0, 700), st.integers(1, 300))
def test_stream_of_records_then_the_resume_future(
    plugin: Any, position: int, count: int, chunk: int
) -> None:
    async def body() -> tuple[list[Any], Any]:
        stream, resume = await plugin.read(position)
        got: list[Any] = []
        while len(got) < count:
            part = await stream.read(min(chunk, count - len(got)))
            assert part is not None and 0 < len(part) <= chunk
            got.extend(part)
        stream.close()  # the guest sees DROPPED, stops, and resolves the future
        return got, await resume

    records, resume = asyncio.run(body())
    assert [as_dict(r) for r in records] == [expected(position + i) for i in range(count)]
    assert resume == generated_ok()(position + count)


def test_records_as_an_async_iterator(plugin: Any) -> None:
    async def body() -> list[Any]:
        stream, resume = await plugin.read(7)
        got = []
        async for record in stream:
            got.append(record)
            if len(got) == 600:
                break
        stream.close()
        # the iterator reads ahead a chunk at a time: the guest wrote what it handed over
        resumed = await resume
        assert isinstance(resumed, generated_ok()) and resumed.value >= 7 + 600
        return got

    assert [r.id for r in asyncio.run(body())] == [f"rec-{7 + i}" for i in range(600)]


@pytest.fixture(scope="module")
def destination() -> Any:
    rust_source.require_rust()
    return rust_source.Destination(rust_source.build_destination().read_bytes())


def digest(records: list[dict[str, Any]]) -> int:
    """What the destination guest computes over what it received (see its lib.rs)."""
    total = 0
    for r in records:
        total += r["timestamp"] + len(r["id"].encode()) + len(r["payload"]) + sum(r["payload"])
        total += sum(len(k.encode()) + len(v.encode()) for k, v in r["metadata"])
    return total % 2**64


records_st = st.lists(
    st.fixed_dictionaries(
        {
            "id": st.text(max_size=12),
            "timestamp": st.integers(-(2**63), 2**63 - 1),
            "payload": st.binary(max_size=40),
            "metadata": st.lists(st.tuples(st.text(max_size=6), st.text(max_size=6)), max_size=3),
        }
    ),
    max_size=300,
)


@settings(max_examples=20)
@given(records_st)
def test_host_streams_records_into_a_rust_destination(
    destination: Any, records: list[dict[str, Any]]
) -> None:
    assert asyncio.run(destination.write(records)) == Ok(digest(records))
