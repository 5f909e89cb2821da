"""Interface evolution: is NEW a compatible successor of OLD, for whom, and what version?

`check` compares two resolved contracts (`ir.Resolve`, possibly the same one) world by world
and returns a `Report` of findings from the rules in `witgen/compat/rules/`. See `model.py`
for what the findings mean and `engine.py` for how items are matched.
"""

from __future__ import annotations

from dataclasses import replace

from witgen import ir
from witgen.compat import engine, registry, view
from witgen.compat.model import Direction, Finding, Level, Report, Severity, Side, WorldPair
from witgen.compat.semver import Version, bump_level, minimum_next

__all__ = ["check", "Direction", "Finding", "Level", "Report", "Severity", "Side"]


def check(
    old: ir.Resolve,
    new: ir.Resolve,
    *,
    old_world: int | None = None,
    new_world: int | None = None,
    direction: Direction = Direction.GUEST,
    check_versions: bool = True,
    strict: bool = False,
) -> Report:
    """Compare OLD and NEW.

    With both world ids, those two worlds are compared. Without them, every world of OLD's main
    package is compared with the world of the same name in NEW's main package. Package version
    rules run unless `check_versions` is false (e.g. two worlds of one package in one file);
    when they run, breaking changes that NEW's version allows do not fail the report unless
    `strict` (see `Report.compatible`).
    """
    report = Report(direction=direction, strict=strict)
    old_worlds: dict[str, ir.World] = {}
    new_worlds: dict[str, ir.World] = {}
    old_free: dict[str, int] = {}
    new_free: dict[str, int] = {}
    pairs: list[tuple[ir.Resolve, int, ir.Resolve, int]] = []
    if old_world is not None and new_world is not None:
        pairs.append((old, old_world, new, new_world))
    else:
        old_ids = _main_worlds(old)
        new_ids = _main_worlds(new)
        old_worlds = {old.worlds[w].name: old.worlds[w] for w in old_ids}
        new_worlds = {new.worlds[w].name: new.worlds[w] for w in new_ids}
        by_name = {new.worlds[w].name: w for w in new_ids}
        for w in old_ids:
            if old.worlds[w].name in by_name:
                pairs.append((old, w, new, by_name[old.worlds[w].name]))
        # Interfaces that no compared world reaches are still part of the package's
        # contract: those that no world uses (how packages like wasi:io are consumed) and
        # those only worlds without a counterpart use (a release that replaces its worlds,
        # as wasi:http 0.3 did, still changes the interfaces both versions define). The
        # ones on both sides are compared in a stand-in world, on the side (import or
        # export) where OLD's worlds had them.
        old_free, new_free = _free_interfaces(old), _free_interfaces(new)
        old_paired = [p[1] for p in pairs]
        new_paired = [p[3] for p in pairs]
        old_left = _uncovered_interfaces(old, old_paired)
        new_left = _uncovered_interfaces(new, new_paired)
        shared = [k for k in old_left if k in new_left]
        if shared:
            exported = _exported_only(old, [old_left[k] for k in shared], old_paired)
            names = [(k, k in exported) for k in shared]
            old2, o = _stand_in_world(old, [(old_left[k], e) for k, e in names])
            new2, n = _stand_in_world(new, [(new_left[k], e) for k, e in names])
            pairs.append((old2, o, new2, n))
    old_pkg = _main_package(old, old_world)
    new_pkg = _main_package(new, new_world)
    for old_r, o, new_r, n in pairs:
        old_view, new_view = view.build(old_r, o), view.build(new_r, n)
        report.worlds.append(WorldPair(old_view.name, new_view.name))
        report.findings.extend(engine.compare(old_view, new_view, direction))
    report.findings = _merge_repeats(report.findings, len(pairs))
    pc = engine.PackageChecker(old_pkg, new_pkg, direction, report.findings, old_worlds, new_worlds)
    pc.old_interfaces, pc.new_interfaces = old_free, new_free
    registry.run("worlds", pc)
    report.required_level = pc.required_level
    if check_versions:
        registry.run("package", pc)
        report.declared_level = _declared_level(old_pkg, new_pkg)
    report.old_version = old_pkg.version if old_pkg else None
    report.new_version = new_pkg.version if new_pkg else None
    if report.old_version is not None:
        try:
            base = Version.parse(report.old_version)
            report.minimum_next_version = str(minimum_next(base, report.required_level))
        except ValueError:
            pass
    return report


def _declared_level(old: ir.Package | None, new: ir.Package | None) -> Level | None:
    """The change the version step OLD -> NEW allows, for two versions of one package."""
    if old is None or new is None or old.version is None or new.version is None:
        return None
    if (old.namespace, old.short_name) != (new.namespace, new.short_name):
        return None
    try:
        return bump_level(Version.parse(old.version), Version.parse(new.version))
    except ValueError:
        return None


def _merge_repeats(findings: list[Finding], worlds: int) -> list[Finding]:
    """One finding per change: an interface shared by several worlds changes once.

    Findings that differ only in the world they were found through are merged; the kept one
    says how many worlds the change reaches.
    """
    if worlds < 2:
        return findings
    seen: dict[tuple[object, ...], int] = {}
    counts: list[int] = []
    kept: list[Finding] = []
    for f in findings:
        where = f.path.split(" > ", 1)[1] if " > " in f.path else f.path
        key = (f.rule, f.message, f.span, f.old_span, where)
        if key in seen:
            counts[seen[key]] += 1
            continue
        seen[key] = len(kept)
        kept.append(f)
        counts.append(1)
    return [
        f if n == 1 else replace(f, path=f"{f.path} (and {n - 1} more worlds)")
        for f, n in zip(kept, counts)
    ]


STAND_IN_WORLD = "(interfaces outside worlds)"


def _free_interfaces(resolve: ir.Resolve) -> dict[str, int]:
    """Named interfaces of the main package that no world of the main package names."""
    if resolve.main_package is None:
        return {}
    pkg = resolve.packages[resolve.main_package]
    used = {
        e.item.id
        for w in pkg.worlds.values()
        for e in resolve.worlds[w].imports + resolve.worlds[w].exports
        if isinstance(e.item, ir.WorldInterface)
    }
    free = {}
    for iface in pkg.interfaces.values():
        name = resolve.interface_id(iface)
        if iface not in used and name is not None:
            free[view.strip_version(name)] = iface
    return free


def _uncovered_interfaces(resolve: ir.Resolve, paired: list[int]) -> dict[str, int]:
    """Named interfaces of the main package that none of the `paired` worlds names."""
    if resolve.main_package is None:
        return {}
    pkg = resolve.packages[resolve.main_package]
    used = {
        e.item.id
        for w in paired
        for e in resolve.worlds[w].imports + resolve.worlds[w].exports
        if isinstance(e.item, ir.WorldInterface)
    }
    left = {}
    for iface in pkg.interfaces.values():
        name = resolve.interface_id(iface)
        if iface not in used and name is not None:
            left[view.strip_version(name)] = iface
    return left


def _exported_only(resolve: ir.Resolve, interfaces: list[int], paired: list[int]) -> set[str]:
    """Names of those `interfaces` that the main package's other worlds export and never
    import (compared as exports; every other one as an import)."""
    if resolve.main_package is None:
        return set()
    imported: set[int] = set()
    exported: set[int] = set()
    for w in resolve.packages[resolve.main_package].worlds.values():
        if w in paired:
            continue
        world = resolve.worlds[w]
        imported |= {e.item.id for e in world.imports if isinstance(e.item, ir.WorldInterface)}
        exported |= {e.item.id for e in world.exports if isinstance(e.item, ir.WorldInterface)}
    out = set()
    for i in interfaces:
        name = resolve.interface_id(i)
        if i in exported and i not in imported and name is not None:
            out.add(view.strip_version(name))
    return out


def _stand_in_world(
    resolve: ir.Resolve, interfaces: list[tuple[int, bool]]
) -> tuple[ir.Resolve, int]:
    """A copy of `resolve` with one more world, importing `interfaces` (exporting those
    marked True)."""

    def entry(i: int) -> ir.WorldEntry:
        return ir.WorldEntry(ir.WorldKey(interface=i), ir.WorldInterface(i))

    world = ir.World(
        name=STAND_IN_WORLD,
        imports=tuple(entry(i) for i, exp in interfaces if not exp),
        exports=tuple(entry(i) for i, exp in interfaces if exp),
        package=resolve.main_package,
    )
    return replace(resolve, worlds=resolve.worlds + (world,)), len(resolve.worlds)


def _main_worlds(resolve: ir.Resolve) -> list[int]:
    if resolve.main_package is None:
        return []
    return sorted(resolve.packages[resolve.main_package].worlds.values())


def _main_package(resolve: ir.Resolve, world: int | None) -> ir.Package | None:
    if world is not None:
        pkg = resolve.worlds[world].package
        return None if pkg is None else resolve.packages[pkg]
    if resolve.main_package is None:
        return None
    return resolve.packages[resolve.main_package]
