"""Rules over a package as a whole: its worlds and its declared version.

The version rules weigh every other finding: anything that breaks existing guests needs a
major release, additions and changes that only break existing hosts need a minor one, docs
need a patch, and no change needs nothing (a bump anyway is fine).
"""

from __future__ import annotations

from witgen.compat.engine import NOBODY, PackageChecker
from witgen.ir import Package
from witgen.compat.model import Level, Severity, Side
from witgen.compat.registry import rule
from witgen.compat.semver import Version, bump_level, minimum_next

_LEVEL_WORD = {Level.MAJOR: "breaking", Level.MINOR: "additive", Level.PATCH: "documentation"}


def _versions(pc: PackageChecker) -> tuple[Version, Version] | None:
    if pc.old is None or pc.new is None or pc.old.version is None or pc.new.version is None:
        return None
    try:
        return Version.parse(pc.old.version), Version.parse(pc.new.version)
    except ValueError:
        return None


def _same_package(pc: PackageChecker) -> bool:
    if pc.old is None or pc.new is None:
        return False
    return (pc.old.namespace, pc.old.short_name) == (pc.new.namespace, pc.new.short_name)


@rule(
    "PACKAGE_RENAMED",
    category="PACKAGE",
    target="package",
    level=Level.NONE,
    summary="OLD and NEW are different packages; interface names change with the package",
    severity=Severity.WARNING,
)
def package_renamed(pc: PackageChecker) -> None:
    if pc.old is not None and pc.new is not None and not _same_package(pc):
        pc.report(
            "PACKAGE_RENAMED",
            NOBODY,
            f"package `{pc.old.name}` became `{pc.new.name}`; every interface it declares is "
            "imported and exported under a new name",
        )


@rule(
    "PACKAGE_VERSION_MISSING",
    category="PACKAGE",
    target="package",
    level=Level.NONE,
    summary="one side declares a package version and the other does not",
    severity=Severity.WARNING,
)
def package_version_missing(pc: PackageChecker) -> None:
    if pc.old is None or pc.new is None or not _same_package(pc):
        return
    if (pc.old.version is None) != (pc.new.version is None):
        which = "OLD" if pc.old.version is None else "NEW"
        pc.report(
            "PACKAGE_VERSION_MISSING",
            NOBODY,
            f"{which} `{pc.old.name if which == 'OLD' else pc.new.name}` has no version; "
            "versions cannot be checked",
        )


@rule(
    "PACKAGE_VERSION_DECREASED",
    category="PACKAGE",
    target="package",
    level=Level.NONE,
    summary="NEW declares a lower package version than OLD",
)
def package_version_decreased(pc: PackageChecker) -> None:
    versions = _versions(pc)
    if versions is None or not _same_package(pc):
        return
    old, new = versions
    if new.precedes(old):
        pc.report(
            "PACKAGE_VERSION_DECREASED",
            NOBODY,
            f"the package version went down from {old} to {new}",
            severity=Severity.ERROR,
            suggested_version=str(minimum_next(old, max(pc.required_level, Level.PATCH))),
        )


@rule(
    "PACKAGE_VERSION_NOT_BUMPED",
    category="PACKAGE",
    target="package",
    level=Level.NONE,
    summary="the contract changed but the package version did not",
)
def package_version_not_bumped(pc: PackageChecker) -> None:
    versions = _versions(pc)
    level = pc.required_level
    if versions is None or not _same_package(pc) or level is Level.NONE:
        return
    old, new = versions
    if old == new:
        suggestion = minimum_next(old, level)
        pc.report(
            "PACKAGE_VERSION_NOT_BUMPED",
            NOBODY,
            f"the contract has {_LEVEL_WORD[level]} changes but the version is still {new}; "
            f"the next version must be at least {suggestion}",
            severity=Severity.ERROR,
            suggested_version=str(suggestion),
        )


@rule(
    "PACKAGE_VERSION_BUMP_TOO_SMALL",
    category="PACKAGE",
    target="package",
    level=Level.NONE,
    summary="the package version was bumped, but less than the changes need",
)
def package_version_bump_too_small(pc: PackageChecker) -> None:
    versions = _versions(pc)
    level = pc.required_level
    if versions is None or not _same_package(pc) or level is Level.NONE:
        return
    old, new = versions
    if old == new or new.precedes(old):
        return  # reported by PACKAGE_VERSION_NOT_BUMPED / PACKAGE_VERSION_DECREASED
    if bump_level(old, new) < level:
        suggestion = minimum_next(old, level)
        pc.report(
            "PACKAGE_VERSION_BUMP_TOO_SMALL",
            NOBODY,
            f"{old} -> {new} is not enough for {_LEVEL_WORD[level]} changes: the next version "
            f"must be at least {suggestion}",
            severity=Severity.ERROR,
            suggested_version=str(suggestion),
        )


@rule(
    "WORLD_PACKAGE_CHANGED",
    category="PACKAGE",
    target="worlds",
    summary="OLD and NEW worlds belong to different packages: NEW is not a version of OLD",
)
def world_package_changed(pc: PackageChecker) -> None:
    # As `wasm-tools component semver-check`: a world is known by its package, so a world of
    # another package is a different contract, whatever its items look like.
    if pc.old is not None and pc.new is not None and not _same_package(pc):
        pc.report(
            "WORLD_PACKAGE_CHANGED",
            frozenset({Side.GUESTS, Side.HOSTS}),
            f"the old world is in package `{pc.old.namespace}:{pc.old.short_name}` and the new "
            f"one in `{pc.new.namespace}:{pc.new.short_name}`: a world of another package is "
            "not a newer version of it",
        )


@rule(
    "WORLD_ADDED",
    category="PACKAGE",
    target="worlds",
    summary="the package has a new world (a new kind of component)",
)
def world_added(pc: PackageChecker) -> None:
    for name, world in pc.new_worlds.items():
        if name not in pc.old_worlds:
            pc.report("WORLD_ADDED", NOBODY, f"world `{name}` was added", span=world.span)


@rule(
    "WORLD_REMOVED",
    category="PACKAGE",
    target="worlds",
    summary="a world was removed: hosts built against NEW no longer run its components",
)
def world_removed(pc: PackageChecker) -> None:
    for name, world in pc.old_worlds.items():
        if name not in pc.new_worlds:
            pc.report(
                "WORLD_REMOVED",
                frozenset({Side.GUESTS}),
                f"world `{name}` was removed",
                old_span=world.span,
            )


@rule(
    "INTERFACE_ADDED",
    category="PACKAGE",
    target="worlds",
    summary="the package has a new interface that no world uses (yet)",
)
def interface_added(pc: PackageChecker) -> None:
    for name in pc.new_interfaces:
        if name not in pc.old_interfaces and not _in_package(pc.old, name):
            pc.report("INTERFACE_ADDED", NOBODY, f"interface `{name}` was added")


@rule(
    "INTERFACE_REMOVED",
    category="PACKAGE",
    target="worlds",
    summary="an interface that no world uses was removed: components importing it break",
)
def interface_removed(pc: PackageChecker) -> None:
    for name in pc.old_interfaces:
        if name not in pc.new_interfaces and not _in_package(pc.new, name):
            pc.report(
                "INTERFACE_REMOVED",
                frozenset({Side.GUESTS}),
                f"interface `{name}` was removed",
            )


def _in_package(pkg: Package | None, name: str) -> bool:
    """Whether `ns:pkg/iface` is an interface of `pkg` (used by a world or not)."""
    if pkg is None:
        return False
    return any(f"{pkg.namespace}:{pkg.short_name}/{i}" == name for i in pkg.interfaces)
