"""The Python host-bindings backend (`witgen generate --lang python`), one package:

- `generator`: the typed model of interfaces and worlds, the templates, black formatting;
- `names`: Python spellings of WIT names (modules, classes, constants, docstrings);
- `fast`: the type-specialised canonical-ABI lift/lower module of the fast path (`_fast.py`).
"""

from __future__ import annotations

from witgen.backends.common import Unsupported  # kept importable from here for callers
from witgen.backends.python.generator import (
    LANGUAGE,
    TEMPLATES,
    WASMTIME_REQUIREMENT,
    Generator,
    generate,
)

__all__ = ["LANGUAGE", "TEMPLATES", "WASMTIME_REQUIREMENT", "Generator", "Unsupported", "generate"]
