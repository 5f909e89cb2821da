"""The stateful shape of the Go SDK: `ExportNew(newPlugin)` beside `Export(impl)`.

For each exported interface of a plugin world, `<package>/stateful.go` adds
`ExportNew(func() (Exports, *PluginError))`: the constructor runs once per component instance,
before the first call (read the configuration there); implement Exports with pointer receivers
to keep state. When it returns an error, every call returns that error through the function's
own error channel (`result<_, plugin-error>`, a variant case carrying a plugin-error, one per
record for lists of those) and panics (traps) otherwise. Generated only when the contract
defines a `plugin-error` type; `Export(impl)` stays.

The machinery (build once, remember the error, panic where there is no channel) is
`witrt.Stateful`, ordinary Go in `sdk_templates/go/witrt/stateful.go.j2`; this module only
decides, per function, how the constructor's error reaches the caller.
"""

from __future__ import annotations

import re
from typing import Any

from witgen import ir
from witgen.backends.go.names import upper_camel
from witgen.backends.go.plan import METHOD_KINDS
from witgen.backends.rust.stateful import _target, find_error_type


def _embed(namer: Any, resolve: ir.Resolve, ty: ir.Type | None, err: int, value: str) -> str | None:
    """A Go expression of type `ty` carrying `value` (a plugin-error), or None."""
    target = _target(resolve, ty)
    if not isinstance(target, int):
        return None
    kind = resolve.types[target].kind
    if isinstance(kind, ir.Result) and _target(resolve, kind.err) == err:
        full = namer.go_type(ty)
        match = re.fullmatch(r"witrt\.Result\[(.*)\]", full)
        if match is None:
            return None
        return f"{namer.ref('witrt', 'Err')}[{match.group(1)}]({value})"
    if isinstance(kind, ir.Variant):
        for i, case in enumerate(kind.cases):
            if _target(resolve, case.type) == err:
                ctor = namer.ident(resolve.types[target].owner, ("ctor", target, i))
                return f"{ctor}({value})"
    return None


def _fresh(base: str, taken: set[str]) -> str:
    """`base`, or `base_`... when a parameter of the same function is already called that."""
    while base in taken:
        base += "_"
    return base


def _describe(namer: Any, resolve: ir.Resolve, err: int, error_type: str) -> str:
    """The Go function that says what a constructor's error means (its `message` field when it
    has a string one, else the WIT type's name)."""
    kind = resolve.types[err].kind
    if isinstance(kind, ir.Record):
        for f in kind.fields:
            if f.name == "message" and resolve.dealias(f.type) == "string":
                return f"func(e *{error_type}) string {{ return e.{upper_camel(f.name)} }}"
    name = resolve.types[err].name or "error"
    return f'func(*{error_type}) string {{ return "{name}" }}'


def _method(namer: Any, func: ir.Function, err: int) -> dict[str, Any]:
    """How `func` forwards to the plugin, and what it answers when the constructor failed."""
    resolve: ir.Resolve = namer.resolve
    pkg = namer.pkg
    go_name = pkg.idents[("export", func.name)]
    params = list(zip(namer.gen.plan.param_names(pkg, func.params), func.params))
    taken = {n for n, _ in params}
    receiver, plugin, error = (_fresh(b, taken) for b in ("s", "plugin", "err"))
    plist = ", ".join(f"{n} {namer.go_type(p.type)}" for n, p in params)
    result = ""
    if func.result is not None:
        result = namer.go_type(func.result)
        if func.kind == "constructor":
            result = pkg.idents[("type", func.resource or 0)]
    args = ", ".join(n for n, _ in params)
    fail = (
        None
        if func.kind == "constructor"
        else _embed(namer, resolve, func.result, err, f"*{error}")
    )
    target = _target(resolve, func.result)
    batch = next(
        (n for n, p in params if isinstance(_target(resolve, p.type), int)
         and isinstance(resolve.types[_target(resolve, p.type)].kind, ir.List)),  # type: ignore[index]
        None,
    )  # fmt: skip
    if fail is None and isinstance(target, int) and batch is not None:
        kind = resolve.types[target].kind
        if isinstance(kind, ir.List):
            each = _embed(namer, resolve, kind.type, err, f"*{error}")
            if each is not None:
                fail = f"{namer.ref('witrt', 'Repeat')}(len({batch}), {each})"
    return {
        "receiver": receiver,
        "plugin": plugin,
        "err": error,
        "signature": f"{go_name}({plist})" + (f" {result}" if result else ""),
        "call": f"{go_name}({args})",
        "returns": bool(result),
        "fail": fail,
    }


def stateful_file(gen: Any, pkg: Any, namer_cls: Any, header: str) -> str | None:
    resolve: ir.Resolve = gen.resolve
    err = find_error_type(resolve)
    if err is None or pkg.owner.kind != "interface" or pkg.direction != "export":
        return None
    gen.has_stateful = True
    namer = namer_cls(gen, pkg)
    saved = set(pkg.imports)
    pkg.imports.clear()
    error_type = namer.go_type(err)
    stateful_type = namer.ref("witrt", "Stateful")
    new_stateful = namer.ref("witrt", "NewStateful")
    methods = [
        _method(namer, func, err)
        for func in resolve.interfaces[pkg.owner.id].functions.values()
        if func.kind not in METHOD_KINDS  # resource methods belong to the resource's own Go type
    ]
    describe = _describe(namer, resolve, err, error_type)
    imports = sorted(pkg.imports)  # recorded while the methods were written (Namer.ref)
    pkg.imports.clear()
    pkg.imports.update(saved)
    text: str = gen.env.get_template("stateful.go.j2").render(
        header=header,
        package=pkg.name,
        imports=[gen.plan.import_line(i) for i in imports],
        error_type=error_type,
        stateful_type=stateful_type,
        new_stateful=new_stateful,
        describe=describe,
        methods=methods,
    )
    return text
