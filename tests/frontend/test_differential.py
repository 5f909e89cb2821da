"""Differential tests: our front end against wasm-tools 1.262 on the corpus and real-world WIT.

For every valid input: `ir.to_json(frontend.load(p))` equals `wasm-tools component wit --json p`
(parsed), by default and with `--all-features` (and any `// test-features:` an entry names).
For every invalid input: both reject, and our error's `file:line:column` is where wasm-tools
points (`--> file:line:col`). Installed third-party packages are compared either way.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from wit_oracle import (
    ALL_FEATURES,
    DEFAULT,
    FRONTEND_IS_WASM_TOOLS_SHIM,
    INVALID,
    VALID,
    Location,
    Mode,
    corpus_entries,
    entry_modes,
    first_difference,
    load_with_witgen,
    real_world_packages,
    span_location,
    wasm_tools,
)

from conftest import require_tool
from witgen.diagnostics import Span


@pytest.fixture(autouse=True)
def _wasm_tools_installed() -> None:
    require_tool("wasm-tools")


VALID_CASES = [
    pytest.param(entry, mode, id=f"{entry.name}[{mode.name}]")
    for entry in corpus_entries(VALID)
    for mode in entry_modes(entry)
]
INVALID_CASES = [pytest.param(entry, id=entry.name) for entry in corpus_entries(INVALID)]
REAL_WORLD_CASES = [
    pytest.param(path, mode, id=f"{name}[{mode.name}]")
    for name, path in real_world_packages()
    for mode in (DEFAULT, ALL_FEATURES)
]


def assert_same_as_wasm_tools(path: Path, mode: Mode) -> None:
    oracle = wasm_tools(path, mode)
    ours = load_with_witgen(path, mode)
    if oracle.ok:
        assert ours.ok, f"wasm-tools accepts {path} but we reject it:\n{ours.error}"
        diff = first_difference(ours.doc, oracle.json())
        assert diff is None, f"IR JSON differs for {path} ({mode.name}): {diff}"
    else:
        assert not ours.ok, f"wasm-tools rejects {path} but we accept it:\n{oracle.stderr}"
        assert_same_location(path, ours.span, oracle.locations, oracle.stderr)


def assert_same_location(
    path: Path, span: Span | None, expected: list[Location], stderr: str
) -> None:
    if not expected:
        return  # wasm-tools names no place (e.g. a missing package); rejecting is enough
    if span is None:
        if FRONTEND_IS_WASM_TOOLS_SHIM:
            pytest.xfail("the temporary wasm-tools front end carries no spans")
        pytest.fail(f"our error for {path} has no location; wasm-tools says:\n{stderr}")
    got = span_location(span)
    assert got in expected, (
        f"error location differs for {path}: ours {got}, wasm-tools "
        f"{' or '.join(map(str, expected))}\nwasm-tools said:\n{stderr}"
    )


def test_corpus_is_large_enough() -> None:
    assert len(corpus_entries(VALID)) >= 100
    assert len(corpus_entries(INVALID)) >= 80


@pytest.mark.parametrize("entry, mode", VALID_CASES)
def test_valid_corpus_matches_wasm_tools(entry: Path, mode: Mode) -> None:
    oracle = wasm_tools(entry, mode)
    assert oracle.ok, f"corpus entry is not valid WIT for wasm-tools:\n{oracle.stderr}"
    assert_same_as_wasm_tools(entry, mode)


@pytest.mark.parametrize("entry", INVALID_CASES)
def test_invalid_corpus_rejected_at_the_same_place(entry: Path) -> None:
    oracle = wasm_tools(entry, DEFAULT)
    assert not oracle.ok, f"corpus entry is accepted by wasm-tools: {entry}"
    assert_same_as_wasm_tools(entry, DEFAULT)


@pytest.mark.parametrize("path, mode", REAL_WORLD_CASES)
def test_real_world_package_matches_wasm_tools(path: Path, mode: Mode) -> None:
    assert_same_as_wasm_tools(path, mode)


def test_real_world_packages_were_found() -> None:
    """Debian's rust-web-src ships the WASI 0.2 packages (.ci/install installs it)."""
    names = [name for name, _ in real_world_packages()]
    if not any("wasi" in n for n in names):
        reason = "no installed WASI WIT found (Debian rust-web-src; run .ci/install)"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    accepted = [p for _, p in real_world_packages() if wasm_tools(p, DEFAULT).ok]
    assert accepted, "no installed real-world WIT package is accepted by wasm-tools"
