"""Payload-less streams and futures (`stream`, `future` without element type) on the async host.

wit-component names their built-ins without a function's type index: `$root`
`[stream-new-unit]`, `[async-lower][stream-read-unit]`, `[stream-cancel-write-unit]`,
`[future-new-unit]`... (in an interface's module too, after a function name). wit-bindgen's
`inter-task-wakeup` feature imports them: a task sleeps reading its own unit stream and another
task wakes it with a write (a self-pipe). `host_unit.wat` (WIT: host_unit.wit) does that by
hand and copies units every other way: within one task (reader or writer first, async and
sync built-ins), to and from the host, through a unit future, with cancellation, and misused.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any, Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wat_component import wat_component
from witgen.hostrt import _async
from witgen.hostrt._runtime import PluginTrap

HERE = Path(__file__).parent
API = "test:hostunit/api@1.0.0"
EXPORT = f"[export]{API}"
COMPLETED, DROPPED, CANCELLED = 0, 1, 2
STREAM_READ, STREAM_WRITE, FUTURE_READ = 2, 3, 4


@pytest.fixture(scope="module")
def component(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    out = tmp_path_factory.mktemp("host-unit")
    return wat_component(out, HERE / "host_unit.wat", HERE / "host_unit.wit")


class Guest:
    """host_unit.wat's exports; `count` takes the units the host writes (`units`)."""

    def __init__(self, component: bytes) -> None:
        plugin = _async.AsyncPlugin.__new__(_async.AsyncPlugin)
        u32 = _async.PayloadType("u32", _async.number_codec(plugin, "u32"))
        self.writers: list[asyncio.Future[int]] = []

        def numbers_in(state: _async.InstanceState, args: Sequence[Any]) -> list[int]:
            return [int(a) for a in args]

        def units_in(state: _async.InstanceState, args: Sequence[Any]) -> list[int]:
            index, writer = _async.lower_stream(state, _async.UNIT)
            self.writers.append(asyncio.ensure_future(self._feed(writer, args[0])))
            return [index]

        def u32_out(state: _async.InstanceState, flat: Sequence[int | float]) -> int:
            return int(flat[0]) & 0xFFFFFFFF

        def stream_out(
            state: _async.InstanceState, flat: Sequence[int | float]
        ) -> _async.StreamReader:
            return _async.lift_stream(state, int(flat[0]), _async.UNIT)

        def export(name: str, lower: Any, lift: Any = u32_out) -> _async.AsyncExport:
            return _async.AsyncExport(f"[async-lift]{API}#{name}", EXPORT, name, lower, lift)

        names = ("sleep", "wake", "pipe", "signal", "cancels", "misuse")
        exports = {name: export(name, numbers_in) for name in names}
        exports["ticks"] = export("ticks", numbers_in, stream_out)
        exports["count"] = export("count", units_in)
        _async.AsyncPlugin.__init__(
            plugin,
            component,
            exports,
            {(API, "u32s", 0): u32},  # the -unit built-ins need no entry
            {(EXPORT, name): ("i32",) for name in exports},
        )
        self.plugin = plugin

    @staticmethod
    async def _feed(writer: _async.StreamWriter, chunks: Sequence[int]) -> int:
        taken = 0
        for n in chunks:
            taken += await writer.write([None] * n)
        writer.close()
        return taken


@pytest.fixture(scope="module")
def guest(component: bytes) -> Guest:
    return Guest(component)


def run(coro: Any) -> Any:
    return asyncio.run(coro)


def test_the_core_module_imports_unit_built_ins(component: bytes, guest: Guest) -> None:
    names = {name for _, name in guest.plugin.info.imports}
    assert {"[stream-new-unit]", "[async-lower][stream-read-unit]", "[future-new-unit]"} <= names
    assert "[async-lower][stream-read-unit]count" in names


@pytest.mark.parametrize("n", [1, 3])
def test_a_task_sleeping_on_its_pipe_is_woken_by_another_task(guest: Guest, n: int) -> None:
    """The self-pipe of wit-bindgen's inter-task wakeups: the write completes at once with the
    one unit the sleeping read asked for; the reader's task then gets STREAM_READ."""

    async def body() -> tuple[int, int, int]:
        sleeping = await guest.plugin.start("sleep")
        for _ in range(3):
            await asyncio.sleep(0)
        assert not sleeping.result.done()
        # a zero-length write completes without waking the reader
        idle = await guest.plugin.call("wake", 0)
        for _ in range(3):
            await asyncio.sleep(0)
        assert not sleeping.result.done()
        return idle, await guest.plugin.call("wake", n), await sleeping

    state = guest.plugin.state()
    assert run(body()) == (COMPLETED, COMPLETED | 1 << 4, COMPLETED | 1 << 4)
    assert guest.plugin._state is state  # no trap: the same instance
    assert all(h is None for h in state.handles.items)  # every pipe end and set was dropped


def test_the_sleeping_task_takes_a_host_cancellation(guest: Guest) -> None:
    """TASK_CANCELLED reaches the task that sleeps on its pipe; its synchronous cancel-read
    gives CANCELLED with nothing copied and the task returns a value after all."""

    async def body() -> int:
        call = await guest.plugin.start("sleep")
        for _ in range(3):
            await asyncio.sleep(0)
        call.cancel()
        return int(await call)

    state = guest.plugin.state()
    assert run(body()) == 0x1000 | CANCELLED
    assert guest.plugin._state is state
    assert run(guest.plugin.call("pipe", 2, False)) >> 24 == STREAM_READ


@settings(max_examples=20, deadline=None)
@given(n=st.integers(1, 200), write_first=st.booleans())
def test_one_task_copies_units_to_itself(guest: Guest, n: int, write_first: bool) -> None:
    """The reader asks for 8 units at an address beyond memory (no payload: nothing is copied or
    checked); whichever side comes second completes at once through the synchronous built-in,
    the first gets its event with the same count."""
    got = run(guest.plugin.call("pipe", n, int(write_first)))
    moved = COMPLETED | min(n, 8) << 4
    event = STREAM_WRITE if write_first else STREAM_READ
    assert got == event << 24 | moved << 12 | moved


def test_a_unit_future_written_and_read_by_one_task(guest: Guest) -> None:
    assert run(guest.plugin.call("signal")) == FUTURE_READ << 8 | COMPLETED << 4 | COMPLETED


def test_unit_copies_are_cancelled_sync_and_async(guest: Guest) -> None:
    assert run(guest.plugin.call("cancels")) == CANCELLED << 8 | CANCELLED


@settings(max_examples=15, deadline=None)
@given(st.integers(0, 2000))
def test_a_unit_stream_to_the_host(guest: Guest, n: int) -> None:
    async def body() -> list[Any]:
        reader = await guest.plugin.call("ticks", n)
        return [value async for value in reader]

    assert run(body()) == [None] * n


@settings(max_examples=15, deadline=None)
@given(st.lists(st.integers(0, 40), max_size=8))
def test_a_unit_stream_from_the_host(guest: Guest, chunks: list[int]) -> None:
    """The guest reads with the unit built-in an interface names after `count`: the stream
    type of `count`'s signature and `UNIT` are one type."""

    async def body() -> tuple[int, int]:
        counted = await guest.plugin.call("count", chunks)
        return counted, await guest.writers[-1]

    assert run(body()) == (sum(chunks), sum(chunks))


@pytest.mark.parametrize(
    "kind, message",
    [
        (1, "another payload type"),
        (2, "another payload type"),
        (3, "a synchronous copy would block"),
        (4, "dropped during a copy"),
        (5, "no copy to cancel"),
        (6, "not idle"),
        (7, "no handle"),
    ],
)
def test_misused_unit_built_ins_trap_and_the_host_survives(
    guest: Guest, kind: int, message: str
) -> None:
    with pytest.raises(PluginTrap, match=message):
        run(guest.plugin.call("misuse", kind))
    assert run(guest.plugin.call("pipe", 5, 1)) >> 24 == STREAM_WRITE
