"""The stream and future state machine of `_async` against the Canonical ABI's rules.

Hypothesis drives both ends of one `stream<u32>` through the guest-facing built-ins (write,
read, cancel, drop, waitable-set poll) in any order, over a plain bytearray standing in for
guest memory, and checks the rules of CanonicalABI.md / definitions.py:
- values arrive in the order they were written, none invented or lost: what the reader got is
  exactly what the writer's completed copies took;
- a copy answers at once (`COMPLETED|n<<4`) when the other side waits, else BLOCKED, and its
  result then arrives as one event on that end's waitable set;
- after the writer drops, reads report DROPPED; a cancel returns the progress made;
- misuse traps: a second copy while one is pending, cancelling without a pending copy, a
  handle that was dropped, dropping an end mid-copy, a future dropped before it was written.
"""

from __future__ import annotations

import struct
from typing import Any

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from witgen.hostrt import _async
from witgen.hostrt._runtime import PluginTrap

WRITE_AT, READ_AT, EVENT_AT = 0x1000, 0x8000, 0x40


class FakeGuest:
    """Just enough of `AsyncPlugin` for the built-ins: memory and the instance state."""

    def __init__(self) -> None:
        self.memory = bytearray(0x10000)
        self._state = _async.InstanceState(self)  # type: ignore[arg-type]

    def state(self) -> _async.InstanceState:
        return self._state

    def view(self) -> memoryview:
        return memoryview(self.memory)

    def write_u32s(self, addr: int, values: Any) -> None:
        for i, v in enumerate(values):
            struct.pack_into("<I", self.memory, addr + 4 * i, v & 0xFFFFFFFF)


def u32(guest: FakeGuest) -> _async.PayloadType:
    return _async.PayloadType(
        "u32",
        _async.Codec(
            4,
            4,
            lambda ptr: struct.unpack_from("<I", guest.memory, ptr)[0],
            lambda v, ptr: struct.pack_into("<I", guest.memory, ptr, v),
        ),
    )


class StreamRules(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.guest = FakeGuest()
        self.t = u32(self.guest)
        self.b = _async.Builtins(self.guest, {}, {})  # type: ignore[arg-type]
        pair = self.b.stream_new(self.t)
        self.r, self.w = pair & 0xFFFFFFFF, pair >> 32
        self.ws = self.b.waitable_set_new()
        self.b.waitable_join(self.r, self.ws)
        self.b.waitable_join(self.w, self.ws)
        self.offered: list[int] = []  # values of the pending write
        self.written: list[int] = []  # values the writer's copies took, in order
        self.received: list[int] = []
        self.reading = 0  # elements of the pending read (0: none)
        self.writing = False
        self.writer_gone = False
        self.reader_done = False  # a read reported DROPPED

    # -- the two ends --

    def _wrote(self, answer: int) -> None:
        n = answer >> 4
        self.written += self.offered[:n]
        self.offered = []
        self.writing = False

    def _read(self, answer: int) -> None:
        n, result = answer >> 4, answer & 0xF
        self.received += [
            struct.unpack_from("<I", self.guest.memory, READ_AT + 4 * i)[0] for i in range(n)
        ]
        self.reading = 0
        if result == _async.CopyResult.DROPPED:
            self.reader_done = True

    @precondition(lambda self: not self.writing and not self.writer_gone)
    @rule(values=st.lists(st.integers(0, 2**32 - 1), max_size=12))
    def write(self, values: list[int]) -> None:
        for i, v in enumerate(values):
            struct.pack_into("<I", self.guest.memory, WRITE_AT + 4 * i, v)
        self.offered = values
        answer = self.b.stream_write(self.t, False, self.w, WRITE_AT, len(values))
        if answer == _async.BLOCKED:
            self.writing = True
        else:
            assert answer & 0xF == _async.CopyResult.COMPLETED
            self._wrote(answer)

    @precondition(lambda self: not self.reading and not self.reader_done)
    @rule(n=st.integers(1, 12))
    def read(self, n: int) -> None:
        answer = self.b.stream_read(self.t, False, self.r, READ_AT, n)
        if answer == _async.BLOCKED:
            self.reading = n
        else:
            self._read(answer)

    @rule()
    def poll(self) -> None:
        code = self.b.waitable_set_poll(self.ws, EVENT_AT)
        index, payload = struct.unpack_from("<II", self.guest.memory, EVENT_AT)
        if code == _async.EventCode.NONE:
            return
        if code == _async.EventCode.STREAM_WRITE:
            assert index == self.w and self.writing
            self._wrote(payload)
        else:
            assert code == _async.EventCode.STREAM_READ and index == self.r and self.reading
            self._read(payload)

    @precondition(lambda self: self.writing)
    @rule()
    def cancel_write(self) -> None:
        answer = self.b.stream_cancel_write(self.t, False, self.w)
        assert answer & 0xF in (_async.CopyResult.CANCELLED, _async.CopyResult.COMPLETED)
        self._wrote(answer)

    @precondition(lambda self: self.reading)
    @rule()
    def cancel_read(self) -> None:
        self._read(self.b.stream_cancel_read(self.t, False, self.r))

    @precondition(lambda self: not self.writing and not self.writer_gone)
    @rule()
    def drop_writer(self) -> None:
        self.b.stream_drop_writable(self.t, self.w)
        self.writer_gone = True

    # -- misuse --

    @precondition(lambda self: self.reading)
    @rule()
    def second_read_traps(self) -> None:
        with pytest.raises(PluginTrap, match="is not idle"):
            self.b.stream_read(self.t, False, self.r, READ_AT, 1)

    @precondition(lambda self: not self.writing and not self.writer_gone)
    @rule()
    def cancel_without_copy_traps(self) -> None:
        with pytest.raises(PluginTrap, match="no copy to cancel"):
            self.b.stream_cancel_write(self.t, False, self.w)

    @precondition(lambda self: self.writer_gone)
    @rule()
    def dropped_handle_traps(self) -> None:
        with pytest.raises(PluginTrap, match="no handle|is not a"):
            self.b.stream_write(self.t, False, self.w, WRITE_AT, 1)

    @invariant()
    def values_arrive_in_order(self) -> None:
        # the reader may get values before the writer's event says they were taken
        assert self.received == (self.written + self.offered)[: len(self.received)]

    def teardown(self) -> None:
        while self.b.waitable_set_poll(self.ws, EVENT_AT) != _async.EventCode.NONE:
            index, payload = struct.unpack_from("<II", self.guest.memory, EVENT_AT)
            (self._wrote if index == self.w else self._read)(payload)
        assert self.received == self.written


TestStreamRules = StreamRules.TestCase
TestStreamRules.settings = settings(max_examples=120, stateful_step_count=40, deadline=None)


def test_dropping_an_end_mid_copy_traps() -> None:
    guest = FakeGuest()
    b = _async.Builtins(guest, {}, {})  # type: ignore[arg-type]
    t = u32(guest)
    pair = b.stream_new(t)
    r = pair & 0xFFFFFFFF
    assert b.stream_read(t, False, r, READ_AT, 4) == _async.BLOCKED
    with pytest.raises(PluginTrap, match="during a copy"):
        b.stream_drop_readable(t, r)


def test_future_rules() -> None:
    guest = FakeGuest()
    b = _async.Builtins(guest, {}, {})  # type: ignore[arg-type]
    t = u32(guest)
    pair = b.future_new(t)
    r, w = pair & 0xFFFFFFFF, pair >> 32
    with pytest.raises(PluginTrap, match="before it was written"):
        b.future_drop_writable(t, w)
    guest = FakeGuest()
    b = _async.Builtins(guest, {}, {})  # type: ignore[arg-type]
    t = u32(guest)
    pair = b.future_new(t)
    r, w = pair & 0xFFFFFFFF, pair >> 32
    struct.pack_into("<I", guest.memory, WRITE_AT, 4242)
    assert b.future_read(t, False, r, READ_AT) == _async.BLOCKED
    assert b.future_write(t, False, w, WRITE_AT) == _async.CopyResult.COMPLETED
    b.future_drop_writable(t, w)  # written: dropping is fine now
    ws = b.waitable_set_new()
    b.waitable_join(r, ws)
    assert b.waitable_set_poll(ws, EVENT_AT) == _async.EventCode.FUTURE_READ
    assert struct.unpack_from("<II", guest.memory, EVENT_AT) == (r, _async.CopyResult.COMPLETED)
    assert struct.unpack_from("<I", guest.memory, READ_AT)[0] == 4242
    # a read end that completed is done: reading again traps
    with pytest.raises(PluginTrap, match="not idle"):
        b.future_read(t, False, r, READ_AT)


def test_an_instance_copying_a_non_number_stream_to_itself_traps() -> None:
    guest = FakeGuest()
    b = _async.Builtins(guest, {}, {})  # type: ignore[arg-type]
    text = _async.PayloadType("string", _async.Codec(8, 4, lambda p: "", lambda v, p: None))
    pair = b.stream_new(text)
    r, w = pair & 0xFFFFFFFF, pair >> 32
    assert b.stream_write(text, False, w, WRITE_AT, 1) == _async.BLOCKED
    with pytest.raises(PluginTrap, match="to itself"):
        b.stream_read(text, False, r, READ_AT, 1)
