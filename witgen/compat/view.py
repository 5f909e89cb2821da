"""A world as a component sees it: its imports and exports keyed the way they are matched.

Two facts of the component model shape this view (both confirmed against `wasm-tools
component semver-check`):

* Items are matched by name with package versions ignored, so `a:b/i@1.0.0` in OLD is the same
  import as `a:b/i@1.1.0` in NEW.
* A component imports from an interface only what it uses: its functions, its resources, and
  the types those reach ("live" types). A type of an imported interface that no function uses is
  not part of any component, so changing it breaks nobody. Exported interfaces, and types
  declared in the world itself, carry every type they declare.
"""

from __future__ import annotations

from dataclasses import dataclass
from witgen import ir
from witgen.diagnostics import Span

IMPORT = "import"
EXPORT = "export"


@dataclass(frozen=True)
class Entry:
    """One import or export of a world: an interface, a function or a type."""

    direction: str  # IMPORT | EXPORT
    key: str  # matching key: kebab name, or `ns:pkg/iface` without version
    display: str  # as written: kebab name or `ns:pkg/iface@version`
    item: ir.WorldItem
    span: Span | None

    @property
    def kind(self) -> str:
        if isinstance(self.item, ir.WorldInterface):
            return "interface"
        if isinstance(self.item, ir.WorldFunction):
            return "function"
        return "type"


def strip_version(name: str) -> str:
    """`ns:pkg/iface@1.2.3` -> `ns:pkg/iface` (versions never take part in matching)."""
    return name.split("@", 1)[0]


def reachable(
    resolve: ir.Resolve, roots: list[ir.Type | None], skip_owners: frozenset[int] = frozenset()
) -> set[int]:
    """Every type id reachable from `roots` (through aliases, fields, cases, handles...).

    Types owned by an interface in `skip_owners` are walked through but not returned.
    """
    seen: set[int] = set()
    stack = [t for t in roots if isinstance(t, int)]
    while stack:
        t = stack.pop()
        if t in seen:
            continue
        seen.add(t)
        stack.extend(
            c for c in ir.type_children(resolve.types[t].kind, handles=True) if isinstance(c, int)
        )

    def skipped(t: int) -> bool:
        owner = resolve.types[t].owner
        return owner is not None and owner.kind == "interface" and owner.id in skip_owners

    return {t for t in seen if not skipped(t)}


def function_types(fn: ir.Function) -> list[ir.Type | None]:
    return [p.type for p in fn.params] + [fn.result]


@dataclass
class WorldView:
    resolve: ir.Resolve
    world_id: int
    imports: dict[str, Entry]
    exports: dict[str, Entry]
    live: set[int]  # type ids that some component of this world actually mentions

    @property
    def world(self) -> ir.World:
        return self.resolve.worlds[self.world_id]

    @property
    def package(self) -> ir.Package | None:
        w = self.world
        return None if w.package is None else self.resolve.packages[w.package]

    @property
    def name(self) -> str:
        w = self.world
        if w.package is None:
            return w.name
        pkg = self.resolve.packages[w.package]
        base = f"{pkg.namespace}:{pkg.short_name}/{w.name}"
        return f"{base}@{pkg.version}" if pkg.version else base

    def is_live(self, type_id: int, direction: str) -> bool:
        """Whether a type of an import (or any export) is part of the component's type."""
        if direction == EXPORT:
            return True
        owner = self.resolve.types[type_id].owner
        if owner is not None and owner.kind == "world":
            return True  # world-level types are always imported
        if isinstance(self.resolve.types[type_id].kind, ir.Resource):
            return True  # resources of an imported interface always are, used or not
        return type_id in self.live

    def interface_has_live_items(self, iface: int) -> bool:
        it = self.resolve.interfaces[iface]
        if it.functions:
            return True
        return any(self.is_live(t, IMPORT) for t in it.types.values())


def build(resolve: ir.Resolve, world_id: int) -> WorldView:
    world = resolve.worlds[world_id]
    roots: dict[str, list[ir.Type | None]] = {IMPORT: [], EXPORT: []}
    entries: dict[str, dict[str, Entry]] = {IMPORT: {}, EXPORT: {}}
    for direction, items in ((IMPORT, world.imports), (EXPORT, world.exports)):
        for e in items:
            display = resolve.world_key_name(e.key)
            key = strip_version(display) if e.key.interface is not None else display
            entries[direction][key] = Entry(direction, key, display, e.item, e.span)
            if isinstance(e.item, ir.WorldInterface):
                iface = resolve.interfaces[e.item.id]
                for fn in iface.functions.values():
                    roots[direction].extend(function_types(fn))
                if direction == EXPORT:
                    roots[direction].extend(iface.types.values())
            elif isinstance(e.item, ir.WorldFunction):
                roots[direction].extend(function_types(e.item.function))
            else:
                roots[direction].append(e.item.id)
    # What the exports mention is imported only where it belongs to an imported interface: an
    # exported interface's own types are part of the export (even when the same interface is
    # also imported, for another import that uses it).
    exported = frozenset(e.item.id for e in world.exports if isinstance(e.item, ir.WorldInterface))
    live = reachable(resolve, roots[IMPORT]) | reachable(resolve, roots[EXPORT], exported)
    return WorldView(resolve, world_id, entries[IMPORT], entries[EXPORT], live)
