"""`generated/` holds the checked-in output for `wit/`; it must equal a fresh generation."""

from __future__ import annotations

from pathlib import Path

import pytest

from witgen import backends, frontend
from witgen.commands.common import source_label
from witgen.fsio import MANIFEST, manifest_text
from witgen.paths import DEFAULT_WIT, REPO_ROOT


def _is_build_output(rel: Path) -> bool:
    """Files a build or a test run may leave beside generated sources (all git-ignored)."""
    return (
        "__pycache__" in rel.parts
        or "target" in rel.parts
        or "node_modules" in rel.parts
        or rel.name in ("Cargo.lock", "go.sum")
        or rel.suffix in (".pyc", ".wasm")
    )


@pytest.mark.parametrize("lang", sorted(backends.available()))
def test_generated_matches_fresh_output(lang: str) -> None:
    resolve = frontend.load(DEFAULT_WIT)
    main = resolve.main_package
    assert main is not None
    worlds = sorted(resolve.packages[main].worlds.values())
    files = dict(
        backends.available()[lang].generate(
            resolve, worlds, backends.GenerateOptions(source=source_label(resolve))
        )
    )
    # `witgen generate` records what it wrote; the committed manifest must list exactly `files`.
    files[MANIFEST] = manifest_text(files)
    root = REPO_ROOT / "generated" / lang
    on_disk = {
        str(p.relative_to(root)): p.read_text(encoding="utf-8")
        for p in root.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and ".mypy_cache" not in p.parts
    }
    stale = sorted(k for k in files if on_disk.get(k) != files[k])
    extra = sorted(set(on_disk) - set(files))
    assert not stale and not extra, (
        f"generated/{lang} is out of date (stale: {stale}, extra: {extra}); "
        f"run: witgen generate --lang {lang} --out generated/{lang} (add --force if it refuses "
        "and every file it names is a stale generated one)"
    )


@pytest.mark.parametrize("spelling", [None, "wit", "wit/"])
def test_cli_output_does_not_depend_on_how_the_input_is_spelled(
    spelling: str | None, tmp_path: Path
) -> None:
    import subprocess
    import sys

    lang = sorted(backends.available())[0]
    out = tmp_path / lang
    cmd = [sys.executable, "-m", "witgen", "generate", "--lang", lang, "--out", str(out)]
    proc = subprocess.run(
        cmd + ([spelling] if spelling else []), cwd=REPO_ROOT, capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr
    root = REPO_ROOT / "generated" / lang
    for fresh in out.rglob("*"):
        if fresh.is_file():
            rel = fresh.relative_to(out)
            assert (root / rel).read_text(encoding="utf-8") == fresh.read_text(encoding="utf-8")
