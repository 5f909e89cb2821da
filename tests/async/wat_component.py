"""A hand-written async guest (core module in WAT + its WIT) made a validated component."""

from __future__ import annotations

import subprocess
from pathlib import Path

from conftest import require_tool


def wat_component(out: Path, wat: Path, wit: Path) -> bytes:
    """`wasm-tools` parse, embed, `component new` (which checks every core import and export
    against the WIT) and validate with every feature (async ABI included)."""
    tool = require_tool("wasm-tools")
    core, embedded, comp = out / "core.wasm", out / "embedded.wasm", out / "guest.wasm"
    for args in (
        ["parse", str(wat), "-o", str(core)],
        ["component", "embed", str(wit), str(core), "-o", str(embedded)],
        ["component", "new", str(embedded), "-o", str(comp)],
        ["validate", "--features", "all", str(comp)],
    ):
        subprocess.run([tool, *args], check=True, capture_output=True)
    return comp.read_bytes()
