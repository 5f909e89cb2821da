"""Parse one WIT file into `ast.File` with Lark (LALR) over the tokens of `lexer.py`.

The Lark parser is built once per process (grammar analysis cached on disk by Lark's
`cache=True`), and builds AST nodes directly from its reductions (an inline transformer),
so no parse tree is ever materialised. Lark's errors become located `WitError`s worded the
way wit-parser words them ("expected ';', found '}'").
"""

from __future__ import annotations

from typing import Any, Iterator

from lark import Lark, Token, Transformer
from lark.parsers.lalr_analysis import Shift
from lark.exceptions import UnexpectedInput, UnexpectedToken
from lark.lexer import Lexer

from witgen import paths
from witgen.diagnostics import Span, WitError
from witgen.frontend import ast, descent
from witgen.frontend.lexer import DESCRIBE, Lexed, tokenize

MAX_TYPE_NESTING = 100
MAX_PACKAGE_NESTING = 100
# the key each attribute takes: wit-parser checks it as soon as it reads it
_ATTRIBUTE_KEYS = {"since": "version", "deprecated": "version", "unstable": "feature"}


def _opens_block(kinds: list[str], i: int) -> bool:
    """Whether the `package` keyword, token `i` (of types `kinds`), starts a
    `package a:b { ... }` block."""
    for kind in kinds[i + 1 :]:
        if kind == "_LBRACE":
            return True
        if kind in ("_SEMI", "_RBRACE", "PACKAGE"):
            return False
    return False


def _check_attribute_key(lexed: Lexed, i: int) -> None:
    if i + 3 >= len(lexed.kinds):
        return
    name, paren, key = lexed.token(i + 1), lexed.token(i + 2), lexed.token(i + 3)
    if name.type not in ("ID", "EXPLICIT_ID") or paren.type != "_LPAREN":
        return
    want = _ATTRIBUTE_KEYS.get(name.value.lstrip("%"))
    if name.value == "external-id" and key.type != "STRLIT":
        found_what = DESCRIBE.get(key.type, key.type)
        raise WitError(f"expected a string literal, found {found_what}", _token_span(lexed, key))
    if want is None or key.type not in ("ID", "EXPLICIT_ID"):
        return
    found = key.value.lstrip("%")
    if found != want:
        raise WitError(f"expected `{want}`, found `{found}`", _token_span(lexed, key))
    if want == "version" and i + 5 < len(lexed.kinds) and lexed.kinds[i + 4] == "_EQ":
        # wit-parser reads a version from here: anything but a number is refused at once
        # (before the grammar would take a name and stop at what follows it)
        value = lexed.token(i + 5)
        if value.type not in ("VERSION", "INTEGER"):
            found_what = DESCRIBE.get(value.type, value.type)
            raise WitError(f"expected an integer, found {found_what}", _token_span(lexed, value))


PRIMS = {
    "U8": "u8",
    "U16": "u16",
    "U32": "u32",
    "U64": "u64",
    "S8": "s8",
    "S16": "s16",
    "S32": "s32",
    "S64": "s64",
    "F32": "f32",
    "F64": "f64",
    "CHAR": "char",
    "BOOL": "bool",
    "STRING": "string",
    "ERROR_CONTEXT": "error-context",
}


class _TokenFeed(Lexer):
    """Hands Lark the tokens that `lexer.tokenize` already produced."""

    def __init__(self, conf: Any) -> None:
        pass

    def lex(self, lexed: Lexed) -> Iterator[Token]:  # type: ignore[override]
        # wit-parser refuses types nested more than 100 deep, at the first token of the
        # 101st level; only type constructors use `<`, so their depth is the nesting.
        depth = 0
        prev = ""
        tokens = lexed.tokens
        # braces that close a nested `package a:b { ... }` block, innermost last
        package_braces: list[int] = []
        braces = 0
        for i, tok in enumerate(tokens):
            kind = tok.type
            if depth >= MAX_TYPE_NESTING and (prev == "_LT" or prev == "_COMMA"):
                raise WitError("type nesting too deep", _token_span(lexed, tok))
            if kind == "_LBRACE":
                braces += 1
            elif kind == "_RBRACE":
                if package_braces and package_braces[-1] == braces:
                    package_braces.pop()
                braces -= 1
            elif kind == "PACKAGE" and _opens_block(lexed.kinds, i):
                if len(package_braces) >= MAX_PACKAGE_NESTING:
                    raise WitError("package nesting too deep", _token_span(lexed, tok))
                package_braces.append(braces + 1)
            elif kind == "AT":
                _check_attribute_key(lexed, i)
            if kind == "_LT":
                depth += 1
            elif kind == "_GT":
                depth -= 1
            prev = kind
            yield tok
        if lexed.error is not None:
            raise lexed.error


class _Build(Transformer):  # type: ignore[type-arg]
    """Reductions -> AST nodes. `lexed` is set per file before parsing."""

    lexed: Lexed

    # -- helpers --

    def _span(self, tok: Token) -> Span:
        return _token_span(self.lexed, tok)

    def _docs(self, pos: int) -> list[str]:
        return self.lexed.comments.get(pos, [])

    def _lead(self, c: list[Any]) -> tuple[list[ast.Attr], list[str], list[Any]]:
        """Split leading attributes off; docs come from the item's first token."""
        if c and isinstance(c[0], list):
            attrs = c[0]
            return attrs, self._docs(attrs[0].pos), c[1:]
        first = c[0]
        pos = _start(first) if isinstance(first, Token) else first.pos
        return [], self._docs(pos), c

    # -- terminals that carry meaning --

    def id(self, c: list[Token]) -> ast.Id:
        tok = c[0]
        pos = tok.start_pos or 0  # the lexer sets it; Lark types it as optional
        lexed = self.lexed
        if lexed.bad_ids:
            bad = lexed.bad_ids.get(pos)
            if bad is not None:
                raise WitError(bad, _token_span(lexed, tok))
        name = tok.value[1:] if tok.type == "EXPLICIT_ID" else tok.value
        return ast.Id(name, _token_span(lexed, tok), pos)

    def version(self, c: list[Token]) -> Token:
        return c[1]

    def package_name(self, c: list[Any]) -> ast.PackageName:
        ns, name = c[0], c[1]
        version = _check_version(self.lexed, c[2]) if len(c) > 2 else None
        end = c[2] if len(c) > 2 else None
        span = ns.span
        if end is not None:
            span = Span(span.file, span.line, span.column, end.end_line, end.end_column)
        else:
            span = Span(span.file, span.line, span.column, name.span.end_line, name.span.end_column)
        return ast.PackageName(ns, name, version, span)

    def package_decl(self, c: list[Any]) -> ast.PackageName:
        pkg: ast.PackageName = c[1]
        pos = _start(c[0])
        pkg.docs = self._docs(pos)
        if pkg.docs:
            pkg.docs_span = self.lexed.span(self.lexed.comment_starts[pos])
        return pkg

    def nested_package(self, c: list[Any]) -> ast.NestedPackage:
        pkg: ast.PackageName = c[1]
        pkg.docs = self._docs(_start(c[0]))
        # packages nested in this one are an error reported when it is resolved (wit-parser
        # parses the whole file first, then complains about the first of them)
        items = [x for x in c[2:] if not isinstance(x, ast.NestedPackage)]
        inner = [x for x in c[2:] if isinstance(x, ast.NestedPackage)]
        return ast.NestedPackage(pkg, items, inner)

    def attrs(self, c: list[ast.Attr]) -> list[ast.Attr]:
        seen: dict[str, ast.Attr] = {}
        for a in c:
            if a.kind in seen:
                raise WitError(f"cannot specify @{a.kind} twice", a.span)
            other = {"since": "unstable", "unstable": "since"}.get(a.kind)
            if other is not None and other in seen:
                since = a if a.kind == "since" else seen["since"]
                raise WitError("cannot specify both @since and @unstable", since.span)
            seen[a.kind] = a
        return list(c)

    def attr(self, c: list[Any]) -> ast.Attr:
        at, name, key, value = c[0], c[1], c[2], c[3]
        lexed = self.lexed
        if name.name == "since" or name.name == "deprecated":
            if key.name != "version":
                raise WitError(f"expected `version`, found `{key.name}`", key.span)
            if not isinstance(value, Token):
                raise WitError(f"expected an integer, found {DESCRIBE['ID']}", value.span)
            text = _check_version(lexed, value)
        elif name.name == "unstable":
            if key.name != "feature":
                raise WitError(f"expected `feature`, found `{key.name}`", key.span)
            if isinstance(value, Token):
                raise WitError(
                    f"expected an identifier or string, found {DESCRIBE['INTEGER']}",
                    _token_span(self.lexed, value),
                )
            text = value.name
        elif name.name == "external-id":
            raise WitError(f"expected a string literal, found {DESCRIBE['ID']}", key.span)
        else:
            raise WitError(f"unknown attribute `{name.name}`", name.span)
        return ast.Attr(name.name, text, name.span, _start(at))

    def attr_string(self, c: list[Any]) -> ast.Attr:
        at, name, lit = c[0], c[1], c[2]
        if name.name != "external-id":
            if name.name in _ATTRIBUTE_KEYS:
                raise WitError(
                    f"expected an identifier or string, found {DESCRIBE['STRLIT']}",
                    _token_span(self.lexed, lit),
                )
            raise WitError(f"unknown attribute `{name.name}`", name.span)
        return ast.Attr("external-id", str(lit.value)[1:-1], name.span, _start(at))

    # -- top level --

    def start(self, c: list[Any]) -> ast.File:
        package = None
        items: list[Any] = []
        nested: list[ast.NestedPackage] = []
        for x in c:
            if isinstance(x, ast.PackageName):
                package = x
            elif isinstance(x, ast.NestedPackage):
                nested.append(x)
            else:
                items.append(x)
        return ast.File(self.lexed.file, package, items, nested)

    def toplevel_use(self, c: list[Any]) -> ast.ToplevelUse:
        attrs, _docs, rest = self._lead(c)
        use_tok = rest[0]
        as_ = rest[3] if len(rest) > 3 else None
        return ast.ToplevelUse(attrs, rest[1], as_, _token_span(self.lexed, use_tok))

    def use_path(self, c: list[Any]) -> ast.Id:
        return c[0]  # type: ignore[no-any-return]

    def foreign_path(self, c: list[Any]) -> ast.ForeignPath:
        ns, pkg, name = c[0], c[1], c[2]
        version = _check_version(self.lexed, c[3]) if len(c) > 3 else None
        span = Span(
            ns.span.file, ns.span.line, ns.span.column, pkg.span.end_line, pkg.span.end_column
        )
        return ast.ForeignPath(ast.PackageName(ns, pkg, version, span), name)

    def interface(self, c: list[Any]) -> ast.Interface:
        attrs, docs, rest = self._lead(c)
        return ast.Interface(docs, attrs, rest[1], rest[2:])

    def world(self, c: list[Any]) -> ast.World:
        attrs, docs, rest = self._lead(c)
        return ast.World(docs, attrs, rest[1], rest[2:])

    def import_(self, c: list[Any]) -> ast.ImportExport:
        attrs, docs, rest = self._lead(c)
        return ast.ImportExport("import", docs, attrs, rest[1])

    def export(self, c: list[Any]) -> ast.ImportExport:
        attrs, docs, rest = self._lead(c)
        return ast.ImportExport("export", docs, attrs, rest[1])

    def extern_func(self, c: list[Any]) -> ast.Extern:
        return ast.Extern("func", c[0], c[1], None, None)

    def extern_iface(self, c: list[Any]) -> ast.Extern:
        return ast.Extern("interface", c[0], None, c[2:], None)

    def extern_path(self, c: list[Any]) -> ast.Extern:
        return ast.Extern("path", None, None, None, c[0])

    def extern_named_path(self, c: list[Any]) -> ast.Extern:
        return ast.Extern("named-path", c[0], None, None, c[1])

    def include(self, c: list[Any]) -> ast.Include:
        attrs, _docs, rest = self._lead(c)
        names = [x for x in rest[2:] if isinstance(x, tuple)]
        return ast.Include(attrs, rest[1], names)

    def include_name(self, c: list[Any]) -> tuple[ast.Id, ast.Id]:
        return (c[0], c[2])

    def use(self, c: list[Any]) -> ast.Use:
        attrs, _docs, rest = self._lead(c)
        return ast.Use(attrs, rest[1], rest[2:])

    def use_name(self, c: list[Any]) -> tuple[ast.Id, ast.Id | None]:
        return (c[0], c[2] if len(c) > 2 else None)

    # -- type definitions --

    def type_alias(self, c: list[Any]) -> ast.TypeDef:
        attrs, docs, rest = self._lead(c)
        return ast.TypeDef(docs, attrs, rest[1], rest[2])

    def record(self, c: list[Any]) -> ast.TypeDef:
        attrs, docs, rest = self._lead(c)
        name = rest[1]
        fields = tuple(rest[2:])
        return ast.TypeDef(docs, attrs, name, ast.TypeNode("record", fields, name.span))

    def field(self, c: list[Any]) -> tuple[list[str], ast.Id, ast.TypeNode]:
        return (self._docs(c[0].pos), c[0], c[1])

    def flags(self, c: list[Any]) -> ast.TypeDef:
        attrs, docs, rest = self._lead(c)
        name = rest[1]
        flags = tuple(rest[2:])
        return ast.TypeDef(docs, attrs, name, ast.TypeNode("flags", flags, name.span))

    def flag(self, c: list[Any]) -> tuple[list[str], ast.Id]:
        return (self._docs(c[0].pos), c[0])

    enum_case = flag

    def variant(self, c: list[Any]) -> ast.TypeDef:
        attrs, docs, rest = self._lead(c)
        name = rest[1]
        cases = tuple(rest[2:])
        return ast.TypeDef(docs, attrs, name, ast.TypeNode("variant", cases, name.span))

    def case(self, c: list[Any]) -> tuple[list[str], ast.Id, ast.TypeNode | None]:
        return (self._docs(c[0].pos), c[0], c[1] if len(c) > 1 else None)

    def enum(self, c: list[Any]) -> ast.TypeDef:
        attrs, docs, rest = self._lead(c)
        name = rest[1]
        cases = tuple(rest[2:])
        return ast.TypeDef(docs, attrs, name, ast.TypeNode("enum", cases, name.span))

    def resource(self, c: list[Any]) -> ast.TypeDef:
        attrs, docs, rest = self._lead(c)
        name = rest[1]
        return ast.TypeDef(docs, attrs, name, ast.TypeNode("resource", tuple(rest[2:]), name.span))

    def constructor(self, c: list[Any]) -> ast.ResourceFunc:
        attrs, docs, rest = self._lead(c)
        tok = rest[0]
        span = _token_span(self.lexed, tok)
        params = rest[1]
        result = rest[2] if len(rest) > 2 else None
        name = ast.Id("constructor", span)
        return ast.ResourceFunc(
            "constructor", ast.NamedFunc(docs, attrs, name, ast.Func(False, params, result, span))
        )

    def method(self, c: list[Any]) -> ast.ResourceFunc:
        attrs, docs, rest = self._lead(c)
        kind = "method"
        if isinstance(rest[1], Token):
            kind = "static"
        return ast.ResourceFunc(kind, ast.NamedFunc(docs, attrs, rest[0], rest[-1]))

    def named_func(self, c: list[Any]) -> ast.NamedFunc:
        attrs, docs, rest = self._lead(c)
        return ast.NamedFunc(docs, attrs, rest[0], rest[1])

    def func_ty(self, c: list[Any]) -> ast.Func:
        is_async = c[0].type == "ASYNC"
        rest = c[1:] if is_async else c
        func_tok = rest[0]
        result = rest[2] if len(rest) > 2 else None
        return ast.Func(is_async, rest[1], result, _token_span(self.lexed, func_tok))

    def accessor_func_ty(self, c: list[Any]) -> ast.Func:
        word: ast.Id = c[0]
        explicit = self.lexed.text[word.pos] == "%" if word.pos >= 0 else False
        if explicit or word.name not in ("get", "set"):
            found = DESCRIBE["EXPLICIT_ID" if explicit else "ID"]
            raise WitError(f"expected keyword `func`, found {found}", word.span)
        result = c[2] if len(c) > 2 else None
        return ast.Func(False, c[1], result, word.span, word.name)

    def params(self, c: list[Any]) -> list[tuple[ast.Id, ast.TypeNode]]:
        return list(c)

    def param(self, c: list[Any]) -> tuple[ast.Id, ast.TypeNode]:
        return (c[0], c[1])

    # -- type expressions --

    def ty(self, c: list[Token]) -> ast.TypeNode:
        tok = c[0]
        return ast.TypeNode(PRIMS[tok.type], (), _token_span(self.lexed, tok))

    def named_ty(self, c: list[ast.Id]) -> ast.TypeNode:
        return ast.TypeNode("name", (c[0],), c[0].span)

    def tuple_ty(self, c: list[Any]) -> ast.TypeNode:
        span = _token_span(self.lexed, c[0])
        return ast.TypeNode("tuple", tuple(c[1:]), span)

    def list_ty(self, c: list[Any]) -> ast.TypeNode:
        return ast.TypeNode("list", (c[1],), _token_span(self.lexed, c[0]))

    def fixed_list_ty(self, c: list[Any]) -> ast.TypeNode:
        size_tok = c[2]
        size = int(size_tok.value)
        if size >= 2**32:
            raise WitError(
                "invalid list size: number too large to fit in target type",
                _token_span(self.lexed, size_tok),
            )
        return ast.TypeNode("fixed-list", (c[1], size), _token_span(self.lexed, c[0]))

    def map_ty(self, c: list[Any]) -> ast.TypeNode:
        return ast.TypeNode("map", (c[1], c[2]), _token_span(self.lexed, c[0]))

    def option_ty(self, c: list[Any]) -> ast.TypeNode:
        return ast.TypeNode("option", (c[1],), _token_span(self.lexed, c[0]))

    def result_ty(self, c: list[Any]) -> ast.TypeNode:
        span = _token_span(self.lexed, c[0])
        rest = c[1:]
        if not rest:
            return ast.TypeNode("result", (None, None), span)
        if len(rest) == 1:
            return ast.TypeNode("result", (rest[0], None), span)
        if isinstance(rest[0], Token):  # `_`
            return ast.TypeNode("result", (None, rest[1]), span)
        return ast.TypeNode("result", (rest[0], rest[1]), span)

    def future_ty(self, c: list[Any]) -> ast.TypeNode:
        return ast.TypeNode(
            "future", (c[1] if len(c) > 1 else None,), _token_span(self.lexed, c[0])
        )

    def stream_ty(self, c: list[Any]) -> ast.TypeNode:
        return ast.TypeNode(
            "stream", (c[1] if len(c) > 1 else None,), _token_span(self.lexed, c[0])
        )

    def handle_ty(self, c: list[Any]) -> ast.TypeNode:
        kind = "own" if c[0].type == "OWN" else "borrow"
        return ast.TypeNode(kind, (c[1],), c[1].span)  # wit-parser spans a handle by its resource


_BUILD = _Build()
_PARSER: Lark | None = None


def _parser() -> Lark:
    global _PARSER
    if _PARSER is None:
        _PARSER = Lark(
            paths.read_text(paths.GRAMMAR),
            parser="lalr",
            lexer=_TokenFeed,
            transformer=_BUILD,
            maybe_placeholders=False,
            propagate_positions=False,
            cache=True,
        )
    return _PARSER


class _SyntaxError(Exception):
    """The fast driver met a token the table does not accept: Lark re-parses to report it."""


# A state's entry for a token: (None, next state) to shift, or (rule length, rule name,
# children to keep, builder) to reduce. Children to keep: None for all of them, else
# (index, expand) pairs (an expanded child is the list an inlined `_rule` produced); the
# builder is the transformer's method, or None for an inlined `_rule` (its children, a list).
_Table = list[dict[str, tuple[Any, ...]]]
_TABLE: tuple[_Table, int, int] | None = None


def _fast_table() -> tuple[_Table, int, int]:
    """Lark's LALR table with every Rule replaced by what a reduction needs, so the driver below
    never hashes or compares Rule objects, and with Lark's child filters and tree-building
    wrappers unwrapped (the driver keeps and splices the same children itself)."""
    global _TABLE
    if _TABLE is None:
        inner = _parser().parser.parser.parser
        conf = inner.parse_table
        callbacks = inner.callbacks
        if any(isinstance(key, str) for key in callbacks):  # pragma: no cover - Lark changed
            raise _SyntaxError()  # terminal callbacks are not handled: always use Lark's loop
        reduce: dict[Any, tuple[Any, ...]] = {}
        for rule, callback in callbacks.items():
            include = getattr(callback, "to_include", None)
            builder = getattr(callback, "node_builder", callback)
            name = rule.alias or rule.origin.name
            if not rule.origin.name.startswith("_"):
                if getattr(builder, "__self__", None) is not _BUILD:  # pragma: no cover
                    raise _SyntaxError()  # a rule without a method: Lark's loop builds it
                if type(callback).__name__ not in ("method", "ChildFilterLALR_NoPlaceholders"):
                    raise _SyntaxError()  # pragma: no cover - another Lark wrapper
                builder = getattr(_BUILD, name)
            else:
                builder = None
            size = len(rule.expansion)
            if include is not None:
                include = tuple((i, bool(expand)) for i, expand in include)
                if include == tuple((i, False) for i in range(size)):
                    include = None
            reduce[rule] = (size, rule.origin.name, include, builder)
        size = max(conf.states) + 1
        table: _Table = [{} for _ in range(size)]
        for state, actions in conf.states.items():
            row = table[state]
            for symbol, (action, arg) in actions.items():
                if action is Shift:
                    row[symbol] = (None, arg)
                else:
                    row[symbol] = reduce[arg]
        _TABLE = (table, conf.start_states["start"], conf.end_states["start"])
    return _TABLE


_WATCHED = frozenset(("_LBRACE", "_RBRACE", "PACKAGE", "AT", "_LT", "_GT"))


def _kept(children: list[Any], include: Any) -> list[Any]:
    """The children a rule keeps (Lark's ChildFilter): `(index, expand)` pairs, an expanded
    child (an inlined `_rule`) contributing its own children."""
    kept: list[Any] = []
    for k, expand in include:
        if expand:
            if kept:
                kept += children[k]
            else:
                kept = children[k]
        else:
            kept.append(children[k])
    return kept


def _fast_parse(lexed: Lexed) -> Any:
    """Lark's LALR loop (`ParserState.feed_token`) over the precomputed table: the same shifts,
    reductions and callbacks in the same order, so the same AST and the same errors raised by
    the callbacks and the token checks of `_TokenFeed` (made here, in the same order: before
    the reductions a token triggers). A syntax error raises `_SyntaxError`."""
    table, start, end_state = _fast_table()
    states = [start]
    values: list[Any] = []
    kinds = lexed.kinds
    watched = _WATCHED
    depth = 0
    prev = ""
    package_braces: list[int] = []
    braces = 0
    i = -1
    for ttype, tok in zip(kinds, lexed.items):  # `tok` is an offset for dropped punctuation
        i += 1
        if depth >= MAX_TYPE_NESTING and (prev == "_LT" or prev == "_COMMA"):
            raise WitError("type nesting too deep", _token_span(lexed, lexed.token(i)))
        if ttype in watched:
            if ttype == "_LT":
                depth += 1
            elif ttype == "_GT":
                depth -= 1
            elif ttype == "_LBRACE":
                braces += 1
            elif ttype == "_RBRACE":
                if package_braces and package_braces[-1] == braces:
                    package_braces.pop()
                braces -= 1
            elif ttype == "PACKAGE":
                if _opens_block(kinds, i):
                    if len(package_braces) >= MAX_PACKAGE_NESTING:
                        span = _token_span(lexed, lexed.token(i))
                        raise WitError("package nesting too deep", span)
                    package_braces.append(braces + 1)
            else:
                _check_attribute_key(lexed, i)
        prev = ttype
        while True:
            entry = table[states[-1]].get(ttype)
            if entry is None:
                raise _SyntaxError()
            size = entry[0]
            if size is None:
                states.append(entry[1])
                values.append(tok)
                break
            _, origin, include, builder = entry
            if size:
                children = values[-size:]
                del states[-size:]
                del values[-size:]
            else:
                children = []
            if include is not None:
                children = _kept(children, include)
            values.append(children if builder is None else builder(children))
            states.append(table[states[-1]][origin][1])
    if lexed.error is not None:
        raise lexed.error
    while True:  # the end of input: reduce until the start rule is accepted
        entry = table[states[-1]].get("$END")
        if entry is None or entry[0] is None:
            raise _SyntaxError()
        size, origin, include, builder = entry
        if size:
            children = values[-size:]
            del states[-size:]
            del values[-size:]
        else:
            children = []
        if include is not None:
            children = _kept(children, include)
        values.append(children if builder is None else builder(children))
        states.append(table[states[-1]][origin][1])
        if states[-1] == end_state:
            return values[-1]


def _token_span(lexed: Lexed, tok: Token) -> Span:
    """`Span(file, line, column, end_line, end_column)` of a token. The lexer fills every
    position field; Lark types them as optional."""
    return Span(lexed.file, tok.line, tok.column, tok.end_line, tok.end_column)  # type: ignore[arg-type]


def _start(tok: Token) -> int:
    return tok.start_pos or 0


def parse_text(file: str, text: str) -> ast.File:
    """Parse one file's text. Raises a located WitError for invalid syntax.

    Valid files take the recursive-descent fast path (`descent`); whatever it declines (any
    error included) is parsed here, by the exact path that words wit-parser's diagnostics."""
    tree = descent.parse(file, text)
    if tree is not None:
        return tree
    return parse_exact(file, text)


def parse_exact(file: str, text: str) -> ast.File:
    """`parse_text` without the fast path: the tokens of `lexer.py` through Lark's LALR table."""
    lexed = tokenize(file, text)
    parser = _parser()
    _BUILD.lexed = lexed
    try:
        return _parse_lexed(parser, lexed)
    finally:
        # the tokens are garbage now: a large file's would otherwise stay alive (and be walked
        # by every later collection of the cyclic GC) until the next file is parsed
        del _BUILD.lexed


def _parse_lexed(parser: Lark, lexed: Lexed) -> ast.File:
    try:
        try:
            result: ast.File = _fast_parse(lexed)
        except _SyntaxError:  # Lark's own loop finds it again and says what it expected
            result = parser.parse(lexed)  # type: ignore[assignment]
    except UnexpectedToken as err:
        raise _syntax_error(lexed, err) from None
    except WitError as err:
        if err is lexed.error and lexed.tokens:
            last = lexed.tokens[-1]
            bad = lexed.bad_ids.get(_start(last))
            if bad is not None:
                raise lexed.fail(_start(last), bad) from None
        raise
    except UnexpectedInput as err:  # pragma: no cover - other Lark failures
        raise WitError(
            f"syntax error: {err}", lexed.span(getattr(err, "pos_in_stream", 0) or 0)
        ) from None
    return result


# What wit-parser says it expected, keyed by a distinctive terminal of Lark's expected set.
_CONTEXT_EXPECT = [
    ({"INTERFACE", "WORLD", "USE"}, "`world`, `interface` or `use`"),
    ({"IMPORT", "EXPORT", "INCLUDE"}, "`import`, `export`, `include`, `use`, or type definition"),
    ({"TYPE", "RESOURCE", "RECORD", "FUNC"}, "a type"),
    ({"TYPE", "RESOURCE", "RECORD"}, "`type`, `resource` or `func`"),
    ({"U8", "STRING", "LIST"}, "a type"),
    ({"CONSTRUCTOR"}, "`constructor` or identifier"),
    # `import label: ...` that is neither a function nor an inline interface: a use path
    ({"INTERFACE", "FUNC", "ID"}, "an identifier or string"),
    # `name: ...` in an interface or resource: wit-parser wants `func` unless `async`/`get(`/`set(`
    ({"ASYNC", "FUNC", "ID"}, "keyword `func`"),
]


def _syntax_error(lexed: Lexed, err: UnexpectedToken) -> WitError:
    tok = err.token
    if tok.type == "$END" and lexed.error is not None:
        return lexed.error  # the input ended early because the lexer stopped there
    expected = set(err.expected)
    ip = getattr(err, "interactive_parser", None)
    if ip is not None:
        # LALR default reductions inflate `err.expected`; ask what the parser really accepts
        try:
            expected = set(ip.accepts()) or expected
        except Exception:  # pragma: no cover - keep Lark's own set if simulation fails
            pass
    if tok.type != "$END":
        expected -= {"$END"}
    if tok.type == "$END":
        pos = lexed.end_pos
        found = "eof"
    else:
        pos = _start(tok)
        found = DESCRIBE.get(tok.type, tok.type)
    i = _index_of(lexed, tok)
    if i >= 1:
        prev = lexed.tokens[i - 1]
        bad = lexed.bad_ids.get(_start(prev))
        if bad is not None:  # wit-parser validates a name as soon as it reads it
            return lexed.fail(_start(prev), bad)
    if (
        i >= 2
        and lexed.tokens[i - 2].type == "AT"
        and lexed.tokens[i - 1].type in ("ID", "EXPLICIT_ID")
    ):
        name_tok = lexed.tokens[i - 1]
        name = name_tok.value.lstrip("%")
        if name not in ("since", "unstable", "deprecated", "external-id"):
            return lexed.fail(_start(name_tok), f"unknown attribute `{name}`")
        return lexed.fail(pos, f"expected '(', found {found}")
    if (
        tok.type == "PACKAGE"
        and i >= 1
        and lexed.tokens[i - 1].type == "_RPAREN"
        and {"INTERFACE", "WORLD"} <= expected
    ):
        return lexed.fail(pos, "cannot place attributes on nested packages")
    if "_LPAREN" in expected and _after_func_colon(
        lexed.tokens, i - 1
    ):  # `name: word` that is not `get(`/`set(`: wit-parser wanted `func` at the word
        word = lexed.tokens[i - 1]
        return lexed.fail(_start(word), f"expected keyword `func`, found {DESCRIBE[word.type]}")
    if (
        "_SEMI" in expected
        and i >= 4
        and lexed.tokens[i - 1].type in ("ID", "EXPLICIT_ID")
        and lexed.tokens[i - 2].type == "_COLON"
        and lexed.tokens[i - 4].type in ("IMPORT", "EXPORT")
    ):  # `import label: iface` then something else: wit-parser wants the `;`
        return lexed.fail(pos, f"expected ';', found {found}")
    if (
        i >= 5
        and lexed.tokens[i - 1].type == "_EQ"
        and lexed.tokens[i - 5].type == "AT"
        and lexed.tokens[i - 4].value.lstrip("%") == "unstable"
    ):  # `@unstable(feature = ...)` takes a name, never a version
        return lexed.fail(pos, f"expected an identifier or string, found {found}")
    if expected == {"INTEGER"}:  # only the length of `list<T, N>` is a bare integer
        return lexed.fail(pos, f"expected fixed-length, found {found}")
    if "_GT" in expected and tok.type != "$END":
        closing = _closing_of_open_type(lexed.tokens, i)
        if closing is not None:
            return lexed.fail(pos, f"expected {closing}, found {found}")
    if tok.type == "INTEGER" and "VERSION" in expected:
        return _version_error(lexed, tok)
    want = _describe_expected(expected)
    return lexed.fail(pos, f"expected {want}, found {found}")


def _after_func_colon(tokens: list[Token], j: int) -> bool:
    """Whether identifier `tokens[j]` stands where an interface or resource function has
    `func` (`name: WORD`, `name: static WORD`)."""
    if j < 3 or tokens[j].type not in ("ID", "EXPLICIT_ID"):
        return False
    k = j - 1
    if tokens[k].type == "STATIC":
        k -= 1
    if tokens[k].type != "_COLON" or tokens[k - 1].type not in ("ID", "EXPLICIT_ID"):
        return False
    return k >= 2 and tokens[k - 2].type in ("_LBRACE", "_SEMI", "_RBRACE", "_RPAREN")


def _closing_of_open_type(tokens: list[Token], i: int) -> str | None:
    """What wit-parser expects next inside the innermost unclosed `list<`/`option<`/...
    before token `i`: `'>'`, or `','` after the key of a `map<K`."""
    depth = 0
    commas = 0
    j = i - 1
    while j >= 1:
        kind = tokens[j].type
        if kind == "_GT":
            depth += 1
        elif kind == "_LT":
            if depth == 0:
                owner = tokens[j - 1].type
                if owner == "MAP":
                    return "','" if commas == 0 else "'>'"
                if owner in ("LIST", "OPTION", "RESULT", "FUTURE", "STREAM"):
                    return "'>'"
                return None
            depth -= 1
        elif kind == "_COMMA" and depth == 0:
            commas += 1
        elif kind in ("_SEMI", "_LBRACE", "_RBRACE", "_LPAREN", "_RPAREN") and depth == 0:
            return None
        j -= 1
    return None


def _index_of(lexed: Lexed, tok: Token) -> int:
    """Index of `tok` in the file's tokens (len(tokens) for the end of input)."""
    import bisect

    if tok.type == "$END":
        return len(lexed.tokens)
    starts = [_start(t) for t in lexed.tokens]
    return bisect.bisect_left(starts, _start(tok))


def _version_error(lexed: Lexed, first: Token) -> WitError:
    """A version that is not `major.minor.patch`: point where wit-parser stops reading it."""
    tokens = lexed.tokens
    i = _index_of(lexed, first)
    for want in ("INTEGER", "_PERIOD", "INTEGER", "_PERIOD", "INTEGER"):
        if i >= len(tokens):
            if lexed.error is not None:  # the tokens stop where the lexer failed
                return lexed.error
            return lexed.fail(lexed.end_pos, f"expected {DESCRIBE[want]}, found eof")
        tok = tokens[i]
        if tok.type != want:
            found = DESCRIBE.get(tok.type, tok.type)
            return lexed.fail(_start(tok), f"expected {DESCRIBE[want]}, found {found}")
        i += 1
    return lexed.fail(_start(first), "invalid version")


def _describe_expected(expected: set[str]) -> str:
    for keys, text in _CONTEXT_EXPECT:
        if keys <= expected:
            return text
    # wit-parser reads optional parts first, then names only the token it insisted on
    if expected == {"VERSION"}:
        return "an integer"  # a version starts with its major number
    if {"_SEMI", "_RARROW"} <= expected and expected <= {"_SEMI", "_RARROW"}:
        return "';'"
    if {"_SEMI", "_LBRACE"} <= expected and expected <= {"_SEMI", "_LBRACE", "AT"}:
        return "'{'"
    if expected == {"_PERIOD", "_COLON"}:
        return "'.'"
    closers = expected & {"_RBRACE", "_RPAREN", "_GT"}
    if "_COMMA" in expected and len(closers) == 1 and expected <= {"_COMMA", "_LPAREN"} | closers:
        return DESCRIBE[closers.pop()]
    if "_SEMI" in expected and expected <= {"_SEMI", "_COLON", "_SLASH", "AT", "_LPAREN"}:
        return "';'"  # wit-parser has read a whole use path and wants the `;` after it
    if {"ID", "EXPLICIT_ID"} <= expected:
        rest = expected - {"ID", "EXPLICIT_ID"}
        if not rest or rest <= {"_RBRACE", "_RPAREN", "_GT", "ATTR", "STRLIT"}:
            return "an identifier or string"
    names = sorted(DESCRIBE.get(e, e) for e in expected if e != "AT")
    if len(names) == 1:
        return names[0]
    if not names:
        return "something else"
    return ", ".join(names[:-1]) + " or " + names[-1]


def _check_version(lexed: Lexed, tok: Token) -> str:
    """The text of a VERSION token (reported by the lexer if it is not valid semver)."""
    problem = lexed.bad_ids.get(_start(tok))
    if problem is not None:
        raise lexed.fail(_start(tok), problem, tok.end_pos)
    return str(tok.value)
