"""The contract a pipeline runs against, and its Python host bindings.

The runtime touches wasmtime only through the bindings `witgen generate --lang python` makes
for the contract (DESIGN: "the generated Python bindings are the only way the runtime touches
wasmtime"). They are generated once per contract text and witgen version into a cache directory
(`$XDG_CACHE_HOME/witgen/run/`), under a package name derived from that hash, so two contracts
(or a test's own copy of `dataflare_core`) never collide in `sys.modules`.
"""

from __future__ import annotations

import functools
import hashlib
import importlib
import os
import sys
import tempfile
import threading
from dataclasses import dataclass, replace
from pathlib import Path
from types import ModuleType
from typing import Any

from witgen import __version__, frontend, ir
from witgen.diagnostics import UsageError
from witgen.paths import DEFAULT_WIT, PACKAGE_DIR, TEMPLATES

_lock = threading.Lock()


def cache_root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(Path.home(), ".cache")
    return Path(base) / "witgen" / "run"


@dataclass
class Contract:
    """A resolved contract, its plugin worlds by kind and the generated bindings package."""

    source: Path
    resolve: ir.Resolve
    worlds: dict[str, int]  # plugin kind -> world id (the world that exports `<kind>`)
    bindings: ModuleType

    def world_name(self, kind: str) -> str:
        return self.resolve.worlds[self.worlds[kind]].name

    def plugin_class(self, kind: str, bindings: ModuleType | None = None) -> Any:
        """The generated class of the world for `kind` (e.g. `ProcessorPlugin`)."""
        name = "".join(p.capitalize() for p in self.world_name(kind).split("-"))
        return getattr(bindings or self.bindings, name)

    def bindings_for(self, package: str) -> ModuleType:
        """Bindings that call a plugin built against `package` (`ns:pkg@version`).

        A plugin built against an older compatible version of the contract names its
        interfaces with that version (`dataflare:core/filter@1.0.0`), and the generated
        bindings look exports up by exact name. compat has already checked that what the
        plugin exports is unchanged and what it imports is still provided, so the host's
        contract is generated again under the plugin's package version.
        """
        main = self.resolve.main_package or 0
        if package == self.resolve.packages[main].name:
            return self.bindings
        packages = tuple(
            replace(p, name=package) if i == main else p
            for i, p in enumerate(self.resolve.packages)
        )
        renamed = replace(self.resolve, packages=packages)
        return _bindings(self.source, renamed, extra=package)

    def describe(self) -> str:
        pkg = self.resolve.packages[self.resolve.main_package or 0]
        return pkg.name


def load(path: Path | None) -> Contract:
    source = path if path is not None else DEFAULT_WIT
    resolve = frontend.load(source)
    if resolve.main_package is None:
        raise UsageError(f"contract {source}: no package")
    pkg = resolve.packages[resolve.main_package]
    worlds: dict[str, int] = {}
    for wid in pkg.worlds.values():
        world = resolve.worlds[wid]
        for entry in world.exports:
            if isinstance(entry.item, ir.WorldInterface):
                iface = resolve.interfaces[entry.item.id]
                if iface.name is not None and iface.package == resolve.main_package:
                    worlds.setdefault(iface.name, wid)
    kinds = ("source", "processor", "filter", "transformer", "aggregator", "destination")
    missing = [k for k in kinds if k not in worlds]
    if missing:
        raise UsageError(
            f"contract {source} has no plugin world exporting: {', '.join(missing)} "
            "(a DataFlare contract has one world per plugin kind)"
        )
    return Contract(source, resolve, worlds, _bindings(source, resolve))


def uses_async(resolve: ir.Resolve, world_id: int) -> bool:
    """Whether a world imports or exports an interface with an `async` function."""
    world = resolve.worlds[world_id]
    for entry in (*world.imports, *world.exports):
        if isinstance(entry.item, ir.WorldInterface):
            functions = resolve.interfaces[entry.item.id].functions.values()
            if any(fn.is_async for fn in functions):
                return True
        elif isinstance(entry.item, ir.WorldFunction) and entry.item.function.is_async:
            return True
    return False


@functools.lru_cache(maxsize=1)
def _generator_digest() -> bytes:
    """What the generated code depends on besides the contract: the Python backend, its
    templates, the ABI layer and the host runtime it copies (so an edit never leaves stale
    bindings behind)."""
    h = hashlib.sha256()
    sources = [
        *sorted((PACKAGE_DIR / "backends").glob("python*.py")),
        *sorted((PACKAGE_DIR / "abi").glob("*.py")),
        *sorted((PACKAGE_DIR / "hostrt").glob("*.py")),  # copied into the generated package
        *sorted((TEMPLATES / "python").rglob("*")),
    ]
    for f in sources:
        if f.is_file():
            h.update(f.name.encode() + f.read_bytes())
    return h.digest()


def _contract_digest(source: Path, extra: str = "") -> str:
    h = hashlib.sha256(__version__.encode() + extra.encode() + _generator_digest())
    files = sorted(source.rglob("*.wit")) if source.is_dir() else [source]
    for f in files:
        h.update(str(f.relative_to(source) if source.is_dir() else f.name).encode())
        h.update(f.read_bytes())
    return h.hexdigest()[:16]


def _bindings(source: Path, resolve: ir.Resolve, extra: str = "") -> ModuleType:
    name = f"witgen_run_{_contract_digest(source, extra)}"
    with _lock:
        if name in sys.modules:
            return sys.modules[name]
        root = cache_root() / "bindings"
        if not (root / name / "__init__.py").is_file():
            _generate(resolve, name, root, source)
        if str(root) not in sys.path:
            sys.path.insert(0, str(root))
        return importlib.import_module(name)


def _generate(resolve: ir.Resolve, name: str, root: Path, source: Path) -> None:
    from witgen import backends
    from witgen.backends import python as python_backend

    pkg = resolve.packages[resolve.main_package or 0]
    # Worlds with async functions (streaming-source and streaming-destination of 1.1.0) run on
    # the async host through witgen/pipeline/streaming.py, not through generated bindings.
    worlds = [w for w in sorted(pkg.worlds.values()) if not uses_async(resolve, w)]
    files = python_backend.generate(
        resolve,
        worlds,
        backends.GenerateOptions(source=str(source), package_name=name),
    )
    root.mkdir(parents=True, exist_ok=True)
    # Written into a temporary directory and renamed: a concurrent run sees all or nothing.
    tmp = Path(tempfile.mkdtemp(dir=root, prefix=f".{name}-"))
    for rel, text in files.items():
        target = tmp / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    try:
        os.replace(tmp / name, root / name)
    except OSError:
        pass  # another process won the race; its copy is identical
    finally:
        for p in sorted(tmp.rglob("*"), reverse=True):
            p.unlink() if p.is_file() else p.rmdir()
        tmp.rmdir()
