"""`witgen abi` core signatures equal those of wit-component's dummy core modules.

`wasm-tools component embed --dummy-names legacy -w WORLD PATH -t` prints a core module with
every import lowered and every export lifted exactly as the canonical ABI dictates; it is an
independent oracle for `flatten_functype` (MAX_FLAT_PARAMS, MAX_FLAT_RESULTS, return areas,
retptrs, variant joins). A plain dummy lifts `async func`s synchronously, so async functions are
compared against a second dummy made with `--async-callback` (every import lowered and every
export lifted with the async ABI: `[async-lower]f`, `[async-lift]f`), where only the functions
the WIT declares async are checked.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from witgen import frontend
from witgen.commands.abi import abi_document
from witgen.paths import DEFAULT_WIT

from conftest import require_tool

CORPUS = Path(__file__).parent / "data" / "abi_corpus.wit"

_TYPE = re.compile(r"^\s*\(type \(;(\d+);\) \(func(.*)\)\)\s*$")
_IMPORT = re.compile(r'^\s*\(import "([^"]+)" "([^"]+)" \(func \(;\d+;\) \(type (\d+)\)')
_EXPORT = re.compile(r'^\s*\(export "([^"]+)" \(func (\d+)\)\)')
_FUNC = re.compile(r"^\s*\(func \(;(\d+);\) \(type (\d+)\)")


def _core_types(sig: str) -> tuple[list[str], list[str]]:
    params = re.findall(r"\(param ([^)]*)\)", sig)
    results = re.findall(r"\(result ([^)]*)\)", sig)
    return " ".join(params).split(), " ".join(results).split()


def dummy_signatures(
    path: Path, world: str, async_callback: bool = False
) -> dict[tuple[str | None, str, str], tuple[list[str], list[str]]]:
    """(interface, function, direction) -> (params, results) from the dummy core module."""
    exe = require_tool("wasm-tools")
    flags = ["--async-callback"] if async_callback else []
    text = subprocess.run(
        [
            exe,
            "component",
            "embed",
            "--dummy-names",
            "legacy",
            *flags,
            "-w",
            world,
            str(path),
            "-t",
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    types: dict[str, tuple[list[str], list[str]]] = {}
    func_types: dict[str, str] = {}
    imports: list[tuple[str, str, str]] = []
    exports: list[tuple[str, str]] = []
    for line in text.splitlines():
        if m := _TYPE.match(line):
            types[m.group(1)] = _core_types(m.group(2))
        elif m := _IMPORT.match(line):
            imports.append((m.group(1), m.group(2), m.group(3)))
        elif m := _EXPORT.match(line):
            exports.append((m.group(1), m.group(2)))
        elif m := _FUNC.match(line):
            func_types[m.group(1)] = m.group(2)
    out: dict[tuple[str | None, str, str], tuple[list[str], list[str]]] = {}
    for module, name, type_index in imports:
        if async_callback:
            name = name.removeprefix("[async-lower]")
        if module.startswith("[export]") or name.startswith("[") and "]" in name[:-1]:
            if not name.startswith(("[method]", "[static]", "[constructor]")):
                continue  # intrinsics (resources, tasks, streams...), not functions of the world
        iface = None if module == "$root" else module
        out[(iface, name, "import")] = types[type_index]
    for name, func_index in exports:
        if async_callback:
            if not name.startswith("[async-lift]"):
                continue
            name = name.removeprefix("[async-lift]")
        if name.startswith("cabi_") or name in ("_initialize",) or "[dtor]" in name:
            continue
        iface, _, fname = name.rpartition("#")
        out[(iface or None, fname, "export")] = types[func_types[func_index]]
    return out


@pytest.mark.parametrize(
    "path, world",
    [
        (CORPUS, "corpus"),
        (CORPUS, "importer"),
        (DEFAULT_WIT, "source-plugin"),
        (DEFAULT_WIT, "processor-plugin"),
        (DEFAULT_WIT, "aggregator-plugin"),
    ],
)
def test_core_signatures_match_wasm_tools(path: Path, world: str) -> None:
    require_tool("wasm-tools")
    resolve = frontend.load(path)
    doc = abi_document(resolve, resolve.find_world(world))
    ours = {
        (f["interface"], f["name"], f["direction"]): (f["params"], f["results"])
        for f in doc["functions"]
    }
    theirs = dummy_signatures(path, world)
    assert len(theirs) >= 7  # the parse found the functions
    assert ours == theirs


ASYNC_WORLDS = (
    [
        (Path(__file__).parents[1] / "async" / "wit" / name, world)
        for name, world in [
            ("broad.wit", "broad"),
            ("tally.wit", "tally-guest"),
            ("edge.wit", "edge"),
        ]
    ]
    + [
        (Path(__file__).parents[2] / "examples" / "contract-1.1.0", world)
        for world in ("streaming-source-plugin", "streaming-destination-plugin")
    ]
    + [
        (Path(__file__).parents[1] / "rust" / "corpus" / "async.wit", world)
        for world in (
            "async-shapes",
            "async-resource-export",
            "async-resource-import",
            "async-world-resource",
        )
    ]
)


@pytest.mark.parametrize("path, world", ASYNC_WORLDS, ids=lambda v: getattr(v, "name", v))
def test_async_core_signatures_match_wasm_tools(path: Path, world: str) -> None:
    require_tool("wasm-tools")
    resolve = frontend.load(path)
    doc = abi_document(resolve, resolve.find_world(world))
    ours = {
        (f["interface"], f["name"], f["direction"]): (f["params"], f["results"])
        for f in doc["functions"]
        if f["async"]
    }
    assert ours, "the world declares async functions"
    theirs = dummy_signatures(path, world, async_callback=True)
    assert {key: theirs.get(key) for key in ours} == ours
