"""The fast path of `parser.parse_text`: a hand-written recursive-descent parser for valid WIT.

It scans a file into a plain list of token texts (no Lark tokens, no offsets) and descends
the grammar of `wit.lark` directly, building the very AST that the Lark parser builds (the same
nodes, spans and doc comments; `Id.pos`/`Attr.pos`, which only the exact path reads, stay -1).
Its spans hold token numbers: where a token starts is worked out from the text only when a span
is first read (an error, a test), which `check` on a valid file never does.

It only ever accepts: anything it does not handle (an error of any kind, a nested package, an
accessor function, non-ASCII text, a pre-release version, `/*` nested comments...) makes it
give up and return None, and the exact path (`lexer.tokenize` + the LALR parser) parses the
file again and says what is wrong and where, as wit-parser does. So diagnostics are never
decided here; `tests/frontend/test_descent.py` checks that both paths give equal ASTs on every
file of the corpus.
"""

from __future__ import annotations

import os
import re
import sys
from array import array
from typing import Any, Iterator

from witgen.diagnostics import (
    OffsetSpan,
    SourceLines,
    Span,
    _Where,
    set_offset_length,
    set_offset_start,
    set_where,
    where_at,
)
from witgen.frontend import ast
from witgen.frontend.lexer import (
    _CHUNK,
    KEYWORDS,
    PUNCT,
    semver_problem,
    validate_id,
)

# Token kinds: a keyword or punctuation is its own text; the others are these (not WIT text).
_ID = "<id>"
_EXPLICIT_ID = "<%id>"
_INTEGER = "<int>"
_VERSION = "<ver>"
_STRING = "<str>"
_COMMENT = "<comment>"
_EOF = "<eof>"
_END = ""  # the text of the `_EOF` tokens after the last one
# interned: comparing a token with a literal (`tokens[i] == "func"`) is then an identity test
_KINDS: dict[str, str] = {sys.intern(k): sys.intern(k) for k in [*KEYWORDS, *PUNCT]}
_IDS = frozenset((_ID, _EXPLICIT_ID))
_PRIMITIVES = frozenset(
    "u8 u16 u32 u64 s8 s16 s32 s64 f32 f64 char bool string error-context".split()
)
_TYPEDEFS = frozenset("type record flags variant enum resource".split())
_DIGITS = frozenset("0123456789")
# a version followed by one of these (comments between) goes on with `-pre`/`+build`, which
# only the exact lexer reads
_VERSION_TAILS = frozenset(("-", "->", "+"))
_ALLOWED_ASCII = bytes(range(0x20, 0x7F)) + b"\t\n\r"
_MAX_NESTING = 50  # well below the exact path's limit of 100: deeper types go there
# WITGEN_EXACT_PARSER=1 sends every file to the exact path (to compare the two, or to rule the
# fast path out when chasing a problem)
_EXACT_ONLY = os.environ.get("WITGEN_EXACT_PARSER", "") not in ("", "0")


class _GiveUp(Exception):
    """Something the fast path does not handle: the exact path parses the file."""


class _Scan:
    """A file's tokens (their texts, each repeated text one string), `kind_of` each text's kind,
    and `docs[i]`: the comments before token `i`. Where tokens start is not worked out here:
    only a span that is read needs it (`_TokenLines`)."""

    __slots__ = ("tokens", "kind_of", "docs")

    def __init__(self) -> None:
        self.tokens: list[str] = []
        self.kind_of: dict[str, str] = dict(_KINDS)
        self.kind_of[_END] = _EOF
        self.docs: dict[int, list[str]] = {}


def _classify(value: str) -> str | None:
    """The kind of a piece of `_PIECES` met for the first time (a keyword or punctuation is
    known already); None for what only the exact lexer may judge."""
    first = value[0]
    if first == "/":  # a comment (`/` alone is punctuation); `/*` alone nests or runs on
        return None if value == "/*" else _COMMENT
    if first in _DIGITS:
        if "." not in value:
            return _INTEGER
        return None if semver_problem(value) is not None else _VERSION
    if first == '"':
        return _STRING if len(value) > 1 and value[-1] == '"' else None
    if first == "%":
        return _EXPLICIT_ID if validate_id(value[1:]) is None else None
    if first.isalpha() or first == "_":
        return _ID if validate_id(value) is None else None
    return None


# The pieces of `lexer._FAST` without its whitespace group: `split` then gives [whitespace,
# piece, whitespace, piece, ..., whitespace], two items a token where `_FAST` gives three. Every
# character but whitespace starts a piece (the last alternative takes any other one), so only
# whitespace is ever between two pieces. `\r` counts as whitespace here: `_scan` checks first
# that each one starts a `\r\n`, as `_FAST` would. A block comment that nests or runs past a
# chunk is `/*` alone, and the exact path judges it.
# (The text is ASCII, so ASCII classes say what `\w` and `\d` would; names come first as the
# commonest piece: a third faster than `lexer._FAST`'s order, for the same pieces.)
_PIECE = r"""
    ( [a-zA-Z_][a-zA-Z0-9_-]*+
    | [=,:;(){}<>*@+.]|->|-
    | %[a-zA-Z_][a-zA-Z0-9_-]*+|%
    | [0-9]+(?:\.[0-9]+\.[0-9]+)?
    | //[^\n]*+\n?
    | /\*(?:[^*/]|\*(?!/)|/(?!\*))*\*/
    | /\*?
    | "[^"\n]*"?
    | [^ \t\n\r]
    )
"""
_PIECES = re.compile(_PIECE, re.VERBOSE)
# the same pieces, each with the whitespace before it: `findall` gives the pieces alone (no
# whitespace strings, no offsets), which is all that parsing a valid file needs
_PIECES_AFTER_SPACE = re.compile(r"[ \t\n\r]*+" + _PIECE, re.VERBOSE)


def _chunks(text: str) -> Iterator[str]:
    """`text` in pieces of about `_CHUNK` characters, each ending just after a newline (only a
    block comment can cross the end of one; it is then `/*` alone, which the fast path
    declines)."""
    pos = 0
    n = len(text)
    while pos < n:
        stop = text.find("\n", pos + _CHUNK)
        stop = n if stop < 0 else stop + 1
        yield text[pos:stop]
        pos = stop


def _scan(text: str) -> _Scan | None:
    """The tokens of `text` (the pieces of `_PIECES`), or None when the exact lexer must look
    at it: non-ASCII text, a forbidden character, a `\r` not before `\n`, a bad name, version or
    string, a block comment that nests or crosses a chunk. (A version followed by `-pre` or
    `+build` is declined by the parser, which meets versions.)

    Each chunk is done by list-wide C functions (`findall`, `map`, `set.difference`, slices);
    Python code runs once per distinct piece and once per comment, not once per token."""
    # ASCII without control characters (what `lexer._BAD_CODEPOINTS` refuses, for ASCII): the
    # bytes left after deleting the allowed ones (three times faster than that search)
    if not text.isascii() or text.encode("ascii").translate(None, _ALLOWED_ASCII):
        return None
    if "\r" in text and text.count("\r") != text.count("\r\n"):
        return None
    out = _Scan()
    tokens = out.tokens
    kind_of = out.kind_of
    docs = out.docs
    # each piece met for the first time gets its kind, and the string kept for it: its
    # repetitions share that first string rather than keep their own copy (a third of the
    # memory of the tokens on a large file); a comment is kept as `_COMMENT`, to be found
    kept: dict[str, str] = dict(_KINDS)
    findall = _PIECES_AFTER_SPACE.findall
    for chunk in _chunks(text):
        pieces = findall(chunk)
        for value in set(pieces).difference(kind_of):
            kind = _classify(value)
            if kind is None:
                return None
            kind_of[value] = kind
            kept[value] = _COMMENT if kind is _COMMENT else value
        kept_pieces = list(map(kept.__getitem__, pieces))
        if _COMMENT not in kept_pieces:
            tokens += kept_pieces
            continue
        # comments leave the token list; each run of them becomes the docs of the next token
        find = kept_pieces.index
        at = 0
        while True:
            try:
                comment = find(_COMMENT, at)
            except ValueError:
                break
            tokens += kept_pieces[at:comment]
            run = docs.get(len(tokens))
            if run is None:
                docs[len(tokens)] = [pieces[comment]]
            else:
                run.append(pieces[comment])
            at = comment + 1
        tokens += kept_pieces[at:]
    docs.pop(len(tokens), None)  # comments after the last token document nothing
    tokens += [_END] * 4  # lookahead past the end never leaves the list
    return out


def _token_starts(text: str) -> array[int]:
    """Where each token of `_scan(text)` starts (not its comments), in the same order: the same
    pieces, from `split`, which keeps the whitespace between them. Only read for a span that
    is shown or compared, so it need not be fast."""
    starts = array("l")
    pos = 0
    for chunk in _chunks(text):
        pieces = _PIECES.split(chunk)
        for k in range(1, len(pieces), 2):
            pos += len(pieces[k - 1])
            piece = pieces[k]
            if not piece.startswith(("//", "/*")):
                starts.append(pos)
            pos += len(piece)
        pos += len(pieces[-1])
    starts.extend([len(text)] * 4)  # the `_EOF`s
    return starts


class _TokenLines(SourceLines):
    """A file's `SourceLines` that also knows its tokens, for `_TokenSpan`: where each token
    starts is found the first time a span needs it (`check` on a valid file never does)."""

    __slots__ = ("values", "_token_starts")

    def __init__(self, file: str, text: str, values: list[str]) -> None:
        super().__init__(file, text)
        self.values = values
        self._token_starts: array[int] | None = None

    def token_range(self, first: int, last: int) -> tuple[int, int]:
        """The offset where token `first` starts and the length up to the end of `last`."""
        starts = self._token_starts
        if starts is None:
            starts = self._token_starts = _token_starts(self.text)
        start = starts[first]
        return start, starts[last] + len(self.values[last]) - start


class _TokenSpan(OffsetSpan):
    """A span made by the fast path from token numbers: `_start` is its first token's, `_length`
    its last token's (unset: the same token). Offsets, then lines and columns, are looked up
    when it is first read, and it is then equal to the exact path's span.

    Each file has a subclass whose `_lines` (a `_TokenLines`) is a class attribute
    (`_span_class`): a span of one token is then made with one slot written, not three (the
    parser makes hundreds of thousands of them on a large file)."""

    __slots__ = ()

    def _located(self) -> _Where:
        try:
            return self._where
        except AttributeError:
            pass
        lines: _TokenLines = self._lines  # type: ignore[assignment]
        first = self._start
        try:
            last = self._length
        except AttributeError:
            last = first
        start, length = lines.token_range(first, last)  # type: ignore[arg-type]
        where = where_at(lines, start, length)
        set_where(self, where)
        return where


_new_object = object.__new__


def _span_class(lines: _TokenLines) -> type[_TokenSpan]:
    """The `_TokenSpan` subclass for the tokens of one file."""
    return type("_TokenSpan", (_TokenSpan,), {"__slots__": (), "_lines": lines})


class _Descent:
    """The grammar of `wit.lark`, one method per rule, over a `_Scan`. `i` is the next token."""

    def __init__(self, file: str, text: str, scan: _Scan) -> None:
        self.file = file
        # a token's text is its kind when it is a keyword or punctuation (`tokens[i] == "func"`);
        # `kind_of` tells a name, an integer or a version
        self.tokens = scan.tokens
        self.kind_of = scan.kind_of
        self.comments = scan.docs
        # line numbers are looked up when a span's are first read (`OffsetSpan`), if ever
        self.lines = _TokenLines(file, text, scan.tokens)
        self.span_class = _span_class(self.lines)
        self.text = text
        self.i = 0

    # -- tokens --

    def _span(self, i: int) -> Span:
        """Token `i`'s span, made as the parser's `_token_span` makes it."""
        span = _new_object(self.span_class)
        set_offset_start(span, i)
        return span

    def _span_from(self, first: int) -> Span:
        """From the start of token `first` to the end of the token before the next."""
        span = _new_object(self.span_class)
        set_offset_start(span, first)
        set_offset_length(span, self.i - 1)
        return span

    def _docs(self, i: int) -> list[str]:
        hit = self.comments.get(i)
        return [] if hit is None else hit

    def _expect(self, kind: str) -> None:
        if self.tokens[self.i] != kind:
            raise _GiveUp()
        self.i += 1

    def _id(self) -> ast.Id:
        # the commonest token: its span is made here as `_span` makes it (a call less)
        i = self.i
        name = self.tokens[i]
        kind = self.kind_of[name]
        if kind is not _ID:
            if kind is not _EXPLICIT_ID:
                raise _GiveUp()
            name = name[1:]
        self.i = i + 1
        span = _new_object(self.span_class)
        set_offset_start(span, i)
        return ast.Id(name, span)

    def _version(self) -> str:
        """`@` VERSION (the `@` is next); one with `-pre`/`+build` goes to the exact path."""
        i = self.i + 1
        if self.kind_of[self.tokens[i]] is not _VERSION or self.tokens[i + 1] in _VERSION_TAILS:
            raise _GiveUp()
        self.i = i + 1
        return self.tokens[i]

    # -- top level --

    def top(self) -> ast.File:
        tokens = self.tokens
        package = None
        if tokens[0] == "package":
            self.i = 1
            package = self._package_name()
            if tokens[self.i] == "{":  # `package a:b { ... }`: a nested package, read below
                package = None
                self.i = 0
            else:
                self._expect(";")
                package.docs = self._docs(0)
                if 0 in self.comments:  # a point where the first of them starts
                    first = len(self.text) - len(self.text.lstrip(" \t\n\r"))
                    package.docs_span = Span.at(self.lines, first, None)
        items: list[ast.TopItem] = []
        nested: list[ast.NestedPackage] = []
        while tokens[self.i] != _END:
            if tokens[self.i] == "package":
                nested.append(self._nested_package())
            else:
                items.append(self._top_item())
        return ast.File(self.file, package, items, nested)

    def _nested_package(self) -> ast.NestedPackage:
        """`package a:b { ... }`; one nested in it is an error: the exact path reports it."""
        first = self.i
        self.i += 1
        package = self._package_name()
        self._expect("{")
        package.docs = self._docs(first)
        items: list[ast.TopItem] = []
        while self.tokens[self.i] != "}":
            items.append(self._top_item())
        self.i += 1
        return ast.NestedPackage(package, items, [])

    def _top_item(self) -> ast.TopItem:
        tokens = self.tokens
        first = self.i
        attrs = self._attrs()
        kind = tokens[self.i]
        if kind == "interface":
            self.i += 1
            name = self._id()
            return ast.Interface(self._docs(first), attrs, name, self._iface_body())
        if kind == "world":
            self.i += 1
            name = self._id()
            return ast.World(self._docs(first), attrs, name, self._world_body())
        if kind == "use":
            span = self._span(self.i)
            self.i += 1
            path = self._use_path()
            as_ = None
            if tokens[self.i] == "as":
                self.i += 1
                as_ = self._id()
            self._expect(";")
            return ast.ToplevelUse(attrs, path, as_, span)
        raise _GiveUp()  # a nested package after attributes, or not WIT

    def _package_name(self) -> ast.PackageName:
        """`ns:name(@version)?`, spanning from the namespace to the name or the version."""
        first = self.i
        namespace = self._id()
        self._expect(":")
        name = self._id()
        version = None
        if self.tokens[self.i] == "@":
            version = self._version()
        return ast.PackageName(namespace, name, version, self._span_from(first))

    def _use_path(self) -> ast.UsePath:
        first = self.i
        name = self._id()
        if self.tokens[self.i] != ":":
            return name
        self.i += 1
        package = self._id()
        span = self._span_from(first)  # `ns:name`, as the exact path spans it
        self._expect("/")
        iface = self._id()
        version = self._version() if self.tokens[self.i] == "@" else None
        return ast.ForeignPath(ast.PackageName(name, package, version, span), iface)

    def _attrs(self) -> list[ast.Attr]:
        if self.tokens[self.i] != "@":
            return []
        attrs: list[ast.Attr] = []
        seen: set[str] = set()
        while self.tokens[self.i] == "@":
            self.i += 1
            name = self._id()
            self._expect("(")
            key = self._id()
            self._expect("=")
            if name.name in ("since", "deprecated") and key.name == "version":
                value = self.tokens[self.i]
                if self.kind_of[value] is not _VERSION or self.tokens[self.i + 1] in _VERSION_TAILS:
                    raise _GiveUp()
                self.i += 1
            elif name.name == "unstable" and key.name == "feature":
                value = self._id().name
            else:
                raise _GiveUp()
            self._expect(")")
            if name.name in seen or {name.name, *seen} >= {"since", "unstable"}:
                raise _GiveUp()  # twice, or both @since and @unstable: the exact path says so
            seen.add(name.name)
            attrs.append(ast.Attr(name.name, value, name.span))
        return attrs

    # -- interfaces and worlds --

    def _iface_body(self) -> list[ast.InterfaceItem]:
        self._expect("{")
        tokens = self.tokens
        comments = self.comments
        items: list[ast.InterfaceItem] = []
        while tokens[self.i] != "}":
            first = self.i
            attrs = self._attrs() if tokens[first] == "@" else []
            i = self.i
            kind = tokens[i]
            named = self.kind_of[kind]
            if named is _ID or named is _EXPLICIT_ID:  # `name: func...;`, the name made here
                if tokens[i + 1] != ":":
                    raise _GiveUp()
                span = _new_object(self.span_class)
                set_offset_start(span, i)
                name = ast.Id(kind if named is _ID else kind[1:], span)
                self.i = i + 2
                func = self._func()
                if tokens[self.i] != ";":
                    raise _GiveUp()
                self.i += 1
                items.append(ast.NamedFunc(comments.get(first, []), attrs, name, func))
            elif kind in _TYPEDEFS:
                items.append(self._typedef(first, attrs))
            elif kind == "use":
                items.append(self._use(attrs))
            else:
                raise _GiveUp()
        self.i += 1
        return items

    def _world_body(self) -> list[ast.WorldItem]:
        self._expect("{")
        tokens = self.tokens
        items: list[ast.WorldItem] = []
        while tokens[self.i] != "}":
            first = self.i
            attrs = self._attrs()
            kind = tokens[self.i]
            if kind == "import" or kind == "export":
                self.i += 1
                extern = self._extern()
                items.append(ast.ImportExport(kind, self._docs(first), attrs, extern))
            elif kind in _TYPEDEFS:
                items.append(self._typedef(first, attrs))
            elif kind == "use":
                items.append(self._use(attrs))
            elif kind == "include":
                self.i += 1
                path = self._use_path()
                names: list[tuple[ast.Id, ast.Id]] = []
                if tokens[self.i] == "with":
                    self.i += 1
                    self._expect("{")
                    while tokens[self.i] != "}":
                        old = self._id()
                        self._expect("as")
                        names.append((old, self._id()))
                        if tokens[self.i] != ",":
                            break
                        self.i += 1
                    self._expect("}")
                else:
                    self._expect(";")
                items.append(ast.Include(attrs, path, names))
            else:
                raise _GiveUp()
        self.i += 1
        return items

    def _extern(self) -> ast.Extern:
        tokens = self.tokens
        i = self.i
        kind_of = self.kind_of
        if kind_of[tokens[i]] in _IDS and tokens[i + 1] == ":":
            after = tokens[i + 2]
            if after == "func" or after == "async":
                name = self._id()
                self.i += 1
                func = self._func()
                self._expect(";")
                return ast.Extern("func", name, func, None, None)
            if after == "interface":
                name = self._id()
                self.i += 2
                return ast.Extern("interface", name, None, self._iface_body(), None)
            if kind_of[after] in _IDS and tokens[i + 3] != "/":  # `label: path`, not `ns:pkg/name`
                name = self._id()
                self.i += 1
                path = self._use_path()
                self._expect(";")
                return ast.Extern("named-path", name, None, None, path)
        path = self._use_path()
        self._expect(";")
        return ast.Extern("path", None, None, None, path)

    def _use(self, attrs: list[ast.Attr]) -> ast.Use:
        tokens = self.tokens
        self.i += 1
        path = self._use_path()
        self._expect(".")
        self._expect("{")
        names: list[tuple[ast.Id, ast.Id | None]] = []
        while tokens[self.i] != "}":
            name = self._id()
            alias = None
            if tokens[self.i] == "as":
                self.i += 1
                alias = self._id()
            names.append((name, alias))
            if tokens[self.i] != ",":
                break
            self.i += 1
        self._expect("}")
        self._expect(";")
        return ast.Use(attrs, path, names)

    # -- type definitions --

    def _typedef(self, first: int, attrs: list[ast.Attr]) -> ast.TypeDef:
        tokens = self.tokens
        kind = tokens[self.i]
        self.i += 1
        name = self._id()
        docs = self._docs(first)
        if kind == "type":
            self._expect("=")
            ty = self._ty(0)
            self._expect(";")
            return ast.TypeDef(docs, attrs, name, ty)
        if kind == "resource":
            funcs: list[ast.ResourceFunc] = []
            if tokens[self.i] == ";":
                self.i += 1
            else:
                self._expect("{")
                while tokens[self.i] != "}":
                    funcs.append(self._resource_func())
                self.i += 1
            return ast.TypeDef(docs, attrs, name, ast.TypeNode("resource", tuple(funcs), name.span))
        self._expect("{")
        members: list[Any] = []
        while tokens[self.i] != "}":
            at = self.i
            member = self._id()
            if kind == "record":
                self._expect(":")
                members.append((self._docs(at), member, self._ty(0)))
            elif kind == "variant":
                payload = None
                if tokens[self.i] == "(":
                    self.i += 1
                    payload = self._ty(0)
                    self._expect(")")
                members.append((self._docs(at), member, payload))
            else:  # flags, enum
                members.append((self._docs(at), member))
            if tokens[self.i] != ",":
                break
            self.i += 1
        self._expect("}")
        return ast.TypeDef(docs, attrs, name, ast.TypeNode(kind, tuple(members), name.span))

    def _resource_func(self) -> ast.ResourceFunc:
        first = self.i
        attrs = self._attrs()
        if self.tokens[self.i] == "constructor":
            span = self._span(self.i)
            self.i += 1
            self._expect("(")
            params = self._params()
            result = None
            if self.tokens[self.i] == "->":
                self.i += 1
                result = self._ty(0)
            self._expect(";")
            name = ast.Id("constructor", span)
            func = ast.Func(False, params, result, span)
            return ast.ResourceFunc(
                "constructor", ast.NamedFunc(self._docs(first), attrs, name, func)
            )
        name = self._id()
        self._expect(":")
        kind = "method"
        if self.tokens[self.i] == "static":
            kind = "static"
            self.i += 1
        func = self._func()
        self._expect(";")
        return ast.ResourceFunc(kind, ast.NamedFunc(self._docs(first), attrs, name, func))

    def _func(self) -> ast.Func:
        """`async? func(params) (-> ty)?`; an accessor (`get(...)`) goes to the exact path."""
        is_async = self.tokens[self.i] == "async"
        if is_async:
            self.i += 1
        i = self.i
        if self.tokens[i] != "func" or self.tokens[i + 1] != "(":
            raise _GiveUp()
        span = _new_object(self.span_class)
        set_offset_start(span, i)
        self.i = i + 2
        params = self._params()
        result = None
        if self.tokens[self.i] == "->":
            self.i += 1
            result = self._ty(0)
        return ast.Func(is_async, params, result, span)

    def _params(self) -> list[tuple[ast.Id, ast.TypeNode]]:
        """`[param (, param)* ,?] )`. The hottest rule of a large file: the name and a
        primitive type are made here, as `_id` and `_ty` make them."""
        tokens = self.tokens
        span_class = self.span_class
        params: list[tuple[ast.Id, ast.TypeNode]] = []
        i = self.i
        kind_of = self.kind_of
        while tokens[i] != ")":
            name = tokens[i]
            kind = kind_of[name]
            if kind is not _ID:
                if kind is not _EXPLICIT_ID:
                    raise _GiveUp()
                name = name[1:]
            if tokens[i + 1] != ":":
                raise _GiveUp()
            span = _new_object(span_class)
            set_offset_start(span, i)
            param = ast.Id(name, span)
            kind = tokens[i + 2]
            if kind in _PRIMITIVES:  # its span made when read (see `ast.TypeNode`)
                params.append((param, ast.TypeNode(kind, (), span_class, i + 2)))
                i += 3
            else:
                self.i = i + 2
                params.append((param, self._ty(0)))
                i = self.i
            if tokens[i] != ",":
                break
            i += 1
        if tokens[i] != ")":
            raise _GiveUp()
        self.i = i + 1
        return params

    # -- type expressions --

    def _ty(self, depth: int) -> ast.TypeNode:
        tokens = self.tokens
        i = self.i
        kind = tokens[i]
        # a type expression's span is made when read (see `ast.TypeNode`)
        if kind in _PRIMITIVES:  # the commonest type
            self.i = i + 1
            return ast.TypeNode(kind, (), self.span_class, i)
        named = self.kind_of[kind]
        if named is _ID or named is _EXPLICIT_ID:  # a name, made here as `_id` makes it
            self.i = i + 1
            span = _new_object(self.span_class)
            set_offset_start(span, i)
            name = ast.Id(kind if named is _ID else kind[1:], span)
            return ast.TypeNode("name", (name,), span)
        if depth >= _MAX_NESTING:
            raise _GiveUp()
        depth += 1
        span_class = self.span_class
        if (kind == "list" or kind == "option") and tokens[i + 1] == "<":
            inner_kind = tokens[i + 2]
            if inner_kind in _PRIMITIVES:  # `list<string>`: the inner type made here
                inner = ast.TypeNode(inner_kind, (), span_class, i + 2)
                j = i + 3
            else:
                self.i = i + 2
                inner = self._ty(depth)
                j = self.i
            if tokens[j] == ">":
                self.i = j + 1
                return ast.TypeNode(kind, (inner,), span_class, i)
            if kind == "option" or tokens[j] != "," or self.kind_of[tokens[j + 1]] is not _INTEGER:
                raise _GiveUp()
            size = int(self.tokens[j + 1])
            if size >= 2**32 or tokens[j + 2] != ">":
                raise _GiveUp()
            self.i = j + 3
            return ast.TypeNode("fixed-list", (inner, size), span_class, i)
        self.i = i + 1
        if kind == "result":
            if tokens[i + 1] != "<":
                return ast.TypeNode("result", (None, None), span_class, i)
            self.i += 1
            ok = None
            if tokens[self.i] == "_":
                self.i += 1
                self._expect(",")
                err = self._ty(depth)
            else:
                ok = self._ty(depth)
                err = None
                if tokens[self.i] == ",":
                    self.i += 1
                    err = self._ty(depth)
            self._expect(">")
            return ast.TypeNode("result", (ok, err), span_class, i)
        if kind == "future" or kind == "stream":
            payload = None
            if tokens[i + 1] == "<":
                self.i += 1
                payload = self._ty(depth)
                self._expect(">")
            return ast.TypeNode(kind, (payload,), span_class, i)
        self._expect("<")
        if kind == "tuple":
            members: list[ast.TypeNode] = []
            while tokens[self.i] != ">":
                members.append(self._ty(depth))
                if tokens[self.i] != ",":
                    break
                self.i += 1
            self._expect(">")
            return ast.TypeNode("tuple", tuple(members), span_class, i)
        if kind == "map":
            key = self._ty(depth)
            self._expect(",")
            value = self._ty(depth)
            self._expect(">")
            return ast.TypeNode("map", (key, value), span_class, i)
        if kind == "own" or kind == "borrow":
            name = self._id()
            self._expect(">")
            return ast.TypeNode(kind, (name,), name.span)
        raise _GiveUp()


def parse(file: str, text: str) -> ast.File | None:
    """The AST of a valid file, as the exact path builds it; None to let the exact path parse
    it (it may be invalid, or use something this parser leaves to Lark)."""
    if _EXACT_ONLY:
        return None
    scan = _scan(text)
    if scan is None:
        return None
    try:
        return _Descent(file, text, scan).top()
    except (_GiveUp, RecursionError):
        return None
