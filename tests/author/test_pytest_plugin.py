"""The `load_test_plugin` fixture, used the way a plugin author would: in a pytest run of its own."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from importlib.metadata import entry_points
from pathlib import Path

import pytest

from tests.author.conftest import require_toolchain, witgen
from witgen.paths import REPO_ROOT

AUTHOR_TESTS = """
import pytest


def test_project_folder(load_test_plugin):
    plugin = load_test_plugin("{root}", config={{"unused": "1"}})
    result = plugin.process(plugin.record("r1", "hi", [("k", "v")]))
    assert result == plugin.types.ProcessingResultEmit(
        plugin.record("r1", "hi", [("k", "v"), ("processed-by", "authored")])
    )
    assert plugin.host.logs == ["debug: processing r1"]
    assert plugin.host.counters == {{"records": 1}}
    assert plugin.info().name == "authored"


def test_component_file(load_test_plugin):
    plugin = load_test_plugin("{component}")
    assert plugin.kind == "processor"
    assert plugin.process_batch([plugin.record("a", "")]) == [plugin.types.ProcessingResultSkip()]


def test_a_failing_assertion_fails(load_test_plugin):
    plugin = load_test_plugin("{root}")
    assert plugin.host.logs == ["something else"]
"""


def test_pytest_plugin_entry_point_is_declared() -> None:
    doc = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())
    assert doc["project"]["entry-points"]["pytest11"]["witgen"] == "witgen.author.pytest_plugin"


def test_load_test_plugin_in_an_author_test_run(
    projects: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    require_toolchain("go")
    root = projects / "authored"
    assert witgen(capsys, "new", root, "--lang", "go", "--kind", "processor")[0] == 0
    assert witgen(capsys, "build", root)[0] == 0
    component = root / "target" / "witgen" / "debug" / "authored.wasm"
    tests = root / "tests"
    tests.mkdir()
    (tests / "test_plugin.py").write_text(AUTHOR_TESTS.format(root=root, component=component))
    # the entry point loads the plugin once witgen is installed; a checkout not reinstalled since
    # the entry point was added needs it named
    installed = any(
        ep.value == "witgen.author.pytest_plugin" for ep in entry_points(group="pytest11")
    )
    plugin = [] if installed else ["-p", "witgen.author.pytest_plugin"]
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", *plugin, "-p", "no:cacheprovider", str(tests)],
        cwd=root, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert "1 failed, 2 passed" in proc.stdout, proc.stdout + proc.stderr
    assert "test_a_failing_assertion_fails" in proc.stdout
