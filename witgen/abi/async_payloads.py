"""The numbering of a function's `future` and `stream` types in core import names.

A core module names the canonical built-ins of each future/stream type of a function by an
index: `[stream-new-0]read`, `[async-lower][future-write-1]read`... The index is wit-component's:
walk the parameters, then the result, depth first with children before the type that contains
them, list every `future`/`stream` occurrence, and give each type the position of its first
occurrence (so an index may be skipped: `f(a: stream<u32>, b: stream<u32>, c: future<u8>)`
numbers the future 2). Generators and the async host ask this module instead of re-deriving it;
tests/abi checks it against `wasm-tools component embed --dummy-names legacy`.
"""

from __future__ import annotations

from dataclasses import dataclass

from witgen import ir


@dataclass(frozen=True)
class Payload:
    """One future or stream type of a function: its index, whether a stream, its element."""

    index: int
    type_id: int
    is_stream: bool
    element: ir.Type | None


def occurrences(resolve: ir.Resolve, func: ir.Function) -> list[int]:
    """Every future/stream type id in the function's signature, in wit-component's order."""
    found: list[int] = []

    def walk(ty: ir.Type | None) -> None:
        if ty is None or isinstance(ty, str):
            return
        kind = resolve.types[ty].kind
        for child in ir.type_children(kind, handles=False):
            walk(child)
        if isinstance(kind, (ir.Future, ir.Stream)):
            found.append(ty)

    for param in func.params:
        walk(param.type)
    walk(func.result)
    return found


def payloads(resolve: ir.Resolve, func: ir.Function) -> list[Payload]:
    """The function's distinct future/stream types with their import-name indexes."""
    out: list[Payload] = []
    seen: set[int] = set()
    for position, type_id in enumerate(occurrences(resolve, func)):
        if type_id in seen:
            continue
        seen.add(type_id)
        kind = resolve.types[type_id].kind
        assert isinstance(kind, (ir.Future, ir.Stream))
        out.append(Payload(position, type_id, isinstance(kind, ir.Stream), kind.type))
    return out


def index_of(resolve: ir.Resolve, func: ir.Function, type_id: int) -> int:
    """The index of the future/stream type `type_id` in the names of `func`'s built-ins."""
    for payload in payloads(resolve, func):
        if payload.type_id == type_id:
            return payload.index
    raise KeyError(f"`{func.name}` has no future or stream type {type_id}")
