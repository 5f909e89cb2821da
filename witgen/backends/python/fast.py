"""The fast path of the Python host bindings: type-specialised canonical-ABI code, generated.

This is an emitter of the instruction stream (`witgen.abi.stream`): for every function a
world exports it spells the `host-call` program, and for every function it imports the
`host-callback` program, as straight-line Python over the guest's linear memory (`_fast.py`).
Nothing here decides how a value crosses (offsets, casts between joined flat types, where
parameters and results travel, when to allocate): the stream did. What is decided here is
only how Python says it:

- records, tuples, variants, options, results, enums and flags in memory get one helper per
  type and direction (`_ld_<id>`, `_st_<id>`: the stream's `CallType` boundary), lists one
  per list type (`_get_<id>`, `_put_<id>`); flat values are spelled inline;
- values headed for guest memory are written into host `bytearray`s; every block (string
  bytes, list elements, the parameter area) is only registered with `rt.ref`, and
  `rt.allocate()` makes all the `cabi_realloc` calls of one call in a single trip into wasm
  before the call (or before a pointer is needed earlier, as in a variant's flat payload);
- expressions used once are inlined; a `PrimLift` of a `Load` reads with the primitive's own
  struct format, and a `PrimLower` into a `Store` packs with it.

The generated functions run on `_core.CoreInstance` (the plugin's core module called
directly); the generic `wasmtime.component` path remains for what is refused here (the world
then uses it, with the reason in `_fast.UNSUPPORTED`): borrowed handles in results, futures,
streams and async functions. Resources the host implements are Python objects behind handles
in `CoreInstance` (`host_new`, `host_get`, `host_take`, `host_drop`). Maps and fixed-length lists are
spelled here (wasmtime-py cannot convert maps: for them this is the only path). Functions a
world imports directly are served as core imports from `$root`.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from typing import Any, Callable

from witgen import ir
from witgen.abi import Layouts
from witgen.abi.layout import INT_RANGES
from witgen.abi.signature import core_signature
from witgen.abi.stream import (
    PRIMITIVES,
    Alloc,
    Bitcast,
    Block,
    CallInterface,
    CallType,
    CallWasm,
    Const,
    EnumLift,
    EnumLower,
    FixedListLift,
    FixedListLower,
    FlagsLift,
    FlagsLower,
    HandleLift,
    HandleLower,
    Instruction,
    ListLift,
    ListLower,
    Load,
    MapLift,
    MapLower,
    PostReturn,
    PrimLift,
    PrimLower,
    Program,
    RecordLift,
    RecordLower,
    Return,
    Store,
    StringLift,
    StringLower,
    TupleLift,
    TupleLower,
    TypeStreams,
    Var,
    VariantLift,
    VariantLower,
    core_name,
    function_stream,
    walk,
)
from witgen.backends.common import Unsupported
from witgen.backends.python.names import const, snake

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
    "bool": "B",
}
# load/store widths of the stream -> struct format
_WIDTH_FORMATS = {
    "u8": "B",
    "s8": "b",
    "u16": "H",
    "s16": "h",
    "i32": "I",
    "i64": "Q",
    "f32": "f",
    "f64": "d",
}
# A primitive's struct code in a value slot of `wasmtime_func_call_unchecked`, for exports
# called without generated code (`_core.FLAT_CALLS`). As a parameter the code must range-check
# the WIT type and give the core value (the rest of the slot is written as zeros): s8 and s16
# would need sign extension to i32, bool and char their own checks, so they are absent. As a
# result the code reads the core value the way `_FLAT_LIFT` lifts it.
_SLOT_PARAM = {"u8": "B", "u16": "H", "u32": "I", "s32": "i", "u64": "Q", "s64": "q"}
_SLOT_PARAM |= {"f32": "f", "f64": "d"}
_SLOT_RESULT = _SLOT_PARAM | {"s8": "b", "s16": "h"}


# instructions whose spelling may register a block with `rt.ref` (strings, lists, maps, areas,
# and type helpers, which may hold any of them)
_REGISTERING = (StringLower, ListLower, MapLower, FixedListLower, Alloc, CallType)


def flat_call_formats(program: Program) -> tuple[str, str] | None:
    """(struct codes of the arguments, of the result or '') when the export's `host-call`
    program is only primitives lowered into their flat parameters, one core call and the result
    lifted from its flat result: the runtime then calls it straight from the WIT values
    (`_core.FLAT_CALLS`)."""
    body = program.body
    if not body or not isinstance(body[-1], Return):
        return None
    lowers = [i for i in body if isinstance(i, PrimLower)]
    calls = [i for i in body if isinstance(i, CallWasm)]
    lifts = [i for i in body if isinstance(i, PrimLift)]
    others = [i for i in body if not isinstance(i, (PrimLower, CallWasm, PrimLift, PostReturn))]
    if len(calls) != 1 or len(others) != 1 or len(lifts) > 1:
        return None
    (call,) = calls
    sig = call.signature
    if sig.params_indirect or sig.results_indirect:
        return None
    if [i.args[0] for i in lowers] != list(program.params):
        return None
    if [i.out[0] for i in lowers] != list(call.args):
        return None
    if any(i.prim not in _SLOT_PARAM for i in lowers):
        return None
    result = ""
    if lifts:
        (lift,) = lifts
        if lift.prim not in _SLOT_RESULT or lift.args != call.out or body[-1].args != lift.out:
            return None
        result = _SLOT_RESULT[lift.prim]
    elif body[-1].args or call.out:
        return None
    return "".join(_SLOT_PARAM[i.prim] for i in lowers), result


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
# stream.CASTS spelled in Python (payload flat values to and from their joined flat type)
# (helper of `_fast.py` or None, format)
_CASTS: dict[str, tuple[str | None, str]] = {
    "f32-to-i32": ("_f32_bits", "_f32_bits({})"),
    "i32-to-f32": ("_f32_from_bits", "_f32_from_bits({})"),
    "i32-to-i64": (None, "{} & 0xFFFFFFFF"),
    "i64-to-i32": (None, "{} & 0xFFFFFFFF"),
    "f32-to-i64": ("_f32_bits", "_f32_bits({})"),
    "i64-to-f32": ("_f32_from_bits", "_f32_from_bits({})"),
    "f64-to-i64": ("_f64_bits", "_f64_bits({})"),
    "i64-to-f64": ("_f64_from_bits", "_f64_from_bits({})"),
}

_STRUCTS = [
    (f"_{code}", f"<{code}") for code in ("B", "b", "H", "h", "I", "i", "Q", "q", "f", "d")
] + [("_PAIR", "<II")]
_RANGES = INT_RANGES
_SIMPLE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")
_COMPOUND = (ir.Record, ir.Tuple, ir.Variant, ir.Option, ir.Result, ir.Enum, ir.Flags)


def _plus(base: str, offset: int | str) -> str:
    if offset == 0 or offset == "0":
        return base
    if base == "0":
        return str(offset)
    return f"{base} + {offset}"


@dataclass
class _Value:
    """How a variable is spelled: an expression (`text` is called when used, so whatever it
    refers to is recorded as used only then), and for a (pointer, length) pair waiting for
    `rt.allocate()`, the scratch buffer and index it will be read from."""

    text: Callable[[], str]
    deferred: bool = False


@dataclass(frozen=True)
class _Address:
    """A place values are stored into: a host bytearray and the offset in it."""

    buf: str
    offset: str


class FastGen:
    def __init__(self, gen: Any) -> None:
        self.gen = gen
        self.resolve: ir.Resolve = gen.resolve
        self.layouts = Layouts(self.resolve)
        self.streams = TypeStreams(self.layouts, boundary=self.boundary)
        self.helpers: dict[str, list[str]] = {}  # helper name -> lines (in creation order)
        self.tmp = 0
        # what the emitted code refers to, recorded while emitting it: struct formats
        # (`_I`...), range checks (`u32`...), module-level helpers and interface modules
        self.structs: set[str] = set()
        self.ranges: set[str] = set()
        self.uses: set[str] = set()
        self.modules: set[str] = set()
        self.exported = False  # emitting an export's call (types seen from the export side)
        # the last export's `_core.FLAT_CALLS` entry, or None (`flat_call_formats`)
        self.flat_call: str | None = None

    def boundary(self, ty: ir.Type, op: str) -> bool:
        """Compound values in memory get one helper per type (`_ld_N`, `_st_N`)."""
        if op not in ("load", "store"):
            return False
        target = self.resolve.dealias(ty)
        return isinstance(target, int) and isinstance(self.resolve.types[target].kind, _COMPOUND)

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

    def rng(self, prim: str) -> str:
        self.ranges.add(prim)
        return f"_{prim}"

    def fresh(self, base: str) -> str:
        self.tmp += 1
        return f"{base}{self.tmp}"

    def dual_side(self, tid: int) -> bool:
        """Whether the type is seen from the export side of an interface the world both
        imports and exports (the plugin's own types and resources: other classes)."""
        tid = self.named(tid)
        owner = self.resolve.types[tid].owner
        return (
            self.exported
            and owner is not None
            and owner.kind == "interface"
            and owner.id in getattr(self.gen, "export_modules", {})
        )

    def side(self, tid: int) -> str:
        """The type's key in helper names: `<id>`, or `<id>e` for its export side."""
        tid = self.named(tid)
        return f"{tid}e" if self.dual_side(tid) else str(tid)

    def is_host_resource(self, resource: int) -> bool:
        return bool(self.gen.is_host_resource(resource)) and not self.dual_side(resource)

    def cls(self, tid: int) -> str:
        tid = self.named(tid)
        td = self.resolve.types[tid]
        module = self.gen.type_module(tid, exported=self.exported)
        if td.name is None or module is None:
            raise Unsupported(f"anonymous type {tid} has no class")
        self.modules.add(module)
        return f"_{module}.{self.gen.class_name(tid)}"

    def case_cls(self, tid: int, case: str) -> str:
        """The dataclass of a variant case, as the generated type modules name it."""
        cls = self.cls(tid)
        return f"{cls.rsplit('.', 1)[0]}.{self.gen.case_class_name(self.named(tid), case)}"

    def named(self, ty: ir.Type) -> int:
        """The type id that owns the structure (follows aliases)."""
        target = self.resolve.dealias(ty)
        assert isinstance(target, int)
        return target

    def kind(self, ty: ir.Type) -> Any:
        target = self.resolve.dealias(ty)
        return target if isinstance(target, str) else self.resolve.types[target].kind

    # -- per-type helpers, spelled from the type's own program

    def load_helper(self, ty: ir.Type) -> str:
        tid = self.named(ty)
        name = f"_ld_{self.side(tid)}"
        if name not in self.helpers:
            self.helpers[name] = []
            program = self.streams.load_program(tid)
            em = _Emitter(self, program, memory="m")
            em.bind(program.params[0], "a")
            body = em.body_returning(program.body, program.results[0])
            self.helpers[name] = [
                f"def {name}(m: memoryview, a: int) -> Any:",
                *("    " + line for line in body),
            ]
        return name

    def store_helper(self, ty: ir.Type) -> str:
        tid = self.named(ty)
        name = f"_st_{self.side(tid)}"
        if name not in self.helpers:
            self.helpers[name] = []
            program = self.streams.store_program(tid)
            em = _Emitter(self, program, memory="m")
            em.bind(program.params[0], "v")
            em.addresses[program.params[1]] = _Address("b", "o")
            body = em.statements(program.body)
            self.helpers[name] = [
                f"def {name}(rt: _core.CoreInstance, v: Any, b: bytearray, o: int) -> None:",
                *("    " + line for line in (body or ["pass"])),
            ]
        return name

    def list_put(self, inst: ListLower) -> str:
        """`_put_N(rt, v, into, at)`: a list's elements in one block, referenced from `into`."""
        tid = self.named(inst.type)
        name = f"_put_{self.side(tid)}"
        if name in self.helpers:
            return name
        self.helpers[name] = []
        code = self.bulk_format(inst.canonical, inst.element)
        if code is not None:  # the stream's canonical case: the whole list in one pack
            self.helpers[name] = [
                f"def {name}(rt: _core.CoreInstance, v: Any, into: bytearray, at: int) -> None:",
                "    if type(v) is not list:",
                "        v = _runtime.as_sequence(v)",
                f'    rt.ref(into, at, {inst.align}, struct.pack(f"<{{len(v)}}{code}", *v), len(v))',
            ]
            return name
        em = _Emitter(self, None, memory="m")
        elem, addr = inst.body.params
        em.bind(elem, "x")
        em.addresses[addr] = _Address("b", f"{inst.size} * i")
        body = em.statements(inst.body.body)
        self.helpers[name] = [
            f"def {name}(rt: _core.CoreInstance, v: Any, into: bytearray, at: int) -> None:",
            "    if type(v) is not list:",
            "        v = _runtime.as_sequence(v)",
            f"    b = bytearray({inst.size} * len(v))",
            "    for i, x in enumerate(v):",
            *("        " + line for line in (body or ["pass"])),
            f"    rt.ref(into, at, {inst.align}, b, len(v))",
        ]
        return name

    def list_get(self, inst: ListLift) -> str:
        """`_get_N(m, p, n)`: a list's elements read from guest memory."""
        tid = self.named(inst.type)
        name = f"_get_{self.side(tid)}"
        if name in self.helpers:
            return name
        self.helpers[name] = []
        code = self.bulk_format(inst.canonical, inst.element)
        if code is not None:  # the stream's canonical case: the whole list in one unpack
            self.helpers[name] = [
                f"def {name}(m: memoryview, p: int, n: int) -> Any:",
                f"    _core.check(m, p, {inst.size} * n, {inst.align})",
                f'    return list(struct.unpack_from(f"<{{n}}{code}", m, p))',
            ]
            return name
        em = _Emitter(self, None, memory="m")
        (addr,) = inst.body.params
        (result,) = inst.body.results
        em.bind(addr, "a")
        stmts = em.statements(inst.body.body)
        expr = em.ex(result)
        stmts += em.flush()
        head = [
            f"def {name}(m: memoryview, p: int, n: int) -> Any:",
            f"    _core.check(m, p, {inst.size} * n, {inst.align})",
        ]
        span = f"range(p, p + {inst.size} * n, {inst.size})"
        if not stmts:
            self.helpers[name] = head + [f"    return [{expr} for a in {span}]"]
        else:
            self.helpers[name] = head + [
                "    out = []",
                f"    for a in {span}:",
                *("        " + line for line in stmts),
                f"        out.append({expr})",
                "    return out",
            ]
        return name

    def map_put(self, inst: MapLower) -> str:
        """`_putm_N(rt, v, into, at)`: a map's entries in one block, referenced from `into`."""
        tid = self.named(inst.type)
        name = f"_putm_{self.side(tid)}"
        if name in self.helpers:
            return name
        self.helpers[name] = []
        em = _Emitter(self, None, memory="m")
        key, value, addr = inst.body.params
        em.bind(key, "k")
        em.bind(value, "x")
        em.addresses[addr] = _Address("b", f"{inst.size} * i")
        body = em.statements(inst.body.body)
        self.helpers[name] = [
            f"def {name}(rt: _core.CoreInstance, v: Any, into: bytearray, at: int) -> None:",
            "    if not isinstance(v, dict):",
            "        raise TypeError(f'expected dict, got {type(v).__name__}')",
            f"    b = bytearray({inst.size} * len(v))",
            "    for i, (k, x) in enumerate(v.items()):",
            *("        " + line for line in (body or ["pass"])),
            f"    rt.ref(into, at, {inst.align}, b, len(v))",
        ]
        return name

    def map_get(self, inst: MapLift) -> str:
        """`_getm_N(m, p, n)`: a map read from guest memory."""
        tid = self.named(inst.type)
        name = f"_getm_{self.side(tid)}"
        if name in self.helpers:
            return name
        self.helpers[name] = []
        em = _Emitter(self, None, memory="m")
        (addr,) = inst.body.params
        key, value = inst.body.results
        em.bind(addr, "a")
        stmts = em.statements(inst.body.body)
        kx, vx = em.ex(key), em.ex(value)
        stmts += em.flush()
        span = f"range(p, p + {inst.size} * n, {inst.size})"
        head = [
            f"def {name}(m: memoryview, p: int, n: int) -> Any:",
            f"    _core.check(m, p, {inst.size} * n, {inst.align})",
        ]
        if not stmts:
            self.helpers[name] = head + [f"    return {{{kx}: {vx} for a in {span}}}"]
        else:
            self.helpers[name] = head + [
                "    out = {}",
                f"    for a in {span}:",
                *("        " + line for line in stmts),
                f"        out[{kx}] = {vx}",
                "    return out",
            ]
        return name

    def bulk_format(self, canonical: bool, element: ir.Type) -> str | None:
        """The struct format letter of a canonical list's elements (not `u8`: bytes)."""
        prim = self.resolve.dealias(element)
        if not canonical or not isinstance(prim, str) or prim == "u8":
            return None
        return _FORMATS[prim]

    def enum_index(self, tid: int) -> str:
        """`_IDX_N`: enum member -> case index, for lowering."""
        tid = self.named(tid)
        table = f"_IDX_{self.side(tid)}"
        if table not in self.helpers:
            kind = self.resolve.types[tid].kind
            assert isinstance(kind, ir.Enum)
            cls = self.cls(tid)
            cases = ", ".join(f"{cls}.{const(c.name)}: {i}" for i, c in enumerate(kind.cases))
            self.helpers[table] = [f"{table} = {{{cases}}}"]
        return table

    def enum_cases(self, tid: int) -> str:
        """`_CASES_N`: case index -> enum member, for lifting."""
        tid = self.named(tid)
        table = f"_CASES_{self.side(tid)}"
        if table not in self.helpers:
            self.helpers[table] = [f"{table} = tuple({self.cls(tid)})"]
        return table

    def setters(self, tid: int, fields: tuple[str, ...]) -> str:
        tid = self.named(tid)
        table = f"_SET_{self.side(tid)}"
        if table not in self.helpers:
            names = tuple(snake(f) for f in fields)
            self.helpers[table] = [f"{table} = {self.use('_setters')}({self.cls(tid)}, {names!r})"]
        return table

    def boxer(self, tid: int, case: int, case_name: str) -> str:
        tid = self.named(tid)
        box = f"_BOX_{self.side(tid)}_{case}"
        if box not in self.helpers:
            self.helpers[box] = [f"{box} = {self.use('_boxer')}({self.case_cls(tid, case_name)})"]
        return box

    # -- functions

    def drop_function(self, key: str, resource: int) -> tuple[str, list[str]]:
        """The adapter serving `[resource-drop]<resource>` of a resource the host implements
        (imported under `key`, `$root` for the world's own)."""
        name = f"[resource-drop]{self.resolve.types[resource].name}"
        label = "".join(c if c.isalnum() else "_" for c in f"{key}__{name}").lower()
        fname = f"import_drop_{label}"
        lines = [
            f"def {fname}(rt: _core.CoreInstance, impl: Any, a0: Any) -> Any:",
            "    rt.host_drop(a0)",
            "    return None",
        ]
        return f"({key!r}, {name!r}): ({fname}, ['i32'], [])", lines

    def export_function(
        self,
        iface: int | None,
        fn: ir.Function,
        world: int | None = None,
        key: str | None = None,
    ) -> tuple[str, list[str]]:
        """`def name(rt, *params) -> result` for calling the guest's export `fn` (of the
        interface exported under the name `key`, by default its first)."""
        if fn.is_async:
            raise Unsupported(f"`{fn.name}`: async functions")
        if iface is not None and key is None:
            key = self.gen.iface_key(iface)
        self.exported = True
        try:
            return self._export_function(iface, fn, world, key)
        finally:
            self.exported = False

    def _export_function(
        self, iface: int | None, fn: ir.Function, world: int | None, key: str | None
    ) -> tuple[str, list[str]]:
        sig = core_signature(self.layouts, fn, "export")
        program = function_stream(
            self.layouts, fn, "host-call", interface=key, boundary=self.boundary
        )
        name = core_name(fn, key)
        fname = f"export_{self.gen.sig_name(iface, fn, world, key=key).lower()}"
        params = [snake(p.name) for p in fn.params]
        em = _Emitter(self, program, memory="m")
        for var, param in zip(program.params, params):
            em.bind(var, param)
        body = em.statements(program.body)
        lines = [
            f"def {fname}(rt: _core.CoreInstance{''.join(', ' + p + ': Any' for p in params)}) -> Any:",
            *("    " + line for line in body),
        ]
        entry = (
            f"({key!r}, {fn.name!r}): ({fname}, {name!r}, {list(sig.params)!r}, "
            f"{list(sig.results)!r}, {sig.needs_post_return})"
        )
        formats = flat_call_formats(program)
        self.flat_call = None if formats is None else f"{fname}: {formats!r}"
        return entry, lines

    def import_function(
        self, iface: int | None, fn: ir.Function, key: str | None = None
    ) -> tuple[str, list[str]]:
        """An adapter the core module calls for the host import `fn` (canon lower) of the
        interface imported under the name `key` (by default its first).

        `iface` None: a function the world imports directly (core import module `$root`).
        """
        if fn.is_async:
            raise Unsupported(f"`{fn.name}`: async functions")
        if iface is not None and key is None:
            key = self.gen.iface_key(iface)
        sig = core_signature(self.layouts, fn, "import")
        program = function_stream(
            self.layouts, fn, "host-callback", interface=key, boundary=self.boundary
        )
        if iface is None:
            plain = "".join(c if c.isalnum() else "_" for c in fn.name)  # `[method]r.f` too
            fname = f"import_root__{const(plain).lower()}"
        else:
            fname = f"import_{self.gen.sig_name(iface, fn, key=key).lower()}"
        flat_names = [f"a{i}" for i in range(len(sig.params))]
        em = _Emitter(self, program, memory="m")
        for var, arg in zip(program.params, flat_names):
            em.bind(var, arg)
        if sig.results_indirect:
            em.retptr = program.params[-1]
        body = em.statements(program.body)
        if any(em.reads_memory(inst) for inst in walk(program.body)):
            body.insert(0, "m = rt.view()")
        lines = [
            f"def {fname}(rt: _core.CoreInstance, impl: Any{''.join(', ' + n + ': Any' for n in flat_names)}) -> Any:",
            *("    " + line for line in body),
        ]
        entry = f"({key or '$root'!r}, {fn.name!r}): ({fname}, {list(sig.params)!r}, {list(sig.results)!r})"
        return entry, lines


class _Emitter:
    """Spells one program (or one block of it) as Python statements."""

    def __init__(self, fg: FastGen, program: Program | None, memory: str):
        self.fg = fg
        self.program = program
        self.m = memory
        self.values: dict[Var, _Value] = {}
        self.addresses: dict[Var, _Address] = {}
        self.defs: dict[Var, Instruction] = {}
        self.uses: Counter[Var] = Counter()
        self.skip: set[int] = set()  # ids of instructions already spelled by a neighbour
        self.pending: list[str] = []  # statements for values bound lazily
        self.retptr: Var | None = None
        self.area_refs: dict[Var, tuple[str, int]] = {}  # parameter area -> (buffer, align)
        self.all_insts: list[Instruction] = []
        self.lends = False  # host objects lent as `borrow` to the call: forgotten after it
        if program is not None:
            self._index(program.body)

    def _index(self, body: tuple[Instruction, ...] | list[Instruction]) -> None:
        for inst in walk(tuple(body)):
            self.all_insts.append(inst)
            for v in inst.out:
                self.defs[v] = inst
            for v in inst.args:
                self.uses[v] += 1
            for block in inst.blocks():
                for v in block.results:
                    self.uses[v] += 1

    # -- values

    def bind(self, var: Var, text: str, deferred: bool = False) -> None:
        self.values[var] = _Value(lambda: text, deferred)

    def lazy(self, var: Var, text: Callable[[], str]) -> None:
        self.values[var] = _Value(text)

    def ex(self, var: Var) -> str:
        value = self.values.get(var)
        if value is None:
            raise Unsupported(f"internal: variable %{var} used before it is spelled")
        return value.text()

    def simple(self, var: Var, out: list[str], base: str = "t") -> str:
        """The variable as a name (or dotted name), binding it to a local first if needed."""
        text = self.ex(var)
        if _SIMPLE.match(text):
            return text
        name = self.fg.fresh(base)
        out.append(f"{name} = {text}")
        self.bind(var, name)
        return name

    def flush(self) -> list[str]:
        out, self.pending = self.pending, []
        return out

    def reads_memory(self, inst: Instruction) -> bool:
        return isinstance(inst, (Load, StringLift, ListLift)) or (
            isinstance(inst, CallType) and inst.op == "load"
        )

    # -- blocks

    def statements(self, body: tuple[Instruction, ...] | list[Instruction]) -> list[str]:
        if self.program is None:
            self._index(body)
        out: list[str] = []
        for inst in body:
            if id(inst) in self.skip:
                continue
            self.spell(inst, out)
        return out

    def body_returning(self, body: tuple[Instruction, ...], result: Var) -> list[str]:
        """A helper's body that returns `result` (variant lifts return from each case)."""
        out: list[str] = []
        last = body[-1] if body else None
        for inst in body:
            if id(inst) in self.skip:
                continue
            if inst is last and isinstance(inst, VariantLift):
                self.variant_lift(inst, out, returning=True)
                return out
            self.spell(inst, out)
        out.append(f"return {self.ex(result)}")
        return out

    def block(self, block: Block, results: tuple[Var, ...], out: list[str]) -> list[str]:
        """A case block's statements, assigning its results to `results` (a phi)."""
        inner: list[str] = []
        for inst in block.body:
            if id(inst) not in self.skip:
                self.spell(inst, inner)
        if any(self.values[r].deferred for r in block.results if r in self.values):
            inner.append("rt.allocate()")  # a pointer is needed before the call: allocate now
        for phi, r in zip(results, block.results):
            inner.append(f"{self.phi_name(phi)} = {self.ex(r)}")
        return inner or ["pass"]

    def phi_name(self, var: Var, out: list[str] | None = None) -> str:
        """The local a variant's case blocks assign (declared `Any`: cases differ in type)."""
        value = self.values.get(var)
        if value is None:
            name = self.fg.fresh("f")
            self.bind(var, name)
            if out is not None:
                out.append(f"{name}: Any")
            return name
        return value.text()

    # -- instructions

    def spell(self, inst: Instruction, out: list[str]) -> None:
        method = getattr(self, "_" + type(inst).__name__, None)
        if method is None:
            raise Unsupported(f"{type(inst).__name__} on the fast path")
        method(inst, out)

    def _Const(self, inst: Const, out: list[str]) -> None:
        self.bind(inst.out[0], repr(float(inst.value)) if inst.core[0] == "f" else str(inst.value))

    def _PrimLower(self, inst: PrimLower, out: list[str]) -> None:
        (arg,), (o,) = inst.args, inst.out
        prim = inst.prim
        store = self._single_use(o, Store)
        if prim == "bool":
            fn = self.fg.use("_bool")
            self.lazy(o, lambda: f"{fn}({self.ex(arg)})")
        elif prim == "char":
            self.lazy(o, lambda: f"_core.char_code({self.ex(arg)})")
        elif prim in ("f32", "f64"):
            self.lazy(o, lambda: self.ex(arg))
        elif store is not None:
            self.lazy(o, lambda: self.ex(arg))  # struct.pack_into checks the range
        elif prim == "s64":
            self.lazy(o, lambda: f"{self.fg.rng('s64')}({self.ex(arg)}) & 0xFFFFFFFFFFFFFFFF")
        else:
            self.lazy(o, lambda: f"{self.fg.rng(prim)}({self.ex(arg)})")

    def _PrimLift(self, inst: PrimLift, out: list[str]) -> None:
        (arg,), (o,) = inst.args, inst.out
        prim = inst.prim
        load = self.defs.get(arg)
        if isinstance(load, Load) and self.uses[arg] == 1:
            addr = load.args[0]
            offset = load.offset
            self.skip.add(id(load))
            fmt = _FORMATS[prim]

            def read() -> str:
                at = _plus(self.ex(addr), offset)
                if fmt == "B":
                    return f"{self.m}[{at}]"
                return f"{self.fg.st(fmt)}.unpack_from({self.m}, {at})[0]"

            if prim == "bool":
                self.lazy(o, lambda: f"{read()} != 0")
            elif prim == "char":
                self.lazy(o, lambda: f"_core.char({read()})")
            else:
                self.lazy(o, read)
            return
        self.lazy(o, lambda: _FLAT_LIFT[prim].format(self.ex(arg)))

    def _Bitcast(self, inst: Bitcast, out: list[str]) -> None:
        (arg,), (o,) = inst.args, inst.out
        helper, text = _CASTS[inst.cast]
        if helper is not None:
            self.fg.use(helper)
            self.fg.st("f" if "f32" in helper else "d")
            self.fg.st("I" if "f32" in helper else "Q")
        # a pointer or length waiting for `rt.allocate()` is still waiting once cast
        source = self.values.get(arg)
        self.values[o] = _Value(
            lambda: text.format(self.ex(arg)), source is not None and source.deferred
        )

    def _Load(self, inst: Load, out: list[str]) -> None:
        (addr,), (o,) = inst.args, inst.out
        if inst.width == "u8":
            self.lazy(o, lambda: f"{self.m}[{_plus(self.ex(addr), inst.offset)}]")
            return
        fmt = _WIDTH_FORMATS[inst.width]
        self.lazy(
            o,
            lambda: f"{self.fg.st(fmt)}.unpack_from({self.m}, {_plus(self.ex(addr), inst.offset)})[0]",
        )

    def address(self, var: Var, out: list[str]) -> _Address:
        place = self.addresses.get(var)
        if place is None:
            if var != self.retptr:
                raise Unsupported("internal: a store to an address that is not a host buffer")
            program = self.program
            assert program is not None
            func = next(i for i in program.body if isinstance(i, CallInterface)).function
            assert func.result is not None
            out.append(f"b = bytearray({self.fg.layouts.size(func.result)})")
            place = self.addresses[var] = _Address("b", "0")
        return place

    def _Store(self, inst: Store, out: list[str]) -> None:
        value, addr = inst.args
        place = self.address(addr, out)
        at = _plus(place.offset, inst.offset)
        lower = self.defs.get(value)
        width = inst.width
        if isinstance(lower, PrimLower) and lower.prim not in ("bool", "char"):
            fmt = _FORMATS[lower.prim]
        else:
            fmt = _WIDTH_FORMATS[width]
        if fmt == "B":
            out.append(f"{place.buf}[{at}] = {self.ex(value)}")
        else:
            out.append(f"{self.fg.st(fmt)}.pack_into({place.buf}, {at}, {self.ex(value)})")

    def _pair_stores(self, p: Var, n: Var) -> tuple[Store, Store] | None:
        """The two stores that write a (pointer, length) pair next to each other, if that is
        all that is done with it."""
        sp, sn = self._single_use(p, Store), self._single_use(n, Store)
        if sp is None or sn is None or sp.args[0] != p or sn.args[0] != n:
            return None
        if sp.args[1] != sn.args[1] or sn.offset != sp.offset + 4:
            return None
        return sp, sn

    def _single_use(self, var: Var, kind: type) -> Any:
        if self.uses[var] != 1:
            return None
        for inst in self.all_insts:
            if var in inst.args:
                return inst if isinstance(inst, kind) else None
        return None

    def _reference(self, p: Var, n: Var, out: list[str], ref: Callable[[str, str], str]) -> None:
        """A block registered with `rt.ref`: its (pointer, length) written straight into the
        buffer it is stored in, or into a scratch pair read after `rt.allocate()`."""
        stores = self._pair_stores(p, n)
        if stores is not None:
            sp, sn = stores
            place = self.address(sp.args[1], out)
            out.append(ref(place.buf, _plus(place.offset, sp.offset)))
            self.skip.add(id(sp))
            self.skip.add(id(sn))
            return
        scratch = self.fg.fresh("s")
        out.append(f"{scratch} = bytearray(8)")
        out.append(ref(scratch, "0"))
        pair = self.fg.st("PAIR")
        self.bind(p, f"{pair}.unpack_from({scratch}, 0)[0]", deferred=True)
        self.bind(n, f"{pair}.unpack_from({scratch}, 0)[1]", deferred=True)

    def _StringLower(self, inst: StringLower, out: list[str]) -> None:
        if inst.encoding != "utf8":
            raise Unsupported(f"{inst.encoding} strings")
        (arg,), (p, n) = inst.args, inst.out
        text = self.ex(arg)
        self._reference(
            p, n, out, lambda buf, at: f"rt.ref({buf}, {at}, 1, {text}.encode('utf-8'))"
        )

    def _StringLift(self, inst: StringLift, out: list[str]) -> None:
        (o,) = inst.out
        pair = self._pair_args(inst.args)
        self.lazy(o, lambda: f"_core.text({self.m}, {pair()})")

    def _pair_args(self, args: tuple[Var, ...]) -> Callable[[], str]:
        """A (pointer, length) argument pair: one `_PAIR` read when both come from memory."""
        p, n = args
        lp, ln = self.defs.get(p), self.defs.get(n)
        if (
            isinstance(lp, Load)
            and isinstance(ln, Load)
            and self.uses[p] == 1
            and self.uses[n] == 1
            and lp.args == ln.args
            and ln.offset == lp.offset + 4
        ):
            self.skip.add(id(lp))
            self.skip.add(id(ln))
            addr, offset = lp.args[0], lp.offset
            return lambda: (
                f"*{self.fg.st('PAIR')}.unpack_from({self.m}, {_plus(self.ex(addr), offset)})"
            )
        return lambda: f"{self.ex(p)} & 0xFFFFFFFF, {self.ex(n)} & 0xFFFFFFFF"

    def _ListLower(self, inst: ListLower, out: list[str]) -> None:
        (arg,), (p, n) = inst.args, inst.out
        value = self.ex(arg)
        if inst.canonical and self.fg.resolve.dealias(inst.element) == "u8":
            data = f"_runtime.as_bytes({value})"
            self._reference(p, n, out, lambda buf, at: f"rt.ref({buf}, {at}, 1, {data})")
            return
        put = self.fg.list_put(inst)
        self._reference(p, n, out, lambda buf, at: f"{put}(rt, {value}, {buf}, {at})")

    def _ListLift(self, inst: ListLift, out: list[str]) -> None:
        (o,) = inst.out
        pair = self._pair_args(inst.args)
        if inst.canonical and self.fg.resolve.dealias(inst.element) == "u8":
            self.lazy(o, lambda: f"_core.blob({self.m}, {pair()})")
            return
        get = self.fg.list_get(inst)
        self.lazy(o, lambda: f"{get}({self.m}, {pair()})")

    def _MapLower(self, inst: MapLower, out: list[str]) -> None:
        (arg,), (p, n) = inst.args, inst.out
        value = self.ex(arg)
        put = self.fg.map_put(inst)
        self._reference(p, n, out, lambda buf, at: f"{put}(rt, {value}, {buf}, {at})")

    def _MapLift(self, inst: MapLift, out: list[str]) -> None:
        (o,) = inst.out
        pair = self._pair_args(inst.args)
        get = self.fg.map_get(inst)
        self.lazy(o, lambda: f"{get}({self.m}, {pair()})")

    def _FixedListLower(self, inst: FixedListLower, out: list[str]) -> None:
        v = self.simple(inst.args[0], out, "u")
        out.append(f"_runtime.as_fixed({v}, {inst.length})")
        for i, var in enumerate(inst.out):
            self.bind(var, f"{v}[{i}]")

    def _FixedListLift(self, inst: FixedListLift, out: list[str]) -> None:
        args = inst.args
        if self.fg.resolve.dealias(inst.element) == "u8":  # bytes, as list<u8> is
            self.lazy(inst.out[0], lambda: f"bytes(({', '.join(self.ex(a) for a in args)},))")
            return
        self.lazy(inst.out[0], lambda: f"[{', '.join(self.ex(a) for a in args)}]")

    def _RecordLower(self, inst: RecordLower, out: list[str]) -> None:
        v = self.simple(inst.args[0], out, "r")
        for var, field in zip(inst.out, inst.fields):
            self.bind(var, f"{v}.{snake(field)}")

    def _RecordLift(self, inst: RecordLift, out: list[str]) -> None:
        tid = self.fg.named(inst.type)
        setters = self.fg.setters(tid, inst.fields)
        name = self.fg.fresh("o")
        out.append(f"{name} = _NEW({self.fg.cls(tid)})")
        for i, var in enumerate(inst.args):
            out.append(f"{setters}[{i}]({name}, {self.ex(var)})")
        self.bind(inst.out[0], name)

    def _TupleLower(self, inst: TupleLower, out: list[str]) -> None:
        v = self.simple(inst.args[0], out, "u")
        out.append(f"_runtime.as_tuple({v}, {inst.count})")
        for i, var in enumerate(inst.out):
            self.bind(var, f"{v}[{i}]")

    def _TupleLift(self, inst: TupleLift, out: list[str]) -> None:
        args = inst.args
        self.lazy(inst.out[0], lambda: f"({', '.join(self.ex(a) for a in args)},)")

    def _FlagsLower(self, inst: FlagsLower, out: list[str]) -> None:
        cls = self.fg.cls(self.fg.named(inst.type))
        bits = f"{self.fg.use('_flags')}({self.ex(inst.args[0])}, {cls})"
        if len(inst.out) == 1:
            self.bind(inst.out[0], bits)
            return
        name = self.fg.fresh("w")
        out.append(f"{name} = {bits}")
        for i, var in enumerate(inst.out):
            shifted = name if i == 0 else f"({name} >> {32 * i})"
            self.bind(var, f"{shifted} & 0xFFFFFFFF")

    def _FlagsLift(self, inst: FlagsLift, out: list[str]) -> None:
        tid = self.fg.named(inst.type)
        cls = self.fg.cls(tid)
        mask = (1 << len(inst.flags)) - 1
        args = inst.args

        def text() -> str:
            if len(args) == 1:
                return f"{cls}({self.ex(args[0])} & {mask:#x})"
            words = " | ".join(
                (
                    f"(({self.ex(w)} & 0xFFFFFFFF) << {32 * i})"
                    if i
                    else f"({self.ex(w)} & 0xFFFFFFFF)"
                )
                for i, w in enumerate(args)
            )
            return f"{cls}(({words}) & {mask:#x})"

        self.lazy(inst.out[0], text)

    def _EnumLower(self, inst: EnumLower, out: list[str]) -> None:
        table = self.fg.enum_index(self.fg.named(inst.type))
        arg = inst.args[0]
        self.lazy(inst.out[0], lambda: f"{table}[{self.ex(arg)}]")

    def _EnumLift(self, inst: EnumLift, out: list[str]) -> None:
        table = self.fg.enum_cases(self.fg.named(inst.type))
        arg = inst.args[0]
        case = self.fg.use("_core_case")
        self.lazy(inst.out[0], lambda: f"{case}({table}, {self.ex(arg)})")

    def _VariantLower(self, inst: VariantLower, out: list[str]) -> None:
        v = self.simple(inst.args[0], out, "c")
        tid = self.fg.named(inst.type)
        kind = self.fg.resolve.types[tid].kind
        phis = inst.out
        for phi in phis:
            self.phi_name(phi, out)
        branches: list[tuple[str, str | None]] = []  # (condition, payload expression)
        if inst.kind == "option":
            assert isinstance(kind, ir.Option)
            nested = self.fg.gen.is_option(kind.type)
            branches = [(f"{v} is None", None), ("", f"{v}.value" if nested else v)]
        elif inst.kind == "result":
            branches = [
                (f"isinstance({v}, _runtime.Ok)", f"{v}.value"),
                (f"isinstance({v}, _runtime.Err)", f"{v}.value"),
            ]
        else:
            t = self.fg.fresh("k")
            out.append(f"{t} = type({v})")
            branches = [
                (f"{t} is {self.fg.case_cls(tid, case)}", f"{v}.value") for case in inst.cases
            ]
        for i, ((cond, payload), block) in enumerate(zip(branches, inst.case_blocks)):
            if block.params:
                assert payload is not None
                self.bind(block.params[0], payload)
            inner = self.block(block, phis, out)
            if cond:
                out.append(f"{'if' if i == 0 else 'elif'} {cond}:")
            else:
                out.append("else:")
            out.extend("    " + line for line in inner)
        if inst.kind == "result":
            out += ["else:", f"    raise TypeError(f'expected Ok(...) or Err(...), got {{{v}!r}}')"]
        elif inst.kind == "variant":
            out += ["else:", f"    raise TypeError(f'{{{v}!r}} is not a case of this variant')"]

    def _VariantLift(self, inst: VariantLift, out: list[str]) -> None:
        self.variant_lift(inst, out, returning=False)

    def variant_lift(self, inst: VariantLift, out: list[str], returning: bool) -> None:
        tid = self.fg.named(inst.type)
        kind = self.fg.resolve.types[tid].kind
        d = self.fg.fresh("d")
        out.append(f"{d} = {self.ex(inst.args[0])}")
        (o,) = inst.out
        target = None if returning else self.phi_name(o, out)
        for i, (block, payload_type) in enumerate(zip(inst.case_blocks, inst.payloads)):
            inner: list[str] = []
            for sub in block.body:
                if id(sub) not in self.skip:
                    self.spell(sub, inner)
            payload = self.ex(block.results[0]) if block.results else None
            if inst.kind == "option":
                if payload is None:
                    value = "None"
                else:
                    assert isinstance(kind, ir.Option)
                    value = (
                        f"_runtime.Some({payload})" if self.fg.gen.is_option(kind.type) else payload
                    )
            elif inst.kind == "result":
                value = f"_runtime.{'Ok' if i == 0 else 'Err'}({payload or 'None'})"
            elif payload is None:
                value = f"{self.fg.case_cls(tid, inst.cases[i])}()"
            else:
                value = f"{self.fg.boxer(tid, i, inst.cases[i])}({payload})"
            inner.append(f"return {value}" if returning else f"{target} = {value}")
            out.append(f"{'if' if i == 0 else 'elif'} {d} == {i}:")
            out.extend("    " + line for line in inner)
        message = "variant case out of range"
        if returning:
            out.append(f"raise _core.trap({message!r})")
        else:
            out += ["else:", f"    raise _core.trap({message!r})"]

    def _HandleLower(self, inst: HandleLower, out: list[str]) -> None:
        arg = inst.args[0]
        if self.fg.is_host_resource(inst.resource):  # a Python object: a new handle
            own = inst.handle == "own"
            if not own:
                self.lends = True
            self.lazy(inst.out[0], lambda: f"rt.host_new({self.ex(arg)}, {own})")
            return
        if inst.handle == "borrow":
            self.lazy(inst.out[0], lambda: f"{self.ex(arg)}._handle_for_call(False)")
        else:
            self.lazy(inst.out[0], lambda: f"rt.own_in({self.ex(arg)}._handle_for_call(True))")

    def _HandleLift(self, inst: HandleLift, out: list[str]) -> None:
        if self.fg.is_host_resource(inst.resource):  # the Python object behind it
            how = "host_take" if inst.handle == "own" else "host_get"
            handle = inst.args[0]
            self.lazy(inst.out[0], lambda: f"rt.{how}({self.ex(handle)})")
            return
        if inst.handle != "own":
            raise Unsupported("borrowed handles in results")
        cls = self.fg.cls(inst.resource)
        arg = inst.args[0]
        self.lazy(inst.out[0], lambda: f"_core.take({cls}, {self.ex(arg)})")

    def _CallType(self, inst: CallType, out: list[str]) -> None:
        if inst.op == "load":
            helper = self.fg.load_helper(inst.type)
            addr = inst.args[0]
            self.lazy(
                inst.out[0], lambda: f"{helper}({self.m}, {_plus(self.ex(addr), inst.offset)})"
            )
            return
        if inst.op == "store":
            helper = self.fg.store_helper(inst.type)
            value, addr = inst.args
            place = self.address(addr, out)
            out.append(
                f"{helper}(rt, {self.ex(value)}, {place.buf}, {_plus(place.offset, inst.offset)})"
            )
            return
        raise Unsupported(f"internal: a {inst.op} boundary on the fast path")

    def _Alloc(self, inst: Alloc, out: list[str]) -> None:
        (o,) = inst.out
        name = self.fg.fresh("area")
        out.append(f"{name} = bytearray({inst.size})")
        self.addresses[o] = _Address(name, "0")
        self.area_refs[o] = (name, inst.align)

    def _CallWasm(self, inst: CallWasm, out: list[str]) -> None:
        # blocks for guest memory are only registered by these (and the parameter area)
        registers = bool(self.area_refs) or any(
            isinstance(i, _REGISTERING) for i in walk(self._before(inst))
        )
        args: list[str] = []
        for var in inst.args:
            if var in self.area_refs:  # the parameter area is complete: register it
                buf, align = self.area_refs.pop(var)
                ref = self.fg.fresh("area_ref")
                out += [f"{ref} = bytearray(8)", f"rt.ref({ref}, 0, {align}, {buf})"]
                self.bind(var, f"{self.fg.st('PAIR')}.unpack_from({ref}, 0)[0]", deferred=True)
        i = 0
        while i < len(inst.args):
            var = inst.args[i]
            text = self.ex(var)
            nxt = self.ex(inst.args[i + 1]) if i + 1 < len(inst.args) else ""
            if text.endswith(")[0]") and nxt == text[:-2] + "1]":
                args.append("*" + text[:-3])  # a scratch (pointer, length) pair: one read
                i += 2
                continue
            args.append(text)
            i += 1
        if registers:
            out.append("rt.allocate()")
        call_args = f"({args[0]},)" if len(args) == 1 else f"({', '.join(args)})"
        if self.lends:
            out += [
                "try:",
                f"    res = rt.invoke({inst.name!r}, {call_args})",
                "finally:",
                "    rt.host_end_lends()",
            ]
        else:
            out.append(f"res = rt.invoke({inst.name!r}, {call_args})")
        self.name = inst.name
        sig = inst.signature
        rest = self._after(inst)
        if sig.results_indirect:
            program = self.program
            assert program is not None
            area = sig.result_area
            assert area is not None
            out += [
                "m = rt.view()",
                "p = res[0] & 0xFFFFFFFF",
                f"_core.check(m, p, {area.size}, {area.align})",
            ]
            self.bind(inst.out[0], "p")
        else:
            if any(self.reads_memory(i) for i in rest):
                out.append("m = rt.view()")
            for j, var in enumerate(inst.out):
                self.bind(var, f"res[{j}]")

    def _before(self, inst: Instruction) -> tuple[Instruction, ...]:
        assert self.program is not None
        body = self.program.body
        return body[: next(i for i, x in enumerate(body) if x is inst)]

    def _after(self, inst: Instruction) -> list[Instruction]:
        assert self.program is not None
        body = self.program.body
        at = next(i for i, x in enumerate(body) if x is inst)
        return list(walk(body[at + 1 :]))

    def _PostReturn(self, inst: PostReturn, out: list[str]) -> None:
        # the result is lifted before the guest may free what it points to
        program = self.program
        assert program is not None
        if program.results:
            (result,) = program.results
            out.append(f"out = {self.ex(result)}")
            self.bind(result, "out")
        out.append(f"rt.post_return({inst.name!r}, res)")

    def _CallInterface(self, inst: CallInterface, out: list[str]) -> None:
        args = ", ".join(self.ex(a) for a in inst.args)
        if inst.out:
            out.append(f"r = impl({args})")
            self.bind(inst.out[0], "r")
        else:
            out.append(f"impl({args})")

    def _Return(self, inst: Return, out: list[str]) -> None:
        program = self.program
        assert program is not None
        if self.retptr is not None:  # host-callback: the result went into the retptr's area
            if self.retptr in self.addresses:
                out += [
                    "rt.allocate()",
                    f"rt.write({self.ex(self.retptr)} & 0xFFFFFFFF, b)",
                ]
            out.append("return None")
            return
        if not inst.args:
            out.append("return None")
            return
        if len(inst.args) != 1:
            raise Unsupported("more than one core result")
        (var,) = inst.args
        text = self.ex(var)
        call = next((i for i in program.body if isinstance(i, CallInterface)), None)
        if call is None:  # host-call: the WIT result
            out.append(f"return {text}")
            return
        value = self.values[var]
        if value.deferred:
            out.append("rt.allocate()")
        core = program.body and self._core_result_type()
        if core == "i32":
            out.append(f"return {self.fg.use('_signed32')}({text})")
        elif core == "i64":
            out.append(f"return {self.fg.use('_signed64')}({text})")
        else:
            out.append(f"return {text}")

    def _core_result_type(self) -> str:
        program = self.program
        assert program is not None
        func = next(i for i in program.body if isinstance(i, CallInterface)).function
        assert func.result is not None
        (flat,) = self.fg.layouts.flat(func.result)
        return flat


def generate_module(gen: Any) -> str:
    fg = FastGen(gen)
    functions: list[list[str]] = []
    world_tables: dict[str, list[str]] = {}
    unsupported: dict[str, str] = {}
    import_entries: dict[str, list[str]] = {}
    flat_calls: list[str] = []  # `_core.FLAT_CALLS` entries
    for wid in gen.worlds:
        if wid in gen.async_worlds:
            continue  # run by the async host (`_asyncvals`), not by this code
        world = gen.resolve.worlds[wid]
        saved = fg.snapshot()
        entries: list[str] = []
        flat: list[str] = []
        funcs: list[list[str]] = []
        imports: dict[str, list[str]] = {}
        try:
            for entry in world.exports:
                item = entry.item
                if isinstance(item, ir.WorldInterface):
                    key = gen.resolve.world_key_name(entry.key)  # each name is an instance
                    for fn in gen.resolve.interfaces[item.id].functions.values():
                        e, lines = fg.export_function(item.id, fn, key=key)
                        entries.append(e)
                        funcs.append(lines)
                        if fg.flat_call is not None:
                            flat.append(fg.flat_call)
                elif isinstance(item, ir.WorldFunction):
                    e, lines = fg.export_function(None, item.function, wid)
                    entries.append(e)
                    funcs.append(lines)
                    if fg.flat_call is not None:
                        flat.append(fg.flat_call)
            for entry in world.imports:
                item = entry.item
                if isinstance(item, ir.WorldInterface) and not gen.is_wasi(item.id):
                    key = gen.resolve.world_key_name(entry.key)
                    for fn in gen.resolve.interfaces[item.id].functions.values():
                        name = f"{key}#{fn.name}"
                        if name in import_entries:
                            continue
                        e, lines = fg.import_function(item.id, fn, key=key)
                        imports[name] = [e, *("\n".join(lines),)]
                    for tid in gen.resolve.interfaces[item.id].types.values():
                        owner = gen.resolve.types[tid].owner
                        if isinstance(gen.resolve.types[tid].kind, ir.Resource) and (
                            owner is not None and owner.id == item.id
                        ):
                            e, lines = fg.drop_function(key, tid)
                            imports[f"{key}#drop#{tid}"] = [e, "\n".join(lines)]
                elif isinstance(item, ir.WorldType) and isinstance(
                    gen.resolve.types[item.id].kind, ir.Resource
                ):
                    e, lines = fg.drop_function("$root", item.id)
                    imports[f"$root#drop#{item.id}"] = [e, "\n".join(lines)]
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
        flat_calls += [f for f in flat if f not in flat_calls]
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
        flat_calls=flat_calls,
        unsupported=unsupported,
    )
    return text
