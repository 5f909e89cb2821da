"""WIT tokenizer: turns source text into Lark tokens, the way wit-parser's `lex.rs` does.

Hand-written (one master regex) rather than Lark's own lexer because WIT needs things a
regex lexer cannot express: nested block comments, comments kept aside so that doc comments
can be attached to the item that follows them, keywords that are never identifiers, and
wit-parser's exact error positions for bad characters and bad identifiers.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from witgen.diagnostics import Span, WitError

if TYPE_CHECKING:  # Lark is imported when tokens are made: `check` on valid WIT never needs it
    from lark import Token

KEYWORDS = {
    k: k.upper().replace("-", "_")
    for k in (
        "use type func u8 u16 u32 u64 s8 s16 s32 s64 f32 f64 char record resource own borrow "
        "flags variant enum bool string option result future stream error-context list map "
        "as from static interface tuple import export world package constructor include "
        "with async"
    ).split()
}
KEYWORDS["_"] = "UNDERSCORE"

PUNCT = {
    "=": "_EQ",
    ",": "_COMMA",
    ":": "_COLON",
    ";": "_SEMI",
    "(": "_LPAREN",
    ")": "_RPAREN",
    "{": "_LBRACE",
    "}": "_RBRACE",
    "<": "_LT",
    ">": "_GT",
    "->": "_RARROW",
    "*": "_STAR",
    "@": "AT",
    "/": "_SLASH",
    "+": "_PLUS",
    "-": "_MINUS",
    ".": "_PERIOD",
}

_PUNCT_TEXT = {name: text for text, name in PUNCT.items()}
# punctuation whose Token the fast scan leaves to `Lexed.token` (rules drop `_` terminals)
_LAZY = frozenset(name for name in _PUNCT_TEXT if name.startswith("_"))

# How wit-parser describes each token in "expected X, found Y" messages.
DESCRIBE = {
    "_EQ": "'='",
    "_COMMA": "','",
    "_COLON": "':'",
    "_SEMI": "';'",
    "_LPAREN": "'('",
    "_RPAREN": "')'",
    "_LBRACE": "'{'",
    "_RBRACE": "'}'",
    "_LT": "'<'",
    "_GT": "'>'",
    "_RARROW": "`->`",
    "_STAR": "`*`",
    "AT": "`@`",
    "_SLASH": "`/`",
    "_PLUS": "`+`",
    "_MINUS": "`-`",
    "_PERIOD": "'.'",
    "ID": "an identifier",
    "EXPLICIT_ID": "an '%' identifier",
    "INTEGER": "an integer",
    "VERSION": "a version",
    "STRLIT": "a string literal",
    "$END": "eof",
}
for _kw, _name in KEYWORDS.items():
    DESCRIBE[_name] = f"keyword `{_kw}`"

_MASTER = re.compile(
    r"""
    (?P<ws>[ \t\n]+|\r\n)
  | (?P<line>//[^\n]*\n?)
  | (?P<block>/\*)
  | (?P<id>%?[^\W\d][\w-]*|%)
  | (?P<ver>\d+\.\d+\.\d+)
  | (?P<int>\d+)
  | (?P<punct>->|[=,:;(){}<>*@/+\-.])
  | (?P<str>"[^"\n]*"?)
    """,
    re.VERBOSE,
)

_BAD_CODEPOINTS = re.compile(
    "[\u202a-\u202e\u2066-\u2069\u0149\u0673\u0f77\u0f79\u17a3\u17a4\u17b4\u17b5"
    "\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]"
)
_WORD_LOWER = re.compile(r"[a-z0-9]+")
_WORD_UPPER = re.compile(r"[A-Z0-9]+")


class LineIndex:
    """Offset -> (line, column), both 1-based; columns count UTF-8 bytes, as wasm-tools does."""

    def __init__(self, text: str):
        self.text = text
        self.ascii = text.isascii()
        self.starts = [0]
        find = text.find
        i = find("\n")
        while i >= 0:
            self.starts.append(i + 1)
            i = find("\n", i + 1)

    def at(self, pos: int) -> tuple[int, int]:
        import bisect

        line = bisect.bisect_right(self.starts, pos)
        start = self.starts[line - 1]
        if self.ascii:
            return line, pos - start + 1
        return line, len(self.text[start:pos].encode("utf-8")) + 1


def validate_id(name: str) -> tuple[int, str] | None:
    """None when `name` is a valid WIT identifier, else (offset, message) like wit-parser."""
    if not name:
        return 0, "identifiers must have characters between '-'s"
    offset = 0
    for part in name.split("-"):
        if not part:
            return 0, "identifiers must have characters between '-'s"
        first = part[0]
        if not ("a" <= first <= "z" or "A" <= first <= "Z" or "0" <= first <= "9"):
            return 0, f"invalid character in identifier {_char_repr(first)}"
        if first.isupper():
            if not _WORD_UPPER.fullmatch(part):
                bad = next(c for c in part if not ("A" <= c <= "Z" or "0" <= c <= "9"))
                return 0, f"invalid character in identifier {_char_repr(bad)}"
        elif not _WORD_LOWER.fullmatch(part):
            bad = next(c for c in part if not ("a" <= c <= "z" or "0" <= c <= "9"))
            return 0, f"invalid character in identifier {_char_repr(bad)}"
        offset += len(part) + 1
    return None


def _char_repr(c: str) -> str:
    if c == "'":
        return "'\\''"
    if c == "\\":
        return "'\\\\'"
    if c.isprintable():
        return f"'{c}'"
    return "'\\u{%x}'" % ord(c)


class Lexed:
    """The tokens of one file plus the comments that precede each token (for doc comments)."""

    def __init__(self, file: str, text: str):
        self.file = file
        self.text = text
        self.lines = LineIndex(text)
        # Every token's type, and the token itself, or for punctuation but `@` (which no rule
        # keeps) just its offset: its Token is made only if `tokens` or `token(i)` asks.
        self.kinds: list[str] = []
        self.items: list[Token | int] = []
        self._tokens: list[Token] | None = None
        # comments[start offset of a token] = comments between the previous token and it
        self.comments: dict[int, list[str]] = {}
        self.comment_starts: dict[int, int] = {}  # same keys: where those comments begin
        # Every comment's (start, end) offsets in order, those after the last token included
        # (a line comment's end is before its newline). Only `witgen.wit_format` reads them;
        # a comment inside a version token (`1.0.0-/* c */rc`, never valid) is part of it.
        self.comment_spans: list[tuple[int, int]] = []
        self.end_pos = len(text)
        # Errors are reported when the parser reaches them, as wit-parser's lazy lexer does:
        # a bad identifier when it is used as a name, a bad character after the last token.
        self.bad_ids: dict[int, str] = {}
        self.error: WitError | None = None

    @property
    def tokens(self) -> list[Token]:
        """All tokens, in order."""
        if self._tokens is None:
            self._tokens = [self.token(i) for i in range(len(self.items))]
        return self._tokens

    def token(self, i: int) -> Token:
        """Token `i`, made now if the scan left only its offset."""
        item = self.items[i]
        if not isinstance(item, int):
            return item
        from lark import Token

        ttype = self.kinds[i]
        value = _PUNCT_TEXT[ttype]
        line, col = self.lines.at(item)
        return Token(ttype, value, item, line, col, line, col + len(value), item + len(value))

    def span(self, pos: int, end: int | None = None) -> Span:
        line, col = self.lines.at(pos)
        if end is None:
            return Span(self.file, line, col)
        eline, ecol = self.lines.at(end)
        return Span(self.file, line, col, eline, ecol)

    def fail(self, pos: int, message: str, end: int | None = None) -> WitError:
        return WitError(message, self.span(pos, end))


def tokenize(file: str, text: str) -> Lexed:
    """Lex a whole file. Forbidden code points raise at once (wit-parser checks them before
    parsing); a later lexical error ends the token list and is kept in `Lexed.error`."""
    out = Lexed(file, text)
    _check_codepoints(out)
    if _tokenize_fast(out):
        return out
    out = Lexed(file, text)  # something the fast scan leaves to the exact one: start again
    out._tokens = []
    try:
        _tokenize(out)
    except WitError as err:
        out.error = err
    out.kinds = [t.type for t in out._tokens]
    out.items = list(out._tokens)
    return out


# The fast scan: `findall` over a chunk of lines at a time, each match (whitespace before,
# piece). The pieces are the same as `_MASTER`'s, in the same order of preference; a block
# comment holding `/*` (nested) or running past the chunk is `/*` alone, measured then by the
# exact `_block_end`. An unterminated string or block comment, a version followed by `-`/`+`,
# any character `_MASTER` does not match and a non-ASCII first character stop the fast scan
# (`(?s:.)` takes those, so no character is ever skipped); the exact scan then runs from the
# start and says what is wrong, and where. Chunks keep the list of matches small (its tuples
# and strings would otherwise outweigh the tokens on a large file). Punctuation comes first
# and repetitions are possessive (no piece can start with what they would give back): the
# same pieces, found ~15% faster.
_FAST = re.compile(
    r"""
    ([ \t\n]*+(?:\r\n[ \t\n]*+)*+)
    ( [=,:;(){}<>*@+.]|->|-
    | %?[^\W\d][\w-]*+|%
    | \d+(?:\.\d+\.\d+)?
    | //[^\n]*+\n?
    | /\*(?:[^*/]|\*(?!/)|/(?!\*))*\*/
    | /\*?
    | "[^"\n]*"?
    | (?s:.)
    | \Z
    )
    """,
    re.VERBOSE,
)
_CHUNK = 1 << 16
_ID, _NUM, _STR, _SLASH, _PUNCT = range(5)
_FIRST: dict[str, int] = {c: _ID for c in "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_%"}
_FIRST.update({c: _NUM for c in "0123456789"})
_FIRST.update({'"': _STR, "/": _SLASH})
_FIRST.update({c: _PUNCT for c in "=,:;(){}<>*@+-."})


def _tokenize_fast(out: Lexed, chunk: int = _CHUNK) -> bool:
    """`_tokenize` for the common case, faster on large files (C-level `findall`, no match
    objects). False, with `out` half filled, when the text needs the exact scan (see `_FAST`).
    Chunks end just after a newline, so that only a block comment can cross their end."""
    from lark import Token

    text = out.text
    n = len(text)
    pos = 1 if text.startswith("\ufeff") else 0
    findall = _FAST.findall
    kinds = out.kinds
    items = out.items
    lazy = _LAZY
    comments = out.comments
    comment_starts = out.comment_starts
    bad_ids = out.bad_ids
    spans = out.comment_spans
    keywords = KEYWORDS
    punct = PUNCT
    first_kind = _FIRST
    ascii_only = out.lines.ascii
    new_token = str.__new__
    valid_ids: set[str] = set()
    pending: list[str] = []
    pending_start = 0
    line_no = 1
    line_start = 0
    while pos < n:
        stop = text.find("\n", pos + chunk)
        stop = n if stop < 0 else stop + 1
        for ws, value in findall(text, pos, stop):
            if ws:
                if "\n" in ws:
                    line_no += ws.count("\n")
                    line_start = pos + ws.rindex("\n") + 1
                pos += len(ws)
            if not value:  # the end of the chunk
                break
            end = pos + len(value)
            kind = first_kind.get(value[0])
            if kind is None:
                return False
            if kind == _ID:
                if value[0] == "%":
                    ttype = "EXPLICIT_ID"
                    if value not in valid_ids:
                        bad = validate_id(value[1:])
                        if bad is not None:
                            bad_ids[pos] = bad[1]
                        else:
                            valid_ids.add(value)
                else:
                    ttype = keywords.get(value, "ID")
                    if ttype == "ID" and value not in valid_ids:
                        bad = validate_id(value)
                        if bad is not None:
                            bad_ids[pos] = bad[1]
                        else:
                            valid_ids.add(value)
            elif kind == _PUNCT:
                ttype = punct[value]
                if ttype in lazy:
                    if pending:
                        comments[pos] = pending
                        comment_starts[pos] = pending_start
                        pending = []
                    kinds.append(ttype)
                    items.append(pos)
                    pos = end
                    continue
            elif kind == _NUM:
                if "." in value:
                    ttype = "VERSION"
                    value, vend = _version_tail(text, end, value)
                    if vend != end:
                        return False  # `-pre`/`+build` after it: the pieces after it differ
                    problem = semver_problem(value)
                    if problem is not None:
                        bad_ids[pos] = problem
                else:
                    ttype = "INTEGER"
            elif kind == _SLASH:
                if len(value) == 1:
                    ttype = "_SLASH"
                else:  # a comment
                    exact = value == "/*"  # nested, or longer than the chunk
                    if exact:
                        try:
                            end = _block_end(out, pos)
                        except WitError:
                            return False
                        value = text[pos:end]
                    if not pending:
                        pending_start = pos
                    pending.append(value)
                    spans.append((pos, end - 1 if value[-1] == "\n" else end))
                    if "\n" in value:
                        line_no += value.count("\n")
                        line_start = pos + value.rindex("\n") + 1
                    pos = end
                    if exact:
                        break  # the pieces after `/*` are inside the comment: rescan from here
                    continue
            else:
                if len(value) < 2 or value[-1] != '"':
                    return False
                ttype = "STRLIT"
            if ascii_only:
                col = pos - line_start + 1
                width = len(value)
            else:
                col = len(text[line_start:pos].encode("utf-8")) + 1
                width = len(value.encode("utf-8"))
            tok = new_token(Token, value)
            tok.type = ttype
            tok.start_pos = pos
            tok.value = value
            tok.line = tok.end_line = line_no
            tok.column = col
            tok.end_column = col + width
            tok.end_pos = end
            if pending:
                comments[pos] = pending
                comment_starts[pos] = pending_start
                pending = []
            kinds.append(ttype)
            items.append(tok)
            pos = end
    return pos == n


def _tokenize(out: Lexed) -> None:
    from lark import Token

    text = out.text
    tokens = out.tokens
    comments = out.comments
    bad_ids = out.bad_ids
    spans = out.comment_spans
    pending: list[str] = []
    pending_start = 0
    pos = 1 if text.startswith("\ufeff") else 0
    n = len(text)
    match = _MASTER.match
    lines = out.lines
    starts = lines.starts
    line_no = 1
    line_start = 0
    keywords = KEYWORDS
    punct = PUNCT
    ascii_only = lines.ascii
    new_token = str.__new__
    valid_ids: set[str] = set()
    while pos < n:
        m = match(text, pos)
        if m is None:
            ch = text[pos]
            if ch == "\r":
                # wit-parser folds CRLF; a lone CR is just an unexpected character
                raise out.fail(pos, "unexpected character '\\r'")
            raise out.fail(pos, f"unexpected character {_char_repr(ch)}")
        kind = m.lastgroup
        end = m.end()
        if kind == "ws":
            pos = end
            continue
        if kind == "line":
            if not pending:
                pending_start = pos
            pending.append(m.group())
            spans.append((pos, end - 1 if text[end - 1] == "\n" else end))
            pos = end
            continue
        if kind == "block":
            end = _block_end(out, pos)
            if not pending:
                pending_start = pos
            pending.append(text[pos:end])
            spans.append((pos, end))
            pos = end
            continue
        # a real token: find its line/column cheaply (tokens come in order)
        while len(starts) > line_no and starts[line_no] <= pos:
            line_no += 1
            line_start = starts[line_no - 1]
        if ascii_only:
            col = pos - line_start + 1
        else:
            col = len(text[line_start:pos].encode("utf-8")) + 1
        value = m.group()
        if kind == "id":
            if value[0] == "%":
                ttype = "EXPLICIT_ID"
                bad = None if value in valid_ids else validate_id(value[1:])
            else:
                ttype = keywords.get(value, "ID")
                bad = None if ttype != "ID" or value in valid_ids else validate_id(value)
            if bad is not None:
                bad_ids[pos] = bad[1]
            else:
                valid_ids.add(value)  # names repeat: validate each one once per file
        elif kind == "punct":
            ttype = punct[value]
        elif kind == "ver":
            ttype = "VERSION"
            value, end = _version_tail(text, m.end(), value)
            problem = semver_problem(value)
            if problem is not None:
                bad_ids[pos] = problem
        elif kind == "int":
            ttype = "INTEGER"
        else:
            ttype = "STRLIT"
            if len(value) < 2 or not value.endswith('"'):
                if end < n:
                    raise out.fail(end, "invalid string character '\\n'")
                raise out.fail(pos, "unterminated string")
        width = len(value) if ascii_only else len(value.encode("utf-8"))
        # Token(ttype, value, pos, line_no, col, line_no, col + width, end), without the two
        # Python-level calls of Lark's constructor (a third of the lexer's time on large files)
        tok = new_token(Token, value)
        tok.type = ttype
        tok.start_pos = pos
        tok.value = value
        tok.line = tok.end_line = line_no
        tok.column = col
        tok.end_column = col + width
        tok.end_pos = end
        if pending:
            comments[pos] = pending
            out.comment_starts[pos] = pending_start
            pending = []
        tokens.append(tok)
        pos = end


_PIECE = re.compile(r"\d+|[^\W\d][\w-]*|-")  # wit-parser also takes a lone `-` token
_TRIVIA = re.compile(r"(?:[ \t\n]+|\r\n|//[^\n]*|/\*(?:[^*]|\*(?!/))*\*/)*")


def _version_tail(text: str, pos: int, core: str) -> tuple[str, int]:
    """Extend `major.minor.patch` with `-pre` and `+build` the way wit-parser reads them:
    after a separator it takes integers, non-keyword words and inner periods (a period only
    when a word follows), whitespace and comments in between allowed. The version is the
    source text up to the last word taken; the separators are consumed even when nothing
    follows them (and then left out of the version)."""
    value_end = pos
    end = pos
    piece = _PIECE.match

    def skip(at: int) -> int:
        m = _TRIVIA.match(text, at)
        return at if m is None else m.end()

    for sep in "-+":
        q = skip(end)
        if not text.startswith(sep, q):
            continue
        end = q + 1
        while True:
            q = skip(end)
            m = piece(text, q)
            if m is not None and m.group() not in KEYWORDS:
                end = value_end = m.end()
                continue
            if text.startswith(".", q):
                r = skip(q + 1)
                m = piece(text, r)
                if m is not None and m.group() not in KEYWORDS:
                    end = value_end = m.end()
                    continue
            break
    return core + text[pos:value_end], end


def _describe_at(text: str, pos: int) -> str:
    m = _MASTER.match(text, pos)
    while m is not None and m.lastgroup in ("ws", "line"):
        pos = m.end()
        m = _MASTER.match(text, pos)
    if pos >= len(text):
        return "eof"
    if m is None:
        return "a character"
    kind = m.lastgroup
    value = m.group()
    if kind == "id":
        if value[0] == "%":
            return DESCRIBE["EXPLICIT_ID"]
        return DESCRIBE[KEYWORDS[value]] if value in KEYWORDS else DESCRIBE["ID"]
    if kind == "punct":
        return DESCRIBE[PUNCT[value]]
    if kind in ("int", "ver"):
        return DESCRIBE["INTEGER"]
    if kind == "block":
        return "a comment"
    return DESCRIBE["STRLIT"]


def _block_end(out: Lexed, start: int) -> int:
    text = out.text
    depth = 1
    i = start + 2
    n = len(text)
    while depth > 0:
        j = text.find("*", i)
        k = text.find("/*", i)
        if j < 0:
            raise out.fail(start, "unterminated block comment")
        if 0 <= k < j:
            depth += 1
            i = k + 2
            continue
        if text.startswith("*/", j):
            depth -= 1
            i = j + 2
        else:
            i = j + 1
        if i > n:
            raise out.fail(start, "unterminated block comment")
    return i


def _check_codepoints(out: Lexed) -> None:
    m = _BAD_CODEPOINTS.search(out.text)
    if m is None:
        return
    ch = m.group()
    line, _ = out.lines.at(m.start())
    code = ord(ch)
    if 0x202A <= code <= 0x202E or 0x2066 <= code <= 0x2069:
        msg = f"Input contains bidirectional override codepoint {_escape(ch)} at line {line}"
    elif code in (0x149, 0x673, 0xF77, 0xF79, 0x17A3, 0x17A4, 0x17B4, 0x17B5):
        msg = f"Codepoint {_escape(ch)} at line {line} is discouraged by Unicode"
    else:
        msg = f"Control code '\\u{{{code:x}}}' at line {line}"
    raise out.fail(m.start(), msg)


def _escape(ch: str) -> str:
    return "EscapeUnicode(EscapeIterInner('\\u{%x}'))" % ord(ch)


_IDENT_CHARS = frozenset("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-")


def semver_problem(text: str) -> str | None:
    """What the `semver` crate says about `text` (None when it is a valid version)."""
    i = 0
    n = len(text)
    for what in ("major", "minor", "patch"):
        j = i
        while j < n and text[j].isdigit():
            j += 1
        if j - i > 1 and text[i] == "0":
            return f"invalid leading zero in {what} version number"
        i = j
        if what != "patch":
            i += 1  # the lexer guarantees the period
    sections = (("-", "pre-release identifier"), ("+", "build metadata"))
    after = "patch version number"
    for sep, what in sections:
        if i < n and text[i] == sep:
            i += 1
            while True:
                j = i
                while j < n and text[j] in _IDENT_CHARS:
                    j += 1
                if j == i:
                    return f"empty identifier segment in {what}"
                seg = text[i:j]
                if sep == "-" and seg.isdigit() and len(seg) > 1 and seg[0] == "0":
                    return "invalid leading zero in pre-release identifier"
                i = j
                if i < n and text[i] == ".":
                    i += 1
                    continue
                break
            after = what
    if i < n:
        return f"unexpected character {text[i]!r} after {after}"
    return None
