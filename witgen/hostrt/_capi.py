"""A ctypes binding of the few wasmtime C API functions the fast path calls.

The wasmtime wheel ships the C API as a shared library inside the `wasmtime` package
(`<platform>-<machine>/_libwasmtime.so`, `.dylib` or `_wasmtime.dll`). Its functions change far
less often than wasmtime-py's private Python modules, so the fast path binds them here, checks
at load that every one of them exists, and owns its whole object graph (engine, store, module,
linker, instance) through them. Everything is declared with plain addresses (`c_void_p`), so a
call does no argument conversion beyond ints.

Structures the C API passes by value are kept in small byte buffers with the layout of
wasmtime's `wasmtime_extern_t` (a kind byte, then the item at offset 8), `wasmtime_func_t`
and `wasmtime_memory_t` (both start with the store id).
"""

from __future__ import annotations

import ctypes
import importlib.metadata
import importlib.util
import platform
import sys
from pathlib import Path
from typing import Any, Callable

TESTED_MAJORS = (50, 51)
"""The wasmtime-py major versions this runtime is tested with (`wasmtime>=50,<52`)."""

P = ctypes.c_void_p
SIZE = ctypes.c_size_t
U64 = ctypes.c_uint64
I64 = ctypes.c_int64
BOOL = ctypes.c_bool
U8 = ctypes.c_uint8

# name -> (result type, argument types); pointers are plain addresses
_FUNCTIONS: dict[str, tuple[Any, list[Any]]] = {
    "wasm_config_new": (P, []),
    "wasmtime_config_consume_fuel_set": (None, [P, BOOL]),
    "wasmtime_config_epoch_interruption_set": (None, [P, BOOL]),
    "wasm_engine_new_with_config": (P, [P]),
    "wasm_engine_delete": (None, [P]),
    "wasmtime_engine_increment_epoch": (None, [P]),
    "wasmtime_store_new": (P, [P, P, P]),
    "wasmtime_store_context": (P, [P]),
    "wasmtime_store_delete": (None, [P]),
    "wasmtime_store_limiter": (None, [P, I64, I64, I64, I64, I64]),
    "wasmtime_store_epoch_deadline_callback": (None, [P, P, P, P]),
    "wasmtime_context_set_fuel": (P, [P, U64]),
    "wasmtime_context_set_epoch_deadline": (None, [P, U64]),
    "wasmtime_context_set_wasi": (P, [P, P]),
    "wasmtime_module_new": (P, [P, P, SIZE, P]),
    "wasmtime_module_serialize": (P, [P, P]),
    "wasmtime_module_deserialize": (P, [P, P, SIZE, P]),
    "wasmtime_module_delete": (None, [P]),
    "wasm_byte_vec_delete": (None, [P]),
    "wasm_valtype_new": (P, [U8]),
    "wasm_valtype_vec_new": (None, [P, SIZE, P]),
    "wasm_functype_new": (P, [P, P]),
    "wasm_functype_delete": (None, [P]),
    "wasmtime_linker_new": (P, [P]),
    "wasmtime_linker_delete": (None, [P]),
    "wasmtime_linker_define_func_unchecked": (P, [P, P, SIZE, P, SIZE, P, P, P, P]),
    "wasmtime_linker_define_wasi": (P, [P]),
    "wasmtime_linker_instantiate_pre": (P, [P, P, P]),
    "wasmtime_instance_pre_instantiate": (P, [P, P, P, P]),
    "wasmtime_instance_pre_delete": (None, [P]),
    "wasmtime_instance_new": (P, [P, P, P, SIZE, P, P]),
    "wasmtime_instance_export_get": (BOOL, [P, P, P, SIZE, P]),
    "wasmtime_memory_data": (P, [P, P]),
    "wasmtime_memory_data_size": (SIZE, [P, P]),
    "wasmtime_memory_grow": (P, [P, P, U64, P]),
    "wasmtime_func_call_unchecked": (P, [P, P, P, SIZE, P]),
    "wasmtime_trap_new": (P, [P, SIZE]),
    "wasm_trap_message": (None, [P, P]),
    "wasm_trap_delete": (None, [P]),
    "wasmtime_error_new": (P, [ctypes.c_char_p]),
    "wasmtime_error_message": (None, [P, P]),
    "wasmtime_error_delete": (None, [P]),
    "wasi_config_new": (P, []),
    "wasi_config_delete": (None, [P]),
    "wasi_config_set_env": (BOOL, [P, SIZE, P, P]),
    "wasi_config_set_argv": (BOOL, [P, SIZE, P]),
    "wasi_config_preopen_dir": (BOOL, [P, ctypes.c_char_p, ctypes.c_char_p, BOOL]),
    "wasi_config_inherit_stdout": (None, [P]),
    "wasi_config_inherit_stderr": (None, [P]),
}

EXTERN_FUNC = 0
EXTERN_MEMORY = 3
EXTERN_SIZE = 32  # sizeof(wasmtime_extern_t); buffers are allocated larger to be safe
ITEM_OFFSET = 8  # offsetof(wasmtime_extern_t, of)
VALKINDS = {"i32": 0, "i64": 1, "f32": 2, "f64": 3}

# The whole address space as one memoryview (nothing is mapped or touched by making it). A
# callback reads and writes the values wasmtime passes by address through it with one
# `struct` call each: `ctypes.string_at` and `ctypes.memmove` are foreign calls costing
# ~0.3 us apiece here, against ~0.06 us for `unpack_from`/`pack_into` on this view. Only
# addresses the C API hands over are ever read or written, with the sizes it documents.
ADDRESS_SPACE = memoryview((ctypes.c_ubyte * sys.maxsize).from_address(0))

# The host-function callback of `wasmtime_linker_define_func_unchecked`:
# (env, caller, args_and_results, count) -> wasm_trap_t* or 0
HOST_CALLBACK = ctypes.CFUNCTYPE(SIZE, P, P, P, SIZE)
# The epoch deadline callback: (context, env, *delta, *update_kind) -> wasmtime_error_t* or 0
EPOCH_CALLBACK = ctypes.CFUNCTYPE(SIZE, P, P, ctypes.POINTER(U64), ctypes.POINTER(U8))


class Unavailable(Exception):
    """The C API cannot be used (library or symbols missing, untested wasmtime version)."""


class Library:
    """The loaded shared library with every function of `_FUNCTIONS` declared."""

    def __init__(self, path: Path) -> None:
        try:
            self.dll = ctypes.CDLL(str(path))
        except OSError as exc:
            raise Unavailable(
                f"cannot load the wasmtime C library {path}: {exc}",
            ) from None
        missing = [name for name in _FUNCTIONS if not hasattr(self.dll, name)]
        if missing:
            raise Unavailable(f"the wasmtime C library lacks {', '.join(missing)}")
        self.fn: dict[str, Any] = {}
        for name, (restype, argtypes) in _FUNCTIONS.items():
            func = getattr(self.dll, name)
            func.restype = restype
            func.argtypes = argtypes
            self.fn[name] = func

    def __getattr__(self, name: str) -> Any:
        try:
            return self.__dict__["fn"][name]
        except KeyError:
            raise AttributeError(name) from None

    def raw(self, name: str, prototype: Any) -> Any:
        """The function `name` as a bare prototype: the fastest way to call it from Python."""
        address = ctypes.cast(getattr(self.dll, name), P).value
        return prototype(address or 0)

    # -- errors and traps --

    def _vec_text(self, fill: Callable[[Any], None]) -> str:
        vec = (SIZE * 2)()  # wasm_byte_vec_t {size, data}
        fill(ctypes.addressof(vec))
        size, data = vec[0], vec[1]
        text = ctypes.string_at(data, size).decode("utf-8", "replace") if data else ""
        self.wasm_byte_vec_delete(ctypes.addressof(vec))
        return text.rstrip("\x00")

    def error_text(self, error: int) -> str:
        """The message of a `wasmtime_error_t`, which is deleted."""
        text = self._vec_text(lambda vec: self.wasmtime_error_message(error, vec))
        self.wasmtime_error_delete(error)
        return text

    def trap_text(self, trap: int) -> str:
        """The message of a `wasm_trap_t`, which is deleted."""
        text = self._vec_text(lambda vec: self.wasm_trap_message(trap, vec))
        self.wasm_trap_delete(trap)
        return text

    def check(self, error: int | None, what: str) -> None:
        """Raises `CError` for a non-null `wasmtime_error_t` returned by `what`."""
        if error:
            raise CError(f"{what}: {self.error_text(error)}")

    def new_trap(self, message: bytes) -> int:
        buf = ctypes.create_string_buffer(message)
        return int(self.wasmtime_trap_new(ctypes.addressof(buf), len(message)) or 0)


class CError(Exception):
    """An error or trap reported by the C API, with wasmtime's message."""


def library_path() -> Path:
    """Where the wasmtime wheel keeps its C library (found through the package's directory)."""
    spec = importlib.util.find_spec("wasmtime")
    if spec is None or not spec.submodule_search_locations:
        raise Unavailable("the wasmtime package is not installed")
    root = Path(list(spec.submodule_search_locations)[0])
    system = sys.platform
    if system.startswith("linux") or hasattr(sys, "getandroidapilevel"):
        system, name = (
            "android" if hasattr(sys, "getandroidapilevel") else "linux"
        ), "_libwasmtime.so"
    elif system == "darwin":
        name = "_libwasmtime.dylib"
    elif system == "win32":
        name = "_wasmtime.dll"
    else:
        raise Unavailable(f"unsupported platform {sys.platform}")
    machine = platform.machine().lower()
    machine = {"amd64": "x86_64", "arm64": "aarch64"}.get(machine, machine)
    path = root / f"{system}-{machine}" / name
    if not path.is_file():
        raise Unavailable(f"the wasmtime package has no C library at {path}")
    return path


def wasmtime_version() -> str:
    try:
        return importlib.metadata.version("wasmtime")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


_loaded: Library | None = None
_failure: str | None = None


def load() -> Library:
    """The C API, loaded once; `Unavailable` (with the reason) when it cannot be used."""
    global _loaded, _failure
    if _loaded is not None:
        return _loaded
    if _failure is not None:
        raise Unavailable(_failure)
    try:
        version = wasmtime_version()
        major = version.split(".")[0]
        if not major.isdigit() or int(major) not in TESTED_MAJORS:
            tested = " and ".join(str(m) for m in TESTED_MAJORS)
            raise Unavailable(
                f"wasmtime {version} is installed; the fast path is tested with wasmtime "
                f"{tested} only",
            )
        _loaded = Library(library_path())
    except Unavailable as exc:
        _failure = str(exc)
        raise
    return _loaded
