"""WASI 0.2 imports of an async plugin, through its generated bindings.

The guest is a WAT core module of tests/python_host/wit/async_wasi.wit that imports
`wasi:random/random@0.2.0` and `wasi:cli/environment@0.2.0` directly, as a guest built with std
for WASI 0.2 does: `load(..., wasi=WasiGrants(...))` serves them from `_wasi.py` (the fast
path's WASI 0.2), deny by default (no environment unless granted). A guest whose core module
imports WASI preview 1 (Rust std for wasm32-wasip1) gets wasmtime's WASI under the same grants.
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

WIT = REPO_ROOT / "tests" / "python_host" / "wit" / "async_wasi.wit"
GUEST = """
(module
  (import "wasi:random/random@0.2.0" "get-random-u64" (func $random (result i64)))
  (import "wasi:cli/environment@0.2.3" "get-environment" (func $env (param i32)))
  (import "[export]$root" "[task-return]roll" (func $return (param i64)))
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
  (func (export "[async-lift]roll") (result i32)
    (call $return (call $random))
    (i32.const 0))
  (func (export "[callback][async-lift]roll") (param i32 i32 i32) (result i32)
    unreachable)
  (func (export "env-size") (result i32)
    (call $env (i32.const 1024))
    (if (result i32) (i32.eqz (i32.load (i32.const 1028)))
      (then (i32.const 0))
      (else
        (i32.add
          (i32.load (i32.const 1028))
          ;; the first element: (name ptr, name len, value ptr, value len)
          (i32.load offset=12 (i32.load (i32.const 1024))))))))
"""
# the same, with its environment through WASI preview 1 (as a Rust std guest for wasm32-wasip1
# asks for it): the total size of the granted variables' "NAME=value\0" strings
PREVIEW1_GUEST = GUEST.replace(
    '(import "wasi:cli/environment@0.2.3" "get-environment" (func $env (param i32)))',
    '(import "wasi_snapshot_preview1" "environ_sizes_get"'
    " (func $sizes (param i32 i32) (result i32)))",
).replace(
    """    (call $env (i32.const 1024))
    (if (result i32) (i32.eqz (i32.load (i32.const 1028)))
      (then (i32.const 0))
      (else
        (i32.add
          (i32.load (i32.const 1028))
          ;; the first element: (name ptr, name len, value ptr, value len)
          (i32.load offset=12 (i32.load (i32.const 1024)))))))""",
    """    (drop (call $sizes (i32.const 1024) (i32.const 1028)))
    (i32.load (i32.const 1028)))""",
)


@pytest.fixture(scope="module")
def package(tmp_path_factory: pytest.TempPathFactory) -> Any:
    return import_bindings(tmp_path_factory.mktemp("async-wasi"), WIT, "async_wasi_bindings")


def test_random_numbers_through_an_async_export(package: Any) -> None:
    plugin = package.W.load(bytes(wasmtime.wat2wasm(GUEST)))

    async def body() -> list[int]:
        return [await plugin.roll() for _ in range(4)]

    rolls = asyncio.run(body())
    assert all(0 <= r < 2**64 for r in rolls)
    assert len(set(rolls)) > 1


def test_the_environment_is_denied_by_default(package: Any) -> None:
    plugin = package.W.load(bytes(wasmtime.wat2wasm(GUEST)))
    assert plugin.env_size() == 0


@settings(max_examples=20, deadline=None)
@given(st.dictionaries(st.text("abcXYZ_", min_size=1, max_size=8), st.text(max_size=20)))
def test_the_environment_is_what_was_granted(package: Any, env: dict[str, str]) -> None:
    grants = package.WasiGrants(env=env)
    plugin = package.W.load(bytes(wasmtime.wat2wasm(GUEST)), wasi=grants)
    first = len(next(iter(env.values())).encode()) if env else 0
    assert plugin.env_size() == len(env) + first


@settings(max_examples=20, deadline=None)
@given(
    st.dictionaries(
        st.text("abcXYZ_", min_size=1, max_size=8),
        st.text(st.characters(blacklist_characters="\x00"), max_size=20),  # C strings
    )
)
def test_wasi_preview_1_under_the_grants(package: Any, env: dict[str, str]) -> None:
    component = bytes(wasmtime.wat2wasm(PREVIEW1_GUEST))
    assert package.W.load(component).env_size() == 0  # denied by default
    plugin = package.W.load(component, wasi=package.WasiGrants(env=env))
    assert plugin.env_size() == sum(len(f"{k}={v}".encode()) + 1 for k, v in env.items())
    assert asyncio.run(plugin.roll()) >= 0  # its async export runs beside preview 1
