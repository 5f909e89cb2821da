"""The compiled-code cache: verified by a digest before anything is deserialized, and never a
reason for `load()` to fail (an unusable cache directory only costs a recompile)."""

from __future__ import annotations

import hashlib
import random
import warnings
from pathlib import Path

import pytest

from tests.python_host.conftest import RecordingHost
from dataflare_core import ProcessorPlugin
from dataflare_core.types import DataRecord, ProcessingResultEmit

OK = DataRecord("fine", 1, b"x", [("k", "v")])


@pytest.fixture(params=[False, True], ids=["generic", "fast"])
def fast(request: pytest.FixtureRequest) -> bool:
    return bool(request.param)


def load(wat: Path, cache_dir: Path, fast: bool) -> ProcessorPlugin:
    plugin = ProcessorPlugin.load(wat, logging=RecordingHost(), cache_dir=cache_dir, fast=fast)
    assert plugin.prepared.mode == ("core" if fast else "component")
    return plugin


@pytest.mark.parametrize("where", ["a-file", "under-a-file"])
def test_unusable_cache_dir_compiles_without_the_cache(
    processor_wat: Path, tmp_path: Path, fast: bool, where: str
) -> None:
    blocker = tmp_path / "blocker"
    blocker.write_text("I am a file", encoding="utf-8")
    cache_dir = blocker if where == "a-file" else blocker / "sub"
    with pytest.warns(RuntimeWarning, match="not caching compiled code"):
        plugin = load(processor_wat, cache_dir, fast)
    assert plugin.process(OK) == ProcessingResultEmit(OK)
    assert blocker.read_text(encoding="utf-8") == "I am a file"


def test_byte_flips_in_cached_code_are_detected_and_recompiled(
    processor_wat: Path, tmp_path: Path, fast: bool
) -> None:
    load(processor_wat, tmp_path, fast)
    entries = sorted(tmp_path.glob("*.cwasm"))
    assert entries
    pristine = {p: p.read_bytes() for p in entries}
    rng = random.Random(1234)
    for trial in range(12):
        victim = entries[trial % len(entries)]
        data = bytearray(pristine[victim])
        pos = rng.randrange(len(data))
        data[pos] ^= 1 << rng.randrange(8)
        victim.write_bytes(bytes(data))
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # a rejected entry is not worth a warning
            plugin = load(processor_wat, tmp_path, fast)
        assert plugin.process(OK) == ProcessingResultEmit(OK)
        rewritten = victim.read_bytes()  # recompiled and rewritten, with its digest
        assert rewritten != bytes(data)
        assert _digest(victim) == hashlib.sha256(rewritten).hexdigest()


def test_a_changed_or_missing_digest_means_recompiling(
    processor_wat: Path, tmp_path: Path, fast: bool
) -> None:
    load(processor_wat, tmp_path, fast)
    entry = sorted(tmp_path.glob("*.cwasm"))[0]
    digest = entry.with_suffix(".sha256")
    digest.write_text("0" * 64, encoding="ascii")
    assert load(processor_wat, tmp_path, fast).process(OK) == ProcessingResultEmit(OK)
    assert _digest(entry) == hashlib.sha256(entry.read_bytes()).hexdigest()
    digest.unlink()
    assert load(processor_wat, tmp_path, fast).process(OK) == ProcessingResultEmit(OK)
    assert _digest(entry) == hashlib.sha256(entry.read_bytes()).hexdigest()


def _digest(entry: Path) -> str:
    return entry.with_suffix(".sha256").read_text(encoding="ascii").strip()


def test_entries_others_could_have_written_are_not_trusted(
    processor_wat: Path, tmp_path: Path, fast: bool
) -> None:
    load(processor_wat, tmp_path, fast)
    entries = sorted(tmp_path.glob("*.cwasm"))
    assert all(p.stat().st_mode & 0o777 == 0o600 for p in entries)
    for entry in entries:
        entry.chmod(0o666)  # world-writable: anybody could have put code there
    assert load(processor_wat, tmp_path, fast).process(OK) == ProcessingResultEmit(OK)
    assert all(p.stat().st_mode & 0o777 == 0o600 for p in entries)  # recompiled, replaced


def test_no_home_directory_means_no_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    from dataflare_core import _runtime

    def no_home() -> Path:
        raise RuntimeError("Could not determine home directory.")

    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.setattr(Path, "home", no_home)
    with pytest.warns(RuntimeWarning, match="no home directory"):
        assert _runtime.default_cache_dir() is None


def test_default_cache_on_a_read_only_home_warns_and_loads(
    processor_wat: Path, tmp_path: Path, fast: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "home"
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.setattr(Path, "home", lambda: home)

    def read_only(self: Path, *args: object, **kwargs: object) -> None:
        raise PermissionError(30, "Read-only file system", str(self))

    monkeypatch.setattr(Path, "mkdir", read_only)  # as a read-only home would
    with pytest.warns(RuntimeWarning, match="not caching compiled code in .*home/.cache"):
        plugin = ProcessorPlugin.load(processor_wat, logging=RecordingHost(), fast=fast)
    assert plugin.process(OK) == ProcessingResultEmit(OK)
    assert not home.exists()
