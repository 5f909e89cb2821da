"""One test per rule: each registered rule has a WIT case that makes it fire (and only the
rules a case declares fire, see test_compat_pairs / test_compat_versioned)."""

from __future__ import annotations

import re

import pytest
from compat_oracle import (  # noqa: F401 (fixtures)
    PAIRS,
    VERSIONED,
    check_pair,
    fast_wasm_tools,
    read_pair,
    rules_declared,
    wasm_tools,
)

from witgen import compat
from witgen.compat.registry import load_all

RULES = load_all()


def _cases_for(rule_id: str) -> list[str]:
    pairs = [p.stem for p in PAIRS if rule_id in read_pair(p).rules]
    versioned = [d.name for d in VERSIONED if rule_id in rules_declared(d / "new.wit")]
    return pairs + versioned


@pytest.mark.parametrize("rule_id", sorted(RULES))
def test_rule_has_a_case_that_fires_it(rule_id, fast_wasm_tools):
    rule = RULES[rule_id]
    assert re.fullmatch(r"[A-Z]+(_[A-Z]+)+", rule_id)
    assert rule.category in {"WORLD", "INTERFACE", "FUNCTION", "TYPE", "DOCS", "PACKAGE"}
    assert rule.summary
    cases = _cases_for(rule_id)
    assert cases, f"no WIT case exercises {rule_id}"
    pairs = [p for p in PAIRS if p.stem in cases]
    if pairs:  # run one directly (versioned cases run through the CLI in their own test)
        report = check_pair(read_pair(pairs[0]))
        fired = [f for f in report.findings if f.rule == rule_id]
        assert fired
        assert all(f.category == rule.category for f in fired)


def test_rule_ids_named_in_the_issue_exist():
    for rule_id in (
        "FUNC_REMOVED",
        "FUNC_PARAM_TYPE_CHANGED",
        "RECORD_FIELD_ADDED",
        "VARIANT_CASE_ADDED",
        "ENUM_CASE_REMOVED",
        "EXPORT_ADDED",
        "IMPORT_REMOVED",
        "RESOURCE_METHOD_REMOVED",
        "PACKAGE_VERSION_NOT_BUMPED",
    ):
        assert rule_id in RULES


def test_findings_carry_sides_and_severity(fast_wasm_tools):
    pair = read_pair(next(p for p in PAIRS if p.stem == "imp-fn-add"))
    guest = check_pair(pair, compat.Direction.GUEST).findings
    host = check_pair(pair, compat.Direction.HOST).findings
    assert [(f.rule, f.breaks, f.severity) for f in guest] == [
        ("FUNC_ADDED", frozenset({compat.Side.HOSTS}), compat.Severity.WARNING)
    ]
    assert [f.severity for f in host] == [compat.Severity.ERROR]
    assert guest[0].level is compat.Level.MINOR
