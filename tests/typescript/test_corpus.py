"""Every world of the front end's valid-WIT corpus (tests/frontend/corpus/valid) either
generates an SDK that passes `tsc --strict` and prettier, or is refused with a WitgenError that
names what is unsupported: never a crash, never broken TypeScript."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.typescript.conftest import node_tool, run
from witgen import backends, frontend
from witgen.backends import typescript
from witgen.diagnostics import WitgenError
from witgen.paths import REPO_ROOT

CORPUS = REPO_ROOT / "tests" / "frontend" / "corpus" / "valid"


@pytest.fixture(scope="module")
def sweep(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[Path], list[str]]:
    """Generate every world of every corpus case; returns (output dirs, refusal messages)."""
    node_tool("tsc")
    if not CORPUS.is_dir():
        pytest.fail(f"the WIT corpus {CORPUS} is missing")
    root = tmp_path_factory.mktemp("corpus")
    made: list[Path] = []
    refused: list[str] = []
    for case in sorted(CORPUS.iterdir()):
        try:
            resolve = frontend.load(case)
        except WitgenError:
            continue  # the front end's own tests judge whether it should have loaded
        main = resolve.main_package
        worlds = resolve.packages[main].worlds if main is not None else {}
        for name, world in worlds.items():
            options = backends.GenerateOptions(source=case.name)
            try:
                files = typescript.generate(resolve, [world], options)
            except WitgenError as err:
                refused.append(f"{case.name} {name}: {err}")
                continue
            out = root / f"{case.stem}--{name}"
            for rel, text in files.items():
                (out / rel).parent.mkdir(parents=True, exist_ok=True)
                (out / rel).write_text(text, encoding="utf-8")
            made.append(out)
    return made, refused


def test_most_corpus_worlds_generate(sweep: tuple[list[Path], list[str]]) -> None:
    made, refused = sweep
    assert len(made) >= 40, f"only {len(made)} worlds generated; refused: {refused}"
    for message in refused:  # refusals say what is unsupported
        assert "TypeScript backend does not support" in message, message
    # componentize-js binds no accessors yet: each corpus world with them is refused by name
    accessor_refusals = [m for m in refused if m.startswith("accessors_")]
    assert len(accessor_refusals) == 4, accessor_refusals
    assert all("does not support accessors" in m for m in accessor_refusals), accessor_refusals


def test_corpus_sdks_are_prettier_clean(sweep: tuple[list[Path], list[str]]) -> None:
    made, _ = sweep
    proc = run("prettier", "--check", *made)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_corpus_sdks_typecheck_strict(sweep: tuple[list[Path], list[str]]) -> None:
    made, _ = sweep

    def check(out: Path) -> str | None:
        proc = run("tsc", "--strict", "--noEmit", "-p", out)
        return None if proc.returncode == 0 else f"{out.name}:\n{proc.stdout}{proc.stderr}"

    with ThreadPoolExecutor(max_workers=4) as pool:
        failures = [f for f in pool.map(check, made) if f is not None]
    assert not failures, "\n".join(failures)
