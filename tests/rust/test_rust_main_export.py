"""A world-level export named `main` (Rust on wasm32 gives the symbol `main` the C entry point's
signature): the SDK's core export is `cm32p2||main`, the component still exports `main`, and
calling it reaches the guest's function."""

from __future__ import annotations

import subprocess

import wasmtime
import wasmtime.component as wc

from .build import build_all, generate_sdk, WIT
from .host import component, engine
from .toolchain import require_rust_toolchain


def test_world_export_main_keeps_its_name_and_runs() -> None:
    require_rust_toolchain()
    path = build_all()["main-guest"]
    wit = subprocess.run(
        ["wasm-tools", "component", "wit", str(path)], capture_output=True, text=True, check=True
    ).stdout
    assert "export main: func(args: list<string>) -> string;" in wit
    store = wasmtime.Store(engine())
    instance = wc.Linker(engine()).instantiate(store, component(path))
    index = instance.get_export_index(store, "main")
    assert index is not None
    main = instance.get_func(store, index)
    assert main is not None
    assert main(store, ["a", "bc"]) == "main(a,bc)"
    main.post_return(store)
    start = instance.get_export_index(store, "start")
    index = instance.get_export_index(store, "main", start)
    assert index is not None
    inner = instance.get_func(store, index)
    assert inner is not None
    assert inner(store) == 42


def test_only_the_reserved_symbol_is_renamed() -> None:
    lib = generate_sdk(WIT / "main.wit", "main-sdk")
    text = "\n".join(lib.values())
    assert '#[export_name = "cm32p2||main"]' in text
    assert '#[export_name = "cm32p2||main_post"]' in text
    assert '#[export_name = "start#main"]' in text  # interface functions keep their names
    assert '#[export_name = "main"]' not in text
