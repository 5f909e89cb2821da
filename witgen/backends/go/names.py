"""Go spellings of WIT names: exported UpperCamel identifiers, package names, parameter names
and doc comments.

WIT names are kebab-case words (`data-record`, `get-int`, `HTTP-client`); Go wants `DataRecord`,
`GetInt`, `HTTPClient` for exported identifiers and short lowercase package names. Parameter
names are lowerCamel and must not shadow anything the generated bodies use (keywords, builtins,
the packages the generated files import).
"""

from __future__ import annotations

import re

from witgen.backends.go import doccomment

GO_KEYWORDS = frozenset(
    """break case chan const continue default defer else fallthrough for func go goto if
    import interface map package range return select struct switch type var""".split()
)

# Predeclared identifiers and the package names generated code refers to: a parameter or local
# spelled like one of these would shadow it inside a generated body.
GO_RESERVED = GO_KEYWORDS | frozenset(
    """any bool byte comparable complex64 complex128 error float32 float64 int int8 int16
    int32 int64 rune string uint uint8 uint16 uint32 uint64 uintptr true false iota nil
    append cap clear close complex copy delete imag len make new panic print println real
    recover unsafe math witrt impl""".split()
)

# Names the generated code gives its own temporaries (`tmp1`, `tmp2`...).
_TEMPORARY = re.compile(r"^tmp\d+$")


def _words(name: str) -> list[str]:
    return [w for w in name.lstrip("%").split("-") if w]


# Words Go spells in capitals (Go's own convention: `ID`, `URL`, `HTTPClient`).
INITIALISMS = frozenset(
    "api ascii cpu css dns eof html http https id io ip json os rpc sql tcp ttl udp ui uid "
    "uri url utf8 uuid xml".split()
)


def _cap(word: str) -> str:
    # An all-caps WIT word (an acronym such as `HTTP`) stays as written.
    if word.isupper():
        return word
    if word in INITIALISMS:
        return word.upper()
    return word[:1].upper() + word[1:]


def upper_camel(name: str) -> str:
    """`data-record` -> `DataRecord`, `HTTP-client` -> `HTTPClient` (exported Go names)."""
    return "".join(_cap(w) for w in _words(name))


def lower_camel(name: str) -> str:
    """`record-id` -> `recordId`, `type` -> `type_`: a safe parameter or local name."""
    words = _words(name)
    first = words[0] if words[0].isupper() else words[0].lower()
    ident = first.lower() + "".join(_cap(w) for w in words[1:])
    if ident in GO_RESERVED or _TEMPORARY.match(ident):
        ident += "_"
    return ident


def lower_first(ident: str) -> str:
    """`ProcessingResult` -> `processingResult`: an unexported name derived from a Go name."""
    return ident[:1].lower() + ident[1:]


def package_name(name: str) -> str:
    """`plugin-api` -> `pluginapi`: Go package names are short, lowercase, without dashes."""
    ident = "".join(_words(name)).lower()
    if ident in GO_RESERVED:
        ident += "_"
    return ident


def doc_comment(docs: str | None, indent: str = "") -> str:
    """WIT `///` docs as Go `//` comment lines (empty string when there are none).

    Unindented ones stand above top-level declarations, where gofmt rewrites a comment into
    canonical doc-comment form (code blocks, lists, headings): they are laid out that way
    already (`doccomment.format`). Indented ones (struct fields, interface methods) gofmt
    leaves as they are."""
    if not docs:
        return ""
    lines = [line.rstrip() for line in docs.strip("\n").splitlines()]
    if indent == "":
        return "".join(f"//{line}\n" for line in doccomment.format(lines))
    return "".join(f"{indent}//{' ' if line.strip() else ''}{line}\n" for line in lines)
