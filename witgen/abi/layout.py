"""Canonical-ABI layout: size, alignment and flat core types of every WIT type.

Computed once per type from the IR and cached; every backend asks here instead of re-deriving.
The rules are those of the Component Model's `design/mvp/CanonicalABI.md` (`alignment`,
`elem_size`, `flatten_type`, `discriminant_type`, `join`).
"""

from __future__ import annotations

from dataclasses import dataclass

from witgen import ir
from witgen.abi.analysis import TypeFacts

MAX_FLAT_PARAMS = 16
MAX_FLAT_RESULTS = 1
MAX_FLAT_ASYNC_PARAMS = 4

# primitive -> (size, alignment, flat core types)
_PRIMITIVES: dict[str, tuple[int, int, tuple[str, ...]]] = {
    "bool": (1, 1, ("i32",)),
    "u8": (1, 1, ("i32",)),
    "s8": (1, 1, ("i32",)),
    "u16": (2, 2, ("i32",)),
    "s16": (2, 2, ("i32",)),
    "u32": (4, 4, ("i32",)),
    "s32": (4, 4, ("i32",)),
    "char": (4, 4, ("i32",)),
    "f32": (4, 4, ("f32",)),
    "u64": (8, 8, ("i64",)),
    "s64": (8, 8, ("i64",)),
    "f64": (8, 8, ("f64",)),
    "string": (8, 4, ("i32", "i32")),
    "error-context": (4, 4, ("i32",)),
}


# integer primitive -> the range of its values (lowering anything outside is an error)
INT_RANGES: dict[str, tuple[int, int]] = {
    "u8": (0, 2**8 - 1),
    "s8": (-(2**7), 2**7 - 1),
    "u16": (0, 2**16 - 1),
    "s16": (-(2**15), 2**15 - 1),
    "u32": (0, 2**32 - 1),
    "s32": (-(2**31), 2**31 - 1),
    "u64": (0, 2**64 - 1),
    "s64": (-(2**63), 2**63 - 1),
}


def align_to(offset: int, alignment: int) -> int:
    return (offset + alignment - 1) // alignment * alignment


def discriminant_size(case_count: int) -> int:
    """Bytes of a variant/enum discriminant: the smallest of u8/u16/u32 holding case_count-1."""
    if case_count <= 0x100:
        return 1
    if case_count <= 0x10000:
        return 2
    return 4


def flags_word_count(flag_count: int) -> int:
    """How many i32 flat values (and, above 16 flags, 4-byte words in memory) flags take."""
    return (flag_count + 31) // 32


def join(a: str, b: str) -> str:
    """The flat type that can hold a value of either core type (variant payload joining)."""
    if a == b:
        return a
    if {a, b} == {"i32", "f32"}:
        return "i32"
    return "i64"


@dataclass(frozen=True)
class TypeLayout:
    size: int
    align: int
    flat: tuple[str, ...]


@dataclass(frozen=True)
class CaseShape:
    """A despecialised variant: what option/result/enum/variant all become."""

    discriminant_size: int
    payloads: tuple[ir.Type | None, ...]  # one per case, in case order


class Layouts:
    """Sizes, alignments and flat types for every type of one Resolve (memoised)."""

    def __init__(self, resolve: ir.Resolve):
        self.resolve = resolve
        self._cache: dict[ir.Type, TypeLayout] = {}
        self.facts = TypeFacts(resolve)  # what values of each type contain (shared, memoised)

    # -- public queries --

    def of(self, ty: ir.Type) -> TypeLayout:
        cached = self._cache.get(ty)
        if cached is None:
            cached = self._compute(ty)
            self._cache[ty] = cached
        return cached

    def size(self, ty: ir.Type) -> int:
        return self.of(ty).size

    def align(self, ty: ir.Type) -> int:
        return self.of(ty).align

    def flat(self, ty: ir.Type) -> tuple[str, ...]:
        return self.of(ty).flat

    def field_offsets(self, types: tuple[ir.Type, ...] | list[ir.Type]) -> tuple[int, ...]:
        """Offsets of consecutive fields (a record's fields or a tuple's elements)."""
        offsets = []
        offset = 0
        for t in types:
            offset = align_to(offset, self.align(t))
            offsets.append(offset)
            offset += self.size(t)
        return tuple(offsets)

    def case_shape(self, ty: ir.Type) -> CaseShape | None:
        """The despecialised variant shape of an option/result/enum/variant, else None."""
        ty = self.resolve.dealias(ty)
        if not isinstance(ty, int):
            return None
        kind = self.resolve.types[ty].kind
        if isinstance(kind, ir.Variant):
            payloads = tuple(c.type for c in kind.cases)
        elif isinstance(kind, ir.Enum):
            payloads = tuple(None for _ in kind.cases)
        elif isinstance(kind, ir.Option):
            payloads = (None, kind.type)
        elif isinstance(kind, ir.Result):
            payloads = (kind.ok, kind.err)
        else:
            return None
        return CaseShape(discriminant_size(len(payloads)), payloads)

    def payload_offset(self, ty: ir.Type) -> int:
        """Offset of the payload in a variant-like value's memory form."""
        shape = self.case_shape(ty)
        assert shape is not None, "payload_offset of a non-variant type"
        return align_to(shape.discriminant_size, self._max_case_align(shape))

    # -- computation --

    def _max_case_align(self, shape: CaseShape) -> int:
        return max([1] + [self.align(p) for p in shape.payloads if p is not None])

    def _record_like(self, types: tuple[ir.Type, ...]) -> TypeLayout:
        align = max([1] + [self.align(t) for t in types])
        size = 0
        flat: list[str] = []
        for t in types:
            size = align_to(size, self.align(t)) + self.size(t)
            flat.extend(self.flat(t))
        return TypeLayout(align_to(size, align), align, tuple(flat))

    def _variant_like(self, shape: CaseShape) -> TypeLayout:
        disc = shape.discriminant_size
        case_align = self._max_case_align(shape)
        align = max(disc, case_align)
        max_case_size = max([0] + [self.size(p) for p in shape.payloads if p is not None])
        size = align_to(align_to(disc, case_align) + max_case_size, align)
        joined: list[str] = []
        for p in shape.payloads:
            if p is None:
                continue
            for i, ft in enumerate(self.flat(p)):
                if i < len(joined):
                    joined[i] = join(joined[i], ft)
                else:
                    joined.append(ft)
        return TypeLayout(size, align, ("i32", *joined))

    def _compute(self, ty: ir.Type) -> TypeLayout:
        if isinstance(ty, str):
            size, align, flat = _PRIMITIVES[ty]
            return TypeLayout(size, align, flat)
        kind = self.resolve.types[ty].kind
        if isinstance(kind, ir.Alias):
            return self.of(kind.type)
        if isinstance(kind, ir.Record):
            return self._record_like(tuple(f.type for f in kind.fields))
        if isinstance(kind, ir.Tuple):
            return self._record_like(kind.types)
        if isinstance(kind, (ir.List, ir.Map)):
            return TypeLayout(8, 4, ("i32", "i32"))
        if isinstance(kind, ir.FixedLengthList):
            elem = self.of(kind.type)
            return TypeLayout(elem.size * kind.length, elem.align, elem.flat * kind.length)
        if isinstance(kind, ir.Flags):
            n = len(kind.flags)
            if n <= 8:
                return TypeLayout(1, 1, ("i32",))
            if n <= 16:
                return TypeLayout(2, 2, ("i32",))
            words = flags_word_count(n)
            return TypeLayout(4 * words, 4, ("i32",) * words)
        if isinstance(kind, (ir.Handle, ir.Future, ir.Stream)):
            return TypeLayout(4, 4, ("i32",))
        if isinstance(kind, ir.Resource):
            raise ValueError("a resource type has no value layout; use own<T> or borrow<T>")
        shape = self.case_shape(ty)
        if shape is not None:
            return self._variant_like(shape)
        raise TypeError(f"no layout for {kind!r}")
