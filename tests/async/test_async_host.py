"""The fast path's async built-ins (`witgen/hostrt/_async.py`) against a hand-written guest.

`guest.wat` is a core module using the callback ABI; wasm-tools turns it into a component
(`component embed guest.wit` + `component new`, which checks every built-in name and type),
and the host runs its core module. Values drawn by Hypothesis go through streams (both
directions) and futures; misuse of the async ABI must be a `PluginTrap`, after which the next
call runs on a fresh instance.
"""

from __future__ import annotations

import asyncio
import struct
from pathlib import Path
from typing import Any, Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wat_component import wat_component
from witgen.hostrt import _async
from witgen.hostrt._runtime import Limits, PluginTimeout, PluginTrap

HERE = Path(__file__).parent
API = "test:asyncguest/api@1.0.0"
EXPORT = f"[export]{API}"
HOST = "test:asyncguest/host@1.0.0"


@pytest.fixture(scope="module")
def component(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    out = tmp_path_factory.mktemp("async-guest")
    return wat_component(out, HERE / "guest.wat", HERE / "guest.wit")


def _number_codec(plugin: _async.AsyncPlugin, fmt: str) -> _async.Codec:
    size = struct.calcsize(fmt)
    return _async.Codec(
        size,
        size,
        lambda ptr: struct.unpack_from(fmt, plugin.view(), ptr)[0],
        lambda value, ptr: struct.pack_into(fmt, plugin.view(), ptr, value),
    )


class Guest:
    """The test guest's exports as coroutines (what generated bindings would provide)."""

    def __init__(self, component: bytes, limits: Limits | None = None, bulk: bool = False) -> None:
        self.writers: list[_async.StreamWriter] = []
        payloads: dict[tuple[str, str, int], _async.PayloadType] = {}
        plugin = _async.AsyncPlugin.__new__(_async.AsyncPlugin)
        if bulk:  # whole buffers with one struct call
            u32, u64 = _async.number_codec(plugin, "u32"), _async.number_codec(plugin, "u64")
        else:  # element by element
            u32, u64 = _number_codec(plugin, "<I"), _number_codec(plugin, "<Q")
        self.u32 = _async.PayloadType("u32", u32)
        self.u64 = _async.PayloadType("u64", u64)
        for func in ("echo", "read-dropped"):
            payloads[(API, func, 0)] = self.u32
        payloads[(API, "produce", 0)] = self.u64
        payloads[(API, "later", 0)] = self.u32

        def stream_in(state: _async.InstanceState, args: Sequence[Any]) -> list[int]:
            handle, writer = _async.lower_stream(state, self.u32)
            self.writers.append(writer)
            return [handle]

        def number_in(state: _async.InstanceState, args: Sequence[Any]) -> list[int]:
            return [int(args[0])]

        def nothing_in(state: _async.InstanceState, args: Sequence[Any]) -> list[int]:
            return []

        def stream_out(t: _async.PayloadType) -> Any:
            return lambda state, flat: _async.lift_stream(state, flat[0], t)

        exports = {
            "echo": (stream_in, stream_out(self.u32)),
            "produce": (number_in, stream_out(self.u64)),
            "later": (number_in, lambda state, flat: _async.lift_future(state, flat[0], self.u32)),
            "yielder": (number_in, lambda state, flat: flat[0] & 0xFFFFFFFF),
            "make-error": (
                nothing_in,
                lambda state, flat: _async.lift_error_context(state, flat[0]),
            ),
            "return-twice": (nothing_in, lambda state, flat: flat[0]),
            "no-return": (nothing_in, lambda state, flat: flat[0]),
            "read-dropped": (stream_in, lambda state, flat: flat[0]),
            "call-host": (number_in, lambda state, flat: flat[0] & 0xFFFFFFFF),
            "drop-early": (number_in, lambda state, flat: flat[0]),
            "spin": (nothing_in, lambda state, flat: flat[0]),
        }
        returns = {(EXPORT, name): ("i32",) for name in exports}
        _async.AsyncPlugin.__init__(
            plugin,
            component,
            {
                name: _async.AsyncExport(f"[async-lift]{API}#{name}", EXPORT, name, lower, lift)
                for name, (lower, lift) in exports.items()
            },
            payloads,
            returns,
            limits=limits,
            imports={
                (HOST, "[async-lower]fetch"): _async.AsyncImport(
                    ("i32", "i32"),
                    lambda state, flat: [int(flat[0]) & 0xFFFFFFFF],
                    lambda state, value, ptr: plugin.write(ptr, value.to_bytes(4, "little")),
                    self.fetch,
                )
            },
        )
        self.plugin = plugin
        self.fetched: list[int] = []

    async def fetch(self, x: int) -> int:
        """The async host import: answers after the event loop ran other work."""
        await asyncio.sleep(0)
        self.fetched.append(x)
        return (x * 3) & 0xFFFFFFFF

    async def echo(self, values: list[int]) -> list[int]:
        """Writes `values` into the guest's input stream while reading its output stream."""
        reader = await self.plugin.call("echo")
        writer = self.writers.pop()

        async def feed() -> None:
            assert await writer.write(values) == len(values)
            writer.close()

        feeding = asyncio.ensure_future(feed())
        out = await _async.gather_stream(reader)
        await feeding
        return out


@pytest.fixture(scope="module", params=["per-element", "bulk"])
def guest(component: bytes, request: pytest.FixtureRequest) -> Guest:
    return Guest(component, bulk=request.param == "bulk")


def run(coro: Any) -> Any:
    return asyncio.run(coro)


@settings(max_examples=40)
@given(st.lists(st.integers(0, 2**32 - 1), max_size=300))
def test_stream_round_trip_host_to_guest_to_host(guest: Guest, values: list[int]) -> None:
    assert run(guest.echo(values)) == values


@settings(max_examples=25)
@given(st.integers(0, 2000), st.integers(1, 700))
def test_stream_from_guest_in_host_sized_reads(guest: Guest, n: int, chunk: int) -> None:
    async def body() -> list[int]:
        reader = await guest.plugin.call("produce", n)
        got: list[int] = []
        while True:
            part = await reader.read(chunk)
            if part is None:
                return got
            assert 0 < len(part) <= chunk
            got.extend(part)

    assert run(body()) == list(range(n))


@settings(max_examples=40)
@given(st.integers(0, 2**32 - 1))
def test_future_carries_the_value_kept_in_task_context(guest: Guest, x: int) -> None:
    async def body() -> int:
        future = await guest.plugin.call("later", x)
        return int(await future)

    assert run(body()) == x


@given(st.lists(st.integers(0, 50), min_size=1, max_size=6))
def test_concurrent_tasks_keep_their_own_context(guest: Guest, counts: list[int]) -> None:
    async def body() -> list[int]:
        return list(await asyncio.gather(*(guest.plugin.call("yielder", n) for n in counts)))

    assert run(body()) == counts


def test_error_context_message_round_trip(guest: Guest) -> None:
    errctx = run(guest.plugin.call("make-error"))
    assert errctx.debug_message == "boom: async"
    # the guest read the message back with error-context.debug-message into (ptr, len) at 600
    ptr, length = struct.unpack_from("<II", guest.plugin.view(), 600)
    assert bytes(guest.plugin.view()[ptr : ptr + length]) == b"boom: async"


def test_host_closing_a_stream_early_ends_the_guest_task(guest: Guest) -> None:
    async def body() -> list[int]:
        reader = await guest.plugin.call("produce", 100_000)
        first = await reader.read(10)
        reader.close()  # the guest's next write reports DROPPED; it drops its end and exits
        for _ in range(5):
            await asyncio.sleep(0)
        return first or []

    assert run(body()) == list(range(10))
    assert run(guest.plugin.call("yielder", 3)) == 3


@pytest.mark.parametrize(
    "export, message",
    [
        ("return-twice", "returned twice"),
        ("no-return", "exited without task.return"),
        ("read-dropped", "no handle"),
        ("drop-early", "dropped before its resolution was delivered"),
    ],
)
def test_misuse_is_a_typed_trap_and_the_host_survives(
    guest: Guest, export: str, message: str
) -> None:
    with pytest.raises(PluginTrap, match=message):

        async def body() -> Any:
            result = await guest.plugin.call(export, *([5] if export == "drop-early" else []))
            for _ in range(5):  # a trap after task.return reaches the host through the driver
                await asyncio.sleep(0)
            return result

        run(body())
    # a fresh instance serves the next call
    assert run(guest.plugin.call("yielder", 2)) == 2
    assert run(guest.echo([1, 2, 3])) == [1, 2, 3]


@settings(max_examples=30)
@given(st.integers(0, 2**32 - 1))
def test_async_host_import_is_a_subtask_the_guest_awaits(guest: Guest, x: int) -> None:
    assert run(guest.plugin.call("call-host", x)) == ((x * 3 + 1) & 0xFFFFFFFF)
    assert guest.fetched[-1] == x


@pytest.mark.parametrize("limits", [Limits(timeout=0.2), Limits(fuel=200_000)])
def test_limits_stop_a_guest_that_never_returns_to_the_host(
    component: bytes, limits: Limits
) -> None:
    guest = Guest(component, limits)
    with pytest.raises(PluginTimeout):
        run(guest.plugin.call("spin"))
    assert run(guest.plugin.call("yielder", 4)) == 4
