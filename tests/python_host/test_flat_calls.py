"""Exports of flat scalars only, which the fast path calls without generated code.

`_core.CoreInstance.bind` packs such a function's WIT arguments straight into the value slots
and reads the result back (`_core.FLAT_CALLS`, from the instruction stream). These tests hold
it to the generic path: the same values, the same errors for wrong arguments, traps that
poison the instance, post-return functions run, re-entrance refused.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.python_host.wat_guests import GUESTS, build_guest


class Answers:
    def __init__(self) -> None:
        self.plugin: Any = None

    def answer(self, x: int) -> int:
        if x == 7 and self.plugin is not None:
            return int(self.plugin.ask(1))  # re-enters the instance
        return x * 2


@pytest.fixture(scope="module")
def component() -> Path:
    return build_guest(GUESTS / "flat.wit", GUESTS / "flat.wat", "flat", "test_flat")


def load(component: Path, fast: bool, **kwargs: Any) -> Any:
    from test_flat import Flat

    answers = Answers()
    plugin = Flat.load(component, imports=answers, cache=False, fast=fast, **kwargs)
    answers.plugin = plugin
    return plugin


@pytest.fixture(scope="module")
def plugins(component: Path) -> dict[bool, Any]:
    return {fast: load(component, fast) for fast in (False, True)}


def test_every_export_takes_the_flat_path(plugins: dict[bool, Any]) -> None:
    import test_flat._core as core
    from test_flat import _fast

    assert len(core.FLAT_CALLS) == len(_fast.EXPORTS["flat"]) == 11
    fast = plugins[True]
    assert fast.prepared.mode == "core"
    # bound to the one-frame closures, not to `call`
    assert fast._call_add_one.__name__ == "flat_one"
    assert fast._call_scale.__name__ == "flat"


def outcome(fn: Any, *args: Any) -> tuple[str, Any]:
    try:
        value = fn(*args)
    except Exception as exc:
        return type(exc).__name__, str(exc)
    if isinstance(value, float) and math.isnan(value):
        return "nan", None
    return "ok", value


ints = st.one_of(
    st.integers(-(2**65), 2**65),
    st.sampled_from([0, 1, -1, 2**8, 2**16 - 1, 2**31, 2**32 - 1, 2**32, 2**63, 2**64 - 1]),
)
values = st.one_of(ints, st.floats(), st.booleans(), st.none(), st.text(max_size=2))


@settings(max_examples=150, deadline=None)
@given(x=values, k=values)
def test_the_flat_path_agrees_with_the_generic_path(
    plugins: dict[bool, Any], x: Any, k: Any
) -> None:
    generic, fast = plugins[False], plugins[True]
    for name, wit, args in [
        ("add_one", "add-one", (x,)),
        ("scale", "scale", (x, k)),
        ("low_byte", "low-byte", (x,)),
        ("half", "half", (x,)),
        ("next", "next", (x,)),
    ]:
        got = outcome(getattr(fast, name), *args)
        # exactly what the generated code answers on the same instance, errors included
        assert got == outcome(lambda *a: fast._instance.call(None, wit, a), *args), (name, args)
        want = outcome(getattr(generic, name), *args)
        # (the paths word some errors differently, and the fast path takes an int for a float)
        if want[0] in ("ok", "nan"):
            assert got == want, (name, args)
        if isinstance(x, int) and name != "half" and want[0] not in ("ok", "nan"):
            assert got[0] not in ("ok", "nan"), (name, args)
    assert fast.ticks() == 0  # no wrong argument restarted the instance


def test_values_at_the_edges(plugins: dict[bool, Any]) -> None:
    fast = plugins[True]
    assert fast.add_one(2**32 - 1) == 0
    assert fast.scale(2**32 - 1, -2) == -(2**33) + 2
    assert fast.low_byte(0x1FF) == -1
    assert fast.half(3.0) == 1.5
    assert fast.next(2**64 - 1) == 0
    with pytest.raises(ValueError, match=r"^add_one\(x\): -1 is out of range for u32$"):
        fast.add_one(-1)


def test_a_trap_poisons_the_instance_and_the_next_call_gets_a_fresh_one(component: Path) -> None:
    from test_flat import PluginTrap

    fast = load(component, True)
    fast.tick()
    fast.tick()
    assert fast.ticks() == 2
    with pytest.raises(PluginTrap, match="unreachable"):
        fast.nonzero(0)
    assert fast.ticks() == 0  # a fresh instance
    assert fast.nonzero(5) == 5


def test_the_post_return_function_runs_after_each_call(plugins: dict[bool, Any]) -> None:
    for plugin in plugins.values():
        before = plugin.posts()
        assert plugin.counted(3) == 3
        assert plugin.counted(4) == 4
        assert plugin.posts() == before + 2


def test_host_imports_and_reentrance(component: Path) -> None:
    from test_flat import PluginTrap

    for fast in (False, True):
        plugin = load(component, fast)
        assert plugin.ask(21) == 42
        with pytest.raises(PluginTrap, match="re-entered"):
            plugin.ask(7)
        assert plugin.ask(4) == 8  # a fresh instance serves the next call


def test_closed_and_limited_instances(component: Path) -> None:
    from test_flat import Limits, PluginClosed

    plugin = load(component, True)
    plugin.close()
    with pytest.raises(PluginClosed):
        plugin.add_one(1)
    # per-call fuel: these exports go through `call`, which sets it
    limited = load(component, True, limits=Limits(fuel=10_000))
    assert limited._call_add_one.__name__ == "general"
    assert limited.add_one(1) == 2
