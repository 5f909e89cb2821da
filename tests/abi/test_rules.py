"""Each rule of CanonicalABI.md with hand-computed expected values.

Sizes, alignments and flat types of every kind (`alignment`, `elem_size`, `flatten_type`),
discriminant widths, flags widths, variant joins, function signatures (`flatten_functype`)
for sync and async, imports and exports, and the exact flat values and bytes of lowering.
"""

from __future__ import annotations

import struct

import pytest

from witgen import ir
from witgen.abi import Layouts, discriminant_size, join
from witgen.abi.codec import CANONICAL_FLOAT32_NAN, AbiContext
from witgen.abi.memory import BytesMemory
from witgen.abi.signature import core_signature
from witgen.abi.values import AbiValueError, Err, Ok, Some, VariantValue


class Types:
    """A tiny arena to write types in tests: `t.record(a="u8")`, `t.option("u32")`..."""

    def __init__(self) -> None:
        self.defs: list[ir.TypeDef] = []

    def add(self, kind: ir.TypeDefKind) -> int:
        self.defs.append(ir.TypeDef(None, kind, None))
        return len(self.defs) - 1

    def record(self, **fields: ir.Type) -> int:
        return self.add(ir.Record(tuple(ir.Field(k, v) for k, v in fields.items())))

    def tuple(self, *types: ir.Type) -> int:
        return self.add(ir.Tuple(types))

    def list(self, ty: ir.Type) -> int:
        return self.add(ir.List(ty))

    def fixed(self, ty: ir.Type, n: int) -> int:
        return self.add(ir.FixedLengthList(ty, n))

    def variant(self, **cases: ir.Type | None) -> int:
        return self.add(ir.Variant(tuple(ir.Case(k, v) for k, v in cases.items())))

    def enum(self, n: int) -> int:
        return self.add(ir.Enum(tuple(ir.EnumCase(f"e{i}") for i in range(n))))

    def flags(self, n: int) -> int:
        return self.add(ir.Flags(tuple(ir.Flag(f"f{i}") for i in range(n))))

    def option(self, ty: ir.Type) -> int:
        return self.add(ir.Option(ty))

    def result(self, ok: ir.Type | None = None, err: ir.Type | None = None) -> int:
        return self.add(ir.Result(ok, err))

    def resource(self) -> int:
        return self.add(ir.Resource())

    def layouts(self) -> Layouts:
        return Layouts(ir.Resolve((), (), (), tuple(self.defs)))


def func(
    params: list[str] | list[ir.Type], result: ir.Type | None = None, kind: str = "freestanding"
) -> ir.Function:
    return ir.Function(
        "f", kind, None, tuple(ir.Param(f"p{i}", t) for i, t in enumerate(params)), result
    )


# ---------------------------------------------------------------------------- alignment, size


@pytest.mark.parametrize(
    "prim, size, align, flat",
    [
        ("bool", 1, 1, ["i32"]),
        ("u8", 1, 1, ["i32"]),
        ("s8", 1, 1, ["i32"]),
        ("u16", 2, 2, ["i32"]),
        ("s16", 2, 2, ["i32"]),
        ("u32", 4, 4, ["i32"]),
        ("s32", 4, 4, ["i32"]),
        ("u64", 8, 8, ["i64"]),
        ("s64", 8, 8, ["i64"]),
        ("f32", 4, 4, ["f32"]),
        ("f64", 8, 8, ["f64"]),
        ("char", 4, 4, ["i32"]),
        ("string", 8, 4, ["i32", "i32"]),
        ("error-context", 4, 4, ["i32"]),
    ],
)
def test_primitive_layouts(prim: str, size: int, align: int, flat: list[str]) -> None:
    L = Types().layouts()
    assert (L.size(prim), L.align(prim), list(L.flat(prim))) == (size, align, flat)


def test_record_fields_are_aligned_and_size_rounded_to_alignment() -> None:
    t = Types()
    r = t.record(a="u8", b="u32", c="u8")
    wide = t.record(a="u8", b="u64")
    L = t.layouts()
    assert L.field_offsets(["u8", "u32", "u8"]) == (0, 4, 8)
    assert (L.size(r), L.align(r), list(L.flat(r))) == (12, 4, ["i32", "i32", "i32"])
    assert (L.size(wide), L.align(wide), list(L.flat(wide))) == (16, 8, ["i32", "i64"])


def test_tuple_is_a_record_of_its_elements() -> None:
    t = Types()
    tup = t.tuple("u8", "u16", "u8")
    L = t.layouts()
    assert L.field_offsets(["u8", "u16", "u8"]) == (0, 2, 4)
    assert (L.size(tup), L.align(tup)) == (6, 2)


def test_lists_are_pointer_and_length() -> None:
    t = Types()
    lst = t.list("u64")
    L = t.layouts()
    assert (L.size(lst), L.align(lst), list(L.flat(lst))) == (8, 4, ["i32", "i32"])


def test_fixed_length_list_repeats_its_element() -> None:
    t = Types()
    fixed = t.fixed("u16", 3)
    L = t.layouts()
    assert (L.size(fixed), L.align(fixed), list(L.flat(fixed))) == (6, 2, ["i32"] * 3)


def test_handles_futures_and_streams_are_i32() -> None:
    t = Types()
    res = t.resource()
    own = t.add(ir.Handle("own", res))
    borrow = t.add(ir.Handle("borrow", res))
    fut = t.add(ir.Future("u8"))
    stream = t.add(ir.Stream(None))
    L = t.layouts()
    for ty in (own, borrow, fut, stream):
        assert (L.size(ty), L.align(ty), list(L.flat(ty))) == (4, 4, ["i32"])
    with pytest.raises(ValueError):
        L.size(res)


# ---------------------------------------------------------------------------- discriminants


@pytest.mark.parametrize(
    "cases, width", [(1, 1), (2, 1), (255, 1), (256, 1), (257, 2), (65536, 2), (65537, 4)]
)
def test_discriminant_width(cases: int, width: int) -> None:
    assert discriminant_size(cases) == width


@pytest.mark.parametrize("cases, size", [(2, 1), (256, 1), (257, 2)])
def test_enum_layout_follows_discriminant(cases: int, size: int) -> None:
    t = Types()
    e = t.enum(cases)
    L = t.layouts()
    assert (L.size(e), L.align(e), list(L.flat(e))) == (size, size, ["i32"])


def test_variant_with_257_cases_has_u16_discriminant_before_payload() -> None:
    t = Types()
    cases: dict[str, ir.Type | None] = {f"c{i}": None for i in range(256)}
    cases["last"] = "u32"
    v = t.variant(**cases)
    L = t.layouts()
    assert L.payload_offset(v) == 4
    assert (L.size(v), L.align(v), list(L.flat(v))) == (8, 4, ["i32", "i32"])


# ---------------------------------------------------------------------------- flags


@pytest.mark.parametrize(
    "n, size, align, flat",
    [
        (1, 1, 1, ["i32"]),
        (8, 1, 1, ["i32"]),
        (9, 2, 2, ["i32"]),
        (16, 2, 2, ["i32"]),
        (17, 4, 4, ["i32"]),
        (32, 4, 4, ["i32"]),
        (33, 8, 4, ["i32", "i32"]),
    ],
)
def test_flags_width(n: int, size: int, align: int, flat: list[str]) -> None:
    t = Types()
    f = t.flags(n)
    L = t.layouts()
    assert (L.size(f), L.align(f), list(L.flat(f))) == (size, align, flat)


# ---------------------------------------------------------------------------- variants and joins


@pytest.mark.parametrize(
    "a, b, joined",
    [
        ("i32", "i32", "i32"),
        ("i32", "f32", "i32"),
        ("f32", "i32", "i32"),
        ("f32", "i64", "i64"),
        ("i32", "i64", "i64"),
        ("f32", "f64", "i64"),
        ("f64", "i64", "i64"),
        ("f64", "f64", "f64"),
    ],
)
def test_join(a: str, b: str, joined: str) -> None:
    assert join(a, b) == joined


def test_variant_layouts_join_payloads_position_by_position() -> None:
    t = Types()
    i32_f32 = t.variant(a="u32", b="f32")
    f32_i64 = t.variant(a="f32", b="u64")
    f32_f64 = t.variant(a="f32", b="f64")
    pairs = t.variant(a=t.tuple("u8", "f32"), b=t.tuple("f32", "u64"), c=None)
    L = t.layouts()
    assert (L.size(i32_f32), L.align(i32_f32), list(L.flat(i32_f32))) == (8, 4, ["i32", "i32"])
    assert (L.size(f32_i64), L.align(f32_i64), list(L.flat(f32_i64))) == (16, 8, ["i32", "i64"])
    assert list(L.flat(f32_f64)) == ["i32", "i64"]
    assert list(L.flat(pairs)) == ["i32", "i32", "i64"]
    assert (L.payload_offset(pairs), L.size(pairs), L.align(pairs)) == (8, 24, 8)


def test_option_and_result_are_despecialised_variants() -> None:
    t = Types()
    opt_u8 = t.option("u8")
    opt_u64 = t.option("u64")
    opt_str = t.option("string")
    res = t.result("u32", "string")
    bare = t.result()
    L = t.layouts()
    assert (L.size(opt_u8), L.align(opt_u8), list(L.flat(opt_u8))) == (2, 1, ["i32", "i32"])
    assert (L.size(opt_u64), L.align(opt_u64), list(L.flat(opt_u64))) == (16, 8, ["i32", "i64"])
    assert (L.size(opt_str), list(L.flat(opt_str))) == (12, ["i32", "i32", "i32"])
    assert (L.payload_offset(res), L.size(res), L.align(res)) == (4, 12, 4)
    assert list(L.flat(res)) == ["i32", "i32", "i32"]
    assert (L.size(bare), L.align(bare), list(L.flat(bare))) == (1, 1, ["i32"])


# ---------------------------------------------------------------------------- signatures


def test_sixteen_flat_params_stay_flat_seventeen_go_through_memory() -> None:
    L = Types().layouts()
    sixteen = core_signature(L, func(["u32"] * 16), "export")
    assert sixteen.params == ("i32",) * 16 and not sixteen.params_indirect
    seventeen = core_signature(L, func(["u32"] * 17), "export")
    assert seventeen.params == ("i32",) and seventeen.params_indirect
    assert seventeen.param_area is not None
    assert (seventeen.param_area.size, seventeen.param_area.align) == (68, 4)
    lowered = core_signature(L, func(["u32"] * 17), "import")
    assert lowered.params == ("i32",) and lowered.params_indirect


def test_indirect_results_return_a_pointer_from_exports_and_take_a_retptr_in_imports() -> None:
    L = Types().layouts()
    f = func(["u32"], "string")
    lifted = core_signature(L, f, "export")
    assert (lifted.params, lifted.results) == (("i32",), ("i32",))
    assert lifted.results_indirect and lifted.needs_post_return
    lowered = core_signature(L, f, "import")
    assert (lowered.params, lowered.results) == (("i32", "i32"), ())
    assert lowered.result_area is not None and lowered.result_area.size == 8
    one = core_signature(L, func(["u64"], "f64"), "export")
    assert (one.params, one.results, one.needs_post_return) == (("i64",), ("f64",), False)


def test_async_signatures() -> None:
    L = Types().layouts()
    five = ["u32"] * 5
    lift = core_signature(L, func(five, "string", "async-freestanding"), "export")
    # callback ABI: flat params up to 16, results come through task.return, i32 status code
    assert (lift.params, lift.results) == (("i32",) * 5, ("i32",))
    assert not lift.needs_post_return
    lower4 = core_signature(L, func(["u32"] * 4, None, "async-freestanding"), "import")
    assert (lower4.params, lower4.results) == (("i32",) * 4, ("i32",))
    lower5 = core_signature(L, func(five, "u32", "async-freestanding"), "import")
    # above MAX_FLAT_ASYNC_PARAMS (4): one pointer; any result: a retptr; returns a status
    assert (lower5.params, lower5.results) == (("i32", "i32"), ("i32",))
    assert lower5.params_indirect and lower5.results_indirect


# ---------------------------------------------------------------------------- flat values


def test_integers_lower_to_unsigned_bit_patterns_and_lift_wrapping() -> None:
    cx = AbiContext(Types().layouts())
    assert cx.lower_flat(-1, "s8") == [0xFFFF_FFFF]
    assert cx.lower_flat(-2, "s64") == [0xFFFF_FFFF_FFFF_FFFE]
    assert cx.lift_flat([0xFFFF_FFFF], "s8") == -1
    assert cx.lift_flat([-1], "s32") == -1  # signed core values are accepted too
    assert cx.lift_flat([0x1FF], "u8") == 0xFF  # lift_flat_unsigned wraps to the width
    assert cx.lift_flat([0x8000], "s16") == -32768
    assert cx.lift_flat([2], "bool") is True  # any non-zero i32 is true


def test_floats_round_to_f32_and_nans_become_canonical() -> None:
    cx = AbiContext(Types().layouts())
    assert cx.lower_flat(0.1, "f32") == [struct.unpack("<f", struct.pack("<f", 0.1))[0]]
    assert cx.lower_flat(1e300, "f32") == [float("inf")]
    (nan,) = cx.lower_flat(float("nan"), "f32")
    assert struct.pack("<f", nan) == struct.pack("<I", CANONICAL_FLOAT32_NAN)
    payload_nan = struct.unpack("<d", struct.pack("<Q", 0x7FF0_0000_0000_0001))[0]
    lifted = cx.lift_flat([payload_nan], "f64")
    assert struct.pack("<d", lifted) == struct.pack("<Q", 0x7FF8_0000_0000_0000)


def test_variant_payloads_are_coerced_to_the_joined_flat_types() -> None:
    t = Types()
    i32_f32 = t.variant(a="u32", b="f32")
    f32_i64 = t.variant(a="f32", b="u64")
    f64_i64 = t.variant(a="f64", b="s64")
    padded = t.variant(a=None, b=t.tuple("u32", "u32"))
    cx = AbiContext(t.layouts())
    assert cx.lower_flat(VariantValue("b", 1.5), i32_f32) == [1, 0x3FC0_0000]
    assert cx.lower_flat(VariantValue("a", 1.5), f32_i64) == [0, 0x3FC0_0000]
    assert cx.lower_flat(VariantValue("a", 1.0), f64_i64) == [0, 0x3FF0_0000_0000_0000]
    assert cx.lower_flat(VariantValue("a"), padded) == [0, 0, 0]
    assert cx.lift_flat([1, 0x3FC0_0000], i32_f32) == VariantValue("b", 1.5)
    assert cx.lift_flat([1, 0x1_0000_0007], f32_i64) == VariantValue("b", 0x1_0000_0007)
    assert cx.lift_flat([0, 0xDEAD_0000_3FC0_0000], f32_i64) == VariantValue("a", 1.5)
    assert cx.lift_flat([0, 0x3FF0_0000_0000_0000], f64_i64) == VariantValue("a", 1.0)
    assert cx.lift_flat([0, 123, 456], padded) == VariantValue("a")  # padding is ignored


def test_option_result_enum_flags_flat_values() -> None:
    t = Types()
    opt = t.option("u32")
    res = t.result("u32", None)
    enum = t.enum(3)
    flags = t.flags(3)
    wide = t.flags(33)
    cx = AbiContext(t.layouts())
    assert cx.lower_flat(None, opt) == [0, 0]
    assert cx.lower_flat(Some(7), opt) == [1, 7]
    assert cx.lower_flat(Ok(5), res) == [0, 5]
    assert cx.lower_flat(Err(), res) == [1, 0]
    assert cx.lower_flat("e2", enum) == [2]
    assert cx.lower_flat(frozenset({"f0", "f2"}), flags) == [0b101]
    assert cx.lift_flat([0xFFFF_FFFF], flags) == frozenset({"f0", "f1", "f2"})  # extra bits
    assert cx.lower_flat(frozenset({"f0", "f32"}), wide) == [1, 1]


# ---------------------------------------------------------------------------- memory


def test_store_writes_the_exact_bytes_of_a_record() -> None:
    t = Types()
    rec = t.record(a="u8", b="u32", c="s16", d="f64")
    mem = BytesMemory(64)
    cx = AbiContext(t.layouts(), mem)
    cx.store({"a": 1, "b": 0x01020304, "c": -2, "d": 1.0}, rec, 8)
    assert bytes(mem.buf[8:32]) == (
        b"\x01\x00\x00\x00"
        + b"\x04\x03\x02\x01"
        + b"\xfe\xff"
        + b"\x00" * 6
        + struct.pack("<d", 1.0)
    )
    assert cx.load(rec, 8) == {"a": 1, "b": 0x01020304, "c": -2, "d": 1.0}


def test_strings_in_each_encoding() -> None:
    L = Types().layouts()
    for encoding, text, tagged, data in [
        ("utf8", "aé😀", 7, "aé😀".encode("utf-8")),
        ("utf16", "aé😀", 4, "aé😀".encode("utf-16-le")),
        ("latin1+utf16", "aé", 2, b"a\xe9"),
        ("latin1+utf16", "a日", 2 | 1 << 31, "a日".encode("utf-16-le")),
    ]:
        mem = BytesMemory(256)
        cx = AbiContext(L, mem, encoding)
        ptr, units = cx.lower_flat(text, "string")
        assert units == tagged
        assert bytes(mem.buf[ptr : ptr + len(data)]) == data
        assert ptr % (1 if encoding == "utf8" else 2) == 0
        assert cx.lift_flat([ptr, units], "string") == text


def test_lists_allocate_with_element_alignment() -> None:
    t = Types()
    lst = t.list("u64")
    mem = BytesMemory(256, heap_start=1)
    cx = AbiContext(t.layouts(), mem)
    ptr, n = cx.lower_flat([1, 2], lst)
    assert (ptr % 8, n) == (0, 2)
    assert mem.allocations[-1] == (ptr, 8, 16)
    assert bytes(mem.buf[ptr : ptr + 16]) == struct.pack("<QQ", 1, 2)
    assert cx.lift_flat([ptr, n], lst) == [1, 2]


def test_list_of_u8_accepts_bytes_and_lifts_bytes() -> None:
    t = Types()
    lst = t.list("u8")
    cx = AbiContext(t.layouts(), BytesMemory(64))
    flat = cx.lower_flat(b"\x00\xff", lst)
    assert cx.lift_flat(flat, lst) == b"\x00\xff"
    assert cx.lift_flat(cx.lower_flat([1, 2], lst), lst) == b"\x01\x02"


def test_fixed_length_lists_and_maps_round_trip() -> None:
    t = Types()
    fixed = t.fixed("u16", 3)
    amap = t.add(ir.Map("string", "u32"))
    mem = BytesMemory(256)
    cx = AbiContext(t.layouts(), mem)
    assert cx.lower_flat([1, 2, 3], fixed) == [1, 2, 3]
    assert cx.lift_flat([1, 2, 0x10003], fixed) == [1, 2, 3]
    cx.store([7, 8, 9], fixed, 2)
    assert bytes(mem.buf[2:8]) == struct.pack("<3H", 7, 8, 9)
    flat = cx.lower_flat({"a": 1, "bé": 2}, amap)
    ptr, n = flat
    assert n == 2 and ptr % 4 == 0
    # laid out as list<tuple<string, u32>>: (ptr, len, value) per entry, 12 bytes each
    assert struct.unpack_from("<I", mem.buf, ptr + 8)[0] == 1
    assert cx.lift_flat(flat, amap) == {"a": 1, "bé": 2}


def test_integer_lists_use_the_fast_path_but_keep_checks() -> None:
    t = Types()
    lst = t.list("s16")
    cx = AbiContext(t.layouts(), BytesMemory(256))
    assert cx.lift_flat(cx.lower_flat([-1, 2, -32768], lst), lst) == [-1, 2, -32768]
    with pytest.raises(AbiValueError, match="out of range"):
        cx.lower_flat([1, 40000], lst)
    with pytest.raises(AbiValueError, match="expected an int"):
        cx.lower_flat([1, True], lst)
