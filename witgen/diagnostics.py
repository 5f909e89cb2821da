"""Source locations and user-facing errors.

Every error a user can cause (bad WIT, unknown names, incompatible changes...) is a
`WitError` carrying a `Span`; the CLI renders it as

    error: MESSAGE
      --> FILE:LINE:COLUMN
       |
    12 | the source line
       |     ^^^^

and exits non-zero. Nothing user-caused should ever surface as a traceback.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import FrozenInstanceError
from pathlib import Path
from typing import Any, Iterable


class SourceLines:
    """Where the lines of one file's text start, worked out the first time a span of it needs a
    line number (a large file makes hundreds of thousands of spans and most are never shown)."""

    __slots__ = ("file", "text", "_starts")

    def __init__(self, file: str, text: str) -> None:
        self.file = file
        self.text = text
        self._starts: list[int] | None = None

    def locate(self, offset: int) -> tuple[int, int]:
        """The 1-based (line, column) of a character offset (columns count characters: the
        spans made from offsets are of ASCII text, where characters are UTF-8 bytes)."""
        starts = self._starts
        if starts is None:
            starts = [0]
            find = self.text.find
            at = find("\n")
            while at >= 0:
                starts.append(at + 1)
                at = find("\n", at + 1)
            self._starts = starts
        line = bisect_right(starts, offset)
        return line, offset - starts[line - 1] + 1


_Where = tuple[int, int, int | None, int | None]


class Span:
    """A place in a file: `Span(file, line, column, end_line=None, end_column=None)`, immutable,
    equal and hashed by those five values.

    The parser's fast path makes its spans from character offsets instead (`OffsetSpan`): line
    and column are then looked up only when read, which most spans never are."""

    # `_where` holds (line, column, end_line, end_column) once known; an offset span keeps its
    # file's `SourceLines`, its start offset and its length (None: no end) until then
    __slots__ = ("file", "_lines", "_start", "_length", "_where")

    file: str
    _lines: SourceLines
    _start: int
    _length: int | None
    _where: _Where

    def __init__(
        self,
        file: str,
        line: int,
        column: int,
        end_line: int | None = None,
        end_column: int | None = None,
    ) -> None:
        _set_file(self, file)
        _set_where(self, (line, column, end_line, end_column))

    @staticmethod
    def at(lines: SourceLines, start: int, length: int | None) -> Span:
        """The span of `length` characters (None: a point) from offset `start` of a file."""
        span = _new_span(OffsetSpan)
        set_offset_lines(span, lines)
        set_offset_start(span, start)
        set_offset_length(span, length)
        return span

    def _located(self) -> _Where:
        try:
            return self._where
        except AttributeError:
            pass
        where = where_at(self._lines, self._start, self._length)
        _set_where(self, where)
        return where

    @property
    def line(self) -> int:  # 1-based
        return self._located()[0]

    @property
    def column(self) -> int:  # 1-based, in UTF-8 bytes (as wasm-tools reports columns)
        return self._located()[1]

    @property
    def end_line(self) -> int | None:
        return self._located()[2]

    @property
    def end_column(self) -> int | None:  # exclusive
        return self._located()[3]

    def _key(self) -> tuple[str, int, int, int | None, int | None]:
        return (self.file, *self._located())

    def __eq__(self, other: object) -> bool:
        if self is other:
            return True
        if not isinstance(other, Span):
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __setattr__(self, name: str, value: object) -> None:
        raise FrozenInstanceError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        raise FrozenInstanceError(f"cannot delete field {name!r}")

    def __reduce__(self) -> tuple[type[Span], tuple[str, int, int, int | None, int | None]]:
        return (Span, self._key())

    def __repr__(self) -> str:
        line, column, end_line, end_column = self._located()
        return (
            f"Span(file={self.file!r}, line={line!r}, column={column!r}, "
            f"end_line={end_line!r}, end_column={end_column!r})"
        )

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


def where_at(lines: SourceLines, start: int, length: int | None) -> _Where:
    """(line, column, end line, end column) of `length` characters (None: a point) from offset
    `start` of a file."""
    line, column = lines.locate(start)
    if length is None:
        return (line, column, None, None)
    if lines.text.find("\n", start, start + length) < 0:  # on one line: no search
        return (line, column, line, column + length)
    return (line, column, *lines.locate(start + length))


class OffsetSpan(Span):
    """A span made from offsets (see `Span.at`); its file is its `SourceLines`' (one field less
    to fill). Hot code makes one without the call: `object.__new__(OffsetSpan)`, then
    `set_offset_lines`, `set_offset_start` and `set_offset_length` on it."""

    __slots__ = ()

    @property
    def file(self) -> str:  # type: ignore[override]
        return self._lines.file


# Slot setters that bypass the frozen `__setattr__` (a span is only ever written while made;
# cheaper than assignment through an overridden `__setattr__`, which Python cannot specialize).
_new_span = object.__new__
_slots: dict[str, Any] = dict(Span.__dict__)
_set_file = _slots["file"].__set__
_set_where = set_where = _slots["_where"].__set__
set_offset_lines = _slots["_lines"].__set__
set_offset_start = _slots["_start"].__set__
set_offset_length = _slots["_length"].__set__


class SourceCache:
    """The text of every file the front end read, so errors can quote it after the fact."""

    _texts: dict[str, str] = {}

    @classmethod
    def remember(cls, file: str, text: str) -> None:
        cls._texts[file] = text

    @classmethod
    def line(cls, file: str, line: int) -> str | None:
        text = cls._texts.get(file)
        if text is None:
            try:
                text = Path(file).read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                return None
            cls._texts[file] = text
        lines = text.splitlines()
        return lines[line - 1] if 0 < line <= len(lines) else None


class WitgenError(Exception):
    """Base of every error meant for users; the CLI prints it and exits with `exit_code`."""

    exit_code = 1

    def render(self) -> str:
        return f"error: {self}"


class UsageError(WitgenError):
    """A bad path, an unreadable file, a bad flag: one line, exit status 2."""

    exit_code = 2


class WitError(WitgenError):
    """An error located in WIT source."""

    def __init__(
        self,
        message: str,
        span: Span | None = None,
        notes: tuple[str, ...] = (),
        help: str | None = None,
    ):
        super().__init__(message)
        self.message = message
        self.span = span
        self.notes = notes
        self.help = help  # a suggestion (`did you mean ...?`), rendered after the notes

    def render(self) -> str:
        out = [f"error: {self.message}"]
        if self.span is not None:
            out.append(render_location(self.span))
        out.extend(f"  = note: {n}" for n in self.notes)
        if self.help is not None:
            out.append(f"  = help: {self.help}")
        return "\n".join(out)


def render_location(span: Span) -> str:
    """`--> file:line:col` plus the quoted source line and a caret under the span."""
    gutter = " " * len(str(span.line))
    out = [f"{gutter}--> {span}"]
    src = SourceCache.line(span.file, span.line)
    if src is not None:
        # Columns count bytes; the caret is drawn under characters.
        start = _chars_before(src, span.column - 1)
        width = 1
        if span.end_line == span.line and span.end_column is not None:
            width = max(1, _chars_before(src, span.end_column - 1) - start)
        out.append(f"{gutter} |")
        out.append(f"{span.line} | {src}")
        out.append(f"{gutter} | {' ' * start}{'^' * width}")
    return "\n".join(out)


def _chars_before(line: str, byte_offset: int) -> int:
    """How many characters of `line` its first `byte_offset` UTF-8 bytes hold."""
    return len(line.encode("utf-8")[: max(0, byte_offset)].decode("utf-8", errors="ignore"))


class WitErrors(WitgenError):
    """Several located errors found in one run (reported together, exit status 1)."""

    def __init__(self, errors: list[WitError]):
        super().__init__("; ".join(e.message for e in errors))
        self.errors = errors

    def render(self) -> str:
        return "\n\n".join(e.render() for e in self.errors)


def did_you_mean(name: str, candidates: Iterable[str]) -> str | None:
    """The candidate closest to a misspelt `name`, if one is close and no other is as close."""
    import difflib

    pool = sorted(set(candidates) - {name})
    # a name typed in another case (`Processor` for `processor`)
    folded = [c for c in pool if c.lower() == name.lower()]
    if folded:
        return folded[0]
    scored = sorted(
        ((difflib.SequenceMatcher(None, name, c).ratio(), c) for c in pool), reverse=True
    )
    if scored and scored[0][0] >= 0.6 and (len(scored) == 1 or scored[1][0] < scored[0][0]):
        return scored[0][1]
    # the start of exactly one name (`proc` for `processor-plugin`)
    starts = [c for c in pool if len(name) >= 3 and c.startswith(name)]
    return starts[0] if len(starts) == 1 else None


def suggest(name: str, candidates: Iterable[str]) -> str | None:
    """`did you mean `x`?` for the candidate closest to an unknown `name`, if one is close."""
    close = did_you_mean(name, candidates)
    return f"did you mean `{close}`?" if close is not None else None
