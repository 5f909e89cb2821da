"""Generated output depends on the WIT, never on where the WIT lies or how its path is spelled.

The same contract is copied into two unrelated folders (one given as a directory, the other as a
file, one by absolute and one by relative path, from different working directories); every
backend and `witgen release` must write byte-identical trees from both, with no path of either
folder (or of the checkout witgen runs from) inside any file.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from witgen import backends
from witgen.paths import DEFAULT_WIT, REPO_ROOT


def _witgen(cwd: Path, *args: str) -> None:
    # the checkout's witgen, run from a folder outside the checkout
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    proc = subprocess.run(
        [sys.executable, "-m", "witgen", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    assert proc.returncode == 0, proc.stderr


def _tree(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and "__pycache__" not in p.parts
    }


@pytest.fixture(scope="module")
def two_copies(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    base = tmp_path_factory.mktemp("where")
    one = base / "first" / "contract"
    two = base / "second" / "nested" / "deeper"
    for folder in (one, two):
        folder.mkdir(parents=True)
        shutil.copy(DEFAULT_WIT / "dataflare.wit", folder / "dataflare.wit")
    return one, two


def _assert_same_and_path_free(a: Path, b: Path, *folders: Path) -> None:
    ta, tb = _tree(a), _tree(b)
    assert ta, f"nothing written to {a}"
    assert sorted(ta) == sorted(tb)
    differ = [name for name in ta if ta[name] != tb[name]]
    assert not differ, f"output differs with the input's location: {differ}"
    for name, data in ta.items():
        text = data.decode("utf-8", errors="replace")
        for folder in (*folders, REPO_ROOT):
            assert str(folder) not in text, f"{name} names the path {folder}"


@pytest.mark.parametrize("lang", sorted(backends.available()))
def test_generate_is_independent_of_the_input_location(
    lang: str, two_copies: tuple[Path, Path], tmp_path: Path
) -> None:
    one, two = two_copies
    out_a, out_b = tmp_path / "a", tmp_path / "b"
    # a directory by absolute path, from the first folder's parent
    _witgen(one.parent, "generate", "--lang", lang, str(one), "--out", str(out_a))
    # a file by relative path, from the second folder
    _witgen(two, "generate", "--lang", lang, "dataflare.wit", "--out", str(out_b))
    _assert_same_and_path_free(out_a, out_b, one, two, tmp_path)


def test_release_is_independent_of_the_input_location(
    two_copies: tuple[Path, Path], tmp_path: Path
) -> None:
    one, two = two_copies
    out_a, out_b = tmp_path / "a", tmp_path / "b"
    _witgen(one.parent, "release", str(one), "--out", str(out_a))
    _witgen(two, "release", "dataflare.wit", "--out", str(out_b))
    _assert_same_and_path_free(out_a, out_b, one, two, tmp_path)
