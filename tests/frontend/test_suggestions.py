"""Unknown names: the front end suggests the closest existing name, `--world` lists the worlds.

The error itself (message, file:line:column) stays what wit-parser reports; the suggestion is an
extra `= help: did you mean ...?` line, and only when a name is close.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import require_tool
from witgen import frontend
from witgen.diagnostics import WitError, did_you_mean
from witgen.paths import DEFAULT_WIT

BASE = """package a:b;
interface types {
  record rec { x: u32 }
  type my-list = list<rec>;
}
interface i {
  use types.{rec, my-list};
  f: func(x: string) -> my-list;
}
world base { import types; }
world w { import i; include base; }
"""


def _error(tmp_path: Path, text: str) -> WitError:
    path = tmp_path / "t.wit"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(WitError) as info:
        frontend.load(path)
    return info.value


def test_the_base_package_is_valid(tmp_path: Path) -> None:
    path = tmp_path / "t.wit"
    path.write_text(BASE, encoding="utf-8")
    frontend.load(path)


@pytest.mark.parametrize(
    "old, new, message, line, column, meant",
    [
        ("x: u32", "x: u23", "type `u23` does not exist", 3, 19, "u32"),
        ("list<rec>", "list<recd>", "type `recd` does not exist", 4, 23, "rec"),
        ("{rec, my-list}", "{recc, my-list}", "name `recc` does not exist", 7, 14, "rec"),
        ("x: string", "x: strng", "name `strng` does not exist", 8, 14, "string"),
        ("-> my-list", "-> my-lst", "name `my-lst` does not exist", 8, 25, "my-list"),
        ("use types.", "use typs.", "interface or world `typs` does not exist", 7, 7, "types"),
        ("import i;", "import ii;", "interface or world `ii` does not exist", 11, 18, "i"),
        (
            "include base;",
            "include bse;",
            "interface or world `bse` does not exist",
            11,
            29,
            "base",
        ),
    ],
)
def test_unknown_name_suggests_the_closest(
    tmp_path: Path, old: str, new: str, message: str, line: int, column: int, meant: str
) -> None:
    assert BASE.count(old) == 1
    err = _error(tmp_path, BASE.replace(old, new))
    assert err.message == message
    assert err.span is not None and (err.span.line, err.span.column) == (line, column)
    # the location is wasm-tools' own
    wasm_tools = require_tool("wasm-tools")
    proc = subprocess.run(
        [wasm_tools, "component", "wit", str(tmp_path / "t.wit")], capture_output=True, text=True
    )
    assert proc.returncode != 0
    assert f"t.wit:{line}:{column}" in proc.stderr, proc.stderr
    assert err.help == f"did you mean `{meant}`?"
    rendered = err.render().splitlines()
    assert rendered[0] == f"error: {message}"
    assert rendered[-1] == f"  = help: did you mean `{meant}`?"


def test_no_suggestion_when_nothing_is_close(tmp_path: Path) -> None:
    err = _error(tmp_path, BASE.replace("x: string", "x: zzzzzz"))
    assert err.message == "name `zzzzzz` does not exist"
    assert err.help is None
    assert "help" not in err.render()


def test_names_in_dependency_packages(tmp_path: Path) -> None:
    (tmp_path / "deps").mkdir()
    (tmp_path / "deps" / "dep.wit").write_text(
        "package a:dep;\ninterface logging { type lvl = u8; }\n", encoding="utf-8"
    )
    main = tmp_path / "main.wit"
    main.write_text("package a:main;\nworld w { import a:dep/loging; }\n", encoding="utf-8")
    with pytest.raises(WitError) as info:
        frontend.load(tmp_path)
    assert info.value.message == "interface 'loging' not found in package 'a:dep'"
    assert info.value.help == "did you mean `logging`?"
    main.write_text("package a:main;\nworld w { import a:dp/logging; }\n", encoding="utf-8")
    with pytest.raises(WitError) as info:
        frontend.load(tmp_path)
    assert info.value.message.startswith("package 'a:dp' not found. known packages:")
    assert info.value.help == "did you mean `a:dep`?"


def test_did_you_mean() -> None:
    names = ["processor-plugin", "source-plugin", "filter-plugin"]
    assert did_you_mean("procesor-plugin", names) == "processor-plugin"
    assert did_you_mean("Processor-Plugin", names) == "processor-plugin"
    assert did_you_mean("proc", names) == "processor-plugin"  # the start of exactly one name
    assert did_you_mean("plugin", names) is None
    assert did_you_mean("zzz", names) is None


def _witgen(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "witgen", *args], capture_output=True, text=True, timeout=300
    )


WORLDS = "source-plugin, destination-plugin, processor-plugin, transformer-plugin, filter-plugin"


@pytest.mark.parametrize(
    "args",
    [
        ["generate", "--lang", "rust", "--out", "{tmp}/out"],
        ["abi"],
        ["compat", str(DEFAULT_WIT), str(DEFAULT_WIT)],
    ],
    ids=["generate", "abi", "compat"],
)
def test_unknown_world_lists_the_worlds(tmp_path: Path, args: list[str]) -> None:
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    proc = _witgen(*args, "--world", "procesor-plugin")
    assert proc.returncode == 2, proc.stderr
    (line,) = proc.stderr.strip().splitlines()
    assert "no world named `procesor-plugin`" in line
    assert "did you mean `processor-plugin`?" in line
    assert f"worlds: {WORLDS}, aggregator-plugin" in line
    proc = _witgen(*args, "--world", "dataflare:core/filtr-plugin@1.0.0")
    assert proc.returncode == 2, proc.stderr
    (line,) = proc.stderr.strip().splitlines()
    assert "did you mean `dataflare:core/filter-plugin@1.0.0`?" in line
    assert "worlds: dataflare:core/source-plugin@1.0.0, " in line
    proc = _witgen(*args, "--world", "dataflare:core/zzz@1.0.0")
    assert proc.returncode == 2, proc.stderr
    (line,) = proc.stderr.strip().splitlines()
    assert "did you mean" not in line and "worlds: dataflare:core/source-plugin@1.0.0, " in line
