"""The WIT syntax tree: what one file says, with a span on every name, before resolution.

Shapes follow wit-parser's `ast.rs` so that the resolver can follow its rules (and its
allocation order) step by step. Docs are kept as the raw comment texts that preceded an
item; `docs_text` turns them into the exact string wit-parser stores.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Union

from witgen.diagnostics import Span, set_offset_start

_new_span = object.__new__


@dataclass(slots=True)
class Id:
    name: str
    span: Span
    # offset of its token in the file: the exact parser finds doc comments by it (the fast
    # path, which finds them otherwise, leaves it -1); not part of the name, so not compared
    pos: int = field(default=-1, compare=False)


@dataclass(slots=True)
class Attr:
    kind: str  # "since" | "unstable" | "deprecated" | "external-id"
    value: str  # a version for since/deprecated, a feature name for unstable, else a string
    span: Span  # the attribute's name (after `@`)
    pos: int = field(default=-1, compare=False)  # offset of its `@` (as `Id.pos`)


@dataclass(slots=True)
class PackageName:
    namespace: Id
    name: Id
    version: str | None
    span: Span
    docs: list[str] = field(default_factory=list)
    docs_span: Span | None = None

    @property
    def full(self) -> str:
        base = f"{self.namespace.name}:{self.name.name}"
        return f"{base}@{self.version}" if self.version else base


@dataclass(slots=True)
class ForeignPath:
    package: PackageName  # span covers `ns:pkg` only, like wit-parser
    name: Id


UsePath = Union[Id, ForeignPath]


def path_name(path: UsePath) -> Id:
    return path if isinstance(path, Id) else path.name


class TypeNode:
    """A type expression. `kind` is a primitive name, or one of: name, list, fixed-list, map,
    option, result, tuple, future, stream, own, borrow, record, flags, variant, enum, resource.

    `TypeNode(kind, args, span)`. The fast parser passes instead of a span its file's span
    class and the token number, `TypeNode(kind, args, span_class, token)`: the span is made
    the first time it is read, which on a valid file is seldom (most type expressions' spans
    only ever serve errors; they were a fifth of a large file's syntax tree).
    """

    __slots__ = ("kind", "args", "_span", "_token")

    kind: str
    args: tuple  # type: ignore[type-arg]  # kind-specific payload

    def __init__(
        self,
        kind: str,
        args: tuple,  # type: ignore[type-arg]
        span: Span | type[Span],
        token: int = -1,
    ) -> None:
        self.kind = kind
        self.args = args
        self._span = span
        self._token = token

    @property
    def span(self) -> Span:
        span = self._span
        if isinstance(span, type):  # a span class of the fast parser: the span is made now
            made = _new_span(span)
            set_offset_start(made, self._token)
            self._span = made
            return made
        return span

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not TypeNode:
            return NotImplemented
        assert isinstance(other, TypeNode)
        return self.kind == other.kind and self.args == other.args and self.span == other.span

    __hash__ = None  # type: ignore[assignment]  # mutable, like the other nodes

    def __repr__(self) -> str:
        return f"TypeNode(kind={self.kind!r}, args={self.args!r}, span={self.span!r})"


@dataclass(slots=True)
class Func:
    is_async: bool
    params: list[tuple[Id, TypeNode]]
    result: TypeNode | None
    span: Span  # of `func` (or of `get`/`set` for an accessor)
    accessor: str | None = None  # "get" | "set" for `name: get(...)` / `name: set(...)`


@dataclass(slots=True)
class NamedFunc:
    docs: list[str]
    attrs: list[Attr]
    name: Id
    func: Func


@dataclass(slots=True)
class ResourceFunc:
    kind: str  # "method" | "static" | "constructor"
    func: NamedFunc


@dataclass(slots=True)
class TypeDef:
    docs: list[str]
    attrs: list[Attr]
    name: Id
    ty: TypeNode


@dataclass(slots=True)
class Use:
    attrs: list[Attr]
    path: UsePath
    names: list[tuple[Id, Id | None]]


@dataclass(slots=True)
class Extern:
    """The target of `import`/`export`: kind "func" (name, func), "interface" (name, items),
    "path" (a use path) or "named-path" (`label: use-path`, an interface under a plain name)."""

    kind: str
    name: Id | None
    func: Func | None
    items: list["InterfaceItem"] | None
    path: UsePath | None

    @property
    def span(self) -> Span:
        if self.name is not None:
            return self.name.span
        assert self.path is not None
        return path_name(self.path).span


@dataclass(slots=True)
class ImportExport:
    direction: str  # "import" | "export"
    docs: list[str]
    attrs: list[Attr]
    extern: Extern


@dataclass(slots=True)
class Include:
    attrs: list[Attr]
    path: UsePath
    names: list[tuple[Id, Id]]


InterfaceItem = Union[Use, TypeDef, NamedFunc]
WorldItem = Union[Use, TypeDef, ImportExport, Include]


@dataclass(slots=True)
class Interface:
    docs: list[str]
    attrs: list[Attr]
    name: Id
    items: list[InterfaceItem]


@dataclass(slots=True)
class World:
    docs: list[str]
    attrs: list[Attr]
    name: Id
    items: list[WorldItem]


@dataclass(slots=True)
class ToplevelUse:
    attrs: list[Attr]
    path: UsePath
    as_: Id | None
    span: Span


TopItem = Union[Interface, World, ToplevelUse]


@dataclass(slots=True)
class NestedPackage:
    name: PackageName
    items: list[TopItem]
    inner: list["NestedPackage"] = field(default_factory=list)  # not allowed: an error


@dataclass(slots=True)
class File:
    path: str
    package: PackageName | None
    items: list[TopItem]
    nested: list[NestedPackage]


def docs_text(comments: list[str]) -> str | None:
    """The doc string wit-parser derives from the comments before an item."""
    if not comments:
        return None
    if len(comments) == 1 and comments[0].startswith("//"):
        # the commonest case, one `//` line (no newline inside): what the loops below make of it
        body = comments[0].lstrip("/").rstrip()
        least = len(body) - len(body.lstrip(" \t\n\r\x0c"))
        if least and body.startswith(" " * least):
            return body[least:]
        return body
    docs = []
    for c in comments:
        if c.startswith("/**"):
            body = c[3:-2] if c.endswith("*/") else c[3:]
        else:
            body = c.lstrip("/")
        docs.append(body.rstrip())
    widths = [len(d) - len(d.lstrip(" \t\n\r\x0c")) for d in docs if d]
    least = min(widths) if widths else 0
    if least:
        pad = " " * least
        docs = [d[least:] if d.startswith(pad) else d for d in docs]
    out: list[str] = []
    for d in docs:
        if not d:
            out.append("\n")
            continue
        lines = d.split("\n")
        if lines and lines[-1] == "":
            lines.pop()
        for line in lines:
            if line.endswith("\r"):
                line = line[:-1]
            out.append(line)
            out.append("\n")
    text = "".join(out).rstrip("\n")
    return text
