"""Runtime of the fast path: run a plugin's core module directly, outside `wasmtime.component`.

This file is witgen's host runtime (`witgen/hostrt/_core.py`), copied verbatim into every
generated package.

A component built from one core module (what wit-bindgen guests are) is run as that module:
its exports follow the component-model naming conventions (`<interface>#<function>`,
`cabi_post_<interface>#<function>`, `cabi_realloc`, `memory`) and its imports are named
`<interface>` / `<function>`. The type-specialised lift/lower code in `_fast.py` reads and
writes the module's memory directly; core calls go straight to wasmtime's C API (`_capi.py`)
with pre-allocated argument buffers (no per-call type introspection). The whole object graph
(engine, store, module, linker, instances) is owned here through the C API; nothing depends on
wasmtime-py's private modules.

A componentize-js component holds more core modules (StarlingMonkey's main module, a preview-1
adapter, and shim and fixup modules that tie them together); only the main module runs here:
its WASI 0.2 imports are served by `_wasi.py` and its preview-1 imports by wasmtime's WASI (as
for Go guests), so the adapter and the shims are not needed.
"""

from __future__ import annotations

import array
import ctypes
import struct
import sys
import threading
from typing import Any, Callable, Mapping, Protocol, Sequence, TypeVar

import wasmtime

from . import _capi, _runtime, _wasi

T = TypeVar("T")
_COMPONENT_PREAMBLE = b"\x00asm\x0d\x00\x01\x00"
PREVIEW1 = "wasi_snapshot_preview1"
_INTRINSICS = ("[resource-new]", "[resource-rep]", "[resource-drop]")
_VALTYPE_CODES = {0x7F: "i32", 0x7E: "i64", 0x7D: "f32", 0x7C: "f64"}


class FastUnavailable(Exception):
    """Why a component cannot run on the fast path (it then runs on the generic one).

    `warn`: the reason is worth a warning (an environment problem, not the component's shape).
    """

    def __init__(self, message: str, warn: bool = False) -> None:
        super().__init__(message)
        self.warn = warn


class _CallFailed(Exception):
    """A trap or error wasmtime reported for a call, with its message."""


# ---------------------------------------------------------------------------- binary reading


def _leb(data: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            return result, pos


def _name(data: bytes, pos: int) -> tuple[str, int]:
    n, pos = _leb(data, pos)
    return data[pos : pos + n].decode("utf-8"), pos + n


def _sections(data: bytes, start: int) -> list[tuple[int, bytes]]:
    out = []
    pos = start
    while pos < len(data):
        sid = data[pos]
        size, pos = _leb(data, pos + 1)
        out.append((sid, data[pos : pos + size]))
        pos += size
    return out


def core_modules(component: bytes) -> list[bytes]:
    """The core modules embedded at the top level of a component binary."""
    if not component.startswith(_COMPONENT_PREAMBLE):
        raise FastUnavailable("not a component binary")
    try:
        return [body for sid, body in _sections(component, 8) if sid == 1]
    except IndexError:
        raise FastUnavailable("truncated component binary") from None


class CanonOptions:
    """The canonical options a component gives its lifted exports and lowered imports.

    Read from the component's canon, alias and core-instance sections, so that the fast path
    runs only components whose options it honours: every string in UTF-8, the main module's
    `memory` and `cabi_realloc`, and post-return functions exactly where the component names
    them (`post_returns`, by core export name).
    """

    def __init__(self, component: bytes, main_module: int) -> None:
        self.post_returns: set[str] = set()
        self.lifted: set[str] = set()  # core export names of every lifted function
        self.problem: str | None = None
        modules = 0
        instances: list[int | None] = []  # core instance -> the module it instantiates
        # core func -> (instance, export it aliases) or None
        funcs: list[tuple[int, str] | None] = []
        memories: list[tuple[int, str] | None] = []
        canons: list[tuple[str, int | None, list[tuple[int, int]]]] = []
        try:
            for sid, body in _sections(component, 8):
                if sid == 1:
                    modules += 1
                elif sid == 2:
                    self._instances(body, instances)
                elif sid == 6:
                    self._aliases(body, funcs, memories, instances)
                elif sid == 8:
                    self._canons(body, funcs, canons)
        except (IndexError, UnicodeDecodeError):
            self.problem = "its canonical section could not be read"
        if self.problem is not None:
            return
        mains = [i for i, m in enumerate(instances) if m == main_module]
        if len(mains) != 1:
            self.problem = "its main module is not instantiated exactly once"
            return
        main = mains[0]

        def named(space: list[tuple[int, str] | None], index: int | None) -> str | None:
            item = space[index] if index is not None and index < len(space) else None
            return item[1] if item is not None and item[0] == main else None

        def foreign(space: list[tuple[int, str] | None], index: int) -> bool:
            item = space[index] if index < len(space) else None
            return item is not None and item[0] != main

        for what, target, opts in canons:
            reallocs = [v for code, v in opts if code == 4]
            if what == "lowered" and any(foreign(funcs, v) for v in reallocs):
                # lowered for another core module (a preview-1 adapter's own realloc): the
                # fast path does not run that module, it serves WASI itself (`_wasi`)
                continue
            for code, value in opts:
                if code in (1, 2):
                    encoding = "utf16" if code == 1 else "latin1+utf16"
                    self.problem = f"a {what} function uses string-encoding={encoding}"
                elif code == 3 and named(memories, value) != "memory":
                    self.problem = f"a {what} function uses another memory"
                elif code == 4 and named(funcs, value) != "cabi_realloc":
                    self.problem = f"a {what} function uses another realloc"
                elif code in (6, 7):
                    self.problem = f"a {what} function is async"
            if self.problem is not None:
                return
            if what != "lifted":
                continue
            name = named(funcs, target)
            if name is None:
                self.problem = "a lifted function is not an export of the main module"
                return
            self.lifted.add(name)
            for code, value in opts:
                if code == 5:
                    post = named(funcs, value)
                    if post != f"cabi_post_{name}":
                        self.problem = f"`{name}` has the post-return function {post}"
                        return
                    self.post_returns.add(name)

    @staticmethod
    def _instances(body: bytes, instances: list[int | None]) -> None:
        count, pos = _leb(body, 0)
        for _ in range(count):
            kind = body[pos]
            if kind == 0:
                module, pos = _leb(body, pos + 1)
                n, pos = _leb(body, pos)
                for _ in range(n):
                    _, pos = _name(body, pos)
                    _, pos = _leb(body, pos + 1)  # 0x12 (instance), index
                instances.append(module)
            else:
                n, pos = _leb(body, pos + 1)
                for _ in range(n):
                    _, pos = _name(body, pos)
                    _, pos = _leb(body, pos + 1)  # sort, index
                instances.append(None)

    def _aliases(
        self,
        body: bytes,
        funcs: list[tuple[int, str] | None],
        memories: list[tuple[int, str] | None],
        instances: list[int | None],
    ) -> None:
        count, pos = _leb(body, 0)
        for _ in range(count):
            sort = body[pos]
            core_sort = body[pos + 1] if sort == 0 else -1
            pos += 2 if sort == 0 else 1
            target = body[pos]
            item: tuple[int, str] | None = None
            if target in (0, 1):
                instance, pos = _leb(body, pos + 1)
                name, pos = _name(body, pos)
                item = (instance, name) if target == 1 else None
            else:
                _, pos = _leb(body, pos + 1)
                _, pos = _leb(body, pos)
            if core_sort == 0:
                funcs.append(item)
            elif core_sort == 2:
                memories.append(item)
            elif core_sort == 0x12:
                instances.append(None)

    def _canons(
        self,
        body: bytes,
        funcs: list[tuple[int, str] | None],
        canons: list[tuple[str, int | None, list[tuple[int, int]]]],
    ) -> None:
        count, pos = _leb(body, 0)
        for _ in range(count):
            kind = body[pos]
            if kind in (0, 1):
                target, pos = _leb(body, pos + 2)
                opts, pos = self._options(body, pos)
                if kind == 0:
                    _, pos = _leb(body, pos)  # the component function type
                    canons.append(("lifted", target, opts))
                else:
                    canons.append(("lowered", None, opts))
                    funcs.append(None)
            elif kind in (2, 3, 4):  # resource.new, resource.drop, resource.rep
                _, pos = _leb(body, pos + 1)
                funcs.append(None)
            else:
                self.problem = f"it uses the canonical built-in {kind:#x}"
                return

    @staticmethod
    def _options(body: bytes, pos: int) -> tuple[list[tuple[int, int]], int]:
        n, pos = _leb(body, pos)
        opts = []
        for _ in range(n):
            code = body[pos]
            pos += 1
            value = 0
            if code in (3, 4, 5, 7):
                value, pos = _leb(body, pos)
            elif code > 7:
                raise IndexError("unknown canonical option")
            opts.append((code, value))
        return opts, pos


def _limits(data: bytes, pos: int) -> int:
    flags = data[pos]
    _, pos = _leb(data, pos + 1)
    if flags & 1:
        _, pos = _leb(data, pos)
    return pos


FuncType = tuple[tuple[str, ...], tuple[str, ...]]


class ModuleInfo:
    """What the fast path needs to know about a core module, read from its binary."""

    def __init__(self, module: bytes) -> None:
        self.imports: list[tuple[str, str]] = []  # function imports as (module, name)
        # export name -> function type (None: not a function)
        self.exports: dict[str, FuncType | None] = {}
        types: list[FuncType] = []
        funcs: list[int] = []  # type index of every function (imports first)
        exported: list[tuple[str, int, int]] = []
        try:
            for sid, body in _sections(module, 8):
                if sid == 1:
                    types = self._types(body)
                elif sid == 2:
                    funcs += self._imports(body)
                elif sid == 3:
                    count, pos = _leb(body, 0)
                    for _ in range(count):
                        index, pos = _leb(body, pos)
                        funcs.append(index)
                elif sid == 7:
                    count, pos = _leb(body, 0)
                    for _ in range(count):
                        name, pos = _name(body, pos)
                        kind = body[pos]
                        index, pos = _leb(body, pos + 1)
                        exported.append((name, kind, index))
        except (IndexError, UnicodeDecodeError):
            raise FastUnavailable("malformed core module") from None
        for name, kind, index in exported:
            ty = None
            if kind == 0 and index < len(funcs) and funcs[index] < len(types):
                ty = types[funcs[index]]
            self.exports[name] = ty

    @staticmethod
    def _types(body: bytes) -> list[FuncType]:
        count, pos = _leb(body, 0)
        out: list[FuncType] = []
        for _ in range(count):
            if body[pos] != 0x60:
                raise FastUnavailable(
                    "the core module uses type forms the fast path cannot read",
                )
            pos += 1
            sig: list[tuple[str, ...]] = []
            for _ in range(2):
                n, pos = _leb(body, pos)
                codes = body[pos : pos + n]
                pos += n
                sig.append(tuple(_VALTYPE_CODES.get(c, "other") for c in codes))
            out.append((sig[0], sig[1]))
        return out

    def _imports(self, body: bytes) -> list[int]:
        funcs = []
        for mod, name, desc in _import_entries(body):
            if desc[0] == 0:
                funcs.append(_leb(desc, 1)[0])
                self.imports.append((mod, name))
        return funcs


def _import_entries(body: bytes) -> list[tuple[str, str, bytes]]:
    """An import section's entries as (module, name, the descriptor's bytes: kind first)."""
    out = []
    count, pos = _leb(body, 0)
    for _ in range(count):
        mod, pos = _name(body, pos)
        name, pos = _name(body, pos)
        kind = body[pos]
        start = pos
        pos += 1
        if kind == 0:
            pos = _leb(body, pos)[1]
        elif kind == 1:
            pos = _limits(body, pos + 1)
        elif kind == 2:
            pos = _limits(body, pos)
        elif kind == 3:
            pos += 2
        else:
            raise FastUnavailable(f"unsupported import kind {kind} of {mod}/{name}")
        out.append((mod, name, body[start:pos]))
    return out


def _uleb(n: int) -> bytes:
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _wasm_name(text: str) -> bytes:
    raw = text.encode("utf-8")
    return _uleb(len(raw)) + raw


def _preview1_renamed_back(module: bytes) -> bytes:
    """The module with its preview-1 imports that `wasm-tools component new` renamed apart
    (`fd_write [v2]`: a Go module that uses fmt imports fd_write from both its runtime and its
    syscall package) under their own names again: the component's adapter serves the renamed
    ones, wasmtime's WASI defines only the real names, and a core module may import one twice.
    Returns `module` itself when nothing was renamed."""
    pos = 8
    while pos < len(module):
        sid = module[pos]
        size, start = _leb(module, pos + 1)
        end = start + size
        if sid == 2:
            entries = _import_entries(module[start:end])
            renamed = False
            body = bytearray(_uleb(len(entries)))
            for mod, name, desc in entries:
                base, mark, version = name.rpartition(" [v")
                numbered = version[:-1].isdigit() and version[-1:] == "]"
                if mod == PREVIEW1 and mark and numbered:
                    name, renamed = base, True
                body += _wasm_name(mod) + _wasm_name(name) + desc
            if not renamed:
                return module
            section = b"\x02" + _uleb(len(body)) + bytes(body)
            return module[:pos] + section + module[end:]
        pos = end
    return module


# ---------------------------------------------------------------------------- C objects


class _Owned:
    """A C object deleted with `deleter` when the Python object goes away."""

    __slots__ = ("ptr", "_delete")

    def __init__(
        self,
        ptr: int | None,
        deleter: Callable[[int], None],
        what: str,
    ) -> None:
        if not ptr:
            raise _CallFailed(f"wasmtime could not create the {what}")
        self.ptr: int = ptr
        self._delete = deleter

    def __del__(self) -> None:
        ptr, self.ptr = self.ptr, 0
        if ptr:
            self._delete(ptr)


class Engine:
    """A wasmtime engine with epoch interruption, and fuel when limits ask for it."""

    def __init__(self, lib: _capi.Library, fuel: bool) -> None:
        config = lib.wasm_config_new()
        lib.wasmtime_config_consume_fuel_set(config, fuel)
        lib.wasmtime_config_epoch_interruption_set(config, True)
        self.owned = _Owned(
            lib.wasm_engine_new_with_config(config),
            lib.wasm_engine_delete,
            "engine",
        )
        self.ptr = self.owned.ptr
        increment = lib.wasmtime_engine_increment_epoch
        ptr = self.ptr
        self.ticker = _runtime.Ticker(lambda: increment(ptr))
        self.allocator: Module | None = None


_engines: dict[bool, Engine] = {}
_engines_lock = threading.Lock()


def engine_for(lib: _capi.Library, fuel: bool) -> Engine:
    """One engine per fuel setting for the fast path, shared by the whole process."""
    with _engines_lock:
        engine = _engines.get(fuel)
        if engine is None:
            engine = _engines[fuel] = Engine(lib, fuel)
    return engine


class Module:
    """A compiled core module."""

    def __init__(self, lib: _capi.Library, ptr: int) -> None:
        self.lib = lib
        self.owned = _Owned(ptr, lib.wasmtime_module_delete, "module")
        self.ptr = self.owned.ptr

    @classmethod
    def _make(
        cls,
        lib: _capi.Library,
        fn: Any,
        engine: Engine,
        data: bytes,
        what: str,
    ) -> Module:
        out = ctypes.c_void_p(0)
        buf = ctypes.create_string_buffer(data, len(data))
        lib.check(
            fn(engine.ptr, ctypes.addressof(buf), len(data), ctypes.addressof(out)),
            what,
        )
        return cls(lib, out.value or 0)

    @classmethod
    def compile(cls, lib: _capi.Library, engine: Engine, wasm: bytes) -> Module:
        return cls._make(lib, lib.wasmtime_module_new, engine, wasm, "cannot compile")

    @classmethod
    def deserialize(cls, lib: _capi.Library, engine: Engine, code: bytes) -> Module:
        fn = lib.wasmtime_module_deserialize
        return cls._make(lib, fn, engine, code, "cannot deserialize")

    def serialize(self) -> bytes:
        vec = (ctypes.c_size_t * 2)()
        self.lib.check(
            self.lib.wasmtime_module_serialize(self.ptr, ctypes.addressof(vec)),
            "serialize",
        )
        data = ctypes.string_at(vec[1], vec[0])
        self.lib.wasm_byte_vec_delete(ctypes.addressof(vec))
        return data


def _functype(lib: _capi.Library, ins: Sequence[str], outs: Sequence[str]) -> int:
    vecs = []
    for kinds in (ins, outs):
        items = (ctypes.c_void_p * max(1, len(kinds)))()
        for i, kind in enumerate(kinds):
            items[i] = lib.wasm_valtype_new(_capi.VALKINDS[kind])
        vec = (ctypes.c_size_t * 2)()
        lib.wasm_valtype_vec_new(
            ctypes.addressof(vec),
            len(kinds),
            ctypes.addressof(items),
        )
        vecs.append(vec)
    return int(
        lib.wasm_functype_new(ctypes.addressof(vecs[0]), ctypes.addressof(vecs[1])),
    )


def _wasi_config(lib: _capi.Library, grants: _runtime.WasiGrants) -> int:
    """A `wasi_config_t` with exactly what `grants` allows (WASI preview 1)."""
    config = lib.wasi_config_new()
    # the C arrays (and the bytes they point at) must outlive the calls that read them:
    # `addressof` of a temporary would hand C freed memory
    alive: list[Any] = []

    def strings(items: Sequence[str]) -> int:
        encoded = [s.encode("utf-8") for s in items]
        array = (ctypes.c_char_p * max(1, len(items)))(*encoded)
        alive.append((encoded, array))
        return ctypes.addressof(array)

    names, values = list(grants.env), list(grants.env.values())
    ok = lib.wasi_config_set_env(config, len(names), strings(names), strings(values))
    args = list(grants.args)
    ok = ok and lib.wasi_config_set_argv(config, len(args), strings(args))
    for host, guest in grants.dirs.items():
        writable = host in grants.writable_dirs
        ok = ok and lib.wasi_config_preopen_dir(
            config,
            host.encode("utf-8"),
            guest.encode("utf-8"),
            writable,
        )
    if not ok:
        lib.wasi_config_delete(config)
        raise _runtime.PluginLoadError(
            "cannot configure WASI for the plugin (a granted dir?)",
        )
    if grants.inherit_stdout:
        lib.wasi_config_inherit_stdout(config)
    if grants.inherit_stderr:
        lib.wasi_config_inherit_stderr(config)
    return int(config)


# ---------------------------------------------------------------------------- calls


_SLOT = 16  # bytes per wasmtime_val_raw_t
# struct codes of the WIT values that fill their whole core value (i32, i64, f32, f64)
_WHOLE_CORE_VALUE = ("I", "i", "Q", "q", "f", "d")
# (code for arguments, code for results): an i32 argument is written as 8 bytes so that both
# signed and unsigned Python ints fit (the low half is what wasm reads); i64 arguments arrive
# as unsigned bit patterns (the generated code masks them).
_CODES = {"i32": ("q", "i"), "i64": ("Q", "q"), "f32": ("f", "f"), "f64": ("d", "d")}
_P = ctypes.c_void_p
# wasmtime_func_call_unchecked(context, func, args_and_results, len, trap_out) -> error.
# Declared without argument types and called with ctypes objects built once per function:
# ctypes then converts nothing per call (0.34 us a call here, against 0.46 us with argument
# types and Python ints). The error comes back as a plain int (0: none).
_CALL_PROTO = ctypes.CFUNCTYPE(ctypes.c_size_t)
# wasmtime_memory_data_size(context, memory), with plain addresses
_SIZE_PROTO = ctypes.CFUNCTYPE(ctypes.c_size_t, _P, _P)


def _layout(kinds: Sequence[str], signed: bool) -> struct.Struct:
    fmt = "<"
    for kind in kinds:
        code = _CODES[kind][1 if signed else 0]
        fmt += code + f"{_SLOT - struct.calcsize('<' + code)}x"
    return struct.Struct(fmt)


class RawFunc:
    """A core function called through `wasmtime_func_call_unchecked` over a reused buffer.

    The types were checked once against the module (see `CorePrepared`), so the unchecked
    call is safe. `slots` holds the function's `wasmtime_val_raw_t` slots followed by the trap
    pointer the call may fill in; arguments are packed into it with one `struct` call and
    results unpacked with another. Nothing is allocated per call but the result tuple.
    `CoreInstance.invoke` runs the same steps inline (one Python frame fewer).
    """

    __slots__ = (
        "_keep",
        "slots",
        "view",
        "pack",
        "unpack",
        "c_call",
        "c_args",
        "trap_at",
        "lib",
        "post",
    )

    def __init__(
        self,
        store: Store,
        func: Any,
        offset: int,
        ins: Sequence[str],
        outs: Sequence[str],
    ) -> None:
        n = max(len(ins), len(outs), 1)
        # never resized: its address goes to C once (`rebind`)
        self.slots = array.array("Q", bytes(8 * (2 * n + 1)))
        self.view = memoryview(self.slots).cast("B")
        self.trap_at = 2 * n  # the u64 after the value slots
        self.pack = _layout(ins, False).pack_into
        self.unpack = _layout(outs, True).unpack_from
        self.c_call = store.call
        base = self.slots.buffer_info()[0]
        # ctypes objects whose values `rebind` changes in place: closures made over the tuple
        # (`CoreInstance.bind`) follow a restarted instance
        self.c_args = (_P(0), _P(0), _P(base), ctypes.c_size_t(n), _P(base + _SLOT * n))
        self.rebind(store, func, offset)
        self.lib = store.lib
        # the component's post-return function (run by `CoreInstance.post_return`), if any
        self.post: RawFunc | None = None

    def rebind(self, store: Store, func: Any, offset: int) -> None:
        """Points the call at the same function of another store (a restarted instance),
        keeping the buffer."""
        # the C store and the wasmtime_func_t buffer stay alive
        self._keep = (store, func)
        self.c_args[0].value = store.context
        self.c_args[1].value = ctypes.addressof(func) + offset

    def __call__(self, *args: Any) -> tuple[Any, ...]:
        self.pack(self.view, 0, *args)
        error = self.c_call(*self.c_args)
        if error or self.slots[self.trap_at]:
            raise self.failure(error)
        return self.unpack(self.view, 0)

    def failure(self, error: int) -> BaseException:
        """The exception for a call that returned `error` or left a trap in the buffer."""
        trap = self.slots[self.trap_at]
        self.slots[self.trap_at] = 0
        return _failure(self.lib, trap, error)


def _failure(lib: _capi.Library, trap: int, error: int | None) -> BaseException:
    text = lib.error_text(error) if error else ""
    if trap:
        text = text or lib.trap_text(trap)
    raised = _runtime.take_pending()
    if raised is not None:
        # a host import raised (or Ctrl-C): report the host's own exception
        return raised
    return _CallFailed(text or "the call into the plugin failed")


class Store:
    """A wasmtime store of the fast path, with its limits and interrupt callback."""

    def __init__(
        self,
        lib: _capi.Library,
        engine: Engine,
        limits: _runtime.Limits,
    ) -> None:
        self.lib = lib
        self.engine = engine  # outlives the store
        store = lib.wasmtime_store_new(engine.ptr, None, None)
        self.owned = _Owned(store, lib.wasmtime_store_delete, "store")
        self.ptr = self.owned.ptr
        self.context: int = lib.wasmtime_store_context(self.ptr)
        self.call = lib.raw("wasmtime_func_call_unchecked", _CALL_PROTO)
        self.memory_limit = limits.memory_bytes
        if limits.memory_bytes is not None:
            lib.wasmtime_store_limiter(self.ptr, limits.memory_bytes, -1, -1, -1, -1)
        self.interrupts = _runtime.Interrupts(lib, self.ptr, limits.timeout)
        lib.wasmtime_context_set_epoch_deadline(self.context, 1)

    def set_fuel(self, fuel: int) -> None:
        self.lib.check(
            self.lib.wasmtime_context_set_fuel(self.context, fuel),
            "set fuel",
        )

    def instantiated(self, error: int | None, trap: ctypes.c_void_p, what: str) -> None:
        if error or trap.value:
            exc = _failure(self.lib, trap.value or 0, error)
            trap.value = 0
            if isinstance(exc, _CallFailed):
                raise _runtime.PluginLoadError(f"{what}: {exc}") from None
            raise exc

    def export(self, instance: Any, name: str) -> Any:
        """The `wasmtime_extern_t` an instance exports as `name`, or None."""
        out = (ctypes.c_uint64 * 8)()  # larger than wasmtime_extern_t
        raw = name.encode("utf-8")
        found = self.lib.wasmtime_instance_export_get(
            self.context,
            ctypes.addressof(instance),
            raw,
            len(raw),
            ctypes.addressof(out),
        )
        return out if found else None


def _kind(ext: Any) -> int:
    return int(ext[0]) & 0xFF


# ---------------------------------------------------------------------------- instances


FLAT_CALLS: dict[Callable[..., Any], tuple[str, str]] = {}
"""Exports whose parameters and result are each one flat scalar, filled in by `_fast.py`:
generated export function -> (struct format that packs the WIT arguments into the call's value
slots, range-checking them; struct format that reads the WIT result from the first slot, ''
for none). `CoreInstance.bind` calls these without the generated function."""

_running = _runtime.pending  # per thread: `.stack` of the instances whose calls run
_hook = _runtime._Hook


def current() -> CoreInstance:
    """The instance whose export is running (host imports are only called from inside one)."""
    instance: CoreInstance = _running.stack[-1]
    return instance


Served = Mapping[tuple[str, str], tuple[_runtime.FuncSig, Callable[..., Any] | None]]


class CorePrepared:
    """The plugin's core module compiled, linked and pre-instantiated (`InstancePre`)."""

    def __init__(
        self,
        prepared: _runtime.Prepared,
        wasm: bytes,
        exports: Mapping[
            tuple[str | None, str],
            tuple[Callable[..., Any], str, Sequence[str], Sequence[str], bool],
        ],
        imports: Mapping[
            tuple[str, str],
            tuple[Callable[..., Any], Sequence[str], Sequence[str]],
        ],
        served: Served,
    ) -> None:
        self.prepared = prepared
        self.exports = exports
        try:
            lib = _capi.load()
        except _capi.Unavailable as exc:
            raise FastUnavailable(str(exc), warn=True) from None
        self.lib = lib
        self.engine = engine_for(lib, prepared.limits.fuel is not None)
        wanted = {core_name for _, core_name, _, _, _ in exports.values()}
        chosen = None
        for index, module in enumerate(core_modules(wasm)):
            info = ModuleInfo(module)
            if wanted <= set(info.exports) and {"memory", "cabi_realloc"} <= set(
                info.exports,
            ):
                chosen = (module, info, index)
                break
        if chosen is None:
            raise FastUnavailable(
                "no core module exports every function under its conventional name",
            )
        module_bytes, info, index = chosen
        module_key = f"module|{prepared.cache_key}"
        renamed_back = _preview1_renamed_back(module_bytes)
        if renamed_back is not module_bytes:
            module_bytes, info = renamed_back, ModuleInfo(renamed_back)
            module_key = f"module-preview1-renamed|{prepared.cache_key}"
        options = CanonOptions(wasm, index)
        if options.problem is not None:
            raise FastUnavailable(
                f"the component's canonical options: {options.problem}",
            )
        missing = sorted(wanted - options.lifted)
        if missing:
            raise FastUnavailable(f"the component does not lift `{missing[0]}`")
        self.canon_posts = options.post_returns
        self.post_returns = set(info.exports)
        for mod, name in info.imports:  # cheap refusal before compiling anything
            servable = (
                mod == PREVIEW1
                or (mod, name) in imports
                or _wasi.lookup(mod, name) is not None
                or (mod.startswith("[export]") and name.startswith(_INTRINSICS))
            )
            if not servable:
                raise FastUnavailable(
                    f"the core module imports {mod}/{name}, which the fast path cannot serve",
                )
        self._check_types(info)
        engine = self.engine
        try:
            self.module = _runtime.cached(
                module_bytes,
                module_key,
                prepared.cache_dir,
                lambda: Module.compile(lib, engine, module_bytes),
                lambda m: m.serialize(),
                lambda b: Module.deserialize(lib, engine, b),
            )
        except _CallFailed as exc:
            raise _runtime.PluginLoadError(f"invalid component: {exc}") from None
        self._callbacks: list[Any] = []  # the C side holds raw pointers to these
        self.linker = _Owned(
            lib.wasmtime_linker_new(engine.ptr),
            lib.wasmtime_linker_delete,
            "linker",
        )
        uses_wasi = False
        for mod, name in info.imports:
            if mod == PREVIEW1:
                uses_wasi = True
                continue
            if mod.startswith("[export]") and name.startswith(_INTRINSICS):
                intrinsic = name[1 : name.index("]")]
                resource = name[name.index("]") + 1 :]
                dtor = f"{mod[len('[export]'):]}#[dtor]{resource}"
                results = [] if intrinsic == "resource-drop" else ["i32"]
                self._define(
                    mod,
                    name,
                    ["i32"],
                    results,
                    _resource_intrinsic(intrinsic, dtor),
                )
                continue
            wasi = _wasi.lookup(mod, name) if (mod, name) not in imports else None
            if wasi is not None:  # WASI 0.2 (componentize-js plugins), under the grants
                self._define(mod, name, wasi[0], wasi[1], _bind_wasi(wasi[2]))
                continue
            adapter, ins, outs = imports[(mod, name)]
            sig, impl = served.get((mod, name), (None, None))
            # a host resource's drop needs no implementation: the bindings close the object
            if impl is None and not name.startswith("[resource-drop]"):
                raise _runtime.PluginLoadError(
                    f"the component imports `{mod}` but no implementation of it was given to load()",
                )
            served_by = _bind_import(adapter, impl or _no_impl, sig)
            self._define(mod, name, ins, outs, served_by)
        if uses_wasi:
            try:
                lib.check(
                    lib.wasmtime_linker_define_wasi(self.linker.ptr),
                    "define WASI",
                )
            except _CallFailed as exc:
                raise FastUnavailable(str(exc)) from None
        self.uses_wasi = uses_wasi
        # Python code serves some import: calls keep the running instance for `current()`
        self.serves_python = bool(self._callbacks)
        pre = ctypes.c_void_p(0)
        try:
            lib.check(
                lib.wasmtime_linker_instantiate_pre(
                    self.linker.ptr,
                    self.module.ptr,
                    ctypes.addressof(pre),
                ),
                "cannot link the core module",
            )
        except _CallFailed as exc:
            raise FastUnavailable(str(exc)) from None
        self.pre = _Owned(pre.value, lib.wasmtime_instance_pre_delete, "instance-pre")
        if engine.allocator is None:
            engine.allocator = Module.compile(
                lib,
                engine,
                bytes(wasmtime.wat2wasm(_ALLOCATOR_WAT)),
            )
        self.allocator = engine.allocator

    def _check_types(self, info: ModuleInfo) -> None:
        """Unchecked calls are only safe with the exact core types: verify them once."""
        for _, core_name, ins, outs, _ in self.exports.values():
            ty = info.exports.get(core_name)
            if ty is None:
                raise FastUnavailable(f"`{core_name}` is not a function")
            if ty != (tuple(ins), tuple(outs)):
                raise FastUnavailable(
                    f"`{core_name}` has core type {ty}, expected {(ins, outs)}",
                )
            post = f"cabi_post_{core_name}"
            if post in info.exports:
                post_ty = info.exports[post]
                if post_ty is None or post_ty != (tuple(outs), ()):
                    raise FastUnavailable(f"`{post}` has the wrong type")
        for name, ty in info.exports.items():
            if "#[dtor]" in name and ty != (("i32",), ()):
                raise FastUnavailable(f"`{name}` has the wrong type")
        if info.exports.get("_initialize", ((), ())) != ((), ()):
            raise FastUnavailable("`_initialize` has the wrong type")
        if info.exports.get("cabi_realloc") != (("i32",) * 4, ("i32",)):
            raise FastUnavailable("`cabi_realloc` has the wrong type")

    def _define(
        self,
        module: str,
        name: str,
        ins: Sequence[str],
        outs: Sequence[str],
        func: Callable[..., Any],
    ) -> None:
        """Serves the core import `module`/`name` with `func` over the raw value buffer."""
        lib = self.lib
        unpack = _layout(ins, True).unpack_from
        pack = _layout(outs, True).pack_into
        space = _capi.ADDRESS_SPACE
        has_result = bool(outs)
        # a host import (`_bind_import`): its adapter is called right here, one frame fewer
        direct = getattr(func, "_witgen_import", None)

        if direct is None:

            def callback(_env: Any, _caller: Any, values: int, _n: int) -> int:
                try:
                    result = func(*unpack(space, values))
                    if has_result:
                        pack(space, values, result)
                    return 0
                except BaseException as exc:
                    # re-raised by `invoke` once the guest has unwound
                    _runtime.pending.raised = exc
                    return lib.new_trap(b"the host import raised an exception")

        else:
            adapter, target = direct

            def callback(_env: Any, _caller: Any, values: int, _n: int) -> int:
                try:
                    result = adapter(_running.stack[-1], target, *unpack(space, values))
                    if has_result:
                        pack(space, values, result)
                    return 0
                except BaseException as exc:  # as above
                    _runtime.pending.raised = exc
                    return lib.new_trap(b"the host import raised an exception")

        _link_callback(self, module, name, ins, outs, callback)


class _Linking(Protocol):
    """What `_link_callback` needs of a prepared module (sync or async)."""

    lib: Any
    linker: _Owned
    _callbacks: list[Any]


def _link_callback(
    owner: _Linking,
    module: str,
    name: str,
    ins: Sequence[str],
    outs: Sequence[str],
    callback: Callable[[Any, Any, int, int], int],
) -> None:
    """Defines the core import `module`/`name` in `owner.linker` as the raw-buffer `callback`.

    The ctypes thunk is kept in `owner._callbacks`: wasmtime holds only its address.
    """
    lib = owner.lib
    callback._witgen_callback = True  # type: ignore[attr-defined]
    raw = _capi.HOST_CALLBACK(callback)
    owner._callbacks.append(raw)
    ty = _functype(lib, ins, outs)
    mod_bytes, name_bytes = module.encode("utf-8"), name.encode("utf-8")
    error = lib.wasmtime_linker_define_func_unchecked(
        owner.linker.ptr,
        mod_bytes,
        len(mod_bytes),
        name_bytes,
        len(name_bytes),
        ty,
        ctypes.cast(raw, ctypes.c_void_p),
        None,
        None,
    )
    lib.wasm_functype_delete(ty)
    if error:
        raise FastUnavailable(
            f"cannot define {module}/{name}: {lib.error_text(error)}",
        )


def _resource_intrinsic(intrinsic: str, dtor: str) -> Callable[..., Any]:
    """`[resource-new]`, `[resource-rep]` and `[resource-drop]` of an exported resource."""
    if intrinsic == "resource-new":
        return lambda rep: current().table_new(rep & 0xFFFFFFFF)
    if intrinsic == "resource-rep":
        return lambda handle: _signed(current().table_rep(handle & 0xFFFFFFFF))
    return lambda handle: current().table_drop(handle & 0xFFFFFFFF, dtor)


def _bind_wasi(impl: Callable[..., Any]) -> Callable[..., Any]:
    return lambda *args: impl(current(), *args)


def _signed(v: int) -> int:
    return v - 0x100000000 if v & 0x80000000 else v


def _no_impl(*args: Any) -> Any:
    raise AssertionError("a resource drop is served by the bindings alone")


def _bind_import(
    adapter: Callable[..., Any],
    impl: Callable[..., Any],
    sig: _runtime.FuncSig | None,
) -> Callable[..., Any]:
    """The function serving a host import: the generated `adapter` (lift and lower) around the
    host's `impl`, whose result is checked against the WIT type. `_define` reads the pair back
    from `_witgen_import` and calls the adapter itself."""
    result = None if sig is None else sig.result
    target = impl if sig is None or result is None else _checked(impl, sig, result)

    def call(*args: Any) -> Any:
        return adapter(_running.stack[-1], target, *args)

    call._witgen_import = (adapter, target)  # type: ignore[attr-defined]
    return call


_EXACT = {"bool": bool, "string": str, "float": float}
"""Result kinds whose common right answer is one exact Python type (a quick pass)."""


def _checked(
    impl: Callable[..., Any],
    sig: _runtime.FuncSig,
    desc: _runtime.Desc,
) -> Callable[..., Any]:
    """`impl` whose result is checked (`FuncSig.check_result`).

    A plain int in range, or a value of the exact expected type, passes without the full
    check (~0.4 us an import); anything else gets the full check and its message.
    """

    f32 = _runtime.has_f32(desc)

    def full(result: Any) -> Any:
        wrong = sig.check_result(result)
        if wrong is not None:
            raise wrong
        # an f32 beyond its range becomes an infinity (`struct` would refuse to pack it)
        return _runtime.f32_rounded(desc, result) if f32 else result

    if f32:
        return lambda *args: full(impl(*args))
    if desc[0] == "int":
        lo, hi = desc[1], desc[2]

        def checked_int(*args: Any) -> Any:
            result = impl(*args)
            if type(result) is int and lo <= result <= hi:
                return result
            return full(result)

        return checked_int
    exact = _EXACT.get(desc[0])
    if exact is not None:

        def checked_exact(*args: Any) -> Any:
            result = impl(*args)
            return result if type(result) is exact else full(result)

        return checked_exact

    def checked(*args: Any) -> Any:
        return full(impl(*args))

    return checked


class CoreInstance:
    """One instance of the core module with its own store; same interface as `Instance`."""

    def __init__(self, core: CorePrepared) -> None:
        self.core = core
        self.prepared = core.prepared
        self.lib = core.lib
        self.generation = 0
        self._store: Store | None = None
        self._closed = False
        self._active = False
        self.pending: list[tuple[bytearray, int, int, bytes | bytearray, int]] = []
        self.entered = False
        limits = self.prepared.limits
        self._fuel = limits.fuel
        self._limited = limits.fuel is not None or limits.timeout is not None
        self._tracked = core.serves_python
        self._exports = core.exports  # shared: the batch codec adds entries to it
        self._ticker = core.engine.ticker
        self._calls = self._ticker.running
        self._size = core.lib.raw("wasmtime_memory_data_size", _SIZE_PROTO)
        self._funcs: dict[str, RawFunc] = {}
        self._start()

    def _start(self) -> None:
        lib = self.lib
        limits = self.prepared.limits
        store = Store(lib, self.core.engine, limits)
        if limits.fuel is not None:
            store.set_fuel(limits.fuel)
        if self.core.uses_wasi:
            config = _wasi_config(lib, self.prepared.wasi)
            try:
                lib.check(lib.wasmtime_context_set_wasi(store.context, config), "WASI")
            except _CallFailed as exc:
                raise _runtime.PluginLoadError(str(exc)) from None
        instance = (ctypes.c_uint64 * 2)()
        trap = ctypes.c_void_p(0)
        error = lib.wasmtime_instance_pre_instantiate(
            self.core.pre.ptr,
            store.context,
            ctypes.addressof(instance),
            ctypes.addressof(trap),
        )
        store.instantiated(error, trap, "cannot instantiate the component")
        offset = _capi.ITEM_OFFSET

        def func(name: str) -> Any:
            ext = store.export(instance, name)
            if ext is None or _kind(ext) != _capi.EXTERN_FUNC:
                raise _runtime.PluginLoadError(
                    f"the core module does not export function {name}",
                )
            return ext

        def memory(inst: Any, name: str) -> Any:
            ext = store.export(inst, name)
            if ext is None or _kind(ext) != _capi.EXTERN_MEMORY:
                raise _runtime.PluginLoadError(
                    f"the core module does not export memory {name}",
                )
            return ext

        # a reactor (e.g. Go's c-shared build) sets itself up first
        if "_initialize" in self.core.post_returns:
            try:
                RawFunc(store, func("_initialize"), offset, (), ())()
            except _CallFailed as exc:
                raise _runtime.PluginLoadError(
                    f"the plugin failed to start: {exc}",
                ) from None
        mem = memory(instance, "memory")
        self._memory_ref = (store.context, ctypes.addressof(mem) + offset)
        self._keep_memory = mem
        self._view_size = -1
        self._view = memoryview(b"")
        realloc = func("cabi_realloc")
        helper = (ctypes.c_uint64 * 2)()
        error = lib.wasmtime_instance_new(
            store.context,
            self.core.allocator.ptr,
            ctypes.addressof(realloc),
            1,
            ctypes.addressof(helper),
            ctypes.addressof(trap),
        )
        store.instantiated(error, trap, "cannot start the allocation helper")
        scratch = memory(helper, "scratch")
        self._scratch_ref = (store.context, ctypes.addressof(scratch) + offset)
        self._keep_scratch = scratch
        self._scratch_size = -1
        self._scratch = memoryview(b"")
        alloc = store.export(helper, "alloc_many")
        self._alloc_many = RawFunc(store, alloc, offset, ("i32",), ())
        # the same `RawFunc`s across restarts (rebound): `bind`'s closures hold them
        funcs = self._funcs
        for _, core_name, ins, outs, _has_post in self.core.exports.values():
            raw = funcs.get(core_name)
            if raw is None:
                raw = RawFunc(store, func(core_name), offset, ins, outs)
                funcs[core_name] = raw
            else:
                raw.rebind(store, func(core_name), offset)
            if core_name in self.core.canon_posts:
                post = func(f"cabi_post_{core_name}")
                raw.post = RawFunc(store, post, offset, outs, ())
        self._dtors: dict[str, RawFunc] = {}
        for name in self.core.post_returns:
            if "#[dtor]" in name:
                self._dtors[name] = RawFunc(store, func(name), offset, ("i32",), ())
        # handle -> rep, for resources the plugin exports
        self._table: dict[int, int] = {}
        # handle -> (object, owned), for resources the host implements in Python
        self._host_objects: dict[int, tuple[Any, bool]] = {}
        self._host_lent: list[int] = []  # borrows lent for the running call
        self._next_handle = 1
        self._store = store
        self.generation += 1

    # -- memory access for the generated code --

    def view(self) -> memoryview:
        """The whole linear memory; valid until the next call into the guest.

        Rebuilt only when the memory's size changed (growth may also move it)."""
        size = self._size(*self._memory_ref)
        if size != self._view_size:
            base = self.lib.wasmtime_memory_data(*self._memory_ref)
            self._view = memoryview((ctypes.c_ubyte * size).from_address(base)).cast(
                "B",
            )
            self._view_size = size
        return self._view

    def ref(
        self,
        parent: bytearray,
        offset: int,
        align: int,
        data: bytes | bytearray,
        count: int = -1,
    ) -> None:
        """Registers a block (string bytes or list elements) referenced from `parent`.

        `allocate` later gets its guest address with `cabi_realloc` and writes the
        (address, count) pair into `parent` at `offset` (count: bytes, or list elements).
        """
        self.pending.append(
            (parent, offset, align, data, len(data) if count < 0 else count),
        )

    def allocate(self) -> None:
        """Allocates every registered block with one trip into wasm, then writes them all.

        A helper module loops over the (align, size) pairs calling the guest's own
        `cabi_realloc`, so the guest sees exactly the allocations the canonical ABI makes;
        only the Python -> wasm transitions are saved.
        """
        refs = self.pending
        n = len(refs)
        if not n:
            return
        sizes = array.array("I")
        for ref in refs:
            sizes.append(ref[2])
            sizes.append(len(ref[3]))
        scratch = self._scratch_view(8 * n)
        scratch[: 8 * n] = memoryview(sizes).cast("B")
        self._alloc_many(n)
        addrs = array.array("I", bytes(self._scratch_view(4 * n)[: 4 * n]))
        pack = _PAIR.pack_into
        mem = self.view()
        end = len(mem)
        for (parent, offset, align, data, count), addr in zip(refs, addrs):
            if addr & (align - 1):
                raise _runtime.PluginTrap(
                    f"cabi_realloc returned {addr:#x}, which is not aligned to {align}"
                )
            if addr + len(data) > end:
                raise _runtime.PluginTrap("cabi_realloc returned memory out of bounds")
            pack(parent, offset, addr, count)
            mem[addr : addr + len(data)] = data
        refs.clear()

    def write(self, addr: int, data: bytes | bytearray) -> None:
        """Writes `data` into guest memory at `addr` (a return area the guest passed in)."""
        mem = self.view()
        if addr + len(data) > len(mem):
            raise _runtime.PluginTrap("return area out of bounds")
        mem[addr : addr + len(data)] = data

    def _scratch_view(self, size: int) -> memoryview:
        lib = self.lib
        have = self._size(*self._scratch_ref)
        if have < size:
            prev = ctypes.c_uint64(0)
            pages = (size - have + 65535) // 65536
            error = lib.wasmtime_memory_grow(
                *self._scratch_ref,
                pages,
                ctypes.addressof(prev),
            )
            if error:
                raise _runtime.PluginTrap(
                    f"cannot grow scratch memory: {lib.error_text(error)}",
                )
            have = self._size(*self._scratch_ref)
        # rebuilt only when the size changed, as `view` does (~4 us saved per allocation)
        if have != self._scratch_size:
            base = lib.wasmtime_memory_data(*self._scratch_ref)
            view = (ctypes.c_ubyte * have).from_address(base)
            self._scratch = memoryview(view).cast("B")
            self._scratch_size = have
        return self._scratch

    # -- calls --

    def bind(self, iface: str | None, name: str) -> Callable[..., Any]:
        """The export `name` of `iface` as a function of its WIT arguments (what a typed method
        calls, looked up once when the instance is made).

        An export of flat scalars only (`FLAT_CALLS`), on an instance without per-call limits,
        runs in this one Python frame: the arguments are packed straight into the value slots
        (the struct format checks their ranges), one C call, the result read back. Whatever is
        out of the ordinary (a poisoned or closed instance, re-entrance, a wrong argument)
        goes through `call`, which reports it as usual; a trap is classified as `call` does.
        """
        rt = self
        entry = self._exports.get((iface, name))
        spec = None if entry is None else FLAT_CALLS.get(entry[0])
        # wasmtime_val_raw_t is little-endian; memoryviews read in the host's order
        if entry is None or spec is None or self._limited or sys.byteorder != "little":

            def general(*args: Any) -> Any:
                return rt.call(iface, name, args)

            return general
        core_name = entry[1]
        raw = self._funcs[core_name]
        codes, result_code = spec
        view, slots, trap_at = raw.view, raw.slots, raw.trap_at
        # the first slot in the result's format; and in the argument's, for one argument that
        # fills its core value (a store range-checks like struct, and costs less)
        slot_view: Any = view  # cast to formats known only now
        result = slot_view.cast(result_code) if result_code else None
        one = slot_view.cast(codes) if codes in _WHOLE_CORE_VALUE else None
        # every argument in its slot; pad bytes are zeros (a u8 or u16 fills its i32)
        pack = struct.Struct(
            "<" + "".join(f"{code}{_SLOT - struct.calcsize(code)}x" for code in codes),
        ).pack_into
        c_call, c_args = raw.c_call, raw.c_args
        calls, ticker = self._calls, self._ticker
        tracked = self._tracked
        # the component's post-return function, called with the flat result (spec: even
        # where the ABI needs none, a component may name one)
        has_post = core_name in self.core.canon_posts
        hook, ensure_hook = _hook, _runtime.ensure_hook

        def finish(error: int) -> Any:
            """A failed call's error, or the result of a call with a post-return function."""
            try:
                if error or slots[trap_at]:
                    raise raw.failure(error)
                value = None if result is None else result[0]
                post = raw.post
                assert post is not None
                if result is None:
                    post()
                else:
                    post(value)
                return value
            except _CallFailed as exc:
                raise rt._trapped(exc, rt._store) from None
            except BaseException:
                # the guest was unwound mid-call (a host import raised)
                rt._store = None
                raise

        # `flat` and `flat_one` are the same but for how the arguments reach the slots
        def flat(*args: Any) -> Any:
            if rt._active or rt._store is None:
                return rt.call(iface, name, args)
            rt._active = True  # at once: another thread must not write the slots now
            try:
                pack(view, 0, *args)
            except Exception:  # a wrong argument: `call` says which and where
                rt._active = False
                return rt.call(iface, name, args)
            calls.append(rt)  # the ticker only asks whether the list is empty
            if not ticker.awake:
                ticker.wake()
            if sys.unraisablehook is not hook.current:  # as in `call`
                ensure_hook()
            if tracked:
                _running.stack.append(rt)
            try:
                error = c_call(*c_args)
                if error or slots[trap_at] or has_post:
                    return finish(error)
                return None if result is None else result[0]
            finally:
                calls.pop()
                if tracked:
                    _running.stack.pop()
                rt._active = False

        if one is None:
            return flat

        def flat_one(arg: Any) -> Any:
            if rt._active or rt._store is None:
                return rt.call(iface, name, (arg,))
            rt._active = True
            try:
                one[0] = arg
            except Exception:  # as in `flat`
                rt._active = False
                return rt.call(iface, name, (arg,))
            calls.append(rt)
            if not ticker.awake:
                ticker.wake()
            if sys.unraisablehook is not hook.current:
                ensure_hook()
            if tracked:
                _running.stack.append(rt)
            try:
                error = c_call(*c_args)
                if error or slots[trap_at] or has_post:
                    return finish(error)
                return None if result is None else result[0]
            finally:
                calls.pop()
                if tracked:
                    _running.stack.pop()
                rt._active = False

        return flat_one

    def _trapped(self, exc: _CallFailed, store: Store | None) -> BaseException:
        """The error for a call into `store` that trapped; the instance is poisoned (a fresh
        one serves the next call)."""
        assert store is not None
        self._store = None
        self.pending.clear()
        full = self._memory_full(store)
        return _runtime.classify(str(exc), store.interrupts.timed_out, full)

    def invoke(self, core_name: str, args: Sequence[Any]) -> tuple[Any, ...]:
        """Calls the core export `core_name` with flat `args`; its flat results.

        `RawFunc.__call__` inline: this is the one Python frame between the generated code
        and the C call."""
        f = self._funcs[core_name]
        if len(args) == 1:  # `*args` would cost a tuple and a slower call
            f.pack(f.view, 0, args[0])
        else:
            f.pack(f.view, 0, *args)
        # a value the packing refused (a float parameter given None) is a wrong argument,
        # not a guest unwound mid-call: the instance stays
        self.entered = True
        error = f.c_call(*f.c_args)
        if error or f.slots[f.trap_at]:
            raise f.failure(error)
        return f.unpack(f.view, 0)

    def post_return(self, core_name: str, results: Sequence[Any]) -> None:
        post = self._funcs[core_name].post
        if post is not None:
            post(*results)

    def call(self, iface: str | None, name: str, args: Sequence[Any]) -> Any:
        store = self._store
        if store is None:
            if self._closed:
                raise _runtime.PluginClosed("the plugin is closed")
            self._start()
            store = self._store
            assert store is not None
        if self._active:
            raise _runtime.PluginTrap(
                f"{name}: the plugin instance was re-entered from one of its host imports "
                "(the component model forbids re-entering an instance)",
            )
        if self._limited:  # fuel and timeout are per call
            if self._fuel is not None:
                store.set_fuel(self._fuel)
            store.interrupts.start()
        self.entered = False
        self._active = True
        # Only Python-served imports and resource handles ask `current()` for the instance;
        # a module without them skips the thread-local stack.
        tracked = self._tracked
        if tracked:
            _running.stack.append(self)
        calls = self._calls
        calls.append(self)  # the ticker only asks whether the list is empty
        if not self._ticker.awake:
            self._ticker.wake()
        # checked per call: pytest, for one, swaps the hook for every test
        if sys.unraisablehook is not _hook.current:
            _runtime.ensure_hook()
        try:
            return self._exports[(iface, name)][0](self, *args)
        except _CallFailed as exc:
            raise self._trapped(exc, store) from None
        except BaseException as exc:
            self.pending.clear()
            unwound = self.entered or self._store is not store
            if unwound or isinstance(exc, _runtime.PluginTrap):
                # the guest was unwound mid-call or handed back garbage
                self._store = None
                raise
            # a bad argument: the guest never ran the function
            wrong = self.prepared.bad_args(iface, name, args)
            if wrong is not None:
                raise wrong from None
            if isinstance(exc, struct.error):  # a value out of range for its WIT type
                raise ValueError(str(exc)) from None
            rounded = None
            if isinstance(exc, OverflowError):
                rounded = self.prepared.f32_rounded_args(iface, name, args)
            if rounded is None:
                raise
        finally:
            calls.pop()
            if tracked:
                _running.stack.pop()
            self._active = False
        # a float beyond f32's range, which `struct` refuses to pack: IEEE rounding makes it
        # an infinity (as on the generic path); the call runs again with those values
        return self.call(iface, name, rounded)

    # -- resources the plugin exports: the host holds reps, the plugin sees handles --

    def table_new(self, rep: int) -> int:
        handle = self._next_handle
        self._next_handle += 1
        self._table[handle] = rep
        return handle

    def table_rep(self, handle: int) -> int:
        rep = self._table.get(handle)
        if rep is None:
            raise _runtime.PluginTrap(f"unknown resource handle {handle}")
        return rep

    def table_drop(self, handle: int, dtor: str) -> None:
        rep = self._table.pop(handle, None)
        if rep is None:
            raise _runtime.PluginTrap(f"unknown resource handle {handle}")
        func = self._dtors.get(dtor)
        if func is not None:
            func(rep)

    def own_out(self, handle: int) -> int:
        """An own handle returned by the plugin: the host takes the resource (its rep)."""
        rep = self._table.pop(handle, None)
        if rep is None:
            raise trap(f"the plugin returned an unknown resource handle {handle}")
        return rep

    def own_in(self, rep: int) -> int:
        """A resource the host hands back to the plugin (an `own` parameter)."""
        return self.table_new(rep)

    # -- resources the host implements: the plugin holds handles, the host the objects --

    def host_new(self, obj: Any, own: bool) -> int:
        """A handle for a host object handed to the plugin (`own`), or lent for one call."""
        handle = self._next_handle
        self._next_handle += 1
        self._host_objects[handle] = (obj, own)
        if not own:
            self._host_lent.append(handle)
        return handle

    def host_get(self, handle: int) -> Any:
        """The host object behind a handle the plugin passes as `borrow`."""
        entry = self._host_objects.get(handle & 0xFFFFFFFF)
        if entry is None:
            raise trap(f"unknown resource handle {handle & 0xFFFFFFFF}")
        return entry[0]

    def host_take(self, handle: int) -> Any:
        """The host object behind an `own` handle the plugin gives back: the host owns it
        again (it is not closed)."""
        entry = self._host_objects.pop(handle & 0xFFFFFFFF, None)
        if entry is None or not entry[1]:
            raise trap(f"unknown or borrowed resource handle {handle & 0xFFFFFFFF}")
        return entry[0]

    def host_drop(self, handle: int) -> None:
        """`[resource-drop]` of a host resource: an owned object's `close()` runs (if it has
        one); a borrow just ends."""
        entry = self._host_objects.pop(handle & 0xFFFFFFFF, None)
        if entry is None:
            raise trap(f"unknown resource handle {handle & 0xFFFFFFFF}")
        obj, own = entry
        close = getattr(obj, "close", None) if own else None
        if callable(close):
            close()

    def host_end_lends(self) -> None:
        """Forget the borrows lent to the call that just returned."""
        for handle in self._host_lent:
            self._host_objects.pop(handle, None)
        self._host_lent.clear()

    def drop_resource(self, handle: Any, generation: int, dtor: str) -> None:
        """The host drops its resource: the plugin's destructor runs now."""
        store = self._store
        if generation != self.generation or store is None or self._closed:
            return
        func = self._dtors.get(dtor)
        if func is None:
            return
        running = _running.stack
        running.append(self)
        self._ticker.enter(self)
        try:
            func(handle)
        except _CallFailed as exc:
            self._store = None
            raise _runtime.classify(str(exc), store.interrupts.timed_out) from None
        finally:
            self._ticker.leave(self)
            running.pop()

    def close(self) -> None:
        self._closed = True
        self._store = None

    def memory_size(self) -> int:
        """Bytes of linear memory the instance currently holds."""
        assert self._store is not None
        return int(self._size(*self._memory_ref))

    def _memory_full(self, store: Store) -> int | None:
        """The store's memory limit when the memory, after a trap, is close enough to it that
        the guest's last growth was most likely refused by the limiter (within a page or a
        sixteenth of the limit), else None. wasmtime's C API limiter reports no refusal
        itself.
        """
        limit = store.memory_limit
        if limit is None:
            return None
        size = int(self._size(*self._memory_ref))
        return limit if size + max(_PAGE, limit // 16) > limit else None


_PAIR = struct.Struct("<II")
_PAGE = 65536  # a wasm page
_ALLOCATOR_WAT = """
(module
  (import "guest" "cabi_realloc" (func $realloc (param i32 i32 i32 i32) (result i32)))
  (memory (export "scratch") 1)
  ;; scratch holds n (align, size) pairs; the i-th address overwrites slot i (4 bytes each),
  ;; which is never ahead of the pair still to be read.
  (func (export "alloc_many") (param $n i32)
    (local $i i32)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (i32.store (i32.shl (local.get $i) (i32.const 2))
          (call $realloc (i32.const 0) (i32.const 0)
            (i32.load (i32.shl (local.get $i) (i32.const 3)))
            (i32.load offset=4 (i32.shl (local.get $i) (i32.const 3)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next))))
)
"""


def take(cls: Callable[[Any, int], T], handle: int) -> T:
    """Wraps an `own` handle the running plugin returned in its resource class."""
    rt = current()
    return cls(rt, rt.own_out(handle & 0xFFFFFFFF))


def trap(message: str) -> _runtime.PluginTrap:
    return _runtime.PluginTrap(f"the plugin returned an invalid value: {message}")


def text(mem: memoryview, ptr: int, length: int) -> str:
    if ptr + length > len(mem):
        raise trap("string out of bounds")
    try:
        return str(mem[ptr : ptr + length], "utf-8")
    except UnicodeDecodeError:
        raise trap("string is not valid UTF-8") from None


def blob(mem: memoryview, ptr: int, length: int) -> bytes:
    if ptr + length > len(mem):
        raise trap("list out of bounds")
    return bytes(mem[ptr : ptr + length])


def check(mem: memoryview, ptr: int, size: int, align: int) -> None:
    if ptr & (align - 1) or ptr + size > len(mem):
        raise trap("list out of bounds or misaligned")


def char(code: int) -> str:
    if code >= 0x110000 or 0xD800 <= code <= 0xDFFF:
        raise trap(f"{code:#x} is not a Unicode scalar value")
    return chr(code)


def char_code(c: str) -> int:
    """The code point a `char` is lowered as; a lone surrogate is refused before the plugin
    sees it (a guest may take any u32 it gets for a Unicode scalar value)."""
    code = ord(c)
    if 0xD800 <= code <= 0xDFFF:
        raise ValueError(f"{code:#x} is a surrogate, not a Unicode scalar value")
    return code
