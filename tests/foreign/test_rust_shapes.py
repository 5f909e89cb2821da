"""A guest built with the `wit-bindgen` crate (tests/foreign/guests/shapes), run through the
Python bindings witgen generates for the same WIT on both host paths (generic: wasmtime-py's
component API; fast: witgen's own C-API runtime), every answer checked against the expected
value and the two paths against each other.

The shapes follow wit-bindgen's own runtime tests: numbers with edge floats and NaN, chars,
strings, lists of everything, records, variants, enums, flags up to 32, options, results,
resources exported by the guest and imported from the host (own, borrow, drop order), calls
with more than 16 flat parameters and results returned through a pointer.
"""

from __future__ import annotations

import math
import struct
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.foreign import guests

PATHS = ["generic", "fast"]


@pytest.fixture(scope="module")
def component() -> Path:
    path = guests.build("shapes")
    guests.bindings("shapes")
    return path


class HostBlob:
    def __init__(self, log: list[str], data: bytes) -> None:
        self.log, self.data = log, bytearray(data)

    def append(self, more: bytes) -> None:
        self.data += more

    def bytes_(self) -> bytes:
        return bytes(self.data)

    def close(self) -> None:
        self.log.append(f"close {bytes(self.data)!r}")


class Host:
    """Serves `foreign:shapes/host` and the world's `now`; echoes what it is given."""

    def __init__(self) -> None:
        self.log: list[str] = []
        self.seen: list[Any] = []

    def now(self) -> int:
        return 41

    def blob(self, init: bytes) -> HostBlob:
        return HostBlob(self.log, init)

    def blob_merge(self, a: HostBlob, b: HostBlob) -> HostBlob:
        self.log.append("merge")
        return HostBlob(self.log, bytes(a.data) + bytes(b.data))

    def echo_string(self, s: str) -> str:
        self.seen.append(s)
        return s

    def echo_strings(self, l: list[str]) -> list[str]:
        self.seen.append(l)
        return l

    def echo_point(self, p: Any) -> Any:
        return p

    def echo_kinds(self, s: Any, c: Any, p: Any) -> tuple[Any, Any, Any]:
        return (s, c, p)

    def echo_floats(self, a: float, b: float) -> tuple[float, float]:
        self.seen.append((a, b))
        return (a, b)

    def echo_option(self, a: Any) -> Any:
        from foreign_shapes import Err, Ok
        from foreign_shapes.foreign import Color

        if a is None:
            return Err(Color.BLUE)
        if a.value is None:
            return Ok(None)
        return Ok(str(a.value))

    def many(self, *args: Any) -> str:
        return many_text(*args)


def many_text(*a: Any) -> str:
    """What the guest's `many_text` prints (Rust's Debug/Display spelling)."""
    from foreign_shapes import Ok

    def opt(v: Any) -> str:
        return "None" if v is None else f"Some({v})"

    res = f"Ok({a[17].value})" if isinstance(a[17], Ok) else f'Err("{a[17].value}")'
    return "|".join(
        [
            str(a[0]),
            str(a[1]),
            str(a[2]),
            str(a[3]),
            f"{f32_bits(a[4]):08x}",
            f"{f64_bits(a[5]):016x}",
            str(ord(a[6])),
            a[7],
            "[" + ", ".join(str(b) for b in a[8]) + "]",
            opt(a[9]),
            "true" if a[10] else "false",
            str(a[11]),
            str(a[12]),
            str(a[13]),
            str(a[14]),
            f"{f64_bits(a[15]):016x}",
            a[16],
            res,
        ]
    )


def f32_bits(x: float) -> int:
    return int.from_bytes(struct.pack("<f", x), "little")


def f64_bits(x: float) -> int:
    return int.from_bytes(struct.pack("<d", x), "little")


def f32(x: float) -> float:
    return float(struct.unpack("<f", struct.pack("<f", x))[0])


@pytest.fixture(scope="module", params=PATHS)
def plugin(request: Any, component: Path) -> Any:
    from foreign_shapes import Foreign

    host = Host()
    p = Foreign.load(component, host=host, imports=host, cache=False, fast=request.param == "fast")
    assert p.prepared.mode == ("core" if request.param == "fast" else "component")
    p.test_host = host
    return p


@pytest.fixture(scope="module")
def pair(component: Path) -> tuple[Any, Any]:
    from foreign_shapes import Foreign

    loaded = []
    for fast in (False, True):
        host = Host()
        loaded.append(Foreign.load(component, host=host, imports=host, cache=False, fast=fast))
    return loaded[0], loaded[1]


# ------------------------------------------------------------------------------------ numbers

INTS = {
    "u8": (0, 2**8 - 1),
    "s8": (-(2**7), 2**7 - 1),
    "u16": (0, 2**16 - 1),
    "s16": (-(2**15), 2**15 - 1),
    "u32": (0, 2**32 - 1),
    "s32": (-(2**31), 2**31 - 1),
    "u64": (0, 2**64 - 1),
    "s64": (-(2**63), 2**63 - 1),
}


@pytest.mark.parametrize("kind", sorted(INTS))
def test_integer_edges(plugin: Any, kind: str) -> None:
    lo, hi = INTS[kind]
    fn = getattr(plugin, f"{kind}_rt")
    for v in (lo, hi, 0, 1, lo + 1, hi - 1, (lo + hi) // 2):
        assert fn(v) == v
    for bad in (lo - 1, hi + 1):
        with pytest.raises((TypeError, ValueError, OverflowError)):
            fn(bad)


EDGE_F64 = [
    0.0,
    -0.0,
    1.0,
    -1.5,
    math.inf,
    -math.inf,
    5e-324,
    2.2250738585072014e-308,
    1.7976931348623157e308,
    0.1,
    -1e-300,
]
EDGE_F32 = [
    0.0,
    -0.0,
    1.0,
    -1.5,
    math.inf,
    -math.inf,
    1.401298464324817e-45,
    3.4028234663852886e38,
    0.1,
    1e-40,
    16777217.0,
]


def test_float_edges(plugin: Any) -> None:
    for v in EDGE_F64:
        got = plugin.f64_rt(v)
        assert f64_bits(got) == f64_bits(v)
        assert plugin.float_bits(0.0, v)[1] == f64_bits(v)
    for v in EDGE_F32:
        got = plugin.f32_rt(v)
        assert f32_bits(got) == f32_bits(v) and got == f32(v)
        assert plugin.float_bits(v, 0.0)[0] == f32_bits(v)
    assert math.isnan(plugin.f64_rt(math.nan)) and math.isnan(plugin.f32_rt(math.nan))


@pytest.mark.parametrize(
    "bits32, bits64",
    [
        (0x7FC00000, 0x7FF8000000000000),
        (0xFFC00001, 0xFFF8000000000001),
        (0x7F800001, 0x7FF0000000000001),
    ],
)
def test_nan_from_the_guest(plugin: Any, bits32: int, bits64: int) -> None:
    a, b = plugin.floats_from_bits(bits32, bits64)
    assert math.isnan(a) and math.isnan(b)
    # a NaN the guest returns still arrives as a NaN when it goes back in
    sa, sb = plugin.float_bits(a, b)
    assert (sa & 0x7F800000) == 0x7F800000 and sa & 0x7FFFFF
    assert (sb >> 52) & 0x7FF == 0x7FF and sb & (2**52 - 1)


@settings(max_examples=60)
@given(st.floats(width=32), st.floats())
def test_floats_agree(pair: tuple[Any, Any], a: float, b: float) -> None:
    generic, fast = pair
    for plugin in pair:
        got = plugin.f32_rt(a), plugin.f64_rt(b)
        if math.isnan(a):
            assert math.isnan(got[0])
        else:
            assert f32_bits(got[0]) == f32_bits(a)
        if math.isnan(b):
            assert math.isnan(got[1])
        else:
            assert f64_bits(got[1]) == f64_bits(b)
    if not math.isnan(a) and not math.isnan(b):
        assert generic.float_bits(a, b) == fast.float_bits(a, b) == (f32_bits(a), f64_bits(b))


def test_f32_rounds_a_python_float(pair: tuple[Any, Any]) -> None:
    """A Python float that is not an f32 is rounded to the nearest f32 on both paths."""
    for v in (0.1, 1 / 3, 16777217.0, -2.5e-39, 3.4028235e38):
        got = [p.float_bits(v, 0.0)[0] for p in pair]
        assert got[0] == got[1] == f32_bits(v), v


def test_chars_and_bools(plugin: Any) -> None:
    for c in ("a", "\0", "é", "\u07ff", "\u0800", "\uffff", "\U00010000", "\U0010ffff", "😀"):
        assert plugin.char_rt(c) == c
    for bad in ("\ud800", "\udfff", "ab", ""):
        with pytest.raises((TypeError, ValueError)):
            plugin.char_rt(bad)
    assert plugin.bool_rt(True) is True and plugin.bool_rt(False) is False


# ------------------------------------------------------------------------------------ strings

STRINGS = [
    "",
    "a",
    "hello",
    "\0nul\0",
    "é",
    "日本語",
    "😀 emoji 𝄞",
    "x" * 10_000,
    "ü" * 3001,
    "\U0010ffff\u0800\u07ff\x7f",
]


def test_strings(plugin: Any) -> None:
    for s in STRINGS:
        assert plugin.string_rt(s) == s
        assert plugin.string_stats(s) == (len(s.encode()), len(s))
    assert plugin.make_string("é", 5) == "ééééé"
    assert plugin.make_string("😀", 0) == ""
    assert plugin.make_string("𝄞", 2000) == "𝄞" * 2000
    assert plugin.hello("wörld") == "hello, wörld"
    with pytest.raises((TypeError, ValueError, UnicodeError)):
        plugin.string_rt("lone \ud800 surrogate")


@settings(max_examples=60)
@given(st.text())
def test_strings_agree(pair: tuple[Any, Any], s: str) -> None:
    for plugin in pair:
        assert plugin.string_rt(s) == s
        assert plugin.string_stats(s) == (len(s.encode()), len(s))
        assert plugin.via_string(s) == s


# ------------------------------------------------------------------------------------ lists


def test_lists_of_everything(plugin: Any) -> None:
    a = bytes(range(256))
    b = [-(2**15), 0, 2**15 - 1]
    c = [0, 2**64 - 1, 12345678901234567]
    d = [0.5, -0.0, math.inf, 3.4028234663852886e38]
    e = [1e300, -5e-324, -math.inf]
    f = ["a", "é", "😀", "\0"]
    g = [True, False, False, True]
    h = [-128, 127, 0]
    i = [2**32 - 1, 0, 7]
    got = plugin.lists(a, b, c, d, e, f, g, h, i)
    assert got == (a[::-1], b[::-1], c[::-1], d[::-1], e[::-1], f[::-1], g[::-1], h[::-1], i[::-1])
    assert plugin.lists(b"", [], [], [], [], [], [], [], []) == (
        b"",
        [],
        [],
        [],
        [],
        [],
        [],
        [],
        [],
    )
    assert f64_bits(plugin.lists(b"", [], [], [-0.0], [-0.0], [], [], [], [])[4][0]) == 1 << 63


def test_lists_of_compound(plugin: Any) -> None:
    from foreign_shapes.foreign import Point
    from foreign_shapes.shapes import MixedA, MixedB, MixedC, MixedD, MixedE, MixedF, MixedG
    from foreign_shapes.shapes import MixedH, MixedI

    strings = ["", "one", "twö", "😀" * 50]
    assert plugin.list_strings(strings) == strings[::-1]
    assert plugin.list_strings([]) == []
    pts = [Point(x=i, y=-i * 3) for i in range(100)]
    assert plugin.list_points(pts) == [Point(x=p.y, y=p.x) for p in reversed(pts)]
    nested = [["a", "b"], [], ["ç", "", "😀"]]
    assert plugin.list_nested(nested) == [n[::-1] for n in reversed(nested)]
    mixed = [
        MixedA(255),
        MixedB(2**64 - 1),
        MixedC(1.5),
        MixedD(-2.25),
        MixedE("é"),
        MixedF(Point(x=-1, y=2)),
        MixedG(),
        MixedH(b"\x00\xff"),
        MixedI(-128),
    ]
    assert plugin.list_mixed(mixed) == [None if isinstance(m, MixedG) else m for m in mixed]
    tuples = [(1, "x", 0.5), (255, "", -math.inf)]
    assert plugin.list_tuples(tuples) == [(f, s, x) for (x, s, f) in tuples]
    for n in (0, 1, 1000):
        assert plugin.empty_lists(n) == (b"\x07" * n, ["x"] * n, [Point(x=1, y=2)] * n)


@settings(max_examples=40)
@given(
    st.lists(st.text(max_size=8), max_size=20),
    st.lists(st.lists(st.text(max_size=4), max_size=4), max_size=6),
)
def test_lists_agree(pair: tuple[Any, Any], strings: list[str], nested: list[list[str]]) -> None:
    for plugin in pair:
        assert plugin.list_strings(strings) == strings[::-1]
        assert plugin.via_strings(strings) == strings
        assert plugin.list_nested(nested) == [n[::-1] for n in reversed(nested)]


# ------------------------------------------------------------------ records, variants, flags


def big_value(i: int) -> Any:
    from foreign_shapes import Err, Ok
    from foreign_shapes.foreign import Color, Flags32, Perms, Point
    from foreign_shapes.host import ShapeCircle, ShapeEmpty, ShapeRect
    from foreign_shapes.shapes import Big, MixedB, MixedE, MixedG

    shapes = [ShapeCircle(2.5), ShapeRect(Point(x=i, y=-i)), ShapeEmpty()]
    return Big(
        a=255 - i,
        b=65535,
        c=2**32 - 1 - i,
        d=2**64 - 1,
        e=-128,
        f=-(2**15),
        g=-(2**31) + i,
        h=-(2**63),
        i=f32(0.1 * i),
        j=1e300,
        k="😀",
        l=bool(i % 2),
        m="mé" * i,
        n=bytes(range(i)),
        o=None if i % 2 else Point(x=i, y=i + 1),
        p=Ok(i) if i % 3 else Err(f"bad {i}"),
        q=(i, str(i)),
        r=shapes[i % 3],
        s=list(Color)[i % 3],
        t=Perms.READ | Perms.EXEC if i % 2 else Perms(0),
        u=Flags32.D0 | Flags32.D31 if i % 2 else Flags32.D15,
        v=[MixedB(i), MixedE("x" * i), MixedG()],
    )


def test_big_record(plugin: Any) -> None:
    for i in range(6):
        assert plugin.big_rt(big_value(i)) == big_value(i)


def test_flags(plugin: Any) -> None:
    from foreign_shapes.foreign import Flags16, Flags32, Flags8, Perms

    cases = [
        (Flags8(0), Flags16(0), Flags32(0), Perms(0)),
        (Flags8.B0 | Flags8.B7, Flags16.C15, Flags32.D31, Perms.EXEC),
        (Flags8(255), Flags16(65535), Flags32(2**32 - 1), Perms(7)),
        (Flags8.B3, Flags16.C0 | Flags16.C8, Flags32.D16 | Flags32.D7, Perms.READ | Perms.WRITE),
    ]
    for case in cases:
        assert plugin.flags_rt(*case) == case


def test_variants_enums_options_results(plugin: Any) -> None:
    from foreign_shapes import Err, Ok, Some
    from foreign_shapes.foreign import Color, Point
    from foreign_shapes.shapes import MixedA, MixedB, MixedC, MixedD, MixedE, MixedF, MixedG
    from foreign_shapes.shapes import MixedH, MixedI

    for m in (
        MixedA(0),
        MixedA(255),
        MixedB(2**64 - 1),
        MixedC(-0.0),
        MixedC(math.inf),
        MixedD(5e-324),
        MixedE(""),
        MixedE("😀"),
        MixedF(Point(x=-(2**31), y=2**31 - 1)),
        MixedG(),
        MixedH(b""),
        MixedH(b"\x01" * 100),
        MixedI(-1),
    ):
        assert plugin.mixed_rt(m) == m
    assert f32_bits(plugin.mixed_rt(MixedC(-0.0)).value) == 1 << 31
    for c in Color:
        assert plugin.color_rt(c) == c
    assert [plugin.color_next(c) for c in Color] == [Color.GREEN, Color.BLUE, Color.RED]
    for opts in [
        (None, None, None, None),
        (0, Some(None), Point(x=1, y=2), 0.0),
        (255, Some("é"), None, -math.inf),
        (7, Some(""), Point(x=0, y=0), None),
    ]:
        assert plugin.options(*opts) == opts
    for res in [
        (Ok(0), Ok(None), Ok(""), Ok(None)),
        (Err("é"), Err(Color.BLUE), Err(None), Err(None)),
        (Ok(2**32 - 1), Err(Color.RED), Ok("😀"), Err(None)),
    ]:
        assert plugin.results(*res) == res
    assert plugin.fallible(21) == Ok(42)
    assert plugin.fallible(-3) == Err("negative: -3")


def test_many_params_and_big_results(plugin: Any) -> None:
    from foreign_shapes import Err, Ok
    from foreign_shapes.foreign import Perms, Point
    from foreign_shapes.shapes import MixedE

    args = (
        200,
        -300,
        2**32 - 1,
        -(2**63),
        0.5,
        -1e300,
        "😀",
        "strïng",
        b"\x00\x01\xff",
        None,
        True,
        2**64 - 1,
        -1,
        65535,
        -(2**31),
        2.5,
        "end",
        Err("oops"),
    )
    want = many_text(*args)
    got = plugin.many_params(*args, Point(x=3, y=-4), Perms.READ | Perms.EXEC)
    assert got == want + "|3,-4|5"
    args2 = args[:9] + (7,) + args[10:17] + (Ok(9),)
    assert plugin.many_params(*args2, Point(x=0, y=0), Perms(0)) == many_text(*args2) + "|0,0|0"
    for n in (0, 1, 2, 33, 1000):
        assert plugin.big_result(n) == (
            2**64 - 1 - n,
            "é" * n,
            list(range(n)),
            Point(x=-n, y=n),
            None if n % 2 else f"even {n}",
            n / 3.0,
            MixedE(f"m{n}"),
        )


@settings(max_examples=40)
@given(st.integers(0, 2**32 - 1))
def test_guest_calls_host_with_many_params(pair: tuple[Any, Any], seed: int) -> None:
    for plugin in pair:
        got, mine = plugin.via_many(seed).split("\n")
        assert got == mine


def test_host_imports(plugin: Any) -> None:
    from foreign_shapes import Err, Ok, Some
    from foreign_shapes.foreign import Color, Perms, Point
    from foreign_shapes.host import ShapeCircle, ShapeEmpty, ShapeRect

    assert plugin.via_point(Point(x=-5, y=2**31 - 1)) == Point(x=-5, y=2**31 - 1)
    for kinds in [
        (ShapeCircle(-0.5), Color.RED, Perms(0)),
        (ShapeRect(Point(x=1, y=2)), Color.BLUE, Perms.READ | Perms.WRITE | Perms.EXEC),
        (ShapeEmpty(), Color.GREEN, Perms.WRITE),
    ]:
        assert plugin.via_kinds(*kinds) == kinds
    assert plugin.via_floats(0.1, -0.0) == (f32(0.1), -0.0)
    a, b = plugin.via_floats(math.nan, math.inf)
    assert math.isnan(a) and b == math.inf
    assert plugin.via_option(None) == Err(Color.BLUE)
    assert plugin.via_option(Some(None)) == Ok(None)
    assert plugin.via_option(Some(2**32 - 1)) == Ok(str(2**32 - 1))
    assert plugin.tick() == 42


# ------------------------------------------------------------------------------------ resources


def test_exported_resource_own_borrow_and_drop_order(plugin: Any) -> None:
    shapes = plugin.shapes
    plugin.drops()
    a = shapes.counter("a", 10)
    b = shapes.counter("b", -3)
    assert a.add(5) == 15 and b.value() == -3 and a.name() == "a"
    assert plugin.counter_total([a, b, a]) == 15 + 15 - 3
    assert plugin.drops() == []
    merged = shapes.counter_merge(a, b)  # a is moved into the guest and dropped there
    assert merged.name() == "a+b" and merged.value() == 12
    assert plugin.drops() == ["a"]
    assert plugin.counter_take(b) == -3  # own: the guest drops it
    assert plugin.drops() == ["b"]
    x, y = plugin.counter_pair("x", "y")
    assert (x.value(), y.value(), x.name(), y.name()) == (1, 2, "x", "y")
    y.close()
    x.close()
    merged.close()
    assert plugin.drops() == ["y", "x", "a+b"]
    with shapes.counter("w", 0) as w:
        assert w.add(-1) == -1
    assert plugin.drops() == ["w"]


def test_imported_resource(plugin: Any) -> None:
    host = plugin.test_host
    host.log.clear()
    assert plugin.blob_dance(b"ab", b"cd") == b"abcdcd\xff"
    # `a` went to the host as `own` (the host holds it again: not closed); the guest dropped
    # its locals in reverse order: the merged blob, then `b`
    assert host.log == ["merge", "close b'abcdcd\\xff'", "close b'cd'"]
    host.log.clear()
    mine = HostBlob(host.log, b"mine")
    assert plugin.blob_peek(mine) == b"mine" and host.log == []
    assert plugin.blob_take(mine) == 4 and host.log == ["close b'mine'"]
    host.log.clear()
    made = plugin.blob_make(b"new")
    assert isinstance(made, HostBlob) and made.data == b"new!" and host.log == []


@pytest.mark.parametrize("path", PATHS)
def test_post_return_frees_what_each_call_returned(component: Path, path: str) -> None:
    """The guest starts with 192 KiB of memory; 300 rounds of results worth ~1.5 MiB run under
    a 256 KiB limit only when each call's post-return frees what it returned."""
    from foreign_shapes import Foreign, Limits, PluginTrap

    host = Host()
    limits = Limits(memory_bytes=256 * 1024)
    plugin = Foreign.load(
        component, host=host, imports=host, cache=False, fast=path == "fast", limits=limits
    )
    first = plugin.big_result(500)
    for _ in range(300):
        assert plugin.list_strings(["é" * 100] * 20)[0] == "é" * 100
        plugin.big_result(500)
        plugin.via_strings(["x" * 300] * 5)
    assert plugin.big_result(500) == first
    with pytest.raises(PluginTrap):  # the limit is real: 200 KB more do not fit
        plugin.make_string("x", 200_000)
    assert plugin.big_result(500) == first  # a fresh instance


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("value", [1e39, -1e39, 3.4028235677973366e38])
def test_f32_beyond_its_range_rounds_to_infinity(component: Path, path: str, value: float) -> None:
    """IEEE round-to-nearest (and wasmtime-py's generic path): a finite float beyond f32's
    range becomes +-inf."""
    from dataclasses import replace

    from foreign_shapes import Foreign
    from foreign_shapes.shapes import MixedC

    host = Host()
    plugin = Foreign.load(component, host=host, imports=host, cache=False, fast=path == "fast")
    inf = math.copysign(math.inf, value)
    assert plugin.f32_rt(value) == inf  # one f32 parameter: a flat call, rounds on both paths
    assert plugin.float_bits(value, 0.0)[0] == f32_bits(inf)
    assert plugin.lists(b"", [], [], [value], [], [], [], [], [])[3] == [inf]
    assert plugin.big_rt(replace(big_value(1), i=value)).i == inf
    assert plugin.mixed_rt(MixedC(value)) == MixedC(inf)
    # the fast path retries such a call with the rounded values: the instance is unharmed
    assert plugin.string_rt("still here") == "still here"


class BigFloatHost(Host):
    def echo_floats(self, a: float, b: float) -> tuple[float, float]:
        return (-1e39, b)


@pytest.mark.parametrize("path", PATHS)
def test_host_returns_an_f32_beyond_its_range(component: Path, path: str) -> None:
    from foreign_shapes import Foreign

    host = BigFloatHost()
    plugin = Foreign.load(component, host=host, imports=host, cache=False, fast=path == "fast")
    assert plugin.via_floats(1.0, 2.0) == (-math.inf, 2.0)
    assert plugin.via_string("fine") == "fine"


def test_a_moved_or_closed_resource_is_refused(plugin: Any) -> None:
    from foreign_shapes import PluginClosed

    shapes = plugin.shapes
    plugin.drops()
    moved = shapes.counter("moved", 1)
    assert plugin.counter_take(moved) == 1
    closed = shapes.counter("closed", 2)
    closed.close()
    for use in (
        moved.value,
        closed.value,
        lambda: plugin.counter_take(moved),
        lambda: plugin.counter_total([closed]),
    ):
        with pytest.raises(PluginClosed):
            use()
    assert plugin.drops() == ["moved", "closed"]  # each dropped once, in the guest
    assert plugin.string_rt("fine") == "fine"


# ---------------------------------------------------------- random values, both paths agree


def _mixed() -> st.SearchStrategy[Any]:
    from foreign_shapes.foreign import Point
    from foreign_shapes.shapes import MixedA, MixedB, MixedC, MixedD, MixedE, MixedF, MixedG
    from foreign_shapes.shapes import MixedH, MixedI

    return st.one_of(
        st.builds(MixedA, st.integers(0, 255)),
        st.builds(MixedB, st.integers(0, 2**64 - 1)),
        st.builds(MixedC, st.floats(width=32, allow_nan=False)),
        st.builds(MixedD, st.floats(allow_nan=False)),
        st.builds(MixedE, st.text(max_size=10)),
        st.builds(MixedF, st.builds(Point, x=st.integers(-(2**31), 2**31 - 1), y=st.just(0))),
        st.just(MixedG()),
        st.builds(MixedH, st.binary(max_size=10)),
        st.builds(MixedI, st.integers(-128, 127)),
    )


@st.composite
def bigs(draw: st.DrawFn) -> Any:
    from foreign_shapes import Err, Ok
    from foreign_shapes.foreign import Color, Flags32, Perms, Point
    from foreign_shapes.host import ShapeCircle, ShapeEmpty, ShapeRect
    from foreign_shapes.shapes import Big

    i32 = st.integers(-(2**31), 2**31 - 1)
    return Big(
        a=draw(st.integers(0, 2**8 - 1)),
        b=draw(st.integers(0, 2**16 - 1)),
        c=draw(st.integers(0, 2**32 - 1)),
        d=draw(st.integers(0, 2**64 - 1)),
        e=draw(st.integers(-(2**7), 2**7 - 1)),
        f=draw(st.integers(-(2**15), 2**15 - 1)),
        g=draw(i32),
        h=draw(st.integers(-(2**63), 2**63 - 1)),
        i=draw(st.floats(width=32, allow_nan=False)),
        j=draw(st.floats(allow_nan=False)),
        k=draw(st.characters(exclude_categories=["Cs"])),
        l=draw(st.booleans()),
        m=draw(st.text(max_size=20)),
        n=draw(st.binary(max_size=20)),
        o=draw(st.none() | st.builds(Point, x=i32, y=i32)),
        p=draw(st.builds(Ok, st.integers(0, 2**32 - 1)) | st.builds(Err, st.text(max_size=5))),
        q=(draw(st.integers(0, 255)), draw(st.text(max_size=5))),
        r=draw(
            st.builds(ShapeCircle, st.floats(allow_nan=False))
            | st.builds(ShapeRect, st.builds(Point, x=i32, y=i32))
            | st.just(ShapeEmpty())
        ),
        s=draw(st.sampled_from(list(Color))),
        t=Perms(draw(st.integers(0, 7))),
        u=Flags32(draw(st.integers(0, 2**32 - 1))),
        v=draw(st.lists(_mixed(), max_size=5)),
    )


@settings(max_examples=80)
@given(st.data())
def test_records_and_variants_agree(pair: tuple[Any, Any], data: st.DataObject) -> None:
    big = data.draw(bigs())
    mixed = data.draw(st.lists(_mixed(), max_size=10))
    for plugin in pair:
        assert plugin.big_rt(big) == big
        assert plugin.list_mixed(mixed) == [
            None if type(m).__name__ == "MixedG" else m for m in mixed
        ]


@settings(max_examples=60)
@given(
    st.none() | st.integers(0, 255),
    st.none() | st.builds(lambda v: v, st.none() | st.text(max_size=5)),
    st.lists(st.tuples(st.integers(0, 255), st.text(max_size=4), st.floats(allow_nan=False))),
)
def test_options_and_tuples_agree(
    pair: tuple[Any, Any], a: int | None, b: str | None, tuples: list[Any]
) -> None:
    from foreign_shapes import Some

    nested = None if b is None else Some(None if b == "" else b)
    for plugin in pair:
        assert plugin.options(a, nested, None, None) == (a, nested, None, None)
        assert plugin.list_tuples(tuples) == [(f, s, x) for (x, s, f) in tuples]
