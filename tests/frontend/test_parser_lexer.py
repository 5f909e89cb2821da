"""The WIT tokenizer: token kinds, positions (UTF-8 byte columns like wasm-tools), comments
kept for doc comments, and lexical errors reported where wit-parser reports them."""

from __future__ import annotations

import pytest

from witgen.diagnostics import WitError
from witgen.frontend.lexer import semver_problem, tokenize, validate_id


def kinds(text: str) -> list[tuple[str, str]]:
    return [(t.type, str(t)) for t in tokenize("t.wit", text).tokens]


def test_keywords_identifiers_and_explicit_identifiers() -> None:
    assert kinds("type %type foo-bar record-x") == [
        ("TYPE", "type"),
        ("EXPLICIT_ID", "%type"),
        ("ID", "foo-bar"),
        ("ID", "record-x"),
    ]


def test_versions_and_integers() -> None:
    assert kinds("@1.2.3-rc.1+b.5 list<u8, 4>")[:2] == [("AT", "@"), ("VERSION", "1.2.3-rc.1+b.5")]
    assert ("INTEGER", "4") in kinds("list<u8, 4>")


def test_dangling_version_separator_is_dropped_like_wit_parser() -> None:
    toks = kinds("@1.0.0-;")
    assert toks[1] == ("VERSION", "1.0.0")
    assert toks[2] == ("_SEMI", ";")


def test_version_words_stop_at_keywords() -> None:
    assert kinds("@1.0.0+42borrow")[1:] == [("VERSION", "1.0.0+42"), ("BORROW", "borrow")]


def test_columns_count_utf8_bytes_like_wasm_tools() -> None:
    lexed = tokenize("t.wit", "/* éé🎉 */ f")
    tok = lexed.tokens[0]
    assert (tok.line, tok.column) == (1, 16)


def test_crlf_and_lines() -> None:
    lexed = tokenize("t.wit", "a\r\nb")
    assert [(t.line, t.column) for t in lexed.tokens] == [(1, 1), (2, 1)]


def test_comments_are_kept_for_the_next_token() -> None:
    lexed = tokenize("t.wit", "// one\n/// two\n/* three */ x")
    x = lexed.tokens[0]
    assert lexed.comments[x.start_pos] == ["// one\n", "/// two\n", "/* three */"]


def test_nested_block_comments() -> None:
    assert kinds("/* a /* b */ c */ x") == [("ID", "x")]


def test_lexical_error_waits_until_the_parser_reaches_it() -> None:
    lexed = tokenize("t.wit", "a b $ c")
    assert [str(t) for t in lexed.tokens] == ["a", "b"]
    assert lexed.error is not None
    assert lexed.error.message == "unexpected character '$'"
    assert lexed.error.span is not None and lexed.error.span.column == 5


def test_unterminated_block_comment_points_at_its_start() -> None:
    lexed = tokenize("t.wit", "x /* never closed")
    assert lexed.error is not None and lexed.error.message == "unterminated block comment"
    assert lexed.error.span is not None and lexed.error.span.column == 3


def test_bidi_override_is_rejected_before_parsing() -> None:
    with pytest.raises(WitError, match="bidirectional override codepoint"):
        tokenize("t.wit", "interface i { \u202e }")


@pytest.mark.parametrize(
    "name, problem",
    [
        ("foo-bar", None),
        ("HTTP-ok", None),
        ("a-1", None),
        ("Foo", "invalid character in identifier 'o'"),
        ("foo_bar", "invalid character in identifier '_'"),
        ("foo--bar", "identifiers must have characters between '-'s"),
        ("", "identifiers must have characters between '-'s"),
        ("éx", "invalid character in identifier 'é'"),
    ],
)
def test_identifier_rules(name: str, problem: str | None) -> None:
    result = validate_id(name)
    assert (None if result is None else result[1]) == problem


@pytest.mark.parametrize(
    "version, problem",
    [
        ("1.0.0", None),
        ("1.0.0-rc.1+build.5", None),
        ("01.0.0", "invalid leading zero in major version number"),
        ("1.0.0-01", "invalid leading zero in pre-release identifier"),
        ("1.0.0-+x", "empty identifier segment in pre-release identifier"),
        ("1.0.0-rc 1", "unexpected character ' ' after pre-release identifier"),
        ("1.0.0+.a", "empty identifier segment in build metadata"),
    ],
)
def test_semver_messages(version: str, problem: str | None) -> None:
    assert semver_problem(version) == problem
