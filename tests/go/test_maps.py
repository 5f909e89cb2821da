"""WIT `map<K, V>` as Go maps: a Go guest (tests/go/maps_guest) over an interface that it both
imports and exports, with maps as parameters, results and record fields, is built into a
component and compiled by wasmtime (with its map feature on).

`wasm-tools component new` checks every core import and export against the canonical-ABI
signature the WIT gives it, and wasmtime validates the component; what is not checked here is
values at run time: wasmtime-py 50 compiles components with maps but cannot convert map values
("unknown component value type kind"), so no Python host can call them yet.
"""

from __future__ import annotations

from pathlib import Path

import wasmtime

from go.conftest import CACHE, build_component, generate_sdk, go_env, run

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
