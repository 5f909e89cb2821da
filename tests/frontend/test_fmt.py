"""`witgen fmt` and the WIT printer: same text as wasm-tools, and a lossless round trip.

1. For every valid corpus entry and installed real-world package, `print_wit` of our IR is
   byte-identical to `wasm-tools component wit --all-features` (the printer we imitate).
2. Round trip: the `fmt` text parses again (with our front end and with wasm-tools) to the same
   IR as the original. Reprinting may renumber arena ids (wasm-tools' printer moves a
   resource's methods before free functions and imports before exports) and order function
   maps differently, so IRs are compared after replacing every id with what it names.
3. The command: stdout, `--check` (exit 1 and a diff), `--write`, `--output`, errors.

`witgen fmt` formats source files one by one (`witgen.wit_format`, comments kept); the printer
of the resolved package is `witgen fmt --resolved`. Comments, modes and symlinks:
test_fmt_comments.py.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from wit_oracle import (
    ALL_FEATURES,
    INVALID,
    REPO,
    VALID,
    corpus_entries,
    real_world_packages,
    wasm_tools,
    write_scratch,
)

from conftest import require_tool
from witgen import frontend, ir
from witgen.diagnostics import WitgenError
from witgen.commands.fmt import format_resolve
from witgen.wit_printer import print_wit

VALID_ENTRIES = [pytest.param(e, id=e.name) for e in corpus_entries(VALID)]


@pytest.fixture(autouse=True)
def _wasm_tools_installed() -> None:
    require_tool("wasm-tools")


# ---------------------------------------------------------------------------- same text


@pytest.mark.parametrize("entry", VALID_ENTRIES)
def test_printer_matches_wasm_tools_text(entry: Path) -> None:
    expected = wasm_tools(entry, ALL_FEATURES, as_json=False)
    assert expected.ok, expected.stderr
    assert print_wit(frontend.load(entry, all_features=True)) == expected.stdout


@pytest.mark.parametrize("name, path", real_world_packages())
def test_printer_matches_wasm_tools_on_real_world_wit(name: str, path: Path) -> None:
    expected = wasm_tools(path, ALL_FEATURES, as_json=False)
    if not expected.ok:
        # A package whose deps live beside it, not in its deps/: both tools must refuse it.
        with pytest.raises(WitgenError):
            frontend.load(path, all_features=True)
        return
    assert print_wit(frontend.load(path, all_features=True)) == expected.stdout


# ---------------------------------------------------------------------------- round trip


def formatted_copy(entry: Path) -> tuple[Path, str]:
    """Write `fmt`'s text for `entry` to a scratch place that resolves the same deps."""
    text = format_resolve(frontend.load(entry, all_features=True), entry)
    if entry.is_file():
        return write_scratch(text, entry.name), text
    main = write_scratch(text, "main.wit")
    deps = main.parent / "deps"
    if (entry / "deps").is_dir() and not deps.exists():
        try:
            deps.symlink_to((entry / "deps").resolve(), target_is_directory=True)
        except FileExistsError:
            pass
    return main.parent, text


@pytest.mark.parametrize("entry", VALID_ENTRIES)
def test_fmt_round_trips_to_the_same_ir(entry: Path) -> None:
    original = semantic(wasm_tools(entry, ALL_FEATURES).json())
    copy, text = formatted_copy(entry)
    theirs = wasm_tools(copy, ALL_FEATURES)
    assert theirs.ok, f"wasm-tools rejects fmt output:\n{theirs.stderr}\n{text}"
    assert semantic(theirs.json()) == original
    ours = ir.to_json(frontend.load(copy, all_features=True))
    assert semantic(ours) == original
    # Formatting formatted text changes nothing; docs whose lines start with whitespace lose
    # some of it on each pass (see `semantic`), so those converge within a few passes.
    passes = 1
    while True:
        copy, again = formatted_copy(copy)
        if again == text:
            break
        passes, text = passes + 1, again
        assert passes <= 8, "fmt does not converge"
    assert passes == 1 or entry.name.startswith("docs_"), f"fmt needed {passes} passes"


def semantic(doc: dict[str, Any]) -> Any:
    """The IR JSON with every arena index replaced by what it names, dict order ignored.

    Docs are compared with each line's leading whitespace removed when some line starts with
    whitespace: wasm-tools' own printer writes such docs in a way its parser reads back
    differently (`wasm-tools component wit x.wit | wasm-tools component wit` changes them too).
    """
    packages = doc["packages"]
    ifaces = doc["interfaces"]
    types = doc["types"]
    worlds = doc["worlds"]
    pkg_name = {i: p["name"] for i, p in enumerate(packages)}
    inline: dict[int, str] = {}
    for w in worlds:
        for direction in ("imports", "exports"):
            for key, entry in w[direction].items():
                if "interface" in entry and not key.startswith("interface-"):
                    inline[entry["interface"]["id"]] = f"{pkg_name[w['package']]}/{w['name']}.{key}"

    def iface_name(i: int) -> str:
        if i in inline:
            return inline[i]
        return f"{pkg_name[ifaces[i]['package']]}/{ifaces[i]['name']}"

    def owner(o: Any) -> Any:
        if o is None:
            return None
        ((kind, idx),) = o.items()
        if kind == "interface":
            return iface_name(idx)
        return f"{pkg_name[worlds[idx]['package']]}/world {worlds[idx]['name']}"

    def ty(t: Any) -> Any:
        if not isinstance(t, int):
            return t
        td = types[t]
        if td["name"] is not None:
            return ("named", owner(td["owner"]), td["name"])
        return ("anon", kind(td["kind"]))

    def kind(k: Any) -> Any:
        if k == "resource":
            return k
        ((tag, body),) = k.items()
        if tag in ("record",):
            return (tag, tuple((f["name"], ty(f["type"]), docs(f)) for f in body["fields"]))
        if tag == "variant":
            return (tag, tuple((c["name"], ty(c["type"]), docs(c)) for c in body["cases"]))
        if tag in ("enum", "flags"):
            items = body["cases" if tag == "enum" else "flags"]
            return (tag, tuple((c["name"], docs(c)) for c in items))
        if tag == "handle":
            ((hk, rid),) = body.items()
            return (tag, hk, ty(rid))
        if tag == "tuple":
            return (tag, tuple(ty(x) for x in body["types"]))
        if tag == "result":
            return (tag, ty(body["ok"]), ty(body["err"]))
        if tag in ("map", "fixed-length-list"):
            return (tag, ty(body[0]), body[1] if tag == "fixed-length-list" else ty(body[1]))
        return (tag, ty(body))

    def docs(obj: dict[str, Any]) -> Any:
        text = obj.get("docs", {}).get("contents")
        if text is None:
            return None
        lines = text.split("\n")
        if any(line[:1].isspace() for line in lines if line):
            return "\n".join(line.lstrip() for line in lines)
        return text

    def func(f: dict[str, Any]) -> Any:
        k = f["kind"]
        if isinstance(k, dict):
            ((kname, rid),) = k.items()
            k = (kname, ty(rid))
        return (
            f["name"],
            k,
            tuple((p["name"], ty(p["type"])) for p in f["params"]),
            ty(f.get("result")),
            docs(f),
            repr(f.get("stability")),
        )

    def interface(i: int) -> Any:
        it = ifaces[i]
        return {
            "types": {n: typedef(t) for n, t in it["types"].items()},
            "functions": {n: func(f) for n, f in it["functions"].items()},
            "docs": docs(it),
            "stability": repr(it.get("stability")),
        }

    def typedef(t: int) -> Any:
        td = types[t]
        return (kind(td["kind"]), owner(td["owner"]), docs(td), repr(td.get("stability")))

    def item(key: str, it: dict[str, Any]) -> tuple[str, Any]:
        ((tag, body),) = it.items()
        if tag == "interface":
            i = body["id"]
            name = iface_name(i) if key.startswith("interface-") else key
            content = interface(i) if i in inline else None
            return name, (tag, content, docs(body), repr(body.get("stability")))
        if tag == "function":
            return key, (tag, func(body))
        return key, (tag, typedef(body))

    def world(w: dict[str, Any]) -> Any:
        return {
            "imports": dict(item(k, v) for k, v in w["imports"].items()),
            "exports": dict(item(k, v) for k, v in w["exports"].items()),
            "docs": docs(w),
            "stability": repr(w.get("stability")),
        }

    return {
        p["name"]: {
            "docs": docs(p),
            "interfaces": {n: interface(i) for n, i in p["interfaces"].items()},
            "worlds": {n: world(worlds[w]) for n, w in p["worlds"].items()},
        }
        for p in packages
    }


def test_semantic_view_sees_real_differences() -> None:
    a = wasm_tools(VALID / "record_basic.wit", ALL_FEATURES).json()
    b = wasm_tools(VALID / "result_all_forms.wit", ALL_FEATURES).json()
    assert semantic(a) == semantic(a)
    assert semantic(a) != semantic(b)
    changed = wasm_tools(
        write_scratch("package demo:rec;\n\ninterface i {\n  record point { x: f64, y: f32 }\n}\n"),
        ALL_FEATURES,
    ).json()
    same_name = wasm_tools(
        write_scratch("package demo:rec;\n\ninterface i {\n  record point { x: f64, y: f64 }\n}\n"),
        ALL_FEATURES,
    ).json()
    assert semantic(changed) != semantic(same_name)


# ---------------------------------------------------------------------------- the command


def witgen(*args: str | Path) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        [sys.executable, "-m", "witgen", *map(str, args)], capture_output=True, text=True, cwd=REPO
    )
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc


UNFORMATTED = "package demo:x;\ninterface i { record r { a: u8, b: string } f: func(x: r) -> r; }\n"


def test_fmt_prints_canonical_text_to_stdout(tmp_path: Path) -> None:
    src = tmp_path / "x.wit"
    src.write_text(UNFORMATTED)
    proc = witgen("fmt", src)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == (
        "package demo:x;\n\ninterface i {\n  record r {\n    a: u8,\n    b: string,\n  }\n\n"
        "  f: func(x: r) -> r;\n}\n\n"
    )
    assert src.read_text() == UNFORMATTED  # stdout mode writes nothing


def test_fmt_check_exits_1_with_a_diff_then_write_fixes_it(tmp_path: Path) -> None:
    src = tmp_path / "x.wit"
    src.write_text(UNFORMATTED)
    check = witgen("fmt", "--check", src)
    assert check.returncode == 1
    assert "not formatted" in check.stderr and re.search(r"^\+  record r \{$", check.stderr, re.M)
    assert src.read_text() == UNFORMATTED
    assert witgen("fmt", "--write", src).returncode == 0
    assert witgen("fmt", "--check", src).returncode == 0
    assert wasm_tools(src, ALL_FEATURES, as_json=False).stdout == src.read_text()


def test_fmt_output_target_and_check_against_it(tmp_path: Path) -> None:
    src = tmp_path / "x.wit"
    src.write_text(UNFORMATTED)
    out = tmp_path / "out" / "formatted.wit"
    assert witgen("fmt", src, "--output", out).returncode == 0
    assert witgen("fmt", src, "--check", "--output", out).returncode == 0
    out.write_text(out.read_text() + "\n// trailing\n")
    assert witgen("fmt", src, "--check", "--output", out).returncode == 1


def test_fmt_keeps_unstable_items_docs_and_attributes() -> None:
    proc = witgen("fmt", VALID / "unstable_everywhere.wit")
    assert proc.returncode == 0, proc.stderr
    assert "@unstable(feature = iface-feature)\ninterface gated {" in proc.stdout
    proc = witgen("fmt", VALID / "deprecated.wit")
    assert (
        "  @since(version = 1.0.0)\n  @deprecated(version = 2.0.0)\n  old: func();" in proc.stdout
    )


def test_fmt_package_directory_leaves_deps_out() -> None:
    proc = witgen("fmt", VALID / "deps_transitive")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("package demo:top;")
    assert "package lib:" not in proc.stdout


def test_fmt_output_of_multi_file_package_is_a_usage_error(tmp_path: Path) -> None:
    """A package of several files is formatted file by file (tests/frontend/
    test_fmt_comments.py); one --output file cannot hold them."""
    proc = witgen("fmt", VALID / "multi_file", "--output", tmp_path / "out.wit")
    assert proc.returncode == 2
    assert proc.stderr.startswith("error: ") and len(proc.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "out.wit").exists()


def test_fmt_invalid_input_is_a_located_error() -> None:
    proc = witgen("fmt", INVALID / "dup_field.wit")
    assert proc.returncode == 1
    assert proc.stderr.startswith("error: duplicate field `a`")
    assert "dup_field.wit:4:22" in proc.stderr


def test_fmt_missing_path_exit_2() -> None:
    proc = witgen("fmt", "nowhere.wit")
    assert proc.returncode == 2
    assert len(proc.stderr.strip().splitlines()) == 1


def test_fmt_without_path_prints_the_default_contract() -> None:
    proc = witgen("fmt")
    assert proc.returncode == 0, proc.stderr
    assert "\npackage dataflare:core@" in "\n" + proc.stdout
    assert semantic(wasm_tools(write_scratch(proc.stdout), ALL_FEATURES).json()) == semantic(
        wasm_tools(REPO / "wit", ALL_FEATURES).json()
    )
