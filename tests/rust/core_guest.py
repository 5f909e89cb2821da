"""Running a Rust guest's core module with witgen's canonical-ABI layer as the component runtime.

For what wasmtime-py cannot run at the component level (it cannot convert `map<K, V>` values,
and cannot instantiate components that import or export an interface under a name of its own),
the guest's core module (as cargo built it, before `component new`) runs on its own:
`witgen.abi` (checked against wasmtime for every other type) lowers an export's arguments,
serves the imports (lifting what the guest lowered, lowering Python's answer), lifts the
export's results and calls the post-return function, as the component runtime would.

Resources: the handles of the guest's own (exported) resources live in a table per export
(`[export]<name>` imports `resource-new`/`-rep`/`-drop`; dropping runs the guest's destructor).
Handles are ints both ways, as in `witgen.abi`'s value model.
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


def interface_functions(resolve: ir.Resolve, iface_id: str) -> dict[str, ir.Function]:
    iface = next(i for i in range(len(resolve.interfaces)) if resolve.interface_id(i) == iface_id)
    return dict(resolve.interfaces[iface].functions)


class CoreGuest:
    """One instance of a core module. `imports`: core import module (an interface's id, or the
    name it is imported under) -> (its functions, one Python function per WIT function, WIT
    values in and out). `exports`: export names whose resources the guest implements.
    `seen` records the arguments of every import call, as the guest lowered them."""

    def __init__(
        self,
        core: Path,
        resolve: ir.Resolve,
        imports: dict[str, tuple[dict[str, ir.Function], dict[str, Callable[..., Any]]]],
        exports: dict[str, dict[str, ir.Function]],
    ) -> None:
        self.cx = AbiContext(Layouts(resolve))
        self.seen: list[tuple[Any, ...]] = []
        self.exported = exports
        # export name -> handle -> rep, for the resources the guest implements
        self.tables: dict[str, dict[int, int]] = {name: {} for name in exports}
        engine = wasmtime.Engine()
        linker = wasmtime.Linker(engine)
        i32 = wasmtime.ValType.i32()
        for module, (functions, impls) in imports.items():
            for name, impl in impls.items():
                if name.startswith("[resource-drop]"):  # the guest drops a host resource
                    linker.define_func(module, name, wasmtime.FuncType([i32], []), impl)
                    continue
                func = functions[name]
                linker.define_func(module, name, self._core_type(func), self._serve(func, impl))
        for export in exports:
            for res in self._resources(exports[export]):
                new, rep, drop = (
                    self._resource_op(export, res, op) for op in ("new", "rep", "drop")
                )
                linker.define_func(
                    f"[export]{export}",
                    f"[resource-new]{res}",
                    wasmtime.FuncType([i32], [i32]),
                    new,
                )
                linker.define_func(
                    f"[export]{export}",
                    f"[resource-rep]{res}",
                    wasmtime.FuncType([i32], [i32]),
                    rep,
                )
                linker.define_func(
                    f"[export]{export}", f"[resource-drop]{res}", wasmtime.FuncType([i32], []), drop
                )
        self.store = wasmtime.Store(engine)
        instance = linker.instantiate(self.store, wasmtime.Module.from_file(engine, str(core)))
        self.exports = instance.exports(self.store)
        self.memory = WasmtimeMemory.from_instance(self.store, instance)
        self.cx.memory = self.memory

    @staticmethod
    def _resources(functions: dict[str, ir.Function]) -> set[str]:
        return {n.split("]", 1)[1].split(".", 1)[0] for n in functions if n.startswith("[")}

    def _resource_op(self, export: str, res: str, op: str) -> Callable[..., Any]:
        table = self.tables[export]

        def new(rep: int) -> int:
            handle = len(table) + 1 + max(table, default=0)
            table[handle] = rep
            return handle

        def rep(handle: int) -> int:
            return table[handle]

        def drop(handle: int) -> None:
            self._func(f"{export}#[dtor]{res}")(self.store, table.pop(handle))

        return {"new": new, "rep": rep, "drop": drop}[op]

    def drop(self, export: str, res: str, handle: int) -> None:
        """The host drops its handle of a guest resource: the guest's destructor runs."""
        self._resource_op(export, res, "drop")(handle)

    def rep(self, export: str, handle: int) -> int:
        """What a borrow of the guest's own resource is lowered as when passed to the guest."""
        return self.tables[export][handle]

    def _func(self, name: str) -> wasmtime.Func:
        func = self.exports.get(name)
        assert isinstance(func, wasmtime.Func), f"the core module exports no function {name}"
        return func

    def _core_type(self, func: ir.Function) -> wasmtime.FuncType:
        sig = core_signature(self.cx.layouts, func, "import")
        return wasmtime.FuncType(
            [CORE_TYPES[t] for t in sig.params], [CORE_TYPES[t] for t in sig.results]
        )

    def _serve(self, func: ir.Function, impl: Callable[..., Any]) -> Callable[..., Any]:
        def host(*core_args: Any) -> Any:
            self.memory.refresh()
            args, retptr = lift_params(self.cx, func, "import", core_args)
            self.seen.append(tuple(args))
            out = lower_results(self.cx, func, "import", impl(*args), retptr)
            return out[0] if out else None

        return host

    def call(self, export: str, name: str, *args: Any) -> Any:
        func = self.exported[export][name]
        self.memory.refresh()
        core_args, _ = lower_params(self.cx, func, "export", list(args))
        core = self._func(f"{export}#{name}")(self.store, *core_args)
        self.memory.refresh()
        results = [] if core is None else [core]
        value = lift_results(self.cx, func, "export", results)
        post = f"cabi_post_{export}#{name}"
        if post in self.exports:
            self._func(post)(self.store, *results)
        return value

    def memory_pages(self) -> int:
        return int(self.memory.memory.size(self.store))
