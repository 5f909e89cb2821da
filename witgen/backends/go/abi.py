"""Go statements that move WIT values across the canonical ABI (lift and lower).

The Go backend asks this module for the body of every `//go:wasmimport` / `//go:wasmexport`
wrapper: how to turn flat core values or linear memory into Go values (lift) and back (lower).
Sizes, alignments, offsets and flat types all come from `witgen.abi.Layouts`; this module only
spells them in Go.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable, Protocol

from witgen import ir
from witgen.abi import Layouts
from witgen.diagnostics import WitgenError

# Go type of each core wasm value type in a wasmimport/wasmexport signature.
CORE_GO = {"i32": "uint32", "i64": "uint64", "f32": "float32", "f64": "float64"}

# WIT primitives and their Go types.
PRIMITIVE_GO = {
    "bool": "bool",
    "u8": "uint8",
    "s8": "int8",
    "u16": "uint16",
    "s16": "int16",
    "u32": "uint32",
    "s32": "int32",
    "u64": "uint64",
    "s64": "int64",
    "f32": "float32",
    "f64": "float64",
    "char": "rune",
    "string": "string",
}

# Primitives whose Go memory layout is their canonical-ABI layout: lists of them are copied
# (or handed to the host) as one block.
SAME_LAYOUT = frozenset(["u8", "s8", "u16", "s16", "u32", "s32", "u64", "s64", "f32", "f64"])

# Go integer type of a discriminant of each size.
DISCRIMINANT_GO = {1: "uint8", 2: "uint16", 4: "uint32"}

_SIMPLE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class ResourceSpelling:
    """How generated code reaches one resource's handles."""

    exported: bool  # implemented by this component (Go interface + table)
    table: str = ""  # exported: the witrt.Table variable, qualified for the current package
    new_fn: str = ""  # exported: the `[resource-new]` import wrapper
    rep_fn: str = ""  # exported: the `[resource-rep]` import wrapper
    from_handle: str = ""  # imported: the function making a Go value from a handle


class TypeNamer(Protocol):
    """What the ABI code needs from the backend: Go spellings in the current package."""

    def go_type(self, ty: ir.Type) -> str: ...

    def resource(self, handle: ir.Handle) -> ResourceSpelling: ...

    def field_name(self, name: str) -> str: ...

    def variant_spelling(self, ty: int, case: int) -> tuple[str, str | None]: ...

    def ref(self, package: str, name: str) -> str:
        """`package.name` (`witrt`, `unsafe`, `math`), recorded as imported by the package."""
        ...

    def calls(self, ident: str) -> str:
        """`ident`, a package-level function, recorded as called by generated code."""
        ...


class Body:
    """Lines of one Go function body, with indentation and fresh temporaries."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.depth = 1
        self.counter = 0

    def tmp(self) -> str:
        self.counter += 1
        return f"tmp{self.counter}"

    def line(self, text: str) -> None:
        self.lines.append("\t" * self.depth + text)

    def open(self, text: str) -> None:
        self.line(text)
        self.depth += 1

    def middle(self, text: str) -> None:
        self.depth -= 1
        self.line(text)
        self.depth += 1

    def close(self) -> None:
        self.depth -= 1
        self.line("}")

    def bind(self, expr: str) -> str:
        """A name for `expr`, so that it is evaluated once."""
        if _SIMPLE.match(expr):
            return expr
        name = self.tmp()
        self.line(f"{name} := {expr}")
        return name


def _from_joined(ref: Callable[[str, str], str], value: str, joined: str, flat: str) -> str:
    """A variant payload's flat value read back from the joined slot type."""
    if joined == flat:
        return value
    if joined == "i32" and flat == "f32":
        return f"{ref('math', 'Float32frombits')}({value})"
    if joined == "i64" and flat == "i32":
        return f"uint32({value})"
    if joined == "i64" and flat == "f32":
        return f"{ref('math', 'Float32frombits')}(uint32({value}))"
    if joined == "i64" and flat == "f64":
        return f"{ref('math', 'Float64frombits')}({value})"
    raise AssertionError(f"cannot join {flat} into {joined}")


def _to_joined(ref: Callable[[str, str], str], value: str, flat: str, joined: str) -> str:
    """A variant payload's flat value widened or reinterpreted into the joined slot type."""
    if joined == flat:
        return value
    if joined == "i32" and flat == "f32":
        return f"{ref('math', 'Float32bits')}({value})"
    if joined == "i64" and flat == "i32":
        return f"uint64({value})"
    if joined == "i64" and flat == "f32":
        return f"uint64({ref('math', 'Float32bits')}({value}))"
    if joined == "i64" and flat == "f64":
        return f"{ref('math', 'Float64bits')}({value})"
    raise AssertionError(f"cannot join {flat} into {joined}")


class GoAbi:
    """Lift/lower code generation for one Go package (names come from `namer`)."""

    def __init__(self, layouts: Layouts, namer: TypeNamer):
        self.layouts = layouts
        self.resolve = layouts.resolve
        self.namer = namer

    # -- helpers --

    def _rt(self, name: str) -> str:
        return self.namer.ref("witrt", name)

    def at(self, ptr: str, offset: int | str) -> str:
        """`ptr` advanced by `offset` bytes."""
        return f"{self.namer.ref('unsafe', 'Add')}({ptr}, {offset})" if offset else ptr

    def _kind(self, ty: ir.Type) -> str | ir.TypeDefKind:
        ty = self.resolve.dealias(ty)
        if isinstance(ty, str):
            return ty
        return self.resolve.types[ty].kind

    def _shape_kind(self, ty: ir.Type) -> tuple[int, ir.TypeDefKind]:
        real = self.resolve.dealias(ty)
        assert isinstance(real, int)
        return real, self.resolve.types[real].kind

    def _payloads(self, ty: ir.Type) -> tuple[ir.Type | None, ...]:
        shape = self.layouts.case_shape(ty)
        assert shape is not None
        return shape.payloads

    def _construct(self, ty: ir.Type, case: int, payload: str | None) -> str:
        real, kind = self._shape_kind(ty)
        go = self.namer.go_type
        if isinstance(kind, ir.Option):
            inner = go(kind.type)
            if case == 1:
                return f"{self._rt('Some')}[{inner}]({payload})"
            return f"{self._rt('None')}[{inner}]()"
        if isinstance(kind, ir.Result):
            ok = go(kind.ok) if kind.ok is not None else self._rt("Unit")
            err = go(kind.err) if kind.err is not None else self._rt("Unit")
            value = payload if payload is not None else self._rt("Unit") + "{}"
            return f"{self._rt('Err' if case else 'Ok')}[{ok}, {err}]({value})"
        assert isinstance(kind, ir.Variant)
        tag, field = self.namer.variant_spelling(real, case)
        if payload is None:
            return f"{go(ty)}{{Tag: {tag}}}"
        return f"{go(ty)}{{Tag: {tag}, {field}: {payload}}}"

    def _branch(
        self, b: Body, x: str, ty: ir.Type, emit: Callable[[int, str | None], None]
    ) -> None:
        """Run `emit(case, payload expression)` under the condition that `x` holds that case."""
        real, kind = self._shape_kind(ty)
        if isinstance(kind, ir.Option):
            b.open(f"if {x}.IsSome() {{")
            emit(1, f"{x}.Value()")
            b.middle("} else {")
            emit(0, None)
            b.close()
        elif isinstance(kind, ir.Result):
            b.open(f"if {x}.IsErr() {{")
            emit(1, f"{x}.ErrValue()" if kind.err is not None else None)
            b.middle("} else {")
            emit(0, f"{x}.OkValue()" if kind.ok is not None else None)
            b.close()
        else:
            assert isinstance(kind, ir.Variant)
            b.open(f"switch {x}.Tag {{")
            for i, case in enumerate(kind.cases):
                tag, field = self.namer.variant_spelling(real, i)
                b.middle(f"case {tag}:")
                emit(i, f"{x}.{field}" if case.type is not None else None)
            b.close()

    def _record_fields(self, ty: ir.Type) -> list[tuple[str, ir.Type]]:
        kind = self._kind(ty)
        if isinstance(kind, ir.Record):
            return [(self.namer.field_name(f.name), f.type) for f in kind.fields]
        assert isinstance(kind, ir.Tuple)
        return [(f"F{i}", t) for i, t in enumerate(kind.types)]

    # -- flat values -> Go --

    def lift_flat(self, b: Body, ty: ir.Type, vals: list[str]) -> str:
        kind = self._kind(ty)
        go = self.namer.go_type
        if isinstance(kind, str):
            v, *rest = vals
            if kind == "bool":
                return f"{v} != 0"
            if kind == "string":
                return f"{self._rt('LiftString')}({v}, {rest[0]})"
            if kind in ("f32", "f64", "u32", "u64"):
                return v
            return f"{PRIMITIVE_GO[kind]}({v})"
        if isinstance(kind, (ir.Record, ir.Tuple)):
            parts = []
            for name, ft in self._record_fields(ty):
                n = len(self.layouts.flat(ft))
                parts.append(f"{name}: {self.lift_flat(b, ft, vals[:n])}")
                vals = vals[n:]
            return f"{go(ty)}{{{', '.join(parts)}}}"
        if isinstance(kind, ir.Flags):
            if len(vals) == 1:
                return f"{go(ty)}({vals[0]})"
            return f"{go(ty)}(uint64({vals[0]}) | uint64({vals[1]})<<32)"
        if isinstance(kind, ir.Enum):
            return f"{go(ty)}({vals[0]})"
        if isinstance(kind, (ir.Option, ir.Result, ir.Variant)):
            return self._lift_cases_flat(b, ty, vals)
        if isinstance(kind, ir.List):
            return self._lift_list(b, kind.type, vals[0], vals[1])
        if isinstance(kind, ir.Map):
            return self._lift_map(b, ty, kind, vals[0], vals[1])
        if isinstance(kind, ir.FixedLengthList):
            n = len(self.layouts.flat(kind.type))
            items = [
                self.lift_flat(b, kind.type, vals[i * n : (i + 1) * n]) for i in range(kind.length)
            ]
            return f"{go(ty)}{{{', '.join(items)}}}"
        if isinstance(kind, ir.Handle):
            return self._lift_handle(kind, vals[0])
        raise WitgenError(f"the Go backend cannot lift {kind!r}")

    def _lift_cases_flat(self, b: Body, ty: ir.Type, vals: list[str]) -> str:
        joined = self.layouts.flat(ty)[1:]
        result = b.tmp()
        b.line(f"var {result} {self.namer.go_type(ty)}")
        b.open(f"switch {vals[0]} {{")
        for i, payload in enumerate(self._payloads(ty)):
            b.middle(f"case {i}:")
            value = None
            if payload is not None:
                pflat = self.layouts.flat(payload)
                conv = [
                    _from_joined(self.namer.ref, vals[1 + k], joined[k], ft)
                    for k, ft in enumerate(pflat)
                ]
                value = self.lift_flat(b, payload, conv)
            b.line(f"{result} = {self._construct(ty, i, value)}")
        b.middle("default:")
        b.line('panic("witrt: invalid discriminant")')
        b.close()
        return result

    def _lift_list(self, b: Body, elem: ir.Type, ptr: str, length: str) -> str:
        real = self.resolve.dealias(elem)
        if isinstance(real, str) and real in SAME_LAYOUT:
            return f"{self._rt('LiftSlice')}[{PRIMITIVE_GO[real]}]({ptr}, {length})"
        size = self.layouts.size(elem)
        out, base, i = b.tmp(), b.tmp(), b.tmp()
        b.line(f"{out} := make([]{self.namer.go_type(elem)}, {length})")
        b.line(f"{base} := {self._rt('Ptr')}({ptr})")
        b.open(f"for {i} := range {out} {{")
        b.line(f"{out}[{i}] = {self.load(b, elem, self.at(base, f'{i}*{size}'))}")
        b.close()
        return out

    def _lift_handle(self, handle: ir.Handle, value: str) -> str:
        res = self.namer.resource(handle)
        if res.exported:
            if handle.kind == "own":
                return f"{res.table}.Get({self.namer.calls(res.rep_fn)}({value}))"
            return f"{res.table}.Get({value})"
        return f"{res.from_handle}({value})"

    # -- Go -> flat values --

    def lower_flat(self, b: Body, ty: ir.Type, x: str) -> list[str]:
        kind = self._kind(ty)
        if isinstance(kind, str):
            if kind == "bool":
                return [f"{self._rt('BoolToU32')}({x})"]
            if kind == "string":
                p, n = b.tmp(), b.tmp()
                b.line(f"{p}, {n} := {self._rt('LowerString')}({x})")
                return [p, n]
            if kind in ("f32", "f64", "u32", "u64"):
                return [x]
            return [f"{'uint64' if kind == 's64' else 'uint32'}({x})"]
        if isinstance(kind, (ir.Record, ir.Tuple)):
            x = b.bind(x)
            out: list[str] = []
            for name, ft in self._record_fields(ty):
                out += self.lower_flat(b, ft, f"{x}.{name}")
            return out
        if isinstance(kind, ir.Flags):
            if len(self.layouts.flat(ty)) == 1:
                return [f"uint32({x})"]
            x = b.bind(x)
            return [f"uint32({x})", f"uint32(uint64({x})>>32)"]
        if isinstance(kind, ir.Enum):
            return [f"uint32({x})"]
        if isinstance(kind, (ir.Option, ir.Result, ir.Variant)):
            return self._lower_cases_flat(b, ty, x)
        if isinstance(kind, ir.List):
            return self._lower_list(b, kind.type, x)
        if isinstance(kind, ir.Map):
            return self._lower_map(b, kind, x)
        if isinstance(kind, ir.FixedLengthList):
            x = b.bind(x)
            out = []
            for i in range(kind.length):
                out += self.lower_flat(b, kind.type, f"{x}[{i}]")
            return out
        if isinstance(kind, ir.Handle):
            return [self._lower_handle(kind, x)]
        raise WitgenError(f"the Go backend cannot lower {kind!r}")

    def _lower_cases_flat(self, b: Body, ty: ir.Type, x: str) -> list[str]:
        x = b.bind(x)
        flat = self.layouts.flat(ty)
        names = [b.tmp() for _ in flat]
        for name, ft in zip(names, flat):
            b.line(f"var {name} {CORE_GO[ft]}")
        payloads = self._payloads(ty)

        def emit(case: int, value: str | None) -> None:
            b.line(f"{names[0]} = {case}")
            payload = payloads[case]
            if payload is None or value is None:
                return
            pflat = self.layouts.flat(payload)
            for k, (v, ft) in enumerate(zip(self.lower_flat(b, payload, value), pflat)):
                b.line(f"{names[1 + k]} = {_to_joined(self.namer.ref, v, ft, flat[1 + k])}")

        self._branch(b, x, ty, emit)
        return names

    def _lower_list(self, b: Body, elem: ir.Type, x: str) -> list[str]:
        real = self.resolve.dealias(elem)
        p, n = b.tmp(), b.tmp()
        if isinstance(real, str) and real in SAME_LAYOUT:
            b.line(f"{p}, {n} := {self._rt('LowerSlice')}({x})")
            return [p, n]
        x = b.bind(x)
        size = self.layouts.size(elem)
        i = b.tmp()
        b.line(f"{p} := {self._rt('Alloc')}(uint32(len({x})) * {size})")
        b.open(f"for {i} := range {x} {{")
        self.store(b, elem, f"{x}[{i}]", self.at(p, f"{i}*{size}"))
        b.close()
        return [f"{self._rt('Addr')}({p})", f"uint32(len({x}))"]

    def _map_entry(self, kind: ir.Map) -> tuple[int, int]:
        """A map is stored like list<tuple<K, V>>: (entry size, offset of the value)."""
        _, value_offset = self.layouts.field_offsets([kind.key, kind.value])
        align = max(self.layouts.align(kind.key), self.layouts.align(kind.value))
        end = value_offset + self.layouts.size(kind.value)
        return (end + align - 1) // align * align, value_offset

    def _lift_map(self, b: Body, ty: ir.Type, kind: ir.Map, ptr: str, length: str) -> str:
        size, value_offset = self._map_entry(kind)
        n = b.bind(length)
        out, base, i = b.tmp(), b.tmp(), b.tmp()
        b.line(f"{out} := make({self.namer.go_type(ty)}, {n})")
        b.line(f"{base} := {self._rt('Ptr')}({ptr})")
        b.open(f"for {i} := uint32(0); {i} < {n}; {i}++ {{")
        entry = b.bind(self.at(base, f"{i}*{size}"))
        key = b.bind(self.load(b, kind.key, entry))
        b.line(f"{out}[{key}] = {self.load(b, kind.value, self.at(entry, value_offset))}")
        b.close()
        return out

    def _lower_map(self, b: Body, kind: ir.Map, x: str) -> list[str]:
        size, value_offset = self._map_entry(kind)
        x = b.bind(x)
        p, i, k, v = b.tmp(), b.tmp(), b.tmp(), b.tmp()
        b.line(f"{p} := {self._rt('Alloc')}(uint32(len({x})) * {size})")
        b.line(f"{i} := uint32(0)")
        b.open(f"for {k}, {v} := range {x} {{")  # Go's order: the receiver sees a set anyway
        entry = b.bind(self.at(p, f"{i}*{size}"))
        self.store(b, kind.key, k, entry)
        self.store(b, kind.value, v, self.at(entry, value_offset))
        b.line(f"{i}++")
        b.close()
        return [f"{self._rt('Addr')}({p})", f"uint32(len({x}))"]

    def _lower_handle(self, handle: ir.Handle, x: str) -> str:
        res = self.namer.resource(handle)
        if res.exported:
            if handle.kind != "own":
                raise WitgenError("an exported function cannot return a borrowed handle")
            return f"{res.new_fn}({res.table}.Add({x}))"
        return f"{x}.Handle()"

    # -- linear memory -> Go --

    def load(self, b: Body, ty: ir.Type, p: str) -> str:
        kind = self._kind(ty)
        go = self.namer.go_type
        if isinstance(kind, str):
            if kind == "bool":
                return f"*(*uint8)({p}) != 0"
            if kind == "string":
                p = b.bind(p)
                return f"{self._rt('LiftString')}(*(*uint32)({p}), *(*uint32)({self.at(p, 4)}))"
            return f"*(*{PRIMITIVE_GO[kind]})({p})"
        if isinstance(kind, (ir.Record, ir.Tuple)):
            p = b.bind(p)
            types = [ft for _, ft in self._record_fields(ty)]
            offsets = self.layouts.field_offsets(types)
            parts = [
                f"{name}: {self.load(b, ft, self.at(p, off))}"
                for (name, ft), off in zip(self._record_fields(ty), offsets)
            ]
            return f"{go(ty)}{{{', '.join(parts)}}}"
        if isinstance(kind, ir.Flags):
            size = self.layouts.size(ty)
            if size <= 4:
                return f"{go(ty)}(*(*{DISCRIMINANT_GO[size]})({p}))"
            p = b.bind(p)
            return f"{go(ty)}(uint64(*(*uint32)({p})) | uint64(*(*uint32)({self.at(p, 4)}))<<32)"
        if isinstance(kind, ir.Enum):
            size = self.layouts.size(ty)
            return f"{go(ty)}(*(*{DISCRIMINANT_GO[size]})({p}))"
        if isinstance(kind, (ir.Option, ir.Result, ir.Variant)):
            return self._load_cases(b, ty, p)
        if isinstance(kind, ir.List):
            p = b.bind(p)
            return self._lift_list(b, kind.type, f"*(*uint32)({p})", f"*(*uint32)({self.at(p, 4)})")
        if isinstance(kind, ir.Map):
            p = b.bind(p)
            return self._lift_map(b, ty, kind, f"*(*uint32)({p})", f"*(*uint32)({self.at(p, 4)})")
        if isinstance(kind, ir.FixedLengthList):
            p = b.bind(p)
            out, i = b.tmp(), b.tmp()
            size = self.layouts.size(kind.type)
            b.line(f"var {out} {go(ty)}")
            b.open(f"for {i} := range {out} {{")
            b.line(f"{out}[{i}] = {self.load(b, kind.type, self.at(p, f'{i}*{size}'))}")
            b.close()
            return out
        if isinstance(kind, ir.Handle):
            return self._lift_handle(kind, f"*(*uint32)({p})")
        raise WitgenError(f"the Go backend cannot load {kind!r}")

    def _load_cases(self, b: Body, ty: ir.Type, p: str) -> str:
        p = b.bind(p)
        shape = self.layouts.case_shape(ty)
        assert shape is not None
        offset = self.layouts.payload_offset(ty)
        result = b.tmp()
        b.line(f"var {result} {self.namer.go_type(ty)}")
        b.open(f"switch *(*{DISCRIMINANT_GO[shape.discriminant_size]})({p}) {{")
        for i, payload in enumerate(shape.payloads):
            b.middle(f"case {i}:")
            value = None if payload is None else self.load(b, payload, self.at(p, offset))
            b.line(f"{result} = {self._construct(ty, i, value)}")
        b.middle("default:")
        b.line('panic("witrt: invalid discriminant")')
        b.close()
        return result

    # -- Go -> linear memory --

    def store(self, b: Body, ty: ir.Type, x: str, p: str) -> None:
        kind = self._kind(ty)
        if isinstance(kind, str):
            if kind == "string":
                p = b.bind(p)
                ptr, n = self.lower_flat(b, ty, x)
                b.line(f"*(*uint32)({p}) = {ptr}")
                b.line(f"*(*uint32)({self.at(p, 4)}) = {n}")
            else:
                b.line(f"*(*{PRIMITIVE_GO[kind]})({p}) = {x}")
            return
        if isinstance(kind, (ir.Record, ir.Tuple)):
            p = b.bind(p)
            fields = self._record_fields(ty)
            offsets = self.layouts.field_offsets([ft for _, ft in fields])
            for (name, ft), off in zip(fields, offsets):
                self.store(b, ft, f"{x}.{name}", self.at(p, off))
            return
        if isinstance(kind, (ir.Flags, ir.Enum)):
            size = self.layouts.size(ty)
            if size <= 4:
                b.line(f"*(*{DISCRIMINANT_GO[size]})({p}) = {DISCRIMINANT_GO[size]}({x})")
            else:
                p = b.bind(p)
                b.line(f"*(*uint32)({p}) = uint32({x})")
                b.line(f"*(*uint32)({self.at(p, 4)}) = uint32(uint64({x}) >> 32)")
            return
        if isinstance(kind, (ir.Option, ir.Result, ir.Variant)):
            self._store_cases(b, ty, x, p)
            return
        if isinstance(kind, (ir.List, ir.Map)):
            p = b.bind(p)
            if isinstance(kind, ir.List):
                ptr, n = self._lower_list(b, kind.type, x)
            else:
                ptr, n = self._lower_map(b, kind, x)
            b.line(f"*(*uint32)({p}) = {ptr}")
            b.line(f"*(*uint32)({self.at(p, 4)}) = {n}")
            return
        if isinstance(kind, ir.FixedLengthList):
            p = b.bind(p)
            x = b.bind(x)
            i = b.tmp()
            size = self.layouts.size(kind.type)
            b.open(f"for {i} := range {x} {{")
            self.store(b, kind.type, f"{x}[{i}]", self.at(p, f"{i}*{size}"))
            b.close()
            return
        if isinstance(kind, ir.Handle):
            b.line(f"*(*uint32)({p}) = {self._lower_handle(kind, x)}")
            return
        raise WitgenError(f"the Go backend cannot store {kind!r}")

    def _store_cases(self, b: Body, ty: ir.Type, x: str, p: str) -> None:
        x = b.bind(x)
        p = b.bind(p)
        shape = self.layouts.case_shape(ty)
        assert shape is not None
        offset = self.layouts.payload_offset(ty)
        disc = DISCRIMINANT_GO[shape.discriminant_size]

        def emit(case: int, value: str | None) -> None:
            b.line(f"*(*{disc})({p}) = {case}")
            payload = shape.payloads[case]
            if payload is not None and value is not None:
                self.store(b, payload, value, self.at(p, offset))

        self._branch(b, x, ty, emit)
