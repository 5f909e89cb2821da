"""Spans on IR nodes (so tools can point at the source), and `witgen check` / `witgen ir`
behaviour: exit codes, diagnostics format, one-line usage errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from witgen import frontend, ir

WIT = """package demo:spans@1.0.0;

interface types {
  record rec { field-a: u32 }
  variant var { case-a(u8), case-b }
  enum en { one, two }
  flags fl { read, write }
  f: func(param-a: rec) -> en;
}

world w {
  import types;
  export run: func();
}
"""


def _load(tmp_path: Path) -> ir.Resolve:
    path = tmp_path / "spans.wit"
    path.write_text(WIT, encoding="utf-8")
    return frontend.load(path)


def _at(span: object) -> tuple[int, int]:
    assert span is not None
    return (span.line, span.column)  # type: ignore[attr-defined]


def test_every_kind_of_node_carries_its_span(tmp_path: Path) -> None:
    r = _load(tmp_path)
    pkg = r.packages[r.main_package or 0]
    assert _at(pkg.span) == (1, 9)
    iface = r.interfaces[pkg.interfaces["types"]]
    assert _at(iface.span) == (3, 11)
    types = {r.types[t].name: r.types[t] for t in iface.types.values()}
    rec, var, en, fl = types["rec"], types["var"], types["en"], types["fl"]
    assert _at(rec.span) == (4, 10)
    assert isinstance(rec.kind, ir.Record) and _at(rec.kind.fields[0].span) == (4, 16)
    assert isinstance(var.kind, ir.Variant) and _at(var.kind.cases[1].span) == (5, 29)
    assert isinstance(en.kind, ir.Enum) and _at(en.kind.cases[1].span) == (6, 18)
    assert isinstance(fl.kind, ir.Flags) and _at(fl.kind.flags[1].span) == (7, 20)
    fn = iface.functions["f"]
    assert _at(fn.span) == (8, 3) and _at(fn.params[0].span) == (8, 11)
    world = r.worlds[pkg.worlds["w"]]
    assert _at(world.span) == (11, 7)
    assert _at(world.imports[0].span) == (12, 10)
    assert _at(world.exports[0].span) == (13, 10)


def _witgen(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "witgen", *args], capture_output=True, text=True, check=False
    )


def test_check_exits_0_for_valid_input(tmp_path: Path) -> None:
    path = tmp_path / "ok.wit"
    path.write_text(WIT, encoding="utf-8")
    proc = _witgen("check", str(path))
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""


def test_check_prints_located_diagnostics(tmp_path: Path) -> None:
    path = tmp_path / "bad.wit"
    path.write_text("package a:b;\ninterface i {\n  f: func(x: nope);\n}\n", encoding="utf-8")
    proc = _witgen("check", str(path))
    assert proc.returncode == 1
    assert proc.stderr.splitlines() == [
        "error: name `nope` does not exist",
        f" --> {path}:3:14",
        "  |",
        "3 |   f: func(x: nope);",
        "  |              ^^^^",
    ]
    assert "Traceback" not in proc.stderr


def test_missing_path_is_a_one_line_usage_error(tmp_path: Path) -> None:
    proc = _witgen("check", str(tmp_path / "missing.wit"))
    assert proc.returncode == 2
    assert len(proc.stderr.splitlines()) == 1


def test_ir_json_prints_the_resolve(tmp_path: Path) -> None:
    path = tmp_path / "ok.wit"
    path.write_text(WIT, encoding="utf-8")
    proc = _witgen("ir", "--json", str(path))
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["packages"][0]["name"] == "demo:spans@1.0.0"
