"""Whole batches between Arrow and guest memory: the fast path's vectorized batch codec.

A batch function of the world (`process-batch: func(records: list<data-record>) -> ...`) takes a
`pyarrow.RecordBatch` here instead of a list of Python records, and gives its result back as
Arrow. No Python object is made per record:

* lowering: the canonical-ABI layout of the element type (derived from the same type
  descriptors the typed methods use, so any record of scalars, strings, byte lists, inline
  records/tuples and lists of such records) says where every field goes. numpy computes the
  sizes of all blocks the guest must allocate (element arrays, strings, byte lists), one trip
  into wasm calls the guest's own `cabi_realloc` for each of them (as the canonical ABI does),
  numpy writes the element arrays with the returned addresses, and a second trip copies every
  block from the scratch memory into guest memory (`memory.copy` between the two memories).
  Each Arrow data buffer is copied into scratch with one memmove.
* lifting: the result is read with numpy views of guest memory (fixed-size parts) and one
  trip into wasm that gathers every string, byte list and nested element array into scratch,
  from where each column's data buffer is taken with one memmove. Strings are checked for
  UTF-8 by Arrow, pointers for bounds and alignment by numpy, enum and variant tags for range.

Arrow mapping: string -> string, list<u8> -> binary, integers/floats -> the same width,
bool -> bool, record and tuple -> struct (tuple fields `f0`, `f1`, ...; lowering reads structs by
position), list<T> -> list, enum -> dictionary<int8|int16|int32, string>, option<T> -> nullable T,
variant and result -> struct of `case` (the case name) and one nullable field per case with a
payload. A top-level `list<record>` result is a `RecordBatch`, `list<T>` another `Array`, a
top-level `result`/`variant` an `Ok`/`Err` (or case object) around its converted payload.

numpy and pyarrow are optional: importing this module needs neither; the first batch call does.
"""

from __future__ import annotations

import ctypes
import functools
import importlib
import threading
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import wasmtime

from . import _capi, _core, _runtime

np: Any = None
pa: Any = None


class BatchUnavailable(Exception):
    """This function or plugin cannot take the batch path (the typed method still works)."""


def _deps() -> None:
    global np, pa
    if pa is None:
        try:
            np = importlib.import_module("numpy")
            pa = importlib.import_module("pyarrow")
        except ImportError as exc:
            raise BatchUnavailable(
                "batch methods need numpy and pyarrow (install the `arrow` extra)",
            ) from exc


# ---------------------------------------------------------------------------- layouts


_INTS = {
    "u8": ("<u1", 1),
    "s8": ("<i1", 1),
    "u16": ("<u2", 2),
    "s16": ("<i2", 2),
    "u32": ("<u4", 4),
    "s32": ("<i4", 4),
    "u64": ("<u8", 8),
    "s64": ("<i8", 8),
    "f32": ("<f4", 4),
    "f64": ("<f8", 8),
}


def _align_to(n: int, a: int) -> int:
    return (n + a - 1) & ~(a - 1)


def _disc(n: int) -> int:
    return 1 if n <= 256 else 2 if n <= 65536 else 4


def _cases(desc: _runtime.Desc) -> list[tuple[str, _runtime.Desc | None]]:
    kind = desc[0]
    if kind == "variant":
        return [(c[0], c[2]) for c in desc[1]]
    if kind == "result":
        return [("ok", desc[1]), ("err", desc[2])]
    if kind == "option":
        return [("none", None), ("some", desc[1])]
    raise BatchUnavailable(f"not a variant: {kind}")


def _fields(desc: _runtime.Desc) -> list[tuple[str, _runtime.Desc]]:
    if desc[0] == "record":
        return [(f[0], f[2]) for f in desc[2]]
    return [(f"f{i}", d) for i, d in enumerate(desc[1])]


def size_align(desc: _runtime.Desc) -> tuple[int, int]:
    """Canonical-ABI size and alignment of a value of `desc`."""
    kind = desc[0]
    if kind == "bool":
        return 1, 1
    if kind in ("int", "float"):
        width = _INTS[desc[-1]][1]
        return width, width
    if kind == "char" or kind in ("own", "borrow", "host-own", "host-borrow"):
        return 4, 4
    if kind in ("string", "bytes", "list"):
        return 8, 4
    if kind in ("record", "tuple"):
        size, align = 0, 1
        for _, d in _fields(desc):
            s, a = size_align(d)
            size = _align_to(size, a) + s
            align = max(align, a)
        return _align_to(size, align), align
    if kind == "enum":
        w = _disc(len(desc[1]))
        return w, w
    if kind == "flags":
        n = len(desc[2])
        return (1, 1) if n <= 8 else (2, 2) if n <= 16 else (4 * ((n + 31) // 32), 4)
    if kind in ("variant", "result", "option"):
        cases = _cases(desc)
        w = _disc(len(cases))
        psize, palign = 0, 1
        for _, c in cases:
            if c is not None:
                cs, ca = size_align(c)
                psize, palign = max(psize, cs), max(palign, ca)
        align = max(w, palign)
        return _align_to(_align_to(w, palign) + psize, align), align
    raise BatchUnavailable(f"no batch codec for {kind}")


def payload_offset(desc: _runtime.Desc) -> int:
    cases = _cases(desc)
    palign = max([size_align(c)[1] for _, c in cases if c is not None] or [1])
    return _align_to(_disc(len(cases)), palign)


def flat_count(desc: _runtime.Desc | None) -> int:
    if desc is None:
        return 0
    kind = desc[0]
    if kind in ("string", "bytes", "list"):
        return 2
    if kind in ("record", "tuple"):
        return sum(flat_count(d) for _, d in _fields(desc))
    if kind == "flags":
        return (len(desc[2]) + 31) // 32
    if kind in ("variant", "result", "option"):
        return 1 + max([flat_count(c) for _, c in _cases(desc)] or [0])
    return 1


def _field_offsets(desc: _runtime.Desc) -> list[tuple[str, int, _runtime.Desc]]:
    out = []
    at = 0
    for name, d in _fields(desc):
        s, a = size_align(d)
        at = _align_to(at, a)
        out.append((name, at, d))
        at += s
    return out


# ---------------------------------------------------------------------------- helper module


_HELPER_WAT = """
(module
  (import "guest" "memory" (memory $g 0))
  (import "scratch" "memory" (memory $s 0))
  ;; n entries (guest address, scratch address, length) at $tab: scratch -> guest
  (func (export "put_many") (param $n i32) (param $tab i32)
    (local $end i32)
    (local.set $end (i32.add (local.get $tab) (i32.mul (local.get $n) (i32.const 12))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $tab) (local.get $end)))
        (memory.copy $g $s
          (i32.load $s (local.get $tab))
          (i32.load $s offset=4 (local.get $tab))
          (i32.load $s offset=8 (local.get $tab)))
        (local.set $tab (i32.add (local.get $tab) (i32.const 12)))
        (br $next))))
  ;; n entries (guest address, scratch address, length) at $tab: guest -> scratch
  (func (export "get_many") (param $n i32) (param $tab i32)
    (local $end i32)
    (local.set $end (i32.add (local.get $tab) (i32.mul (local.get $n) (i32.const 12))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $tab) (local.get $end)))
        (memory.copy $s $g
          (i32.load $s offset=4 (local.get $tab))
          (i32.load $s (local.get $tab))
          (i32.load $s offset=8 (local.get $tab)))
        (local.set $tab (i32.add (local.get $tab) (i32.const 12)))
        (br $next))))
)
"""

_modules: dict[int, Any] = {}
_modules_lock = threading.Lock()


def _helper_module(core: Any) -> Any:
    engine = core.engine
    with _modules_lock:
        module = _modules.get(id(engine))
        if module is None:
            wasm = bytes(wasmtime.wat2wasm(_HELPER_WAT))
            module = _modules[id(engine)] = _core.Module.compile(core.lib, engine, wasm)
    return module


class _Helper:
    """The copy helper of one instance's store: its `put_many`/`get_many`, over scratch."""

    def __init__(self, rt: Any) -> None:
        store = rt._store
        lib = rt.lib
        module = _helper_module(rt.core)
        size = _capi.EXTERN_SIZE
        imports = (ctypes.c_ubyte * (2 * size))()
        at = ctypes.addressof(imports)
        ctypes.memmove(at, ctypes.addressof(rt._keep_memory), size)
        ctypes.memmove(at + size, ctypes.addressof(rt._keep_scratch), size)
        instance = (ctypes.c_uint64 * 2)()
        trap = ctypes.c_void_p(0)
        error = lib.wasmtime_instance_new(
            store.context,
            module.ptr,
            ctypes.addressof(imports),
            2,
            ctypes.addressof(instance),
            ctypes.addressof(trap),
        )
        store.instantiated(error, trap, "cannot start the batch helper")
        offset = _capi.ITEM_OFFSET
        self.put_many = _core.RawFunc(
            store, store.export(instance, "put_many"), offset, ("i32", "i32"), ()
        )
        self.get_many = _core.RawFunc(
            store, store.export(instance, "get_many"), offset, ("i32", "i32"), ()
        )
        self.generation = rt.generation
        self._keep = (imports, instance)


def _helper(rt: Any) -> _Helper:
    h: _Helper | None = rt.__dict__.get("_batch_helper")
    if h is None or h.generation != rt.generation:
        h = _Helper(rt)
        rt._batch_helper = h
    return h


def _scratch(rt: Any, size: int) -> Any:
    return np.frombuffer(rt._scratch_view(size), dtype=np.uint8)


def _guest(rt: Any) -> Any:
    return np.frombuffer(rt.view(), dtype=np.uint8)


# ---------------------------------------------------------------------------- lowering


@dataclass
class _Group:
    start: int  # index of its first block
    sizes: Any  # numpy int64 sizes of its blocks
    # addrs -> uint8 array (the blocks' contents, back to back)
    data: Callable[[Any], Any]


@dataclass
class _Lowering:
    aligns: list[Any] = field(default_factory=list)
    sizes: list[Any] = field(default_factory=list)
    groups: list[_Group] = field(default_factory=list)
    count: int = 0

    def group(self, align: int, sizes: Any, data: Callable[[Any], Any]) -> int:
        start = self.count
        sizes = np.asarray(sizes, dtype=np.int64)
        self.aligns.append(np.full(len(sizes), align, dtype=np.uint32))
        self.sizes.append(sizes)
        self.groups.append(_Group(start, sizes, data))
        self.count += len(sizes)
        return start


def _column(parent: Any, index: int, name: str, wit: str) -> Any:
    if isinstance(parent, pa.RecordBatch):
        names = parent.schema.names
        for key in (name, wit):
            if key in names:
                return parent.column(key)
        raise ValueError(f"the record batch has no column `{name}`")
    if isinstance(parent, pa.StructArray):
        return parent.flatten()[index]
    return parent[index]


def _chunk(col: Any) -> Any:
    if isinstance(col, pa.ChunkedArray):
        col = col.combine_chunks() if col.num_chunks != 1 else col.chunk(0)
    if col.null_count:
        raise ValueError("null values cannot be passed to the plugin")
    return col


def _varbin(col: Any, kind: str) -> tuple[Any, Any]:
    """(offsets relative to the first value (m + 1), the data bytes) of a string/binary array."""
    t = col.type
    if kind == "string":
        if pa.types.is_binary(t) or pa.types.is_large_binary(t):
            raise TypeError("expected a string column, got binary")
        if not (pa.types.is_string(t) or pa.types.is_large_string(t)):
            col = col.cast(pa.string())
    elif not (pa.types.is_binary(t) or pa.types.is_large_binary(t)):
        if pa.types.is_string(t) or pa.types.is_large_string(t):
            col = col.cast(pa.binary())
        else:
            raise TypeError(f"expected a binary column, got {t}")
    large = pa.types.is_large_string(col.type) or pa.types.is_large_binary(col.type)
    bufs = col.buffers()
    m = len(col)
    offs = np.frombuffer(bufs[1], dtype=np.int64 if large else np.int32)
    offs = offs[col.offset : col.offset + m + 1].astype(np.int64)
    data = np.zeros(0, np.uint8)
    if bufs[2] is not None:
        data = np.frombuffer(bufs[2], dtype=np.uint8)
    first = int(offs[0]) if m else 0
    return offs - first, data[first : first + (int(offs[-1]) - first if m else 0)]


def _plan(lw: _Lowering, desc: _runtime.Desc, cols: Any, m: int) -> Callable[..., Any]:
    """Plans the blocks the rows of record `desc` (its columns in `cols`) reference; returns
    a function of the allocated addresses that builds the m rows' bytes."""
    size, _ = size_align(desc)
    fills: list[Callable[[Any, Any], None]] = []
    _plan_fields(lw, desc, cols, m, 0, fills)

    def rows(addrs: Any) -> Any:
        buf = np.zeros((m, size), dtype=np.uint8)
        for fill in fills:
            fill(buf, addrs)
        return buf.reshape(-1)

    return rows


def _put(buf: Any, off: int, dtype: str, width: int, values: Any) -> None:
    buf[:, off : off + width].view(dtype)[:, 0] = values


def _plan_fields(
    lw: _Lowering,
    desc: _runtime.Desc,
    parent: Any,
    m: int,
    base: int,
    fills: list[Callable[[Any, Any], None]],
) -> None:
    attrs = [f[1] for f in desc[2]] if desc[0] == "record" else [None] * len(desc[1])
    for i, ((name, off, d), wit) in enumerate(zip(_field_offsets(desc), attrs)):
        col = _chunk(_column(parent, i, name, wit or name))
        if len(col) != m:
            raise ValueError(f"column `{name}` has {len(col)} values for {m} rows")
        at = base + off
        _plan_value(lw, d, col, m, at, fills)


def _plan_value(
    lw: _Lowering,
    d: _runtime.Desc,
    col: Any,
    m: int,
    at: int,
    fills: list[Callable[[Any, Any], None]],
) -> None:
    kind = d[0]
    if kind in ("int", "float"):
        dtype, width = _INTS[d[-1]]
        values = to_np(col)
        if kind == "int":
            if len(values) and (values.min() < d[1] or values.max() > d[2]):
                raise ValueError(f"a value is out of range for {d[-1]}")
        values = values.astype(dtype)
        fills.append(functools.partial(_fill_scalar, at, dtype, width, values))
    elif kind == "bool":
        if not pa.types.is_boolean(col.type):
            raise TypeError(f"expected a bool column, got {col.type}")
        flags = to_np(col).astype(np.uint8)
        fills.append(functools.partial(_fill_scalar, at, "<u1", 1, flags))
    elif kind in ("string", "bytes"):
        offs, data = _varbin(col, kind)
        lens = np.diff(offs)
        start = lw.group(1, lens, functools.partial(_const, data))
        fills.append(functools.partial(_fill_pair, at, start, m, lens))
    elif kind == "list":
        elem = d[1]
        if elem[0] not in ("record", "tuple"):
            raise BatchUnavailable(f"no batch codec for list<{elem[0]}>")
        if not (pa.types.is_list(col.type) or pa.types.is_large_list(col.type)):
            raise TypeError(f"expected a list column, got {col.type}")
        offs = to_np(col.offsets).astype(np.int64)
        first, last = int(offs[0]), int(offs[-1])
        child = _chunk(col.values.slice(first, last - first))
        counts = np.diff(offs)
        esize, ealign = size_align(elem)
        rows = _plan(lw, elem, child, last - first)
        start = lw.group(ealign, counts * esize, rows)
        fills.append(functools.partial(_fill_pair, at, start, m, counts))
    elif kind in ("record", "tuple"):
        if not pa.types.is_struct(col.type):
            raise TypeError(f"expected a struct column, got {col.type}")
        _plan_fields(lw, d, col, m, at, fills)
    else:
        raise BatchUnavailable(f"no batch codec for a {kind} field")


def _fill_scalar(at: int, dtype: str, width: int, v: Any, buf: Any, _: Any) -> None:
    _put(buf, at, dtype, width, v)


def _fill_pair(at: int, start: int, m: int, lens: Any, buf: Any, addrs: Any) -> None:
    _pair(buf, at, addrs[start : start + m], lens)


def _const(data: Any, _addrs: Any) -> Any:
    return data


def _pair(buf: Any, at: int, ptrs: Any, lens: Any) -> None:
    view = buf[:, at : at + 8].view("<u4")
    view[:, 0] = ptrs
    view[:, 1] = lens


def _allocate(rt: Any, lw: _Lowering) -> Any:
    """Every planned block allocated by the guest, filled and copied in: the addresses."""
    n = lw.count
    if not n:
        return np.zeros(0, np.uint32)
    aligns = np.concatenate(lw.aligns)
    sizes = np.concatenate(lw.sizes)
    if sizes.sum() >= 1 << 32:
        raise ValueError("the batch is too large for 32-bit guest memory")
    scratch = _scratch(rt, 8 * n)
    pairs = scratch[: 8 * n].view("<u4").reshape(n, 2)
    pairs[:, 0] = aligns
    pairs[:, 1] = sizes
    rt.entered = True
    rt._alloc_many(n)
    scratch = _scratch(rt, 4 * n)
    addrs = scratch[: 4 * n].view("<u4").astype(np.int64)
    memsize = len(rt.view())
    if ((addrs & (aligns - 1)) != 0).any():
        raise _runtime.PluginTrap("cabi_realloc returned memory that is not aligned")
    if (addrs + sizes > memsize).any():
        raise _runtime.PluginTrap("cabi_realloc returned memory out of bounds")
    table = 12 * n
    total = table + int(sizes.sum())
    contents = [g.data(addrs) for g in lw.groups]
    scratch = _scratch(rt, total)
    entries = scratch[:table].view("<u4").reshape(n, 3)
    entries[:, 0] = addrs
    src = np.empty(n, dtype=np.int64)
    src[0] = table
    np.cumsum(sizes[:-1], out=src[1:])
    src[1:] += table
    entries[:, 1] = src
    entries[:, 2] = sizes
    at = table
    for data in contents:
        scratch[at : at + len(data)] = data
        at += len(data)
    _helper(rt).put_many(n, 0)
    return addrs


# ---------------------------------------------------------------------------- lifting


def _gather(rt: Any, ptrs: Any, lens: Any) -> Any:
    """The guest ranges (ptrs[i], lens[i]) back to back, as a fresh uint8 array."""
    n = len(ptrs)
    total = int(lens.sum()) if n else 0
    if not total:
        return np.zeros(0, np.uint8)
    table = 12 * n
    scratch = _scratch(rt, table + total)
    entries = scratch[:table].view("<u4").reshape(n, 3)
    entries[:, 0] = ptrs
    dst = np.empty(n, dtype=np.int64)
    dst[0] = table
    np.cumsum(lens[:-1], out=dst[1:])
    dst[1:] += table
    entries[:, 1] = dst
    entries[:, 2] = lens
    _helper(rt).get_many(n, 0)
    scratch = _scratch(rt, table + total)
    return scratch[table : table + total].copy()


def _pairs_of(rows: Any, at: int) -> tuple[Any, Any]:
    view = rows[:, at : at + 8].view("<u4")
    return view[:, 0].astype(np.int64), view[:, 1].astype(np.int64)


def _check(rt: Any, ptrs: Any, nbytes: Any, align: int, what: str) -> None:
    if not len(ptrs):
        return
    if align > 1 and ((ptrs & (align - 1)) != 0).any():
        raise _core.trap(f"{what} out of bounds or misaligned")
    if (ptrs + nbytes > len(rt.view())).any():
        raise _core.trap(f"{what} out of bounds")


def _offsets(lens: Any) -> Any:
    offs = np.zeros(len(lens) + 1, dtype=np.int64)
    np.cumsum(lens, out=offs[1:])
    return offs


def _lift(rt: Any, d: _runtime.Desc, rows: Any, at: int) -> Any:
    """An Arrow array of the values of type `d` at byte `at` of each row of `rows` (m x size
    uint8, a copy of guest memory); pointers in them still refer to guest memory."""
    kind = d[0]
    m = rows.shape[0]
    if kind in ("int", "float"):
        dtype, width = _INTS[d[-1]]
        return num(rows[:, at : at + width].copy().view(dtype).reshape(m))
    if kind == "bool":
        return bools(rows[:, at] != 0)
    if kind in ("string", "bytes"):
        ptrs, lens = _pairs_of(rows, at)
        _check(rt, ptrs, lens, 1, "string" if kind == "string" else "list")
        data = _gather(rt, ptrs, lens)
        offs = _offsets(lens)
        large = len(data) >= 1 << 31
        typ = (
            (pa.large_string() if large else pa.string())
            if kind == "string"
            else (pa.large_binary() if large else pa.binary())
        )
        arr = pa.Array.from_buffers(
            typ,
            m,
            [
                None,
                pa.py_buffer(offs.astype(np.int64 if large else np.int32)),
                pa.py_buffer(data),
            ],
        )
        if kind == "string":
            try:
                arr.validate(full=True)
            except pa.ArrowInvalid:
                raise _core.trap("string is not valid UTF-8") from None
        return arr
    if kind == "list":
        elem = d[1]
        ptrs, lens = _pairs_of(rows, at)
        esize, ealign = size_align(elem)
        _check(rt, ptrs, lens * esize, ealign, "list")
        offs = _offsets(lens)
        if elem[0] == "int" and elem[-1] == "u8":
            values: Any = num(_gather(rt, ptrs, lens))
        else:
            child = np.zeros((int(lens.sum()), 0), np.uint8)
            if esize:
                child = _gather(rt, ptrs, lens * esize).reshape(-1, esize)
            values = _lift(rt, elem, child, 0)
        return pa.ListArray.from_arrays(num(offs.astype(np.int32)), values)
    if kind in ("record", "tuple"):
        names, arrays = [], []
        for name, off, fd in _field_offsets(d):
            names.append(name)
            arrays.append(_lift(rt, fd, rows, at + off))
        if not arrays:
            return pa.array([{}] * m, pa.struct([]))
        return pa.StructArray.from_arrays(arrays, names=names)
    if kind == "enum":
        names = [member.value for member in d[1]]
        w = _disc(len(names))
        tags = rows[:, at : at + w].copy().view(f"<u{w}").reshape(m)
        if len(tags) and int(tags.max()) >= len(names):
            raise _core.trap("enum case out of range")
        indices = num(tags.astype(np.int32))
        return pa.DictionaryArray.from_arrays(indices, _strings(names))
    if kind in ("variant", "result", "option"):
        cases = _cases(d)
        w = _disc(len(cases))
        tags = rows[:, at : at + w].copy().view(f"<u{w}").reshape(m).astype(np.int32)
        if len(tags) and int(tags.max()) >= len(cases):
            raise _core.trap("variant case out of range")
        po = at + payload_offset(d)
        if kind == "option":
            some = tags == 1
            some_desc: _runtime.Desc = d[1]
            return _scatter(_lift(rt, some_desc, rows[some], po), some)
        labels = _strings([c for c, _ in cases])
        names = ["case"]
        arrays = [pa.DictionaryArray.from_arrays(num(tags), labels)]
        for i, (case, cd) in enumerate(cases):
            if cd is None:
                continue
            mask = tags == i
            names.append(case)
            if not mask.any():
                arrays.append(pa.nulls(m, _arrow_type(cd)))
                continue
            chosen = rows if mask.all() else rows[mask]
            arrays.append(_scatter(_lift(rt, cd, chosen, po), mask))
        return pa.StructArray.from_arrays(arrays, names=names)
    raise BatchUnavailable(f"no batch codec for {kind}")


def _arrow_type(d: _runtime.Desc) -> Any:
    """The Arrow type `_lift` gives values of `d`."""
    kind = d[0]
    if kind in ("int", "float"):
        return pa.from_numpy_dtype(np.dtype(_INTS[d[-1]][0]))
    if kind == "bool":
        return pa.bool_()
    if kind == "string":
        return pa.string()
    if kind == "bytes":
        return pa.binary()
    if kind == "list":
        if d[1][0] == "int" and d[1][-1] == "u8":
            return pa.list_(pa.uint8())
        return pa.list_(_arrow_type(d[1]))
    if kind in ("record", "tuple"):
        return pa.struct([(name, _arrow_type(fd)) for name, fd in _fields(d)])
    if kind == "enum":
        return pa.dictionary(pa.int32(), pa.string())
    if kind == "option":
        return _arrow_type(d[1])
    cases = [("case", pa.dictionary(pa.int32(), pa.string()))]
    cases += [(c, _arrow_type(cd)) for c, cd in _cases(d) if cd is not None]
    return pa.struct(cases)


def to_np(arr: Any) -> Any:
    """The values of a null-free Arrow array of numbers or bools as numpy (no pandas import,
    unlike `Array.to_numpy`)."""
    t = arr.type
    n, at = len(arr), arr.offset
    buf = arr.buffers()[1]
    if pa.types.is_boolean(t):
        bits = np.unpackbits(np.frombuffer(buf, np.uint8), bitorder="little")
        return bits[at : at + n].astype(bool)
    if pa.types.is_integer(t):
        code = "i" if pa.types.is_signed_integer(t) else "u"
    elif pa.types.is_floating(t) and t.bit_width in (32, 64):
        code = "f"
    else:
        raise TypeError(f"expected a column of numbers, got {t}")
    if arr.null_count:
        raise ValueError("null values cannot be passed to the plugin")
    return np.frombuffer(buf, dtype=f"<{code}{t.bit_width // 8}")[at : at + n]


def num(values: Any) -> Any:
    """A numpy array of numbers as an Arrow array, sharing its buffer.

    `pa.array` would do too, but its first call imports pandas when that is installed.
    """
    values = np.ascontiguousarray(values)
    typ = pa.from_numpy_dtype(values.dtype)
    return pa.Array.from_buffers(typ, len(values), [None, pa.py_buffer(values)])


def bools(values: Any) -> Any:
    """A numpy bool array as an Arrow bool array."""
    bits = np.packbits(np.asarray(values, dtype=bool), bitorder="little")
    return pa.Array.from_buffers(pa.bool_(), len(values), [None, pa.py_buffer(bits)])


def _strings(names: Sequence[str]) -> Any:
    data = [n.encode("utf-8") for n in names]
    offs = _offsets(np.array([len(d) for d in data], dtype=np.int64)).astype(np.int32)
    blob = np.frombuffer(b"".join(data) or b"\0", dtype=np.uint8)
    buffers = [None, pa.py_buffer(offs), pa.py_buffer(blob.copy())]
    return pa.Array.from_buffers(pa.string(), len(names), buffers)


def _scatter(values: Any, mask: Any) -> Any:
    """`values` (one per true entry of `mask`) spread over len(mask) rows, null elsewhere."""
    if bool(mask.all()):
        return values
    if not mask.any():
        return pa.nulls(len(mask), values.type)
    idx = np.cumsum(mask) - 1
    valid = pa.py_buffer(np.packbits(mask, bitorder="little"))
    indices = pa.Array.from_buffers(
        pa.int64(), len(mask), [valid, pa.py_buffer(idx.astype(np.int64))]
    )
    return values.take(indices)


def _convert(d: _runtime.Desc | None, arr: Any) -> Any:
    """The single value in `arr` (length 1) as the batch method returns it."""
    if d is None:
        return None
    kind = d[0]
    if kind == "list":
        values = arr.values
        if isinstance(values, pa.StructArray) and values.type.num_fields:
            return pa.RecordBatch.from_struct_array(values)
        return values
    if kind in ("result", "variant"):
        tag = int(arr.field(0).indices[0].as_py())
        case, cd = _cases(d)[tag]
        inner = _convert(cd, arr.field(case)) if cd is not None else None
        if kind == "result":
            return _runtime.Ok(inner) if tag == 0 else _runtime.Err(inner)
        return d[1][tag][1](inner) if cd is not None else d[1][tag][1]()
    return _typed(d, arr[0].as_py())


def _typed(d: _runtime.Desc | None, v: Any) -> Any:
    """A value Arrow gave back as Python (`as_py`), as the typed methods return it."""
    if d is None or v is None:
        return v
    kind = d[0]
    if kind == "record":
        return d[1](*[_typed(fd, v[attr]) for attr, _, fd in d[2]])
    if kind == "tuple":
        return tuple(_typed(fd, v[f"f{i}"]) for i, fd in enumerate(d[1]))
    if kind == "enum":
        return d[1](v)
    if kind == "list":
        return [_typed(d[1], x) for x in v]
    if kind == "option":
        return _typed(d[1], v)
    if kind in ("result", "variant"):
        tag = [c for c, _ in _cases(d)].index(v["case"])
        cd = _cases(d)[tag][1]
        inner = _typed(cd, v[_cases(d)[tag][0]]) if cd is not None else None
        if kind == "result":
            return _runtime.Ok(inner) if tag == 0 else _runtime.Err(inner)
        return d[1][tag][1](inner) if cd is not None else d[1][tag][1]()
    return v


# ---------------------------------------------------------------------------- calls


_registered_lock = threading.Lock()


# ---------------------------------------------------------------------------- guest to guest


class GuestRows:
    """Elements of a `list<record>` still in one guest's memory (`rows`: m x size bytes, a
    copy of the element array; their pointers refer to `rt`'s memory), to be passed to another
    guest's batch function without an Arrow batch in between (fused stages). Valid until
    `release()` runs the source call's post-return."""

    def __init__(
        self,
        rt: Any,
        desc: _runtime.Desc,
        rows: Any,
        release: Callable[[], None],
    ) -> None:
        self.rt = rt
        self.desc = desc
        self.rows = rows
        self.release = release

    def __len__(self) -> int:
        return int(self.rows.shape[0])


def _transfer(
    lw: _Lowering,
    desc: _runtime.Desc,
    src: Any,
    rows: Any,
) -> Callable[..., Any]:
    """Plans copying the records `rows` (pointers into `src`'s memory) into the guest being
    lowered into: the layout is the same on both sides, so each element keeps its bytes and
    only its pointers are rewritten; strings, byte lists and nested element arrays are gathered
    from `src` with one trip per field and validated (UTF-8) on the way."""
    m = rows.shape[0]
    fills: list[Callable[[Any, Any], None]] = []
    _transfer_fields(lw, desc, src, rows, 0, fills)

    def out(addrs: Any) -> Any:
        buf = rows.copy()
        for fill in fills:
            fill(buf, addrs)
        return buf.reshape(-1)

    return out if m else (lambda _addrs: np.zeros(0, np.uint8))


def _transfer_fields(
    lw: _Lowering,
    desc: _runtime.Desc,
    src: Any,
    rows: Any,
    base: int,
    fills: list[Callable[[Any, Any], None]],
) -> None:
    m = rows.shape[0]
    for _, off, d in _field_offsets(desc):
        at = base + off
        kind = d[0]
        if kind in ("int", "float", "bool"):
            continue  # same bytes on both sides
        if kind in ("string", "bytes"):
            ptrs, lens = _pairs_of(rows, at)
            _check(src, ptrs, lens, 1, "string" if kind == "string" else "list")
            data = _gather(src, ptrs, lens)
            if kind == "string":
                try:
                    data.tobytes().decode("utf-8")
                except UnicodeDecodeError:
                    raise _core.trap("string is not valid UTF-8") from None
            start = lw.group(1, lens, functools.partial(_const, data))
            fills.append(functools.partial(_fill_pair, at, start, m, lens))
        elif kind == "list" and d[1][0] in ("record", "tuple"):
            elem = d[1]
            ptrs, lens = _pairs_of(rows, at)
            esize, ealign = size_align(elem)
            _check(src, ptrs, lens * esize, ealign, "list")
            child = np.zeros((int(lens.sum()), esize), np.uint8)
            if esize and len(child):
                child = _gather(src, ptrs, lens * esize).reshape(-1, esize)
            start = lw.group(ealign, lens * esize, _transfer(lw, elem, src, child))
            fills.append(functools.partial(_fill_pair, at, start, m, lens))
        elif kind in ("record", "tuple"):
            _transfer_fields(lw, d, src, rows, at, fills)
        else:
            raise BatchUnavailable(f"no guest-to-guest copy for a {kind} field")


def _lower_arg(lw: _Lowering, d: _runtime.Desc, value: Any, flat: list[Any]) -> None:
    kind = d[0]
    if kind == "list" and isinstance(value, GuestRows):
        if value.desc != d[1]:
            raise BatchUnavailable("the records' type differs between the two plugins")
        esize, ealign = size_align(d[1])
        m = len(value)
        rows = _transfer(lw, d[1], value.rt, value.rows)
        start = lw.group(ealign, [m * esize], rows)
        flat.append(functools.partial(_address, start))
        flat.append(m)
    elif kind == "list" and d[1][0] in ("record", "tuple"):
        if not isinstance(value, pa.RecordBatch):
            if isinstance(value, pa.Table):
                value = value.combine_chunks().to_batches()
                value = value[0] if value else None
            if value is None:
                raise TypeError("expected a pyarrow.RecordBatch")
        m = value.num_rows
        rows = _plan(lw, d[1], value, m)
        esize, ealign = size_align(d[1])
        start = lw.group(ealign, [m * esize], rows)
        flat.append(functools.partial(_address, start))
        flat.append(m)
    elif kind in ("int", "bool"):
        flat.append(int(value) & ((1 << 64) - 1) if kind == "int" else int(bool(value)))
    elif kind in ("own", "borrow"):
        flat.append(value._handle_for_call(kind == "own"))
    else:
        raise BatchUnavailable(f"no batch codec for a {kind} parameter")


def _address(start: int, addrs: Any) -> int:
    return int(addrs[start])


def _liftable(d: _runtime.Desc | None) -> bool:
    if d is None:
        return True
    kind = d[0]
    if kind in ("int", "float", "bool", "string", "bytes", "enum"):
        return True
    if kind == "list":
        return _liftable(d[1])
    if kind in ("record", "tuple"):
        return all(_liftable(fd) for _, fd in _fields(d))
    if kind in ("variant", "result", "option"):
        return all(_liftable(cd) for _, cd in _cases(d))
    return False


def _lowerable(d: _runtime.Desc, top: bool = False) -> bool:
    kind = d[0]
    if kind in ("int", "float", "bool", "string", "bytes"):
        return not top or kind in ("int", "bool")
    if top and kind in ("own", "borrow"):
        return True
    if kind == "list":
        return d[1][0] in ("record", "tuple") and _lowerable(d[1])
    if kind in ("record", "tuple"):
        return not top and all(_lowerable(fd) for _, fd in _fields(d))
    return False


class RawResult:
    """A batch function's result still in the guest (`call_raw`): `lift()` converts it as
    `call` would; `records(case)` hands the `list<record>` payloads of one case (or of the whole
    list) to another guest as `GuestRows`; `release()` runs the post-return (once, last).
    """

    def __init__(
        self,
        rt: Any,
        desc: Any,
        row: Any,
        release: Callable[[], None],
    ) -> None:
        self.rt = rt
        self.desc = desc
        self.row = row
        self._release = release
        self.released = False

    def release(self) -> None:
        if not self.released:
            self.released = True
            self._release()

    def lift(self) -> Any:
        return _convert(self.desc, _lift(self.rt, self.desc, self.row, 0))

    def count(self) -> int:
        """How many elements the result list has."""
        return int(self.row[:, 4:8].view("<u4")[0, 0])

    def elements(self) -> Any:
        """The result list's element array (m x size bytes); the result must be a list."""
        elem = self.desc[1]
        ptrs, lens = _pairs_of(self.row, 0)
        esize, ealign = size_align(elem)
        _check(self.rt, ptrs, lens * esize, ealign, "list")
        if not esize or not int(lens[0]):
            return np.zeros((int(lens[0]), esize), np.uint8)
        return _gather(self.rt, ptrs, lens * esize).reshape(-1, esize)

    def tags(self, elements: Any) -> Any:
        """The case index of each element of a `list<variant|result>` result."""
        cases = _cases(self.desc[1])
        w = _disc(len(cases))
        tags = elements[:, :w].copy().view(f"<u{w}").reshape(-1).astype(np.int32)
        if len(tags) and int(tags.max()) >= len(cases):
            raise _core.trap("variant case out of range")
        return tags

    def case_rows(self, elements: Any, mask: Any, case: str) -> GuestRows:
        """The payloads of the elements in `mask`, all of case `case`, as GuestRows."""
        elem = self.desc[1]
        payload = dict(_cases(elem))[case]
        assert payload is not None
        po = payload_offset(elem)
        size, _ = size_align(payload)
        rows = np.ascontiguousarray(elements[mask][:, po : po + size])
        return GuestRows(self.rt, payload, rows, self.release)


def _make(sig: _runtime.FuncSig, core_name: str) -> Callable[..., Any]:
    if len(sig.params) > 16 or sum(flat_count(p) for p in sig.params) > 16:
        raise BatchUnavailable("too many parameters")
    result = sig.result
    indirect = flat_count(result) > 1
    if not all(_lowerable(d, top=True) for d in sig.params) or not _liftable(result):
        raise BatchUnavailable(f"{sig.name} has types without a batch codec")
    if result is not None and not indirect and result[0] not in ("int", "bool"):
        raise BatchUnavailable(f"no batch codec for a flat {result[0]} result")

    def call(rt: Any, *args: Any) -> Any:
        lw = _Lowering()
        flat: list[Any] = []
        for d, value in zip(sig.params, args):
            _lower_arg(lw, d, value, flat)
        addrs = _allocate(rt, lw)
        res = rt.invoke(core_name, tuple(v(addrs) if callable(v) else v for v in flat))
        if result is None:
            out = None
        elif indirect:
            p = res[0] & 0xFFFFFFFF
            size, align = size_align(result)
            _check(rt, np.array([p]), np.array([size]), align, "return area")
            row = _guest(rt)[p : p + size].copy().reshape(1, size)
            out = _convert(result, _lift(rt, result, row, 0))
        elif result[0] == "bool":
            out = bool(res[0])
        else:
            out = res[0]
        rt.post_return(core_name, res)
        return out

    def call_raw(rt: Any, *args: Any) -> RawResult:
        lw = _Lowering()
        flat: list[Any] = []
        for d, value in zip(sig.params, args):
            _lower_arg(lw, d, value, flat)
        addrs = _allocate(rt, lw)
        res = rt.invoke(core_name, tuple(v(addrs) if callable(v) else v for v in flat))
        if not indirect or result is None or result[0] != "list":
            rt.post_return(core_name, res)
            raise BatchUnavailable(f"{sig.name} does not return a list")
        p = res[0] & 0xFFFFFFFF
        size, align = size_align(result)
        _check(rt, np.array([p]), np.array([size]), align, "return area")
        row = _guest(rt)[p : p + size].copy().reshape(1, size)
        release = functools.partial(rt.post_return, core_name, res)
        return RawResult(rt, result, row, release)

    call.raw = call_raw  # type: ignore[attr-defined]
    return call


def call(instance: Any, sig: _runtime.FuncSig, *args: Any) -> Any:
    """Calls `sig`'s function on a fast-path instance with Arrow batches for its
    `list<record>` parameters; the result as described in the module docstring.

    Raises BatchUnavailable when the instance runs on the generic path or the function's
    types have no batch codec; the call itself fails like the typed method's would."""
    _deps()
    core = getattr(instance, "core", None)
    if core is None or not hasattr(instance, "_alloc_many"):
        raise BatchUnavailable("the plugin runs on the generic path")
    key = (sig.interface, f"{sig.name}#arrow")
    if key not in core.exports:
        with _registered_lock:
            if key not in core.exports:
                entry = core.exports.get((sig.interface, sig.name))
                if entry is None:
                    raise BatchUnavailable(f"the plugin does not export {sig.name}")
                fn = _make(sig, entry[1])
                core.exports[key] = (fn, *entry[1:])
    return instance.call(sig.interface, key[1], args)


def call_raw(instance: Any, sig: _runtime.FuncSig, *args: Any) -> RawResult:
    """Like `call`, but the (list) result stays in the guest until `RawResult.release()`;
    its post-return runs then. Arguments may be `GuestRows` of another fast-path instance.
    """
    _deps()
    core = getattr(instance, "core", None)
    if core is None or not hasattr(instance, "_alloc_many"):
        raise BatchUnavailable("the plugin runs on the generic path")
    key = (sig.interface, f"{sig.name}#raw")
    if key not in core.exports:
        with _registered_lock:
            if key not in core.exports:
                entry = core.exports.get((sig.interface, sig.name))
                if entry is None:
                    raise BatchUnavailable(f"the plugin does not export {sig.name}")
                fn = _make(sig, entry[1]).raw  # type: ignore[attr-defined]
                core.exports[key] = (fn, *entry[1:])
    result: RawResult = instance.call(sig.interface, key[1], args)
    return result


def find(exports: Sequence[_runtime.FuncSig], function: str) -> _runtime.FuncSig:
    """The export named `function`: its Python or WIT name, or `interface#name`."""
    names = [(s.name, s.method, f"{s.interface}#{s.name}") for s in exports]
    found = [s for s, known in zip(exports, names) if function in known]
    if len(found) != 1:
        what = "is ambiguous" if found else "is not an export of this world"
        raise ValueError(f"`{function}` {what}")
    return found[0]


def supports(sig: _runtime.FuncSig) -> bool:
    """Whether `sig` has a batch codec (its parameters and result are all covered)."""
    try:
        _make(sig, "")
    except BatchUnavailable:
        return False
    return True


def instance_of(plugin: Any) -> Any:
    """The instance behind a generated plugin object (or the instance itself)."""
    return getattr(plugin, "_instance", plugin)


__all__: Sequence[str] = (
    "BatchUnavailable",
    "GuestRows",
    "RawResult",
    "call",
    "call_raw",
    "supports",
    "instance_of",
    "size_align",
)
