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

from dataclasses import dataclass
from pathlib import Path
from typing import Iterable


@dataclass(frozen=True)
class Span:
    file: str
    line: int  # 1-based
    column: int  # 1-based, in UTF-8 bytes (as wasm-tools reports columns)
    end_line: int | None = None
    end_column: int | None = None  # exclusive

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


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
