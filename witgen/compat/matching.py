"""How items of OLD and NEW are paired up when their names alone do not say it."""

from __future__ import annotations

from witgen import ir


def freestanding(iface: ir.Interface) -> dict[str, ir.Function]:
    return {n: f for n, f in iface.functions.items() if f.resource is None}


def resource_name(resolve: ir.Resolve, fn: ir.Function) -> str | None:
    return None if fn.resource is None else resolve.types[fn.resource].name


def methods(resolve: ir.Resolve, iface: ir.Interface) -> dict[tuple[str, str], ir.Function]:
    """Resource functions keyed by (resource, name as written): a method that became a static
    function is the same item with a new kind (FUNC_KIND_CHANGED), not a removal."""
    return {
        (str(resource_name(resolve, f)), f.item_name): f
        for f in iface.functions.values()
        if f.resource is not None
    }


def matching_functions(
    old_resolve: ir.Resolve, old: ir.Interface, new_resolve: ir.Resolve, new: ir.Interface
) -> list[tuple[ir.Function, ir.Function]]:
    """Pairs of functions that are the same item of OLD and NEW."""
    pairs = [(old.functions[n], f) for n, f in freestanding(new).items() if n in old.functions]
    before = methods(old_resolve, old)
    pairs += [(before[k], f) for k, f in methods(new_resolve, new).items() if k in before]
    return pairs
