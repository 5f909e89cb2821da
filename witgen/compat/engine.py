"""The engine: matches OLD and NEW item by item and runs the rules on every matched pair.

Matching follows the component model: world imports/exports by name (interface names without
version), interface items by name, fields and cases by name and position. What a difference
breaks depends on where it sits (`Site`): a change in an export breaks both sides; in an import
it breaks the side whose components actually use the item (see `view.py` on liveness).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from witgen import ir
from witgen.compat import registry, view
from witgen.compat.matching import matching_functions
from witgen.compat.model import Direction, Finding, Level, Severity, Side
from witgen.compat.types import TypeComparer, kind_word
from witgen.compat.view import EXPORT, IMPORT, WorldView
from witgen.diagnostics import Span

GUESTS_ONLY = frozenset({Side.GUESTS})
HOSTS_ONLY = frozenset({Side.HOSTS})
NOBODY: frozenset[Side] = frozenset()


def classify(
    rule: registry.Rule, breaks: frozenset[Side], direction: Direction
) -> tuple[Severity, Level]:
    """Severity: an error when it breaks a side `--direction` protects, a warning when it
    breaks only the other side. Level: major when it breaks existing guests (the semver
    promise), minor when it breaks only existing hosts. Otherwise the rule says."""
    if breaks & direction.sides:
        severity = Severity.ERROR
    elif breaks:
        severity = Severity.WARNING
    else:
        severity = rule.quiet_severity
    if Side.GUESTS in breaks:
        return severity, Level.MAJOR
    return severity, Level.MINOR if breaks else rule.quiet_level


def with_sides(message: str, breaks: frozenset[Side]) -> str:
    if not breaks:
        return message
    return f"{message} (breaks {' and '.join(s.label for s in sorted(breaks))})"


@dataclass(frozen=True)
class Site:
    """Where a compared pair sits in the world, and so what changing it breaks."""

    path: str
    direction: str  # IMPORT | EXPORT
    live_old: bool = True
    live_new: bool = True
    span: Span | None = None  # the NEW node, or the nearest enclosing NEW node
    old_span: Span | None = None

    def child(
        self,
        label: str,
        *,
        span: Span | None = None,
        old_span: Span | None = None,
        live_old: bool | None = None,
        live_new: bool | None = None,
    ) -> Site:
        return replace(
            self,
            path=f"{self.path} > {label}",
            span=span or self.span,
            old_span=old_span or self.old_span,
            live_old=self.live_old if live_old is None else live_old,
            live_new=self.live_new if live_new is None else live_new,
        )

    def added_child(self, label: str, *, span: Span | None, live_new: bool | None = None) -> Site:
        """The site of an item that exists only in NEW (so it has no OLD location)."""
        return replace(self.child(label, span=span, live_new=live_new), old_span=None)

    @property
    def changed(self) -> frozenset[Side]:
        """Sides broken when the item exists on both sides but differs."""
        if self.direction == EXPORT:
            return frozenset({Side.GUESTS, Side.HOSTS})
        sides = set()
        if self.live_old:
            sides.add(Side.GUESTS)  # old guests import it and get the new shape
        if self.live_new:
            sides.add(Side.HOSTS)  # new guests import it and old hosts give the old shape
        return frozenset(sides)

    @property
    def added(self) -> frozenset[Side]:
        """Sides broken when the item exists only in NEW."""
        if self.direction == EXPORT:
            return GUESTS_ONLY  # old guests do not export it
        return HOSTS_ONLY if self.live_new else NOBODY  # old hosts do not provide it

    @property
    def removed(self) -> frozenset[Side]:
        """Sides broken when the item exists only in OLD."""
        if self.direction == EXPORT:
            return HOSTS_ONLY  # old hosts call it; new guests do not export it
        return GUESTS_ONLY if self.live_old else NOBODY  # new hosts do not provide it


class Checker:
    """State of one comparison of two worlds; rules report through it."""

    def __init__(self, old: WorldView, new: WorldView, direction: Direction):
        self.old = old
        self.new = new
        self.direction = direction
        self.types = TypeComparer(old, new)
        self.findings: list[Finding] = []

    # -- reporting --

    def report(
        self,
        rule_id: str,
        site: Site,
        breaks: frozenset[Side],
        message: str,
        *,
        span: Span | None = None,
        old_span: Span | None = None,
    ) -> None:
        rule = registry.RULES[rule_id]
        severity, level = classify(rule, breaks, self.direction)
        if not breaks and rule.category != "DOCS":
            message += " (breaks nobody: no component of the world uses it)"
        self.findings.append(
            Finding(
                rule=rule_id,
                category=rule.category,
                severity=severity,
                breaks=breaks,
                level=level,
                message=with_sides(message, breaks),
                path=site.path,
                span=span or site.span,
                old_span=old_span or site.old_span,
            )
        )

    # -- walking --

    def compare_world(self) -> None:
        old_w, new_w = self.old.world, self.new.world
        site = Site(f"world {self.new.name}", IMPORT, span=new_w.span, old_span=old_w.span)
        registry.run("world", self, site, self.old, self.new)
        registry.run("docs", self, site, old_w, new_w)
        for direction in (IMPORT, EXPORT):
            old_entries = self.old.imports if direction == IMPORT else self.old.exports
            new_entries = self.new.imports if direction == IMPORT else self.new.exports
            for key, new_e in new_entries.items():
                old_e = old_entries.get(key)
                if old_e is not None and old_e.kind == new_e.kind:
                    self.compare_entry(replace(site, direction=direction), old_e, new_e)

    def compare_entry(self, world_site: Site, old_e: view.Entry, new_e: view.Entry) -> None:
        site = world_site.child(
            f"{new_e.direction} {new_e.display}", span=new_e.span, old_span=old_e.span
        )
        if isinstance(old_e.item, ir.WorldInterface) and isinstance(new_e.item, ir.WorldInterface):
            self.compare_interface(site, old_e.item.id, new_e.item.id)
        elif isinstance(old_e.item, ir.WorldFunction) and isinstance(new_e.item, ir.WorldFunction):
            self.compare_function(site, old_e.item.function, new_e.item.function)
        elif isinstance(old_e.item, ir.WorldType) and isinstance(new_e.item, ir.WorldType):
            self.compare_typedef(site, old_e.item.id, new_e.item.id)

    def compare_interface(self, site: Site, old_id: int, new_id: int) -> None:
        old_i = self.old.resolve.interfaces[old_id]
        new_i = self.new.resolve.interfaces[new_id]
        site = replace(site, span=new_i.span or site.span, old_span=old_i.span or site.old_span)
        registry.run("interface", self, site, old_i, new_i)
        registry.run("docs", self, site, old_i, new_i)
        for old_fn, new_fn in matching_functions(self.old.resolve, old_i, self.new.resolve, new_i):
            self.compare_function(site, old_fn, new_fn)
        for name, tid in new_i.types.items():
            if name in old_i.types:
                self.compare_typedef(site, old_i.types[name], tid)

    def compare_function(self, site: Site, old: ir.Function, new: ir.Function) -> None:
        site = site.child(f"func {new.name}", span=new.span, old_span=old.span)
        registry.run("function", self, site, old, new)
        registry.run("docs", self, site, old, new)

    def compare_typedef(self, site: Site, old_id: int, new_id: int) -> None:
        old_t = self.old.resolve.types[old_id]
        new_t = self.new.resolve.types[new_id]
        site = site.child(
            f"{kind_word(new_t.kind)} {new_t.name}",
            span=new_t.span,
            old_span=old_t.span,
            live_old=self.old.is_live(old_id, site.direction),
            live_new=self.new.is_live(new_id, site.direction),
        )
        registry.run("typedef", self, site, old_id, new_id)
        registry.run("docs", self, site, old_t, new_t)
        if type(old_t.kind) is type(new_t.kind):
            target = kind_word(new_t.kind)
            if target in ("record", "variant", "enum", "flags"):
                registry.run(target, self, site, old_t.kind, new_t.kind)

    def added_item(self, site: Site, node: object) -> None:
        """Run the rules about items that exist only in NEW (e.g. their `@since` gate)."""
        registry.run("added", self, site, node)


def compare(old: WorldView, new: WorldView, direction: Direction) -> list[Finding]:
    checker = Checker(old, new, direction)
    checker.compare_world()
    return checker.findings


class PackageChecker:
    """State of the package-level checks: worlds that appeared or vanished, and the version."""

    def __init__(
        self,
        old: ir.Package | None,
        new: ir.Package | None,
        direction: Direction,
        findings: list[Finding],
        old_worlds: dict[str, ir.World] | None = None,
        new_worlds: dict[str, ir.World] | None = None,
    ):
        self.old = old
        self.new = new
        self.direction = direction
        self.findings = findings  # every finding so far; version rules weigh them
        # The worlds of each side, when all worlds of the packages are compared by name.
        self.old_worlds = old_worlds or {}
        self.new_worlds = new_worlds or {}
        # Interfaces of each side that no world uses, by name without version.
        self.old_interfaces: dict[str, int] = {}
        self.new_interfaces: dict[str, int] = {}

    @property
    def required_level(self) -> Level:
        return max((f.level for f in self.findings), default=Level.NONE)

    def report(
        self,
        rule_id: str,
        breaks: frozenset[Side],
        message: str,
        *,
        severity: Severity | None = None,
        span: Span | None = None,
        old_span: Span | None = None,
        suggested_version: str | None = None,
    ) -> None:
        rule = registry.RULES[rule_id]
        default_severity, level = classify(rule, breaks, self.direction)
        self.findings.append(
            Finding(
                rule=rule_id,
                category=rule.category,
                severity=severity or default_severity,
                breaks=breaks,
                level=level,
                message=with_sides(message, breaks),
                path=f"package {self.new.name if self.new else '?'}",
                span=span or (self.new.span if self.new else None),
                old_span=old_span or (self.old.span if self.old else None),
                suggested_version=suggested_version,
            )
        )
