"""The canonical-ABI layer: every fact about how WIT values cross the component boundary.

Backends and templates read these facts; none re-derives them.
"""

from witgen.abi.layout import (
    MAX_FLAT_ASYNC_PARAMS,
    MAX_FLAT_PARAMS,
    MAX_FLAT_RESULTS,
    CaseShape,
    Layouts,
    TypeLayout,
    align_to,
    discriminant_size,
    flags_word_count,
    join,
)

__all__ = [
    "MAX_FLAT_ASYNC_PARAMS",
    "MAX_FLAT_PARAMS",
    "MAX_FLAT_RESULTS",
    "CaseShape",
    "Layouts",
    "TypeLayout",
    "align_to",
    "discriminant_size",
    "flags_word_count",
    "join",
]
