"""The generated Python host for a project's contract, and a host that records what plugins do.

`host_package(project)` generates the typed Python bindings of the project's WIT (the `python`
backend, under a package name unique to the WIT's digest, so several contracts can be loaded in
one process) into `target/witgen/host/` and imports them. `RecordingHost` serves the
`logging`, `metrics` and `config` imports from memory and keeps what the plugin logged and
counted.
"""

from __future__ import annotations

import importlib
import sys
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from witgen import backends
from witgen.author.project import Project, wit_digest

_imported: dict[str, ModuleType] = {}


def camel(name: str) -> str:
    return "".join(part.capitalize() for part in name.replace("_", "-").split("-"))


def host_package(wit: Path, out_dir: Path, world: str) -> ModuleType:
    """Generate (once per WIT digest) and import the Python host package for `wit`."""
    digest = wit_digest(wit)
    name = f"witgen_host_{digest}"
    if name in _imported:
        return _imported[name]
    root = out_dir / "host"
    pkg_dir = root / name
    if not (pkg_dir / "__init__.py").is_file():
        from witgen import frontend
        from witgen.fsio import write_tree

        resolve = frontend.load(wit)
        main = resolve.main_package
        worlds = sorted(resolve.packages[main].worlds.values()) if main is not None else []
        files = backends.available()["python"].generate(
            resolve, worlds, backends.GenerateOptions(source="wit/", package_name=name)
        )
        write_tree(pkg_dir, {rel.split("/", 1)[1]: text for rel, text in files.items()})
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    module = importlib.import_module(name)
    _imported[name] = module
    return module


def plugin_class(pkg: ModuleType, world: str) -> Any:
    module = importlib.import_module(f"{pkg.__name__}.{world.replace('-', '_')}")
    return getattr(module, camel(world) if world.endswith("-plugin") else camel(world) + "Plugin")


def project_host(project: Project) -> tuple[ModuleType, Any]:
    pkg = host_package(project.wit, project.out_dir, project.world)
    return pkg, plugin_class(pkg, project.world)


def _level(level: Any) -> str:
    value = getattr(level, "value", level)
    return value if isinstance(value, str) else str(getattr(level, "name", level)).lower()


@dataclass
class RecordingHost:
    """Serves logging, metrics and config to a plugin and records what it did."""

    pkg: ModuleType
    config: dict[str, str] = field(default_factory=dict)
    logs: list[str] = field(default_factory=list)  # "level: message"
    counters: dict[str, int] = field(default_factory=dict)
    histograms: list[tuple[str, float, list[tuple[str, str]]]] = field(default_factory=list)

    def reset(self, config: dict[str, str] | None = None) -> None:
        self.config = dict(config or {})
        self.logs.clear()
        self.counters.clear()
        self.histograms.clear()

    # logging
    def log(self, level: Any, message: str) -> None:
        self.logs.append(f"{_level(level)}: {message}")

    def enabled(self, level: Any) -> bool:
        return True

    # metrics
    def counter_add(self, name: str, delta: int) -> None:
        self.counters[name] = self.counters.get(name, 0) + delta

    def histogram_record(self, name: str, value: float, labels: list[tuple[str, str]]) -> None:
        self.histograms.append((name, value, list(labels)))

    # config
    def get(self, key: str) -> str | None:
        return self.config.get(key)

    def get_int(self, key: str) -> Any:
        value = self.config.get(key)
        try:
            return self.pkg.Ok(int(value)) if value is not None else self.pkg.Err(None)
        except ValueError:
            return self.pkg.Err(None)

    def get_all(self) -> list[tuple[str, str]]:
        return list(self.config.items())

    def serves(self) -> dict[str, Any]:
        """Keyword arguments of `<World>Plugin.load`/`prepare` for the imports served here."""
        return {"logging": self, "metrics": self, "config": self}
