"""A world's own types and resources (declared in the world, not in an interface), used by
world-level imported functions: declared in the ambient module "$root", from which
componentize-js serves the world's resources, and imported from there by each world-level
import's module and re-exported by the world's file. Type-checked, and run end to end: a plugin
componentized with componentize-js calls `configure` and the resource `session` on a Python
host."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
import wasmtime
from wasmtime import component as wc

from tests.typescript.conftest import TSC_FLAGS, node_tool, run
from tests.typescript.guests import TARGET, Guest
from witgen import backends, frontend
from witgen.backends import typescript
from witgen.diagnostics import WitgenError
from witgen.paths import REPO_ROOT

HERE = Path(__file__).parent
WIT = HERE / "wit" / "world_items.wit"
PLUGIN = HERE / "fixtures" / "world_items.ts"
SDK = TARGET / "world-items" / "sdk"  # where the plugin's type imports point
SESSION = 1  # wasmtime's id for the host resource type `session`


def generate(wit: Path, world: str | None = None) -> dict[str, str]:
    resolve = frontend.load(wit)
    worlds = [resolve.find_world(world)]
    return typescript.generate(resolve, worlds, backends.GenerateOptions(source=wit.name))


def write(files: dict[str, str], out: Path) -> None:
    if out.exists():
        shutil.rmtree(out)
    for rel, text in files.items():
        (out / rel).parent.mkdir(parents=True, exist_ok=True)
        (out / rel).write_text(text, encoding="utf-8")


@pytest.fixture(scope="module")
def sdk() -> Path:
    node_tool("tsc")
    write(generate(WIT), SDK)
    return SDK


def test_world_items_live_in_root_module(sdk: Path) -> None:
    root = (sdk / "interfaces" / "root.d.ts").read_text()
    assert 'declare module "$root" {' in root
    assert 'import type { Point } from "test:world-items/shapes@0.1.0";' in root
    assert "export interface Config {" in root and "origin: Point;" in root
    assert "export class Session {" in root and "constructor(c: Config);" in root
    assert "mode(): Mode;" in root
    configure = (sdk / "interfaces" / "world-configure.d.ts").read_text()
    assert '/// <reference path="./root.d.ts" />' in configure
    assert 'import type { Config, Event } from "$root";' in configure
    assert "export default function configure(c: Config): Event;" in configure
    # the resource's functions are the class's members, not modules of their own
    assert not list((sdk / "interfaces").glob("world-[[]*"))
    world = (sdk / "items.ts").read_text()
    assert 'from "$root";' in world and "export type {" in world
    assert "handle(level: number, p: Perms): string;" in world


def test_sdk_and_plugin_typecheck_and_are_prettier_clean(sdk: Path) -> None:
    proc = run("tsc", "--strict", "--noEmit", "-p", sdk)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    proc = run("prettier", "--check", sdk, PLUGIN)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    proc = run("tsc", *TSC_FLAGS, PLUGIN.relative_to(REPO_ROOT), cwd=REPO_ROOT)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_plugin_misusing_a_world_type_is_rejected(sdk: Path, tmp_path: Path) -> None:
    bad = PLUGIN.with_name("world_items_bad.ts")
    source = PLUGIN.read_text(encoding="utf-8").replace('name: "plugin"', "name: 7")
    try:
        bad.write_text(source, encoding="utf-8")
        proc = run("tsc", *TSC_FLAGS, bad.relative_to(REPO_ROOT), cwd=REPO_ROOT)
    finally:
        bad.unlink()
    assert proc.returncode != 0 and "TS2322" in proc.stdout + proc.stderr


@pytest.mark.parametrize(
    ("case", "world"),
    [
        ("world_types.wit", "w"),
        ("resource_handles_in_world.wit", "w"),
        ("docs_on_everything_in_world.wit", "w"),
    ],
)
def test_corpus_worlds_with_own_items_typecheck(tmp_path: Path, case: str, world: str) -> None:
    node_tool("tsc")
    write(generate(REPO_ROOT / "tests" / "frontend" / "corpus" / "valid" / case, world), tmp_path)
    proc = run("tsc", "--strict", "--noEmit", "-p", tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_worlds_with_different_own_items_need_one_world_at_a_time(tmp_path: Path) -> None:
    path = tmp_path / "two.wit"
    path.write_text(
        "package t:two;\nworld a {\n  record r { x: u32 }\n  import f: func(v: r);\n}\n"
        "world b {\n  record s { y: u32 }\n  import g: func(v: s);\n}\n"
    )
    resolve = frontend.load(path)
    worlds = [resolve.find_world("a"), resolve.find_world("b")]
    with pytest.raises(WitgenError, match="generate one world at a time with --world"):
        typescript.generate(resolve, worlds, backends.GenerateOptions(source="two.wit"))


# -- end to end --


class Host:
    def __init__(self) -> None:
        self.configured: list[tuple[str, int, tuple[int, int]]] = []
        self.sessions: dict[int, int] = {}  # rep -> level
        self.dropped: list[int] = []

    def link(self, linker: wc.Linker) -> None:
        with linker.root() as root:
            root.add_func("configure", self.configure)
            root.add_resource(
                "session", wc.ResourceType.host(SESSION), lambda _s, rep: self.dropped.append(rep)
            )
            root.add_func("[constructor]session", self.new_session)
            root.add_func("[method]session.mode", self.mode)

    def configure(self, _store: Any, c: Any) -> int:
        self.configured.append((c.name, c.level, (c.origin.x, c.origin.y)))
        # `event` is start(string) | stop(u32): wasmtime-py tells its cases apart by the Python
        # type of the payload, so an int is `stop`
        return int(c.level) * 2

    def new_session(self, _store: Any, c: Any) -> wc.ResourceHost:
        rep = len(self.sessions) + 1
        self.sessions[rep] = c.level
        return wc.ResourceHost.own(rep, SESSION)

    def mode(self, store: Any, session: Any) -> str:
        rep: int = session.to_host(store).rep
        return "slow" if self.sessions[rep] > 5 else "fast"


@pytest.fixture(scope="module")
def component(sdk: Path) -> tuple[wasmtime.Engine, wc.Component]:
    node_tool("componentize-js")
    engine = wasmtime.Engine()
    guest = Guest(name="world-items", world="items", entry=PLUGIN, wit=WIT)
    return engine, guest.component(engine)


def test_plugin_calls_world_level_imports_with_world_types(
    component: tuple[wasmtime.Engine, wc.Component],
) -> None:
    engine, comp = component
    host = Host()
    linker = wc.Linker(engine)
    linker.add_wasip2()
    host.link(linker)
    store = wasmtime.Store(engine)
    store.set_wasi(wasmtime.WasiConfig())
    instance = linker.instantiate(store, comp)
    index = instance.get_export_index(store, "handle")
    assert index is not None
    handle = instance.get_func(store, index)
    assert handle is not None
    assert handle(store, 7, {"read"}) == "stop:14:slow:r-"
    assert handle(store, 2, {"read", "write"}) == "stop:4:fast:rw"
    assert host.configured == [("plugin", 7, (1, -2)), ("plugin", 2, (1, -2))]
    assert sorted(host.sessions) == [1, 2]
