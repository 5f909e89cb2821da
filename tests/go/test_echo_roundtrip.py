"""Round trip of every type kind the Go backend supports, through a real Go guest in wasmtime.

tests/go/echo.wit declares each `pass-*` function twice: imported from the host and exported by
the guest. The guest (tests/go/echo_guest) answers each export by calling the import of the same
name, so every call lowers in Python, lifts in Go (export params), lowers in Go (import params),
lifts in Python, and back the same way for the result. Hypothesis draws the values.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Iterator

import pytest
import wasmtime
from hypothesis import given, settings
from hypothesis import strategies as st
from wasmtime.component import Linker, Record, ResourceHost, ResourceType, Variant

from go.conftest import CACHE, build_component, generate_sdk
from witgen.paths import REPO_ROOT

HERE = Path(__file__).parent
WIT = HERE / "echo.wit"
EXAMPLES = settings(max_examples=15)
TALLY = 1  # wasmtime's id for the host resource type `tally`

PASSES = [
    "scalars",
    "wide",
    "bytes",
    "strings",
    "bools",
    "points",
    "nested",
    "maybe-string",
    "maybe-point",
    "outcome",
    "unit-ok",
    "bare",
    "color",
    "perms",
    "many",
    "shape",
    "num",
    "triple",
    "f32",
    "char",
    "s8",
    "nothing",
]


class Echo:
    def __init__(self, engine: wasmtime.Engine, component: Any) -> None:
        self.seen: list[Any] = []
        self.tallies: dict[int, int] = {}  # host resource `tally`: rep -> value
        self.dropped: list[int] = []
        linker = Linker(engine)
        linker.add_wasip2()
        with linker.root() as root:
            root.add_func("clock", lambda _store: 1_234_567)
            with root.add_instance("witgen:echo/host") as host:
                for name in PASSES:
                    host.add_func(f"pass-{name}", self._host_func(name))
                host.add_resource(
                    "tally", ResourceType.host(TALLY), lambda _s, rep: self.dropped.append(rep)
                )
                host.add_func("[constructor]tally", lambda _s, start: self._new_tally(start))
                host.add_func("[method]tally.get", lambda s, t: self.tallies[t.to_host(s).rep])
                host.add_func(
                    "[static]tally.bump",
                    lambda s, t, by: self._new_tally(self.tallies[t.to_host(s).rep] + by),
                )
        self.store = wasmtime.Store(engine)
        self.store.set_wasi(wasmtime.WasiConfig())
        self.instance = linker.instantiate(self.store, component)
        self.iface = self.instance.get_export_index(self.store, "witgen:echo/guest")

    def _new_tally(self, value: int) -> ResourceHost:
        rep = len(self.tallies) + 1
        self.tallies[rep] = value
        return ResourceHost.own(rep, TALLY)

    def _host_func(self, name: str) -> Callable[..., Any]:
        def host(_store: Any, *args: Any) -> Any:
            self.seen.append(args)
            if name == "nothing":
                return None
            return args if name == "wide" else args[0]

        return host

    def func(self, name: str) -> Any:
        index = self.instance.get_export_index(self.store, name, self.iface)
        assert index is not None, name
        return self.instance.get_func(self.store, index)

    def call(self, name: str, *args: Any) -> Any:
        return self.func(name)(self.store, *args)

    def roundtrip(self, name: str, *args: Any) -> Any:
        self.seen.clear()
        out = self.call(f"pass-{name}", *args)
        assert self.seen == [tuple(args)], "the host import saw a different value"
        return out


@pytest.fixture(scope="module")
def echo(engine: wasmtime.Engine, adapter: Path, wasm_tools: str, go: str) -> Iterator[Echo]:
    sdk = CACHE / "echo-sdk"
    generate_sdk(WIT, sdk, "witgen/echo")
    component = build_component(
        engine,
        name="echo",
        guest=HERE / "echo_guest",
        sdk=sdk,
        wit=WIT,
        world="echo",
        adapter=adapter,
        wasm_tools=wasm_tools,
        go=go,
    )
    yield Echo(engine, component)


def record(**fields: Any) -> Record:
    r = Record()
    for name, value in fields.items():
        setattr(r, name.replace("_", "-"), value)
    return r


def ints(bits: int, signed: bool) -> st.SearchStrategy[int]:
    if signed:
        return st.integers(-(2 ** (bits - 1)), 2 ** (bits - 1) - 1)
    return st.integers(0, 2**bits - 1)


f32s = st.floats(width=32, allow_nan=False)
f64s = st.floats(allow_nan=False)
chars = st.characters(blacklist_categories=("Cs",))
texts = st.text(chars, max_size=20)
scalars = st.builds(
    record,
    a_bool=st.booleans(),
    a_u8=ints(8, False),
    a_s8=ints(8, True),
    a_u16=ints(16, False),
    a_s16=ints(16, True),
    a_u32=ints(32, False),
    a_s32=ints(32, True),
    a_u64=ints(64, False),
    a_s64=ints(64, True),
    a_f32=f32s,
    a_f64=f64s,
    a_char=chars,
    a_string=texts,
)
points = st.builds(record, x=ints(32, True), y=ints(32, True))
colors = st.sampled_from(["red", "green", "blue"])
# `shape`'s payload types differ in Python, so wasmtime passes them untagged.
shapes = st.one_of(f32s, points, texts, st.none(), ints(64, False))
nums = st.one_of(
    st.builds(Variant, st.just("i"), ints(32, True)),
    st.builds(Variant, st.just("f"), f32s),
    st.builds(Variant, st.just("d"), f64s),
)


def test_every_function_once(echo: Echo) -> None:
    s = record(
        a_bool=True,
        a_u8=255,
        a_s8=-128,
        a_u16=65535,
        a_s16=-5,
        a_u32=2**32 - 1,
        a_s32=-(2**31),
        a_u64=2**64 - 1,
        a_s64=-(2**63),
        a_f32=1.5,
        a_f64=-2.25,
        a_char="é",
        a_string="hello",
    )
    cases: list[tuple[str, tuple[Any, ...]]] = [
        ("scalars", (s,)),
        ("bytes", (b"\x00abc\xff",)),
        ("strings", (["a", "bé", ""],)),
        ("bools", ([True, False, True],)),
        ("points", ([record(x=1, y=-2)],)),
        ("nested", ([[1, 2], [], [3]],)),
        ("maybe-string", ("x",)),
        ("maybe-string", (None,)),
        ("maybe-point", (record(x=5, y=6),)),
        ("maybe-point", (None,)),
        ("outcome", (7,)),
        ("outcome", ("bad",)),
        ("unit-ok", (None,)),
        ("unit-ok", ("blue",)),
        ("bare", (Variant("ok", None),)),
        ("bare", (Variant("err", None),)),
        ("color", ("green",)),
        ("perms", ({"read", "exec"},)),
        ("many", ({"f0", "f19"},)),
        ("shape", (2.5,)),
        ("shape", (None,)),
        ("num", (Variant("d", -1e300),)),
        ("triple", ((1, "two", 3.0),)),
        ("f32", (0.5,)),
        ("char", ("😀",)),
        ("s8", (-7,)),
    ]
    for name, args in cases:
        assert echo.roundtrip(name, *args) == args[0], name
    assert echo.roundtrip("wide", s, s) == (s, s)
    assert echo.roundtrip("nothing") is None


@EXAMPLES
@given(scalars)
def test_scalars(echo: Echo, v: Record) -> None:
    assert echo.roundtrip("scalars", v) == v


@EXAMPLES
@given(scalars, scalars)
def test_wide_params_go_through_memory(echo: Echo, a: Record, b: Record) -> None:
    # 2 x 14 flat values > 16: the parameters are passed indirectly.
    assert echo.roundtrip("wide", a, b) == (a, b)


@EXAMPLES
@given(st.binary(max_size=64), st.lists(texts, max_size=5), st.lists(st.booleans(), max_size=9))
def test_lists(echo: Echo, data: bytes, strings: list[str], bools: list[bool]) -> None:
    assert echo.roundtrip("bytes", data) == data
    assert echo.roundtrip("strings", strings) == strings
    assert echo.roundtrip("bools", bools) == bools


@EXAMPLES
@given(st.lists(points, max_size=5), st.lists(st.lists(ints(32, False), max_size=4), max_size=4))
def test_lists_of_records_and_lists(echo: Echo, pts: list[Record], nested: list[list[int]]) -> None:
    assert echo.roundtrip("points", pts) == pts
    assert echo.roundtrip("nested", nested) == nested


@EXAMPLES
@given(st.none() | texts, st.none() | points, ints(32, False) | texts, st.none() | colors)
def test_options_and_results(echo: Echo, ms: Any, mp: Any, outcome: Any, unit: Any) -> None:
    assert echo.roundtrip("maybe-string", ms) == ms
    assert echo.roundtrip("maybe-point", mp) == mp
    assert echo.roundtrip("outcome", outcome) == outcome
    assert echo.roundtrip("unit-ok", unit) == unit


@EXAMPLES
@given(
    colors,
    st.sets(st.sampled_from(["read", "write", "exec"])),
    st.sets(st.sampled_from([f"f{i}" for i in range(20)])),
)
def test_enums_and_flags(echo: Echo, color: str, perms: set[str], many: set[str]) -> None:
    assert echo.roundtrip("color", color) == color
    assert echo.roundtrip("perms", perms) == perms
    assert echo.roundtrip("many", many) == many


@EXAMPLES
@given(shapes, nums)
def test_variants_with_joined_payloads(echo: Echo, shape: Any, num: Variant) -> None:
    assert echo.roundtrip("shape", shape) == shape
    assert echo.roundtrip("num", num) == num


@EXAMPLES
@given(st.tuples(ints(8, False), texts, f64s), f32s, chars, ints(8, True))
def test_tuples_and_flat_primitives(echo: Echo, triple: Any, f: float, c: str, s8: int) -> None:
    assert echo.roundtrip("triple", triple) == triple
    assert echo.roundtrip("f32", f) == f
    assert echo.roundtrip("char", c) == c
    assert echo.roundtrip("s8", s8) == s8


def test_exported_resource_lifecycle(echo: Echo) -> None:
    base = echo.call("live-counters")
    a = echo.call("[constructor]counter", 5)
    b = echo.call("[constructor]counter", 10)
    assert echo.call("[method]counter.add", a, 3) == 8
    merged = echo.call("[static]counter.merge", a, b)
    assert echo.call("[method]counter.add", merged, 0) == 18
    assert echo.call("live-counters") == base + 3
    for handle in (a, b, merged):
        handle.drop(echo.store)
    # Each drop ran the guest's destructor, which removed the counter from the table.
    assert echo.call("live-counters") == base


def test_imported_resource_handles(echo: Echo) -> None:
    # The guest constructs a host tally, bumps it into a second one through a static function
    # taking a borrow, reads it with a method, and drops both handles.
    echo.dropped.clear()
    assert echo.call("use-tally", 10, 5) == 15
    assert sorted(echo.dropped) == sorted(list(echo.tallies)[-2:])


@EXAMPLES
@given(points)
def test_world_level_functions_and_types(echo: Echo, where: Record) -> None:
    index = echo.instance.get_export_index(echo.store, "stamp")
    assert index is not None
    stamped = echo.instance.get_func(echo.store, index)(echo.store, where)
    assert stamped.at == 1_234_567 and stamped.where == where


def test_large_values_span_several_arena_regions(echo: Echo) -> None:
    # cabi_realloc starts with 64 KiB regions; bigger arguments need new, larger regions, and
    # later calls must keep reusing them correctly.
    for sizes in ([70_000], [150_000, 10, 300_000], [5] * 50, [1_000_000]):
        strings = [chr(0x41 + i % 26) * n for i, n in enumerate(sizes)]
        assert echo.roundtrip("strings", strings) == strings
