"""The Python fast path spells the stream's flat variants: payloads of different core types
joined into one slot (u32, f32 and s64 cases in an i64, with the stream's casts), `option<f32>`
32 flags and canonical lists of numbers, in both directions (an export called by the host, an import the guest calls),
against the generic `wasmtime.component` path on the same component (data/fastflat/)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest

from tests.python_host.wat_guests import build_guest

DATA = Path(__file__).parent / "data" / "fastflat"


@pytest.fixture(scope="module")
def component() -> Path:
    return build_guest(DATA / "world.wit", DATA / "guest.wat", "fastflat", "test_fastflat")


class Host:
    def __init__(self) -> None:
        self.seen: list[Any] = []

    def host_num(self, x: Any) -> Any:
        self.seen.append(x)
        return x


def _nums() -> list[Any]:
    from test_fastflat.types import NumBig, NumInt, NumNothing, NumReal

    return [
        NumInt(0),
        NumInt(0xFFFF_FFFF),
        NumReal(1.5),
        NumReal(-0.0),
        NumReal(float("inf")),
        NumReal(3.4028234663852886e38),  # the largest f32
        NumBig(-(2**63)),
        NumBig(2**63 - 1),
        NumBig(-1),
        NumNothing(),
    ]


@pytest.mark.parametrize("fast", [False, True], ids=["generic", "fast"])
def test_flat_variants_and_flags_round_trip(component: Path, fast: bool) -> None:
    from test_fastflat import Fastflat
    from test_fastflat.types import Wide

    host = Host()
    with Fastflat.load(component, host=host, fast=fast, cache=False) as plugin:
        assert plugin.prepared.mode == ("core" if fast else "component")
        for value in _nums():
            assert plugin.num_echo(value) == value
            assert plugin.via_host(value) == value
        assert host.seen == _nums()
        for flags in (Wide(0), Wide.FLAG0 | Wide.FLAG31, Wide.FLAG7 | Wide.FLAG16, ~Wide(0)):
            assert plugin.wide_echo(flags) == flags
        for opt in (None, 0.25, -2.5, float("-inf")):
            assert plugin.opt_echo(opt) == opt
        nan = plugin.opt_echo(float("nan"))
        assert nan is not None and math.isnan(nan)
        nan_case = plugin.num_echo(type(_nums()[2])(float("nan")))
        assert math.isnan(nan_case.value)
        for ints in ([], [0], [-(2**31), 2**31 - 1, -1, 7] * 50):
            assert plugin.ints_echo(ints) == ints
        floats = [0.5, -0.0, float("inf"), 1e300, -2.5e-300]
        assert plugin.floats_echo(floats) == floats
        with pytest.raises(ValueError, match="2147483648 is out of range for s32"):
            plugin.ints_echo([2**31])


def test_the_fast_path_takes_these_worlds(component: Path) -> None:
    import test_fastflat._fast as fast_module

    assert fast_module.UNSUPPORTED == {}
    assert "fastflat" in fast_module.EXPORTS
