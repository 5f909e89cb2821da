"""How WIT names and docs are spelled in TypeScript, following jco/componentize-js conventions.

WIT identifiers are kebab-case (`get-int`, `data-record`, `HTTP-client`). jco maps them to
lowerCamel for functions, fields, flags and parameters (`getInt`) and UpperCamel for types
(`DataRecord`). Enum cases and variant tags stay kebab-case string literals, because that is
what the runtime bindings pass around. Identifiers that are reserved in TypeScript are escaped
with a trailing underscore where they would be bindings; as property names they need no escape.
"""

from __future__ import annotations

import json

# ECMAScript reserved words, strict-mode reserved words, TypeScript's own contextual words that
# cannot be binding names, and `arguments`/`eval` (not bindable in strict mode).
RESERVED = frozenset("""
    break case catch class const continue debugger default delete do else enum export extends
    false finally for function if import in instanceof new null return super switch this throw
    true try typeof var void while with
    implements interface let package private protected public static yield await
    arguments eval undefined
    """.split())

# Global type names the generated code itself refers to; a WIT type spelled the same would
# shadow them inside a module, so such a type gets a trailing underscore.
GLOBAL_TYPE_NAMES = frozenset("""
    Array Uint8Array Int8Array Uint16Array Int16Array Uint32Array Int32Array BigUint64Array
    BigInt64Array Float32Array Float64Array Error Result Option ComponentError
    """.split())


def _words(kebab: str) -> list[str]:
    return [w for w in kebab.lstrip("%").split("-") if w]


def lower_camel(kebab: str) -> str:
    """`get-int` -> `getInt`, `HTTP-client` -> `httpClient`."""
    words = _words(kebab)
    if not words:
        return kebab
    return words[0].lower() + "".join(w[:1].upper() + w[1:].lower() for w in words[1:])


def upper_camel(kebab: str) -> str:
    """`data-record` -> `DataRecord`."""
    return "".join(w[:1].upper() + w[1:].lower() for w in _words(kebab))


def binding(kebab: str) -> str:
    """A local binding (parameter, function declared in a module): reserved words escaped."""
    name = lower_camel(kebab)
    return f"{name}_" if name in RESERVED else name


def member(kebab: str) -> str:
    """A property or method name: reserved words are legal here, so no escaping."""
    return lower_camel(kebab)


def method_key(kebab: str) -> str:
    """A method's name in an interface or type literal: `new(...)` there would declare a
    construct signature, so a method called `new` is written as the string key `"new"`."""
    name = member(kebab)
    return '"new"' if name == "new" else name


def type_name(kebab: str) -> str:
    """A declared type or interface name."""
    name = upper_camel(kebab)
    return f"{name}_" if name in GLOBAL_TYPE_NAMES else name


def string_literal(text: str) -> str:
    """A TypeScript string literal in prettier's default (double-quoted) style."""
    return json.dumps(text, ensure_ascii=False)


def module_file_stem(module: str) -> str:
    """`dataflare:core/logging@1.0.0` -> `dataflare-core-logging` (one file per interface)."""
    base = module.split("@", 1)[0]
    return base.replace(":", "-").replace("/", "-")


def tsdoc(docs: str | None, indent: str = "", extra: tuple[str, ...] = ()) -> list[str]:
    """WIT `///` docs as a TSDoc block (`extra` adds tag lines such as `@throws`)."""
    lines: list[str] = []
    if docs:
        lines.extend(docs.replace("*/", "*\\/").splitlines())
    if extra:
        if lines:
            lines.append("")
        lines.extend(extra)
    if not lines:
        return []
    out = [f"{indent}/**"]
    out.extend(f"{indent} * {line}".rstrip() for line in lines)
    out.append(f"{indent} */")
    return out
