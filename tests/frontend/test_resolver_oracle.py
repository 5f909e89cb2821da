"""Resolver behaviours that are easy to get subtly wrong, each checked against wasm-tools:
arena order (anonymous `own` handles made at merge time), feature gates, includes, world
elaboration, and where the errors point. The installed WASI packages are checked too."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import require_tool
from witgen import frontend, ir
from witgen.diagnostics import WitError

CASES = {
    "own_handles_order": """package a:b;
interface i {
  resource r { constructor(); m: func() -> list<u8>; s: static func() -> r; }
  resource q { constructor(); }
  type y = r;
  type z = own<r>;
  record rr { a: r, b: y }
  f: func(a: r) -> option<r>;
}
interface j { type z = u32; }
world w { use i.{r}; import g: func(a: r) -> r; }""",
    "gated_items_dropped": """package a:b@1.0.0;
interface s { @unstable(feature = x) g: func(); h: func(); @unstable(feature = y) type q = u8; }
world w { import s; @unstable(feature = x) import z: func(); export s; }""",
    "gated_type_referenced": """package a:b@1.0.0;
interface s { @unstable(feature = x) type q = u8; f: func(a: q); }""",
    "gated_interface_with_ungated_type": """package a:b@1.0.0;
@unstable(feature = x)
interface u { type t = u32; f: func(); }""",
    "gated_world_included": """package a:b@1.0.0;
@unstable(feature = x)
world w { import f: func(); }
world v { include w; }""",
    "gated_use_in_world": """package a:b@1.0.0;
interface u { @unstable(feature = x) type r = u32;  }
world w { @unstable(feature = x) use u.{r}; import f: func(a: r); }""",
    "since_unreleased": """package a:b@1.0.0;
interface i { @since(version = 2.0.0) type x = u8; }""",
    "since_without_package_version": """package a:b;
interface i { @since(version = 1.0.0) type x = u8; }""",
    "include_renames_functions": """package a:b;
world w { include x with { f as g, h as k }; }
world x { import f: func(); export h: func(); import i: interface { } }""",
    "elaborated_imports": """package a:b;
interface types { type t = u32; }
interface x { use types.{t}; f: func() -> t; }
interface y { use x.{t}; }
world w { import y; export x; }""",
    "export_and_import_conflict": """package a:b;
interface types { type t = u32; }
interface x { use types.{t}; f: func() -> t; }
world w { export x; export types; }""",
    "world_types_and_inline_interfaces": """package a:b;
interface types { type t = u32; }
interface x { use types.{t}; }
world w {
  use types.{t};
  import f: func(a: t);
  export x;
  type z = list<t>;
  import i: interface { use x.{t}; g: func(); }
}""",
    "async_and_new_types": """package a:b;
interface i {
  f: async func(a: stream<u8>, b: future) -> stream;
  g: func() -> future<result<_, string>>;
  h: func(e: error-context) -> tuple<stream<list<u8, 4>>, map<string, u32>>;
}""",
    "versions_read_like_wit_parser": """package a:b@1.0.0-0a.b+42abc;
interface i {}""",
    "version_with_space": """package a:b@1.0.0-rc 1;
interface i {}""",
    "lazy_lexer_error": """package a:b;
interface i { type x = u8 }
interface j { $ }""",
    "duplicate_flag": """package a:b;
interface i { flags f { r, w, r } }""",
    "deprecated_alone": """package a:b@1.0.0;
interface i { @deprecated(version = 1.0.0) type x = u8; }""",
    "include_clones_world_items": """package a:b;
interface i { type t = u32; resource r; }
world w0 {
  use i.{t, r};
  import f: func(a: list<u32>, b: option<t>, c: borrow<r>) -> list<t>;
  import inl: interface { use i.{t}; type z = list<t>; g: func(x: z); }
  export e: func(a: list<u32>);
}
world w1 { import h: func(a: list<string>); include w0; }""",
    "case_insensitive_names": """package a:b;
interface i { resource r { a: func(); A: static func(); } }""",
    "case_insensitive_world": """package a:b;
world w { type a = u8; import A: func(); }""",
    "constructor_is_not_its_resource": """package a:b;
world w { resource r { constructor(); } import f: func(x: r); }""",
    "attribute_twice": """package a:b@1.0.0;
interface i { @since(version = 1.0.0) @since(version = 1.0.0) type x = u8; }""",
    "since_and_unstable": """package a:b@1.0.0;
interface i { @unstable(feature = x) @since(version = 1.0.0) type x = u8; }""",
    "excluded_field_type": """package a:b;
interface foo {
  @unstable(feature = inactive)
  type gated = u32;
  record r { field-a: u32, field-b: gated, field-c: string }
}""",
    "excluded_borrow_in_variant": """package a:b@1.0.0;
interface i { resource t2; }
interface j {
  @unstable(feature = f2) use i.{t2};
  @since(version = 0.9.0) variant xt0 { c1(borrow<t2>), c2 }
}""",
    "nested_packages_with_gated_includes": """package wasmtime:test;
world test {
  @unstable(feature = active)
  include wasi:unstable/imports@0.2.3;
  include wasi:foo/imports@0.2.3;
}
package wasi:unstable@0.2.3 {
  @unstable(feature = active)
  world imports {
    @unstable(feature = active)
    use wasi:dep/unstable.{unstable-resource};
  }
}
package wasi:foo@0.2.3 {
  @since(version = 0.2.0)
  world imports { include wasi:dep/imports; }
}
package wasi:dep {
  @unstable(feature = active)
  world imports { @unstable(feature = active) import unstable; }
  @unstable(feature = active)
  interface unstable { @unstable(feature = active) resource unstable-resource; }
}""",
    "include_stability_mismatch": """package d:u@1.0.0;
interface f {}
world a { @unstable(feature = fb) import f; }
world b { @since(version = 1.0.0) import f; include a; }""",
    "method_named_like_resource": """package a:b;
interface i { resource r { r: static func(); } }""",
    "includes_after_every_world": """package p1:n1;
world w0 { include w2; export run0: func(); }
@unstable(feature = f2) world w1 { @since(version = 0.1.0) export run1: func(); }
world w2 { export run0: func(); }""",
    "type_nesting_limit": "package a:b; interface i { type t = "
    + "list<" * 100
    + "u8"
    + ">" * 100
    + "; }",
}


def _wasm_tools(path: Path, features: list[str]) -> tuple[Any, tuple[int, int] | None]:
    exe = require_tool("wasm-tools")
    proc = subprocess.run(
        [exe, "component", "wit", "--json", str(path), *features], capture_output=True, text=True
    )
    if proc.returncode == 0:
        return json.loads(proc.stdout), None
    m = re.search(r"--> .*:(\d+):(\d+)", proc.stderr) or re.search(
        r"^error: .*?:(\d+):(\d+): ", proc.stderr, re.MULTILINE
    )
    return None, (int(m.group(1)), int(m.group(2))) if m else (0, 0)


@pytest.mark.parametrize("all_features", [False, True], ids=["default", "all-features"])
@pytest.mark.parametrize("name", sorted(CASES))
def test_case_matches_wasm_tools(tmp_path: Path, name: str, all_features: bool) -> None:
    path = tmp_path / f"{name}.wit"
    path.write_text(CASES[name] + "\n", encoding="utf-8")
    expected, where = _wasm_tools(path, ["--all-features"] if all_features else [])
    if where == (0, 0):
        where = None  # wasm-tools names no place: rejecting is enough
    try:
        got = json.loads(json.dumps(ir.to_json(frontend.load(path, all_features=all_features))))
    except WitError as err:
        assert expected is None, f"we reject valid WIT: {err.render()}"
        if where is not None:
            assert err.span is not None
            assert (err.span.line, err.span.column) == where, err.render()
        return
    assert expected is not None, "we accept WIT that wasm-tools rejects"
    assert got == expected


def _installed_wasi() -> list[Path]:
    return sorted(Path("/usr/src").glob("rustc-*/library/vendor/wasi-*/wit"))


@pytest.mark.parametrize("all_features", [False, True], ids=["default", "all-features"])
def test_installed_wasi_packages_match_wasm_tools(all_features: bool) -> None:
    dirs = _installed_wasi()
    if not dirs:
        reason = "no WASI WIT installed under /usr/src (Debian rust-web-src; run .ci/install)"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    for wit in dirs:
        expected, _ = _wasm_tools(wit, ["--all-features"] if all_features else [])
        got = ir.to_json(frontend.load(wit, all_features=all_features))
        assert json.loads(json.dumps(got)) == expected, wit
