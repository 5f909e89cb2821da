"""Hypothesis strategies for component values, derived from wasmtime's own function types.

The strategies follow wasmtime-py's value conventions (records as `Record` objects with kebab
attributes, `bytes` for `list<u8>`, `set[str]` flags, `str` enums and chars, and `Variant`
only where wasmtime tags cases), so a drawn value can be passed to a call and compared with
what comes back.
"""

from __future__ import annotations

from typing import Any

import wasmtime.component as wc
from hypothesis import strategies as st

_INTS = {
    wc.U8: (0, 2**8 - 1),
    wc.U16: (0, 2**16 - 1),
    wc.U32: (0, 2**32 - 1),
    wc.U64: (0, 2**64 - 1),
    wc.S8: (-(2**7), 2**7 - 1),
    wc.S16: (-(2**15), 2**15 - 1),
    wc.S32: (-(2**31), 2**31 - 1),
    wc.S64: (-(2**63), 2**63 - 1),
}
_CHARS = st.characters(blacklist_categories=("Cs",))


def _record(names: list[str], values: tuple[Any, ...]) -> wc.Record:
    r = wc.Record()
    for n, v in zip(names, values):
        setattr(r, n, v)
    return r


def strategy(ty: Any, depth: int = 0) -> st.SearchStrategy[Any]:
    """Values of a wasmtime `ValType`."""
    size = 4 if depth < 2 else 2
    for cls, (lo, hi) in _INTS.items():
        if isinstance(ty, cls):
            return st.integers(lo, hi)
    if isinstance(ty, wc.Bool):
        return st.booleans()
    if isinstance(ty, wc.F32):
        return st.floats(width=32, allow_nan=False)
    if isinstance(ty, wc.F64):
        return st.floats(allow_nan=False)
    if isinstance(ty, wc.Char):
        return _CHARS
    if isinstance(ty, wc.String):
        return st.text(_CHARS, max_size=12)
    if isinstance(ty, wc.ListType):
        if isinstance(ty.element, wc.U8):
            return st.binary(max_size=24)
        return st.lists(strategy(ty.element, depth + 1), max_size=size)
    if isinstance(ty, wc.RecordType):
        names = [n for n, _ in ty.fields]
        parts = [strategy(t, depth + 1) for _, t in ty.fields]
        return st.tuples(*parts).map(lambda vs: _record(names, vs))
    if isinstance(ty, wc.TupleType):
        return st.tuples(*(strategy(t, depth + 1) for t in ty.elements))
    if isinstance(ty, wc.EnumType):
        return st.sampled_from(ty.names)
    if isinstance(ty, wc.FlagsType):
        return st.sets(st.sampled_from(ty.names))
    if isinstance(ty, (wc.VariantType, wc.OptionType, wc.ResultType)):
        tagged = ty._tagged()  # wasmtime's own rule for when it uses `Variant`
        options = []
        for name, payload in ty._cases():
            if payload is None:
                options.append(st.just(wc.Variant(name) if tagged else None))
            elif tagged:
                options.append(strategy(payload, depth + 1).map(lambda p, n=name: wc.Variant(n, p)))
            else:
                options.append(strategy(payload, depth + 1))
        return st.one_of(*options)
    raise TypeError(f"no strategy for {ty!r}")
