"""Per-function ABI plans: the decisions a backend needs to emit glue code, as plain data.

A `FunctionPlan` says, for one function and one direction, which core arguments carry which
WIT parameter (or at which offset of the parameter area it lives), how the result comes back
(flat, returned pointer, retptr argument, or `task.return` for async exports), which
`cabi_realloc` calls the other side makes into the guest's memory, and what the guest frees
afterwards (in `cabi_post_<name>` for exports, after lifting the result for imports).

Backends read these plans and only spell them in their language; nothing here is code text.
Paths name places inside values: `records[*].payload` is the payload list of every element of
the `records` parameter, `return.ok.id` the id string of an `ok` result.
"""

from __future__ import annotations

from dataclasses import dataclass

from witgen import ir
from witgen.abi.analysis import world_functions
from witgen.abi.layout import Layouts
from witgen.abi.signature import CoreSignature, MemoryArea, core_signature
from witgen.abi.strings import string_alignment


@dataclass(frozen=True)
class PointerSite:
    """A string, list or map inside a value: a block of memory behind a (pointer, length)."""

    path: str
    kind: str  # "string" | "list" | "map"
    elem_size: int  # bytes per code unit (strings) or per element
    elem_align: int  # the alignment `cabi_realloc` is called with


@dataclass(frozen=True)
class ParamPlan:
    name: str
    type: ir.Type
    flat: tuple[str, ...]  # this parameter's flat core types
    core_index: int | None  # index of its first core argument; None when params are indirect
    area_offset: int | None  # its offset in the parameter area when params are indirect
    pointers: tuple[PointerSite, ...]


@dataclass(frozen=True)
class ResultPlan:
    type: ir.Type | None
    flat: tuple[str, ...]  # the result's flat core types (before the MAX_FLAT_RESULTS rule)
    # "none", "flat" (core results), "returned-pointer" (export returns a pointer to the return
    # area), "retptr" (import: the caller passes the return area as the last core argument),
    # "task-return" (async export: delivered through task.return)
    via: str
    area: MemoryArea | None
    retptr_index: int | None  # core argument index of the retptr
    pointers: tuple[PointerSite, ...]


@dataclass(frozen=True)
class Allocation:
    """A `cabi_realloc` call the other side makes into the guest's memory during one call."""

    purpose: str  # "parameter-area" | "string" | "list" | "map"
    path: str
    align: int
    size: int | None  # bytes for an area; bytes per element/code unit for strings and lists


@dataclass(frozen=True)
class FunctionPlan:
    interface: str | None  # "ns:pkg/iface@1.0.0", or None for a world-level function
    function: str  # as wit-parser names it: "f", "[method]r.m"...
    direction: str  # "import" | "export"
    string_encoding: str
    signature: CoreSignature
    params: tuple[ParamPlan, ...]
    param_area: MemoryArea | None
    result: ResultPlan
    allocations: tuple[Allocation, ...]
    # What the guest frees after the call: in `cabi_post_<name>` for an export (memory its
    # result points to), or after lifting the result for an import (memory the host allocated).
    guest_frees: tuple[PointerSite, ...]
    post_return: bool  # whether a `cabi_post_<name>` export is needed


def pointer_sites(
    layouts: Layouts, ty: ir.Type, path: str, string_encoding: str = "utf8"
) -> tuple[PointerSite, ...]:
    """Every string/list/map reachable in a value of `ty`, outermost first."""
    resolve = layouts.resolve
    out: list[PointerSite] = []

    def walk(t: ir.Type, p: str) -> None:
        if not layouts.facts.of(t).pointers:  # the shared analysis says nothing is inside
            return
        t = resolve.dealias(t)
        if isinstance(t, str):
            if t == "string":
                unit = string_alignment(string_encoding)
                out.append(PointerSite(p, "string", unit, unit))
            return
        kind = resolve.types[t].kind
        if isinstance(kind, ir.List):
            out.append(PointerSite(p, "list", layouts.size(kind.type), layouts.align(kind.type)))
            walk(kind.type, f"{p}[*]")
        elif isinstance(kind, ir.Map):
            pair = (kind.key, kind.value)
            offsets = layouts.field_offsets(pair)
            align = max(layouts.align(kind.key), layouts.align(kind.value))
            end = offsets[1] + layouts.size(kind.value)
            out.append(PointerSite(p, "map", (end + align - 1) // align * align, align))
            walk(kind.key, f"{p}[*].key")
            walk(kind.value, f"{p}[*].value")
        elif isinstance(kind, ir.FixedLengthList):
            walk(kind.type, f"{p}[*]")
        elif isinstance(kind, ir.Record):
            for f in kind.fields:
                walk(f.type, f"{p}.{f.name}")
        elif isinstance(kind, ir.Tuple):
            for i, e in enumerate(kind.types):
                walk(e, f"{p}.{i}")
        elif isinstance(kind, ir.Variant):
            for c in kind.cases:
                if c.type is not None:
                    walk(c.type, f"{p}.{c.name}")
        elif isinstance(kind, ir.Option):
            walk(kind.type, f"{p}.some")
        elif isinstance(kind, ir.Result):
            if kind.ok is not None:
                walk(kind.ok, f"{p}.ok")
            if kind.err is not None:
                walk(kind.err, f"{p}.err")

    walk(ty, path)
    return tuple(out)


def _allocations(sites: tuple[PointerSite, ...]) -> list[Allocation]:
    return [Allocation(s.kind, s.path, s.elem_align, s.elem_size) for s in sites]


def function_plan(
    layouts: Layouts,
    func: ir.Function,
    direction: str,
    *,
    interface: str | None = None,
    string_encoding: str = "utf8",
) -> FunctionPlan:
    """The ABI plan of `func` lifted out of the guest (export) or lowered into it (import)."""
    sig = core_signature(layouts, func, direction)
    params: list[ParamPlan] = []
    param_sites: list[PointerSite] = []
    core_index = 0
    offsets = sig.param_area.offsets if sig.param_area is not None else ()
    for i, p in enumerate(func.params):
        sites = pointer_sites(layouts, p.type, p.name, string_encoding)
        param_sites.extend(sites)
        flat = sig.param_flat[i]
        params.append(
            ParamPlan(
                name=p.name,
                type=p.type,
                flat=flat,
                core_index=None if sig.params_indirect else core_index,
                area_offset=offsets[i] if sig.params_indirect else None,
                pointers=sites,
            )
        )
        core_index += len(flat)

    result_sites: tuple[PointerSite, ...] = ()
    if func.result is not None:
        result_sites = pointer_sites(layouts, func.result, "return", string_encoding)
    if func.result is None:
        via = "none"
    elif func.is_async and direction == "export":
        via = "task-return"
    elif sig.results_indirect:
        via = "returned-pointer" if direction == "export" else "retptr"
    else:
        via = "flat"
    result = ResultPlan(
        type=func.result,
        flat=layouts.flat(func.result) if func.result is not None else (),
        via=via,
        area=sig.result_area,
        retptr_index=len(sig.params) - 1 if via == "retptr" else None,
        pointers=result_sites,
    )

    allocations: list[Allocation] = []
    if direction == "export":
        # The host lowers the arguments into the guest's memory with its cabi_realloc.
        if sig.params_indirect and sig.param_area is not None:
            area = sig.param_area
            allocations.append(Allocation("parameter-area", "params", area.align, area.size))
        allocations.extend(_allocations(tuple(param_sites)))
        guest_frees = result_sites if not func.is_async else ()
    else:
        # The host lowers the result into the guest's memory; the guest owns it afterwards.
        allocations.extend(_allocations(result_sites))
        guest_frees = result_sites
    return FunctionPlan(
        interface=interface,
        function=func.name,
        direction=direction,
        string_encoding=string_encoding,
        signature=sig,
        params=tuple(params),
        param_area=sig.param_area,
        result=result,
        allocations=tuple(allocations),
        guest_frees=tuple(guest_frees),
        post_return=sig.needs_post_return,
    )


def world_plans(
    layouts: Layouts, world: int, string_encoding: str = "utf8"
) -> tuple[FunctionPlan, ...]:
    """Plans of every function a world imports or exports (world-level and in interfaces)."""
    resolve = layouts.resolve
    return tuple(
        function_plan(
            layouts,
            item.function,
            item.direction,
            interface=None if item.interface is None else resolve.interface_id(item.interface),
            string_encoding=string_encoding,
        )
        for item in world_functions(resolve, world)
    )
