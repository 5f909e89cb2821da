"""`witgen check` / `witgen ir --json` as a user runs them: exit codes, diagnostics, no tracebacks.

The CLI runs as a subprocess (`python -m witgen`), so what is asserted is exactly what a user
sees on stdout/stderr. Process start-up dominates, so inputs are batched where the CLI allows.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from wit_oracle import (
    INVALID,
    REPO,
    VALID,
    Mode,
    corpus_entries,
    parse_locations,
    wasm_tools,
)

from conftest import require_tool

ARROW = re.compile(r"^(\s*)--> (.+):(\d+):(\d+)$")


def witgen(*args: str | Path, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        [sys.executable, "-m", "witgen", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
    )
    assert "Traceback" not in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stdout, proc.stdout
    return proc


def diagnostics(stderr: str) -> list[list[str]]:
    """Split stderr into one list of lines per `error:` diagnostic."""
    blocks: list[list[str]] = []
    for line in stderr.splitlines():
        if line.startswith("error: "):
            blocks.append([line])
        elif blocks:
            blocks[-1].append(line)
    return blocks


def test_check_valid_exits_0_silently() -> None:
    proc = witgen("check", VALID / "interface_many_items.wit")
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""


def test_check_default_contract() -> None:
    proc = witgen("check")
    assert proc.returncode == 0, proc.stderr


def test_check_several_valid_paths() -> None:
    proc = witgen(
        "check", VALID / "record_basic.wit", VALID / "deps_transitive", VALID / "multi_file"
    )
    assert proc.returncode == 0, proc.stderr


@pytest.mark.parametrize(
    "entry",
    [
        "unknown_type_in_func.wit",
        "syntax_missing_colon.wit",
        "dup_field.wit",
        "missing_dep_interface",
    ],
)
def test_check_invalid_renders_located_diagnostic(entry: str) -> None:
    require_tool("wasm-tools")
    path = INVALID / entry
    proc = witgen("check", path)
    assert proc.returncode == 1
    (block,) = diagnostics(proc.stderr)
    assert block[0].startswith("error: ") and len(block[0]) > len("error: ")
    arrow_at = next(i for i, line in enumerate(block) if ARROW.match(line))
    m = ARROW.match(block[arrow_at])
    assert m is not None
    file, line, col = m.group(2), int(m.group(3)), int(m.group(4))
    (expected,) = parse_locations(wasm_tools(path).stderr)
    assert (Path(file).resolve(), line, col) == (expected.file, expected.line, expected.column)
    # the quoted source line and a caret under the column
    assert block[arrow_at + 1].strip() == "|"
    source = Path(file).read_text(encoding="utf-8").splitlines()[line - 1]
    assert block[arrow_at + 2] == f"{line} | {source}"
    caret = block[arrow_at + 3]
    prefix = f"{' ' * len(str(line))} | "
    assert caret.startswith(prefix), caret
    marks = caret[len(prefix) :]
    assert marks.lstrip(" ").startswith("^")
    assert len(marks) - len(marks.lstrip(" ")) == col - 1


def test_check_reports_every_failing_path_and_exits_1() -> None:
    proc = witgen(
        "check", VALID / "enum_basic.wit", INVALID / "dup_type.wit", INVALID / "empty_record.wit"
    )
    assert proc.returncode == 1
    assert len(diagnostics(proc.stderr)) == 2


def test_whole_invalid_corpus_exits_1_without_traceback() -> None:
    entries = corpus_entries(INVALID)
    proc = witgen("check", *entries)
    assert proc.returncode == 1
    assert len(diagnostics(proc.stderr)) == len(entries), proc.stderr[-2000:]


def test_whole_valid_corpus_checks_clean() -> None:
    proc = witgen("check", *corpus_entries(VALID))
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stderr == ""


def test_missing_path_is_one_line_exit_2() -> None:
    proc = witgen("check", "no/such/file.wit")
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "no/such/file.wit" in lines[0]


def test_missing_path_in_ir_is_exit_2() -> None:
    proc = witgen("ir", "--json", "no/such/dir")
    assert proc.returncode == 2
    assert len(proc.stderr.strip().splitlines()) == 1
    assert proc.stdout == ""


def test_non_utf8_file_is_one_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.wit"
    bad.write_bytes(b"package a:b;\ninterface i { f: func(); }\xff\n")
    proc = witgen("check", bad)
    assert proc.returncode == 1  # invalid input (README: 2 is for paths that cannot be read)
    lines = proc.stderr.strip().splitlines()
    assert lines[0] == "error: input was not valid UTF-8"
    assert lines[1].strip() == f"--> {bad}:2:27"
    assert "Traceback" not in proc.stderr


def test_directory_without_wit_files_is_rejected(tmp_path: Path) -> None:
    proc = witgen("check", tmp_path)
    assert proc.returncode in (1, 2)
    assert proc.stderr.startswith("error: ")


def test_non_wit_file_is_a_syntax_error_not_a_crash() -> None:
    proc = witgen("check", REPO / "pyproject.toml")
    assert proc.returncode == 1
    assert proc.stderr.startswith("error: ")


def test_unknown_flag_is_a_usage_error() -> None:
    proc = witgen("check", "--no-such-flag")
    assert proc.returncode == 2


def test_features_flags_reach_the_front_end() -> None:
    entry = VALID / "unstable_feature_on.wit"
    plain = witgen("ir", "--json", entry)
    alpha = witgen("ir", "--json", entry, "--features", "alpha")
    every = witgen("ir", "--json", entry, "--all-features")
    for proc in (plain, alpha, every):
        assert proc.returncode == 0, proc.stderr
    names = [
        sorted(json.loads(p.stdout)["interfaces"][0]["functions"]) for p in (plain, alpha, every)
    ]
    assert names == [["c"], ["a", "c"], ["a", "b", "c"]]


@pytest.mark.parametrize(
    "entry", ["interface_many_items.wit", "docs_unicode.wit", "deps_transitive", "world_types.wit"]
)
def test_ir_json_text_is_identical_to_wasm_tools(entry: str) -> None:
    """`witgen ir --json` prints byte-for-byte what `wasm-tools component wit --json` prints."""
    require_tool("wasm-tools")
    path = VALID / entry
    proc = witgen("ir", "--json", path)
    assert proc.returncode == 0, proc.stderr
    oracle = wasm_tools(path, Mode("default"))
    assert proc.stdout.rstrip("\n") == oracle.stdout.rstrip("\n")
