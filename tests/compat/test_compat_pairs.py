"""Every WIT pair under pairs/: our verdicts agree with `wasm-tools component semver-check` in
both directions, and exactly the declared rules fire.

semver-check answers the guest question (do guests built against OLD still run on hosts built
against NEW?); run with the worlds swapped it answers the host question.
"""

from __future__ import annotations

import pytest
from compat_oracle import (  # noqa: F401 (fixtures)
    NEW_WORLD,
    OLD_WORLD,
    PAIRS,
    check_pair,
    fast_wasm_tools,
    read_pair,
    semver_check,
    wasm_tools,
)

from witgen.compat import Side


@pytest.mark.parametrize("path", PAIRS, ids=[p.stem for p in PAIRS])
def test_verdicts_agree_with_semver_check(path, fast_wasm_tools):
    pair = read_pair(path)
    oracle_guest = semver_check(fast_wasm_tools, path, OLD_WORLD, NEW_WORLD, pair.all_features)
    oracle_host = semver_check(fast_wasm_tools, path, NEW_WORLD, OLD_WORLD, pair.all_features)
    # The header records what the oracle said when the pair was written: a change in
    # wasm-tools' behaviour shows up here rather than as a puzzling disagreement below.
    assert (oracle_guest, oracle_host) == (pair.expect_guest_ok, pair.expect_host_ok)
    report = check_pair(pair)
    assert not report.breaks(Side.GUESTS) == oracle_guest, [f.message for f in report.findings]
    assert not report.breaks(Side.HOSTS) == oracle_host, [f.message for f in report.findings]


@pytest.mark.parametrize("path", PAIRS, ids=[p.stem for p in PAIRS])
def test_exactly_the_declared_rules_fire(path, fast_wasm_tools):
    pair = read_pair(path)
    report = check_pair(pair)
    assert {f.rule for f in report.findings} == pair.rules
