"""The TypeScript guest SDK backend (`witgen generate --lang typescript`).

The output is what a plugin author needs to write a component with componentize-js, spelled
the way jco's bindings represent WIT values at run time:

- `interfaces/<ns>-<pkg>-<name>.d.ts`: one ambient `declare module "ns:pkg/name@version"` per
  imported interface, so that `import { log } from "dataflare:core/logging@1.0.0"` type-checks;
- `exports/<ns>-<pkg>-<name>.ts`: per exported interface, its types, the TypeScript interface a
  plugin implements, and `defineX(impl)`, an identity function that checks an implementation;
- `<world>.ts`: per world, references to its imports, re-exports of its export helpers and a
  `<World>Exports` interface describing the entry module;
- `interfaces/world-<name>.d.ts`: a world-level imported function `f`, which componentize-js
  serves as the default export of module "f" (`import f from "f"`);
- `runtime.ts` (`ComponentError`, thrown to return `err`), `tsconfig.json`, `package.json`,
  and a `README.md` on using the SDK.

Type mapping (jco): integers and floats are `number` except 64-bit integers (`bigint`);
`char`/`string` are `string`; `list<u8>` and other numeric lists are typed arrays; `option<T>`
is `T | undefined` (an `Option<T>` tagged object when nested); `result` and variants are
`{ tag, val }` objects; enums are kebab-case string literals; flags are objects of optional
booleans; resources are classes. A function whose result is `result<T, E>` returns `T` and
throws for `err`. This module decides names and type strings; the Jinja templates under
`sdk_templates/typescript/` lay out files. Output is already prettier-formatted.
"""

from __future__ import annotations

import json
import posixpath
from dataclasses import dataclass, field
from typing import Iterable

import witgen
from witgen import ir
from witgen.backends import GenerateOptions, common, require_worlds
from witgen.backends.common import Unsupported, jinja_env
from witgen.backends.typescript import layout
from witgen.backends.typescript import names
from witgen.backends.typescript import stateful as typescript_stateful
from witgen.backends.typescript.layout import (
    INDENT,
    LINE,
    SOFTLINE,
    Doc,
    IfBreak,
    alias_lines,
    braced,
    generic_type,
    union_members,
    union_type,
    wrap_braced,
    wrap_list,
)
from witgen.diagnostics import Span, WitError

LANGUAGE = "typescript"


_PRIMITIVES = {
    "bool": "boolean",
    "u8": "number",
    "u16": "number",
    "u32": "number",
    "s8": "number",
    "s16": "number",
    "s32": "number",
    "f32": "number",
    "f64": "number",
    "u64": "bigint",
    "s64": "bigint",
    "char": "string",
    "string": "string",
}

_TYPED_ARRAYS = {
    "u8": "Uint8Array",
    "s8": "Int8Array",
    "u16": "Uint16Array",
    "s16": "Int16Array",
    "u32": "Uint32Array",
    "s32": "Int32Array",
    "u64": "BigUint64Array",
    "s64": "BigInt64Array",
    "f32": "Float32Array",
    "f64": "Float64Array",
}

# componentize-js serves a world's own resources as the named exports of the module "$root"
# (`import { Session } from "$root"`); the world's own types are declared there too, so that
# world-level imports (`import configure from "configure"`) and the world's file can name them.
ROOT_MODULE = "$root"
ROOT_PATH = "interfaces/root.d.ts"

_OPTION_DECL = 'export type Option<T> = { tag: "none" } | { tag: "some"; val: T };'
_RESULT_DECL = 'export type Result<T, E> = { tag: "ok"; val: T } | { tag: "err"; val: E };'


# ---------------------------------------------------------------------------- the plan


@dataclass
class _Scope:
    """One output module: the names it declares, and what its type strings pull in."""

    kind: str  # "ambient" | "exports" | "world"
    owner: ir.TypeOwner  # types with this owner are local
    path: str  # output path, e.g. "exports/dataflare-core-processor.ts"
    module: str  # the module specifier (ambient) or the WIT name this file stands for
    world: int | None = None  # the world whose view of imports/exports applies, if one
    declared: dict[str, str] = field(default_factory=dict)  # TS name -> what declared it
    references: set[str] = field(default_factory=set)  # ambient .d.ts paths (repo-relative)
    # type-only imports this module needs: module specifier -> ["Name" | "Name as Local"]
    type_imports: dict[str, list[str]] = field(default_factory=dict)
    uses_option: bool = False
    uses_result: bool = False

    def declare(self, ts_name: str, what: str) -> str:
        """Claim `ts_name` in this module; a name already claimed (by a WIT type, which every
        module claims first, or an earlier generated name) gets a trailing underscore, so
        colliding WIT names still type-check and the same WIT always gives the same names."""
        while ts_name in self.declared:
            ts_name += "_"
        self.declared[ts_name] = what
        return ts_name

    def claim_types(self, resolve: ir.Resolve, type_ids: Iterable[int]) -> None:
        """Claim the module's WIT type names before any generated name: other modules refer to
        them by their plain spelling."""
        for tid in type_ids:
            name = names.type_name(resolve.types[tid].name or "")
            if name not in self.declared:
                self.declared[name] = f"type `{resolve.types[tid].name}`"


@dataclass
class _Block:
    """A declaration: its TSDoc and code lines, already indented."""

    lines: list[str]

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


@dataclass
class _ImportGroup:
    module: str
    specifiers: list[str]  # "Name" or "Name as Local"

    def lines(self, indent: str, keyword: str = "import type ") -> list[str]:
        return wrap_braced(
            indent, keyword, self.specifiers, f" from {names.string_literal(self.module)};"
        )


def _located(err: WitError, span: Span | None) -> WitError:
    """`err`, pointing at `span` (the function or type whose WIT asks for what is refused)
    when it has no location of its own."""
    if err.span is None and span is not None:
        err.span = span
    return err


def _specifier(name: str, local: str) -> str:
    """An import specifier: `Name`, or `Name as Local` when the module claimed another name."""
    return name if name == local else f"{name} as {local}"


class _Generator:
    def __init__(self, resolve: ir.Resolve, worlds: list[int], options: GenerateOptions):
        self.resolve = resolve
        self.worlds = worlds
        self.options = options
        # interface id -> "import"/"export" per world, to decide where foreign types live
        self.imported: dict[int, set[int]] = {}  # iface -> worlds importing it
        self.exported: dict[int, set[int]] = {}  # iface -> worlds exporting it
        self.iface_key: dict[int, str] = {}  # iface -> component name (module specifier)
        # iface -> {type name its exports file has: what it denotes (a type id, or a name for
        # the file's own helper shapes)}, so that worlds can re-export each type once
        self.export_types: dict[str, dict[str, int | str]] = {}  # keyed by exports path
        self.export_spec: dict[str, str] = {}  # "./exports/x.js" -> "exports/x.ts"
        # iface -> (its exports module's interface type, export helper), as claimed there
        self.export_names: dict[str, tuple[str, str]] = {}  # keyed by exports path
        self.class_names: dict[int, str] = {}  # exported resource -> its class type's name
        # interfaces a world imports or exports under a plain name (`import primary: store;`):
        # (world, direction, name, iface); each is a module of its own, named by `name`, with
        # its own copies of the interface's types (a separate instance)
        self.named: list[tuple[int, str, str, int]] = []
        for w in worlds:
            for direction, entry, key in resolve.world_interfaces(w):
                item = entry.item
                if isinstance(item, ir.WorldInterface):
                    path = resolve.interface_id(item.id)
                    if entry.key.name is not None and path is not None:
                        self.named.append((w, direction, key, item.id))
                        continue
                    table = self.imported if direction == "import" else self.exported
                    table.setdefault(item.id, set()).add(w)
                    self.iface_key[item.id] = key
        for w, direction, key, iface in self.named:
            self.iface_key.setdefault(iface, key)  # where its types live for other modules
        self.env = jinja_env("typescript")

    # -- where things live --

    def iface_label(self, iface: int) -> str:
        return self.iface_key.get(iface) or self.resolve.interface_id(iface) or f"interface {iface}"

    def owner_label(self, owner: ir.TypeOwner | None) -> str:
        if owner is None:
            return "an anonymous type"
        if owner.kind == "world":
            return f"world {self.resolve.worlds[owner.id].name}"
        return self.iface_label(owner.id)

    def iface_stem(self, iface: int) -> str:
        ident = self.resolve.interface_id(iface)
        if ident is not None:
            return names.module_file_stem(ident)
        # an inline interface belongs to one world: name it after that world and its key
        worlds = self.exported.get(iface) or self.imported[iface]
        return f"{self.resolve.worlds[min(worlds)].name}-{self.iface_key[iface]}"

    def ambient_path(self, iface: int, named: tuple[int, str] | None = None) -> str:
        if named is not None:  # an interface a world imports under a plain name
            return f"interfaces/{self.resolve.worlds[named[0]].name}-{named[1]}.d.ts"
        return f"interfaces/{self.iface_stem(iface)}.d.ts"

    def exports_path(self, iface: int, named: tuple[int, str] | None = None) -> str:
        if named is not None:  # an interface a world exports under a plain name
            return f"exports/{self.resolve.worlds[named[0]].name}-{named[1]}.ts"
        return f"exports/{self.iface_stem(iface)}.ts"

    def owner_is_exported(self, owner: int, user: _Scope) -> bool:
        """Whether `owner`'s types are, for code in `user`, those of an exported interface."""
        if user.kind == "ambient":
            return False
        worlds = (
            [user.world] if user.world is not None else sorted(self.exported.get(user.owner.id, ()))
        )
        verdicts = {w in self.exported.get(owner, set()) for w in worlds}
        if len(verdicts) > 1:
            raise WitError(
                f"the TypeScript backend cannot generate `{self.iface_label(user.owner.id)}` for "
                f"several worlds that disagree on whether `{self.iface_label(owner)}` is "
                "imported or exported; generate one world at a time with --world"
            )
        return verdicts.pop() if verdicts else False

    def module_ref(self, owner: int, user: _Scope) -> str:
        """The specifier `user` imports `owner`'s types from (and records the reference)."""
        if self.owner_is_exported(owner, user):
            target = self.exports_path(owner)[: -len(".ts")] + ".js"
            rel = posixpath.relpath(target, posixpath.dirname(user.path) or ".")
            return rel if rel.startswith("../") else f"./{rel}"
        user.references.add(self.ambient_path(owner))
        return self.iface_key.get(owner) or self.resolve.interface_id(owner) or ""

    # -- types --

    def refuse(self, what: str, where: str, span: Span | None = None) -> WitError:
        return Unsupported(
            f"the TypeScript backend does not support {what} (used by {where}); "
            "componentize-js has no stable representation for it yet",
            span,
        )

    def scope_label(self, scope: _Scope) -> str:
        """How messages name the WIT item a module stands for."""
        if scope.owner.kind == "world":
            return f"world `{self.resolve.worlds[scope.owner.id].name}`"
        return f"`{scope.module}`"

    def unbuildable(self, what: str, jco: str, instead: str, where: str) -> WitError:
        # Checked with componentize-js 0.23: its bindings generator panics ("entered
        # unreachable code") on these types, so an SDK for them could never be built.
        return Unsupported(
            f"the TypeScript backend does not support {what} (used by {where}): "
            f"componentize-js cannot build a component whose WIT uses them yet, although jco "
            f"would type them as {jco}; use {instead} instead"
        )

    def ts_type(self, ty: ir.Type, scope: _Scope, where: str) -> str:
        """The type on one line (for docs and short declarations)."""
        return layout.flat(self.ts_doc(ty, scope, where))

    def ts_doc(self, ty: ir.Type, scope: _Scope, where: str, ctx: str = "annotation") -> Doc:
        """The type as a layout document; `ctx` is where it stands ("annotation" of a
        parameter, result or property; "generic" argument; "tuple1"/"tupleN" element of a
        one-/many-element tuple; "array" element), which decides how a union breaks."""
        if isinstance(ty, str):
            if ty not in _PRIMITIVES:
                raise self.refuse(f"the `{ty}` type", where)
            return _PRIMITIVES[ty]
        td = self.resolve.types[ty]
        if td.name is not None:
            local = names.type_name(td.name)
            if td.owner == scope.owner:
                if (
                    scope.kind == "ambient"
                    and scope.module != ROOT_MODULE
                    and td.owner is not None
                    and td.owner.kind == "world"
                ):
                    return self.world_type_in_root_import(ty, scope, where)
                return local
            if td.owner is None or td.owner.kind != "interface":
                raise WitError(f"type `{td.name}` is not visible from {scope.path} ({where})")
            spec = self.module_ref(td.owner.id, scope)
            return f"import({names.string_literal(spec)}).{local}"
        return self.ts_kind(td.kind, scope, where, ctx)

    def ts_kind(self, kind: ir.TypeDefKind, scope: _Scope, where: str, ctx: str) -> Doc:
        """A type's structure as a document (anonymous types, and `type t = ...` right-hand
        sides)."""
        if isinstance(kind, ir.List):
            elem = self.resolve.dealias(kind.type)
            if isinstance(elem, str) and elem in _TYPED_ARRAYS:
                return _TYPED_ARRAYS[elem]
            return (self.ts_doc(kind.type, scope, where, "array"), "[]")
        if isinstance(kind, ir.Option):
            if self.is_option(kind.type):
                scope.uses_option = True
                return generic_type("Option", [self.ts_doc(kind.type, scope, where, "generic")])
            return union_type([self.ts_doc(kind.type, scope, where, "member"), "undefined"], ctx)
        if isinstance(kind, ir.Result):
            scope.uses_result = True
            args: list[Doc] = [
                self.ts_doc(t, scope, where, "generic") if t is not None else "void"
                for t in (kind.ok, kind.err)
            ]
            return generic_type("Result", args)
        if isinstance(kind, ir.Tuple):
            elem_ctx = "tuple1" if len(kind.types) == 1 else "tupleN"
            elems = [self.ts_doc(t, scope, where, elem_ctx) for t in kind.types]
            return layout.group(
                "[",
                layout.indent(SOFTLINE, layout.join((",", LINE), elems)),
                IfBreak(","),
                SOFTLINE,
                "]",
            )
        if isinstance(kind, ir.Handle):
            return self.ts_doc(kind.resource, scope, where, ctx)
        if isinstance(kind, ir.Alias):
            return self.ts_doc(kind.type, scope, where, ctx)
        if isinstance(kind, ir.Future):
            raise self.refuse("`future` types", where)
        if isinstance(kind, ir.Stream):
            raise self.refuse("`stream` types", where)
        if isinstance(kind, ir.Map):
            raise self.unbuildable("`map` types", "`Map<K, V>`", "`list<tuple<K, V>>`", where)
        if isinstance(kind, ir.FixedLengthList):
            raise self.unbuildable(
                "fixed-length lists", "an N-element tuple", "`list<T>` or a `tuple`", where
            )
        raise self.refuse(f"anonymous {type(kind).__name__.lower()} types", where)

    def is_option(self, ty: ir.Type) -> bool:
        ty = self.resolve.dealias(ty)
        return isinstance(ty, int) and isinstance(self.resolve.types[ty].kind, ir.Option)

    def result_of(self, ty: ir.Type | None) -> ir.Result | None:
        if ty is None:
            return None
        ty = self.resolve.dealias(ty)
        if isinstance(ty, int):
            kind = self.resolve.types[ty].kind
            if isinstance(kind, ir.Result):
                return kind
        return None

    def spelled_asunion_type(self, kind: ir.TypeDefKind) -> bool:
        """Whether `ts_kind` spells this as `T | undefined` (an option, not nested)."""
        if isinstance(kind, ir.Alias):
            if isinstance(kind.type, str) or self.resolve.types[kind.type].name is not None:
                return False
            kind = self.resolve.types[kind.type].kind
        return isinstance(kind, ir.Option) and not self.is_option(kind.type)

    def optional_payload(self, ty: ir.Type) -> ir.Type | None:
        """For a field jco marks `name?: T` (an `option<T>` spelled `T | undefined`): T."""
        ty = self.resolve.dealias(ty)
        if not isinstance(ty, int):
            return None
        td = self.resolve.types[ty]
        if (
            td.name is not None
            or not isinstance(td.kind, ir.Option)
            or self.is_option(td.kind.type)
        ):
            return None
        return td.kind.type

    # -- type declarations --

    def type_blocks(self, type_ids: Iterable[int], scope: _Scope, indent: str) -> list[_Block]:
        """Declarations of the named types a module owns (aliases of foreign types excluded:
        they become `import type` specifiers, see `foreign_aliases`)."""
        blocks: list[_Block] = []
        for tid in type_ids:
            td = self.resolve.types[tid]
            assert td.name is not None
            if self.foreign_alias_target(tid) is not None:
                continue
            if isinstance(td.kind, ir.Resource):
                continue  # resources are declared with their functions
            blocks.extend(self.type_decl(tid, scope, indent))
        return blocks

    def foreign_alias_target(self, tid: int) -> int | None:
        """For `use iface.{t}` (an alias of a named type owned elsewhere): the type it names,
        followed through further `use`s (a module imports a `use`d type but does not export it
        again, so `use b.{t}` where b has `use a.{t}` imports `t` from a)."""
        found = None
        while True:
            td = self.resolve.types[tid]
            if not (isinstance(td.kind, ir.Alias) and isinstance(td.kind.type, int)):
                return found
            target = self.resolve.types[td.kind.type]
            if target.name is None or target.owner == td.owner:
                return found
            found = tid = td.kind.type

    def foreign_aliases(self, type_ids: Iterable[int], scope: _Scope) -> list[_ImportGroup]:
        groups: dict[str, list[str]] = {}
        for tid in type_ids:
            target = self.foreign_alias_target(tid)
            if target is None:
                continue
            local = names.type_name(self.resolve.types[tid].name or "")
            tdef = self.resolve.types[target]
            if tdef.owner is None or tdef.owner.kind != "interface":
                raise WitError(f"cannot import `{tdef.name}` into {scope.path}")
            spec = self.module_ref(tdef.owner.id, scope)
            orig = names.type_name(tdef.name or "")
            groups.setdefault(spec, []).append(local if orig == local else f"{orig} as {local}")
        return [_ImportGroup(m, s) for m, s in groups.items()]

    def type_decl(self, tid: int, scope: _Scope, indent: str) -> list[_Block]:
        try:
            return self._type_decl(tid, scope, indent)
        except WitError as err:
            raise _located(err, self.resolve.types[tid].span)

    def _type_decl(self, tid: int, scope: _Scope, indent: str) -> list[_Block]:
        td = self.resolve.types[tid]
        assert td.name is not None
        name = names.type_name(td.name)  # claimed with the module's types (`claim_types`)
        where = f"type `{td.name}` of `{self.owner_label(td.owner)}`"
        kind = td.kind
        inner = indent + INDENT
        doc = td.docs.contents
        deprecated = self.deprecation(td.stability)
        if isinstance(kind, ir.Record):
            lines = names.tsdoc(doc, indent, deprecated) + [f"{indent}export interface {name} {{"]
            for f in kind.fields:
                lines += names.tsdoc(f.docs.contents, inner)
                optional = self.optional_payload(f.type)
                if optional is not None:  # `name?: T` says `T | undefined` already
                    head, ty = f"{names.member(f.name)}?", optional
                else:
                    head, ty = names.member(f.name), f.type
                lines += self.property_lines(inner, head, ty, scope, where)
            return [_Block(lines + [f"{indent}}}"])]
        if isinstance(kind, ir.Flags):
            lines = names.tsdoc(doc, indent, deprecated) + [f"{indent}export interface {name} {{"]
            for fl in kind.flags:
                lines += names.tsdoc(fl.docs.contents, inner)
                lines.append(f"{inner}{names.member(fl.name)}?: boolean;")
            return [_Block(lines + [f"{indent}}}"])]
        if isinstance(kind, ir.Enum):
            cases = [
                f"- `{names.string_literal(c.name)}`" + (f": {c.docs.contents}" if c.docs else "")
                for c in kind.cases
            ]
            extra = ("Values:", *cases) if any(c.docs for c in kind.cases) else ()
            lines = names.tsdoc(doc, indent, extra + deprecated)
            literals = [names.string_literal(c.name) for c in kind.cases]
            lines += alias_lines(indent, f"export type {name}", union_members(literals), True)
            return [_Block(lines)]
        if isinstance(kind, ir.Variant):
            case_names = [
                scope.declare(f"{name}{names.upper_camel(c.name)}", f"case `{c.name}`")
                for c in kind.cases
            ]
            blocks = [
                _Block(
                    names.tsdoc(doc, indent, deprecated)
                    + alias_lines(indent, f"export type {name}", union_members(case_names), True)
                )
            ]
            for case, case_name in zip(kind.cases, case_names):
                lines = names.tsdoc(case.docs.contents, indent) + [
                    f"{indent}export interface {case_name} {{"
                ]
                lines.append(f"{inner}tag: {names.string_literal(case.name)};")
                if case.type is not None:
                    lines += self.property_lines(inner, "val", case.type, scope, where)
                blocks.append(_Block(lines + [f"{indent}}}"]))
            return blocks
        # aliases and named anonymous-shaped types (`type t = list<u8>`, `type r = result`)
        rhs = self.ts_kind(kind, scope, where, "alias")
        lines = names.tsdoc(doc, indent, deprecated)
        lines += alias_lines(indent, f"export type {name}", rhs, self.spelled_asunion_type(kind))
        return [_Block(lines)]

    def property_lines(
        self, indent: str, head: str, ty: ir.Type, scope: _Scope, where: str
    ) -> list[str]:
        """`head: T;` in an interface body."""
        return layout.render((head, ": ", self.ts_doc(ty, scope, where), ";"), indent)

    # -- functions --

    def params(self, fn: ir.Function, scope: _Scope, where: str) -> list[Doc]:
        params = fn.params[1:] if fn.kind in ("method", "async-method") else fn.params
        return [(f"{names.binding(p.name)}: ", self.ts_doc(p.type, scope, where)) for p in params]

    def returns(self, fn: ir.Function, scope: _Scope, where: str) -> tuple[Doc, tuple[str, ...]]:
        """The TS return type and TSDoc lines on how `err` travels for `result` functions:
        an import throws it, an export's implementation throws it."""
        res = self.result_of(fn.result)
        if res is None:
            ret = "void" if fn.result is None else self.ts_doc(fn.result, scope, where)
            return ret, ()
        ok = self.ts_doc(res.ok, scope, where) if res.ok is not None else "void"
        if res.err is None:
            payload, throw = "", "`new ComponentError(undefined)`"
        else:
            payload = f", whose `payload` is a `{self.ts_type(res.err, scope, where)}`"
            throw = "`new ComponentError(payload)`"
        if scope.kind == "ambient":
            # componentize-js throws its own error class here, not runtime.ts's
            if res.err is None:
                tag = "@throws An `Error` when the function returns `err`."
            else:
                err = self.ts_type(res.err, scope, where)
                tag = f"@throws An `Error` for `err`, with the `{err}` as its `payload`."
        else:
            tag = f"To return `err`, throw {throw}{payload}."
        return ok, (tag,)

    def deprecation(self, stability: ir.Stability) -> tuple[str, ...]:
        if stability.deprecated is None:
            return ()
        return (f"@deprecated Since version {stability.deprecated} of the WIT package.",)

    def check_function(self, fn: ir.Function, where: str) -> None:
        if fn.is_async:
            raise self.refuse("async functions", where, fn.span)
        if fn.kind.endswith(("getter", "setter")):
            # componentize-js (which builds TypeScript guests) binds no `[get]`/`[set]` names
            # yet, so there is no export shape for an accessor that a guest could be built with
            accessor = "get" if fn.kind.endswith("getter") else "set"
            raise self.refuse(
                f"accessors (`{fn.item_name.split(']')[-1]}: {accessor}(...)`; componentize-js "
                "does not bind them yet: declare a function instead)",
                where,
            )

    def signature(
        self,
        indent: str,
        head: str,
        fn: ir.Function,
        scope: _Scope,
        where: str,
        doc_extra: tuple[str, ...] = (),
        returns_self: str | None = None,
    ) -> list[str]:
        """TSDoc plus `head(params): ret;` wrapped like prettier. A constructor has no result
        type, unless it is a construct signature (`new (...): Self`, `returns_self`)."""
        try:
            return self._signature(indent, head, fn, scope, where, doc_extra, returns_self)
        except WitError as err:
            raise _located(err, fn.span)

    def _signature(
        self,
        indent: str,
        head: str,
        fn: ir.Function,
        scope: _Scope,
        where: str,
        doc_extra: tuple[str, ...],
        returns_self: str | None,
    ) -> list[str]:
        self.check_function(fn, where)
        params = self.params(fn, scope, where)
        ret, tags = self.returns(fn, scope, where)
        if params:  # prettier: the parameters break together with the result type
            param_list: Doc = (
                "(",
                layout.indent(SOFTLINE, layout.join((",", LINE), params)),
                IfBreak(","),
                SOFTLINE,
                ")",
            )
        else:
            param_list = "()"
        if fn.kind == "constructor":
            returned: Doc = "" if not returns_self else f": {returns_self}"
        else:
            returned = (": ", ret)
        extra = tags + doc_extra + self.deprecation(fn.stability)
        doc = (layout.group(head, param_list, returned), ";")
        return names.tsdoc(fn.docs.contents, indent, extra) + layout.render(doc, indent)

    # -- files --

    def header(self) -> str:
        return common.header("//", self.options.source).rstrip("\n")

    def render(self, template: str, **ctx: object) -> str:
        text = self.env.get_template(template).render(header=self.header(), **ctx)
        return text.rstrip("\n") + "\n"

    def ambient_file(self, iface: int, named: tuple[int, str] | None = None) -> str:
        """The ambient module of an imported interface (`named`: (world, name) for one
        imported under a plain name, whose module is that name)."""
        it = self.resolve.interfaces[iface]
        module = named[1] if named is not None else self.iface_key[iface]
        scope = _Scope(
            "ambient",
            ir.TypeOwner("interface", iface),
            self.ambient_path(iface, named),
            module,
            world=named[0] if named is not None else None,
        )
        indent = INDENT
        scope.claim_types(self.resolve, it.types.values())
        imports = self.foreign_aliases(it.types.values(), scope)
        blocks = self.type_blocks(it.types.values(), scope, indent)
        for fn in it.functions.values():
            if fn.resource is not None:
                continue
            where = f"function `{fn.name}` of `{module}`"
            binding = scope.declare(names.binding(fn.name), where)
            if binding == names.lower_camel(fn.name):
                blocks.append(
                    _Block(self.signature(indent, f"export function {binding}", fn, scope, where))
                )
            else:  # a reserved word: declare under an escaped name, export under the real one
                lines = self.signature(indent, f"function {binding}", fn, scope, where)
                lines.append(f"{indent}export {{ {binding} as {names.lower_camel(fn.name)} }};")
                blocks.append(_Block(lines))
        for tid in it.types.values():
            if (
                isinstance(self.resolve.types[tid].kind, ir.Resource)
                and self.foreign_alias_target(tid) is None
            ):
                fns = self.resource_functions(iface, tid)
                blocks.append(self.imported_resource(fns, tid, scope, indent))
        blocks.extend(self.helper_types(scope, indent))
        references = sorted(r for r in scope.references if r != scope.path)
        return self.render(
            "ambient.d.ts.j2",
            references=[r[len("interfaces/") :] for r in references],
            module=names.string_literal(module),
            docs=names.tsdoc(it.docs.contents),
            imports=[line for g in imports for line in g.lines(indent)],
            blocks=[b.text for b in blocks],
        )

    def helper_types(self, scope: _Scope, indent: str) -> list[_Block]:
        out = []
        if scope.uses_option:
            scope.declare("Option", "the `Option` helper type")
            out.append(
                _Block(
                    names.tsdoc("`option<T>` whose payload is itself optional.", indent)
                    + [indent + _OPTION_DECL]
                )
            )
        if scope.uses_result:
            scope.declare("Result", "the `Result` helper type")
            out.append(
                _Block(names.tsdoc("A WIT `result` value.", indent) + [indent + _RESULT_DECL])
            )
        return out

    def resource_functions(self, iface: int, rid: int) -> list[ir.Function]:
        it = self.resolve.interfaces[iface]
        return [f for f in it.functions.values() if f.resource == rid]

    def imported_resource(
        self, fns: list[ir.Function], rid: int, scope: _Scope, indent: str
    ) -> _Block:
        td = self.resolve.types[rid]
        name = names.type_name(td.name or "")  # claimed with the module's types
        inner = indent + INDENT
        lines = names.tsdoc(td.docs.contents, indent) + [f"{indent}export class {name} {{"]
        members: list[list[str]] = []
        if not any(f.kind == "constructor" for f in fns):
            members.append(
                names.tsdoc("Instances come from the host; there is no constructor.", inner)
                + [f"{inner}private constructor();"]
            )
        for fn in fns:
            where = f"`{fn.name}` of {self.scope_label(scope)}"
            if fn.kind == "constructor":
                members.append(self.signature(inner, "constructor", fn, scope, where))
            elif fn.kind == "static":
                members.append(
                    self.signature(inner, f"static {names.member(fn.item_name)}", fn, scope, where)
                )
            else:
                members.append(self.signature(inner, names.member(fn.item_name), fn, scope, where))
        members.append(
            names.tsdoc(
                "Drops the handle now (the host's destructor runs) instead of when the "
                "instance goes.",
                inner,
            )
            + [f"{inner}[Symbol.dispose](): void;"]
        )
        return _Block(braced(lines, members, indent))

    def exports_file(self, iface: int, named: tuple[int, str] | None = None) -> str:
        """The exports module of an exported interface (`named`: (world, name) for one
        exported under a plain name)."""
        it = self.resolve.interfaces[iface]
        module = named[1] if named is not None else self.iface_key[iface]
        short = named[1] if named is not None else self.iface_key_short(iface)
        path = self.exports_path(iface, named)
        scope = _Scope(
            "exports",
            ir.TypeOwner("interface", iface),
            path,
            module,
            world=named[0] if named is not None else None,
        )
        scope.claim_types(self.resolve, it.types.values())
        imports = self.foreign_aliases(it.types.values(), scope)
        reexports = [s.split(" as ")[-1] for g in imports for s in g.specifiers]
        blocks = self.type_blocks(it.types.values(), scope, "")
        iface_name = scope.declare(names.type_name(short), f"the interface `{module}`")
        helper = scope.declare("define" + names.upper_camel(short), "the export helper")
        self.export_names[path] = (iface_name, helper)
        inner = INDENT
        members: list[list[str]] = []
        for tid in it.types.values():
            td = self.resolve.types[tid]
            if isinstance(td.kind, ir.Resource) and self.foreign_alias_target(tid) is None:
                blocks.extend(self.exported_resource(iface, tid, scope))
                rname = names.type_name(td.name or "")
                members.append(
                    names.tsdoc(f"The class implementing resource `{td.name}`.", inner)
                    + [f"{inner}{rname}: {self.class_names[tid]};"]
                )
        for fn in it.functions.values():
            if fn.resource is not None:
                continue
            where = f"function `{fn.name}` of `{module}`"
            members.append(self.signature(inner, names.method_key(fn.name), fn, scope, where))
        hint = self.implement_hint(short, helper)
        lines = names.tsdoc(it.docs.contents, "", hint) + [f"export interface {iface_name} {{"]
        blocks.append(_Block(braced(lines, members)))
        blocks.append(
            _Block(
                names.tsdoc(
                    f"Type-checks an implementation of `{module}`.\n"
                    f"Export the result as `{names.member(short)}` "
                    "from the component's entry module.",
                )
                + wrap_list(
                    "", f"export function {helper}(", [f"impl: {iface_name}"], f"): {iface_name} {{"
                )
                + [f"{INDENT}return impl;", "}"]
            )
        )
        blocks.extend(self.helper_types(scope, ""))
        origins: dict[str, int | str] = {n: f"{module}#{n}" for n in scope.declared if n != helper}
        for tid in it.types.values():
            td_name = names.type_name(self.resolve.types[tid].name or "")
            target = self.foreign_alias_target(tid)
            origins[td_name] = target if target is not None else tid
        self.export_types[path] = origins
        references = sorted(scope.references)
        return self.render(
            "exports.ts.j2",
            references=["../" + r for r in references],
            imports=[line for g in imports for line in g.lines("")],
            reexports=wrap_braced("", "export type ", reexports, ";") if reexports else [],
            blocks=[b.text for b in blocks],
        )

    def export_types_of(self, spec: str, name: str) -> int | str:
        return self.export_types[self.export_spec[spec]][name]

    def check_entry_member(
        self, served: dict[str, str], member: str, key: str, world: str, span: Span | None
    ) -> None:
        """componentize-js finds each export of the world as a same-named export of the entry
        module; two WIT exports it would look up under one name cannot be told apart (the
        error points at the second)."""
        if member in served:
            raise Unsupported(
                f"the TypeScript backend does not support two exports that componentize-js "
                f"looks up under one name: world `{world}` exports `{served[member]}` and "
                f"`{key}`, both the entry module's export `{member}`; rename one of them",
                span,
            )
        served[member] = key

    def named_key(self, world: int, entry: ir.WorldEntry, key: str) -> tuple[int, str] | None:
        """(world, name) for an interface the world reaches under a plain name, else None."""
        assert isinstance(entry.item, ir.WorldInterface)
        if entry.key.name is not None and self.resolve.interface_id(entry.item.id) is not None:
            return world, key
        return None

    def iface_key_short(self, iface: int) -> str:
        it = self.resolve.interfaces[iface]
        return it.name if it.name is not None else self.iface_key[iface]

    def define_name(self, iface: int, named: tuple[int, str] | None = None) -> str:
        """The export helper's name, as `exports_file` claimed it."""
        return self.export_names[self.exports_path(iface, named)][1]

    def implement_hint(self, short: str, helper: str) -> tuple[str, ...]:
        export = names.member(short)
        return (f"Implement it and export it as `export const {export} = {helper}({{ ... }})`.",)

    def exported_resource(self, iface: int, rid: int, scope: _Scope) -> list[_Block]:
        td = self.resolve.types[rid]
        name = names.type_name(td.name or "")  # claimed with the module's types
        cls = scope.declare(f"{name}Class", f"the class type of resource `{td.name}`")
        self.class_names[rid] = cls
        inner = INDENT
        instance: list[list[str]] = []
        statics: list[list[str]] = []
        fns = self.resource_functions(iface, rid)
        for fn in fns:
            where = f"`{fn.name}` of `{scope.module}`"
            if fn.kind == "constructor":
                statics.insert(0, self.signature(inner, "new ", fn, scope, where, (), name))
            elif fn.kind == "static":
                statics.append(
                    self.signature(inner, names.method_key(fn.item_name), fn, scope, where)
                )
            else:
                instance.append(
                    self.signature(inner, names.method_key(fn.item_name), fn, scope, where)
                )
        if not any(f.kind == "constructor" for f in fns):
            statics.insert(
                0,
                names.tsdoc("Instances are made by the plugin; there is no WIT constructor.", inner)
                + [f"{inner}prototype: {name};"],
            )

        inst_doc = names.tsdoc(td.docs.contents)
        cls_doc = names.tsdoc(
            f"The class implementing `{td.name}`: its constructor and static functions."
        )
        return [
            _Block(braced(inst_doc + [f"export interface {name} {{"], instance)),
            _Block(braced(cls_doc + [f"export interface {cls} {{"], statics)),
        ]

    def world_file(self, world: int) -> str:
        w = self.resolve.worlds[world]
        wname = names.type_name(w.name)
        path = f"{w.name}.ts"
        scope = _Scope("world", ir.TypeOwner("world", world), path, w.name, world=world)
        references: list[str] = []
        helpers: list[_ImportGroup] = []
        type_imports: list[_ImportGroup] = []
        type_exports: list[_ImportGroup] = []
        members: list[list[str]] = []
        world_types: list[int] = []
        blocks: list[_Block] = []
        scope.claim_types(
            self.resolve,
            (e.item.id for e in w.imports + w.exports if isinstance(e.item, ir.WorldType)),
        )
        exports_name = scope.declare(f"{wname}Exports", f"world `{w.name}`")
        served: dict[str, str] = {}  # entry-module export name -> the WIT export it serves
        for direction, entry, key in self.resolve.world_interfaces(world):
            item = entry.item
            if isinstance(item, ir.WorldInterface):
                named = self.named_key(world, entry, key)
                if direction == "import":
                    references.append(self.ambient_path(item.id, named))
                    continue
                target = self.exports_path(item.id, named)
                short = named[1] if named is not None else self.iface_key_short(item.id)
                spec = "./" + target[: -len(".ts")] + ".js"
                iname, helper = self.export_names[target]
                local = scope.declare(iname, f"export `{key}`")
                local_helper = scope.declare(helper, f"the helper for export `{key}`")
                type_imports.append(_ImportGroup(spec, [_specifier(iname, local)]))
                type_exports.append(_ImportGroup(spec, list(self.export_types[target])))
                self.export_spec[spec] = target
                helpers.append(_ImportGroup(spec, [_specifier(helper, local_helper)]))
                self.check_entry_member(
                    served, names.member(short), key, w.name, entry.span or w.span
                )
                members.append(
                    names.tsdoc(self.resolve.interfaces[item.id].docs.contents, INDENT)
                    + [f"{INDENT}{names.member(short)}: {local};"]
                )
            elif isinstance(item, ir.WorldType):
                world_types.append(item.id)
            else:
                fn = item.function
                where = f"function `{fn.name}` of world `{w.name}`"
                if direction == "import":
                    if fn.resource is None:  # resource functions are declared in "$root"
                        references.append(self.root_import_path(key))
                    continue
                self.check_entry_member(
                    served, names.member(fn.name), key, w.name, entry.span or w.span
                )
                members.append(self.signature(INDENT, names.method_key(fn.name), fn, scope, where))
                helper = scope.declare(
                    "define" + names.upper_camel(fn.name), f"the helper for export `{fn.name}`"
                )
                member_type = f"{exports_name}[{names.string_literal(names.member(fn.name))}]"
                doc = names.tsdoc(
                    f"Type-checks the world-level export `{fn.name}`.\n"
                    f"Export the result as `{names.member(fn.name)}` from the entry module."
                )
                head = wrap_list(
                    "",
                    f"export function {helper}(",
                    [f"impl: {member_type}"],
                    f"): {member_type} {{",
                )
                blocks.append(_Block(doc + head + [f"{INDENT}return impl;", "}"]))
        alias_imports = self.foreign_aliases(world_types, scope)
        own = self.world_own_types(world)
        if own:  # declared in "$root" (see root_file); imported and re-exported here
            references.append(ROOT_PATH)
            own_names = [names.type_name(self.resolve.types[t].name or "") for t in own]
            alias_imports.append(_ImportGroup(ROOT_MODULE, own_names))
        type_blocks: list[_Block] = []
        alias_reexports = [s.split(" as ")[-1] for g in alias_imports for s in g.specifiers]
        exports_doc = names.tsdoc(
            w.docs.contents,
            "",
            (f"The shape of the entry module of a component built for world `{w.name}`.",),
        )
        exports_lines = braced(exports_doc + [f"export interface {exports_name} {{"], members)
        refs = sorted(set(references) | scope.references)
        blocks = type_blocks + [_Block(exports_lines)] + blocks + self.helper_types(scope, "")
        reexports: list[str] = []
        for g in helpers:
            reexports += g.lines("", "export ")
        # the exported interfaces' types, for one-stop imports; a name that two of them use
        # for different things is left out (import it from the interface's own module)
        denotes: dict[str, set[int | str]] = {}
        for g in type_exports:
            for n in g.specifiers:
                denotes.setdefault(n, set()).add(self.export_types_of(g.module, n))
        imported = {n for t in type_imports for n in t.specifiers}
        done: set[str] = set()
        for g in type_exports:
            unique = [
                n
                for n in g.specifiers
                if len(denotes[n]) == 1
                and n not in done
                and (n not in scope.declared or n in imported)
            ]
            done.update(unique)
            if unique:
                reexports += _ImportGroup(g.module, unique).lines("", "export type ")
        return self.render(
            "world.ts.j2",
            references=refs,
            imports=[line for g in alias_imports + type_imports for line in g.lines("")],
            reexports=reexports
            + (wrap_braced("", "export type ", alias_reexports, ";") if alias_reexports else []),
            blocks=[b.text for b in blocks],
        )

    def package_json(self) -> str:
        main = self.resolve.main_package
        version = self.resolve.packages[main].version if main is not None else None
        doc = {
            "name": self.package_name(),
            "version": version or "0.0.0",
            "description": f"TypeScript guest SDK for {self.main_package_name()}, generated by witgen",
            "private": True,
            "type": "module",
            "scripts": {"check": "tsc --noEmit -p ."},
        }
        return json.dumps(doc, indent=2) + "\n"

    # -- world-level imported functions --

    def root_import_path(self, key: str) -> str:
        return f"interfaces/world-{key}.d.ts"

    def world_own_types(self, world: int) -> list[int]:
        """The types and resources a world defines itself (not `use`d from an interface)."""
        return [
            e.item.id
            for e in self.resolve.worlds[world].imports
            if isinstance(e.item, ir.WorldType) and self.foreign_alias_target(e.item.id) is None
        ]

    def root_file(self, world: int) -> str | None:
        """The ambient module "$root" of a world with types or resources of its own."""
        own = self.world_own_types(world)
        if not own:
            return None
        w = self.resolve.worlds[world]
        scope = _Scope("ambient", ir.TypeOwner("world", world), ROOT_PATH, ROOT_MODULE, world=world)
        types = [e.item.id for e in w.imports if isinstance(e.item, ir.WorldType)]
        scope.claim_types(self.resolve, types)
        imports = self.foreign_aliases(types, scope)
        blocks = self.type_blocks(own, scope, INDENT)
        functions = [e.item.function for e in w.imports if isinstance(e.item, ir.WorldFunction)]
        for tid in own:
            if isinstance(self.resolve.types[tid].kind, ir.Resource):
                fns = [f for f in functions if f.resource == tid]
                blocks.append(self.imported_resource(fns, tid, scope, INDENT))
        blocks.extend(self.helper_types(scope, INDENT))
        references = sorted(r for r in scope.references if r != scope.path)
        docs = names.tsdoc(
            f"The types and resources of world `{w.name}` "
            f"(componentize-js serves its resources from {names.string_literal(ROOT_MODULE)})."
        )
        return self.render(
            "ambient.d.ts.j2",
            references=[r[len("interfaces/") :] for r in references],
            module=names.string_literal(ROOT_MODULE),
            docs=docs,
            imports=[line for g in imports for line in g.lines(INDENT)],
            blocks=[b.text for b in blocks],
        )

    def root_import_files(self, world: int) -> dict[str, str]:
        """componentize-js serves a world-level imported function `f` as the default export
        of module "f" (`import f from "f"`): one ambient module per such function."""
        files = {}
        for direction, entry, key in self.resolve.world_interfaces(world):
            if direction != "import" or not isinstance(entry.item, ir.WorldFunction):
                continue
            fn = entry.item.function
            if fn.resource is not None:
                continue  # a method of a world's own resource: declared in "$root"
            path = self.root_import_path(key)
            scope = _Scope("ambient", ir.TypeOwner("world", world), path, key, world=world)
            where = f"function `{fn.name}` of world `{self.resolve.worlds[world].name}`"
            lines = self.signature(
                INDENT, f"export default function {names.binding(key)}", fn, scope, where
            )
            files[path] = self.render(
                "ambient.d.ts.j2",
                references=sorted(r[len("interfaces/") :] for r in scope.references),
                module=names.string_literal(key),
                docs=[],
                imports=[
                    line
                    for spec, specifiers in scope.type_imports.items()
                    for line in _ImportGroup(spec, specifiers).lines(INDENT)
                ],
                blocks=["\n".join(lines)],
            )
        return files

    def world_type_in_root_import(self, ty: int, scope: _Scope, where: str) -> str:
        """A world's own type seen from a world-level import's ambient module: a `use`d type
        is spelled through its interface; one defined in the world comes from "$root"."""
        target = self.foreign_alias_target(ty)
        if target is not None:
            tdef = self.resolve.types[target]
            assert tdef.owner is not None and tdef.name is not None
            spec = self.module_ref(tdef.owner.id, scope)
            orig = names.type_name(tdef.name)
            local = names.type_name(self.resolve.types[ty].name or "")
            specifier = orig if orig == local else f"{orig} as {local}"
            specifiers = scope.type_imports.setdefault(spec, [])
            if specifier not in specifiers:
                specifiers.append(specifier)
            return local
        local = names.type_name(self.resolve.types[ty].name or "")
        scope.references.add(ROOT_PATH)
        specifiers = scope.type_imports.setdefault(ROOT_MODULE, [])
        if local not in specifiers:
            specifiers.append(local)
        return local

    def readme(self) -> str:
        worlds = []
        for w in self.worlds:
            exports = []
            for direction, entry, key in self.resolve.world_interfaces(w):
                if direction == "export" and isinstance(entry.item, ir.WorldInterface):
                    named = self.named_key(w, entry, key)
                    short = named[1] if named is not None else self.iface_key_short(entry.item.id)
                    helper = self.define_name(entry.item.id, named)
                    exports.append({"member": names.member(short), "helper": helper})
                elif direction == "export" and isinstance(entry.item, ir.WorldFunction):
                    fname = entry.item.function.name
                    exports.append(
                        {
                            "member": names.member(fname),
                            "helper": "define" + names.upper_camel(fname),
                        }
                    )
            name = self.resolve.worlds[w].name
            worlds.append({"name": name, "file": f"{name}.ts", "exports": exports})
        return self.render(
            "README.md.j2",
            package_name=self.package_name(),
            wit_package=self.main_package_name(),
            version=witgen.__version__,
            source=self.options.source,
            worlds=worlds,
            example=self.readme_example(),
        )

    def readme_example(self) -> list[str]:
        """A few lines of a plugin for the first world: its first import and export."""
        w = self.worlds[0]
        wname = self.resolve.worlds[w].name
        lines: list[str] = []
        body: list[str] = []
        for direction, entry, key in self.resolve.world_interfaces(w):
            item = entry.item
            if direction == "import" and isinstance(item, ir.WorldInterface) and not lines:
                fns = [
                    f
                    for f in self.resolve.interfaces[item.id].functions.values()
                    if f.resource is None
                ]
                if fns:
                    lines.append(
                        f"import {{ {names.lower_camel(fns[0].name)} }} from {names.string_literal(key)};"
                    )
            if direction == "export" and isinstance(item, ir.WorldInterface) and not body:
                named = self.named_key(w, entry, key)
                helper = self.define_name(item.id, named)
                short = named[1] if named is not None else self.iface_key_short(item.id)
                lines.append(
                    f"import {{ {helper} }} from {names.string_literal('./' + wname + '.js')};"
                )
                body = [
                    "",
                    f"export const {names.member(short)} = {helper}({{",
                    "  // one method per function of the interface",
                    "});",
                ]
        return lines + body

    def main_package_name(self) -> str:
        main = self.resolve.main_package
        return self.resolve.packages[main].name if main is not None else "a WIT package"

    def package_name(self) -> str:
        main = self.resolve.main_package
        if self.options.package_name:
            return self.options.package_name
        if main is None:
            return "witgen-sdk"
        pkg = self.resolve.packages[main]
        return f"@{pkg.namespace}/{pkg.short_name}-sdk"

    def generate(self) -> dict[str, str]:
        files: dict[str, str] = {}
        world_paths = {}
        for w in self.worlds:
            name = self.resolve.worlds[w].name
            if name in world_paths:
                raise WitError(
                    f"two worlds are named `{name}`; generate them one at a time with --world"
                )
            world_paths[name] = w
        for iface in sorted(self.imported):
            files[self.ambient_path(iface)] = self.ambient_file(iface)
        for iface in sorted(self.exported):
            files[self.exports_path(iface)] = self.exports_file(iface)
        for w, direction, key, iface in self.named:
            if direction == "import":
                files[self.ambient_path(iface, (w, key))] = self.ambient_file(iface, (w, key))
            else:
                files[self.exports_path(iface, (w, key))] = self.exports_file(iface, (w, key))
        for w in self.worlds:
            root = self.root_file(w)
            if root is not None and files.setdefault(ROOT_PATH, root) != root:
                raise WitError(
                    f"worlds disagree on their own types and resources (module "
                    f"{names.string_literal(ROOT_MODULE)} in {ROOT_PATH}); generate one world "
                    "at a time with --world"
                )
            for path, text in self.root_import_files(w).items():
                if files.setdefault(path, text) != text:
                    raise WitError(
                        f"worlds disagree on the world-level import in {path}; "
                        "generate one world at a time with --world"
                    )
        for w in self.worlds:
            files[f"{self.resolve.worlds[w].name}.ts"] = self.world_file(w)
        files["runtime.ts"] = self.render("runtime.ts.j2")
        stateful = typescript_stateful.stateful_file(self, self.resolve, self.header())
        if stateful is not None:
            files["stateful.ts"] = stateful
        files["README.md"] = self.readme()
        files["tsconfig.json"] = self.render("tsconfig.json.j2")
        files["package.json"] = self.package_json()
        return files


def generate(resolve: ir.Resolve, worlds: list[int], options: GenerateOptions) -> dict[str, str]:
    """The TypeScript SDK for `worlds`: relative path -> file text (prettier-formatted)."""
    require_worlds(resolve, worlds, "TypeScript")
    return _Generator(resolve, worlds, options).generate()
