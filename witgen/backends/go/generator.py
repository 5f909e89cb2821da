"""The Go guest SDK backend (`witgen generate --lang go`).

One Go package per WIT interface (and one per world that has world-level types or functions),
plus `witrt`, the small runtime they share. Imported functions become plain Go functions over
`//go:wasmimport`; an exported interface becomes a Go `Exports` interface, a registration
function `Export(impl)` and `//go:wasmexport` wrappers. An interface both imported and
exported gets both in one package (sharing its types); an inline interface
(`import host: interface { ... }`) gets a package nested under its world's (`<world>/host`).
`list<T, N>` is a Go array `[N]T`, `map<K, V>` a Go map. Build a plugin with
`GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -ldflags=-checklinkname=0`, then
`wasm-tools component embed` and `component new --adapt` (a reactor adapter).

The text is laid out exactly as gofmt prints it (tabs, aligned struct fields, one blank line
between declarations), so generating needs no Go toolchain; the tests run gofmt as a check.

This module decides what to generate and how things are named; `abi` writes the lift/lower
statements, `names` spells names, and the templates under `sdk_templates/go/` lay it out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from witgen import __version__, ir
from witgen.abi import Layouts, stream
from witgen.abi.signature import CoreSignature, core_signature
from witgen.backends import GenerateOptions, require_worlds
from witgen.backends.common import Unsupported, jinja_env
from witgen.backends.go import stateful as go_stateful
from witgen.backends.go.abi import (
    CORE_GO,
    DISCRIMINANT_GO,
    PRIMITIVE_GO,
    Body,
    GoEmitter,
    Hooks,
    ResourceSpelling,
    Value,
)
from witgen.backends.go.names import doc_comment, upper_camel
from witgen.backends.go.plan import METHOD_KINDS, GoPackage, IdentKey, PackagePlan
from witgen.diagnostics import WitError

LANGUAGE = "go"

_UNSUPPORTED_PRIMITIVES = {"error-context"}

# The one error every backend raises for WIT it cannot map (named for the Go backend's users).
GoBackendError = Unsupported


# ------------------------------------------------------------------------------------- naming


class Namer:
    """Go spellings of WIT types as seen from one package (implements abi.TypeNamer)."""

    def __init__(self, gen: "GoGenerator", pkg: GoPackage):
        self.gen = gen
        self.pkg = pkg
        self.resolve = gen.resolve
        self.called: set[str] = set()  # package-level functions generated code calls

    def ref(self, package: str, name: str) -> str:
        """`package.name`, recording the import (`witrt` is the module's runtime package)."""
        self.pkg.imports.add(f"{self.gen.module}/witrt" if package == "witrt" else package)
        return f"{package}.{name}"

    def calls(self, ident: str) -> str:
        self.called.add(ident)
        return ident

    def home(self, owner: ir.TypeOwner) -> GoPackage:
        """The package declaring `owner`'s items as this package sees them: itself when it
        declares that interface (under any key), else the interface's or world's home."""
        if owner == self.pkg.owner:
            return self.pkg
        return self.gen.plan.home[(owner.kind, owner.id)]

    def ident(self, owner: ir.TypeOwner | None, key: IdentKey) -> str:
        """The identifier `key` of `owner`'s package, qualified (and imported) from here."""
        assert owner is not None
        other = self.home(owner)
        name = other.idents[key]
        if other is self.pkg:
            return name
        self.pkg.imports.add(other.import_path)
        return f"{other.qualifier}.{name}"

    def go_type(self, ty: ir.Type | None) -> str:
        if ty is None:
            return self.ref("witrt", "Unit")
        if isinstance(ty, str):
            if ty in _UNSUPPORTED_PRIMITIVES:
                raise GoBackendError(f"the Go backend does not support `{ty}`")
            return PRIMITIVE_GO[ty]
        td = self.resolve.types[ty]
        if td.name is not None:
            return self.ident(td.owner, ("type", ty))
        return self.structural(td.kind)

    def structural(self, kind: ir.TypeDefKind) -> str:
        """The Go type expression of an anonymous (or aliased structural) WIT type."""
        go = self.go_type
        if isinstance(kind, ir.Option):
            return f"{self.ref('witrt', 'Option')}[{go(kind.type)}]"
        if isinstance(kind, ir.Result):
            return f"{self.ref('witrt', 'Result')}[{go(kind.ok)}, {go(kind.err)}]"
        if isinstance(kind, ir.List):
            if self.resolve.dealias(kind.type) == "u8":
                return "[]byte"
            return f"[]{go(kind.type)}"
        if isinstance(kind, ir.FixedLengthList):
            return f"[{kind.length}]{go(kind.type)}"
        if isinstance(kind, ir.Map):
            return f"map[{go(kind.key)}]{go(kind.value)}"
        if isinstance(kind, ir.Tuple):
            self.gen.tuple_arities.add(len(kind.types))
            tuple_type = self.ref("witrt", f"Tuple{len(kind.types)}")
            return f"{tuple_type}[{', '.join(go(t) for t in kind.types)}]"
        if isinstance(kind, ir.Handle):
            return go(kind.resource)
        if isinstance(kind, ir.Alias):
            return go(kind.type)
        what = type(kind).__name__.lower()
        raise GoBackendError(f"the Go backend does not support {what} types")

    def field_name(self, name: str) -> str:
        return upper_camel(name)

    def variant_spelling(self, ty: int, case: int) -> tuple[str, str | None]:
        td = self.resolve.types[ty]
        assert td.name is not None and isinstance(td.kind, ir.Variant)
        tag = self.ident(td.owner, ("tag", ty, case))
        if td.kind.cases[case].type is None:
            return tag, None
        return tag, self.home(td.owner or self.pkg.owner).idents[("field", ty, case)]

    def resource(self, handle: ir.Handle, lift: bool = False) -> ResourceSpelling:
        rid = self.resolve.dealias(handle.resource)
        assert isinstance(rid, int)
        td = self.resolve.types[rid]
        assert td.name is not None and td.owner is not None
        owner_pkg = self.home(td.owner)
        if owner_pkg.direction == "export":
            if owner_pkg is not self.pkg:
                raise GoBackendError(
                    f"resource `{td.name}` is used outside `{owner_pkg.wit_name}`; the Go "
                    "backend handles exported resources only inside their own interface"
                )
            ids = self.pkg.idents
            return ResourceSpelling(
                exported=True,
                table=ids[("table", rid)],
                new_fn=ids[("new-fn", rid)],
                rep_fn=ids[("rep-fn", rid)],
                drop_fn=ids[("drop-fn", rid)],
            )
        # lowering an imported handle is `x.Handle()`: only lifting names the resource's
        # package (a `use` of a `use` may leave the origin's package otherwise unused)
        from_handle = self.ident(td.owner, ("from-handle", rid)) if lift else ""
        return ResourceSpelling(exported=False, from_handle=from_handle)


def aligned_fields(fields: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Struct fields with `pad`, the spaces after each name that align the types as gofmt does.

    gofmt aligns the types of consecutive fields; a comment line (a field's docs) or a blank line
    starts a new run.
    """
    runs: list[list[dict[str, Any]]] = []
    for f in fields:
        if f["docs"] or not runs:
            runs.append([])
        runs[-1].append(f)
    for run in runs:
        width = max(len(f["name"]) for f in run)
        for f in run:
            f["pad"] = " " * (width - len(f["name"]))
    return fields


# ------------------------------------------------------------------------------ the generator


class GoGenerator:
    def __init__(self, resolve: ir.Resolve, worlds: list[int], options: GenerateOptions):
        self.resolve = resolve
        self.worlds = worlds
        self.options = options
        self.layouts = Layouts(resolve)
        self.tuple_arities: set[int] = set()
        self.return_area = 8
        self.has_exported_resources = False
        self.has_stateful = False  # some package has `ExportNew` (witrt/stateful.go)
        main = resolve.main_package
        if options.package_name:
            self.module = options.package_name
        elif main is not None:
            pkg = resolve.packages[main]
            self.module = f"{pkg.namespace}/{pkg.short_name}"
        else:
            self.module = "witgen/bindings"
        self.env = jinja_env("go")
        self.plan = PackagePlan(resolve, worlds, self.module)
        self.header = (
            f"// Code generated by witgen {__version__} from {options.source}. DO NOT EDIT.\n"
        )

    # -- rendering --

    def generate(self) -> dict[str, str]:
        self.plan.plan()
        files: dict[str, str] = {}
        for pkg in self.plan.packages:
            rel = pkg.import_path[len(self.module) + 1 :]
            files[f"{rel}/{pkg.name}.go"] = PackageGenerator(self, pkg).render()
            stateful = go_stateful.stateful_file(self, pkg, Namer, self.header)
            if stateful is not None:
                files[f"{rel}/stateful.go"] = stateful
        files["go.mod"] = self.env.get_template("go.mod.j2").render(
            module=self.module, version=__version__, source=self.options.source
        )
        common = {"header": self.header}
        files["witrt/memory.go"] = self.env.get_template("witrt/memory.go.j2").render(
            return_words=(self.return_area + 7) // 8, **common
        )
        files["witrt/types.go"] = self.env.get_template("witrt/types.go.j2").render(
            tuple_arities=sorted(self.tuple_arities), **common
        )
        if self.has_exported_resources:
            files["witrt/table.go"] = self.env.get_template("witrt/table.go.j2").render(**common)
        if self.has_stateful:
            files["witrt/stateful.go"] = self.env.get_template("witrt/stateful.go.j2").render(
                **common
            )
        return dict(sorted(files.items()))


@dataclass
class GoFunction:
    docs: str
    directives: list[str]
    signature: str
    body: list[str]


class PackageGenerator:
    """Types, wrappers and the Exports interface of one Go package."""

    def __init__(self, gen: GoGenerator, pkg: GoPackage):
        self.gen = gen
        self.pkg = pkg
        self.resolve = gen.resolve
        self.namer = Namer(gen, pkg)
        # the resources this package implements: their handles are `local` in its streams
        self.local_resources = frozenset(
            tid
            for tid in gen.plan.type_ids(pkg)
            if pkg.direction == "export" and isinstance(gen.resolve.types[tid].kind, ir.Resource)
        )
        self.types: list[dict[str, Any]] = []
        self.functions: list[GoFunction] = []
        self.exports: list[dict[str, str]] = []  # methods of the Exports interface
        self.resources: dict[str, dict[str, Any]] = {}

    # -- items --

    def render(self) -> str:
        for tid in self.gen.plan.type_ids(self.pkg):
            self.type_decl(tid)
        for direction, func in self.gen.plan.functions(self.pkg):
            self.check_supported(func)
            if direction == "import":
                self.import_wrapper(func)
            else:
                self.export_wrapper(func)
        for info in self.resources.values():
            if info["kind"] == "resource_export":
                info["uses_rep"] = info["rep_fn"] in self.namer.called
                info["uses_drop"] = info["drop_fn"] in self.namer.called
        code = self.gen.env.get_template("package.go.j2").render(
            header=self.gen.header,
            pkg=self.pkg,
            package_doc=self.package_doc(),
            types=self.types,
            resources=self.resources,
            functions=self.functions,
            exports=self.exports,
            imports=[],
        )
        std = sorted(i for i in self.pkg.imports if "/" not in i)
        local = sorted(i for i in self.pkg.imports if "/" in i)
        import_block = ""
        if std or local:
            lines = [f'\t"{n}"' for n in std] + ([""] if std and local else [])
            lines += [self.gen.plan.import_line(p) for p in local]
            import_block = "import (\n" + "\n".join(lines) + "\n)\n"
        if import_block:
            return code.replace("//witgen:imports\n", import_block)
        return code.replace("\n//witgen:imports\n", "")

    def package_doc(self) -> str:
        p = self.pkg
        if p.direction == "export":
            role = "exported by the component: implement Exports and register it with Export"
        elif p.direction == "import":
            role = "imported from the host: call its functions directly"
        elif p.direction == "both":
            role = (
                "imported from the host and exported by the component: call its functions "
                "directly, and implement Exports and register it with Export"
            )
        elif p.direction == "world":
            role = "the world's own functions and types"
        else:
            role = "types only"
        if p.owner.kind == "world":
            what = f"world {p.wit_name}"
        elif p.inline_in is not None:
            what = f"inline interface {p.wit_name} of world {p.inline_in}"
        else:
            what = f"interface {p.wit_name}"
        intro = f"Package {p.name} binds the WIT {what} ({role})."
        text = intro + ("\n\n" + p.docs if p.docs else "")
        return doc_comment(text)

    # -- unsupported features --

    def check_supported(self, func: ir.Function) -> None:
        where = f"function `{func.name}` in `{self.pkg.wit_name}`"
        if func.is_async:
            raise GoBackendError(
                f"{where} is async; the Go backend does not support async yet", func.span
            )
        types = [p.type for p in func.params] + ([func.result] if func.result is not None else [])
        for ty in types:
            bad = self._unsupported(ty)
            if bad:
                raise GoBackendError(
                    f"{where} uses {bad}, which the Go backend does not support", func.span
                )

    def _unsupported(self, ty: ir.Type | None) -> str | None:
        """What inside `ty` Go cannot express (from the shared type analysis), or None."""
        facts = self.gen.layouts.facts
        info = facts.of(ty)
        if info.futures:
            found = facts.find(ty, lambda _t, k: isinstance(k, (ir.Future, ir.Stream)))
            assert isinstance(found, int)
            return type(self.resolve.types[found].kind).__name__.lower()
        if info.error_contexts:
            return "error-context"
        if info.maps and facts.find(ty, self._incomparable_map) is not None:
            return "a map whose keys are not a primitive type (Go map keys must be comparable)"
        return None

    def _incomparable_map(self, _ty: ir.Type, kind: str | ir.TypeDefKind) -> bool:
        return isinstance(kind, ir.Map) and not isinstance(self.resolve.dealias(kind.key), str)

    # -- type declarations --

    def type_decl(self, tid: int) -> None:
        td = self.resolve.types[tid]
        assert td.name is not None
        ids = self.pkg.idents
        name = ids[("type", tid)]
        docs = doc_comment(td.docs.contents)
        kind = td.kind
        bad = None if isinstance(kind, ir.Resource) else self._unsupported(tid)
        if bad:
            raise GoBackendError(
                f"type `{td.name}` in `{self.pkg.wit_name}` uses {bad}, which the Go backend "
                "does not support",
                td.span,
            )
        decl: dict[str, Any] = {"name": name, "docs": docs}
        if isinstance(kind, ir.Record):
            decl["kind"] = "record"
            decl["fields"] = aligned_fields(
                [
                    {
                        "name": upper_camel(f.name),
                        "type": self.namer.go_type(f.type),
                        "docs": doc_comment(f.docs.contents, "\t"),
                    }
                    for f in kind.fields
                ]
            )
        elif isinstance(kind, ir.Enum):
            size = self.gen.layouts.size(tid)
            decl.update(
                kind="enum",
                base=DISCRIMINANT_GO[size],
                cases=[
                    {
                        "const": ids[("case", tid, i)],
                        "wit": c.name,
                        "docs": doc_comment(c.docs.contents, "\t"),
                    }
                    for i, c in enumerate(kind.cases)
                ],
            )
            decl["names_var"] = ids[("names", tid)]
        elif isinstance(kind, ir.Flags):
            # The Go type is the flags' canonical-ABI memory word (flags are at most 32).
            base = {1: "uint8", 2: "uint16", 4: "uint32"}[self.gen.layouts.size(tid)]
            decl.update(
                kind="flags",
                base=base,
                flags=[
                    {
                        "const": ids[("case", tid, i)],
                        "docs": doc_comment(f.docs.contents, "\t"),
                    }
                    for i, f in enumerate(kind.flags)
                ],
            )
        elif isinstance(kind, ir.Variant):
            size = self.gen.layouts.size(tid)
            shape = self.gen.layouts.case_shape(tid)
            assert shape is not None
            tag_type = ids[("tag-type", tid)]
            cases = []
            for i, c in enumerate(kind.cases):
                cases.append(
                    {
                        "const": ids[("tag", tid, i)],
                        "ctor": ids[("ctor", tid, i)],
                        "field": ids.get(("field", tid, i)),
                        "type": None if c.type is None else self.namer.go_type(c.type),
                        "wit": c.name,
                        "docs": doc_comment(c.docs.contents, "\t"),
                    }
                )
            decl.update(
                kind="variant",
                tag_type=tag_type,
                tag_base=DISCRIMINANT_GO[shape.discriminant_size],
                cases=cases,
            )
            del size
        elif isinstance(kind, ir.Resource):
            decl = self.resource_decl(tid, name) | decl
            self.resources[td.name] = decl
        elif isinstance(kind, ir.Alias):
            decl.update(kind="alias", target=self.namer.go_type(kind.type))
        else:
            decl.update(kind="alias", target=self.namer.structural(kind))
        self.types.append(decl)

    def resource_decl(self, tid: int, name: str) -> dict[str, Any]:
        td = self.resolve.types[tid]
        assert td.name is not None
        module = ("[export]" + self.pkg.key) if self.pkg.key else "[export]$root"
        if self.pkg.direction == "export":
            self.gen.has_exported_resources = True
            table = self.pkg.idents[("table", tid)]
            prefix = f"{self.pkg.key}#" if self.pkg.key else ""
            info = {
                "kind": "resource_export",
                "table": table,
                "module": module,
                "wit": td.name,
                "new_fn": self.pkg.idents[("new-fn", tid)],
                "rep_fn": self.pkg.idents[("rep-fn", tid)],
                "drop_fn": self.pkg.idents[("drop-fn", tid)],
                "table_type": self.namer.ref("witrt", "Table"),
                "dtor": self.pkg.idents[("dtor", tid)],
                "dtor_export": f"{prefix}[dtor]{td.name}",
                "methods": [],
            }
        else:
            module = self.pkg.key or "$root"
            info = {
                "kind": "resource_import",
                "module": module,
                "wit": td.name,
                "from_handle": self.pkg.idents[("from-handle", tid)],
                "drop_fn": self.pkg.idents[("drop-fn", tid)],
            }
        self.resources[td.name] = info
        return info

    # -- functions --

    def _go_name(self, func: ir.Function, direction: str) -> str:
        """The Go name of a function: Info, NewCursor, CursorResume, or a method name."""
        if func.kind in METHOD_KINDS:
            return self.pkg.idents[("method", func.name)]
        return self.pkg.idents[("func" if direction == "import" else "export", func.name)]

    def _params(self, func: ir.Function) -> list[tuple[str, ir.Param]]:
        params = list(func.params)
        if func.kind in METHOD_KINDS:
            params = params[1:]
        return list(zip(self.gen.plan.param_names(self.pkg, params), params))

    def _signature(self, func: ir.Function) -> tuple[str, str]:
        params = ", ".join(f"{n} {self.namer.go_type(p.type)}" for n, p in self._params(func))
        result = ""
        if func.result is not None:
            result = self.namer.go_type(func.result)
            fallible = isinstance(func.result, int) and isinstance(
                self.gen.resolve.types[func.result].kind, ir.Result
            )
            if func.kind == "constructor" and not fallible:  # `-> result<r, e>`: as written
                result = self.pkg.idents[("type", func.resource or 0)]
        return params, result

    def _runtime_call(self, name: str) -> Callable[[Body], None]:
        """A hook writing the statement `witrt.<name>()`."""
        return lambda body: body.line(f"{self.namer.ref('witrt', name)}()")

    def _emit(
        self, func: ir.Function, role: str, sig: CoreSignature, params: list[Value], hooks: Hooks
    ) -> list[str]:
        """The body of `func`'s wrapper in `role`: its instruction stream, spelled in Go."""
        program = stream.function_stream(
            self.gen.layouts, func, role, local_resources=self.local_resources
        )
        body = Body()
        body.counter = sum(1 for v in params if v.expr.startswith("tmp"))
        emitter = GoEmitter(self.gen.layouts, self.namer, body, program, sig, role, hooks)
        if role == "guest-export":
            body.line(f"{self.namer.ref('witrt', 'Unpin')}()")  # the previous call's results
        try:
            emitter.bind_params(params)
            emitter.run(program.body)
        except WitError as err:  # e.g. an exported resource used outside its interface
            if err.span is None:
                err.span = func.span
            raise
        self.gen.return_area = max(self.gen.return_area, emitter.return_area)
        return body.lines

    def import_wrapper(self, func: ir.Function) -> None:
        sig = core_signature(self.gen.layouts, func, "import")
        go_name = self._go_name(func, "import")
        res_name = None
        if func.resource is not None:
            res_name = self.pkg.idents[("type", func.resource)]
        raw = self.pkg.idents[("raw", f"import:{func.name}")]
        core_params = ", ".join(f"arg{i} {CORE_GO[t]}" for i, t in enumerate(sig.params))
        core_result = f" {CORE_GO[sig.results[0]]}" if sig.results else ""
        module = self.pkg.key or "$root"
        self.functions.append(
            GoFunction(
                docs="",
                directives=[f"//go:wasmimport {module} {func.name}"],
                signature=f"func {raw}({core_params}){core_result}",
                body=[],
            )
        )
        facts = self.gen.layouts.facts
        params = [Value(n, self.namer.go_type(p.type)) for n, p in self._params(func)]
        if func.kind in METHOD_KINDS:
            params.insert(0, Value("self", res_name))
        unpin, reset = self._runtime_call("Unpin"), self._runtime_call("ResetArena")
        hooks = Hooks(
            call_wasm=lambda args: f"{raw}({', '.join(args)})",
            call_interface=lambda args: "",
            # the arguments' memory was pinned for the call only
            after_wasm_call=(
                unpin
                if sig.params_indirect or any(facts.of(p.type).pointers for p in func.params)
                else None
            ),
            # the result was copied out of cabi_realloc memory
            before_return=reset if facts.of(func.result).pointers else None,
        )
        lines = self._emit(func, "guest-import", sig, params, hooks)
        params_text, result_text = self._signature(func)
        receiver = f"(self {res_name}) " if func.kind in METHOD_KINDS else ""
        self.functions.append(
            GoFunction(
                docs=doc_comment(func.docs.contents),
                directives=[],
                signature=f"func {receiver}{go_name}({params_text}) {result_text}".rstrip(),
                body=lines,
            )
        )

    def export_wrapper(self, func: ir.Function) -> None:
        sig = core_signature(self.gen.layouts, func, "export")
        go_name = self._go_name(func, "export")
        raw = self.pkg.idents[("raw", f"export:{func.name}")]
        export_name = f"{self.pkg.key}#{func.name}" if self.pkg.key else func.name
        core = [f"tmp{i + 1}" for i in range(len(sig.params))]
        core_params = ", ".join(f"{n} {CORE_GO[t]}" for n, t in zip(core, sig.params))
        core_result = f" {CORE_GO[sig.results[0]]}" if sig.results else ""

        def call(args: list[str]) -> str:
            if func.kind in METHOD_KINDS:
                return f"{args[0]}.{go_name}({', '.join(args[1:])})"
            return f"implementation().{go_name}({', '.join(args)})"

        # the arguments were copied out of cabi_realloc memory before the implementation runs
        reset = self._runtime_call("ResetArena")
        hooks = Hooks(call_wasm=lambda args: "", call_interface=call, before_interface_call=reset)
        params = [Value(n, CORE_GO[t]) for n, t in zip(core, sig.params)]
        lines = self._emit(func, "guest-export", sig, params, hooks)
        self.functions.append(
            GoFunction(
                docs="",
                directives=[f"//go:wasmexport {export_name}"],
                signature=f"func {raw}({core_params}){core_result}",
                body=lines,
            )
        )
        if sig.needs_post_return:
            post = self.pkg.idents[("post", func.name)]
            self.functions.append(
                GoFunction(
                    docs="",
                    directives=[f"//go:wasmexport cabi_post_{export_name}"],
                    signature=f"func {post}(uint32)",
                    body=[f"\t{self.namer.ref('witrt', 'Unpin')}()"],
                )
            )
        params_text, result_text = self._signature(func)
        method = {
            "docs": doc_comment(func.docs.contents, "\t"),
            "signature": f"{go_name}({params_text}) {result_text}".rstrip(),
        }
        if func.kind in METHOD_KINDS:
            res_wit = self.resolve.types[func.resource or 0].name or ""
            self.resources[res_wit]["methods"].append(method)
        else:
            self.exports.append(method)


def generate(resolve: ir.Resolve, worlds: list[int], options: GenerateOptions) -> dict[str, str]:
    """The Go module for `worlds`: relative path -> gofmt-formatted text."""
    require_worlds(resolve, worlds, "Go")
    return GoGenerator(resolve, worlds, options).generate()
