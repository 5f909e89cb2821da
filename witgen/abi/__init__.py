"""The canonical-ABI layer: every fact about how WIT values cross the component boundary.

Backends and templates read these facts; none re-derives them.

- `layout`: size, alignment, flat types (`Layouts`), discriminants, flags, joins.
- `signature`: core signatures of functions per direction (`core_signature`).
- `stream`: HOW values cross, decided once: per type and per function and role, a program of
  abstract instructions (`function_stream`, `TypeStreams`, `post_return_stream`, `render`)
  that every backend spells and `codec` interprets.
- `analysis`: what types contain (`TypeFacts`) and the one world walk (`world_items`,
  `world_functions`, `exported_resources`).
- `plan`: per-function plans, as data for `witgen abi` (`function_plan`, `world_plans`).
- `values`: the Python value model (`Some`, `Ok`, `Err`, `VariantValue`) and errors.
- `codec`: lifting and lowering values (`AbiContext`), `strings`: the three encodings,
  `memory`: linear memories (`BytesMemory`, `WasmtimeMemory`), `calls`: whole functions.
- `probe`: probe components to test all of it against wasmtime; `wasmtime_values`: converting
  to and from wasmtime-py's value model.
"""

from witgen.abi.calls import lift_params, lift_results, lower_params, lower_results
from witgen.abi.codec import AbiContext, TypeCodec
from witgen.abi.layout import (
    MAX_FLAT_ASYNC_PARAMS,
    MAX_FLAT_PARAMS,
    MAX_FLAT_RESULTS,
    CaseShape,
    Layouts,
    TypeLayout,
    align_to,
    discriminant_size,
    flags_word_count,
    join,
)
from witgen.abi.memory import BytesMemory, Memory, WasmtimeMemory
from witgen.abi.plan import FunctionPlan, function_plan, world_plans
from witgen.abi.signature import CoreSignature, MemoryArea, core_signature
from witgen.abi.values import AbiError, AbiTrap, AbiValueError, Err, Ok, Some, VariantValue

__all__ = [
    "MAX_FLAT_ASYNC_PARAMS",
    "MAX_FLAT_PARAMS",
    "MAX_FLAT_RESULTS",
    "AbiContext",
    "AbiError",
    "AbiTrap",
    "AbiValueError",
    "BytesMemory",
    "CaseShape",
    "CoreSignature",
    "Err",
    "FunctionPlan",
    "Layouts",
    "Memory",
    "MemoryArea",
    "Ok",
    "Some",
    "TypeCodec",
    "TypeLayout",
    "VariantValue",
    "WasmtimeMemory",
    "align_to",
    "core_signature",
    "discriminant_size",
    "flags_word_count",
    "function_plan",
    "join",
    "lift_params",
    "lift_results",
    "lower_params",
    "lower_results",
    "world_plans",
]
