"""Rust spelling of the canonical-ABI instruction stream (`witgen.abi.stream`).

The stream decides how every value crosses the boundary (loads and stores, casts between joined
flat types, allocation, freeing, the call); `Emitter` only writes each instruction in Rust, for
one function body. Variables of the stream become Rust expressions:

- values (`Val`) are place expressions or references: a record's fields are `r.field` places,
  a match binding is a reference, so lowering never copies what it only reads;
- flat values (`Flat`) are core-typed expressions, kept lazy where Rust can do better than the
  literal instruction: a `Load` is read with the width the lifted type needs, a lowered
  primitive or flags value is stored with its own width, a constant with a typed literal.

Two lowering modes, as the stream's `realloc` says (the side that receives the value owns it):
borrowed (guest-import parameters: strings and canonical lists point at the caller's buffers,
temporary arrays go into a `Cleanup` freed after the call) and owned (guest-export results:
the value is consumed, string and canonical-list buffers are handed over as they are, other
lists and maps become fresh arrays, and `cabi_post_*` frees all of it).
"""

from __future__ import annotations

import re
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Callable, Iterator

from witgen import ir
from witgen.abi import Layouts
from witgen.abi import stream as s
from witgen.abi.signature import CoreSignature
from witgen.backends.common import Unsupported
from witgen.backends.rust.names import TypeNamer, camel, snake

# The Rust type of each memory width of `Load`/`Store`.
WIDTH_RUST = {
    "u8": "u8",
    "s8": "i8",
    "u16": "u16",
    "s16": "i16",
    "i32": "i32",
    "i64": "i64",
    "f32": "f32",
    "f64": "f64",
}
# The Rust type a primitive is read and written as in memory.
PRIM_MEMORY = {
    "bool": "u8",
    "u8": "u8",
    "s8": "i8",
    "u16": "u16",
    "s16": "i16",
    "u32": "u32",
    "s32": "i32",
    "char": "u32",
    "u64": "u64",
    "s64": "i64",
    "f32": "f32",
    "f64": "f64",
}
# The stream's casts between joined flat types (`stream.CASTS`), in Rust.
CASTS_RUST: dict[str, Callable[[str], str]] = {
    "f32-to-i32": lambda x: f"({x}).to_bits() as i32",
    "i32-to-f32": lambda x: f"f32::from_bits({x} as u32)",
    "i32-to-i64": lambda x: f"i64::from(({x}) as u32)",
    "i64-to-i32": lambda x: f"{x} as i32",
    "f32-to-i64": lambda x: f"i64::from(({x}).to_bits())",
    "i64-to-f32": lambda x: f"f32::from_bits({x} as u32)",
    "f64-to-i64": lambda x: f"({x}).to_bits() as i64",
    "i64-to-f64": lambda x: f"f64::from_bits({x} as u64)",
}
_SIMPLE = re.compile(r"[a-z]+\d+_")


@dataclass(frozen=True)
class Val:
    """A Rust expression holding a value (a place, `is_ref=False`) or a reference to one."""

    expr: str
    is_ref: bool = False

    @property
    def deref(self) -> str:
        return f"*{self.expr}" if self.is_ref else self.expr

    @property
    def borrow(self) -> str:
        return self.expr if self.is_ref else f"&{self.expr}"

    @property
    def mut_borrow(self) -> str:
        return self.expr if self.is_ref else f"&mut {self.expr}"


@dataclass(frozen=True)
class Flat:
    """A core value: `expr` (of the flat type), or a memory read not yet made (`load`: base,
    offset, width), or a value a `Store` writes as it is (`source`: Rust type, expression),
    or a constant (`const`, written as a literal of the store's width)."""

    expr: str = ""
    load: tuple[str, int, str] | None = None
    source: tuple[str, str] | None = None
    const: int | None = None


def addr(base: str, off: int) -> str:
    return base if off == 0 else f"{base}.add({off})"


def times(index: str, size: int) -> str:
    return index if size == 1 else f"{index} * {size}"


def read(base: str, off: int, rust_ty: str) -> str:
    target = addr(base, off)
    if rust_ty == "u8":
        return f"{target}.read()"
    return f"{target}.cast::<{rust_ty}>().read()"


def tuple_expr(items: list[str]) -> str:
    """`a` for one item, `(a, b)` for several."""
    return items[0] if len(items) == 1 else f"({', '.join(items)})"


def finish_lines(lines: list[str], value: str) -> list[str]:
    """Block lines ending in the expression `value`, avoiding `let x = ...; x` (clippy)."""
    lines = list(lines)
    head = f"let {value} = "
    starts = [i for i, line in enumerate(lines) if line.startswith(head)]
    if starts:
        i = starts[-1]
        single = i == len(lines) - 1
        block = lines[i].endswith("{") and lines[-1] == "};"
        if single or block:
            lines[i] = lines[i][len(head) :]
            lines[-1] = lines[-1][:-1]
            return lines
    return lines + [value]


def _single_if(lines: list[str]) -> tuple[str, list[str]] | None:
    """(condition, body) when `lines` is exactly one `if COND { ... }` without else."""
    if not lines or not lines[0].startswith("if ") or not lines[0].endswith(" {"):
        return None
    depth = 0
    for n, line in enumerate(lines):
        depth += line.count("{") - line.count("}")
        if depth == 0:
            if n != len(lines) - 1 or line != "}":
                return None
            return lines[0][3:-2], lines[1:-1]
    return None


def _single_match(lines: list[str]) -> bool:
    """Whether `lines` are exactly one `match X { ... }` (rustfmt drops the braces around such an
    arm body: `N => match X { ... },`)."""
    if not lines or not lines[0].startswith("match ") or not lines[0].endswith(" {"):
        return False
    depth = 0
    for n, line in enumerate(lines):
        depth += line.count("{") - line.count("}")
        if depth == 0:
            return n == len(lines) - 1 and line == "}"
    return False


class Emitter:
    """Spells the instructions of one function body (or post-return) in Rust."""

    def __init__(self, layouts: Layouts, namer: TypeNamer, here: str):
        self.layouts = layouts
        self.resolve = layouts.resolve
        self.namer = namer
        self.here = here
        self.lines: list[str] = []
        self.counter = 0
        self.needs_cleanup = False
        self.needs_borrows = False
        # The record of the `rt` helpers this body calls, kept as the calls are written: the
        # crate's `rt` module has exactly the helpers some body recorded.
        self.helpers: set[str] = set()
        self.vals: dict[s.Var, Val] = {}
        self.flats: dict[s.Var, Flat] = {}
        self.pointers: dict[s.Var, str] = {}  # address variables, as `*mut u8` expressions
        self.reps: dict[s.Var, Flat] = {}  # lifted borrows of local resources: their rep
        self.own = False  # lowering moves buffers out of the value (see the module docstring)
        # the function being spelled (see `guest_import`, `guest_export`)
        self.role = ""
        self.sig: CoreSignature | None = None
        self.ident = ""  # the imported core function
        self.param_area_pending = False
        self.call: Callable[[list[str]], str] = lambda args: ""
        self.receiver = False
        # the receiver is an `Rc` the call's task holds (`async_rt::hold`), not `&T_`
        self.shared_receiver = False
        self.call_inst: s.CallInterface | None = None
        self.call_args: list[str] | None = None
        # the call whose result is bound where it ran only if the result needs a local:
        # (line index, call expression, local name)
        self.pending_call: tuple[int, str, str] | None = None
        self.body: list[str] = []

    # -- bookkeeping --

    def tmp(self, prefix: str = "t") -> str:
        """A fresh local name; the trailing `_` keeps it apart from every WIT-derived name."""
        self.counter += 1
        return f"{prefix}{self.counter}_"

    def emit(self, line: str) -> None:
        self.lines.append(line)

    def rt(self, helper: str) -> str:
        """The path of an `rt` helper, recorded as used."""
        self.helpers.add(helper)
        return f"rt::{helper}"

    def alloc_type(self, name: str) -> str:
        """`Vec`, `Box` or `BTreeMap` (from `alloc`), recorded as named by this module."""
        self.namer.note(self.here, name)
        return name

    @contextmanager
    def block(self) -> Iterator[list[str]]:
        saved = self.lines
        self.lines = []
        inner = self.lines
        try:
            yield inner
        finally:
            self.lines = saved

    def arm(self, pattern: str, body: list[str], value: str) -> None:
        if body:
            self.emit(f"{pattern} => {{")
            self.lines.extend(body)
            self.emit(f"{value}")
            self.emit("}")
        else:
            self.emit(f"{pattern} => {value},")

    def finish(self, value: str) -> list[str]:
        """The body lines ending in `value`, without a final `let value = ...; value`."""
        return finish_lines(self.lines, value)

    def tname(self, ty: ir.Type) -> str:
        """The Rust path of a named type (dealiased to the definition's own name)."""
        ty = self.resolve.dealias(ty)
        assert isinstance(ty, int)
        return self.namer.path(ty, self.here)

    # -- variables --

    def value(self, var: s.Var, v: Val) -> None:
        self.vals[var] = v

    def expr(self, var: s.Var) -> str:
        """The core value of a flat variable as an expression (a pending read is made)."""
        f = self.flats[var]
        if f.load is not None:
            base, off, width = f.load
            return read(base, off, WIDTH_RUST[width])
        return f.expr

    def bound(self, var: s.Var, prefix: str) -> str:
        """The flat variable as a local (a pending read is bound to one first)."""
        f = self.flats[var]
        if f.load is None:
            return f.expr
        name = self.tmp(prefix)
        self.emit(f"let {name} = {self.expr(var)};")
        self.flats[var] = Flat(name)
        return name

    def pointer(self, var: s.Var) -> str:
        """An address variable as a `*mut u8` expression."""
        known = self.pointers.get(var)
        if known is not None:
            return known
        name = self.tmp("area")
        self.emit(f"let {name} = {self.expr(var)} as usize as *mut u8;")
        self.pointers[var] = name
        return name

    # -- running a program --

    def run(self, body: tuple[s.Instruction, ...]) -> None:
        for inst in body:
            getattr(self, f"_{type(inst).__name__}")(inst)

    def run_block(self, block: s.Block) -> list[str]:
        """The lines of a block (its results stay in `vals`/`flats`)."""
        with self.block() as lines:
            self.run(block.body)
        return lines

    # -- scalars --

    def _Const(self, inst: s.Const) -> None:
        (out,) = inst.out
        self.flats[out] = Flat(f"{inst.value}{inst.core}", const=inst.value)

    def _PrimLower(self, inst: s.PrimLower) -> None:
        (v,), (out,), prim = inst.args, inst.out, inst.prim
        x = self.vals[v].deref
        if prim in ("bool", "u8", "s8", "u16", "s16"):
            expr = f"i32::from({x})"
        elif prim == "char":
            expr = f"u32::from({x}) as i32"
        elif prim == "u32":
            expr = f"{x} as i32"
        elif prim == "u64":
            expr = f"{x} as i64"
        else:
            expr = x
        written = {"bool": f"u8::from({x})", "char": f"u32::from({x})"}.get(prim, x)
        self.flats[out] = Flat(expr, source=(PRIM_MEMORY[prim], written))

    def _PrimLift(self, inst: s.PrimLift) -> None:
        (f,), (out,), prim = inst.args, inst.out, inst.prim
        flat = self.flats[f]
        if flat.load is not None:
            base, off, _width = flat.load
            raw = read(base, off, PRIM_MEMORY[prim])
            if prim == "bool":
                value = f"{raw} != 0"
            elif prim == "char":
                value = f"char::from_u32_unchecked({raw})"
            else:
                value = raw
        else:
            x = flat.expr
            if prim == "bool":
                value = f"{x} != 0"
            elif prim == "char":
                value = f"char::from_u32_unchecked({x} as u32)"
            elif prim in ("s32", "s64", "f32", "f64"):
                value = x
            else:
                value = f"{x} as {PRIM_MEMORY[prim]}"
        self.value(out, Val(value))

    def _Bitcast(self, inst: s.Bitcast) -> None:
        (f,), (out,) = inst.args, inst.out
        self.flats[out] = Flat(CASTS_RUST[inst.cast](self.expr(f)))

    # -- memory --

    def _Load(self, inst: s.Load) -> None:
        (a,), (out,) = inst.args, inst.out
        self.flats[out] = Flat(load=(self.pointer(a), inst.offset, inst.width))

    def _Store(self, inst: s.Store) -> None:
        f, a = inst.args
        flat, base = self.flats[f], self.pointer(a)
        rust_ty = WIDTH_RUST[inst.width]
        if flat.const is not None:
            rust_ty = "u32" if rust_ty == "i32" else rust_ty
            value = f"{flat.const}{rust_ty}"
        elif flat.source is not None:
            rust_ty, value = flat.source
        else:
            value = self.expr(f)
        target = addr(base, inst.offset)
        if rust_ty == "u8":
            self.emit(f"{target}.write({value});")
        else:
            self.emit(f"{target}.cast::<{rust_ty}>().write({value});")

    # -- strings, lists, maps --

    def _lower_bytes(self, v: Val, give: str, realloc: bool) -> tuple[str, str]:
        p, n = self.tmp("ptr"), self.tmp("len")
        if not realloc:
            self.emit(f"let {p} = {v.expr}.as_ptr() as i32;")
            self.emit(f"let {n} = {v.expr}.len() as i32;")
            return p, n
        # Owned: the buffer itself is handed over (no copy); post-return frees it.
        self.emit(f"let ({p}, {n}) = {self.rt(give)}({v.deref});")
        return p, n

    def _StringLower(self, inst: s.StringLower) -> None:
        (v,), (op, on) = inst.args, inst.out
        p, n = self._lower_bytes(self.vals[v], "give_string", inst.realloc)
        self.flats[op], self.flats[on] = Flat(p), Flat(n)

    def _StringLift(self, inst: s.StringLift) -> None:
        p, n = (self.bound(a, prefix) for a, prefix in zip(inst.args, ("ptr", "len")))
        t = self.tmp("s")
        self.emit(f"let {t} = {self.rt('string_from_raw')}({p}, {n});")
        self.value(inst.out[0], Val(t))

    def _ListLower(self, inst: s.ListLower) -> None:
        (v,), (op, on) = inst.args, inst.out
        val = self.vals[v]
        if inst.canonical:
            p, n = self._lower_bytes(val, "give_list", inst.realloc)
            self.flats[op], self.flats[on] = Flat(p), Flat(n)
            return
        size, align = inst.size, inst.align
        base, ln, i, e = self.tmp("base"), self.tmp("len"), self.tmp("ix"), self.tmp("e")
        self.emit(f"let {ln} = {val.expr}.len();")
        self.emit(f"let {base} = {self.rt('alloc')}({times(ln, size)}, {align});")
        iterate = "into_iter" if self.own else "iter"
        self.emit(f"for ({i}, {e}) in {val.expr}.{iterate}().enumerate() {{")
        b = self.tmp("b")
        self.emit(f"let {b} = {base}.add({times(i, size)});")
        elem, elem_addr = inst.body.params
        self.value(elem, Val(e, is_ref=not self.own))
        self.pointers[elem_addr] = b
        self.run(inst.body.body)
        self.emit("}")
        if not inst.realloc:
            self.needs_cleanup = True
            self.emit(f"cleanup_.push({base}, {times(ln, size)}, {align});")
        self.flats[op], self.flats[on] = Flat(f"{base} as i32"), Flat(f"{ln} as i32")

    def _ListLift(self, inst: s.ListLift) -> None:
        p, n = (self.bound(a, prefix) for a, prefix in zip(inst.args, ("ptr", "len")))
        (out,) = inst.out
        element = self.resolve.dealias(inst.element)
        if inst.canonical:
            assert isinstance(element, str)
            t = self.tmp("v")
            self.emit(f"let {t} = {self.rt('vec_from_raw')}::<{PRIM_MEMORY[element]}>({p}, {n});")
            self.value(out, Val(t))
            return
        size, align = inst.size, inst.align
        base, ln, vec, i = self.tmp("base"), self.tmp("len"), self.tmp("v"), self.tmp("ix")
        self.emit(f"let {base} = {p} as usize as *mut u8;")
        self.emit(f"let {ln} = {n} as usize;")
        self.emit(f"let mut {vec} = {self.alloc_type('Vec')}::with_capacity({ln});")
        self.emit(f"for {i} in 0..{ln} {{")
        b = self.tmp("b")
        self.emit(f"let {b} = {base}.add({times(i, size)});")
        self.pointers[inst.body.params[0]] = b
        self.run(inst.body.body)
        self.emit(f"{vec}.push({self.vals[inst.body.results[0]].expr});")
        self.emit("}")
        self.emit(f"{self.rt('dealloc')}({base}, {times(ln, size)}, {align});")
        self.value(out, Val(vec))

    def _MapLower(self, inst: s.MapLower) -> None:
        """A fresh array of the map's entries, in key order; owned: the map is taken out of the
        value and its keys and values are moved into the array."""
        (v,), (op, on) = inst.args, inst.out
        val = self.vals[v]
        size, align = inst.size, inst.align
        base, n, i = self.tmp("base"), self.tmp("len"), self.tmp("ix")
        k, e = self.tmp("k"), self.tmp("e")
        self.emit(f"let {n} = {val.expr}.len();")
        self.emit(f"let {base} = {self.rt('alloc')}({times(n, size)}, {align});")
        if self.own:
            entries, key, value = f"{val.expr}.into_iter()", Val(k), Val(e)
        else:
            entries, key, value = f"{val.expr}.iter()", Val(k, True), Val(e, True)
        self.emit(f"for ({i}, ({k}, {e})) in {entries}.enumerate() {{")
        b = self.tmp("b")
        self.emit(f"let {b} = {base}.add({times(i, size)});")
        key_var, value_var, entry = inst.body.params
        self.value(key_var, key)
        self.value(value_var, value)
        self.pointers[entry] = b
        self.run(inst.body.body)
        self.emit("}")
        if not inst.realloc:
            self.needs_cleanup = True
            self.emit(f"cleanup_.push({base}, {times(n, size)}, {align});")
        self.flats[op], self.flats[on] = Flat(f"{base} as i32"), Flat(f"{n} as i32")

    def _MapLift(self, inst: s.MapLift) -> None:
        """The map of the entries (freed here); a repeated key keeps its last value."""
        p, n = (self.bound(a, prefix) for a, prefix in zip(inst.args, ("ptr", "len")))
        size, align = inst.size, inst.align
        base, ln, out, i = self.tmp("base"), self.tmp("len"), self.tmp("m"), self.tmp("ix")
        self.emit(f"let {base} = {p} as usize as *mut u8;")
        self.emit(f"let {ln} = {n} as usize;")
        self.emit(f"let mut {out} = {self.alloc_type('BTreeMap')}::new();")
        self.emit(f"for {i} in 0..{ln} {{")
        b = self.tmp("b")
        self.emit(f"let {b} = {base}.add({times(i, size)});")
        self.pointers[inst.body.params[0]] = b
        self.run(inst.body.body)
        key_var, value_var = inst.body.results
        key = self.vals[key_var].expr
        if not _SIMPLE.fullmatch(key):
            t = self.tmp("k")
            self.emit(f"let {t} = {key};")
            key = t
        self.emit(f"{out}.insert({key}, {self.vals[value_var].expr});")
        self.emit("}")
        self.emit(f"{self.rt('dealloc')}({base}, {times(ln, size)}, {align});")
        self.value(inst.out[0], Val(out))

    def _FixedListLower(self, inst: s.FixedListLower) -> None:
        v = self.vals[inst.args[0]]
        info = self.layouts.facts.of(inst.element)
        if self.own and (info.pointers or info.handles):
            # elements that own something are moved out of the array, all at once
            names = [self.tmp() for _ in inst.out]
            self.emit(f"let [{', '.join(names)}] = {v.deref};")
            for name, out in zip(names, inst.out):
                self.value(out, Val(name))
            return
        for i, out in enumerate(inst.out):  # places: copied, or read through a reference
            self.value(out, Val(f"{v.expr}[{i}]"))

    def _FixedListLift(self, inst: s.FixedListLift) -> None:
        parts = [self._part(a) for a in inst.args]
        self.value(inst.out[0], Val(f"[{', '.join(parts)}]"))

    # -- records, tuples, flags, enums --

    def _part(self, var: s.Var) -> str:
        """A lifted part of a compound value, bound to a local unless it is one already."""
        value = self.vals[var].expr
        if _SIMPLE.fullmatch(value):
            return value
        t = self.tmp("fl")
        self.emit(f"let {t} = {value};")
        return t

    def _parts_typed(self, v: Val, types: list[ir.Type], places: list[tuple[str, s.Var]]) -> None:
        """Record fields, tuple or fixed-list elements as references bound to fresh names
        (`&mut` where an owned lowering moves buffers out of them)."""
        for ty, (place, out) in zip(types, places):
            t = self.tmp()
            if self.own:  # moved out of the value (or copied)
                self.emit(f"let {t} = {v.expr}{place};")
                self.value(out, Val(t))
            else:
                self.emit(f"let {t} = &{v.expr}{place};")
                self.value(out, Val(t, is_ref=True))

    def _RecordLower(self, inst: s.RecordLower) -> None:
        v = self.vals[inst.args[0]]
        kind = self.resolve.types[self.resolve.dealias(inst.type)].kind  # type: ignore[index]
        assert isinstance(kind, ir.Record)
        places = [(f".{snake(f.name)}", out) for f, out in zip(kind.fields, inst.out)]
        self._parts_typed(v, [f.type for f in kind.fields], places)

    def _RecordLift(self, inst: s.RecordLift) -> None:
        parts = [self._part(a) for a in inst.args]
        inits = ", ".join(f"{snake(n)}: {p}" for n, p in zip(inst.fields, parts))
        self.value(inst.out[0], Val(f"{self.tname(inst.type)} {{ {inits} }}"))

    def _TupleLower(self, inst: s.TupleLower) -> None:
        v = self.vals[inst.args[0]]
        kind = self.resolve.types[self.resolve.dealias(inst.type)].kind  # type: ignore[index]
        assert isinstance(kind, ir.Tuple)
        places = [(f".{i}", out) for i, out in enumerate(inst.out)]
        self._parts_typed(v, list(kind.types), places)

    def _TupleLift(self, inst: s.TupleLift) -> None:
        parts = [self._part(a) for a in inst.args]
        text = f"({parts[0]},)" if len(parts) == 1 else f"({', '.join(parts)})"
        self.value(inst.out[0], Val(text))

    def _flags_repr(self, ty: ir.Type) -> str:
        size = self.layouts.size(ty)
        if size > 4:
            raise Unsupported("flags with more than 32 members")
        return {1: "u8", 2: "u16", 4: "u32"}[size]

    def _FlagsLower(self, inst: s.FlagsLower) -> None:
        v, repr_ = self.vals[inst.args[0]], self._flags_repr(inst.type)
        expr = f"{v.expr}.bits() as i32" if repr_ == "u32" else f"i32::from({v.expr}.bits())"
        self.flats[inst.out[0]] = Flat(expr, source=(repr_, f"{v.expr}.bits()"))

    def _FlagsLift(self, inst: s.FlagsLift) -> None:
        repr_ = self._flags_repr(inst.type)
        flat = self.flats[inst.args[0]]
        if flat.load is not None:
            base, off, _width = flat.load
            bits = read(base, off, repr_)
        else:
            bits = f"{flat.expr} as {repr_}"
        self.value(inst.out[0], Val(f"{self.tname(inst.type)}::from_bits_retain({bits})"))

    def _EnumLower(self, inst: s.EnumLower) -> None:
        x = self.vals[inst.args[0]].deref
        shape = self.layouts.case_shape(inst.type)
        assert shape is not None
        disc = {1: "u8", 2: "u16", 4: "u32"}[shape.discriminant_size]
        self.flats[inst.out[0]] = Flat(f"{x} as i32", source=(disc, f"{x} as {disc}"))

    def _EnumLift(self, inst: s.EnumLift) -> None:
        t = self.tmp("c")
        self.emit(f"let {t} = match {self._disc(inst.args[0])} {{")
        for index, case in enumerate(inst.cases):
            pattern = f"{index}" if index < len(inst.cases) - 1 else "_"
            self.emit(f"{pattern} => {self.tname(inst.type)}::{camel(case)},")
        self.emit("};")
        self.value(inst.out[0], Val(t))

    def _disc(self, var: s.Var) -> str:
        """A discriminant as an expression (memory discriminants read unsigned)."""
        flat = self.flats[var]
        if flat.load is not None:
            base, off, width = flat.load
            return read(base, off, "u32" if width == "i32" else WIDTH_RUST[width])
        return flat.expr

    # -- variants --

    def _case_pattern(self, inst: s.VariantLower | s.VariantLift, i: int, bind: str | None) -> str:
        if inst.kind == "option":
            return "None" if i == 0 else f"Some({bind or '_'})"
        if inst.kind == "result":
            ctor = "Ok" if i == 0 else "Err"
            return f"{ctor}({bind or '_'})"
        path = f"{self.tname(inst.type)}::{camel(inst.cases[i])}"
        return f"{path}({bind})" if bind else path

    def _case_value(self, inst: s.VariantLift, i: int, payload: str | None) -> str:
        if inst.kind == "result":
            ctor = "Ok" if i == 0 else "Err"
            return f"{ctor}({payload if payload is not None else '()'})"
        return self._case_pattern(inst, i, payload)

    def _VariantLower(self, inst: s.VariantLower) -> None:
        v = self.vals[inst.args[0]]
        scrutinee = v.deref if self.own else v.borrow
        names = [self.tmp("w") for _ in inst.out]
        if names:
            self.emit(f"let {tuple_expr(names)} = match {scrutinee} {{")
        else:
            self.emit(f"match {scrutinee} {{")
        for i, block in enumerate(inst.case_blocks):
            binding = self.tmp("e") if block.params else None
            if block.params:
                assert binding is not None
                self.value(block.params[0], Val(binding, is_ref=not self.own))
            body = self.run_block(block)
            pattern = self._case_pattern(inst, i, binding)
            if names:
                slots = [self._slot(r) for r in block.results]
                self.arm(pattern, body, tuple_expr(slots))
            else:
                self.emit(f"{pattern} => {{")
                self.lines.extend(body)
                self.emit("}")
        self.emit("};" if names else "}")
        for out, name in zip(inst.out, names):
            self.flats[out] = Flat(name)

    def _slot(self, var: s.Var) -> str:
        flat = self.flats[var]
        return self.expr(var) if flat.const is None else flat.expr

    def _VariantLift(self, inst: s.VariantLift) -> None:
        t = self.tmp("c")
        self.emit(f"let {t} = match {self._disc(inst.args[0])} {{")
        last = len(inst.case_blocks) - 1
        for i, block in enumerate(inst.case_blocks):
            body = self.run_block(block)
            payload = None
            if block.results:
                payload = self.vals[block.results[0]].expr
                if payload.startswith(("(", "[")):  # `Some(t)`, not `Some((a, b))`
                    with self.block() as bound:
                        self.lines.extend(body)
                        payload = self._part(block.results[0])
                    body = bound
            self.arm(f"{i}" if i < last else "_", body, self._case_value(inst, i, payload))
        self.emit("};")
        self.value(inst.out[0], Val(t))

    # -- handles --

    def _resource(self, resource: int) -> tuple[int, str]:
        res = self.resolve.dealias(resource)
        assert isinstance(res, int)
        return res, self.namer.path(res, self.here)

    def _HandleLower(self, inst: s.HandleLower) -> None:
        v = self.vals[inst.args[0]]
        if inst.handle == "own":
            expr = f"{v.expr}.take_handle() as i32"
        else:
            res, _ = self._resource(inst.resource)
            if self.namer.is_exported(res):
                raise Unsupported("passing a borrow of an exported resource to an import")
            expr = f"{v.expr}.handle() as i32"
        self.flats[inst.out[0]] = Flat(expr)

    def _HandleLift(self, inst: s.HandleLift) -> None:
        (f,), (out,) = inst.args, inst.out
        res, path = self._resource(inst.resource)
        if inst.handle == "borrow" and self.namer.is_exported(res):
            self.reps[out] = self.flats[f]
            raw = self.expr(f)
            borrowed = self.namer.borrow_path(res, self.here)
            self.value(out, Val(f"{borrowed}::from_rep({raw} as usize as *mut u8)"))
            return
        raw = self.expr(f)
        if inst.handle == "own":
            self.value(out, Val(f"{path}::from_handle({raw} as u32)"))
            return
        # A borrowed imported handle: wrapped without ownership (never dropped here) and kept
        # in a per-call arena of boxes, so references to it stay valid until the call returns.
        h, r = self.tmp("h"), self.tmp("r")
        self.needs_borrows = True
        boxed = self.alloc_type("Box")
        self.emit(
            f"let {h} = {boxed}::new(core::mem::ManuallyDrop::new({path}::from_handle({raw} as u32)));"
        )
        self.emit(f"let {r}: *const {path} = &**{h};")
        self.emit(f"borrows_.push({h});")
        self.value(out, Val(f"&*{r}"))

    # -- freeing (post-return and parameter areas) --

    def _GuestDeallocateString(self, inst: s.GuestDeallocateString) -> None:
        p, n = (self.expr(a) for a in inst.args)
        self.emit(f"{self.rt('dealloc')}({p} as usize as *mut u8, {n} as usize, 1);")

    def _GuestDeallocateList(self, inst: s.GuestDeallocateList) -> None:
        p, n = self.tmp("ptr"), self.tmp("len")
        self.emit(f"let {p} = {self.expr(inst.args[0])} as usize as *mut u8;")
        self.emit(f"let {n} = {self.expr(inst.args[1])} as usize;")
        i, b = self.tmp("ix"), self.tmp("b")
        self.pointers[inst.body.params[0]] = b
        body = self.run_block(inst.body)
        if body:
            self.emit(f"for {i} in 0..{n} {{")
            self.emit(f"let {b} = {p}.add({times(i, inst.size)});")
            self.lines.extend(body)
            self.emit("}")
        self.emit(f"{self.rt('dealloc')}({p}, {times(n, inst.size)}, {inst.align});")

    def _GuestDeallocateVariant(self, inst: s.GuestDeallocateVariant) -> None:
        disc = self._disc(inst.args[0])
        bodies = [(i, self.run_block(b)) for i, b in enumerate(inst.case_blocks)]
        bodies = [(i, body) for i, body in bodies if body]
        if not bodies:
            return
        if len(bodies) == 1:
            index, body = bodies[0]
            cond = f"{disc} == {index}"
            nested = _single_if(body)
            if nested is not None:  # clippy: collapsible_if
                cond, body = f"{cond} && {nested[0]}", nested[1]
            self.emit(f"if {cond} {{")
            self.lines.extend(body)
            self.emit("}")
            return
        self.emit(f"match {disc} {{")
        for index, body in bodies:
            nested = _single_if(body)
            if nested is not None:  # clippy: collapsible_match
                pattern, body = f"{index} if {nested[0]}", nested[1]
            else:
                pattern = f"{index}"
            if _single_match(body):
                self.emit(f"{pattern} => {body[0]}")
                self.lines.extend(body[1:-1])
                self.emit("},")
            else:
                self.emit(f"{pattern} => {{")
                self.lines.extend(body)
                self.emit("}")
        self.emit("_ => {}")
        self.emit("}")

    # -- whole functions --

    def guest_import(
        self, program: s.Program, sig: CoreSignature, ident: str, params: list[Val]
    ) -> list[str]:
        """The body of an imported function's wrapper: `params` are its Rust parameters."""
        self.own = False
        for var, v in zip(program.params, params):
            self.value(var, v)
        self.role, self.sig, self.ident = "guest-import", sig, ident
        self.param_area_pending = sig.params_indirect
        self.run(program.body)
        return self.body

    def guest_export(
        self,
        program: s.Program,
        sig: CoreSignature,
        call: Callable[[list[str]], str],
        receiver: bool,
        shared: bool = False,
    ) -> list[str]:
        """The body of an export's glue: lift the core arguments, `call(args)` the trait
        function (`receiver`: the first argument is `&self`; `shared`: it is instead a local
        `Rc` of the value, see `async_rt::hold`), lower the result."""
        self.own = True
        self.role, self.sig, self.call, self.receiver = "guest-export", sig, call, receiver
        self.shared_receiver = shared
        for i, var in enumerate(program.params):
            self.flats[var] = Flat(f"arg{i}")
        if sig.params_indirect:
            self.emit("let area = arg0 as usize as *mut u8;")
            self.pointers[program.params[0]] = "area"
        self.call_inst = next(i for i in program.body if isinstance(i, s.CallInterface))
        self.run(program.body)
        return self.body

    def store_element(self, program: s.Program) -> list[str]:
        """The body of a stream/future element's `store(value, at, keep)` (a `store_program`
        without realloc): buffers it makes are pushed on `keep` (alive until the copy)."""
        self.own = False
        self.value(program.params[0], Val("value", is_ref=True))
        self.pointers[program.params[1]] = "at"
        self.run(program.body)
        if self.needs_cleanup:
            self.lines.insert(0, f"let mut cleanup_ = {self.rt('Cleanup')}::new();")
            self.emit(f"keep.push({self.alloc_type('Box')}::new(cleanup_));")
        return list(self.lines)

    def load_element(self, program: s.Program) -> list[str]:
        """The body of a stream/future element's `load(at)`: it takes over the buffers the host
        wrote."""
        self.own = True
        self.pointers[program.params[0]] = "at"
        self.run(program.body)
        return self.finish(self.vals[program.results[0]].expr)

    def post_return(self, program: s.Program) -> list[str]:
        """The body of `cabi_post_*`: free what the export's result owns."""
        self.emit("let ret_ = arg0 as usize as *mut u8;")
        self.pointers[program.params[0]] = "ret_"
        self.run(program.body)
        return list(self.lines)

    def _ReturnArea(self, inst: s.ReturnArea) -> None:
        (out,) = inst.out
        size, align = inst.size, inst.align
        if self.role == "guest-export":
            self.emit("let ret_ = core::ptr::addr_of_mut!(_RET_AREA.0).cast::<u8>();")
            self.pointers[out] = "ret_"
            return
        struct, local, ptr = "_RetArea", "ret_area_", "ret_"
        if self.param_area_pending:
            self.param_area_pending = False
            struct, local, ptr = "_ParamArea", "param_area_", "params_"
        self.emit(f"#[repr(align({align}))]")
        self.emit(f"struct {struct}([core::mem::MaybeUninit<u8>; {size}]);")
        self.emit(f"let mut {local} = {struct}([core::mem::MaybeUninit::uninit(); {size}]);")
        self.emit(f"let {ptr} = {local}.0.as_mut_ptr().cast::<u8>();")
        self.pointers[out] = ptr

    def _arg(self, var: s.Var) -> str:
        if var in self.pointers:
            return f"{self.pointers[var]} as i32"
        return self.expr(var)

    def _CallWasm(self, inst: s.CallWasm) -> None:
        call = f"{self.ident}({', '.join(self._arg(a) for a in inst.args)})"
        if self.sig is not None and self.sig.is_async:
            # `canon lower async`: the call answers a subtask status; the result (if any) is in
            # the result area once the subtask returned
            (out,) = inst.out
            self.emit(f"let status_ = {call};")
            self.emit("crate::async_rt::subtask(status_ as u32).await;")
            self.flats[out] = Flat("status_")
            return
        if not inst.out:
            self.emit(f"{call};")
            return
        (out,) = inst.out
        self.pending_call = (len(self.lines), call, "ret_")
        self.flats[out] = Flat("ret_")

    def _bind_call_args(self) -> list[str]:
        """The trait function's arguments, as locals (before the parameter area is freed)."""
        if self.call_args is not None:
            return self.call_args
        assert self.call_inst is not None and self.sig is not None
        out = []
        for i, var in enumerate(self.call_inst.args):
            if self.receiver and i == 0:
                rep = self.reps[var]
                if self.shared_receiver:
                    value = f"crate::async_rt::hold::<T_>({self._flat_text(rep)} as usize)"
                    t = self.tmp("this")
                    self.emit(f"let {t} = {value};")
                    out.append(t)
                    continue
                value = f"&*({self._flat_text(rep)} as usize as *const T_)"
                if not self.sig.params_indirect:
                    out.append(value)
                    continue
            else:
                value = self.vals[var].expr
                if _SIMPLE.fullmatch(value):
                    out.append(value)
                    continue
            t = self.tmp("p")
            self.emit(f"let {t} = {value};")
            out.append(t)
        self.call_args = out
        return out

    def _flat_text(self, flat: Flat) -> str:
        if flat.load is not None:
            base, off, width = flat.load
            return read(base, off, WIDTH_RUST[width])
        return flat.expr

    def _GuestDeallocate(self, inst: s.GuestDeallocate) -> None:
        if self.role == "guest-export":
            self._bind_call_args()
        base = self.pointer(inst.args[0])
        self.emit(f"{self.rt('dealloc')}({base}, {inst.size}, {inst.align});")

    def _CallInterface(self, inst: s.CallInterface) -> None:
        call = self.call(self._bind_call_args())
        if not inst.out:
            self.emit(f"{call};")
            return
        (out,) = inst.out
        self.value(out, Val("result_"))
        assert self.sig is not None
        if self.sig.results_indirect:
            self.emit(f"let result_ = {call};")
        else:
            self.pending_call = (len(self.lines), call, "result_")

    def _Return(self, inst: s.Return) -> None:
        if not inst.args:
            self.body = list(self.lines)
            return
        (var,) = inst.args
        if self.role == "guest-export" and var in self.pointers:
            self.body = self.finish(f"{self.pointers[var]} as i32")
            return
        if self.role == "guest-export":
            value = self.expr(var)
        else:
            value = self.vals[var].expr
        pending = self.pending_call
        if pending is not None:
            mark, call, name = pending
            if value == name and len(self.lines) == mark:
                self.body = self.finish(call)
                return
            self.lines.insert(mark, f"let {name} = {call};")
        self.body = self.finish(value)
