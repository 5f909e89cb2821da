"""Rust statements that move WIT values across the canonical ABI (lift and lower).

`Glue` writes, for one function body, the code that lowers Rust values into flat core values or
linear memory and lifts them back, using only facts from `witgen.abi` (sizes, alignments,
offsets, flat types, discriminant sizes, core signatures). Values are handled through
references (`Val`), so lowering never consumes the caller's data except owned resource
handles, which are taken out of their wrapper.

Two lowering modes:
- borrowed (`own=False`, imported-function parameters): strings and plain lists point at the
  caller's buffers; temporary buffers go into a `Cleanup` freed after the call;
- owned (`own=True`, exported-function results): string and plain-list buffers are moved out
  of the value (shrunk to their length) and other lists get fresh arrays; the generated
  `cabi_post_*` function frees all of it (see `free`).
Lifting always takes ownership of what the other side allocated with `cabi_realloc`.
"""

from __future__ import annotations

import re
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Iterator

from witgen import ir
from witgen.abi import Layouts
from witgen.abi.layout import align_to
from witgen.abi.signature import has_pointers
from witgen.backends.common import Unsupported
from witgen.backends.rust.names import TypeNamer, camel, snake

# Lists of these element types have the same bytes in Rust and in the canonical ABI.
PLAIN = {
    "u8": "u8",
    "s8": "i8",
    "u16": "u16",
    "s16": "i16",
    "u32": "u32",
    "s32": "i32",
    "u64": "u64",
    "s64": "i64",
    "f32": "f32",
    "f64": "f64",
}
_MEM_TYPE = {**PLAIN, "bool": "u8", "char": "u32"}
_ZERO = {"i32": "0i32", "i64": "0i64", "f32": "0f32", "f64": "0f64"}
_DISC = {1: "u8", 2: "u16", 4: "u32"}


@dataclass(frozen=True)
class Val:
    """A Rust expression holding a value (`is_ref=False`) or a reference to one."""

    expr: str
    is_ref: bool = True

    @property
    def deref(self) -> str:
        return f"*{self.expr}" if self.is_ref else self.expr

    @property
    def borrow(self) -> str:
        return self.expr if self.is_ref else f"&{self.expr}"


def addr(base: str, off: int) -> str:
    return base if off == 0 else f"{base}.add({off})"


def times(index: str, size: int) -> str:
    return index if size == 1 else f"{index} * {size}"


def convert(expr: str, have: str, want: str) -> str:
    """A core value of type `have` widened into a joined slot of type `want`."""
    if have == want:
        return expr
    if have == "f32" and want == "i32":
        return f"({expr}).to_bits() as i32"
    if have == "f32" and want == "i64":
        return f"i64::from(({expr}).to_bits())"
    if have == "f64" and want == "i64":
        return f"({expr}).to_bits() as i64"
    if have == "i32" and want == "i64":
        return f"i64::from(({expr}) as u32)"
    raise AssertionError(f"cannot join {have} into {want}")


def narrow(expr: str, have: str, want: str) -> str:
    """A joined slot of type `have` read back as the case's own core type `want`."""
    if have == want:
        return expr
    if want == "f32" and have == "i32":
        return f"f32::from_bits({expr} as u32)"
    if want == "f32" and have == "i64":
        return f"f32::from_bits({expr} as u32)"
    if want == "f64" and have == "i64":
        return f"f64::from_bits({expr} as u64)"
    if want == "i32" and have == "i64":
        return f"{expr} as i32"
    raise AssertionError(f"cannot narrow {have} into {want}")


def takes_buffers(resolve: ir.Resolve, ty: ir.Type | None) -> bool:
    """Whether a value holds a string or plain list, whose buffer an owned lowering moves."""
    ty = None if ty is None else resolve.dealias(ty)
    if ty is None or isinstance(ty, str):
        return ty == "string"
    kind = resolve.types[ty].kind
    if isinstance(kind, ir.List):
        return resolve.dealias(kind.type) in PLAIN or takes_buffers(resolve, kind.type)
    if isinstance(kind, ir.Map):
        return True  # an owned lowering takes the map out of the value and consumes it
    children: list[ir.Type | None] = []
    if isinstance(kind, ir.Record):
        children = [f.type for f in kind.fields]
    elif isinstance(kind, ir.Tuple):
        children = list(kind.types)
    elif isinstance(kind, ir.Variant):
        children = [c.type for c in kind.cases]
    elif isinstance(kind, (ir.Option, ir.FixedLengthList)):
        children = [kind.type]
    elif isinstance(kind, ir.Result):
        children = [kind.ok, kind.err]
    return any(takes_buffers(resolve, c) for c in children)


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


class Glue:
    """Collects the statements of one generated function body."""

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
        # crate's `rt` module has exactly the helpers some body recorded (see `rust.generate`).
        self.helpers: set[str] = set()

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
        """`Vec` or `Box` (from `alloc`), recorded as named by this module."""
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

    def kind(self, ty: ir.Type) -> ir.TypeDefKind | str:
        ty = self.resolve.dealias(ty)
        if isinstance(ty, str):
            return ty
        return self.resolve.types[ty].kind

    def tname(self, ty: ir.Type) -> str:
        """The Rust path of a named type (dealiased to the definition's own name)."""
        ty = self.resolve.dealias(ty)
        assert isinstance(ty, int)
        return self.namer.path(ty, self.here)

    def resolve_resource(self, handle: ir.Handle) -> int:
        res = self.resolve.dealias(handle.resource)
        assert isinstance(res, int)
        return res

    def handle_type(self, handle: ir.Handle) -> tuple[str, bool]:
        res = self.resolve.dealias(handle.resource)
        assert isinstance(res, int)
        return self.namer.path(res, self.here), self.namer.is_exported(res)

    def case_pattern(self, ty: ir.Type, index: int, binding: str | None) -> str:
        kind = self.kind(ty)
        if isinstance(kind, ir.Option):
            return "None" if index == 0 else f"Some({binding or '_'})"
        if isinstance(kind, ir.Result):
            ctor = "Ok" if index == 0 else "Err"
            return f"{ctor}({binding or '_'})"
        if isinstance(kind, ir.Enum):
            return f"{self.tname(ty)}::{camel(kind.cases[index].name)}"
        assert isinstance(kind, ir.Variant)
        case = kind.cases[index]
        path = f"{self.tname(ty)}::{camel(case.name)}"
        return f"{path}({binding})" if binding else path

    def case_value(self, ty: ir.Type, index: int, payload: str | None) -> str:
        kind = self.kind(ty)
        if isinstance(kind, ir.Option):
            return "None" if index == 0 else f"Some({payload})"
        if isinstance(kind, ir.Result):
            ctor = "Ok" if index == 0 else "Err"
            return f"{ctor}({payload if payload is not None else '()'})"
        return self.case_pattern(ty, index, payload)

    def cases(self, ty: ir.Type) -> tuple[ir.Type | None, ...]:
        shape = self.layouts.case_shape(ty)
        assert shape is not None
        return shape.payloads

    def moves(self, ty: ir.Type, own: bool) -> bool:
        """Whether an owned lowering takes buffers out of the value (it needs `&mut`)."""
        return own and takes_buffers(self.resolve, ty)

    def ref(self, ty: ir.Type, own: bool) -> str:
        return "&mut " if self.moves(ty, own) else "&"

    @staticmethod
    def mut_borrow(v: Val) -> str:
        return v.expr if v.is_ref else f"&mut {v.expr}"

    def scrutinee(self, ty: ir.Type, v: Val, own: bool) -> str:
        return self.mut_borrow(v) if self.moves(ty, own) else v.borrow

    def fields(self, ty: ir.Type, v: Val, own: bool) -> list[tuple[ir.Type, Val]]:
        """Record fields / tuple elements as references bound to fresh names (`&mut` where
        an owned lowering moves buffers out of them)."""
        kind = self.kind(ty)
        out = []
        if isinstance(kind, ir.Record):
            for f in kind.fields:
                t = self.tmp()
                self.emit(f"let {t} = {self.ref(f.type, own)}{v.expr}.{snake(f.name)};")
                out.append((f.type, Val(t)))
        else:
            assert isinstance(kind, ir.Tuple)
            for i, et in enumerate(kind.types):
                t = self.tmp()
                self.emit(f"let {t} = {self.ref(et, own)}{v.expr}.{i};")
                out.append((et, Val(t)))
        return out

    def field_types(self, ty: ir.Type) -> tuple[ir.Type, ...]:
        kind = self.kind(ty)
        if isinstance(kind, ir.Record):
            return tuple(f.type for f in kind.fields)
        assert isinstance(kind, ir.Tuple)
        return kind.types

    def build(self, ty: ir.Type, parts: list[str]) -> str:
        """A record or tuple value from its lifted parts."""
        kind = self.kind(ty)
        if isinstance(kind, ir.Record):
            inits = ", ".join(f"{snake(f.name)}: {p}" for f, p in zip(kind.fields, parts))
            return f"{self.tname(ty)} {{ {inits} }}"
        return f"({parts[0]},)" if len(parts) == 1 else f"({', '.join(parts)})"

    def finish(self, value: str) -> list[str]:
        """The body lines ending in `value`, without a final `let value = ...; value`."""
        return finish_lines(self.lines, value)

    # -- strings and lists --

    def lower_bytes(self, v: Val, elem: ir.Type | None, own: bool) -> tuple[str, str]:
        """(ptr, len) i32 expressions of a string (elem None) or plain list."""
        p, n = self.tmp("ptr"), self.tmp("len")
        if not own:
            self.emit(f"let {p} = {v.expr}.as_ptr() as i32;")
            self.emit(f"let {n} = {v.expr}.len() as i32;")
            return p, n
        # Owned: the buffer itself is handed over (no copy); post-return frees it.
        give = "give_string" if elem is None else "give_list"
        self.emit(f"let ({p}, {n}) = {self.rt(give)}(core::mem::take({self.mut_borrow(v)}));")
        return p, n

    def lower_list(self, elem: ir.Type, v: Val, own: bool) -> tuple[str, str]:
        if self.resolve.dealias(elem) in PLAIN:
            return self.lower_bytes(v, elem, own)
        size, align = self.layouts.size(elem), self.layouts.align(elem)
        base, n, i, e = self.tmp("base"), self.tmp("len"), self.tmp("ix"), self.tmp("e")
        self.emit(f"let {n} = {v.expr}.len();")
        self.emit(f"let {base} = {self.rt('alloc')}({times(n, size)}, {align});")
        iterate = "iter_mut" if self.moves(elem, own) else "iter"
        self.emit(f"for ({i}, {e}) in {v.expr}.{iterate}().enumerate() {{")
        b = self.tmp("b")
        self.emit(f"let {b} = {base}.add({times(i, size)});")
        self.store(elem, Val(e), b, 0, own)
        self.emit("}")
        if not own:
            self.needs_cleanup = True
            self.emit(f"cleanup_.push({base}, {times(n, size)}, {align});")
        return f"{base} as i32", f"{n} as i32"

    def lift_string(self, p: str, n: str) -> str:
        t = self.tmp("s")
        self.emit(f"let {t} = {self.rt('string_from_raw')}({p}, {n});")
        return t

    def lift_list(self, elem: ir.Type, p: str, n: str) -> str:
        plain = self.resolve.dealias(elem)
        if isinstance(plain, str) and plain in PLAIN:
            t = self.tmp("v")
            self.emit(f"let {t} = {self.rt('vec_from_raw')}::<{PLAIN[plain]}>({p}, {n});")
            return t
        size, align = self.layouts.size(elem), self.layouts.align(elem)
        base, ln, out, i = self.tmp("base"), self.tmp("len"), self.tmp("v"), self.tmp("ix")
        self.emit(f"let {base} = {p} as usize as *mut u8;")
        self.emit(f"let {ln} = {n} as usize;")
        self.emit(f"let mut {out} = {self.alloc_type('Vec')}::with_capacity({ln});")
        self.emit(f"for {i} in 0..{ln} {{")
        b = self.tmp("b")
        self.emit(f"let {b} = {base}.add({times(i, size)});")
        value = self.load(elem, b, 0)
        self.emit(f"{out}.push({value});")
        self.emit("}")
        self.emit(f"{self.rt('dealloc')}({base}, {times(ln, size)}, {align});")
        return out

    def entry_layout(self, kind: ir.Map) -> tuple[int, int, int]:
        """(size, align, value offset) of one map entry, laid out as `tuple<K, V>`."""
        _, value_off = self.layouts.field_offsets((kind.key, kind.value))
        align = max(self.layouts.align(kind.key), self.layouts.align(kind.value))
        return align_to(value_off + self.layouts.size(kind.value), align), align, value_off

    def lower_map(self, kind: ir.Map, v: Val, own: bool) -> tuple[str, str]:
        """(ptr, len) of a fresh array of the map's entries, in key order. Owned: the map is
        taken out of the value and its keys and values are moved into the array."""
        size, align, value_off = self.entry_layout(kind)
        base, n, i = self.tmp("base"), self.tmp("len"), self.tmp("ix")
        k, e = self.tmp("k"), self.tmp("e")
        self.emit(f"let {n} = {v.expr}.len();")
        self.emit(f"let {base} = {self.rt('alloc')}({times(n, size)}, {align});")
        if own:
            entries = f"core::mem::take({self.mut_borrow(v)}).into_iter()"
            key_binding = f"mut {k}" if self.moves(kind.key, own) else k
            value_binding = f"mut {e}" if self.moves(kind.value, own) else e
            key, value = Val(k, is_ref=False), Val(e, is_ref=False)
        else:
            entries = f"{v.expr}.iter()"
            key_binding, value_binding, key, value = k, e, Val(k), Val(e)
        self.emit(f"for ({i}, ({key_binding}, {value_binding})) in {entries}.enumerate() {{")
        b = self.tmp("b")
        self.emit(f"let {b} = {base}.add({times(i, size)});")
        self.store(kind.key, key, b, 0, own)
        self.store(kind.value, value, b, value_off, own)
        self.emit("}")
        if not own:
            self.needs_cleanup = True
            self.emit(f"cleanup_.push({base}, {times(n, size)}, {align});")
        return f"{base} as i32", f"{n} as i32"

    def lift_map(self, kind: ir.Map, p: str, n: str) -> str:
        """The map of `n` entries at `p` (freed here); a repeated key keeps its last value."""
        size, align, value_off = self.entry_layout(kind)
        base, ln, out, i = self.tmp("base"), self.tmp("len"), self.tmp("m"), self.tmp("ix")
        self.emit(f"let {base} = {p} as usize as *mut u8;")
        self.emit(f"let {ln} = {n} as usize;")
        self.emit(f"let mut {out} = {self.alloc_type('BTreeMap')}::new();")
        self.emit(f"for {i} in 0..{ln} {{")
        b = self.tmp("b")
        self.emit(f"let {b} = {base}.add({times(i, size)});")
        key = self.load(kind.key, b, 0)
        if not re.fullmatch(r"[a-z]+\d+_", key):
            t = self.tmp("k")
            self.emit(f"let {t} = {key};")
            key = t
        value = self.load(kind.value, b, value_off)
        self.emit(f"{out}.insert({key}, {value});")
        self.emit("}")
        self.emit(f"{self.rt('dealloc')}({base}, {times(ln, size)}, {align});")
        return out

    # -- linear memory --

    def write(self, base: str, off: int, rust_ty: str, expr: str) -> None:
        target = addr(base, off)
        if rust_ty == "u8":
            self.emit(f"{target}.write({expr});")
        else:
            self.emit(f"{target}.cast::<{rust_ty}>().write({expr});")

    def read(self, base: str, off: int, rust_ty: str) -> str:
        target = addr(base, off)
        if rust_ty == "u8":
            return f"{target}.read()"
        return f"{target}.cast::<{rust_ty}>().read()"

    def store(self, ty: ir.Type, v: Val, base: str, off: int, own: bool) -> None:
        """Write the value `v` of type `ty` at `base + off`."""
        kind = self.kind(ty)
        if isinstance(kind, str):
            if kind == "string":
                p, n = self.lower_bytes(v, None, own)
                self.write(base, off, "i32", p)
                self.write(base, off + 4, "i32", n)
            elif kind == "bool":
                self.write(base, off, "u8", f"u8::from({v.deref})")
            elif kind == "char":
                self.write(base, off, "u32", f"u32::from({v.deref})")
            else:
                self.write(base, off, _MEM_TYPE[kind], v.deref)
            return
        if isinstance(kind, (ir.Record, ir.Tuple)):
            offsets = self.layouts.field_offsets(self.field_types(ty))
            for (ft, fv), fo in zip(self.fields(ty, v, own), offsets):
                self.store(ft, fv, base, off + fo, own)
            return
        if isinstance(kind, ir.Flags):
            bits = self.flags_repr(ty)
            self.write(base, off, bits, f"{v.expr}.bits()")
            return
        if isinstance(kind, ir.Enum):
            disc = _DISC[self.layouts.case_shape(ty).discriminant_size]  # type: ignore[union-attr]
            self.write(base, off, disc, f"{v.deref} as {disc}")
            return
        if isinstance(kind, (ir.Variant, ir.Option, ir.Result)):
            shape = self.layouts.case_shape(ty)
            assert shape is not None
            disc = _DISC[shape.discriminant_size]
            payload_off = off + self.layouts.payload_offset(ty)
            self.emit(f"match {self.scrutinee(ty, v, own)} {{")
            for index, payload in enumerate(shape.payloads):
                binding = self.tmp("e") if payload is not None else None
                with self.block() as body:
                    self.write(base, off, disc, f"{index}{disc}")
                    if payload is not None:
                        assert binding is not None
                        self.store(payload, Val(binding), base, payload_off, own)
                self.emit(f"{self.case_pattern(ty, index, binding)} => {{")
                self.lines.extend(body)
                self.emit("}")
            self.emit("}")
            return
        if isinstance(kind, (ir.List, ir.Map)):
            if isinstance(kind, ir.List):
                p, n = self.lower_list(kind.type, v, own)
            else:
                p, n = self.lower_map(kind, v, own)
            self.write(base, off, "i32", p)
            self.write(base, off + 4, "i32", n)
            return
        if isinstance(kind, ir.FixedLengthList):
            size = self.layouts.size(kind.type)
            i, e = self.tmp("ix"), self.tmp("e")
            iterate = "iter_mut" if self.moves(kind.type, own) else "iter"
            self.emit(f"for ({i}, {e}) in {v.expr}.{iterate}().enumerate() {{")
            b = self.tmp("b")
            self.emit(f"let {b} = {addr(base, off)}.add({times(i, size)});")
            self.store(kind.type, Val(e), b, 0, own)
            self.emit("}")
            return
        if isinstance(kind, ir.Handle):
            self.write(base, off, "i32", self.lower_handle(kind, v))
            return
        raise Unsupported(f"the Rust backend cannot lower {type(kind).__name__.lower()} types")

    def lower_handle(self, handle: ir.Handle, v: Val) -> str:
        if handle.kind == "own":
            return f"{v.expr}.take_handle() as i32"
        _, exported = self.handle_type(handle)
        if exported:
            raise Unsupported("passing a borrow of an exported resource to an import")
        return f"{v.expr}.handle() as i32"

    def lift_handle(self, handle: ir.Handle, value: str) -> str:
        path, exported = self.handle_type(handle)
        if handle.kind == "own":
            return f"{path}::from_handle({value} as u32)"
        if exported:
            borrowed = self.namer.borrow_path(self.resolve_resource(handle), self.here)
            return f"{borrowed}::from_rep({value} as usize as *mut u8)"
        # A borrowed imported handle: wrapped without ownership (never dropped here) and kept
        # in a per-call arena of boxes, so references to it stay valid until the call returns.
        h, r = self.tmp("h"), self.tmp("r")
        self.needs_borrows = True
        boxed = self.alloc_type("Box")
        self.emit(
            f"let {h} = {boxed}::new(core::mem::ManuallyDrop::new({path}::from_handle({value} as u32)));"
        )
        self.emit(f"let {r}: *const {path} = &**{h};")
        self.emit(f"borrows_.push({h});")
        return f"&*{r}"

    def flags_repr(self, ty: ir.Type) -> str:
        size = self.layouts.size(ty)
        if size not in _DISC:
            raise Unsupported("flags with more than 32 members")
        return _DISC[size]

    def load(self, ty: ir.Type, base: str, off: int) -> str:
        """An expression for the value of type `ty` stored at `base + off`."""
        kind = self.kind(ty)
        if isinstance(kind, str):
            if kind == "string":
                p, n = self.tmp("ptr"), self.tmp("len")
                self.emit(f"let {p} = {self.read(base, off, 'i32')};")
                self.emit(f"let {n} = {self.read(base, off + 4, 'i32')};")
                return self.lift_string(p, n)
            if kind == "bool":
                return f"{self.read(base, off, 'u8')} != 0"
            if kind == "char":
                return f"char::from_u32_unchecked({self.read(base, off, 'u32')})"
            return self.read(base, off, _MEM_TYPE[kind])
        if isinstance(kind, (ir.Record, ir.Tuple)):
            types = self.field_types(ty)
            offsets = self.layouts.field_offsets(types)
            parts = []
            for ft, fo in zip(types, offsets):
                t = self.tmp("fl")
                self.emit(f"let {t} = {self.load(ft, base, off + fo)};")
                parts.append(t)
            return self.build(ty, parts)
        if isinstance(kind, ir.Flags):
            return (
                f"{self.tname(ty)}::from_bits_retain({self.read(base, off, self.flags_repr(ty))})"
            )
        if isinstance(kind, (ir.Enum, ir.Variant, ir.Option, ir.Result)):
            shape = self.layouts.case_shape(ty)
            assert shape is not None
            disc = _DISC[shape.discriminant_size]
            payload_off = off + self.layouts.payload_offset(ty)
            t = self.tmp("c")
            self.emit(f"let {t} = match {self.read(base, off, disc)} {{")
            for index, payload in enumerate(shape.payloads):
                with self.block() as body:
                    value = None if payload is None else self.load(payload, base, payload_off)
                pattern = f"{index}" if index < len(shape.payloads) - 1 else "_"
                self.arm(pattern, body, self.case_value(ty, index, value))
            self.emit("};")
            return t
        if isinstance(kind, (ir.List, ir.Map)):
            p, n = self.tmp("ptr"), self.tmp("len")
            self.emit(f"let {p} = {self.read(base, off, 'i32')};")
            self.emit(f"let {n} = {self.read(base, off + 4, 'i32')};")
            if isinstance(kind, ir.Map):
                return self.lift_map(kind, p, n)
            return self.lift_list(kind.type, p, n)
        if isinstance(kind, ir.FixedLengthList):
            size = self.layouts.size(kind.type)
            i = self.tmp("ix")
            b = self.tmp("b")
            with self.block() as body:
                value = self.load(kind.type, b, 0)
            inner = [f"let {b} = {addr(base, off)}.add({times(i, size)});", *body]
            closure = "\n".join(finish_lines(inner, value))
            return f"core::array::from_fn(|{i}| {{\n{closure}\n}})"
        if isinstance(kind, ir.Handle):
            return self.lift_handle(kind, self.read(base, off, "i32"))
        raise Unsupported(f"the Rust backend cannot lift {type(kind).__name__.lower()} types")

    def free(self, ty: ir.Type, base: str, off: int) -> None:
        """Free what an owned `store` of `ty` at `base + off` allocated (post-return)."""
        if not has_pointers(self.resolve, ty):
            return
        kind = self.kind(ty)
        if kind == "string":
            self.emit(
                f"{self.rt('dealloc')}({self.read(base, off, 'i32')} as usize as *mut u8, "
                f"{self.read(base, off + 4, 'i32')} as usize, 1);"
            )
            return
        if isinstance(kind, (ir.Record, ir.Tuple)):
            types = self.field_types(ty)
            for ft, fo in zip(types, self.layouts.field_offsets(types)):
                self.free(ft, base, off + fo)
            return
        if isinstance(kind, (ir.Variant, ir.Option, ir.Result)):
            shape = self.layouts.case_shape(ty)
            assert shape is not None
            disc = _DISC[shape.discriminant_size]
            payload_off = off + self.layouts.payload_offset(ty)
            owning = [
                (index, payload)
                for index, payload in enumerate(shape.payloads)
                if payload is not None and has_pointers(self.resolve, payload)
            ]
            bodies = []
            for index, payload in owning:
                with self.block() as body:
                    self.free(payload, base, payload_off)
                bodies.append((index, body))
            if len(owning) == 1:
                index, body = bodies[0]
                cond = f"{self.read(base, off, disc)} == {index}"
                nested = _single_if(body)
                if nested is not None:  # clippy: collapsible_if
                    cond, body = f"{cond} && {nested[0]}", nested[1]
                self.emit(f"if {cond} {{")
                self.lines.extend(body)
                self.emit("}")
                return
            self.emit(f"match {self.read(base, off, disc)} {{")
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
            return
        if isinstance(kind, ir.List):
            size, align = self.layouts.size(kind.type), self.layouts.align(kind.type)
            p, n = self.tmp("ptr"), self.tmp("len")
            self.emit(f"let {p} = {self.read(base, off, 'i32')} as usize as *mut u8;")
            self.emit(f"let {n} = {self.read(base, off + 4, 'i32')} as usize;")
            if has_pointers(self.resolve, kind.type):
                i = self.tmp("ix")
                self.emit(f"for {i} in 0..{n} {{")
                b = self.tmp("b")
                self.emit(f"let {b} = {p}.add({times(i, size)});")
                self.free(kind.type, b, 0)
                self.emit("}")
            self.emit(f"{self.rt('dealloc')}({p}, {times(n, size)}, {align});")
            return
        if isinstance(kind, ir.Map):
            size, align, value_off = self.entry_layout(kind)
            p, n = self.tmp("ptr"), self.tmp("len")
            self.emit(f"let {p} = {self.read(base, off, 'i32')} as usize as *mut u8;")
            self.emit(f"let {n} = {self.read(base, off + 4, 'i32')} as usize;")
            owned_parts = [
                (part, at)
                for part, at in ((kind.key, 0), (kind.value, value_off))
                if has_pointers(self.resolve, part)
            ]
            if owned_parts:
                i = self.tmp("ix")
                self.emit(f"for {i} in 0..{n} {{")
                b = self.tmp("b")
                self.emit(f"let {b} = {p}.add({times(i, size)});")
                for part, at in owned_parts:
                    self.free(part, b, at)
                self.emit("}")
            self.emit(f"{self.rt('dealloc')}({p}, {times(n, size)}, {align});")
            return
        if isinstance(kind, ir.FixedLengthList):
            size = self.layouts.size(kind.type)
            i = self.tmp("ix")
            self.emit(f"for {i} in 0..{kind.length} {{")
            b = self.tmp("b")
            self.emit(f"let {b} = {addr(base, off)}.add({times(i, size)});")
            self.free(kind.type, b, 0)
            self.emit("}")
            return

    # -- flat values --

    def lower_flat(self, ty: ir.Type, v: Val, own: bool) -> list[str]:
        """Expressions for the flat core values of `v` (types: `layouts.flat(ty)`)."""
        kind = self.kind(ty)
        if isinstance(kind, str):
            if kind == "string":
                return list(self.lower_bytes(v, None, own))
            x = v.deref
            if kind in ("bool", "u8", "s8", "u16", "s16"):
                return [f"i32::from({x})"]
            if kind == "char":
                return [f"u32::from({x}) as i32"]
            if kind == "u32":
                return [f"{x} as i32"]
            if kind == "u64":
                return [f"{x} as i64"]
            return [x]
        if isinstance(kind, (ir.Record, ir.Tuple)):
            out: list[str] = []
            for ft, fv in self.fields(ty, v, own):
                out.extend(self.lower_flat(ft, fv, own))
            return out
        if isinstance(kind, ir.Flags):
            repr_ = self.flags_repr(ty)
            if repr_ == "u32":
                return [f"{v.expr}.bits() as i32"]
            return [f"i32::from({v.expr}.bits())"]
        if isinstance(kind, ir.Enum):
            return [f"{v.deref} as i32"]
        if isinstance(kind, (ir.Variant, ir.Option, ir.Result)):
            flat = self.layouts.flat(ty)
            shape = self.layouts.case_shape(ty)
            assert shape is not None
            names = [self.tmp("w") for _ in flat]
            self.emit(f"let {tuple_expr(names)} = match {self.scrutinee(ty, v, own)} {{")
            for index, payload in enumerate(shape.payloads):
                binding = self.tmp("e") if payload is not None else None
                with self.block() as body:
                    slots = [f"{index}i32"] + [_ZERO[t] for t in flat[1:]]
                    if payload is not None:
                        assert binding is not None
                        values = self.lower_flat(payload, Val(binding), own)
                        for j, (value, have) in enumerate(zip(values, self.layouts.flat(payload))):
                            slots[j + 1] = convert(value, have, flat[j + 1])
                self.arm(self.case_pattern(ty, index, binding), body, tuple_expr(slots))
            self.emit("};")
            return names
        if isinstance(kind, ir.List):
            return list(self.lower_list(kind.type, v, own))
        if isinstance(kind, ir.Map):
            return list(self.lower_map(kind, v, own))
        if isinstance(kind, ir.FixedLengthList):
            out = []
            for i in range(kind.length):
                t = self.tmp()
                self.emit(f"let {t} = {self.ref(kind.type, own)}{v.expr}[{i}];")
                out.extend(self.lower_flat(kind.type, Val(t), own))
            return out
        if isinstance(kind, ir.Handle):
            return [self.lower_handle(kind, v)]
        raise Unsupported(f"the Rust backend cannot lower {type(kind).__name__.lower()} types")

    def lift_flat(self, ty: ir.Type, vals: list[str]) -> str:
        """An expression for the value of type `ty` from its flat core values."""
        kind = self.kind(ty)
        if isinstance(kind, str):
            x = vals[0]
            if kind == "string":
                return self.lift_string(vals[0], vals[1])
            if kind == "bool":
                return f"{x} != 0"
            if kind == "char":
                return f"char::from_u32_unchecked({x} as u32)"
            if kind in ("s32", "s64", "f32", "f64"):
                return x
            return f"{x} as {_MEM_TYPE[kind]}"
        if isinstance(kind, (ir.Record, ir.Tuple)):
            parts = []
            at = 0
            for ft in self.field_types(ty):
                n = len(self.layouts.flat(ft))
                t = self.tmp("fl")
                self.emit(f"let {t} = {self.lift_flat(ft, vals[at:at + n])};")
                parts.append(t)
                at += n
            return self.build(ty, parts)
        if isinstance(kind, ir.Flags):
            repr_ = self.flags_repr(ty)
            return f"{self.tname(ty)}::from_bits_retain({vals[0]} as {repr_})"
        if isinstance(kind, (ir.Enum, ir.Variant, ir.Option, ir.Result)):
            flat = self.layouts.flat(ty)
            shape = self.layouts.case_shape(ty)
            assert shape is not None
            t = self.tmp("c")
            self.emit(f"let {t} = match {vals[0]} {{")
            for index, payload in enumerate(shape.payloads):
                with self.block() as body:
                    value = None
                    if payload is not None:
                        own_flat = self.layouts.flat(payload)
                        narrowed = [
                            narrow(vals[j + 1], flat[j + 1], want)
                            for j, want in enumerate(own_flat)
                        ]
                        value = self.lift_flat(payload, narrowed)
                pattern = f"{index}" if index < len(shape.payloads) - 1 else "_"
                self.arm(pattern, body, self.case_value(ty, index, value))
            self.emit("};")
            return t
        if isinstance(kind, ir.List):
            return self.lift_list(kind.type, vals[0], vals[1])
        if isinstance(kind, ir.Map):
            return self.lift_map(kind, vals[0], vals[1])
        if isinstance(kind, ir.FixedLengthList):
            n = len(self.layouts.flat(kind.type))
            parts = []
            for i in range(kind.length):
                t = self.tmp("fl")
                self.emit(f"let {t} = {self.lift_flat(kind.type, vals[i * n:(i + 1) * n])};")
                parts.append(t)
            return f"[{', '.join(parts)}]"
        if isinstance(kind, ir.Handle):
            return self.lift_handle(kind, vals[0])
        raise Unsupported(f"the Rust backend cannot lift {type(kind).__name__.lower()} types")
