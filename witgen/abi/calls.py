"""Whole-function lifting and lowering: WIT parameters and results <-> core arguments.

These follow the function's `CoreSignature` (CanonicalABI.md `lower_flat_values` /
`lift_flat_values` as used by `canon lift` and `canon lower`): when the flat values exceed the
limits they travel through memory, as a parameter area (`cabi_realloc`ed by whoever lowers
them) or a return area (returned as a pointer by an export; passed in as the last core argument,
the "retptr", to an import).

Who calls what, for a function with direction `export` (the guest implements it, `canon lift`):
  caller (host):  `lower_params` -> call the core function -> `lift_results` -> post-return
  callee (guest): `lift_params` ... `lower_results`
and for direction `import` (the host implements it, `canon lower`):
  caller (guest): `lower_params` (allocates the return area, returns the retptr) -> call ->
                  `lift_results(retptr=...)`
  callee (host):  `lift_params` (returns the retptr) ... `lower_results(retptr=...)`

Only synchronous functions are supported here; async ones raise `AbiError`.
"""

from __future__ import annotations

from typing import Any, Sequence

from witgen import ir
from witgen.abi.codec import M32, AbiContext
from witgen.abi.signature import CoreSignature, core_signature
from witgen.abi.values import AbiError, AbiTrap, AbiValueError, FlatValue


def _sync_signature(cx: AbiContext, func: ir.Function, direction: str) -> CoreSignature:
    if func.is_async:
        raise AbiError(f"{func.name}: async functions are lifted/lowered with task.return")
    return core_signature(cx.layouts, func, direction)


def _param_types(func: ir.Function) -> tuple[ir.Type, ...]:
    return tuple(p.type for p in func.params)


def _check_area(cx: AbiContext, ptr: int, align: int, size: int, what: str) -> None:
    if ptr & (align - 1):
        raise AbiTrap(f"{what} pointer {ptr:#x} is not aligned to {align}")
    if ptr + size > len(cx._buf()):
        raise AbiTrap(f"{what} at {ptr:#x} of {size} bytes is out of bounds")


def lower_params(
    cx: AbiContext, func: ir.Function, direction: str, args: Sequence[Any]
) -> tuple[list[FlatValue], int | None]:
    """The core arguments for calling `func`'s core function with `args`.

    Returns (core args, retptr): for an import whose result goes through memory, a return area
    is allocated with `cabi_realloc`, appended as the last core argument and returned as retptr.
    """
    sig = _sync_signature(cx, func, direction)
    types = _param_types(func)
    if len(args) != len(types):
        raise AbiValueError(f"{func.name} takes {len(types)} arguments, got {len(args)}")
    if sig.params_indirect:
        area = sig.param_area
        assert area is not None
        ptr = cx._alloc(area.align, area.size, "the parameter area")
        cx.store_tuple(args, types, ptr)
        flat: list[FlatValue] = [ptr]
    else:
        flat = []
        for value, ty in zip(args, types):
            cx.codec(ty).lower(value, flat)
    retptr = None
    if direction == "import" and sig.results_indirect:
        area = sig.result_area
        assert area is not None
        retptr = cx._alloc(area.align, area.size, "the return area")
        flat.append(retptr)
    return flat, retptr


def lift_params(
    cx: AbiContext, func: ir.Function, direction: str, core_args: Sequence[FlatValue]
) -> tuple[list[Any], int | None]:
    """The WIT arguments from a core function's arguments; also the retptr of an import."""
    sig = _sync_signature(cx, func, direction)
    if len(core_args) != len(sig.params):
        raise AbiValueError(
            f"{func.name} ({direction}) takes {len(sig.params)} core arguments, "
            f"got {len(core_args)}"
        )
    types = _param_types(func)
    retptr = None
    if direction == "import" and sig.results_indirect:
        retptr = int(core_args[-1]) & M32
        core_args = core_args[:-1]
    if sig.params_indirect:
        area = sig.param_area
        assert area is not None
        ptr = int(core_args[0]) & M32
        _check_area(cx, ptr, area.align, area.size, "parameter area")
        return list(cx.load_tuple(types, ptr)), retptr
    values = []
    pos = 0
    for ty in types:
        codec = cx.codec(ty)
        values.append(codec.lift(core_args, pos))
        pos += len(codec.flat_types)
    return values, retptr


def lower_results(
    cx: AbiContext,
    func: ir.Function,
    direction: str,
    result: Any,
    retptr: int | None = None,
) -> list[FlatValue]:
    """The core results for returning `result` (None when the function has no result).

    An export whose result goes through memory gets a `cabi_realloc`ed return area and returns
    its pointer; an import stores the result at `retptr` and returns no core results.
    """
    sig = _sync_signature(cx, func, direction)
    if func.result is None:
        if result is not None:
            raise AbiValueError(f"{func.name} returns nothing, but a result was given")
        return []
    if not sig.results_indirect:
        return cx.lower_flat(result, func.result)
    area = sig.result_area
    assert area is not None
    if direction == "export":
        ptr = cx._alloc(area.align, area.size, "the return area")
        cx.store(result, func.result, ptr)
        return [ptr]
    if retptr is None:
        raise AbiValueError(f"{func.name}: an import with an indirect result needs retptr")
    _check_area(cx, retptr, area.align, area.size, "return area")
    cx.store(result, func.result, retptr)
    return []


def lift_results(
    cx: AbiContext,
    func: ir.Function,
    direction: str,
    core_results: Sequence[FlatValue],
    retptr: int | None = None,
) -> Any:
    """The WIT result from a core function's results (or from `retptr` for an import)."""
    sig = _sync_signature(cx, func, direction)
    if len(core_results) != len(sig.results):
        raise AbiValueError(
            f"{func.name} ({direction}) returns {len(sig.results)} core values, "
            f"got {len(core_results)}"
        )
    if func.result is None:
        return None
    if not sig.results_indirect:
        return cx.lift_flat(core_results, func.result)
    area = sig.result_area
    assert area is not None
    if direction == "export":
        ptr = int(core_results[0]) & M32
    else:
        if retptr is None:
            raise AbiValueError(f"{func.name}: an import with an indirect result needs retptr")
        ptr = retptr
    _check_area(cx, ptr, area.align, area.size, "return area")
    return cx.load(func.result, ptr)
