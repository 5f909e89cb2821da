"""`load()` compares the component's function types with the bindings' and refuses a
component built against a different WIT, naming the first difference (both paths)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.python_host.conftest import RecordingHost
from dataflare_core import PluginLoadError, PluginTrap, ProcessorPlugin
from dataflare_core.types import DataRecord

ENUM = '(type $error-kind (enum "invalid-input" "bad-config" "unavailable" "internal"))'
CHANGES = {
    "payload-is-a-string": (
        '(field "payload" (list u8))',
        '(field "payload" string)',
        "export `dataflare:core/processor@1.0.0#process` does not match the bindings: "
        "record.payload: the bindings expect list<u8>, the component has string",
    ),
    "extra-enum-case": (
        ENUM,
        ENUM.replace('"internal"', '"internal" "extra"'),
        "result.failed.kind: the bindings expect enum {invalid-input, bad-config, "
        "unavailable, internal}, the component has enum {invalid-input, bad-config, "
        "unavailable, internal, extra}",
    ),
    "imported-level-changed": (
        '(type $level (enum "trace" "debug" "info" "warn" "error"))',
        '(type $level (enum "trace" "debug" "info" "warn" "error" "fatal"))',
        "import `dataflare:core/logging@1.0.0#log` does not match the bindings: level: "
        "the bindings expect enum {trace, debug, info, warn, error}",
    ),
}


@pytest.mark.parametrize("fast", [False, True, None], ids=["generic", "fast", "auto"])
@pytest.mark.parametrize("change", sorted(CHANGES))
def test_changed_contract_is_refused_with_the_first_difference(
    processor_wat: Path, tmp_path: Path, change: str, fast: bool | None
) -> None:
    old, new, message = CHANGES[change]
    text = processor_wat.read_text(encoding="utf-8")
    assert old in text
    changed = tmp_path / "changed.wat"
    changed.write_text(text.replace(old, new), encoding="utf-8")
    with pytest.raises(PluginLoadError) as info:
        ProcessorPlugin.load(changed, logging=RecordingHost(), cache=False, fast=fast)
    assert message in str(info.value)


def test_the_unchanged_contract_loads(processor_wat: Path) -> None:
    plugin = ProcessorPlugin.load(processor_wat, logging=RecordingHost(), cache=False)
    assert plugin.process(DataRecord("a", 1, b"x", [])) is not None


def test_an_unknown_enum_case_that_slips_through_is_a_trap() -> None:
    from dataflare_core import _runtime
    from dataflare_core.types import ErrorKind

    lift = _runtime.Converters().lift(("enum", ErrorKind), None)
    assert lift("internal") is ErrorKind.INTERNAL
    with pytest.raises(PluginTrap, match="unknown ErrorKind case 'extra'"):
        lift("extra")
