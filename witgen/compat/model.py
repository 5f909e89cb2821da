"""What a compatibility check produces: findings, the sides they break, and the overall report.

The two sides of a contract are the components built against it: *guests* (plugins, which
import what the host provides and export what the host calls) and *hosts*. A change can break
existing guests (built against OLD, run by a host built against NEW), existing hosts (built
against OLD, running a guest built against NEW), both, or neither.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

from witgen.diagnostics import Span


class Side(str, Enum):
    """A party that may have been built against the OLD contract."""

    GUESTS = "guests"
    HOSTS = "hosts"

    @property
    def label(self) -> str:
        return f"existing {self.value}"


class Severity(str, Enum):
    ERROR = "error"  # breaks a side the user asked about, or a wrong package version
    WARNING = "warning"  # breaks only a side outside --direction, or looks like a mistake
    INFO = "info"  # a change with no effect on the wire (docs, unused types...)


class Level(int, Enum):
    """The semver weight of a change: what bump of the package version it needs."""

    NONE = 0
    PATCH = 1  # docs, deprecation notes
    MINOR = 2  # additions; changes that only break existing hosts
    MAJOR = 3  # anything that breaks existing guests


class Direction(str, Enum):
    """Which compatibility promise the exit status enforces (`--direction`)."""

    GUEST = "guest"  # old guests keep running on new hosts (what `semver-check` checks)
    HOST = "host"  # old hosts keep running new guests
    BOTH = "both"

    @property
    def sides(self) -> frozenset[Side]:
        if self is Direction.GUEST:
            return frozenset({Side.GUESTS})
        if self is Direction.HOST:
            return frozenset({Side.HOSTS})
        return frozenset({Side.GUESTS, Side.HOSTS})


@dataclass(frozen=True)
class Finding:
    rule: str
    category: str
    severity: Severity
    breaks: frozenset[Side]
    level: Level
    message: str
    path: str  # where in the contract: "world a:b/w > import a:b/i > func f"
    span: Span | None = None  # location in NEW (or the nearest enclosing NEW node)
    old_span: Span | None = None  # location in OLD, when the item existed there
    suggested_version: str | None = None  # for PACKAGE_VERSION_* findings


@dataclass(frozen=True)
class WorldPair:
    old: str  # display name of the OLD world, `ns:pkg/name@version`
    new: str


@dataclass
class Report:
    direction: Direction
    worlds: list[WorldPair] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    old_version: str | None = None
    new_version: str | None = None
    required_level: Level = Level.NONE
    minimum_next_version: str | None = None
    # How big a change the step OLD -> NEW version declares (None when the versions were not
    # checked: two worlds of one package, another package, a missing or unparsable version).
    declared_level: Level | None = None
    strict: bool = False  # `--strict`: any breaking change fails, whatever the version says

    def breaks(self, side: Side) -> bool:
        return any(side in f.breaks for f in self.findings)

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity is Severity.ERROR]

    @property
    def version_errors(self) -> list[Finding]:
        """Findings that say the declared version is wrong (understated, not bumped, lower)."""
        return [f for f in self.errors if f.rule.startswith("PACKAGE_VERSION_")]

    @property
    def breaking(self) -> list[Finding]:
        """The changes that fail the direction asked about (the version findings aside)."""
        return [f for f in self.errors if not f.rule.startswith("PACKAGE_VERSION_")]

    @property
    def version_allows(self) -> bool:
        """True when NEW's version was checked and allows every change found."""
        if self.declared_level is None or self.version_errors:
            return False
        return all(f.level <= self.declared_level for f in self.breaking)

    @property
    def compatible(self) -> bool:
        """True when nothing fails the check: the exit status is 0.

        Breaking changes pass when the declared version allows them (a major release may
        break); `strict` restores "any breaking change fails"."""
        if not self.errors:
            return True
        return not self.strict and self.version_allows
