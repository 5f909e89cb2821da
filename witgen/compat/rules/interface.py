"""Rules over the items of an interface: functions, resource methods, named types, resources.

Types of an interface are items of its instance type, exported by name: adding, removing or
renaming one is like adding, removing or renaming a function, except that an imported
interface's types only count when some function reaches them (see view.py).
"""

from __future__ import annotations

from dataclasses import replace

from witgen import ir
from witgen.compat.engine import Checker, Site
from witgen.compat.registry import rule
from witgen.compat.matching import freestanding, methods
from witgen.compat.rules.members import rename_hint
from witgen.compat.types import kind_word


def _plain_types(resolve: ir.Resolve, iface: ir.Interface) -> dict[str, int]:
    return {
        n: t for n, t in iface.types.items() if not isinstance(resolve.types[t].kind, ir.Resource)
    }


def _resources(resolve: ir.Resolve, iface: ir.Interface) -> dict[str, int]:
    return {n: t for n, t in iface.types.items() if isinstance(resolve.types[t].kind, ir.Resource)}


def _method_label(fn: ir.Function, resource: str | None) -> str:
    if fn.kind.endswith("constructor"):
        return f"constructor of resource `{resource}`"
    what = "static function" if "static" in fn.kind else "method"
    return f"{what} `{fn.item_name}` of resource `{resource}`"


@rule("FUNC_ADDED", category="INTERFACE", target="interface", summary="a function was added")
def func_added(ck: Checker, site: Site, old: ir.Interface, new: ir.Interface) -> None:
    before = freestanding(old)
    for name, fn in freestanding(new).items():
        if name not in before:
            item_site = site.added_child(f"func {name}", span=fn.span)
            ck.report("FUNC_ADDED", item_site, site.added, f"function `{name}` was added")
            ck.added_item(item_site, fn)


def same_shape(ck: Checker, old: ir.Function, new: ir.Function) -> bool:
    """Whether two functions take and return the same types (names of parameters aside)."""
    if old.kind != new.kind or len(old.params) != len(new.params):
        return False
    if not all(
        ck.types.equal(a.type, b.type, shallow=False) for a, b in zip(old.params, new.params)
    ):
        return False
    return ck.types.equal(old.result, new.result, shallow=False)


@rule("FUNC_REMOVED", category="INTERFACE", target="interface", summary="a function was removed")
def func_removed(ck: Checker, site: Site, old: ir.Interface, new: ir.Interface) -> None:
    after = freestanding(new)
    before = freestanding(old)
    added = {n: f for n, f in after.items() if n not in before}
    for name, fn in before.items():
        if name not in after:
            similar = [n for n, f in added.items() if same_shape(ck, fn, f)]
            ck.report(
                "FUNC_REMOVED",
                site.child(f"func {name}"),
                site.removed,
                f"function `{name}` was removed" + rename_hint("signature", similar),
                old_span=fn.span,
            )


@rule(
    "RESOURCE_METHOD_ADDED",
    category="INTERFACE",
    target="interface",
    summary="a method, static function or constructor was added to a resource",
)
def resource_method_added(ck: Checker, site: Site, old: ir.Interface, new: ir.Interface) -> None:
    before = methods(ck.old.resolve, old)
    old_resources = _resources(ck.old.resolve, old)
    for key, fn in methods(ck.new.resolve, new).items():
        resource = key[0]
        if key in before or resource not in old_resources:
            continue  # a method of a new resource comes with RESOURCE_ADDED
        item_site = site.added_child(f"func {fn.name}", span=fn.span)
        label = _method_label(fn, resource)
        ck.report("RESOURCE_METHOD_ADDED", item_site, site.added, f"{label} was added")
        ck.added_item(item_site, fn)


@rule(
    "RESOURCE_METHOD_REMOVED",
    category="INTERFACE",
    target="interface",
    summary="a method, static function or constructor was removed from a resource",
)
def resource_method_removed(ck: Checker, site: Site, old: ir.Interface, new: ir.Interface) -> None:
    after = methods(ck.new.resolve, new)
    new_resources = _resources(ck.new.resolve, new)
    for key, fn in methods(ck.old.resolve, old).items():
        resource = key[0]
        if key in after or resource not in new_resources:
            continue
        label = _method_label(fn, resource)
        ck.report(
            "RESOURCE_METHOD_REMOVED",
            site.child(f"func {fn.name}"),
            site.removed,
            f"{label} was removed",
            old_span=fn.span,
        )


@rule("RESOURCE_ADDED", category="INTERFACE", target="interface", summary="a resource was added")
def resource_added(ck: Checker, site: Site, old: ir.Interface, new: ir.Interface) -> None:
    before = _resources(ck.old.resolve, old)
    for name, tid in _resources(ck.new.resolve, new).items():
        if name not in before:
            td = ck.new.resolve.types[tid]
            item_site = site.added_child(f"resource {name}", span=td.span)
            ck.report("RESOURCE_ADDED", item_site, site.added, f"resource `{name}` was added")
            ck.added_item(item_site, td)


@rule(
    "RESOURCE_REMOVED", category="INTERFACE", target="interface", summary="a resource was removed"
)
def resource_removed(ck: Checker, site: Site, old: ir.Interface, new: ir.Interface) -> None:
    after = _resources(ck.new.resolve, new)
    for name, tid in _resources(ck.old.resolve, old).items():
        if name not in after:
            ck.report(
                "RESOURCE_REMOVED",
                site.child(f"resource {name}"),
                site.removed,
                f"resource `{name}` was removed",
                old_span=ck.old.resolve.types[tid].span,
            )


def _renames(ck: Checker, old: ir.Interface, new: ir.Interface) -> list[tuple[str, str]]:
    """(old name, new name) of types that vanished and reappeared, identical, under a new name."""
    gone = {n: t for n, t in _plain_types(ck.old.resolve, old).items() if n not in new.types}
    fresh = {n: t for n, t in _plain_types(ck.new.resolve, new).items() if n not in old.types}
    pairs = []
    for old_name, old_id in gone.items():
        for new_name, new_id in fresh.items():
            same_kind = kind_word(ck.old.resolve.types[old_id].kind) == kind_word(
                ck.new.resolve.types[new_id].kind
            )
            if same_kind and ck.types.equal(old_id, new_id, shallow=False):
                pairs.append((old_name, new_name))
                del fresh[new_name]
                break
    return pairs


def _type_site(
    ck: Checker,
    site: Site,
    iface_old: ir.Interface | None,
    iface_new: ir.Interface | None,
    name: str,
) -> Site:
    old_id = iface_old.types.get(name) if iface_old is not None else None
    new_id = iface_new.types.get(name) if iface_new is not None else None
    child = site.child(
        f"type {name}",
        span=None if new_id is None else ck.new.resolve.types[new_id].span,
        old_span=None if old_id is None else ck.old.resolve.types[old_id].span,
        live_old=old_id is not None and ck.old.is_live(old_id, site.direction),
        live_new=new_id is not None and ck.new.is_live(new_id, site.direction),
    )
    return replace(child, old_span=None) if old_id is None else child


@rule("TYPE_ADDED", category="INTERFACE", target="interface", summary="a named type was added")
def type_added(ck: Checker, site: Site, old: ir.Interface, new: ir.Interface) -> None:
    renamed_to = {n for _, n in _renames(ck, old, new)}
    for name, tid in _plain_types(ck.new.resolve, new).items():
        if name in old.types or name in renamed_to:
            continue
        item_site = _type_site(ck, site, None, new, name)
        word = kind_word(ck.new.resolve.types[tid].kind)
        ck.report("TYPE_ADDED", item_site, item_site.added, f"{word} `{name}` was added")
        ck.added_item(item_site, ck.new.resolve.types[tid])


@rule("TYPE_REMOVED", category="INTERFACE", target="interface", summary="a named type was removed")
def type_removed(ck: Checker, site: Site, old: ir.Interface, new: ir.Interface) -> None:
    renamed_from = {o for o, _ in _renames(ck, old, new)}
    for name, tid in _plain_types(ck.old.resolve, old).items():
        if name in new.types or name in renamed_from:
            continue
        item_site = _type_site(ck, site, old, None, name)
        word = kind_word(ck.old.resolve.types[tid].kind)
        ck.report("TYPE_REMOVED", item_site, item_site.removed, f"{word} `{name}` was removed")


@rule(
    "TYPE_RENAMED",
    category="INTERFACE",
    target="interface",
    summary="a named type was renamed; its wire shape is unchanged but its name is an item",
)
def type_renamed(ck: Checker, site: Site, old: ir.Interface, new: ir.Interface) -> None:
    for old_name, new_name in _renames(ck, old, new):
        gone = _type_site(ck, site, old, None, old_name)
        fresh = _type_site(ck, site, None, new, new_name)
        ck.report(
            "TYPE_RENAMED",
            fresh,
            gone.removed | fresh.added,
            f"type `{old_name}` was renamed to `{new_name}`: values keep their wire format, but "
            "the interface no longer has an item of the old name",
            old_span=gone.old_span,
        )
