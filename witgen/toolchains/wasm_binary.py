"""Just enough of the WebAssembly binary format to list a core module's exports."""

from __future__ import annotations

MAGIC = b"\0asm"
CORE_VERSION = b"\x01\0\0\0"


def read_uleb(data: bytes, pos: int) -> tuple[int, int]:
    """The unsigned LEB128 number (at most 32 bits' worth of groups) at `pos`, and the position
    after it; ValueError when it is cut short or longer than a u32 may be."""
    result = shift = 0
    while True:
        if pos >= len(data) or shift > 35:
            raise ValueError("truncated or oversized LEB128 integer")
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return result, pos


def core_exports(data: bytes) -> list[str]:
    """The export names of a core module (ValueError when `data` is not one)."""
    if data[:4] != MAGIC or data[4:8] != CORE_VERSION:
        raise ValueError("not a WebAssembly core module")
    pos = 8
    names: list[str] = []
    while pos < len(data):
        section = data[pos]
        size, pos = read_uleb(data, pos + 1)
        end = pos + size
        if section == 7:
            count, pos = read_uleb(data, pos)
            for _ in range(count):
                length, pos = read_uleb(data, pos)
                names.append(data[pos : pos + length].decode("utf-8"))
                pos += length + 1  # the export kind
                _, pos = read_uleb(data, pos)  # its index
        pos = end
    return names
