"""Async component-model guests on the fast path: the canonical built-ins they import, on asyncio.

This file is witgen's host runtime (`witgen/hostrt/_async.py`), copied verbatim into generated
packages that need it.

wasmtime-py (and the wasmtime C API it binds) can neither compile nor run a component that uses
`stream`, `future`, `error-context` or `async` functions. A guest built the wit-bindgen way is
one core module whose async canonical built-ins are plain core imports with conventional names
(`$root`/`[waitable-set-wait]`, `[export]<iface>`/`[task-return]<func>`, `<iface>`/
`[stream-read-0]<func>`...). This module runs that core module through the same C API objects as
the synchronous fast path (`_core`) and implements those imports itself, following the state
machine of the Canonical ABI's reference definitions (`design/mvp/canonical-abi/definitions.py`
in WebAssembly/component-model): one handle table per instance, waitables with one pending
event each, waitable sets, shared stream/future state with one pending buffer, copy ends with
their copy state, tasks and subtasks, error contexts.

Lifting: async exports are called with the *callback* ABI (`[async-lift]<name>` returns a packed
`CallbackCode | set << 4`; the host then calls `[callback][async-lift]<name>` with each event),
which is what wit-bindgen's Rust output uses and what needs no stack switching from the host.
Stackful lifting (`[async-lift-stackful]`) and `stream.forward` are refused at load.

The host side is asyncio: `AsyncPlugin.call` is a coroutine; a `stream<T>` the guest returns is
a `StreamReader` (an async iterator), a `future<T>` a `FutureReader` (awaitable); the host
hands the guest streams and futures it writes through `StreamWriter`/`FutureWriter`. Guest code
only runs inside `AsyncPlugin`'s own entries into the instance, on the event loop's thread.
`AsyncPlugin.start` gives a `Call` the host may `cancel()` (the guest gets TASK_CANCELLED); a
guest's `subtask.cancel` cancels the coroutine of an async host import. Elements cross with
the payload type's `Codec`: `number_codec` and `typed_codec` move whole buffers at once.

Misuse of the async ABI (a read of a dropped or unknown handle, a second `task.return`, a task
that exits without returning, a subtask dropped before it resolved...) is the spec's trap,
raised as `PluginTrap`; the instance is discarded and the next call gets a fresh one.
"""

from __future__ import annotations

import array
import asyncio
import ctypes
import enum
import importlib
import re
import struct
from dataclasses import dataclass, field
from typing import Any, AsyncIterator, Awaitable, Callable, Generator, Mapping, Sequence

from . import _capi, _core, _runtime

_PAIR = struct.Struct("<II")
BLOCKED = 0xFFFF_FFFF  # a copy or cancel that did not complete at once
MAX_BUFFER_LENGTH = 2**28 - 1
TABLE_MAX_LENGTH = 2**28 - 1


class EventCode(enum.IntEnum):
    NONE = 0
    SUBTASK = 1
    STREAM_READ = 2
    STREAM_WRITE = 3
    FUTURE_READ = 4
    FUTURE_WRITE = 5
    TASK_CANCELLED = 6


class CopyResult(enum.IntEnum):
    COMPLETED = 0
    DROPPED = 1
    CANCELLED = 2


class CallbackCode(enum.IntEnum):
    EXIT = 0
    YIELD = 1
    WAIT = 2


class SubtaskState(enum.IntEnum):
    STARTING = 0
    STARTED = 1
    RETURNED = 2
    CANCELLED_BEFORE_STARTED = 3
    CANCELLED_BEFORE_RETURNED = 4


class CopyState(enum.Enum):
    IDLE = 1
    SYNC_COPYING = 2
    ASYNC_COPYING = 3
    CANCELLING_COPY = 4
    DONE = 5


def trap_if(condition: bool, message: str) -> None:
    """The spec's `trap_if`, with the reason a plugin author needs."""
    if condition:
        raise _runtime.PluginTrap(f"async ABI violation: {message}")


# ---------------------------------------------------------------------------- values


@dataclass(frozen=True)
class Codec:
    """How one payload type sits in guest memory (the generated bindings provide these).

    `load(ptr)` reads a value (bounds already checked); `store(value, ptr)` writes one (it may
    call the guest's `cabi_realloc`). A payload-less stream or future has no codec (None).
    """

    size: int
    align: int
    load: Callable[[int], Any]
    store: Callable[[Any, int], None]
    # optional bulk forms, used for whole buffers when given: `load_many(ptr, n)` reads n
    # elements at once, `store_many(values, ptr)` writes them (one allocation trip for all)
    load_many: Callable[[int, int], list[Any]] | None = None
    store_many: Callable[[Sequence[Any], int], None] | None = None


@dataclass(frozen=True)
class PayloadType:
    """The type of a `stream<T>`/`future<T>`: `key` compares types (the spec traps on a
    mismatch), `codec` moves its elements; None for `stream`/`future` without payload.
    """

    key: str
    codec: Codec | None

    def is_number(self) -> bool:
        """No payload or a number type: the only ones one instance may copy to itself (the
        spec's temporary `none_or_number_type` rule)."""
        return self.codec is None or self.key in _NUMBER_TYPES


UNIT = PayloadType("", None)
"""The payload type of a `stream` or `future` without element type (`stream<_>`): counts
cross, no values. Its key "" is the one witgen's generated bindings give such types, so an end
the guest made with a `-unit` built-in and one of a function's payload-less stream compare
equal, as the spec's types do."""

_NUMBER_FORMATS = {
    "u8": "B",
    "s8": "b",
    "u16": "H",
    "s16": "h",
    "u32": "I",
    "s32": "i",
    "u64": "Q",
    "s64": "q",
    "f32": "f",
    "f64": "d",
}
_NUMBER_TYPES = frozenset(_NUMBER_FORMATS)


def number_codec(plugin: AsyncPlugin, key: str) -> Codec:
    """The codec of a number type (`u8` ... `f64`): a whole buffer is one struct call."""
    code = _NUMBER_FORMATS[key]
    one = struct.Struct("<" + code)

    def load(ptr: int) -> Any:
        return one.unpack_from(plugin.view(), ptr)[0]

    def store(value: Any, ptr: int) -> None:
        one.pack_into(plugin.view(), ptr, value)

    def load_many(ptr: int, n: int) -> list[Any]:
        return list(struct.unpack_from(f"<{n}{code}", plugin.view(), ptr))

    def store_many(values: Sequence[Any], ptr: int) -> None:
        struct.pack_into(f"<{len(values)}{code}", plugin.view(), ptr, *values)

    return Codec(one.size, one.size, load, store, load_many, store_many)


def typed_codec(
    plugin: AsyncPlugin,
    size: int,
    align: int,
    load: Callable[[memoryview, int], Any],
    put: Callable[[Any, Any, bytearray, int], None],
) -> Codec:
    """The codec of any type from the fast path's generated helpers for it.

    `load(memory, addr)` reads one value (`_ld_<id>`: it checks bounds, UTF-8 and tags itself);
    `put(rt, value, buf, offset)` writes one into a host buffer (`_st_<id>`), registering its
    strings and lists with `rt.ref`. A whole buffer is written at once: every element into one
    `bytearray`, every block they reference allocated with one trip into wasm
    (`AsyncPlugin.allocate`), then the elements copied into guest memory.
    """

    def load_one(ptr: int) -> Any:
        return load(plugin.view(), ptr)

    def load_many(ptr: int, n: int) -> list[Any]:
        mem = plugin.view()
        return [load(mem, at) for at in range(ptr, ptr + size * n, size)]

    def store_many(values: Sequence[Any], ptr: int) -> None:
        buf = bytearray(size * len(values))
        try:
            for i, value in enumerate(values):
                put(plugin, value, buf, size * i)
            plugin.allocate()
        finally:
            plugin.pending.clear()
        plugin.write(ptr, buf)

    def store_one(value: Any, ptr: int) -> None:
        store_many((value,), ptr)

    return Codec(size, align, load_one, store_one, load_many, store_many)


# ---------------------------------------------------------------------------- handles


class Table:
    """An instance's table of handles; index 0 is never used (the spec reserves it)."""

    def __init__(self) -> None:
        self.items: list[Any] = [None]
        self.free: list[int] = []

    def get(self, index: int) -> Any:
        trap_if(
            index >= len(self.items) or self.items[index] is None,
            f"no handle {index} (never created, or dropped)",
        )
        return self.items[index]

    def add(self, item: Any) -> int:
        if self.free:
            index = self.free.pop()
            self.items[index] = item
            return index
        index = len(self.items)
        trap_if(index > TABLE_MAX_LENGTH, "the handle table is full")
        self.items.append(item)
        return index

    def remove(self, index: int) -> Any:
        item = self.get(index)
        self.items[index] = None
        self.free.append(index)
        return item


Event = tuple[int, int, int]


class Waitable:
    """Something a waitable set can hold; it has at most one pending event at a time."""

    def __init__(self, owner: InstanceState) -> None:
        self.owner = owner
        self.pending: Callable[[], Event] | None = None
        self.wset: WaitableSet | None = None

    def set_pending_event(self, pending: Callable[[], Event]) -> None:
        self.pending = pending
        self.owner.wake()

    def has_pending_event(self) -> bool:
        return self.pending is not None

    def get_pending_event(self) -> Event:
        pending, self.pending = self.pending, None
        assert pending is not None
        return pending()

    def join(self, wset: WaitableSet | None) -> None:
        if self.wset is not None:
            self.wset.elems.remove(self)
        self.wset = wset
        if wset is not None:
            wset.elems.append(self)

    def drop(self) -> None:
        self.join(None)


class WaitableSet:
    def __init__(self) -> None:
        self.elems: list[Waitable] = []
        self.num_waiting = 0

    def has_pending_event(self) -> bool:
        return any(w.has_pending_event() for w in self.elems)

    def get_pending_event(self) -> Event:
        # the spec picks any element with an event; the oldest joined one is picked here
        for waitable in self.elems:
            if waitable.has_pending_event():
                return waitable.get_pending_event()
        raise AssertionError("no pending event")

    def poll(self) -> Event:
        if not self.has_pending_event():
            return (EventCode.NONE, 0, 0)
        return self.get_pending_event()

    def drop(self) -> None:
        trap_if(
            bool(self.elems),
            "a waitable set was dropped while it still holds waitables",
        )
        trap_if(
            self.num_waiting > 0,
            "a waitable set was dropped while a task waits on it",
        )


# ---------------------------------------------------------------------------- buffers


class Buffer:
    """Elements on one side of a copy: `remain()` slots left, `progress` done so far."""

    length = 0
    progress = 0

    def remain(self) -> int:
        return self.length - self.progress

    def is_zero_length(self) -> bool:
        return self.length == 0

    def read(self, n: int) -> list[Any]:
        raise NotImplementedError

    def write(self, values: list[Any]) -> None:
        raise NotImplementedError


class GuestBuffer(Buffer):
    """`n` elements at `ptr` in the guest's memory (checked when the copy starts)."""

    def __init__(
        self,
        state: InstanceState,
        t: PayloadType,
        ptr: int,
        length: int,
    ) -> None:
        trap_if(
            length > MAX_BUFFER_LENGTH,
            f"a buffer of {length} elements is too long",
        )
        codec = t.codec
        if codec is not None and length > 0:
            trap_if(ptr & (codec.align - 1) != 0, f"buffer {ptr:#x} is misaligned")
            trap_if(
                ptr + length * codec.size > state.memory_size(),
                f"buffer {ptr:#x}+{length} elements is out of bounds",
            )
        self.codec = codec
        self.ptr = ptr
        self.length = length
        self.progress = 0

    def read(self, n: int) -> list[Any]:
        assert n <= self.remain()
        codec = self.codec
        if codec is None:
            values: list[Any] = [None] * n
        else:
            if codec.load_many is not None:
                values = codec.load_many(self.ptr, n)
            else:
                values = [codec.load(self.ptr + i * codec.size) for i in range(n)]
            self.ptr += n * codec.size
        self.progress += n
        return values

    def write(self, values: list[Any]) -> None:
        assert len(values) <= self.remain()
        codec = self.codec
        if codec is not None:
            if codec.store_many is not None:
                codec.store_many(values, self.ptr)
            else:
                for i, value in enumerate(values):
                    codec.store(value, self.ptr + i * codec.size)
            self.ptr += len(values) * codec.size
        self.progress += len(values)


class HostBuffer(Buffer):
    """Elements on the host's side: values to hand over, or room for `length` values."""

    def __init__(self, length: int, values: Sequence[Any] = ()) -> None:
        self.length = length
        self.progress = 0
        self.values = list(values)  # what a host writer offers / what a host reader got

    def read(self, n: int) -> list[Any]:
        out = self.values[self.progress : self.progress + n]
        self.progress += n
        return out

    def write(self, values: list[Any]) -> None:
        self.values.extend(values)
        self.progress += len(values)


# ---------------------------------------------------------------------------- streams, futures

OnCopy = Callable[[Callable[[], None]], None]
OnCopyDone = Callable[[CopyResult], None]


class SharedStream:
    """The state both ends of one stream share: at most one side waits with a buffer."""

    def __init__(self, t: PayloadType) -> None:
        self.t = t
        self.dropped = False
        self.pending_side: object = None
        self.pending_buffer: Buffer | None = None
        self.pending_on_copy: OnCopy | None = None
        self.pending_on_copy_done: OnCopyDone | None = None

    def _set_pending(
        self,
        side: object,
        buffer: Buffer | None,
        on_copy: OnCopy | None,
        on_copy_done: OnCopyDone | None,
    ) -> None:
        self.pending_side = side
        self.pending_buffer = buffer
        self.pending_on_copy = on_copy
        self.pending_on_copy_done = on_copy_done

    def _reset_pending(self) -> None:
        self._set_pending(None, None, None, None)

    def _reset_and_notify(self, result: CopyResult) -> None:
        done = self.pending_on_copy_done
        self._reset_pending()
        assert done is not None
        done(result)

    def cancel(self) -> None:
        self._reset_and_notify(CopyResult.CANCELLED)

    def drop(self) -> None:
        if not self.dropped:
            self.dropped = True
            if self.pending_buffer is not None:
                self._reset_and_notify(CopyResult.DROPPED)

    def _check_sides(self, side: object) -> None:
        trap_if(
            side is self.pending_side and not self.t.is_number(),
            f"an instance copied a stream<{self.t.key}> to itself",
        )

    def read(
        self,
        side: object,
        dst: Buffer,
        on_copy: OnCopy,
        on_copy_done: OnCopyDone,
    ) -> None:
        self._copy(side, dst, on_copy, on_copy_done, reading=True)

    def write(
        self,
        side: object,
        src: Buffer,
        on_copy: OnCopy,
        on_copy_done: OnCopyDone,
    ) -> None:
        self._copy(side, src, on_copy, on_copy_done, reading=False)

    def _copy(
        self,
        side: object,
        own: Buffer,
        on_copy: OnCopy,
        on_copy_done: OnCopyDone,
        *,
        reading: bool,
    ) -> None:
        """A read (`own` is the destination) or write (`own` is the source) meeting the other end."""
        if self.dropped:
            on_copy_done(CopyResult.DROPPED)
        elif self.pending_buffer is None:
            self._set_pending(side, own, on_copy, on_copy_done)
        else:
            self._check_sides(side)
            pending = self.pending_buffer
            src, dst = (pending, own) if reading else (own, pending)
            if pending.remain() > 0:
                if own.remain() > 0:
                    dst.write(src.read(min(own.remain(), pending.remain())))
                    assert self.pending_on_copy is not None
                    self.pending_on_copy(self._reset_pending)
                on_copy_done(CopyResult.COMPLETED)
            elif not reading and src.is_zero_length() and dst.is_zero_length():
                # as in the spec, only a write completes at once against a zero-length pending
                # read; a read against a zero-length pending write takes its place instead
                on_copy_done(CopyResult.COMPLETED)
            else:
                self._reset_and_notify(CopyResult.COMPLETED)
                self._set_pending(side, own, on_copy, on_copy_done)


class SharedFuture:
    """The state both ends of one future share: one value, written once."""

    def __init__(self, t: PayloadType) -> None:
        self.t = t
        self.dropped = False
        self.pending_buffer: Buffer | None = None
        self.pending_on_copy_done: OnCopyDone | None = None

    def _reset_and_notify(self, result: CopyResult) -> None:
        done = self.pending_on_copy_done
        self.pending_buffer = self.pending_on_copy_done = None
        assert done is not None
        done(result)

    def cancel(self) -> None:
        self._reset_and_notify(CopyResult.CANCELLED)

    def drop(self) -> None:
        if not self.dropped:
            self.dropped = True
            # only a waiting writer learns that the reader went away
            if self.pending_buffer is not None and self.pending_writer:
                self._reset_and_notify(CopyResult.DROPPED)

    pending_writer = False

    def read(self, dst: Buffer, on_copy_done: OnCopyDone) -> None:
        if self.pending_buffer is None:
            self.pending_buffer, self.pending_on_copy_done = dst, on_copy_done
            self.pending_writer = False
        else:
            dst.write(self.pending_buffer.read(1))
            self._reset_and_notify(CopyResult.COMPLETED)
            on_copy_done(CopyResult.COMPLETED)

    def write(self, src: Buffer, on_copy_done: OnCopyDone) -> None:
        if self.dropped:
            on_copy_done(CopyResult.DROPPED)
        elif self.pending_buffer is None:
            self.pending_buffer, self.pending_on_copy_done = src, on_copy_done
            self.pending_writer = True
        else:
            self.pending_buffer.write(src.read(1))
            self._reset_and_notify(CopyResult.COMPLETED)
            on_copy_done(CopyResult.COMPLETED)


class CopyEnd(Waitable):
    """A guest's handle to one end of a stream or future."""

    readable = True
    is_stream = True

    def __init__(
        self,
        owner: InstanceState,
        shared: SharedStream | SharedFuture,
    ) -> None:
        super().__init__(owner)
        self.state = CopyState.IDLE
        self.shared = shared

    def copying(self) -> bool:
        return self.state in (
            CopyState.SYNC_COPYING,
            CopyState.ASYNC_COPYING,
            CopyState.CANCELLING_COPY,
        )

    def drop(self) -> None:
        trap_if(self.copying(), "a stream or future end was dropped during a copy")
        if not self.readable and not self.is_stream:
            trap_if(
                self.state != CopyState.DONE,
                "a future was dropped before it was written",
            )
        self.shared.drop()
        super().drop()


class ReadableStreamEnd(CopyEnd):
    pass


class WritableStreamEnd(CopyEnd):
    readable = False


class ReadableFutureEnd(CopyEnd):
    is_stream = False


class WritableFutureEnd(CopyEnd):
    readable = False
    is_stream = False


@dataclass
class ErrorContext:
    debug_message: str


# ---------------------------------------------------------------------------- tasks


class Subtask(Waitable):
    """A call the guest made to an async host import (`[async-lower]`)."""

    def __init__(self, owner: InstanceState) -> None:
        super().__init__(owner)
        self.state = SubtaskState.STARTING
        self.delivered = False
        self.cancel_requested = False
        self.job: asyncio.Future[Any] | None = None

    def resolved(self) -> bool:
        return self.state >= SubtaskState.RETURNED

    def drop(self) -> None:
        trap_if(
            not self.delivered,
            "a subtask was dropped before its resolution was delivered",
        )
        super().drop()


@dataclass
class Task:
    """One call of an async export: its result arrives through `task.return`."""

    export: str  # the function's name, as `[task-return]<name>` names it
    module: str  # `[export]<interface>` (or `[export]$root`)
    lift_result: Callable[[Sequence[int | float]], Any] | None
    result: asyncio.Future[Any]
    context: list[int] = field(default_factory=lambda: [0])
    returned: bool = False  # resolved: by `task.return`, or by `task.cancel`
    result_key: str | None = None  # AsyncExport.result_key
    cancel_requested: bool = False  # the host cancelled the call (not delivered yet)
    cancel_delivered: bool = False  # the guest got TASK_CANCELLED


# ---------------------------------------------------------------------------- instance state


class InstanceState:
    """The async state of one guest instance (the spec's `ComponentInstance` fields)."""

    def __init__(self, plugin: AsyncPlugin) -> None:
        self.plugin = plugin
        self.handles = Table()
        self.backpressure = 0
        self.task: Task | None = None  # the task whose guest code runs right now
        self.host_waiters: list[asyncio.Future[Any]] = []
        # futures of the coroutines waiting for any change (made in the loop that waits, so an
        # instance may serve several event loops one after the other)
        self._watchers: list[asyncio.Future[None]] = []

    def wake(self) -> None:
        watchers, self._watchers = self._watchers, []
        for watcher in watchers:
            if not watcher.done():
                watcher.set_result(None)

    async def changed(self) -> None:
        """Returns after the next event, copy or backpressure change of this instance."""
        watcher = asyncio.get_running_loop().create_future()
        self._watchers.append(watcher)
        await watcher

    def memory_size(self) -> int:
        return len(self.plugin.view())

    def running_task(self) -> Task:
        task = self.task
        trap_if(task is None, "an async built-in was called outside a task")
        assert task is not None
        return task

    def host_copy(self, copy: Callable[[], None], done: asyncio.Future[Any]) -> None:
        """Runs a copy a host end starts: a trap lifting or lowering the guest's values (bad
        UTF-8, a failing `cabi_realloc`...) loses the instance, as it would inside the guest.
        """
        try:
            copy()
        except BaseException as exc:
            done.cancel()  # the host end raises here: nobody awaits `done` any more
            if self.plugin._state is self:
                self.plugin._poison(exc)
            raise

    def fail(self, exc: BaseException) -> None:
        """The instance trapped: everything the host waits on fails with the trap."""
        for waiter in self.host_waiters:
            if not waiter.done():
                waiter.set_exception(exc)
        self.host_waiters.clear()


# ---------------------------------------------------------------------------- host ends


class StreamReader:
    """The host's readable end of a `stream<T>` the guest writes: an async iterator.

    `read(n)` returns up to n values, or None once the guest dropped its end.
    """

    def __init__(
        self,
        state: InstanceState,
        shared: SharedStream,
        chunk: int = 256,
    ) -> None:
        self._state = state
        self._shared = shared
        self._chunk = chunk
        self._ready: list[Any] = []
        self._closed = False

    async def read(self, n: int) -> list[Any] | None:
        trap_if(self._closed, "read from a closed stream")
        loop = asyncio.get_running_loop()
        done: asyncio.Future[CopyResult] = loop.create_future()
        buffer = HostBuffer(n)

        def on_copy(reclaim: Callable[[], None]) -> None:
            reclaim()  # the host takes what arrived at once
            if not done.done():
                done.set_result(CopyResult.COMPLETED)

        def on_copy_done(result: CopyResult) -> None:
            if not done.done():
                done.set_result(result)

        self._state.host_waiters.append(done)
        self._state.host_copy(
            lambda: self._shared.read(self, buffer, on_copy, on_copy_done),
            done,
        )
        result = await done
        if result == CopyResult.DROPPED and not buffer.values:
            return None
        return buffer.values

    def __aiter__(self) -> AsyncIterator[Any]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[Any]:
        while True:
            values = await self.read(self._chunk)
            if values is None:
                return
            for value in values:
                yield value

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._shared.drop()


class StreamWriter:
    """The host's writable end of a `stream<T>` the guest reads."""

    def __init__(self, state: InstanceState, shared: SharedStream) -> None:
        self._state = state
        self._shared = shared
        self._closed = False

    async def write(self, values: Sequence[Any]) -> int:
        """Hands `values` to the guest; returns how many it took (fewer: it dropped its end)."""
        trap_if(self._closed, "write to a closed stream")
        offered = HostBuffer(len(values), values)
        while offered.remain() > 0:
            loop = asyncio.get_running_loop()
            done: asyncio.Future[CopyResult] = loop.create_future()

            def on_copy(reclaim: Callable[[], None], done: Any = done) -> None:
                reclaim()
                if not done.done():
                    done.set_result(CopyResult.COMPLETED)

            def on_copy_done(result: CopyResult, done: Any = done) -> None:
                if not done.done():
                    done.set_result(result)

            self._state.host_waiters.append(done)
            self._state.host_copy(
                lambda: self._shared.write(self, offered, on_copy, on_copy_done),
                done,
            )
            if await done != CopyResult.COMPLETED:
                break
        return offered.progress

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._shared.drop()


class FutureReader:
    """The host's readable end of a `future<T>` the guest writes: `await reader.get()`."""

    def __init__(self, state: InstanceState, shared: SharedFuture) -> None:
        self._state = state
        self._shared = shared

    async def get(self) -> Any:
        loop = asyncio.get_running_loop()
        done: asyncio.Future[CopyResult] = loop.create_future()
        buffer = HostBuffer(1)
        self._state.host_waiters.append(done)
        self._state.host_copy(lambda: self._shared.read(buffer, _settle(done)), done)
        result = await done
        if result != CopyResult.COMPLETED:
            raise _runtime.PluginTrap("the plugin dropped a future without writing it")
        self._shared.drop()
        return buffer.values[0]

    def __await__(self) -> Any:
        return self.get().__await__()


class FutureWriter:
    """The host's writable end of a `future<T>` the guest reads."""

    def __init__(self, state: InstanceState, shared: SharedFuture) -> None:
        self._state = state
        self._shared = shared

    async def set(self, value: Any) -> bool:
        """Writes the value; False when the guest dropped its end unread."""
        loop = asyncio.get_running_loop()
        done: asyncio.Future[CopyResult] = loop.create_future()
        self._state.host_waiters.append(done)
        self._state.host_copy(
            lambda: self._shared.write(HostBuffer(1, [value]), _settle(done)),
            done,
        )
        return await done == CopyResult.COMPLETED


# ---------------------------------------------------------------------------- the built-ins

# `[stream-read-0]<func>`: the payload type is the 0th stream/future type of `<func>`'s signature;
# `[stream-read-unit]<func>` (any module, `<func>` often empty): a `stream`/`future` without
# payload, which no signature needs to name (wit-bindgen's inter-task wakeups use one)
_PAYLOAD_OP = re.compile(
    r"^(\[async-lower\])?\[(stream|future)-(new|read|write|cancel-read|cancel-write|"
    r"drop-readable|drop-writable|forward)-(\d+|unit)\](.*)$"
)
_CORE_TYPES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "new": ((), ("i64",)),
    "read": (("i32", "i32", "i32"), ("i32",)),
    "write": (("i32", "i32", "i32"), ("i32",)),
    "cancel-read": (("i32",), ("i32",)),
    "cancel-write": (("i32",), ("i32",)),
    "drop-readable": (("i32",), ()),
    "drop-writable": (("i32",), ()),
}
_ROOT_BUILTINS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "[waitable-set-new]": ((), ("i32",)),
    "[waitable-set-wait]": (("i32", "i32"), ("i32",)),
    "[waitable-set-poll]": (("i32", "i32"), ("i32",)),
    "[waitable-set-drop]": (("i32",), ()),
    "[waitable-join]": (("i32", "i32"), ()),
    "[thread-yield]": ((), ("i32",)),
    "[subtask-drop]": (("i32",), ()),
    "[subtask-cancel]": (("i32",), ("i32",)),
    "[async-lower][subtask-cancel]": (("i32",), ("i32",)),
    "[context-get-0]": ((), ("i32",)),
    "[context-set-0]": (("i32",), ()),
    "[backpressure-set]": (("i32",), ()),
    "[backpressure-inc]": ((), ()),
    "[backpressure-dec]": ((), ()),
    "[error-context-new-utf8]": (("i32", "i32"), ("i32",)),
    "[error-context-debug-message-utf8]": (("i32", "i32"), ()),
    "[error-context-drop]": (("i32",), ()),
}


def is_builtin(module: str, name: str) -> bool:
    """Whether the core import `module`/`name` is an async canonical built-in served here."""
    if module in ("$root", "[export]$root") and name in _ROOT_BUILTINS:
        return True
    if module.startswith("[export]") and (
        name.startswith("[task-return]") or name == "[task-cancel]"
    ):
        return True
    return _PAYLOAD_OP.match(name) is not None


def _u32(v: int) -> int:
    return v & 0xFFFF_FFFF


class Builtins:
    """The async built-ins of one `AsyncPlugin`, each bound to the running instance's state.

    `payloads` maps (core import module without `[export]`, function name, index) to the
    payload type of that function's index-th future/stream type (wit-component's numbering);
    the `-unit` built-ins need no entry (their payload is `UNIT`).
    `task_returns` maps (`[export]<iface>`, function) to the core types of `task.return`.
    """

    def __init__(
        self,
        plugin: AsyncPlugin,
        payloads: Mapping[tuple[str, str, int], PayloadType],
        task_returns: Mapping[tuple[str, str], tuple[str, ...]],
    ) -> None:
        self.plugin = plugin
        self.payloads = payloads
        self.task_returns = task_returns

    @property
    def state(self) -> InstanceState:
        return self.plugin.state()

    def resolve(
        self, module: str, name: str
    ) -> tuple[tuple[str, ...], tuple[str, ...], Callable[..., Any]]:
        """(core params, core results, implementation) of the import `module`/`name`."""
        if name in _ROOT_BUILTINS and module in ("$root", "[export]$root"):
            ins, outs = _ROOT_BUILTINS[name]
            method = re.sub(r"-(0|utf8)$", "", name[1:-1]).replace("-", "_")
            if name == "[async-lower][subtask-cancel]":
                method = "subtask_cancel_async"
            return ins, outs, getattr(self, method)
        if name.startswith("[task-return]"):
            func = name[len("[task-return]") :]
            key = (module, func)
            if key not in self.task_returns:
                raise _core.FastUnavailable(f"no async export matches {module}/{name}")
            return self.task_returns[key], (), self._task_return(module, func)
        if name == "[task-cancel]":
            return (), (), self.task_cancel
        found = _PAYLOAD_OP.match(name)
        if found is None:
            raise _core.FastUnavailable(f"{module}/{name} is not an async built-in")
        is_async, kind, op, index, func = found.groups()
        if op == "forward":
            raise _core.FastUnavailable(
                f"{module}/{name}: stream.forward is not supported",
            )
        iface = module[len("[export]") :] if module.startswith("[export]") else module
        if index == "unit":
            payload: PayloadType | None = UNIT
        else:
            payload = self.payloads.get((iface, func, int(index)))
        if payload is None:
            raise _core.FastUnavailable(
                f"{module}/{name}: no payload type is known for it",
            )
        ins, outs = _CORE_TYPES[op]
        if kind == "future" and op in ("read", "write"):
            ins = ("i32", "i32")
        impl = getattr(self, f"{kind}_{op.replace('-', '_')}")
        blocking = is_async is None  # a synchronous copy or cancel
        if op in ("read", "write", "cancel-read", "cancel-write"):
            return ins, outs, lambda *args: impl(payload, blocking, *args)
        return ins, outs, lambda *args: impl(payload, *args)

    # -- tasks --

    def _task_return(self, module: str, func: str) -> Callable[..., None]:
        own_key = None
        for export in self.plugin.exports.values():
            if (export.module, export.func) == (module, func):
                own_key = export.result_key

        def task_return(*flat: Any) -> None:
            task = self.state.running_task()
            if own_key is None or task.result_key is None:
                wrong = (task.module, task.export) != (module, func)
            else:
                # the spec: the result types must be equal
                wrong = own_key != task.result_key
            trap_if(
                wrong,
                f"task.return of `{func}` called by the task of `{task.export}`"
                " (another result type)",
            )
            trap_if(
                task.returned,
                f"`{func}` returned twice (task.return called again)",
            )
            task.returned = True
            value = task.lift_result(flat) if task.lift_result is not None else None
            if not task.result.done():
                task.result.set_result(value)

        return task_return

    def task_cancel(self) -> None:
        task = self.state.running_task()
        trap_if(task.returned, f"task.cancel after `{task.export}` was resolved")
        trap_if(
            not task.cancel_delivered,
            "task.cancel without a delivered cancellation (TASK_CANCELLED)",
        )
        task.returned = True
        task.result.cancel()

    def context_get(self) -> int:
        return self.state.running_task().context[0]

    def context_set(self, value: int) -> None:
        self.state.running_task().context[0] = _u32(value)

    def backpressure_set(self, value: int) -> None:
        self.state.backpressure = int(bool(value))

    def backpressure_inc(self) -> None:
        state = self.state
        state.backpressure += 1
        trap_if(state.backpressure >= 2**16, "backpressure counter overflow")

    def backpressure_dec(self) -> None:
        state = self.state
        state.backpressure -= 1
        trap_if(state.backpressure < 0, "backpressure counter underflow")
        if state.backpressure == 0:
            state.wake()

    def thread_yield(self) -> int:
        return 0  # not cancelled: the host never cancels a task (yet)

    # -- waitables --

    def waitable_set_new(self) -> int:
        return self.state.handles.add(WaitableSet())

    def _wset(self, index: int) -> WaitableSet:
        wset = self.state.handles.get(_u32(index))
        trap_if(
            not isinstance(wset, WaitableSet),
            f"handle {index} is not a waitable set",
        )
        assert isinstance(wset, WaitableSet)
        return wset

    def waitable_set_wait(self, si: int, ptr: int) -> int:
        # a callback-lifted task must return WAIT to the host instead of blocking inside
        trap_if(True, "waitable-set.wait would block inside a callback-lifted export")
        return 0

    def waitable_set_poll(self, si: int, ptr: int) -> int:
        return self._store_event(ptr, self._wset(si).poll())

    def _store_event(self, ptr: int, event: Event) -> int:
        code, p1, p2 = event
        self.plugin.write_u32s(_u32(ptr), (p1, p2))
        return int(code)

    def waitable_set_drop(self, si: int) -> None:
        wset = self.state.handles.remove(_u32(si))
        trap_if(not isinstance(wset, WaitableSet), f"handle {si} is not a waitable set")
        wset.drop()

    def waitable_join(self, wi: int, si: int) -> None:
        waitable = self.state.handles.get(_u32(wi))
        trap_if(not isinstance(waitable, Waitable), f"handle {wi} is not waitable")
        waitable.join(None if si == 0 else self._wset(si))

    def subtask_drop(self, index: int) -> None:
        subtask = self.state.handles.remove(_u32(index))
        trap_if(not isinstance(subtask, Subtask), f"handle {index} is not a subtask")
        subtask.drop()

    def subtask_cancel(self, index: int, blocking: bool = True) -> int:
        """Cancels the host coroutine behind a subtask (`asyncio.Task.cancel`). The subtask
        resolves CANCELLED_BEFORE_RETURNED when the coroutine ends cancelled, RETURNED when it
        returns anyway; that takes the event loop a turn, so the async form returns BLOCKED
        and a synchronous one, which would have to suspend the guest, traps."""
        subtask = self.state.handles.get(_u32(index))
        trap_if(not isinstance(subtask, Subtask), f"handle {index} is not a subtask")
        assert isinstance(subtask, Subtask)
        trap_if(subtask.delivered, "subtask.cancel after its resolution was delivered")
        trap_if(subtask.cancel_requested, "subtask.cancel called twice")
        if not subtask.resolved():
            subtask.cancel_requested = True
            if subtask.job is not None:
                subtask.job.cancel()
            if not subtask.resolved():
                trap_if(
                    blocking,
                    "a synchronous subtask.cancel would block (use the async one)",
                )
                return BLOCKED
        return subtask.get_pending_event()[2]

    def subtask_cancel_async(self, index: int) -> int:
        return self.subtask_cancel(index, blocking=False)

    # -- error contexts --

    def error_context_new(self, ptr: int, length: int) -> int:
        message = self.plugin.read_text(_u32(ptr), _u32(length))
        return self.state.handles.add(ErrorContext(message))

    def error_context_debug_message(self, index: int, ptr: int) -> None:
        errctx = self.state.handles.get(_u32(index))
        trap_if(
            not isinstance(errctx, ErrorContext),
            f"handle {index} is not an error-context",
        )
        data = errctx.debug_message.encode("utf-8")
        addr = self.plugin.realloc(1, len(data))
        self.plugin.write(addr, data)
        self.plugin.write_u32s(_u32(ptr), (addr, len(data)))

    def error_context_drop(self, index: int) -> None:
        errctx = self.state.handles.remove(_u32(index))
        trap_if(
            not isinstance(errctx, ErrorContext),
            f"handle {index} is not an error-context",
        )

    # -- streams --

    def stream_new(self, t: PayloadType) -> int:
        state = self.state
        shared = SharedStream(t)
        readable = state.handles.add(ReadableStreamEnd(state, shared))
        writable = state.handles.add(WritableStreamEnd(state, shared))
        return readable | (writable << 32)

    def future_new(self, t: PayloadType) -> int:
        state = self.state
        shared = SharedFuture(t)
        readable = state.handles.add(ReadableFutureEnd(state, shared))
        writable = state.handles.add(WritableFutureEnd(state, shared))
        return readable | (writable << 32)

    def _end(self, index: int, cls: type[CopyEnd], t: PayloadType) -> CopyEnd:
        end = self.state.handles.get(index)
        trap_if(
            not isinstance(end, cls),
            f"handle {index} is not a {cls.__name__} (a dropped or wrong handle)",
        )
        assert isinstance(end, CopyEnd)
        trap_if(end.shared.t.key != t.key, f"handle {index} has another payload type")
        return end

    def _stream_copy(
        self,
        cls: type[CopyEnd],
        code: EventCode,
        t: PayloadType,
        blocking: bool,
        index: int,
        ptr: int,
        n: int,
    ) -> int:
        index, ptr, n = _u32(index), _u32(ptr), _u32(n)
        state = self.state
        end = self._end(index, cls, t)
        trap_if(
            end.state != CopyState.IDLE,
            f"stream handle {index} is not idle (copying, or done after DROPPED)",
        )
        buffer = GuestBuffer(state, t, ptr, n)

        def event(result: CopyResult, reclaim: Callable[[], None]) -> Event:
            reclaim()
            dropped = result == CopyResult.DROPPED
            end.state = CopyState.DONE if dropped else CopyState.IDLE
            return (code, index, int(result) | (buffer.progress << 4))

        def on_copy(reclaim: Callable[[], None]) -> None:
            end.set_pending_event(lambda: event(CopyResult.COMPLETED, reclaim))

        def on_copy_done(result: CopyResult) -> None:
            end.set_pending_event(lambda: event(result, lambda: None))

        shared = end.shared
        assert isinstance(shared, SharedStream)
        if cls is ReadableStreamEnd:
            shared.read(state, buffer, on_copy, on_copy_done)
        else:
            shared.write(state, buffer, on_copy, on_copy_done)
        if not end.has_pending_event():
            # a synchronous copy would suspend the guest, which needs stack switching: this
            # host runs callback-lifted code only (the instance is lost either way)
            trap_if(blocking, "a synchronous copy would block (use the async built-in)")
            end.state = CopyState.ASYNC_COPYING
            return BLOCKED
        return end.get_pending_event()[2]

    def stream_read(
        self,
        t: PayloadType,
        blocking: bool,
        i: int,
        ptr: int,
        n: int,
    ) -> int:
        return self._stream_copy(
            ReadableStreamEnd,
            EventCode.STREAM_READ,
            t,
            blocking,
            i,
            ptr,
            n,
        )

    def stream_write(
        self,
        t: PayloadType,
        blocking: bool,
        i: int,
        ptr: int,
        n: int,
    ) -> int:
        code = EventCode.STREAM_WRITE
        return self._stream_copy(WritableStreamEnd, code, t, blocking, i, ptr, n)

    def _future_copy(
        self,
        cls: type[CopyEnd],
        code: EventCode,
        t: PayloadType,
        blocking: bool,
        index: int,
        ptr: int,
    ) -> int:
        index, ptr = _u32(index), _u32(ptr)
        state = self.state
        end = self._end(index, cls, t)
        trap_if(
            end.state != CopyState.IDLE,
            f"future handle {index} is not idle (copying, or done)",
        )
        buffer = GuestBuffer(state, t, ptr, 1)

        def event(result: CopyResult) -> Event:
            done = result in (CopyResult.DROPPED, CopyResult.COMPLETED)
            end.state = CopyState.DONE if done else CopyState.IDLE
            return (code, index, int(result))

        def on_copy_done(result: CopyResult) -> None:
            end.set_pending_event(lambda: event(result))

        shared = end.shared
        assert isinstance(shared, SharedFuture)
        if cls is ReadableFutureEnd:
            shared.read(buffer, on_copy_done)
        else:
            shared.write(buffer, on_copy_done)
        if not end.has_pending_event():
            # a synchronous copy would suspend the guest, which needs stack switching: this
            # host runs callback-lifted code only (the instance is lost either way)
            trap_if(blocking, "a synchronous copy would block (use the async built-in)")
            end.state = CopyState.ASYNC_COPYING
            return BLOCKED
        return end.get_pending_event()[2]

    def future_read(self, t: PayloadType, blocking: bool, i: int, ptr: int) -> int:
        return self._future_copy(
            ReadableFutureEnd,
            EventCode.FUTURE_READ,
            t,
            blocking,
            i,
            ptr,
        )

    def future_write(self, t: PayloadType, blocking: bool, i: int, ptr: int) -> int:
        return self._future_copy(
            WritableFutureEnd,
            EventCode.FUTURE_WRITE,
            t,
            blocking,
            i,
            ptr,
        )

    def _cancel(
        self,
        cls: type[CopyEnd],
        t: PayloadType,
        blocking: bool,
        index: int,
    ) -> int:
        index = _u32(index)
        end = self._end(index, cls, t)
        trap_if(
            end.state != CopyState.ASYNC_COPYING,
            f"handle {index} has no copy to cancel",
        )
        end.state = CopyState.CANCELLING_COPY
        if not end.has_pending_event():
            end.shared.cancel()
        # the host side never holds a cancel open: the event is there now
        return end.get_pending_event()[2]

    def stream_cancel_read(self, t: PayloadType, blocking: bool, i: int) -> int:
        return self._cancel(ReadableStreamEnd, t, blocking, i)

    def stream_cancel_write(self, t: PayloadType, blocking: bool, i: int) -> int:
        return self._cancel(WritableStreamEnd, t, blocking, i)

    def future_cancel_read(self, t: PayloadType, blocking: bool, i: int) -> int:
        return self._cancel(ReadableFutureEnd, t, blocking, i)

    def future_cancel_write(self, t: PayloadType, blocking: bool, i: int) -> int:
        return self._cancel(WritableFutureEnd, t, blocking, i)

    def _drop(self, cls: type[CopyEnd], t: PayloadType, index: int) -> None:
        index = _u32(index)
        self._end(index, cls, t)
        end = self.state.handles.remove(index)
        end.drop()

    def stream_drop_readable(self, t: PayloadType, i: int) -> None:
        self._drop(ReadableStreamEnd, t, i)

    def stream_drop_writable(self, t: PayloadType, i: int) -> None:
        self._drop(WritableStreamEnd, t, i)

    def future_drop_readable(self, t: PayloadType, i: int) -> None:
        self._drop(ReadableFutureEnd, t, i)

    def future_drop_writable(self, t: PayloadType, i: int) -> None:
        self._drop(WritableFutureEnd, t, i)


# ---------------------------------------------------------------------------- lifting values


def lift_stream(state: InstanceState, index: int, t: PayloadType) -> StreamReader:
    """A `stream<T>` the guest hands over (a result or `task.return` value)."""
    end = state.handles.remove(_u32(index))
    trap_if(
        not isinstance(end, ReadableStreamEnd),
        f"handle {index} is not a readable stream",
    )
    trap_if(end.shared.t.key != t.key, f"stream {index} has another payload type")
    trap_if(end.state != CopyState.IDLE, f"stream {index} is in the middle of a copy")
    end.join(None)
    shared = end.shared
    assert isinstance(shared, SharedStream)
    return StreamReader(state, shared)


def lift_future(state: InstanceState, index: int, t: PayloadType) -> FutureReader:
    end = state.handles.remove(_u32(index))
    trap_if(
        not isinstance(end, ReadableFutureEnd),
        f"handle {index} is not a readable future",
    )
    trap_if(end.shared.t.key != t.key, f"future {index} has another payload type")
    trap_if(end.state != CopyState.IDLE, f"future {index} is in the middle of a copy")
    end.join(None)
    shared = end.shared
    assert isinstance(shared, SharedFuture)
    return FutureReader(state, shared)


def lift_error_context(state: InstanceState, index: int) -> ErrorContext:
    errctx = state.handles.get(_u32(index))
    trap_if(
        not isinstance(errctx, ErrorContext),
        f"handle {index} is not an error-context",
    )
    assert isinstance(errctx, ErrorContext)
    return errctx


def lower_stream(state: InstanceState, t: PayloadType) -> tuple[int, StreamWriter]:
    """A new stream the host writes and the guest reads: (guest handle, host writer)."""
    shared = SharedStream(t)
    handle = state.handles.add(ReadableStreamEnd(state, shared))
    return handle, StreamWriter(state, shared)


def lower_future(state: InstanceState, t: PayloadType) -> tuple[int, FutureWriter]:
    shared = SharedFuture(t)
    handle = state.handles.add(ReadableFutureEnd(state, shared))
    return handle, FutureWriter(state, shared)


# ---------------------------------------------------------------------------- the plugin


@dataclass(frozen=True)
class AsyncExport:
    """An async export lifted with a callback.

    `module`/`func` name its `task.return` import (`[export]<iface>`, `<func>`); `lower` turns
    the Python arguments into flat core arguments (at most 4, else a pointer: MAX_FLAT_ASYNC
    _PARAMS); `lift` turns `task.return`'s flat values into the Python result.
    """

    core_name: str  # `[async-lift]<iface>#<func>`
    module: str
    func: str
    lower: Callable[[InstanceState, Sequence[Any]], Sequence[int | float]]
    lift: Callable[[InstanceState, Sequence[int | float]], Any] | None
    # the result type (any spelling that compares equal for equal types): a task may resolve
    # through the `task.return` of another export with the same result type, as in the spec;
    # without it only its own `task.return` is accepted
    result_key: str | None = None


@dataclass(frozen=True)
class AsyncImport:
    """An async host function the guest calls with `[async-lower]<name>`: a coroutine.

    `ins` are the core parameters (the flat arguments, at most 4, else a pointer to them, then
    the pointer where the result goes); `lift` turns the argument part into Python arguments;
    `lower` writes the coroutine's result at the result pointer. A function without a result
    has no `lower` (None) and no result pointer.
    """

    ins: tuple[str, ...]
    lift: Callable[[InstanceState, Sequence[int | float]], Sequence[Any]]
    lower: Callable[[InstanceState, Any, int], None] | None
    func: Callable[..., Awaitable[Any]]


@dataclass(frozen=True)
class SyncImport:
    """A synchronous host function the guest imports, e.g. `[resource-drop]<r>` of a host
    resource or `[resource-new]<r>` of one the guest exports: its core types and a plain
    callable taking and returning flat values."""

    ins: tuple[str, ...]
    outs: tuple[str, ...]
    func: Callable[..., Any]


class Call:
    """One started call of an async export (`AsyncPlugin.start`).

    `await call` (or `await call.result`) gives the value the guest passed to `task.return`.
    `cancel()` is the spec's cancellation request: the guest gets TASK_CANCELLED when it next
    waits or yields and resolves its task with `task.cancel` (awaiting the call then raises
    `CancelledError`) or still with `task.return` (its value); a guest that already returned is
    not told.
    """

    def __init__(self, plugin: AsyncPlugin, state: InstanceState, task: Task) -> None:
        self._plugin = plugin
        self._state = state
        self._task = task
        self.result: asyncio.Future[Any] = task.result

    def cancel(self) -> None:
        task = self._task
        stale = self._plugin._state is not self._state  # the instance trapped meanwhile
        if task.returned or task.cancel_requested or stale:
            return
        task.cancel_requested = True
        # whoever awaits the result, nobody may: a trap later must not go unretrieved
        task.result.add_done_callback(_retrieve)
        self._state.wake()

    def __await__(self) -> Generator[Any, None, Any]:
        return self.result.__await__()


def _retrieve(future: asyncio.Future[Any]) -> None:
    if not future.cancelled():
        future.exception()


class AsyncPlugin:
    """A guest core module with async exports, run on asyncio through the wasmtime C API."""

    def __init__(
        self,
        wasm: bytes,
        exports: Mapping[str, AsyncExport],
        payloads: Mapping[tuple[str, str, int], PayloadType],
        task_return_types: Mapping[tuple[str, str], tuple[str, ...]],
        limits: _runtime.Limits | None = None,
        imports: Mapping[tuple[str, str], AsyncImport] | None = None,
        sync_imports: Mapping[tuple[str, str], SyncImport] | None = None,
        wasi: _runtime.WasiGrants | None = None,
    ) -> None:
        # `wasi`: WASI preview 1 imports are served by wasmtime's WASI under these grants
        try:
            lib = _capi.load()
        except _capi.Unavailable as exc:
            raise _core.FastUnavailable(str(exc), warn=True) from None
        self.lib = lib
        self.limits = limits or _runtime.Limits()
        self.exports = dict(exports)
        self.engine = _core.engine_for(lib, self.limits.fuel is not None)
        module_bytes = _main_module(wasm, exports)
        info = _core.ModuleInfo(module_bytes)
        self.builtins = Builtins(self, payloads, task_return_types)
        self._callbacks: list[Any] = []
        try:
            self.module = _core.Module.compile(lib, self.engine, module_bytes)
        except _core._CallFailed as exc:
            raise _runtime.PluginLoadError(f"invalid component: {exc}") from None
        self.linker = _core._Owned(
            lib.wasmtime_linker_new(self.engine.ptr),
            lib.wasmtime_linker_delete,
            "linker",
        )
        # tasks and subtasks still running
        self._drivers: set[asyncio.Future[Any]] = set()
        served = dict(imports or {})
        plain = dict(sync_imports or {})
        self._wasi: _runtime.WasiGrants | None = None
        for mod, name in info.imports:
            if mod == _core.PREVIEW1 and wasi is not None:
                self._wasi = wasi
                continue
            if (mod, name) in served:
                spec = served[(mod, name)]
                self._define(mod, name, spec.ins, ("i32",), self._async_lower(spec))
                continue
            if (mod, name) in plain:
                sync = plain[(mod, name)]
                self._define(mod, name, sync.ins, sync.outs, sync.func)
                continue
            if not is_builtin(mod, name):
                raise _core.FastUnavailable(f"the core module imports {mod}/{name}")
            ins, outs, impl = self.builtins.resolve(mod, name)
            self._define(mod, name, ins, outs, impl)
        if self._wasi is not None:
            try:
                linker = self.linker.ptr
                lib.check(lib.wasmtime_linker_define_wasi(linker), "define WASI")
            except _core._CallFailed as exc:
                raise _core.FastUnavailable(str(exc)) from None
        self.info = info
        for export in exports.values():
            for name in (export.core_name, f"[callback]{export.core_name}"):
                if name not in info.exports:
                    raise _core.FastUnavailable(
                        f"the core module does not export {name}",
                    )
        self._state: InstanceState | None = None
        self._store: _core.Store | None = None
        self._funcs: dict[str, _core.RawFunc] = {}
        self._pre: _core._Owned | None = None
        # the last trap that discarded an instance
        self.trapped: BaseException | None = None
        # False while the host runs the guest's cabi_realloc to lower values (the spec's
        # `may_leave`): the guest may call no built-in then
        self.may_leave = True
        # blocks `typed_codec` registered (`ref`) for the next `allocate`
        self.pending: list[tuple[bytearray, int, int, bytes | bytearray, int]] = []
        self._alloc_many: _core.RawFunc | None = None

    def _define(
        self,
        module: str,
        name: str,
        ins: Sequence[str],
        outs: Sequence[str],
        func: Callable[..., Any],
    ) -> None:
        lib = self.lib
        unpack = _core._layout(ins, True).unpack
        pack = _core._layout(outs, False).pack  # i32 results may be u32 (BLOCKED)
        arg_bytes = _core._SLOT * len(ins)
        has_result = bool(outs)

        def callback(_env: Any, _caller: Any, values: int, _n: int) -> int:
            try:
                # the spec's `trap_if(not task.inst.may_leave)` of every built-in
                if not self.may_leave:
                    trap_if(True, f"{name} called while the host lowers values")
                result = func(*unpack(ctypes.string_at(values, arg_bytes)))
                if has_result:
                    out = pack(result)
                    ctypes.memmove(values, out, len(out))
                return 0
            except BaseException as exc:  # re-raised by RawFunc after the guest unwound
                _runtime.pending.raised = exc
                return int(lib.new_trap(b"an async built-in trapped"))

        _core._link_callback(self, module, name, ins, outs, callback)

    def _async_lower(self, spec: AsyncImport) -> Callable[..., int]:
        """`canon lower async` of a host coroutine: a subtask the guest waits for."""

        def call(*flat: Any) -> int:
            state = self.state()
            # the result pointer comes last, when there is a result to lower
            if spec.lower is None:
                args, out_ptr = flat, 0
            else:
                args, out_ptr = flat[:-1], _u32(flat[-1])
            values = spec.lift(state, args)
            subtask = Subtask(state)
            subtask.state = SubtaskState.STARTED
            index = state.handles.add(subtask)

            def finished(job: asyncio.Future[Any]) -> None:
                if self._state is not state:
                    return  # the instance trapped meanwhile
                if job.cancelled() and subtask.cancel_requested:
                    # the guest's subtask.cancel took effect: the coroutine ended cancelled
                    subtask.state = SubtaskState.CANCELLED_BEFORE_RETURNED
                elif job.cancelled() or job.exception() is not None:
                    exc = job.exception() if not job.cancelled() else None
                    why = "an async host import was cancelled"
                    cancelled = _runtime.PluginTrap(why)
                    self._poison(exc or cancelled)
                    return
                else:
                    try:
                        if spec.lower is not None:
                            spec.lower(state, job.result(), out_ptr)
                    except BaseException as exc:
                        # a wrong value, or a trap in cabi_realloc
                        self._poison(exc)
                        return
                    subtask.state = SubtaskState.RETURNED

                def event() -> Event:
                    subtask.delivered = True
                    return (EventCode.SUBTASK, index, int(subtask.state))

                subtask.set_pending_event(event)

            job: asyncio.Future[Any] = asyncio.ensure_future(spec.func(*values))
            subtask.job = job
            self._drivers.add(job)
            job.add_done_callback(self._drivers.discard)
            job.add_done_callback(finished)
            return int(SubtaskState.STARTED) | (index << 4)

        return call

    # -- the instance --

    def state(self) -> InstanceState:
        if self._state is None:
            self._start()
        assert self._state is not None
        return self._state

    def _start(self) -> None:
        lib = self.lib
        store = _core.Store(lib, self.engine, self.limits)
        if self._wasi is not None:
            config = _core._wasi_config(lib, self._wasi)
            try:
                lib.check(lib.wasmtime_context_set_wasi(store.context, config), "WASI")
            except _core._CallFailed as exc:
                raise _runtime.PluginLoadError(str(exc)) from None
        if self._pre is None:
            pre = ctypes.c_void_p(0)
            try:
                lib.check(
                    lib.wasmtime_linker_instantiate_pre(
                        self.linker.ptr, self.module.ptr, ctypes.addressof(pre)
                    ),
                    "cannot link the core module",
                )
            except _core._CallFailed as exc:
                raise _core.FastUnavailable(str(exc)) from None
            self._pre = _core._Owned(pre.value, lib.wasmtime_instance_pre_delete, "pre")
        instance = (ctypes.c_uint64 * 2)()
        trap = ctypes.c_void_p(0)
        error = lib.wasmtime_instance_pre_instantiate(
            self._pre.ptr,
            store.context,
            ctypes.addressof(instance),
            ctypes.addressof(trap),
        )
        store.instantiated(error, trap, "cannot instantiate the plugin")
        offset = _capi.ITEM_OFFSET

        def export(name: str, kind: int) -> Any:
            ext = store.export(instance, name)
            if ext is None or _core._kind(ext) != kind:
                raise _runtime.PluginLoadError(
                    f"the core module does not export {name}",
                )
            return ext

        funcs: dict[str, _core.RawFunc] = {}
        for name, ty in self.info.exports.items():
            if ty is None:
                continue
            ins, outs = ty
            funcs[name] = _core.RawFunc(
                store,
                export(name, _capi.EXTERN_FUNC),
                offset,
                ins,
                outs,
            )
        memory = export("memory", _capi.EXTERN_MEMORY)
        self._memory_ref = (store.context, ctypes.addressof(memory) + offset)
        self._keep = (instance, memory)
        self._size = lib.raw("wasmtime_memory_data_size", _core._SIZE_PROTO)
        self._store = store
        self._funcs = funcs
        # the allocation helper is per store, made when first needed
        self._alloc_many = None
        self._state = InstanceState(self)
        if "_initialize" in funcs:
            self._enter("_initialize", ())

    def view(self) -> memoryview:
        """The guest's whole linear memory (valid until the guest runs again)."""
        size = self._size(*self._memory_ref)
        base = self.lib.wasmtime_memory_data(*self._memory_ref)
        return memoryview((ctypes.c_ubyte * size).from_address(base)).cast("B")

    @property
    def buf(self) -> memoryview:  # the `Memory` protocol of witgen.abi
        return self.view()

    def realloc(self, *args: int) -> int:
        """`cabi_realloc(0, 0, align, size)` (or the four-argument form of `Memory`)."""
        old_ptr, old_size, align, size = args if len(args) == 4 else (0, 0, *args)
        self.may_leave = False
        try:
            got = self._funcs["cabi_realloc"](old_ptr, old_size, align, size)
        finally:
            self.may_leave = True
        addr = int(got[0]) & 0xFFFFFFFF
        trap_if(addr & (align - 1) != 0, f"cabi_realloc returned misaligned {addr:#x}")
        trap_if(
            addr + size > len(self.view()),
            "cabi_realloc returned memory out of bounds",
        )
        return addr

    def ref(
        self,
        parent: bytearray,
        offset: int,
        align: int,
        data: bytes | bytearray,
        count: int = -1,
    ) -> None:
        """Registers a block referenced from `parent` (what the fast path's `_st_<id>` helpers
        call): `allocate` gets its address and writes (address, count) into `parent`."""
        self.pending.append(
            (parent, offset, align, data, len(data) if count < 0 else count),
        )

    def allocate(self) -> None:
        """Allocates every registered block with the guest's `cabi_realloc`, in one trip into
        wasm (the fast path's helper module loops over them), then copies them in."""
        refs = self.pending
        n = len(refs)
        if not n:
            return
        alloc_many = self._alloc_many or self._allocation_helper()
        sizes = array.array("I")
        for ref in refs:
            sizes.append(ref[2])
            sizes.append(len(ref[3]))
        scratch = self._scratch(8 * n)
        scratch[: 8 * n] = memoryview(sizes).cast("B")
        self.may_leave = False
        try:
            alloc_many(n)
        except _core._CallFailed as exc:
            raise _runtime.PluginTrap(f"cabi_realloc trapped: {exc}") from None
        finally:
            self.may_leave = True
        addrs = array.array("I", bytes(self._scratch(4 * n)[: 4 * n]))
        pack = _PAIR.pack_into
        mem = self.view()
        end = len(mem)
        for (parent, offset, align, data, count), addr in zip(refs, addrs):
            stop = addr + len(data)
            if addr & (align - 1) or stop > end:  # checked inline: this loop is hot
                trap_if(
                    addr & (align - 1) != 0,
                    f"cabi_realloc returned misaligned {addr:#x}",
                )
                trap_if(True, "cabi_realloc returned memory out of bounds")
            pack(parent, offset, addr, count)
            mem[addr:stop] = data
        refs.clear()

    def _allocation_helper(self) -> _core.RawFunc:
        lib, store, engine = self.lib, self._store, self.engine
        assert store is not None
        if engine.allocator is None:
            wat = importlib.import_module("wasmtime").wat2wasm(_core._ALLOCATOR_WAT)
            engine.allocator = _core.Module.compile(lib, engine, bytes(wat))
        realloc = store.export(self._keep[0], "cabi_realloc")
        helper = (ctypes.c_uint64 * 2)()
        trap = ctypes.c_void_p(0)
        error = lib.wasmtime_instance_new(
            store.context,
            engine.allocator.ptr,
            ctypes.addressof(realloc),
            1,
            ctypes.addressof(helper),
            ctypes.addressof(trap),
        )
        store.instantiated(error, trap, "cannot start the allocation helper")
        offset = _capi.ITEM_OFFSET
        scratch = store.export(helper, "scratch")
        self._scratch_ref = (store.context, ctypes.addressof(scratch) + offset)
        alloc = store.export(helper, "alloc_many")
        self._alloc_many = _core.RawFunc(store, alloc, offset, ("i32",), ())
        self._keep_helper = (helper, scratch, alloc)
        return self._alloc_many

    def _scratch(self, size: int) -> memoryview:
        lib = self.lib
        have = self._size(*self._scratch_ref)
        if have < size:
            prev = ctypes.c_uint64(0)
            pages = (size - have + 65535) // 65536
            error = lib.wasmtime_memory_grow(
                *self._scratch_ref,
                pages,
                ctypes.addressof(prev),
            )
            trap_if(bool(error), "cannot grow the allocation helper's memory")
        length = self._size(*self._scratch_ref)
        base = lib.wasmtime_memory_data(*self._scratch_ref)
        return memoryview((ctypes.c_ubyte * length).from_address(base)).cast("B")

    def write(self, addr: int, data: bytes | bytearray) -> None:
        mem = self.view()
        trap_if(addr + len(data) > len(mem), f"write at {addr:#x} is out of bounds")
        mem[addr : addr + len(data)] = data

    def write_u32s(self, addr: int, values: Sequence[int]) -> None:
        trap_if(addr & 3 != 0, f"pointer {addr:#x} is misaligned")
        self.write(addr, b"".join(_u32(v).to_bytes(4, "little") for v in values))

    def read_text(self, addr: int, length: int) -> str:
        mem = self.view()
        trap_if(addr + length > len(mem), "string out of bounds")
        try:
            return str(mem[addr : addr + length], "utf-8")
        except UnicodeDecodeError:
            raise _runtime.PluginTrap(
                "async ABI violation: string is not UTF-8",
            ) from None

    def _enter(self, name: str, args: Sequence[Any]) -> tuple[Any, ...]:
        """Runs guest code once, synchronously; a trap discards the instance."""
        store = self._store
        assert store is not None
        if self.limits.fuel is not None:
            # a budget per entry, as per call on the fast path
            store.set_fuel(self.limits.fuel)
        running = _core._running.stack
        running.append(self)
        store.interrupts.start()
        ticker = self.engine.ticker
        ticker.running.append(self)
        if not ticker.awake:
            ticker.wake()
        try:
            return self._funcs[name](*args)
        except _core._CallFailed as exc:
            raise self._poison(_runtime.classify(str(exc), store.interrupts.timed_out))
        except BaseException as exc:
            raise self._poison(exc)
        finally:
            ticker.running.pop()
            running.pop()

    def _poison(self, exc: BaseException) -> BaseException:
        state, self._state, self._store = self._state, None, None
        if state is not None:
            # what the host may look at when nobody waited (a trap after `task.return`)
            self.trapped = exc
            state.fail(exc)
        return exc

    # -- calls --

    async def call(self, name: str, *args: Any) -> Any:
        """Calls the async export `name` and returns its result once the guest returned it.

        The guest's task may go on after `task.return` (e.g. writing the stream it returned);
        the host keeps driving it in the background until it exits. Cancelling the coroutine
        raises `CancelledError` at once and asks the guest to cancel its task (`Call.cancel`);
        to wait for the guest's answer to a cancellation, use `start`.
        """
        started = await self.start(name, *args)
        try:
            return await asyncio.shield(started.result)
        except asyncio.CancelledError:
            started.cancel()
            raise

    async def start(self, name: str, *args: Any) -> Call:
        """Starts the async export `name`: a `Call` to await (its result) or to `cancel()`."""
        export = self.exports[name]
        state = self.state()
        while state.backpressure > 0:
            await state.changed()
        loop = asyncio.get_running_loop()
        lift = export.lift
        task = Task(
            export=export.func,
            module=export.module,
            lift_result=None if lift is None else (lambda flat: lift(state, flat)),
            result=loop.create_future(),
            result_key=export.result_key,
        )
        flat = export.lower(state, args)
        state.host_waiters.append(task.result)
        try:
            packed = self._run(state, task, export.core_name, flat)
        except BaseException:
            if task.result.done() and not task.result.cancelled():
                task.result.exception()  # the caller gets the trap from here, not twice
            raise
        driver = loop.create_task(self._drive(state, task, export, packed))
        self._drivers.add(driver)
        driver.add_done_callback(self._drivers.discard)
        return Call(self, state, task)

    @staticmethod
    def _cancel_event(task: Task) -> Event | None:
        """TASK_CANCELLED once the host cancelled the call (callback waits are cancellable)."""
        if task.cancel_requested and not task.cancel_delivered and not task.returned:
            task.cancel_delivered = True
            return (EventCode.TASK_CANCELLED, 0, 0)
        return None

    def _run(
        self,
        state: InstanceState,
        task: Task,
        core_name: str,
        args: Sequence[Any],
    ) -> int:
        state.task = task
        try:
            return int(self._enter(core_name, args)[0]) & 0xFFFFFFFF
        finally:
            state.task = None

    async def _drive(
        self, state: InstanceState, task: Task, export: AsyncExport, packed: int
    ) -> None:
        """The spec's callback loop for one task, until the guest says EXIT."""
        callback = f"[callback]{export.core_name}"
        try:
            while True:
                code, si = packed & 0xF, packed >> 4
                trap_if(code > CallbackCode.WAIT, f"unknown callback code {code}")
                if code == CallbackCode.EXIT:
                    trap_if(
                        not task.returned,
                        f"`{export.func}` exited without task.return or task.cancel",
                    )
                    return
                if code == CallbackCode.YIELD:
                    await asyncio.sleep(0)
                    if self._state is not state:
                        return
                    event: Event = self._cancel_event(task) or (EventCode.NONE, 0, 0)
                else:
                    wset = state.handles.get(si)
                    trap_if(
                        not isinstance(wset, WaitableSet),
                        f"handle {si} is not a set",
                    )
                    wset.num_waiting += 1
                    try:
                        cancelled = self._cancel_event(task)
                        while cancelled is None and not wset.has_pending_event():
                            await state.changed()
                            if self._state is not state:
                                return  # trapped meanwhile: the trap went to every waiter
                            cancelled = self._cancel_event(task)
                    finally:
                        wset.num_waiting -= 1
                    event = cancelled or wset.get_pending_event()
                packed = self._run(state, task, callback, event)
        except BaseException as exc:
            # a trap, or a bug of the host: every waiter learns it
            if self._state is state:
                self._poison(exc)
            else:
                state.fail(exc)
            if not isinstance(exc, Exception):
                raise


def _main_module(wasm: bytes, exports: Mapping[str, AsyncExport]) -> bytes:
    """The core module of a component (or a core module as is) that exports every function."""
    if not wasm.startswith(b"\x00asm\x0d\x00\x01\x00"):
        return wasm
    wanted = {e.core_name for e in exports.values()} | {"memory", "cabi_realloc"}
    for module in _core.core_modules(wasm):
        if wanted <= set(_core.ModuleInfo(module).exports):
            return module
    raise _core.FastUnavailable("no core module exports every async function")


def _settle(done: asyncio.Future[CopyResult]) -> OnCopyDone:
    def on_copy_done(result: CopyResult) -> None:
        if not done.done():
            done.set_result(result)

    return on_copy_done


async def gather_stream(reader: StreamReader) -> list[Any]:
    """Every value of a stream, in order (a convenience for tests and small streams)."""
    return [value async for value in reader]


Coroutine = Awaitable[Any]
