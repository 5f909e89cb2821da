"""Hypothesis round trips through a Rust guest generated from tests/rust/wit/echo.wit.

Python draws values from the exported functions' own types, calls the guest through wasmtime's
component API (lifting/lowering in the generated Rust on the guest side) and checks that what
comes back equals what went in. The `via-host*` functions also cross the guest's imports, which
Python serves. Resources: construct, call methods, pass borrows and owned handles, drop.
"""

from __future__ import annotations

from typing import Any

import pytest
import wasmtime
import wasmtime.component as wc
from hypothesis import given, settings
from hypothesis import strategies as st

from .build import build_all
from .host import component, engine
from .toolchain import require_rust_toolchain
from .values import strategy

KINDS = "witgen:echo/kinds@0.1.0"
COUNTERS = "witgen:echo/counters@0.1.0"
HOST = "witgen:echo/host@0.1.0"

ECHOES = [
    "echo-bool",
    "echo-u8",
    "echo-u16",
    "echo-u32",
    "echo-u64",
    "echo-s8",
    "echo-s16",
    "echo-s32",
    "echo-s64",
    "echo-f32",
    "echo-f64",
    "echo-char",
    "echo-string",
    "echo-bytes",
    "echo-u64s",
    "echo-f32s",
    "echo-bools",
    "echo-chars",
    "echo-strings",
    "echo-pair",
    "echo-primitives",
    "echo-point",
    "echo-perms",
    "echo-wide",
    "echo-full",
    "echo-color",
    "echo-shape",
    "echo-option",
    "echo-option-string",
    "echo-result",
    "echo-unit-result",
    "echo-err-only",
    "echo-nested",
    "echo-nested-list",
    "echo-spilled",
    "via-host",
    "via-host-spilled",
    "echo-casts",
    "via-host-casts",
]


class EchoGuest:
    def __init__(self) -> None:
        require_rust_toolchain()
        self.comp = component(build_all()["echo-guest"])
        self.host_calls: list[str] = []
        linker = wc.Linker(engine())
        with linker.root() as root:
            with root.add_instance(HOST) as host:
                host.add_func("echo-nested", self._record("echo-nested", lambda v: v))
                host.add_func("echo-casts", self._record("echo-casts", lambda a, b: (a, b)))
                host.add_func("echo-spilled", self._record("echo-spilled", lambda *vs: tuple(vs)))
                host.add_func(
                    "get-strings",
                    self._record("get-strings", lambda n: [f"s{i}" * i for i in range(n)]),
                )
        self.store = wasmtime.Store(engine())
        self.instance = linker.instantiate(self.store, self.comp)
        self.funcs: dict[str, wc.Func] = {}

    def _record(self, name: str, fn: Any) -> Any:
        def call(_store: Any, *args: Any) -> Any:
            self.host_calls.append(name)
            return fn(*args)

        return call

    def func(self, name: str, interface: str | None = KINDS) -> wc.Func:
        key = f"{interface}#{name}"
        if key not in self.funcs:
            parent = None
            if interface is not None:
                parent = self.instance.get_export_index(self.store, interface)
            index = self.instance.get_export_index(self.store, name, parent)
            assert index is not None, name
            func = self.instance.get_func(self.store, index)
            assert func is not None
            self.funcs[key] = func
        return self.funcs[key]

    def call(self, name: str, *args: Any, interface: str | None = KINDS) -> Any:
        return self.func(name, interface)(self.store, *args)


@pytest.fixture(scope="module")
def guest() -> EchoGuest:
    return EchoGuest()


@pytest.mark.parametrize("name", ECHOES)
def test_echo_round_trip(guest: EchoGuest, name: str) -> None:
    func = guest.func(name)
    params = func.type(guest.store).params
    args = st.tuples(*(strategy(t) for _, t in params))

    @settings(database=None)  # example count from the Hypothesis profile (ci / thorough)
    @given(args)
    def check(values: tuple[Any, ...]) -> None:
        out = func(guest.store, *values)
        expected = values[0] if len(values) == 1 else values
        assert out == expected

    check()


def test_imports_are_called(guest: EchoGuest) -> None:
    guest.host_calls.clear()
    assert guest.call("via-host-strings", 4) == ["", "s1", "s2s2", "s3s3s3"]
    assert guest.call("via-host-strings", 0) == []
    assert guest.host_calls == ["get-strings", "get-strings"]


def test_world_level_export(guest: EchoGuest) -> None:
    assert guest.call("version", interface=None) == "echo 0.1.0"


def test_resources() -> None:
    guest = EchoGuest()  # its own instance: the last check traps, which poisons an instance
    live = guest.func("live", COUNTERS)
    ctor = guest.func("[constructor]counter", COUNTERS)
    add = guest.func("[method]counter.add", COUNTERS)
    get = guest.func("[method]counter.get", COUNTERS)
    merge = guest.func("[static]counter.merge", COUNTERS)
    total = guest.func("total", COUNTERS)
    consume = guest.func("consume", COUNTERS)
    s = guest.store
    base = live(s)
    a = ctor(s, 10)
    b = ctor(s, -3)
    assert isinstance(a, wc.ResourceAny) and a.owned
    assert live(s) == base + 2
    assert add(s, a, 5) == 15
    assert get(s, a) == 15
    c = merge(s, a, b)  # borrows: a and b stay alive
    assert get(s, c) == 12 and total(s, c) == 12
    assert live(s) == base + 3
    a.drop(s)  # the host drops its handle: the guest's destructor runs
    assert live(s) == base + 2
    assert consume(s, b) == -3  # ownership moves into the guest, which drops it
    assert live(s) == base + 1
    c.drop(s)
    assert live(s) == base
    with pytest.raises(wasmtime.WasmtimeError):
        get(s, a)  # a dropped handle is refused by the runtime


def test_memory_flat_after_many_calls(guest: EchoGuest) -> None:
    """10^5 calls that allocate on both sides (arguments, results, post-return, import
    results): the guest's linear memory must not grow."""
    echo_string = guest.func("echo-string")
    echo_strings = guest.func("echo-strings")
    via_strings = guest.func("via-host-strings")
    echo_shape = guest.func("echo-shape")
    s = guest.store
    shape = wc.Variant("named", "n" * 64)
    calls = [
        lambda: echo_string(s, "x" * 100),
        lambda: echo_strings(s, ["abc" * 10, "de", ""]),
        lambda: via_strings(s, 3),
        lambda: echo_shape(s, shape),
    ]
    for _ in range(1000):  # let the allocator reach its steady state
        for call in calls:
            call()
    before = guest.call("memory-pages")
    for i in range(100_000):
        calls[i % 4]()
    after = guest.call("memory-pages")
    assert after == before, f"memory grew from {before} to {after} pages"
