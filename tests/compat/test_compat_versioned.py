"""Separate OLD and NEW files under versioned/: the package-version rules, whole-package
comparison (worlds added and removed), @unstable gating, and the exit status of the CLI."""

from __future__ import annotations

import json
import re
import shlex

import pytest
from compat_oracle import VERSIONED, fast_wasm_tools, rules_declared, wasm_tools  # noqa: F401

from witgen.cli import main


def _header(text: str, key: str) -> str | None:
    m = re.search(rf"^// {key}:(.*)$", text, re.M)
    return m[1].strip() if m else None


@pytest.mark.parametrize("case", VERSIONED, ids=[p.name for p in VERSIONED])
def test_versioned_case(case, fast_wasm_tools, capsys):
    text = (case / "new.wit").read_text()
    extra = shlex.split(_header(text, "args") or "")
    argv = ["compat", str(case / "old.wit"), str(case / "new.wit"), "--format", "json", *extra]
    status = main(argv)
    doc = json.loads(capsys.readouterr().out)
    assert {f["rule"] for f in doc["findings"]} == rules_declared(case / "new.wit")
    assert status == int(_header(text, "exit") or "0")
    assert doc["compatible"] == (status == 0)
    suggested = _header(text, "suggests")
    if suggested is not None:
        assert doc["version"]["minimum_next"] == suggested
        version_findings = [f for f in doc["findings"] if f["rule"].startswith("PACKAGE_VERSION")]
        assert all(f["suggested_version"] == suggested for f in version_findings)
