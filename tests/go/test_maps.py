"""WIT `map<K, V>` as Go maps, with a Go guest (tests/go/maps_guest) over an interface that it
both imports and exports (maps as parameters, results and record fields; each export calls the
import of the same name).

The guest is built into a component that `wasm-tools component new` checks against the WIT and
wasmtime compiles (with its map feature on). Values are checked on the guest's core module:
wasmtime-py 50 compiles components with maps but cannot convert map values ("unknown component
value type kind"), so witgen's own canonical-ABI layer plays the component runtime there.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import pytest
import wasmtime
from hypothesis import given, settings
from hypothesis import strategies as st

from go.conftest import CACHE, build_component, generate_sdk, go_env, run
from witgen.abi.calls import lift_params, lift_results, lower_params, lower_results
from witgen.abi.codec import AbiContext
from witgen.abi.layout import Layouts
from witgen.abi.memory import WasmtimeMemory
from witgen.abi.signature import core_signature
from witgen.frontend import load

HERE = Path(__file__).parent
WIT = HERE / "maps.wit"
IFACE = "witgen:maps/maps"


def test_guest_with_maps_builds_into_a_valid_component(
    adapter: Path, wasm_tools: str, go: str
) -> None:
    config = wasmtime.Config()
    config.wasm_component_model_map = True
    engine = wasmtime.Engine(config)
    sdk = CACHE / "maps-sdk"
    generate_sdk(WIT, sdk, "witgen/maps")
    run([go, "vet", "./..."], cwd=sdk, env=go_env())
    component = build_component(
        engine,
        name="maps",
        guest=HERE / "maps_guest",
        sdk=sdk,
        wit=WIT,
        world="maps-guest",
        adapter=adapter,
        wasm_tools=wasm_tools,
        go=go,
    )
    assert IFACE in component.type.exports(engine)
    assert IFACE in component.type.imports(engine)
    text = (sdk / "maps" / "maps.go").read_text()
    assert "\tCounts map[string]uint32\n" in text
    assert "func Pass(m map[string]uint32) map[string]uint32 {" in text
    assert "\tGroup(m map[uint32][]string) Tally\n" in text


# -- values, through the core module --
#
# wasmtime-py cannot convert map values at the component level, so the Go guest's core module
# runs on its own, with witgen's canonical-ABI layer (witgen.abi, checked against wasmtime for
# every other type) playing the component runtime: it lowers the export's arguments, serves the
# imports (lifting what Go lowered, lowering the host's answer) and lifts the export's results.


class CoreGuest:
    def __init__(self, core: Path) -> None:
        resolve = load(WIT)
        iface = next(i for i in resolve.interfaces if i.name == "maps")
        self.functions = dict(iface.functions)
        self.cx = AbiContext(Layouts(resolve))
        self.seen: list[Any] = []
        engine = wasmtime.Engine()
        linker = wasmtime.Linker(engine)
        linker.define_wasi()
        for name, impl in (("pass", self._pass), ("group", self._group)):
            linker.define_func(IFACE, name, self._core_type(name), self._serve(name, impl))
        self.store = wasmtime.Store(engine)
        self.store.set_wasi(wasmtime.WasiConfig())
        module = wasmtime.Module.from_file(engine, str(core))
        self.instance = linker.instantiate(self.store, module)
        self.exports = self.instance.exports(self.store)
        self.cx.memory = WasmtimeMemory.from_instance(self.store, self.instance)
        self.exports["_initialize"](self.store)

    def _core_type(self, name: str) -> wasmtime.FuncType:
        sig = core_signature(self.cx.layouts, self.functions[name], "import")
        kinds = {"i32": wasmtime.ValType.i32(), "i64": wasmtime.ValType.i64()}
        return wasmtime.FuncType([kinds[t] for t in sig.params], [kinds[t] for t in sig.results])

    def _serve(self, name: str, impl: Callable[[Any], Any]) -> Callable[..., Any]:
        func = self.functions[name]

        def host(*core_args: Any) -> Any:
            assert isinstance(self.cx.memory, WasmtimeMemory)
            self.cx.memory.refresh()
            (arg,), retptr = lift_params(self.cx, func, "import", core_args)
            self.seen.append(arg)
            out = lower_results(self.cx, func, "import", impl(arg), retptr)
            return out[0] if out else None

        return host

    @staticmethod
    def _pass(m: dict[str, int]) -> dict[str, int]:
        return m

    @staticmethod
    def _group(m: dict[int, list[str]]) -> dict[str, Any]:
        counts = {str(k): len(v) for k, v in m.items()}
        return {"counts": counts, "total": sum(counts.values())}

    def call(self, name: str, arg: Any) -> Any:
        func = self.functions[name]
        assert isinstance(self.cx.memory, WasmtimeMemory)
        self.cx.memory.refresh()
        core_args, _ = lower_params(self.cx, func, "export", [arg])
        core = self.exports[f"{IFACE}#{name}"](self.store, *core_args)
        self.cx.memory.refresh()
        result = lift_results(self.cx, func, "export", [core])
        self.exports[f"cabi_post_{IFACE}#{name}"](self.store, core)
        return result


@pytest.fixture(scope="module")
def core_guest(go: str, tmp_path_factory: pytest.TempPathFactory) -> CoreGuest:
    sdk = CACHE / "maps-sdk"
    generate_sdk(WIT, sdk, "witgen/maps")
    core = tmp_path_factory.mktemp("maps") / "maps.wasm"
    run(
        [go, "build", "-buildmode=c-shared", "-ldflags=-checklinkname=0", "-o", str(core), "."],
        cwd=HERE / "maps_guest",
        env=go_env(),
    )
    return CoreGuest(core)


def test_empty_and_small_maps(core_guest: CoreGuest) -> None:
    assert core_guest.call("pass", {}) == {}
    assert core_guest.call("pass", {"a": 1, "b": 41}) == {"a": 2, "b": 42}
    assert core_guest.seen[-1] == {"a": 2, "b": 42}  # what Go lowered into the import


@settings(max_examples=25, deadline=None)
@given(st.dictionaries(st.text(max_size=8), st.integers(0, 2**32 - 2), max_size=20))
def test_string_keyed_maps_round_trip(core_guest: CoreGuest, m: dict[str, int]) -> None:
    assert core_guest.call("pass", m) == {k: v + 1 for k, v in m.items()}


@settings(max_examples=25, deadline=None)
@given(
    st.dictionaries(
        st.integers(0, 2**32 - 1), st.lists(st.text(max_size=5), max_size=4), max_size=10
    )
)
def test_maps_of_lists_and_maps_in_records(core_guest: CoreGuest, m: dict[int, list[str]]) -> None:
    out = core_guest.call("group", m)
    assert core_guest.seen[-1] == m
    expected = {str(k): len(v) for k, v in m.items()}
    expected["go"] = len(m)
    assert out == {"counts": expected, "total": sum(len(v) for v in m.values()) + 1}
