"""Comparing and printing types across two resolves (OLD and NEW are separate arenas).

On the wire the component model is structural: a record is its field names and field types in
order, and the name a type was declared under does not matter (aliases are transparent).
Resources are the exception: they are nominal, identified by the interface that declares them
and their name. Names of types *do* matter as items of an interface; that is the business of the
interface rules, not of this module.
"""

from __future__ import annotations

from witgen import ir
from witgen.compat.view import WorldView, strip_version


def owner_key(view: WorldView, type_id: int) -> str:
    """Where a named type lives, comparable across OLD and NEW: `ns:pkg/iface` or the world key."""
    td = view.resolve.types[type_id]
    if td.owner is None:
        return ""
    if td.owner.kind == "world":
        return "world"
    name = view.resolve.interface_id(td.owner.id)
    if name is not None:
        return strip_version(name)
    for entries in (view.imports, view.exports):
        for entry in entries.values():
            item = entry.item
            if isinstance(item, ir.WorldInterface) and item.id == td.owner.id:
                return entry.key
    return f"interface-{td.owner.id}"


def type_key(view: WorldView, type_id: int) -> tuple[str, str] | None:
    """(owner, name) of a named type, None for an anonymous one (`list<u8>`...)."""
    td = view.resolve.types[type_id]
    if td.name is None or td.owner is None:
        return None
    return owner_key(view, type_id), td.name


class TypeComparer:
    """Answers "are these two types the same on the wire?" for a type of OLD and one of NEW.

    With `shallow=True`, two references to named types with the same owner and name count as
    equal without looking inside: a change inside them is reported once, at their definition,
    rather than at every use.
    """

    def __init__(self, old: WorldView, new: WorldView):
        self.old = old
        self.new = new
        self._memo: dict[tuple[ir.Type | None, ir.Type | None, bool], bool] = {}

    def equal(self, a: ir.Type | None, b: ir.Type | None, *, shallow: bool) -> bool:
        key = (a, b, shallow)
        if key not in self._memo:
            self._memo[key] = self._equal(a, b, shallow)
        return self._memo[key]

    def _same_name(self, a: int, b: int) -> bool:
        ka = type_key(self.old, a)
        return ka is not None and ka == type_key(self.new, b)

    def _equal(self, a: ir.Type | None, b: ir.Type | None, shallow: bool) -> bool:
        if a is None or b is None:
            return a is None and b is None
        if shallow and isinstance(a, int) and isinstance(b, int) and self._same_name(a, b):
            return True
        a = self.old.resolve.dealias(a)
        b = self.new.resolve.dealias(b)
        if isinstance(a, str) or isinstance(b, str):
            return a == b
        if shallow and self._same_name(a, b):
            return True
        return self._same_kind(a, b, shallow)

    def same_definition(self, a: int, b: int) -> bool:
        """Whether two declarations of a type (OLD's `a`, NEW's `b`) define the same thing.

        Unlike `equal`, the declarations' own names are not taken as proof of sameness; the
        types they are built from are compared shallowly.
        """
        a2, b2 = self.old.resolve.dealias(a), self.new.resolve.dealias(b)
        if isinstance(a2, str) or isinstance(b2, str):
            return a2 == b2
        if (a2 != a or b2 != b) and self._same_name(a2, b2):
            return True  # both alias the same named type (e.g. `use t.{r}` on both sides)
        return self._same_kind(a2, b2, True)

    def _same_kind(self, a: int, b: int, shallow: bool) -> bool:
        ka = self.old.resolve.types[a].kind
        kb = self.new.resolve.types[b].kind
        if type(ka) is not type(kb):
            return False
        eq = self.equal
        if isinstance(ka, ir.Resource):
            return self._same_name(a, b)
        if isinstance(ka, ir.Handle) and isinstance(kb, ir.Handle):
            return ka.kind == kb.kind and self._same_name(
                int(self.old.resolve.dealias(ka.resource)),
                int(self.new.resolve.dealias(kb.resource)),
            )
        if isinstance(ka, ir.Record) and isinstance(kb, ir.Record):
            return len(ka.fields) == len(kb.fields) and all(
                fa.name == fb.name and eq(fa.type, fb.type, shallow=shallow)
                for fa, fb in zip(ka.fields, kb.fields)
            )
        if isinstance(ka, ir.Variant) and isinstance(kb, ir.Variant):
            return len(ka.cases) == len(kb.cases) and all(
                ca.name == cb.name and eq(ca.type, cb.type, shallow=shallow)
                for ca, cb in zip(ka.cases, kb.cases)
            )
        if isinstance(ka, ir.Enum) and isinstance(kb, ir.Enum):
            return [c.name for c in ka.cases] == [c.name for c in kb.cases]
        if isinstance(ka, ir.Flags) and isinstance(kb, ir.Flags):
            return [f.name for f in ka.flags] == [f.name for f in kb.flags]
        if isinstance(ka, ir.Tuple) and isinstance(kb, ir.Tuple):
            return len(ka.types) == len(kb.types) and all(
                eq(x, y, shallow=shallow) for x, y in zip(ka.types, kb.types)
            )
        if isinstance(ka, ir.Result) and isinstance(kb, ir.Result):
            return eq(ka.ok, kb.ok, shallow=shallow) and eq(ka.err, kb.err, shallow=shallow)
        if isinstance(ka, ir.Map) and isinstance(kb, ir.Map):
            return eq(ka.key, kb.key, shallow=shallow) and eq(ka.value, kb.value, shallow=shallow)
        if isinstance(ka, ir.FixedLengthList) and isinstance(kb, ir.FixedLengthList):
            return ka.length == kb.length and eq(ka.type, kb.type, shallow=shallow)
        if isinstance(ka, (ir.Option, ir.List, ir.Future, ir.Stream)):
            assert isinstance(kb, (ir.Option, ir.List, ir.Future, ir.Stream))
            return eq(ka.type, kb.type, shallow=shallow)
        raise TypeError(f"unknown type kind {ka!r}")


def describe(resolve: ir.Resolve, ty: ir.Type | None) -> str:
    """A type as WIT source would spell it: `u32`, `list<data-record>`, `borrow<cursor>`."""
    if ty is None:
        return "nothing"
    if isinstance(ty, str):
        return ty
    td = resolve.types[ty]
    if td.name is not None:
        return td.name
    k = td.kind
    if isinstance(k, ir.Handle):
        name = describe(resolve, k.resource)
        return name if k.kind == "own" else f"borrow<{name}>"
    if isinstance(k, ir.List):
        return f"list<{describe(resolve, k.type)}>"
    if isinstance(k, ir.FixedLengthList):
        return f"list<{describe(resolve, k.type)}, {k.length}>"
    if isinstance(k, ir.Option):
        return f"option<{describe(resolve, k.type)}>"
    if isinstance(k, ir.Result):
        if k.ok is None and k.err is None:
            return "result"
        ok = "_" if k.ok is None else describe(resolve, k.ok)
        if k.err is None:
            return f"result<{ok}>"
        return f"result<{ok}, {describe(resolve, k.err)}>"
    if isinstance(k, ir.Tuple):
        return f"tuple<{', '.join(describe(resolve, t) for t in k.types)}>"
    if isinstance(k, ir.Map):
        return f"map<{describe(resolve, k.key)}, {describe(resolve, k.value)}>"
    if isinstance(k, (ir.Future, ir.Stream)):
        word = "future" if isinstance(k, ir.Future) else "stream"
        return word if k.type is None else f"{word}<{describe(resolve, k.type)}>"
    if isinstance(k, ir.Alias):
        return describe(resolve, k.type)
    return type(k).__name__.lower()


def kind_word(kind: ir.TypeDefKind) -> str:
    """`record`, `variant`, `enum`, `flags`, `resource`, or `type` for aliases and the rest."""
    for cls, word in (
        (ir.Record, "record"),
        (ir.Variant, "variant"),
        (ir.Enum, "enum"),
        (ir.Flags, "flags"),
        (ir.Resource, "resource"),
    ):
        if isinstance(kind, cls):
            return word
    return "type"
