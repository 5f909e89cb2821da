"""Inputs witgen cannot or should not read end at once with one `error:` line and the documented
exit status (2 for a path that cannot be read, 1 for invalid WIT), never a traceback or unbounded
memory. wasm-tools (`component wit`) is the oracle for what must be reported."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import require_tool
from witgen import cli
from witgen.frontend.limits import MAX_SOURCE_BYTES
from witgen.paths import REPO_ROOT

GOOD = "package a:b;\n\ninterface i {\n  f: func();\n}\n"


def witgen(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "witgen", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
    )


def wasm_tools_rejects(path: Path) -> bool:
    exe = require_tool("wasm-tools")
    proc = subprocess.run(
        [exe, "component", "wit", str(path), "-o", os.devnull], capture_output=True, timeout=60
    )
    return proc.returncode != 0


def one_error_line(stderr: str) -> None:
    assert stderr.startswith("error: ") and "Traceback" not in stderr, stderr


def test_dev_zero_is_refused_at_once() -> None:
    proc = witgen("check", "/dev/zero", timeout=20)
    assert proc.returncode == 2
    one_error_line(proc.stderr)
    assert "not a regular file" in proc.stderr


def test_a_fifo_is_refused_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.wit"
    os.mkfifo(fifo)
    proc = witgen("check", str(fifo), timeout=20)
    assert proc.returncode == 2 and "not a regular file" in proc.stderr


def test_a_file_over_the_size_limit_is_refused_unread(tmp_path: Path) -> None:
    big = tmp_path / "big.wit"
    with open(big, "wb") as fh:  # sparse: no disk or memory is used for it
        fh.truncate(MAX_SOURCE_BYTES + 1)
    proc = witgen("check", str(big), timeout=20)
    assert proc.returncode == 2
    one_error_line(proc.stderr)
    assert "64 MiB" in proc.stderr


def test_invalid_utf8_is_invalid_input_at_its_location(tmp_path: Path) -> None:
    bad = tmp_path / "bad.wit"
    bad.write_bytes(b"package a:b;\n// caf\xe9\ninterface i {}\n")
    proc = witgen("check", str(bad))
    assert proc.returncode == 1
    assert proc.stderr.startswith("error: input was not valid UTF-8\n")
    assert f"--> {bad}:2:7" in proc.stderr
    assert wasm_tools_rejects(bad)


def _package(root: Path) -> Path:
    root.mkdir()
    (root / "a.wit").write_text(GOOD)
    return root


@pytest.mark.parametrize("case", ["dangling", "loop"])
def test_broken_wit_symlinks_in_a_package_are_reported(tmp_path: Path, case: str) -> None:
    pkg = _package(tmp_path / "pkg")
    if case == "dangling":
        (pkg / "b.wit").symlink_to("nowhere.wit")
    else:
        (pkg / "b.wit").symlink_to("c.wit")
        (pkg / "c.wit").symlink_to("b.wit")
    proc = witgen("check", str(pkg))
    assert proc.returncode == 2
    one_error_line(proc.stderr)
    assert f"{pkg / 'b.wit'}" in proc.stderr
    assert wasm_tools_rejects(pkg)


@pytest.mark.parametrize("case", ["dir-loop", "file-loop", "dangling"])
def test_broken_symlinks_in_deps_are_reported_with_their_path(tmp_path: Path, case: str) -> None:
    pkg = _package(tmp_path / "pkg")
    deps = pkg / "deps"
    deps.mkdir()
    if case == "dir-loop":
        (deps / "x").symlink_to("y")
        (deps / "y").symlink_to("x")
    elif case == "file-loop":
        (deps / "x.wit").symlink_to("y.wit")
        (deps / "y.wit").symlink_to("x.wit")
    else:
        (deps / "x").symlink_to("missing")
    proc = witgen("check", str(pkg))
    assert proc.returncode == 2
    one_error_line(proc.stderr)
    assert str(deps / "x") in proc.stderr
    assert wasm_tools_rejects(pkg)


def _check_in_process(path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = cli.main(["check", str(path)])
    return code, capsys.readouterr().err


def test_unreadable_package_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    pkg = _package(tmp_path / "pkg")
    real = Path.iterdir

    def iterdir(self: Path):  # type: ignore[no-untyped-def]
        if self == pkg:
            raise PermissionError(13, "Permission denied", str(self))
        return real(self)

    monkeypatch.setattr(Path, "iterdir", iterdir)  # root ignores permission bits
    code, err = _check_in_process(pkg, capsys)
    assert code == 2 and err.startswith("error: ") and "Permission denied" in err, err


@pytest.mark.parametrize("where", ["deps-entry", "deps-folder", "file"])
def test_unsearchable_paths(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    where: str,
) -> None:
    pkg = _package(tmp_path / "pkg")
    (pkg / "deps" / "dep").mkdir(parents=True)
    (pkg / "deps" / "dep" / "d.wit").write_text("package c:d;\n")
    denied = {
        "deps-entry": pkg / "deps" / "dep",
        "deps-folder": pkg / "deps",
        "file": pkg / "a.wit",
    }[where]

    def denies(path: object) -> bool:
        return isinstance(path, (str, Path)) and (
            Path(path) == denied or denied in Path(path).parents
        )

    def refusing(real):  # type: ignore[no-untyped-def]
        def fake(path, *args, **kwargs):  # type: ignore[no-untyped-def]
            if denies(path):
                raise PermissionError(13, "Permission denied", str(path))
            return real(path, *args, **kwargs)

        return fake

    # root ignores permission bits: the kernel's refusal is simulated where witgen asks for it
    monkeypatch.setattr(os, "stat", refusing(os.stat))
    monkeypatch.setattr(os, "open", refusing(os.open))
    monkeypatch.setattr("builtins.open", refusing(open))
    code, err = _check_in_process(pkg, capsys)
    assert code == 2, err
    assert err.startswith("error: ") and "Permission denied" in err and "Traceback" not in err
    assert str(denied) in err
