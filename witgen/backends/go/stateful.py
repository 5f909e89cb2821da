"""The stateful shape of the Go SDK: `ExportNew(newPlugin)` beside `Export(impl)`.

For each exported interface of a plugin world, `<package>/stateful.go` adds
`ExportNew(func() (Exports, *PluginError))`: the constructor runs once per component instance,
before the first call (read the configuration there); implement Exports with pointer receivers
to keep state. When it returns an error, every call returns that error through the function's
own error channel (`result<_, plugin-error>`, a variant case carrying a plugin-error, one per
record for lists of those) and panics (traps) otherwise. Generated only when the contract
defines a `plugin-error` type; `Export(impl)` stays.
"""

from __future__ import annotations

import re
from typing import Any

from witgen import __version__, ir
from witgen.backends.go.names import lower_camel, upper_camel
from witgen.backends.rust.stateful import _target, find_error_type


def _embed(namer: Any, resolve: ir.Resolve, ty: ir.Type | None, err: int) -> str | None:
    """A Go expression of type `ty` carrying `*err` (a plugin-error), or None."""
    target = _target(resolve, ty)
    if not isinstance(target, int):
        return None
    kind = resolve.types[target].kind
    if isinstance(kind, ir.Result) and _target(resolve, kind.err) == err:
        full = namer.go_type(ty)
        match = re.fullmatch(r"witrt\.Result\[(.*)\]", full)
        if match is None:
            return None
        return f"{namer.ref('witrt', 'Err')}[{match.group(1)}](*err)"
    if isinstance(kind, ir.Variant):
        for case in kind.cases:
            if _target(resolve, case.type) == err:
                td = resolve.types[target]
                name = namer._qualify(
                    td.owner, f"{upper_camel(td.name or '')}{upper_camel(case.name)}"
                )
                return f"{name}(*err)"
    return None


def stateful_file(gen: Any, pkg: Any, namer_cls: Any, header: str) -> str | None:
    resolve: ir.Resolve = gen.resolve
    err = find_error_type(resolve)
    if err is None or pkg.owner.kind != "interface" or pkg.direction != "export":
        return None
    namer = namer_cls(gen, pkg)
    saved = set(pkg.imports)
    pkg.imports.clear()
    error_type = namer.go_type(err)
    methods = []
    for func in resolve.interfaces[pkg.owner.id].functions.values():
        if func.kind == "method":
            continue  # resource methods belong to the resource's own Go type
        item = upper_camel(func.item_name)
        if func.resource is None:
            go_name = item
        else:
            res = upper_camel(resolve.types[func.resource].name or "")
            go_name = f"New{res}" if func.kind == "constructor" else f"{res}{item}"
        params = [(lower_camel(p.name), p) for p in func.params]
        plist = ", ".join(f"{n} {namer.go_type(p.type)}" for n, p in params)
        result = ""
        if func.result is not None:
            result = namer.go_type(func.result)
            if func.kind == "constructor":
                result = upper_camel(resolve.types[func.resource or 0].name or "")
        args = ", ".join(n for n, _ in params)
        call = f"impl.{go_name}({args})"
        embed = None if func.kind == "constructor" else _embed(namer, resolve, func.result, err)
        body = ["\timpl, err := s.get()", "\tif err != nil {"]
        target = _target(resolve, func.result)
        listed = next(
            (n for n, p in params if isinstance(_target(resolve, p.type), int)
             and isinstance(resolve.types[_target(resolve, p.type)].kind, ir.List)),  # type: ignore[index]
            None,
        )  # fmt: skip
        if embed is not None:
            body.append(f"\t\treturn {embed}")
        elif (
            isinstance(target, int)
            and isinstance(resolve.types[target].kind, ir.List)
            and listed is not None
        ):
            kind = resolve.types[target].kind
            assert isinstance(kind, ir.List)
            inner = _embed(namer, resolve, kind.type, err)
            if inner is None:
                body.append('\t\tpanic("the plugin could not start: " + err.Message)')
            else:
                body += [
                    f"\t\tout := make({result}, len({listed}))",
                    "\t\tfor i := range out {",
                    f"\t\t\tout[i] = {inner}",
                    "\t\t}",
                    "\t\treturn out",
                ]
        else:
            body.append('\t\tpanic("the plugin could not start: " + err.Message)')
        body.append("\t}")
        body.append(f"\treturn {call}" if result else f"\t{call}")
        sig = f"func (s *stateful) {go_name}({plist})" + (f" {result}" if result else "")
        methods.append("\n".join([sig + " {", *body, "}"]))
    imports = sorted(pkg.imports)  # recorded while the methods were written (Namer.ref)
    pkg.imports.clear()
    pkg.imports.update(saved)
    import_lines = [f'\t"{i}"' for i in imports]
    import_block = ""
    if import_lines:
        import_block = "import (\n" + "\n".join(sorted(import_lines)) + "\n)\n\n"
    text = f"""{header}
package {pkg.name}

{import_block}// ExportNew registers the plugin that newPlugin builds: it runs once per component instance,
// before the first call (read the configuration there); implement Exports with pointer
// receivers to keep state. When it returns an error, every call returns that error instead
// (through the function's result, or a panic where the function has no error channel).
func ExportNew(newPlugin func() (Exports, *{error_type})) {{
\tExport(&stateful{{newPlugin: newPlugin}})
}}

type stateful struct {{
\tnewPlugin func() (Exports, *{error_type})
\timpl      Exports
\terr       *{error_type}
}}

func (s *stateful) get() (Exports, *{error_type}) {{
\tif s.impl == nil && s.err == nil {{
\t\ts.impl, s.err = s.newPlugin()
\t\tif s.impl == nil && s.err == nil {{
\t\t\tpanic("ExportNew: the constructor returned neither a plugin nor an error")
\t\t}}
\t}}
\treturn s.impl, s.err
}}
"""
    return text + "".join(f"\n{m}\n" for m in methods)
