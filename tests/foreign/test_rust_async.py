"""A guest built with the `wit-bindgen` crate's async support (tests/foreign/guests/async-shapes:
async exports, `spawn_local` writers, `wit_stream`/`wit_future`), run on witgen's async host
through the bindings `witgen generate --lang python` makes for tests/foreign/wit/async.wit.

Covers async exports with plain values, stream<u8> and stream<record> out (with a future
beside), streams in, a stream transformed while it flows, futures in and out (with a result),
async host imports awaited one after another and a host import reading a stream the guest
writes concurrently.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any, AsyncIterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.foreign import guests


class HostIo:
    def __init__(self) -> None:
        self.values = {"a": b"\x01\x02", "empty": b""}
        self.logged: list[str] = []

    def log(self, msg: str) -> None:
        self.logged.append(msg)

    async def fetch(self, key: str) -> bytes | None:
        await asyncio.sleep(0)
        return self.values.get(key)

    async def collect(self, items: Any) -> int:
        return sum([it.id async for it in items])


@pytest.fixture(scope="module")
def host_io() -> HostIo:
    return HostIo()


@pytest.fixture(scope="module")
def plugin(host_io: HostIo) -> Any:
    component = guests.build("async-shapes")
    guests.bindings("async-shapes")
    from foreign_async import AsyncShapes

    return AsyncShapes.load(component, host_io=host_io)


def item(i: int) -> Any:
    from foreign_async.host_io import Item

    return Item(id=i, name=f"item-{i}", tags=[f"t{t}" for t in range(i % 4)], score=i / 2)


def test_sync_export_of_an_async_world(plugin: Any) -> None:
    assert plugin.version() == "wit-bindgen async"


@settings(max_examples=20, deadline=None)
@given(st.text(max_size=30), st.integers(0, 2**32 - 1))
def test_async_export(plugin: Any, s: str, n: int) -> None:
    assert asyncio.run(plugin.echo(s, n)) == f"{s}:{n}"


@settings(max_examples=15, deadline=None)
@given(st.integers(0, 5000), st.integers(1, 700), st.integers(1, 900))
def test_stream_of_bytes_out(plugin: Any, n: int, chunk: int, read: int) -> None:
    async def body() -> bytes:
        stream = await plugin.count_bytes(n, chunk)
        got = bytearray()
        while True:
            part = await stream.read(read)
            if part is None:
                return bytes(got)
            got += bytes(part)

    assert asyncio.run(body()) == bytes(i % 256 for i in range(n))


@settings(max_examples=15, deadline=None)
@given(st.integers(0, 2**31), st.integers(0, 300), st.integers(1, 64))
def test_stream_of_records_and_a_future_out(plugin: Any, start: int, n: int, read: int) -> None:
    async def body() -> tuple[list[Any], int]:
        stream, written = await plugin.items(start, n)
        got: list[Any] = []
        while True:
            part = await stream.read(read)
            if part is None:
                break
            got.extend(part)
        return got, await written

    got, written = asyncio.run(body())
    assert got == [item(start + i) for i in range(n)] and written == n


def test_host_drops_the_record_stream_early(plugin: Any) -> None:
    async def body() -> tuple[list[Any], int]:
        stream, written = await plugin.items(10, 1000)
        got: list[Any] = []
        while len(got) < 5:  # the guest writes one item at a time: reads may be short
            got.extend(await stream.read(5 - len(got)) or [])
        stream.close()
        return got, await written

    got, written = asyncio.run(body())
    assert got == [item(10 + i) for i in range(5)]
    assert 5 <= written < 1000  # the guest saw the stream dropped and stopped


@settings(max_examples=15, deadline=None)
@given(st.binary(max_size=3000))
def test_stream_of_bytes_in(plugin: Any, data: bytes) -> None:
    assert asyncio.run(plugin.sum_bytes(data)) == sum(data)


def test_stream_in_from_an_async_generator(plugin: Any) -> None:
    async def produce() -> AsyncIterator[int]:
        for i in range(1000):
            if i % 100 == 0:
                await asyncio.sleep(0)
            yield i % 256

    assert asyncio.run(plugin.sum_bytes(produce())) == sum(i % 256 for i in range(1000))


@settings(max_examples=15, deadline=None)
@given(st.lists(st.integers(0, 2**32 - 1), max_size=80), st.text(max_size=5))
def test_stream_transformed_while_it_flows(plugin: Any, ids: list[int], suffix: str) -> None:
    from dataclasses import replace

    items = [item(i) for i in ids]

    async def body() -> list[Any]:
        out = await plugin.rename(items, suffix)
        return [x async for x in out]

    want = [replace(it, name=it.name + suffix, tags=it.tags[::-1]) for it in items]
    assert asyncio.run(body()) == want


@settings(max_examples=15, deadline=None)
@given(st.text(max_size=40))
def test_future_in(plugin: Any, s: str) -> None:
    async def value() -> str:
        await asyncio.sleep(0)
        return s

    assert asyncio.run(plugin.await_value(value())) == f"got {s}"


@pytest.mark.parametrize("fail", [False, True])
def test_future_of_a_result_out(plugin: Any, fail: bool) -> None:
    from foreign_async import Err, Ok

    async def body() -> Any:
        return await (await plugin.later(21, fail))

    assert asyncio.run(body()) == (Err("failed 21") if fail else Ok(42))


def test_async_host_imports(plugin: Any) -> None:
    got = asyncio.run(plugin.lookup(["a", "zz", "empty", "a"]))
    assert got == [b"\x01\x02", None, b"", b"\x01\x02"]


@pytest.mark.parametrize("n", [0, 1, 100, 2000])
def test_host_import_reads_a_stream_the_guest_writes(plugin: Any, n: int) -> None:
    assert asyncio.run(plugin.forward(n)) == sum(range(n))


def test_a_future_dropped_unwritten_brings_the_default(plugin: Any) -> None:
    async def body() -> Any:
        return await (await plugin.abandon())

    assert asyncio.run(body()) == 7


def test_calls_run_concurrently_on_one_instance(plugin: Any) -> None:
    async def body() -> list[Any]:
        async def streamed(start: int) -> list[Any]:
            stream, written = await plugin.items(start, 50)
            got = [x async for x in stream]
            assert await written == 50
            return got

        return list(
            await asyncio.gather(
                plugin.echo("a", 1),
                streamed(0),
                plugin.sum_bytes(bytes(range(256)) * 4),
                streamed(1000),
                plugin.echo("b", 2),
                plugin.fetch_both("a", "nope"),
            )
        )

    got = asyncio.run(body())
    assert got[0] == "a:1" and got[4] == "b:2"
    assert got[1] == [item(i) for i in range(50)] and got[3] == [item(1000 + i) for i in range(50)]
    assert got[2] == sum(range(256)) * 4
    assert got[5] == (b"\x01\x02", None)


def test_the_host_cancels_an_async_call(plugin: Any, host_io: HostIo) -> None:
    """Without wit-bindgen's `inter-task-wakeup` feature the guest cannot take a cancellation
    while a spawned task sleeps: it panics (its message reaches the host's `log`). The host
    ends the call with CancelledError at once and the next calls get a working instance."""
    host_io.logged.clear()

    async def body() -> tuple[int, str]:
        never: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        call = asyncio.ensure_future(plugin.wait_for(never))
        await asyncio.sleep(0.05)
        call.cancel()
        with pytest.raises(asyncio.CancelledError):
            await call
        ready: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        ready.set_result(41)
        return await plugin.wait_for(ready), await plugin.echo("after", 1)

    assert asyncio.run(body()) == (42, "after:1")
    assert len(host_io.logged) == 1 and "inter-task-wakeup" in host_io.logged[0]


def test_a_guest_with_inter_task_wakeups_takes_the_cancellation() -> None:
    """With `inter-task-wakeup` the guest wakes its sleeping task through a payload-less stream
    it writes to itself (wit-component's `$root` `[stream-new-unit]`, `[async-lower]
    [stream-read-unit]`, ...): it takes the cancellation with task.cancel and keeps working."""
    component = guests.build("async-wakeup")
    guests.bindings("async-wakeup")
    from foreign_async import AsyncShapes

    host = HostIo()
    plugin = AsyncShapes.load(component, host_io=host)

    async def body() -> int:
        never: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        call = asyncio.ensure_future(plugin.wait_for(never))
        await asyncio.sleep(0.05)
        call.cancel()
        with pytest.raises(asyncio.CancelledError):
            await call
        await asyncio.sleep(0.05)  # the guest resolves the cancelled task in the background
        ready: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        ready.set_result(41)
        return await plugin.wait_for(ready)

    assert asyncio.run(body()) == 42
    assert plugin.cancelled() == 1 and host.logged == []  # the same instance, no panic
    assert asyncio.run(plugin.forward(100)) == sum(range(100))


def test_error_contexts_both_ways(plugin: Any) -> None:
    from foreign_async import Err, Ok
    from foreign_async._asyncvals import ErrorContext

    assert asyncio.run(plugin.errors(False, ErrorContext("from the host"))) == Ok("from the host")
    got = asyncio.run(plugin.errors(True, ErrorContext("why")))
    assert isinstance(got, Err) and got.value.debug_message == "guest: why"
