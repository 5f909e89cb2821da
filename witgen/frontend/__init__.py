"""The WIT front end: source files -> AST (Lark) -> resolved IR (`witgen.ir.Resolve`).

`load` is the only entry point the rest of witgen uses.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

from witgen import ir
from witgen.diagnostics import UsageError, WitError
from witgen.paths import DEFAULT_WIT


def load(
    path: Path | str | None = None,
    *,
    features: frozenset[str] = frozenset(),
    all_features: bool = False,
) -> ir.Resolve:
    """Parse and resolve a `.wit` file or a package directory (with its `deps/`).

    Raises `WitError` (located) for invalid WIT and `UsageError` for a bad path.
    """
    # TEMPORARY until the native front end lands: delegate to wasm-tools. Spans are missing.
    path = Path(path) if path is not None else DEFAULT_WIT
    if not path.exists():
        raise UsageError(f"no such file or directory: {path}")
    exe = shutil.which("wasm-tools")
    if exe is None:
        raise UsageError("wasm-tools is not installed (temporary front end)")
    cmd = [exe, "component", "wit", "--json", str(path)]
    if all_features:
        cmd.append("--all-features")
    elif features:
        cmd += ["--features", ",".join(sorted(features))]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise WitError(proc.stderr.strip())
    return ir.from_json(json.loads(proc.stdout))
