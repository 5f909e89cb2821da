"""Our lifting and lowering agree with wasmtime's, in both directions, on random types and values.

Hypothesis draws a signature (1-3 parameters and a result of random WIT types: nested records,
variants with mixed payloads, options of options, results with and without payloads, lists of
records, strings with non-ASCII and astral characters, flags, enums, chars, floats with NaN) and
a string encoding, then a value for each. A probe component generated from the IR
(`witgen.abi.probe`) runs in wasmtime:

- wasmtime lowers, we lift: wasmtime lowers the arguments into the exported `take` and the
  host's result of the imported `source`; our `lift_params`/`lift_results` must reproduce them
  from the raw core values and memory.
- we lower, wasmtime lifts: our `lower_results` builds `make`'s core results and memory image
  and our `lower_params` the core arguments of the imported `sink`; wasmtime must lift the
  same values.

Compiled probes are cached by their WAT text (identical text means identical types).
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

import wasmtime
from hypothesis import assume, event, given
from hypothesis import strategies as st

from witgen import ir
from witgen.abi.calls import lift_params, lift_results, lower_params, lower_results
from witgen.abi.codec import AbiContext
from witgen.abi.layout import Layouts
from witgen.abi.probe import ProbeRunner, ProbeSpec, generate_probe
from witgen.abi.strings import ENCODINGS
from witgen.abi.wasmtime_values import Unrepresentable, WasmtimeValues

from abi_strategies import (
    Arena,
    draw_joined_variant,
    draw_type,
    draw_wide_record,
    same,
    values,
)

ENGINE = wasmtime.Engine()
# Compiled probes by WAT text, least recently used first; bounded so that long `thorough` runs
# do not keep thousands of instances (and their memories) alive.
_RUNNERS: OrderedDict[str, ProbeRunner] = OrderedDict()
_MAX_RUNNERS = 128


def _runner(spec: ProbeSpec, layouts: Layouts) -> ProbeRunner:
    runner = _RUNNERS.get(spec.wat)
    if runner is None:
        event("probe compiled")
        runner = ProbeRunner(spec, layouts, ENGINE)
        _RUNNERS[spec.wat] = runner
        if len(_RUNNERS) > _MAX_RUNNERS:
            _RUNNERS.popitem(last=False)
    else:
        event("probe reused from the cache")
        _RUNNERS.move_to_end(spec.wat)
    return runner


def _draw_case(data: Any) -> tuple[ir.Resolve, Layouts, ProbeSpec, tuple[Any, ...], Any]:
    arena = Arena()
    n = data.draw(st.integers(1, 3), label="parameter count")
    shape = data.draw(st.sampled_from(["random", "random", "joined-variants", "wide"]))
    event(f"signature shape: {shape}")
    if shape == "joined-variants":
        params = tuple(draw_joined_variant(data, arena) for _ in range(n))
        result = draw_joined_variant(data, arena)
    elif shape == "wide":
        params = tuple(draw_wide_record(data, arena) for _ in range(n))
        result = draw_type(data, arena)
    else:
        params = tuple(draw_type(data, arena) for _ in range(n))
        result = draw_type(data, arena)
    resolve = arena.resolve()
    layouts = Layouts(resolve)
    encoding = data.draw(st.sampled_from(ENCODINGS), label="string encoding")
    spec = generate_probe(layouts, params, result, encoding)
    args = tuple(data.draw(values(resolve, t), label=f"p{i}") for i, t in enumerate(params))
    ret = data.draw(values(resolve, result), label="result")
    flat_params = sum(len(layouts.flat(t)) for t in params)
    event(f"flat params {'> 16 (indirect)' if flat_params > 16 else '<= 16'}")
    event(f"flat results {'> 1 (indirect)' if len(layouts.flat(result)) > 1 else '1'}")
    return resolve, layouts, spec, args, ret


def _to_wasmtime(conv: WasmtimeValues, value: Any, ty: ir.Type) -> Any:
    try:
        return conv.to_wasmtime(value, ty)
    except Unrepresentable:
        event("value not representable in wasmtime-py (skipped)")
        assume(False)


@given(st.data())
def test_wasmtime_lowers_and_we_lift(data: Any) -> None:
    resolve, layouts, spec, args, ret = _draw_case(data)
    conv = WasmtimeValues(resolve)
    wargs = tuple(_to_wasmtime(conv, a, t) for a, t in zip(args, spec.params))
    wret = _to_wasmtime(conv, ret, spec.result)
    runner = _runner(spec, layouts)

    core_args, memory = runner.runtime_lowers_params(wargs)
    cx = AbiContext(layouts, memory, spec.string_encoding)
    lifted, _ = lift_params(cx, spec.take, "export", core_args)
    assert same(tuple(lifted), args), (lifted, args)

    core_results, retptr, memory = runner.runtime_lowers_result(wret)
    cx = AbiContext(layouts, memory, spec.string_encoding)
    lifted_result = lift_results(cx, spec.source, "import", core_results, retptr)
    assert same(lifted_result, ret), (lifted_result, ret)


@given(st.data())
def test_we_lower_and_wasmtime_lifts(data: Any) -> None:
    resolve, layouts, spec, args, ret = _draw_case(data)
    conv = WasmtimeValues(resolve)
    _to_wasmtime(conv, ret, spec.result)  # skip values wasmtime-py cannot express
    for a, t in zip(args, spec.params):
        _to_wasmtime(conv, a, t)
    runner = _runner(spec, layouts)

    memory = runner.image_memory()
    cx = AbiContext(layouts, memory, spec.string_encoding)
    core_results = lower_results(cx, spec.make, "export", ret)
    got = conv.from_wasmtime(runner.runtime_lifts_result(memory, core_results), spec.result)
    assert same(got, ret), (got, ret)

    memory = runner.image_memory()
    cx = AbiContext(layouts, memory, spec.string_encoding)
    core_args, retptr = lower_params(cx, spec.sink, "import", args)
    assert retptr is None
    received = runner.runtime_lifts_params(memory, core_args)
    got_args = tuple(conv.from_wasmtime(v, t) for v, t in zip(received, spec.params))
    assert same(got_args, args), (got_args, args)
