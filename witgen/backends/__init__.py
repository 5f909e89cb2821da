"""Code generators, one module per language.

Each backend module defines

    LANGUAGE: str                       # "rust", "go", "typescript", "python"
    def generate(resolve: ir.Resolve, worlds: list[int], options: GenerateOptions) -> dict[str, str]

returning the files to write (relative path -> text), already formatted. Backends read the IR
and the canonical-ABI layer (`witgen.abi`); they never parse WIT or re-derive ABI facts.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from types import ModuleType

from witgen import ir
from witgen.diagnostics import UsageError

# language -> module under witgen.backends
BACKENDS = {
    "rust": "rust",
    "go": "go",
    "typescript": "typescript",
    "python": "python",
}


@dataclass(frozen=True)
class GenerateOptions:
    source: str  # how to name the input in generated headers, e.g. "wit/dataflare.wit"
    package_name: str | None = None  # override the generated crate/module/package name


def available() -> dict[str, ModuleType]:
    """The backends that exist in this checkout."""
    found = {}
    for lang, module in BACKENDS.items():
        try:
            found[lang] = importlib.import_module(f"witgen.backends.{module}")
        except ModuleNotFoundError as exc:
            if exc.name != f"witgen.backends.{module}":
                raise
    return found


def require_worlds(resolve: ir.Resolve, worlds: list[int], lang: str) -> None:
    """Refuse an empty world list: like wit-bindgen, every backend generates the bindings of a
    world (which interfaces are imported and which exported), never of loose interfaces."""
    if worlds:
        return
    main = resolve.main_package
    package = f"package `{resolve.packages[main].name}`" if main is not None else "the input"
    raise UsageError(
        f"the {lang} backend generates code for a world, and {package} defines none: add a "
        "world that imports or exports its interfaces (e.g. `world sdk { export my-iface; }`)"
    )


ACCESSOR_KINDS = frozenset(k for k in ir.FUNCTION_KINDS if k.endswith(("getter", "setter")))
