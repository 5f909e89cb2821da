"""Linear memories the canonical-ABI layer reads and writes, with `cabi_realloc` semantics.

A `Memory` exposes `buf` (a writable buffer over the whole linear memory, used with
`struct.pack_into`/`unpack_from`) and `realloc(old_ptr, old_size, align, new_size) -> ptr`.
`BytesMemory` is a bytearray with a bump allocator (tests, benchmarks, the reference model);
`WasmtimeMemory` wraps a wasmtime core instance's exported memory and `cabi_realloc`.
"""

from __future__ import annotations

import ctypes
from typing import Any, Callable, Protocol

from witgen.abi.values import AbiTrap

WASM_PAGE = 65536


class Memory(Protocol):
    @property
    def buf(self) -> Any:
        """A writable buffer (bytearray or ctypes array) over all of linear memory."""
        ...

    def realloc(self, old_ptr: int, old_size: int, align: int, new_size: int) -> int:
        """`cabi_realloc`: a block of `new_size` bytes aligned to `align`."""
        ...


class BytesMemory:
    """A bytearray-backed linear memory with a bump allocator.

    Memory grows by whole wasm pages when an allocation needs it, up to `max_size`
    (None: unlimited); freeing is a no-op, like most guest bump allocators.
    """

    def __init__(
        self,
        data: bytes | bytearray | int = WASM_PAGE,
        *,
        heap_start: int = 8,
        max_size: int | None = None,
    ):
        self.buf = bytearray(data)  # an int is a size: that many zero bytes
        self.heap = heap_start
        self.max_size = max_size
        self.allocations: list[tuple[int, int, int]] = []  # (ptr, align, size), in order

    def __len__(self) -> int:
        return len(self.buf)

    def realloc(self, old_ptr: int, old_size: int, align: int, new_size: int) -> int:
        if align <= 0 or align & (align - 1):
            raise AbiTrap(f"cabi_realloc called with alignment {align}, not a power of two")
        ptr = (self.heap + align - 1) & -align
        end = ptr + new_size
        if end > len(self.buf):
            grown = (end + WASM_PAGE - 1) // WASM_PAGE * WASM_PAGE
            if self.max_size is not None and grown > self.max_size:
                raise AbiTrap(f"out of memory: cannot allocate {new_size} bytes")
            self.buf.extend(bytes(grown - len(self.buf)))
        if old_ptr and old_size:
            n = min(old_size, new_size)
            self.buf[ptr : ptr + n] = self.buf[old_ptr : old_ptr + n]
        self.heap = end
        self.allocations.append((ptr, align, new_size))
        return ptr


class WasmtimeMemory:
    """The exported `memory` and `cabi_realloc` of a wasmtime core instance.

    `buf` is a memoryview of the memory; it is refreshed after every `realloc` (which may grow
    memory) and must be refreshed with `refresh()` after running any other wasm code.
    `cabi_realloc` is called through wasmtime's C API with pre-built argument buffers when
    the installed wasmtime-py exposes it (its `Func.__call__` re-reads the function type on
    every call, which costs more than the allocation itself); otherwise through `Func`.
    """

    def __init__(self, store: Any, memory: Any, realloc: Any = None):
        self.store = store
        self.memory = memory
        self.realloc_func = realloc
        self.buf: Any = None
        self._call_realloc: Callable[[int, int, int, int], int] = self._slow_realloc
        if realloc is not None:
            self._call_realloc = _fast_realloc(store, realloc) or self._slow_realloc
        self.refresh()

    @classmethod
    def from_instance(cls, store: Any, instance: Any) -> "WasmtimeMemory":
        exports = instance.exports(store)
        return cls(store, exports["memory"], exports.get("cabi_realloc"))

    def refresh(self) -> None:
        length = self.memory.data_len(self.store)
        address = ctypes.addressof(self.memory.data_ptr(self.store).contents)
        self.buf = memoryview((ctypes.c_ubyte * length).from_address(address)).cast("B")

    def __len__(self) -> int:
        return len(self.buf)

    def _slow_realloc(self, old_ptr: int, old_size: int, align: int, new_size: int) -> int:
        return int(self.realloc_func(self.store, old_ptr, old_size, align, new_size))

    def realloc(self, old_ptr: int, old_size: int, align: int, new_size: int) -> int:
        if self.realloc_func is None:
            raise AbiTrap("the instance exports no cabi_realloc, but the value needs memory")
        ptr = self._call_realloc(old_ptr, old_size, align, new_size) & 0xFFFFFFFF
        if len(self.buf) != self.memory.data_len(self.store):
            self.refresh()
        return ptr


def _fast_realloc(store: Any, func: Any) -> Callable[[int, int, int, int], int] | None:
    """`cabi_realloc` through `wasmtime_func_call` with reused buffers (None if unavailable)."""
    try:
        from wasmtime import _ffi as ffi

        params = (ffi.wasmtime_val_t * 4)()
        results = (ffi.wasmtime_val_t * 1)()
        for p in params:
            p.kind = ffi.WASMTIME_I32.value  # type: ignore[assignment]
        raw = func._func
        call = ffi.wasmtime_func_call
        trap_type = ctypes.POINTER(ffi.wasm_trap_t)
        context = store._context
        byref = ctypes.byref
    except (ImportError, AttributeError):
        return None
    slow = func

    def fast(old_ptr: int, old_size: int, align: int, new_size: int) -> int:
        params[0].of.i32 = old_ptr
        params[1].of.i32 = old_size
        params[2].of.i32 = align
        params[3].of.i32 = new_size
        trap = trap_type()
        error = call(context(), byref(raw), params, 4, results, 1, byref(trap))
        if error or trap:
            # Let wasmtime-py build the proper exception by making the call again.
            return int(slow(store, old_ptr, old_size, align, new_size))
        return int(results[0].of.i32)

    return fast
