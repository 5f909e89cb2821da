"""The fast path (generated lift/lower over the core module) agrees with the generic path."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.python_host.conftest import RecordingHost
from dataflare_core import PluginLoadError, ProcessorPlugin, SourcePlugin, _fast
from dataflare_core.types import DataRecord

SPECIAL = ("loop", "trap", "grow")
records = st.builds(
    DataRecord,
    id=st.text(max_size=10).filter(lambda s: s not in SPECIAL),
    timestamp=st.integers(min_value=-(2**63), max_value=2**63 - 1),
    payload=st.binary(max_size=40),
    metadata=st.lists(st.tuples(st.text(max_size=6), st.text(max_size=6)), max_size=3),
)


@pytest.fixture(scope="module")
def both(processor_wat: Path) -> tuple[ProcessorPlugin, ProcessorPlugin]:
    def load(fast: bool) -> ProcessorPlugin:
        return ProcessorPlugin.load(processor_wat, logging=RecordingHost(), cache=False, fast=fast)

    generic, fast = load(False), load(True)
    assert (generic.prepared.mode, fast.prepared.mode) == ("component", "core")
    return generic, fast


@given(st.lists(records, max_size=12))
def test_batches_agree(both: tuple[ProcessorPlugin, ProcessorPlugin], batch: list[Any]) -> None:
    generic, fast = both
    assert fast.process_batch(batch) == generic.process_batch(batch)


@given(records)
def test_single_records_agree(both: tuple[ProcessorPlugin, ProcessorPlugin], rec: Any) -> None:
    generic, fast = both
    assert fast.process(rec) == generic.process(rec)


def test_info_agrees(both: tuple[ProcessorPlugin, ProcessorPlugin]) -> None:
    generic, fast = both
    assert fast.info() == generic.info()


def test_bad_argument_is_a_python_error_and_the_instance_survives(
    both: tuple[ProcessorPlugin, ProcessorPlugin],
) -> None:
    _, fast = both
    good = DataRecord("a", 1, b"x", [])
    with pytest.raises((TypeError, AttributeError)):
        fast.process_batch([good, "not a record"])  # type: ignore[list-item]
    assert fast.process_batch([good]) == fast.process_batch([good])


def test_every_dataflare_world_has_a_fast_path() -> None:
    assert _fast.UNSUPPORTED == {}
    assert len(_fast.EXPORTS) == 6


def test_requiring_the_fast_path_for_a_mismatched_component_is_a_load_error(
    processor_wat: Path,
) -> None:
    with pytest.raises(PluginLoadError, match="does not export `dataflare:core/source@1.0.0#"):
        SourcePlugin.load(processor_wat, cache=False, fast=True)


def test_auto_mode_prefers_the_fast_path(processor_wat: Path) -> None:
    plugin = ProcessorPlugin.load(processor_wat, logging=RecordingHost(), cache=False)
    assert plugin.prepared.mode == "core"


def test_plugins_in_different_threads_serve_their_own_hosts(processor_wat: Path) -> None:
    import threading

    hosts = [RecordingHost(), RecordingHost()]
    plugins = [
        ProcessorPlugin.load(processor_wat, logging=h, cache=False, fast=True) for h in hosts
    ]
    errors: list[BaseException] = []

    def work(plugin: ProcessorPlugin) -> None:
        try:
            for _ in range(2000):
                plugin.info()  # logs through its own host on every call
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(p,)) for p in plugins]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert [len(h.lines) for h in hosts] == [2000, 2000]


def test_other_wasmtime_major_versions_use_the_generic_path(
    processor_wat: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dataflare_core import _capi

    monkeypatch.setattr(_capi, "wasmtime_version", lambda: "99.0.0")
    monkeypatch.setattr(_capi, "_loaded", None)
    monkeypatch.setattr(_capi, "_failure", None)
    with pytest.warns(RuntimeWarning, match="wasmtime 99.0.0 is installed"):
        plugin = ProcessorPlugin.load(processor_wat, logging=RecordingHost(), cache=False)
    assert plugin.prepared.mode == "component"
    assert "wasmtime 99.0.0" in (plugin.prepared.fast_unavailable or "")
    assert plugin.info().name  # the generic path serves it
    with pytest.raises(PluginLoadError, match="tested with wasmtime 50 and 51 only"):
        ProcessorPlugin.load(processor_wat, logging=RecordingHost(), cache=False, fast=True)


def test_a_c_api_without_a_needed_function_uses_the_generic_path(
    processor_wat: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dataflare_core import _capi

    functions = dict(_capi._FUNCTIONS, wasmtime_no_such_function=(None, []))
    monkeypatch.setattr(_capi, "_FUNCTIONS", functions)
    monkeypatch.setattr(_capi, "_loaded", None)
    monkeypatch.setattr(_capi, "_failure", None)
    with pytest.warns(RuntimeWarning, match="lacks wasmtime_no_such_function"):
        plugin = ProcessorPlugin.load(processor_wat, logging=RecordingHost(), cache=False)
    assert plugin.prepared.mode == "component"


def test_the_fast_path_uses_no_private_wasmtime_module() -> None:
    from dataflare_core import _capi, _core, _runtime

    for module in (_capi, _core, _runtime):
        source = Path(module.__file__ or "").read_text(encoding="utf-8")
        for private in ("wasmtime._", "from wasmtime import _", "._context(", "_bindings", "_ffi"):
            assert private not in source, (module.__name__, private)


def test_declared_wasmtime_range_is_the_tested_range() -> None:
    import re

    from witgen import hostrt
    from witgen.hostrt import _capi
    from witgen.paths import REPO_ROOT

    low, high = min(_capi.TESTED_MAJORS), max(_capi.TESTED_MAJORS)
    assert list(_capi.TESTED_MAJORS) == list(range(low, high + 1))
    assert hostrt.WASMTIME_REQUIREMENT == f"wasmtime>={low},<{high + 1}"
    pyproject = (REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert re.findall(r'"(wasmtime[^"]*)"', pyproject) == [hostrt.WASMTIME_REQUIREMENT]
    installed = int(_capi.wasmtime_version().split(".")[0])
    assert installed in _capi.TESTED_MAJORS  # the suite runs inside the declared range
