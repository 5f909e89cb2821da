"""Every example plugin under examples/plugins/ and examples/rust/, and the processors of
examples/go/ and examples/typescript/, is a witgen project whose fixtures pass.

Each is copied (without build outputs) to a temporary folder, so the test builds what is
committed: the SDK is generated from the example's wit/ by `witgen build` itself.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.author.conftest import require_toolchain, witgen
from witgen.author.project import Project
from witgen.paths import REPO_ROOT

PLUGINS = sorted(p.parent for p in (REPO_ROOT / "examples" / "plugins").glob("*/witgen.toml"))
RUST_KINDS = sorted(p.parent for p in (REPO_ROOT / "examples" / "rust").glob("*/witgen.toml"))
OTHERS = [
    REPO_ROOT / "examples" / "go" / "processor",
    REPO_ROOT / "examples" / "typescript" / "processor",
]
EXAMPLES = PLUGINS + RUST_KINDS + OTHERS


def test_the_plan_examples_are_there() -> None:
    names = {p.name for p in PLUGINS}
    assert {"json-transformer-rust", "json-transformer-go", "json-transformer-ts"} <= names
    assert {"stream-aggregator", "protocol-parser", "anomaly-scorer"} <= names


def test_one_rust_example_per_kind() -> None:
    kinds = {Project.load(p).kind for p in RUST_KINDS}
    assert kinds == {"source", "destination", "processor", "transformer", "filter", "aggregator"}


@pytest.mark.parametrize("example", EXAMPLES, ids=[f"{p.parent.name}/{p.name}" for p in EXAMPLES])
def test_example_passes_its_fixtures(
    example: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    require_toolchain(Project.load(example).lang)
    root = tmp_path / example.name
    shutil.copytree(example, root, ignore=shutil.ignore_patterns("target", "sdk", "node_modules"))
    code, out, err = witgen(capsys, "test", root)
    assert code == 0, out + err
    last = out.splitlines()[-1]
    assert last.endswith(" passed, 0 failed") and not last.startswith("0 "), out
