"""Function plans on the DataFlare contract, `witgen abi` (text and JSON contract), and the
wasmtime-backed memory."""

from __future__ import annotations

import json
from typing import Any

import pytest
import wasmtime

from witgen import cli, frontend, ir
from witgen.abi import Layouts
from witgen.abi.calls import lift_params, lower_params, lower_results
from witgen.abi.codec import AbiContext
from witgen.abi.memory import WasmtimeMemory
from witgen.abi.plan import function_plan, world_plans
from witgen.abi.values import Some

from conftest import require_tool


@pytest.fixture(scope="module")
def resolve() -> ir.Resolve:
    require_tool("wasm-tools")  # the front end delegates to it until the native one lands
    return frontend.load()


def _iface(resolve: ir.Resolve, name: str) -> int:
    return next(i for i, it in enumerate(resolve.interfaces) if it.name == name)


def test_plan_of_an_export_with_lists_of_records(resolve: ir.Resolve) -> None:
    layouts = Layouts(resolve)
    proc = resolve.interfaces[_iface(resolve, "processor")]
    plan = function_plan(layouts, proc.functions["process-batch"], "export")
    (param,) = plan.params
    assert (param.name, param.flat, param.core_index, param.area_offset) == (
        "records",
        ("i32", "i32"),
        0,
        None,
    )
    # The host allocates every list and string of the argument in the guest's memory.
    assert [(a.purpose, a.path, a.align, a.size) for a in plan.allocations] == [
        ("list", "records", 8, 32),
        ("string", "records[*].id", 1, 1),
        ("list", "records[*].payload", 1, 1),
        ("list", "records[*].metadata", 4, 16),
        ("string", "records[*].metadata[*].0", 1, 1),
        ("string", "records[*].metadata[*].1", 1, 1),
    ]
    assert plan.result.via == "returned-pointer"
    assert plan.result.area is not None and plan.result.area.size == 8
    assert plan.post_return
    assert "return[*].emit.id" in [s.path for s in plan.guest_frees]


def test_plan_of_an_import_with_a_retptr(resolve: ir.Resolve) -> None:
    layouts = Layouts(resolve)
    config = resolve.interfaces[_iface(resolve, "config")]
    plan = function_plan(layouts, config.functions["get"], "import", string_encoding="utf16")
    assert plan.signature.params == ("i32", "i32", "i32")
    assert (plan.result.via, plan.result.retptr_index) == ("retptr", 2)
    assert [(a.path, a.align) for a in plan.allocations] == [("return.some", 2)]
    assert not plan.post_return


def test_world_plans_cover_every_function(resolve: ir.Resolve) -> None:
    layouts = Layouts(resolve)
    world = resolve.find_world("aggregator-plugin")
    plans = world_plans(layouts, world)
    names = {(p.interface, p.function, p.direction) for p in plans}
    assert ("dataflare:core/logging@1.0.0", "log", "import") in names
    assert ("dataflare:core/aggregator@1.0.0", "[static]accumulator.merge", "export") in names
    assert len(plans) == 2 + 2 + 3 + 7  # logging, metrics, config, aggregator


def test_abi_json_contract(resolve: ir.Resolve, capsys: Any) -> None:
    assert cli.main(["abi", "--world", "dataflare:core/source-plugin", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert set(doc) == {"world", "types", "functions"}
    assert doc["world"] == "source-plugin"
    record = {
        "interface": "dataflare:core/types@1.0.0",
        "name": "data-record",
        "size": 32,
        "align": 8,
        "flat": ["i32", "i32", "i64", "i32", "i32", "i32", "i32"],
    }
    assert record in doc["types"]
    assert all(t["name"] != "cursor" for t in doc["types"])  # resources aside
    assert {
        "interface": "dataflare:core/source@1.0.0",
        "name": "[method]cursor.read-batch",
        "direction": "export",
        "async": False,
        "params": ["i32", "i32"],
        "results": ["i32"],
    } in doc["functions"]
    assert {
        "interface": "dataflare:core/config@1.0.0",
        "name": "get",
        "direction": "import",
        "async": False,
        "params": ["i32", "i32", "i32"],
        "results": [],
    } in doc["functions"]


def test_abi_text_and_errors(resolve: ir.Resolve, capsys: Any) -> None:
    assert cli.main(["abi", "--world", "filter-plugin"]) == 0
    out = capsys.readouterr().out
    assert "data-record" in out and "size  32  align 8" in out
    assert "keep-batch" in out and "post-return" in out
    assert cli.main(["abi"]) == 2  # several worlds: the user must pick one
    assert "pick one with --world" in capsys.readouterr().err
    assert cli.main(["abi", "--world", "nope"]) == 2
    assert "no world named `nope`" in capsys.readouterr().err


GUEST = """
(module
  (memory (export "memory") 1)
  (global $heap (mut i32) (i32.const 1024))
  (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32)
    (local $p i32)
    (local.set $p (i32.and (i32.add (global.get $heap) (i32.sub (local.get 2) (i32.const 1)))
                           (i32.sub (i32.const 0) (local.get 2))))
    (global.set $heap (i32.add (local.get $p) (local.get 3)))
    (if (i32.gt_u (global.get $heap) (i32.mul (memory.size) (i32.const 65536)))
      (then (drop (memory.grow (i32.const 4)))))
    (local.get $p)))
"""


def test_wasmtime_memory_lowers_through_the_guests_realloc(resolve: ir.Resolve) -> None:
    engine = wasmtime.Engine()
    store = wasmtime.Store(engine)
    instance = wasmtime.Instance(store, wasmtime.Module(engine, GUEST), [])
    memory = WasmtimeMemory.from_instance(store, instance)
    layouts = Layouts(resolve)
    config = resolve.interfaces[_iface(resolve, "config")]
    get = config.functions["get"]
    cx = AbiContext(layouts, memory)
    # As the guest calling the import: arguments in, a return area out.
    core_args, retptr = lower_params(cx, get, "import", ["k" * 100_000])
    assert retptr is not None and memory.buf is not None and len(memory) > 65536  # it grew
    (key,), got_retptr = lift_params(cx, get, "import", core_args)
    assert key == "k" * 100_000 and got_retptr == retptr
    # As the host answering it: the result is stored at the retptr.
    assert lower_results(cx, get, "import", Some("värde"), retptr) == []
    assert cx.load(get.result, retptr) == Some("värde")
