"""Lifting and lowering WIT values: flat core values and linear memory <-> Python values.

This follows CanonicalABI.md rule by rule (`load`, `store`, `lift_flat`, `lower_flat` and their
helpers); the Python value model is documented in `witgen.abi.values`. Every trap condition of
the spec raises `AbiTrap`; a Python value that does not fit its type raises `AbiValueError`.

For speed, each WIT type is compiled once per `AbiContext` into a `TypeCodec`: four small
functions (load, store, lift, lower) that already know offsets, formats and case tables, so
lifting a batch of records does no type dispatch per value.
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass
from typing import Any, Callable, Sequence

from witgen import ir
from witgen.abi.layout import Layouts, align_to, discriminant_size
from witgen.abi.memory import Memory
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

    # -- compilation, one builder per type kind --

    def _compile(self, ty: ir.Type) -> TypeCodec:
        ty = self.resolve.dealias(ty)
        if isinstance(ty, str):
            return self._primitive(ty)
        kind = self.resolve.types[ty].kind
        if isinstance(kind, ir.Record):
            return self._record(kind)
        if isinstance(kind, ir.Tuple):
            return self._tuple([self.codec(t) for t in kind.types])
        if isinstance(kind, ir.List):
            return self._list(kind.type)
        if isinstance(kind, ir.FixedLengthList):
            return self._fixed_list(kind.type, kind.length)
        if isinstance(kind, ir.Map):
            return self._map(kind.key, kind.value)
        if isinstance(kind, ir.Flags):
            return self._flags(tuple(f.name for f in kind.flags))
        if isinstance(kind, (ir.Handle, ir.Future, ir.Stream)):
            return self._handle()
        if isinstance(kind, ir.Variant):
            names = [c.name for c in kind.cases]
            index = {n: i for i, n in enumerate(names)}

            def to_case(v: Any) -> tuple[int, Any]:
                if not isinstance(v, VariantValue):
                    raise AbiValueError(f"expected a VariantValue, got {_type_name(v)}")
                i = index.get(v.case)
                if i is None:
                    raise AbiValueError(f"no case {v.case!r} in variant (cases: {names})")
                return i, v.payload

            def from_case(i: int, payload: Any) -> Any:
                return VariantValue(names[i], payload)

            return self._variant(ty, [c.type for c in kind.cases], to_case, from_case)
        if isinstance(kind, ir.Enum):
            return self._enum(ty, tuple(c.name for c in kind.cases))
        if isinstance(kind, ir.Option):
            return self._variant(ty, [None, kind.type], _option_to_case, _option_from_case)
        if isinstance(kind, ir.Result):
            return self._variant(ty, [kind.ok, kind.err], _result_to_case, _result_from_case)
        if isinstance(kind, ir.Resource):
            raise AbiValueError("a resource type has no values; use own<T> or borrow<T>")
        raise TypeError(f"no codec for {kind!r}")

    def _primitive(self, name: str) -> TypeCodec:
        layout = self.layouts.of(name)
        if name in _INT_FORMATS:
            return _int_codec(name, layout.size, self._buf)
        if name == "bool":
            return _bool_codec(self._buf)
        if name == "f32":
            return _f32_codec(self._buf)
        if name == "f64":
            return _f64_codec(self._buf)
        if name == "char":
            return _char_codec(self._buf)
        if name == "string":
            return self._string()
        if name == "error-context":
            return self._handle()
        raise TypeError(f"unknown primitive {name!r}")

    def _handle(self) -> TypeCodec:
        # Handles (own, borrow, future, stream, error-context) are i32 table indices.
        return _int_codec("u32", 4, self._buf)

    def _string(self) -> TypeCodec:
        cx = self
        encoding = self.string_encoding

        def load(buf: Buffer, ptr: int) -> str:
            begin, tagged = _unpack_from("<II", buf, ptr)
            return load_string_from_range(buf, begin, tagged, encoding)

        def store(v: Any, ptr: int) -> None:
            begin, tagged = store_string_into_range(cx._mem(), v, encoding)
            _pack_into("<II", cx._buf(), ptr, begin, tagged)

        def lift(flat: Sequence[FlatValue], pos: int) -> str:
            begin = int(flat[pos]) & M32
            tagged = int(flat[pos + 1]) & M32
            return load_string_from_range(cx._buf(), begin, tagged, encoding)

        def lower(v: Any, out: list[FlatValue]) -> None:
            out.extend(store_string_into_range(cx._mem(), v, encoding))

        return TypeCodec(8, 4, ("i32", "i32"), load, store, lift, lower)

    def _list(self, elem_ty: ir.Type) -> TypeCodec:
        cx = self
        elem = self.codec(elem_ty)
        esize, ealign = elem.size, elem.align
        dealiased = self.resolve.dealias(elem_ty)
        is_bytes = dealiased == "u8"
        bulk = _INT_FORMATS.get(dealiased)[0] if isinstance(dealiased, str) and dealiased in _INT_FORMATS else None  # type: ignore[index]
        eload, estore = elem.load, elem.store

        def load_range(buf: Buffer, begin: int, length: int) -> Any:
            if begin & (ealign - 1):
                raise AbiTrap(f"list pointer {begin:#x} is not aligned to {ealign}")
            if begin + length * esize > len(buf):
                raise AbiTrap(
                    f"list at {begin:#x} of {length} elements x {esize} bytes is out of bounds "
                    f"(memory is {len(buf)} bytes)"
                )
            if is_bytes:
                return bytes(buf[begin : begin + length])
            if bulk is not None:
                return list(_unpack_from(f"<{length}{bulk}", buf, begin))
            return [eload(buf, begin + i * esize) for i in range(length)]

        def store_range(v: Any) -> tuple[int, int]:
            if is_bytes and isinstance(v, (bytes, bytearray, memoryview)):
                data = bytes(v)
                ptr = cx._alloc(1, len(data), "a list<u8>")
                cx._buf()[ptr : ptr + len(data)] = data
                return ptr, len(data)
            if isinstance(v, (str, bytes, bytearray, dict, set, frozenset)) or not hasattr(
                v, "__len__"
            ):
                raise AbiValueError(f"expected a list, got {_type_name(v)}")
            length = len(v)
            byte_length = length * esize
            if byte_length >= 1 << 32:
                raise AbiTrap(f"list of {length} elements needs {byte_length} bytes (>= 2^32)")
            ptr = cx._alloc(ealign, byte_length, "a list")
            if bulk is not None and all(type(e) is int for e in v):
                try:
                    _pack_into(f"<{length}{bulk}", cx._buf(), ptr, *v)
                    return ptr, length
                except struct.error:
                    pass  # out of range: the element-wise path below says which one
            for i, e in enumerate(v):
                estore(e, ptr + i * esize)
            return ptr, length

        def load(buf: Buffer, ptr: int) -> Any:
            begin, length = _unpack_from("<II", buf, ptr)
            return load_range(buf, begin, length)

        def store(v: Any, ptr: int) -> None:
            begin, length = store_range(v)
            _pack_into("<II", cx._buf(), ptr, begin, length)

        def lift(flat: Sequence[FlatValue], pos: int) -> Any:
            return load_range(cx._buf(), int(flat[pos]) & M32, int(flat[pos + 1]) & M32)

        def lower(v: Any, out: list[FlatValue]) -> None:
            out.extend(store_range(v))

        return TypeCodec(8, 4, ("i32", "i32"), load, store, lift, lower)

    def _map(self, key: ir.Type, value: ir.Type) -> TypeCodec:
        # A map is lowered exactly like list<tuple<K, V>>; its Python form is a dict.
        pair = self.tuple_codec((key, value))
        cx = self
        esize, ealign = pair.size, pair.align
        pload, pstore = pair.load, pair.store

        def load_range(buf: Buffer, begin: int, length: int) -> dict[Any, Any]:
            if begin & (ealign - 1):
                raise AbiTrap(f"map pointer {begin:#x} is not aligned to {ealign}")
            if begin + length * esize > len(buf):
                raise AbiTrap(f"map at {begin:#x} of {length} entries is out of bounds")
            return dict(pload(buf, begin + i * esize) for i in range(length))

        def store_range(v: Any) -> tuple[int, int]:
            if not isinstance(v, dict):
                raise AbiValueError(f"expected a dict for a map, got {_type_name(v)}")
            items = list(v.items())
            byte_length = len(items) * esize
            if byte_length >= 1 << 32:
                raise AbiTrap(f"map of {len(items)} entries needs {byte_length} bytes (>= 2^32)")
            ptr = cx._alloc(ealign, byte_length, "a map")
            for i, kv in enumerate(items):
                pstore(kv, ptr + i * esize)
            return ptr, len(items)

        def load(buf: Buffer, ptr: int) -> Any:
            begin, length = _unpack_from("<II", buf, ptr)
            return load_range(buf, begin, length)

        def store(v: Any, ptr: int) -> None:
            begin, length = store_range(v)
            _pack_into("<II", cx._buf(), ptr, begin, length)

        def lift(flat: Sequence[FlatValue], pos: int) -> Any:
            return load_range(cx._buf(), int(flat[pos]) & M32, int(flat[pos + 1]) & M32)

        def lower(v: Any, out: list[FlatValue]) -> None:
            out.extend(store_range(v))

        return TypeCodec(8, 4, ("i32", "i32"), load, store, lift, lower)

    def _fixed_list(self, elem_ty: ir.Type, length: int) -> TypeCodec:
        elem = self.codec(elem_ty)
        esize, nflat = elem.size, len(elem.flat_types)
        eload, estore, elift, elower = elem.load, elem.store, elem.lift, elem.lower

        def check(v: Any) -> Any:
            if isinstance(v, (str, bytes, dict)) or not hasattr(v, "__len__"):
                raise AbiValueError(f"expected a list of {length} elements, got {_type_name(v)}")
            if len(v) != length:
                raise AbiValueError(f"expected a list of {length} elements, got {len(v)}")
            return v

        def load(buf: Buffer, ptr: int) -> list[Any]:
            return [eload(buf, ptr + i * esize) for i in range(length)]

        def store(v: Any, ptr: int) -> None:
            for i, e in enumerate(check(v)):
                estore(e, ptr + i * esize)

        def lift(flat: Sequence[FlatValue], pos: int) -> list[Any]:
            return [elift(flat, pos + i * nflat) for i in range(length)]

        def lower(v: Any, out: list[FlatValue]) -> None:
            for e in check(v):
                elower(e, out)

        return TypeCodec(
            esize * length, elem.align, elem.flat_types * length, load, store, lift, lower
        )

    def _fields(self, codecs: list[TypeCodec]) -> tuple[list[int], list[int], int, int]:
        """Offsets and flat positions of consecutive fields; total size and alignment."""
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
        return offsets, positions, align_to(offset, align), align

    def _record(self, kind: ir.Record) -> TypeCodec:
        names = [f.name for f in kind.fields]
        codecs = [self.codec(f.type) for f in kind.fields]
        offsets, positions, size, align = self._fields(codecs)
        flat_types = tuple(ft for c in codecs for ft in c.flat_types)
        loads = list(zip(names, [c.load for c in codecs], offsets))
        stores = list(zip(names, [c.store for c in codecs], offsets))
        lifts = list(zip(names, [c.lift for c in codecs], positions))
        lowers = list(zip(names, [c.lower for c in codecs]))
        count = len(names)

        def mismatch(v: Any) -> AbiValueError:
            extra = sorted(str(k) for k in set(v) - set(names))
            missing = [n for n in names if n not in v]
            return AbiValueError(
                f"record fields do not match: missing {missing}, unexpected {extra}"
            )

        def fields_of(v: Any) -> Any:
            if not isinstance(v, dict):
                raise AbiValueError(f"expected a dict for a record, got {_type_name(v)}")
            if len(v) != count:
                raise mismatch(v)
            return v

        def load(buf: Buffer, ptr: int) -> dict[str, Any]:
            return {n: ld(buf, ptr + off) for n, ld, off in loads}

        def store(v: Any, ptr: int) -> None:
            v = fields_of(v)
            try:
                for n, st, off in stores:
                    st(v[n], ptr + off)
            except KeyError:
                raise mismatch(v) from None

        def lift(flat: Sequence[FlatValue], pos: int) -> dict[str, Any]:
            return {n: lf(flat, pos + p) for n, lf, p in lifts}

        def lower(v: Any, out: list[FlatValue]) -> None:
            v = fields_of(v)
            try:
                for n, lw in lowers:
                    lw(v[n], out)
            except KeyError:
                raise mismatch(v) from None

        return TypeCodec(size, align, flat_types, load, store, lift, lower)

    def _tuple(self, codecs: list[TypeCodec]) -> TypeCodec:
        offsets, positions, size, align = self._fields(codecs)
        flat_types = tuple(ft for c in codecs for ft in c.flat_types)
        loads = list(zip([c.load for c in codecs], offsets))
        stores = list(zip([c.store for c in codecs], offsets))
        lifts = list(zip([c.lift for c in codecs], positions))
        lowers = [c.lower for c in codecs]
        count = len(codecs)

        def check(v: Any) -> Any:
            if not isinstance(v, (tuple, list)) or len(v) != count:
                raise AbiValueError(f"expected a tuple of {count} values, got {v!r:.80}")
            return v

        def load(buf: Buffer, ptr: int) -> tuple[Any, ...]:
            return tuple([ld(buf, ptr + off) for ld, off in loads])

        def store(v: Any, ptr: int) -> None:
            for e, (st, off) in zip(check(v), stores):
                st(e, ptr + off)

        def lift(flat: Sequence[FlatValue], pos: int) -> tuple[Any, ...]:
            return tuple([lf(flat, pos + p) for lf, p in lifts])

        def lower(v: Any, out: list[FlatValue]) -> None:
            for e, lw in zip(check(v), lowers):
                lw(e, out)

        return TypeCodec(size, align, flat_types, load, store, lift, lower)

    def _flags(self, labels: tuple[str, ...]) -> TypeCodec:
        layout_size = (
            1 if len(labels) <= 8 else 2 if len(labels) <= 16 else 4 * ((len(labels) + 31) // 32)
        )
        words = (len(labels) + 31) // 32
        bit = {name: 1 << i for i, name in enumerate(labels)}

        def unpack(i: int) -> frozenset[str]:
            # Bits beyond the last label are ignored, as CanonicalABI.md `unpack_flags_from_int`.
            return frozenset(name for name, b in bit.items() if i & b)

        def pack(v: Any) -> int:
            if isinstance(v, (str, bytes, dict)) or not hasattr(v, "__iter__"):
                raise AbiValueError(f"expected a set of flag names, got {_type_name(v)}")
            i = 0
            for name in v:
                b = bit.get(name)
                if b is None:
                    raise AbiValueError(f"unknown flag {name!r} (flags: {list(labels)})")
                i |= b
            return i

        def load(buf: Buffer, ptr: int) -> frozenset[str]:
            return unpack(int.from_bytes(bytes(buf[ptr : ptr + layout_size]), "little"))

        def store(v: Any, ptr: int) -> None:
            data = pack(v).to_bytes(layout_size, "little")
            self._buf()[ptr : ptr + layout_size] = data

        def lift(flat: Sequence[FlatValue], pos: int) -> frozenset[str]:
            i = 0
            for w in range(words):
                i |= (int(flat[pos + w]) & M32) << (32 * w)
            return unpack(i)

        def lower(v: Any, out: list[FlatValue]) -> None:
            i = pack(v)
            out.extend((i >> (32 * w)) & M32 for w in range(words))

        align = 1 if len(labels) <= 8 else 2 if len(labels) <= 16 else 4
        return TypeCodec(layout_size, align, ("i32",) * words, load, store, lift, lower)

    def _enum(self, ty: ir.Type, names: tuple[str, ...]) -> TypeCodec:
        layout = self.layouts.of(ty)
        fmt = _DISC_FORMATS[discriminant_size(len(names))]
        index = {n: i for i, n in enumerate(names)}
        n = len(names)

        def case_of(i: int) -> str:
            if i >= n:
                raise AbiTrap(f"invalid enum discriminant {i} (the enum has {n} cases)")
            return names[i]

        def index_of(v: Any) -> int:
            i = index.get(v) if isinstance(v, str) else None
            if i is None:
                raise AbiValueError(f"expected one of the enum cases {list(names)}, got {v!r}")
            return i

        def load(buf: Buffer, ptr: int) -> str:
            return case_of(_unpack_from(fmt, buf, ptr)[0])

        def store(v: Any, ptr: int) -> None:
            _pack_into(fmt, self._buf(), ptr, index_of(v))

        def lift(flat: Sequence[FlatValue], pos: int) -> str:
            return case_of(int(flat[pos]) & M32)

        def lower(v: Any, out: list[FlatValue]) -> None:
            out.append(index_of(v))

        return TypeCodec(layout.size, layout.align, layout.flat, load, store, lift, lower)

    def _variant(
        self,
        ty: ir.Type,
        payload_types: list[ir.Type | None],
        to_case: Callable[[Any], tuple[int, Any]],
        from_case: Callable[[int, Any], Any],
    ) -> TypeCodec:
        layout = self.layouts.of(ty)
        n = len(payload_types)
        fmt = _DISC_FORMATS[discriminant_size(n)]
        payload_offset = self.layouts.payload_offset(ty)
        joined = layout.flat[1:]
        cases: list[tuple[TypeCodec | None, list[Any], list[Any]]] = []
        for pt in payload_types:
            if pt is None:
                cases.append((None, [], []))
                continue
            c = self.codec(pt)
            lift_co = [_LIFT_COERCE.get((have, want)) for have, want in zip(joined, c.flat_types)]
            lower_co = [_LOWER_COERCE.get((have, want)) for have, want in zip(c.flat_types, joined)]
            cases.append((c, lift_co, lower_co))
        width = len(joined)

        def case_at(i: int) -> tuple[TypeCodec | None, list[Any], list[Any]]:
            if i >= n:
                raise AbiTrap(f"invalid variant discriminant {i} (the type has {n} cases)")
            return cases[i]

        def load(buf: Buffer, ptr: int) -> Any:
            i = _unpack_from(fmt, buf, ptr)[0]
            c = case_at(i)[0]
            return from_case(i, None if c is None else c.load(buf, ptr + payload_offset))

        def store(v: Any, ptr: int) -> None:
            i, payload = to_case(v)
            _pack_into(fmt, self._buf(), ptr, i)
            c = cases[i][0]
            if c is not None:
                c.store(payload, ptr + payload_offset)
            elif payload is not None:
                raise AbiValueError("this case has no payload, but a payload was given")

        def lift(flat: Sequence[FlatValue], pos: int) -> Any:
            i = int(flat[pos]) & M32
            c, lift_co, _ = case_at(i)
            if c is None:
                return from_case(i, None)
            raw = flat[pos + 1 : pos + 1 + len(c.flat_types)]
            own = [v if co is None else co(v) for v, co in zip(raw, lift_co)]
            return from_case(i, c.lift(own, 0))

        def lower(v: Any, out: list[FlatValue]) -> None:
            i, payload = to_case(v)
            out.append(i)
            c, _, lower_co = cases[i]
            if c is None:
                if payload is not None:
                    raise AbiValueError("this case has no payload, but a payload was given")
                out.extend([0] * width)
                return
            own: list[FlatValue] = []
            c.lower(payload, own)
            out.extend(v if co is None else co(v) for v, co in zip(own, lower_co))
            out.extend([0] * (width - len(own)))

        return TypeCodec(layout.size, layout.align, layout.flat, load, store, lift, lower)


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


# ---------------------------------------------------------------------------- scalar codecs


def _int_codec(name: str, size: int, get_buf: Callable[[], Buffer]) -> TypeCodec:
    letter, bits, signed = _INT_FORMATS[name]
    fmt = "<" + letter
    mask = (1 << bits) - 1
    lo, hi = (-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if signed else (0, mask)
    half = 1 << (bits - 1)
    core = "i64" if bits == 64 else "i32"
    core_mask = M64 if bits == 64 else M32

    def check(v: Any) -> int:
        if type(v) is not int:
            if isinstance(v, bool) or not isinstance(v, int):
                raise AbiValueError(f"expected an int for {name}, got {_type_name(v)}")
            v = int(v)
        if not lo <= v <= hi:
            raise AbiValueError(f"{v} is out of range for {name} ({lo}..={hi})")
        return int(v)

    def load(buf: Buffer, ptr: int) -> int:
        return int(_unpack_from(fmt, buf, ptr)[0])

    def store(v: Any, ptr: int) -> None:
        _pack_into(fmt, get_buf(), ptr, check(v))

    if signed:

        def lift(flat: Sequence[FlatValue], pos: int) -> int:
            i = int(flat[pos]) & mask
            return i - (1 << bits) if i >= half else i

        def lower(v: Any, out: list[FlatValue]) -> None:
            out.append(check(v) & core_mask)

    else:

        def lift(flat: Sequence[FlatValue], pos: int) -> int:
            return int(flat[pos]) & mask

        def lower(v: Any, out: list[FlatValue]) -> None:
            out.append(check(v))

    return TypeCodec(size, size, (core,), load, store, lift, lower)


def _bool_codec(get_buf: Callable[[], Buffer]) -> TypeCodec:
    def check(v: Any) -> int:
        if not isinstance(v, bool):
            raise AbiValueError(f"expected a bool, got {_type_name(v)}")
        return 1 if v else 0

    def load(buf: Buffer, ptr: int) -> bool:
        return bool(buf[ptr] != 0)

    def store(v: Any, ptr: int) -> None:
        get_buf()[ptr] = check(v)

    def lift(flat: Sequence[FlatValue], pos: int) -> bool:
        return (int(flat[pos]) & M32) != 0

    def lower(v: Any, out: list[FlatValue]) -> None:
        out.append(check(v))

    return TypeCodec(1, 1, ("i32",), load, store, lift, lower)


def _f32_codec(get_buf: Callable[[], Buffer]) -> TypeCodec:
    def load(buf: Buffer, ptr: int) -> float:
        return f32_from_bits(_unpack_from("<I", buf, ptr)[0])

    def store(v: Any, ptr: int) -> None:
        _pack_into("<I", get_buf(), ptr, f32_bits(f32_round(v)))

    def lift(flat: Sequence[FlatValue], pos: int) -> float:
        v = flat[pos]
        if isinstance(v, int):  # an f32 handed over as its bit pattern
            return f32_from_bits(v)
        return f32_round(v)

    def lower(v: Any, out: list[FlatValue]) -> None:
        out.append(f32_round(v))

    return TypeCodec(4, 4, ("f32",), load, store, lift, lower)


def _f64_codec(get_buf: Callable[[], Buffer]) -> TypeCodec:
    def load(buf: Buffer, ptr: int) -> float:
        return f64_from_bits(_unpack_from("<Q", buf, ptr)[0])

    def store(v: Any, ptr: int) -> None:
        _pack_into("<Q", get_buf(), ptr, f64_bits(canonical_f64(v)))

    def lift(flat: Sequence[FlatValue], pos: int) -> float:
        v = flat[pos]
        if isinstance(v, int):
            return f64_from_bits(v)
        return canonical_f64(v)

    def lower(v: Any, out: list[FlatValue]) -> None:
        out.append(canonical_f64(v))

    return TypeCodec(8, 8, ("f64",), load, store, lift, lower)


def _char_codec(get_buf: Callable[[], Buffer]) -> TypeCodec:
    def load(buf: Buffer, ptr: int) -> str:
        return char_from_i32(_unpack_from("<I", buf, ptr)[0])

    def store(v: Any, ptr: int) -> None:
        _pack_into("<I", get_buf(), ptr, char_to_i32(v))

    def lift(flat: Sequence[FlatValue], pos: int) -> str:
        return char_from_i32(int(flat[pos]) & M32)

    def lower(v: Any, out: list[FlatValue]) -> None:
        out.append(char_to_i32(v))

    return TypeCodec(4, 4, ("i32",), load, store, lift, lower)


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
