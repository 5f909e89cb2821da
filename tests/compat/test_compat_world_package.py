"""A world of another package is not a newer version of ours: `witgen compat` calls comparing
worlds of two different packages breaking (exit 1, rule WORLD_PACKAGE_CHANGED), as
`wasm-tools component semver-check` refuses them, even when the items are identical."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from compat_oracle import wasm_tools  # noqa: F401 (fixture)

from witgen.cli import main

MAIN = "package a:b@1.0.0;\nworld w { import f: func(); }\n"
OTHER = "package a:c@1.0.0;\nworld w { import f: func(); }\n"


def test_worlds_of_two_packages_are_breaking(tmp_path: Path, capsys, wasm_tools: str) -> None:
    (tmp_path / "deps").mkdir()
    (tmp_path / "main.wit").write_text(MAIN)
    (tmp_path / "deps" / "c.wit").write_text(OTHER)
    argv = ["compat", str(tmp_path), str(tmp_path), "--old-world", "a:b/w", "--new-world", "a:c/w"]
    status = main([*argv, "--format", "json"])
    doc = json.loads(capsys.readouterr().out)
    assert status == 1 and doc["compatible"] is False
    (finding,) = [f for f in doc["findings"] if f["rule"] == "WORLD_PACKAGE_CHANGED"]
    assert finding["severity"] == "error"
    assert "a:b" in finding["message"] and "a:c" in finding["message"]
    # the oracle agrees: semver-check refuses the pair
    proc = subprocess.run(
        [wasm_tools, "component", "semver-check", "--prev", "a:b/w", "--new", "a:c/w", tmp_path],
        capture_output=True,
        text=True,
    )
    assert proc.returncode != 0 and "not the same" in proc.stderr
    # the same package on both sides stays compatible
    assert main([*argv[:3], "--world", "a:b/w"]) == 0


def test_separate_files_of_two_packages_are_breaking(tmp_path: Path, capsys) -> None:
    (tmp_path / "old.wit").write_text(MAIN)
    (tmp_path / "new.wit").write_text(OTHER)
    status = main(["compat", str(tmp_path / "old.wit"), str(tmp_path / "new.wit")])
    out = capsys.readouterr().out
    assert status == 1
    assert "WORLD_PACKAGE_CHANGED" in out
