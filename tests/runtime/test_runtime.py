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
    ("dual", "go", None): (
        "the Go backend refuses an interface with resources that a world both imports and "
        "exports (one Go type per resource)"
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

    @EXAMPLES
    @given(st.lists(st.text(), max_size=8), st.binary(max_size=64))
    def round_trip(texts: list[str], data: bytes) -> None:
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


CHECKS: dict[str, Callable[[str, str], None]] = {
    "values": _values,
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
