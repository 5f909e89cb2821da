"""Each released package passes its own ecosystem's check, carries the WIT package's version and
the metadata of `[release]`, and the archives under packages/ are what the tools would pack."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tomllib
import zipfile
from pathlib import Path

import pytest

from conftest import require_tool
from witgen.paths import DEFAULT_WIT

CONTRACT = (DEFAULT_WIT / "dataflare.wit").read_text(encoding="utf-8")

CONFIG = """\
[release]
description = "Test SDK for the DataFlare contract"
license = "MIT OR Apache-2.0"
repository = "https://example.com/acme/flare"
homepage = "https://flare.example.com"
authors = ["Ada Lovelace <ada@example.com>", "Acme"]

[release.rust]
crate = "acme-flare"

[release.typescript]
package = "@acme/flare"

[release.go]
module = "example.com/acme/flare"

[release.python]
distribution = "acme-flare-host"
package = "acme_flare"
"""


def witgen(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "SOURCE_DATE_EPOCH"}
    return subprocess.run(
        [sys.executable, "-m", "witgen", *args],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=cwd,
        env=env,
    )


def make_contract(root: Path, version: str, config: str | None = CONFIG) -> Path:
    root.mkdir(parents=True)
    text = CONTRACT.replace("dataflare:core@1.0.0", f"dataflare:core@{version}")
    (root / "dataflare.wit").write_text(text, encoding="utf-8")
    if config is not None:
        (root / "witgen.toml").write_text(config, encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def v2(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A release of the contract bumped to 2.0.0 with the metadata of CONFIG."""
    base = tmp_path_factory.mktemp("v2")
    wit = make_contract(base / "wit", "2.0.0")
    proc = witgen("release", str(wit), "--out", str(base / "dist"))
    assert proc.returncode == 0, proc.stderr
    assert "warning" not in proc.stderr, proc.stderr
    return base / "dist" / "2.0.0"


def test_every_package_carries_the_wit_version_and_metadata(v2: Path) -> None:
    cargo = tomllib.loads((v2 / "rust" / "Cargo.toml").read_text())["package"]
    assert cargo["name"] == "acme-flare" and cargo["version"] == "2.0.0"
    assert cargo["license"] == "MIT OR Apache-2.0"
    assert cargo["repository"] == "https://example.com/acme/flare"
    assert cargo["description"] == "Test SDK for the DataFlare contract"
    assert "publish" not in cargo
    npm = json.loads((v2 / "typescript" / "package.json").read_text())
    assert npm["name"] == "@acme/flare" and npm["version"] == "2.0.0"
    assert "private" not in npm
    assert npm["types"] == "./index.ts" and npm["exports"]["."]["types"] == "./index.ts"
    assert npm["license"] == "MIT OR Apache-2.0"
    py = tomllib.loads((v2 / "python" / "pyproject.toml").read_text())["project"]
    assert py["name"] == "acme-flare-host" and py["version"] == "2.0.0"
    assert py["authors"] == [{"name": "Ada Lovelace", "email": "ada@example.com"}, {"name": "Acme"}]
    assert "module example.com/acme/flare/v2\n" in (v2 / "go" / "go.mod").read_text()
    assert (v2 / "go" / "VERSION").read_text() == "v2.0.0\n"
    for lang in ("rust", "typescript", "go"):
        assert (v2 / lang / "wit" / "dataflare.wit").read_text().count(
            "package dataflare:core@2.0.0;"
        ) == 1
    assert not (v2 / "python" / "wit").exists()  # the host bindings need no WIT
    manifest = json.loads((v2 / "release.json").read_text())
    assert manifest["names"]["go"] == "example.com/acme/flare/v2"


def test_cargo_package_without_warnings(v2: Path, tmp_path: Path) -> None:
    cargo = require_tool("cargo")
    crate = shutil.copytree(v2 / "rust", tmp_path / "crate")
    proc = subprocess.run(
        [cargo, "package", "--offline"],
        cwd=crate,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "CARGO_TARGET_DIR": str(tmp_path / "target")},
    )
    assert proc.returncode == 0, proc.stderr
    assert "warning" not in proc.stderr.lower(), proc.stderr
    # Cargo packs the same files as our reproducible .crate.
    listed = subprocess.run(
        [cargo, "package", "--list", "--offline"],
        cwd=crate,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout.split()
    with tarfile.open(v2 / "packages" / "rust" / "acme-flare-2.0.0.crate") as tar:
        ours = {n.split("/", 1)[1] for n in tar.getnames() if tar.getmember(n).isfile()}
    generated = {"Cargo.toml.orig", ".cargo_vcs_info.json", "Cargo.lock"}
    assert set(listed) - generated == ours


def test_npm_pack_has_types_and_exports(v2: Path, tmp_path: Path) -> None:
    npm = require_tool("npm")
    pkg = shutil.copytree(v2 / "typescript", tmp_path / "pkg")
    proc = subprocess.run(
        [npm, "pack", "--dry-run", "--json", "--ignore-scripts"],
        cwd=pkg,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    packed = json.loads(proc.stdout)[0]
    assert packed["name"] == "@acme/flare" and packed["version"] == "2.0.0"
    files = {f["path"] for f in packed["files"]}
    assert {"package.json", "index.ts", "wit/dataflare.wit", "runtime.ts"} <= files
    doc = json.loads((pkg / "package.json").read_text())
    for target in doc["exports"].values():
        paths = target.values() if isinstance(target, dict) else [target]
        for path in paths:
            assert path.endswith("/*") or path.removeprefix("./") in files, path
    with tarfile.open(v2 / "packages" / "npm" / "acme-flare-2.0.0.tgz") as tar:
        assert {n.removeprefix("package/") for n in tar.getnames()} == files


def test_python_wheel_and_sdist_build_and_pass_twine_check(v2: Path, tmp_path: Path) -> None:
    for module in ("build", "twine"):
        if importlib.util.find_spec(module) is None:
            if os.environ.get("CI"):
                pytest.fail(f"{module} is not installed; the test extra must install it")
            pytest.skip(f"{module} is not installed (pip install -e .[test])")
    src = shutil.copytree(v2 / "python", tmp_path / "src")
    out = tmp_path / "built"
    proc = subprocess.run(
        [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out), str(src)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    built = sorted(p.name for p in out.iterdir())
    assert built == ["acme_flare_host-2.0.0-py3-none-any.whl", "acme_flare_host-2.0.0.tar.gz"]
    ours = sorted((v2 / "packages" / "python").iterdir())
    assert [p.name for p in ours] == built
    check = subprocess.run(
        [
            sys.executable,
            "-m",
            "twine",
            "check",
            "--strict",
            *map(str, out.iterdir()),
            *map(str, ours),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert check.returncode == 0, check.stdout + check.stderr
    assert check.stdout.count("PASSED") == 4
    # Our sdist builds (pip runs its pyproject.toml through setuptools) into the same files.
    rebuilt = tmp_path / "rebuilt"
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
         "-w", str(rebuilt), str(ours[1])],
        capture_output=True,
        text=True,
        timeout=600,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (wheel,) = rebuilt.iterdir()
    with zipfile.ZipFile(wheel) as a, zipfile.ZipFile(ours[0]) as b:
        assert set(a.namelist()) - {"acme_flare_host-2.0.0.dist-info/top_level.txt"} == set(
            b.namelist()
        )
    # Our wheel holds what `build` put in its wheel (setuptools adds top_level.txt).
    with zipfile.ZipFile(out / built[0]) as a, zipfile.ZipFile(ours[0]) as b:
        assert set(a.namelist()) - {"acme_flare_host-2.0.0.dist-info/top_level.txt"} == set(
            b.namelist()
        )


def test_go_module_v2_is_fetched_through_a_proxy_and_builds(v2: Path, tmp_path: Path) -> None:
    go = require_tool("go")
    consumer = tmp_path / "plugin"
    consumer.mkdir()
    (consumer / "go.mod").write_text("module example.com/plugin\n\ngo 1.24\n")
    (consumer / "main.go").write_text(
        'package main\n\nimport "example.com/acme/flare/v2/processor"\n\n'
        "var _ processor.Exports\n\nfunc main() {}\n"
    )
    env = {
        **os.environ,
        "GOPROXY": (v2 / "packages" / "go").as_uri(),
        "GOSUMDB": "off",
        "GOFLAGS": "-mod=mod",
        "GOTOOLCHAIN": "local",
        "GOMODCACHE": str(tmp_path / "modcache"),
        "GOCACHE": str(tmp_path / "gocache"),
    }
    get = subprocess.run(
        [go, "get", "example.com/acme/flare/v2@v2.0.0"],
        cwd=consumer,
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    assert get.returncode == 0, get.stderr
    build = subprocess.run(
        [go, "build", "-buildmode=c-shared", "-ldflags=-checklinkname=0", "-o", "p.wasm", "."],
        cwd=consumer,
        capture_output=True,
        text=True,
        timeout=600,
        env={**env, "GOOS": "wasip1", "GOARCH": "wasm"},
    )
    assert build.returncode == 0, build.stderr
    moddir = subprocess.run(
        [go, "list", "-m", "-f", "{{.Dir}}", "example.com/acme/flare/v2"],
        cwd=consumer,
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        check=True,
    ).stdout.strip()
    assert (Path(moddir) / "wit" / "dataflare.wit").is_file()


def test_config_errors_and_option_overrides(tmp_path: Path) -> None:
    bad = make_contract(tmp_path / "bad", "1.0.0", "[release]\nlicence = 'MIT'\n")
    proc = witgen("release", str(bad), "--out", str(tmp_path / "d1"))
    assert proc.returncode == 2 and "unknown key `release.licence`" in proc.stderr
    assert "Traceback" not in proc.stderr
    wit = make_contract(tmp_path / "ok", "1.2.0")
    proc = witgen(
        "release",
        str(wit),
        "--out",
        str(tmp_path / "d2"),
        "--crate",
        "other-crate",
        "--license",
        "MIT",
        "--go-module",
        "example.com/other/v2",
        "--lang",
        "rust",
    )
    assert proc.returncode == 2 and "ends in /v2 but the release is version 1.x" in proc.stderr
    proc = witgen(
        "release",
        str(wit),
        "--out",
        str(tmp_path / "d3"),
        "--crate",
        "other-crate",
        "--license",
        "MIT",
        "--lang",
        "rust",
    )
    assert proc.returncode == 0, proc.stderr
    cargo = tomllib.loads((tmp_path / "d3" / "1.2.0" / "rust" / "Cargo.toml").read_text())
    assert cargo["package"]["name"] == "other-crate"
    assert cargo["package"]["version"] == "1.2.0"
    assert cargo["package"]["license"] == "MIT"
    assert cargo["package"]["repository"] == "https://example.com/acme/flare"  # from the file


def test_missing_license_and_unfetchable_go_path_are_warned(tmp_path: Path) -> None:
    wit = make_contract(tmp_path / "wit", "1.0.0", config=None)
    proc = witgen("release", str(wit), "--out", str(tmp_path / "dist"), "--lang", "go")
    assert proc.returncode == 0, proc.stderr
    assert "warning: no license set" in proc.stderr
    assert "cannot be fetched with `go get`" in proc.stderr
