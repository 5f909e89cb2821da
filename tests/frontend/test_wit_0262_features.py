"""Front-end features of wasm-tools 1.262 that the IR exposes to the rest of witgen.

The differential corpus already checks these against wasm-tools (JSON and error locations);
here the IR that backends read is asserted directly: named interface imports, external ids,
accessor kinds, and the refusal of WIT packages encoded as WebAssembly in `deps/`.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from wit_oracle import VALID

from witgen import frontend, ir
from witgen.diagnostics import WitError


def _world(resolve: ir.Resolve, name: str) -> ir.World:
    return next(w for w in resolve.worlds if w.name == name)


def test_named_imports_share_one_interface_under_two_names() -> None:
    resolve = frontend.load(VALID / "named_import_local.wit")
    world = _world(resolve, "w")
    named = {e.key.name: e.item for e in world.imports if e.key.name is not None}
    assert isinstance(named["primary"], ir.WorldInterface)
    assert isinstance(named["secondary"], ir.WorldInterface)
    assert named["primary"].id == named["secondary"].id
    assert resolve.interfaces[named["primary"].id].name == "store"
    exported = {e.key.name for e in world.exports}
    assert exported == {"primary", "other"}


def test_external_ids_reach_world_items_types_and_functions() -> None:
    resolve = frontend.load(VALID / "external_id_forms.wit")
    world = _world(resolve, "w")
    ids = {
        e.item.external_id
        for e in (*world.imports, *world.exports)
        if isinstance(e.item, ir.WorldInterface)
    }
    assert {"imp:one", "inline", "named", "exp"} <= ids
    assert any(t.external_id == "ty" for t in resolve.types)
    base = next(i for i in resolve.interfaces if i.name == "base")
    assert base.functions["f"].external_id == "fn"
    doc = ir.to_json(resolve)
    assert any(t.get("external_id") == "ty" for t in doc["types"])


def test_accessor_kinds_and_order() -> None:
    resolve = frontend.load(VALID / "accessors_interface.wit")
    iface = next(i for i in resolve.interfaces if i.name == "settings")
    kinds = {name: fn.kind for name, fn in iface.functions.items()}
    assert kinds["[get]level"] == "getter"
    assert kinds["[set]level"] == "setter"
    assert kinds["[method][get]counter.count"] == "method-getter"
    assert kinds["[static][set]counter.total"] == "static-setter"
    names = list(iface.functions)
    # a setter declared before its getter is moved after it, as wit-parser does
    assert names.index("[set]name") == names.index("[get]name") + 1
    assert iface.functions["[method][set]counter.count"].params[0].name == "self"


def test_binary_wit_packages_in_deps_are_refused_by_name(tmp_path: Path) -> None:
    (tmp_path / "main.wit").write_text("package a:main;\n", encoding="utf-8")
    deps = tmp_path / "deps"
    deps.mkdir()
    (deps / "encoded.wasm").write_bytes(b"\0asm\x0d\0\x01\0")
    with pytest.raises(WitError, match="encoded as WebAssembly are not supported"):
        frontend.load(tmp_path)
