"""Python spelling of WIT names: snake_case functions and fields, UpperCamel classes,
UPPER_SNAKE enum members, keyword escaping (`type` -> `type_`), docs as docstrings."""

from __future__ import annotations

import keyword

# Keywords, plus names that are legal but would shadow what generated annotations and
# methods rely on (a field named `list` would hide `list[...]` in later annotations).
_RESERVED = (
    frozenset(keyword.kwlist)
    | frozenset(keyword.softkwlist)
    | {"self", "cls", "type", "bool", "int", "float", "str", "bytes", "list", "tuple", "object"}
)


def snake(name: str) -> str:
    """`record-id` -> `record_id`; Python keywords get a trailing underscore."""
    out = name.replace("-", "_").lower()
    return out + "_" if out in _RESERVED else out


def camel(name: str) -> str:
    """`data-record` -> `DataRecord`; WIT acronyms stay as written (`http-URL` -> `HttpURL`)."""
    parts = name.split("-")
    return "".join(p[:1].upper() + p[1:] if not p.isupper() else p for p in parts)


def const(name: str) -> str:
    """`invalid-input` -> `INVALID_INPUT` (enum and flag members)."""
    out = name.replace("-", "_").upper()
    return out + "_" if out in _RESERVED else out


def package(namespace: str, name: str) -> str:
    """`dataflare:core` -> `dataflare_core`: the import name of the generated package."""
    return f"{snake(namespace).rstrip('_')}_{snake(name).rstrip('_')}"


def docstring(text: str | None, indent: str = "") -> str | None:
    """A triple-quoted docstring literal for WIT docs, or None when there are none."""
    if not text:
        return None
    body = text.strip().replace("\\", "\\\\").replace('"""', '\\"\\"\\"')
    lines = [line.rstrip() for line in body.splitlines()]
    if body.endswith('"'):
        lines[-1] += " "
    if len(lines) == 1:
        return f'"""{lines[0]}"""'
    rest = "\n".join((indent + line) if line.strip() else "" for line in lines[1:])
    return f'"""{lines[0]}\n{rest}\n{indent}"""'
