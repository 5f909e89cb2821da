"""`witgen build`: one project's component, built by its language's recipe and then checked.

After the recipe ran, the component must be valid (`wasm-tools validate`) and must really be a
plugin of the project's world: it exports every interface the world exports, with the same
functions, and imports nothing beyond the world's imports and WASI. A build whose inputs did not
change since the last one (same digest of every source, the SDK and the WIT) is skipped.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from witgen import ir
from witgen.author.project import Project, sync_sdk
from witgen.toolchains import recipe
from witgen.toolchains.base import BuildFailed, ToolchainMissing, run, wasm_tools

# folders whose contents never go into a build
NOT_INPUTS = {"target", "node_modules", "fixtures", ".git", "tests"}


@dataclass(frozen=True)
class BuildResult:
    component: Path
    size: int
    world: str
    exports: tuple[str, ...]
    fresh: bool  # False when the previous build was still up to date
    sdk_regenerated: bool


def inputs_digest(project: Project, release: bool) -> str:
    h = hashlib.sha256(f"{project.lang} {project.world} release={release}".encode())
    for path in sorted(project.root.rglob("*")):
        rel = path.relative_to(project.root)
        if rel.parts[0] in NOT_INPUTS or not path.is_file() or path.name == "README.md":
            continue
        h.update(str(rel).encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()


def build(project: Project, *, release: bool = False) -> BuildResult:
    """Build (or reuse) and check the project's component; errors are `WitgenError`s."""
    module = recipe(project.lang)
    missing = module.check()
    if missing:
        raise ToolchainMissing(project.lang, missing)
    regenerated = sync_sdk(project)
    out = project.component(release)
    stamp = out.with_suffix(".inputs")
    digest = inputs_digest(project, release)
    fresh = True
    if out.is_file() and stamp.is_file() and stamp.read_text(encoding="utf-8") == digest:
        fresh = False
    else:
        stamp.unlink(missing_ok=True)
        built: Path = module.build(project, release=release)
        if release:
            _strip(built)
    resolve = project.resolve()
    exports = check_component(out, resolve, project.world_id(resolve))
    if fresh:  # digest again: a build may write inputs of its own (Cargo.lock, go.sum)
        stamp.write_text(inputs_digest(project, release), encoding="utf-8")
    return BuildResult(out, out.stat().st_size, project.world, exports, fresh, regenerated)


def _strip(component: Path) -> None:
    tool = wasm_tools()
    assert tool is not None  # checked by the recipe
    staged = component.with_name(f".{component.name}.{os.getpid()}.strip")
    run([tool, "strip", "--all", str(component), "-o", str(staged)], "wasm-tools strip")
    os.replace(staged, component)


def qualified(resolve_json: dict[str, Any], iface: dict[str, Any]) -> str:
    package = resolve_json["packages"][iface["package"]]["name"]
    ns_name, _, version = package.partition("@")
    return f"{ns_name}/{iface['name']}" + (f"@{version}" if version else "")


def _world_interfaces(resolve: ir.Resolve, wid: int, side: str) -> dict[str, set[str]]:
    """Qualified interface name -> function names, for a world's imports or exports."""
    out: dict[str, set[str]] = {}
    world = resolve.worlds[wid]
    for entry in world.exports if side == "exports" else world.imports:
        item = entry.item
        if isinstance(item, ir.WorldInterface):
            iface = resolve.interfaces[item.id]
            pkg = resolve.packages[iface.package].name if iface.package is not None else ""
            ns_name, _, version = pkg.partition("@")
            name = f"{ns_name}/{iface.name}" + (f"@{version}" if version else "")
            out[name] = set(iface.functions)
    return out


def check_component(component: Path, resolve: ir.Resolve, wid: int) -> tuple[str, ...]:
    """Validate `component` and check it against world `wid`; its exported interfaces."""
    tool = wasm_tools()
    if tool is None:
        raise BuildFailed("wasm-tools validate", "wasm-tools is not installed")
    run([tool, "validate", str(component)], f"validating {component}")
    proc = subprocess.run(
        [tool, "component", "wit", "--json", str(component)], capture_output=True, text=True
    )
    if proc.returncode != 0:
        raise BuildFailed(f"reading the interface of {component}", proc.stderr)
    doc = json.loads(proc.stdout)
    worlds = doc["worlds"]
    if len(worlds) != 1:
        raise BuildFailed("checking the component", f"{component} is not a single component")
    world = worlds[0]
    have: dict[str, set[str]] = {}
    for side in ("exports", "imports"):
        for key, item in world[side].items():
            if "interface" in item:
                iface = doc["interfaces"][item["interface"]["id"]]
                have[f"{side}:{qualified(doc, iface)}"] = set(iface["functions"])
            elif side == "exports":
                have[f"exports:{key}"] = set()
    problems = []
    want = _world_interfaces(resolve, wid, "exports")
    for name, functions in sorted(want.items()):
        got = have.get(f"exports:{name}")
        if got is None:
            problems.append(f"it does not export {name}")
        elif got != functions:
            lost = ", ".join(sorted(functions - got)) or "none"
            extra = ", ".join(sorted(got - functions)) or "none"
            problems.append(f"its {name} differs: missing functions {lost}; unexpected {extra}")
    allowed = set(_world_interfaces(resolve, wid, "imports"))
    for key in sorted(have):
        side, _, name = key.partition(":")
        if side == "imports" and name not in allowed and not name.startswith("wasi:"):
            problems.append(f"it imports {name}, which the world does not provide")
        if side == "exports" and name not in want:
            if name.startswith("wasi:cli/run"):
                problems.append("it exports wasi:cli/run: a command, not a reactor plugin")
    if problems:
        world_name = resolve.worlds[wid].name
        raise BuildFailed(
            "checking the component",
            f"{component} is not a {world_name} plugin:\n" + "\n".join(f"  {p}" for p in problems),
        )
    return tuple(sorted(want))


def copy_to(result: BuildResult, out: Path) -> Path:
    out.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(result.component, out)
    return out
