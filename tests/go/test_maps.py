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
from typing import Any

import pytest
import wasmtime
from hypothesis import given, settings
from hypothesis import strategies as st

from go.conftest import CACHE, build_component, generate_sdk, go_env, run
from go.core_guest import CoreGuest, build_core
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


def _group(m: dict[int, list[str]]) -> dict[str, Any]:
    counts = {str(k): len(v) for k, v in m.items()}
    return {"counts": counts, "total": sum(counts.values())}


@pytest.fixture(scope="module")
def core_guest(go: str, tmp_path_factory: pytest.TempPathFactory) -> CoreGuest:
    # wasmtime-py cannot convert map values at the component level: see core_guest.py
    generate_sdk(WIT, CACHE / "maps-sdk", "witgen/maps")
    core = build_core(go, HERE / "maps_guest", tmp_path_factory.mktemp("maps") / "maps.wasm")
    return CoreGuest(core, load(WIT), IFACE, {"pass": lambda m: m, "group": _group})


def test_empty_and_small_maps(core_guest: CoreGuest) -> None:
    assert core_guest.call("pass", {}) == {}
    assert core_guest.call("pass", {"a": 1, "b": 41}) == {"a": 2, "b": 42}
    assert core_guest.seen[-1][0] == {"a": 2, "b": 42}  # what Go lowered into the import


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
    assert core_guest.seen[-1][0] == m
    expected = {str(k): len(v) for k, v in m.items()}
    expected["go"] = len(m)
    assert out == {"counts": expected, "total": sum(len(v) for v in m.values()) + 1}
