"""Package versions: parsing, comparing, and the smallest version that may follow another.

A WIT package version is semver. As Cargo and wit-parser read it, the leftmost non-zero
component is the "major" one: for 0.y.z a breaking change needs 0.(y+1).0 and an addition
needs 0.y.(z+1); for 0.0.z every change is breaking and needs 0.0.(z+1).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from witgen.compat.model import Level

_SEMVER = re.compile(
    r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-([0-9A-Za-z.-]+))?(?:\+([0-9A-Za-z.-]+))?$"
)


@dataclass(frozen=True)
class Version:
    major: int
    minor: int
    patch: int
    pre: str | None = None

    @classmethod
    def parse(cls, text: str) -> Version:
        m = _SEMVER.match(text)
        if m is None:
            raise ValueError(f"`{text}` is not a semver version")
        return cls(int(m[1]), int(m[2]), int(m[3]), m[4])

    @property
    def core(self) -> tuple[int, int, int]:
        return (self.major, self.minor, self.patch)

    def __str__(self) -> str:
        base = f"{self.major}.{self.minor}.{self.patch}"
        return f"{base}-{self.pre}" if self.pre else base

    def precedes(self, other: Version) -> bool:
        """Semver precedence: 1.0.0-rc.1 < 1.0.0 < 1.0.1 (build metadata is ignored)."""
        if self.core != other.core:
            return self.core < other.core
        if self.pre is None or other.pre is None:
            return self.pre is not None and other.pre is None
        return _pre_key(self.pre) < _pre_key(other.pre)


def _pre_key(pre: str) -> tuple[tuple[int, int, str], ...]:
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in pre.split("."))


def bump_level(old: Version, new: Version) -> Level:
    """How big a change the step from `old` to `new` allows (NONE if it is no step forward)."""
    if not old.precedes(new):
        return Level.NONE
    if old.pre is not None:
        return Level.MAJOR  # a pre-release promises nothing: any later version may break it
    if old.major > 0:
        if new.major > old.major:
            return Level.MAJOR
        return Level.MINOR if new.minor > old.minor else Level.PATCH
    if new.major > 0:
        return Level.MAJOR
    if old.minor > 0:
        if new.minor > old.minor:
            return Level.MAJOR
        return Level.MINOR  # 0.y.z -> 0.y.(z+1): additions allowed, nothing breaking
    return Level.MAJOR  # 0.0.z -> anything later: every step is a breaking one


def minimum_next(old: Version, level: Level) -> Version:
    """The smallest release after `old` that may carry changes of `level`."""
    if level is Level.NONE:
        return old
    if old.pre is not None:
        return Version(old.major, old.minor, old.patch)  # the release it was a preview of
    if old.major > 0:
        if level is Level.MAJOR:
            return Version(old.major + 1, 0, 0)
        if level is Level.MINOR:
            return Version(old.major, old.minor + 1, 0)
        return Version(old.major, old.minor, old.patch + 1)
    if old.minor > 0 and level is Level.MAJOR:
        return Version(0, old.minor + 1, 0)
    return Version(0, old.minor, old.patch + 1)
