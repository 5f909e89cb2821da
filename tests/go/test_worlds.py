"""World shapes beyond one named interface per direction, through a real Go guest in wasmtime.

tests/go/worlds.wit has inline interfaces (`import host: interface {...}`, `export guest:
interface {...}`, an empty one), world-level exports, and an interface (`relay`) that the same
world both imports and exports. The guest (tests/go/worlds_guest) forwards each export to an
import, so the host sees what the Go side lowered and checks what it lifted. The corpus worlds
with these shapes are generated, gofmt-clean and vetted too.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

import pytest
import wasmtime
from wasmtime.component import Linker, Record

from go.conftest import CACHE, build_component, generate_sdk, go_env, run
from witgen.paths import REPO_ROOT

HERE = Path(__file__).parent
WIT = HERE / "worlds.wit"
CORPUS = REPO_ROOT / "tests" / "frontend" / "corpus" / "valid"


def pair(a: int, b: str) -> Record:
    r = Record()
    setattr(r, "a", a)
    setattr(r, "b", b)
    return r


class Guest:
    def __init__(self, engine: wasmtime.Engine, component: Any) -> None:
        self.swapped: list[tuple[int, str]] = []
        self.logged: list[tuple[int, str]] = []
        linker = Linker(engine)
        linker.add_wasip2()
        with linker.root() as root:
            with root.add_instance("witgen:worlds/relay") as relay:
                relay.add_func("swap", self._swap)
                relay.add_func("count", lambda _s: 21)
            for name in ("primary", "backup"):
                with root.add_instance(name) as store:
                    store.add_func("get", self._store_get(name))
            with root.add_instance("host") as host:
                host.add_func("get", self._get)
                host.add_func("log", lambda _s, p: self.logged.append((p.a, p.b)))
        self.store = wasmtime.Store(engine)
        self.store.set_wasi(wasmtime.WasiConfig())
        self.instance = linker.instantiate(self.store, component)

    def _swap(self, _store: Any, p: Any) -> Record:
        self.swapped.append((p.a, p.b))
        return pair(len(p.b), str(p.a))

    @staticmethod
    def _store_get(name: str) -> Any:
        def get(_store: Any, key: str) -> Record:
            hit = Record()
            setattr(hit, "key", key)
            setattr(hit, "value", f"{name}:{key}")
            return hit

        return get

    def _get(self, _store: Any, key: str) -> Record:
        entry = Record()
        setattr(entry, "key", key.upper())
        setattr(entry, "value", len(key))
        return entry

    def call(self, iface: str | None, name: str, *args: Any) -> Any:
        parent = None if iface is None else self.instance.get_export_index(self.store, iface)
        index = self.instance.get_export_index(self.store, name, parent)
        assert index is not None, (iface, name)
        func = self.instance.get_func(self.store, index)
        assert func is not None, (iface, name)
        return func(self.store, *args)


@pytest.fixture(scope="module")
def guest(engine: wasmtime.Engine, adapter: Path, wasm_tools: str, go: str) -> Iterator[Guest]:
    sdk = CACHE / "worlds-sdk"
    generate_sdk(WIT, sdk, "witgen/worlds")
    component = build_component(
        engine,
        name="worlds",
        guest=HERE / "worlds_guest",
        sdk=sdk,
        wit=WIT,
        world="worlds",
        adapter=adapter,
        wasm_tools=wasm_tools,
        go=go,
    )
    yield Guest(engine, component)


def test_interface_imported_and_exported_by_one_world(guest: Guest) -> None:
    out = guest.call("witgen:worlds/relay", "swap", pair(41, "hi"))
    assert guest.swapped == [(42, "hi!")]  # the export called the import of the same interface
    assert (out.a, out.b) == (3, "42")
    assert guest.call("witgen:worlds/relay", "count") == 42


def test_inline_interfaces(guest: Guest) -> None:
    assert guest.call("guest", "lookup", "abc") == ("ABC", 3)
    assert guest.call(None, "run") == 7
    assert guest.logged == [(7, "run")]


def test_one_interface_under_several_names(guest: Guest) -> None:
    hit = guest.call("cache", "get", "k")
    assert (hit.key, hit.value) == ("k", "primary:k|backup:k")


def test_generated_layout(tmp_path: Path) -> None:
    out = tmp_path / "sdk"
    generate_sdk(WIT, out, "witgen/worlds")
    relay = (out / "relay" / "relay.go").read_text()
    # One package serves both directions: the import is a plain function, the export an Exports
    # method, and both share the interface's types.
    assert "//go:wasmimport witgen:worlds/relay swap" in relay
    assert "//go:wasmexport witgen:worlds/relay#swap" in relay
    assert "func Swap(p Pair) Pair {" in relay
    assert "\tSwap(p Pair) Pair\n" in relay
    host = (out / "worlds" / "host" / "host.go").read_text()
    assert "//go:wasmimport host get" in host  # inline interfaces use their plain key name
    assert "Package host binds the WIT inline interface host of world worlds" in host
    assert "type Entry struct {" in host
    guest_go = (out / "worlds" / "guest" / "guest.go").read_text()
    assert "//go:wasmexport guest#lookup" in guest_go
    assert (out / "worlds" / "empty" / "empty.go").exists()
    primary = (out / "worlds" / "primary" / "primary.go").read_text()
    assert "//go:wasmimport primary get" in primary and "type Hit struct {" in primary
    cache = (out / "worlds" / "cache" / "cache.go").read_text()
    assert "//go:wasmexport cache#get" in cache and "\tGet(key string) Hit\n" in cache


@pytest.mark.parametrize(
    "name",
    [
        "docs_on_everything_in_world",
        "world_import_export_same_iface",
        "world_inline_interfaces",
        "world_inline_uses_outer",
    ],
)
def test_corpus_worlds_are_gofmt_and_vet_clean(
    tmp_path: Path, name: str, go: str, gofmt: str
) -> None:
    out = tmp_path / "sdk"
    generate_sdk(CORPUS / f"{name}.wit", out, f"corpus/{name.replace('_', '')}")
    assert run([gofmt, "-d", "."], cwd=out) == ""
    run([go, "vet", "./..."], cwd=out, env=go_env())


def test_resource_interface_imported_and_exported_vets(tmp_path: Path, go: str) -> None:
    """An interface with a resource that one world imports and another (or the same) exports:
    the export gets a package of its own (`iexport`), so the imported handle type and the
    exported Go interface are different types."""
    path = tmp_path / "t.wit"
    path.write_text(
        "package t:t;\ninterface i {\n  resource r {\n    constructor(n: u32);\n"
        "    get: func() -> u32;\n  }\n  make: func(n: u32) -> r;\n}\n"
        "world a { import i; }\nworld b { export i; }\nworld c { import i; export i; }\n"
    )
    out = tmp_path / "sdk"
    generate_sdk(path, out, "t/t")
    imported = (out / "i" / "i.go").read_text()
    exported = (out / "iexport" / "iexport.go").read_text()
    assert "type R struct {" in imported and "//go:wasmimport t:t/i make" in imported
    assert "type R interface {" in exported and "//go:wasmexport t:t/i#make" in exported
    run([go, "vet", "./..."], cwd=out, env=go_env())
