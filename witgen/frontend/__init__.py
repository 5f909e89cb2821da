"""The WIT front end: source files -> AST (Lark) -> resolved IR (`witgen.ir.Resolve`).

`load` is the only entry point the rest of witgen uses. The pipeline is
`sources` (find files, order packages) -> `descent` (one valid file -> `ast`, fast) or, for
whatever it declines, `lexer` + `parser` (the exact path: Lark's LALR table, wit-parser's
diagnostics) -> `resolver` (one package's ASTs -> its own arenas) -> `merge` (all packages ->
one arena, features applied, worlds elaborated) -> frozen `ir.Resolve`.
"""

from __future__ import annotations

import gc
from pathlib import Path

from witgen import ir
from witgen.diagnostics import UsageError, WitError
from witgen.paths import default_wit


def load(
    path: Path | str | None = None,
    *,
    features: frozenset[str] = frozenset(),
    all_features: bool = False,
) -> ir.Resolve:
    """Parse and resolve a `.wit` file or a package directory (with its `deps/`).

    Raises `WitError` (located) for invalid WIT and `UsageError` for a bad path.
    """
    from witgen.frontend.limits import check_type_depth
    from witgen.frontend.merge import Merger
    from witgen.frontend.sources import load_path

    path = Path(path) if path is not None else default_wit()
    if not path.exists():
        raise UsageError(f"no such file or directory: {path}")
    merger = Merger(frozenset(features), all_features)
    # Loading allocates millions of small objects and frees almost none: the cyclic garbage
    # collector would walk them again and again (half the time of a large file) for nothing.
    collecting = gc.isenabled()
    gc.disable()
    try:
        main = load_path(path, merger)
        resolve = merger.freeze(main)
    except RecursionError:  # pathological inputs (e.g. thousands of chained interfaces)
        raise WitError(f"{path}: WIT nested too deeply to resolve") from None
    finally:
        if collecting:
            gc.enable()
    check_type_depth(resolve)
    return resolve
