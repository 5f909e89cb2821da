"""The compat gate knows semver: breaking changes that NEW's version allows pass (and are still
reported), an understated version fails with the minimum one, `--strict` fails on any breaking
change; removals next to an addition of the same shape suggest a rename."""

from __future__ import annotations

import json
from pathlib import Path

from witgen.cli import main

OLD = """\
package a:b@1.0.0;
interface i {
  record r { a: u32, b: string }
  f: func(x: u32) -> string;
  keep: func(v: r);
}
world w { export i; }
"""

NEW = """\
package a:b@{version};
interface i {{
  record r {{ b: string, c: u32 }}
  g: func(y: u32) -> string;
  keep: func(v: r);
}}
world w {{ export i; }}
"""


def compat(capsys, tmp_path: Path, version: str, *args: str) -> tuple[int, str]:
    (tmp_path / "old.wit").write_text(OLD)
    (tmp_path / "new.wit").write_text(NEW.format(version=version))
    status = main(["compat", str(tmp_path / "old.wit"), str(tmp_path / "new.wit"), *args])
    return status, capsys.readouterr().out


def test_major_bump_reports_the_breaks_and_that_the_version_is_right(tmp_path, capsys):
    status, out = compat(capsys, tmp_path, "2.0.0")
    assert status == 0
    assert "error[RECORD_FIELD_REMOVED]" in out and "error[FUNC_ADDED]" in out
    assert "version 2.0.0 is right: a major release may make the 3 breaking changes above" in out
    assert out.rstrip().endswith("result: breaking changes, allowed by version 2.0.0")


def test_understated_version_fails_with_the_minimum(tmp_path, capsys):
    status, out = compat(capsys, tmp_path, "1.1.0")
    assert status == 1
    assert "error[PACKAGE_VERSION_BUMP_TOO_SMALL]" in out
    assert out.rstrip().endswith(
        "result: INCOMPATIBLE: version 1.1.0 understates the changes; the minimum version is 2.0.0"
    )
    status, out = compat(capsys, tmp_path, "1.1.0", "--format", "json")
    doc = json.loads(out)
    assert status == 1 and doc["compatible"] is False
    assert doc["version"]["minimum_next"] == "2.0.0"
    assert doc["version"]["declared_bump"] == "minor"
    assert doc["version"]["allows_changes"] is False


def test_strict_keeps_any_break_failing(tmp_path, capsys):
    status, out = compat(capsys, tmp_path, "2.0.0", "--strict")
    assert status == 1
    assert "result: INCOMPATIBLE (--strict: breaking changes fail even in 2.0.0)" in out
    status, out = compat(capsys, tmp_path, "2.0.0", "--strict", "--format", "github")
    assert status == 1 and "INCOMPATIBLE" in out.splitlines()[-1]


def test_json_says_breaking_and_allowed(tmp_path, capsys):
    status, out = compat(capsys, tmp_path, "2.0.0", "--format", "json")
    doc = json.loads(out)
    assert status == 0
    assert doc["compatible"] is True and doc["breaking"] is True and doc["strict"] is False
    assert doc["version"]["declared_bump"] == "major"
    assert doc["version"]["allows_changes"] is True
    assert doc["verdict"]["guests"] == "breaking"


def test_without_a_version_step_breaking_changes_fail(tmp_path, capsys):
    (tmp_path / "old.wit").write_text(OLD.replace("@1.0.0", ""))
    (tmp_path / "new.wit").write_text(NEW.format(version="2.0.0").replace("@2.0.0", ""))
    status = main(["compat", str(tmp_path / "old.wit"), str(tmp_path / "new.wit")])
    assert status == 1
    assert capsys.readouterr().out.rstrip().endswith("result: INCOMPATIBLE")


def test_removal_with_an_addition_of_the_same_shape_suggests_a_rename(tmp_path, capsys):
    _, out = compat(capsys, tmp_path, "2.0.0")
    assert (
        "function `f` was removed; renamed to `g`? (`g` was added with the same signature; "
        "a rename breaks like a removal)"
    ) in out
    assert "field `a` was removed from record `r`; renamed to `c`? (`c` was added with" in out


def test_no_rename_suggested_for_a_different_shape(tmp_path, capsys):
    (tmp_path / "old.wit").write_text(OLD)
    new = NEW.format(version="2.0.0").replace("g: func(y: u32) -> string", "g: func(y: u64)")
    new = new.replace("c: u32", "c: string")
    (tmp_path / "new.wit").write_text(new)
    main(["compat", str(tmp_path / "old.wit"), str(tmp_path / "new.wit")])
    assert "renamed to" not in capsys.readouterr().out
