"""Seeded random WIT (random_wit.py) through the TypeScript backend: every SDK must be
prettier-clean (the backend's own line breaking must equal prettier's) and pass
`tsc --strict`. Seeds are fixed, so a failure reproduces; the nightly-style profile
(HYPOTHESIS_PROFILE=thorough) checks more of them."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.typescript.conftest import node_tool, run
from tests.typescript.random_wit import random_wit
from witgen import backends, frontend
from witgen.backends import typescript

SEEDS = range(300 if os.environ.get("HYPOTHESIS_PROFILE") == "thorough" else 40)


@pytest.fixture(scope="module")
def sdks(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One SDK per seed under a common root with a tsconfig.json that checks them all."""
    node_tool("tsc")
    root = tmp_path_factory.mktemp("random")
    for seed in SEEDS:
        wit = root / f"s{seed}.wit"
        wit.write_text(random_wit(seed), encoding="utf-8")
        resolve = frontend.load(wit)
        world = resolve.find_world("w")
        files = typescript.generate(resolve, [world], backends.GenerateOptions(source=wit.name))
        for rel, text in files.items():
            path = root / f"s{seed}" / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
    generated = json.loads((root / "s0" / "tsconfig.json").read_text())
    options = {**generated["compilerOptions"], "noEmit": True}
    config = {"compilerOptions": options, "include": ["s*/**/*.ts"]}
    (root / "tsconfig.json").write_text(json.dumps(config), encoding="utf-8")
    return root


def test_random_sdks_are_prettier_clean(sdks: Path) -> None:
    proc = run("prettier", "--check", *sorted(sdks.glob("s*/")))
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_random_sdks_typecheck_strict(sdks: Path) -> None:
    proc = run("tsc", "-p", sdks)
    assert proc.returncode == 0, proc.stdout + proc.stderr
