"""Running a Rust guest's core module with witgen's canonical-ABI layer as the component runtime.

wasmtime-py compiles components whose types include `map<K, V>` but cannot convert map values
("unknown component value type kind"), so for those the guest's core module (as cargo built it,
before `component new`) runs on its own: `witgen.abi` (checked against wasmtime for every other
type) lowers an export's arguments, serves the imports of one interface (lifting what the guest
lowered, lowering Python's answer), lifts the export's results and calls the post-return
function, as the component runtime would.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import wasmtime

from witgen import ir
from witgen.abi.calls import lift_params, lift_results, lower_params, lower_results
from witgen.abi.codec import AbiContext
from witgen.abi.layout import Layouts
from witgen.abi.memory import WasmtimeMemory
from witgen.abi.signature import core_signature

CORE_TYPES = {
    "i32": wasmtime.ValType.i32(),
    "i64": wasmtime.ValType.i64(),
    "f32": wasmtime.ValType.f32(),
    "f64": wasmtime.ValType.f64(),
}


class CoreGuest:
    """One instance of a core module that imports and exports the interface `iface_id`;
    `impls` answer its imports (one Python function per WIT function, WIT values in and out).
    `seen` records the arguments of every import call, as the guest lowered them."""

    def __init__(
        self,
        core: Path,
        resolve: ir.Resolve,
        iface_id: str,
        impls: dict[str, Callable[..., Any]],
    ) -> None:
        iface = next(
            i for i in range(len(resolve.interfaces)) if resolve.interface_id(i) == iface_id
        )
        self.iface_id = iface_id
        self.functions = dict(resolve.interfaces[iface].functions)
        self.cx = AbiContext(Layouts(resolve))
        self.seen: list[tuple[Any, ...]] = []
        engine = wasmtime.Engine()
        linker = wasmtime.Linker(engine)
        for name, impl in impls.items():
            linker.define_func(iface_id, name, self._core_type(name), self._serve(name, impl))
        self.store = wasmtime.Store(engine)
        instance = linker.instantiate(self.store, wasmtime.Module.from_file(engine, str(core)))
        self.exports = instance.exports(self.store)
        self.memory = WasmtimeMemory.from_instance(self.store, instance)
        self.cx.memory = self.memory

    def _func(self, name: str) -> wasmtime.Func:
        func = self.exports.get(name)
        assert isinstance(func, wasmtime.Func), f"the core module exports no function {name}"
        return func

    def _core_type(self, name: str) -> wasmtime.FuncType:
        sig = core_signature(self.cx.layouts, self.functions[name], "import")
        return wasmtime.FuncType(
            [CORE_TYPES[t] for t in sig.params], [CORE_TYPES[t] for t in sig.results]
        )

    def _serve(self, name: str, impl: Callable[..., Any]) -> Callable[..., Any]:
        func = self.functions[name]

        def host(*core_args: Any) -> Any:
            self.memory.refresh()
            args, retptr = lift_params(self.cx, func, "import", core_args)
            self.seen.append(tuple(args))
            out = lower_results(self.cx, func, "import", impl(*args), retptr)
            return out[0] if out else None

        return host

    def call(self, name: str, *args: Any) -> Any:
        func = self.functions[name]
        self.memory.refresh()
        core_args, _ = lower_params(self.cx, func, "export", list(args))
        core = self._func(f"{self.iface_id}#{name}")(self.store, *core_args)
        self.memory.refresh()
        results = [] if core is None else [core]
        value = lift_results(self.cx, func, "export", results)
        post = f"cabi_post_{self.iface_id}#{name}"
        if post in self.exports:
            self._func(post)(self.store, *results)
        return value

    def memory_pages(self) -> int:
        return int(self.memory.memory.size(self.store))
