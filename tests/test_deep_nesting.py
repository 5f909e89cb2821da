"""Types nested as deeply as the front end accepts (`MAX_TYPE_DEPTH`, through named types) work in
every command that walks them; one level more is a located error, never a RecursionError."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from witgen import backends
from witgen.frontend.limits import MAX_TYPE_DEPTH
from witgen.paths import REPO_ROOT


def chain(kind: str, depth: int) -> str:
    """A package whose deepest type nests exactly `depth` levels."""
    lines = ["package deep:chain;", "", "interface deep {"]
    if kind == "records":  # record r1 { p: r0 } ...: one level per record
        lines.append("  record r0 { x: u32 }")
        lines += [f"  record r{k} {{ p: r{k - 1} }}" for k in range(1, depth)]
        top = f"r{depth - 1}"
    else:  # type t1 = option<t0> ...: one level per option (aliases add none)
        lines.append("  type t0 = u32;")
        lines += [f"  type t{k} = option<t{k - 1}>;" for k in range(1, depth + 1)]
        top = f"t{depth}"
    lines += [f"  roundtrip: func(v: {top}) -> {top};", "}", "", "world plugin {"]
    lines += ["  import deep;", "  export deep;", "}", ""]
    return "\n".join(lines)


def witgen(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "witgen", *args],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
    )


@pytest.fixture(scope="module", params=["records", "options"])
def deepest(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("deep") / f"{request.param}.wit"
    path.write_text(chain(request.param, MAX_TYPE_DEPTH), encoding="utf-8")
    return path


@pytest.mark.parametrize("command", [["check"], ["ir", "--json"], ["abi"], ["abi", "--json"]])
def test_front_end_and_abi_at_the_maximum_depth(deepest: Path, command: list[str]) -> None:
    proc = witgen(*command, str(deepest))
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stderr == ""


@pytest.mark.parametrize("lang", sorted(backends.available()))
def test_generate_at_the_maximum_depth(deepest: Path, lang: str, tmp_path: Path) -> None:
    proc = witgen("generate", "--lang", lang, str(deepest), "--out", str(tmp_path / "out"))
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize("kind", ["records", "options"])
@pytest.mark.parametrize("command", [["check"], ["abi"], ["generate", "--lang", "go"]])
def test_one_level_deeper_is_a_located_error(kind: str, command: list[str], tmp_path: Path) -> None:
    path = tmp_path / "too-deep.wit"
    path.write_text(chain(kind, MAX_TYPE_DEPTH + 1), encoding="utf-8")
    proc = witgen(
        *command, str(path), *(["--out", str(tmp_path / "o")] if "--lang" in command else [])
    )
    assert proc.returncode == 1
    assert proc.stderr.startswith("error: type `")
    assert f"nests {MAX_TYPE_DEPTH + 1} levels deep" in proc.stderr
    assert f"--> {path}:" in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "o").exists()
