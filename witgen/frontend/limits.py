"""Limits on what the front end accepts, so every later stage (ABI, backends) can handle it.

- `MAX_SOURCE_BYTES`: a `.wit` file larger than this is refused before it is read.
- `MAX_TYPE_DEPTH`: how deeply types may nest through named types (`record r2 { p: r1 }`,
  `type t2 = option<t1>`). Anonymous nesting inside one type expression is limited separately
  (to 100, like wit-parser); nesting through names is not limited by wit-parser, but the ABI
  layer and the generators walk types recursively, so witgen refuses deeper types with a located
  error instead of failing later. The command line runs every command with a stack large
  enough for this depth (`witgen.cli`).
"""

from __future__ import annotations

from witgen import ir
from witgen.diagnostics import WitError

MAX_SOURCE_BYTES = 64 * 1024 * 1024
MAX_TYPE_DEPTH = 256


def type_depths(resolve: ir.Resolve) -> list[int]:
    """Nesting depth of every type, computed without recursion: a primitive is 0, a type holding
    only primitives is 1, and an alias (`type a = b`, or a `use`) is as deep as what it names."""
    depth = [-1] * len(resolve.types)
    for root in range(len(resolve.types)):
        if depth[root] >= 0:
            continue
        stack = [root]
        while stack:
            tid = stack[-1]
            if depth[tid] >= 0:
                stack.pop()
                continue
            pending = [
                c
                for c in ir.type_children(resolve.types[tid].kind, handles=False)
                if isinstance(c, int) and depth[c] < 0
            ]
            if pending:
                stack.extend(pending)
                continue
            own = 0 if isinstance(resolve.types[tid].kind, ir.Alias) else 1
            depth[tid] = own + max(
                (
                    depth[c]
                    for c in ir.type_children(resolve.types[tid].kind, handles=False)
                    if isinstance(c, int)
                ),
                default=0,
            )
            stack.pop()
    return depth


def check_type_depth(resolve: ir.Resolve) -> None:
    """Refuse a type nested deeper than `MAX_TYPE_DEPTH`, at the shallowest named type over it."""
    depths = type_depths(resolve)
    over = [tid for tid, d in enumerate(depths) if d > MAX_TYPE_DEPTH]
    if not over:
        return
    tid = min(over, key=lambda t: (resolve.types[t].name is None, depths[t], t))
    t = resolve.types[tid]
    name = f"type `{t.name}`" if t.name else "a type"
    raise WitError(
        f"{name} nests {depths[tid]} levels deep; witgen supports at most {MAX_TYPE_DEPTH} "
        "levels of type nesting",
        t.span,
    )
