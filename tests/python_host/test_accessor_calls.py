"""Accessors called through the Python host, generic and fast paths alike: a guest's getter and
setter (and the plain function beside the setter, `set_level`, apart from its `set_level_`), and
the host's own getter and setter as the guest calls them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.python_host.wat_guests import GUESTS, build_guest


class Volume:
    """The host side of `volume: get()` / `volume: set(v)`."""

    def __init__(self) -> None:
        self.value = 10
        self.sets: list[int] = []

    def volume(self) -> int:
        return self.value

    def set_volume(self, v: int) -> None:
        self.sets.append(v)
        self.value = v


@pytest.fixture(scope="module")
def component() -> Path:
    return build_guest(
        GUESTS / "accessors.wit", GUESTS / "accessors.wat", "accessors", "test_accessors"
    )


@pytest.mark.parametrize("fast", [False, True])
def test_accessors_round_trip(component: Path, fast: bool) -> None:
    from test_accessors import Accessors

    host = Volume()
    plugin: Any = Accessors.load(component, imports=host, cache=False, fast=fast)
    assert plugin.prepared.mode == ("core" if fast else "component")
    assert plugin.level() == 10  # level 0 + the host's volume
    plugin.set_level_(5)  # the setter: the guest tells the host too
    assert host.sets == [5]
    assert plugin.level() == 10
    plugin.set_level(7, True)  # the plain function `set-level`
    assert host.sets == [5]
    assert plugin.level() == 14 + 5
    with pytest.raises(Exception):
        plugin.set_level_(-1)  # not a u32
