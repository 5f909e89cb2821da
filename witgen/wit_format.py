"""Format the source text of one `.wit` file, keeping every comment where it was.

`witgen fmt` uses this. It works on one file's token stream (`witgen.frontend.lexer`), not on
the resolved IR, so items stay in the file and the order they were written in, `include`s stay
includes, and every comment (`//`, `/* */` nested or not, `///` and `/** */` docs) stays between
the same two tokens. Only whitespace changes, plus two comma edits that mean nothing to the
parser: a trailing comma is added after the last member of a record, flags, variant or enum,
and dropped from parameter, tuple, `use` and `include ... with` lists. A line comment loses its
trailing whitespace (doc text ignores it); block comments are kept byte for byte, inner lines
included, because a `/** */` doc's text depends on them.

Layout is the one `wasm-tools component wit` prints, so its output (and `witgen.wit_printer`'s)
is already formatted:
- two-space indents; one statement per line; attributes (`@since(...)`) on their own lines;
  record/flags/variant/enum members one per line, each followed by a comma; `{ }` on the same
  line as the item, an empty body as `{` and `}` on two lines;
- a blank line after `package x:y;` and after each top-level interface (the last one too), none
  after a top-level world; inside a nested `package x:y { ... }` no blank lines, and two
  between nested packages;
- in interface and world bodies a blank line before each type and each interface function and
  before the first of a run of `export`s (or `include`s), none before `use` and `import`;
  none inside resource bodies;
- spaces: `a: b`, `x = y`, `-> t`, `a, b`; none in `ns:pkg/iface@1.0.0`, `list<u8>`, `f(x)`,
  `use i.{a, b}`; `with { a as b }`. Lines are never wrapped.

Comments: a comment on the same line as the token before it stays at the end of that line; a
comment on a line of its own stays on its own line, indented like the code that follows it;
a block comment followed by code on its line stays in front of that code. A blank line next to
an own-line comment is kept (at most one). A `//` comment inside a statement ends the line
there: the statement continues on the next line, indented one level deeper.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass

from lark import Token

from witgen.diagnostics import WitError
from witgen.frontend.lexer import Lexed, tokenize
from witgen.frontend.parser import parse_text

INDENT = "  "

NO_SPACE_BEFORE = frozenset("_COMMA _SEMI _RPAREN _GT _COLON _LPAREN _LT _PERIOD _SLASH AT".split())
NO_SPACE_AFTER = frozenset("_LPAREN _LT _PERIOD _SLASH AT".split())
CLOSERS = frozenset(("_RPAREN", "_GT", "_RBRACE"))
TYPE_ITEMS = frozenset("TYPE RECORD FLAGS VARIANT ENUM RESOURCE".split())
MEMBER_ITEMS = frozenset("RECORD FLAGS VARIANT ENUM".split())
ITEM_KEYWORDS = (
    frozenset("INTERFACE WORLD USE IMPORT EXPORT INCLUDE CONSTRUCTOR".split()) | TYPE_ITEMS
)
IDS = frozenset(("ID", "EXPLICIT_ID"))
END = "$END"


@dataclass(frozen=True, slots=True)
class _Sep:
    """What goes before a token: `newlines` > 0 starts it on a new line at `level`; 0 keeps it
    on the line (after a space when `space`), and `level` is where the statement continues if
    a comment forces a line break."""

    newlines: int
    level: int
    space: bool = False


def format_wit(file: str, text: str, *, parsed: bool = False) -> str:
    """The formatted text of one `.wit` file. Raises `WitError` when it does not parse (not
    checked again when the caller says it `parsed` the text already), and when the formatted
    text would not hold the same tokens and comments (a formatter bug: nothing should be
    written then)."""
    if not parsed:
        parse_text(file, text)
    lexed = tokenize(file, text)
    if lexed.error is not None:  # pragma: no cover - parse_text raised it already
        raise lexed.error
    walk = _Walk(lexed.tokens)
    walk.run()
    out = _Emitter(lexed, walk).emit()
    _verify(file, lexed, out)
    return out


# ------------------------------------------------------------------------- where lines go


class _Walk:
    """Decides the separator before every token by walking the statements of the file."""

    def __init__(self, tokens: list[Token]) -> None:
        self.t = tokens
        self.n = len(tokens)
        self.types = [str(t.type) for t in tokens] + [END] * 3
        self.i = 0
        self.seps: list[_Sep | None] = [None] * self.n
        self.drop: set[int] = set()  # trailing commas left out
        self.comma_after: set[int] = set()  # tokens a trailing comma is added after
        self.end_newlines = 0

    def type(self, j: int) -> str:
        return self.types[j] if j < self.n else END

    def run(self) -> None:
        last = self.items("file", 0)
        self.end_newlines = _newlines("file", last, END)

    def items(self, ctx: str, level: int) -> str | None:
        """Statements up to the `}` closing this block (or the end of the file)."""
        prev: str | None = None
        while self.i < self.n and self.type(self.i) != "_RBRACE":
            kind = self.kind()
            self.seps[self.i] = _Sep(_newlines(ctx, prev, kind), level)
            start = self.i
            self.statement(kind, level)
            if self.i == start:  # pragma: no cover - only on input that does not parse
                self.i += 1
            prev = kind
        return prev

    def kind(self) -> str:
        """The statement starting at `self.i`, by its keyword (attributes skipped)."""
        j = self.i
        while self.type(j) == "AT":
            j += 2
            if self.type(j) == "_LPAREN":
                while self.type(j) not in ("_RPAREN", END):
                    j += 1
                j += 1
        tt = self.type(j)
        if tt == "PACKAGE":
            while self.type(j) not in ("_SEMI", "_LBRACE", END):
                j += 1
            return "NESTED" if self.type(j) == "_LBRACE" else "PACKAGE_DECL"
        return tt if tt in ITEM_KEYWORDS else "FUNC"

    def block(self, ctx: str, level: int) -> None:
        """After a `{`: the statements of a body, then its `}`."""
        self.items(ctx, level + 1)
        self.close(level)

    def members(self, level: int) -> None:
        """After a `{`: record fields, flags or cases, one a line, each with a comma."""
        while self.i < self.n and self.type(self.i) != "_RBRACE":
            self.seps[self.i] = _Sep(1, level + 1)
            last = self.statement("MEMBER", level + 1)
            if self.type(self.i) == "_COMMA":
                self.seps[self.i] = _Sep(0, level + 2)
                self.i += 1
            elif last is not None:
                self.comma_after.add(last)
        self.close(level)

    def close(self, level: int) -> None:
        if self.i < self.n:
            self.seps[self.i] = _Sep(1, level)
            self.i += 1

    def statement(self, kind: str, level: int) -> int | None:
        """One statement (or member) from `self.i`, whose separator is set already; returns
        the index of its last token. Ends after its `;`, after the `}` of its body, or (for
        a member) before the `,` or `}` that follows it."""
        cont = level + 1
        depth = 0
        braces: list[bool] = []  # per open inline `{`: spaced inside (`with { a as b }`)
        path_colon = False
        in_attr = self.type(self.i) == "AT"
        prev: int | None = None
        while self.i < self.n:
            j = self.i
            tt = self.type(j)
            if depth == 0 and kind == "MEMBER" and tt in ("_COMMA", "_RBRACE"):
                return prev
            if depth == 0 and tt == "_RBRACE":  # pragma: no cover - input that does not parse
                return prev
            if prev is not None and self.seps[j] is None:
                self.seps[j] = _Sep(0, cont, self.space(prev, j, path_colon, braces))
            if tt == "_LBRACE" and prev is not None and self.type(prev) in ("_PERIOD", "WITH"):
                braces.append(self.type(prev) == "WITH")
                depth += 1
            elif tt == "_LBRACE" and depth == 0:
                self.i += 1
                if kind in MEMBER_ITEMS:
                    self.members(level)
                else:
                    self.block(_BODY.get(kind, "body"), level)
                return self.i - 1
            elif tt in ("_LPAREN", "_LT"):
                depth += 1
            elif tt in CLOSERS:
                depth -= 1
                if tt == "_RBRACE" and braces:
                    braces.pop()
                    if kind == "INCLUDE" and depth == 0:  # `include w with { ... }` has no `;`
                        self.i += 1
                        return j
                if in_attr and depth == 0:
                    in_attr = False
                    self.i += 1
                    if self.type(self.i) == "AT":
                        in_attr = True
                    if self.i < self.n:
                        self.seps[self.i] = _Sep(1, level)
                    prev = j
                    continue
            elif tt == "_COMMA" and depth > 0 and self.type(j + 1) in CLOSERS:
                self.drop.add(j)
                self.i += 1
                continue
            elif tt == "_COLON":
                path_colon = kind in ("PACKAGE_DECL", "NESTED") or (
                    self.type(j + 1) in IDS and self.type(j + 2) == "_SLASH"
                )
            self.i += 1
            prev = j
            if tt == "_SEMI" and depth == 0:
                return j
        return prev

    def space(self, prev: int, j: int, path_colon: bool, braces: list[bool]) -> bool:
        pt, tt = self.type(prev), self.type(j)
        if tt in NO_SPACE_BEFORE or pt in NO_SPACE_AFTER:
            return False
        if pt == "_COLON":
            return not path_colon
        if tt == "_RBRACE" or pt == "_LBRACE":  # inside an inline `{ }`
            return bool(braces) and braces[-1]
        return True


_BODY = {"NESTED": "nested", "RESOURCE": "resource"}


def _newlines(ctx: str, prev: str | None, kind: str) -> int:
    """Line breaks between two statements of a block (2 = one blank line)."""
    if prev is None:
        return 0 if ctx == "file" else 1
    if ctx == "file":
        if prev == "NESTED":
            return 3 if kind == "NESTED" else 1 if kind == END else 2
        if prev in ("PACKAGE_DECL", "INTERFACE"):
            return 2
        if prev == "USE":
            return 1 if kind in ("USE", END) else 2
        return 1
    if ctx in ("nested", "resource"):
        return 1
    if kind in TYPE_ITEMS or kind == "FUNC":
        return 2
    if kind in ("EXPORT", "INCLUDE"):
        return 1 if prev == kind else 2
    return 1


# ------------------------------------------------------------------------- writing it out


@dataclass(frozen=True, slots=True)
class _Comment:
    text: str
    before: int  # newlines in the source between the previous token or comment and this one
    line: bool  # a `//` comment


class _Emitter:
    def __init__(self, lexed: Lexed, walk: _Walk) -> None:
        self.lexed = lexed
        self.text = lexed.text
        self.walk = walk
        self.starts = [s for s, _ in lexed.comment_spans]
        self.out: list[str] = []

    def comments(self, start: int, end: int) -> tuple[list[_Comment], int]:
        """The comments between offsets `start` and `end`, and the newlines after the last."""
        spans = self.lexed.comment_spans
        k = bisect.bisect_left(self.starts, start)
        if k == len(spans) or spans[k][0] >= end:
            return [], 0  # (only callers with comments look at the count)
        text = self.text
        found: list[_Comment] = []
        at = start
        while k < len(spans) and spans[k][0] < end:
            s, e = spans[k]
            body = text[s:e]
            is_line = body.startswith("//")
            found.append(
                _Comment(body.rstrip() if is_line else body, text.count("\n", at, s), is_line)
            )
            at = e
            k += 1
        return found, text.count("\n", at, end)

    def emit(self) -> str:
        text = self.text
        walk = self.walk
        out = self.out
        if text.startswith("\ufeff"):
            out.append("\ufeff")
        prev_end: int | None = None
        prev_type = ""
        for j, tok in enumerate(walk.t):
            if j in walk.drop:
                continue
            sep = walk.seps[j]
            assert sep is not None, "every token has a separator"
            start = tok.start_pos or 0
            comments, after = self.comments(prev_end or 0, start)
            if prev_end is None:
                self.lines(comments, after, sep.newlines, 0, first=True)
            elif sep.newlines:
                self.lines(comments, after, sep.newlines, sep.level)
            else:
                self.inline(comments, after, sep, prev_type, walk.types[j])
            out.append(text[start : tok.end_pos])
            if j in walk.comma_after:
                out.append(",")
            prev_end = tok.end_pos
            prev_type = walk.types[j]
        comments, _ = self.comments(prev_end or 0, len(text))
        if prev_end is None:
            self.lines(comments, 0, 0, 0, first=True, final=True)
        else:
            self.lines(comments, 0, walk.end_newlines, 0, final=True)
        return "".join(out)

    def lines(
        self,
        comments: list[_Comment],
        after: int,
        newlines: int,
        level: int,
        *,
        first: bool = False,
        final: bool = False,
    ) -> None:
        """A separator that starts the next token on a new line, `newlines` breaks down."""
        out = self.out
        indent = INDENT * level
        k = 0
        if not first:  # comments ending the previous token's line
            while k < len(comments) and comments[k].before == 0:
                out.append(" " + comments[k].text)
                k += 1
        own = comments[k:]
        if not own:
            if first and final:
                return
            out.append("\n" * newlines + ("" if final else indent))
            return
        # Own-line comments, then the token. Blank lines written between them are kept.
        befores = [c.before for c in own] + ([] if final else [after])
        gaps = [0 if b == 0 else 2 if b >= 2 else 1 for b in befores]
        if first:
            gaps[0] = 0
        elif newlines >= 2 and 2 not in gaps[1:]:
            gaps[0] = newlines
        else:
            gaps[0] = max(gaps[0], 1)
        glued = False  # the previous comment is a block comment with code after it
        for c, gap in zip(own, gaps):
            out.append(" " if gap == 0 and glued else "\n" * gap + indent)
            out.append(c.text)
            glued = not c.line
        if final:
            out.append("\n")
            return
        gap = gaps[-1]
        out.append(" " if gap == 0 and glued else "\n" * gap + indent)

    def inline(
        self, comments: list[_Comment], after: int, sep: _Sep, prev_type: str, tok_type: str
    ) -> None:
        """A separator inside a line; a comment there may still need a line break."""
        out = self.out
        if not comments:
            out.append(" " if sep.space else "")
            return
        indent = "\n" + INDENT * sep.level
        for k, c in enumerate(comments):
            if c.before:
                out.append(indent)
            elif k > 0 or sep.space or prev_type not in NO_SPACE_AFTER or prev_type == "_SLASH":
                out.append(" ")  # never `//*`: a `/` token glued to a comment is a line comment
            out.append(c.text)
        if after or comments[-1].line:
            out.append(indent)
        elif sep.space or tok_type not in NO_SPACE_BEFORE:
            out.append(" ")


# ------------------------------------------------------------------------- the safety net


def _essence(lexed: Lexed) -> list[tuple[str, str, tuple[str, ...]]]:
    """Each token other than `,` with the comments before it (line comments without their
    trailing whitespace), then the comments after the last token: what formatting keeps."""
    text = lexed.text
    spans = lexed.comment_spans
    out: list[tuple[str, str, tuple[str, ...]]] = []
    k = 0
    for tok in lexed.tokens:
        if tok.type == "_COMMA":
            continue
        start = tok.start_pos or 0
        before = []
        while k < len(spans) and spans[k][0] < start:
            body = text[spans[k][0] : spans[k][1]]
            before.append(body.rstrip() if body.startswith("//") else body)
            k += 1
        out.append((str(tok.type), text[start : tok.end_pos], tuple(before)))
    rest = [text[s:e] for s, e in spans[k:]]
    out.append((END, "", tuple(c.rstrip() if c.startswith("//") else c for c in rest)))
    return out


def _verify(file: str, lexed: Lexed, formatted: str) -> None:
    """Refuse output that lost or moved a token or comment, or that does not parse."""
    try:
        parse_text(file, formatted)
        again = tokenize(file, formatted)
    except WitError as err:  # pragma: no cover - a formatter bug
        raise WitError(f"internal error: the formatted text does not parse ({err})") from None
    if _essence(again) != _essence(lexed):  # pragma: no cover - a formatter bug
        raise WitError(
            "internal error: formatting would change tokens or comments; nothing written"
        )
