"""Rust spelling of WIT names and types for the Rust guest SDK backend.

Only naming lives here: identifiers (keywords escaped as `r#type`), UpperCamel type names,
snake_case functions and modules, SHOUTY flag constants, rustdoc text, and the Rust type string
of a WIT type in each position it can appear (a type definition, an imported function's
parameter, an exported function's signature). ABI facts come from `witgen.abi`.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

from witgen import ir
from witgen.abi.analysis import TypeFacts
from witgen.backends.common import Unsupported

# Strict and reserved keywords of Rust 2021 (raw identifiers `r#x` work for all but four).
RUST_KEYWORDS = frozenset(
    """as break const continue crate else enum extern false fn for if impl in let loop match mod
    move mut pub ref return self Self static struct super trait true type unsafe use where while
    async await dyn abstract become box do final macro override priv typeof unsized virtual yield
    try gen""".split()
)
# These cannot be raw identifiers.
_NOT_RAW = frozenset({"self", "Self", "super", "crate"})
# Type names that would shadow the prelude types the generated code relies on.
_PRELUDE_TYPES = frozenset(
    {"Option", "Result", "String", "Vec", "Box", "Rc", "Some", "None", "Ok", "Err", "Drop", "Sized"}
)

# `alloc` items generated code names without a path (`#![no_std]` has no prelude for them);
# each module imports those its code was recorded to name (`TypeNamer.note`).
ALLOC_PATHS = {
    "BTreeMap": "alloc::collections::BTreeMap",
    "Box": "alloc::boxed::Box",
    "Rc": "alloc::rc::Rc",
    "String": "alloc::string::String",
    "Vec": "alloc::vec::Vec",
}

PRIMITIVE_RUST = {
    "bool": "bool",
    "u8": "u8",
    "u16": "u16",
    "u32": "u32",
    "u64": "u64",
    "s8": "i8",
    "s16": "i16",
    "s32": "i32",
    "s64": "i64",
    "f32": "f32",
    "f64": "f64",
    "char": "char",
    "string": "String",
}


def escape(ident: str) -> str:
    """A Rust identifier for `ident`, escaped if it is a keyword."""
    if ident in _NOT_RAW:
        return ident + "_"
    if ident in RUST_KEYWORDS:
        return "r#" + ident
    return ident


def bare(ident: str) -> str:
    """An identifier without its raw prefix (`r#type` -> `type`): the part to build a longer
    name from (`type_dtor_file`; `r#type_dtor_file` would be a raw identifier by accident)."""
    return ident.removeprefix("r#")


def snake(name: str) -> str:
    """`read-batch` -> `read_batch` (functions, fields, modules, parameters)."""
    return escape(name.replace("-", "_").lower())


def camel(name: str) -> str:
    """`data-record` -> `DataRecord` (types, enum and variant cases, traits)."""
    return escape(_camel_words(name))


def _camel_words(name: str) -> str:
    """`data-record` -> `DataRecord`, not escaped (`self` -> `Self`): to build longer names."""
    return "".join(part[:1].upper() + part[1:].lower() for part in name.split("-"))


def type_name(name: str) -> str:
    """The UpperCamel name of a WIT type, renamed if it would shadow a prelude type."""
    out = camel(name)
    return "Wit" + out if out in _PRELUDE_TYPES else out


def _type_stem(name: str) -> str:
    """A type name's part in a longer name: not escaped (`Self_Borrow` would not be UpperCamel
    case), renamed like `type_name` (`WitBox`)."""
    out = _camel_words(name)
    return "Wit" + out if out in _PRELUDE_TYPES else out


def borrow_name(resource: str) -> str:
    """`file` -> `FileBorrow`: the type of a borrowed exported resource (before collisions)."""
    return _type_stem(resource) + "Borrow"


def guest_trait_name(resource: str) -> str:
    """`file` -> `GuestFile`: the trait of an exported resource (before collisions)."""
    return "Guest" + _type_stem(resource)


def fresh(name: str, taken: set[str]) -> str:
    """`name`, or with the first number from 2 that makes it unique among `taken`."""
    out, n = name, 1
    while out in taken:
        n += 1
        out = f"{name}{n}"
    return out


def shouty(name: str) -> str:
    """`bad-config` -> `BAD_CONFIG` (flag constants)."""
    return name.replace("-", "_").upper()


def doc_lines(docs: ir.Docs, prefix: str = "///") -> list[str]:
    """WIT `///` docs as rustdoc lines (empty when there are none)."""
    if docs.contents is None:
        return []
    return [f"{prefix} {line}".rstrip() for line in docs.contents.splitlines()]


class TypeNamer:
    """Rust type strings for WIT types, relative to the module the code is written in.

    `module_of(type_id)` says in which generated module a named type lives ("" for the world
    module itself); the namer writes `super::m::Name` for types of a sibling module. Modules
    shared by all worlds (imported interfaces) are named by absolute paths (`crate::...`):
    code inside them refers to a sibling of the same package as `super::m::Name` and to
    anything else by its absolute path.
    """

    def __init__(
        self,
        resolve: ir.Resolve,
        module_of: dict[int, str],
        exported: set[int],
        borrow_names: dict[int, str] | None = None,
    ):
        self.resolve = resolve
        self.facts = TypeFacts(resolve)
        self.module_of = module_of
        self.exported_resources = exported
        # exported resource -> the name of its borrow type (`FileBorrow`, see `borrow_name`)
        self.borrow_names = {} if borrow_names is None else borrow_names
        # The record of the `alloc` types (`String`, `Vec`) each module's code names, kept while
        # the strings are made: the module imports exactly these (see `ModuleModel.uses`).
        self.used: dict[str, set[str]] = {}
        self._recorders: list[set[str]] = []

    def note(self, here: str, name: str) -> None:
        """Record that code in module `here` names the `alloc` type `name`."""
        self.used.setdefault(here, set()).add(name)
        for names in self._recorders:
            names.add(name)

    @contextmanager
    def recording(self) -> Iterator[set[str]]:
        """The `alloc` types named while the block runs (e.g. by one signature)."""
        names: set[str] = set()
        self._recorders.append(names)
        try:
            yield names
        finally:
            self._recorders.pop()

    def with_modules(self, module_of: dict[int, str]) -> TypeNamer:
        """A namer for code that names the types of `module_of` from other modules (another
        instance of an interface); what the code names is recorded in this namer's `used`."""
        namer = TypeNamer(
            self.resolve,
            {**self.module_of, **module_of},
            self.exported_resources,
            self.borrow_names,
        )
        namer.used, namer.facts = self.used, self.facts
        return namer

    def borrow_path(self, resource: int, here: str) -> str:
        """The path of the borrow type an exported function receives for `borrow<resource>`."""
        td = self.resolve.types[resource]
        assert td.name is not None
        return self.path(resource, here, self.borrow_names.get(resource, borrow_name(td.name)))

    def path(self, ty: int, here: str, name: str | None = None) -> str:
        """The path of the named type `ty` (or of the item `name` in its module) from `here`."""
        if name is None:
            td = self.resolve.types[ty]
            assert td.name is not None
            name = type_name(td.name)
        there = self.module_of.get(ty, "")
        if there == here:
            return name
        if there.startswith("crate::"):
            parent, _, last = there.rpartition("::")
            if here.rpartition("::")[0] == parent:
                return f"super::{last}::{name}"
            return f"{there}::{name}"
        assert not here.startswith("crate::"), f"shared module {here} names world type {name}"
        if here == "":
            return f"{there}::{name}"
        if there == "":
            return f"super::{name}"
        return f"super::{there}::{name}"

    def has_borrow(self, ty: ir.Type | None) -> bool:
        """Whether a value of the type holds a borrowed handle (it then has a lifetime)."""
        return self.facts.of(ty).borrows

    def owned(self, ty: ir.Type, here: str, lt: str = "'_") -> str:
        """The type as stored in a value (type definitions, lifted values, export results).

        `lt` is the lifetime of borrowed handles inside it: `'a` within a type definition that
        holds borrows, elided (`'_`) in function signatures.
        """
        if isinstance(ty, str):
            if ty == "error-context":
                return "u32"  # the handle (`async_rt::ErrorContext::from_handle` owns it)
            if ty not in PRIMITIVE_RUST:
                raise Unsupported(f"the Rust backend does not support `{ty}` yet")
            if ty == "string":
                self.note(here, "String")
            return PRIMITIVE_RUST[ty]
        td = self.resolve.types[ty]
        if td.name is not None and not isinstance(td.kind, ir.Handle):
            suffix = f"<{lt}>" if self.has_borrow(ty) else ""
            return self.path(ty, here) + suffix
        return self.definition(ty, here, lt)

    def definition(self, ty: int, here: str, lt: str = "'_") -> str:
        """The structure of a type, ignoring its own name (for `pub type Name = ...;`)."""
        kind = self.resolve.types[ty].kind
        if isinstance(kind, ir.Alias):
            return self.owned(kind.type, here, lt)
        if isinstance(kind, ir.List):
            self.note(here, "Vec")
            return f"Vec<{self.owned(kind.type, here, lt)}>"
        if isinstance(kind, ir.FixedLengthList):
            return f"[{self.owned(kind.type, here, lt)}; {kind.length}]"
        if isinstance(kind, ir.Map):
            # Map keys are primitives or strings (all `Ord`): a `BTreeMap` needs no `std` and
            # iterates in key order, so what a guest lowers is deterministic
            self.note(here, "BTreeMap")
            key, value = self.owned(kind.key, here, lt), self.owned(kind.value, here, lt)
            return f"BTreeMap<{key}, {value}>"
        if isinstance(kind, ir.Option):
            return f"Option<{self.owned(kind.type, here, lt)}>"
        if isinstance(kind, ir.Result):
            ok = "()" if kind.ok is None else self.owned(kind.ok, here, lt)
            err = "()" if kind.err is None else self.owned(kind.err, here, lt)
            return f"Result<{ok}, {err}>"
        if isinstance(kind, ir.Tuple):
            inner = ", ".join(self.owned(t, here, lt) for t in kind.types)
            return f"({inner},)" if len(kind.types) == 1 else f"({inner})"
        if isinstance(kind, ir.Handle):
            res = self.path(self.resource_of(kind.resource), here)
            if kind.kind == "own":
                return res
            if self.is_exported(kind.resource):
                original = self.resolve.dealias(kind.resource)
                assert isinstance(original, int)
                return f"{self.borrow_path(original, here)}<{lt}>"
            return f"&{res}" if lt == "'_" else f"&{lt} {res}"
        if isinstance(kind, (ir.Future, ir.Stream)):
            # the handle: a function's generated stream/future ops wrap it in a reader or writer
            return "u32"
        raise Unsupported(f"the Rust backend does not support {type(kind).__name__.lower()} types")

    def resource_of(self, ty: int) -> int:
        """The resource definition behind an alias chain (`use` of a resource)."""
        d = self.resolve.dealias(ty)
        assert isinstance(d, int)
        return ty if self.resolve.types[ty].name is not None else d

    def is_exported(self, ty: int) -> bool:
        d = self.resolve.dealias(ty)
        return isinstance(d, int) and d in self.exported_resources

    def import_param(self, ty: ir.Type, here: str) -> str:
        """An imported function's parameter: borrowed unless it is a small Copy value."""
        if ty == "string":
            return "&str"
        if self.is_copy(ty):
            return self.owned(ty, here)
        d = self.resolve.dealias(ty)
        if isinstance(d, int):
            kind = self.resolve.types[d].kind
            if isinstance(kind, ir.List):
                return f"&[{self.owned(kind.type, here)}]"
            if isinstance(kind, ir.Handle):
                return self.owned(ty, here)
        return "&" + self.owned(ty, here)

    def is_copy(self, ty: ir.Type) -> bool:
        """Primitives (but strings), enums, flags, and future/stream handles: passed by
        value."""
        ty = self.resolve.dealias(ty)
        if isinstance(ty, str):
            return ty != "string"
        return isinstance(self.resolve.types[ty].kind, (ir.Enum, ir.Flags, ir.Future, ir.Stream))
