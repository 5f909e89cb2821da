"""Shared matching of ordered, named members: record fields, cases, flags and parameters.

Members match by name. When a position holds a name that is new on one side and gone on the
other, the member was renamed rather than removed and added; when the common names appear in
a different order, the members were reordered. Each rule reports one of these outcomes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, Sequence

from witgen import ir
from witgen.diagnostics import Span


class Member(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def span(self) -> Span | None: ...


@dataclass(frozen=True)
class MemberDiff:
    added: list[int]  # indexes into NEW
    removed: list[int]  # indexes into OLD
    renamed: list[int]  # positions present on both sides under different names
    common: list[tuple[int, int]]  # (OLD index, NEW index) of members with the same name
    reordered: bool


def diff(old: Sequence[Member], new: Sequence[Member]) -> MemberDiff:
    old_names = [m.name for m in old]
    new_names = [m.name for m in new]
    old_set, new_set = set(old_names), set(new_names)
    renamed = [
        i
        for i in range(min(len(old), len(new)))
        if old_names[i] not in new_set and new_names[i] not in old_set
    ]
    renamed_set = set(renamed)
    added = [i for i, n in enumerate(new_names) if n not in old_set and i not in renamed_set]
    removed = [i for i, n in enumerate(old_names) if n not in new_set and i not in renamed_set]
    common = [(old_names.index(n), i) for i, n in enumerate(new_names) if n in old_set]
    old_order = [n for n in old_names if n in new_set]
    new_order = [n for n in new_names if n in old_set]
    return MemberDiff(added, removed, renamed, common, old_order != new_order)


def members_of(kind: ir.TypeDefKind) -> Sequence[Member]:
    """The fields, cases or flags of a type definition (none for other kinds)."""
    if isinstance(kind, ir.Record):
        return kind.fields
    if isinstance(kind, ir.Variant):
        return kind.cases
    if isinstance(kind, ir.Enum):
        return kind.cases
    if isinstance(kind, ir.Flags):
        return kind.flags
    return ()


def rename_hint(noun: str, candidates: list[str]) -> str:
    """`; renamed to `x`? (...)` when items of the same shape were added (else empty)."""
    if not candidates:
        return ""
    names = " or ".join(f"`{c}`" for c in candidates)
    were = "were" if len(candidates) > 1 else "was"
    return (
        f"; renamed to {names}? ({names} {were} added with the same {noun}; a rename breaks "
        "like a removal)"
    )
