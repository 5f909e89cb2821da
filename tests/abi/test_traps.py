"""Every trap condition of CanonicalABI.md raises `AbiTrap` with a clear message, and values
that do not fit their type raise `AbiValueError`; nothing returns garbage."""

from __future__ import annotations

import struct
from typing import Any, Iterator

import pytest

from witgen.abi.calls import lift_params, lift_results
from witgen.abi.codec import AbiContext
from witgen.abi.memory import BytesMemory
from witgen.abi.values import AbiTrap, AbiValueError, VariantValue

from test_rules import Types, func


def ctx(t: Types, size: int = 256, encoding: str = "utf8") -> tuple[AbiContext, BytesMemory]:
    mem = BytesMemory(size)
    return AbiContext(t.layouts(), mem, encoding), mem


@pytest.mark.parametrize("code", [0xD800, 0xDFFF, 0x110000, 0xFFFF_FFFF])
def test_invalid_char(code: int) -> None:
    cx, mem = ctx(Types())
    with pytest.raises(AbiTrap, match="invalid char"):
        cx.lift_flat([code], "char")
    struct.pack_into("<I", mem.buf, 4, code)
    with pytest.raises(AbiTrap, match="invalid char"):
        cx.load("char", 4)


def test_invalid_discriminants() -> None:
    t = Types()
    opt = t.option("u8")
    enum = t.enum(3)
    var = t.variant(a=None, b="u32")
    res = t.result()
    cx, mem = ctx(t)
    for ty, bad in [(opt, 2), (enum, 3), (var, 2), (res, 7)]:
        width = len(cx.layouts.flat(ty))
        with pytest.raises(AbiTrap, match="discriminant"):
            cx.lift_flat([bad] + [0] * (width - 1), ty)
        mem.buf[16] = bad
        with pytest.raises(AbiTrap, match="discriminant"):
            cx.load(ty, 16)


@pytest.mark.parametrize(
    "encoding, data",
    [
        ("utf8", b"\xff"),
        ("utf8", b"\xed\xa0\x80"),  # an encoded surrogate
        ("utf8", b"\xe6\x97"),  # truncated sequence
        ("utf16", b"\x00\xd8"),  # a lone high surrogate
        ("latin1+utf16", b"\x00\xdc"),  # a lone low surrogate (tagged UTF-16)
    ],
)
def test_invalid_string_encodings(encoding: str, data: bytes) -> None:
    cx, mem = ctx(Types(), encoding=encoding)
    mem.buf[32 : 32 + len(data)] = data
    units = len(data) if encoding == "utf8" else len(data) // 2
    if encoding == "latin1+utf16":
        units |= 1 << 31
    with pytest.raises(AbiTrap, match="invalid UTF"):
        cx.lift_flat([32, units], "string")


def test_misaligned_and_out_of_bounds_strings() -> None:
    cx, _ = ctx(Types(), size=64, encoding="utf16")
    with pytest.raises(AbiTrap, match="not aligned to 2"):
        cx.lift_flat([33, 1], "string")
    with pytest.raises(AbiTrap, match="out of bounds"):
        cx.lift_flat([32, 17], "string")
    cx8, _ = ctx(Types(), size=64)
    with pytest.raises(AbiTrap, match="out of bounds"):
        cx8.lift_flat([0xFFFF_FFF0, 0x20], "string")  # no wrap-around


def test_misaligned_and_out_of_bounds_lists_and_loads() -> None:
    t = Types()
    lst = t.list("u32")
    rec = t.record(a="u64")
    cx, _ = ctx(t, size=64)
    with pytest.raises(AbiTrap, match="not aligned to 4"):
        cx.lift_flat([2, 1], lst)
    with pytest.raises(AbiTrap, match="out of bounds"):
        cx.lift_flat([60, 2], lst)
    with pytest.raises(AbiTrap, match="not aligned to 8"):
        cx.load(rec, 4)
    with pytest.raises(AbiTrap, match="out of bounds"):
        cx.load(rec, 64)
    with pytest.raises(AbiTrap, match="not aligned"):
        cx.store({"a": 1}, rec, 12)


class HugeList:
    """Pretends to have 2^30 elements without holding them."""

    def __len__(self) -> int:
        return 1 << 30

    def __iter__(self) -> Iterator[int]:
        return iter(())


def test_list_byte_length_overflow() -> None:
    t = Types()
    lst = t.list("u64")
    cx, _ = ctx(t)
    with pytest.raises(AbiTrap, match="2\\^32"):
        cx.lower_flat(HugeList(), lst)


class BadRealloc(BytesMemory):
    def realloc(self, old_ptr: int, old_size: int, align: int, new_size: int) -> int:
        return 3 if align > 1 else len(self.buf) - 1


def test_realloc_results_are_checked() -> None:
    t = Types()
    lst = t.list("u32")
    cx = AbiContext(t.layouts(), BadRealloc(64))
    with pytest.raises(AbiTrap, match="not aligned"):
        cx.lower_flat([1], lst)
    with pytest.raises(AbiTrap, match="out of bounds"):
        cx.lower_flat("long string", "string")


def test_indirect_parameter_and_return_areas_are_checked() -> None:
    cx, _ = ctx(Types(), size=128)
    many = func(["u64"] * 17, "string")
    with pytest.raises(AbiTrap, match="parameter area pointer 0x4 is not aligned to 8"):
        lift_params(cx, many, "export", [4])
    with pytest.raises(AbiTrap, match="out of bounds"):
        lift_params(cx, many, "export", [64])
    with pytest.raises(AbiTrap, match="return area"):
        lift_results(cx, many, "export", [126])
    with pytest.raises(AbiTrap, match="return area"):
        lift_results(cx, many, "import", [], retptr=2)


@pytest.mark.parametrize(
    "ty, value, message",
    [
        ("u8", 256, "out of range"),
        ("s8", -129, "out of range"),
        ("u32", True, "expected an int"),
        ("u64", 1.0, "expected an int"),
        ("bool", 1, "expected a bool"),
        ("char", "ab", "one-character"),
        ("char", "\ud800", "surrogate"),
        ("string", "a\udc00", "lone surrogate"),
        ("f32", "1.0", "expected a float"),
    ],
)
def test_values_that_do_not_fit(ty: str, value: Any, message: str) -> None:
    cx, _ = ctx(Types())
    with pytest.raises(AbiValueError, match=message):
        cx.lower_flat(value, ty)


def test_compound_values_that_do_not_fit() -> None:
    t = Types()
    rec = t.record(a="u8", b="u8")
    enum = t.enum(2)
    flags = t.flags(2)
    var = t.variant(a=None, b="u8")
    opt = t.option("u8")
    res = t.result("u8")
    fixed = t.fixed("u8", 2)
    cx, _ = ctx(t)
    cases: list[tuple[int, Any, str]] = [
        (rec, {"a": 1}, "missing \\['b'\\]"),
        (rec, {"a": 1, "c": 2}, "unexpected \\['c'\\]"),
        (rec, [1, 2], "expected a dict"),
        (enum, "nope", "enum cases"),
        (flags, {"zz"}, "unknown flag"),
        (var, VariantValue("c"), "no case 'c'"),
        (var, VariantValue("a", 1), "no payload"),
        (var, "a", "expected a VariantValue"),
        (opt, 3, "Some"),
        (res, 3, "Ok"),
        (fixed, [1], "2 elements"),
    ]
    for ty, value, message in cases:
        with pytest.raises(AbiValueError, match=message):
            cx.lower_flat(value, ty)
