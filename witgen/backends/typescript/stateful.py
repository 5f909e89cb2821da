"""The stateful shape of the TypeScript SDK: a plugin is a class, constructed once per instance.

`stateful.ts` gets, per exported interface of a plugin world, `<iface>FromClass(Cls)`: the
interface implemented by an instance of `Cls` built on the first call (its constructor reads
the configuration and may throw a `ComponentError` carrying a plugin-error). When construction
failed, every call returns that error through the function's own error channel (a `result`
throws it back as `err`, a variant case carrying a plugin-error holds it, lists get one per
record) and traps otherwise. Resources stay classes: give them as static members of `Cls`
(`static Cursor = MyCursor`). Generated only when the contract defines a `plugin-error` type.
"""

from __future__ import annotations

import json
from typing import Any

from witgen import ir
from witgen.backends.typescript import names
from witgen.backends.rust.stateful import _target, find_error_type
from witgen.paths import TEMPLATES, read_text

# The helpers every `stateful.ts` starts with: TypeScript source kept as a file of its own,
# copied verbatim (it uses the `ComponentError` that the generated imports bring in).
RUNTIME_FILE = TEMPLATES / "typescript" / "stateful_runtime.ts"


def _embed(resolve: ir.Resolve, ty: ir.Type | None, err: int, listed: bool) -> Any:
    target = _target(resolve, ty)
    if not isinstance(target, int):
        return "trap"
    kind = resolve.types[target].kind
    if isinstance(kind, ir.Result) and _target(resolve, kind.err) == err:
        return "throw"
    if isinstance(kind, ir.Variant):
        for case in kind.cases:
            if _target(resolve, case.type) == err:
                return {"case": case.name}
    if isinstance(kind, ir.List) and listed:
        inner = _embed(resolve, kind.type, err, False)
        if inner != "trap":
            return {"list": inner}
    return "trap"


def _literal(value: Any) -> str:
    if isinstance(value, str):
        return json.dumps(value)
    key, inner = next(iter(value.items()))
    return f"{{ {key}: {_literal(inner)} }}"


def _signature(name: str, cls_type: str, result: str) -> str:
    """prettier's layout (80 columns) of `export function NAME(cls: TYPE): RESULT`."""
    line = f"export function {name}(cls: {cls_type}): {result}"
    if len(line) + 2 <= 80:
        return line
    param = f"  cls: {cls_type},"
    if len(param) > 80 and " & " in cls_type:
        left, right = cls_type.split(" & ", 1)
        param = f"  cls: {left} &\n    {right},"
    return f"export function {name}(\n{param}\n): {result}"


def stateful_file(gen: Any, resolve: ir.Resolve, header: str) -> str | None:
    """`stateful.ts` for the exported interfaces of `gen`'s worlds, or None."""
    err = find_error_type(resolve)
    # exported interfaces: by path (or inline), then under plain names (`export cache: store;`)
    units = [(iface, None) for iface in sorted(gen.exported)] + [
        (iface, (world, key)) for world, direction, key, iface in gen.named if direction == "export"
    ]
    if err is None or not units:
        return None
    imports = ['import { ComponentError } from "./runtime.js";']
    parts = []
    taken: set[str] = set()  # names this module declares or imports
    for iface, named in units:
        it = resolve.interfaces[iface]
        short = named[1] if named is not None else gen.iface_key_short(iface)
        path = gen.exports_path(iface, named)
        exported_name = gen.export_names[path][0]  # as the exports module claimed it
        type_name, member = exported_name, names.member(short)
        while type_name in taken or f"{member}FromClass" in taken:
            type_name, member = type_name + "_", member + "_"
        taken.update({type_name, f"{member}FromClass"})
        resources = [
            names.type_name(resolve.types[t].name or "")
            for t in it.types.values()
            if isinstance(resolve.types[t].kind, ir.Resource)
        ]
        rows = []
        for fn in it.functions.values():
            if fn.resource is not None:
                continue
            listed = any(
                isinstance(_target(resolve, p.type), int)
                and isinstance(resolve.types[_target(resolve, p.type)].kind, ir.List)  # type: ignore[index]
                for p in fn.params
            )
            how = _embed(resolve, fn.result, err, listed)
            rows.append(f"  {names.member(fn.name)}: {_literal(how)},")
        spec = "./" + path.removesuffix(".ts") + ".js"
        local = type_name if type_name == exported_name else f"{exported_name} as {type_name}"
        imports.append(f'import type {{ {local} }} from "{spec}";')
        omit = " | ".join(json.dumps(r) for r in resources)
        if resources:
            cls_type = f"(new () => Omit<{type_name}, {omit}>) & Pick<{type_name}, {omit}>"
        else:
            cls_type = f"new () => {type_name}"
        table = f"{member.upper()}_ERRORS"
        parts.append(f"const {table}: Table = {{\n" + "\n".join(rows) + "\n};")
        parts.append(
            "/**\n"
            f" * `{type_name}` from a class: one instance, constructed on the first call (read the\n"
            " * configuration in its constructor; throw a `ComponentError` with a plugin-error to\n"
            " * refuse it, and every call returns that error).\n"
            " */\n"
            f"{_signature(member + 'FromClass', cls_type, type_name)} {{\n"
            f"  return fromClass<{type_name}>(cls, () => new cls(), {table});\n"
            "}"
        )
    return (
        "\n".join(
            [header, *imports, "\n" + read_text(RUNTIME_FILE), *(p + "\n" for p in parts)]
        ).rstrip()
        + "\n"
    )
