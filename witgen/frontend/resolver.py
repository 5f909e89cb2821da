"""Resolve the files of ONE package (ASTs) into an unresolved package: its own arenas.

This follows wit-parser's `ast/resolve.rs` step by step, because the JSON we must match
exposes its allocation order: foreign interfaces/worlds get placeholder slots first, then
local interfaces and worlds in a topological order, then types as each interface (in that
order) and then each world is resolved; anonymous types are interned on first use.
Foreign references stay placeholders here; `merge.py` connects them to real packages.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field
from typing import Any, Callable

from witgen import ir
from witgen.diagnostics import Span, WitError, suggest
from witgen.frontend import ast
from witgen.frontend.model import (
    UNKNOWN,
    FunctionM,
    IncludeM,
    InterfaceM,
    TypeDefM,
    WorldM,
)


@dataclass
class Unresolved:
    name: str
    name_span: Span | None
    docs: ir.Docs
    types: list[TypeDefM]
    interfaces: list[InterfaceM]
    worlds: list[WorldM]
    # foreign package name -> item name -> (("interface"|"world", id), [stability...])
    foreign_deps: dict[str, dict[str, tuple[tuple[str, int], list[tuple[ir.Stability, Span]]]]]
    foreign_dep_spans: dict[str, Span]
    foreign_item_spans: dict[tuple[str, int], Span]
    foreign_interfaces: set[int]
    foreign_worlds: set[int]
    n_foreign_types: int
    required_resources: list[tuple[int, Span]]
    world_spans: list[Span | None] = field(default_factory=list)


# Names a misspelt type may have meant besides the ones defined (`strng` -> `string`).
PRIMITIVE_TYPES = (
    "u8", "u16", "u32", "u64", "s8", "s16", "s32", "s64", "f32", "f64", "char", "bool", "string",
)  # fmt: skip


def toposort(
    kind: str, deps: dict[str, list[ast.Id]], also_known: tuple[str, ...] = ()
) -> list[str]:
    """wit-parser's toposort: dependency order, ties broken by source order.

    An edge to an unknown name is an error at the reference, with the closest known name (from
    `deps` and `also_known`) suggested when one is close.
    """
    names = list(deps)
    index = {n: i for i, n in enumerate(names)}
    remaining = [0] * len(names)
    reverse: list[list[int]] = [[] for _ in names]
    for i, n in enumerate(names):
        edges = deps[n]
        remaining[i] = len(edges)
        for e in edges:
            j = index.get(e.name)
            if j is None:
                raise WitError(
                    f"{kind} `{e.name}` does not exist",
                    e.span,
                    help=suggest(e.name, [*names, *also_known]),
                )
            reverse[j].append(i)
    heap = [i for i in range(len(names)) if remaining[i] == 0]
    heapq.heapify(heap)
    order: list[str] = []
    while heap:
        i = heapq.heappop(heap)
        order.append(names[i])
        for k in reverse[i]:
            remaining[k] -= 1
            if remaining[k] == 0:
                heapq.heappush(heap, k)
        reverse[i] = []
    if len(order) == len(names):
        return order
    for i, n in enumerate(names):
        if remaining[i] == 0:
            continue
        for e in deps[n]:
            if remaining[index[e.name]] != 0:
                raise WitError(f"{kind} `{e.name}` depends on itself", e.span)
    raise AssertionError("toposort failed without a cycle")  # pragma: no cover


def external_id_of(attrs: list[ast.Attr]) -> str | None:
    """`@external-id("...")` of a world's interface import or export."""
    if not attrs:  # nearly always: no generator made for nothing
        return None
    return next((a.value for a in attrs if a.kind == "external-id"), None)


def stability_of(attrs: list[ast.Attr]) -> ir.Stability:
    if not attrs:
        return ir.UNKNOWN_STABILITY
    attrs = [a for a in attrs if a.kind != "external-id"]
    if not attrs:
        return ir.UNKNOWN_STABILITY
    kinds = [a.kind for a in attrs]
    if kinds == ["since"]:
        return ir.Stability("stable", since=attrs[0].value)
    if kinds == ["since", "deprecated"]:
        return ir.Stability("stable", since=attrs[0].value, deprecated=attrs[1].value)
    if kinds == ["deprecated", "since"]:
        return ir.Stability("stable", since=attrs[1].value, deprecated=attrs[0].value)
    if kinds == ["unstable"]:
        return ir.Stability("unstable", feature=attrs[0].value)
    if kinds == ["unstable", "deprecated"]:
        return ir.Stability("unstable", feature=attrs[0].value, deprecated=attrs[1].value)
    if kinds == ["deprecated", "unstable"]:
        return ir.Stability("unstable", feature=attrs[1].value, deprecated=attrs[0].value)
    if kinds == ["deprecated"]:
        raise WitError("cannot specify both @deprecated without @since or @unstable", attrs[0].span)
    raise WitError("unsupported combination of attributes", attrs[1].span)


def docs_of(comments: list[str]) -> ir.Docs:
    return ir.Docs(ast.docs_text(comments)) if comments else ir.NO_DOCS


PathVisitor = Callable[
    [ast.Id | None, list[ast.Attr], ast.UsePath, list[tuple[ast.Id, ast.Id | None]] | None, str],
    None,
]


def for_each_path(items: list[Any], f: PathVisitor) -> None:
    """Visit every use/include/import path of a package's top-level items, in wit-parser's
    order (worlds: uses and includes, then imports, then exports)."""
    for item in items:
        if isinstance(item, ast.World):
            imports: list[ast.ImportExport] = []
            exports: list[ast.ImportExport] = []
            for wi in item.items:
                if isinstance(wi, ast.Use):
                    f(None, wi.attrs, wi.path, wi.names, "interface")
                elif isinstance(wi, ast.Include):
                    f(item.name, wi.attrs, wi.path, None, "world")
                elif isinstance(wi, ast.ImportExport):
                    (imports if wi.direction == "import" else exports).append(wi)
            for ie in imports + exports:
                ext = ie.extern
                if ext.kind == "interface":
                    assert ext.items is not None
                    for ii in ext.items:
                        if isinstance(ii, ast.Use):
                            f(None, ii.attrs, ii.path, ii.names, "interface")
                elif ext.kind in ("path", "named-path"):
                    assert ext.path is not None
                    f(None, ie.attrs, ext.path, None, "interface")
        elif isinstance(item, ast.Interface):
            for ii in item.items:
                if isinstance(ii, ast.Use):
                    f(item.name, ii.attrs, ii.path, ii.names, "interface")
        else:  # top-level use
            f(None, item.attrs, item.path, None, "unknown")


def _collect_deps(ty: ast.TypeNode, out: list[ast.Id]) -> None:
    k = ty.kind
    if k == "name" or k == "own" or k == "borrow":
        out.append(ty.args[0])
    elif k == "record":
        for _d, _n, t in ty.args:
            _collect_deps(t, out)
    elif k == "variant":
        for _d, _n, t in ty.args:
            if t is not None:
                _collect_deps(t, out)
    elif k in ("tuple", "map"):
        for t in ty.args:
            _collect_deps(t, out)
    elif k in ("option", "list", "fixed-list"):
        _collect_deps(ty.args[0], out)
    elif k in ("result", "future", "stream"):
        for t in ty.args:
            if t is not None:
                _collect_deps(t, out)


_MAP_KEYS = {"bool", "u8", "u16", "u32", "u64", "s8", "s16", "s32", "s64", "char", "string"}


class PackageResolver:
    """Collects the files of one package, then `resolve()`s them."""

    def __init__(self) -> None:
        self.package: ast.PackageName | None = None
        self.package_docs = ir.NO_DOCS
        self.files: list[list[Any]] = []

        self.types: list[TypeDefM] = []
        self.interfaces: list[InterfaceM] = []
        self.worlds: list[WorldM] = []
        self.anon: dict[Any, int] = {}
        # ("list" | "option" | "result", resolved parts...) -> the anonymous type `_anon` gave
        # them: a repeated `list<T>` is found without building and hashing its `ir` kind
        self.anon_by_parts: dict[tuple[Any, ...], int] = {}
        self.cur = 0
        self.ast_items: list[dict[str, tuple[str, int]]] = []
        self.package_items: dict[str, tuple[str, int]] = {}
        self.interface_types: list[dict[str, tuple[Any, Span]]] = []
        self.foreign_deps: dict[
            str, dict[str, tuple[tuple[str, int], list[tuple[ir.Stability, Span]]]]
        ] = {}
        self.foreign_dep_spans: dict[str, Span] = {}
        self.foreign_item_spans: dict[tuple[str, int], Span] = {}
        self.foreign_interfaces: set[int] = set()
        self.foreign_worlds: set[int] = set()
        self.type_lookup: dict[str, tuple[Any, Span]] = {}
        self.required_resources: list[tuple[int, Span]] = []
        self.world_spans: list[Span | None] = []
        self.first_file: str | None = None

    # ------------------------------------------------------------------ inputs

    def push(self, package: ast.PackageName | None, items: list[Any], file: str = "") -> None:
        if self.first_file is None and file:
            self.first_file = file
        if package is not None:
            if self.package is not None and package.full != self.package.full:
                raise WitError(
                    f"package identifier `{package.full}` does not match previous package "
                    f"name of `{self.package.full}`",
                    package.span,
                )
            self.package = package
            docs = docs_of(package.docs)
            if docs.contents is not None:
                if self.package_docs.contents is not None:
                    raise WitError(
                        "found doc comments on multiple 'package' items",
                        package.docs_span or package.span,
                    )
                self.package_docs = docs
        self.files.append(items)

    # ------------------------------------------------------------------ driver

    def resolve(self) -> Unresolved:
        if self.package is None:
            raise WitError(
                "no `package` header was found in any WIT file for this package",
                Span(self.first_file, 1, 1) if self.first_file else None,
            )
        files = self.files
        self._populate_foreign_deps(files)
        iface_order, world_order = self._populate_ast_items(files)
        n_foreign_types = self._populate_foreign_types(files)

        iface_ast: dict[int, tuple[ast.Interface, int]] = {}
        world_ast: dict[int, tuple[ast.World, int]] = {}
        for i, items in enumerate(files):
            for item in items:
                if isinstance(item, ast.Interface):
                    iface_ast[self.ast_items[i][item.name.name][1]] = (item, i)
                elif isinstance(item, ast.World):
                    world_ast[self.ast_items[i][item.name.name][1]] = (item, i)
        for iid in iface_order:
            iface, i = iface_ast[iid]
            self.cur = i
            self._resolve_interface(iid, iface.items, iface.docs, iface.attrs)
        for wid in world_order:
            world, i = world_ast[wid]
            self.cur = i
            self._resolve_world(wid, world)

        return Unresolved(
            name=self.package.full,
            name_span=self.package.span,
            docs=self.package_docs,
            types=self.types,
            interfaces=self.interfaces,
            worlds=self.worlds,
            foreign_deps=self.foreign_deps,
            foreign_dep_spans=self.foreign_dep_spans,
            foreign_item_spans=self.foreign_item_spans,
            foreign_interfaces=self.foreign_interfaces,
            foreign_worlds=self.foreign_worlds,
            n_foreign_types=n_foreign_types,
            required_resources=self.required_resources,
            world_spans=self.world_spans,
        )

    # ------------------------------------------------------------------ phases

    def _alloc_interface(self, span: Span | None) -> int:
        self.interface_types.append({})
        self.interfaces.append(InterfaceM(name=None, span=span))
        return len(self.interfaces) - 1

    def _alloc_world(self, span: Span | None) -> int:
        self.worlds.append(WorldM(name="", span=span))
        self.world_spans.append(span)
        return len(self.worlds) - 1

    def _populate_foreign_deps(self, files: list[list[Any]]) -> None:
        def visit(
            _cur: Any, attrs: list[ast.Attr], path: ast.UsePath, _names: Any, kind: str
        ) -> None:
            if not isinstance(path, ast.ForeignPath):
                return
            stability = stability_of(attrs)
            pkg = path.package.full
            deps = self.foreign_deps.get(pkg)
            if deps is None:
                deps = self.foreign_deps[pkg] = {}
                self.foreign_dep_spans[pkg] = path.package.span
            entry = deps.get(path.name.name)
            if entry is None:
                if kind == "world":
                    item = ("world", self._alloc_world(path.name.span))
                else:
                    item = ("interface", self._alloc_interface(path.name.span))
                entry = deps[path.name.name] = (item, [])
                self.foreign_item_spans[item] = path.name.span
            entry[1].append((stability, path.name.span))
            if entry[0][0] == "interface":
                self.foreign_interfaces.add(entry[0][1])
            else:
                self.foreign_worlds.add(entry[0][1])

        for items in files:
            for_each_path(items, visit)

    def _populate_ast_items(self, files: list[list[Any]]) -> tuple[list[int], list[int]]:
        package_items: dict[str, Span] = {}
        names: dict[str, Any] = {}
        order: dict[str, list[ast.Id]] = {}
        for items in files:
            for item in items:
                if isinstance(item, (ast.Interface, ast.World)):
                    n = item.name
                    if n.name in package_items:
                        raise WitError(f"duplicate item named `{n.name}`", n.span)
                    package_items[n.name] = n.span
                    order[n.name] = []
                    names[n.name] = item
        for items in files:
            ns: dict[str, tuple[Span, ast.Id | None]] = {}
            for item in items:
                if isinstance(item, ast.ToplevelUse):
                    name = item.as_ if item.as_ is not None else ast.path_name(item.path)
                    src = item.path if isinstance(item.path, ast.Id) else None
                else:
                    name = item.name
                    src = item.name
                if name.name in ns:
                    raise WitError(f"duplicate name `{name.name}` in this file", name.span)
                ns[name.name] = (name.span, src)

            def visit(cur: Any, _a: Any, path: ast.UsePath, _n: Any, _k: str) -> None:
                if cur is None or not isinstance(path, ast.Id):
                    return
                hit = ns.get(path.name)
                if hit is not None:
                    if hit[1] is None:
                        return
                    order[cur.name].append(hit[1])
                elif path.name in package_items:
                    order[cur.name].append(path)
                else:
                    raise WitError(
                        f"interface or world `{path.name}` does not exist",
                        path.span,
                        help=suggest(path.name, [*ns, *package_items]),
                    )

            for_each_path(items, visit)

        sorted_names = toposort("interface or world", order)
        ids: dict[str, tuple[str, int]] = {}
        iface_order: list[int] = []
        world_order: list[int] = []
        for item_name in sorted_names:
            if isinstance(names[item_name], ast.Interface):
                iid = self._alloc_interface(package_items[item_name])
                self.interfaces[iid].name = item_name
                ids[item_name] = ("interface", iid)
                iface_order.append(iid)
            else:
                wid = self._alloc_world(package_items[item_name])
                self.worlds[wid].name = item_name
                ids[item_name] = ("world", wid)
                world_order.append(wid)
        for items in files:
            file_items: dict[str, tuple[str, int]] = {}
            for item in items:
                if isinstance(item, ast.ToplevelUse):
                    if item.attrs:
                        raise WitError("attributes not allowed on top-level use", item.span)
                    name = item.as_ if item.as_ is not None else ast.path_name(item.path)
                    if isinstance(item.path, ast.Id):
                        found = ids.get(item.path.name)
                        if found is None:
                            raise WitError(
                                f"interface or world `{item.path.name}` does not exist",
                                item.path.span,
                            )
                        file_items[name.name] = found
                    else:
                        fp = item.path
                        file_items[name.name] = self.foreign_deps[fp.package.full][fp.name.name][0]
                else:
                    file_items[item.name.name] = ids[item.name.name]
                    self.package_items[item.name.name] = ids[item.name.name]
            self.ast_items.append(file_items)
        return iface_order, world_order

    def _populate_foreign_types(self, files: list[list[Any]]) -> int:
        for i, items in enumerate(files):
            self.cur = i

            def visit(
                _c: Any, attrs: list[ast.Attr], path: ast.UsePath, names: Any, _k: str
            ) -> None:
                if names is None:
                    return
                stability = stability_of(attrs)
                item, name, span = self._resolve_path(path)
                iface = self._iface_of(item, name, span)
                if iface not in self.foreign_interfaces:
                    return
                lookup = self.interface_types[iface]
                for n, _as in names:
                    if n.name in lookup:
                        continue
                    self.types.append(
                        TypeDefM(
                            n.name, UNKNOWN, ("interface", iface), ir.NO_DOCS, stability, n.span
                        )
                    )
                    tid = len(self.types) - 1
                    lookup[n.name] = (("type", tid), n.span)
                    self.interfaces[iface].types[n.name] = tid

            for_each_path(items, visit)
        return len(self.types)

    # ------------------------------------------------------------------ paths

    def _resolve_path(self, path: ast.UsePath) -> tuple[tuple[str, int], str, Span]:
        if isinstance(path, ast.Id):
            item = self.ast_items[self.cur].get(path.name) or self.package_items.get(path.name)
            if item is None:
                known = [*self.ast_items[self.cur], *self.package_items]
                raise WitError(
                    f"interface or world `{path.name}` does not exist",
                    path.span,
                    help=suggest(path.name, known),
                )
            return item, path.name, path.span
        return (
            self.foreign_deps[path.package.full][path.name.name][0],
            path.name.name,
            path.name.span,
        )

    @staticmethod
    def _iface_of(item: tuple[str, int], name: str, span: Span) -> int:
        if item[0] != "interface":
            raise WitError(f"name `{name}` is defined as a world, not an interface", span)
        return item[1]

    @staticmethod
    def _world_of(item: tuple[str, int], name: str, span: Span) -> int:
        if item[0] != "world":
            raise WitError(f"name `{name}` is defined as an interface, not a world", span)
        return item[1]

    # ------------------------------------------------------------------ worlds

    def _resolve_world(self, wid: int, world: ast.World) -> None:
        w = self.worlds[wid]
        w.docs = docs_of(world.docs)
        w.stability = stability_of(world.attrs)
        self._resolve_types(
            ("world", wid), [i for i in world.items if isinstance(i, (ast.Use, ast.TypeDef))]
        )
        for inc in world.items:
            if isinstance(inc, ast.Include):
                stability = stability_of(inc.attrs)
                item, name, span = self._resolve_path(inc.path)
                target = self._world_of(item, name, span)
                w.includes.append(
                    IncludeM(stability, target, [(a.name, b.name) for a, b in inc.names], span)
                )
        key: tuple[str, Any]
        # the imports and the exports of a world must each be strongly unique
        scopes = {"import": NameScope(), "export": NameScope()}
        for name, (item, span) in self.type_lookup.items():
            key = ("name", name)
            scopes["import"].define(name, span)
            if key in w.imports:
                raise WitError(f"import `{name}` conflicts with prior import of same name", span)
            w.imports[key] = ("type", item[1])
            w.import_spans[key] = span

        imported: set[int] = set()
        exported: set[int] = set()
        for wi in world.items:
            if isinstance(wi, ast.TypeDef):
                if wi.ty.kind == "resource":
                    for rf in wi.ty.args:
                        fn = self._resolve_resource_func(rf, wi.name)
                        key = ("name", fn.name)
                        scopes["import"].define(fn.name, fn.span)
                        w.imports[key] = ("function", fn)
                        w.import_spans[key] = fn.span
                continue
            if not isinstance(wi, ast.ImportExport):
                continue
            desc = wi.direction
            seen = imported if desc == "import" else exported
            ext = wi.extern
            witem = self._resolve_world_item(wi.docs, wi.attrs, ext)
            if ext.kind == "interface":
                assert ext.name is not None
                key = ("name", ext.name.name)
            elif ext.kind == "func":
                key = ("name", witem[1].name)
            elif ext.kind == "named-path":
                assert ext.name is not None
                key = ("name", ext.name.name)
            else:
                assert ext.path is not None
                p_item, p_name, p_span = self._resolve_path(ext.path)
                key = ("interface", self._iface_of(p_item, p_name, p_span))
            if key[0] == "interface":
                if witem[1] in seen:
                    raise WitError(f"interface cannot be {desc}ed more than once", ext.span)
                seen.add(witem[1])
            dst = w.imports if desc == "import" else w.exports
            spans = w.import_spans if desc == "import" else w.export_spans
            if key in dst:
                prev = dst[key][0]
                prev = "func" if prev == "function" else prev
                raise WitError(
                    f"{desc} `{key[1]}` conflicts with prior {prev} of same name", ext.span
                )
            dst[key] = witem
            spans[key] = ext.span
            if key[0] == "name":
                scopes[desc].define(str(key[1]), ext.span)
        self.type_lookup = {}

    def _resolve_world_item(
        self, docs: list[str], attrs: list[ast.Attr], ext: ast.Extern
    ) -> tuple[Any, ...]:
        if ext.kind == "interface":
            assert ext.name is not None and ext.items is not None
            prev = self.type_lookup
            self.type_lookup = {}
            iid = self._alloc_interface(ext.name.span)
            self._resolve_interface(iid, ext.items, docs, attrs)
            self.type_lookup = prev
            return (
                "interface",
                iid,
                self.interfaces[iid].stability,
                ir.NO_DOCS,
                external_id_of(attrs),
            )
        if ext.kind in ("path", "named-path"):
            assert ext.path is not None
            stability = stability_of(attrs)
            item, name, span = self._resolve_path(ext.path)
            iid = self._iface_of(item, name, span)
            return ("interface", iid, stability, docs_of(docs), external_id_of(attrs))
        assert ext.name is not None and ext.func is not None
        fname, kind = _freestanding(ext.name.name, ext.func)
        fn = self._resolve_function(docs, attrs, fname, ext.name.span, ext.func, kind, None)
        return ("function", fn)

    # ------------------------------------------------------------------ interfaces

    def _resolve_interface(
        self, iid: int, items: list[Any], docs: list[str], attrs: list[ast.Attr]
    ) -> None:
        iface = self.interfaces[iid]
        iface.docs = docs_of(docs)
        iface.stability = stability_of(attrs)
        self._resolve_types(
            ("interface", iid), [i for i in items if isinstance(i, (ast.Use, ast.TypeDef))]
        )
        names = NameScope()  # all names of an interface must be strongly unique
        for name, (item, span) in self.type_lookup.items():
            names.define(name, span)
            iface.types[name] = item[1]
        for it in items:
            if isinstance(it, ast.NamedFunc):
                # a later use of the name as a type says it is a function
                self.type_lookup.setdefault(it.name.name, (("item", "function"), it.name.span))
                fname, kind = _freestanding(it.name.name, it.func)
                fn = self._resolve_function(
                    it.docs, it.attrs, fname, it.name.span, it.func, kind, None
                )
                names.define(fn.name, it.name.span)
                iface.functions[fn.name] = fn
            elif isinstance(it, ast.TypeDef) and it.ty.kind == "resource":
                for rf in it.ty.args:
                    fn = self._resolve_resource_func(rf, it.name)
                    names.define(fn.name, rf.func.name.span)
                    iface.functions[fn.name] = fn
        names.check_setters()
        if names.accessors:  # (without them, nothing moves)
            iface.functions = place_setters_after_getters(iface.functions, lambda f: f)
        self.interface_types[iid] = self.type_lookup
        self.type_lookup = {}

    def _define(self, name: ast.Id, item: tuple[str, Any]) -> None:
        if name.name in self.type_lookup:
            raise WitError(f"name `{name.name}` is defined more than once", name.span)
        self.type_lookup[name.name] = (item, name.span)

    def _resolve_types(self, owner: tuple[str, int], items: list[Any]) -> None:
        for it in items:
            if isinstance(it, ast.Use):
                self._resolve_use(owner, it)
        type_deps: dict[str, list[ast.Id]] = {}
        type_defs: dict[str, ast.TypeDef | None] = {}
        for it in items:
            if isinstance(it, ast.TypeDef):
                if it.name.name in type_defs:
                    raise WitError(f"name `{it.name.name}` is defined more than once", it.name.span)
                type_defs[it.name.name] = it
                deps: list[ast.Id] = []
                _collect_deps(it.ty, deps)
                type_deps[it.name.name] = deps
            else:
                for n, as_ in it.names:
                    nm = as_ if as_ is not None else n
                    type_deps[nm.name] = []
                    type_defs[nm.name] = None
        try:
            order = toposort("type", type_deps, PRIMITIVE_TYPES)
        except WitError as err:
            if err.message in ("type `float32` does not exist", "type `float64` does not exist"):
                new = "f32" if "float32" in err.message else "f64"
                old = "float32" if new == "f32" else "float64"
                raise WitError(
                    err.message,
                    err.span,
                    (
                        f"the `{old}` type has been renamed to `{new}` and is no longer "
                        "accepted, but the `WIT_REQUIRE_F32_F64=0` environment variable can "
                        "be used to temporarily disable this error",
                    ),
                ) from None
            raise
        for name in order:
            d = type_defs.pop(name)
            if d is None:
                continue
            docs = docs_of(d.docs)
            stability = stability_of(d.attrs)
            kind = self._resolve_kind(d.ty, stability)
            self.types.append(
                TypeDefM(name, kind, owner, docs, stability, d.name.span, external_id_of(d.attrs))
            )
            self._define(d.name, ("type", len(self.types) - 1))

    def _resolve_use(self, owner: tuple[str, int], u: ast.Use) -> None:
        item, name, span = self._resolve_path(u.path)
        src = self._iface_of(item, name, span)
        stability = stability_of(u.attrs)
        for n, as_ in u.names:
            hit = self.interface_types[src].get(n.name)
            if hit is None:
                types = [k for k, v in self.interface_types[src].items() if v[0][0] == "type"]
                raise WitError(
                    f"name `{n.name}` does not exist", n.span, help=suggest(n.name, types)
                )
            if hit[0][0] != "type":
                raise WitError(f"cannot import {hit[0][1]} `{n.name}`", n.span)
            local = as_ if as_ is not None else n
            self.types.append(
                TypeDefM(
                    local.name,
                    ir.Alias(hit[0][1]),
                    owner,
                    ir.NO_DOCS,
                    stability,
                    n.span,
                    external_id_of(u.attrs),
                )
            )
            self._define(local, ("type", len(self.types) - 1))

    # ------------------------------------------------------------------ functions

    def _resolve_resource_func(self, rf: ast.ResourceFunc, resource: ast.Id) -> FunctionM:
        hit = self.type_lookup.get(resource.name)
        assert hit is not None and hit[0][0] == "type"
        rid = hit[0][1]
        nf = rf.func
        is_async = nf.func.is_async
        accessor = nf.func.accessor
        if rf.kind in ("method", "static") and accessor is not None:
            name = f"[{rf.kind}][{accessor}]{resource.name}.{nf.name.name}"
            kind = f"{rf.kind}-{accessor}ter"  # method-getter, static-setter, ...
        elif rf.kind == "method":
            name = f"[method]{resource.name}.{nf.name.name}"
            kind = "async-method" if is_async else "method"
        elif rf.kind == "static":
            name = f"[static]{resource.name}.{nf.name.name}"
            kind = "async-static" if is_async else "static"
        else:
            name = f"[constructor]{resource.name}"
            kind = "constructor"
        return self._resolve_function(nf.docs, nf.attrs, name, nf.name.span, nf.func, kind, rid)

    def _resolve_function(
        self,
        docs: list[str],
        attrs: list[ast.Attr],
        name: str,
        span: Span,
        func: ast.Func,
        kind: str,
        resource: int | None,
    ) -> FunctionM:
        d = docs_of(docs)
        stability = stability_of(attrs)
        params: list[tuple[str, Any, Span | None]] = []
        if kind in ("method", "async-method", "method-getter", "method-setter"):
            assert resource is not None
            hk = ir.Handle("borrow", resource)
            st = self._find_stability(hk, ir.UNKNOWN_STABILITY)
            params.append(("self", self._anon(hk, st, func.span), func.span))
        if func.accessor == "get" and func.params:
            raise WitError("getters cannot have parameters", func.params[0][0].span)
        if func.accessor == "set" and len(func.params) != 1:
            span = func.params[1][0].span if len(func.params) > 1 else func.span
            raise WitError("setters must have exactly one parameter", span)
        seen = {_kebab_key(p[0]) for p in params} if params else set()
        resolve_type = self._resolve_type
        for pname, pty in func.params:
            key = pname.name.replace("-", "").lower()  # _kebab_key, without the call
            if key in seen:
                raise WitError(f"param `{pname.name}` is defined more than once", pname.span)
            seen.add(key)
            k = pty.kind
            # a primitive is itself (what `_resolve_type` returns for it, without the call)
            t = k if k in _PRIMITIVES else resolve_type(pty, ir.UNKNOWN_STABILITY)
            params.append((pname.name, t, pname.span))
        result: Any = None
        if kind == "constructor":
            assert resource is not None
            if func.result is None:
                result = resource
            else:
                result = self._constructor_result(resource, func.result)
        elif func.accessor == "get" and func.result is None:
            raise WitError("getters must return a value", func.span)
        elif func.result is not None:
            result = self._resolve_type(func.result, ir.UNKNOWN_STABILITY)
            if func.accessor == "set" and not (
                isinstance(result, int)
                and isinstance(self.types[result].kind, ir.Result)
                and self.types[result].kind.ok is None
            ):
                raise WitError(
                    "if a setter return type is declared it must be a `result` with no `ok` type",
                    func.result.span,
                )
        return FunctionM(
            name, kind, resource, params, result, d, stability, span, external_id_of(attrs)
        )

    def _constructor_result(self, rid: int, node: ast.TypeNode) -> Any:
        result = self._resolve_type(node, ir.UNKNOWN_STABILITY)
        ok: Any = "missing"
        if isinstance(result, int) and isinstance(self.types[result].kind, ir.Result):
            ok = self.types[result].kind.ok
        if ok == "missing":
            raise WitError(
                "if a constructor return type is declared it must be a `result`", node.span
            )
        if ok != rid or not isinstance(ok, int):
            ok_span = node.span
            if node.kind == "result" and node.args[0] is not None:
                ok_span = node.args[0].span
            raise WitError("the `ok` type must be the resource being constructed", ok_span)
        return result

    # ------------------------------------------------------------------ types

    def _type_name(self, name: ast.Id) -> int:
        hit = self.type_lookup.get(name.name)
        if hit is None:
            types = [k for k, v in self.type_lookup.items() if v[0][0] == "type"]
            raise WitError(
                f"name `{name.name}` does not exist",
                name.span,
                help=suggest(name.name, [*types, *PRIMITIVE_TYPES]),
            )
        if hit[0][0] != "type":
            raise WitError(f"cannot use {hit[0][1]} `{name.name}` as a type", name.span)
        return int(hit[0][1])

    def _validate_resource(self, name: ast.Id) -> int:
        tid = self._type_name(name)
        cur = tid
        while True:
            kind = self.types[cur].kind
            if isinstance(kind, ir.Resource):
                return tid
            if isinstance(kind, ir.Alias) and isinstance(kind.type, int):
                cur = kind.type
                continue
            if kind is UNKNOWN:
                self.required_resources.append((cur, name.span))
                return tid
            raise WitError(f"type `{name.name}` used in a handle must be a resource", name.span)

    def _resolve_kind(self, ty: ast.TypeNode, stability: ir.Stability) -> Any:
        k = ty.kind
        a = ty.args
        if not a and k not in ("tuple", "record", "flags", "variant", "enum", "resource"):
            return ir.Alias(k)
        if k == "name":
            return ir.Alias(self._type_name(a[0]))
        if k == "list":
            return ir.List(self._resolve_type(a[0], stability))
        if k == "fixed-list":
            return ir.FixedLengthList(self._resolve_type(a[0], stability), a[1])
        if k == "map":
            key = self._resolve_type(a[0], stability)
            value = self._resolve_type(a[1], stability)
            if key not in _MAP_KEYS:
                raise WitError(
                    "invalid map key type: map keys must be bool, u8, u16, u32, u64, s8, s16, "
                    "s32, s64, char, or string",
                    ty.span,
                )
            return ir.Map(key, value)
        if k == "own" or k == "borrow":
            return ir.Handle(k, self._validate_resource(a[0]))
        if k == "resource":  # its functions' names are checked in the enclosing scope
            return ir.Resource()
        if k == "record":
            if not a:
                raise WitError("empty record", ty.span)
            _no_duplicates(a, "field")
            return ir.Record(
                tuple(
                    ir.Field(n.name, self._resolve_type(t, stability), docs_of(d), n.span)
                    for d, n, t in a
                )
            )
        if k == "flags":
            if not a:
                raise WitError("empty flags", ty.span)
            if len(a) > 32:
                raise WitError("cannot have more than 32 flags", a[32][1].span)
            _no_duplicates(a, "flag")
            return ir.Flags(tuple(ir.Flag(n.name, docs_of(d), n.span) for d, n in a))
        if k == "tuple":
            if not a:
                raise WitError("empty tuple", ty.span)
            return ir.Tuple(tuple(self._resolve_type(t, stability) for t in a))
        if k == "variant":
            if not a:
                raise WitError("empty variant", ty.span)
            _no_duplicates(a, "case")
            return ir.Variant(
                tuple(
                    ir.Case(
                        n.name,
                        None if t is None else self._resolve_type(t, stability),
                        docs_of(d),
                        n.span,
                    )
                    for d, n, t in a
                )
            )
        if k == "enum":
            if not a:
                raise WitError("empty enum", ty.span)
            _no_duplicates(a, "case")
            return ir.Enum(tuple(ir.EnumCase(n.name, docs_of(d), n.span) for d, n in a))
        if k == "option":
            return ir.Option(self._resolve_type(a[0], stability))
        if k == "result":
            return ir.Result(
                None if a[0] is None else self._resolve_type(a[0], stability),
                None if a[1] is None else self._resolve_type(a[1], stability),
            )
        if k == "future":
            return ir.Future(None if a[0] is None else self._resolve_type(a[0], stability))
        if k == "stream":
            return ir.Stream(None if a[0] is None else self._resolve_type(a[0], stability))
        raise AssertionError(k)  # pragma: no cover

    def _find_stability(self, kind: Any, stability: ir.Stability) -> ir.Stability:
        if stability.kind != "unknown":
            return stability
        refs: list[Any]
        if isinstance(kind, (ir.Alias,)):
            refs = [kind.type]
        elif isinstance(kind, ir.Handle):
            refs = [kind.resource]
        elif isinstance(kind, ir.Tuple):
            refs = list(kind.types)
        elif isinstance(kind, (ir.List, ir.FixedLengthList, ir.Option)):
            refs = [kind.type]
        elif isinstance(kind, ir.Map):
            refs = [kind.key, kind.value]
        elif isinstance(kind, (ir.Future, ir.Stream)):
            refs = [] if kind.type is None else [kind.type]
        elif isinstance(kind, ir.Result):
            refs = [x for x in (kind.ok, kind.err) if x is not None]
        else:
            refs = []
        for r in refs:
            if isinstance(r, int):
                st = self.types[r].stability
                if st.kind != "unknown":
                    return st
        return ir.UNKNOWN_STABILITY

    def _resolve_type(self, ty: ast.TypeNode, stability: ir.Stability) -> Any:
        # the commonest cases, without the `ir.Alias` that `_anon` would unwrap again
        k = ty.kind
        a = ty.args
        if not a:
            if k not in _DEFINITION_KINDS:
                return k  # a primitive
        elif k == "name":
            return self._type_name(a[0])
        elif k == "list" or k == "option":  # what `_resolve_kind` and `_anon` do, in order
            parts: tuple[Any, ...] = (k, self._resolve_type(a[0], stability))
            hit = self.anon_by_parts.get(parts)
            if hit is None:
                inner: Any = ir.List(parts[1]) if k == "list" else ir.Option(parts[1])
                hit = self._anon(inner, self._find_stability(inner, stability), ty.span)
                self.anon_by_parts[parts] = hit
            return hit
        elif k == "result":
            ok = None if a[0] is None else self._resolve_type(a[0], stability)
            err = None if a[1] is None else self._resolve_type(a[1], stability)
            parts = (k, ok, err)
            hit = self.anon_by_parts.get(parts)
            if hit is None:
                result = ir.Result(ok, err)
                hit = self._anon(result, self._find_stability(result, stability), ty.span)
                self.anon_by_parts[parts] = hit
            return hit
        kind = self._resolve_kind(ty, stability)
        st = self._find_stability(kind, stability)
        return self._anon(kind, st, ty.span)

    def _anon(self, kind: Any, stability: ir.Stability, span: Span) -> Any:
        if isinstance(kind, ir.Alias):
            return kind.type
        if isinstance(kind, ir.Handle) and kind.kind == "own":
            return kind.resource  # made an `own` handle again when merged
        key = _anon_key(kind)
        hit = self.anon.get(key)
        if hit is not None:
            return hit
        self.types.append(TypeDefM(None, kind, None, ir.NO_DOCS, stability, span))
        tid = len(self.types) - 1
        self.anon[key] = tid
        return tid


_DEFINITION_KINDS = frozenset(("tuple", "record", "flags", "variant", "enum", "resource"))
_PRIMITIVES = frozenset((*PRIMITIVE_TYPES, "error-context"))


def _kebab_key(name: str) -> str:
    """Kebab names that differ only in case or hyphens are the same name."""
    return name.replace("-", "").lower()


def _freestanding(name: str, func: ast.Func) -> tuple[str, str]:
    """The name and kind wit-parser gives a function that belongs to no resource."""
    if func.accessor is not None:
        return f"[{func.accessor}]{name}", f"{func.accessor}ter"
    return name, "async-freestanding" if func.is_async else "freestanding"


def place_setters_after_getters(
    items: dict[Any, Any], func: Callable[[Any], Any]
) -> dict[Any, Any]:
    """wit-parser moves each setter to just after its getter when the getter comes later."""
    order = list(items.items())
    seen: set[str] = set()
    i = 0
    while i < len(order):
        fn = func(order[i][1])
        if fn is not None and fn.kind.endswith("getter"):
            seen.add(fn.name)
        elif fn is not None and fn.kind.endswith("setter"):
            getter = fn.name.replace("[set]", "[get]", 1)
            if getter not in seen:
                later = next(
                    (
                        j
                        for j in range(i + 1, len(order))
                        if (g := func(order[j][1])) is not None and g.name == getter
                    ),
                    None,
                )
                if later is not None:
                    order.insert(later, order.pop(i))
                    continue
        i += 1
    return dict(order)


def _no_duplicates(members: Any, what: str) -> None:
    """Record fields, flags and cases must be strongly unique (wit-parser's
    `check_unique_names`)."""
    seen: dict[str, str] = {}
    for m in members:
        name: ast.Id = m[1]
        key = name.name.replace("-", "").lower()
        prev = seen.get(key)
        if prev is not None:
            if prev == name.name:
                raise WitError(f"duplicate {what} `{prev}`", name.span)
            raise WitError(
                f"{what} `{name.name}` conflicts with previous {what} `{prev}`", name.span
            )
        seen[key] = name.name


_ANNOTATIONS = ("[constructor]", "[method]", "[static]")
_ACCESSORS = ("[get]", "[set]")


def canonical_name(name: str) -> str:
    """The form in which two component names collide when they are not "strongly unique"
    (wasmparser's `PlainName::canonicalized`): annotations dropped but for `[constructor]` and
    `[set]`, hyphens dropped, lower case, and `r.r` (a method named like its resource) is `r`."""
    if "[" not in name and "." not in name:  # a plain name (what the rest gives it, sooner)
        return name.replace("-", "").lower()
    rest = name
    annotation = next((a for a in _ANNOTATIONS if rest.startswith(a)), "")
    rest = rest[len(annotation) :]
    accessor = next((a for a in _ACCESSORS if rest.startswith(a)), "")
    rest = rest[len(accessor) :]
    lower = rest.replace("-", "").lower()
    resource, dot, method = lower.partition(".")
    if dot and resource == method:
        return resource
    if annotation == "[constructor]":
        return annotation + lower
    if accessor == "[set]":
        return accessor + lower
    return lower


class NameScope:
    """Names of one scope (an interface; a world's imports or its exports) that must be
    strongly unique (wit-parser's `NameScope`)."""

    def __init__(self) -> None:
        self.names: dict[str, tuple[str, Span | None]] = {}
        self.accessors = False  # whether a name has `[get]` or `[set]` (most scopes: none)

    def define(self, name: str, span: Span | None) -> None:
        key = canonical_name(name)
        hit = self.names.get(key)
        if hit is not None:
            prev = hit[0]
            if prev == name:
                raise WitError(f"duplicate name `{name}`", span)
            raise WitError(f"name `{name}` conflicts with previous name `{prev}`", span)
        self.names[key] = (name, span)
        if "[" in name and ("[set]" in name or "[get]" in name):
            self.accessors = True

    def check_setters(self) -> None:
        """Every `[set]x` needs its `[get]x` in the same scope."""
        if not self.accessors:
            return
        raw = {name for name, _ in self.names.values()}
        for name, span in self.names.values():
            annotation = next((a for a in _ANNOTATIONS if name.startswith(a)), "")
            rest = name[len(annotation) :]
            if rest.startswith("[set]"):
                getter = f"{annotation}[get]{rest[5:]}"
                if getter not in raw:
                    raise WitError(f"setter `{name}` has no corresponding getter `{getter}`", span)


def _anon_key(kind: Any) -> Any:
    if isinstance(kind, ir.Record):
        return ("record", tuple((f.name, f.type) for f in kind.fields))
    if isinstance(kind, ir.Variant):
        return ("variant", tuple((c.name, c.type) for c in kind.cases))
    if isinstance(kind, ir.Flags):
        return ("flags", tuple(f.name for f in kind.flags))
    if isinstance(kind, ir.Enum):
        return ("enum", tuple(c.name for c in kind.cases))
    return kind  # the remaining kinds are hashable frozen dataclasses of refs
