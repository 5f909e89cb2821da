"""Recipes that build guest code written against generated SDKs (one module per language).

`recipe(lang)` gives the module for a language; each offers `check()`, `install(out)` and
`build(project, release=...)` (see `witgen.toolchains.base`). `witgen build`, `witgen toolchain`,
the tests and `.ci/install` all go through these recipes; there is no second copy.
"""

from __future__ import annotations

import importlib
from types import ModuleType

LANGUAGES = ("rust", "go", "typescript")


def recipe(lang: str) -> ModuleType:
    if lang not in LANGUAGES:
        raise ValueError(f"no toolchain recipe for {lang!r}; expected one of {LANGUAGES}")
    return importlib.import_module(f"witgen.toolchains.{lang}")
