"""`witgen publish` refuses bad input before talking to any registry (exit 2, no traceback)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from witgen.publish import cargo_publish_body, parse_registry

from .test_packages import make_contract


def witgen(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "witgen", *args], capture_output=True, text=True, timeout=300
    )


@pytest.fixture(scope="module")
def release(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("rel")
    wit = make_contract(base / "wit", "1.0.0")
    proc = witgen(
        "release", str(wit), "--out", str(base / "dist"), "--lang", "rust", "--lang", "go"
    )
    assert proc.returncode == 0, proc.stderr
    return base / "dist"


@pytest.mark.parametrize(
    "args, message",
    [
        (["--registry", "maven=http://x"], "expected KIND=LOCATION with KIND one of"),
        (["--registry", "go=http://127.0.0.1:1/"], "a Go module proxy has no upload API"),
        (["--registry", "pypi=http://127.0.0.1:1/"], "has no python package"),
        (["--registry", "go=DIR", "--component", "x"], "expected NAME=FILE"),
        (["--registry", "go=DIR", "--component", "x=y.wasm"], "needs an OCI registry"),
    ],
)
def test_bad_input_exits_2(release: Path, args: list[str], message: str) -> None:
    proc = witgen("publish", str(release), *args)
    assert proc.returncode == 2, proc.stderr
    assert message in proc.stderr and "Traceback" not in proc.stderr


def test_no_release_is_a_usage_error(tmp_path: Path) -> None:
    proc = witgen("publish", str(tmp_path), "--registry", "go=x")
    assert proc.returncode == 2 and "no release.json" in proc.stderr


def test_unreachable_registry_exits_1(release: Path) -> None:
    proc = witgen("publish", str(release), "--registry", "cargo=sparse+http://127.0.0.1:1/index/")
    assert proc.returncode == 1 and "cannot reach" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_go_layout_is_merged_into_a_directory(release: Path, tmp_path: Path) -> None:
    proxy = tmp_path / "proxy"
    proc = witgen("publish", str(release), "--registry", f"go={proxy}")
    assert proc.returncode == 0, proc.stderr
    listed = proxy / "example.com" / "acme" / "flare" / "@v" / "list"
    assert listed.read_text() == "v1.0.0\n"
    # publishing again is idempotent for identical bytes; other bytes are refused
    assert witgen("publish", str(release), "--registry", f"go={proxy}").returncode == 0
    (listed.parent / "v1.0.0.mod").write_text("module other\n")
    proc = witgen("publish", str(release), "--registry", f"go={proxy}")
    assert proc.returncode == 1 and "a Go version is immutable" in proc.stderr


def test_cargo_publish_body_is_cargos_wire_format(release: Path) -> None:
    crate = (release / "1.0.0" / "packages" / "rust" / "acme-flare-1.0.0.crate").read_bytes()
    body = cargo_publish_body(crate)
    n = int.from_bytes(body[:4], "little")
    import json

    meta = json.loads(body[4 : 4 + n])
    assert (meta["name"], meta["vers"], meta["license"]) == (
        "acme-flare",
        "1.0.0",
        "MIT OR Apache-2.0",
    )
    assert meta["links"] == "acme-flare-wit" and meta["deps"] == []
    m = int.from_bytes(body[4 + n : 8 + n], "little")
    assert body[8 + n :] == crate and m == len(crate)
    assert parse_registry("oci=http://h/p") == ("oci", "http://h/p")
