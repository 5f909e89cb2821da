"""Cancellation on the async host, async host imports without a result, and the spec's traps.

`host_cases.wat` (WIT: host_cases.wit) is a hand-written callback-lifted guest:

* the host cancels an async export call (asyncio cancellation of `AsyncPlugin.call`): the guest
  gets TASK_CANCELLED while it waits or yields and resolves with `task.cancel` (the call ends
  cancelled) or with `task.return` (the call returns the value after all);
* the guest cancels a subtask of an async host import (`[async-lower][subtask-cancel]`): the
  host coroutine is cancelled and the subtask resolves CANCELLED_BEFORE_RETURNED, or RETURNED
  when the coroutine returns anyway;
* host imports without a result and without parameters;
* every trap condition of `definitions.py`'s async built-ins that a callback-lifted guest can
  reach: each is a `PluginTrap` naming the violation, and the next call runs on a fresh
  instance.
"""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any, Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wat_component import wat_component
from witgen.hostrt import _async
from witgen.hostrt._runtime import PluginTrap

HERE = Path(__file__).parent
API = "test:hostcases/api@1.0.0"
EXPORT = f"[export]{API}"
HOST = "test:hostcases/host@1.0.0"


@pytest.fixture(scope="module")
def component(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    out = tmp_path_factory.mktemp("host-cases")
    return wat_component(out, HERE / "host_cases.wat", HERE / "host_cases.wit")


class Guest:
    """host_cases.wat's exports as coroutines, with the host imports it calls."""

    def __init__(self, component: bytes) -> None:
        plugin = _async.AsyncPlugin.__new__(_async.AsyncPlugin)
        u32 = _async.PayloadType("u32", _async.number_codec(plugin, "u32"))
        u64 = _async.PayloadType("u64", _async.number_codec(plugin, "u64"))
        self.notified: list[int] = []
        self.pinged = 0
        self.hang_cancelled: list[int] = []

        def number_in(state: _async.InstanceState, args: Sequence[Any]) -> list[int]:
            return [int(args[0])]

        def nothing_in(state: _async.InstanceState, args: Sequence[Any]) -> list[int]:
            return []

        def u32_out(state: _async.InstanceState, flat: Sequence[int | float]) -> int:
            return int(flat[0]) & 0xFFFFFFFF

        def export(name: str, lower: Any, key: str = "u32") -> _async.AsyncExport:
            return _async.AsyncExport(
                f"[async-lift]{API}#{name}", EXPORT, name, lower, u32_out, result_key=key
            )

        exports = {
            name: export(name, number_in)
            for name in ("wait-cancel", "cancel-host", "call-void", "misuse")
        }
        exports.update({name: export(name, nothing_in) for name in ("yield-cancel", "same-type")})
        exports["u32s"] = export("u32s", number_in, "u64")  # only its task.return is used
        returns = {(EXPORT, name): ("i32",) for name in exports}
        returns[(EXPORT, "u32s")] = ("i64",)

        def first(state: _async.InstanceState, flat: Sequence[int | float]) -> list[int]:
            return [int(flat[0]) & 0xFFFFFFFF]

        def write_u32(state: _async.InstanceState, value: int, ptr: int) -> None:
            plugin.write(ptr, value.to_bytes(4, "little"))

        _async.AsyncPlugin.__init__(
            plugin,
            component,
            exports,
            {(API, "u32s", 0): u32, (API, "u64s", 0): u64, (API, "u32f", 0): u32},
            returns,
            imports={
                (HOST, "[async-lower]hang"): _async.AsyncImport(
                    ("i32", "i32"), first, write_u32, self.hang
                ),
                (HOST, "[async-lower]notify"): _async.AsyncImport(
                    ("i32",), first, None, self.notify
                ),
                (HOST, "[async-lower]ping"): _async.AsyncImport(
                    (), lambda state, flat: [], None, self.ping
                ),
            },
        )
        self.plugin = plugin

    async def hang(self, mode: int) -> int:
        """Waits until cancelled; mode 1 returns 7 when cancelled instead of ending cancelled."""
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            self.hang_cancelled.append(mode)
            if mode == 1:
                return 7
            raise
        raise AssertionError("unreachable")

    async def notify(self, x: int) -> None:
        await asyncio.sleep(0)
        self.notified.append(x)

    async def ping(self) -> None:
        self.pinged += 1


@pytest.fixture(scope="module")
def guest(component: bytes) -> Guest:
    return Guest(component)


def run(coro: Any) -> Any:
    return asyncio.run(coro)


async def start_then_cancel(plugin: _async.AsyncPlugin, name: str, *args: Any) -> Any:
    """`AsyncPlugin.start`, `Call.cancel()` once the guest waits, then the guest's answer."""
    call = await plugin.start(name, *args)
    for _ in range(3):
        await asyncio.sleep(0)
    assert not call.result.done()
    call.cancel()
    return await call


@pytest.mark.parametrize("export", ["wait-cancel", "yield-cancel"])
def test_host_cancels_a_call_and_the_guest_cancels_its_task(guest: Guest, export: str) -> None:
    args = [0] if export == "wait-cancel" else []
    with pytest.raises(asyncio.CancelledError):
        run(start_then_cancel(guest.plugin, export, *args))
    # the instance lives on: no trap, the same instance serves the next call
    state = guest.plugin._state
    assert run(guest.plugin.call("call-void", 1)) == 2
    assert guest.plugin._state is state


@settings(max_examples=10)
@given(st.integers(1, 2**32 - 1))
def test_a_cancelled_guest_may_still_return_a_value(guest: Guest, x: int) -> None:
    assert run(start_then_cancel(guest.plugin, "wait-cancel", x)) == x


@pytest.mark.parametrize("x", [0, 5])
def test_cancelling_the_call_coroutine_is_prompt(guest: Guest, x: int) -> None:
    """asyncio cancellation of `call` raises at once; the guest still hears of it and
    resolves its task in the background (with task.cancel or task.return alike)."""

    async def body() -> None:
        call = asyncio.ensure_future(guest.plugin.call("wait-cancel", x))
        for _ in range(3):
            await asyncio.sleep(0)
        call.cancel()
        with pytest.raises(asyncio.CancelledError):
            await call
        for _ in range(3):  # the driver delivers TASK_CANCELLED; the guest resolves
            await asyncio.sleep(0)
        assert not guest.plugin._drivers

    guest.plugin.trapped = None
    state = guest.plugin.state()
    run(body())
    assert guest.plugin._state is state and guest.plugin.trapped is None
    assert run(guest.plugin.call("call-void", 1)) == 2


def test_guest_cancels_a_host_import_subtask(guest: Guest) -> None:
    # CANCELLED_BEFORE_RETURNED (4): the coroutine ended cancelled
    guest.hang_cancelled.clear()
    assert run(guest.plugin.call("cancel-host", 0)) == 4
    assert guest.hang_cancelled == [0]


def test_guest_cancels_a_host_import_before_it_ran(guest: Guest) -> None:
    # the coroutine never ran: cancelled all the same
    guest.hang_cancelled.clear()
    assert run(guest.plugin.call("cancel-host", 4)) == 4
    assert guest.hang_cancelled == []


def test_a_cancelled_host_import_may_return_anyway(guest: Guest) -> None:
    # RETURNED (2), and its result (7) was lowered where the guest asked
    assert run(guest.plugin.call("cancel-host", 1)) == 2 | (7 << 4)
    assert guest.hang_cancelled[-1] == 1


@settings(max_examples=20)
@given(st.integers(0, 2**32 - 2))
def test_async_host_imports_without_a_result_and_without_params(guest: Guest, x: int) -> None:
    pinged = guest.pinged
    assert run(guest.plugin.call("call-void", x)) == x + 1
    assert guest.notified[-1] == x and guest.pinged == pinged + 1


def test_task_return_of_another_export_with_the_same_result_type(guest: Guest) -> None:
    assert run(guest.plugin.call("same-type")) == 41


MISUSE = [
    (0, "task.return of `u32s` called by the task of `misuse` \\(another result type\\)"),
    (1, "dropped while it still holds waitables"),
    (2, "is not a waitable set"),
    (3, "is not a set"),
    (4, "is not a WritableStreamEnd"),
    (5, "is not idle"),
    (6, "dropped during a copy"),
    (7, "has no copy to cancel"),
    (8, "future was dropped before it was written"),
    (9, "future handle \\d+ is not idle"),
    (10, "backpressure counter underflow"),
    (11, "is not an error-context"),
    (12, "unknown callback code 3"),
    (13, "is misaligned"),
    (14, "out of bounds"),
    (15, "has another payload type"),
    (16, "is not a subtask"),
    (17, "task.cancel without a delivered cancellation"),
    (18, "no handle 0"),
    (19, "a synchronous copy would block"),
    (20, "too long"),
    (21, "task.cancel after `misuse` was resolved"),
    (22, "backpressure counter overflow"),
    (23, "subtask.cancel after its resolution was delivered"),
    (25, "waitable-set-new\\] called while the host lowers values"),
]


@pytest.mark.parametrize("kind, message", MISUSE, ids=[str(k) for k, _ in MISUSE])
def test_misuse_is_the_spec_trap_and_the_host_survives(
    guest: Guest, kind: int, message: str
) -> None:
    plugin = guest.plugin
    plugin.trapped = None

    async def body() -> Any:
        result = await plugin.call("misuse", kind)
        for _ in range(5):  # a trap after task.return reaches the host through the driver
            await asyncio.sleep(0)
        return result

    try:
        result = run(body())
    except PluginTrap as exc:
        assert plugin.trapped is exc
    else:
        assert result != 999, "the guest's misuse did not trap"
    assert isinstance(plugin.trapped, PluginTrap)
    assert "async ABI violation" in str(plugin.trapped)

    assert re.search(message, str(plugin.trapped)), str(plugin.trapped)
    # a fresh instance serves the next call
    assert run(plugin.call("call-void", 4)) == 5


def test_dropping_a_set_another_task_waits_on_traps(guest: Guest) -> None:
    async def body() -> None:
        waiting = asyncio.ensure_future(guest.plugin.call("wait-cancel", 0))
        for _ in range(3):
            await asyncio.sleep(0)
        try:
            with pytest.raises(PluginTrap, match="while a task waits on it"):
                await guest.plugin.call("misuse", 24)
            # the waiting call learns the trap too
            with pytest.raises(PluginTrap, match="while a task waits on it"):
                await waiting
        finally:
            waiting.cancel()

    run(body())
    assert run(guest.plugin.call("call-void", 2)) == 3


@pytest.mark.parametrize(
    "mode, message",
    [(2, "a synchronous subtask.cancel would block"), (3, "subtask.cancel called twice")],
)
def test_subtask_cancel_misuse(guest: Guest, mode: int, message: str) -> None:
    with pytest.raises(PluginTrap, match=message):
        run(guest.plugin.call("cancel-host", mode))
    assert run(guest.plugin.call("call-void", 8)) == 9
