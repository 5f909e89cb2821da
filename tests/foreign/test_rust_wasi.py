"""A wit-bindgen guest built for wasm32-wasip1 (Rust std over WASI: stdout, stderr, environment,
arguments, files, clocks) and made a component with the WASI preview-1 adapter, as most Rust
components are, run on both host paths under `WasiGrants`: what is granted is seen, what is not
is denied, and both paths agree.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.foreign import guests

PATHS = ["generic", "fast"]


@pytest.fixture(scope="module")
def component() -> Path:
    path = guests.build_wasi()
    guests.wasi_bindings()
    return path


def load(component: Path, path: str, grants: Any) -> Any:
    from foreign_wasi import WasiGuest

    plugin = WasiGuest.load(component, cache=False, fast=path == "fast", wasi=grants)
    assert plugin.prepared.mode == ("core" if path == "fast" else "component")
    return plugin


@pytest.mark.parametrize("path", PATHS)
def test_granted_environment_and_arguments(component: Path, path: str) -> None:
    from foreign_wasi import WasiGrants

    grants = WasiGrants(env={"GREETING": "hi", "OTHER": "x" * 300}, args=["plugin", "--flag"])
    assert load(component, path, grants).greet("bob") == "bob|hi|2"
    assert load(component, path, WasiGrants()).greet("bob") == "bob|none|0"
    assert load(component, path, None).greet("éve") == "éve|none|0"


@pytest.mark.parametrize("path", PATHS)
def test_stdout_and_stderr(component: Path, path: str, capfd: pytest.CaptureFixture[str]) -> None:
    from foreign_wasi import WasiGrants

    capfd.readouterr()
    load(component, path, WasiGrants()).greet("quiet")
    assert capfd.readouterr() == ("", "")  # not granted: dropped
    grants = WasiGrants(inherit_stdout=True, inherit_stderr=True)
    load(component, path, grants).greet("loud")
    out, err = capfd.readouterr()
    assert out == "hello from stdout, loud\n" and err == "and from stderr\n"


@pytest.mark.parametrize("path", PATHS)
def test_files_only_under_granted_dirs(component: Path, path: str, tmp_path: Path) -> None:
    from foreign_wasi import Err, Ok, WasiGrants

    (tmp_path / "in.txt").write_text("über data\n", encoding="utf-8")
    plugin = load(component, path, WasiGrants(dirs={str(tmp_path): "/data"}))
    assert plugin.read_file("/data/in.txt") == Ok("über data\n")
    assert plugin.read_file("/data/missing.txt") == Err("NotFound")
    assert isinstance(plugin.read_file("/etc/passwd"), Err)
    assert isinstance(load(component, path, WasiGrants()).read_file("/data/in.txt"), Err)


@pytest.mark.parametrize("path", PATHS)
def test_clocks(component: Path, path: str) -> None:
    assert load(component, path, None).now_positive() is True
