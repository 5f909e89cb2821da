"""The lexer's fast scan (`_tokenize_fast`, chunked `findall`) gives exactly what the exact scan
(`_tokenize`) gives: the same tokens with the same positions, comments, comment spans, bad names
and error; or it declines and `tokenize` runs the exact scan. Checked on every `.wit` file of the
repository, on texts with troublesome pieces spliced in, and with chunks as small as one line so
that block comments and whitespace cross chunk ends."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from witgen.diagnostics import WitError
from witgen.frontend import lexer
from witgen.paths import REPO_ROOT

PIECES = [
    "/*",
    "*/",
    "/* a\n /* b */\n c */",
    "/*/ x */",
    "/**/",
    '"',
    '"s"',
    "\r",
    "\r\n",
    "$",
    "é",
    "-",
    "%",
    "%1a",
    "\n",
    "//",
    "/// doc\n",
    "1.0.0",
    "1.0.0-",
    "1.0.0-rc.1+b",
    "1.2",
    "->",
    "@since(version = 1.0.0)",
    "x-Y",
    "\ufeff",
    "\t",
    "a--b",
    "_",
    "0",
]


def _snapshot(out: lexer.Lexed) -> Any:
    toks = [
        (
            t.type,
            str(t),
            t.value,
            t.start_pos,
            t.line,
            t.column,
            t.end_line,
            t.end_column,
            t.end_pos,
        )
        for t in out.tokens
    ]
    err = out.error
    where = None if err is None else (str(err), err.span)
    return toks, out.comments, out.comment_starts, out.comment_spans, out.bad_ids, where


def _exact(text: str) -> Any:
    out = lexer.Lexed("t.wit", text)
    lexer._check_codepoints(out)
    try:
        lexer._tokenize(out)
    except WitError as err:
        out.error = err
    return _snapshot(out)


def _check(text: str, chunk: int) -> bool:
    """Whether the fast scan took `text`; fails if it took it and got anything different."""
    try:
        want = _exact(text)
    except WitError:  # a forbidden code point: raised before either scan runs
        with pytest.raises(WitError):
            lexer.tokenize("t.wit", text)
        return False
    out = lexer.Lexed("t.wit", text)
    taken = lexer._tokenize_fast(out, chunk)
    if taken:
        assert _snapshot(out) == want, text
    assert _snapshot(lexer.tokenize("t.wit", text)) == want, text
    return taken


def _corpus() -> list[str]:
    files = sorted(REPO_ROOT.glob("tests/**/*.wit")) + sorted(REPO_ROOT.glob("wit/**/*.wit"))
    return [p.read_text(encoding="utf-8") for p in files if p.is_file()]


@pytest.mark.parametrize("chunk", [1, 7, 1 << 16])
def test_fast_scan_matches_exact_scan_on_corpus_and_spliced_texts(chunk: int) -> None:
    texts = _corpus()
    assert len(texts) > 50
    rnd = random.Random(chunk)
    spliced = []
    for text in texts:
        for _ in range(4):
            if text:
                i, j = rnd.randrange(len(text)), rnd.randrange(len(text))
                spliced.append(text[:i] + rnd.choice(PIECES) + text[j : j + 200])
    taken = [_check(t, chunk) for t in texts + spliced]
    # the fast scan must actually be the one that runs on ordinary files
    assert sum(taken[: len(texts)]) >= len(texts) * 0.9


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.sampled_from(PIECES + [" ", "a", "b-c", "u32", "{", "}", ";", "<"]), max_size=30)
)
def test_fast_scan_matches_exact_scan_on_piece_soup(pieces: list[str]) -> None:
    text = " ".join(pieces)
    _check(text, 1)
    _check(text, 1 << 16)


def test_fast_scan_runs_on_a_large_generated_file(tmp_path: Path) -> None:
    text = (
        "package a:b;\n/* a\nblock */\ninterface i {\n"
        + "".join(
            f"  /// f{k}\n  f{k}: func(a: list<u32>) -> result<string, u8>;\n" for k in range(3000)
        )
        + "}\n"
    )
    assert _check(text, 1 << 10)
