"""Converting between our WIT value model (`witgen.abi.values`) and wasmtime-py's.

wasmtime-py 50 (`wasmtime.component`) represents records as `Record` objects with kebab-case
attributes, tuples as tuples, `list<u8>` as bytes, flags as `set[str]`, enums as str, and
variants, options and results *untagged* when the Python classes of their cases do not
overlap (an `option<u32>` is `None` or an int; a `result<u32, string>` is an int or a str) and
as `Variant(tag, payload)` otherwise. The decision is made per type, so this module mirrors
wasmtime-py's rule (`add_classes` / `_tagged`) on our IR, never guessing from the value.

wasmtime-py picks the case of an untagged value by `isinstance` in case order, which cannot
tell `True` from `1`, and treats a nested untagged option as matching anything; values that
wasmtime-py would lower as a different case raise `Unrepresentable`.
"""

from __future__ import annotations

from typing import Any

from witgen import ir
from witgen.abi.values import Err, Ok, Some, VariantValue

_INTS = {"u8", "u16", "u32", "u64", "s8", "s16", "s32", "s64"}


class Unrepresentable(ValueError):
    """wasmtime-py cannot lower this value as the intended case (see the module doc)."""


def _wasmtime() -> Any:
    import wasmtime.component as wc

    return wc


class WasmtimeValues:
    """Converters for the types of one Resolve."""

    def __init__(self, resolve: ir.Resolve):
        self.resolve = resolve
        self._classes: dict[ir.Type, frozenset[type]] = {}

    # -- wasmtime-py's classification --

    def _cases(self, ty: ir.Type) -> list[tuple[str, ir.Type | None]] | None:
        ty = self.resolve.dealias(ty)
        if not isinstance(ty, int):
            return None
        kind = self.resolve.types[ty].kind
        if isinstance(kind, ir.Variant):
            return [(c.name, c.type) for c in kind.cases]
        if isinstance(kind, ir.Option):
            return [("none", None), ("some", kind.type)]
        if isinstance(kind, ir.Result):
            return [("ok", kind.ok), ("err", kind.err)]
        return None

    def classes(self, ty: ir.Type) -> frozenset[type]:
        """The Python classes wasmtime-py uses for values of `ty` (`add_classes`)."""
        cached = self._classes.get(ty)
        if cached is not None:
            return cached
        wc = _wasmtime()
        t = self.resolve.dealias(ty)
        out: frozenset[type]
        if isinstance(t, str):
            if t == "bool":
                out = frozenset({bool})
            elif t in _INTS:
                out = frozenset({int})
            elif t in ("f32", "f64"):
                out = frozenset({float})
            else:
                out = frozenset({str})
        else:
            kind = self.resolve.types[t].kind
            cases = self._cases(t)
            if cases is not None:
                if self.tagged(t):
                    out = frozenset({wc.Variant})
                else:
                    acc: set[type] = set()
                    for _, ct in cases:
                        acc |= {object} if ct is None else self.classes(ct)
                    out = frozenset(acc)
            elif isinstance(kind, ir.Enum):
                out = frozenset({str})
            elif isinstance(kind, ir.Record):
                out = frozenset({wc.Record})
            elif isinstance(kind, ir.Tuple):
                out = frozenset({tuple})
            elif isinstance(kind, ir.Flags):
                out = frozenset({set})
            elif isinstance(kind, ir.List):
                is_bytes = self.resolve.dealias(kind.type) == "u8"
                out = frozenset({bytes}) if is_bytes else frozenset({list})
            else:
                out = frozenset({int})
        self._classes[ty] = out
        return out

    def tagged(self, ty: ir.Type) -> bool:
        """Whether wasmtime-py represents this variant-like type as `Variant` objects."""
        cases = self._cases(ty)
        assert cases is not None
        seen: set[type] = set()
        for _, ct in cases:
            case = {object} if ct is None else set(self.classes(ct))
            if case & seen:
                return True
            seen |= case
        return False

    # -- our model -> wasmtime-py --

    def to_wasmtime(self, value: Any, ty: ir.Type) -> Any:
        wc = _wasmtime()
        t = self.resolve.dealias(ty)
        if isinstance(t, str):
            return value
        kind = self.resolve.types[t].kind
        cases = self._cases(t)
        if cases is not None:
            index, payload = self._our_case(value, kind, cases)
            name, ct = cases[index]
            wpayload = None if ct is None else self.to_wasmtime(payload, ct)
            if self.tagged(t):
                return wc.Variant(name, wpayload) if ct is not None else wc.Variant(name)
            picked = self._wasmtime_pick(cases, wpayload)
            if picked != index:
                raise Unrepresentable(
                    f"wasmtime-py would lower {wpayload!r} as case {cases[picked][0]!r}, "
                    f"not {name!r}"
                )
            return wpayload
        if isinstance(kind, ir.Record):
            rec = wc.Record()
            for f in kind.fields:
                setattr(rec, f.name, self.to_wasmtime(value[f.name], f.type))
            return rec
        if isinstance(kind, ir.Tuple):
            return tuple(self.to_wasmtime(v, et) for v, et in zip(value, kind.types))
        if isinstance(kind, ir.List):
            if self.resolve.dealias(kind.type) == "u8":
                return bytes(value)
            return [self.to_wasmtime(v, kind.type) for v in value]
        if isinstance(kind, ir.Flags):
            return set(value)
        return value  # enums (str), handles (int)

    def _our_case(
        self, value: Any, kind: ir.TypeDefKind, cases: list[tuple[str, ir.Type | None]]
    ) -> tuple[int, Any]:
        if isinstance(kind, ir.Option):
            return (0, None) if value is None else (1, value.value)
        if isinstance(kind, ir.Result):
            return (0, value.value) if isinstance(value, Ok) else (1, value.value)
        names = [n for n, _ in cases]
        return names.index(value.case), value.payload

    def _wasmtime_pick(self, cases: list[tuple[str, ir.Type | None]], wvalue: Any) -> int:
        """The case wasmtime-py's untagged lowering chooses for `wvalue` (`_lower`)."""
        for i, (_, ct) in enumerate(cases):
            if ct is None:
                if wvalue is None:
                    return i
                continue
            if isinstance(wvalue, tuple(self.classes(ct))):
                return i
        raise Unrepresentable(f"no case of the variant accepts {wvalue!r}")

    # -- wasmtime-py -> our model --

    def from_wasmtime(self, wvalue: Any, ty: ir.Type) -> Any:
        wc = _wasmtime()
        t = self.resolve.dealias(ty)
        if isinstance(t, str):
            return wvalue
        kind = self.resolve.types[t].kind
        cases = self._cases(t)
        if cases is not None:
            if self.tagged(t):
                names = [n for n, _ in cases]
                index = names.index(wvalue.tag)
                wpayload = wvalue.payload
            else:
                index = self._untagged_case(cases, wvalue)
                wpayload = wvalue
            ct = cases[index][1]
            payload = None if ct is None else self.from_wasmtime(wpayload, ct)
            if isinstance(kind, ir.Option):
                return None if index == 0 else Some(payload)
            if isinstance(kind, ir.Result):
                return Ok(payload) if index == 0 else Err(payload)
            return VariantValue(cases[index][0], payload)
        if isinstance(kind, ir.Record):
            return {
                f.name: self.from_wasmtime(getattr(wvalue, f.name), f.type) for f in kind.fields
            }
        if isinstance(kind, ir.Tuple):
            return tuple(self.from_wasmtime(v, et) for v, et in zip(wvalue, kind.types))
        if isinstance(kind, ir.List):
            if self.resolve.dealias(kind.type) == "u8":
                return bytes(wvalue)
            return [self.from_wasmtime(v, kind.type) for v in wvalue]
        if isinstance(kind, ir.Flags):
            return frozenset(wvalue)
        if isinstance(kind, ir.Record):
            raise AssertionError("unreachable")
        _ = wc
        return wvalue

    def _untagged_case(self, cases: list[tuple[str, ir.Type | None]], wvalue: Any) -> int:
        # Untagged means the cases' class sets are disjoint: the exact class decides, and a
        # value of no listed class (None) belongs to the case that admits `object`.
        fallback = None
        for i, (_, ct) in enumerate(cases):
            classes = {object} if ct is None else self.classes(ct)
            if type(wvalue) in classes:
                return i
            if object in classes:
                fallback = i
        if fallback is None:
            raise ValueError(f"wasmtime-py value {wvalue!r} matches no case")
        return fallback
