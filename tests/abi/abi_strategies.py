"""Hypothesis strategies for the ABI tests: random WIT types (as IR arenas) and their values,
plus an exact equality for values (NaN equals NaN, -0.0 differs from 0.0, True is not 1)."""

from __future__ import annotations

import math
from typing import Any

from hypothesis import strategies as st

from witgen import ir
from witgen.abi.values import Err, Ok, Some, VariantValue

SCALARS = ("bool", "u8", "u16", "u32", "u64", "s8", "s16", "s32", "s64", "f32", "f64", "char")
LEAVES = SCALARS + ("string",)
INT_RANGES = {
    "u8": (0, 2**8 - 1),
    "u16": (0, 2**16 - 1),
    "u32": (0, 2**32 - 1),
    "u64": (0, 2**64 - 1),
    "s8": (-(2**7), 2**7 - 1),
    "s16": (-(2**15), 2**15 - 1),
    "s32": (-(2**31), 2**31 - 1),
    "s64": (-(2**63), 2**63 - 1),
}
# Every character a WIT char/string may hold: no surrogates; astral planes included.
CHARS = st.characters(blacklist_categories=("Cs",))
TEXT = st.text(CHARS, max_size=12) | st.sampled_from(["", "ascii", "ÿé", "日本", "😀𝄞x"])


class Arena:
    """Builds TypeDefs into one Resolve."""

    def __init__(self) -> None:
        self.types: list[ir.TypeDef] = []

    def add(self, kind: ir.TypeDefKind) -> int:
        self.types.append(ir.TypeDef(None, kind, None))
        return len(self.types) - 1

    def resolve(self) -> ir.Resolve:
        return ir.Resolve((), (), (), tuple(self.types))


def _names(prefix: str, n: int) -> list[str]:
    return [f"{prefix}{i}-x" for i in range(n)]


def draw_type(data: Any, arena: Arena, depth: int = 3) -> ir.Type:
    """A random WIT type; compound kinds become rarer with depth."""
    kinds = ["leaf"] * 3
    if depth > 0:
        kinds += ["record", "tuple", "list", "variant", "enum", "flags", "option", "result"]
    kind = data.draw(st.sampled_from(kinds))
    if kind == "leaf":
        return data.draw(st.sampled_from(LEAVES))
    sub = depth - 1
    if kind == "record":
        n = data.draw(st.integers(1, 4))
        fields = tuple(ir.Field(name, draw_type(data, arena, sub)) for name in _names("f", n))
        return arena.add(ir.Record(fields))
    if kind == "tuple":
        n = data.draw(st.integers(1, 3))
        return arena.add(ir.Tuple(tuple(draw_type(data, arena, sub) for _ in range(n))))
    if kind == "list":
        return arena.add(ir.List(draw_type(data, arena, sub)))
    if kind == "variant":
        n = data.draw(st.integers(1, 4))
        cases = []
        for name in _names("c", n):
            has_payload = data.draw(st.booleans())
            cases.append(ir.Case(name, draw_type(data, arena, sub) if has_payload else None))
        return arena.add(ir.Variant(tuple(cases)))
    if kind == "enum":
        n = data.draw(st.sampled_from([1, 2, 3, 5, 256, 257]))
        return arena.add(ir.Enum(tuple(ir.EnumCase(name) for name in _names("e", n))))
    if kind == "flags":
        n = data.draw(st.sampled_from([1, 3, 8, 9, 16, 17, 31, 32]))
        return arena.add(ir.Flags(tuple(ir.Flag(name) for name in _names("g", n))))
    if kind == "option":
        return arena.add(ir.Option(draw_type(data, arena, sub)))
    ok = draw_type(data, arena, sub) if data.draw(st.booleans()) else None
    err = draw_type(data, arena, sub) if data.draw(st.booleans()) else None
    return arena.add(ir.Result(ok, err))


def values(resolve: ir.Resolve, ty: ir.Type) -> st.SearchStrategy[Any]:
    """Values of `ty` in witgen's value model."""
    t = resolve.dealias(ty)
    if isinstance(t, str):
        if t == "bool":
            return st.booleans()
        if t in INT_RANGES:
            lo, hi = INT_RANGES[t]
            return st.integers(lo, hi) | st.sampled_from([lo, hi, 0, hi // 2 + 1])
        if t == "f32":
            return st.floats(width=32)
        if t == "f64":
            return st.floats()
        if t == "char":
            return CHARS
        return TEXT
    kind = resolve.types[t].kind
    if isinstance(kind, ir.Record):
        return st.fixed_dictionaries({f.name: values(resolve, f.type) for f in kind.fields})
    if isinstance(kind, ir.Tuple):
        return st.tuples(*(values(resolve, e) for e in kind.types))
    if isinstance(kind, ir.List):
        if resolve.dealias(kind.type) == "u8":
            return st.binary(max_size=16)
        return st.lists(values(resolve, kind.type), max_size=3)
    if isinstance(kind, ir.Variant):
        return st.one_of(
            *(
                (
                    st.just(VariantValue(c.name))
                    if c.type is None
                    else values(resolve, c.type).map(lambda v, n=c.name: VariantValue(n, v))
                )
                for c in kind.cases
            )
        )
    if isinstance(kind, ir.Enum):
        return st.sampled_from([c.name for c in kind.cases])
    if isinstance(kind, ir.Flags):
        return st.frozensets(st.sampled_from([f.name for f in kind.flags]))
    if isinstance(kind, ir.Option):
        return st.none() | values(resolve, kind.type).map(Some)
    if isinstance(kind, ir.Result):
        ok = st.just(Ok()) if kind.ok is None else values(resolve, kind.ok).map(Ok)
        err = st.just(Err()) if kind.err is None else values(resolve, kind.err).map(Err)
        return ok | err
    raise AssertionError(f"no strategy for {kind!r}")


def same(a: Any, b: Any) -> bool:
    """Exact equality of two values of our model."""
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        if math.isnan(a):
            return math.isnan(b)
        return a == b and math.copysign(1.0, a) == math.copysign(1.0, b)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, (Some, Ok, Err)):
        return same(a.value, b.value)
    if isinstance(a, VariantValue):
        return a.case == b.case and same(a.payload, b.payload)
    return bool(a == b)


# Pairs of payload types whose flat types join to something else than either alone.
JOIN_PAIRS = (
    ("u32", "u64"),
    ("s32", "s64"),
    ("f32", "u32"),
    ("f32", "u64"),
    ("f64", "u64"),
    ("f32", "f64"),
    ("char", "f64"),
    ("bool", "f32"),
    ("u8", "s64"),
    ("f32", "s16"),
)


def draw_joined_variant(data: Any, arena: Arena) -> ir.Type:
    """A variant whose cases' flat payloads differ position by position, so that lowering and
    lifting must join and coerce them (i32/f32 -> i32, i32/i64 -> i64, f32/i64, f64/i64...)."""
    first, second = data.draw(st.sampled_from(JOIN_PAIRS))
    if data.draw(st.booleans()):
        first, second = second, first
    payloads: list[ir.Type | None] = [first, second]
    if data.draw(st.booleans()):  # the same conflict one position further right
        a, b = (data.draw(st.sampled_from(SCALARS)) for _ in range(2))
        payloads = [arena.add(ir.Tuple((a, first))), arena.add(ir.Tuple((b, second)))]
    for _ in range(data.draw(st.integers(0, 2))):
        extra = data.draw(st.sampled_from(SCALARS + ("string",)))
        payloads.append(None if data.draw(st.booleans()) else extra)
    order = data.draw(st.permutations(range(len(payloads))))
    names = _names("j", len(payloads))
    return arena.add(ir.Variant(tuple(ir.Case(names[i], payloads[j]) for i, j in enumerate(order))))


def draw_wide_record(data: Any, arena: Arena) -> ir.Type:
    """A record of 6-12 fields: two or three of them exceed MAX_FLAT_PARAMS (16)."""
    n = data.draw(st.integers(6, 12))
    fields = tuple(ir.Field(name, data.draw(st.sampled_from(LEAVES))) for name in _names("w", n))
    return arena.add(ir.Record(fields))
