"""`witgen abi --json` names the instance each function lives in, so every function of a world
is told apart and its core signature equals wit-component's.

Found by comparing the sweep's 204 real worlds with `wasm-tools component embed --dummy`:
functions of inline interfaces (`export foo: interface { a: func(); }`, wit-component's
`exports` test) had `"interface": null`, like world-level functions of the same name, and an
interface imported under two names (`import primary: store; import backup: store;`) gave two
entries with the same interface id. The WIT is written for this test in those shapes.
"""

from __future__ import annotations

from pathlib import Path

from abi.test_signatures_vs_wasm_tools import dummy_signatures
from witgen import frontend
from witgen.commands.abi import abi_document

WIT = """package demo:inst@0.1.0;

interface store {
  get: func(key: string) -> option<list<u8>>;
}

world w {
  import primary: store;
  import backup: store;
  import store;
  import helper: interface {
    a: func(x: u64) -> string;
  }
  export a: func();
  export b: func(s: string, n: s64) -> tuple<s8, s16, s32, s64>;
  export shapes: interface {
    a: func(x: u32);
    b: func(x: string) -> string;
  }
}
"""


def test_every_function_is_named_by_its_instance_and_matches_wit_component(
    tmp_path: Path,
) -> None:
    src = tmp_path / "inst.wit"
    src.write_text(WIT, encoding="utf-8")
    resolve = frontend.load(src)
    doc = abi_document(resolve, resolve.find_world("w"))
    keys = [(f["interface"], f["name"], f["direction"]) for f in doc["functions"]]
    assert len(keys) == len(set(keys)), keys  # no two entries alike
    assert ("primary", "get", "import") in keys and ("backup", "get", "import") in keys
    assert ("demo:inst/store@0.1.0", "get", "import") in keys
    assert ("helper", "a", "import") in keys and ("shapes", "a", "export") in keys
    assert (None, "a", "export") in keys
    oracle = dummy_signatures(src, "w")
    for f in doc["functions"]:
        key = (f["interface"], f["name"], f["direction"])
        assert oracle[key] == (f["params"], f["results"]), key
