"""Doc comments laid out as gofmt lays them out.

gofmt (go/printer, since Go 1.19) rewrites every `//` comment that starts in column 1 and sits
right above a declaration: it reads the text as a Go doc comment (go/doc/comment) and prints it
back in canonical form. WIT docs often hold things that form changes: indented code examples
(a code block: a tab after `//`, a blank `//` line before and after), `- item` lists (printed
as `//   - item`, continuation lines under the text), headings (`# Title`, or a lone capitalised
line between blank lines, which becomes `# Title`), link definitions (`[text]: URL`, moved to
the end of the comment). `format` gives the lines gofmt would print, so generated files are
gofmt-identical without running gofmt. The rules follow go/doc/comment's documented syntax
(https://go.dev/doc/comment) as Go 1.26's gofmt applies them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

# -- blocks


@dataclass
class _Para:
    text: str


@dataclass
class _Heading:
    text: str


@dataclass
class _Code:
    lines: list[str]


@dataclass
class _Item:
    number: str  # "" for a bullet
    paras: list[str] = field(default_factory=list)


@dataclass
class _List:
    items: list[_Item]
    force_blank_before: bool
    force_blank_between: bool = False

    def blank_between(self) -> bool:
        return self.force_blank_between or any(len(i.paras) != 1 for i in self.items)

    def blank_before(self) -> bool:
        return self.force_blank_before or self.blank_between()


@dataclass
class _LinkDef:
    text: str
    url: str
    used: bool = False


_Block = _Para | _Heading | _Code | _List


def format(lines: list[str]) -> list[str]:
    """The comment text lines (after `// `) as gofmt prints them: each result line is what
    follows `//` (a leading tab or space included; "" for a bare `//`)."""
    text = "".join(line + "\n" for line in lines)
    if text == "":
        return []
    blocks, links = _parse(text)
    out = _print(blocks, links)
    result = []
    for line in out.split("\n")[:-1] if out.endswith("\n") else out.split("\n"):
        if line == "":
            result.append("")
        elif line.startswith("\t"):
            result.append(line)
        else:
            result.append(" " + line)
    return result


# -- parsing


def _indented(line: str) -> bool:
    return line != "" and line[0] in " \t"


def _leading_space(s: str) -> str:
    return s[: len(s) - len(s.lstrip(" \t"))]


def _unindent(lines: list[str]) -> list[str]:
    while lines and lines[0] == "":
        lines = lines[1:]
    while lines and lines[-1] == "":
        lines = lines[:-1]
    if not lines:
        return []
    prefix = _leading_space(lines[0])
    for line in lines[1:]:
        if line != "":
            lead = _leading_space(line)
            n = 0
            while n < len(prefix) and n < len(lead) and prefix[n] == lead[n]:
                n += 1
            prefix = prefix[:n]
    out = []
    for line in lines:
        if line.startswith(prefix):
            line = line[len(prefix) :]
        if line.strip(" \t\r\n\v\f") == "":
            line = ""
        out.append(line)
    while out and out[0] == "":
        out = out[1:]
    while out and out[-1] == "":
        out = out[:-1]
    return out


def _go_trim(s: str) -> str:
    """strings.TrimSpace (ASCII and Unicode white space)."""
    return s.strip()


def _list_marker(line: str) -> tuple[str, str] | None:
    line = _go_trim(line)
    if line == "":
        return None
    if line[0] in "•*+-":
        num, rest = "", line[1:]
    elif "0" <= line[0] <= "9":
        n = 1
        while n < len(line) and "0" <= line[n] <= "9":
            n += 1
        if n >= len(line) or line[n] not in ".)":
            return None
        num, rest = line[:n], line[n + 1 :]
    else:
        return None
    if not _indented(rest) or _go_trim(rest) == "":
        return None
    return num, rest


def _is_list(line: str) -> bool:
    return _list_marker(line) is not None


def _is_heading(line: str) -> bool:
    return len(line) >= 2 and line[0] == "#" and line[1] in " \t" and _go_trim(line) != "#"


_OLD_HEADING_BAD = set(';:!?+*/=[]{}_^°&§~%#@<">\\')


def _is_old_heading(line: str, lines: list[str], off: int) -> bool:
    if (
        off <= 0
        or lines[off - 1] != ""
        or off + 2 >= len(lines)
        or lines[off + 1] != ""
        or _leading_space(lines[off + 2]) != ""
    ):
        return False
    line = _go_trim(line)
    if not line or not (line[0].isalpha() and line[0].isupper()):
        return False
    if not (line[-1].isalpha() or line[-1].isdigit()):
        return False
    if any(c in _OLD_HEADING_BAD for c in line):
        return False
    rest = line
    while "'" in rest:
        rest = rest.split("'", 1)[1]
        if rest != "s" and not rest.startswith("s "):
            return False
    rest = line
    while "." in rest:
        rest = rest.split(".", 1)[1]
        if rest == "" or rest.startswith(" "):
            return False
    return True


def _link_def(line: str) -> _LinkDef | None:
    if line == "" or line[0] != "[":
        return None
    i = line.find("]:")
    if i < 0 or i + 3 >= len(line) or line[i + 2] not in " \t":
        return None
    url = _go_trim(line[i + 3 :])
    j = url.find("://")
    if j < 0 or not _is_scheme(url[:j]):
        return None
    return _LinkDef(line[1:i], url)


def _is_scheme(s: str) -> bool:
    # go/doc/comment accepts these schemes only
    return s in {
        "file",
        "ftp",
        "gopher",
        "http",
        "https",
        "mailto",
        "nntp",
    }


def _spans(lines: list[str]) -> list[tuple[int, int, str]]:
    spans: list[tuple[int, int, str]] = []
    i = 0
    force_indent = 0
    guard = 2 * len(lines) + 2
    while True:
        while i < len(lines) and lines[i] == "":
            i += 1
        if i >= len(lines):
            break
        guard -= 1
        if guard < 0:  # go/doc/comment panics here; never expected
            raise RuntimeError("doc comment layout is not making progress")
        start = i
        if i < force_indent or _indented(lines[i]):
            unindented_list_ok = _is_list(lines[i]) and i < force_indent
            i += 1
            while i < len(lines) and (
                lines[i] == ""
                or i < force_indent
                or _indented(lines[i])
                or (unindented_list_ok and _is_list(lines[i]))
            ):
                if lines[i] == "":
                    unindented_list_ok = False
                i += 1
            end = i
            while end > start and lines[end - 1] == "":
                end -= 1
            if end < len(lines) and lines[end].startswith("}"):
                end += 1
            kind = "list" if _is_list(lines[start]) else "code"
        else:
            i += 1
            while i < len(lines) and lines[i] != "" and not _indented(lines[i]):
                i += 1
            end = i
            if i < len(lines) and lines[i] != "" and not _is_list(lines[i]):
                if _is_list(lines[i - 1]):
                    force_indent = end
                    end -= 1
                    while end > start and _is_list(lines[end - 1]):
                        end -= 1
                elif lines[i - 1].endswith("{") or lines[i - 1].endswith("\\"):
                    force_indent = end
                    end -= 1
                if start == end and force_indent > start:
                    i = start
                    continue
            if end - start == 1 and _is_heading(lines[start]):
                kind = "heading"
            elif end - start == 1 and _is_old_heading(lines[start], lines, start):
                kind = "oldheading"
            else:
                kind = "para"
        spans.append((start, end, kind))
        i = end
    return spans


def _parse(text: str) -> tuple[list[_Block], list[_LinkDef]]:
    lines = _unindent(text.split("\n"))
    blocks: list[_Block] = []
    links: list[_LinkDef] = []
    by_text: dict[str, _LinkDef] = {}

    def paragraph(par: list[str]) -> str | None:
        defs = [_link_def(line) for line in par]
        if defs and all(d is not None for d in defs):
            for d in defs:
                assert d is not None
                links.append(d)
                by_text.setdefault(d.text, d)
            return None
        return "\n".join(par)

    prev_end = 0
    for start, end, kind in _spans(lines):
        chunk = lines[start:end]
        if kind == "list":
            blocks.append(_list(chunk, prev_end < start, paragraph))
        elif kind == "code":
            blocks.append(_Code(_unindent(chunk)))
        elif kind == "heading":
            blocks.append(_Heading(_go_trim(lines[start][1:])))
        elif kind == "oldheading":
            blocks.append(_Heading(_go_trim(lines[start])))
        else:
            p = paragraph(chunk)
            if p is not None:
                blocks.append(_Para(p))
        prev_end = end
    # link definitions used by `[text]` in paragraphs and list items
    texts = [b.text for b in blocks if isinstance(b, _Para)]
    texts += [p for b in blocks if isinstance(b, _List) for it in b.items for p in it.paras]
    for t in texts:
        _mark_used(t, by_text)
    return blocks, links


def _quotes(s: str) -> str:
    """Paragraph text as go/doc/comment reads it back: two backquotes are an opening and two
    apostrophes a closing typographic quote; a run of three or more backquotes stays (a
    Markdown fence), and where scanning resumes after one follows Go's implementation."""
    out: list[str] = []
    wrote = 0
    i = 0
    while i < len(s):
        t = s[i:]
        if t.startswith("``"):
            if len(t) >= 3 and t[2] == "`":
                i += 3
                while i < len(t) and t[i] == "`":  # indexes `t` with `i`, as Go does
                    i += 1
                continue
            out.append(s[wrote:i] + "\u201c")
            i += 2
            wrote = i
        elif t.startswith("''"):
            out.append(s[wrote:i] + "\u201d")
            i += 2
            wrote = i
        else:
            i += 1
    out.append(s[wrote:])
    return "".join(out)


def _mark_used(text: str, by_text: dict[str, _LinkDef]) -> None:
    start = -1
    buf: list[str] = []
    for i, c in enumerate(text):
        if c in "\n\t":
            c = " "
        if c == "[":
            start = i
        elif c == "]":
            if start >= 0:
                d = by_text.get("".join(buf))
                if d is not None:
                    d.used = True
            start = -1
            buf = []
        if start >= 0 and i != start:
            buf.append(c)


def _list(
    lines: list[str], force_blank_before: bool, paragraph: Callable[[list[str]], str | None]
) -> _List:
    first = _list_marker(lines[0])
    numbered = first is not None and first[0] != ""
    lst = _List([], force_blank_before)
    item: _Item | None = None
    text: list[str] = []

    def flush() -> None:
        nonlocal text
        if item is not None and text:
            p = paragraph(text)
            if p is not None:
                item.paras.append(p)
        text = []

    for line in lines:
        marker = _list_marker(line)
        if marker is not None and (marker[0] != "") == numbered:
            flush()
            item = _Item(marker[0])
            lst.items.append(item)
            line = marker[1]
        line = _go_trim(line)
        if line == "":
            lst.force_blank_between = True
            flush()
            continue
        text.append(line)
    flush()
    return lst


# -- printing


def _indent_text(s: str, indent: str) -> str:
    return s.replace("\n", "\n" + indent)


def _print(blocks: list[_Block], links: list[_LinkDef]) -> str:
    out: list[str] = []
    for i, b in enumerate(blocks):
        if i > 0 and (not isinstance(b, _List) or b.blank_before()):
            out.append("\n")
        if isinstance(b, _Para):
            out.append(_quotes(b.text) + "\n")
        elif isinstance(b, _Heading):
            out.append("# " + b.text + "\n")
        elif isinstance(b, _Code):
            out.extend(("\t" + line if line else "") + "\n" for line in b.lines)
        else:
            loose = b.blank_between()
            for j, item in enumerate(b.items):
                if j > 0 and loose:
                    out.append("\n")
                out.append(" " + (" - " if item.number == "" else item.number + ". "))
                for k, para in enumerate(item.paras):
                    if k > 0:
                        out.append("\n    ")
                    out.append(_indent_text(_quotes(para), "    ") + "\n")
    for used in (True, False):
        first = True
        for d in links:
            if d.used == used:
                if first:
                    out.append("\n")
                    first = False
                out.append(f"[{d.text}]: {d.url}\n")
    return "".join(out)
