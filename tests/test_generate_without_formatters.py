"""`witgen generate --lang rust|go` needs no rustfmt, gofmt or Go: the backends lay their output
out as those formatters would (the formatters run only as checks, in tests/rust and tests/go).

The generator runs in a subprocess whose PATH holds nothing but the Python interpreter, and its
output must equal the committed generated/rust and generated/go byte for byte (those are checked
rustfmt- and gofmt-clean by the language tests)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from witgen.paths import REPO_ROOT


def _python_only_path(tmp_path: Path) -> str:
    """A PATH folder holding only a `python3` that runs this interpreter."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "python3").symlink_to(Path(sys.executable).resolve())
    return str(bin_dir)


def _tree(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file()
        and not {"target", "node_modules", "__pycache__"} & set(p.relative_to(root).parts)
        and p.name not in ("Cargo.lock", "go.sum")
    }


@pytest.mark.parametrize("lang", ["rust", "go"])
def test_generate_without_formatters_equals_committed_output(tmp_path: Path, lang: str) -> None:
    path = _python_only_path(tmp_path)
    env = {k: v for k, v in os.environ.items() if k not in ("GOROOT", "CARGO_HOME", "RUSTUP_HOME")}
    env.update(PATH=path, PYTHONPATH=str(REPO_ROOT))
    probe = subprocess.run(
        [
            "python3",
            "-c",
            "import shutil; print([shutil.which(t) for t in "
            "('rustfmt', 'gofmt', 'go', 'cargo')])",
        ],
        env=env,
        capture_output=True,
        text=True,
    )
    assert probe.stdout.strip() == "[None, None, None, None]", probe.stdout + probe.stderr
    out = tmp_path / "out"
    proc = subprocess.run(
        ["python3", "-m", "witgen", "generate", "--lang", lang, "--out", str(out)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    fresh, committed = _tree(out), _tree(REPO_ROOT / "generated" / lang)
    differing = sorted(k for k in set(fresh) | set(committed) if fresh.get(k) != committed.get(k))
    assert not differing, f"without formatters, generated/{lang} differs in {differing}"
