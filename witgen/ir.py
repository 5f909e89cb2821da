"""The resolved WIT model: the one contract between the front end and every back end.

The shape mirrors wit-parser's `Resolve` (arenas of packages, interfaces, worlds and types
addressed by index) so that `to_json` prints exactly what `wasm-tools component wit --json`
prints for the same input, and `from_json` can load that output (handy as a differential
oracle and for testing back ends in isolation).

A type reference (`Type`) is either a primitive's WIT name (`"u32"`, `"string"`,
`"error-context"`...) or an `int`, the index of a `TypeDef` in `Resolve.types`.

Every node may carry a `span` (file, line, column) from the source; spans never take part in
equality or JSON, they exist so that tools on top (check, compat) can point at the source.
The dataclasses are frozen: the resolver builds each node once, nobody mutates it after.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterator, Union

from witgen.diagnostics import Span, did_you_mean

PRIMITIVES = (
    "bool",
    "u8",
    "u16",
    "u32",
    "u64",
    "s8",
    "s16",
    "s32",
    "s64",
    "f32",
    "f64",
    "char",
    "string",
    "error-context",
)

Type = Union[str, int]
"""A primitive's name, or the index of a TypeDef in `Resolve.types`."""


def _span_field() -> Any:
    return field(default=None, compare=False, repr=False)


# ---------------------------------------------------------------------------- docs & stability


@dataclass(frozen=True)
class Docs:
    contents: str | None = None

    def __bool__(self) -> bool:
        return self.contents is not None


@dataclass(frozen=True)
class Stability:
    """`@since(version = ...)` (kind "stable"), `@unstable(feature = ...)` (kind "unstable"),
    or neither (kind "unknown"); either may carry `@deprecated(version = ...)`."""

    kind: str = "unknown"
    since: str | None = None
    feature: str | None = None
    deprecated: str | None = None

    @property
    def is_unknown(self) -> bool:
        return self.kind == "unknown"


UNKNOWN_STABILITY = Stability()
NO_DOCS = Docs()

# ---------------------------------------------------------------------------- type definitions


@dataclass(frozen=True)
class Field:
    name: str
    type: Type
    docs: Docs = NO_DOCS
    span: Span | None = _span_field()


@dataclass(frozen=True)
class Record:
    fields: tuple[Field, ...]


@dataclass(frozen=True)
class Resource:
    pass


@dataclass(frozen=True)
class Handle:
    kind: str  # "own" | "borrow"
    resource: int


@dataclass(frozen=True)
class Flag:
    name: str
    docs: Docs = NO_DOCS
    span: Span | None = _span_field()


@dataclass(frozen=True)
class Flags:
    flags: tuple[Flag, ...]


@dataclass(frozen=True)
class Tuple:
    types: tuple[Type, ...]


@dataclass(frozen=True)
class Case:
    name: str
    type: Type | None
    docs: Docs = NO_DOCS
    span: Span | None = _span_field()


@dataclass(frozen=True)
class Variant:
    cases: tuple[Case, ...]


@dataclass(frozen=True)
class EnumCase:
    name: str
    docs: Docs = NO_DOCS
    span: Span | None = _span_field()


@dataclass(frozen=True)
class Enum:
    cases: tuple[EnumCase, ...]


@dataclass(frozen=True)
class Option:
    type: Type


@dataclass(frozen=True)
class Result:
    ok: Type | None
    err: Type | None


@dataclass(frozen=True)
class List:
    type: Type


@dataclass(frozen=True)
class FixedLengthList:
    type: Type
    length: int


@dataclass(frozen=True)
class Map:
    key: Type
    value: Type


@dataclass(frozen=True)
class Future:
    type: Type | None


@dataclass(frozen=True)
class Stream:
    type: Type | None


@dataclass(frozen=True)
class Alias:
    """`type a = b;` and also a type brought in by `use` (an alias of the original)."""

    type: Type


TypeDefKind = Union[
    Record,
    Resource,
    Handle,
    Flags,
    Tuple,
    Variant,
    Enum,
    Option,
    Result,
    List,
    FixedLengthList,
    Map,
    Future,
    Stream,
    Alias,
]


@dataclass(frozen=True)
class TypeOwner:
    kind: str  # "interface" | "world"
    id: int


@dataclass(frozen=True)
class TypeDef:
    name: str | None
    kind: TypeDefKind
    owner: TypeOwner | None
    docs: Docs = NO_DOCS
    stability: Stability = UNKNOWN_STABILITY
    span: Span | None = _span_field()
    external_id: str | None = None  # `@external-id("...")` on its definition or `use`


# ---------------------------------------------------------------------------- functions


@dataclass(frozen=True)
class Param:
    name: str
    type: Type
    span: Span | None = _span_field()


FUNCTION_KINDS = (
    "freestanding",
    "method",
    "static",
    "constructor",
    "async-freestanding",
    "async-method",
    "async-static",
    # accessors (`x: get() -> T`, `x: set(v: T)`), on their own or on a resource
    "getter",
    "setter",
    "method-getter",
    "method-setter",
    "static-getter",
    "static-setter",
)


@dataclass(frozen=True)
class Function:
    name: str  # as wit-parser names it: "f", "[method]r.m", "[static]r.s", "[constructor]r"
    kind: str  # one of FUNCTION_KINDS
    resource: int | None  # the resource type for method/static/constructor kinds
    params: tuple[Param, ...]
    result: Type | None
    docs: Docs = NO_DOCS
    stability: Stability = UNKNOWN_STABILITY
    span: Span | None = _span_field()
    external_id: str | None = None  # `@external-id("...")` on its declaration

    @property
    def is_async(self) -> bool:
        return self.kind.startswith("async-")

    @property
    def item_name(self) -> str:
        """The name as written in WIT: `m` for `[method]r.m`, `constructor` for constructors."""
        if self.kind.endswith("constructor"):
            return "constructor"
        if self.resource is not None:
            return self.name[self.name.index(".") + 1 :]
        return self.name


# ---------------------------------------------------------------------------- interfaces, worlds


@dataclass(frozen=True)
class Interface:
    name: str | None  # None for an inline interface in a world
    types: dict[str, int]
    functions: dict[str, Function]
    package: int | None
    docs: Docs = NO_DOCS
    stability: Stability = UNKNOWN_STABILITY
    span: Span | None = _span_field()
    clone_of: int | None = None  # an inline interface copied by a world `include`


@dataclass(frozen=True)
class WorldInterface:
    id: int
    stability: Stability = UNKNOWN_STABILITY
    docs: Docs = NO_DOCS  # doc comments on the `import`/`export` of an interface by path
    external_id: str | None = None  # `@external-id("...")` on the import/export


@dataclass(frozen=True)
class WorldFunction:
    function: Function


@dataclass(frozen=True)
class WorldType:
    id: int


WorldItem = Union[WorldInterface, WorldFunction, WorldType]


@dataclass(frozen=True)
class WorldKey:
    """A world import/export key: a plain kebab name, or an interface imported by path."""

    name: str | None = None
    interface: int | None = None

    def __str__(self) -> str:
        return self.name if self.name is not None else f"interface-{self.interface}"


@dataclass(frozen=True)
class WorldEntry:
    key: WorldKey
    item: WorldItem
    span: Span | None = _span_field()


@dataclass(frozen=True)
class World:
    name: str
    imports: tuple[WorldEntry, ...]
    exports: tuple[WorldEntry, ...]
    package: int | None
    docs: Docs = NO_DOCS
    stability: Stability = UNKNOWN_STABILITY
    span: Span | None = _span_field()


@dataclass(frozen=True)
class Package:
    name: str  # "ns:pkg@1.0.0"
    interfaces: dict[str, int]
    worlds: dict[str, int]
    docs: Docs = NO_DOCS
    span: Span | None = _span_field()

    @property
    def namespace(self) -> str:
        return self.name.split(":", 1)[0]

    @property
    def short_name(self) -> str:
        return self.name.split(":", 1)[1].split("@", 1)[0]

    @property
    def version(self) -> str | None:
        return self.name.split("@", 1)[1] if "@" in self.name else None


# ---------------------------------------------------------------------------- the arena


@dataclass(frozen=True)
class Resolve:
    packages: tuple[Package, ...]
    interfaces: tuple[Interface, ...]
    worlds: tuple[World, ...]
    types: tuple[TypeDef, ...]
    main_package: int | None = None  # the package the user pointed at (not a dependency)

    # -- navigation helpers shared by every tool; none of them is language-specific --

    def interface_id(self, iface: int) -> str | None:
        """`ns:pkg/name@version` for a named interface, None for an inline one."""
        it = self.interfaces[iface]
        if it.name is None or it.package is None:
            return None
        pkg = self.packages[it.package]
        base = f"{pkg.namespace}:{pkg.short_name}/{it.name}"
        return f"{base}@{pkg.version}" if pkg.version else base

    def world_key_name(self, key: WorldKey) -> str:
        """The name an import/export has in a component: a kebab name or an interface id."""
        if key.name is not None:
            return key.name
        assert key.interface is not None
        name = self.interface_id(key.interface)
        assert name is not None
        return name

    def dealias(self, ty: Type) -> Type:
        """Follow `type a = b` aliases (and `use`) to the underlying type."""
        while isinstance(ty, int):
            kind = self.types[ty].kind
            if not isinstance(kind, Alias):
                break
            ty = kind.type
        return ty

    def find_world(self, spec: str | None) -> int:
        """Find a world by `name`, `ns:pkg/name` or `ns:pkg/name@version`.

        With no spec, the main package must have exactly one world. Raises LookupError with a
        message for users otherwise.
        """
        if spec is None:
            pkg_ids = [self.main_package] if self.main_package is not None else []
            candidates = [w for p in pkg_ids for w in self.packages[p].worlds.values()]
            if len(candidates) == 1:
                return candidates[0]
            if not candidates:
                raise LookupError("the package has no world; name one with --world")
            names = ", ".join(self.worlds[w].name for w in candidates)
            raise LookupError(f"the package has several worlds ({names}); pick one with --world")
        if "/" in spec:
            pkg_part, _, world_part = spec.partition("/")
            version = None
            if "@" in world_part:
                world_part, _, version = world_part.partition("@")
            for pkg in self.packages:
                same_pkg = f"{pkg.namespace}:{pkg.short_name}" == pkg_part
                if same_pkg and (version is None or pkg.version == version):
                    if world_part in pkg.worlds:
                        return pkg.worlds[world_part]
            known = {
                f"{p.namespace}:{p.short_name}/{w}" + (f"@{p.version}" if p.version else ""): w
                for p in self.packages
                for w in p.worlds
                if f"{p.namespace}:{p.short_name}" == pkg_part
            }
            every = [
                f"{p.namespace}:{p.short_name}/{w}" + (f"@{p.version}" if p.version else "")
                for p in self.packages
                for w in p.worlds
            ]
            close = did_you_mean(world_part, known.values())
            meant = next((full for full, w in known.items() if w == close), None)
            raise LookupError(_no_world(f"no world named `{spec}`", meant, every))
        if self.main_package is not None and spec in self.packages[self.main_package].worlds:
            return self.packages[self.main_package].worlds[spec]
        main = (
            list(self.packages[self.main_package].worlds) if self.main_package is not None else []
        )
        meant = did_you_mean(spec, main)
        raise LookupError(_no_world(f"no world named `{spec}` in the main package", meant, main))

    def world_interfaces(self, world: int) -> Iterator[tuple[str, WorldEntry, str]]:
        """Yield (direction, entry, component name) for each item of a world."""
        w = self.worlds[world]
        for direction, entries in (("import", w.imports), ("export", w.exports)):
            for entry in entries:
                yield direction, entry, self.world_key_name(entry.key)


def type_children(kind: TypeDefKind, *, handles: bool) -> list[Type | None]:
    """The types a type definition is built from. With `handles`, a handle's resource counts as
    one (what it refers to); without, a handle is a leaf (it does not contain its resource)."""
    if isinstance(kind, Record):
        return [f.type for f in kind.fields]
    if isinstance(kind, Variant):
        return [c.type for c in kind.cases]
    if isinstance(kind, Tuple):
        return list(kind.types)
    if isinstance(kind, Result):
        return [kind.ok, kind.err]
    if isinstance(kind, Map):
        return [kind.key, kind.value]
    if isinstance(kind, Handle):
        return [kind.resource] if handles else []
    if isinstance(kind, (Option, List, FixedLengthList, Alias, Future, Stream)):
        return [kind.type]
    return []  # resources, flags, enums


# ---------------------------------------------------------------------------- JSON


def _type_json(ty: Type | None) -> Any:
    return ty


def _docs_json(out: dict[str, Any], docs: Docs) -> None:
    if docs.contents is not None:
        out["docs"] = {"contents": docs.contents}


def _stability_json(out: dict[str, Any], st: Stability) -> None:
    if st.kind == "unknown":
        return
    body: dict[str, Any]
    if st.kind == "stable":
        body = {"since": st.since}
    else:
        body = {"feature": st.feature}
    if st.deprecated is not None:
        body["deprecated"] = st.deprecated
    out["stability"] = {st.kind: body}


def _kind_json(kind: TypeDefKind) -> Any:
    if isinstance(kind, Record):
        fields = []
        for f in kind.fields:
            fj: dict[str, Any] = {"name": f.name, "type": f.type}
            _docs_json(fj, f.docs)
            fields.append(fj)
        return {"record": {"fields": fields}}
    if isinstance(kind, Resource):
        return "resource"
    if isinstance(kind, Handle):
        return {"handle": {kind.kind: kind.resource}}
    if isinstance(kind, Flags):
        flags = []
        for fl in kind.flags:
            flj: dict[str, Any] = {"name": fl.name}
            _docs_json(flj, fl.docs)
            flags.append(flj)
        return {"flags": {"flags": flags}}
    if isinstance(kind, Tuple):
        return {"tuple": {"types": list(kind.types)}}
    if isinstance(kind, Variant):
        cases = []
        for c in kind.cases:
            cj: dict[str, Any] = {"name": c.name, "type": c.type}
            _docs_json(cj, c.docs)
            cases.append(cj)
        return {"variant": {"cases": cases}}
    if isinstance(kind, Enum):
        ecases = []
        for ec in kind.cases:
            ecj: dict[str, Any] = {"name": ec.name}
            _docs_json(ecj, ec.docs)
            ecases.append(ecj)
        return {"enum": {"cases": ecases}}
    if isinstance(kind, Option):
        return {"option": kind.type}
    if isinstance(kind, Result):
        return {"result": {"ok": kind.ok, "err": kind.err}}
    if isinstance(kind, List):
        return {"list": kind.type}
    if isinstance(kind, FixedLengthList):
        return {"fixed-length-list": [kind.type, kind.length]}
    if isinstance(kind, Map):
        return {"map": [kind.key, kind.value]}
    if isinstance(kind, Future):
        return {"future": kind.type}
    if isinstance(kind, Stream):
        return {"stream": kind.type}
    if isinstance(kind, Alias):
        return {"type": kind.type}
    raise TypeError(f"unknown type kind {kind!r}")


def _function_json(fn: Function) -> dict[str, Any]:
    kind: Any = fn.kind if fn.resource is None else {fn.kind: fn.resource}
    out: dict[str, Any] = {
        "name": fn.name,
        "kind": kind,
        "params": [{"name": p.name, "type": p.type} for p in fn.params],
    }
    if fn.result is not None:
        out["result"] = fn.result
    _docs_json(out, fn.docs)
    _stability_json(out, fn.stability)
    if fn.external_id is not None:
        out["external_id"] = fn.external_id
    return out


def _world_item_json(item: WorldItem) -> Any:
    if isinstance(item, WorldInterface):
        body: dict[str, Any] = {"id": item.id}
        _stability_json(body, item.stability)
        _docs_json(body, item.docs)
        if item.external_id is not None:
            body["external_id"] = item.external_id
        return {"interface": body}
    if isinstance(item, WorldFunction):
        return {"function": _function_json(item.function)}
    return {"type": item.id}


def to_json(resolve: Resolve) -> dict[str, Any]:
    """The same document `wasm-tools component wit --json` prints."""
    worlds = []
    for w in resolve.worlds:
        wj: dict[str, Any] = {
            "name": w.name,
            "imports": {str(e.key): _world_item_json(e.item) for e in w.imports},
            "exports": {str(e.key): _world_item_json(e.item) for e in w.exports},
            "package": w.package,
        }
        _docs_json(wj, w.docs)
        _stability_json(wj, w.stability)
        worlds.append(wj)
    interfaces = []
    for it in resolve.interfaces:
        ij: dict[str, Any] = {
            "name": it.name,
            "types": dict(it.types),
            "functions": {k: _function_json(f) for k, f in it.functions.items()},
        }
        _docs_json(ij, it.docs)
        _stability_json(ij, it.stability)
        ij["package"] = it.package
        if it.clone_of is not None:
            ij["clone_of"] = it.clone_of
        interfaces.append(ij)
    types = []
    for t in resolve.types:
        tj: dict[str, Any] = {
            "name": t.name,
            "kind": _kind_json(t.kind),
            "owner": None if t.owner is None else {t.owner.kind: t.owner.id},
        }
        _docs_json(tj, t.docs)
        _stability_json(tj, t.stability)
        if t.external_id is not None:
            tj["external_id"] = t.external_id
        types.append(tj)
    packages = []
    for p in resolve.packages:
        pj: dict[str, Any] = {"name": p.name}
        _docs_json(pj, p.docs)
        pj["interfaces"] = dict(p.interfaces)
        pj["worlds"] = dict(p.worlds)
        packages.append(pj)
    return {"worlds": worlds, "interfaces": interfaces, "types": types, "packages": packages}


def _docs_from(obj: dict[str, Any]) -> Docs:
    d = obj.get("docs")
    return Docs(d.get("contents")) if d else NO_DOCS


def _stability_from(obj: dict[str, Any]) -> Stability:
    st = obj.get("stability")
    if not st:
        return UNKNOWN_STABILITY
    ((kind, body),) = st.items()
    return Stability(
        kind=kind,
        since=body.get("since"),
        feature=body.get("feature"),
        deprecated=body.get("deprecated"),
    )


def _kind_from(k: Any) -> TypeDefKind:
    if k == "resource":
        return Resource()
    ((tag, body),) = k.items()
    if tag == "record":
        return Record(tuple(Field(f["name"], f["type"], _docs_from(f)) for f in body["fields"]))
    if tag == "handle":
        ((hk, rid),) = body.items()
        return Handle(hk, rid)
    if tag == "flags":
        return Flags(tuple(Flag(f["name"], _docs_from(f)) for f in body["flags"]))
    if tag == "tuple":
        return Tuple(tuple(body["types"]))
    if tag == "variant":
        return Variant(tuple(Case(c["name"], c["type"], _docs_from(c)) for c in body["cases"]))
    if tag == "enum":
        return Enum(tuple(EnumCase(c["name"], _docs_from(c)) for c in body["cases"]))
    if tag == "option":
        return Option(body)
    if tag == "result":
        return Result(body["ok"], body["err"])
    if tag == "list":
        return List(body)
    if tag == "fixed-length-list":
        return FixedLengthList(body[0], body[1])
    if tag == "map":
        return Map(body[0], body[1])
    if tag == "future":
        return Future(body)
    if tag == "stream":
        return Stream(body)
    if tag == "type":
        return Alias(body)
    raise ValueError(f"unknown type kind {tag!r}")


def _function_from(f: dict[str, Any]) -> Function:
    kind = f["kind"]
    resource = None
    if isinstance(kind, dict):
        ((kind, resource),) = kind.items()
    return Function(
        name=f["name"],
        kind=kind,
        resource=resource,
        params=tuple(Param(p["name"], p["type"]) for p in f["params"]),
        result=f.get("result"),
        docs=_docs_from(f),
        stability=_stability_from(f),
    )


def _world_key_from(key: str, item: dict[str, Any]) -> WorldKey:
    if key.startswith("interface-") and "interface" in item:
        rest = key[len("interface-") :]
        if rest.isdigit() and int(rest) == item["interface"]["id"]:
            return WorldKey(interface=int(rest))
    return WorldKey(name=key)


def _world_item_from(item: dict[str, Any]) -> WorldItem:
    ((tag, body),) = item.items()
    if tag == "interface":
        return WorldInterface(body["id"], _stability_from(body), _docs_from(body))
    if tag == "function":
        return WorldFunction(_function_from(body))
    return WorldType(body)


def from_json(doc: dict[str, Any], main_package: int | None = None) -> Resolve:
    """Load the JSON printed by `wasm-tools component wit --json` (or by `to_json`).

    wasm-tools prints the main package last, so that is the default `main_package`.
    """
    worlds = tuple(
        World(
            name=w["name"],
            imports=tuple(
                WorldEntry(_world_key_from(k, v), _world_item_from(v))
                for k, v in w["imports"].items()
            ),
            exports=tuple(
                WorldEntry(_world_key_from(k, v), _world_item_from(v))
                for k, v in w["exports"].items()
            ),
            package=w["package"],
            docs=_docs_from(w),
            stability=_stability_from(w),
        )
        for w in doc["worlds"]
    )
    interfaces = tuple(
        Interface(
            name=i["name"],
            types=dict(i["types"]),
            functions={k: _function_from(f) for k, f in i["functions"].items()},
            package=i["package"],
            clone_of=i.get("clone_of"),
            docs=_docs_from(i),
            stability=_stability_from(i),
        )
        for i in doc["interfaces"]
    )
    types = tuple(
        TypeDef(
            name=t["name"],
            kind=_kind_from(t["kind"]),
            owner=None if t["owner"] is None else TypeOwner(*next(iter(t["owner"].items()))),
            docs=_docs_from(t),
            stability=_stability_from(t),
        )
        for t in doc["types"]
    )
    packages = tuple(
        Package(
            name=p["name"],
            interfaces=dict(p["interfaces"]),
            worlds=dict(p["worlds"]),
            docs=_docs_from(p),
        )
        for p in doc["packages"]
    )
    if main_package is None and packages:
        main_package = len(packages) - 1
    return Resolve(packages, interfaces, worlds, types, main_package)


def _no_world(message: str, meant: str | None, known: list[str]) -> str:
    """`message`, the world probably meant, and the worlds there are (one line)."""
    if not known:
        return f"{message}; the input defines no world"
    hint = f" (did you mean `{meant}`?)" if meant is not None else ""
    return f"{message}{hint}; worlds: {', '.join(known)}"
