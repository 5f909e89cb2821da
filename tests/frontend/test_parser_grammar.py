"""The Lark grammar and the AST it builds: shapes, docs, spans, and syntax errors worded
and located the way wasm-tools reports them (expected values taken from wasm-tools 1.262)."""

from __future__ import annotations

import pytest

from witgen.diagnostics import WitError
from witgen.frontend import ast
from witgen.frontend.parser import _parser, parse_exact, parse_text

SAMPLE = """\
/// The package.
package demo:shapes@1.0.0;

/// An interface.
@since(version = 1.0.0)
interface shapes {
  use other.{thing as renamed};
  record point { /// x docs
    x: s32, y: s32, }
  resource canvas {
    constructor(width: u32);
    draw: async func(p: borrow<point-ref>) -> result<_, string>;
    open: static func() -> canvas;
  }
  f: func(a: list<u8, 4>, b: map<string, u32>) -> tuple<stream<u8>, future>;
}

world w {
  import shapes;
  export run: func();
  include base with { a as b }
}
"""


def test_sample_builds_the_expected_ast() -> None:
    tree = parse_text("s.wit", SAMPLE)
    assert tree.package is not None and tree.package.full == "demo:shapes@1.0.0"
    assert ast.docs_text(tree.package.docs) == "The package."
    iface, world = tree.items
    assert isinstance(iface, ast.Interface) and isinstance(world, ast.World)
    assert [a.kind for a in iface.attrs] == ["since"]
    assert ast.docs_text(iface.docs) == "An interface."
    use, record, resource, func = iface.items
    assert isinstance(use, ast.Use) and use.names[0][1] is not None
    assert isinstance(record, ast.TypeDef) and record.ty.kind == "record"
    docs, name, _ty = record.ty.args[0]
    assert (name.name, ast.docs_text(docs)) == ("x", "x docs")
    assert isinstance(resource, ast.TypeDef)
    assert [rf.kind for rf in resource.ty.args] == ["constructor", "method", "static"]
    assert resource.ty.args[1].func.func.is_async
    assert isinstance(func, ast.NamedFunc)
    assert [p[1].kind for p in func.func.params] == ["fixed-list", "map"]
    assert func.name.span.line == 15 and func.name.span.column == 3
    kinds = [type(i).__name__ for i in world.items]
    assert kinds == ["ImportExport", "ImportExport", "Include"]


def test_the_parser_is_built_once_per_process() -> None:
    assert _parser() is _parser()


@pytest.mark.parametrize(
    "text, message, line, column",
    [
        ("package a:b; interface i { type x = u8 }", "expected ';', found '}'", 1, 40),
        (
            "package a:b; interface i { type type = u8; }",
            "expected an identifier or string, found keyword `type`",
            1,
            33,
        ),
        ("package a:b; interface i { type x = u8;", None, 2, 1),
        (
            "package a:b; interface i { @foo(version = 1.0.0) type x = u8; }",
            "unknown attribute `foo`",
            1,
            29,
        ),
        ("package a:b@1.0; interface i {}", "expected '.', found ';'", 1, 16),
        (
            "package a:b; interface i { f: func() -> (a: u32); }",
            "expected a type, found '('",
            1,
            41,
        ),
        (
            "package a:b; @since(feature = x, version = 1.0.0) interface i {}",
            "expected `version`, found `feature`",
            1,
            21,
        ),
        (
            "package a:b; interface i { type x = list<u8, 99999999999>; }",
            "invalid list size: number too large to fit in target type",
            1,
            46,
        ),
    ],
)
def test_syntax_errors_match_wasm_tools(
    text: str, message: str | None, line: int, column: int
) -> None:
    with pytest.raises(WitError) as info:
        parse_text("e.wit", text + "\n")
    err = info.value
    if message is not None:
        assert err.message == message
    assert err.span is not None and (err.span.line, err.span.column) == (line, column)


def test_docs_text_follows_wit_parser() -> None:
    comments = ["// plain\n", "/// doc\n", "/* block */", "/** b\n  * c\n  */", "///   indented\n"]
    assert ast.docs_text(comments) == " plain\n doc\n* block */\n b\n  * c\n   indented"
    assert ast.docs_text(["///\n", "/// x\n", "///\n"]) == "\nx"
    assert ast.docs_text(["//\n"]) == ""
    assert ast.docs_text([]) is None


@pytest.mark.parametrize(
    "value, found",
    [
        ("foo", "an identifier"),
        ("interface", "keyword `interface`"),
        ("%foo", "an '%' identifier"),
        ('"x"', "a string literal"),
        ("interface6.6.10-alpha", "an identifier"),  # found by the mutation fuzz test
        ("x.1", "an identifier"),
        (")", "')'"),
    ],
)
@pytest.mark.parametrize("attr", ["since", "deprecated"])
def test_attribute_version_that_is_not_a_number_is_refused_where_wit_parser_refuses_it(
    attr: str, value: str, found: str
) -> None:
    """wit-parser reads a version right after `version =`: what is not a number is reported
    there (messages and columns as `wasm-tools component wit` 1.262 prints them)."""
    text = f"package a:b@1.0.0;\n\n@{attr}(version = {value})\ninterface i {{}}\n"
    with pytest.raises(WitError) as err:
        parse_exact("t.wit", text)
    assert err.value.message == f"expected an integer, found {found}"
    assert err.value.span is not None
    assert (err.value.span.line, err.value.span.column) == (3, len(attr) + 13)
