"""Layout for the Rust backend: lays generated Rust out exactly as `rustfmt --edition 2021` does.

The templates and the glue writer produce correct Rust without caring about indentation or
line length. This module is the built-in pretty-printer that turns that text into rustfmt's
layout, so generating needs no Rust toolchain and gives the same bytes on every machine (the
tests run `rustfmt --check` over the output as a check):

- indentation: four spaces a level, from the brackets a small tokenizer finds (it knows
  comments, string and char literals and lifetimes); lines a template broke inside a chain,
  an operator chain or after `=` are joined first, so the result does not depend on them;
- blank lines: at most one in a row, none at the start or end of a block or file; empty blocks
  as `{}`; a run of `use` lines sorted;
- long lines, with rustfmt's rules and default width heuristics (`fn_call_width`,
  `struct_lit_width`, `chain_width`...): function signatures (parameters, generics, return
  types), calls and macro calls (one line, hanging last argument, vertical or "mixed"), struct
  literals, method chains, casts and operator chains, `let` right-hand sides, match arms,
  control-flow headers, `unsafe { .. }` blocks, attributes and types (tuples, generics, slices).

It knows nothing about WIT, only the subset of Rust that witgen writes, and it never changes
code: a line whose new layout would differ from the old in more than spaces, line breaks and
trailing commas is kept as it was. Rules were measured against rustfmt (tests/rust/layout/).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

WIDTH = 100  # max_width
INDENT = "    "
FN_CALL_WIDTH = 60  # fn_call_width: a call's arguments on one line
STRUCT_LIT_WIDTH = 18  # struct_lit_width: a struct literal's fields on one line
CHAIN_WIDTH = 60  # chain_width: a method chain on one line
ARRAY_WIDTH = 60  # array_width
SHORT_ITEM = 10  # short_array_element_width_threshold


# ------------------------------------------------------------------------------- tokens


@dataclass(frozen=True)
class Tok:
    text: str
    kind: str  # "open", "close", "str", "comment", "punct", "word", "space"


_TOKEN = re.compile(
    r"""
    (?P<comment>//.*)
  | (?P<str>b?r(?P<hashes>\#*)".*?"(?P=hashes)|b?"(?:\\.|[^"\\])*")
  | (?P<char>b?'(?:\\.|[^'\\])')
  | (?P<lifetime>'[A-Za-z_]\w*)
  | (?P<open>[(\[{])
  | (?P<close>[)\]}])
  | (?P<space>\s+)
  | (?P<word>[A-Za-z_$#][\w$#!]*|\d[\w.]*)
  | (?P<punct>::|->|=>|==|!=|<=|>=|&&|\|\||\.\.=?|[-+*/%^!&|=<>@.,;:?~])
    """,
    re.VERBOSE,
)


@lru_cache(maxsize=8192)
def tokens(line: str) -> tuple[Tok, ...]:
    """The tokens of one line (generated files repeat many lines: the result is cached)."""
    out: list[Tok] = []
    pos = 0
    while pos < len(line):
        m = _TOKEN.match(line, pos)
        if m is None:  # an odd character: keep it as punctuation
            out.append(Tok(line[pos], "punct"))
            pos += 1
            continue
        kind = m.lastgroup or "punct"
        if kind == "hashes":
            kind = "str"
        if kind in ("char", "lifetime"):
            kind = "word"
        out.append(Tok(m.group(0), kind))
        pos = m.end()
    return tuple(out)


# ----------------------------------------------------------------------- token trees


@dataclass(frozen=True)
class Atom:
    text: str
    kind: str
    space: bool  # a space before it in the one-line form


@dataclass(frozen=True)
class Group:
    open: str
    items: tuple[Node, ...]
    close: str
    space: bool
    kind = "group"
    text = ""  # a group is no token: it matches no token text


Node = Atom | Group


def parse(line: str) -> list[Node]:
    """The tokens of one line as a tree of bracket groups (None-safe: unbalanced lines stay flat)."""
    stack: list[tuple[str, bool, list[Node]]] = [("", False, [])]
    space = False
    for tok in tokens(line):
        if tok.kind == "space":
            space = True
            continue
        if tok.kind == "open":
            stack.append((tok.text, space, []))
        elif tok.kind == "close" and len(stack) > 1:
            opener, sp, items = stack.pop()
            stack[-1][2].append(Group(opener, tuple(items), tok.text, sp))
        else:
            stack[-1][2].append(Atom(tok.text, tok.kind, space))
        space = False
    while len(stack) > 1:  # an unclosed bracket: keep its content flat, in order
        opener, sp, items = stack.pop()
        stack[-1][2].append(Atom(opener, "open", sp))
        stack[-1][2].extend(items)
    return stack[0][2]


def flat(nodes: list[Node] | tuple[Node, ...]) -> str:
    out: list[str] = []
    for i, n in enumerate(nodes):
        if i and n.space:
            out.append(" ")
        if isinstance(n, Atom):
            out.append(n.text)
        elif n.open == "{" and n.items:
            out.append("{ " + flat(n.items) + " }")
        else:
            out.append(n.open + flat(n.items) + n.close)
    return "".join(out)


def split_commas(nodes: tuple[Node, ...] | list[Node], types: bool = False) -> list[list[Node]]:
    """The comma-separated parts of a bracket's content (`types`: commas inside `<...>` stay)."""
    parts: list[list[Node]] = [[]]
    angles = 0
    for n in nodes:
        if types and isinstance(n, Atom) and n.text in ("<", ">"):
            angles += 1 if n.text == "<" else -1
        if isinstance(n, Atom) and n.text == "," and not angles:
            parts.append([])
        else:
            parts[-1].append(n)
    if not parts[-1]:
        parts.pop()  # a trailing comma
    return [_unspace(p) for p in parts]


def _unspace(nodes: list[Node]) -> list[Node]:
    if nodes and nodes[0].space:
        first = nodes[0]
        if isinstance(first, Atom):
            nodes = [Atom(first.text, first.kind, False), *nodes[1:]]
        else:
            nodes = [Group(first.open, first.items, first.close, False), *nodes[1:]]
    return nodes


# --------------------------------------------------------------------- expression shapes

_PRECEDENCE = {
    "||": 1,
    "&&": 2,
    "==": 3,
    "!=": 3,
    "<": 3,
    ">": 3,
    "<=": 3,
    ">=": 3,
    "|": 4,
    "^": 5,
    "&": 6,
    "<<": 7,
    ">>": 7,
    "+": 8,
    "-": 8,
    "*": 9,
    "/": 9,
    "%": 9,
    "as": 10,
}
_KEYWORDS = {"as", "return", "in", "mut", "let", "if", "match", "move", "ref", "dyn", "impl"}


def _operand_end(n: Node) -> bool:
    if isinstance(n, Group):
        return True
    return n.kind in ("word", "str") and n.text not in _KEYWORDS or n.text == "?"


def binary_split(nodes: list[Node]) -> tuple[str, list[list[Node]]] | None:
    """The operands of the lowest-precedence binary operator at the top of `nodes`."""
    best: int | None = None
    positions: list[int] = []
    turbofish = 0
    for i, n in enumerate(nodes):
        if not isinstance(n, Atom) or i == 0:
            continue
        if n.text == "<" and nodes[i - 1].text == "::" if isinstance(nodes[i - 1], Atom) else False:
            turbofish += 1
            continue
        if turbofish and n.text == "<":
            turbofish += 1
            continue
        if turbofish and n.text == ">":
            turbofish -= 1
            continue
        if turbofish or n.text not in _PRECEDENCE or not _operand_end(nodes[i - 1]):
            continue
        prec = _PRECEDENCE[n.text]
        if best is None or prec < best:
            best, positions = prec, [i]
        elif prec == best:
            positions.append(i)
    if best is None:
        return None
    op = nodes[positions[0]].text
    operands = []
    last = 0
    for pos in positions:
        operands.append(nodes[last:pos])
        last = pos + 1
    operands.append(_unspace(nodes[last:]))
    return op, operands


def _respace(nodes: list[Node]) -> list[Node]:
    if not nodes or nodes[0].space:
        return nodes
    first = nodes[0]
    if isinstance(first, Atom):
        return [Atom(first.text, first.kind, True), *nodes[1:]]
    return [Group(first.open, first.items, first.close, True), *nodes[1:]]


def _is_simple(nodes: list[Node]) -> bool:
    """rustfmt's simple expressions: literals and plain names, maybe cast, borrowed or negated."""
    words = [n for n in nodes if not (isinstance(n, Atom) and n.text in ("&", "*", "-", "!"))]
    if not words or any(isinstance(n, Group) for n in words):
        return False
    if len(words) == 1:
        return words[0].kind in ("word", "str")
    return len(words) == 3 and words[1].text == "as" and words[0].kind in ("word", "str")


def _last_group(nodes: list[Node]) -> int | None:
    """Index of the bracket group a call, macro call, struct literal or tuple ends with."""
    if nodes and isinstance(nodes[-1], Group) and nodes[-1].open in "({[":
        return len(nodes) - 1
    return None


def _is_struct_literal(nodes: list[Node], i: int) -> bool:
    g = nodes[i]
    return (
        isinstance(g, Group)
        and g.open == "{"
        and i > 0
        and isinstance(nodes[i - 1], Atom)
        and nodes[i - 1].kind == "word"
        and nodes[i - 1].text[:1].isupper()  # a type name (witgen spells them UpperCamel)
    )


def _is_call_like(nodes: list[Node]) -> bool:
    i = _last_group(nodes)
    if i is None or i == 0:
        return False
    group = nodes[i]
    return isinstance(group, Group) and group.open in "(["


def _overflowable(nodes: list[Node], count: int) -> bool:
    """rustfmt's `can_be_overflowed_expr`: may the last argument hang off the callee's line?"""
    while nodes and isinstance(nodes[0], Atom) and nodes[0].text in ("&", "*", "!", "-"):
        nodes = nodes[1:]
    if not nodes:
        return False
    if isinstance(nodes[0], Atom) and nodes[0].text in ("|", "||", "move"):
        return True  # a closure
    binary = binary_split(nodes)
    if binary is not None:
        return binary[0] == "as" and _overflowable(binary[1][0], count)
    i = _last_group(nodes)
    if i is None:
        return False
    if _is_struct_literal(nodes, i) or i == 0 or _is_call_like(nodes):
        return count == 1
    return False


def _is_nested_call(nodes: list[Node]) -> bool:
    """rustfmt's `is_nested_call`: a call or macro call, maybe borrowed, negated or cast."""
    while nodes and isinstance(nodes[0], Atom) and nodes[0].text in ("&", "*", "!", "-"):
        nodes = nodes[1:]
    binary = binary_split(nodes)
    if binary is not None:
        return binary[0] == "as" and _is_nested_call(binary[1][0])
    i = _last_group(nodes)
    group = nodes[i] if i else None
    if not isinstance(group, Group) or group.open != "(":
        return False
    return "." not in [n.text for n in nodes[:i] if isinstance(n, Atom)]  # not a method call


# --------------------------------------------------------------------------- rewriting


@dataclass(frozen=True)
class Shape:
    indent: int  # the block indentation: continuation lines are indented from here
    offset: int  # the column the expression starts at
    width: int  # columns available from `offset` on the first line

    def nested(self) -> Shape:
        """The shape of items one per line inside brackets (room left for a comma)."""
        return Shape(self.indent + 4, self.indent + 4, WIDTH - self.indent - 4 - 1)


def rewrite(nodes: list[Node], shape: Shape) -> str | None:
    """`nodes` laid out as rustfmt would in `shape`; None if they cannot be."""
    text = flat(nodes)
    if shape.width < 0:
        return None
    binary = binary_split(nodes)
    if binary is not None:
        return _rewrite_binary(text, binary[0], binary[1], shape)
    if nodes and isinstance(nodes[-1], Atom) and nodes[-1].text == "?":
        inner = rewrite(nodes[:-1], Shape(shape.indent, shape.offset, shape.width - 1))
        return None if inner is None else inner + "?"
    chain = _chain(nodes)
    if chain is not None:
        return _rewrite_chain(text, *chain, shape)
    i = _last_group(nodes)
    if i is not None and not (isinstance(nodes[0], Atom) and nodes[0].text in ("|", "||")):
        group = nodes[i]
        assert isinstance(group, Group)
        head = flat(nodes[:i]) + (" " if group.space and i else "")
        if group.open == "{" and _is_struct_literal(nodes, i):
            return _rewrite_struct(text, head, group, shape)
        callee = i > 0 and (_operand_end(nodes[i - 1]) or nodes[i - 1].text in (">", "!"))
        listed = len(split_commas(group.items)) > 1 or flat(group.items).endswith(",")
        if group.open == "(" and (callee or listed) or group.open == "[" and _is_list(nodes, i):
            if len(head) + 1 > shape.width:
                return _rewrite_turbofish(nodes[:i], group, shape)
            return _rewrite_call(head, group, shape)
        if group.open == "(" and len(text) > shape.width:  # a parenthesized expression
            at = len(head) + 1
            inner_shape = Shape(shape.indent, shape.offset + at, shape.width - at - 1)
            inner = rewrite(list(group.items), inner_shape)
            if inner is not None:
                return head + "(" + inner + ")"
    return text if len(text) <= shape.width else None


def _is_list(nodes: list[Node], i: int) -> bool:
    """Whether the `[...]` at `i` is an array or macro argument list (not `[x; n]`, not an index)."""
    group = nodes[i]
    if not isinstance(group, Group) or any(n.text == ";" for n in group.items):
        return False
    return i == 0 or nodes[i - 1].text == "!" or not _operand_end(nodes[i - 1])


_force_one_line_chain = False  # rustfmt's context flag while a method call hangs off a call


def _is_method_call(nodes: list[Node]) -> bool:
    while nodes and isinstance(nodes[0], Atom) and nodes[0].text in ("&", "*", "!", "-"):
        nodes = nodes[1:]
    if nodes and nodes[-1].text == "?":
        nodes = nodes[:-1]
    binary = binary_split(nodes)
    if binary is not None:
        return binary[0] == "as" and _is_method_call(binary[1][0])
    i = _last_group(nodes)
    return (
        i is not None
        and i >= 2
        and isinstance(nodes[i], Group)
        and getattr(nodes[i], "open", "") == "("
        and "." in [n.text for n in nodes[:i]]
    )


def _chain(nodes: list[Node]) -> tuple[str, list[Node], list[list[Node]]] | None:
    """A method chain as rustfmt sees it: (prefix operators, root, children), where the root
    takes in children while it is at most a tab wide (`v.push(..)` is a call, not a chain);
    None if no child is left."""
    k = 0
    while k < len(nodes) and isinstance(nodes[k], Atom) and nodes[k].text in ("&", "*", "!", "-"):
        k += 1
    if k < len(nodes) and nodes[k].text in ("mut", "|", "||", "move"):
        return None
    prefix, body = flat(nodes[:k]), nodes[k:]
    segments: list[list[Node]] = [[]]
    for n in body:
        if isinstance(n, Atom) and n.text == "." and segments[-1]:
            segments.append([])
        segments[-1].append(n)
    root = segments.pop(0)
    while segments and len(flat(root)) <= len(INDENT):
        root = [*root, *segments.pop(0)]
    if not segments or not root:
        return None
    return prefix, root, segments


def _rewrite_chain(
    text: str, prefix: str, root: list[Node], children: list[list[Node]], shape: Shape
) -> str | None:
    """rustfmt's chains: on one line if they fit (a chain of two or more children in at most 60
    columns), the last child maybe hanging off that line, else one child a line."""
    start = Shape(shape.indent, shape.offset + len(prefix), shape.width - len(prefix))
    root_text = rewrite(root, start)
    if root_text is None:
        return None
    child_shape = Shape(shape.indent + 4, shape.indent + 4, WIDTH - shape.indent - 4)
    wide = Shape(shape.indent, 0, WIDTH)
    firsts = [rewrite(c, wide) for c in children[:-1]]
    in_one_line = "\n" not in root_text and all(f is not None and "\n" not in f for f in firsts)
    chosen: str | None = None
    one_line = False
    if in_one_line:
        almost = len(prefix) + len(root_text) + sum(len(f or "") for f in firsts)
        limit = shape.width if len(children) == 1 else min(shape.width, CHAIN_WIDTH)
        budget = limit - almost
        hang = rewrite(
            children[-1], Shape(shape.indent, shape.offset + almost, shape.width - almost)
        )
        if hang is not None and budget > 0:
            fits = len(hang.split("\n", 1)[0]) <= budget
            lines = hang.count("\n") + 1
            alone = rewrite(children[-1], child_shape)
            if fits and lines >= 5:
                chosen, one_line = hang, True
            elif alone is not None and not fits:
                chosen = alone
            elif alone is not None and alone.count("\n") + 1 < lines:
                chosen = alone
            else:
                chosen, one_line = hang, fits
    if one_line and chosen is not None:
        return prefix + root_text + "".join(f or "" for f in firsts) + chosen
    if _force_one_line_chain:
        return None
    pad = " " * child_shape.indent
    parts = [prefix + root_text]
    for c in children[:-1]:
        r = rewrite(c, child_shape)
        if r is None:
            return None
        parts.append(pad + r)
    last = chosen if chosen is not None else rewrite(children[-1], child_shape)
    if last is None:
        return None
    parts.append(pad + last)
    return "\n".join(parts)


def _rewrite_turbofish(callee: list[Node], group: Group, shape: Shape) -> str | None:
    """`path::<\n    T,\n>(args)`: a callee too long for its line, broken in its type arguments."""
    if not callee or flat(callee[-1:]) != ">":
        return None
    start = next(
        (
            k
            for k in range(len(callee) - 1)
            if flat(callee[k : k + 1]) == "::" and flat(callee[k + 1 : k + 2]) == "<"
        ),
        None,
    )
    if start is None:
        return None
    args: list[list[Node]] = [[]]
    depth = 0
    for n in callee[start + 2 : -1]:
        text = flat([n])
        if text == "," and depth == 0:
            args.append([])
            continue
        depth += (text == "<") - (text == ">")
        args[-1].append(n)
    pad = " " * (shape.indent + 4)
    lines = [flat(callee[: start + 2])]
    lines += [pad + flat(_unspace(a)) + "," for a in args if a]
    tail = _rewrite_call(">", group, Shape(shape.indent, shape.indent, WIDTH - shape.indent))
    if tail is None:
        return None
    lines.append(" " * shape.indent + tail)
    return "\n".join(lines)


def _rewrite_binary(text: str, op: str, operands: list[list[Node]], shape: Shape) -> str | None:
    if op == "as":  # rustfmt's `rewrite_pair`: `value as T`, or `as T` on the next line
        lhs = operands[0]
        for o in operands[1:-1]:
            lhs = [*lhs, Atom("as", "word", True), *_respace(o)]
        ty = flat(operands[-1])
        value = rewrite(lhs, Shape(shape.indent, shape.offset, WIDTH - shape.offset))
        if value is None:
            return None
        last = value.rsplit("\n", 1)[-1]
        if "\n" not in value and len(last) + 4 + len(ty) <= shape.width:
            return value + " as " + ty
        return value + "\n" + " " * (shape.indent + 4) + "as " + ty
    # a chain of one operator: on one line, else one operand a line, the operator leading
    parts = [rewrite(o, Shape(shape.indent, shape.offset, WIDTH - shape.offset)) for o in operands]
    if len(text) <= shape.width and all(p is not None and "\n" not in p for p in parts):
        return text
    first = rewrite(operands[0], shape)
    if first is None:
        return None
    lines = [first]
    at = shape.indent + 4
    for o in operands[1:]:
        r = rewrite(o, Shape(at, at + len(op) + 1, WIDTH - at - len(op) - 1))
        if r is None:
            return None
        lines.append(" " * at + op + " " + r)
    return "\n".join(lines)


def _rewrite_struct(text: str, head: str, group: Group, shape: Shape) -> str | None:
    fields = split_commas(group.items)
    inner = flat(group.items).strip()
    if len(text) <= shape.width and len(inner) <= STRUCT_LIT_WIDTH:
        wide = Shape(shape.indent, shape.offset, WIDTH - shape.offset)
        if all("\n" not in (rewrite(_field_value(f)[1], wide) or "\n") for f in fields):
            return text
    if len(head) + 1 > shape.width:
        return None
    item = shape.nested()
    lines = [head + "{"]
    for f in fields:
        name, value = _field_value(f)
        sub = Shape(item.indent, item.offset + len(name), item.width - len(name))
        r = rewrite(value, sub) if value else ""
        if r is None:
            return None
        lines.append(" " * item.indent + name + r + ",")
    lines.append(" " * shape.indent + "}")
    return "\n".join(lines)


def _field_value(field: list[Node]) -> tuple[str, list[Node]]:
    """`name: ` and the value of a struct literal's field (`""` and the field if shorthand)."""
    if len(field) > 2 and isinstance(field[1], Atom) and field[1].text == ":":
        return flat(field[:2]) + " ", _unspace(field[2:])
    return "", field


def _rewrite_call(head: str, group: Group, shape: Shape) -> str | None:
    """A call, macro call, tuple or array: rustfmt's `overflow` module for the shapes we emit."""
    args = split_commas(group.items)
    opener, close = group.open, group.close
    if not args:
        return head + opener + close if len(head) + 2 <= shape.width else None
    flats = [flat(a) for a in args]
    single = len(args) == 1
    one_line_width = shape.width - len(head) - 2
    limit = min(ARRAY_WIDTH if opener == "[" else FN_CALL_WIDTH, one_line_width)
    item_shape = shape.nested()

    # the last argument may hang off this line (`f(a, Struct {` ... `})`)
    callee = head.rsplit(".", 1)[-1].rsplit("::", 1)[-1]
    combine = single and len(callee) < len(INDENT) and opener == "("
    firsts = list(flats)
    placeholder = None
    if combine or _overflowable(args[-1], len(args)):
        before = sum(2 + len(f) for f in flats[:-1])
        width = one_line_width
        if not single or _is_nested_call(args[0]):
            width = min(FN_CALL_WIDTH, one_line_width)
        last_shape = Shape(shape.indent, shape.offset + len(head) + 1 + before, width - before)
        global _force_one_line_chain
        saved = _force_one_line_chain
        if not combine and _is_method_call(args[-1]):
            _force_one_line_chain = True
        try:
            placeholder = rewrite(args[-1], last_shape)
        finally:
            _force_one_line_chain = saved
        if placeholder is not None:
            firsts[-1] = placeholder.split("\n", 1)[0]
    horizontal = sum(len(f) for f in firsts) + 2 * (len(firsts) - 1) <= limit
    if placeholder is not None and horizontal:
        item = placeholder
        if single and placeholder.count("\n") == 1:
            again = rewrite(args[0], item_shape)
            if again is not None and "\n" not in again:
                item = again
        items = [*flats[:-1], item]
    else:
        items = []
        for a in args:
            r = rewrite(a, item_shape)
            if r is None:
                return None
            items.append(r)
        if single and "\n" not in items[0] and len(items[0]) <= one_line_width:
            horizontal = True
        else:
            horizontal = all("\n" not in x for x in items) and (
                sum(len(x) for x in items) + 2 * (len(items) - 1) <= limit
            )
            if not horizontal and not single and opener in ("(", "["):
                if all(_is_simple(a) and len(f) <= SHORT_ITEM for a, f in zip(args, flats)):
                    return _mixed(head + opener, flats, close, shape)
    pad = " " * item_shape.indent
    end = "\n" + " " * shape.indent + close
    if horizontal:
        joined = ", ".join(items)
        if len(joined.split("\n", 1)[0]) + 1 <= shape.width - len(head):
            return head + opener + joined + close
        return head + opener + "\n" + pad + joined + end
    return head + opener + "\n" + "\n".join(pad + x + "," for x in items) + end


def _mixed(head: str, items: list[str], close: str, shape: Shape) -> str:
    """rustfmt's "mixed" layout of short simple arguments: as many on a line as fit."""
    pad = " " * (shape.indent + 4)
    room = WIDTH - shape.indent - 4
    # measured against rustfmt: a call's lines stop two columns short of the width, a tuple's
    # (no callee) and a turbofish's `>(` lines may reach it
    slack = 2 if head in ("(", ">(") else 4 if head.endswith("[") else 3
    lines: list[str] = []
    for f in items:
        if lines and len(lines[-1]) + len(f) + slack <= room:
            lines[-1] += " " + f + ","
        else:
            lines.append(f + ",")
    return head + "\n" + "\n".join(pad + x for x in lines) + "\n" + " " * shape.indent + close


# ------------------------------------------------------------------------ statements


# ----------------------------------------------------------------------------- types


def angles(nodes: list[Node] | tuple[Node, ...]) -> list[Node]:
    """A type's tokens with each `<...>` made a group, so generic arguments nest like tuples."""
    out: list[Node] = []
    stack: list[tuple[bool, list[Node]]] = []
    for n in nodes:
        if isinstance(n, Group):
            n = Group(n.open, tuple(angles(n.items)), n.close, n.space)
        if isinstance(n, Atom) and n.text == "<":
            stack.append((n.space, out))
            out = []
        elif isinstance(n, Atom) and n.text == ">" and stack:
            space, parent = stack.pop()
            parent.append(Group("<", tuple(out), ">", space))
            out = parent
        else:
            out.append(n)
    while stack:  # unbalanced (not a type): give the tokens back flat
        space, parent = stack.pop()
        parent.append(Atom("<", "punct", space))
        parent.extend(out)
        out = parent
    return out


def _type_one_line(nodes: list[Node] | tuple[Node, ...]) -> bool:
    """rustfmt keeps a tuple type on one line only if its elements take at most 60 columns."""
    for n in nodes:
        if isinstance(n, Group):
            if n.open == "(" and len(flat(n.items)) > FN_CALL_WIDTH:
                return False
            if not _type_one_line(n.items):
                return False
    return True


def rewrite_type(nodes: list[Node], shape: Shape) -> str:
    """A type (with `angles` groups) laid out as rustfmt lays types out."""
    text = flat(nodes)
    if len(text) <= shape.width and _type_one_line(nodes):
        return text
    i = _last_group(nodes) if nodes and isinstance(nodes[-1], Group) else None
    if i is None and nodes and isinstance(nodes[-1], Group) and nodes[-1].open == "<":
        i = len(nodes) - 1
    group = nodes[i] if i is not None else None
    if not isinstance(group, Group) or i is None:
        return text
    head = flat(nodes[:i])
    args = split_commas(group.items)
    if group.open == "[":  # a slice or an array: its element type hangs inside the brackets
        items = list(group.items)
        cut = next((k for k, n in enumerate(items) if n.text == ";"), len(items))
        tail = flat(items[cut:]).replace(" ;", ";")
        at = shape.offset + len(head) + 1
        inner = rewrite_type(items[:cut], Shape(shape.indent, at, shape.width - len(head) - 2))
        return head + "[" + inner + tail + "]"
    if group.open == "<" and len(args) == 1 and len(args[0]) == 1:
        only = args[0][0]
        if isinstance(only, Group) and only.open == "(":  # `Vec<(` ... `)>`
            at = shape.offset + len(head) + 1
            inner = rewrite_type(args[0], Shape(shape.indent, at, shape.width - len(head) - 2))
            return head + "<" + inner + ">"
    item = shape.nested()
    parts = [rewrite_type(a, item) for a in args]
    pad = " " * item.indent
    return (
        head
        + group.open
        + "\n"
        + "\n".join(pad + x + "," for x in parts)
        + "\n"
        + " " * shape.indent
        + group.close
    )


def _param(indent: int, nodes: list[Node], next_line: bool = False) -> str:
    """`name: Type` of a parameter or field, its type laid out from column `indent` (a field's
    type moves to the next line when that lays it out better, like a `let`'s value)."""
    for k, n in enumerate(nodes):
        if isinstance(n, Atom) and n.text == ":":
            name = flat(nodes[: k + 1]) + " "
            at = indent + len(name)
            ty = _unspace(nodes[k + 1 :])
            orig = rewrite_type(ty, Shape(indent, at, WIDTH - at - 1))
            if next_line and "\n" in orig:
                below = rewrite_type(ty, Shape(indent + 4, indent + 4, WIDTH - indent - 5))
                if _prefer_next_line(orig, below):
                    return name.rstrip() + "\n" + " " * (indent + 4) + below
            return name + orig
    return flat(nodes)


def _fn_signature(indent: int, line: str) -> list[str] | None:
    """A function signature: on one line if it fits, else one parameter a line."""
    nodes = angles(parse(line))
    at = next((k for k, n in enumerate(nodes) if isinstance(n, Atom) and n.text == "fn"), None)
    if at is None:
        return None
    params = next(
        (
            k
            for k in range(at + 1, len(nodes))
            if isinstance(nodes[k], Group) and getattr(nodes[k], "open", "") == "("
        ),
        None,
    )
    group = nodes[params] if params is not None else None
    if params is None or not isinstance(group, Group) or group.open != "(":
        return None
    rest = nodes[params + 1 :]
    one_line_types = _type_one_line([*group.items, *rest])
    declaration = line.endswith(";") and any(n.text == "->" for n in rest)
    if indent + len(line) <= WIDTH - declaration and one_line_types:
        return None
    if declaration and indent + len(line) == WIDTH and one_line_types:
        # rustfmt's off-by-one for declarations: the return type moves to the next line
        cut = params + 1 + next(k for k, n in enumerate(rest) if n.text == "->")
        return [" " * indent + flat(nodes[:cut]), " " * (indent + 4) + flat(_unspace(nodes[cut:]))]
    pad = " " * (indent + 4)
    generics = nodes[params - 1]
    head_width = indent + len(flat(nodes[:params])) + 1
    if not group.items and line.endswith(" {") and indent + len(line) - 2 <= WIDTH:
        return [" " * indent + line[:-2], " " * indent + "{"]  # the brace alone fits no more
    if isinstance(generics, Group) and generics.open == "<" and head_width > WIDTH - 3:
        # the generic parameters, one a line
        lines = [" " * indent + flat(nodes[: params - 1]) + "<"]
        lines += [pad + flat(g) + "," for g in split_commas(generics.items)]
        head = ">("
    else:
        lines, head = [], flat(nodes[:params]) + "("
    if not group.items:
        tail = ")" + flat([Atom("", "word", False), *rest])
        if lines:  # `>() -> T {`
            return [*lines, " " * indent + head + tail]
        return [" " * indent + head, " " * indent + tail]  # `fn f(` and `) -> T {`
    lines.append(" " * indent + head)
    lines += [pad + _param(indent + 4, p) + "," for p in split_commas(group.items)]
    arrow = next((k for k, n in enumerate(rest) if isinstance(n, Atom) and n.text == "->"), None)
    if arrow is None:
        lines.append(" " * indent + ")" + flat([Atom("", "word", False), *rest]))
        return lines
    ends = [n for n in rest[arrow + 1 :] if isinstance(n, Atom) and n.text in ("{", ";")]
    ret = rest[arrow + 1 : len(rest) - len(ends)] if ends else rest[arrow + 1 :]
    end = flat([Atom("", "word", False), *rest[len(rest) - len(ends) :]]) if ends else ""
    start = indent + len(") -> ")
    ty = rewrite_type(_unspace(list(ret)), Shape(indent, start, WIDTH - start - len(end)))
    lines += (" " * indent + ") -> " + ty + end).split("\n")
    return lines


def _prefer_next_line(orig: str, next_line: str) -> bool:
    """rustfmt's choice between a right-hand side broken in place and one on the next line."""
    if "\n" not in next_line or orig.count("\n") > next_line.count("\n") + 1:
        return True
    first, first_next = orig.split("\n", 1)[0], next_line.split("\n", 1)[0]
    return any(first.endswith(c) and not first_next.endswith(c) for c in "({[")


def _statement(indent: int, line: str) -> list[str] | None:
    """`line` (without indentation) laid out the way rustfmt lays it out; None to keep it."""
    nodes = parse(line)
    tail = ""
    if nodes and isinstance(nodes[-1], Atom) and nodes[-1].text in (";", ","):
        tail = nodes[-1].text
        nodes = nodes[:-1]
    lead = ""
    arm = False
    for k, n in enumerate(nodes):  # `let x = `, `x = `, `PAT => `
        if isinstance(n, Atom) and n.text in ("=", "=>"):
            lead = flat(nodes[: k + 1]) + " "
            arm = n.text == "=>"
            nodes = _unspace(nodes[k + 1 :])
            break
    else:
        if nodes and flat(nodes[:1]) == "return":
            lead, nodes = "return ", _unspace(nodes[1:])
    pad = " " * indent
    start = indent + len(lead)
    orig = rewrite(nodes, Shape(indent, start, WIDTH - start - len(tail)))
    if not lead.endswith(("= ", "=> ")) or orig is not None and "\n" not in orig:
        return None if orig is None else (pad + lead + orig + tail).split("\n")
    below_shape = Shape(indent + 4, indent + 4, WIDTH - indent - 4 - (0 if arm else len(tail)))
    below = rewrite(nodes, below_shape)
    if below is not None and (orig is None or _prefer_next_line(orig, below)):
        body = " " * (indent + 4) + below
        if arm:  # the body goes into a block of its own
            return [pad + lead + "{", *body.split("\n"), pad + "}"]
        return [pad + lead.rstrip(), *(body + tail).split("\n")]
    return None if orig is None else (pad + lead + orig + tail).split("\n")


_HEADER = re.compile(r"^((?:\} else )?(?:if|while|match) |for .+? in )(?!let ).* \{$")


def _control_flow(indent: int, lead: str, expr: str) -> list[str] | None:
    """`for x in EXPR {`, `if EXPR {`, `match EXPR {`: the brace moves to a line of its own when
    a broken EXPR does not end in closing brackets."""
    start = indent + len(lead)
    r = rewrite(_unspace(parse(expr)), Shape(indent, start, WIDTH - start - 2))
    if r is None:
        return None
    last = r.rsplit("\n", 1)[-1].strip()
    if "\n" not in r or not last.strip(")]}?"):
        return (" " * indent + lead + r + " {").split("\n")
    return (" " * indent + lead + r + "\n" + " " * indent + "{").split("\n")


_ATTRIBUTE = re.compile(r"^(#!?\[[\w:]+)\((.*)\)\]$")
_VARIANT = re.compile(r"^[A-Z][A-Za-z0-9]*\(.*\),$")
_FIELD = re.compile(r"^(pub(\(crate\))? )?(r#)?[a-z_][a-z0-9_]*: .*,$")
_FIELD_EXPR = re.compile(r"[\w!>]\(|\{| [|&+*/%^-] | as ")  # a struct literal's field value


def _code(text: str) -> list[str]:
    """The tokens of `text` without spaces, commas that end a bracketed list or the line, and
    braces (a match arm's body may go into a block of its own)."""
    toks = [t.text for t in tokens(text.replace("\n", " ")) if t.kind != "space"]
    drop: set[int] = set()
    stack: list[tuple[int, bool, int]] = []  # (index of the opener, call-like, commas inside)
    for k, t in enumerate(toks):
        if t in ("(", "[", "{"):
            before = toks[k - 1] if k else ""
            call = t == "(" and (re.match(r"[\w>!)\]]", before[-1:] or " ") is not None)
            stack.append((k, call or t == "{", 0))
        elif t in (")", "]", "}") and stack:
            opener, call, commas = stack.pop()
            if toks[k - 1] == "," and k - 1 > opener and (call or commas > 1):
                drop.add(k - 1)  # a trailing comma that changes nothing
        elif t == "," and stack:
            opener, call, commas = stack[-1]
            stack[-1] = (opener, call, commas + 1)
    drop |= {k for k, t in enumerate(toks[:-1]) if t == "," and toks[k + 1] == ">"}  # generics
    toks = [t for k, t in enumerate(toks) if k not in drop]
    toks = [t for t in toks if t not in ("{", "}")]
    return toks[:-1] if toks and toks[-1] == "," else toks


def break_line(line: str) -> list[str]:
    """One indented line as rustfmt would lay it out (possibly over several lines); the line as
    it is if laying it out would change more than spaces and trailing commas."""
    out = _break_line(line)
    if out != [line] and _code("\n".join(out)) != _code(line):
        return [line]
    return out


_UNSAFE_BLOCK = re.compile(r"^(?P<head>(?:.* )?unsafe \{) (?P<expr>.*) (?P<tail>\}[;,)]*)$")


def _unsafe_block(indent: int, body: str) -> list[str] | None:
    """`unsafe { expr }` on one line if rustfmt keeps it so, else over three lines."""
    m = _UNSAFE_BLOCK.match(body)
    if m is None or "{" in m.group("expr"):
        return None
    inner = break_line(" " * (indent + 4) + m.group("expr"))
    if indent + len(body) <= WIDTH and len(inner) == 1:
        return [" " * indent + body]
    pad = " " * indent
    return [pad + m.group("head"), *inner, pad + m.group("tail")]


def collapse_blocks(lines: list[str]) -> list[str]:
    """An `unsafe` block holding one expression written over three lines, on one line when it
    fits there (as rustfmt puts it)."""
    out: list[str] = []
    k = 0
    while k < len(lines):
        line = lines[k]
        if line.endswith("unsafe {") and k + 2 < len(lines):
            expr, close = lines[k + 1].strip(), lines[k + 2]
            indent = len(line) - len(line.lstrip(" "))
            simple = not expr.endswith((";", "{", ",")) and not expr.startswith(
                ("let ", "//", "#", "}")
            )
            if simple and close.strip().startswith("}") and close.startswith(" " * indent + "}"):
                joined = line + " " + expr + " " + close.strip()
                if break_line(joined) == [joined]:
                    out.append(joined)
                    k += 3
                    continue
        out.append(line)
        k += 1
    return out


def _break_line(line: str) -> list[str]:
    body = line.lstrip(" ")
    indent = len(line) - len(body)
    attribute = _ATTRIBUTE.match(body)
    if attribute is not None:  # `#[link(wasm_import_module = "...")]`
        inner = attribute.group(2)
        if len(line) > WIDTH and "," not in inner:
            pad = " " * indent
            return [pad + attribute.group(1) + "(", pad + INDENT + inner, pad + ")]"]
        return [line]
    if body.startswith(("//", "#", "use ", "pub use ", "<")) or "//" in body:
        return [line]  # comments, attributes, imports, a type argument on a line of its own
    if "unsafe { " in body and body.endswith(("}", "};", "},", "})", "});")):
        return _unsafe_block(indent, body) or [line]
    if " fn " in " " + body and body.endswith(("{", ";")) and "(" in body:
        return _fn_signature(indent, body) or [line]
    if body.startswith(("pub type ", "type ")) and body.endswith(";") and " = " in body:
        head, _, ty = body[:-1].partition(" = ")
        start = indent + len(head) + 3
        nodes = _unspace(angles(parse(ty)))
        return (
            " " * indent
            + head
            + " = "
            + rewrite_type(nodes, Shape(indent, start, WIDTH - start - 1))
            + ";"
        ).split("\n")
    header = _HEADER.match(body)
    if header is not None and len(line) > WIDTH or header is not None and "." in body:
        return _control_flow(indent, header.group(1), body[len(header.group(1)) : -2]) or [line]
    if body.endswith(("{", "(", "[", " =")) or body.startswith(("}", ")", "]")):
        return [line]
    field = _FIELD.match(body)
    if field is not None and not _FIELD_EXPR.search(body):  # a struct field's type
        field_text = _param(indent, angles(parse(body[:-1])), next_line=True)
        return (" " * indent + field_text + ",").split("\n")
    if _VARIANT.match(body) and "=>" not in body:  # an enum case with a payload
        if len(line) <= WIDTH:
            return [line]
        nodes = angles(parse(body[:-1]))
        return (
            " " * indent + rewrite_type(nodes, Shape(indent, indent, WIDTH - indent - 1)) + ","
        ).split("\n")
    if len(line) <= WIDTH and not any(c in body for c in "([{"):
        return [line]
    if len(line) <= WIDTH and not any(isinstance(n, Group) for n in parse(body)):
        return [line]
    return _statement(indent, body) or [line]


# ------------------------------------------------------------------------- indentation


def reindent(text: str) -> list[str]:
    """Lines indented by bracket nesting, with rustfmt's blank-line rules.

    A line is indented one step past the line that opened the innermost bracket still open, so
    `f(|x| {` opens two brackets but indents its body once, as rustfmt does.
    """
    out: list[str] = []
    stack: list[int] = []  # for each open bracket, the indentation of the line that opened it
    for raw in text.split("\n"):
        line = raw.strip()
        if not line:
            if out and out[-1] != "" and not out[-1].endswith(("{", "(", "[")):
                out.append("")
            continue
        toks = [t for t in tokens(line) if t.kind != "space"]
        if toks and toks[0].text == ">":  # the end of a generic list broken over lines
            toks[0] = Tok(">", "close")
        if toks and toks[-1].text == "<":
            toks[-1] = Tok("<", "open")
        leading = 0
        while leading < len(toks) and toks[leading].kind == "close":
            leading += 1
        if leading and out and out[-1] == "":
            out.pop()  # no blank line before a closing bracket
        if line == "}" and out and out[-1].endswith("{") and not out[-1].lstrip().startswith("//"):
            out[-1] += "}"  # an empty block: `{}`
            stack.pop()
            continue
        if leading and len(stack) >= leading:
            indent = stack[-leading]
        else:
            indent = stack[-1] + 1 if stack else 0
        for t in toks:
            if t.kind == "open":
                stack.append(indent)
            elif t.kind == "close" and stack:
                stack.pop()
        out.append(INDENT * indent + line)
    while out and out[-1] == "":
        out.pop()
    return out


_CONTINUATION = re.compile(r"^\s*(\.[A-Za-z_]|\?)")  # `.map(..)`, `?`: joined without a space
_OPERATOR_CONTINUATION = re.compile(r"^\s*(\||&&|\+|as) ")  # `| B.bits`: joined with one


def join_continuations(text: str) -> str:
    """Lines that continue the line before them joined to it, so that the printer lays the whole
    out by rustfmt's rules, whatever the template's line breaks were: method chains (`.map(..)`
    on a line of its own), operator chains (`| B.bits`), casts (`as T`), a value or a type on
    the line after its `=` or `name:`. (Bracketed lists keep their lines.) Output of the printer
    is therefore laid out again unchanged."""
    out: list[str] = []
    for line in text.split("\n"):
        prev = out[-1].rstrip() if out else ""
        joinable = bool(prev.strip()) and "//" not in prev and bool(line.strip())
        if joinable and _CONTINUATION.match(line):
            out[-1] = prev + line.strip()
        elif joinable and (
            _OPERATOR_CONTINUATION.match(line)
            or prev.endswith(" =")
            or prev.endswith(":")
            and not prev.endswith("::")
            and not prev.lstrip().startswith("#")
        ):
            out[-1] = prev + " " + line.strip()
        else:
            out.append(line)
    return "\n".join(out)


def sort_uses(lines: list[str]) -> list[str]:
    """rustfmt's `reorder_imports`: a run of `use` lines sorted by path."""
    out: list[str] = []
    run: list[str] = []

    def flush() -> None:
        out.extend(sorted(run, key=_use_key))
        run.clear()

    for line in lines:
        body = line.lstrip(" ")
        prefix = line[: len(line) - len(body)]
        if (
            body.startswith("use ")
            and body.endswith(";")
            and (not run or run[0].startswith(prefix + "use "))
        ):
            run.append(line)
            continue
        flush()
        out.append(line)
    flush()
    return out


def _use_key(line: str) -> list[tuple[int, str]]:
    """Path segments in rustfmt's order: `self`, `super`, `crate`, then names."""
    path = line.strip()[len("use ") : -1]
    rank = {"self": 0, "super": 1, "crate": 2}
    return [(rank.get(seg, 3), seg) for seg in path.split("::")]


_LET_MATCH = re.compile(r"^(?P<indent> *)(?P<let>let .+? =) (?P<rhs>match .+ \{)$")


def hang_long_lets(lines: list[str]) -> list[str]:
    """`let PAT = match X {` too long for its line: rustfmt moves the `match` to the next line
    and indents its whole block one step more."""
    out: list[str] = []
    k = 0
    while k < len(lines):
        m = _LET_MATCH.match(lines[k])
        if m is None or len(lines[k]) <= WIDTH:
            out.append(lines[k])
            k += 1
            continue
        indent = m.group("indent")
        end = k + 1
        while end < len(lines) and not lines[end].startswith(indent + "}"):
            end += 1
        out.append(indent + m.group("let"))
        out.append(indent + INDENT + m.group("rhs"))
        out.extend(INDENT + line if line else line for line in lines[k + 1 : end + 1])
        k = end + 1
    return out


def format_source(text: str) -> str:
    """Generated Rust laid out as rustfmt lays it out."""
    lines: list[str] = []
    for line in hang_long_lets(collapse_blocks(reindent(join_continuations(text)))):
        lines.extend(break_line(line) if line else [line])
    return "\n".join(sort_uses(lines)) + "\n"
