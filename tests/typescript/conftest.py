"""Shared helpers for the TypeScript backend tests: the npm toolchain under .toolchains/node/
(installed by .ci/install.d/typescript.sh) and running its tools."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from witgen.paths import REPO_ROOT
from witgen.toolchains import typescript as ts_recipe

NODE_BIN = ts_recipe.node_bin()  # where `witgen toolchain install typescript` puts them
GENERATED = REPO_ROOT / "generated" / "typescript"
EXAMPLE = REPO_ROOT / "examples" / "typescript" / "processor"
KITCHEN_WIT = Path(__file__).parent / "wit" / "kitchen.wit"

# compiler options for ad-hoc checks of single files (the generated tsconfig.json's, minus I/O)
TSC_FLAGS = [
    "--strict",
    "--noEmit",
    "--target",
    "es2022",
    "--module",
    "es2022",
    "--moduleResolution",
    "bundler",
    "--lib",
    "es2022,esnext.disposable",
    "--verbatimModuleSyntax",
]


def node_tool(name: str) -> Path:
    """A tool from the npm toolchain; missing is a failure in CI, a skip with a reason locally."""
    path = NODE_BIN / name
    if not path.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{path} is missing; .ci/install.d/typescript.sh must install it")
        pytest.skip(f"{name} is not installed (run: witgen toolchain install typescript)")
    return path


def run(tool: str, *args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run a toolchain binary and capture its output (never raises on a non-zero exit)."""
    return subprocess.run(
        [str(node_tool(tool)), *map(str, args)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
    )


def build_example() -> Path:
    """The example's component, built by `witgen build` (the TypeScript recipe)."""
    from witgen.author import builder
    from witgen.author.project import Project
    from witgen.diagnostics import WitgenError

    node_tool("componentize-js")  # skips (locally) or fails (CI) without the toolchain
    try:
        return builder.build(Project.load(EXAMPLE)).component
    except WitgenError as err:
        pytest.fail(f"building {EXAMPLE}: {err}")
