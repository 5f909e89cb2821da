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

from dataclasses import dataclass
from typing import Any, Callable, Sequence

from witgen import ir
from witgen.abi.codec import M32, AbiContext
from witgen.abi.signature import CoreSignature, core_signature
from witgen.abi.stream import (
    CallInterface,
    CallWasm,
    Instruction,
    PostReturn,
    Program,
    Return,
    function_stream,
)
from witgen.abi.values import AbiError, AbiTrap, AbiValueError, FlatValue

# (side of the call, direction) -> the stream role: the caller of an export is the host
# calling a guest, the callee of an import is the host serving one, and so on
_ROLES = {
    ("caller", "export"): "host-call",
    ("callee", "export"): "guest-export",
    ("caller", "import"): "guest-import",
    ("callee", "import"): "host-callback",
}


@dataclass(frozen=True)
class _Halves:
    """A function's program split at its call: what runs before it and after it."""

    program: Program
    call: Instruction  # the CallWasm or CallInterface
    before: Callable[..., Any]  # (frame) -> None
    after: Callable[..., Any]
    retptr: int | None  # the variable of a caller's return area (guest-import)
    returned: tuple[int, ...]  # the variables the program returns


def _halves(cx: AbiContext, func: ir.Function, side: str, direction: str) -> _Halves:
    key = ("halves", func, side, direction)
    cached = cx.functions.get(key)
    if cached is None:
        program = function_stream(
            cx.layouts, func, _ROLES[(side, direction)], string_encoding=cx.string_encoding
        )
        body = program.body
        cx.interpreter.index(program)
        at = next(i for i, inst in enumerate(body) if isinstance(inst, (CallWasm, CallInterface)))
        rest = [inst for inst in body[at + 1 :] if not isinstance(inst, (PostReturn, Return))]
        (ret,) = [inst for inst in body if isinstance(inst, Return)]
        sig = core_signature(cx.layouts, func, direction)
        # a caller's return area (guest-import) is the call's last core argument
        has_retptr = side == "caller" and direction == "import" and sig.results_indirect
        cached = _Halves(
            program,
            body[at],
            cx.interpreter.body(body[:at]),
            cx.interpreter.body(rest),
            body[at].args[-1] if has_retptr else None,
            ret.args,
        )
        cx.functions[key] = cached
    assert isinstance(cached, _Halves)
    return cached


def _frame(cx: AbiContext, program: Program) -> Any:
    from witgen.abi.codec import Frame

    return Frame(program.var_count, cx.memory.buf if cx.memory is not None else None)


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
    _sync_signature(cx, func, direction)
    types = _param_types(func)
    if len(args) != len(types):
        raise AbiValueError(f"{func.name} takes {len(types)} arguments, got {len(args)}")
    halves = _halves(cx, func, "caller", direction)
    f = _frame(cx, halves.program)
    for var, value in zip(halves.program.params, args):
        f.r[var] = value
    halves.before(f)
    flat: list[FlatValue] = [f.r[x] for x in halves.call.args]
    return flat, (f.r[halves.retptr] if halves.retptr is not None else None)


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
    core = list(core_args)
    retptr = None
    if direction == "import" and sig.results_indirect:
        retptr = core[-1] = int(core[-1]) & M32
    if sig.params_indirect:
        area = sig.param_area
        assert area is not None
        area_ptr = core[0] = int(core[0]) & M32
        _check_area(cx, area_ptr, area.align, area.size, "parameter area")
    halves = _halves(cx, func, "callee", direction)
    f = _frame(cx, halves.program)
    for var, value in zip(halves.program.params, core):
        f.r[var] = value
    halves.before(f)
    return [f.r[x] for x in halves.call.args], retptr


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
    halves = _halves(cx, func, "callee", direction)
    f = _frame(cx, halves.program)
    if direction == "import" and sig.results_indirect:
        area = sig.result_area
        assert area is not None
        if retptr is None:
            raise AbiValueError(f"{func.name}: an import with an indirect result needs retptr")
        _check_area(cx, retptr, area.align, area.size, "return area")
        f.r[halves.program.params[-1]] = retptr
    f.r[halves.call.out[0]] = result
    halves.after(f)
    return [f.r[x] for x in halves.returned]


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
    halves = _halves(cx, func, "caller", direction)
    f = _frame(cx, halves.program)
    outs = list(core_results)
    if sig.results_indirect:
        area = sig.result_area
        assert area is not None
        if direction == "export":
            ptr = outs[0] = int(outs[0]) & M32
        else:
            if retptr is None:
                raise AbiValueError(f"{func.name}: an import with an indirect result needs retptr")
            ptr = retptr
            assert halves.retptr is not None
            f.r[halves.retptr] = retptr
        _check_area(cx, ptr, area.align, area.size, "return area")
    for var, value in zip(halves.call.out, outs):
        f.r[var] = value
    halves.after(f)
    return f.r[halves.returned[0]]
