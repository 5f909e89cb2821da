"""`witgen release`: versioned packages for every language, refused on a wrong version bump."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path

from witgen import backends
from witgen.paths import DEFAULT_WIT

CONTRACT = (DEFAULT_WIT / "dataflare.wit").read_text(encoding="utf-8")


def witgen(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "witgen", *args], capture_output=True, text=True, timeout=300
    )


def contract(version: str, extra_logging_func: bool = False, drop_enabled: bool = False) -> str:
    text = CONTRACT.replace("dataflare:core@1.0.0", f"dataflare:core@{version}")
    if extra_logging_func:
        text = text.replace(
            "    /// Writes one log line.\n",
            "    /// Flushes buffered lines.\n    flush: func();\n\n    /// Writes one log line.\n",
        )
    if drop_enabled:
        text = re.sub(
            r"\n    /// Whether the host would.*?\n    enabled: func[^\n]*\n",
            "\n",
            text,
            flags=re.S,
        )
    return text


def write_wit(dir: Path, name: str, text: str) -> Path:
    path = dir / name / "dataflare.wit"
    path.parent.mkdir(parents=True)
    path.write_text(text, encoding="utf-8")
    return path.parent


def test_first_release_stamps_every_language(tmp_path: Path) -> None:
    out = tmp_path / "dist"
    proc = witgen("release", str(DEFAULT_WIT), "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    out = out / "1.0.0"  # --out names the releases folder; each version gets its own
    manifest = json.loads((out / "release.json").read_text())
    assert manifest["version"] == "1.0.0"
    assert set(manifest["languages"]) == set(backends.available())
    if "rust" in manifest["languages"]:
        cargo = tomllib.loads((out / "rust" / "Cargo.toml").read_text())
        assert cargo["package"]["version"] == "1.0.0"
    if "typescript" in manifest["languages"]:
        assert json.loads((out / "typescript" / "package.json").read_text())["version"] == "1.0.0"
    if "python" in manifest["languages"]:
        py = tomllib.loads((out / "python" / "pyproject.toml").read_text())
        assert py["project"]["version"] == "1.0.0"
    if "go" in manifest["languages"]:
        # wit/witgen.toml puts the module in sdk/go of its repository: the tag is prefixed.
        assert (out / "go" / "VERSION").read_text() == "sdk/go/v1.0.0\n"
        assert (
            "module github.com/dataflare/dataflare-core/sdk/go\n"
            in (out / "go" / "go.mod").read_text()
        )
    assert "First release" in (out / "CHANGELOG.md").read_text()


def test_breaking_change_without_major_bump_is_refused_and_writes_nothing(tmp_path: Path) -> None:
    old = write_wit(tmp_path, "old", contract("1.0.0"))
    new = write_wit(tmp_path, "new", contract("1.1.0", drop_enabled=True))
    out = tmp_path / "dist"
    proc = witgen("release", str(new), "--against", str(old), "--out", str(out), "--lang", "rust")
    assert proc.returncode != 0
    assert "refusing to release dataflare:core@1.1.0" in proc.stderr
    assert "2.0.0" in proc.stderr  # the minimum correct version is suggested
    assert "Traceback" not in proc.stderr
    assert not out.exists()


def test_addition_with_minor_bump_releases_with_changelog(tmp_path: Path) -> None:
    old = write_wit(tmp_path, "old", contract("1.0.0"))
    new = write_wit(tmp_path, "new", contract("1.1.0", extra_logging_func=True))
    out = tmp_path / "dist"
    proc = witgen("release", str(new), "--against", str(old), "--out", str(out), "--lang", "rust")
    assert proc.returncode == 0, proc.stderr
    out = out / "1.1.0"
    log = (out / "CHANGELOG.md").read_text()
    assert "dataflare:core 1.1.0" in log and "flush" in log
    assert tomllib.loads((out / "rust" / "Cargo.toml").read_text())["package"]["version"] == "1.1.0"


def test_unversioned_package_is_a_usage_error(tmp_path: Path) -> None:
    wit = tmp_path / "a.wit"
    wit.write_text("package a:b;\nworld w { export f: func(); }\n")
    proc = witgen("release", str(wit), "--out", str(tmp_path / "dist"))
    assert proc.returncode == 2
    assert "has no version" in proc.stderr


def test_major_bump_releases_and_compat_says_the_version_is_right(tmp_path: Path) -> None:
    old = write_wit(tmp_path, "old", contract("1.0.0"))
    new = write_wit(tmp_path, "new", contract("2.0.0", drop_enabled=True))
    out = tmp_path / "dist"
    proc = witgen("release", str(new), "--against", str(old), "--out", str(out), "--lang", "rust")
    assert proc.returncode == 0, proc.stderr
    assert "version 2.0.0 is right for 1 breaking change since 1.0.0" in proc.stdout
    log = (out / "2.0.0" / "CHANGELOG.md").read_text()
    changes = [line for line in log.splitlines() if line.startswith("- ")]
    assert changes, log
    assert len(changes) == len(set(changes))  # each change named once
    assert "breaks existing guests and existing hosts" not in log
    assert all(line.count("(breaks ") <= 1 for line in changes), log
    assert any("`enabled`" in line and "(breaks existing" in line for line in changes), log
    gate = witgen("compat", str(old), str(new))
    assert gate.returncode == 0, gate.stdout + gate.stderr
    assert "version 2.0.0 is right" in gate.stdout
    strict = witgen("compat", str(old), str(new), "--strict")
    assert strict.returncode == 1
