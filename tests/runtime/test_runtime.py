"""The runtime corpus: every case's guest, in every language, run by the generated Python host.

Organised like wit-bindgen's `tests/runtime`: a case is a folder with one WIT (`test.wit`) and
a guest per language written against that language's generated SDK (see `guests.py`). This
one driver is parametrised by case, guest language and host path (`generic`: wasmtime's
component values; `fast`: the generated lift/lower code over the guest's core module); the
checks of each case are a function below, written once against the case's Python bindings.

A combination a backend cannot run yet is listed in `PENDING` with the reason, as a strict
xfail: it fails the suite once it starts passing, so the entry gets removed when the feature
lands.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from contextlib import contextmanager
from typing import Any, Callable, Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.runtime import guests

PATHS = ("generic", "fast")

# (case, language or None for all, path or None for both) -> why it cannot run yet
PENDING: dict[tuple[str, str | None, str | None], str] = {
    ("maps", "typescript", None): (
        "the TypeScript backend refuses map<K, V>: componentize-js cannot build it yet"
    ),
    ("fixed-lists", "typescript", None): (
        "the TypeScript backend refuses list<T, N>: componentize-js cannot build it yet"
    ),
    ("maps", None, "generic"): (
        "wasmtime-py 51 cannot convert map<K, V> values (its type reflection has no map kind): "
        "the generic path refuses such components at load"
    ),
    ("several-names", "typescript", None): (
        "the TypeScript backend refuses an interface imported under a name (componentize-js "
        "imports by interface path)"
    ),
}

# (case, language, step) -> why one step of a case's checks fails yet: the step must fail
# (`pending`), so it flips like a strict xfail while the rest of the case still runs
PENDING_STEPS: dict[tuple[str, str, str], str] = {
    ("values", "typescript", "via-host-scalars"): (
        "componentize-js 0.23 traps (unreachable) when the guest passes a record of every "
        "primitive to an import in flat parameters"
    ),
    ("flat", "typescript", "casts"): (
        "componentize-js 0.23 traps (unreachable) lifting casts-b.e(-7), an s8 payload in a "
        "joined i64 slot, and corrupts a u32 beside an f32 in a payload it passes to an import "
        "(casts-b.a((0.25, 4294967295)) arrives as (0.25, 4292870144))"
    ),
    ("resources", "typescript", "consume"): (
        "componentize-js 0.23 never drops an own<counter> the guest receives as a parameter: "
        "its [Symbol.dispose] does not run"
    ),
}

EXAMPLES = settings(max_examples=10, deadline=None)


def _pending(case: str, lang: str, path: str) -> str | None:
    for (c, language, p), reason in PENDING.items():
        if c == case and language in (None, lang) and p in (None, path):
            return reason
    return None


@contextmanager
def pending(case: str, lang: str, step: str) -> Iterator[None]:
    """Runs one step of a case's checks; a step listed in `PENDING_STEPS` must fail."""
    if (case, lang, step) not in PENDING_STEPS:
        yield
        return
    with pytest.raises(Exception):
        yield


def _params() -> list[Any]:
    out = []
    for case in guests.CASES:
        for lang in guests.LANGUAGES:
            for path in PATHS:
                reason = _pending(case, lang, path)
                marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
                out.append(pytest.param(case, lang, path, marks=marks, id=f"{case}-{lang}-{path}"))
    return out


def component(case: str, lang: str) -> Path:
    try:
        return guests.component(case, lang)
    except guests.ToolchainMissing as exc:
        if os.environ.get("CI"):
            pytest.fail(f"{lang} toolchain: {exc}; .ci/install must install it")
        pytest.skip(f"{lang} toolchain: {exc}")


def load(case: str, lang: str, path: str, **imports: Any) -> Any:
    """The case's world class, loaded with the guest of `lang` on host path `path`."""
    package = guests.bindings(case)
    world_class = getattr(package, package.__all__[-1])
    plugin = world_class.load(
        component(case, lang), fast=path == "fast", cache_dir=guests.OUT / "cache", **imports
    )
    assert plugin.prepared.mode == ("core" if path == "fast" else "component")
    return plugin


# ---------------------------------------------------------------------------- values


def _values(lang: str, path: str) -> None:
    from runtime_values import Err, Ok, Some
    from runtime_values import kinds as k

    class Host:
        def __init__(self) -> None:
            self.seen: list[Any] = []

        def pass_scalars(self, v: k.Scalars) -> k.Scalars:
            self.seen.append(v)
            return v

        def pass_nested(self, v: k.Nested) -> k.Nested:
            self.seen.append(v)
            return v

    host = Host()
    plugin = load("values", lang, path, host=host)
    scalars = k.Scalars(
        a_bool=True,
        a_u8=255,
        a_s8=-128,
        a_u16=65535,
        a_s16=-32768,
        a_u32=2**32 - 1,
        a_s32=-(2**31),
        a_u64=2**64 - 1,
        a_s64=-(2**63),
        a_f32=1.5,
        a_f64=-2.25e300,
        a_char="\U0001f600",
        a_string="héllo, wörld ✓",
    )
    assert plugin.echo_scalars(scalars) == scalars
    with pending("values", lang, "via-host-scalars"):
        assert plugin.via_host_scalars(scalars) == scalars
        assert host.seen[-1] == scalars
    nested = k.Nested(
        shapes=[
            k.ShapeCircle(0.5),
            k.ShapeRect(k.Point(-1, 2)),
            k.ShapeNamed("tri"),
            k.ShapeEmpty(),
            k.ShapeBig(2**64 - 1),
            k.ShapeMixed((7, -0.125, "mixed")),
        ],
        color=k.Color.GREEN,
        perms=k.Perms.READ | k.Perms.EXEC,
        many=k.Many.F0 | k.Many.F19,
        maybe=Some(None),
        outcome=Err("bad"),
        bare=Ok(None),
        grid=[[1, -2], [], [32767]],
        tags=[("a", None), ("b", 2**32 - 1)],
        type_=[k.NestedKind.RECORD, k.NestedKind.FUNC, k.NestedKind.PLAIN],
    )
    for value in (nested, _empty_nested(k, Ok, Some)):
        assert plugin.echo_nested(value) == value
        assert plugin.via_host_nested(value) == value
        assert host.seen[-1] == value
    points = [k.Point(i, -i) for i in range(1000)]
    assert plugin.echo_points(points) == points
    assert plugin.echo_points([]) == []
    strings = ["", "a", "ü" * 300, "\U0001f600\u0000x"]
    assert plugin.echo_strings(strings) == strings
    assert plugin.echo_bytes(bytes(range(256)) * 40) == bytes(range(256)) * 40
    assert plugin.count_chars("a\U0001f600é") == 3
    # more than a 64 KiB allocation region (the Go guest's cabi_realloc starts with those):
    # later calls must keep reusing the larger regions correctly
    for sizes in ([70_000], [150_000, 10, 300_000], [5] * 50, [1_000_000]):
        big = [chr(0x41 + i % 26) * n for i, n in enumerate(sizes)]
        assert plugin.echo_strings(big) == big

    def ints(bits: int, signed: bool) -> st.SearchStrategy[int]:
        low = -(2 ** (bits - 1)) if signed else 0
        return st.integers(low, low + 2**bits - 1)

    drawn_scalars = st.builds(
        k.Scalars,
        a_bool=st.booleans(),
        a_u8=ints(8, False),
        a_s8=ints(8, True),
        a_u16=ints(16, False),
        a_s16=ints(16, True),
        a_u32=ints(32, False),
        a_s32=ints(32, True),
        a_u64=ints(64, False),
        a_s64=ints(64, True),
        a_f32=st.floats(width=32, allow_nan=False),
        a_f64=st.floats(allow_nan=False),
        a_char=st.characters(blacklist_categories=("Cs",)),
        a_string=st.text(),
    )

    @EXAMPLES
    @given(st.lists(st.text(), max_size=8), st.binary(max_size=64), drawn_scalars)
    def round_trip(texts: list[str], data: bytes, drawn: Any) -> None:
        assert plugin.echo_scalars(drawn) == drawn
        assert plugin.echo_strings(texts) == texts
        assert plugin.echo_bytes(data) == data
        assert all(plugin.count_chars(t) == len(t) for t in texts)

    round_trip()
    plugin.close()


def _empty_nested(k: Any, ok: Any, some: Any) -> Any:
    return k.Nested(
        shapes=[],
        color=k.Color.RED,
        perms=k.Perms(0),
        many=k.Many(0),
        maybe=None,
        outcome=ok(b"\x00\xff"),
        bare=ok(None),
        grid=[],
        tags=[],
        type_=[],
    )


# ---------------------------------------------------------------------------- resources


def guests_closed(plugin: Any) -> type[Exception]:
    """The error of a closed handle, from the plugin's own package."""
    closed: type[Exception] = sys.modules[type(plugin).__module__.split(".")[0]].PluginClosed
    return closed


def _resources(lang: str, path: str) -> None:
    class Tally:
        def __init__(self, value: int, closed: list[int]) -> None:
            self.value, self.closed = value, closed

        def get(self) -> int:
            return self.value

        def close(self) -> None:
            self.closed.append(self.value)

    class Host:
        def __init__(self) -> None:
            self.closed: list[int] = []

        def tally(self, start: int) -> Tally:
            return Tally(start, self.closed)

        def tally_bump(self, t: Tally, by: int) -> Tally:
            return Tally(t.value + by, self.closed)

    host = Host()
    plugin = load("resources", lang, path, host=host)
    guest = plugin.guest
    before = guest.live()
    a, b = guest.counter(5), guest.counter(-2)
    assert a.add(10) == 15
    assert guest.total(a) == 15  # lent, still ours
    merged = guest.counter_merge(a, b)
    assert merged.get() == 13
    assert guest.live() == before + 3
    a.close()
    with b:
        pass
    with pending("resources", lang, "drop"):
        assert guest.live() == before + 1  # the guest's destructors ran
    with pytest.raises(guests_closed(plugin)):
        a.get()
    assert guest.consume(merged) == 13  # handed over: the guest drops it
    with pending("resources", lang, "consume"):
        assert guest.live() == before
    assert guest.use_tally(40, 2) == 42
    with pending("resources", lang, "host-drop"):
        assert sorted(host.closed) == [40, 42]  # the guest dropped both tallies
    plugin.close()


# ---------------------------------------------------------------------------- maps


def _maps(lang: str, path: str) -> None:
    from runtime_maps import types as t

    class Host:
        def pass_map(self, m: dict[str, int]) -> dict[str, int]:
            return {key: value + 1 for key, value in m.items()}

    plugin = load("maps", lang, path, host=Host())
    counts = {"a": 1, "ü": 2**32 - 2, "": 0}
    assert plugin.echo_map(counts) == counts
    assert plugin.echo_map({}) == {}
    assert plugin.via_host_map(counts) == {key: value + 1 for key, value in counts.items()}
    tally = plugin.group({3: ["x", "y"], 10: []})
    assert tally == t.Tally(counts={"3": 2, "10": 0}, total=2)
    plugin.close()


# ---------------------------------------------------------------------------- fixed-lists


def _fixed_lists(lang: str, path: str) -> None:
    from runtime_fixed_lists import Err, Ok
    from runtime_fixed_lists import types as t

    class Host:
        def __init__(self) -> None:
            self.seen: list[t.Grid] = []

        def pass_grid(self, g: t.Grid) -> t.Grid:
            self.seen.append(g)
            return t.Grid(cells=g.cells[::-1], names=g.names)

    host = Host()
    plugin = load("fixed-lists", lang, path, host=host)
    assert plugin.rotate([1, 2, 2**32 - 1]) == [2, 2**32 - 1, 1]
    grid = t.Grid(cells=[b"\x01\x02", b"\x03\xff"], names=["north", "süd"])
    assert plugin.echo_grid(grid) == grid
    assert plugin.via_host_grid(grid) == t.Grid(cells=grid.cells[::-1], names=grid.names)
    assert host.seen == [grid]
    assert plugin.reverse_bytes(b"\x01\x02\x03\x04") == b"\x04\x03\x02\x01"
    wide = plugin.wide([1, 2, 3, 2**40], [0.5, 0.25, 0.125, 1.0], list(range(9)))
    assert wide[0] == str(6 + 2**40) and wide[2] == "36" and float(wide[1]) == 1.875
    assert plugin.optional(None) == Err([True, False, True])
    assert plugin.optional([-1, 7]) == Ok(["Z", "é"])
    with pytest.raises(TypeError, match="list of 3"):
        plugin.rotate([1, 2])
    with pytest.raises(TypeError, match="bytes of length 4"):
        plugin.reverse_bytes(b"\x01")
    plugin.close()


# ---------------------------------------------------------------------------- dual


def _dual(lang: str, path: str) -> None:
    from runtime_dual import store, store_exports

    class Cursor:
        def __init__(self, start: int, closed: list[int]) -> None:
            self.value, self.closed = start, closed

        def next(self) -> int:
            self.value += 1
            return self.value

        def close(self) -> None:
            self.closed.append(self.value)

    class Store:
        """The host's side of `runtime:dual/store` (its `cursor` is a Python object)."""

        def __init__(self) -> None:
            self.closed: list[int] = []

        def cursor(self, start: int) -> Cursor:
            return Cursor(start, self.closed)

        def open(self, start: int) -> Cursor:
            return Cursor(start * 10, self.closed)

        def peek(self, c: Cursor) -> store.Snapshot:
            return store.Snapshot(label="host", at=c.value)

    host = Store()
    plugin = load("dual", lang, path, store=host)
    guest_cursor = plugin.store.open(4)  # the plugin's cursor, wrapping the host's open(4)
    assert isinstance(guest_cursor, store_exports.Cursor)
    assert guest_cursor.next() == 141
    assert plugin.store.peek(guest_cursor) == store_exports.Snapshot(label="guest:host", at=41)
    with plugin.store.cursor(7) as made:
        assert made.next() == 108
    guest_cursor.close()
    with pending("dual", lang, "host-drop"):
        assert sorted(host.closed) == [8, 41]  # the plugin dropped both host cursors
    plugin.close()


# ---------------------------------------------------------------------------- several-names


def _several_names(lang: str, path: str) -> None:
    class Log:
        def __init__(self) -> None:
            self.lines: list[str] = []

        def write(self, line: str) -> None:
            self.lines.append(line)

    primary, secondary = Log(), Log()
    plugin = load("several-names", lang, path, primary=primary, secondary=secondary)
    assert plugin.first.bump(2) == 2
    assert plugin.second.bump(5) == 5
    assert plugin.first.bump(3) == 5
    assert primary.lines == ["first=2", "first=5"]
    assert secondary.lines == ["second=5"]
    plugin.close()


# ---------------------------------------------------------------------------- flat


def _flat(lang: str, path: str) -> None:
    from runtime_flat import Err, Ok, flat_types
    from runtime_flat import kinds as k

    class Host:
        def __init__(self) -> None:
            self.seen: list[Any] = []
            self.nothing_calls = 0

        def pass_casts(self, a: Any, b: Any, c: Any) -> tuple[Any, Any, Any]:
            self.seen.append((a, b, c))
            return (a, b, c)

        def pass_spilled(self, *args: Any) -> tuple[Any, ...]:
            self.seen.append(args)
            return args

        def strings(self, n: int) -> list[str]:
            return [f"s{i}" * (i + 1) for i in range(n)]

        def nothing(self) -> None:
            self.nothing_calls += 1

    class World:
        def clock(self) -> int:
            return 1_234_567

    host = Host()
    plugin = load("flat", lang, path, host=host, imports=World())
    assert plugin.echo_bool(True) is True and plugin.echo_bool(False) is False
    assert plugin.echo_s8(-128) == -128
    assert plugin.echo_u16(65535) == 65535
    assert plugin.echo_u64(2**64 - 1) == 2**64 - 1
    assert plugin.echo_f32(-0.375) == -0.375
    assert plugin.echo_f64(-2.25e300) == -2.25e300
    assert plugin.echo_char("\U0001f600") == "\U0001f600"
    assert plugin.echo_string("héllo") == "héllo"
    assert plugin.echo_pair(1.5, -1e300) == (1.5, -1e300)
    lists = ([0, 2**64 - 1], [0.5, -2.0], [True, False, True], ["a", "é", "\U0001f600"], [-1, 7])
    assert plugin.echo_lists(*lists) == lists
    empty: tuple[list[Any], ...] = ([], [], [], [], [])
    assert plugin.echo_lists(*empty) == empty
    assert plugin.echo_color(k.Color.BLUE) == k.Color.BLUE
    for full in (k.Full(0), k.Full.F0 | k.Full.F31, ~k.Full(0)):
        assert plugin.echo_full(full) == full
    assert plugin.echo_option(None) is None and plugin.echo_option(255) == 255
    for result in (Ok("yes"), Err(2**32 - 1)):
        assert plugin.echo_result(result) == result
    for unit in (Ok(None), Err(k.Color.GREEN)):
        assert plugin.echo_err_only(unit) == unit
    for bare in (Ok(None), Err(None)):
        assert plugin.echo_bare(bare) == bare
    shapes = [
        k.ShapeCircle(0.5),
        k.ShapeRect(k.Point(-1, 2)),
        k.ShapePoly([k.Point(1, 2), k.Point(3, -4)]),
        k.ShapeEmpty(),
        k.ShapeNamed("tri"),
        k.ShapeBig(2**64 - 1),
        k.ShapePrecise(-1e300),
        k.ShapeMixed((7, -0.125, "mixed")),
    ]
    for shape in shapes:
        assert plugin.echo_shape(shape) == shape
    for shape in shapes:
        args = (255, 65535, 2**32 - 1, 2**64 - 1, -128, -32768, -(2**31), -(2**63))
        spilled = args + (0.5, -1e300, "\U0001f600", True, "spilled", k.Point(3, -3), shape)
        assert plugin.echo_spilled(*spilled) == spilled
        assert plugin.via_host_spilled(*spilled) == spilled
        assert host.seen[-1] == spilled
    assert plugin.via_host_strings(0) == ""
    assert plugin.via_host_strings(4) == "s0,s1s1,s2s2s2,s3s3s3s3"
    plugin.via_host_nothing(3)
    assert host.nothing_calls == 3
    where = k.Point(5, -6)
    assert plugin.stamp(where) == flat_types.Stamped(at=1_234_567, where=where)
    # the fast path runs the core module, whose memory is readable; Go and JavaScript guests
    # grow their garbage-collected heaps until a collection, so only Rust's must stay flat
    if path == "fast" and lang == "rust":
        _memory_stays_flat(plugin)
    # last: a guest that traps here (see PENDING_STEPS) cannot be called again
    with pending("flat", lang, "casts"):
        _casts(plugin, host, k)

    plugin.close()


def _memory_stays_flat(plugin: Any) -> None:
    """Calls that allocate on both sides (arguments, results and their post-return, import
    results) do not grow the guest's linear memory once its allocator is warm."""
    from runtime_flat import kinds as k

    shape = k.ShapeNamed("n" * 64)
    calls = [
        lambda: plugin.echo_string("x" * 100),
        lambda: plugin.echo_lists([1, 2], [0.5], [True], ["é"], [3]),
        lambda: plugin.via_host_strings(3),
        lambda: plugin.echo_shape(shape),
    ]
    for _ in range(500):
        for call in calls:
            call()
    before = len(plugin._instance.view())
    for _ in range(5_000):
        for call in calls:
            call()
    assert len(plugin._instance.view()) == before, "the guest's memory grew"


def _casts(plugin: Any, host: Any, k: Any) -> None:
    """Variants whose payloads share joined flat slots, in flat parameters both ways."""
    casts_a = [k.CastsAA(-(2**31)), k.CastsAB(1.5)]
    casts_b = [
        k.CastsBA((0.25, 2**32 - 1)),
        k.CastsBB((1, 2**32 - 1)),
        k.CastsBC(-1e300),
        k.CastsBD(2**64 - 1),
        k.CastsBE(-7),
    ]
    every_cast = [(a, b, c) for a in casts_a for b in casts_b for c in (None, casts_b[2], b)]
    for a, b, c in every_cast:
        assert plugin.echo_casts(a, b, c) == (a, b, c)
        assert plugin.via_host_casts(a, b, c) == (a, b, c)
        assert host.seen[-1] == (a, b, c)

    f32s = st.floats(width=32, allow_nan=False)
    f64s = st.floats(allow_nan=False)
    u32s = st.integers(0, 2**32 - 1)
    variant_a = st.one_of(
        st.builds(k.CastsAA, st.integers(-(2**31), 2**31 - 1)), st.builds(k.CastsAB, f32s)
    )
    variant_b = st.one_of(
        st.builds(k.CastsBA, st.tuples(f32s, u32s)),
        st.builds(k.CastsBB, st.tuples(u32s, u32s)),
        st.builds(k.CastsBC, f64s),
        st.builds(k.CastsBD, st.integers(0, 2**64 - 1)),
        st.builds(k.CastsBE, st.integers(-128, 127)),
    )

    @EXAMPLES
    @given(variant_a, variant_b, st.none() | variant_b, f32s, f64s)
    def round_trip(a: Any, b: Any, c: Any, x: float, y: float) -> None:
        assert plugin.via_host_casts(a, b, c) == (a, b, c)
        assert plugin.echo_pair(x, y) == (x, y)

    round_trip()


CHECKS: dict[str, Callable[[str, str], None]] = {
    "values": _values,
    "flat": _flat,
    "dual": _dual,
    "several-names": _several_names,
    "resources": _resources,
    "maps": _maps,
    "fixed-lists": _fixed_lists,
}


def test_every_case_has_checks() -> None:
    assert sorted(CHECKS) == guests.CASES


@pytest.mark.parametrize("case, lang, path", _params())
def test_runtime(case: str, lang: str, path: str) -> None:
    guests.bindings(case)  # generated and importable before the checks import from it
    CHECKS[case](lang, path)
