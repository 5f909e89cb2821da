"""The instruction stream: how every WIT value crosses the boundary, decided once, spelled by
each backend (the idea of wit-bindgen's `crates/core/src/abi.rs`, written for witgen).

A `Program` is a straight-line list of frozen `Instruction`s over **named operands**: each
instruction reads the variables in `args` and defines the fresh variables in `out` (SSA: a
variable is defined once, `Var` is an int printed `%3`). Instructions that branch or loop
(variants, lists, maps) hold `Block`s: a block's `params` are defined by the instruction on
entry, its `body` may read any variable defined before it (lexical scope), and its `results`
are what it hands back; a `VariantLower`/`VariantLift` defines its `out` from the results of
whichever case block ran (a phi). All layout facts (offsets, sizes, alignments, flat types,
discriminant widths, joined payload types) come from `witgen.abi.layout`; nothing here is
language text.

Worked example: lowering `r: point` (record point { x: u32, y: f32 }) as flat values:

    params %0                                # the point
    %1, %2 = record-lower[point] %0          # its fields x, y
    %3 = prim-lower[u32] %1                  # an i32
    %4 = prim-lower[f32] %2                  # an f32
    results %3, %4

and lifting `v: num` (variant num { int(u32), real(f32) }) from its flat values: the
discriminant and one payload slot joined to `i32`, which the `real` case casts back:

    params %0, %1                            # discriminant, joined payload (i32)
    %5 = variant-lift[num] %0
      int:   %2 = prim-lift[u32] %1
             yield %2
      real:  %3 = bitcast[i32-to-f32] %1
             %4 = prim-lift[f32] %3
             yield %4
    results %5

A backend emitter keeps a map from variables to its own expressions or locals and spells each
instruction (`RecordLower` is `x, y = r.x, r.y` in Python, a field access in Rust...). The
reference interpreter is `witgen.abi.codec` (it compiles these programs into closures), so the
Hypothesis round trips against wasmtime test the stream itself. `render` prints a program
(`witgen abi --stream`).

Where streams come from:

- `TypeStreams(layouts, encoding)`: per type, the four programs `lower` (value -> flat values),
  `lift` (flat values -> value), `store` (value, address -> memory) and `load` (address ->
  value). They are what function streams are made of.
- `function_stream(layouts, func, role, ...)`: one program per function and role:
  `guest-import` (the guest calls a function it imports: lower params, call, lift result),
  `guest-export` (the guest implements an export: lift params, call the implementation, lower
  result), `host-call` (the host calls a guest export: the mirror of `guest-export`, writing
  into guest memory with `cabi_realloc`, then `post-return`) and `host-callback` (the host
  implements a guest import: the mirror of `guest-import`).
- `post_return_stream(layouts, func)`: what a guest's `cabi_post_<name>` frees.

Writing an emitter (witgen/backends/python/fast.py and rust/emit.py are two):
- walk the program once to know who defines each variable and how often it is read; then
  spell instructions in order, keeping for each variable an expression (inline it when it is
  read once, bind a local otherwise); blocks become if/else chains or loops, and a
  `VariantLower`/`VariantLift`'s `out` are locals each case block assigns;
- a `PrimLift` reading a `Load`, or a `Store` writing a `PrimLower`, may be spelled as one
  typed read or write (the load/store widths are the core widths, the primitive says the
  type); two adjacent i32 loads or stores of a (pointer, length) pair may be one;
- `TypeStreams(boundary=...)` turns the chosen types into `CallType` instructions so that a
  backend writes one helper per type (from `<op>_program(type)`) instead of inlining them.

Allocation and ownership rules, decided here for everyone:
- `StringLower`/`ListLower`/`MapLower` with `realloc=True` allocate with `cabi_realloc` in the
  memory of the side that receives the value, which then owns the block (host-call params,
  results of guest-export and host-callback); with `realloc=False` the caller may point at
  memory it already has, or allocate a temporary it frees after the call (guest-import params).
- `Alloc` is a `cabi_realloc` in the callee's memory (host-call's parameter area); the callee
  frees it after lifting (`GuestDeallocate` in guest-export). `ReturnArea` is a block the side
  running the stream provides itself (a guest's static or stack return area).
- Lifted strings and lists own their memory on the guest side; copying languages free them
  (`GuestDeallocate*`) — which blocks those are is what `post_return_stream` lists for results.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Callable, Iterator, Literal, Sequence

from witgen import ir
from witgen.abi.layout import Layouts, flags_word_count
from witgen.abi.signature import CoreSignature, core_signature
from witgen.abi.strings import check_encoding

Var = int
Role = Literal["guest-import", "guest-export", "host-call", "host-callback"]
ROLES: tuple[Role, ...] = ("guest-import", "guest-export", "host-call", "host-callback")
# role -> (direction of `core_signature`, is the caller)
ROLE_SIDES: dict[str, tuple[str, bool]] = {
    "guest-import": ("import", True),
    "host-callback": ("import", False),
    "guest-export": ("export", False),
    "host-call": ("export", True),
}

# Memory access widths of `Load` (sign- or zero-extending the narrow ones) and `Store`.
LoadWidth = Literal["u8", "s8", "u16", "s16", "i32", "i64", "f32", "f64"]
StoreWidth = Literal["u8", "u16", "i32", "i64", "f32", "f64"]
WIDTH_BYTES = {"u8": 1, "s8": 1, "u16": 2, "s16": 2, "i32": 4, "i64": 8, "f32": 4, "f64": 8}

# The primitives of WIT that are one flat value: (core type, load width, store width).
PRIMITIVES: dict[str, tuple[str, LoadWidth, StoreWidth]] = {
    "bool": ("i32", "u8", "u8"),
    "u8": ("i32", "u8", "u8"),
    "s8": ("i32", "s8", "u8"),
    "u16": ("i32", "u16", "u16"),
    "s16": ("i32", "s16", "u16"),
    "u32": ("i32", "i32", "i32"),
    "s32": ("i32", "i32", "i32"),
    "char": ("i32", "i32", "i32"),
    "u64": ("i64", "i64", "i64"),
    "s64": ("i64", "i64", "i64"),
    "f32": ("f32", "f32", "f32"),
    "f64": ("f64", "f64", "f64"),
}
# Element types whose memory form is their value's form in every backend: a list of them is
# lowered and lifted as one copy (the "canonical" list fast case).
CANONICAL_ELEMENTS = frozenset({"u8", "s8", "u16", "s16", "u32", "s32", "u64", "s64", "f32", "f64"})

# THE cast table between joined flat types (CanonicalABI.md `lower_flat_variant` /
# `lift_flat_variant`): (have, want) -> cast name. Lowering a payload casts its own flat type
# to the joined one; lifting casts back. Pairs not listed need no cast.
CASTS: dict[tuple[str, str], str] = {
    ("f32", "i32"): "f32-to-i32",  # bit pattern
    ("i32", "f32"): "i32-to-f32",
    ("i32", "i64"): "i32-to-i64",  # zero-extend
    ("i64", "i32"): "i64-to-i32",  # wrap
    ("f32", "i64"): "f32-to-i64",  # bit pattern, zero-extended
    ("i64", "f32"): "i64-to-f32",
    ("f64", "i64"): "f64-to-i64",  # bit pattern
    ("i64", "f64"): "i64-to-f64",
}


def cast_name(have: str, want: str) -> str | None:
    """The cast from flat type `have` to `want` (None when they are the same)."""
    if have == want:
        return None
    return CASTS[(have, want)]


# ---------------------------------------------------------------------------- the instructions


@dataclass(frozen=True, kw_only=True)
class Instruction:
    """One step: reads `args`, defines `out`. Subclasses say what the operands are."""

    args: tuple[Var, ...] = ()
    out: tuple[Var, ...] = ()

    def blocks(self) -> tuple[Block, ...]:
        return ()


@dataclass(frozen=True)
class Block:
    """A nested body: `params` are defined on entry, `results` handed back."""

    params: tuple[Var, ...]
    body: tuple[Instruction, ...]
    results: tuple[Var, ...]


@dataclass(frozen=True)
class Program:
    """A whole stream: a type's lower/lift/store/load, or one function in one role."""

    name: str
    params: tuple[Var, ...]
    body: tuple[Instruction, ...]
    results: tuple[Var, ...]
    var_count: int  # variables are 0 .. var_count-1


# -- constants, scalars, casts


@dataclass(frozen=True, kw_only=True)
class Const(Instruction):
    """out (1): the constant `value` of core type `core` (discriminants, zero padding)."""

    value: int
    core: str


@dataclass(frozen=True, kw_only=True)
class PrimLower(Instruction):
    """args (value), out (flat): a primitive to its core value (range-checked ints as unsigned
    bit patterns, bool 0/1, char its code point, floats with NaN canonicalised)."""

    prim: str


@dataclass(frozen=True, kw_only=True)
class PrimLift(Instruction):
    """args (flat), out (value): a core value to the primitive (ints masked/sign-extended to
    their width, bool != 0, char checked, floats NaN-canonicalised)."""

    prim: str


@dataclass(frozen=True, kw_only=True)
class Bitcast(Instruction):
    """args (flat), out (flat): one entry of `CASTS`, between a payload's flat type and the
    joined flat type of its variant."""

    cast: str


# -- memory


@dataclass(frozen=True, kw_only=True)
class Load(Instruction):
    """args (address), out (core value): read `width` at address + `offset`."""

    width: LoadWidth
    offset: int


@dataclass(frozen=True, kw_only=True)
class Store(Instruction):
    """args (core value, address): write `width` at address + `offset`."""

    width: StoreWidth
    offset: int


# -- strings, lists, maps


@dataclass(frozen=True, kw_only=True)
class StringLower(Instruction):
    """args (string), out (pointer, tagged length) in `encoding` (see module docstring for
    `realloc`)."""

    encoding: str
    realloc: bool


@dataclass(frozen=True, kw_only=True)
class StringLift(Instruction):
    """args (pointer, tagged length), out (string)."""

    encoding: str


@dataclass(frozen=True, kw_only=True)
class ListLower(Instruction):
    """args (list), out (pointer, length): a block of `len * size` bytes aligned to `align`;
    `body` stores one element: params (element, element address). `canonical`: the elements'
    memory form is their value form, so one copy of the whole list is a valid lowering."""

    type: ir.Type
    element: ir.Type
    size: int
    align: int
    canonical: bool
    realloc: bool
    body: Block

    def blocks(self) -> tuple[Block, ...]:
        return (self.body,)


@dataclass(frozen=True, kw_only=True)
class ListLift(Instruction):
    """args (pointer, length), out (list); `body` loads one element: params (element address),
    results (element). `canonical` as in `ListLower` (`list<u8>` is bytes)."""

    type: ir.Type
    element: ir.Type
    size: int
    align: int
    canonical: bool
    body: Block

    def blocks(self) -> tuple[Block, ...]:
        return (self.body,)


@dataclass(frozen=True, kw_only=True)
class MapLower(Instruction):
    """args (map), out (pointer, length): lowered like `list<tuple<K, V>>`; `body` params
    (key, value, entry address)."""

    type: ir.Type
    key: ir.Type
    value: ir.Type
    size: int
    align: int
    realloc: bool
    body: Block

    def blocks(self) -> tuple[Block, ...]:
        return (self.body,)


@dataclass(frozen=True, kw_only=True)
class MapLift(Instruction):
    """args (pointer, length), out (map); `body` params (entry address), results (key, value)."""

    type: ir.Type
    key: ir.Type
    value: ir.Type
    size: int
    align: int
    body: Block

    def blocks(self) -> tuple[Block, ...]:
        return (self.body,)


@dataclass(frozen=True, kw_only=True)
class _FixedListShape(Instruction):
    """The operands a fixed-length list's lowering and lifting share."""

    type: ir.Type
    element: ir.Type
    length: int


@dataclass(frozen=True, kw_only=True)
class FixedListLower(_FixedListShape):
    """args (list of `length`), out (its `length` elements)."""


@dataclass(frozen=True, kw_only=True)
class FixedListLift(_FixedListShape):
    """args (`length` elements), out (list)."""


# -- records, tuples, flags, enums, variants


@dataclass(frozen=True, kw_only=True)
class _RecordShape(Instruction):
    """The operands a record's lowering and lifting share."""

    type: ir.Type
    fields: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class RecordLower(_RecordShape):
    """args (record), out (one value per field, in `fields` order)."""


@dataclass(frozen=True, kw_only=True)
class RecordLift(_RecordShape):
    """args (one value per field), out (record)."""


@dataclass(frozen=True, kw_only=True)
class _TupleShape(Instruction):
    """The operands a tuple's lowering and lifting share."""

    type: ir.Type
    count: int


@dataclass(frozen=True, kw_only=True)
class TupleLower(_TupleShape):
    """args (tuple), out (its elements)."""


@dataclass(frozen=True, kw_only=True)
class TupleLift(_TupleShape):
    """args (elements), out (tuple)."""


@dataclass(frozen=True, kw_only=True)
class _FlagsShape(Instruction):
    """The operands a flags value's lowering and lifting share."""

    type: ir.Type
    flags: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class FlagsLower(_FlagsShape):
    """args (flags), out (`flags_word_count` i32 words, flag i is bit i%32 of word i//32)."""


@dataclass(frozen=True, kw_only=True)
class FlagsLift(_FlagsShape):
    """args (i32 words), out (flags); bits beyond the last flag are ignored."""


@dataclass(frozen=True, kw_only=True)
class _EnumShape(Instruction):
    """The operands an enum's lowering and lifting share."""

    type: ir.Type
    cases: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class EnumLower(_EnumShape):
    """args (enum value), out (i32 case index)."""


@dataclass(frozen=True, kw_only=True)
class EnumLift(_EnumShape):
    """args (i32 case index, trapping when out of range), out (enum value)."""


VariantKind = Literal["variant", "option", "result"]


@dataclass(frozen=True, kw_only=True)
class _VariantShape(Instruction):
    """The operands a variant, option or result's lowering and lifting share."""

    type: ir.Type
    kind: VariantKind
    cases: tuple[str, ...]
    payloads: tuple[ir.Type | None, ...]
    case_blocks: tuple[Block, ...]

    def blocks(self) -> tuple[Block, ...]:
        return self.case_blocks


@dataclass(frozen=True, kw_only=True)
class VariantLower(_VariantShape):
    """args (value), out (= the results of the case block that ran). Case block i has params
    (payload) when `payloads[i]` is not None, else none. As flat values each block yields
    (discriminant, joined payload flats...) with `Bitcast`s and zero `Const` padding; when
    storing, blocks store and yield nothing. `kind` says which value model: option (none,
    some), result (ok, err) or variant (`cases` by name)."""


@dataclass(frozen=True, kw_only=True)
class VariantLift(_VariantShape):
    """args (i32 discriminant, trapping when out of range), out (value). Case block i has no
    params and yields (payload) when `payloads[i]` is not None, else nothing."""


# -- handles and resources


@dataclass(frozen=True, kw_only=True)
class _HandleShape(Instruction):
    """The operands a handle's lowering and lifting share."""

    type: ir.Type
    resource: int
    handle: Literal["own", "borrow"]
    local: bool


@dataclass(frozen=True, kw_only=True)
class HandleLower(_HandleShape):
    """args (handle value), out (i32). `local`: the resource is implemented by the side running
    the stream: an `own` then needs `resource.new` (see `ResourceNew`), and a `borrow` is
    passed as it is. Otherwise: an own moves the handle out of the caller's table, a borrow
    lends it for the call."""


@dataclass(frozen=True, kw_only=True)
class HandleLift(_HandleShape):
    """args (i32), out (handle value). `local` and `borrow`: the i32 is the rep itself (the
    spec's `lower_borrow` into the implementing instance); `local` and `own`: the handle is
    turned back into the rep (`ResourceRep`) and dropped (`ResourceDrop`)."""


@dataclass(frozen=True, kw_only=True)
class ResourceNew(Instruction):
    """args (rep), out (i32 handle): `[resource-new]T` of a resource this side implements."""

    resource: int


@dataclass(frozen=True, kw_only=True)
class ResourceRep(Instruction):
    """args (i32 handle), out (rep): `[resource-rep]T`."""

    resource: int


@dataclass(frozen=True, kw_only=True)
class ResourceDrop(Instruction):
    """args (i32 handle): `[resource-drop]T` (runs the destructor when this side owns it)."""

    resource: int


@dataclass(frozen=True, kw_only=True)
class CallType(Instruction):
    """Run the `op` program of `type` (`TypeStreams.<op>_program`): args and out are that
    program's params and results; for store and load, `offset` is added to the address. Only
    in streams built with a `boundary` (see `TypeStreams`)."""

    op: Literal["lower", "lift", "store", "load"]
    type: ir.Type
    offset: int = 0


# -- functions: allocation, the call, return areas, freeing


@dataclass(frozen=True, kw_only=True)
class Alloc(Instruction):
    """out (pointer): `cabi_realloc(0, 0, align, size)` in the callee's memory (`what` says
    why: "params")."""

    size: int
    align: int
    what: str


@dataclass(frozen=True, kw_only=True)
class ReturnArea(Instruction):
    """out (pointer): a block of `size` bytes aligned to `align` that this side provides itself
    (a guest's return area; the retptr of a guest import)."""

    size: int
    align: int


@dataclass(frozen=True, kw_only=True)
class GuestDeallocate(Instruction):
    """args (pointer): free a block of `size`/`align` the guest was handed (a parameter area)."""

    size: int
    align: int


@dataclass(frozen=True, kw_only=True)
class GuestDeallocateString(Instruction):
    """args (pointer, tagged length): free a string's bytes."""

    encoding: str


@dataclass(frozen=True, kw_only=True)
class GuestDeallocateList(Instruction):
    """args (pointer, length): free what each element owns (`body`, params (element
    address)), then the block of `length * size` bytes."""

    size: int
    align: int
    body: Block

    def blocks(self) -> tuple[Block, ...]:
        return (self.body,)


@dataclass(frozen=True, kw_only=True)
class GuestDeallocateVariant(Instruction):
    """args (discriminant): run the case block that frees what that case's payload owns."""

    case_blocks: tuple[Block, ...]

    def blocks(self) -> tuple[Block, ...]:
        return self.case_blocks


@dataclass(frozen=True, kw_only=True)
class CallWasm(Instruction):
    """args (core arguments), out (core results): call the core function `name` (a caller's
    stream: guest-import, host-call)."""

    name: str
    signature: CoreSignature


@dataclass(frozen=True, kw_only=True)
class CallInterface(Instruction):
    """args (WIT arguments), out (the WIT result, or nothing): call the implementation (a
    callee's stream: guest-export, host-callback)."""

    function: ir.Function


@dataclass(frozen=True, kw_only=True)
class PostReturn(Instruction):
    """args (the core results): call `cabi_post_<name>` (host-call, after lifting), when the
    component lifted the export with a post-return (`CoreSignature.needs_post_return` says
    whether a guest must have one; a guest may have one anyway)."""

    name: str


@dataclass(frozen=True, kw_only=True)
class Return(Instruction):
    """args (what the function returns: core results in a callee, the WIT result in a caller)."""


# ---------------------------------------------------------------------------- building


class _Builder:
    """Variables and the instruction list of the block being built."""

    def __init__(self) -> None:
        self.count = 0
        self.code: list[Instruction] = []

    def fresh(self, n: int = 1) -> tuple[Var, ...]:
        out = tuple(range(self.count, self.count + n))
        self.count += n
        return out

    def emit(self, inst: Instruction) -> tuple[Var, ...]:
        self.code.append(inst)
        return inst.out

    def one(self, inst: Instruction) -> Var:
        (v,) = self.emit(inst)
        return v

    def block(self, params: tuple[Var, ...], build: Callable[[], Sequence[Var]]) -> Block:
        saved, self.code = self.code, []
        try:
            results = build()
            return Block(params, tuple(self.code), tuple(results))
        finally:
            self.code = saved


class TypeStreams:
    """The lower/lift/store/load programs of types, for one Resolve and string encoding.

    `local_resources`: resources implemented by the side that runs the programs (their handles
    lower with `resource.new` and borrows lift to reps); the default is none (a host's view
    of a guest's resources, or a guest's view of imported ones).

    `boundary(type, op)`: a backend's choice to spell some types once (a helper function per
    type and op) rather than inline: inside a program, such a type's lower/lift/store/load is
    one `CallType` instruction, and `<op>_program(type)` is what the helper spells. Without
    a boundary everything is inline (the decisions are the same either way).
    """

    def __init__(
        self,
        layouts: Layouts,
        string_encoding: str = "utf8",
        local_resources: frozenset[int] = frozenset(),
        boundary: Callable[[ir.Type, str], bool] | None = None,
    ):
        self.layouts = layouts
        self.boundary = boundary
        self.resolve = layouts.resolve
        self.encoding = check_encoding(string_encoding)
        self.local_resources = local_resources
        self.b = _Builder()

    # -- whole programs of one type

    def _program(
        self, name: str, nparams: int, build: Callable[[tuple[Var, ...]], Sequence[Var]]
    ) -> Program:
        self.b = _Builder()
        params = self.b.fresh(nparams)
        results = build(params)
        return Program(name, params, tuple(self.b.code), tuple(results), self.b.count)

    def lower_program(self, ty: ir.Type) -> Program:
        return self._program("lower", 1, lambda p: self._lower_body(ty, p[0], realloc=True))

    def lift_program(self, ty: ir.Type) -> Program:
        n = len(self.layouts.flat(ty))
        return self._program("lift", n, lambda p: (self._lift_body(ty, list(p)),))

    def store_program(self, ty: ir.Type, *, realloc: bool = True) -> Program:
        """`realloc=False`: strings and lists point at the value's own buffers (a guest writing
        a stream or future element it keeps alive until the copy is done)."""

        def build(p: tuple[Var, ...]) -> tuple[Var, ...]:
            self._store_body(ty, p[0], p[1], 0, realloc=realloc)
            return ()

        return self._program("store", 2, build)

    def load_program(self, ty: ir.Type) -> Program:
        return self._program("load", 1, lambda p: (self._load_body(ty, p[0], 0),))

    # -- the pieces (append to the current block)

    def _kind(self, ty: ir.Type) -> str | ir.TypeDefKind:
        ty = self.resolve.dealias(ty)
        if isinstance(ty, str):
            return ty
        return self.resolve.types[ty].kind

    def lower(self, ty: ir.Type, v: Var, *, realloc: bool) -> list[Var]:
        """Flat values of the value in variable `v`."""
        if self._at_boundary(ty, "lower"):
            n = len(self.layouts.flat(ty))
            return list(self.b.emit(CallType(op="lower", type=ty, args=(v,), out=self.b.fresh(n))))
        return self._lower_body(ty, v, realloc=realloc)

    def lift(self, ty: ir.Type, flat: list[Var]) -> Var:
        """The value of the flat values `flat` (exactly as many as the type flattens to)."""
        if self._at_boundary(ty, "lift"):
            return self.b.one(CallType(op="lift", type=ty, args=tuple(flat), out=self.b.fresh()))
        return self._lift_body(ty, flat)

    def store(self, ty: ir.Type, v: Var, addr: Var, offset: int, *, realloc: bool) -> None:
        """Write the value in `v` at `addr + offset`."""
        if self._at_boundary(ty, "store"):
            self.b.emit(CallType(op="store", type=ty, offset=offset, args=(v, addr)))
            return
        self._store_body(ty, v, addr, offset, realloc=realloc)

    def load(self, ty: ir.Type, addr: Var, offset: int) -> Var:
        """The value at `addr + offset`."""
        if self._at_boundary(ty, "load"):
            return self.b.one(
                CallType(op="load", type=ty, offset=offset, args=(addr,), out=self.b.fresh())
            )
        return self._load_body(ty, addr, offset)

    def _at_boundary(self, ty: ir.Type, op: str) -> bool:
        return self.boundary is not None and not isinstance(ty, str) and self.boundary(ty, op)

    def _lower_body(self, ty: ir.Type, v: Var, *, realloc: bool) -> list[Var]:
        b = self.b
        k = self._kind(ty)
        if isinstance(k, str):
            if k in PRIMITIVES:
                return [b.one(PrimLower(prim=k, args=(v,), out=b.fresh()))]
            if k == "string":
                return list(
                    b.emit(
                        StringLower(
                            encoding=self.encoding, realloc=realloc, args=(v,), out=b.fresh(2)
                        )
                    )
                )
            if k == "error-context":
                return [b.one(PrimLower(prim="u32", args=(v,), out=b.fresh()))]
            raise TypeError(f"no lowering for {k!r}")
        if isinstance(k, (ir.Record, ir.Tuple, ir.FixedLengthList)):
            types, parts = self._split(ty, k, v)
            return [x for t, p in zip(types, parts) for x in self.lower(t, p, realloc=realloc)]
        if isinstance(k, ir.List):
            return list(b.emit(self._list_lower(ty, k.type, v, realloc)))
        if isinstance(k, ir.Map):
            return list(b.emit(self._map_lower(ty, k, v, realloc)))
        if isinstance(k, ir.Flags):
            names = tuple(f.name for f in k.flags)
            return list(
                b.emit(
                    FlagsLower(
                        type=ty,
                        flags=names,
                        args=(v,),
                        out=b.fresh(flags_word_count(len(names))),
                    )
                )
            )
        if isinstance(k, ir.Enum):
            cases = tuple(c.name for c in k.cases)
            return [b.one(EnumLower(type=ty, cases=cases, args=(v,), out=b.fresh()))]
        if isinstance(k, ir.Handle):
            return [b.one(self._handle_lower(ty, k, v))]
        if isinstance(k, (ir.Future, ir.Stream)):
            return [b.one(PrimLower(prim="u32", args=(v,), out=b.fresh()))]
        if isinstance(k, (ir.Variant, ir.Option, ir.Result)):
            return self._variant_lower_flat(ty, k, v, realloc)
        raise TypeError(f"no lowering for {k!r}")

    def _lift_body(self, ty: ir.Type, flat: list[Var]) -> Var:
        b = self.b
        k = self._kind(ty)
        if isinstance(k, str):
            if k in PRIMITIVES:
                return b.one(PrimLift(prim=k, args=(flat[0],), out=b.fresh()))
            if k == "string":
                return b.one(StringLift(encoding=self.encoding, args=tuple(flat), out=b.fresh()))
            if k == "error-context":
                return b.one(PrimLift(prim="u32", args=(flat[0],), out=b.fresh()))
            raise TypeError(f"no lifting for {k!r}")
        if isinstance(k, (ir.Record, ir.Tuple, ir.FixedLengthList)):
            types = self._members(k)
            parts: list[Var] = []
            pos = 0
            for t in types:
                n = len(self.layouts.flat(t))
                parts.append(self.lift(t, flat[pos : pos + n]))
                pos += n
            return self._join(ty, k, tuple(parts))
        if isinstance(k, ir.List):
            return b.one(self._list_lift(ty, k.type, (flat[0], flat[1])))
        if isinstance(k, ir.Map):
            return b.one(self._map_lift(ty, k, (flat[0], flat[1])))
        if isinstance(k, ir.Flags):
            names = tuple(f.name for f in k.flags)
            return b.one(FlagsLift(type=ty, flags=names, args=tuple(flat), out=b.fresh()))
        if isinstance(k, ir.Enum):
            cases = tuple(c.name for c in k.cases)
            return b.one(EnumLift(type=ty, cases=cases, args=(flat[0],), out=b.fresh()))
        if isinstance(k, ir.Handle):
            return b.one(self._handle_lift(ty, k, flat[0]))
        if isinstance(k, (ir.Future, ir.Stream)):
            return b.one(PrimLift(prim="u32", args=(flat[0],), out=b.fresh()))
        if isinstance(k, (ir.Variant, ir.Option, ir.Result)):
            return self._variant_lift_flat(ty, k, flat)
        raise TypeError(f"no lifting for {k!r}")

    def _store_body(self, ty: ir.Type, v: Var, addr: Var, offset: int, *, realloc: bool) -> None:
        b = self.b
        k = self._kind(ty)
        if isinstance(k, str) and k in PRIMITIVES:
            flat = b.one(PrimLower(prim=k, args=(v,), out=b.fresh()))
            b.emit(Store(width=PRIMITIVES[k][2], offset=offset, args=(flat, addr)))
            return
        if isinstance(k, (ir.Record, ir.Tuple, ir.FixedLengthList)):
            types, parts = self._split(ty, k, v)
            for t, p, off in zip(types, parts, self.layouts.field_offsets(types)):
                self.store(t, p, addr, offset + off, realloc=realloc)
            return
        if isinstance(k, ir.Flags):
            words = self._lower_body(ty, v, realloc=realloc)
            size = self.layouts.size(ty)
            if size < 4:
                b.emit(
                    Store(width="u8" if size == 1 else "u16", offset=offset, args=(words[0], addr))
                )
            else:
                for i, w in enumerate(words):
                    b.emit(Store(width="i32", offset=offset + 4 * i, args=(w, addr)))
            return
        if isinstance(k, ir.Enum):
            (index,) = self._lower_body(ty, v, realloc=realloc)
            b.emit(Store(width=self._disc_store(ty), offset=offset, args=(index, addr)))
            return
        if isinstance(k, (ir.Variant, ir.Option, ir.Result)):
            self._variant_store(ty, k, v, addr, offset, realloc)
            return
        # strings, lists, maps, handles, error-context, futures, streams: their flat values
        # are i32s laid out one after the other
        for i, f in enumerate(self._lower_body(ty, v, realloc=realloc)):
            b.emit(Store(width="i32", offset=offset + 4 * i, args=(f, addr)))

    def _load_body(self, ty: ir.Type, addr: Var, offset: int) -> Var:
        b = self.b
        k = self._kind(ty)
        if isinstance(k, str) and k in PRIMITIVES:
            raw = b.one(Load(width=PRIMITIVES[k][1], offset=offset, args=(addr,), out=b.fresh()))
            return b.one(PrimLift(prim=k, args=(raw,), out=b.fresh()))
        if isinstance(k, (ir.Record, ir.Tuple, ir.FixedLengthList)):
            types = self._members(k)
            parts = tuple(
                self.load(t, addr, offset + off)
                for t, off in zip(types, self.layouts.field_offsets(types))
            )
            return self._join(ty, k, parts)
        if isinstance(k, ir.Flags):
            size = self.layouts.size(ty)
            if size < 4:
                width: LoadWidth = "u8" if size == 1 else "u16"
                words: list[Var] = [
                    b.one(Load(width=width, offset=offset, args=(addr,), out=b.fresh()))
                ]
            else:
                words = [
                    b.one(Load(width="i32", offset=offset + 4 * i, args=(addr,), out=b.fresh()))
                    for i in range(size // 4)
                ]
            return self._lift_body(ty, words)
        if isinstance(k, ir.Enum):
            index = b.one(
                Load(width=self._disc_load(ty), offset=offset, args=(addr,), out=b.fresh())
            )
            return self._lift_body(ty, [index])
        if isinstance(k, (ir.Variant, ir.Option, ir.Result)):
            return self._variant_load(ty, k, addr, offset)
        n = len(self.layouts.flat(ty))
        words = [
            b.one(Load(width="i32", offset=offset + 4 * i, args=(addr,), out=b.fresh()))
            for i in range(n)
        ]
        return self._lift_body(ty, words)

    # -- helpers

    def _members(self, k: ir.Record | ir.Tuple | ir.FixedLengthList) -> list[ir.Type]:
        """The types laid out one after the other in a record, tuple or fixed-length list."""
        if isinstance(k, ir.Record):
            return [f.type for f in k.fields]
        if isinstance(k, ir.Tuple):
            return list(k.types)
        return [k.type] * k.length

    def _split(
        self, ty: ir.Type, k: ir.Record | ir.Tuple | ir.FixedLengthList, v: Var
    ) -> tuple[list[ir.Type], tuple[Var, ...]]:
        """A record, tuple or fixed-length list taken apart: its member types and values."""
        types = self._members(k)
        out = self.b.fresh(len(types))
        if isinstance(k, ir.Record):
            names = tuple(f.name for f in k.fields)
            self.b.emit(RecordLower(type=ty, fields=names, args=(v,), out=out))
        elif isinstance(k, ir.Tuple):
            self.b.emit(TupleLower(type=ty, count=len(types), args=(v,), out=out))
        else:
            self.b.emit(
                FixedListLower(type=ty, element=k.type, length=k.length, args=(v,), out=out)
            )
        return types, out

    def _join(
        self, ty: ir.Type, k: ir.Record | ir.Tuple | ir.FixedLengthList, parts: tuple[Var, ...]
    ) -> Var:
        """A record, tuple or fixed-length list put together from its members' values."""
        out = self.b.fresh()
        if isinstance(k, ir.Record):
            names = tuple(f.name for f in k.fields)
            return self.b.one(RecordLift(type=ty, fields=names, args=parts, out=out))
        if isinstance(k, ir.Tuple):
            return self.b.one(TupleLift(type=ty, count=len(parts), args=parts, out=out))
        return self.b.one(
            FixedListLift(type=ty, element=k.type, length=k.length, args=parts, out=out)
        )

    def _disc_store(self, ty: ir.Type) -> StoreWidth:
        shape = self.layouts.case_shape(ty)
        assert shape is not None
        return {1: "u8", 2: "u16", 4: "i32"}[shape.discriminant_size]  # type: ignore[return-value]

    def _disc_load(self, ty: ir.Type) -> LoadWidth:
        shape = self.layouts.case_shape(ty)
        assert shape is not None
        return {1: "u8", 2: "u16", 4: "i32"}[shape.discriminant_size]  # type: ignore[return-value]

    def _is_local(self, resource: int) -> bool:
        target = self.resolve.dealias(resource)
        return resource in self.local_resources or target in self.local_resources

    def _handle_lower(self, ty: ir.Type, k: ir.Handle, v: Var) -> Instruction:
        local = self._is_local(k.resource)
        handle: Literal["own", "borrow"] = "own" if k.kind == "own" else "borrow"
        return HandleLower(
            type=ty, resource=k.resource, handle=handle, local=local, args=(v,), out=self.b.fresh()
        )

    def _handle_lift(self, ty: ir.Type, k: ir.Handle, v: Var) -> Instruction:
        local = self._is_local(k.resource)
        handle: Literal["own", "borrow"] = "own" if k.kind == "own" else "borrow"
        return HandleLift(
            type=ty, resource=k.resource, handle=handle, local=local, args=(v,), out=self.b.fresh()
        )

    def _is_canonical(self, element: ir.Type) -> bool:
        e = self.resolve.dealias(element)
        return isinstance(e, str) and e in CANONICAL_ELEMENTS

    def _list_lower(self, ty: ir.Type, element: ir.Type, v: Var, realloc: bool) -> Instruction:
        b = self.b
        size, align = self.layouts.size(element), self.layouts.align(element)
        elem, addr = b.fresh(2)

        def body() -> tuple[Var, ...]:
            self.store(element, elem, addr, 0, realloc=realloc)
            return ()

        return ListLower(
            type=ty,
            element=element,
            size=size,
            align=align,
            canonical=self._is_canonical(element),
            realloc=realloc,
            body=b.block((elem, addr), body),
            args=(v,),
            out=b.fresh(2),
        )

    def _list_lift(self, ty: ir.Type, element: ir.Type, flat: tuple[Var, Var]) -> Instruction:
        b = self.b
        size, align = self.layouts.size(element), self.layouts.align(element)
        (addr,) = b.fresh()
        return ListLift(
            type=ty,
            element=element,
            size=size,
            align=align,
            canonical=self._is_canonical(element),
            body=b.block((addr,), lambda: (self.load(element, addr, 0),)),
            args=flat,
            out=b.fresh(),
        )

    def _entry(self, k: ir.Map) -> tuple[tuple[int, int], int, int]:
        offsets = self.layouts.field_offsets((k.key, k.value))
        align = max(self.layouts.align(k.key), self.layouts.align(k.value))
        end = offsets[1] + self.layouts.size(k.value)
        return (offsets[0], offsets[1]), (end + align - 1) // align * align, align

    def _map_lower(self, ty: ir.Type, k: ir.Map, v: Var, realloc: bool) -> Instruction:
        b = self.b
        (koff, voff), size, align = self._entry(k)
        key, value, addr = b.fresh(3)

        def body() -> tuple[Var, ...]:
            self.store(k.key, key, addr, koff, realloc=realloc)
            self.store(k.value, value, addr, voff, realloc=realloc)
            return ()

        return MapLower(
            type=ty,
            key=k.key,
            value=k.value,
            size=size,
            align=align,
            realloc=realloc,
            body=b.block((key, value, addr), body),
            args=(v,),
            out=b.fresh(2),
        )

    def _map_lift(self, ty: ir.Type, k: ir.Map, flat: tuple[Var, Var]) -> Instruction:
        b = self.b
        (koff, voff), size, align = self._entry(k)
        (addr,) = b.fresh()

        def body() -> tuple[Var, ...]:
            return (self.load(k.key, addr, koff), self.load(k.value, addr, voff))

        return MapLift(
            type=ty,
            key=k.key,
            value=k.value,
            size=size,
            align=align,
            body=b.block((addr,), body),
            args=flat,
            out=b.fresh(),
        )

    def _variant_facts(
        self, ty: ir.Type, k: ir.Variant | ir.Option | ir.Result
    ) -> tuple[VariantKind, tuple[str, ...], tuple[ir.Type | None, ...]]:
        if isinstance(k, ir.Option):
            return "option", ("none", "some"), (None, k.type)
        if isinstance(k, ir.Result):
            return "result", ("ok", "err"), (k.ok, k.err)
        return "variant", tuple(c.name for c in k.cases), tuple(c.type for c in k.cases)

    def _variant_lower_flat(
        self, ty: ir.Type, k: ir.Variant | ir.Option | ir.Result, v: Var, realloc: bool
    ) -> list[Var]:
        b = self.b
        kind, cases, payloads = self._variant_facts(ty, k)
        joined = self.layouts.flat(ty)[1:]
        blocks = []
        for i, payload in enumerate(payloads):
            params = b.fresh() if payload is not None else ()

            def body(
                i: int = i, payload: ir.Type | None = payload, params: tuple[Var, ...] = params
            ) -> list[Var]:
                out = [b.one(Const(value=i, core="i32", out=b.fresh()))]
                own = self.lower(payload, params[0], realloc=realloc) if payload is not None else []
                have = self.layouts.flat(payload) if payload is not None else ()
                for j, want in enumerate(joined):
                    if j < len(own):
                        name = cast_name(have[j], want)
                        out.append(
                            own[j]
                            if name is None
                            else b.one(Bitcast(cast=name, args=(own[j],), out=b.fresh()))
                        )
                    else:
                        out.append(b.one(Const(value=0, core=want, out=b.fresh())))
                return out

            blocks.append(b.block(params, body))
        return list(
            b.emit(
                VariantLower(
                    type=ty,
                    kind=kind,
                    cases=cases,
                    payloads=payloads,
                    case_blocks=tuple(blocks),
                    args=(v,),
                    out=b.fresh(1 + len(joined)),
                )
            )
        )

    def _variant_lift_flat(
        self, ty: ir.Type, k: ir.Variant | ir.Option | ir.Result, flat: list[Var]
    ) -> Var:
        b = self.b
        kind, cases, payloads = self._variant_facts(ty, k)
        joined = self.layouts.flat(ty)[1:]
        blocks = []
        for payload in payloads:

            def body(payload: ir.Type | None = payload) -> tuple[Var, ...]:
                if payload is None:
                    return ()
                own: list[Var] = []
                for j, want in enumerate(self.layouts.flat(payload)):
                    name = cast_name(joined[j], want)
                    own.append(
                        flat[1 + j]
                        if name is None
                        else b.one(Bitcast(cast=name, args=(flat[1 + j],), out=b.fresh()))
                    )
                return (self.lift(payload, own),)

            blocks.append(b.block((), body))
        return b.one(
            VariantLift(
                type=ty,
                kind=kind,
                cases=cases,
                payloads=payloads,
                case_blocks=tuple(blocks),
                args=(flat[0],),
                out=b.fresh(),
            )
        )

    def _variant_store(
        self,
        ty: ir.Type,
        k: ir.Variant | ir.Option | ir.Result,
        v: Var,
        addr: Var,
        offset: int,
        realloc: bool,
    ) -> None:
        b = self.b
        kind, cases, payloads = self._variant_facts(ty, k)
        width = self._disc_store(ty)
        payload_offset = offset + self.layouts.payload_offset(ty)
        blocks = []
        for i, payload in enumerate(payloads):
            params = b.fresh() if payload is not None else ()

            def body(
                i: int = i, payload: ir.Type | None = payload, params: tuple[Var, ...] = params
            ) -> tuple[Var, ...]:
                disc = b.one(Const(value=i, core="i32", out=b.fresh()))
                b.emit(Store(width=width, offset=offset, args=(disc, addr)))
                if payload is not None:
                    self.store(payload, params[0], addr, payload_offset, realloc=realloc)
                return ()

            blocks.append(b.block(params, body))
        b.emit(
            VariantLower(
                type=ty,
                kind=kind,
                cases=cases,
                payloads=payloads,
                case_blocks=tuple(blocks),
                args=(v,),
                out=(),
            )
        )

    def _variant_load(
        self, ty: ir.Type, k: ir.Variant | ir.Option | ir.Result, addr: Var, offset: int
    ) -> Var:
        b = self.b
        kind, cases, payloads = self._variant_facts(ty, k)
        disc = b.one(Load(width=self._disc_load(ty), offset=offset, args=(addr,), out=b.fresh()))
        payload_offset = offset + self.layouts.payload_offset(ty)
        blocks = []
        for payload in payloads:

            def body(payload: ir.Type | None = payload) -> tuple[Var, ...]:
                if payload is None:
                    return ()
                return (self.load(payload, addr, payload_offset),)

            blocks.append(b.block((), body))
        return b.one(
            VariantLift(
                type=ty,
                kind=kind,
                cases=cases,
                payloads=payloads,
                case_blocks=tuple(blocks),
                args=(disc,),
                out=b.fresh(),
            )
        )

    # -- freeing (post-return)

    def deallocate(self, ty: ir.Type, addr: Var, offset: int) -> None:
        """Free what the value at `addr + offset` owns (strings, lists, maps inside it)."""
        if not self.layouts.facts.of(ty).pointers:
            return
        b = self.b
        k = self._kind(ty)
        if k == "string":
            ptr, n = (
                b.one(Load(width="i32", offset=offset + 4 * i, args=(addr,), out=b.fresh()))
                for i in range(2)
            )
            b.emit(GuestDeallocateString(encoding=self.encoding, args=(ptr, n)))
            return
        if isinstance(k, (ir.List, ir.Map)):
            ptr = b.one(Load(width="i32", offset=offset, args=(addr,), out=b.fresh()))
            n = b.one(Load(width="i32", offset=offset + 4, args=(addr,), out=b.fresh()))
            (elem_addr,) = b.fresh()
            if isinstance(k, ir.List):
                size, align = self.layouts.size(k.type), self.layouts.align(k.type)

                def body() -> tuple[Var, ...]:
                    assert isinstance(k, ir.List)
                    self.deallocate(k.type, elem_addr, 0)
                    return ()

            else:
                (koff, voff), size, align = self._entry(k)

                def body() -> tuple[Var, ...]:
                    assert isinstance(k, ir.Map)
                    self.deallocate(k.key, elem_addr, koff)
                    self.deallocate(k.value, elem_addr, voff)
                    return ()

            b.emit(
                GuestDeallocateList(
                    size=size, align=align, body=b.block((elem_addr,), body), args=(ptr, n)
                )
            )
            return
        if isinstance(k, (ir.Record, ir.Tuple, ir.FixedLengthList)):
            types = self._members(k)
            for t, off in zip(types, self.layouts.field_offsets(types)):
                self.deallocate(t, addr, offset + off)
            return
        if isinstance(k, (ir.Variant, ir.Option, ir.Result)):
            _kind, _cases, payloads = self._variant_facts(ty, k)
            disc = b.one(
                Load(width=self._disc_load(ty), offset=offset, args=(addr,), out=b.fresh())
            )
            payload_offset = offset + self.layouts.payload_offset(ty)
            blocks = []
            for payload in payloads:

                def case(payload: ir.Type | None = payload) -> tuple[Var, ...]:
                    if payload is not None:
                        self.deallocate(payload, addr, payload_offset)
                    return ()

                blocks.append(b.block((), case))
            b.emit(GuestDeallocateVariant(case_blocks=tuple(blocks), args=(disc,)))


# ---------------------------------------------------------------------------- functions


def core_name(func: ir.Function, interface: str | None) -> str:
    """The core export/import name of `func` (`iface#name` for an interface's function)."""
    return f"{interface}#{func.name}" if interface else func.name


def function_stream(
    layouts: Layouts,
    func: ir.Function,
    role: str,
    *,
    interface: str | None = None,
    string_encoding: str = "utf8",
    local_resources: frozenset[int] = frozenset(),
    boundary: Callable[[ir.Type, str], bool] | None = None,
) -> Program:
    """The program of `func` in `role` (see the module docstring). Caller roles take the WIT
    arguments as params and return the WIT result; callee roles take the core arguments and
    return the core results. Synchronous functions, and async ones in the `guest-import` role
    (`canon lower async`: the core call answers a subtask status and the caller waits for the
    subtask to return before it loads the result; other roles raise ValueError: an async
    export's result goes through task.return, not through this stream)."""
    if role not in ROLE_SIDES:
        raise ValueError(f"role must be one of {ROLES}, not {role!r}")
    if func.is_async and role != "guest-import":
        raise ValueError(f"{func.name}: async functions use task.return (not in this stream)")
    direction, is_caller = ROLE_SIDES[role]
    sig = core_signature(layouts, func, direction)
    ts = TypeStreams(layouts, string_encoding, local_resources, boundary)
    b = ts.b
    name = core_name(func, interface)
    types = tuple(p.type for p in func.params)
    if is_caller:
        params = b.fresh(len(types))
        realloc = role == "host-call"
        core_args: list[Var] = []
        if sig.params_indirect:
            area = sig.param_area
            assert area is not None
            if realloc:
                ptr = b.one(Alloc(size=area.size, align=area.align, what="params", out=b.fresh()))
            else:
                ptr = b.one(ReturnArea(size=area.size, align=area.align, out=b.fresh()))
            for t, v, off in zip(types, params, area.offsets):
                ts.store(t, v, ptr, off, realloc=realloc)
            core_args.append(ptr)
        else:
            for t, v in zip(types, params):
                core_args += ts.lower(t, v, realloc=realloc)
        retptr = None
        if direction == "import" and sig.results_indirect:
            area = sig.result_area
            assert area is not None
            retptr = b.one(ReturnArea(size=area.size, align=area.align, out=b.fresh()))
            core_args.append(retptr)
        outs = b.emit(
            CallWasm(name=name, signature=sig, args=tuple(core_args), out=b.fresh(len(sig.results)))
        )
        results: tuple[Var, ...] = ()
        if func.result is not None:
            if sig.results_indirect:
                result_ptr = outs[0] if direction == "export" else retptr
                assert result_ptr is not None
                results = (ts.load(func.result, result_ptr, 0),)
            else:
                results = (ts.lift(func.result, list(outs)),)
        if role == "host-call":
            # whether there is a post-return is the component's (its `canon lift` options),
            # not only the result's: a guest may free nothing and still ask to be told
            b.emit(PostReturn(name=name, args=outs))
        b.emit(Return(args=results))
        return Program(f"{role} {name}", params, tuple(b.code), results, b.count)

    params = b.fresh(len(sig.params))
    core = list(params)
    retptr = None
    if direction == "import" and sig.results_indirect:
        retptr = core.pop()
    values: list[Var] = []
    if sig.params_indirect:
        area = sig.param_area
        assert area is not None
        values = [ts.load(t, core[0], off) for t, off in zip(types, area.offsets)]
        if role == "guest-export":
            b.emit(GuestDeallocate(size=area.size, align=area.align, args=(core[0],)))
    else:
        pos = 0
        for t in types:
            n = len(layouts.flat(t))
            values.append(ts.lift(t, core[pos : pos + n]))
            pos += n
    outs = b.emit(
        CallInterface(
            function=func, args=tuple(values), out=b.fresh(0 if func.result is None else 1)
        )
    )
    results = ()
    if func.result is not None:
        if not sig.results_indirect:
            results = tuple(ts.lower(func.result, outs[0], realloc=True))
        elif direction == "export":
            area = sig.result_area
            assert area is not None
            ptr = b.one(ReturnArea(size=area.size, align=area.align, out=b.fresh()))
            ts.store(func.result, outs[0], ptr, 0, realloc=True)
            results = (ptr,)
        else:
            assert retptr is not None
            ts.store(func.result, outs[0], retptr, 0, realloc=True)
    b.emit(Return(args=results))
    return Program(f"{role} {name}", params, tuple(b.code), results, b.count)


def post_return_stream(
    layouts: Layouts,
    func: ir.Function,
    *,
    interface: str | None = None,
    string_encoding: str = "utf8",
) -> Program | None:
    """The body of the guest's `cabi_post_<name>` for the export `func`: params are the export's
    core results; it frees the blocks its result owns. None when no post-return is needed."""
    sig = core_signature(layouts, func, "export")
    if not sig.needs_post_return or func.result is None:
        return None
    ts = TypeStreams(layouts, string_encoding)
    params = ts.b.fresh(len(sig.results))
    # a result that owns memory is more than one flat value, so it is always in memory
    assert sig.results_indirect
    ts.deallocate(func.result, params[0], 0)
    return Program(
        f"post-return {core_name(func, interface)}", params, tuple(ts.b.code), (), ts.b.count
    )


# ---------------------------------------------------------------------------- reading streams


def walk(body: tuple[Instruction, ...]) -> Iterator[Instruction]:
    """Every instruction of `body` and of its nested blocks, in order."""
    for inst in body:
        yield inst
        for block in inst.blocks():
            yield from walk(block.body)


_SKIP = {"args", "out"}


def _vars(vs: tuple[Var, ...]) -> str:
    return ", ".join(f"%{v}" for v in vs)


def _kebab(name: str) -> str:
    out = []
    for i, ch in enumerate(name):
        if ch.isupper() and i:
            out.append("-")
        out.append(ch.lower())
    return "".join(out)


def _detail(inst: Instruction, resolve: ir.Resolve | None) -> str:
    parts = []
    for f in fields(inst):
        if f.name in _SKIP:
            continue
        value = getattr(inst, f.name)
        if isinstance(value, (Block, tuple)) and (
            isinstance(value, Block) or (value and isinstance(value[0], Block))
        ):
            continue
        if (
            f.name in ("type", "element", "key", "value")
            and isinstance(value, int)
            and not isinstance(inst, Const)
        ):
            value = _type_text(resolve, value)
        elif f.name == "signature":
            value = f"({', '.join(value.params)}) -> ({', '.join(value.results)})"
        elif f.name == "function":
            value = value.name
        elif f.name == "payloads":
            value = (
                "(" + ", ".join("_" if p is None else _type_text(resolve, p) for p in value) + ")"
            )
        elif f.name in ("cases", "fields", "flags"):
            value = "(" + ", ".join(value) + ")"
        parts.append(f"{f.name}={value}")
    return " ".join(parts)


def _type_text(resolve: ir.Resolve | None, ty: ir.Type) -> str:
    if isinstance(ty, str) or resolve is None:
        return str(ty)
    from witgen.wit_printer import _Printer  # only for printing: WIT's own spelling

    try:
        return _Printer(resolve).type_name(ty)
    except (ValueError, AssertionError):
        return f"#{ty}"


def render(program: Program, resolve: ir.Resolve | None = None) -> str:
    """A program as text, one instruction a line, blocks indented (`witgen abi --stream`)."""
    lines = [f"{program.name}:", f"  params {_vars(program.params)}"]

    def emit(body: tuple[Instruction, ...], indent: str) -> None:
        for inst in body:
            lhs = f"{_vars(inst.out)} = " if inst.out else ""
            detail = _detail(inst, resolve)
            args = _vars(inst.args)
            lines.append(
                f"{indent}{lhs}{_kebab(type(inst).__name__)}"
                + (f" [{detail}]" if detail else "")
                + (f" {args}" if args else "")
            )
            cases = getattr(inst, "cases", None)
            for i, block in enumerate(inst.blocks()):
                label = cases[i] if cases is not None and i < len(cases) else f"block {i}"
                head = f"{indent}  {label}:"
                if block.params:
                    head += f" params {_vars(block.params)}"
                lines.append(head)
                emit(block.body, indent + "    ")
                if block.results:
                    lines.append(f"{indent}    yield {_vars(block.results)}")

    emit(program.body, "  ")
    if program.results and not (program.body and isinstance(program.body[-1], Return)):
        lines.append(f"  results {_vars(program.results)}")
    return "\n".join(lines)


__all__ = [
    "CASTS",
    "CANONICAL_ELEMENTS",
    "PRIMITIVES",
    "ROLES",
    "Block",
    "CallType",
    "Instruction",
    "Program",
    "TypeStreams",
    "cast_name",
    "function_stream",
    "post_return_stream",
    "render",
    "walk",
]
