"""Core-wasm signatures of component functions (CanonicalABI.md `flatten_functype`).

`export` means the function is lifted out of the guest's core module (`canon lift`): the
guest implements it. `import` means it is lowered into the guest (`canon lower`): the guest
calls it. Every backend reads these facts; none re-derives them.
"""

from __future__ import annotations

from dataclasses import dataclass

from witgen import ir
from witgen.abi.analysis import has_pointers as has_pointers  # its old home: use analysis
from witgen.abi.layout import (
    MAX_FLAT_ASYNC_PARAMS,
    MAX_FLAT_PARAMS,
    MAX_FLAT_RESULTS,
    Layouts,
    align_to,
)

DIRECTIONS = ("import", "export")


@dataclass(frozen=True)
class MemoryArea:
    """A block of linear memory holding values laid out like a record of `types`."""

    types: tuple[ir.Type, ...]
    offsets: tuple[int, ...]
    size: int
    align: int


@dataclass(frozen=True)
class CoreSignature:
    direction: str  # "import" | "export"
    is_async: bool
    params: tuple[str, ...]  # core param types, in order
    results: tuple[str, ...]  # core result types
    # WIT params go through memory: a single i32 pointer to `param_area` replaces them.
    params_indirect: bool
    # WIT result goes through memory: for exports the core function returns a pointer to
    # `result_area` (in memory the guest owns until post-return); for imports the caller passes
    # a pointer to a buffer of `result_area` as the last core param.
    results_indirect: bool
    param_flat: tuple[tuple[str, ...], ...]  # flat types of each WIT param (when direct)
    param_area: MemoryArea | None
    result_area: MemoryArea | None
    # Whether a `cabi_post_<name>` export is needed to free what the result points to.
    needs_post_return: bool


def _area(layouts: Layouts, types: tuple[ir.Type, ...]) -> MemoryArea:
    offsets = layouts.field_offsets(types)
    align = max([1] + [layouts.align(t) for t in types])
    end = offsets[-1] + layouts.size(types[-1]) if types else 0
    return MemoryArea(types, offsets, align_to(end, align), align)


def core_signature(layouts: Layouts, func: ir.Function, direction: str) -> CoreSignature:
    """The core function type of `func` lifted (export) or lowered (import), with its areas."""
    if direction not in DIRECTIONS:
        raise ValueError(f"direction must be one of {DIRECTIONS}, not {direction!r}")
    resolve = layouts.resolve
    param_types = tuple(p.type for p in func.params)
    param_flat = tuple(layouts.flat(t) for t in param_types)
    flat_params = [ft for pf in param_flat for ft in pf]
    result_types = () if func.result is None else (func.result,)
    flat_results = list(layouts.flat(func.result)) if func.result is not None else []

    params_indirect = False
    results_indirect = False
    if not func.is_async:
        if len(flat_params) > MAX_FLAT_PARAMS:
            flat_params, params_indirect = ["i32"], True
        if len(flat_results) > MAX_FLAT_RESULTS:
            results_indirect = True
            if direction == "export":
                flat_results = ["i32"]
            else:
                flat_params = flat_params + ["i32"]
                flat_results = []
    elif direction == "export":
        # Async lift with the callback ABI: results are delivered by `task.return`; the
        # core function returns an i32 status code for the callback loop.
        if len(flat_params) > MAX_FLAT_PARAMS:
            flat_params, params_indirect = ["i32"], True
        flat_results = ["i32"]
    else:
        if len(flat_params) > MAX_FLAT_ASYNC_PARAMS:
            flat_params, params_indirect = ["i32"], True
        if flat_results:
            flat_params = flat_params + ["i32"]
            results_indirect = True
        flat_results = ["i32"]

    needs_post_return = (
        direction == "export"
        and not func.is_async
        and func.result is not None
        and layouts.facts.of(func.result).pointers
    )
    return CoreSignature(
        direction=direction,
        is_async=func.is_async,
        params=tuple(flat_params),
        results=tuple(flat_results),
        params_indirect=params_indirect,
        results_indirect=results_indirect,
        param_flat=param_flat,
        param_area=_area(layouts, param_types) if params_indirect else None,
        result_area=_area(layouts, result_types) if results_indirect else None,
        needs_post_return=needs_post_return,
    )
