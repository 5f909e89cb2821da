"""Files through WASI 0.2: denied without a grant, readable only under a granted directory, the
same on the fast path (`_wasi.py`) as on the generic path (wasmtime's own WASI)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.python_host.wat_guests import GUESTS, build_guest

NO_DIRECTORY = 255  # the probe's own code: get-directories listed nothing
NO_ENTRY, NOT_PERMITTED = 20, 31  # wasi:filesystem/types error-code cases


@pytest.fixture(scope="module")
def probe() -> Path:
    return build_guest(
        GUESTS / "fileprobe", GUESTS / "fileprobe.wat", "fileprobe", "test_fileprobe"
    )


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    (tmp_path / "granted").mkdir()
    (tmp_path / "granted" / "data.txt").write_bytes(b"hello wasi")
    (tmp_path / "secret.txt").write_bytes(b"hunter2")
    return tmp_path


def load(probe: Path, fast: bool, **kwargs: Any) -> Any:
    from test_fileprobe import Fileprobe

    plugin = Fileprobe.load(probe, cache=False, fast=fast, **kwargs)
    assert plugin.prepared.mode == ("core" if fast else "component")
    return plugin


@pytest.mark.parametrize("fast", [True, False], ids=["fast", "generic"])
def test_no_file_without_a_grant(probe: Path, tree: Path, fast: bool) -> None:
    from test_fileprobe import Err

    plugin = load(probe, fast)
    assert plugin.read_file("granted/data.txt") == Err(NO_DIRECTORY)
    assert plugin.read_file(str(tree / "secret.txt")) == Err(NO_DIRECTORY)


@pytest.mark.parametrize("fast", [True, False], ids=["fast", "generic"])
def test_a_granted_directory_and_nothing_outside_it(probe: Path, tree: Path, fast: bool) -> None:
    from test_fileprobe import Err, Ok, WasiGrants

    grants = WasiGrants(dirs={str(tree / "granted"): "/data"})
    plugin = load(probe, fast, wasi=grants)
    got = plugin.read_file("data.txt")
    assert isinstance(got, Ok) and b"hello wasi".startswith(got.value)
    if fast:  # wasmtime's non-blocking read may hand back nothing yet; ours reads at once
        assert got.value == b"hello wasi"
    assert plugin.read_file("missing.txt") == Err(NO_ENTRY)
    assert plugin.read_file("../secret.txt") == Err(NOT_PERMITTED)
    assert plugin.read_file(str(tree / "secret.txt")) == Err(NOT_PERMITTED)
