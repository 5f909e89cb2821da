"""Go spellings of the canonical-ABI instruction stream (`witgen.abi.stream`).

The Go backend asks this module for the body of every `//go:wasmimport` / `//go:wasmexport`
wrapper. What crosses the boundary, in which order, through which memory, with which casts
between joined flat types, is decided by the stream; this module only writes each instruction
in Go. Pure results (loads, field reads, conversions, lifted values) stay expressions and are
written where they are used, or bound to a `tmpN` when used more than once; instructions with
effects (allocation, lowering a string, calls) are statements in stream order.

Go-specific memory policy, which the stream leaves to each language: Go values handed to the
host are pinned (`witrt.LowerString`, `witrt.Alloc`) until the call returns (imports) or until
post-return (exports), and what the host wrote into `cabi_realloc` memory is copied into Go
values and then recycled with `witrt.ResetArena` (the stream's guest deallocations).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable, Protocol

from witgen import ir
from witgen.abi import Layouts
from witgen.abi import stream as s
from witgen.abi.signature import CoreSignature
from witgen.backends.common import Unsupported

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

# Go integer type of a discriminant of each size.
DISCRIMINANT_GO = {1: "uint8", 2: "uint16", 4: "uint32"}

# Go type of each memory access width of `Load`/`Store`.
WIDTH_GO = {
    "u8": "uint8",
    "s8": "int8",
    "u16": "uint16",
    "s16": "int16",
    "i32": "uint32",
    "i64": "uint64",
    "f32": "float32",
    "f64": "float64",
}

# Sizes of the Go types a value may be stored or loaded as directly.
_GO_SIZE = {
    "bool": 1,
    "uint8": 1,
    "int8": 1,
    "uint16": 2,
    "int16": 2,
    "uint32": 4,
    "int32": 4,
    "rune": 4,
    "float32": 4,
    "uint64": 8,
    "int64": 8,
    "float64": 8,
}

# How each of the stream's casts between joined flat types is written: (template, result type);
# `{math}` is the math package's qualifier.
_CASTS = {
    "f32-to-i32": ("{math}.Float32bits({})", "uint32"),
    "i32-to-f32": ("{math}.Float32frombits({})", "float32"),
    "i32-to-i64": ("uint64({})", "uint64"),
    "i64-to-i32": ("uint32({})", "uint32"),
    "f32-to-i64": ("uint64({math}.Float32bits({}))", "uint64"),
    "i64-to-f32": ("{math}.Float32frombits(uint32({}))", "float32"),
    "f64-to-i64": ("{math}.Float64bits({})", "uint64"),
    "i64-to-f64": ("{math}.Float64frombits({})", "float64"),
}

_SIMPLE = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*|\d+)$")
# Expressions as cheap to repeat as a name: a variable's fields and elements (`x.A[i].B`).
_SELECTOR = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*|\[[A-Za-z_]\w*\])*$")
POINTER = "unsafe.Pointer"


@dataclass(frozen=True)
class ResourceSpelling:
    """How generated code reaches one resource's handles."""

    exported: bool  # implemented by this component (Go interface + table)
    table: str = ""  # exported: the witrt.Table variable, qualified for the current package
    new_fn: str = ""  # exported: the `[resource-new]` import wrapper
    rep_fn: str = ""  # exported: the `[resource-rep]` import wrapper
    drop_fn: str = ""  # exported: the `[resource-drop]` import wrapper
    from_handle: str = ""  # imported: the function making a Go value from a handle


class TypeNamer(Protocol):
    """What the ABI code needs from the backend: Go spellings in the current package."""

    def go_type(self, ty: ir.Type) -> str: ...

    def resource(self, handle: ir.Handle, lift: bool = False) -> ResourceSpelling:
        """`lift`: the spelling makes Go values from handles (an imported resource's
        `from_handle` is named, and its package imported, only then)."""
        ...

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


@dataclass(frozen=True)
class Value:
    """A stream variable as Go: an expression and its Go type (None: an untyped constant)."""

    expr: str
    type: str | None
    converted: tuple[str, str | None] | None = None  # (expr, type) this is a conversion of
    loaded: tuple[str, int] | None = None  # (address, offset) this is a load from


@dataclass
class Hooks:
    """What a wrapper adds around the stream: the core call, the implementation's call, and the
    Go memory policy around them (`witrt.Unpin`, `witrt.ResetArena`)."""

    call_wasm: Callable[[list[str]], str]  # core arguments -> the wasmimport call
    call_interface: Callable[[list[str]], str]  # Go arguments -> the implementation's call
    after_wasm_call: Callable[[Body], None] | None = None
    before_interface_call: Callable[[Body], None] | None = None
    before_return: Callable[[Body], None] | None = None  # the WIT result is bound by then


def _uses(program: s.Program) -> tuple[dict[int, int], dict[int, int]]:
    """How often each variable is read as a value, and as a memory address."""
    values: dict[int, int] = {}
    addresses: dict[int, int] = {}

    def count(table: dict[int, int], var: int) -> None:
        table[var] = table.get(var, 0) + 1

    for inst in s.walk(program.body):
        args = list(inst.args)
        if isinstance(inst, s.Load):
            count(addresses, args.pop(0))
        elif isinstance(inst, s.Store):
            count(addresses, args.pop(1))
        for v in args:
            count(values, v)
        for block in inst.blocks():
            for v in block.results:
                count(values, v)
    for v in program.results:
        count(values, v)
    return values, addresses


class GoEmitter:
    """Writes one function's program (`stream.function_stream`) into a `Body`."""

    def __init__(
        self,
        layouts: Layouts,
        namer: TypeNamer,
        body: Body,
        program: s.Program,
        sig: CoreSignature,
        role: str,
        hooks: Hooks,
    ):
        self.layouts = layouts
        self.resolve = layouts.resolve
        self.namer = namer
        self.b = body
        self.program = program
        self.sig = sig
        self.role = role
        self.hooks = hooks
        self.values: dict[int, Value] = {}
        self.pointers: dict[int, str] = {}  # variables bound once as unsafe.Pointer
        self.uses, self.address_uses = _uses(program)
        self.return_area = 0  # the largest witrt.ReturnArea() this body uses
        self._areas = 0  # ReturnArea instructions seen

    # -- values --

    def _rt(self, name: str) -> str:
        return self.namer.ref("witrt", name)

    def at(self, ptr: str, offset: int | str) -> str:
        """`ptr` advanced by `offset` bytes."""
        return f"{self.namer.ref('unsafe', 'Add')}({ptr}, {offset})" if offset else ptr

    def bind_params(self, names: list[Value]) -> None:
        for var, value in zip(self.program.params, names):
            self.define(var, value)

    def define(self, var: int, value: Value) -> None:
        """Record what variable `var` is; an expression read more than once is bound first."""
        uses = self.uses.get(var, 0) + self.address_uses.get(var, 0)
        if uses > 1 and not _SELECTOR.match(value.expr):
            name = self.b.tmp()
            self.b.line(f"{name} := {value.expr}")
            value = Value(name, value.type, value.converted)
        self.values[var] = value
        if self.address_uses.get(var, 0) > 1 and value.type != POINTER:
            self.pointers[var] = self.b.bind(f"{self._rt('Ptr')}({value.expr})")

    def expr(self, var: int) -> str:
        return self.values[var].expr

    def core(self, var: int) -> str:
        """The variable as a core value (a pointer becomes its address)."""
        value = self.values[var]
        if value.type == POINTER:
            return f"{self._rt('Addr')}({value.expr})"
        return value.expr

    def address(self, var: int) -> str:
        if var in self.pointers:
            return self.pointers[var]
        value = self.values[var]
        return value.expr if value.type == POINTER else f"{self._rt('Ptr')}({value.expr})"

    def bound(self, var: int, fields: bool = False) -> str:
        """The variable as something cheap to read several times: a name, or with `fields`
        (the reads are field reads) also a variable's field or element. Lists and variants are
        copied into a local: their reads sit between stores through unsafe pointers, which
        would make Go load them from memory again each time."""
        value = self.values[var]
        if (_SELECTOR if fields else _SIMPLE).match(value.expr):
            return value.expr
        name = self.b.bind(value.expr)
        self.values[var] = Value(name, value.type)
        return name

    def _kind(self, ty: ir.Type) -> str | ir.TypeDefKind:
        real = self.resolve.dealias(ty)
        return real if isinstance(real, str) else self.resolve.types[real].kind

    # -- running --

    def run(self, body: tuple[s.Instruction, ...]) -> None:
        for inst in body:
            getattr(self, f"_{type(inst).__name__}")(inst)

    def block(self, block: s.Block, params: list[Value]) -> list[Value]:
        """Run a nested block with its params defined; its results."""
        for var, value in zip(block.params, params):
            self.define(var, value)
        self.run(block.body)
        return [self.values[v] for v in block.results]

    # -- scalars --

    def _Const(self, inst: s.Const) -> None:
        self.define(inst.out[0], Value(str(inst.value), None))

    def _PrimLift(self, inst: s.PrimLift) -> None:
        value = self.values[inst.args[0]]
        if inst.prim == "bool":
            self.define(inst.out[0], Value(f"{value.expr} != 0", "bool"))
            return
        target = PRIMITIVE_GO[inst.prim]
        if value.loaded is not None and _GO_SIZE.get(value.type or "") == _GO_SIZE[target]:
            out = Value(f"*(*{target})({self.at(*value.loaded)})", target)
        elif value.type == target:
            out = value
        else:
            out = Value(f"{target}({value.expr})", target, (value.expr, value.type))
        self.define(inst.out[0], out)

    def _PrimLower(self, inst: s.PrimLower) -> None:
        value = self.values[inst.args[0]]
        if inst.prim == "bool":
            out = Value(f"{self._rt('BoolToU32')}({value.expr})", "uint32", (value.expr, "bool"))
        else:
            core = CORE_GO[s.PRIMITIVES[inst.prim][0]]
            if value.type == core:
                out = value
            else:
                out = Value(f"{core}({value.expr})", core, (value.expr, value.type))
        self.define(inst.out[0], out)

    def _Bitcast(self, inst: s.Bitcast) -> None:
        template, go = _CASTS[inst.cast]
        # only the float casts call `math`: asking for it records the import
        math = self.namer.ref("math", "")[:-1] if "{math}" in template else ""
        text = template.format(self.expr(inst.args[0]), math=math)
        self.define(inst.out[0], Value(text, go))

    # -- memory --

    def _Load(self, inst: s.Load) -> None:
        address = self.address(inst.args[0])
        go = WIDTH_GO[inst.width]
        text = f"*(*{go})({self.at(address, inst.offset)})"
        self.define(inst.out[0], Value(text, go, loaded=(address, inst.offset)))

    def _Store(self, inst: s.Store) -> None:
        value = self.values[inst.args[0]]
        place = self.at(self.address(inst.args[1]), inst.offset)
        width = WIDTH_GO[inst.width]
        size = _GO_SIZE[width]
        if value.converted is not None and _GO_SIZE.get(value.converted[1] or "") == size:
            inner, go = value.converted
            self.b.line(f"*(*{go})({place}) = {inner}")
        elif value.type is None or value.type == width:
            self.b.line(f"*(*{width})({place}) = {value.expr}")
        else:
            inner = value.converted[0] if value.converted is not None else value.expr
            self.b.line(f"*(*{width})({place}) = {width}({inner})")

    # -- strings, lists, maps --

    def _StringLower(self, inst: s.StringLower) -> None:
        ptr, length = self.b.tmp(), self.b.tmp()
        self.b.line(f"{ptr}, {length} := {self._rt('LowerString')}({self.expr(inst.args[0])})")
        self.define(inst.out[0], Value(ptr, "uint32"))
        self.define(inst.out[1], Value(length, "uint32"))

    def _StringLift(self, inst: s.StringLift) -> None:
        ptr, length = (self.core(v) for v in inst.args)
        self.define(inst.out[0], Value(f"{self._rt('LiftString')}({ptr}, {length})", "string"))

    def _ListLower(self, inst: s.ListLower) -> None:
        b = self.b
        if inst.canonical:
            ptr, length = b.tmp(), b.tmp()
            b.line(f"{ptr}, {length} := {self._rt('LowerSlice')}({self.expr(inst.args[0])})")
            self.define(inst.out[0], Value(ptr, "uint32"))
            self.define(inst.out[1], Value(length, "uint32"))
            return
        x = self.bound(inst.args[0])
        ptr, i = b.tmp(), b.tmp()
        b.line(f"{ptr} := {self._rt('Alloc')}(uint32(len({x})) * {inst.size})")
        b.open(f"for {i} := range {x} {{")
        element = Value(f"{x}[{i}]", self.namer.go_type(inst.element))
        self.block(inst.body, [element, Value(self.at(ptr, f"{i}*{inst.size}"), POINTER)])
        b.close()
        self.define(inst.out[0], Value(f"{self._rt('Addr')}({ptr})", "uint32"))
        self.define(inst.out[1], Value(f"uint32(len({x}))", "uint32"))

    def _ListLift(self, inst: s.ListLift) -> None:
        b = self.b
        ptr, length = (self.core(v) for v in inst.args)
        if inst.canonical:
            real = self.resolve.dealias(inst.element)
            assert isinstance(real, str)
            text = f"{self._rt('LiftSlice')}[{PRIMITIVE_GO[real]}]({ptr}, {length})"
            self.define(inst.out[0], Value(text, self.namer.go_type(inst.type)))
            return
        out, base, i = b.tmp(), b.tmp(), b.tmp()
        b.line(f"{out} := make([]{self.namer.go_type(inst.element)}, {length})")
        b.line(f"{base} := {self._rt('Ptr')}({ptr})")
        b.open(f"for {i} := range {out} {{")
        (element,) = self.block(inst.body, [Value(self.at(base, f"{i}*{inst.size}"), POINTER)])
        b.line(f"{out}[{i}] = {element.expr}")
        b.close()
        self.define(inst.out[0], Value(out, self.namer.go_type(inst.type)))

    def _MapLower(self, inst: s.MapLower) -> None:
        b = self.b
        x = self.bound(inst.args[0])
        ptr, i, key, value = b.tmp(), b.tmp(), b.tmp(), b.tmp()
        b.line(f"{ptr} := {self._rt('Alloc')}(uint32(len({x})) * {inst.size})")
        b.line(f"{i} := uint32(0)")
        b.open(f"for {key}, {value} := range {x} {{")  # Go's order: the receiver sees a set
        entry = Value(self.at(ptr, f"{i}*{inst.size}"), POINTER)
        key_value = Value(key, self.namer.go_type(inst.key))
        value_value = Value(value, self.namer.go_type(inst.value))
        self.block(inst.body, [key_value, value_value, entry])
        b.line(f"{i}++")
        b.close()
        self.define(inst.out[0], Value(f"{self._rt('Addr')}({ptr})", "uint32"))
        self.define(inst.out[1], Value(f"uint32(len({x}))", "uint32"))

    def _MapLift(self, inst: s.MapLift) -> None:
        b = self.b
        ptr = self.core(inst.args[0])
        length = b.bind(self.core(inst.args[1]))
        out, base, i = b.tmp(), b.tmp(), b.tmp()
        b.line(f"{out} := make({self.namer.go_type(inst.type)}, {length})")
        b.line(f"{base} := {self._rt('Ptr')}({ptr})")
        b.open(f"for {i} := uint32(0); {i} < {length}; {i}++ {{")
        key, value = self.block(inst.body, [Value(self.at(base, f"{i}*{inst.size}"), POINTER)])
        b.line(f"{out}[{key.expr}] = {value.expr}")
        b.close()
        self.define(inst.out[0], Value(out, self.namer.go_type(inst.type)))

    def _FixedListLower(self, inst: s.FixedListLower) -> None:
        x = self.bound(inst.args[0])
        element = self.namer.go_type(inst.element)
        for i, var in enumerate(inst.out):
            self.define(var, Value(f"{x}[{i}]", element))

    def _FixedListLift(self, inst: s.FixedListLift) -> None:
        items = ", ".join(self.expr(v) for v in inst.args)
        go = self.namer.go_type(inst.type)
        self.define(inst.out[0], Value(f"{go}{{{items}}}", go))

    # -- records, tuples, flags, enums --

    def _field_types(self, ty: ir.Type) -> list[tuple[str, ir.Type]]:
        kind = self._kind(ty)
        if isinstance(kind, ir.Record):
            return [(self.namer.field_name(f.name), f.type) for f in kind.fields]
        assert isinstance(kind, ir.Tuple)
        return [(f"F{i}", t) for i, t in enumerate(kind.types)]

    def _split(self, inst: s.RecordLower | s.TupleLower) -> None:
        x = self.bound(inst.args[0], fields=True)
        for var, (name, ty) in zip(inst.out, self._field_types(inst.type)):
            self.define(var, Value(f"{x}.{name}", self.namer.go_type(ty)))

    def _join(self, inst: s.RecordLift | s.TupleLift) -> None:
        go = self.namer.go_type(inst.type)
        parts = ", ".join(
            f"{name}: {self.expr(v)}"
            for v, (name, _) in zip(inst.args, self._field_types(inst.type))
        )
        self.define(inst.out[0], Value(f"{go}{{{parts}}}", go))

    _RecordLower = _TupleLower = _split
    _RecordLift = _TupleLift = _join

    def _to_word(self, inst: s.FlagsLower | s.EnumLower) -> None:
        """Flags (at most 32, one word: the Go type is that word) and enums are integers."""
        (out,) = inst.out
        x = self.expr(inst.args[0])
        self.define(out, Value(f"uint32({x})", "uint32", (x, self.namer.go_type(inst.type))))

    def _from_word(self, inst: s.FlagsLift | s.EnumLift) -> None:
        go = self.namer.go_type(inst.type)
        self.define(inst.out[0], Value(f"{go}({self.expr(inst.args[0])})", go))

    _FlagsLower = _EnumLower = _to_word
    _FlagsLift = _EnumLift = _from_word

    # -- variants, options, results --

    def _construct(self, inst: s.VariantLift, case: int, payload: str | None) -> str:
        go = self.namer.go_type
        if inst.kind == "option":
            kind = self._kind(inst.type)
            assert isinstance(kind, ir.Option)
            if case == 1:
                return f"{self._rt('Some')}[{go(kind.type)}]({payload})"
            return f"{self._rt('None')}[{go(kind.type)}]()"
        if inst.kind == "result":
            kind = self._kind(inst.type)
            assert isinstance(kind, ir.Result)
            unit = self._rt("Unit")
            ok = go(kind.ok) if kind.ok is not None else unit
            err = go(kind.err) if kind.err is not None else unit
            value = payload if payload is not None else unit + "{}"
            return f"{self._rt('Err' if case else 'Ok')}[{ok}, {err}]({value})"
        real = self.resolve.dealias(inst.type)
        assert isinstance(real, int)
        tag, field = self.namer.variant_spelling(real, case)
        if payload is None:
            return f"{go(inst.type)}{{Tag: {tag}}}"
        return f"{go(inst.type)}{{Tag: {tag}, {field}: {payload}}}"

    def _VariantLower(self, inst: s.VariantLower) -> None:
        b = self.b
        x = self.bound(inst.args[0])
        outs = []
        if inst.out:
            for var, flat in zip(inst.out, self.layouts.flat(inst.type)):
                name = b.tmp()
                b.line(f"var {name} {CORE_GO[flat]}")
                outs.append((var, name, CORE_GO[flat]))
        go = self.namer.go_type

        def case(i: int, payload: str | None) -> None:
            ty = inst.payloads[i]
            params = [Value(payload, go(ty))] if ty is not None and payload is not None else []
            results = self.block(inst.case_blocks[i], params)
            for (_, name, _), value in zip(outs, results):
                if value.type is None and value.expr == "0":
                    continue  # the variable starts at zero
                b.line(f"{name} = {value.expr}")

        if inst.kind == "option":
            b.open(f"if {x}.IsSome() {{")
            case(1, f"{x}.Value()")
            b.middle("} else {")
            case(0, None)
            b.close()
        elif inst.kind == "result":
            b.open(f"if {x}.IsErr() {{")
            case(1, f"{x}.ErrValue()")
            b.middle("} else {")
            case(0, f"{x}.OkValue()")
            b.close()
        else:
            real = self.resolve.dealias(inst.type)
            assert isinstance(real, int)
            b.open(f"switch {x}.Tag {{")
            for i in range(len(inst.cases)):
                tag, field = self.namer.variant_spelling(real, i)
                b.middle(f"case {tag}:")
                case(i, f"{x}.{field}" if field is not None else None)
            b.close()
        for var, name, core in outs:
            self.values[var] = Value(name, core)

    def _VariantLift(self, inst: s.VariantLift) -> None:
        b = self.b
        go = self.namer.go_type(inst.type)
        out = b.tmp()
        b.line(f"var {out} {go}")
        b.open(f"switch {self.expr(inst.args[0])} {{")
        for i, block in enumerate(inst.case_blocks):
            b.middle(f"case {i}:")
            results = self.block(block, [])
            payload = results[0].expr if results else None
            b.line(f"{out} = {self._construct(inst, i, payload)}")
        b.middle("default:")
        b.line('panic("witrt: invalid discriminant")')
        b.close()
        self.define(inst.out[0], Value(out, go))

    # -- handles --

    def _spelling(self, inst: s.HandleLower | s.HandleLift) -> ResourceSpelling:
        lift = isinstance(inst, s.HandleLift)
        spelling = self.namer.resource(ir.Handle(inst.handle, inst.resource), lift)
        if spelling.exported != inst.local:
            raise AssertionError(f"resource {inst.resource}: the stream and the package disagree")
        return spelling

    def _HandleLower(self, inst: s.HandleLower) -> None:
        res = self._spelling(inst)
        x = self.expr(inst.args[0])
        if not res.exported:
            text = f"{x}.Handle()"
        elif inst.handle == "own":
            text = f"{res.new_fn}({res.table}.Add({x}))"
        else:
            raise Unsupported("an exported function cannot return a borrowed handle")
        self.define(inst.out[0], Value(text, "uint32"))

    def _HandleLift(self, inst: s.HandleLift) -> None:
        res = self._spelling(inst)
        h = self.core(inst.args[0])
        if not res.exported:
            text = f"{res.from_handle}({h})"
        elif inst.handle == "own":
            # the host moved its handle to this component: the function owns the value, and
            # when it returns the handle is dropped and Drop runs (unless the function returned
            # the value: `Table.Release`), as wit-bindgen's Rust drops an owned parameter
            handle, rep = self.b.tmp(), self.b.tmp()
            self.b.line(f"{handle} := {h}")
            self.b.line(f"{rep} := {self.namer.calls(res.rep_fn)}({handle})")
            drop = self.namer.calls(res.drop_fn)
            self.b.line(f"defer {res.table}.Release({rep}, func() {{ {drop}({handle}) }})")
            text = f"{res.table}.Get({rep})"
        else:
            text = f"{res.table}.Get({h})"
        resource = self.resolve.dealias(inst.resource)
        assert isinstance(resource, int)
        self.define(inst.out[0], Value(text, self.namer.go_type(resource)))

    # -- calls, areas, freeing --

    def _ReturnArea(self, inst: s.ReturnArea) -> None:
        name = self.b.tmp()
        self._areas += 1
        if self.role == "guest-import" and self.sig.params_indirect and self._areas == 1:
            # the arguments' area: pinned Go memory, kept until the call returns
            self.b.line(f"{name} := {self._rt('Alloc')}({inst.size})")
        else:
            self.return_area = max(self.return_area, inst.size)
            self.b.line(f"{name} := {self._rt('ReturnArea')}()")
        self.define(inst.out[0], Value(name, POINTER))

    def _CallWasm(self, inst: s.CallWasm) -> None:
        call = self.hooks.call_wasm([self.core(v) for v in inst.args])
        if inst.out:
            name = self.b.tmp()
            self.b.line(f"{name} := {call}")
            self.define(inst.out[0], Value(name, CORE_GO[inst.signature.results[0]]))
        else:
            self.b.line(call)
        if self.hooks.after_wasm_call is not None:
            self.hooks.after_wasm_call(self.b)

    def _CallInterface(self, inst: s.CallInterface) -> None:
        args = [self.bound(v) for v in inst.args]  # every argument is read before the call
        if self.hooks.before_interface_call is not None:
            self.hooks.before_interface_call(self.b)
        call = self.hooks.call_interface(args)
        if not inst.out:
            self.b.line(call)
            return
        func = inst.function
        result = func.resource if func.kind == "constructor" else func.result
        assert result is not None
        go = self.namer.go_type(result)
        name = self.b.tmp()
        self.b.line(f"{name} := {call}")
        self.values[inst.out[0]] = Value(name, go)

    def _GuestDeallocate(self, inst: s.GuestDeallocate) -> None:
        """The arguments' area came from `cabi_realloc`: `witrt.ResetArena` recycles it."""

    def _Return(self, inst: s.Return) -> None:
        if not inst.args:
            return
        (var,) = inst.args
        if self.role == "guest-export":
            self.b.line(f"return {self.core(var)}")
            return
        value = self.expr(var)
        if self.hooks.before_return is not None:
            value = self.b.bind(value)
            self.hooks.before_return(self.b)
        self.b.line(f"return {value}")
