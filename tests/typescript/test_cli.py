"""`witgen generate --lang typescript` from the command line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.typescript.conftest import GENERATED


def witgen(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "witgen", *map(str, args)], capture_output=True, text=True
    )


def test_cli_writes_the_same_sdk_as_the_checked_in_one(tmp_path: Path) -> None:
    out = tmp_path / "sdk"
    proc = witgen("generate", "--lang", "typescript", "--out", out)
    assert proc.returncode == 0, proc.stderr
    written = {str(p.relative_to(out)) for p in out.rglob("*") if p.is_file()}
    checked_in = {str(p.relative_to(GENERATED)) for p in GENERATED.rglob("*") if p.is_file()}
    assert written == checked_in
    assert (out / "processor-plugin.ts").read_text() == (
        GENERATED / "processor-plugin.ts"
    ).read_text()


def test_cli_one_world_and_package_name(tmp_path: Path) -> None:
    out = tmp_path / "sdk"
    proc = witgen(
        "generate",
        "--lang",
        "typescript",
        "--world",
        "filter-plugin",
        "--name",
        "@acme/f",
        "--out",
        out,
    )
    assert proc.returncode == 0, proc.stderr
    expected = ["filter-plugin.ts", "runtime.ts", "stateful.ts"]  # stateful.ts: the class shape
    assert sorted(p.name for p in out.glob("*.ts")) == expected
    assert sorted(p.name for p in (out / "exports").iterdir()) == ["dataflare-core-filter.ts"]
    package = json.loads((out / "package.json").read_text())
    assert (package["name"], package["version"], package["type"]) == ("@acme/f", "1.0.0", "module")


def test_cli_unknown_world_is_a_usage_error(tmp_path: Path) -> None:
    proc = witgen("generate", "--lang", "typescript", "--world", "nope", "--out", tmp_path / "x")
    assert proc.returncode == 2
    assert "no world named `nope`" in proc.stderr and "Traceback" not in proc.stderr
