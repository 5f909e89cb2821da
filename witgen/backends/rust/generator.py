"""The Rust guest SDK backend: `witgen generate --lang rust`.

Builds a typed model of each world (types, imported functions and resources, exported traits
and the glue the export macro wires up), renders it with the Jinja templates in
`sdk_templates/rust/`, and lays the text out as `rustfmt --edition 2021` would with the built-in
printer of `layout` (no Rust toolchain is needed to generate; the tests run rustfmt as a
check). The crate has no dependencies beyond core/alloc (`std` is an optional feature).

Interfaces imported by path (`import logging;`) generate the same code in every world, so they
are generated once, under `src/imports/<namespace>/<package>/<interface>.rs`, and each world
module re-exports the ones it imports (`crate::<world>::logging` stays a valid path). Exported
interfaces, inline interfaces and the export macros stay per world.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2

from witgen import ir
from witgen.abi import Layouts
from witgen.abi.async_payloads import payloads
from witgen.abi.signature import CoreSignature, core_signature
from witgen.backends import GenerateOptions, require_worlds
from witgen.backends.common import Unsupported, header_text, jinja_env
from witgen.abi.stream import TypeStreams, function_stream, post_return_stream
from witgen.backends.rust.emit import Emitter, Val
from witgen.backends.rust.layout import format_source
from witgen.backends.rust import stateful as rust_stateful
from witgen.backends.rust.names import (
    ALLOC_PATHS,
    TypeNamer,
    bare,
    borrow_name,
    camel,
    doc_lines,
    fresh,
    guest_trait_name,
    shouty,
    snake,
    type_name,
)

LANGUAGE = "rust"

# The async runtime shipped in a crate whose worlds use async (as `src/async_rt.rs`)
ASYNC_RUNTIME = Path(__file__).with_name("async_support.rs")

# world-level export names whose symbol the Rust toolchain treats specially on wasm32
_RESERVED_CORE_EXPORTS = frozenset({"main"})
# Function kinds whose first parameter is the resource (`&self` in Rust)
_METHOD_KINDS = frozenset({"method", "async-method", "method-getter", "method-setter"})
# The crate root's own modules (besides `imports`, see `plan_shared`): no world module takes
# their names
_CRATE_MODULES = frozenset({"rt", "stateful", "async_rt"})


# ---------------------------------------------------------------------------- the model


@dataclass
class TypeDefModel:
    kind: str  # record | variant | enum | flags | alias | resource
    name: str
    docs: list[str]
    derives: str = ""
    members: list[dict[str, Any]] = field(default_factory=list)
    target: str = ""  # alias target / flags & enum repr
    generics: str = ""  # "<'a>" when the type holds borrowed handles


@dataclass
class ImportFn:
    docs: list[str]
    signature: str
    body: list[str]
    allow: list[str] = field(default_factory=list)
    helpers: set[str] = field(default_factory=set)  # the `rt` helpers the body calls
    alloc_types: set[str] = field(default_factory=set)  # `String`/`Vec` the signature names


@dataclass
class ResourceModel:
    name: str
    trait: str
    docs: list[str]
    exported: bool
    drop_import: str
    borrow: str = ""  # exported resources: the type of a borrowed handle (`FileBorrow`)
    new_import: str = ""
    rep_import: str = ""
    methods: list[ImportFn] = field(default_factory=list)  # imported resources
    trait_fns: list[ImportFn] = field(default_factory=list)  # exported resources
    # exported resources with async methods: the rep is an `Rc` (`Box` otherwise), so that a
    # method's task keeps the value alive after the host dropped the resource
    shared: bool = False


@dataclass
class Extern:
    module: str
    funcs: list[tuple[str, str, str, str]]  # (link name, rust ident, params, result suffix)


@dataclass
class AsyncExportSite:
    """Where an async export is defined: its core name, module, the interface's trait, and the
    exported resource whose trait holds it (None for a free function)."""

    export_name: str
    here: str
    mod_path: str
    trait: str
    owner: ResourceModel | None


@dataclass
class Shim:
    """One core export the macro defines and forwards to a glue function."""

    export_name: str
    ident: str
    params: str
    args: str
    result: str
    target: str  # path of the glue function, with its generic argument


@dataclass
class PayloadOpsModel:
    """The marker type of one stream or future type of one function: its core imports and the
    codec of its elements (`async_rt::StreamOps`/`StreamReadOps`/`FutureOps` impls)."""

    name: str
    docs: list[str]
    item: str
    size: int
    impls: list[dict[str, Any]]


@dataclass
class ModuleModel:
    name: str
    docs: list[str]
    direction: str  # "import" | "export" | "world"
    types: list[TypeDefModel] = field(default_factory=list)
    resources: list[ResourceModel] = field(default_factory=list)
    functions: list[ImportFn] = field(default_factory=list)
    externs: list[Extern] = field(default_factory=list)
    trait: str = ""
    trait_assoc: list[tuple[str, str]] = field(default_factory=list)  # (name, bound)
    trait_fns: list[ImportFn] = field(default_factory=list)
    glue: list[ImportFn] = field(default_factory=list)
    ret_area: tuple[int, int] | None = None  # (size, align)
    # The shared module a world re-exports instead of repeating the code (imports by path).
    reexport: str = ""
    # The `use` lines of the module: exactly the `alloc` types and `rt` helpers its code was
    # recorded to name while it was generated (see `finish_uses`).
    uses: list[str] = field(default_factory=list)
    helpers: set[str] = field(default_factory=set)
    payload_ops: list[PayloadOpsModel] = field(default_factory=list)
    uses_async: bool = False


@dataclass
class SharedModule:
    """An imported interface generated once for all worlds (`crate::imports::ns::pkg::iface`)."""

    iface_id: int
    path: list[str]  # Rust module names below the crate root, e.g. ["imports", "a", "b", "c"]
    model: ModuleModel

    @property
    def rust_path(self) -> str:
        return "crate::" + "::".join(self.path)

    @property
    def file(self) -> str:
        return "src/" + "/".join(p.removeprefix("r#") for p in self.path) + ".rs"


@dataclass
class WorldModel:
    name: str
    wit_name: str
    docs: list[str]
    macro: str
    modules: list[ModuleModel]
    root: ModuleModel
    shims: list[Shim]


# ---------------------------------------------------------------------------- helpers


def _ident(wit_name: str) -> str:
    """A Rust identifier fragment for a WIT function name like `[method]r.read-batch`; an
    accessor's has a `0` word, which no WIT name has (words start with a letter): `[set]level`
    is `set_0_level`, apart from a function `set-level`."""
    accessor = re.search(r"\[(get|set)\]", wit_name)
    if accessor is not None:
        head, rest = wit_name[: accessor.start()], wit_name[accessor.end() :]
        parts = (_ident(head), accessor.group(1), "0", _ident(rest))
        return "_".join(p for p in parts if p)
    return re.sub(r"[^a-z0-9]+", "_", wit_name.lower()).strip("_")


# The `rt` helpers (see rt.rs.j2): the helpers each calls and the `alloc` items it names.
RT_HELPERS: dict[str, tuple[set[str], set[str]]] = {
    "cabi_realloc": ({"alloc"}, set()),
    "alloc": (set(), set()),
    "dealloc": (set(), set()),
    "give_string": ({"give_list"}, {"String"}),
    "give_list": (set(), {"Box", "Vec"}),
    "string_from_raw": (set(), {"String", "Vec"}),
    "vec_from_raw": (set(), {"Vec"}),
    "Cleanup": ({"dealloc"}, {"Vec"}),
}


def finish_uses(m: ModuleModel, namer: TypeNamer, here: str) -> None:
    """Set the module's `use` lines from the records kept while its code was generated."""
    fns = m.functions + m.glue + [f for r in m.resources for f in r.methods]
    m.helpers = set().union(
        *(f.helpers for f in fns),
        *(o_.get("helpers", set()) for o in m.payload_ops for o_ in o.impls),
    )
    names = namer.used.get(here, set())
    m.uses = sorted(f"use {ALLOC_PATHS[n]};" for n in names)
    if m.helpers:
        m.uses.append("use crate::rt;")


def rt_closure(helpers: set[str]) -> set[str]:
    """The helpers `rt.rs` defines: those used, what they call, and `cabi_realloc` (the export
    macros' allocator)."""
    out: set[str] = set()
    todo = set(helpers) | {"cabi_realloc"}
    while todo:
        h = todo.pop()
        if h not in out:
            out.add(h)
            todo |= RT_HELPERS[h][0]
    return out


def _core_params(sig: CoreSignature) -> tuple[str, str]:
    names = [f"arg{i}" for i in range(len(sig.params))]
    params = ", ".join(f"{n}: {t}" for n, t in zip(names, sig.params))
    return params, ", ".join(names)


def _core_result(sig: CoreSignature) -> str:
    return f" -> {sig.results[0]}" if sig.results else ""


class RustGen:
    """Generates one crate for a list of worlds of one Resolve."""

    def __init__(self, resolve: ir.Resolve, options: GenerateOptions):
        self.resolve = resolve
        self.options = options
        self.layouts = Layouts(resolve)
        # interface id -> module path below the crate root (see `plan_shared`)
        self.shared_paths: dict[int, list[str]] = {}
        # world id -> its module at the crate root (see `plan_worlds`)
        self.world_modules: dict[int, str] = {}
        # id of a function -> the Rust names of the plain functions beside it (`_plain_names`)
        self._siblings: dict[int, set[str]] = {}

    def plan_worlds(self, worlds: list[int]) -> None:
        """Name the world modules: the world's name, unless the crate root has a module of
        that name already (`rt`, `stateful`), then `<name>_world`."""
        for w in worlds:
            mod = snake(self.resolve.worlds[w].name)
            self.world_modules[w] = f"{mod}_world" if mod in _CRATE_MODULES else mod

    # -- imported interfaces shared by all worlds --

    def plan_shared(self, worlds: list[int]) -> None:
        """Choose the interfaces generated once: those imported by path (their core import
        module is then the interface id, the same in every world) whose `use`d interfaces are
        shared as well, so that their code names nothing that belongs to one world."""
        resolve = self.resolve
        candidates: set[int] = set()
        for w in worlds:
            for entry in resolve.worlds[w].imports:
                item = entry.item
                if isinstance(item, ir.WorldInterface) and entry.key.interface == item.id:
                    if resolve.interface_id(item.id) is not None:
                        candidates.add(item.id)
        changed = True
        while changed:
            changed = False
            for iface_id in sorted(candidates):
                if not self._dependencies(iface_id) <= candidates:
                    candidates.discard(iface_id)
                    changed = True
        taken = set(self.world_modules.values()) | _CRATE_MODULES
        root = "imports"
        while root in taken:
            root += "_"
        versions: dict[tuple[str, str], set[str | None]] = {}
        for iface_id in candidates:
            pkg = resolve.packages[self.package_of(iface_id)]
            versions.setdefault((pkg.namespace, pkg.short_name), set()).add(pkg.version)
        for iface_id in sorted(candidates):
            pkg = resolve.packages[self.package_of(iface_id)]
            pkg_mod = pkg.short_name
            if len(versions[(pkg.namespace, pkg.short_name)]) > 1 and pkg.version:
                version = re.sub(r"[^a-z0-9]+", "-", pkg.version.lower()).strip("-")
                pkg_mod = f"{pkg_mod}-v{version}"
            name = resolve.interfaces[iface_id].name
            assert name is not None
            self.shared_paths[iface_id] = [root, snake(pkg.namespace), snake(pkg_mod), snake(name)]

    def package_of(self, iface_id: int) -> int:
        pkg = self.resolve.interfaces[iface_id].package
        assert pkg is not None
        return pkg

    def _dependencies(self, iface_id: int) -> set[int]:
        """Interfaces whose types this one `use`s."""
        out = set()
        for tid in self.resolve.interfaces[iface_id].types.values():
            kind = self.resolve.types[tid].kind
            if isinstance(kind, ir.Alias) and isinstance(kind.type, int):
                owner = self.resolve.types[kind.type].owner
                if owner is None or owner.kind != "interface":
                    out.add(-1)  # a world's type: never shared
                elif owner.id != iface_id:
                    out.add(owner.id)
        return out

    def shared_modules(self) -> list[SharedModule]:
        """The code of every shared imported interface, named by absolute paths."""
        resolve = self.resolve
        module_of = {
            tid: "crate::" + "::".join(path)
            for iface_id, path in self.shared_paths.items()
            for tid in resolve.interfaces[iface_id].types.values()
        }
        namer = TypeNamer(resolve, module_of, set())
        out = []
        for iface_id, path in sorted(self.shared_paths.items(), key=lambda kv: kv[1]):
            iface = resolve.interfaces[iface_id]
            here = "crate::" + "::".join(path)
            key = resolve.interface_id(iface_id)
            assert key is not None
            m = ModuleModel(path[-1], doc_lines(iface.docs, "//!"), "import")
            self.types(m, namer, list(iface.types.values()), here)
            funcs = list(iface.functions.values())
            self.import_functions(m, namer, funcs, key, here, iface_id)
            finish_uses(m, namer, here)
            out.append(SharedModule(iface_id, path, m))
        return out

    # -- world assembly --

    def world(self, world_id: int) -> WorldModel:
        resolve = self.resolve
        world = resolve.worlds[world_id]
        wmod = self.world_modules[world_id]
        # An interface may be both imported and exported: the same type ids then live in two
        # modules, and which one a name means depends on the direction of the code using it.
        import_modules: dict[int, str] = {}
        export_modules: dict[int, str] = {}
        plan: list[tuple[str, str, ir.WorldEntry, int]] = []  # (dir, module, entry, iface)
        taken: dict[str, int] = {}
        # The module whose types the rest of the world names, per (direction, interface): the
        # instance imported by path (`import store;`) if there is one, else the first.
        home: dict[tuple[str, int], str] = {}
        for direction, entry, key_name in resolve.world_interfaces(world_id):
            item = entry.item
            if isinstance(item, ir.WorldInterface):
                iface = resolve.interfaces[item.id]
                # `import primary: store;` names the module after the instance, not the interface
                base = key_name if entry.key.name is not None else iface.name or key_name
                mod = self._instance_module(base, direction, item.id, taken)
                taken[mod] = item.id
                plan.append((direction, mod, entry, item.id))
                if entry.key.interface == item.id or (direction, item.id) not in home:
                    home[(direction, item.id)] = mod
            elif isinstance(item, ir.WorldType):
                import_modules[item.id] = ""
        for (direction, iface_id), mod in home.items():
            target = import_modules if direction == "import" else export_modules
            for tid in resolve.interfaces[iface_id].types.values():
                target[tid] = mod
        exported = {
            tid for tid in export_modules if isinstance(resolve.types[tid].kind, ir.Resource)
        }
        borrows = {
            tid: borrow
            for direction, iface_id in home
            if direction == "export"
            for tid, (_, borrow) in self._export_resource_names(iface_id).items()
        }
        namers = {
            "import": TypeNamer(
                resolve, {**export_modules, **import_modules}, exported - set(import_modules)
            ),
            "export": TypeNamer(resolve, {**import_modules, **export_modules}, exported, borrows),
        }
        modules = []
        shims: list[Shim] = []
        for direction, mod, entry, iface_id in plan:
            key = resolve.world_key_name(entry.key)
            iface = resolve.interfaces[iface_id]
            m = ModuleModel(mod, doc_lines(iface.docs, "//!"), direction)
            type_ids = list(iface.types.values())
            namer = namers[direction]
            if home[(direction, iface_id)] != mod:
                # another instance of the interface (`import secondary: store;`): its types,
                # resources above all, are its own, defined and named in its own module
                namer = namer.with_modules({tid: mod for tid in type_ids})
            self.types(m, namer, type_ids, mod)
            if direction == "import":
                self.import_functions(m, namer, list(iface.functions.values()), key, mod, iface_id)
                shared = self.shared_paths.get(iface_id)
                if shared is not None and entry.key.interface == iface_id:
                    m.reexport = "crate::" + "::".join(shared)
                    if shared[-1] != mod:
                        m.reexport += f" as {mod}"
            else:
                self.export_functions(
                    m, namer, list(iface.functions.values()), key, mod, wmod, shims, iface_id
                )
            finish_uses(m, namer, mod)
            modules.append(m)
        root = ModuleModel(wmod, doc_lines(world.docs, "//!"), "world")
        namer = namers["import"]
        world_types = [e.item.id for e in world.imports if isinstance(e.item, ir.WorldType)]
        self.types(root, namer, world_types, "")
        root_imports = [
            e.item.function for e in world.imports if isinstance(e.item, ir.WorldFunction)
        ]
        world_resources = [t for t in world_types if isinstance(resolve.types[t].kind, ir.Resource)]
        self.import_functions(root, namer, root_imports, "$root", "", None, world_resources)
        root_exports = [
            e.item.function for e in world.exports if isinstance(e.item, ir.WorldFunction)
        ]
        if root_exports:
            self.export_functions(root, namer, root_exports, None, "", wmod, shims, None)
        finish_uses(root, namer, "")
        return WorldModel(
            name=wmod,
            wit_name=world.name,
            docs=doc_lines(world.docs, "//!"),
            macro=f"export_{wmod.removeprefix('r#')}",
            modules=modules,
            root=root,
            shims=shims,
        )

    def _instance_module(
        self, base: str, direction: str, iface_id: int, taken: dict[str, int]
    ) -> str:
        """The module of one interface instance in a world, unique among the world's modules:
        the instance's name, then with the direction (an interface both imported and exported),
        then with the package (two packages' interfaces of one name) and its version."""
        resolve = self.resolve
        mod = snake(base)
        if taken.get(mod) == iface_id:
            mod = snake(f"{base}-{direction}")
        elif mod in taken:
            iface = resolve.interfaces[iface_id]
            if iface.package is not None:
                pkg = resolve.packages[iface.package]
                mod = snake(f"{pkg.namespace}-{pkg.short_name}-{base}")
                if mod in taken and pkg.version:  # two versions of one package
                    version = re.sub(r"[^a-z0-9]+", "-", pkg.version.lower()).strip("-")
                    mod = snake(f"{pkg.namespace}-{pkg.short_name}-{base}-v{version}")
                if taken.get(mod) == iface_id:
                    mod = snake(f"{mod}-{direction}")
        unique, n = mod, 1
        while unique in taken:  # e.g. an inline interface named like another instance
            n += 1
            unique = f"{mod}{n}"
        return unique

    # -- types --

    def _derives(self, children: list[ir.Type | None]) -> str:
        facts = [self.layouts.facts.of(c) for c in children]
        if any(f.handles for f in facts):
            return "Debug"
        if any(f.floats for f in facts):
            return "Debug, Clone, PartialEq"
        return "Debug, Clone, PartialEq, Eq, Hash"

    def types(self, m: ModuleModel, namer: TypeNamer, type_ids: list[int], here: str) -> None:
        for tid in type_ids:
            td = self.resolve.types[tid]
            assert td.name is not None
            name = type_name(td.name)
            docs = doc_lines(td.docs)
            kind = td.kind
            lt = "'a" if namer.has_borrow(tid) else "'_"
            generics = "<'a>" if lt == "'a" else ""
            if isinstance(kind, ir.Record):
                members: list[dict[str, Any]] = [
                    {
                        "name": snake(f.name),
                        "type": namer.owned(f.type, here, lt),
                        "docs": doc_lines(f.docs),
                    }
                    for f in kind.fields
                ]
                derives = self._derives([f.type for f in kind.fields])
                m.types.append(
                    TypeDefModel("record", name, docs, derives, members, generics=generics)
                )
            elif isinstance(kind, ir.Variant):
                members = [
                    {
                        "name": camel(c.name),
                        "type": None if c.type is None else namer.owned(c.type, here, lt),
                        "docs": doc_lines(c.docs),
                    }
                    for c in kind.cases
                ]
                derives = self._derives([c.type for c in kind.cases])
                m.types.append(
                    TypeDefModel("variant", name, docs, derives, members, generics=generics)
                )
            elif isinstance(kind, ir.Enum):
                shape = self.layouts.case_shape(tid)
                assert shape is not None
                repr_ = {1: "u8", 2: "u16", 4: "u32"}[shape.discriminant_size]
                members = [{"name": camel(c.name), "docs": doc_lines(c.docs)} for c in kind.cases]
                m.types.append(TypeDefModel("enum", name, docs, "", members, repr_))
            elif isinstance(kind, ir.Flags):
                size = self.layouts.size(tid)
                if size > 4:
                    raise Unsupported(f"flags `{td.name}` has more than 32 members")
                repr_ = {1: "u8", 2: "u16", 4: "u32"}[size]
                members = [
                    {
                        "name": shouty(f.name),
                        "wit": f.name,
                        "bit": i,
                        "docs": doc_lines(f.docs),
                    }
                    for i, f in enumerate(kind.flags)
                ]
                m.types.append(TypeDefModel("flags", name, docs, "", members, repr_))
            elif isinstance(kind, ir.Resource):
                pass  # rendered with its functions (see import/export functions)
            else:  # aliases and named structural types (a named `future<T>` is its handle)
                if isinstance(kind, ir.Alias):
                    target = self._alias_target(namer, kind.type, here, lt)
                else:
                    target = namer.definition(tid, here, lt)
                m.types.append(TypeDefModel("alias", name, docs, "", [], target, generics))

    def _alias_target(self, namer: TypeNamer, ty: ir.Type, here: str, lt: str) -> str:
        if isinstance(ty, int) and isinstance(self.resolve.types[ty].kind, ir.Resource):
            return namer.path(ty, here)
        return namer.owned(ty, here, lt)

    # -- imports --

    def import_functions(
        self,
        m: ModuleModel,
        namer: TypeNamer,
        funcs: list[ir.Function],
        key: str,
        here: str,
        iface_id: int | None,
        world_resources: list[int] | None = None,
    ) -> None:
        ext = Extern(key, [])
        by_resource: dict[int, ResourceModel] = {}
        # Resources of an interface, or (for the world's own imports) those the world defines.
        for tid in self._resources_of(iface_id) if iface_id is not None else world_resources or []:
            td = self.resolve.types[tid]
            assert td.name is not None
            rname = type_name(td.name)
            drop = f"_drop_{_ident(td.name)}"
            ext.funcs.append((f"[resource-drop]{td.name}", drop, "handle: i32", ""))
            by_resource[tid] = ResourceModel(rname, "", doc_lines(td.docs), False, drop)
        for func in funcs:
            sig = core_signature(self.layouts, func, "import")
            ident = f"_import_{_ident(func.name)}"
            params, _ = _core_params(sig)
            link = f"[async-lower]{func.name}" if func.is_async else func.name
            ext.funcs.append((link, ident, params, _core_result(sig)))
            m.uses_async |= func.is_async
            self.payload_ops(m, namer, func, here, ext)
            fn = self.import_fn(namer, func, sig, ident, here)
            if func.resource is not None:
                by_resource[self._resource_id(func.resource)].methods.append(fn)
            else:
                m.functions.append(fn)
        m.resources.extend(by_resource.values())
        if ext.funcs:
            m.externs.append(ext)

    def _fallible_error(self, func: ir.Function, namer: TypeNamer, here: str) -> str | None:
        """The Rust error type of a fallible constructor (`constructor() -> result<r, e>`)."""
        if func.kind != "constructor" or func.result is None:
            return None
        d = self.resolve.dealias(func.result)
        if isinstance(d, int):
            kind = self.resolve.types[d].kind
            if isinstance(kind, ir.Result):
                return "()" if kind.err is None else namer.owned(kind.err, here)
        return None

    def _fn_name(self, func: ir.Function, *, imported: bool) -> str:
        """The Rust name of a function; a resource function that would collide with the
        constructor (`new`) or, on imported handle types, with the handle accessors gets `_`."""
        if func.kind == "constructor":
            return "new"
        if func.kind.endswith(("getter", "setter")):
            # `level: get() -> u32` is `level()`, `level: set(v: u32)` is `set_level(v)`, or
            # `set_level_(v)` next to a function called `set-level`
            base = func.name.split("]", 1)[1].rsplit(".", 1)[-1]
            name = snake(base if func.kind.endswith("getter") else f"set-{base}")
            if func.kind.endswith("setter") and name in self._plain_names(func):
                name += "_"
        else:
            name = snake(func.item_name)
        if func.resource is None:
            return name
        reserved = {"new"} if self._has_constructor(func.resource) else set()
        if imported:
            reserved |= {"handle", "take_handle", "from_handle"}
        return f"{name}_" if name in reserved else name

    def _plain_names(self, func: ir.Function) -> set[str]:
        """The Rust names of the functions (not accessors) beside `func`: in its interface or
        world, on the same resource or free-standing."""
        if not self._siblings:
            scopes = [list(i.functions.values()) for i in self.resolve.interfaces]
            for w in self.resolve.worlds:
                for entries in (w.imports, w.exports):
                    scopes.append(
                        [e.item.function for e in entries if isinstance(e.item, ir.WorldFunction)]
                    )
            for scope in scopes:
                groups: dict[int | None, set[str]] = {}
                for f in scope:
                    if not f.kind.endswith(("getter", "setter")):
                        groups.setdefault(f.resource, set()).add(snake(f.item_name))
                for f in scope:
                    self._siblings[id(f)] = groups.get(f.resource, set())
        return self._siblings.get(id(func), set())

    def _has_constructor(self, resource: int) -> bool:
        res = self._resource_id(resource)
        owner = self.resolve.types[res].owner
        if owner is None or owner.kind != "interface":
            return False
        functions = self.resolve.interfaces[owner.id].functions.values()
        return any(
            f.kind == "constructor"
            and f.resource is not None
            and self._resource_id(f.resource) == res
            for f in functions
        )

    def _resource_id(self, ty: int) -> int:
        d = self.resolve.dealias(ty)
        assert isinstance(d, int)
        return d

    def _export_resource_names(self, iface_id: int) -> dict[int, tuple[str, str]]:
        """The trait (`GuestFile`) and borrow type (`FileBorrow`) of each resource an exported
        interface defines, numbered when a type of the interface already has the name."""
        resolve = self.resolve
        taken = {
            type_name(resolve.types[t].name or "")
            for t in resolve.interfaces[iface_id].types.values()
        }
        out = {}
        for tid in self._resources_of(iface_id):
            name = resolve.types[tid].name
            assert name is not None
            trait = fresh(guest_trait_name(name), taken)
            taken.add(trait)
            borrow = fresh(borrow_name(name), taken)
            taken.add(borrow)
            out[tid] = (trait, borrow)
        return out

    def _resources_of(self, iface_id: int | None) -> list[int]:
        """Resources defined (not `use`d) by an interface."""
        if iface_id is None:
            return []
        types = self.resolve.interfaces[iface_id].types.values()
        return [t for t in types if isinstance(self.resolve.types[t].kind, ir.Resource)]

    def import_fn(
        self, namer: TypeNamer, func: ir.Function, sig: CoreSignature, ident: str, here: str
    ) -> ImportFn:
        em = Emitter(self.layouts, namer, here)
        params = list(func.params)
        decl: list[str] = []
        vals: list[Val] = []
        receiver = func.kind in _METHOD_KINDS
        for i, p in enumerate(params):
            if receiver and i == 0:
                vals.append(Val("self", is_ref=True))
                continue
            pname = snake(p.name)
            ptype = namer.import_param(p.type, here)
            decl.append(f"{pname}: {ptype}")
            vals.append(Val(pname, is_ref=ptype.startswith("&")))
        if receiver:
            decl.insert(0, "&self")
        result = "" if func.result is None else namer.owned(func.result, here)
        if func.kind == "constructor" and self._fallible_error(func, namer, here) is None:
            result = "Self"
        name = self._fn_name(func, imported=True)
        # an async import is an async fn: it waits for the subtask (see `Emitter._CallWasm`)
        qualifier = "pub async fn" if func.is_async else "pub fn"
        sig_text = f"{qualifier} {name}({', '.join(decl)})" + (f" -> {result}" if result else "")
        program = function_stream(self.layouts, func, "guest-import")
        lines = em.guest_import(program, sig, ident, vals)
        if em.needs_cleanup:
            lines.insert(0, f"let mut cleanup_ = {em.rt('Cleanup')}::new();")
        body = ["unsafe {", *lines, "}"]
        allow = []
        if func.kind == "constructor" and len(decl) == 0:
            allow.append("clippy::new_without_default")
        if len(decl) > 7:
            allow.append("clippy::too_many_arguments")
        return ImportFn(doc_lines(func.docs), sig_text, body, allow, em.helpers)

    # -- exports --

    def export_functions(
        self,
        m: ModuleModel,
        namer: TypeNamer,
        funcs: list[ir.Function],
        key: str | None,
        here: str,
        wmod: str,
        shims: list[Shim],
        iface_id: int | None,
    ) -> None:
        iface_name = None if iface_id is None else self.resolve.interfaces[iface_id].name
        trait = "Guest" if iface_name is None else camel(iface_name)
        names = {} if iface_id is None else self._export_resource_names(iface_id)
        taken = (
            {t.name for t in m.types}
            | {type_name(self.resolve.types[t].name or "") for t in self._resources_of(iface_id)}
            | {n for pair in names.values() for n in pair}
        )
        if trait in taken:
            trait = fresh(f"Guest{trait}", taken)
        m.trait = trait
        mod_path = f"$crate::{wmod}" + (f"::{here}" if here else "")
        resources: dict[int, ResourceModel] = {}
        ext = Extern(f"[export]{key if key is not None else '$root'}", [])
        shared = {
            self._resource_id(f.resource)
            for f in funcs
            if f.kind == "async-method" and f.resource is not None
        }
        for tid in self._resources_of(iface_id):
            td = self.resolve.types[tid]
            assert td.name is not None
            rname = type_name(td.name)
            r = ResourceModel(
                rname,
                names[tid][0],
                doc_lines(td.docs),
                True,
                f"_drop_{_ident(td.name)}",
                names[tid][1],
                f"_new_{_ident(td.name)}",
                f"_rep_{_ident(td.name)}",
                shared=tid in shared,
            )
            ext.funcs.append((f"[resource-drop]{td.name}", r.drop_import, "handle: i32", ""))
            ext.funcs.append((f"[resource-new]{td.name}", r.new_import, "rep: i32", " -> i32"))
            ext.funcs.append((f"[resource-rep]{td.name}", r.rep_import, "handle: i32", " -> i32"))
            resources[tid] = r
            m.trait_assoc.append((rname, r.trait))
            dtor = f"_dtor_{_ident(td.name)}"
            # the destructor and `new` of the handle type box the value (in an `Rc` when the
            # tasks of its async methods hold it too: the destructor gives up the handle's count)
            holder = "Rc" if r.shared else "Box"
            namer.note(here, holder)
            m.glue.append(
                ImportFn(
                    [],
                    f"pub unsafe fn {dtor}<T_: {r.trait}>(rep: i32)",
                    [f"drop({holder}::from_raw(rep as usize as *mut T_));"],
                )
            )
            shims.append(
                Shim(
                    f"{key}#[dtor]{td.name}",
                    f"{bare(here)}_dtor_{_ident(td.name)}",
                    "rep: i32",
                    "rep",
                    "",
                    f"{mod_path}::{dtor}::<<$ty as {mod_path}::{trait}>::{rname}>",
                )
            )
        m.resources.extend(resources.values())
        max_area = (0, 1)
        for func in funcs:
            self.payload_ops(m, namer, func, here, ext)
            export_name = func.name if key is None else f"{key}#{func.name}"
            owner = None if func.resource is None else resources[self._resource_id(func.resource)]
            if func.is_async:
                where = AsyncExportSite(export_name, here, mod_path, trait, owner)
                self.async_export(m, namer, func, where, shims, ext)
                continue
            sig = core_signature(self.layouts, func, "export")
            post_name = f"cabi_post_{export_name}"
            if export_name in _RESERVED_CORE_EXPORTS:
                # Rust on wasm32 gives the symbol `main` the C entry point's signature, so the
                # core export takes the component model's standard name (`cm32p2||main`), which
                # `component new` maps to the same component export `main`
                export_name, post_name = f"cm32p2||{func.name}", f"cm32p2||{func.name}_post"
            ident = _ident(func.name)
            bound = trait if owner is None else owner.trait
            trait_fn, glue, post = self.export_fn(namer, func, sig, ident, bound, here, owner)
            (m.trait_fns if owner is None else owner.trait_fns).append(trait_fn)
            m.glue.append(glue)
            generic = "<$ty>" if owner is None else f"<<$ty as {mod_path}::{trait}>::{owner.name}>"
            params, args = _core_params(sig)
            prefix = bare(here) or "root"  # a longer name: no raw `r#`
            shims.append(
                Shim(
                    export_name,
                    f"{prefix}_{ident}",
                    params,
                    args,
                    _core_result(sig),
                    f"{mod_path}::_export_{ident}::{generic}",
                )
            )
            if post is not None:
                m.glue.append(post)
                shims.append(
                    Shim(
                        post_name,
                        f"{prefix}_post_{ident}",
                        "arg0: i32",
                        "arg0",
                        "",
                        f"{mod_path}::_post_return_{ident}",
                    )
                )
            if sig.results_indirect and sig.result_area is not None:
                area = sig.result_area
                max_area = (max(max_area[0], area.size), max(max_area[1], area.align))
        if max_area[0]:
            m.ret_area = max_area
        if ext.funcs:
            m.externs.append(ext)

    # -- async exports, futures and streams --

    def payload_ops(
        self, m: ModuleModel, namer: TypeNamer, func: ir.Function, here: str, ext: Extern
    ) -> None:
        """The marker types of the function's futures and streams (named as wit-component
        numbers them, see `async_payloads`) with their core imports and element codecs."""
        for payload in payloads(self.resolve, func):
            element = payload.element
            if (
                payload.is_stream
                and element is not None
                and self.resolve.dealias(element) == "char"
            ):
                # component-model validation rejects it (wasm-tools 1.262 too: `component new`
                # would fail later, far from the WIT)
                raise Unsupported(
                    f"the Rust backend refuses `stream<char>` in `{func.name}`: the component "
                    "model rejects it for now (its elements would be UTF-32); use "
                    "`stream<string>` or `stream<u8>` with an encoding",
                    func.span,
                )
            fn_ident = _ident(func.name)
            what = "stream" if payload.is_stream else "future"
            name = f"{camel(fn_ident.replace('_', '-'))}{camel(what)}{payload.index}"
            imp = f"_{fn_ident}_{what}{payload.index}_"
            if any(o.name == name for o in m.payload_ops):
                # a world imports and exports a function of the same name: the exported one's
                # marker types and core imports (module `[export]$root`) take a prefix
                name, imp = f"Exported{name}", f"_exported{imp}"
            m.uses_async = True
            if element is None:  # `stream`/`future` without payload: `()`, nothing in memory
                item, size, wit_type = "()", 0, what
                store_body, store_helpers, keep = ["let _ = (value, at);"], set(), "_keep"
                load_body, load_helpers = ["let _ = at;"], set()
            else:
                item, size = namer.owned(element, here), self.layouts.size(element)
                wit_type = f"{what}<{self._wit_type(element)}>"
                ts = TypeStreams(self.layouts)
                store = Emitter(self.layouts, namer, here)
                store_body = store.store_element(ts.store_program(element, realloc=False))
                store_helpers, keep = store.helpers, "keep" if store.needs_cleanup else "_keep"
                load = Emitter(self.layouts, namer, here)
                load_body = ["let at = at.cast_mut();"]
                load_body += load.load_element(ts.load_program(element))
                load_helpers = load.helpers
            link = f"{what}-{{}}-{payload.index}]{func.name}"

            def extern(op: str, params: str, result: str) -> str:
                ident = imp + op.replace("-", "_")
                prefix = "[async-lower]" if op in ("read", "write") else ""
                ext.funcs.append((f"{prefix}[{link.format(op)}", ident, params, result))
                return ident

            new = extern("new", "", " -> i64")
            common = [
                {
                    "signature": "fn new_pair() -> (u32, u32)",
                    "body": [
                        f"let pair = unsafe {{ {new}() }} as u64;",
                        "(pair as u32, (pair >> 32) as u32)",
                    ],
                },
            ]
            drop_w = extern("drop-writable", "writable: u32", "")
            write_params = "writable: u32, ptr: *const u8" + (
                ", n: u32" if payload.is_stream else ""
            )
            write = extern("write", write_params, " -> u32")
            # synchronous cancels (a cancelled task's copies: done once they return)
            cancel_w = extern("cancel-write", "writable: u32", " -> u32")
            args = "writable, ptr" + (", n" if payload.is_stream else "")
            writer = {
                "trait": "StreamOps" if payload.is_stream else "FutureOps",
                "codec_signature": "unsafe fn store(value: &Self::Item, at: *mut u8, "
                f"{keep}: &mut crate::async_rt::Keep)",
                "codec": store_body or ["let _ = (value, at);"],
                "helpers": store_helpers,
                "fns": common
                + [
                    {
                        "signature": f"unsafe fn write({write_params}) -> u32",
                        "body": [f"{write}({args})"],
                    },
                    {
                        "signature": "fn cancel_write(writable: u32) -> u32",
                        "body": [f"unsafe {{ {cancel_w}(writable) }}"],
                    },
                    {
                        "signature": "fn drop_writable(writable: u32)",
                        "body": [f"unsafe {{ {drop_w}(writable) }}"],
                    },
                ],
            }
            read_params = "readable: u32, ptr: *mut u8" + (", n: u32" if payload.is_stream else "")
            read = extern("read", read_params, " -> u32")
            cancel_r = extern("cancel-read", "readable: u32", " -> u32")
            drop_r = extern("drop-readable", "readable: u32", "")
            reader = {
                "trait": "StreamReadOps" if payload.is_stream else "FutureReadOps",
                "codec_signature": "unsafe fn load(at: *const u8) -> Self::Item",
                "codec": load_body,
                "helpers": load_helpers,
                "fns": [
                    {
                        "signature": f"unsafe fn read({read_params}) -> u32",
                        "body": [f"{read}({args.replace('writable', 'readable')})"],
                    },
                    {
                        "signature": "fn cancel_read(readable: u32) -> u32",
                        "body": [f"unsafe {{ {cancel_r}(readable) }}"],
                    },
                    {
                        "signature": "fn drop_readable(readable: u32)",
                        "body": [f"unsafe {{ {drop_r}(readable) }}"],
                    },
                ],
            }
            impls = [writer, reader]
            docs = [
                f"/// The `{wit_type}` of `{func.name}` (its core imports and element codec).",
            ]
            m.payload_ops.append(PayloadOpsModel(name, docs, item, size, impls))

    def _wit_type(self, ty: ir.Type) -> str:
        if isinstance(ty, str):
            return ty
        td = self.resolve.types[ty]
        return td.name or type(td.kind).__name__.lower()

    def async_export(
        self,
        m: ModuleModel,
        namer: TypeNamer,
        func: ir.Function,
        where: AsyncExportSite,
        shims: list[Shim],
        ext: Extern,
    ) -> None:
        """An async export lifted with the callback ABI: the trait function is an async
        function that reports its result with the generated `task_return_<name>` (it may go on
        working afterwards, e.g. writing the streams it returned); the core export starts it
        on `async_rt`'s executor and the callback export polls it on each event. A method or
        static function of an exported resource is a function of the resource's trait. A
        method's future may use `&self` for as long as it runs: the caller's borrow ends when
        the method reports its result and the caller may then drop the resource, so the value
        of such a resource is in an `Rc` whose count the method's task holds (`async_rt::hold`;
        the destructor only gives up the handle's count)."""
        m.uses_async = True
        ident = _ident(func.name)
        name = self._fn_name(func, imported=False)
        owner, here = where.owner, where.here
        receiver = func.kind == "async-method"
        decl = ["&self"] if receiver else []
        with namer.recording() as named:
            decl += [
                f"{snake(p.name)}: {namer.owned(p.type, here)}"
                for i, p in enumerate(func.params)
                if not (receiver and i == 0)
            ]
        wit_stem = func.name
        if func.resource is not None:  # methods of different resources may share a name
            resource_name = self.resolve.types[self._resource_id(func.resource)].name
            wit_stem = f"{resource_name}-{func.item_name}"
        returner = snake(f"task-return-{wit_stem}")
        docs = (
            doc_lines(func.docs)
            + (["///"] if func.docs.contents else [])
            + [
                (
                    f"/// Async: report the result with `{returner}` once (the task may go on after)."
                    if not receiver
                    else f"/// Async: report the result with `{returner}` once (the task may go on "
                    "after, with `self`: its task keeps the value alive)."
                ),
            ]
        )
        bound = "'_" if receiver else "'static"
        trait_sig = (
            f"fn {name}({', '.join(decl)}) -> impl core::future::Future<Output = ()> + {bound}"
        )
        allow = ["clippy::too_many_arguments"] if len(decl) > 7 else []
        fn_model = ImportFn(docs, trait_sig, [], allow, alloc_types=named)
        (m.trait_fns if owner is None else owner.trait_fns).append(fn_model)
        # The parameters are lifted as a synchronous export's without a result.
        plain = dataclasses.replace(func, kind=func.kind.removeprefix("async-"), result=None)
        sig = core_signature(self.layouts, plain, "export")
        em = Emitter(self.layouts, namer, here)
        program = function_stream(self.layouts, plain, "guest-export")

        def call(args: list[str]) -> str:
            future = f"T_::{name}({', '.join(args)})"
            if receiver:  # the task owns the `Rc` of the value (args[0]) and lends it
                future = f"async move {{ T_::{name}(&{', '.join(args)}).await }}"
            return f"let code_ = crate::async_rt::start({future}, _task_cancel)"

        body = em.guest_export(program, sig, call, receiver, shared=receiver) + ["code_ as i32"]
        params, args = _core_params(sig)
        bound_trait = where.trait if owner is None else owner.trait
        m.glue.append(
            ImportFn(
                [],
                f"pub unsafe fn _export_{ident}<T_: {bound_trait}>({params}) -> i32",
                body,
                ["clippy::too_many_arguments"] if len(sig.params) > 7 else [],
                em.helpers,
            )
        )
        m.glue.append(
            ImportFn(
                [],
                f"pub unsafe fn _callback_{ident}(event: i32, handle: i32, payload: i32) -> i32",
                ["crate::async_rt::callback(event as u32, handle as u32, payload as u32) as i32"],
            )
        )
        mod_path = where.mod_path
        generic = (
            "<$ty>" if owner is None else f"<<$ty as {mod_path}::{where.trait}>::{owner.name}>"
        )
        prefix = bare(here) or "root"  # a longer name: no raw `r#`
        shims.append(
            Shim(
                f"[async-lift]{where.export_name}",
                f"{prefix}_{ident}",
                params,
                args,
                " -> i32",
                f"{mod_path}::_export_{ident}::{generic}",
            )
        )
        shims.append(
            Shim(
                f"[callback][async-lift]{where.export_name}",
                f"{prefix}_{ident}_callback",
                "event: i32, handle: i32, payload: i32",
                "event, handle, payload",
                " -> i32",
                f"{mod_path}::_callback_{ident}",
            )
        )
        # `task.return`: called like an import taking the result as its parameter
        params_of_return = () if func.result is None else (ir.Param("value", func.result),)
        returning = ir.Function(
            name=f"task-return-{wit_stem}",
            kind="freestanding",
            resource=None,
            params=params_of_return,
            result=None,
            span=func.span,
        )
        rsig = core_signature(self.layouts, returning, "import")
        rident = f"_task_return_{ident}"
        rparams, _ = _core_params(rsig)
        ext.funcs.append((f"[task-return]{func.name}", rident, rparams, ""))
        if not any(f[1] == "_task_cancel" for f in ext.funcs):  # one per exported interface
            ext.funcs.append(("[task-cancel]", "_task_cancel", "", ""))
        fn = self.import_fn(namer, returning, rsig, rident, here)
        fn.docs = [f"/// Reports the result of the async export `{func.name}` (once per call)."]
        m.functions.append(fn)

    def export_fn(
        self,
        namer: TypeNamer,
        func: ir.Function,
        sig: CoreSignature,
        ident: str,
        bound: str,
        here: str,
        owner: ResourceModel | None,
    ) -> tuple[ImportFn, ImportFn, ImportFn | None]:
        receiver = func.kind in _METHOD_KINDS
        decl = ["&self"] if receiver else []
        with namer.recording() as named:  # what the trait signature names (see stateful)
            for i, p in enumerate(func.params):
                if receiver and i == 0:
                    continue
                decl.append(f"{snake(p.name)}: {namer.owned(p.type, here)}")
            fallible = self._fallible_error(func, namer, here)
            if func.kind == "constructor":
                result = "Self" if fallible is None else f"Result<Self, {fallible}>"
            else:
                result = "" if func.result is None else namer.owned(func.result, here)
        name = self._fn_name(func, imported=False)
        trait_sig = f"fn {name}({', '.join(decl)})" + (f" -> {result}" if result else "")
        allow = ["clippy::too_many_arguments"] if len(decl) > 7 else []
        trait_fn = ImportFn(doc_lines(func.docs), trait_sig, [], allow, alloc_types=named)

        def call(args: list[str]) -> str:
            text = f"T_::{name}({', '.join(args)})"
            if func.kind != "constructor":
                return text
            assert owner is not None
            if fallible is None:
                return f"{owner.name}::new({text})"
            return f"{text}.map({owner.name}::new)"

        em = Emitter(self.layouts, namer, here)
        program = function_stream(self.layouts, func, "guest-export")
        body = em.guest_export(program, sig, call, receiver)
        if em.needs_borrows:
            vec, boxed = em.alloc_type("Vec"), em.alloc_type("Box")
            body.insert(0, f"let mut borrows_: {vec}<{boxed}<dyn core::any::Any>> = {vec}::new();")
        ret_type = _core_result(sig)
        generic = f"T_: {bound}"
        glue = ImportFn(
            [],
            f"pub unsafe fn _export_{ident}<{generic}>({_core_params(sig)[0]}){ret_type}",
            body,
            ["clippy::too_many_arguments"] if len(sig.params) > 7 else [],
            em.helpers,
        )
        post = None
        post_program = post_return_stream(self.layouts, func)
        if post_program is not None:
            pm = Emitter(self.layouts, namer, here)
            lines = pm.post_return(post_program)
            post = ImportFn(
                [], f"pub unsafe fn _post_return_{ident}(arg0: i32)", lines, [], pm.helpers
            )
        return trait_fn, glue, post


# ---------------------------------------------------------------------------- rendering


def crate_version(resolve: ir.Resolve) -> str:
    """The main package's version (0.1.0 when it declares none)."""
    main = resolve.main_package
    version = resolve.packages[main].version if main is not None else None
    return version or "0.1.0"


def crate_name(resolve: ir.Resolve, options: GenerateOptions) -> str:
    if options.package_name:
        return options.package_name
    main = resolve.main_package
    if main is None:
        return "wit-sdk"
    pkg = resolve.packages[main]
    return f"{pkg.namespace}-{pkg.short_name}-sdk"


def _import_tree(resolve: ir.Resolve, gen: RustGen, shared: list[SharedModule]) -> list[Any]:
    """The `imports` module tree for `imports.rs`: namespaces, their packages, their interfaces."""
    tree: dict[str, dict[str, Any]] = {}
    for sm in shared:
        _, ns, pkg_mod, iface = sm.path
        pkg = resolve.packages[gen.package_of(sm.iface_id)]
        wit_pkg = f"{pkg.namespace}:{pkg.short_name}" + (f"@{pkg.version}" if pkg.version else "")
        n = tree.setdefault(ns, {"name": ns, "wit": pkg.namespace, "packages": {}})
        pk = n["packages"].setdefault(
            pkg_mod,
            {"name": pkg_mod, "wit": wit_pkg, "inception": pkg_mod == ns, "interfaces": []},
        )
        pk["interfaces"].append({"name": iface, "inception": iface == pkg_mod})
    for n in tree.values():
        for pk in n["packages"].values():  # rustfmt orders `mod x;` declarations by name
            pk["interfaces"].sort(key=lambda i: _mod_key(i["name"]))
    return [{**n, "packages": list(n["packages"].values())} for n in tree.values()]


def _mod_key(name: str) -> str:
    """How rustfmt orders `mod` declarations: by the name, a raw identifier without its `r#`."""
    return name.removeprefix("r#")


def _rt_text(
    env: jinja2.Environment,
    models: list[WorldModel],
    shared: list[SharedModule],
    header: dict[str, str],
) -> str:
    """`rt.rs` with exactly the helpers the generated modules recorded calling."""
    modules = [sm.model for sm in shared]
    for w in models:
        modules += [w.root, *(m for m in w.modules if not m.reexport)]
    helpers = rt_closure(set().union(*(m.helpers for m in modules)))
    names = set().union(*(RT_HELPERS[h][1] for h in helpers))
    uses = sorted(f"use {ALLOC_PATHS[n]};" for n in names)
    return env.get_template("rt.rs.j2").render(helpers=helpers, uses=uses, **header)


def generate(resolve: ir.Resolve, worlds: list[int], options: GenerateOptions) -> dict[str, str]:
    require_worlds(resolve, worlds, "Rust")
    gen = RustGen(resolve, options)
    gen.plan_worlds(worlds)
    gen.plan_shared(worlds)
    models = [gen.world(w) for w in worlds]
    shared = gen.shared_modules()
    env = jinja_env("rust")
    header = {"header": header_text(options.source)}
    name = crate_name(resolve, options)
    main = resolve.main_package
    pkg_docs = doc_lines(resolve.packages[main].docs, "//!") if main is not None else []
    uses_async = any(m.uses_async for w in models for m in [w.root, *w.modules]) or any(
        sm.model.uses_async for sm in shared
    )
    files = {
        # The crate carries the WIT package's version (as package.json does), never a stand-in.
        "Cargo.toml": env.get_template("Cargo.toml.j2").render(
            name=name, crate_version=crate_version(resolve), **header
        ),
        "src/lib.rs": env.get_template("lib.rs.j2").render(
            worlds=sorted(models, key=lambda m: _mod_key(m.name)),
            docs=pkg_docs,
            crate=name.replace("-", "_"),
            imports=shared[0].path[0] if shared else "",
            async_rt=uses_async,
            **header,
        ),
        "src/rt.rs": _rt_text(env, models, shared, header),
    }
    if shared:
        example = next((f"{w.name}::{m.name}" for w in models for m in w.modules if m.reexport), "")
        files[f"src/{shared[0].path[0]}.rs"] = env.get_template("imports.rs.j2").render(
            namespaces=_import_tree(resolve, gen, shared), example=example, **header
        )
    for sm in shared:
        files[sm.file] = env.get_template("interface.rs.j2").render(
            m=sm.model, wit=resolve.interface_id(sm.iface_id), **header
        )
    for model in models:
        files[f"src/{model.name.removeprefix('r#')}.rs"] = env.get_template("world.rs.j2").render(
            world=model, **header
        )
    out = {
        path: format_source(text) if path.endswith(".rs") else text for path, text in files.items()
    }
    if uses_async:  # real source, kept in rustfmt's layout (tests/async checks it)
        out["src/async_rt.rs"] = ASYNC_RUNTIME.read_text(encoding="utf-8")
    rust_stateful.add_to(out, resolve, worlds, models, shared)  # already in rustfmt's layout
    return out
