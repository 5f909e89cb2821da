"""Line breaking for the TypeScript backend: a small Wadler/prettier-style document printer.

Generated TypeScript must already be prettier-formatted, and prettier decides where long
signatures and types break with the algorithm of "A prettier printer" (Wadler): a document of
groups, indentation and optional line breaks, where a group is printed flat if it fits in the
remaining width (looking ahead to the next possible break) and broken otherwise. This module
is that printer, plus the document shapes prettier uses for the TypeScript constructs witgen
emits (type arguments, unions, type aliases, bracketed lists); it knows nothing about WIT.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Union

WIDTH = 80  # prettier's default printWidth
INDENT = "  "


@dataclass(frozen=True)
class Group:
    """Printed flat if it fits, else with its line breaks taken."""

    parts: tuple[Doc, ...]
    id: str | None = None  # lets `IfBreak`/`IndentIfBreak` elsewhere follow this group's mode


@dataclass(frozen=True)
class Indent:
    parts: tuple[Doc, ...]


@dataclass(frozen=True)
class IndentIfBreak:
    """Indented only if the group `group_id` broke (prettier's assignment "fluid" layout)."""

    group_id: str
    parts: tuple[Doc, ...]


@dataclass(frozen=True)
class Line:
    """A space (or nothing, if `soft`) when flat; a newline plus indentation when broken."""

    soft: bool = False


@dataclass(frozen=True)
class IfBreak:
    broken: Doc
    flat: Doc = ""
    group_id: str | None = None  # whose mode decides; default: the enclosing group's


Doc = Union[str, tuple["Doc", ...], Group, Indent, IndentIfBreak, Line, IfBreak]

LINE = Line(False)
SOFTLINE = Line(True)

_FLAT, _BREAK = 0, 1


def group(*parts: Doc, id: str | None = None) -> Group:
    return Group(tuple(parts), id)


def indent(*parts: Doc) -> Indent:
    return Indent(tuple(parts))


def join(separator: Doc, docs: list[Doc]) -> tuple[Doc, ...]:
    out: list[Doc] = []
    for i, doc in enumerate(docs):
        if i:
            out.append(separator)
        out.append(doc)
    return tuple(out)


@dataclass
class _Printer:
    width: int
    out: list[str] = field(default_factory=list)
    pos: int = 0
    group_modes: dict[str, int] = field(default_factory=dict)

    def fits(self, next_cmd: tuple[str, int, Doc], rest: list[tuple[str, int, Doc]]) -> bool:
        remaining = self.width - self.pos
        cmds = [next_cmd]
        rest_idx = len(rest)
        while remaining >= 0:
            if not cmds:
                if rest_idx == 0:
                    return True
                rest_idx -= 1
                cmds.append(rest[rest_idx])
                continue
            ind, mode, doc = cmds.pop()
            if isinstance(doc, str):
                remaining -= len(doc)
            elif isinstance(doc, tuple):
                cmds.extend((ind, mode, d) for d in reversed(doc))
            elif isinstance(doc, (Indent, IndentIfBreak)):
                cmds.extend((ind, mode, d) for d in reversed(doc.parts))
            elif isinstance(doc, Group):
                cmds.extend((ind, mode, d) for d in reversed(doc.parts))
            elif isinstance(doc, IfBreak):
                m = self.group_modes.get(doc.group_id, _FLAT) if doc.group_id else mode
                cmds.append((ind, mode, doc.broken if m == _BREAK else doc.flat))
            elif isinstance(doc, Line):
                if mode == _BREAK:
                    return True
                if not doc.soft:
                    remaining -= 1
        return False

    def print(self, doc: Doc, ind: str) -> str:
        cmds: list[tuple[str, int, Doc]] = [(ind, _BREAK, doc)]
        while cmds:
            ind, mode, d = cmds.pop()
            if isinstance(d, str):
                self.out.append(d)
                self.pos += len(d)
            elif isinstance(d, tuple):
                cmds.extend((ind, mode, x) for x in reversed(d))
            elif isinstance(d, Indent):
                cmds.extend((ind + INDENT, mode, x) for x in reversed(d.parts))
            elif isinstance(d, IndentIfBreak):
                broke = self.group_modes.get(d.group_id) == _BREAK
                cmds.extend((ind + INDENT if broke else ind, mode, x) for x in reversed(d.parts))
            elif isinstance(d, Group):
                flat = (ind, _FLAT, d.parts)
                chosen = _FLAT if mode == _FLAT or self.fits(flat, cmds) else _BREAK
                if d.id is not None:
                    self.group_modes[d.id] = chosen
                cmds.append((ind, chosen, d.parts))
            elif isinstance(d, IfBreak):
                m = self.group_modes.get(d.group_id, _FLAT) if d.group_id else mode
                cmds.append((ind, mode, d.broken if m == _BREAK else d.flat))
            elif isinstance(d, Line):
                if mode == _FLAT:
                    if not d.soft:
                        self.out.append(" ")
                        self.pos += 1
                else:
                    while self.out and self.out[-1].endswith(" "):
                        self.out[-1] = self.out[-1].rstrip(" ")
                    self.out.append("\n" + ind)
                    self.pos = len(ind)
        return "".join(self.out)


def render(doc: Doc, indent_text: str = "", width: int = WIDTH) -> list[str]:
    """Lay `doc` out starting at `indent_text` (which every line gets); returns the lines."""
    printer = _Printer(width, [indent_text], len(indent_text))
    return printer.print(doc, indent_text).split("\n")


def flat(doc: Doc) -> str:
    """The one-line spelling of `doc` (every group flat)."""
    return render(group(doc), width=1 << 30)[0]


# ---------------------------------------------------------------------------- TypeScript shapes
# The documents prettier builds for the TypeScript constructs witgen emits, so that printing
# them gives prettier's line breaks.

_SIMPLE_TYPE = re.compile(r"^[A-Za-z_$][\w$]*$")


def generic_type(name: str, args: list[Doc]) -> Doc:
    """`Name<A, B>`; prettier never breaks around a single simple argument."""
    if len(args) == 1 and isinstance(args[0], str) and _SIMPLE_TYPE.match(args[0]):
        return f"{name}<{args[0]}>"
    return group(f"{name}<", indent(SOFTLINE, join((",", LINE), args)), SOFTLINE, ">")


def union_type(members: list[Doc], ctx: str) -> Doc:
    """`A | B` as prettier breaks it where it stands (`ctx` as in `typescript._Generator.ts_doc`)."""
    # prettier aligns each member under its `| ` so that a member that breaks nests
    code = (IfBreak("| "), join((LINE, "| "), [indent(m) for m in members]))
    if ctx == "annotation":  # first onto the next line, then one member per line
        return group(indent(SOFTLINE, group(code)))
    if ctx == "tupleN":
        return group(indent(IfBreak(("(", SOFTLINE)), code), SOFTLINE, IfBreak(")"))
    if ctx == "array":  # `(A | B)[]`: inside the parentheses flat if it fits, else bars
        return ("(", group(indent(SOFTLINE, group(code)), SOFTLINE), ")")
    return group(code)


def alias_lines(at: str, head: str, rhs: Doc, union: bool = False) -> list[str]:
    """`head = rhs;` (`export type X = ...`) at indentation `at`, laid out as prettier lays
    out type aliases."""
    if union:  # break after `=`, then the union flat or one `| member` per line
        doc: Doc = (head, " =", group(indent(LINE, rhs)), ";")
    else:  # "fluid": stay on the `=` line if the right side can start there
        doc = (
            head,
            " =",
            group(indent(LINE), id="assign"),
            IndentIfBreak("assign", (rhs,)),
            ";",
        )
    return render(doc, at)


def union_members(members: list[str]) -> Doc:
    return union_type(list(members), "member")


def wrap_list(indent: str, head: str, items: list[str], tail: str) -> list[str]:
    """`head item, item tail` on one line if it fits, else one item per line (prettier style,
    trailing comma included). `head` ends with the opening bracket, `tail` starts with the
    closing one."""
    flat = f"{indent}{head}{', '.join(items)}{tail}"
    if not items or len(flat) <= WIDTH:
        return [flat]
    return [f"{indent}{head}", *(f"{indent}{INDENT}{i}," for i in items), f"{indent}{tail}"]


def wrap_braced(indent: str, head: str, items: list[str], tail: str) -> list[str]:
    """Like `wrap_list` for `{ a, b }` lists (import/export specifiers), spaces inside. A
    single specifier stays on one line however long it is, as prettier prints it."""
    flat = f"{indent}{head}{{ {', '.join(items)} }}{tail}"
    if len(flat) <= WIDTH or len(items) == 1:
        return [flat]
    return [f"{indent}{head}{{", *(f"{indent}{INDENT}{i}," for i in items), f"{indent}}}{tail}"]


def braced(head: list[str], members: list[list[str]], indent: str = "") -> list[str]:
    """`head {` (the last line of `head` ends with the brace), members separated by blank
    lines, then `}`; an empty body is `{}` as prettier prints it."""
    if not members:
        return head[:-1] + [head[-1] + "}"]
    out = list(head)
    for i, member in enumerate(members):
        if i:
            out.append("")
        out += member
    return out + [f"{indent}}}"]
