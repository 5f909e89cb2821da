"""Linear memories the canonical-ABI layer reads and writes, with `cabi_realloc` semantics.

A `Memory` exposes `buf` (a writable buffer over the whole linear memory, used with
`struct.pack_into`/`unpack_from`) and `realloc(old_ptr, old_size, align, new_size) -> ptr`.
`BytesMemory` is a bytearray with a bump allocator (tests, benchmarks, the reference model);
`WasmtimeMemory` wraps a wasmtime core instance's exported memory and `cabi_realloc`.
"""

from __future__ import annotations

import ctypes
from typing import Any, Protocol

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
        self.buf = bytearray(data) if not isinstance(data, int) else bytearray(data)
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

    `buf` is a ctypes view of the memory; it is refreshed after every `realloc` (which may grow
    memory) and must be refreshed with `refresh()` after running any other wasm code.
    """

    def __init__(self, store: Any, memory: Any, realloc: Any = None):
        self.store = store
        self.memory = memory
        self.realloc_func = realloc
        self.buf: Any = None
        self.refresh()

    @classmethod
    def from_instance(cls, store: Any, instance: Any) -> "WasmtimeMemory":
        exports = instance.exports(store)
        return cls(store, exports["memory"], exports.get("cabi_realloc"))

    def refresh(self) -> None:
        length = self.memory.data_len(self.store)
        address = ctypes.addressof(self.memory.data_ptr(self.store).contents)
        self.buf = (ctypes.c_ubyte * length).from_address(address)

    def __len__(self) -> int:
        return len(self.buf)

    def realloc(self, old_ptr: int, old_size: int, align: int, new_size: int) -> int:
        if self.realloc_func is None:
            raise AbiTrap("the instance exports no cabi_realloc, but the value needs memory")
        ptr = int(self.realloc_func(self.store, old_ptr, old_size, align, new_size)) & 0xFFFFFFFF
        self.refresh()
        return ptr
