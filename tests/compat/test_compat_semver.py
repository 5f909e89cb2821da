"""Package versions: parsing, precedence, what a step allows, and the minimum next version."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from witgen.compat.model import Level
from witgen.compat.semver import Version, bump_level, minimum_next

V = Version.parse


def test_parse_and_print():
    assert V("1.2.3") == Version(1, 2, 3)
    assert str(V("2.0.0-rc.1")) == "2.0.0-rc.1"
    assert V("1.0.0+build.5") == Version(1, 0, 0)
    for bad in ("1.2", "01.2.3", "v1.2.3", "1.2.3-", ""):
        with pytest.raises(ValueError):
            V(bad)


def test_precedence():
    order = ["0.0.1", "0.1.0", "1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-beta", "1.0.0", "1.0.1"]
    for a, b in zip(order, order[1:]):
        assert V(a).precedes(V(b)) and not V(b).precedes(V(a))
    assert not V("1.0.0").precedes(V("1.0.0"))


@pytest.mark.parametrize(
    "old, new, level",
    [
        ("1.2.3", "1.2.3", Level.NONE),
        ("1.2.3", "1.2.2", Level.NONE),
        ("1.2.3", "1.2.4", Level.PATCH),
        ("1.2.3", "1.3.0", Level.MINOR),
        ("1.2.3", "2.0.0", Level.MAJOR),
        ("1.2.3", "2.0.0-rc.1", Level.MAJOR),
        ("0.3.1", "0.3.2", Level.MINOR),  # 0.y.z: the patch number is the "minor" one
        ("0.3.1", "0.4.0", Level.MAJOR),
        ("0.0.3", "0.0.4", Level.MAJOR),  # 0.0.z: every step may break
        ("2.0.0-rc.1", "2.0.0", Level.MAJOR),  # pre-releases promise nothing
    ],
)
def test_bump_level(old, new, level):
    assert bump_level(V(old), V(new)) is level


@pytest.mark.parametrize(
    "old, level, expected",
    [
        ("1.2.3", Level.MAJOR, "2.0.0"),
        ("1.2.3", Level.MINOR, "1.3.0"),
        ("1.2.3", Level.PATCH, "1.2.4"),
        ("1.2.3", Level.NONE, "1.2.3"),
        ("0.3.1", Level.MAJOR, "0.4.0"),
        ("0.3.1", Level.MINOR, "0.3.2"),
        ("0.0.3", Level.MAJOR, "0.0.4"),
        ("2.0.0-rc.1", Level.MAJOR, "2.0.0"),
    ],
)
def test_minimum_next(old, level, expected):
    assert str(minimum_next(V(old), level)) == expected


versions = st.builds(Version, st.integers(0, 3), st.integers(0, 3), st.integers(0, 3))
levels = st.sampled_from([Level.PATCH, Level.MINOR, Level.MAJOR])


@given(versions, levels)
def test_minimum_next_is_enough_and_later(old, level):
    nxt = minimum_next(old, level)
    assert old.precedes(nxt)
    assert bump_level(old, nxt) >= level


@given(versions, versions, levels)
def test_minimum_next_is_minimal(old, other, level):
    # No version strictly between OLD and the suggestion allows the change.
    nxt = minimum_next(old, level)
    if old.precedes(other) and other.precedes(nxt):
        assert bump_level(old, other) < level
