"""What every backend asks about types and worlds, computed once: the type facts (does a value
contain strings or lists, borrowed or owned handles, which resources...) and the world walk
(imports then exports, world functions and interfaces, functions in declaration order).

    facts = TypeFacts(resolve)
    info = facts.of(ty)            # TypeInfo, memoised per type
    info.pointers                  # a string, list or map somewhere inside: owns memory
    info.borrows, info.owns        # borrow<T> / own<T> handles inside
    info.needs_cleanup             # memory or own handles to free/drop if a call fails
    facts.find(ty, pred)           # the first type inside `ty` (itself included) where
                                   # pred(type, kind) holds: for a backend's own refusals

    for item in world_items(resolve, world):            # WorldItem, in world order
        item.direction, item.name, item.interface, item.functions
    for f in world_functions(resolve, world):           # WorldFunctionItem, in world order
        f.direction, f.interface_key, f.function

The walk follows a type's parts with `ir.type_children` (a handle is a leaf: it does not
contain its resource's values). It replaces the per-backend walks (`signature.has_pointers`,
`plan.pointer_sites`' containment test, the Rust and Go backends' own `contains` walks).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterator

from witgen import ir


@dataclass(frozen=True)
class TypeInfo:
    """Facts about the values of one type (what they contain, anywhere inside)."""

    strings: bool = False  # a string
    lists: bool = False  # a list<T> (not fixed-length)
    maps: bool = False  # a map<K, V>
    fixed_lists: bool = False  # a list<T, N>
    floats: bool = False  # an f32 or f64
    chars: bool = False
    borrows: bool = False  # a borrow<T> handle
    owns: bool = False  # an own<T> handle
    futures: bool = False  # a future<T> or stream<T>
    error_contexts: bool = False
    variants: bool = False  # a variant, option or result (a branch when lifting/lowering)
    flags: bool = False
    enums: bool = False
    resources: frozenset[int] = frozenset()  # resource type ids of the handles inside

    @property
    def pointers(self) -> bool:
        """The value owns linear memory (a string, list or map inside)."""
        return self.strings or self.lists or self.maps

    @property
    def handles(self) -> bool:
        return self.borrows or self.owns

    @property
    def needs_cleanup(self) -> bool:
        """Lowering it may leave memory to free or handles to drop when a call fails."""
        return self.pointers or self.owns

    def __or__(self, other: TypeInfo) -> TypeInfo:
        return TypeInfo(
            strings=self.strings or other.strings,
            lists=self.lists or other.lists,
            maps=self.maps or other.maps,
            fixed_lists=self.fixed_lists or other.fixed_lists,
            floats=self.floats or other.floats,
            chars=self.chars or other.chars,
            borrows=self.borrows or other.borrows,
            owns=self.owns or other.owns,
            futures=self.futures or other.futures,
            error_contexts=self.error_contexts or other.error_contexts,
            variants=self.variants or other.variants,
            flags=self.flags or other.flags,
            enums=self.enums or other.enums,
            resources=self.resources | other.resources,
        )


_NOTHING = TypeInfo()
_PRIMITIVE_INFO = {
    "string": TypeInfo(strings=True),
    "f32": TypeInfo(floats=True),
    "f64": TypeInfo(floats=True),
    "char": TypeInfo(chars=True),
    "error-context": TypeInfo(error_contexts=True),
}


class TypeFacts:
    """`TypeInfo` of every type of one Resolve, memoised."""

    def __init__(self, resolve: ir.Resolve):
        self.resolve = resolve
        self._cache: dict[int, TypeInfo] = {}

    def of(self, ty: ir.Type | None) -> TypeInfo:
        if ty is None:
            return _NOTHING
        if isinstance(ty, str):
            return _PRIMITIVE_INFO.get(ty, _NOTHING)
        cached = self._cache.get(ty)
        if cached is None:
            self._cache[ty] = _NOTHING  # WIT types are not recursive; this only guards loops
            cached = self._compute(ty)
            self._cache[ty] = cached
        return cached

    def of_function(self, func: ir.Function) -> TypeInfo:
        """Facts of all of a function's parameters and its result together."""
        info = self.of(func.result)
        for p in func.params:
            info = info | self.of(p.type)
        return info

    def _compute(self, ty: int) -> TypeInfo:
        kind = self.resolve.types[ty].kind
        own = _NOTHING
        if isinstance(kind, ir.List):
            own = TypeInfo(lists=True)
        elif isinstance(kind, ir.Map):
            own = TypeInfo(maps=True)
        elif isinstance(kind, ir.FixedLengthList):
            own = TypeInfo(fixed_lists=True)
        elif isinstance(kind, ir.Handle):
            resource = self.resolve.dealias(kind.resource)
            resources = frozenset({resource}) if isinstance(resource, int) else frozenset()
            if kind.kind == "borrow":
                own = TypeInfo(borrows=True, resources=resources)
            else:
                own = TypeInfo(owns=True, resources=resources)
        elif isinstance(kind, (ir.Future, ir.Stream)):
            own = TypeInfo(futures=True)
        elif isinstance(kind, (ir.Variant, ir.Option, ir.Result)):
            own = TypeInfo(variants=True)
        elif isinstance(kind, ir.Flags):
            own = TypeInfo(flags=True)
        elif isinstance(kind, ir.Enum):
            own = TypeInfo(enums=True)
        for child in ir.type_children(kind, handles=False):
            if child is not None:
                inner = self.of(child)
                if isinstance(kind, (ir.Future, ir.Stream)):
                    # the value is an i32 handle: its elements own no memory or handles of it
                    # (a `future<string>` result needs no post-return); only what the
                    # elements name is kept
                    inner = TypeInfo(
                        futures=inner.futures,
                        error_contexts=inner.error_contexts,
                        resources=inner.resources,
                    )
                own = own | inner
        return own

    def find(
        self, ty: ir.Type | None, pred: Callable[[ir.Type, "str | ir.TypeDefKind"], bool]
    ) -> ir.Type | None:
        """The first type inside `ty` (itself first, aliases followed) for which
        `pred(type, kind)` holds, where kind is the primitive's name or the definition's kind;
        None if there is none."""
        if ty is None:
            return None
        if isinstance(ty, str):
            return ty if pred(ty, ty) else None
        kind = self.resolve.types[ty].kind
        if pred(ty, kind):
            return ty
        for child in ir.type_children(kind, handles=False):
            hit = self.find(child, pred)
            if hit is not None:
                return hit
        return None


def has_pointers(resolve: ir.Resolve, ty: ir.Type | None) -> bool:
    """Whether a value of this type owns memory (a string, list or map somewhere inside)."""
    return TypeFacts(resolve).of(ty).pointers


# ---------------------------------------------------------------------------- the world walk


@dataclass(frozen=True)
class WorldItem:
    """One import or export of a world: an interface, a function or a type."""

    direction: str  # "import" | "export"
    name: str  # its name in the component ("ns:pkg/iface@1.0.0", "log", an inline key)
    entry: ir.WorldEntry
    interface: int | None  # the interface id, for an interface item
    functions: tuple[ir.Function, ...]  # the functions it brings, in declaration order


@dataclass(frozen=True)
class WorldFunctionItem:
    """One function a world imports or exports (world-level or in an interface)."""

    direction: str
    interface: int | None
    interface_key: str | None  # the item's name for an interface function, else None
    function: ir.Function


def world_items(resolve: ir.Resolve, world: int) -> Iterator[WorldItem]:
    """The world's imports, then its exports, in declaration order."""
    for direction, entry, name in resolve.world_interfaces(world):
        item = entry.item
        if isinstance(item, ir.WorldInterface):
            functions = tuple(resolve.interfaces[item.id].functions.values())
            yield WorldItem(direction, name, entry, item.id, functions)
        elif isinstance(item, ir.WorldFunction):
            yield WorldItem(direction, name, entry, None, (item.function,))
        else:
            yield WorldItem(direction, name, entry, None, ())


def world_functions(resolve: ir.Resolve, world: int) -> Iterator[WorldFunctionItem]:
    """Every function the world imports or exports, in `world_items` order."""
    for item in world_items(resolve, world):
        key = item.name if item.interface is not None else None
        for func in item.functions:
            yield WorldFunctionItem(item.direction, item.interface, key, func)


def exported_resources(resolve: ir.Resolve, world: int) -> frozenset[int]:
    """Resources the guest implements: those defined in the interfaces it exports (and
    world-level exported types). They are `local_resources` of the guest's streams."""
    out: set[int] = set()
    for item in world_items(resolve, world):
        if item.direction != "export":
            continue
        if item.interface is not None:
            tids = list(resolve.interfaces[item.interface].types.values())
        elif isinstance(item.entry.item, ir.WorldType):
            tids = [item.entry.item.id]
        else:
            tids = []
        for tid in tids:
            if isinstance(resolve.types[tid].kind, ir.Resource):
                out.add(tid)
    return frozenset(out)
