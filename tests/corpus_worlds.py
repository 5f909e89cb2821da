"""The worlds of the front end's valid-WIT corpus, for the backend tests that generate each one."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

from witgen import frontend, ir
from witgen.diagnostics import WitgenError
from witgen.paths import REPO_ROOT

CORPUS = REPO_ROOT / "tests" / "frontend" / "corpus" / "valid"


def corpus_worlds() -> Iterator[tuple[Path, ir.Resolve, str, int]]:
    """(entry, its resolve, world name, world id) for every world of the main package of every
    corpus entry that loads with all features; the entries the front end refuses are left to its
    own tests, which judge whether it should have loaded them."""
    for case in sorted(p for p in CORPUS.iterdir() if p.suffix == ".wit" or p.is_dir()):
        try:
            resolve = frontend.load(case, all_features=True)
        except WitgenError:
            continue
        main = resolve.main_package
        assert main is not None
        for name, world in sorted(resolve.packages[main].worlds.items()):
            yield case, resolve, name, world
