"""Generated Python bindings of async worlds, running real Rust async guests.

`witgen generate --lang python` of the streaming contract (examples/contract-1.1.0) and of
tests/async/wit/broad.wit: the world classes load the guests that tests/async builds with the
Rust recipe (rust_source.build, build_destination; test_rust_async_sdk.build_broad) and call
them with typed values: async exports are coroutine methods, streams `StreamReader[T]` (or any
iterable the host hands over), futures `FutureReader[T]` (or any awaitable), error contexts
`ErrorContext`, async imports coroutine methods of the host's objects. Values drawn by
Hypothesis go through futures and streams both ways.
"""

from __future__ import annotations

import asyncio
import importlib
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any, AsyncIterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import rust_source
from witgen import backends, frontend
from witgen.backends.python import generator

ROOT = rust_source.ROOT
BROAD_WIT = ROOT / "tests" / "async" / "wit" / "broad.wit"


def _need_rust() -> None:
    rust_source.require_rust()


def _generate(wit: Path, package: str, out: Path) -> ModuleType:
    """The generated package for every world of `wit`, imported from `out`."""
    resolve = frontend.load(wit)
    main = resolve.main_package
    worlds = [i for i, w in enumerate(resolve.worlds) if w.package == main]
    options = backends.GenerateOptions(str(wit.relative_to(ROOT)), package)
    for path, text in generator.generate(resolve, worlds, options).items():
        target = out / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    sys.path.insert(0, str(out))
    return importlib.import_module(package)


@pytest.fixture(scope="module")
def streaming(tmp_path_factory: pytest.TempPathFactory) -> ModuleType:
    return _generate(rust_source.CONTRACT, "streaming_bindings", tmp_path_factory.mktemp("s"))


@pytest.fixture(scope="module")
def broad_pkg(tmp_path_factory: pytest.TempPathFactory) -> ModuleType:
    return _generate(BROAD_WIT, "broad_bindings", tmp_path_factory.mktemp("b"))


@pytest.fixture(scope="module")
def source(streaming: ModuleType) -> Any:
    _need_rust()
    component = rust_source.build()
    return streaming.StreamingSourcePlugin.load(component)


@pytest.fixture(scope="module")
def destination(streaming: ModuleType) -> Any:
    _need_rust()
    return streaming.StreamingDestinationPlugin.load(rust_source.build_destination().read_bytes())


def test_the_package_is_black_clean(streaming: ModuleType) -> None:
    """Generated modules are formatted; the runtime copies are black-clean at black's default
    line length (as every `witgen/hostrt` file is)."""
    folder = Path(streaming.__file__).parent
    done = subprocess.run(
        [sys.executable, "-m", "black", "--check", "-q", str(folder)], capture_output=True
    )
    assert done.returncode == 0, done.stderr.decode()
    assert {"_async.py", "_asyncvals.py"} <= {p.name for p in folder.iterdir()}


# -- the streaming source: stream<data-record> and future<result<u64, plugin-error>> out


def test_a_synchronous_export_of_an_async_world(source: Any, streaming: ModuleType) -> None:
    types = importlib.import_module("streaming_bindings.types")
    info = source.info()
    assert info == types.PluginInfo("rust-async-source", "0.1.0", types.Capabilities.ORDERED)


def _expected(types: ModuleType, i: int) -> Any:
    return types.DataRecord(
        f"rec-{i}", 1_700_000_000_000 + i, i.to_bytes(8, "little"), [("source", "rust-async")]
    )


@settings(max_examples=15, deadline=None)
@given(st.integers(0, 2**40), st.integers(0, 700), st.integers(1, 300))
def test_records_stream_out_then_the_future_resolves(
    source: Any, streaming: ModuleType, position: int, count: int, chunk: int
) -> None:
    types = importlib.import_module("streaming_bindings.types")

    async def body() -> tuple[list[Any], Any]:
        records, resume = await source.read(position)
        got: list[Any] = []
        while len(got) < count:
            part = await records.read(min(chunk, count - len(got)))
            assert part is not None and 0 < len(part) <= chunk
            got.extend(part)
        records.close()  # the guest sees its stream dropped, stops and resolves the future
        return got, await resume

    got, resume = asyncio.run(body())
    assert got == [_expected(types, position + i) for i in range(count)]
    assert resume == streaming.Ok(position + count)


def test_the_stream_is_an_async_iterator(source: Any, streaming: ModuleType) -> None:
    async def body() -> list[Any]:
        records, resume = await source.streaming_source.read(7)
        got = []
        async for record in records:
            got.append(record)
            if len(got) == 300:
                break
        records.close()
        resumed = await resume
        assert isinstance(resumed, streaming.Ok) and resumed.value >= 7 + 300
        return got

    assert [r.id for r in asyncio.run(body())] == [f"rec-{7 + i}" for i in range(300)]


# -- the streaming destination: stream<data-record> in


def _digest(records: list[Any]) -> int:
    """What the destination guest computes over what it received (see its lib.rs)."""
    total = 0
    for r in records:
        total += r.timestamp + len(r.id.encode()) + len(r.payload) + sum(r.payload)
        total += sum(len(k.encode()) + len(v.encode()) for k, v in r.metadata)
    return total % 2**64


def _records(types: ModuleType) -> st.SearchStrategy[list[Any]]:
    return st.lists(
        st.builds(
            types.DataRecord,
            st.text(max_size=12),
            st.integers(-(2**63), 2**63 - 1),
            st.binary(max_size=40),
            st.lists(st.tuples(st.text(max_size=6), st.text(max_size=6)), max_size=3),
        ),
        max_size=200,
    )


@settings(max_examples=20, deadline=None)
@given(st.data())
def test_records_stream_into_a_rust_destination(
    destination: Any, streaming: ModuleType, data: st.DataObject
) -> None:
    types = importlib.import_module("streaming_bindings.types")
    records = data.draw(_records(types))
    assert asyncio.run(destination.write(records)) == streaming.Ok(_digest(records))


def test_an_async_generator_feeds_the_stream(destination: Any, streaming: ModuleType) -> None:
    types = importlib.import_module("streaming_bindings.types")
    records = [types.DataRecord(f"r{i}", i, bytes([i % 256]), []) for i in range(300)]

    async def produce() -> AsyncIterator[Any]:
        for record in records:
            await asyncio.sleep(0)
            yield record

    assert asyncio.run(destination.write(produce())) == streaming.Ok(_digest(records))


def test_a_wrong_value_names_the_function(destination: Any) -> None:
    with pytest.raises(TypeError, match="write"):
        asyncio.run(destination.write(5))


# -- broad.wit: futures and streams in parameters, results, records and options; async imports


class BroadHost:
    """The world-level async imports of `broad`."""

    async def double(self, s: str, n: int) -> str:
        await asyncio.sleep(0)  # the guest waits for the subtask
        return s * 2 + str(n)

    async def sink(self, data: Any) -> int:
        return len([byte async for byte in data])


class Clock:
    async def now(self, after_ms: int) -> int:
        await asyncio.sleep(0)
        return 1_000_000 + after_ms


@pytest.fixture(scope="module")
def broad(broad_pkg: ModuleType) -> Any:
    _need_rust()
    import test_rust_async_sdk

    component = test_rust_async_sdk.build_broad()
    return broad_pkg.Broad.load(component, imports=BroadHost(), clock=Clock())


async def _ready(value: Any) -> Any:
    await asyncio.sleep(0)
    return value


@settings(max_examples=20, deadline=None)
@given(st.lists(st.text(max_size=12), max_size=40))
def test_a_stream_and_a_future_in_a_stream_out(broad: Any, pieces: list[str]) -> None:
    data = b"".join(p.encode() for p in pieces)

    async def body() -> list[str]:
        sizes = _ready([len(p.encode()) for p in pieces])
        out = await broad.split(data, sizes)  # bytes are an iterable of u8
        return [piece async for piece in out]

    assert asyncio.run(body()) == pieces


@settings(max_examples=10, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_a_world_level_export_returns_a_future(broad: Any, n: int) -> None:
    async def body() -> Any:
        return await (await broad.top(n))

    assert asyncio.run(body()) == str(n)


@settings(max_examples=15, deadline=None)
@given(st.text(max_size=20), st.integers(0, 2**32 - 1))
def test_an_async_export_awaits_async_imports(broad: Any, s: str, n: int) -> None:
    expected = (s * 2 + str(n), 1_000_000 + n + len(s.encode()))
    assert asyncio.run(broad.relay(s, n)) == expected


@settings(max_examples=15, deadline=None)
@given(st.text(max_size=10), st.binary(max_size=200))
def test_a_record_with_a_stream_in_and_an_optional_future_out(
    broad: Any, broad_pkg: ModuleType, name: str, body: bytes
) -> None:
    pipes = importlib.import_module("broad_bindings.pipes")

    async def run() -> Any:
        future = await broad.wrap(pipes.Framed(name, body))
        assert future is not None
        return await future

    assert asyncio.run(run()) == len(name.encode()) + len(body)


def test_error_contexts_both_ways(broad: Any, broad_pkg: ModuleType) -> None:
    values = importlib.import_module("broad_bindings._asyncvals")
    got = asyncio.run(broad.fail(values.ErrorContext("sent by the host")))
    assert isinstance(got, broad_pkg.Err)
    assert got.value.debug_message == "failed on purpose"


def test_a_synchronous_export_returns_a_stream(broad: Any) -> None:
    async def body() -> Any:
        stream = broad.plain()  # the guest ended it at once
        return await stream.read(4)

    assert asyncio.run(body()) is None


def test_an_async_export_without_a_result(broad: Any) -> None:
    assert asyncio.run(broad.pipes.nothing()) is None
