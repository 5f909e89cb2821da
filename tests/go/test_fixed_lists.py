"""WIT fixed-length lists (`list<T, N>`) as Go arrays, through a Go guest (tests/go/fixed_guest)
over an interface that it both imports and exports: each export calls the import of the same
name, so arrays are lowered and lifted by Go in both directions, as parameters (also through
memory, past 16 flat values), results, record fields, nested arrays and option/result payloads.

wasmtime-py exposes no switch for fixed-length lists in components, so the guest's core module
runs with witgen's canonical-ABI layer as the runtime (see core_guest.py); the SDK must also
pass go vet.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from go.conftest import CACHE, generate_sdk, go_env, run
from go.core_guest import CoreGuest, build_core
from witgen.abi.values import Err, Ok, Some
from witgen.frontend import load

HERE = Path(__file__).parent
WIT = HERE / "fixed.wit"
IFACE = "witgen:fixed/fixed"

u32s = st.integers(0, 2**32 - 1)
f32s = st.floats(width=32, allow_nan=False)


def _wide(a: list[int], b: list[float], c: list[int]) -> list[str]:
    return [str(sum(a)), repr(b), str(sum(c))]


def _optional(v: Any) -> Any:
    if v is None:
        return Err([True, False, True])
    return Ok([chr(0x41 + v.value[0] % 26), "é"])


@pytest.fixture(scope="module")
def guest(go: str, tmp_path_factory: pytest.TempPathFactory) -> CoreGuest:
    sdk = CACHE / "fixed-sdk"
    generate_sdk(WIT, sdk, "witgen/fixed")
    run([go, "vet", "./..."], cwd=sdk, env=go_env())
    core = build_core(go, HERE / "fixed_guest", tmp_path_factory.mktemp("fixed") / "fixed.wasm")
    impls: dict[str, Callable[..., Any]] = {
        "rotate": lambda v: v,
        "grid-pass": lambda g: g,
        "wide": _wide,
        "optional": _optional,
    }
    return CoreGuest(core, load(WIT), IFACE, impls)


def test_generated_arrays(guest: CoreGuest) -> None:
    text = (CACHE / "fixed-sdk" / "fixed" / "fixed.go").read_text()
    assert "\tCells [2][2]uint8\n" in text and "\tNames [2]string\n" in text
    assert "func Rotate(v [3]uint32) [3]uint32 {" in text


@settings(max_examples=20, deadline=None)
@given(st.lists(u32s, min_size=3, max_size=3))
def test_rotate(guest: CoreGuest, v: list[int]) -> None:
    assert guest.call("rotate", v) == v[1:] + v[:1]
    assert guest.seen[-1] == (v[1:] + v[:1],)


@settings(max_examples=20, deadline=None)
@given(
    st.lists(st.binary(min_size=2, max_size=2), min_size=2, max_size=2),
    st.lists(st.text(max_size=6), min_size=2, max_size=2),
)
def test_nested_arrays_and_strings_in_records(
    guest: CoreGuest, cells: list[bytes], names: list[str]
) -> None:
    g = {"cells": [list(c) for c in cells], "names": names}
    out = guest.call("grid-pass", g)
    expected = {"cells": [list(cells[1]), list(cells[0])], "names": [names[0] + "!", names[1]]}
    assert out == expected


@settings(max_examples=20, deadline=None)
@given(
    st.lists(st.integers(0, 2**62), min_size=4, max_size=4),
    st.lists(f32s, min_size=4, max_size=4),
    st.lists(u32s, min_size=9, max_size=9),
)
def test_parameters_through_memory(
    guest: CoreGuest, a: list[int], b: list[float], c: list[int]
) -> None:
    out = guest.call("wide", a, b, c)
    assert guest.seen[-1] == ([a[0] + 1] + a[1:], b, c)
    assert out == [str(sum(a) + 1), repr(b), str(sum(c))]


def test_arrays_in_option_and_result_payloads(guest: CoreGuest) -> None:
    assert guest.call("optional", None) == Err([True, False, True])
    assert guest.call("optional", Some([-3, 7])) == Ok(["X", "é"])  # chr(0x41 + -3 % 26)
    assert guest.seen[-1] == (Some([-3, 7]),)
