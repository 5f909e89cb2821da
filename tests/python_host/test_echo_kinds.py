"""Every value kind round-trips through a component, on the generic and on the fast path.

The echo guest hands back the list it was given, so wasmtime's own lowering/lifting (generic
path) and the generated lift/lower code (fast path) both have to reproduce the input exactly.
"""

from __future__ import annotations

import functools
import operator
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.python_host.wat_guests import OUT, build_echo


@pytest.fixture(scope="module")
def echo_component() -> Path:
    return build_echo()


@pytest.fixture(scope="module", params=[False, True], ids=["generic", "fast"])
def echo(echo_component: Path, request: pytest.FixtureRequest) -> Any:
    from test_echo import EchoWorld

    world = EchoWorld.load(echo_component, cache=False, fast=request.param)
    assert world.prepared.mode == ("core" if request.param else "component")
    return world


def everything() -> Any:
    from test_echo import Err, Ok, Some
    from test_echo import kinds as k

    text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=8)

    def ints(bits: int, signed: bool) -> Any:
        if signed:
            return st.integers(-(2 ** (bits - 1)), 2 ** (bits - 1) - 1)
        return st.integers(0, 2**bits - 1)

    def flags(cls: Any) -> Any:
        return st.sets(st.sampled_from(list(cls))).map(
            lambda s: functools.reduce(operator.or_, s, cls(0))
        )

    char = st.characters(blacklist_categories=("Cs",))
    point = st.builds(k.Point, ints(32, True), st.floats(allow_nan=False), char)
    shape = st.one_of(
        st.builds(k.ShapeCircle, st.floats(width=32, allow_nan=False)),
        st.builds(k.ShapeSquare, ints(16, False)),
        st.builds(k.ShapeNone),
        st.builds(k.ShapeNamed, text),
        st.builds(k.ShapePair, st.tuples(ints(8, False), ints(64, True))),
    )
    return st.builds(
        k.Everything,
        b=st.booleans(),
        u8v=ints(8, False),
        s8v=ints(8, True),
        u16v=ints(16, False),
        s16v=ints(16, True),
        u32v=ints(32, False),
        s32v=ints(32, True),
        u64v=ints(64, False),
        s64v=ints(64, True),
        f32v=st.floats(width=32, allow_nan=False),
        f64v=st.floats(allow_nan=False),
        c=char,
        s=text,
        raw=st.binary(max_size=16),
        color=st.sampled_from(list(k.Color)),
        perms=flags(k.Perms),
        many=flags(k.Many),
        pt=point,
        shape=shape,
        maybe=st.none() | text,
        nested=st.none() | st.builds(Some, st.none() | ints(32, False)),
        outcome=st.builds(Ok, ints(32, False)) | st.builds(Err, text),
        bare=st.sampled_from([Ok(None), Err(None)]),
        only_ok=st.builds(Ok, st.sampled_from(list(k.Color))) | st.just(Err(None)),
        only_err=st.just(Ok(None)) | st.builds(Err, point),
        pairs=st.lists(st.tuples(text, st.booleans()), max_size=3),
        type_=ints(8, False),
    )


@given(data=st.data())
def test_every_kind_round_trips(echo: Any, data: st.DataObject) -> None:
    items = data.draw(st.lists(everything(), max_size=4))
    assert echo.echo(items) == items


@given(st.integers(0, 2**32 - 1))
def test_world_level_function(echo: Any, x: int) -> None:
    assert echo.add_one(x) == (x + 1) % 2**32


def test_out_of_range_argument_is_a_python_error(echo: Any) -> None:
    with pytest.raises(ValueError, match="out of range for u32"):
        echo.add_one(-1)
    assert echo.add_one(1) == 2


def test_echo_bindings_pass_mypy_strict(echo_component: Path) -> None:
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--strict",
            "--no-incremental",
            "--cache-dir",
            "/dev/null",
            "test_echo",
        ],
        cwd=OUT / "bindings",
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_out_of_bounds_result_is_a_trap_and_the_plugin_recovers(echo: Any) -> None:
    from test_echo import PluginTrap

    with pytest.raises(PluginTrap):
        echo.bogus()
    assert echo.add_one(41) == 42
