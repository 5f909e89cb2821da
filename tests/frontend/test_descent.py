"""The recursive-descent fast path (`descent.parse`) builds exactly the AST that the exact path
(`parser.parse_exact`: lexer + Lark's LALR table) builds, or declines; and it never takes a
file that the exact path refuses (diagnostics are always the exact path's). Checked on every
`.wit` file of the repository, on those files with troublesome pieces spliced in or cut short,
and on a generated file like the large-input benchmark's, which the fast path must take."""

from __future__ import annotations

import random
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from witgen.diagnostics import WitError
from witgen.frontend import descent, parser
from witgen.paths import REPO_ROOT

sys.path.insert(0, str(REPO_ROOT / "benchmarks"))
from large_input_bench import big_wit  # noqa: E402

PIECES = [
    "/*",
    "*/",
    "/* a\n /* b */\n c */",
    "/// doc\n",
    "// c\n",
    "@since(version = 1.0.0)",
    "@since(version = 1.0.0) @since(version = 1.0.0)",
    "@unstable(feature = x)",
    "@since(version = 1.0.0) @unstable(feature = x)",
    "@deprecated(version = 0.1.0)",
    "@since(feature = x)",
    '@external-id("x")',
    "1.0.0",
    "1.0.0-rc",
    "01.0.0",
    "%a",
    "%",
    "_",
    "a--b",
    "a:b/c",
    "x: a:b/c;",
    "list<u8, 4>",
    "list<u8, 4294967296>",
    "result<_, u8>",
    "result<_>",
    "tuple<>",
    "own<r>",
    "borrow<r>",
    "future",
    "stream<u8>",
    "map<string, u32>",
    "async func()",
    "get(a: u8)",
    "static",
    "constructor(a: u8);",
    "package a:b {",
    "include a with { x as y }",
    "\r\n",
    "\r",
    "é",
    "\x01",
    ",",
    ";",
    "}",
    "{",
    "<",
    ">",
    "(",
    ")",
    "->",
    "=",
    ":",
    ".",
    "@",
]


def _exact(file: str, text: str) -> Any:
    try:
        return parser.parse_exact(file, text)
    except (WitError, RecursionError) as err:
        return err


def _check(text: str) -> bool:
    """Whether the fast path took `text`; fails if it took it and the exact path disagrees."""
    fast = descent.parse("t.wit", text)
    if fast is None:
        return False
    want = _exact("t.wit", text)
    assert not isinstance(want, Exception), (text, want)
    assert fast == want, text
    return True


def _corpus() -> list[Path]:
    files = sorted(REPO_ROOT.glob("tests/**/*.wit")) + sorted(REPO_ROOT.glob("wit/**/*.wit"))
    return [p for p in files if p.is_file()]


def test_fast_path_matches_exact_path_on_corpus() -> None:
    files = _corpus()
    assert len(files) > 50
    taken = 0
    valid = 0
    for path in files:
        text = path.read_text(encoding="utf-8", errors="replace")
        want = _exact(str(path), text)
        fast = descent.parse(str(path), text)
        if fast is not None:
            taken += 1
            assert not isinstance(want, Exception), (path, want)
            assert fast == want, path
        if not isinstance(want, Exception):
            valid += 1
    # the fast path must actually be the one that runs on ordinary valid files
    assert taken >= valid * 0.75, (taken, valid)


def test_fast_path_never_takes_what_the_exact_path_refuses_on_spliced_texts() -> None:
    texts = [p.read_text(encoding="utf-8", errors="replace") for p in _corpus()]
    rnd = random.Random(10)
    for text in texts:
        if not text:
            continue
        for _ in range(3):
            i, j = rnd.randrange(len(text)), rnd.randrange(len(text))
            _check(text[:i] + rnd.choice(PIECES) + text[j:])
        _check(text[: rnd.randrange(len(text))])  # cut short


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            PIECES
            + ["interface i {", "world w {", "package a:b;", "f: func(", "x", "u32", "import"]
            + ["export", "record r {", "type t =", "use", "resource r", "variant v {", "enum e {"]
        ),
        max_size=25,
    )
)
def test_fast_path_never_takes_what_the_exact_path_refuses_on_piece_soup(
    pieces: list[str],
) -> None:
    _check(" ".join(pieces))


def test_fast_path_takes_the_large_input_benchmark() -> None:
    assert _check(big_wit(300, per_interface=100))


def test_exact_only_env_var_turns_the_fast_path_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(descent, "_EXACT_ONLY", True)
    assert descent.parse("t.wit", "package a:b;\n") is None


@pytest.mark.parametrize(
    "text",
    [
        # a version that goes on with `-pre`/`+build`, comments or whitespace between: only the
        # exact lexer joins them, so the fast path must decline (the parser checks the next token)
        "package a:b@1.0.0 -rc;\n",
        "package a:b@1.0.0 /* c */ +build;\n",
        "package a:b@1.0.0\n// c\n-rc.1;\n",
        "package a:b;\ninterface i {\n  @since(version = 1.0.0 -rc)\n  f: func();\n}\n",
        "package a:b;\ninterface i {\n  @since(version = 1.0.0 /* c */ +b)\n  f: func();\n}\n",
        "package a:b;\ninterface i {\n  @since(version = 1.0.0 ->\n  f: func();\n}\n",
    ],
)
def test_fast_path_declines_a_version_with_a_tail(text: str) -> None:
    assert descent.parse("t.wit", text) is None


@pytest.mark.parametrize(
    "text",
    [
        # the package's docs span is a point where its first comment starts
        "\n\n  // c\n/// d\npackage a:b;\n",
        "/** d */ package a:b;\ninterface i {}\n",
        "\r\n\t/* c */\r\n/// d\r\npackage a:b@1.0.0;\n",
        # comments in every gap, and runs of them across the end of a scanning chunk
        "/// p\npackage /* 1 */ a /* 2 */ : b;\n/// i\ninterface /**/ i { /// f\n f: func(); }"
        "\n// trailing\n",
        "package a:b;\n" + "// filler\n" * 9000 + "/// d\ninterface i {}\n" + "// end\n" * 3,
    ],
)
def test_fast_path_matches_exact_path_on_comments_and_docs(text: str) -> None:
    assert _check(text)


def test_spans_of_the_fast_path_match_after_comments_across_chunks() -> None:
    """Spans are kept as token numbers and found in the text when read; on a file of several
    scanning chunks with comments everywhere they must still equal the exact path's."""
    text = big_wit(2000, per_interface=500).replace(": func(", ": /* c */ func(")
    assert len(text) > 4 * (1 << 16)
    assert _check(text)


@pytest.mark.parametrize(
    "text",
    [
        "package a:b;\n/// d\ninterface i {\n  // c\n  f: func(x: nope);\n}\n",
        "package a:b;\ninterface i {\n  type t = u8;\n  type t = u16;\n}\n",
        "package a:b;\nworld w {\n  import /* c */ x:y/z@1.0.0;\n}\n",
        "package a:b;\ninterface i { use j.{t}; }\n",
        "package a:b;\n" + "// filler\n" * 9000 + "interface i {\n  r: func() -> own<q>;\n}\n",
    ],
)
def test_errors_found_after_the_fast_path_read_the_same(
    text: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A syntactically valid file with an error found later (resolving) is reported at the same
    place, in the same words, whichever path parsed it."""
    from witgen import frontend

    path = tmp_path / "t.wit"
    path.write_text(text, encoding="utf-8")
    assert descent.parse(str(path), text) is not None
    renders = []
    for exact_only in (False, True):
        monkeypatch.setattr(descent, "_EXACT_ONLY", exact_only)
        with pytest.raises(WitError) as err:
            frontend.load(path)
        renders.append(err.value.render())
    assert renders[0] == renders[1]
    assert "-->" in renders[0]


def test_fast_path_declines_every_control_character_the_lexer_refuses() -> None:
    """The scan refuses ASCII control characters by deleting the allowed bytes; each one the
    exact lexer refuses (`_BAD_CODEPOINTS`) must send the file to the exact path."""
    from witgen.frontend.lexer import _BAD_CODEPOINTS

    for code in range(128):
        text = f"package a:b;\ninterface i {{ f: func();{chr(code)} }}\n"
        if _BAD_CODEPOINTS.search(text) is not None:
            assert descent.parse("t.wit", text) is None, code
        else:
            _check(text)
