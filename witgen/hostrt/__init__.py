"""The host runtime of generated Python packages, kept here as ordinary source.

`_runtime.py` (loading, limits, errors, the generic path), `_core.py` (the fast path), `_capi.py`
(a ctypes binding of the wasmtime C API) and `_batch.py` (the fast path's Arrow batch codec, which
needs numpy and pyarrow only when a batch call is made) are black- and mypy-checked with witgen and
imported directly by its tests. `witgen generate --lang python` copies them verbatim into every
generated package (they import each other relatively), and writes `_version.py` beside them with
the witgen version that copied them. Generated packages therefore need only `wasmtime` at run
time, within `WASMTIME_REQUIREMENT`.
"""

from __future__ import annotations

from pathlib import Path

FILES = ("_capi.py", "_runtime.py", "_core.py", "_batch.py", "_wasi.py")
"""The runtime modules copied into every generated package, in this folder."""

WASMTIME_REQUIREMENT = "wasmtime>=50,<52"
"""The wasmtime-py versions the runtime is tested with (also `_capi.TESTED_MAJORS`)."""

HERE = Path(__file__).parent
