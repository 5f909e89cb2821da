"""WIT `map<K, V>` in the Rust SDK, as `BTreeMap<K, V>` (tests/rust/wit/maps.wit): a real guest
(tests/rust/guests/maps.rs) whose exports each call the import of the same name, so maps are
lifted and lowered on both sides of the guest, in parameters, results, record fields, variant
payloads and options.

The guest is built into a component that `wasm-tools component new` checks against the WIT.
Values are checked on the guest's core module (see core_guest.py): wasmtime-py cannot convert
map values at the component level.
"""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from witgen.abi.values import Some, VariantValue
from witgen.toolchains import rust as toolchain

from .build import WIT, build_all, load
from .core_guest import CoreGuest, interface_functions
from .toolchain import require_rust_toolchain

IFACE = "witgen:maps/maps"


def _group(m: dict[int, list[str]]) -> dict[str, Any]:
    return {"counts": {str(k): len(v) for k, v in m.items()}, "total": len(m)}


@pytest.fixture(scope="module")
def guest() -> Guest:
    require_rust_toolchain()
    components = build_all()
    assert components["maps-guest"].read_bytes()[:8] == b"\0asm\x0d\0\x01\0"
    resolve, _ = load(WIT / "maps.wit")
    impls = {"pass": lambda m: m, "group": _group, "hold": lambda h, o: (h, o)}
    functions = interface_functions(resolve, IFACE)
    return Guest(
        CoreGuest(
            toolchain.core_module("maps-guest"),
            resolve,
            {IFACE: (functions, impls)},
            {IFACE: functions},
        )
    )


class Guest:
    """The maps guest's exports, called by name."""

    def __init__(self, core: CoreGuest) -> None:
        self.core = core

    def call(self, name: str, *args: Any) -> Any:
        return self.core.call(IFACE, name, *args)

    @property
    def seen(self) -> list[tuple[Any, ...]]:
        return self.core.seen

    def memory_pages(self) -> int:
        return self.core.memory_pages()


def test_empty_and_small_maps(guest: Guest) -> None:
    assert guest.call("pass", {}) == {}
    assert guest.call("pass", {"b": 41, "a": 1}) == {"a": 2, "b": 42}
    assert list(guest.seen[-1][0].items()) == [("a", 2), ("b", 42)]  # lowered in key order


@settings(max_examples=30, deadline=None)
@given(st.dictionaries(st.text(max_size=8), st.integers(0, 2**32 - 2), max_size=20))
def test_string_keyed_maps_round_trip(guest: Guest, m: dict[str, int]) -> None:
    assert guest.call("pass", m) == {k: v + 1 for k, v in m.items()}


@settings(max_examples=30, deadline=None)
@given(
    st.dictionaries(
        st.integers(0, 2**32 - 1), st.lists(st.text(max_size=5), max_size=4), max_size=10
    )
)
def test_maps_of_lists_and_maps_in_records(guest: Guest, m: dict[int, list[str]]) -> None:
    out = guest.call("group", m)
    assert guest.seen[-1][0] == m
    expected = {str(k): len(v) for k, v in m.items()}
    expected["rust"] = len(m)
    assert out == {"counts": expected, "total": len(m) + 1}


_tally = st.fixed_dictionaries(
    {
        "counts": st.dictionaries(st.text(max_size=4), st.integers(0, 2**32 - 1), max_size=4),
        "total": st.integers(0, 2**64 - 1),
    }
)
_holder = st.one_of(
    st.just(VariantValue("none", None)),
    st.builds(
        VariantValue,
        st.just("some"),
        st.dictionaries(st.integers(0, 255), st.text(max_size=6), max_size=6),
    ),
    st.builds(
        VariantValue,
        st.just("floats"),
        st.dictionaries(
            st.integers(-(2**63), 2**63 - 1),
            st.floats(allow_nan=False, width=64),
            max_size=6,
        ),
    ),
)
_chars = st.characters(blacklist_categories=("Cs",))
_option = st.one_of(st.none(), st.builds(Some, st.dictionaries(_chars, _tally, max_size=4)))


@settings(max_examples=40, deadline=None)
@given(_holder, _option)
def test_maps_in_variants_and_options(guest: Guest, h: VariantValue, o: Any) -> None:
    out_h, out_o = guest.call("hold", h, o)
    assert out_h == h and out_o == o
    assert guest.seen[-1] == (h, o)


def test_memory_stays_flat(guest: Guest) -> None:
    """Maps lifted by the guest are freed, those it lowers are freed by post-return."""
    m = {f"key{i}": i for i in range(50)}
    h = VariantValue("floats", {i: math.pi * i for i in range(20)})
    for _ in range(300):
        guest.call("pass", m)
        guest.call("hold", h, None)
    before = guest.memory_pages()
    for _ in range(3000):
        guest.call("pass", m)
        guest.call("hold", h, None)
    assert guest.memory_pages() == before
