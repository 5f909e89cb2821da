"""Async resource functions of the generated Rust SDK, run by the Python async host.

tests/async/rust_tally is a guest of tests/async/wit/tally.wit: it exports a resource `counter`
with async methods (`add`, `label`, `linger`, which goes on after reporting its result) and an
async static function (`doubled`); the counter's value notes its drop through the host's `note`
import, so the host sees that the value outlives a drop of the resource by the host while a
method's task still runs, and goes exactly once. Its async
exports `probe` and `stash` call the async methods and static function of a resource it
imports from the host (`crate`; `put` has five flat parameters, so they go in memory). The
host binds them by hand (as the other tests here bind broad.wit): the resource intrinsics are
served as `SyncImport`s on the instance's handle table, the handles of exported resources
carry the guest's rep, and every value is checked.
"""

from __future__ import annotations

import asyncio
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import rust_source
from witgen import frontend, ir
from witgen.abi.codec import AbiContext
from witgen.abi.layout import Layouts
from witgen.hostrt import _async

TALLY_WIT = rust_source.ROOT / "tests" / "async" / "wit" / "tally.wit"
TALLY_SDK = rust_source.rust.TARGET_DIR / "async-tally-sdk"  # tests/async/rust_tally uses it
TALLY = "t:async-tally/tally"
SHELF = "t:async-tally/shelf"
U64 = (1 << 64) - 1


def build_tally() -> Path:
    return rust_source.build_guest(
        TALLY_WIT, "tally-guest", (TALLY_SDK, "tally-sdk"), "rust_tally", "async-tally"
    )


@pytest.fixture(scope="module")
def tally() -> Path:
    rust_source.require_rust()
    return build_tally()


@dataclass
class Rep:
    """A `counter` handle in the guest's table: the guest's own representation of it."""

    rep: int


@dataclass
class HostCrate:
    """A `crate` the host lends the guest (own handle in the guest's table)."""

    items: dict[str, bytes]
    dropped: bool = False
    kept: dict[str, list[int]] = field(default_factory=dict)


class TallyHost:
    def __init__(self, component: bytes) -> None:
        resolve = frontend.load(TALLY_WIT)
        layouts = Layouts(resolve)
        shelf = next(i for i in resolve.interfaces if i.name == "shelf")
        fetch = shelf.functions["[method]crate.fetch"]
        assert fetch.result is not None
        fetched = fetch.result
        probe = next(
            e.item.function
            for e in resolve.worlds[0].exports
            if isinstance(e.item, ir.WorldFunction) and e.item.function.name == "probe"
        )
        assert probe.result is not None
        probed = probe.result
        stash = next(
            e.item.function
            for e in resolve.worlds[0].exports
            if isinstance(e.item, ir.WorldFunction) and e.item.function.name == "stash"
        )
        stashed = stash.params[2].type  # list<s32>
        plugin = _async.AsyncPlugin.__new__(_async.AsyncPlugin)
        context = AbiContext(layouts, memory=plugin)
        self.crates: list[HostCrate] = []
        self.notes: list[str] = []  # the guest's `note` calls
        # when set, `[static]crate.count` answers only once the gate opens
        self.gate: asyncio.Event | None = None
        self.counts_cancelled = 0  # `count` calls the guest cancelled (`subtask.cancel`)

        def method(name: str) -> _async.AsyncExport:
            """`[method]counter.<name>`: the receiver is passed as the guest's rep."""
            return _async.AsyncExport(
                f"[async-lift]{TALLY}#[method]counter.{name}",
                f"[export]{TALLY}",
                f"[method]counter.{name}",
                lambda state, args: [args[0].rep, *self.lower_arg(context, args[1])],
                (
                    (lambda state, flat: int(flat[0]) & U64)
                    if name in ("add", "linger")
                    else (lambda state, flat: context.lift_flat(list(flat), "string"))
                ),
            )

        def doubled_result(state: _async.InstanceState, flat: Sequence[int | float]) -> Rep:
            # the own handle moves from the guest's table to the caller (the host)
            taken = state.handles.remove(int(flat[0]))
            assert isinstance(taken, Rep)
            return taken

        def new_counter(rep: int) -> int:
            return int(plugin.state().handles.add(Rep(rep)))

        def drop_crate(handle: int) -> None:
            crate = plugin.state().handles.remove(handle)
            assert isinstance(crate, HostCrate)
            crate.dropped = True

        _async.AsyncPlugin.__init__(
            plugin,
            component,
            {
                "add": method("add"),
                "label": method("label"),
                "linger": method("linger"),
                "doubled": _async.AsyncExport(
                    f"[async-lift]{TALLY}#[static]counter.doubled",
                    f"[export]{TALLY}",
                    "[static]counter.doubled",
                    lambda state, args: [int(args[0]) & U64],
                    doubled_result,
                ),
                "stash": _async.AsyncExport(
                    "[async-lift]stash",
                    "[export]$root",
                    "stash",
                    lambda state, args: [
                        state.handles.add(args[0]),
                        *context.lower_flat(args[1], "string"),
                        *context.lower_flat(args[2], stashed),
                    ],
                    lambda state, flat: int(flat[0]) & 0xFFFF_FFFF,
                ),
                "probe": _async.AsyncExport(
                    "[async-lift]probe",
                    "[export]$root",
                    "probe",
                    lambda state, args: [
                        state.handles.add(args[0]),
                        *context.lower_flat(args[1], "string"),
                    ],
                    lambda state, flat: context.lift_flat(list(flat), probed),
                ),
            },
            {},
            {
                (f"[export]{TALLY}", "[method]counter.add"): ("i64",),
                (f"[export]{TALLY}", "[method]counter.label"): ("i32", "i32"),
                (f"[export]{TALLY}", "[method]counter.linger"): ("i64",),
                (f"[export]{TALLY}", "[static]counter.doubled"): ("i32",),
                ("[export]$root", "probe"): tuple(layouts.of(probed).flat),
                ("[export]$root", "stash"): ("i32",),
            },
            imports={
                (SHELF, "[async-lower][method]crate.fetch"): _async.AsyncImport(
                    ("i32", "i32", "i32", "i32"),
                    lambda state, flat: [
                        state.handles.get(int(flat[0])),
                        plugin.read_text(int(flat[1]), int(flat[2])),
                    ],
                    lambda state, value, ptr: context.store(value, fetched, ptr),
                    self.fetch,
                ),
                # five flat parameters: the guest passes them in memory (a parameter area)
                (SHELF, "[async-lower][method]crate.put"): _async.AsyncImport(
                    ("i32", "i32"),
                    lambda state, flat: self.put_args(state, plugin, int(flat[0])),
                    lambda state, value, ptr: plugin.write(ptr, value.to_bytes(4, "little")),
                    self.put,
                ),
                (SHELF, "[async-lower][static]crate.count"): _async.AsyncImport(
                    ("i32",),
                    lambda state, flat: [],
                    lambda state, value, ptr: plugin.write(ptr, value.to_bytes(4, "little")),
                    self.count,
                ),
            },
            sync_imports={
                (f"[export]{TALLY}", "[resource-new]counter"): _async.SyncImport(
                    ("i32",), ("i32",), new_counter
                ),
                (SHELF, "[resource-drop]crate"): _async.SyncImport(("i32",), (), drop_crate),
                ("$root", "note"): _async.SyncImport(
                    ("i32", "i32"),
                    (),
                    lambda ptr, length: self.notes.append(plugin.read_text(ptr, length)),
                ),
            },
        )
        self.plugin = plugin

    @staticmethod
    def lower_arg(context: AbiContext, value: Any) -> list[Any]:
        return [value] if isinstance(value, int) else context.lower_flat(value, "string")

    async def fetch(self, crate: HostCrate, key: str) -> bytes:
        await asyncio.sleep(0)  # the guest waits for the subtask
        assert not crate.dropped
        return crate.items.get(key, b"")

    @staticmethod
    def put_args(state: _async.InstanceState, plugin: Any, area: int) -> list[Any]:
        """`put`'s parameter area: the crate's handle, then the key and the values (each a
        pointer and a length)."""
        handle, key_ptr, key_len, ptr, n = struct.unpack_from("<5I", plugin.view(), area)
        values = list(struct.unpack_from(f"<{n}i", plugin.view(), ptr))
        return [state.handles.get(handle), plugin.read_text(key_ptr, key_len), values]

    async def put(self, crate: HostCrate, key: str, values: list[int]) -> int:
        await asyncio.sleep(0)
        crate.kept[key] = values
        return sum(len(v) for v in crate.kept.values())

    def drop_counter(self, counter: Rep) -> None:
        """Drops the host's own handle of a counter: the guest's destructor runs now."""
        self.plugin._enter(f"{TALLY}#[dtor]counter", (counter.rep,))

    async def settled(self, notes: int) -> None:
        """Lets the guest's tasks run until it made `notes` notes (a bounded number of turns)."""
        for _ in range(1000):
            if len(self.notes) >= notes:
                return
            await asyncio.sleep(0)

    async def count(self) -> int:
        await asyncio.sleep(0)
        if self.gate is not None:
            try:
                await self.gate.wait()
            except asyncio.CancelledError:
                self.counts_cancelled += 1
                raise
        return sum(not c.dropped for c in self.crates)


@pytest.fixture(scope="module")
def host(tally: Path) -> TallyHost:
    return TallyHost(tally.read_bytes())


@settings(max_examples=25, deadline=None)
@given(st.integers(0, U64), st.lists(st.integers(0, 2**32 - 1), max_size=8), st.text(max_size=10))
def test_async_methods_and_static_of_an_exported_resource(
    host: TallyHost, start: int, adds: list[int], prefix: str
) -> None:
    async def body() -> tuple[list[int], str]:
        counter = await host.plugin.call("doubled", start)
        totals = [await host.plugin.call("add", counter, n) for n in adds]
        return totals, await host.plugin.call("label", counter, prefix)

    totals, label = asyncio.run(body())
    expected, total = [], (start * 2) & U64
    for n in adds:
        total = (total + n) & U64
        expected.append(total)
    assert totals == expected
    assert label == f"{prefix}{total}"


def test_two_counters_keep_their_own_totals(host: TallyHost) -> None:
    async def body() -> tuple[int, int]:
        a = await host.plugin.call("doubled", 5)
        b = await host.plugin.call("doubled", 100)
        await host.plugin.call("add", a, 1)
        return await host.plugin.call("add", a, 2), await host.plugin.call("add", b, 3)

    assert asyncio.run(body()) == (13, 203)


@settings(max_examples=25, deadline=None)
@given(
    st.dictionaries(st.text(max_size=6), st.binary(max_size=40), max_size=4),
    st.text(max_size=6),
    st.integers(0, 3),
)
def test_async_method_and_static_of_an_imported_resource(
    host: TallyHost, items: dict[str, bytes], key: str, others: int
) -> None:
    crate = HostCrate(items)
    host.crates[:] = [crate] + [HostCrate({}) for _ in range(others)]
    count, data = asyncio.run(host.plugin.call("probe", crate, key))
    assert crate.dropped  # the guest dropped its own handle before asking for the count
    assert count == others
    assert bytes(data) == items.get(key, b"")[::-1]


@settings(max_examples=25, deadline=None)
@given(st.text(max_size=8), st.lists(st.integers(-(2**31), 2**31 - 1), max_size=30))
def test_an_async_method_with_its_parameters_in_memory(
    host: TallyHost, key: str, values: list[int]
) -> None:
    crate = HostCrate({})
    host.crates[:] = [crate]
    total = asyncio.run(host.plugin.call("stash", crate, key, values))
    reversed_key = key[::-1]
    assert crate.kept == {key: values, reversed_key: values}
    # the host answered len(values) first, then the total it then kept
    assert total == len(values) + len(values) * len(crate.kept)
    assert crate.dropped


def test_a_counter_dropped_without_a_running_task_goes_at_once(host: TallyHost) -> None:
    async def body() -> None:
        counter = await host.plugin.call("doubled", 4)
        await host.plugin.call("add", counter, 1)
        host.notes.clear()
        host.drop_counter(counter)

    asyncio.run(body())
    assert host.notes == ["drop 9"]


@settings(max_examples=10, deadline=None)
@given(st.integers(0, 2**40), st.lists(st.integers(0, 2**32 - 1), min_size=1, max_size=3))
def test_the_host_drops_a_counter_while_its_method_tasks_run(
    host: TallyHost, start: int, lingers: list[int]
) -> None:
    """`linger` reports its result, then waits for the host; the host drops the counter
    right after the results arrived. Each task still uses its `self` when the host answers,
    and the value is dropped once, after the last of them."""
    host.notes.clear()

    async def body() -> tuple[list[int], list[str]]:
        host.gate = asyncio.Event()
        try:
            counter = await host.plugin.call("doubled", start)
            totals = [await host.plugin.call("linger", counter, n) for n in lingers]
            host.drop_counter(counter)  # the destructor gives up the handle's count only
            early = list(host.notes)
            host.gate.set()
            await host.settled(len(lingers) + 1)
            return totals, early
        finally:
            host.gate = None

    totals, early = asyncio.run(body())
    assert early == []  # every task still holds the value
    total = start * 2
    expected = []
    for n in lingers:
        total += n
        expected.append(total)
    assert totals == expected
    final = total + sum(lingers)
    *lingered, dropped = host.notes
    assert dropped == f"drop {final}"
    assert len(lingered) == len(lingers)
    assert all(line.startswith("linger ") for line in lingered)
    assert max(int(line.split()[1]) for line in lingered) == final


def test_the_host_cancels_a_task_waiting_for_an_async_import(host: TallyHost) -> None:
    """`probe` waits for `count`, which never answers: the host cancels the call. The guest
    drops the task's future, cancels the subtask (the host's coroutine ends cancelled), drops
    it once resolved and reports `task.cancel`; the instance goes on serving calls."""

    async def body() -> tuple[int, int]:
        host.gate = asyncio.Event()  # never set: `count` waits until cancelled
        try:
            crate = HostCrate({"k": b"abc"})
            host.crates[:] = [crate]
            call = await host.plugin.start("probe", crate, "k")
            for _ in range(20):  # the guest reaches `count` and waits
                await asyncio.sleep(0)
            assert not call.result.done()
            call.cancel()
            with pytest.raises(asyncio.CancelledError):
                await call
            cancelled = host.counts_cancelled
        finally:
            host.gate = None
        host.crates[:] = [HostCrate({"k": b"xy"}), HostCrate({})]
        count, data = await host.plugin.call("probe", host.crates[0], "k")
        assert bytes(data) == b"yx"
        return cancelled, count

    before = host.counts_cancelled
    cancelled, count = asyncio.run(body())
    assert cancelled == before + 1  # the host's import coroutine was cancelled
    assert count == 1
