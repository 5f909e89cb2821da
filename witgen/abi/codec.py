"""Lifting and lowering WIT values: flat core values and linear memory <-> Python values.

This follows CanonicalABI.md rule by rule (`load`, `store`, `lift_flat`, `lower_flat` and their
helpers); the Python value model is documented in `witgen.abi.values`. Every trap condition of
the spec raises `AbiTrap`; a Python value that does not fit its type raises `AbiValueError`.

How a value crosses is not decided here: it is the instruction stream of `witgen.abi.stream`
(the same one every backend spells), and this module is its reference interpreter. Each WIT
type's four programs (lower, lift, store, load) are compiled once per `AbiContext` by
`Interpreter` into closures, one per instruction, that already know offsets, formats and case
tables (a `TypeCodec`), so lifting a batch of records does no dispatch per value. The
Hypothesis round trips against wasmtime (tests/abi) therefore test the stream itself.
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass
from typing import Any, Callable, Sequence

from witgen import ir
from witgen.abi.layout import Layouts, align_to
from witgen.abi.memory import Memory
from witgen.abi.stream import (
    Alloc,
    Bitcast,
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
    PrimLift,
    PrimLower,
    Program,
    RecordLift,
    RecordLower,
    ReturnArea,
    Store,
    StringLift,
    StringLower,
    TupleLift,
    TupleLower,
    TypeStreams,
    VariantLift,
    VariantLower,
    walk,
)
from witgen.abi.strings import check_encoding, load_string_from_range, store_string_into_range
from witgen.abi.values import (
    AbiError,
    AbiTrap,
    AbiValueError,
    Err,
    FlatValue,
    Ok,
    Some,
    VariantValue,
)

M32 = 0xFFFF_FFFF
M64 = 0xFFFF_FFFF_FFFF_FFFF
CANONICAL_FLOAT32_NAN = 0x7FC0_0000
CANONICAL_FLOAT64_NAN = 0x7FF8_0000_0000_0000
NAN: float = float(struct.unpack("<d", struct.pack("<Q", CANONICAL_FLOAT64_NAN))[0])

_pack_into = struct.pack_into
_unpack_from = struct.unpack_from

Buffer = Any  # a bytearray or ctypes array over linear memory
Loader = Callable[[Buffer, int], Any]
Storer = Callable[[Any, int], None]
Lifter = Callable[[Sequence[FlatValue], int], Any]
Lowerer = Callable[[Any, list[FlatValue]], None]


@dataclass(frozen=True)
class TypeCodec:
    """Lift/lower functions of one type, specialised for one `AbiContext`.

    `load(buf, ptr)` reads a value at `ptr` (bounds already checked by the caller);
    `store(value, ptr)` writes one (it may call `cabi_realloc`); `lift(flat, pos)` reads the
    value from `flat[pos : pos + len(flat_types)]`; `lower(value, out)` appends flat values.
    """

    size: int
    align: int
    flat_types: tuple[str, ...]
    load: Loader
    store: Storer
    lift: Lifter
    lower: Lowerer


# ---------------------------------------------------------------------------- scalar helpers


def f32_round(v: Any) -> float:
    """A Python float rounded to the nearest f32 (NaN becomes the canonical NaN)."""
    if not isinstance(v, (float, int)) or isinstance(v, bool):
        raise AbiValueError(f"expected a float for f32, got {type(v).__name__}")
    x = float(v)
    if x != x:
        return NAN
    try:
        return float(struct.unpack("<f", struct.pack("<f", x))[0])
    except OverflowError:
        return math.copysign(math.inf, x)


def f32_bits(v: float) -> int:
    if v != v:
        return CANONICAL_FLOAT32_NAN
    return int(struct.unpack("<I", struct.pack("<f", v))[0])


def f64_bits(v: float) -> int:
    if v != v:
        return CANONICAL_FLOAT64_NAN
    return int(struct.unpack("<Q", struct.pack("<d", v))[0])


def f32_from_bits(i: int) -> float:
    v = float(struct.unpack("<f", struct.pack("<I", i & M32))[0])
    return NAN if v != v else v


def f64_from_bits(i: int) -> float:
    v = float(struct.unpack("<d", struct.pack("<Q", i & M64))[0])
    return NAN if v != v else v


def canonical_f64(v: Any) -> float:
    if not isinstance(v, (float, int)) or isinstance(v, bool):
        raise AbiValueError(f"expected a float for f64, got {type(v).__name__}")
    x = float(v)
    return NAN if x != x else x


def char_from_i32(i: int) -> str:
    """CanonicalABI.md `convert_i32_to_char`."""
    if i >= 0x110000:
        raise AbiTrap(f"invalid char: code point {i:#x} is above U+10FFFF")
    if 0xD800 <= i <= 0xDFFF:
        raise AbiTrap(f"invalid char: code point {i:#x} is a surrogate")
    return chr(i)


def char_to_i32(v: Any) -> int:
    if not isinstance(v, str) or len(v) != 1:
        raise AbiValueError(f"expected a one-character str for char, got {v!r}")
    i = ord(v)
    if 0xD800 <= i <= 0xDFFF:
        raise AbiValueError(f"a char cannot be the surrogate {i:#x}")
    return i


_INT_FORMATS = {
    "u8": ("B", 8, False),
    "s8": ("b", 8, True),
    "u16": ("H", 16, False),
    "s16": ("h", 16, True),
    "u32": ("I", 32, False),
    "s32": ("i", 32, True),
    "u64": ("Q", 64, False),
    "s64": ("q", 64, True),
}
_DISC_FORMATS = {1: "<B", 2: "<H", 4: "<I"}

# Payload coercions of CanonicalABI.md `lift_flat_variant` (have joined -> want case type)
# and `lower_flat_variant` (have case type -> want joined).
_LIFT_COERCE: dict[tuple[str, str], Callable[[Any], Any]] = {
    ("i32", "f32"): f32_from_bits,
    ("i64", "i32"): lambda v: v & M32,
    ("i64", "f32"): lambda v: f32_from_bits(v & M32),
    ("i64", "f64"): f64_from_bits,
}
_LOWER_COERCE: dict[tuple[str, str], Callable[[Any], Any]] = {
    ("f32", "i32"): f32_bits,
    ("i32", "i64"): lambda v: v,
    ("f32", "i64"): f32_bits,
    ("f64", "i64"): f64_bits,
}


def _type_name(v: Any) -> str:
    return type(v).__name__


class AbiContext:
    """What lifting and lowering need (CanonicalABI.md's `LiftLowerContext`): the layouts of a
    Resolve, the linear memory (with its `cabi_realloc`) and the string encoding.

    `memory` may be None for values that never touch memory (scalars, enums, flags...).
    Codecs are compiled lazily and kept for the life of the context, and they read
    `self.memory` at each use: keep one context per (Resolve, encoding) and assign `memory`
    when it changes, rather than building a new context per call.
    """

    def __init__(
        self,
        layouts: Layouts,
        memory: Memory | None = None,
        string_encoding: str = "utf8",
    ):
        self.layouts = layouts
        self.resolve = layouts.resolve
        self.memory: Memory | None = memory
        self.string_encoding = check_encoding(string_encoding)
        self._codecs: dict[Any, TypeCodec] = {}
        self._streams: TypeStreams | None = None
        self._interpreter: Interpreter | None = None
        self.functions: dict[Any, Any] = {}  # `witgen.abi.calls`' compiled function programs

    # -- the public operations --

    def lower_flat(self, value: Any, ty: ir.Type) -> list[FlatValue]:
        """The flat core values of `value` (strings and lists are written to memory)."""
        out: list[FlatValue] = []
        self.codec(ty).lower(value, out)
        return out

    def lift_flat(self, flat: Sequence[FlatValue], ty: ir.Type) -> Any:
        """The value whose flat core values are `flat` (exactly `len(flat(ty))` of them)."""
        codec = self.codec(ty)
        if len(flat) != len(codec.flat_types):
            raise AbiValueError(
                f"expected {len(codec.flat_types)} flat values {list(codec.flat_types)}, "
                f"got {len(flat)}"
            )
        return codec.lift(flat, 0)

    def store(self, value: Any, ty: ir.Type, ptr: int) -> None:
        """Write `value` at `ptr` (which must be aligned and in bounds)."""
        codec = self.codec(ty)
        self._check_range(ptr, codec, "store")
        codec.store(value, ptr)

    def load(self, ty: ir.Type, ptr: int) -> Any:
        """Read the value at `ptr` (which must be aligned and in bounds)."""
        codec = self.codec(ty)
        self._check_range(ptr, codec, "load")
        return codec.load(self._buf(), ptr)

    def store_tuple(self, values: Sequence[Any], types: Sequence[ir.Type], ptr: int) -> None:
        """Write several values laid out like a tuple (a parameter or return area)."""
        codec = self.tuple_codec(tuple(types))
        self._check_range(ptr, codec, "store")
        codec.store(tuple(values), ptr)

    def load_tuple(self, types: Sequence[ir.Type], ptr: int) -> tuple[Any, ...]:
        codec = self.tuple_codec(tuple(types))
        self._check_range(ptr, codec, "load")
        result: tuple[Any, ...] = codec.load(self._buf(), ptr)
        return result

    def codec(self, ty: ir.Type) -> TypeCodec:
        codec = self._codecs.get(ty)
        if codec is None:
            codec = self._compile(ty)
            self._codecs[ty] = codec
        return codec

    def tuple_codec(self, types: tuple[ir.Type, ...]) -> TypeCodec:
        key = ("tuple", types)
        codec = self._codecs.get(key)
        if codec is None:
            codec = self._tuple([self.codec(t) for t in types])
            self._codecs[key] = codec
        return codec

    # -- memory access --

    def _mem(self) -> Memory:
        if self.memory is None:
            raise AbiError("this value lives in linear memory, but the context has no memory")
        return self.memory

    def _buf(self) -> Buffer:
        return self._mem().buf

    def _check_range(self, ptr: int, codec: TypeCodec, what: str) -> None:
        if ptr < 0 or ptr & (codec.align - 1):
            raise AbiTrap(f"cannot {what} at {ptr:#x}: not aligned to {codec.align}")
        if ptr + codec.size > len(self._buf()):
            raise AbiTrap(
                f"cannot {what} {codec.size} bytes at {ptr:#x}: out of bounds "
                f"(memory is {len(self._buf())} bytes)"
            )

    def _alloc(self, align: int, size: int, what: str) -> int:
        """`cabi_realloc(0, 0, align, size)` with the spec's checks of the returned pointer."""
        mem = self._mem()
        ptr = mem.realloc(0, 0, align, size)
        if ptr & (align - 1):
            raise AbiTrap(f"cabi_realloc returned {ptr:#x}, not aligned to {align} for {what}")
        if ptr + size > len(mem.buf):
            raise AbiTrap(f"cabi_realloc returned {ptr:#x}: {size} bytes for {what} out of bounds")
        return ptr

    # -- compilation: each type's programs from `witgen.abi.stream`, interpreted --

    def _compile(self, ty: ir.Type) -> TypeCodec:
        target = self.resolve.dealias(ty)
        if isinstance(target, int) and isinstance(self.resolve.types[target].kind, ir.Resource):
            raise AbiValueError("a resource type has no values; use own<T> or borrow<T>")
        layout = self.layouts.of(ty)
        streams = self.streams
        lower = self.interpreter.entry(streams.lower_program(ty))
        lift = self.interpreter.entry(streams.lift_program(ty))
        store = self.interpreter.entry(streams.store_program(ty))
        load = self.interpreter.entry(streams.load_program(ty))
        nflat = len(layout.flat)

        def lower_value(v: Any, out: list[FlatValue]) -> None:
            out.extend(lower(v))

        def lift_value(flat: Sequence[FlatValue], pos: int) -> Any:
            return lift(*flat[pos : pos + nflat])[0]

        def store_value(v: Any, ptr: int) -> None:
            store(v, ptr)

        def load_value(buf: Buffer, ptr: int) -> Any:
            return load(ptr)[0]

        return TypeCodec(
            layout.size, layout.align, layout.flat, load_value, store_value, lift_value, lower_value
        )

    @property
    def streams(self) -> TypeStreams:
        if self._streams is None:
            self._streams = TypeStreams(self.layouts, self.string_encoding)
        return self._streams

    @property
    def interpreter(self) -> Interpreter:
        if self._interpreter is None:
            self._interpreter = Interpreter(self)
        return self._interpreter

    def _tuple(self, codecs: list[TypeCodec]) -> TypeCodec:
        """Values laid out one after the other like a tuple's elements (parameter areas)."""
        offsets, positions = [], []
        offset = pos = 0
        align = 1
        for c in codecs:
            offset = align_to(offset, c.align)
            offsets.append(offset)
            positions.append(pos)
            offset += c.size
            pos += len(c.flat_types)
            align = max(align, c.align)
        size = align_to(offset, align)
        flat_types = tuple(ft for c in codecs for ft in c.flat_types)
        count = len(codecs)

        def check(v: Any) -> Any:
            if not isinstance(v, (tuple, list)) or len(v) != count:
                raise AbiValueError(f"expected a tuple of {count} values, got {v!r:.80}")
            return v

        def load(buf: Buffer, ptr: int) -> tuple[Any, ...]:
            return tuple([c.load(buf, ptr + off) for c, off in zip(codecs, offsets)])

        def store(v: Any, ptr: int) -> None:
            for e, c, off in zip(check(v), codecs, offsets):
                c.store(e, ptr + off)

        def lift(flat: Sequence[FlatValue], pos: int) -> tuple[Any, ...]:
            return tuple([c.lift(flat, pos + p) for c, p in zip(codecs, positions)])

        def lower(v: Any, out: list[FlatValue]) -> None:
            for e, c in zip(check(v), codecs):
                c.lower(e, out)

        return TypeCodec(size, align, flat_types, load, store, lift, lower)


# ---------------------------------------------------------------------------- the interpreter


class Frame:
    """The variables of one run of a program, and the memory buffer it reads and writes
    (re-read after every `cabi_realloc`, which may grow memory)."""

    __slots__ = ("r", "buf")

    def __init__(self, size: int, buf: Buffer):
        self.r: list[Any] = [None] * size
        self.buf = buf


Step = Callable[[Frame], None]


def _fused(f: Frame) -> None:
    raise AssertionError("a fused instruction runs inside its neighbour's step")


_FUSED: Step = _fused


def _run_all(steps: list[Step]) -> Step:
    if len(steps) == 1:
        return steps[0]

    def run(f: Frame) -> None:
        for s in steps:
            s(f)

    return run


class Interpreter:
    """Compiles `witgen.abi.stream` programs into Python closures over a `Frame`: one closure
    per instruction, built once, so running a program does no dispatch on instruction kinds.
    Function-level instructions (`CallWasm`, `CallInterface`, `PostReturn`, `Return`) are not
    compiled: `witgen.abi.calls` runs the parts of a function's program around them."""

    def __init__(self, cx: AbiContext):
        self.cx = cx
        # who defines and how often each variable is read, in the program being compiled: a
        # `Load` read only by the `PrimLift` after it is one step with it, and so are two
        # adjacent pointer/length loads with the `StringLift`/`ListLift` reading them, and a
        # `PrimLower` or a `StringLower` with the store(s) writing its result(s)
        self.defs: dict[int, Instruction] = {}
        self.uses: dict[int, int] = {}
        self.fused: set[int] = set()  # ids of instructions a neighbour's step performs
        self.readers: dict[int, Instruction] = {}

    def index(self, program: Program) -> None:
        """Read `program`'s definitions and uses (call before compiling its body)."""
        self.defs, self.uses, self.fused, self.readers = {}, {}, set(), {}
        for inst in walk(program.body):
            for v in inst.out:
                self.defs[v] = inst
            for v in inst.args:
                self.uses[v] = self.uses.get(v, 0) + 1
                self.readers[v] = inst
            for block in inst.blocks():
                for v in block.results:
                    self.uses[v] = self.uses.get(v, 0) + 1
        for v in program.results:
            self.uses[v] = self.uses.get(v, 0) + 1

    def entry(self, program: Program) -> Callable[..., list[Any]]:
        """A function taking the program's params and returning its results."""
        self.index(program)
        run = self.body(program.body)
        params, results, size = program.params, program.results, program.var_count
        cx = self.cx

        def call(*args: Any) -> list[Any]:
            f = Frame(size, cx.memory.buf if cx.memory is not None else None)
            r = f.r
            for p, a in zip(params, args):
                r[p] = a
            run(f)
            return [r[x] for x in results]

        return call

    def body(self, body: Sequence[Instruction]) -> Step:
        steps = [self.step(inst) for inst in body]
        steps = [s for s in steps if s is not _FUSED]
        if not steps:
            return lambda f: None
        return _run_all(steps)

    def step(self, inst: Instruction) -> Step:
        if id(inst) in self.fused:
            return _FUSED
        method = getattr(self, "_" + type(inst).__name__, None)
        if method is None:
            raise AbiError(f"the interpreter does not run {type(inst).__name__} on its own")
        step: Step = method(inst)
        return step

    def _sole_load(self, var: int) -> Load | None:
        """The `Load` defining `var` when nothing else reads it."""
        load = self.defs.get(var)
        if isinstance(load, Load) and self.uses.get(var) == 1:
            return load
        return None

    def _pair_load(self, p: int, n: int) -> Load | None:
        """The first of two adjacent i32 loads of a (pointer, length) pair read only here."""
        lp, ln = self._sole_load(p), self._sole_load(n)
        if lp is None or ln is None or lp.width != "i32" or ln.width != "i32":
            return None
        if lp.args != ln.args or ln.offset != lp.offset + 4:
            return None
        self.fused.update((id(lp), id(ln)))
        return lp

    def _sole_store(self, var: int) -> Store | None:
        """The `Store` that is the only reader of `var`, storing it."""
        store = self.readers.get(var)
        if isinstance(store, Store) and self.uses.get(var) == 1 and store.args[0] == var:
            return store
        return None

    # -- scalars

    def _Const(self, inst: Const) -> Step:
        (o,), value = inst.out, inst.value

        def step(f: Frame) -> None:
            f.r[o] = value

        return step

    def _PrimLower(self, inst: PrimLower) -> Step:
        (a,), (o,) = inst.args, inst.out
        convert = _PRIM_LOWER[inst.prim]
        store = self._sole_store(o)
        if store is not None:  # lowered straight into memory
            self.fused.add(id(store))
            pack, narrow = _STORES[store.width]
            addr, offset = store.args[1], store.offset

            def store_step(f: Frame) -> None:
                r = f.r
                pack(f.buf, r[addr] + offset, narrow(convert(r[a])))

            return store_step

        def step(f: Frame) -> None:
            f.r[o] = convert(f.r[a])

        return step

    def _PrimLift(self, inst: PrimLift) -> Step:
        (a,), (o,) = inst.args, inst.out
        convert = _PRIM_LIFT[inst.prim]
        load = self._sole_load(a)
        if load is not None:  # read straight from memory
            self.fused.add(id(load))
            unpack, widen = _LOADS[load.width]
            addr, offset = load.args[0], load.offset

            def load_step(f: Frame) -> None:
                r = f.r
                r[o] = convert(widen(unpack(f.buf, r[addr] + offset)[0]))

            return load_step

        def step(f: Frame) -> None:
            f.r[o] = convert(f.r[a])

        return step

    def _Bitcast(self, inst: Bitcast) -> Step:
        (a,), (o,) = inst.args, inst.out
        convert = _CASTS[inst.cast]

        def step(f: Frame) -> None:
            f.r[o] = convert(f.r[a])

        return step

    # -- memory

    def _Load(self, inst: Load) -> Step:
        (a,), (o,), offset = inst.args, inst.out, inst.offset
        unpack, convert = _LOADS[inst.width]

        def step(f: Frame) -> None:
            f.r[o] = convert(unpack(f.buf, f.r[a] + offset)[0])

        return step

    def _Store(self, inst: Store) -> Step:
        (v, a), offset = inst.args, inst.offset
        pack, convert = _STORES[inst.width]

        def step(f: Frame) -> None:
            pack(f.buf, f.r[a] + offset, convert(f.r[v]))

        return step

    # -- strings, lists, maps

    def _StringLower(self, inst: StringLower) -> Step:
        (a,), (p, n) = inst.args, inst.out
        cx, encoding = self.cx, inst.encoding
        sp, sn = self._sole_store(p), self._sole_store(n)
        if (
            sp is not None
            and sn is not None
            and sp.args[1] == sn.args[1]
            and sn.offset == sp.offset + 4
        ):  # (pointer, length) written next to each other: one pack
            self.fused.update((id(sp), id(sn)))
            addr, offset = sp.args[1], sp.offset

            def store_step(f: Frame) -> None:
                pair = store_string_into_range(cx._mem(), f.r[a], encoding)
                f.buf = cx._buf()
                _PAIR_PACK(f.buf, f.r[addr] + offset, *pair)

            return store_step

        def step(f: Frame) -> None:
            f.r[p], f.r[n] = store_string_into_range(cx._mem(), f.r[a], encoding)
            f.buf = cx._buf()

        return step

    def _StringLift(self, inst: StringLift) -> Step:
        (p, n), (o,) = inst.args, inst.out
        encoding = inst.encoding
        load = self._pair_load(p, n)
        if load is not None:
            addr, offset = load.args[0], load.offset

            def load_step(f: Frame) -> None:
                buf = f.buf
                begin, tagged = _PAIR_UNPACK(buf, f.r[addr] + offset)
                f.r[o] = load_string_from_range(buf, begin, tagged, encoding)

            return load_step

        def step(f: Frame) -> None:
            f.r[o] = load_string_from_range(f.buf, int(f.r[p]) & M32, int(f.r[n]) & M32, encoding)

        return step

    def _ListLower(self, inst: ListLower) -> Step:
        (a,), (p, n) = inst.args, inst.out
        cx, esize, ealign = self.cx, inst.size, inst.align
        elem_var, addr_var = inst.body.params
        body = self.body(inst.body.body)
        element = cx.resolve.dealias(inst.element)
        is_bytes = element == "u8"
        # the canonical fast case: ints go in with one pack (floats need NaN canonicalisation)
        bulk = _INT_LETTERS.get(element) if inst.canonical and isinstance(element, str) else None

        def step(f: Frame) -> None:
            v = f.r[a]
            if is_bytes and isinstance(v, (bytes, bytearray, memoryview)):
                data = bytes(v)
                ptr = cx._alloc(1, len(data), "a list<u8>")
                f.buf = cx._buf()
                f.buf[ptr : ptr + len(data)] = data
                f.r[p], f.r[n] = ptr, len(data)
                return
            if isinstance(v, (str, bytes, bytearray, dict, set, frozenset)) or not hasattr(
                v, "__len__"
            ):
                raise AbiValueError(f"expected a list, got {_type_name(v)}")
            length = len(v)
            byte_length = length * esize
            if byte_length >= 1 << 32:
                raise AbiTrap(f"list of {length} elements needs {byte_length} bytes (>= 2^32)")
            ptr = cx._alloc(ealign, byte_length, "a list")
            f.buf = cx._buf()
            f.r[p], f.r[n] = ptr, length
            if bulk is not None and all(type(e) is int for e in v):
                try:
                    _pack_into(f"<{length}{bulk}", f.buf, ptr, *v)
                    return
                except struct.error:
                    pass  # out of range: the element-wise path below says which one
            r = f.r
            for i, e in enumerate(v):
                r[elem_var] = e
                r[addr_var] = ptr + i * esize
                body(f)

        return step

    def _ListLift(self, inst: ListLift) -> Step:
        (p, n), (o,) = inst.args, inst.out
        esize, ealign = inst.size, inst.align
        (addr_var,) = inst.body.params
        (result,) = inst.body.results
        body = self.body(inst.body.body)
        element = self.cx.resolve.dealias(inst.element)
        is_bytes = element == "u8"
        bulk = _INT_LETTERS.get(element) if inst.canonical and isinstance(element, str) else None

        load = self._pair_load(p, n)
        where = None if load is None else (load.args[0], load.offset)

        def step(f: Frame) -> None:
            buf = f.buf
            if where is None:
                begin, length = int(f.r[p]) & M32, int(f.r[n]) & M32
            else:
                begin, length = _PAIR_UNPACK(buf, f.r[where[0]] + where[1])
            _check_block(buf, begin, length, esize, ealign, "list", "elements")
            if is_bytes:
                f.r[o] = bytes(buf[begin : begin + length])
            elif bulk is not None:
                f.r[o] = list(_unpack_from(f"<{length}{bulk}", buf, begin))
            else:
                r = f.r
                out = []
                for i in range(length):
                    r[addr_var] = begin + i * esize
                    body(f)
                    out.append(r[result])
                r[o] = out

        return step

    def _MapLower(self, inst: MapLower) -> Step:
        (a,), (p, n) = inst.args, inst.out
        cx, esize, ealign = self.cx, inst.size, inst.align
        key_var, value_var, addr_var = inst.body.params
        body = self.body(inst.body.body)

        def step(f: Frame) -> None:
            v = f.r[a]
            if not isinstance(v, dict):
                raise AbiValueError(f"expected a dict for a map, got {_type_name(v)}")
            items = list(v.items())
            byte_length = len(items) * esize
            if byte_length >= 1 << 32:
                raise AbiTrap(f"map of {len(items)} entries needs {byte_length} bytes (>= 2^32)")
            ptr = cx._alloc(ealign, byte_length, "a map")
            f.buf = cx._buf()
            r = f.r
            r[p], r[n] = ptr, len(items)
            for i, (key, value) in enumerate(items):
                r[key_var], r[value_var], r[addr_var] = key, value, ptr + i * esize
                body(f)

        return step

    def _MapLift(self, inst: MapLift) -> Step:
        (p, n), (o,) = inst.args, inst.out
        esize, ealign = inst.size, inst.align
        (addr_var,) = inst.body.params
        key_var, value_var = inst.body.results
        body = self.body(inst.body.body)

        def step(f: Frame) -> None:
            begin, length = int(f.r[p]) & M32, int(f.r[n]) & M32
            _check_block(f.buf, begin, length, esize, ealign, "map", "entries")
            r = f.r
            out = {}
            for i in range(length):
                r[addr_var] = begin + i * esize
                body(f)
                out[r[key_var]] = r[value_var]
            r[o] = out

        return step

    def _FixedListLower(self, inst: FixedListLower) -> Step:
        (a,), outs, length = inst.args, inst.out, inst.length

        def step(f: Frame) -> None:
            v = f.r[a]
            if isinstance(v, (str, bytes, dict)) or not hasattr(v, "__len__"):
                raise AbiValueError(f"expected a list of {length} elements, got {_type_name(v)}")
            if len(v) != length:
                raise AbiValueError(f"expected a list of {length} elements, got {len(v)}")
            for o, e in zip(outs, v):
                f.r[o] = e

        return step

    def _FixedListLift(self, inst: FixedListLift) -> Step:
        args, (o,) = inst.args, inst.out

        def step(f: Frame) -> None:
            r = f.r
            r[o] = [r[x] for x in args]

        return step

    # -- records, tuples, flags, enums, variants

    def _RecordLower(self, inst: RecordLower) -> Step:
        (a,), outs, names = inst.args, inst.out, inst.fields
        pairs = list(zip(names, outs))
        count = len(names)

        def mismatch(v: Any) -> AbiValueError:
            extra = sorted(str(k) for k in set(v) - set(names))
            missing = [n for n in names if n not in v]
            return AbiValueError(
                f"record fields do not match: missing {missing}, unexpected {extra}"
            )

        def step(f: Frame) -> None:
            v = f.r[a]
            if not isinstance(v, dict):
                raise AbiValueError(f"expected a dict for a record, got {_type_name(v)}")
            if len(v) != count:
                raise mismatch(v)
            r = f.r
            try:
                for name, o in pairs:
                    r[o] = v[name]
            except KeyError:
                raise mismatch(v) from None

        return step

    def _RecordLift(self, inst: RecordLift) -> Step:
        pairs, (o,) = list(zip(inst.fields, inst.args)), inst.out

        def step(f: Frame) -> None:
            r = f.r
            r[o] = {name: r[x] for name, x in pairs}

        return step

    def _TupleLower(self, inst: TupleLower) -> Step:
        (a,), outs, count = inst.args, inst.out, inst.count

        def step(f: Frame) -> None:
            v = f.r[a]
            if not isinstance(v, (tuple, list)) or len(v) != count:
                raise AbiValueError(f"expected a tuple of {count} values, got {v!r:.80}")
            for o, e in zip(outs, v):
                f.r[o] = e

        return step

    def _TupleLift(self, inst: TupleLift) -> Step:
        args, (o,) = inst.args, inst.out

        def step(f: Frame) -> None:
            r = f.r
            r[o] = tuple([r[x] for x in args])

        return step

    def _FlagsLower(self, inst: FlagsLower) -> Step:
        (a,), outs, labels = inst.args, inst.out, inst.flags
        bit = {name: 1 << i for i, name in enumerate(labels)}

        def step(f: Frame) -> None:
            v = f.r[a]
            if isinstance(v, (str, bytes, dict)) or not hasattr(v, "__iter__"):
                raise AbiValueError(f"expected a set of flag names, got {_type_name(v)}")
            i = 0
            for name in v:
                b = bit.get(name)
                if b is None:
                    raise AbiValueError(f"unknown flag {name!r} (flags: {list(labels)})")
                i |= b
            for w, o in enumerate(outs):
                f.r[o] = (i >> (32 * w)) & M32

        return step

    def _FlagsLift(self, inst: FlagsLift) -> Step:
        args, (o,), labels = inst.args, inst.out, inst.flags
        bits = [(name, 1 << i) for i, name in enumerate(labels)]

        def step(f: Frame) -> None:
            r = f.r
            i = 0
            for w, x in enumerate(args):
                i |= (int(r[x]) & M32) << (32 * w)
            # bits beyond the last label are ignored (CanonicalABI.md `unpack_flags_from_int`)
            r[o] = frozenset(name for name, b in bits if i & b)

        return step

    def _EnumLower(self, inst: EnumLower) -> Step:
        (a,), (o,), names = inst.args, inst.out, inst.cases
        index = {n: i for i, n in enumerate(names)}

        def step(f: Frame) -> None:
            v = f.r[a]
            i = index.get(v) if isinstance(v, str) else None
            if i is None:
                raise AbiValueError(f"expected one of the enum cases {list(names)}, got {v!r}")
            f.r[o] = i

        return step

    def _EnumLift(self, inst: EnumLift) -> Step:
        (a,), (o,), names = inst.args, inst.out, inst.cases
        n = len(names)

        def step(f: Frame) -> None:
            i = int(f.r[a]) & M32
            if i >= n:
                raise AbiTrap(f"invalid enum discriminant {i} (the enum has {n} cases)")
            f.r[o] = names[i]

        return step

    def _VariantLower(self, inst: VariantLower) -> Step:
        (a,), outs = inst.args, inst.out
        to_case = _TO_CASE[inst.kind](inst.cases)
        cases = [(block.params, self.body(block.body), block.results) for block in inst.case_blocks]

        def step(f: Frame) -> None:
            i, payload = to_case(f.r[a])
            params, body, results = cases[i]
            r = f.r
            if params:
                r[params[0]] = payload
            elif payload is not None:
                raise AbiValueError("this case has no payload, but a payload was given")
            body(f)
            for o, x in zip(outs, results):
                r[o] = r[x]

        return step

    def _VariantLift(self, inst: VariantLift) -> Step:
        (a,), (o,) = inst.args, inst.out
        from_case = _FROM_CASE[inst.kind](inst.cases)
        cases = [(self.body(block.body), block.results) for block in inst.case_blocks]
        n = len(cases)

        def step(f: Frame) -> None:
            i = int(f.r[a]) & M32
            if i >= n:
                raise AbiTrap(f"invalid variant discriminant {i} (the type has {n} cases)")
            body, results = cases[i]
            body(f)
            f.r[o] = from_case(i, f.r[results[0]] if results else None)

        return step

    # -- handles: table indices (the reference model keeps no tables)

    def _HandleLower(self, inst: HandleLower) -> Step:
        return self._PrimLower(PrimLower(prim="u32", args=inst.args, out=inst.out))

    def _HandleLift(self, inst: HandleLift) -> Step:
        return self._PrimLift(PrimLift(prim="u32", args=inst.args, out=inst.out))

    # -- allocation and freeing

    def _Alloc(self, inst: Alloc) -> Step:
        (o,), cx, size, align = inst.out, self.cx, inst.size, inst.align
        what = "the parameter area" if inst.what == "params" else inst.what

        def step(f: Frame) -> None:
            f.r[o] = cx._alloc(align, size, what)
            f.buf = cx._buf()

        return step

    def _ReturnArea(self, inst: ReturnArea) -> Step:
        # the reference model has no stack: a return area is allocated like any block
        return self._Alloc(
            Alloc(size=inst.size, align=inst.align, what="the return area", out=inst.out)
        )

    def _free(self, inst: Instruction) -> Step:
        return lambda f: None  # BytesMemory and guests' bump allocators never free

    _GuestDeallocate = _GuestDeallocateString = _GuestDeallocateList = _free
    _GuestDeallocateVariant = _free


def _check_block(
    buf: Buffer, begin: int, length: int, esize: int, ealign: int, what: str, unit: str
) -> None:
    if begin & (ealign - 1):
        raise AbiTrap(f"{what} pointer {begin:#x} is not aligned to {ealign}")
    if begin + length * esize > len(buf):
        raise AbiTrap(
            f"{what} at {begin:#x} of {length} {unit} x {esize} bytes is out of bounds "
            f"(memory is {len(buf)} bytes)"
        )


def _variant_to_case(cases: tuple[str, ...]) -> Callable[[Any], tuple[int, Any]]:
    index = {n: i for i, n in enumerate(cases)}

    def to_case(v: Any) -> tuple[int, Any]:
        if not isinstance(v, VariantValue):
            raise AbiValueError(f"expected a VariantValue, got {_type_name(v)}")
        i = index.get(v.case)
        if i is None:
            raise AbiValueError(f"no case {v.case!r} in variant (cases: {list(cases)})")
        return i, v.payload

    return to_case


def _variant_from_case(cases: tuple[str, ...]) -> Callable[[int, Any], Any]:
    return lambda i, payload: VariantValue(cases[i], payload)


_TO_CASE: dict[str, Callable[[tuple[str, ...]], Callable[[Any], tuple[int, Any]]]] = {
    "variant": _variant_to_case,
    "option": lambda cases: _option_to_case,
    "result": lambda cases: _result_to_case,
}
_FROM_CASE: dict[str, Callable[[tuple[str, ...]], Callable[[int, Any], Any]]] = {
    "variant": _variant_from_case,
    "option": lambda cases: _option_from_case,
    "result": lambda cases: _result_from_case,
}


# ---------------------------------------------------------------------------- option / result


def _option_to_case(v: Any) -> tuple[int, Any]:
    if v is None:
        return 0, None
    if isinstance(v, Some):
        return 1, v.value
    raise AbiValueError(f"expected None or Some(...) for an option, got {_type_name(v)}")


def _option_from_case(i: int, payload: Any) -> Any:
    return None if i == 0 else Some(payload)


def _result_to_case(v: Any) -> tuple[int, Any]:
    if isinstance(v, Ok):
        return 0, v.value
    if isinstance(v, Err):
        return 1, v.value
    raise AbiValueError(f"expected Ok(...) or Err(...) for a result, got {_type_name(v)}")


def _result_from_case(i: int, payload: Any) -> Any:
    return Ok(payload) if i == 0 else Err(payload)


# ---------------------------------------------------------------------------- scalar tables


def _int_lower(name: str) -> Callable[[Any], int]:
    letter, bits, signed = _INT_FORMATS[name]
    lo, hi = (-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if signed else (0, (1 << bits) - 1)
    core_mask = M64 if bits == 64 else M32

    def lower(v: Any) -> int:
        if type(v) is not int:
            if isinstance(v, bool) or not isinstance(v, int):
                raise AbiValueError(f"expected an int for {name}, got {_type_name(v)}")
            v = int(v)
        if not lo <= v <= hi:
            raise AbiValueError(f"{v} is out of range for {name} ({lo}..={hi})")
        return v & core_mask if signed else int(v)

    return lower


def _int_lift(name: str) -> Callable[[Any], int]:
    _letter, bits, signed = _INT_FORMATS[name]
    mask = (1 << bits) - 1
    half = 1 << (bits - 1)
    if signed:

        def lift(v: Any) -> int:
            i = int(v) & mask
            return i - (1 << bits) if i >= half else i

        return lift
    return lambda v: int(v) & mask


def _bool_lower(v: Any) -> int:
    if not isinstance(v, bool):
        raise AbiValueError(f"expected a bool, got {_type_name(v)}")
    return 1 if v else 0


def _f32_lift(v: Any) -> float:
    if isinstance(v, int):  # an f32 handed over as its bit pattern
        return f32_from_bits(v)
    return f32_round(v)


def _f64_lift(v: Any) -> float:
    if isinstance(v, int):
        return f64_from_bits(v)
    return canonical_f64(v)


_PRIM_LOWER: dict[str, Callable[[Any], FlatValue]] = {
    **{name: _int_lower(name) for name in _INT_FORMATS},
    "bool": _bool_lower,
    "char": char_to_i32,
    "f32": f32_round,
    "f64": canonical_f64,
}
_PRIM_LIFT: dict[str, Callable[[Any], Any]] = {
    **{name: _int_lift(name) for name in _INT_FORMATS},
    "bool": lambda v: (int(v) & M32) != 0,
    "char": lambda v: char_from_i32(int(v) & M32),
    "f32": _f32_lift,
    "f64": _f64_lift,
}
# stream.CASTS by name: a payload's flat value to and from its variant's joined flat type
_CASTS: dict[str, Callable[[Any], Any]] = {
    "f32-to-i32": f32_bits,
    "i32-to-f32": f32_from_bits,
    "i32-to-i64": lambda v: int(v) & M32,
    "i64-to-i32": lambda v: int(v) & M32,
    "f32-to-i64": f32_bits,
    "i64-to-f32": lambda v: f32_from_bits(int(v) & M32),
    "f64-to-i64": f64_bits,
    "i64-to-f64": f64_from_bits,
}


def _identity(v: Any) -> Any:
    return v


def _structs(fmt: str) -> tuple[Callable[..., Any], Callable[..., Any]]:
    s = struct.Struct(fmt)
    return s.unpack_from, s.pack_into


_U8, _U8P = _structs("<B")
_S8, _ = _structs("<b")
_U16, _U16P = _structs("<H")
_S16, _ = _structs("<h")
_U32, _U32P = _structs("<I")
_U64, _U64P = _structs("<Q")
_PAIR_UNPACK, _PAIR_PACK = _structs("<II")
# load width -> (unpack_from, convert the raw value); store width -> (pack_into, convert)
_LOADS: dict[str, tuple[Callable[..., Any], Callable[[Any], Any]]] = {
    "u8": (_U8, _identity),
    "s8": (_S8, _identity),
    "u16": (_U16, _identity),
    "s16": (_S16, _identity),
    "i32": (_U32, _identity),
    "i64": (_U64, _identity),
    "f32": (_U32, f32_from_bits),
    "f64": (_U64, f64_from_bits),
}
_STORES: dict[str, tuple[Callable[..., Any], Callable[[Any], Any]]] = {
    "u8": (_U8P, lambda v: int(v) & 0xFF),
    "u16": (_U16P, lambda v: int(v) & 0xFFFF),
    "i32": (_U32P, lambda v: int(v) & M32),
    "i64": (_U64P, lambda v: int(v) & M64),
    "f32": (_U32P, f32_bits),
    "f64": (_U64P, f64_bits),
}
_INT_LETTERS = {name: letter for name, (letter, _bits, _signed) in _INT_FORMATS.items()}


# ---------------------------------------------------------------------------- module functions


def lower_flat(cx: AbiContext, value: Any, ty: ir.Type) -> list[FlatValue]:
    """CanonicalABI.md `lower_flat`: see `AbiContext.lower_flat`."""
    return cx.lower_flat(value, ty)


def lift_flat(cx: AbiContext, flat: Sequence[FlatValue], ty: ir.Type) -> Any:
    """CanonicalABI.md `lift_flat`: see `AbiContext.lift_flat`."""
    return cx.lift_flat(flat, ty)


def store(cx: AbiContext, value: Any, ty: ir.Type, ptr: int) -> None:
    """CanonicalABI.md `store`: see `AbiContext.store`."""
    cx.store(value, ty, ptr)


def load(cx: AbiContext, ty: ir.Type, ptr: int) -> Any:
    """CanonicalABI.md `load`: see `AbiContext.load`."""
    return cx.load(ty, ptr)
