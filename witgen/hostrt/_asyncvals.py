"""Typed values of async plugins: what generated bindings of an async world run on.

This file is witgen's host runtime (`witgen/hostrt/_asyncvals.py`), copied verbatim into
generated packages whose worlds use `async` functions, `stream`, `future` or `error-context`.

`_async.py` runs such a guest's core module and serves the async canonical built-ins; it moves
values through `Codec`s and flat lists it is given. This module gives it those, for the type
descriptors of the generated `_abi.py` (the same ones the synchronous paths use, plus
`("stream", element, key)`, `("future", element, key)` and `("error-context",)`): canonical-ABI
loads, stores, lifts and lowers over the guest's memory, a stream or future the guest hands over
becoming a `StreamReader`/`FutureReader`, one the host hands over made from what the host gives
(any iterable or async iterable for a stream, an awaitable for a future) and fed by a
background task. `AsyncInstance` is what a generated world class holds: its async exports are
coroutines, its synchronous exports plain calls; imports are served by the host's objects,
coroutine functions for async imports.
"""

from __future__ import annotations

import asyncio
import contextvars
import inspect
import os
import struct
from dataclasses import dataclass
from typing import (
    Any,
    AsyncIterable,
    AsyncIterator,
    Awaitable,
    Callable,
    Generator,
    Iterable,
    Iterator,
    Mapping,
    Protocol,
    Sequence,
    TypeVar,
    Union,
)

import wasmtime

from . import _async, _core, _runtime, _wasi
from ._runtime import Desc, Err, Ok, Some

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)

MAX_FLAT_PARAMS = 16
MAX_FLAT_ASYNC_PARAMS = 4


class StreamReader(Protocol[T]):
    """A `stream<T>` the plugin writes and the host reads: an async iterator of `T`.

    `read(n)` returns up to n values, or None once the plugin ended the stream; `close()` drops
    the host's end (the plugin's next write sees it dropped).
    """

    async def read(self, n: int) -> list[T] | None: ...

    def __aiter__(self) -> AsyncIterator[T]: ...

    def close(self) -> None: ...


class FutureReader(Protocol[T_co]):
    """A `future<T>` the plugin writes: `await reader` (or `await reader.get()`) is the value."""

    async def get(self) -> T_co: ...

    def __await__(self) -> Generator[Any, None, T_co]: ...


StreamSource = Union[Iterable[T], AsyncIterable[T]]
"""What the host hands a plugin as a `stream<T>`: values it writes, then ends the stream."""

FutureSource = Awaitable[T]
"""What the host hands a plugin as a `future<T>`: the plugin reads what it resolves to."""

ErrorContext = _async.ErrorContext
"""An `error-context`: `ErrorContext("message")`; `.debug_message` is its message."""


# ---------------------------------------------------------------------------- layout


@dataclass(frozen=True)
class Layout:
    size: int
    align: int
    flat: tuple[str, ...]


_INT_SIZES = {
    "u8": 1,
    "s8": 1,
    "u16": 2,
    "s16": 2,
    "u32": 4,
    "s32": 4,
    "u64": 8,
    "s64": 8,
}
_INT_FORMATS = {"u8": "B", "s8": "b", "u16": "H", "s16": "h", "u32": "I", "s32": "i"}
_INT_FORMATS |= {"u64": "Q", "s64": "q"}
_HANDLE_KINDS = (
    "stream",
    "future",
    "error-context",
    "own",
    "borrow",
    "host-own",
    "host-borrow",
)
_PAIR = struct.Struct("<II")
_FLOAT_FORMATS = {"f32": "f", "f64": "d"}


def _align_to(n: int, align: int) -> int:
    return -(-n // align) * align


def _disc_size(n: int) -> int:
    return 1 if n <= 256 else 2 if n <= 65536 else 4


def _join(a: str, b: str) -> str:
    if a == b:
        return a
    if {a, b} == {"i32", "f32"}:
        return "i32"
    return "i64"


def _cases(desc: Desc) -> list[Desc | None]:
    """The payload descriptors of a variant-like type's cases, in case order."""
    kind = desc[0]
    if kind == "option":
        return [None, desc[1]]
    if kind == "result":
        return [desc[1], desc[2]]
    return [d for _, _, d in desc[1]]


def _members(desc: Desc) -> list[Desc]:
    """The descriptors of a record's fields or a tuple's elements."""
    if desc[0] == "record":
        return [d for _, _, d in desc[2]]
    return list(desc[1])


def layout(desc: Desc, cache: dict[int, Layout] | None = None) -> Layout:
    """Size, alignment and flat types of a descriptor's type (CanonicalABI.md)."""
    cache = {} if cache is None else cache
    found = cache.get(id(desc))
    if found is not None:
        return found
    kind = desc[0]
    out: Layout
    if kind == "int":
        size = _INT_SIZES[desc[3]]
        out = Layout(size, size, ("i64",) if size == 8 else ("i32",))
    elif kind == "float":
        out = Layout(4, 4, ("f32",)) if desc[1] == "f32" else Layout(8, 8, ("f64",))
    elif kind == "bool":
        out = Layout(1, 1, ("i32",))
    elif kind == "char" or kind in _HANDLE_KINDS:
        out = Layout(4, 4, ("i32",))
    elif kind in ("string", "bytes", "list", "map"):
        out = Layout(8, 4, ("i32", "i32"))
    elif kind in ("fixed-bytes", "fixed-list"):
        byte = Layout(1, 1, ("i32",))
        elem = byte if kind == "fixed-bytes" else layout(desc[1], cache)
        n = desc[1] if kind == "fixed-bytes" else desc[2]
        out = Layout(elem.size * n, elem.align, elem.flat * n)
    elif kind in ("record", "tuple"):
        size, align, flat = 0, 1, tuple[str, ...]()
        for member in _members(desc):
            lay = layout(member, cache)
            size = _align_to(size, lay.align) + lay.size
            align = max(align, lay.align)
            flat += lay.flat
        out = Layout(_align_to(size, align), align, flat)
    elif kind == "enum":
        n = _disc_size(len(list(desc[1])))
        out = Layout(n, n, ("i32",))
    elif kind == "flags":
        n = len(desc[2])
        size = 0 if n == 0 else 1 if n <= 8 else 2 if n <= 16 else 4 * -(-n // 32)
        out = Layout(size, min(max(size, 1), 4), ("i32",) * -(-n // 32))
    elif kind in ("variant", "option", "result"):
        cases = _cases(desc)
        disc = _disc_size(len(cases))
        align, payload, joined = disc, 0, list[str]()
        for case in cases:
            if case is None:
                continue
            lay = layout(case, cache)
            align = max(align, lay.align)
            payload = max(payload, lay.size)
            for i, ft in enumerate(lay.flat):
                if i < len(joined):
                    joined[i] = _join(joined[i], ft)
                else:
                    joined.append(ft)
        size = _align_to(_align_to(disc, align) + payload, align)
        out = Layout(size, align, ("i32", *joined))
    else:
        raise TypeError(f"no canonical layout for a {kind!r} value here")
    cache[id(desc)] = out
    return out


# ---------------------------------------------------------------------------- values


def _u32(v: Any) -> int:
    return int(v) & 0xFFFF_FFFF


def _f32_bits(v: float) -> int:
    return int(struct.unpack("<I", struct.pack("<f", v))[0])


def _f64_bits(v: float) -> int:
    return int(struct.unpack("<Q", struct.pack("<d", v))[0])


def _bits_f32(v: int) -> float:
    return float(struct.unpack("<f", struct.pack("<I", v & 0xFFFF_FFFF))[0])


def _bits_f64(v: int) -> float:
    return float(struct.unpack("<d", struct.pack("<Q", v & 0xFFFF_FFFF_FFFF_FFFF))[0])


def _f32_round(v: float) -> float:
    return float(struct.unpack("<f", struct.pack("<f", v))[0])


def _char(code: int) -> str:
    bad = code >= 0x110000 or 0xD800 <= code <= 0xDFFF
    _async.trap_if(bad, f"{code:#x} is not a char")
    return chr(code)


@dataclass
class Rep:
    """A handle of a resource the guest exports, in its table: the guest's representation."""

    rep: int


@dataclass
class Lent:
    """A handle of a host resource, in the guest's table: the host object it stands for."""

    obj: Any
    own: bool


# the handles of host objects lent as `borrow` to the export call in progress (dropped when it
# returns, as the spec ends a borrow with the call)
_LENT: contextvars.ContextVar[list[int] | None]
_LENT = contextvars.ContextVar("_LENT", default=None)


class ResourceOwner:
    """What the generated classes of resources an async plugin exports hold (their handle is
    the guest's rep): methods go through `call` (a coroutine for an async method), dropping
    one runs the guest's destructor. A resource of an instance that trapped is closed.
    """

    def __init__(self, instance: AsyncInstance) -> None:
        self._instance = instance
        self._state: Any = None
        self._generation = 0

    @property
    def generation(self) -> int:
        state = self._instance.plugin.state()
        if state is not self._state:
            self._state = state
            self._generation += 1
        return self._generation

    @generation.setter
    def generation(self, value: int) -> None:
        self._generation = value

    def call(self, iface: str | None, name: str, args: Sequence[Any]) -> Any:
        key = AsyncInstance._key(iface, name)
        if self._instance._exports[key].is_async:
            return self._instance.call(key, *args)
        return self._instance.call_sync(key, *args)

    def bind(self, iface: str | None, name: str) -> Callable[..., Any]:
        return lambda *args: self.call(iface, name, args)

    def drop_resource(self, handle: Any, generation: int, dtor: str) -> None:
        if generation != self.generation:
            return  # the instance that had it is gone
        self._instance.plugin._enter(dtor, (int(handle),))

    def close(self) -> None:
        pass


class _Prepared:
    def __init__(self, wasi: _runtime.WasiGrants) -> None:
        self.wasi = wasi


class WasiHost:
    """What `_wasi`'s WASI 0.2 functions take as the running instance: the async plugin's
    memory, and the grants (its WASI state is fresh for each new guest instance)."""

    def __init__(self, plugin: _async.AsyncPlugin, grants: _runtime.WasiGrants) -> None:
        self.plugin = plugin
        self.prepared = _Prepared(grants)
        self._state: Any = None
        self.generation = 0

    def serve(self, impl: _wasi.Impl, outs: Sequence[str]) -> _wasi.Impl:
        # `_wasi` answers a core result as a signed bit pattern; the async host packs unsigned
        mask = (1 << (64 if tuple(outs) == ("i64",) else 32)) - 1

        def call(*args: Any) -> Any:
            state = self.plugin.state()
            if state is not self._state:
                self._state = state
                self.generation += 1
            result = impl(self, *args)
            return result & mask if isinstance(result, int) else result

        return call

    def view(self) -> memoryview:
        return self.plugin.view()

    def ref(self, *args: Any) -> None:
        self.plugin.ref(*args)

    def allocate(self) -> None:
        self.plugin.allocate()

    def write(self, addr: int, data: bytes | bytearray) -> None:
        self.plugin.write(addr, data)


def _wasi_imports(
    plugin: _async.AsyncPlugin,
    component: bytes,
    exports: Mapping[str, _async.AsyncExport],
    grants: _runtime.WasiGrants,
) -> dict[tuple[str, str], _async.SyncImport]:
    """The WASI 0.2 imports of the plugin's core module, served by `_wasi` under `grants`."""
    try:
        main = _async._main_module(component, exports)
    except _core.FastUnavailable:
        return {}  # AsyncPlugin says why
    host = WasiHost(plugin, grants)
    out = {}
    for module, name in _core.ModuleInfo(main).imports:
        found = _wasi.lookup(module, name)
        if found is not None:
            ins, outs, impl = found
            out[(module, name)] = _async.SyncImport(ins, outs, host.serve(impl, outs))
    return out


class Values:
    """Lifting and lowering of one `AsyncInstance`'s values (its plugin's memory and handles)."""

    def __init__(self, plugin: _async.AsyncPlugin) -> None:
        self.plugin = plugin
        self.owner: ResourceOwner | None = None  # set by AsyncInstance
        self._layouts: dict[int, Layout] = {}
        self._payloads: dict[int, _async.PayloadType] = {}
        self._loaders: dict[int, Callable[[memoryview, int], Any]] = {}
        self._blocks: dict[int, Callable[[memoryview, int, int], Any]] = {}
        self.feeders: set[asyncio.Future[Any]] = set()

    def layout(self, desc: Desc) -> Layout:
        return layout(desc, self._layouts)

    def payload(self, desc: Desc) -> _async.PayloadType:
        """The payload type of a stream or future descriptor (its element's codec)."""
        found = self._payloads.get(id(desc))
        if found is not None:
            return found
        element = desc[1]
        codec = None
        if element is not None:
            codec = self._codec(element)
        made = _async.PayloadType(desc[2], codec)
        self._payloads[id(desc)] = made
        return made

    def _codec(self, element: Desc) -> _async.Codec:
        """How a stream or future moves its elements: a whole buffer at once."""
        lay = self.layout(element)
        size = lay.size
        load = self.loader(element)
        plugin = self.plugin

        def load_one(ptr: int) -> Any:
            return load(plugin.view(), ptr)

        def load_many(ptr: int, n: int) -> list[Any]:
            m = plugin.view()
            return [load(m, at) for at in range(ptr, ptr + size * n, size)]

        def store_many(values: Sequence[Any], ptr: int) -> None:
            buf = bytearray(size * len(values))
            try:
                for i, value in enumerate(values):
                    self.put(element, value, buf, i * size)
            except BaseException:
                plugin.pending.clear()
                raise
            self._allocate()
            plugin.write(ptr, bytes(buf))

        def store_one(value: Any, ptr: int) -> None:
            store_many((value,), ptr)

        return _async.Codec(size, lay.align, load_one, store_one, load_many, store_many)

    # -- memory --

    def load(self, desc: Desc, m: memoryview, ptr: int) -> Any:
        """The value at `ptr` (`m`: the guest's memory, valid while no guest code runs)."""
        return self.loader(desc)(m, ptr)

    def loader(self, desc: Desc) -> Callable[[memoryview, int], Any]:
        """A function reading a value of `desc`'s type from memory (made once per type)."""
        found = self._loaders.get(id(desc))
        if found is None:
            found = self._loaders[id(desc)] = self._make_loader(desc)
        return found

    def _make_loader(self, desc: Desc) -> Callable[[memoryview, int], Any]:
        kind = desc[0]
        if kind in ("int", "float"):
            code = _INT_FORMATS[desc[3]] if kind == "int" else _FLOAT_FORMATS[desc[1]]
            unpack = struct.Struct("<" + code).unpack_from
            return lambda m, p: unpack(m, p)[0]
        if kind in ("string", "bytes", "list", "map"):
            block = self.block_loader(desc)
            pair = _PAIR.unpack_from

            def load_block(m: memoryview, p: int) -> Any:
                a, n = pair(m, p)
                return block(m, a, n)

            return load_block
        if kind in ("record", "tuple"):
            fields = []
            at = 0
            for member in _members(desc):
                lay = self.layout(member)
                at = _align_to(at, lay.align)
                fields.append((self.loader(member), at))
                at += lay.size
            if kind == "tuple":
                return lambda m, p: tuple([f(m, p + o) for f, o in fields])
            cls = desc[1]
            return lambda m, p: cls(*[f(m, p + o) for f, o in fields])
        return lambda m, p: self._load(desc, m, p)

    def _load(self, desc: Desc, m: memoryview, ptr: int) -> Any:
        kind = desc[0]
        if kind == "int":
            return struct.unpack_from("<" + _INT_FORMATS[desc[3]], m, ptr)[0]
        if kind == "float":
            if desc[1] == "f32":
                return struct.unpack_from("<f", m, ptr)[0]
            return struct.unpack_from("<d", m, ptr)[0]
        if kind == "bool":
            return m[ptr] != 0
        if kind == "char":
            return _char(struct.unpack_from("<I", m, ptr)[0])
        if kind == "fixed-bytes":
            return bytes(m[ptr : ptr + desc[1]])
        if kind == "fixed-list":
            size = self.layout(desc[1]).size
            return [self.load(desc[1], m, ptr + i * size) for i in range(desc[2])]
        if kind == "enum":
            return self._enum(desc, self._disc(m, ptr, len(list(desc[1]))))
        if kind == "flags":
            lay = self.layout(desc)
            bits = int.from_bytes(m[ptr : ptr + lay.size], "little")
            return self._flags(desc, bits)
        if kind in ("variant", "option", "result"):
            cases = _cases(desc)
            index = self._disc(m, ptr, len(cases))
            _async.trap_if(index >= len(cases), f"case {index} does not exist")
            lay = self.layout(desc)
            payload = _align_to(_disc_size(len(cases)), lay.align)
            case = cases[index]
            value = None if case is None else self.load(case, m, ptr + payload)
            return self._box(desc, index, value)
        return self._lift_handle(desc, struct.unpack_from("<I", m, ptr)[0])

    def _disc(self, m: memoryview, ptr: int, n: int) -> int:
        size = _disc_size(n)
        return int.from_bytes(m[ptr : ptr + size], "little")

    def block_loader(self, desc: Desc) -> Callable[[memoryview, int, int], Any]:
        """A function reading a string's or list's `n` elements at `a`."""
        kind = desc[0]
        if kind == "string":

            def load_string(m: memoryview, a: int, n: int) -> Any:
                _async.trap_if(a + n > len(m), "string out of bounds")
                try:
                    return str(m[a : a + n], "utf-8")
                except UnicodeDecodeError:
                    _async.trap_if(True, "string is not UTF-8")

            return load_string
        if kind == "bytes":

            def load_bytes(m: memoryview, a: int, n: int) -> Any:
                _async.trap_if(a + n > len(m), "list out of bounds")
                return bytes(m[a : a + n])

            return load_bytes
        element: Desc = ("tuple", (desc[1], desc[2])) if kind == "map" else desc[1]
        lay = self.layout(element)
        size, align = lay.size, lay.align
        load = self.loader(element)

        def load_list(m: memoryview, a: int, n: int) -> Any:
            _async.trap_if(a & (align - 1) != 0, f"list {a:#x} is misaligned")
            _async.trap_if(a + n * size > len(m), "list out of bounds")
            items = [load(m, at) for at in range(a, a + n * size, size)]
            return dict(items) if kind == "map" else items

        return load_list

    def _lift_block(self, desc: Desc, p: int, n: int) -> Any:
        block = self._blocks.get(id(desc))
        if block is None:
            block = self._blocks[id(desc)] = self.block_loader(desc)
        return block(self.plugin.view(), p, n)

    def _enum(self, desc: Desc, index: int) -> Any:
        members = list(desc[1])
        _async.trap_if(index >= len(members), f"{desc[1].__name__} has no case {index}")
        return members[index]

    def _flags(self, desc: Desc, bits: int) -> Any:
        out = desc[1](0)
        for i, (_, member) in enumerate(desc[2]):
            if bits >> i & 1:
                out |= member
        return out

    def _box(self, desc: Desc, index: int, value: Any) -> Any:
        kind = desc[0]
        if kind == "option":
            if index == 0:
                return None
            return Some(value) if desc[2] else value
        if kind == "result":
            return Ok(value) if index == 0 else Err(value)
        cls = desc[1][index][1]
        return cls() if desc[1][index][2] is None else cls(value)

    def _unbox(self, desc: Desc, v: Any) -> tuple[int, Any]:
        """(case index, payload) of a variant-like value."""
        kind = desc[0]
        if kind == "option":
            if v is None:
                return 0, None
            return 1, (v.value if desc[2] else v)
        if kind == "result":
            if isinstance(v, Ok):
                return 0, v.value
            if isinstance(v, Err):
                return 1, v.value
            raise TypeError(f"expected Ok(...) or Err(...), got {type(v).__name__}")
        for i, (_, cls, d) in enumerate(desc[1]):
            if type(v) is cls:
                return i, (None if d is None else v.value)
        raise TypeError(f"{v!r} is not a case of this variant")

    def store(self, desc: Desc, v: Any, ptr: int) -> None:
        """Writes a value at `ptr` (its strings and lists get memory from `cabi_realloc`)."""
        buf = bytearray(self.layout(desc).size)
        try:
            self.put(desc, v, buf, 0)
        except BaseException:
            self.plugin.pending.clear()
            raise
        self._allocate()
        self.plugin.write(ptr, bytes(buf))

    def put(self, desc: Desc, v: Any, buf: bytearray, at: int) -> None:
        """Writes a value into a host buffer at offset `at`, as it will lie in guest memory."""
        kind = desc[0]
        if kind == "int":
            struct.pack_into("<" + _INT_FORMATS[desc[3]], buf, at, v)
        elif kind == "float":
            struct.pack_into("<f" if desc[1] == "f32" else "<d", buf, at, v)
        elif kind == "bool":
            buf[at] = 1 if v else 0
        elif kind == "char":
            struct.pack_into("<I", buf, at, ord(v))
        elif kind in ("string", "bytes", "list", "map"):
            self._ref_block(desc, v, buf, at)
        elif kind == "fixed-bytes":
            buf[at : at + desc[1]] = bytes(v)
        elif kind == "fixed-list":
            size = self.layout(desc[1]).size
            for i, x in enumerate(v):
                self.put(desc[1], x, buf, at + i * size)
        elif kind in ("record", "tuple"):
            offset = at
            for member, x in zip(_members(desc), _parts(desc, v)):
                lay = self.layout(member)
                offset = _align_to(offset, lay.align)
                self.put(member, x, buf, offset)
                offset += lay.size
        elif kind == "enum":
            index = list(desc[1]).index(v)
            size = self.layout(desc).size
            buf[at : at + size] = index.to_bytes(size, "little")
        elif kind == "flags":
            size = self.layout(desc).size
            buf[at : at + size] = self._flag_bits(desc, v).to_bytes(size, "little")
        elif kind in ("variant", "option", "result"):
            cases = _cases(desc)
            index, payload = self._unbox(desc, v)
            disc = _disc_size(len(cases))
            buf[at : at + disc] = index.to_bytes(disc, "little")
            case = cases[index]
            if case is not None:
                offset = at + _align_to(disc, self.layout(desc).align)
                self.put(case, payload, buf, offset)
        else:
            struct.pack_into("<I", buf, at, self._lower_handle(desc, v))

    def _flag_bits(self, desc: Desc, v: Any) -> int:
        bits = 0
        for i, (_, member) in enumerate(desc[2]):
            if member in v:
                bits |= 1 << i
        return bits

    def _lower_block(self, desc: Desc, v: Any) -> tuple[int, int]:
        """A string's or list's elements copied into memory from `cabi_realloc`: (ptr, len)."""
        holder = bytearray(8)
        self._ref_block(desc, v, holder, 0)
        self._allocate()
        a, n = _PAIR.unpack(holder)
        return int(a), int(n)

    def _allocate(self) -> None:
        """Allocates every block registered by `_ref_block`, in one trip into the guest."""
        try:
            self.plugin.allocate()
        finally:
            self.plugin.pending.clear()

    def _ref_block(self, desc: Desc, v: Any, parent: bytearray, at: int) -> None:
        """Registers a string's or list's elements as a block whose (address, length) goes
        into `parent` at `at` once allocated (blocks inside it first)."""
        kind = desc[0]
        if kind in ("string", "bytes"):
            data = v.encode("utf-8") if kind == "string" else bytes(v)
            if not data:
                _PAIR.pack_into(parent, at, 1, 0)
            else:
                self.plugin.ref(parent, at, 1, data)
            return
        if kind == "map":
            element: Desc = ("tuple", (desc[1], desc[2]))
            items: Sequence[Any] = list(v.items())
        else:
            element, items = desc[1], v
        lay = self.layout(element)
        if not items:
            _PAIR.pack_into(parent, at, lay.align, 0)
            return
        buf = bytearray(lay.size * len(items))
        for i, x in enumerate(items):
            self.put(element, x, buf, i * lay.size)
        self.plugin.ref(parent, at, lay.align, buf, len(items))

    # -- flat values --

    def lift_flat(self, desc: Desc, flat: Iterator[Any]) -> Any:
        kind = desc[0]
        if kind == "int":
            name = desc[3]
            raw = next(flat)
            if name == "u64" or name == "s64":
                raw = int(raw) & 0xFFFF_FFFF_FFFF_FFFF
                return raw - (1 << 64) if name == "s64" and raw >> 63 else raw
            raw = _u32(raw)
            bits = _INT_SIZES[name] * 8
            raw &= (1 << bits) - 1
            return raw - (1 << bits) if name[0] == "s" and raw >> (bits - 1) else raw
        if kind == "float":
            number = float(next(flat))
            return _f32_round(number) if desc[1] == "f32" else number
        if kind == "bool":
            return _u32(next(flat)) != 0
        if kind == "char":
            return _char(_u32(next(flat)))
        if kind in ("string", "bytes", "list", "map"):
            p, n = _u32(next(flat)), _u32(next(flat))
            return self._lift_block(desc, p, n)
        if kind == "fixed-bytes":
            return bytes(_u32(next(flat)) & 0xFF for _ in range(desc[1]))
        if kind == "fixed-list":
            return [self.lift_flat(desc[1], flat) for _ in range(desc[2])]
        if kind in ("record", "tuple"):
            values = [self.lift_flat(member, flat) for member in _members(desc)]
            return desc[1](*values) if kind == "record" else tuple(values)
        if kind == "enum":
            return self._enum(desc, _u32(next(flat)))
        if kind == "flags":
            bits = 0
            for i in range(len(self.layout(desc).flat)):
                bits |= _u32(next(flat)) << (32 * i)
            return self._flags(desc, bits)
        if kind in ("variant", "option", "result"):
            cases = _cases(desc)
            joined = self.layout(desc).flat[1:]
            index = _u32(next(flat))
            _async.trap_if(index >= len(cases), f"case {index} does not exist")
            slots = [next(flat) for _ in joined]
            case = cases[index]
            value = None
            if case is not None:
                have = self.layout(case).flat
                pairs = zip(slots, have, joined)
                coerced = [_coerce_lift(x, h, w) for x, h, w in pairs]
                value = self.lift_flat(case, iter(coerced))
            return self._box(desc, index, value)
        return self._lift_handle(desc, _u32(next(flat)))

    def lower_flat(self, desc: Desc, v: Any, out: list[Any]) -> None:
        kind = desc[0]
        if kind == "int":
            problem = _runtime.mismatch(desc, v, "value")
            if problem is not None:
                raise problem
            wide = desc[3][1:] == "64"
            out.append(v & (0xFFFF_FFFF_FFFF_FFFF if wide else 0xFFFF_FFFF))
        elif kind == "float":
            out.append(float(v))
        elif kind == "bool":
            out.append(1 if v else 0)
        elif kind == "char":
            out.append(ord(v))
        elif kind in ("string", "bytes", "list", "map"):
            out.extend(self._lower_block(desc, v))
        elif kind == "fixed-bytes":
            out.extend(bytes(v))
        elif kind == "fixed-list":
            for x in v:
                self.lower_flat(desc[1], x, out)
        elif kind in ("record", "tuple"):
            values = _parts(desc, v)
            for member, x in zip(_members(desc), values):
                self.lower_flat(member, x, out)
        elif kind == "enum":
            out.append(list(desc[1]).index(v))
        elif kind == "flags":
            bits = self._flag_bits(desc, v)
            for i in range(len(self.layout(desc).flat)):
                out.append(bits >> (32 * i) & 0xFFFF_FFFF)
        elif kind in ("variant", "option", "result"):
            cases = _cases(desc)
            joined = self.layout(desc).flat[1:]
            index, payload = self._unbox(desc, v)
            out.append(index)
            case = cases[index]
            parts: list[Any] = []
            if case is not None:
                self.lower_flat(case, payload, parts)
                have = self.layout(case).flat
                parts = [_coerce_lower(x, h, w) for x, h, w in zip(parts, have, joined)]
            out.extend(parts)
            out.extend(0.0 if w[0] == "f" else 0 for w in joined[len(parts) :])
        else:
            out.append(self._lower_handle(desc, v))

    # -- handles: streams, futures, error contexts --

    def _lift_handle(self, desc: Desc, index: int) -> Any:
        state = self.plugin.state()
        kind = desc[0]
        if kind == "own":  # the guest gives up its handle of a resource it exports
            rep = state.handles.remove(index)
            _async.trap_if(not isinstance(rep, Rep), f"no resource has {index}")
            return desc[1](self.owner, rep.rep)
        if kind in ("host-own", "host-borrow"):  # a host object lent to the guest
            take = kind == "host-own"
            table = state.handles
            lent = table.remove(index) if take else table.get(index)
            _async.trap_if(not isinstance(lent, Lent), f"no host object has {index}")
            _async.trap_if(take and not lent.own, f"handle {index} is borrowed")
            return lent.obj
        if kind == "stream":
            return _async.lift_stream(state, index, self.payload(desc))
        if kind == "future":
            return _async.lift_future(state, index, self.payload(desc))
        if kind == "error-context":
            return _async.lift_error_context(state, index)
        raise TypeError(f"no canonical lifting for a {kind!r} value here")

    def _lower_handle(self, desc: Desc, v: Any) -> int:
        state = self.plugin.state()
        kind = desc[0]
        if kind in ("own", "borrow"):  # a resource the guest exports: its rep goes back
            if not isinstance(v, desc[1]):
                raise TypeError(f"expected {desc[1].__name__}, got {type(v).__name__}")
            rep = v._handle_for_call(kind == "own")
            return int(state.handles.add(Rep(rep))) if kind == "own" else int(rep)
        if kind in ("host-own", "host-borrow"):  # a host object lent to the guest
            if v is None:
                raise TypeError(f"expected a `{desc[1]}` object, got None")
            own = kind == "host-own"
            handle = int(state.handles.add(Lent(v, own)))
            lent = _LENT.get()
            if not own and lent is not None:
                lent.append(handle)
            return handle
        if kind == "error-context":
            if not isinstance(v, _async.ErrorContext):
                raise TypeError(f"expected ErrorContext, got {type(v).__name__}")
            return state.handles.add(v)
        if kind == "stream":
            if not isinstance(v, (Iterable, AsyncIterable)):
                what = type(v).__name__
                raise TypeError(f"expected an iterable or async iterable, got {what}")
            handle, writer = _async.lower_stream(state, self.payload(desc))
            self._spawn(_feed_stream(writer, v))
            return handle
        if kind == "future":
            if not inspect.isawaitable(v):
                raise TypeError(f"expected an awaitable, got {type(v).__name__}")
            handle, fwriter = _async.lower_future(state, self.payload(desc))
            self._spawn(_feed_future(fwriter, v))
            return handle
        raise TypeError(f"no canonical lowering for a {kind!r} value here")

    def _spawn(self, work: Awaitable[Any]) -> None:
        """Runs a feeder in the background; if it fails (a wrong value, the host's iterable
        raised), the instance is discarded and the host's calls waiting on it get the error.
        """
        job = asyncio.ensure_future(work)
        self.feeders.add(job)
        job.add_done_callback(self.feeders.discard)
        job.add_done_callback(self._failed)

    def _failed(self, job: asyncio.Future[Any]) -> None:
        if job.cancelled() or job.exception() is None:
            return
        exc = job.exception()
        assert exc is not None
        self.plugin._poison(exc)


def _parts(desc: Desc, v: Any) -> list[Any]:
    """The field values of a record, or the elements of a tuple."""
    if desc[0] == "record":
        return [getattr(v, f[0]) for f in desc[2]]
    return list(v)


def _coerce_lower(v: Any, have: str, want: str) -> Any:
    if have == want:
        return v
    if have == "f32":
        return _f32_bits(v)
    if have == "f64":
        return _f64_bits(v)
    return v  # i32 in an i64 slot: the same (unsigned) value


def _coerce_lift(v: Any, have: str, want: str) -> Any:
    if have == want:
        return v
    if have == "f32":
        return _bits_f32(int(v))
    if have == "f64":
        return _bits_f64(int(v))
    return int(v) & 0xFFFF_FFFF  # an i32 from an i64 slot


async def _feed_stream(writer: _async.StreamWriter, source: Any) -> None:
    """Writes what the host gave as a stream, then ends it (early when the plugin dropped it)."""
    try:
        if isinstance(source, AsyncIterable):
            async for value in source:
                if await writer.write([value]) < 1:
                    return
        else:
            values = list(source)
            if values:
                await writer.write(values)
    finally:
        writer.close()


async def _feed_future(writer: _async.FutureWriter, source: Awaitable[Any]) -> None:
    await writer.set(await source)


# ---------------------------------------------------------------------------- functions


def read_component(source: str | os.PathLike[str] | bytes) -> bytes:
    """A component's bytes from a path or from bytes already in memory (WAT text is compiled
    to a binary first)."""
    data = _runtime.read_component(source)
    if isinstance(data, str):
        try:
            return bytes(wasmtime.wat2wasm(data))
        except wasmtime.WasmtimeError as exc:
            raise _runtime.PluginLoadError(f"invalid component text: {exc}") from None
    return data


@dataclass(frozen=True)
class Export:
    """A function the plugin exports, as a generated world calls it.

    `interface`: the interface's name in the component (None: a world-level function);
    `params`/`result`: the type descriptors; `core_params`: the core function's parameter types
    (`("i32",)` alone when the parameters go through memory: `params_indirect`);
    `results_indirect`: a synchronous function's result comes back through memory.
    """

    interface: str | None
    name: str
    is_async: bool
    params: tuple[Desc, ...]
    result: Desc | None
    params_indirect: bool = False
    results_indirect: bool = False
    post_return: bool = False
    payloads: tuple[tuple[int, Desc], ...] = ()  # (index, stream/future descriptor)
    method: str = ""

    @property
    def core_name(self) -> str:
        base = self.name if self.interface is None else f"{self.interface}#{self.name}"
        return f"[async-lift]{base}" if self.is_async else base


@dataclass(frozen=True)
class Import:
    """A function the plugin imports, served by a host object's method `method`."""

    interface: str | None
    name: str
    is_async: bool
    params: tuple[Desc, ...]
    result: Desc | None
    core_params: tuple[str, ...]
    core_results: tuple[str, ...]
    params_indirect: bool = False
    results_indirect: bool = False
    payloads: tuple[tuple[int, Desc], ...] = ()
    method: str = ""
    # a method of a host resource: `method` of its first argument
    receiver: bool = False


def _core_args(
    values: Values, descs: Sequence[Desc], args: Sequence[Any], indirect: bool
) -> list[Any]:
    """The core arguments of a call into the plugin (flat, or a pointer to them in memory)."""
    if not indirect:
        flat: list[Any] = []
        for desc, arg in zip(descs, args):
            values.lower_flat(desc, arg, flat)
        return flat
    area: Desc = ("tuple", tuple(descs))
    lay = values.layout(area)
    ptr = values.plugin.realloc(lay.align, max(lay.size, 1))
    values.store(area, tuple(args), ptr)
    return [ptr]


def _lower_args(values: Values, e: Export, args: Sequence[Any]) -> list[Any]:
    """An export's core arguments; a wrong value is an error naming the function."""
    try:
        return _core_args(values, e.params, args, e.params_indirect)
    except (TypeError, ValueError) as exc:
        raise type(exc)(f"{e.method or e.name}(): {exc}") from None


class AsyncInstance:
    """A plugin of an async world: the generated world class's engine.

    `exports` are the world's exports by Python key (`<interface>#<name>` or `<name>`);
    `imports` the functions the plugin may import, `hosts` the object serving each import's
    interface (None for a world-level import: `hosts[None]`); `resources` the world's resource
    types as (interface, name, exported): their built-ins (`[resource-new]` and the like) are
    served on the guest's handle table.
    """

    def __init__(
        self,
        component: bytes,
        exports: Sequence[Export],
        imports: Sequence[Import],
        hosts: Mapping[str | None, Any],
        limits: _runtime.Limits | None = None,
        resources: Sequence[tuple[str | None, str, bool]] = (),
        wasi: _runtime.WasiGrants | None = None,
    ) -> None:
        plugin = _async.AsyncPlugin.__new__(_async.AsyncPlugin)
        values = Values(plugin)
        self.values = values
        values.owner = ResourceOwner(self)
        self._exports = {self._key(e.interface, e.name): e for e in exports}
        payloads: dict[tuple[str, str, int], _async.PayloadType] = {}
        task_returns: dict[tuple[str, str], tuple[str, ...]] = {}
        async_exports: dict[str, _async.AsyncExport] = {}
        for e in exports:
            for index, desc in e.payloads:
                payloads[(e.interface or "$root", e.name, index)] = values.payload(desc)
            if not e.is_async:
                continue
            module = f"[export]{e.interface or '$root'}"
            flat = () if e.result is None else values.layout(e.result).flat
            if len(flat) > MAX_FLAT_PARAMS:
                flat = ("i32",)
            task_returns[(module, e.name)] = flat
            async_exports[self._key(e.interface, e.name)] = _async.AsyncExport(
                e.core_name, module, e.name, self._lower_args(e), self._lift_returned(e)
            )
        served: dict[tuple[str, str], _async.AsyncImport] = {}
        sync: dict[tuple[str, str], _async.SyncImport] = {}
        for i in imports:
            for index, desc in i.payloads:
                payloads[(i.interface or "$root", i.name, index)] = values.payload(desc)
            impl = getattr(hosts.get(i.interface), i.method, None)
            if i.receiver:
                impl = _runtime.host_method(i.method)
            if impl is None:
                continue  # linked only if the plugin imports it (then load() says it is missing)
            module = i.interface or "$root"
            if i.is_async:
                served[(module, f"[async-lower]{i.name}")] = self._async_import(i, impl)
            else:
                serve = self._sync_import(i, impl)
                spec = _async.SyncImport(i.core_params, i.core_results, serve)
                sync[(module, i.name)] = spec
        for interface, name, exported in resources:
            sync.update(_resource_builtins(plugin, interface, name, exported))
        grants = _runtime.WasiGrants() if wasi is None else wasi
        sync.update(_wasi_imports(plugin, component, async_exports, grants))
        try:
            _async.AsyncPlugin.__init__(
                plugin,
                component,
                async_exports,
                payloads,
                task_returns,
                limits,
                served,
                sync_imports=sync,
                wasi=grants,
            )
        except _core.FastUnavailable as exc:
            message = f"cannot run this async plugin: {exc}"
            for i in imports:
                module = i.interface or "$root"
                names = (f"{module}/{i.name}", f"{module}/[async-lower]{i.name}")
                if str(exc).endswith(names):
                    where = f"`{i.interface}`" if i.interface else "the world"
                    message = (
                        f"the plugin imports `{i.name}` of {where}, but no object given to "
                        f"load() serves it (a `{i.method}` method)"
                    )
            raise _runtime.PluginLoadError(message) from None
        self.plugin = plugin

    @staticmethod
    def _key(interface: str | None, name: str) -> str:
        return name if interface is None else f"{interface}#{name}"

    def _lower_args(
        self, e: Export
    ) -> Callable[[_async.InstanceState, Sequence[Any]], Sequence[int | float]]:
        values = self.values

        def lower(state: _async.InstanceState, args: Sequence[Any]) -> list[Any]:
            return _lower_args(values, e, args)

        return lower

    def _lift_returned(
        self, e: Export
    ) -> Callable[[_async.InstanceState, Sequence[int | float]], Any] | None:
        result = e.result
        if result is None:
            return None
        values = self.values
        indirect = len(values.layout(result).flat) > MAX_FLAT_PARAMS

        def lift(state: _async.InstanceState, flat: Sequence[int | float]) -> Any:
            if indirect:
                return values.load(result, values.plugin.view(), _u32(flat[0]))
            return values.lift_flat(result, iter(flat))

        return lift

    def _lift_params(self, i: Import, flat: Sequence[Any]) -> list[Any]:
        values = self.values
        if i.params_indirect:
            area: Desc = ("tuple", i.params)
            return list(values.load(area, values.plugin.view(), _u32(flat[0])))
        it = iter(flat)
        return [values.lift_flat(desc, it) for desc in i.params]

    def _async_import(self, i: Import, impl: Callable[..., Any]) -> _async.AsyncImport:
        values = self.values
        result = i.result
        lower = None
        if result is not None:

            def lower(state: _async.InstanceState, value: Any, ptr: int) -> None:
                problem = _check(result, value, f"{i.method}() result")
                if problem is not None:
                    raise problem
                values.store(result, value, ptr)

        return _async.AsyncImport(
            i.core_params, lambda state, flat: self._lift_params(i, flat), lower, impl
        )

    def _sync_import(self, i: Import, impl: Callable[..., Any]) -> Callable[..., Any]:
        values = self.values
        result = i.result
        nargs = len(i.core_params) - (1 if i.results_indirect else 0)

        def serve(*flat: Any) -> Any:
            value = impl(*self._lift_params(i, flat[:nargs]))
            if result is None:
                return None
            problem = _check(result, value, f"{i.method}() result")
            if problem is not None:
                raise problem
            if i.results_indirect:
                values.store(result, value, _u32(flat[nargs]))
                return None
            out: list[Any] = []
            values.lower_flat(result, value, out)
            return out[0]

        return serve

    # -- calls --

    def _check_args(self, e: Export, args: Sequence[Any]) -> None:
        for i, (desc, arg) in enumerate(zip(e.params, args)):
            problem = _check(desc, arg, f"{e.method or e.name}(argument {i + 1})")
            if problem is not None:
                raise problem

    async def call(self, key: str, *args: Any) -> Any:
        """Calls an async export; returns once the plugin returned its result."""
        e = self._exports[key]
        self._check_args(e, args)
        lent: list[int] = []
        token = _LENT.set(lent)
        try:
            return await self.plugin.call(key, *args)
        finally:
            _LENT.reset(token)
            self._end_lends(lent)

    def _end_lends(self, lent: list[int]) -> None:
        """Host objects lent as `borrow` to a call that returned: their handles go (if the
        guest did not drop them itself)."""
        state = self.plugin._state
        if state is None:
            return
        for handle in lent:
            items = state.handles.items
            item = items[handle] if handle < len(items) else None
            if isinstance(item, Lent) and not item.own:
                state.handles.remove(handle)

    def call_sync(self, key: str, *args: Any) -> Any:
        """Calls a synchronous export (it may still take or return streams and futures)."""
        e = self._exports[key]
        self._check_args(e, args)
        plugin = self.plugin
        plugin.state()
        lent: list[int] = []
        token = _LENT.set(lent)
        try:
            return self._call_sync(e, args)
        finally:
            _LENT.reset(token)
            self._end_lends(lent)

    def _call_sync(self, e: Export, args: Sequence[Any]) -> Any:
        plugin = self.plugin
        flat = _lower_args(self.values, e, args)
        out = plugin._enter(e.core_name, flat)
        if e.result is None:
            value = None
        elif e.results_indirect:
            value = self.values.load(e.result, plugin.view(), _u32(out[0]))
        else:
            value = self.values.lift_flat(e.result, iter(out))
        if e.post_return:
            plugin._enter(f"cabi_post_{e.core_name}", [_u32(x) for x in out])
        return value


def _resource_builtins(
    plugin: _async.AsyncPlugin, interface: str | None, name: str, exported: bool
) -> dict[tuple[str, str], _async.SyncImport]:
    """The resource built-ins of one resource type, on the guest's handle table."""
    module = interface or "$root"

    def drop_host(handle: int) -> None:
        lent = plugin.state().handles.remove(handle)
        _async.trap_if(not isinstance(lent, Lent), f"handle {handle} is not a `{name}`")
        close = getattr(lent.obj, "close", None) if lent.own else None
        if callable(close):
            close()

    if not exported:
        drop = _async.SyncImport(("i32",), (), drop_host)
        return {(module, f"[resource-drop]{name}"): drop}

    def new(rep: int) -> int:
        return int(plugin.state().handles.add(Rep(rep & 0xFFFF_FFFF)))

    def rep(handle: int) -> int:
        found = plugin.state().handles.get(handle)
        _async.trap_if(not isinstance(found, Rep), f"handle {handle} is not a `{name}`")
        return int(found.rep)

    def drop_own(handle: int) -> None:
        found = plugin.state().handles.get(handle)
        _async.trap_if(not isinstance(found, Rep), f"handle {handle} is not a `{name}`")
        # the spec runs the guest's destructor from here: not supported yet
        _async.trap_if(True, f"the plugin dropped its own `{name}`")

    module = f"[export]{module}"
    return {
        (module, f"[resource-new]{name}"): _async.SyncImport(("i32",), ("i32",), new),
        (module, f"[resource-rep]{name}"): _async.SyncImport(("i32",), ("i32",), rep),
        (module, f"[resource-drop]{name}"): _async.SyncImport(("i32",), (), drop_own),
    }


def _check(desc: Desc, value: Any, path: str) -> Exception | None:
    """A wrong Python value for `desc` as a TypeError/ValueError naming `path`, or None (the
    streams, futures and error contexts in it are checked when lowered)."""
    return _runtime.mismatch(desc, value, path)
