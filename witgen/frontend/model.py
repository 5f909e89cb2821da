"""Mutable arena nodes used while resolving; frozen into `witgen.ir` at the very end.

A type reference is a primitive's name (str) or an int index into the arena being built
(a package's own arena while it is resolved, the global one after it is merged).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from witgen import ir
from witgen.diagnostics import Span


class Unknown:
    """Placeholder kind for a type imported from a foreign package, filled in at merge."""

    def __repr__(self) -> str:
        return "Unknown"


UNKNOWN = Unknown()


@dataclass(slots=True)
class TypeDefM:
    name: str | None
    kind: Any  # an ir kind dataclass or UNKNOWN
    owner: tuple[str, int] | None
    docs: ir.Docs = ir.NO_DOCS
    stability: ir.Stability = ir.UNKNOWN_STABILITY
    span: Span | None = None
    external_id: str | None = None


@dataclass(slots=True)
class FunctionM:
    name: str
    kind: str
    resource: int | None
    params: list[tuple[str, Any, Span | None]]
    result: Any
    docs: ir.Docs
    stability: ir.Stability
    span: Span | None
    external_id: str | None = None


@dataclass(slots=True)
class InterfaceM:
    name: str | None
    types: dict[str, int] = field(default_factory=dict)
    functions: dict[str, FunctionM] = field(default_factory=dict)
    package: int | None = None
    docs: ir.Docs = ir.NO_DOCS
    stability: ir.Stability = ir.UNKNOWN_STABILITY
    span: Span | None = None
    clone_of: int | None = None


# World items: ("interface", id, stability) | ("function", FunctionM) | ("type", id)
WorldItemM = tuple[Any, ...]


@dataclass(slots=True)
class IncludeM:
    stability: ir.Stability
    world: int
    names: list[tuple[str, str]]
    span: Span


@dataclass(slots=True)
class WorldM:
    name: str
    # keys: ("name", str) | ("interface", id); values: WorldItemM
    imports: dict[tuple[str, Any], WorldItemM] = field(default_factory=dict)
    exports: dict[tuple[str, Any], WorldItemM] = field(default_factory=dict)
    import_spans: dict[tuple[str, Any], Span | None] = field(default_factory=dict)
    export_spans: dict[tuple[str, Any], Span | None] = field(default_factory=dict)
    package: int | None = None
    docs: ir.Docs = ir.NO_DOCS
    stability: ir.Stability = ir.UNKNOWN_STABILITY
    includes: list[IncludeM] = field(default_factory=list)
    span: Span | None = None


@dataclass(slots=True)
class PackageM:
    name: str
    docs: ir.Docs
    interfaces: dict[str, int] = field(default_factory=dict)
    worlds: dict[str, int] = field(default_factory=dict)
    span: Span | None = None


def map_kind(kind: Any, f: Any) -> Any:
    """Rebuild a type kind with every type reference passed through `f`."""

    def t(x: Any) -> Any:
        return f(x) if isinstance(x, int) else x

    def o(x: Any) -> Any:
        return None if x is None else t(x)

    if isinstance(kind, ir.Alias):
        return ir.Alias(t(kind.type))
    if isinstance(kind, ir.Record):
        return ir.Record(tuple(ir.Field(x.name, t(x.type), x.docs, x.span) for x in kind.fields))
    if isinstance(kind, ir.Variant):
        return ir.Variant(tuple(ir.Case(c.name, o(c.type), c.docs, c.span) for c in kind.cases))
    if isinstance(kind, ir.Tuple):
        return ir.Tuple(tuple(t(x) for x in kind.types))
    if isinstance(kind, ir.Option):
        return ir.Option(t(kind.type))
    if isinstance(kind, ir.Result):
        return ir.Result(o(kind.ok), o(kind.err))
    if isinstance(kind, ir.List):
        return ir.List(t(kind.type))
    if isinstance(kind, ir.FixedLengthList):
        return ir.FixedLengthList(t(kind.type), kind.length)
    if isinstance(kind, ir.Map):
        return ir.Map(t(kind.key), t(kind.value))
    if isinstance(kind, ir.Future):
        return ir.Future(o(kind.type))
    if isinstance(kind, ir.Stream):
        return ir.Stream(o(kind.type))
    if isinstance(kind, ir.Handle):
        return ir.Handle(kind.kind, f(kind.resource))
    return kind  # Resource, Flags, Enum, UNKNOWN


def kind_refs(kind: Any) -> list[Any]:
    """Every type reference directly inside a kind, in order."""
    if isinstance(kind, ir.Alias):
        return [kind.type]
    if isinstance(kind, ir.Record):
        return [x.type for x in kind.fields]
    if isinstance(kind, ir.Variant):
        return [c.type for c in kind.cases if c.type is not None]
    if isinstance(kind, ir.Tuple):
        return list(kind.types)
    if isinstance(kind, (ir.Option, ir.List, ir.FixedLengthList)):
        return [kind.type]
    if isinstance(kind, ir.Result):
        return [x for x in (kind.ok, kind.err) if x is not None]
    if isinstance(kind, ir.Map):
        return [kind.key, kind.value]
    if isinstance(kind, (ir.Future, ir.Stream)):
        return [] if kind.type is None else [kind.type]
    if isinstance(kind, ir.Handle):
        return [kind.resource]
    return []
