"""Which Go packages a module has and what every identifier in them is called, decided before any
file is written.

A package declares the items of one WIT interface or of one world:
- an interface imported or exported by its path (`import wasi:io/streams;`) has one package for
  every world (`<iface>`, or `<ns>/<pkg>/<iface>` for other WIT packages), serving both
  directions when a world imports and exports it;
- an interface a world imports or exports under a plain name (`import primary: store;`, or an
  inline `import host: interface {...}`) has a package of its own under the world's folder
  (`<world>/<name>`), with its own copies of the interface's types: each name is a separate
  instance, whose resources are separate types;
- a world with types or functions of its own has `<world>`.
Packages the interface's siblings refer to (`use store.{r}`) are the path package when there is
one, else the first package made for the interface.

Identifiers are claimed per package in a fixed order (the generated registration names, types,
package-level functions, the names derived from types, the internal lower-case helpers): a
name already taken gets a trailing underscore, so colliding WIT names still compile and the
same WIT always gives the same names. Import names are unique in the module (a second `types`
package is imported as, e.g., `bytypes`), and parameters never shadow them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from witgen import ir
from witgen.backends import ACCESSOR_KINDS
from witgen.backends.go.names import (
    GO_RESERVED,
    lower_camel,
    lower_first,
    package_name,
    upper_camel,
)

# Identifier keys: ("type", tid), ("case", tid, i) for enum/flag constants, ("tag", tid, i),
# ("ctor", tid, i), ("field", tid, i), ("tag-type", tid), ("names", tid), resource helpers
# ("from-handle" | "drop-fn" | "table" | "new-fn" | "rep-fn" | "dtor", tid), functions
# ("func", name) package-level, ("export", name) Exports method, ("method", name) resource
# method, ("raw", name) / ("post", name) the wasm wrappers.
IdentKey = tuple[str, int | str] | tuple[str, int, int]

# Names the standard library and runtime packages are imported under, and the package-level
# names of generated files that no import may hide.
STANDARD_QUALIFIERS = frozenset({"unsafe", "math", "witrt", "exportsImpl", "implementation"})


# the kinds whose Go function is a method of the resource's type (the handle is the receiver)
METHOD_KINDS = frozenset({"method", "method-getter", "method-setter"})


def item_name(func: ir.Function) -> str:
    """The Go name of a function's item, before a static function's resource prefix. Accessors
    read as Go's own getters and setters do: `level: get() -> u32` is Level(), `level: set(v:
    u32)` is SetLevel(v). (A getter cannot meet a function `level`: WIT refuses the pair.)"""
    if func.kind not in ACCESSOR_KINDS:
        return upper_camel(func.item_name)
    base = upper_camel(func.name.rsplit("]", 1)[1].rsplit(".", 1)[-1])
    return base if func.kind.endswith("getter") else f"Set{base}"


class Idents:
    """One Go namespace (a package, a struct's fields, an interface's methods)."""

    def __init__(self, reserved: frozenset[str] | set[str] = frozenset()) -> None:
        self.taken: set[str] = set(reserved)

    def claim(self, base: str) -> str:
        while base in self.taken:
            base += "_"
        self.taken.add(base)
        return base


@dataclass
class GoPackage:
    """One generated Go package: a WIT interface (under one key) or a world's own items."""

    owner: ir.TypeOwner  # the interface or world whose items it declares
    import_path: str
    name: str  # Go package name
    direction: str | None  # "import" | "export" | "both" | "world" | None (types only)
    wit_name: str  # how users know it: "dataflare:core/processor@1.0.0", "primary", a world
    key: str  # the component-level name prefix: interface id, plain name, "" for a world
    docs: str | None
    inline_in: str | None = None  # the world of an inline interface
    named_in: str | None = None  # the world importing/exporting the interface under `key`
    qualifier: str = ""  # the name other packages import it under
    idents: dict[IdentKey, str] = field(default_factory=dict)
    lower_idents: set[str] = field(default_factory=set)  # package-level names parameters avoid
    # The record of the packages its code names, kept as the names are written (`Namer.ident`,
    # `Namer.ref`): import paths, standard packages ("math", "unsafe") without a slash.
    imports: set[str] = field(default_factory=set)

    @property
    def has_exports(self) -> bool:
        return self.direction in ("export", "both", "world")


@dataclass(frozen=True)
class Entry:
    """One way a world reaches an interface."""

    iid: int
    direction: str  # "import" | "export"
    world: ir.World
    name: str | None  # the plain name, None for a path import/export


class PackagePlan:
    def __init__(self, resolve: ir.Resolve, worlds: list[int], module: str) -> None:
        self.resolve = resolve
        self.worlds = worlds
        self.module = module
        self.packages: list[GoPackage] = []
        # ("interface", iid) / ("world", wid) -> the package other packages refer to
        self.home: dict[tuple[str, int], GoPackage] = {}
        self.paths: dict[str, str] = {"witrt": "the witgen runtime"}
        self.qualifiers: set[str] = set(STANDARD_QUALIFIERS)
        self.by_path: dict[str, GoPackage] = {}  # import path -> package

    # -- packages --

    def plan(self) -> None:
        by_path: dict[int, set[str]] = {}
        keyed: list[Entry] = []
        for wid in self.worlds:
            world = self.resolve.worlds[wid]
            for direction, entries in (("import", world.imports), ("export", world.exports)):
                for entry in entries:
                    if not isinstance(entry.item, ir.WorldInterface):
                        continue
                    iid = entry.item.id
                    if entry.key.name is None:
                        by_path.setdefault(iid, set()).add(direction)
                    else:
                        keyed.append(Entry(iid, direction, world, entry.key.name))
        for iid, dirs in sorted(by_path.items()):
            self._path_package(iid, dirs)
        for e in keyed:
            self._keyed_package(e)
        for wid in self.worlds:
            self._world_package(wid)
        for pkg in self.packages:
            self._qualify(pkg)
        for pkg in self.packages:
            self._name_items(pkg)

    def _has_code(self, iid: int) -> bool:
        iface = self.resolve.interfaces[iid]
        return bool(iface.functions) or self._has_resources(iid)

    def _path_package(self, iid: int, dirs: set[str]) -> None:
        iface = self.resolve.interfaces[iid]
        key = self.resolve.interface_id(iid)
        assert key is not None and iface.name is not None and iface.package is not None
        sub = iface.name
        if iface.package != self.resolve.main_package:
            pkg = self.resolve.packages[iface.package]
            sub = f"{pkg.namespace}/{pkg.short_name}/{iface.name}"
        owner = ir.TypeOwner("interface", iid)
        docs = iface.docs.contents
        way: str | None = None
        if self._has_code(iid):
            way = "both" if len(dirs) > 1 else next(iter(dirs))
        if way == "both" and self._has_resources(iid):
            # imported handles and exported implementations are different Go types: the
            # export gets a package of its own (`<iface>export`) with its own copies of the
            # types; the import's package is the one other packages refer to
            self.home[("interface", iid)] = self._add(
                owner, sub, "-interface", "import", key, key, docs
            )
            self._add(owner, sub, "-export", "export", key, key, docs)
            return
        self.home[("interface", iid)] = self._add(owner, sub, "-interface", way, key, key, docs)

    def _has_resources(self, iid: int) -> bool:
        types = self.resolve.interfaces[iid].types.values()
        return any(isinstance(self.resolve.types[t].kind, ir.Resource) for t in types)

    def _keyed_package(self, e: Entry) -> None:
        iface = self.resolve.interfaces[e.iid]
        assert e.name is not None
        way = e.direction if self._has_code(e.iid) else None
        suffix = "-export" if e.direction == "export" else "-import"
        package = self._add(
            ir.TypeOwner("interface", e.iid),
            f"{e.world.name}/{e.name}",
            suffix,
            way,
            e.name,
            e.name,
            iface.docs.contents,
        )
        if self.resolve.interface_id(e.iid) is None:
            package.inline_in = e.world.name
        else:
            package.named_in = e.world.name
        self.home.setdefault(("interface", e.iid), package)

    def _world_package(self, wid: int) -> None:
        world = self.resolve.worlds[wid]
        own = [
            e
            for e in world.imports + world.exports
            if isinstance(e.item, (ir.WorldFunction, ir.WorldType))
        ]
        if not own:
            return
        has_functions = any(isinstance(e.item, ir.WorldFunction) for e in own)
        package = self._add(
            ir.TypeOwner("world", wid),
            world.name,
            "-world",
            "world" if has_functions else None,
            world.name,
            "",
            world.docs.contents,
        )
        self.home[("world", wid)] = package

    def _add(
        self,
        owner: ir.TypeOwner,
        sub: str,
        suffix: str,
        direction: str | None,
        wit_name: str,
        key: str,
        docs: str | None,
    ) -> GoPackage:
        """A package at `sub`, or, when another package has that folder, at `sub` + `suffix`
        (then numbered): `i` and `i-export`, a world `names` beside an interface `names`."""
        parts = [package_name(p) for p in sub.split("/")]
        rel, n = "/".join(parts), 1
        while rel in self.paths:
            n += 1
            last = package_name(f"{parts[-1]}{suffix}{n if n > 2 else ''}")
            rel = "/".join(parts[:-1] + [last])
        self.paths[rel] = wit_name
        package = GoPackage(
            owner=owner,
            import_path=f"{self.module}/{rel}",
            name=rel.split("/")[-1],
            direction=direction,
            wit_name=wit_name,
            key=key,
            docs=docs,
        )
        self.packages.append(package)
        self.by_path[package.import_path] = package
        return package

    def _qualify(self, pkg: GoPackage) -> None:
        """The name `pkg` is imported under: its own, or its folders joined when an earlier
        package (or a standard one) already uses that name."""
        rel = pkg.import_path[len(self.module) + 1 :]
        name = pkg.name
        if name in self.qualifiers:
            name = "".join(rel.split("/"))
        while name in self.qualifiers:
            name += "_"
        self.qualifiers.add(name)
        pkg.qualifier = name

    def import_line(self, path: str) -> str:
        """`"mod/pkg"`, or `alias "mod/pkg"` when the package is imported under another name."""
        other = self.by_path.get(path)
        if other is not None and other.qualifier != other.name:
            return f'\t{other.qualifier} "{path}"'
        return f'\t"{path}"'

    # -- identifiers --

    def type_ids(self, pkg: GoPackage) -> list[int]:
        if pkg.owner.kind == "interface":
            return list(self.resolve.interfaces[pkg.owner.id].types.values())
        world = self.resolve.worlds[pkg.owner.id]
        return [
            e.item.id for e in world.imports + world.exports if isinstance(e.item, ir.WorldType)
        ]

    def functions(self, pkg: GoPackage) -> list[tuple[str, ir.Function]]:
        """(direction, function) of every wrapper `pkg` has, in declaration order."""
        if pkg.owner.kind == "world":
            world = self.resolve.worlds[pkg.owner.id]
            return [
                (d, e.item.function)
                for d, es in (("import", world.imports), ("export", world.exports))
                for e in es
                if isinstance(e.item, ir.WorldFunction)
            ]
        ways = ["import", "export"] if pkg.direction == "both" else [pkg.direction or "import"]
        return [
            (way, f)
            for f in self.resolve.interfaces[pkg.owner.id].functions.values()
            for way in ways
        ]

    def _name_items(self, pkg: GoPackage) -> None:
        ids = pkg.idents
        reserved = {"Exports", "Export", "ExportNew"} if pkg.has_exports else set()
        space = Idents(reserved)
        types = self.type_ids(pkg)
        for tid in types:
            ids[("type", tid)] = space.claim(upper_camel(self.resolve.types[tid].name or ""))
        functions = self.functions(pkg)
        exports = Idents()
        methods: dict[int, Idents] = {}
        for tid in types:
            if isinstance(self.resolve.types[tid].kind, ir.Resource):
                exported = pkg.direction == "export"
                methods[tid] = Idents({"Drop"} if exported else {"Handle", "Drop"})
        # plain functions claim their names first: a setter `level: set(..)` beside a function
        # `set-level` is SetLevel_, the function SetLevel (in WIT order otherwise)
        by_kind = sorted(functions, key=lambda way_func: way_func[1].kind in ACCESSOR_KINDS)
        for direction, func in by_kind:
            base = self._function_base(pkg, func)
            if func.kind in METHOD_KINDS:
                if ("method", func.name) not in ids:  # once for both directions
                    ids[("method", func.name)] = methods[func.resource or 0].claim(base)
            elif direction == "import":
                ids[("func", func.name)] = space.claim(base)
            else:
                ids[("export", func.name)] = exports.claim(base)
        for tid in types:
            self._name_derived(pkg, tid, space)
        lower = Idents({"exportsImpl", "implementation", "stateful"})
        for tid in types:
            td = self.resolve.types[tid]
            type_name = ids[("type", tid)]
            if isinstance(td.kind, ir.Enum):
                ids[("names", tid)] = lower.claim(f"{lower_first(type_name)}Names")
            elif isinstance(td.kind, ir.Resource):
                if pkg.direction == "export":
                    table = f"{lower_camel(td.name or '')}Table"
                    ids[("table", tid)] = lower.claim(table)
                    ids[("new-fn", tid)] = lower.claim(f"wasmimport{type_name}New")
                    ids[("rep-fn", tid)] = lower.claim(f"wasmimport{type_name}Rep")
                    ids[("dtor", tid)] = lower.claim(f"wasmexport{type_name}Dtor")
                ids[("drop-fn", tid)] = lower.claim(f"wasmimport{type_name}Drop")
        for direction, func in functions:
            raw = self._raw_base(pkg, func)
            prefix = "wasmimport" if direction == "import" else "wasmexport"
            ids[("raw", f"{direction}:{func.name}")] = lower.claim(prefix + raw)
            if direction == "export":
                ids[("post", func.name)] = lower.claim("wasmpost" + raw)
        pkg.lower_idents = lower.taken

    def _resource_name(self, pkg: GoPackage, func: ir.Function) -> str:
        return pkg.idents[("type", func.resource or 0)]

    def _function_base(self, pkg: GoPackage, func: ir.Function) -> str:
        """The Go name a function wants: Info, NewCursor, CursorResume, or a method name."""
        item = item_name(func)
        if func.resource is None or func.kind in METHOD_KINDS:
            return item
        res = self._resource_name(pkg, func)
        return f"New{res}" if func.kind == "constructor" else f"{res}{item}"

    def _raw_base(self, pkg: GoPackage, func: ir.Function) -> str:
        item = item_name(func)
        return item if func.resource is None else f"{self._resource_name(pkg, func)}{item}"

    def _name_derived(self, pkg: GoPackage, tid: int, space: Idents) -> None:
        ids = pkg.idents
        td = self.resolve.types[tid]
        name = ids[("type", tid)]
        kind = td.kind
        if isinstance(kind, ir.Enum):
            for i, enum_case in enumerate(kind.cases):
                ids[("case", tid, i)] = space.claim(f"{name}{upper_camel(enum_case.name)}")
        elif isinstance(kind, ir.Flags):
            for i, f in enumerate(kind.flags):
                ids[("case", tid, i)] = space.claim(f"{name}{upper_camel(f.name)}")
        elif isinstance(kind, ir.Variant):
            ids[("tag-type", tid)] = space.claim(f"{name}Tag")
            fields = Idents({"Tag"})
            for i, c in enumerate(kind.cases):
                case = upper_camel(c.name)
                ids[("tag", tid, i)] = space.claim(f"{name}Tag{case}")
                ids[("ctor", tid, i)] = space.claim(f"{name}{case}")
                if c.type is not None:
                    ids[("field", tid, i)] = fields.claim(case)
        elif isinstance(kind, ir.Resource) and pkg.direction != "export":
            ids[("from-handle", tid)] = space.claim(f"{name}FromHandle")

    def param_names(self, pkg: GoPackage, params: list[ir.Param]) -> list[str]:
        """Go parameter names that shadow nothing a generated body refers to: keywords and
        builtins, the packages of the module, the package's own lower-case helpers."""
        out = []
        for p in params:
            name = lower_camel(p.name)
            while name in self.qualifiers or name in pkg.lower_idents or name in GO_RESERVED:
                name += "_"
            out.append(name)
        return out
