"""The IR's JSON form is byte-for-byte the document wasm-tools prints (load -> dump is lossless)."""

from __future__ import annotations

import json
import subprocess

from witgen import ir
from witgen.paths import DEFAULT_WIT

from conftest import require_tool


def test_wasm_tools_json_round_trips_through_ir() -> None:
    exe = require_tool("wasm-tools")
    out = subprocess.run(
        [exe, "component", "wit", "--json", str(DEFAULT_WIT)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    doc = json.loads(out)
    resolve = ir.from_json(doc)
    assert ir.to_json(resolve) == doc
    assert resolve.packages[resolve.main_package].name == "dataflare:core@1.0.0"
