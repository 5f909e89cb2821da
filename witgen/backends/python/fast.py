"""The fast path of the Python host bindings: type-specialised canonical-ABI code, generated.

For every world whose functions it can handle, this writes straight-line Python that lowers
typed values into the guest's linear memory and lifts results out of it (`_fast.py`), driven
by the canonical-ABI layer: sizes, alignments, field and payload offsets come from
`witgen.abi.Layouts`, and where each parameter and result travels (flat core values, a
returned pointer, a retptr) from `witgen.abi.plan.function_plan`. Nothing here re-derives an
ABI fact. The generated functions run on `_core.CoreInstance` (the plugin's core module called
directly); the generic `wasmtime.component` path remains for everything else, and the two are
checked against each other by property tests.

Not handled on the fast path (the world then uses the generic path): host-implemented
resources, borrowed handles in results, variant-like values in flat positions when they carry
payloads, futures, streams, maps, fixed-length lists and async functions. Functions a world
imports directly are served as core imports from `$root`.
"""

from __future__ import annotations

from typing import Any

from witgen import ir
from witgen.abi import Layouts
from witgen.abi.plan import FunctionPlan, function_plan
from witgen.backends.python.names import camel, const, snake

# primitive -> struct format (little-endian)
_FORMATS = {
    "u8": "B",
    "s8": "b",
    "u16": "H",
    "s16": "h",
    "u32": "I",
    "s32": "i",
    "u64": "Q",
    "s64": "q",
    "f32": "f",
    "f64": "d",
    "char": "I",
}
# how a flat core value of a primitive is turned into the Python value (the raw value is the
# signed core integer wasmtime hands over)
_FLAT_LIFT = {
    "bool": "{} != 0",
    "u8": "{} & 0xFF",
    "s8": "(({} & 0xFF) ^ 0x80) - 0x80",
    "u16": "{} & 0xFFFF",
    "s16": "(({} & 0xFFFF) ^ 0x8000) - 0x8000",
    "u32": "{} & 0xFFFFFFFF",
    "s32": "(({} & 0xFFFFFFFF) ^ 0x80000000) - 0x80000000",
    "u64": "{} & 0xFFFFFFFFFFFFFFFF",
    "s64": "(({} & 0xFFFFFFFFFFFFFFFF) ^ 0x8000000000000000) - 0x8000000000000000",
    "f32": "{}",
    "f64": "{}",
    "char": "_core.char({} & 0xFFFFFFFF)",
}
_RAW_KIND = {"i32": "i32", "i64": "i64", "f32": "f32", "f64": "f64"}


_STRUCTS = [
    (f"_{code}", f"<{code}") for code in ("B", "b", "H", "h", "I", "i", "Q", "q", "f", "d")
] + [("_PAIR", "<II")]
_RANGES = {
    "u8": (0, 2**8 - 1),
    "s8": (-(2**7), 2**7 - 1),
    "u16": (0, 2**16 - 1),
    "s16": (-(2**15), 2**15 - 1),
    "u32": (0, 2**32 - 1),
    "s32": (-(2**31), 2**31 - 1),
    "u64": (0, 2**64 - 1),
    "s64": (-(2**63), 2**63 - 1),
}


class Unsupported(Exception):
    """The fast path cannot handle this function; the reason ends up in `_fast.UNSUPPORTED`."""


class FastGen:
    def __init__(self, gen: Any) -> None:
        self.gen = gen
        self.resolve: ir.Resolve = gen.resolve
        self.layouts = Layouts(self.resolve)
        self.helpers: dict[str, list[str]] = {}  # helper name -> lines (in creation order)
        self.tmp = 0
        # what the emitted code refers to, recorded while emitting it: struct formats
        # (`_I`...), range checks (`u32`...), module-level helpers and interface modules
        self.structs: set[str] = set()
        self.ranges: set[str] = set()
        self.uses: set[str] = set()
        self.modules: set[str] = set()

    def snapshot(self) -> Any:
        return (
            dict(self.helpers),
            self.tmp,
            set(self.structs),
            set(self.ranges),
            set(self.uses),
            set(self.modules),
        )

    def restore(self, saved: Any) -> None:
        self.helpers, self.tmp, self.structs, self.ranges, self.uses, self.modules = saved

    def st(self, code: str) -> str:
        """The module-level `struct.Struct` for format `code` (e.g. `I`), recorded as used."""
        name = "_PAIR" if code == "PAIR" else f"_{code}"
        self.structs.add(name)
        return name

    def use(self, helper: str) -> str:
        """A module-level helper of `_fast.py` (`_setters`, `_boxer`...), recorded as used."""
        self.uses.add(helper)
        return helper

    # -- shared helpers --

    def fresh(self, base: str) -> str:
        self.tmp += 1
        return f"{base}{self.tmp}"

    def cls(self, tid: int) -> str:
        td = self.resolve.types[tid]
        module = self.gen.type_module(tid)
        if td.name is None or module is None:
            raise Unsupported(f"anonymous type {tid} has no class")
        self.modules.add(module)
        return f"_{module}.{camel(td.name)}"

    def kind(self, ty: ir.Type) -> Any:
        ty = self.resolve.dealias(ty)
        if isinstance(ty, str):
            return ty
        kind = self.resolve.types[ty].kind
        if isinstance(kind, ir.List) and self.resolve.dealias(kind.type) == "u8":
            return "bytes"
        return kind

    def named(self, ty: ir.Type) -> int:
        """The type id that owns the structure (follows aliases)."""
        ty = self.resolve.dealias(ty)
        assert isinstance(ty, int)
        return ty

    def disc_store(self, size: int, b: str, o: str, value: str) -> str:
        if size == 1:
            return f"{b}[{o}] = {value}"
        return f"{self.st('H' if size == 2 else 'I')}.pack_into({b}, {o}, {value})"

    def disc_load(self, size: int, m: str, a: str) -> str:
        if size == 1:
            return f"{m}[{a}]"
        return f"{self.st('H' if size == 2 else 'I')}.unpack_from({m}, {a})[0]"

    # -- resource handles (resources the plugin exports; the host keeps their reps) --

    def handle_lower(self, kind: ir.Handle, v: str) -> str:
        """A handle passed into the plugin: `borrow` lifts to the rep in the defining
        instance; `own` moves the resource back into the plugin's handle table."""
        if self.gen.is_host_resource(kind.resource):
            raise Unsupported("host-implemented resources")
        if kind.kind == "borrow":
            return f"{v}._handle_for_call(False)"
        return f"rt.own_in({v}._handle_for_call(True))"

    def handle_lift(self, kind: ir.Handle, handle: str) -> str:
        """An `own` handle the plugin returns: taken out of its table, wrapped in the class."""
        if self.gen.is_host_resource(kind.resource):
            raise Unsupported("host-implemented resources")
        if kind.kind != "own":
            raise Unsupported("borrowed handles in results")
        return f"_core.take({self.cls(kind.resource)}, {handle})"

    # -- storing into a bytearray (values headed for guest memory) --

    def store(self, ty: ir.Type, v: str, b: str, o: str) -> list[str]:
        """Statements writing value `v` of type `ty` into bytearray `b` at offset `o`."""
        k = self.kind(ty)
        if k == "bool":
            return [f"{b}[{o}] = {self.use('_bool')}({v})"]
        if k == "char":
            return [f"{self.st('I')}.pack_into({b}, {o}, ord({v}))"]
        if k in _FORMATS:
            return [f"{self.st(_FORMATS[k])}.pack_into({b}, {o}, {v})"]
        if k == "string":
            t = self.fresh("s")
            return [
                f"{t} = {v}.encode('utf-8')",
                f"rt.ref({b}, {o}, 1, {t})",
            ]
        if k == "bytes":
            return [f"rt.ref({b}, {o}, 1, _runtime.as_bytes({v}))"]
        if isinstance(k, ir.List):
            helper = self.list_put(self.named(ty))
            return [f"{helper}(rt, {v}, {b}, {o})"]
        if isinstance(k, ir.Handle):
            return [f"{self.st('I')}.pack_into({b}, {o}, {self.handle_lower(k, v)})"]
        helper = self.store_helper(self.named(ty))
        return [f"{helper}(rt, {v}, {b}, {o})"]

    def enum_index(self, tid: int) -> str:
        """`_IDX_N`: enum member -> case index, for lowering."""
        table = f"_IDX_{tid}"
        if table not in self.helpers:
            kind = self.resolve.types[tid].kind
            assert isinstance(kind, ir.Enum)
            cls = self.cls(tid)
            cases = ", ".join(f"{cls}.{const(c.name)}: {i}" for i, c in enumerate(kind.cases))
            self.helpers[table] = [f"{table} = {{{cases}}}"]
        return table

    def enum_cases(self, tid: int) -> str:
        """`_CASES_N`: case index -> enum member, for lifting."""
        table = f"_CASES_{tid}"
        if table not in self.helpers:
            self.helpers[table] = [f"{table} = tuple({self.cls(tid)})"]
        return table

    def list_put(self, tid: int) -> str:
        """`_put_N(rt, v, b, o)`: a list's elements in one block, referenced from `b` at `o`.

        Every block (strings included) is only registered with `rt.ref`; `rt.allocate` then
        makes all the `cabi_realloc` calls of one call in a single trip into wasm.
        """
        name = f"_put_{tid}"
        if name in self.helpers:
            return name
        self.helpers[name] = []
        kind = self.resolve.types[tid].kind
        assert isinstance(kind, ir.List)
        size, align = self.layouts.size(kind.type), self.layouts.align(kind.type)
        body = [
            f"def {name}(rt: _core.CoreInstance, v: Any, into: bytearray, at: int) -> None:",
            "    if type(v) is not list:",
            "        v = _runtime.as_sequence(v)",
            f"    b = bytearray({size} * len(v))",
            "    for i, x in enumerate(v):",
            *("        " + line for line in self.store(kind.type, "x", "b", f"{size} * i")),
            f"    rt.ref(into, at, {align}, b, len(v))",
        ]
        self.helpers[name] = body
        return name

    def store_helper(self, tid: int) -> str:
        name = f"_st_{tid}"
        if name in self.helpers:
            return name
        self.helpers[name] = []
        kind = self.resolve.types[tid].kind
        lines: list[str] = []
        if isinstance(kind, (ir.Record, ir.Tuple)):
            types = (
                [f.type for f in kind.fields] if isinstance(kind, ir.Record) else list(kind.types)
            )
            exprs = (
                [f"v.{snake(f.name)}" for f in kind.fields]
                if isinstance(kind, ir.Record)
                else [f"v[{i}]" for i in range(len(types))]
            )
            if isinstance(kind, ir.Tuple):
                lines += [
                    f"if type(v) is not tuple or len(v) != {len(types)}:",
                    f"    raise TypeError('expected a tuple of {len(types)}')",
                ]
            for t, e, off in zip(types, exprs, self.layouts.field_offsets(types)):
                lines += self.store(t, e, "b", f"o + {off}")
        elif isinstance(kind, ir.Enum):
            table = self.enum_index(tid)
            size = self.layouts.size(tid)
            lines.append(self.disc_store(size, "b", "o", f"{table}[v]"))
        elif isinstance(kind, ir.Flags):
            size = self.layouts.size(tid)
            lines += [
                f"if not isinstance(v, {self.cls(tid)}):",
                f"    raise TypeError('expected {self.cls(tid)}')",
            ]
            if size <= 4:
                fmt = {1: "B", 2: "H", 4: "I"}[size]
                lines.append(f"{self.st(fmt)}.pack_into(b, o, v.value)")
            else:
                for w in range(size // 4):
                    lines.append(
                        f"{self.st('I')}.pack_into(b, o + {4 * w}, "
                        f"(v.value >> {32 * w}) & 0xFFFFFFFF)"
                    )
        elif isinstance(kind, (ir.Option, ir.Result, ir.Variant)):
            shape = self.layouts.case_shape(tid)
            assert shape is not None
            po = self.layouts.payload_offset(tid)
            ds = shape.discriminant_size
            if isinstance(kind, ir.Option):
                nested = self.gen.is_option(kind.type)
                lines += [
                    "if v is None:",
                    "    " + self.disc_store(ds, "b", "o", "0"),
                    "else:",
                    "    " + self.disc_store(ds, "b", "o", "1"),
                    *(
                        "    " + s
                        for s in self.store(
                            kind.type, "v.value" if nested else "v", "b", f"o + {po}"
                        )
                    ),
                ]
            elif isinstance(kind, ir.Result):
                boxes: tuple[tuple[str, ir.Type | None], ...] = (
                    ("_runtime.Ok", kind.ok),
                    ("_runtime.Err", kind.err),
                )
                for i, (box, case_type) in enumerate(boxes):
                    lines.append(f"{'if' if i == 0 else 'elif'} isinstance(v, {box}):")
                    lines.append("    " + self.disc_store(ds, "b", "o", str(i)))
                    if case_type is not None:
                        lines += [
                            "    " + s for s in self.store(case_type, "v.value", "b", f"o + {po}")
                        ]
                lines += [
                    "else:",
                    "    raise TypeError(f'expected Ok(...) or Err(...), got {v!r}')",
                ]
            else:
                lines.append("t = type(v)")
                base = self.cls(tid)
                for i, c in enumerate(kind.cases):
                    lines.append(f"{'if' if i == 0 else 'elif'} t is {base}{camel(c.name)}:")
                    lines.append("    " + self.disc_store(ds, "b", "o", str(i)))
                    if c.type is not None:
                        lines += [
                            "    " + s for s in self.store(c.type, "v.value", "b", f"o + {po}")
                        ]
                lines += ["else:", "    raise TypeError(f'{v!r} is not a case of this variant')"]
        else:
            raise Unsupported(f"{type(kind).__name__.lower()} values")
        self.helpers[name] = [
            f"def {name}(rt: _core.CoreInstance, v: Any, b: bytearray, o: int) -> None:",
            *("    " + line for line in lines),
        ]
        return name

    # -- loading from guest memory --

    def load(self, ty: ir.Type, m: str, a: str) -> str:
        """An expression reading a value of type `ty` from memoryview `m` at address `a`."""
        k = self.kind(ty)
        if k == "bool":
            return f"{m}[{a}] != 0"
        if k == "u8":
            return f"{m}[{a}]"
        if k == "char":
            return f"_core.char({self.st('I')}.unpack_from({m}, {a})[0])"
        if k in _FORMATS:
            return f"{self.st(_FORMATS[k])}.unpack_from({m}, {a})[0]"
        pair = self.st("PAIR")
        if k == "string":
            return f"_core.text({m}, *{pair}.unpack_from({m}, {a}))"
        if k == "bytes":
            return f"_core.blob({m}, *{pair}.unpack_from({m}, {a}))"
        if isinstance(k, ir.List):
            return f"{self.list_get(self.named(ty))}({m}, *{pair}.unpack_from({m}, {a}))"
        if isinstance(k, ir.Handle):
            return self.handle_lift(k, f"{self.st('I')}.unpack_from({m}, {a})[0]")
        return f"{self.load_helper(self.named(ty))}({m}, {a})"

    def list_get(self, tid: int) -> str:
        name = f"_get_{tid}"
        if name in self.helpers:
            return name
        self.helpers[name] = []
        kind = self.resolve.types[tid].kind
        assert isinstance(kind, ir.List)
        size, align = self.layouts.size(kind.type), self.layouts.align(kind.type)
        self.helpers[name] = [
            f"def {name}(m: memoryview, p: int, n: int) -> Any:",
            f"    _core.check(m, p, {size} * n, {align})",
            f"    return [{self.load(kind.type, 'm', f'p + {size} * i')} for i in range(n)]",
        ]
        return name

    def load_helper(self, tid: int) -> str:
        name = f"_ld_{tid}"
        if name in self.helpers:
            return name
        self.helpers[name] = []
        kind = self.resolve.types[tid].kind
        lines: list[str] = []
        if isinstance(kind, ir.Record):
            types = [f.type for f in kind.fields]
            offs = self.layouts.field_offsets(types)
            # Built through the slot descriptors: a frozen dataclass's __init__ costs ~3x more.
            setters = f"_SET_{tid}"
            names = tuple(snake(f.name) for f in kind.fields)
            self.helpers[setters] = [
                f"{setters} = {self.use('_setters')}({self.cls(tid)}, {names!r})"
            ]
            lines.append(f"o = _NEW({self.cls(tid)})")
            for i, (t, o) in enumerate(zip(types, offs)):
                lines.append(f"{setters}[{i}](o, {self.load(t, 'm', f'a + {o}')})")
            lines.append("return o")
        elif isinstance(kind, ir.Tuple):
            offs = self.layouts.field_offsets(kind.types)
            args = ", ".join(self.load(t, "m", f"a + {o}") for t, o in zip(kind.types, offs))
            lines.append(f"return ({args},)")
        elif isinstance(kind, ir.Enum):
            table = self.enum_cases(tid)
            d = self.disc_load(self.layouts.size(tid), "m", "a")
            lines += [
                "try:",
                f"    return {table}[{d}]",
                "except IndexError:",
                "    raise _core.trap('enum case out of range') from None",
            ]
        elif isinstance(kind, ir.Flags):
            size = self.layouts.size(tid)
            mask = (1 << len(kind.flags)) - 1
            if size <= 4:
                fmt = {1: "B", 2: "H", 4: "I"}[size]
                read = f"{self.st(fmt)}.unpack_from(m, a)[0]"
                lines.append(f"return {self.cls(tid)}({read} & {mask:#x})")
            else:
                i32 = self.st("I")
                words = " | ".join(
                    f"({i32}.unpack_from(m, a + {4 * w})[0] << {32 * w})" for w in range(size // 4)
                )
                lines.append(f"return {self.cls(tid)}(({words}) & {mask:#x})")
        elif isinstance(kind, (ir.Option, ir.Result, ir.Variant)):
            shape = self.layouts.case_shape(tid)
            assert shape is not None
            po = self.layouts.payload_offset(tid)
            lines.append(f"d = {self.disc_load(shape.discriminant_size, 'm', 'a')}")
            if isinstance(kind, ir.Option):
                inner = self.load(kind.type, "m", f"a + {po}")
                if self.gen.is_option(kind.type):
                    inner = f"_runtime.Some({inner})"
                lines += ["if d == 0:", "    return None", "if d == 1:", f"    return {inner}"]
            elif isinstance(kind, ir.Result):
                cases: tuple[tuple[str, ir.Type | None], ...] = (
                    ("_runtime.Ok", kind.ok),
                    ("_runtime.Err", kind.err),
                )
                for i, (box, case_type) in enumerate(cases):
                    inner = "None" if case_type is None else self.load(case_type, "m", f"a + {po}")
                    lines += [f"if d == {i}:", f"    return {box}({inner})"]
            else:
                base = self.cls(tid)
                for i, c in enumerate(kind.cases):
                    if c.type is None:
                        lines += [f"if d == {i}:", f"    return {base}{camel(c.name)}()"]
                        continue
                    box = f"_BOX_{tid}_{i}"
                    self.helpers[box] = [f"{box} = {self.use('_boxer')}({base}{camel(c.name)})"]
                    inner = self.load(c.type, "m", f"a + {po}")
                    lines += [f"if d == {i}:", f"    return {box}({inner})"]
            lines.append("raise _core.trap('variant case out of range')")
        else:
            raise Unsupported(f"{type(kind).__name__.lower()} values")
        self.helpers[name] = [
            f"def {name}(m: memoryview, a: int) -> Any:",
            *("    " + line for line in lines),
        ]
        return name

    # -- flat values --

    def flat_lower(self, ty: ir.Type, v: str) -> tuple[list[str], list[str]]:
        """(statements, flat value expressions) for passing `v` as core arguments."""
        k = self.kind(ty)
        if k == "bool":
            return [], [f"{self.use('_bool')}({v})"]
        if k == "char":
            return [], [f"ord({v})"]
        if k == "s64":
            self.ranges.add(k)
            return [], [f"_s64({v}) & 0xFFFFFFFFFFFFFFFF"]  # i64 arguments travel unsigned
        if k in ("u8", "s8", "u16", "s16", "u32", "s32", "u64"):
            self.ranges.add(k)
            return [], [f"_{k}({v})"]  # range-checked: the core slot would wrap silently
        if k in _FORMATS:
            return [], [v]
        if k in ("string", "bytes"):
            t = self.fresh("s")
            enc = f"{v}.encode('utf-8')" if k == "string" else f"_runtime.as_bytes({v})"
            # (pointer, length) land in a scratch pair once `rt.allocate` has run
            return [f"{t} = bytearray(8)", f"rt.ref({t}, 0, 1, {enc})"], [
                f"*{self.st('PAIR')}.unpack_from({t}, 0)"  # (pointer, length)
            ]
        if isinstance(k, ir.List):
            t = self.fresh("l")
            put = self.list_put(self.named(ty))
            return [f"{t} = bytearray(8)", f"{put}(rt, {v}, {t}, 0)"], [
                f"*{self.st('PAIR')}.unpack_from({t}, 0)"  # (pointer, length)
            ]
        if isinstance(k, ir.Handle):
            return [], [self.handle_lower(k, v)]
        tid = self.named(ty)
        kind = self.resolve.types[tid].kind
        if isinstance(kind, (ir.Record, ir.Tuple)):
            if isinstance(kind, ir.Record):
                parts: list[tuple[ir.Type, str]] = [
                    (f.type, f"{v}.{snake(f.name)}") for f in kind.fields
                ]
            else:
                parts = [(t, f"{v}[{i}]") for i, t in enumerate(kind.types)]
            stmts: list[str] = []
            if isinstance(kind, ir.Tuple):
                n = len(kind.types)
                stmts.append(f"_runtime.as_tuple({v}, {n})")
            flats: list[str] = []
            for part_type, e in parts:
                part_stmts, part_flats = self.flat_lower(part_type, e)
                stmts += part_stmts
                flats += part_flats
            return stmts, flats
        if isinstance(kind, ir.Enum):
            return [], [f"{self.enum_index(tid)}[{v}]"]
        if isinstance(kind, ir.Flags):
            if len(kind.flags) > 32:
                raise Unsupported("more than 32 flags in a flat position")
            return [], [f"{self.use('_flags')}({v}, {self.cls(tid)})"]
        raise Unsupported(f"{type(kind).__name__.lower()} values as flat parameters")

    def flat_lift(self, ty: ir.Type, flat: list[str]) -> tuple[str, list[str]]:
        """(expression, remaining flat names) lifting a value from flat core values."""
        k = self.kind(ty)
        if isinstance(k, str) and k in _FLAT_LIFT:
            return _FLAT_LIFT[k].format(flat[0]), flat[1:]
        if k in ("string", "bytes"):
            fn = "_core.text" if k == "string" else "_core.blob"
            return f"{fn}(m, {flat[0]} & 0xFFFFFFFF, {flat[1]} & 0xFFFFFFFF)", flat[2:]
        if isinstance(k, ir.List):
            getter = self.list_get(self.named(ty))
            return f"{getter}(m, {flat[0]} & 0xFFFFFFFF, {flat[1]} & 0xFFFFFFFF)", flat[2:]
        if isinstance(k, ir.Handle):
            return self.handle_lift(k, f"{flat[0]} & 0xFFFFFFFF"), flat[1:]
        tid = self.named(ty)
        kind = self.resolve.types[tid].kind
        if isinstance(kind, (ir.Record, ir.Tuple)):
            types = (
                [f.type for f in kind.fields] if isinstance(kind, ir.Record) else list(kind.types)
            )
            parts = []
            for t in types:
                e, flat = self.flat_lift(t, flat)
                parts.append(e)
            if isinstance(kind, ir.Record):
                return f"{self.cls(tid)}({', '.join(parts)})", flat
            return f"({', '.join(parts)},)", flat
        if isinstance(kind, ir.Enum):
            return f"{self.use('_core_case')}({self.enum_cases(tid)}, {flat[0]})", flat[1:]
        if isinstance(kind, ir.Flags):
            if len(kind.flags) > 32:
                raise Unsupported("more than 32 flags in a flat position")
            mask = (1 << len(kind.flags)) - 1
            return f"{self.cls(tid)}({flat[0]} & {mask:#x})", flat[1:]
        if isinstance(kind, (ir.Variant, ir.Result, ir.Option)):
            shape = self.layouts.case_shape(tid)
            assert shape is not None
            if any(p is not None for p in shape.payloads):
                raise Unsupported("variants with payloads in flat positions")
            if isinstance(kind, ir.Result):
                return f"(_runtime.Ok(None) if {flat[0]} == 0 else _runtime.Err(None))", flat[1:]
            if isinstance(kind, ir.Variant):
                base = self.cls(tid)
                cases = ", ".join(f"{base}{camel(c.name)}" for c in kind.cases)
                return f"{self.use('_core_case')}(({cases},), {flat[0]})()", flat[1:]
        raise Unsupported(f"{type(kind).__name__.lower()} values in flat positions")

    def flat_result_lower(self, ty: ir.Type, v: str) -> str:
        """The core result (one flat value) for a host import returning `v`."""
        stmts, flats = self.flat_lower(ty, v)
        if stmts or len(flats) != 1 or flats[0].startswith("*"):
            raise Unsupported("flat results that need memory")
        (flat,) = self.layouts.flat(ty)
        if flat == "i32":
            return f"{self.use('_signed32')}({flats[0]})"
        if flat == "i64":
            return f"{self.use('_signed64')}({flats[0]})"
        return flats[0]

    # -- functions --

    def export_function(
        self, iface: int | None, fn: ir.Function, world: int | None = None
    ) -> tuple[str, list[str]]:
        """`def name(rt, *params) -> result` for calling the guest's export `fn`."""
        if fn.is_async:
            raise Unsupported(f"`{fn.name}`: async functions")
        key = self.gen.iface_key(iface) if iface is not None else None
        plan = function_plan(self.layouts, fn, "export", interface=key)
        core_name = f"{key}#{fn.name}" if key else fn.name
        fname = f"export_{self.gen.sig_name(iface, fn, world).lower()}"
        params = [snake(p.name) for p in fn.params]
        lines = [
            f"def {fname}(rt: _core.CoreInstance{''.join(', ' + p + ': Any' for p in params)}) -> Any:"
        ]
        body: list[str] = []
        args: list[str] = []
        if plan.signature.params_indirect:
            area = plan.param_area
            assert area is not None
            body.append(f"area = bytearray({area.size})")
            for p, off, pp in zip(params, area.offsets, fn.params):
                body += self.store(pp.type, p, "area", str(off))
            body += ["area_ref = bytearray(8)", f"rt.ref(area_ref, 0, {area.align}, area)"]
            args.append(f"{self.st('PAIR')}.unpack_from(area_ref, 0)[0]")
        else:
            for p, pp in zip(params, fn.params):
                stmts, flats = self.flat_lower(pp.type, p)
                body += stmts
                args += flats
        body.append("rt.allocate()")
        call_args = f"({args[0]},)" if len(args) == 1 else f"({', '.join(args)})"
        body.append(f"res = rt.invoke({core_name!r}, {call_args})")
        via = plan.result.via
        if via == "none":
            body.append("return None")
        elif via == "flat":
            assert fn.result is not None
            expr, _ = self.flat_lift(fn.result, ["res[0]"])
            if "(m," in expr:
                body.append("m = rt.view()")
            body += [f"out = {expr}", f"rt.post_return({core_name!r}, res)", "return out"]
        elif via == "returned-pointer":
            assert fn.result is not None
            body += [
                "m = rt.view()",
                "p = res[0] & 0xFFFFFFFF",
                f"_core.check(m, p, {self.layouts.size(fn.result)}, {self.layouts.align(fn.result)})",
                f"out = {self.load(fn.result, 'm', 'p')}",
                "del m",
                f"rt.post_return({core_name!r}, res)",
                "return out",
            ]
        else:
            raise Unsupported(f"`{fn.name}`: result via {via}")
        lines += ["    " + b for b in body]
        ins = list(plan.signature.params)
        outs = list(plan.signature.results)
        entry = f"({key!r}, {fn.name!r}): ({fname}, {core_name!r}, {ins!r}, {outs!r}, {plan.signature.needs_post_return})"
        return entry, lines

    def import_function(self, iface: int | None, fn: ir.Function) -> tuple[str, list[str]]:
        """An adapter the core module calls for the host import `fn` (canon lower).

        `iface` None: a function the world imports directly (core import module `$root`).
        """
        if fn.resource is not None or fn.is_async:
            raise Unsupported(f"`{fn.name}`: host-implemented resources and async functions")
        key = self.gen.iface_key(iface) if iface is not None else None
        plan: FunctionPlan = function_plan(self.layouts, fn, "import", interface=key)
        if iface is None:
            fname = f"import_root__{const(fn.name).lower()}"
        else:
            fname = f"import_{self.gen.sig_name(iface, fn).lower()}"
        ins = list(plan.signature.params)
        outs = list(plan.signature.results)
        flat_names = [f"a{i}" for i in range(len(ins))]
        lines = [
            f"def {fname}(rt: _core.CoreInstance, impl: Any{''.join(', ' + n + ': Any' for n in flat_names)}) -> Any:",
            "    m = rt.view()",
        ]
        args = []
        if plan.signature.params_indirect:
            area = plan.param_area
            assert area is not None
            lines.append(f"    _core.check(m, a0 & 0xFFFFFFFF, {area.size}, {area.align})")
            for p, off in zip(fn.params, area.offsets):
                args.append(self.load(p.type, "m", f"(a0 & 0xFFFFFFFF) + {off}"))
        else:
            rest = list(flat_names)
            for p in fn.params:
                expr, rest = self.flat_lift(p.type, rest)
                args.append(expr)
        lines.append("    del_m = None  # memory may move while the host runs")
        lines.append(f"    r = impl({', '.join(args)})")
        via = plan.result.via
        if via == "none":
            lines.append("    return None")
        elif via == "flat":
            assert fn.result is not None
            lines.append(f"    return {self.flat_result_lower(fn.result, 'r')}")
        elif via == "retptr":
            assert fn.result is not None
            size = self.layouts.size(fn.result)
            lines += [
                f"    b = bytearray({size})",
                *("    " + s for s in self.store(fn.result, "r", "b", "0")),
                "    rt.allocate()",
                f"    rt.write({flat_names[-1]} & 0xFFFFFFFF, b)",
                "    return None",
            ]
        else:
            raise Unsupported(f"`{fn.name}`: result via {via}")
        lines = [line for line in lines if "del_m" not in line]
        entry = f"({key or '$root'!r}, {fn.name!r}): ({fname}, {ins!r}, {outs!r})"
        return entry, lines


def generate_module(gen: Any) -> str:
    fg = FastGen(gen)
    functions: list[list[str]] = []
    world_tables: dict[str, list[str]] = {}
    unsupported: dict[str, str] = {}
    import_entries: dict[str, list[str]] = {}
    for wid in gen.worlds:
        world = gen.resolve.worlds[wid]
        saved = fg.snapshot()
        entries: list[str] = []
        funcs: list[list[str]] = []
        imports: dict[str, list[str]] = {}
        try:
            for entry in world.exports:
                item = entry.item
                if isinstance(item, ir.WorldInterface):
                    for fn in gen.resolve.interfaces[item.id].functions.values():
                        e, lines = fg.export_function(item.id, fn)
                        entries.append(e)
                        funcs.append(lines)
                elif isinstance(item, ir.WorldFunction):
                    e, lines = fg.export_function(None, item.function, wid)
                    entries.append(e)
                    funcs.append(lines)
            for entry in world.imports:
                item = entry.item
                if isinstance(item, ir.WorldInterface) and not gen.is_wasi(item.id):
                    for fn in gen.resolve.interfaces[item.id].functions.values():
                        name = f"{gen.iface_key(item.id)}#{fn.name}"
                        if name in import_entries:
                            continue
                        e, lines = fg.import_function(item.id, fn)
                        imports[name] = [e, *("\n".join(lines),)]
                elif isinstance(item, ir.WorldFunction):
                    # `$root` imports share one table: worlds must agree on their types
                    e, lines = fg.import_function(None, item.function)
                    name = f"$root#{item.function.name}"
                    body = "\n".join(lines)
                    if name in import_entries and import_entries[name][1] != body:
                        raise Unsupported(
                            f"`{item.function.name}`: another world imports a different "
                            "function of that name"
                        )
                    imports[name] = [e, body]
        except Unsupported as exc:
            fg.restore(saved)
            unsupported[world.name] = str(exc)
            continue
        world_tables[world.name] = entries
        functions += funcs
        for name, value in imports.items():
            import_entries[name] = value
    seen_funcs: set[str] = set()
    unique_functions = []
    for lines in functions:
        if lines[0] not in seen_funcs:
            seen_funcs.add(lines[0])
            unique_functions.append("\n".join(lines))
    helpers = ["\n".join(lines) for lines in fg.helpers.values()]
    import_functions = [v[1] for v in import_entries.values()]
    structs = [(name, fmt) for name, fmt in _STRUCTS if name in fg.structs]
    ranges = [(name, lo, hi) for name, (lo, hi) in _RANGES.items() if name in fg.ranges]
    typing_names = ["Any", "Callable"]  # Callable: the EXPORTS and IMPORTS tables
    if "_core_case" in fg.uses:
        typing_names.append("Sequence")
    uses = set(fg.uses)
    if "_boxer" in uses:
        uses.add("_setters")  # a boxer is made of setters
    text: str = gen.render(
        "_fast.py.j2",
        modules=sorted(fg.modules),
        helpers=helpers,
        functions=unique_functions,
        uses=uses,
        structs=structs,
        ranges=ranges,
        typing_names=typing_names,
        import_functions=import_functions,
        import_entries=[v[0] for v in import_entries.values()],
        world_tables=world_tables,
        unsupported=unsupported,
    )
    return text
