"""Rendering of located errors: the `-->` line uses wasm-tools' byte columns, the caret sits
under the right characters even when the line holds non-ASCII text."""

from __future__ import annotations

from witgen.diagnostics import SourceCache, Span, WitError


def test_caret_is_under_the_span_after_multibyte_characters() -> None:
    line = "interface i { /* é */ type x = bad; }"
    SourceCache.remember("mem.wit", "package a:b;\n" + line + "\n")
    byte_col = line.encode().index(b"bad") + 1  # 1-based byte column, as wasm-tools reports
    err = WitError("type `bad` does not exist", Span("mem.wit", 2, byte_col, 2, byte_col + 3))
    lines = err.render().splitlines()
    assert lines[0] == "error: type `bad` does not exist"
    assert lines[1].strip() == f"--> mem.wit:2:{byte_col}"
    caret = lines[-1]
    src = lines[-2]
    start = caret.index("^")
    assert src[start : start + 3] == "bad"
    assert caret.count("^") == 3


def test_unknown_file_renders_location_without_source() -> None:
    err = WitError("boom", Span("/nonexistent/x.wit", 3, 4))
    assert err.render() == "error: boom\n --> /nonexistent/x.wit:3:4"
