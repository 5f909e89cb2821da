"""Regressions from the sweep over real-world WIT packages (WASI 0.2/0.3, wit-bindgen's and
wit-parser's test inputs): every refusal of the Go and TypeScript generators points at the WIT
that asks for the refused feature (`--> file:line:col`), exit status 1, never a traceback.

The WIT here is written for these tests; each case reproduces the shape of a real package that
was refused without a location (e.g. WASI 0.3's filesystem: a stream returned by a method of an
imported resource).
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

HEAD = "package demo:sweep@0.1.0;\n"

# name -> (WIT after the package line, world, the lines of the file the error may point at:
# the item using the feature or the type that holds it; None: any line of the world)
CASES = {
    "stream-in-imported-resource-method": (
        "interface files {\n"
        "  resource handle {\n"
        "    read-all: func() -> tuple<stream<u8>, future<result<_, u32>>>;\n"
        "  }\n"
        "}\n",
        "world w { import files; }\n",
        {4},
    ),
    "future-in-exported-resource-static": (
        "interface jobs {\n"
        "  resource job {\n"
        "    start: static func(name: string) -> future<u32>;\n"
        "  }\n"
        "}\n",
        "world w { export jobs; }\n",
        {4},
    ),
    "stream-in-record-field": (
        "interface feed {\n  record chunked {\n    body: stream<u8>,\n  }\n"
        "  take: func(c: chunked);\n}\n",
        "world w { import feed; }\n",
        {3, 4, 6},
    ),
    "stream-alias-in-world-function": (
        "interface t {\n  type bytes = stream<u8>;\n}\n",
        "world w {\n  use t.{bytes};\n  import pull: func() -> bytes;\n}\n",
        {3, 7},
    ),
    "two-exports-one-entry-name": (  # wit-component's export-name-shuffling shape
        "interface shared {\n  record item { f: u32 }\n}\n",
        "world w {\n  export shared;\n  export shared: interface {\n"
        "    use shared.{item};\n    take: func(i: item);\n  }\n}\n",
        {7},
    ),
    "exported-resource-used-elsewhere": (  # wit-component's tricky-resources shape
        "interface owner {\n  resource thing;\n}\n",
        "world w {\n  export owner;\n  export user: interface {\n"
        "    use owner.{thing};\n    make: func() -> thing;\n  }\n}\n",
        {9},
    ),
    "error-context-in-world-export": (
        "interface t {\n  record unused { a: u8 }\n}\n",
        "world w {\n  export report: func(e: error-context);\n}\n",
        None,
    ),
}


TYPESCRIPT_ONLY = {"two-exports-one-entry-name"}
GO_ONLY = {"exported-resource-used-elsewhere"}


def generate(tmp_path: Path, lang: str, body: str, world: str) -> subprocess.CompletedProcess[str]:
    src = tmp_path / "sweep.wit"
    src.write_text(HEAD + body + world, encoding="utf-8")
    return subprocess.run(
        [sys.executable, "-m", "witgen", "generate", "--lang", lang, str(src)]
        + ["--out", str(tmp_path / f"out-{lang}")],
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    ("case", "lang"),
    [
        (case, lang)
        for case in sorted(CASES)
        for lang in ("go", "typescript")
        # the other backend generates these
        if not (lang == "go" and case in TYPESCRIPT_ONLY)
        and not (lang == "typescript" and case in GO_ONLY)
    ],
)
def test_refusal_points_at_the_wit(tmp_path: Path, lang: str, case: str) -> None:
    body, world, line = CASES[case]
    proc = generate(tmp_path, lang, body, world)
    assert "Traceback" not in proc.stderr, proc.stderr
    assert proc.returncode == 1, (proc.returncode, proc.stderr)
    assert proc.stderr.startswith("error: "), proc.stderr
    loc = re.search(r"--> (.+):(\d+):(\d+)", proc.stderr)
    assert loc is not None, f"no location in:\n{proc.stderr}"
    assert Path(loc.group(1)).name == "sweep.wit"
    total = len((HEAD + body + world).splitlines())
    got = int(loc.group(2))
    if line is None:  # a world-level item: somewhere in the world's lines
        assert total - len(world.splitlines()) < got <= total, proc.stderr
    else:
        assert got in line, proc.stderr
