"""Strings across the boundary: the three canonical-ABI encodings (CanonicalABI.md
`load_string_from_range` and `store_string`).

A string in memory is a (pointer, tagged code units) pair. `utf8` counts bytes (alignment 1),
`utf16` counts 16-bit code units (alignment 2), and `latin1+utf16` stores Latin-1 when every
character fits in one byte and UTF-16 otherwise, setting the high bit (`UTF16_TAG`) of the
length to say which.
"""

from __future__ import annotations

from typing import Any

from witgen.abi.memory import Memory
from witgen.abi.values import AbiTrap, AbiValueError

ENCODINGS = ("utf8", "utf16", "latin1+utf16")
UTF16_TAG = 1 << 31
MAX_STRING_BYTE_LENGTH = (1 << 31) - 1


def check_encoding(encoding: str) -> str:
    if encoding not in ENCODINGS:
        raise ValueError(f"string encoding must be one of {ENCODINGS}, not {encoding!r}")
    return encoding


def string_alignment(encoding: str) -> int:
    """Alignment of a string's bytes in memory."""
    return 1 if encoding == "utf8" else 2


def encode(text: str, encoding: str) -> tuple[bytes, int, int]:
    """(bytes, tagged code units, alignment) for `text` in `encoding`."""
    if not isinstance(text, str):
        raise AbiValueError(f"expected a str for a string, got {type(text).__name__}")
    try:
        if encoding == "utf8":
            data = text.encode("utf-8")
            return data, len(data), 1
        if encoding == "latin1+utf16":
            try:
                data = text.encode("latin-1")
                return data, len(data), 2
            except UnicodeEncodeError:
                data = text.encode("utf-16-le")
                return data, (len(data) // 2) | UTF16_TAG, 2
        data = text.encode("utf-16-le")
        return data, len(data) // 2, 2
    except UnicodeEncodeError as err:
        raise AbiValueError(
            f"string contains a lone surrogate at index {err.start}; it cannot be encoded"
        ) from None


def store_string_into_range(memory: Memory, text: str, encoding: str) -> tuple[int, int]:
    """Allocate with `cabi_realloc`, copy the encoded text, return (pointer, tagged units)."""
    data, tagged, align = encode(text, encoding)
    if len(data) > MAX_STRING_BYTE_LENGTH:
        raise AbiTrap(f"string of {len(data)} bytes exceeds the 2^31-1 byte limit")
    ptr = memory.realloc(0, 0, align, len(data))
    buf = memory.buf
    if ptr & (align - 1):
        raise AbiTrap(f"cabi_realloc returned {ptr:#x}, not aligned to {align} for a string")
    if ptr + len(data) > len(buf):
        raise AbiTrap(f"cabi_realloc returned {ptr:#x}: a {len(data)}-byte string is out of bounds")
    buf[ptr : ptr + len(data)] = data
    return ptr, tagged


def load_string_from_range(buf: Any, ptr: int, tagged: int, encoding: str) -> str:
    """Decode the string at `ptr` of memory `buf` with `tagged` code units; trap on anything
    invalid (misaligned, out of bounds, undecodable)."""
    if encoding == "utf8":
        align, byte_length, codec = 1, tagged, "utf-8"
    elif encoding == "utf16":
        align, byte_length, codec = 2, 2 * tagged, "utf-16-le"
    elif tagged & UTF16_TAG:
        align, byte_length, codec = 2, 2 * (tagged ^ UTF16_TAG), "utf-16-le"
    else:
        align, byte_length, codec = 2, tagged, "latin-1"
    if ptr & (align - 1):
        raise AbiTrap(f"string pointer {ptr:#x} is not aligned to {align} ({encoding})")
    if ptr + byte_length > len(buf):
        raise AbiTrap(
            f"string at {ptr:#x} of {byte_length} bytes is out of bounds "
            f"(memory is {len(buf)} bytes)"
        )
    try:
        return bytes(buf[ptr : ptr + byte_length]).decode(codec)
    except UnicodeDecodeError as err:
        raise AbiTrap(
            f"invalid {codec.upper()} in string at {ptr:#x}: {err.reason} at byte {err.start}"
        ) from None
