"""Every world of the front end's valid-WIT corpus that the Go backend generates (it refuses
the rest by name: tests/test_backends_sweep.py) passes gofmt and go vet for wasip1.

The worlds' SDKs are laid out as packages of one Go module (one `go vet ./...` for all, so the
toolchain compiles the shared standard library once).
"""

from __future__ import annotations

from pathlib import Path

from corpus_worlds import corpus_worlds
from go.conftest import go_env, run
from witgen import backends
from witgen.diagnostics import WitgenError
from witgen.fsio import write_tree

MODULE = "corpus"


def test_corpus_sdks_are_gofmt_and_vet_clean(tmp_path: Path, go: str, gofmt: str) -> None:
    made, accessor_worlds = 0, []
    for case, resolve, name, world in corpus_worlds():
        folder = f"{case.stem}_{name}".replace("-", "_")
        options = backends.GenerateOptions(source=case.name, package_name=f"{MODULE}/{folder}")
        try:
            files = backends.available()["go"].generate(resolve, [world], options)
        except WitgenError:
            continue
        files = {path: text for path, text in files.items() if path != "go.mod"}
        write_tree(tmp_path / folder, files)
        made += 1
        if case.name.startswith("accessors_"):
            accessor_worlds.append(folder)
    assert made >= 60, f"only {made} corpus worlds generated Go"
    assert len(accessor_worlds) == 4, accessor_worlds  # Level() and SetLevel(v), vetted here
    (tmp_path / "go.mod").write_text(f"module {MODULE}\n\ngo 1.24\n")
    assert run([gofmt, "-d", "."], cwd=tmp_path) == ""
    run([go, "vet", "./..."], cwd=tmp_path, env=go_env())
