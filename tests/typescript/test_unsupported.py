"""WIT the TypeScript backend cannot represent is refused with an error naming the item,
never silently dropped; the CLI reports it without a traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from witgen import backends, frontend
from witgen.backends import typescript
from witgen.diagnostics import WitgenError

CASES = {
    "stream": ("interface i {\n  f: func(s: stream<u8>);\n}", "`stream` types", "function `f`"),
    "future": ("interface i {\n  f: func() -> future<u32>;\n}", "`future` types", "function `f`"),
    "async": ("interface i {\n  f: async func();\n}", "async functions", "function `f`"),
    "error-context": (
        "interface i {\n  g: func(e: error-context);\n}",
        "`error-context`",
        "function `g`",
    ),
    "map": ("interface i {\n  type m = map<string, u32>;\n}", "`map` types", "type `m`"),
    "fixed-list": (
        "interface i {\n  record r { a: list<u8, 4> }\n}",
        "fixed-length lists",
        "type `r`",
    ),
}


def write(tmp_path: Path, body: str, world: str = "world w { export i; }") -> Path:
    path = tmp_path / "u.wit"
    path.write_text(f"package t:u@1.0.0;\n{body}\n{world}\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("case", sorted(CASES))
def test_unsupported_feature_is_refused_by_name(tmp_path: Path, case: str) -> None:
    body, feature, item = CASES[case]
    resolve = frontend.load(write(tmp_path, body))
    worlds = [resolve.find_world("w")]
    with pytest.raises(WitgenError) as err:
        typescript.generate(resolve, worlds, backends.GenerateOptions(source="u.wit"))
    message = str(err.value)
    assert feature in message and item in message and "t:u/i@1.0.0" in message


def test_name_clash_gets_a_deterministic_name(tmp_path: Path) -> None:
    # `a` with case `b-c` and `a-b` with case `c` both want the interface name `ABC`: the
    # first case keeps it, the second gets `ABC_` (and the union names it)
    body = "interface i {\n  variant a { b-c }\n  variant a-b { c }\n}"
    resolve = frontend.load(write(tmp_path, body))
    files = typescript.generate(
        resolve, [resolve.find_world("w")], backends.GenerateOptions(source="u.wit")
    )
    text = next(t for p, t in files.items() if p.startswith("exports/"))
    assert "export interface ABC {" in text and "export interface ABC_ {" in text
    assert "export type AB = ABC_;" in text


def test_cli_reports_refusal_without_traceback(tmp_path: Path) -> None:
    path = write(tmp_path, CASES["stream"][0])
    out = tmp_path / "out"
    proc = subprocess.run(
        [sys.executable, "-m", "witgen", "generate", "--lang", "typescript", "--out", out, path],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 1
    assert proc.stderr.startswith("error: the TypeScript backend does not support `stream`")
    assert "Traceback" not in proc.stderr
    assert not out.exists()  # nothing half-written


def test_two_exports_componentize_js_looks_up_under_one_name_are_refused(tmp_path: Path) -> None:
    # `export i: i` and `export i` (the interface t:u/i) are both the entry module's `i`
    body = "interface i {\n  f: func();\n}"
    resolve = frontend.load(write(tmp_path, body, "world w {\n  export i: i;\n  export i;\n}"))
    with pytest.raises(WitgenError, match="both the entry module's export `i`"):
        typescript.generate(
            resolve, [resolve.find_world("w")], backends.GenerateOptions(source="u.wit")
        )


@pytest.mark.parametrize(
    ("case", "advice"),
    [("map", "use `list<tuple<K, V>>` instead"), ("fixed-list", "use `list<T>` or a `tuple`")],
)
def test_types_componentize_js_cannot_build_say_what_to_use_instead(
    tmp_path: Path, case: str, advice: str
) -> None:
    # componentize-js 0.23's bindings generator panics on these types (checked by hand: a
    # one-function world with `list<u32, 3>` or `map<string, u32>` does not componentize)
    resolve = frontend.load(write(tmp_path, CASES[case][0]))
    with pytest.raises(WitgenError) as err:
        typescript.generate(
            resolve, [resolve.find_world("w")], backends.GenerateOptions(source="u.wit")
        )
    assert "componentize-js cannot build a component" in str(err.value)
    assert advice in str(err.value)


def test_accessor_is_refused_by_name(tmp_path: Path) -> None:
    body = "interface i {\n  level: get() -> u32;\n  level: set(v: u32);\n}"
    resolve = frontend.load(write(tmp_path, body))
    with pytest.raises(WitgenError, match=r"does not support accessors \(`level: get\(...\)`"):
        typescript.generate(
            resolve, [resolve.find_world("w")], backends.GenerateOptions(source="u.wit")
        )
