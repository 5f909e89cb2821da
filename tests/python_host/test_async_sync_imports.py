"""Synchronous imports and exports of an async world, through its generated bindings.

The guest is a WAT core module of tests/python_host/wit/async_sync_imports.wit (the async host
runs a core module as it is): its async export `ask` calls the host's synchronous `log` (a
string in) and `lookup` (an `option<string>` back through a result pointer), then returns what
it found with `task.return`; its synchronous export `count` calls `next` (a `u64` back as a flat
value).
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import wasmtime
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.python_host.wat_guests import import_bindings
from witgen.paths import REPO_ROOT

WIT = REPO_ROOT / "tests" / "python_host" / "wit" / "async_sync_imports.wit"
GUEST = """
(module
  (import "t:async-wat/host" "log" (func $log (param i32 i32)))
  (import "t:async-wat/host" "next" (func $next (result i64)))
  (import "t:async-wat/host" "lookup" (func $lookup (param i32 i32 i32)))
  (import "[export]$root" "[task-return]ask" (func $return (param i32 i32 i32)))
  (memory (export "memory") 4)
  (global $top (mut i32) (i32.const 4096))
  (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32)
    (local $p i32)
    (local.set $p
      (i32.and
        (i32.add (global.get $top) (i32.sub (local.get 2) (i32.const 1)))
        (i32.sub (i32.const 0) (local.get 2))))
    (global.set $top (i32.add (local.get $p) (local.get 3)))
    (local.get $p))
  (func (export "[async-lift]ask") (param $p i32) (param $n i32) (result i32)
    (call $log (local.get $p) (local.get $n))
    (call $lookup (local.get $p) (local.get $n) (i32.const 1024))
    (call $return
      (i32.load8_u (i32.const 1024)) (i32.load (i32.const 1028)) (i32.load (i32.const 1032)))
    (i32.const 0))
  (func (export "[callback][async-lift]ask") (param i32 i32 i32) (result i32)
    unreachable)
  (func (export "count") (result i64)
    (i64.add (call $next) (i64.const 1))))
"""


class Host:
    def __init__(self) -> None:
        self.logged: list[str] = []
        self.table: dict[str, str] = {}
        self.counter = 0

    def log(self, message: str) -> None:
        self.logged.append(message)

    def next(self) -> int:
        self.counter += 1
        return self.counter

    def lookup(self, key: str) -> Any:
        return self.table.get(key)


@pytest.fixture(scope="module")
def package(tmp_path_factory: pytest.TempPathFactory) -> Any:
    return import_bindings(tmp_path_factory.mktemp("async-sync"), WIT, "async_sync_bindings")


@pytest.fixture()
def host() -> Host:
    return Host()


def load(package: Any, host: Host) -> Any:
    return package.W.load(bytes(wasmtime.wat2wasm(GUEST)), host=host)


@settings(max_examples=40, deadline=None)
@given(st.text(max_size=30), st.none() | st.text(max_size=30))
def test_an_async_export_calls_synchronous_imports(package: Any, key: str, found: Any) -> None:
    host = Host()
    if found is not None:
        host.table[key] = found
    plugin = load(package, host)
    assert asyncio.run(plugin.ask(key)) == found
    assert host.logged == [key]


def test_a_synchronous_export_of_an_async_world(package: Any, host: Host) -> None:
    plugin = load(package, host)
    assert [plugin.count() for _ in range(3)] == [2, 3, 4]
    host.counter = 2**64 - 2
    assert plugin.count() == 0  # i64.add wraps; the u64 comes back unsigned


class WrongHost(Host):
    """Answers `lookup` with an int until told otherwise."""

    wrong = True

    def lookup(self, key: str) -> Any:
        return 5 if self.wrong else "fine"


def test_a_wrong_value_from_a_synchronous_import(package: Any) -> None:
    host = WrongHost()
    plugin = load(package, host)
    with pytest.raises(TypeError, match=r"lookup\(\) result"):
        asyncio.run(plugin.ask("k"))
    host.wrong = False
    assert asyncio.run(plugin.ask("k")) == "fine"  # a fresh instance


def test_an_import_nobody_serves_is_named(package: Any) -> None:
    with pytest.raises(package.PluginLoadError, match="imports `log` of `t:async-wat/host`"):
        package.W.load(bytes(wasmtime.wat2wasm(GUEST)))
