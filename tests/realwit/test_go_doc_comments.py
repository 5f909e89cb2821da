"""Generated Go is gofmt-identical where real WIT found it was not: doc comments (already in
gofmt's canonical form) and wide tuples.

Found by the sweep over real WIT: WASI 0.2's io, filesystem and sockets docs hold indented code
examples, `- item` lists with continuation lines and capitalised lines between blank lines;
gofmt (Go >= 1.19) rewrites such comments above top-level declarations, so 21 generated files
were not gofmt-identical. The WIT here is written for this test in the same shapes, and a
seeded generator of doc texts checks `doccomment.format` against gofmt itself.
"""

from __future__ import annotations

import random
import re
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import require_tool
from go.conftest import find_gofmt
from witgen.backends.go.names import doc_comment

WIT = """package demo:docs@0.1.0;

/// Streams of bytes.
///
/// Usage
///
/// Write in chunks:
///
/// ```text
/// let ready = this.subscribe();
/// while !buffer.is_empty() {
///     ready.block();
///     let n = this.check-write();  // no errors here
///     this.write(buffer.take(n));
/// }
/// this.flush();
/// ```
///
/// Shutting down:
///  - `read`: no more data is read; the `input` stream
///    is closed.
///  - `write`: the peer gets an end of stream.
///
/// Steps:
/// 1. open
/// 2. close
///
/// # Errors
///
/// Connecting twice:
///     if (connected) {
/// 	    fail(already-connected)
///     }
/// See [the spec] and [RFC 9110].
///
/// [RFC 9110]: https://www.rfc-editor.org/rfc/rfc9110
/// [unused]: https://example.com/unused
/// [the spec]: https://example.com/spec
interface chunks {
  /// A chunk.
  ///
  ///   indented text becomes code
  record chunk {
    /// Field docs are indented in Go: gofmt leaves them alone.
    ///     even this
    data: list<u8>,
  }

  /// Sends.
  /// - a list right after a line
  ///   continued
  send: func(c: chunk) -> u32;
}

world w {
  import chunks;
  export chunks;
}
"""


def gofmt_or_skip() -> str:
    exe = find_gofmt()
    if exe is None:
        require_tool("gofmt")  # fails in CI, skips with the reason elsewhere
    assert exe is not None
    return exe


def test_generated_docs_are_gofmt_identical(tmp_path: Path) -> None:
    gofmt = gofmt_or_skip()
    src = tmp_path / "docs.wit"
    src.write_text(WIT, encoding="utf-8")
    out = tmp_path / "go"
    proc = subprocess.run(
        [sys.executable, "-m", "witgen", "generate", "--lang", "go", str(src), "--out", str(out)],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    diff = subprocess.run([gofmt, "-d", str(out)], capture_output=True, text=True)
    assert diff.returncode == 0 and diff.stdout == "", diff.stdout + diff.stderr
    text = "\n".join(p.read_text() for p in sorted(out.rglob("*.go")))
    assert "//\twhile !buffer.is_empty() {" in text  # a code block
    assert "//   - `read`: no more data is read; the `input` stream" in text  # a list item
    assert "//     is closed." in text  # its continuation
    assert "// # Usage" in text  # a lone capitalised line between blank lines: a heading


LINES = [
    "",
    "",
    "Plain text.",
    "Another sentence with `code`.",
    "Heading Like This",
    "Ends with brace {",
    "}",
    "  indented by two",
    "    indented by four",
    "\ttab indented",
    "\t\ttwo tabs",
    " - bullet item",
    "- bullet at column one",
    "   continuation of an item",
    "* star item",
    "+ plus item",
    "1. first",
    "2) second",
    "10. tenth",
    "# A heading",
    "#not a heading",
    "#",
    "[link]: https://example.com/x",
    "[other link]: http://example.com/y",
    "[bad]: ftpx://example.com",
    "See [link] and [other link].",
    "Ends with backslash \\",
    "It's a test's line",
    "Version 1.2",
    "Don't stop",
    "```text",
    "```",
    "A ``quoted'' word and ```fenced``` text",
    "Two '' apostrophes and a `` pair",
    "A URL https://example.com/x?y=1 in text.",
]


def random_doc(rng: random.Random) -> str:
    return "\n".join(rng.choice(LINES) for _ in range(rng.randint(1, 9)))


def test_layout_matches_gofmt_on_generated_doc_texts(tmp_path: Path) -> None:
    """gofmt is the oracle: the docs written naively (`// ` + line) above functions, run
    through gofmt, must come out exactly as `doc_comment` lays them out."""
    gofmt = gofmt_or_skip()
    rng = random.Random(20261207)
    docs = [random_doc(rng) for _ in range(800)]
    parts = ["package p\n"]
    for i, doc in enumerate(docs):
        naive = "".join(
            f"//{' ' if line.strip() else ''}{line.rstrip()}\n" for line in doc.split("\n")
        )
        parts.append(f"\n{naive}func F{i}() {{}}\n")
    src = tmp_path / "p.go"
    src.write_text("".join(parts), encoding="utf-8")
    proc = subprocess.run([gofmt, str(src)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    expected = {
        int(m.group(2)): m.group(1)
        for m in re.finditer(r"((?://[^\n]*\n)*)func F(\d+)\(\)", proc.stdout)
    }
    wrong = [(doc, doc_comment(doc), expected[i]) for i, doc in enumerate(docs)]
    wrong = [w for w in wrong if w[1] != w[2]]
    assert not wrong, "doc {!r}:\nours:\n{}gofmt:\n{}".format(*wrong[0])


@pytest.mark.parametrize(
    "doc",
    ["just text", "a\n\n  code\n\nb", "Title Case Line\n\nx", "x\n\nTitle Case Line\n\ny"],
)
def test_indented_docs_stay_as_written(doc: str) -> None:
    # struct fields and interface methods: gofmt never rewrites indented comments
    lines = doc_comment(doc, "\t").splitlines()
    assert [line.removeprefix("\t//").removeprefix(" ") for line in lines] == doc.split("\n")


def test_wide_tuple_fields_are_aligned_as_gofmt_aligns_them(tmp_path: Path) -> None:
    # wit-component's lists test has a 12-element tuple: witrt.Tuple12's fields F0..F11 must be
    # padded to one column (F0  T0 ... F11 T11), as gofmt aligns struct fields
    gofmt = gofmt_or_skip()
    elems = ", ".join(["u8", "string", "s64", "f32"] * 3)
    src = tmp_path / "wide.wit"
    src.write_text(
        "package demo:wide;\ninterface t {\n"
        f"  f: func(x: tuple<{elems}>) -> tuple<{elems}, bool>;\n}}\n"
        "world w { export t; }\n",
        encoding="utf-8",
    )
    out = tmp_path / "go"
    proc = subprocess.run(
        [sys.executable, "-m", "witgen", "generate", "--lang", "go", str(src), "--out", str(out)],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    diff = subprocess.run([gofmt, "-d", str(out)], capture_output=True, text=True)
    assert diff.returncode == 0 and diff.stdout == "", diff.stdout + diff.stderr
    types = (out / "witrt" / "types.go").read_text()
    assert "\tF0  T0\n" in types and "\tF12 T12\n" in types
