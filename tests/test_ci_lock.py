"""The pinned versions CI installs agree with what pyproject.toml and the npm recipe declare."""

from __future__ import annotations

import json
import re
import tomllib
from importlib import metadata

from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from witgen.paths import REPO_ROOT
from witgen.toolchains import typescript

PYPROJECT = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def _pins() -> dict[str, Version]:
    pins: dict[str, Version] = {}
    for line in (REPO_ROOT / ".ci" / "constraints.txt").read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            name, _, version = line.partition("==")
            assert version, f"not an exact pin: {line}"
            pins[canonicalize_name(name)] = Version(version)
    return pins


def _declared() -> list[Requirement]:
    """What CI installs: build requirements, dependencies, the `test` extra, and any other
    extra's requirement that is installed (an extra CI does not install has no tested version)."""
    project = PYPROJECT["project"]
    extras = project["optional-dependencies"]
    reqs = [*PYPROJECT["build-system"]["requires"], *project["dependencies"], *extras["test"]]
    for name, group in extras.items():
        if name != "test":
            reqs += [r for r in group if _installed(Requirement(r).name)]
    env: dict[str, str] = dict(default_environment())
    return [r for r in map(Requirement, reqs) if r.marker is None or r.marker.evaluate(env)]


def _installed(name: str) -> bool:
    try:
        metadata.distribution(name)
    except metadata.PackageNotFoundError:
        return False
    return True


def test_every_declared_requirement_is_pinned_inside_its_range() -> None:
    pins = _pins()
    unpinned = [str(r) for r in _declared() if canonicalize_name(r.name) not in pins]
    assert not unpinned, f"not in .ci/constraints.txt (run python3 .ci/lock.py): {unpinned}"
    outside = [
        f"{r} (pinned {pins[canonicalize_name(r.name)]})"
        for r in _declared()
        if pins[canonicalize_name(r.name)] not in r.specifier
    ]
    assert not outside, f"pins outside the declared ranges: {outside}"


def test_wasmtime_range_is_the_tested_one() -> None:
    (wasmtime,) = [r for r in _declared() if r.name == "wasmtime"]
    assert Version("50.0.1") in wasmtime.specifier and Version("51.0.0") in wasmtime.specifier
    assert (
        Version("52.0.0") not in wasmtime.specifier and Version("49.0.0") not in wasmtime.specifier
    )


def test_npm_lock_matches_the_recipe() -> None:
    package = json.loads((typescript.NPM_LOCK_DIR / "package.json").read_text(encoding="utf-8"))
    lock = json.loads((typescript.NPM_LOCK_DIR / "package-lock.json").read_text(encoding="utf-8"))
    wanted = dict(p.rsplit("@", 1) for p in typescript.PACKAGES)
    assert package["dependencies"] == wanted
    assert lock["packages"][""]["dependencies"] == wanted
    for name, version in wanted.items():  # the lock resolves each to exactly that version
        assert lock["packages"][f"node_modules/{name}"]["version"] == version
    # every package in the lock is pinned to one version with an integrity hash
    for path, entry in lock["packages"].items():
        if path and not entry.get("link"):
            assert re.fullmatch(r"\d+\.\d+\.\d+.*", entry["version"]), path
            assert entry.get("integrity", "").startswith("sha512-"), path


def test_ci_runs_readme_command_2() -> None:
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    assert "bash .ci/install && python3 -m pytest" in readme
    run = (REPO_ROOT / ".ci" / "run").read_text(encoding="utf-8").strip().splitlines()
    assert run[-1] == "bash .ci/install && python3 -m pytest"
