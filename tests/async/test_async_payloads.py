"""`witgen.abi.async_payloads` against wit-component: the indexes in core import names of each
function's future/stream types, read from `wasm-tools component embed --dummy-names legacy
--async-callback` (a core module importing every built-in under its conventional name)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from conftest import require_tool
from witgen import frontend, ir
from witgen.abi.async_payloads import index_of, payloads
from witgen.hostrt._core import ModuleInfo

ROOT = Path(__file__).resolve().parents[2]
NAMES = re.compile(r"^\[(future|stream)-new-(\d+)\](.+)$")

MIXED = """package t:n@1.0.0;
interface i {
  record r { s: stream<u8>, f: future<u32> }
  resource res {
    pull: func(n: u32) -> stream<tuple<u32, future<string>>>;
  }
  f1: async func(a: stream<u32>, b: stream<u32>, c: future<u8>) -> stream<r>;
  f2: func(x: r, y: list<future<string>>) -> option<stream<stream<u8>>>;
  f3: func(x: future, y: stream) -> result<future<r>, stream<u32>>;
  f4: func(m: map<string, future<u8>>, v: variant-ish) -> tuple<stream<u8>, future<u8>>;
  variant variant-ish { a(stream<u64>), b, c(future<u64>) }
  type alias = stream<u8>;
  f5: func(a: alias, b: borrow<res>) -> alias;
}
world w { export i; }
"""


def dummy_names(tool: str, wit: Path, world: str) -> set[tuple[str, str, int]]:
    out = wit.with_suffix(f".{world}.wasm")
    subprocess.run(
        [tool, "component", "embed", "--dummy-names", "legacy", "--async-callback"]
        + ["--all-features", "--world", world, str(wit), "-o", str(out)],
        check=True,
        capture_output=True,
    )
    found = set()
    for _, name in ModuleInfo(out.read_bytes()).imports:
        match = NAMES.match(name)
        if match:
            found.add((match.group(3), match.group(1), int(match.group(2))))
    return found


def ours(resolve: ir.Resolve, world: str) -> set[tuple[str, str, int]]:
    main = resolve.main_package
    wid = next(i for i, w in enumerate(resolve.worlds) if w.name == world and w.package == main)
    found = set()
    for entry in resolve.worlds[wid].exports:
        item = entry.item
        if isinstance(item, ir.WorldInterface):
            funcs = list(resolve.interfaces[item.id].functions.values())
        elif isinstance(item, ir.WorldFunction):
            funcs = [item.function]
        else:
            funcs = []
        for func in funcs:
            for p in payloads(resolve, func):
                found.add((func.name, "stream" if p.is_stream else "future", p.index))
                assert index_of(resolve, func, p.type_id) == p.index
    return found


@pytest.mark.parametrize(
    "source, worlds",
    [
        (None, ["w"]),
        (ROOT / "examples" / "contract-1.1.0", ["streaming-source-plugin"]),
        (ROOT / "examples" / "contract-1.1.0", ["streaming-destination-plugin"]),
        (ROOT / "tests" / "async" / "guest.wit", ["guest"]),
    ],
)
def test_indexes_match_wit_component(
    tmp_path: Path, source: Path | None, worlds: list[str]
) -> None:
    tool = require_tool("wasm-tools")
    if source is None:
        source = tmp_path / "mixed.wit"
        source.write_text(MIXED, encoding="utf-8")
    elif source.is_dir():
        source = source / "dataflare.wit"
    resolve = frontend.load(source, all_features=True)
    for world in worlds:
        expected = dummy_names(tool, source, world)
        assert expected, "the dummy module names no future or stream built-in"
        assert ours(resolve, world) == expected
