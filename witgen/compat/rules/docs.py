"""Rules over documentation and stability attributes (`@since`, `@unstable`, `@deprecated`).

None of these change the wire; they matter for the package version (docs need a patch
release) and for spotting mistakes, such as an added item claiming to exist since a version
that did not have it.
"""

from __future__ import annotations

from typing import Protocol

from witgen import ir
from witgen.compat.engine import NOBODY, Checker, Site
from witgen.compat.model import Level, Severity
from witgen.compat.registry import rule
from witgen.compat.rules.members import members_of
from witgen.compat.semver import Version


class Documented(Protocol):
    @property
    def docs(self) -> ir.Docs: ...

    @property
    def stability(self) -> ir.Stability: ...


def _name(node: object) -> str:
    name = getattr(node, "name", None)
    return f"`{name}`" if name else "the item"


@rule(
    "DOCS_CHANGED",
    category="DOCS",
    target="docs",
    summary="documentation changed (no effect on the wire; needs a patch release)",
    level=Level.PATCH,
)
def docs_changed(ck: Checker, site: Site, old: Documented, new: Documented) -> None:
    if old.docs != new.docs:
        ck.report("DOCS_CHANGED", site, NOBODY, f"documentation of {_name(new)} changed")
    if isinstance(old, ir.TypeDef) and isinstance(new, ir.TypeDef):
        before = {m.name: m for m in members_of(old.kind)}
        for m in members_of(new.kind):
            o = before.get(m.name)
            if o is not None and getattr(o, "docs", None) != getattr(m, "docs", None):
                ck.report(
                    "DOCS_CHANGED",
                    site,
                    NOBODY,
                    f"documentation of `{new.name}.{m.name}` changed",
                    span=m.span,
                )


@rule(
    "DEPRECATED_ADDED",
    category="DOCS",
    target="docs",
    summary="an item was marked @deprecated",
    level=Level.PATCH,
)
def deprecated_added(ck: Checker, site: Site, old: Documented, new: Documented) -> None:
    if old.stability.deprecated is None and new.stability.deprecated is not None:
        ck.report(
            "DEPRECATED_ADDED",
            site,
            NOBODY,
            f"{_name(new)} is deprecated since {new.stability.deprecated}",
        )


@rule(
    "STABILITY_CHANGED",
    category="DOCS",
    target="docs",
    summary="an item moved between @unstable and @since (e.g. a feature was stabilized)",
)
def stability_changed(ck: Checker, site: Site, old: Documented, new: Documented) -> None:
    o, n = old.stability, new.stability
    if "unstable" not in (o.kind, n.kind) or (o.kind, o.feature) == (n.kind, n.feature):
        return  # adding or changing @since is SINCE_CHANGED's business
    if o.kind == "unstable" and n.kind == "stable":
        what = f"was stabilized (feature `{o.feature}`, since {n.since})"
    elif n.kind == "unstable":
        what = f"is now gated by @unstable feature `{n.feature}`"
    else:
        what = f"is no longer gated by @unstable feature `{o.feature}`"
    ck.report("STABILITY_CHANGED", site, NOBODY, f"{_name(new)} {what}")


@rule(
    "SINCE_CHANGED",
    category="DOCS",
    target="docs",
    summary="an existing item's @since version changed, or now names a version after OLD",
    level=Level.PATCH,
    severity=Severity.WARNING,
)
def since_changed(ck: Checker, site: Site, old: Documented, new: Documented) -> None:
    o, n = old.stability, new.stability
    if n.kind != "stable" or n.since is None or o.since == n.since:
        return
    if o.kind == "stable":
        ck.report(
            "SINCE_CHANGED",
            site,
            NOBODY,
            f"{_name(new)} existed in OLD, but its @since changed from {o.since} to {n.since}",
        )
        return
    old_pkg = ck.old.package
    if o.kind == "unknown" and old_pkg is not None and old_pkg.version is not None:
        try:
            claimed, had = Version.parse(n.since), Version.parse(old_pkg.version)
        except ValueError:
            return
        if had.precedes(claimed):
            ck.report(
                "SINCE_CHANGED",
                site,
                NOBODY,
                f"{_name(new)} already existed in OLD ({had}) but now says "
                f"@since(version = {claimed})",
            )


@rule(
    "SINCE_VERSION_MISMATCH",
    category="DOCS",
    target="added",
    summary="an added item's @since is not the version that introduces it",
    level=Level.NONE,
    severity=Severity.WARNING,
)
def since_version_mismatch(ck: Checker, site: Site, node: object) -> None:
    stability = getattr(node, "stability", None)
    new_pkg, old_pkg = ck.new.package, ck.old.package
    if stability is None or stability.kind != "stable" or stability.since is None:
        return
    if new_pkg is None or new_pkg.version is None or stability.since == new_pkg.version:
        return
    try:
        since = Version.parse(stability.since)
        old_version = Version.parse(old_pkg.version) if old_pkg and old_pkg.version else None
    except ValueError:
        return
    if old_version is not None and not old_version.precedes(since):
        ck.report(
            "SINCE_VERSION_MISMATCH",
            site,
            NOBODY,
            f"{_name(node)} is new, but says @since(version = {since}) and OLD "
            f"({old_version}) does not have it; use {new_pkg.version}",
        )
