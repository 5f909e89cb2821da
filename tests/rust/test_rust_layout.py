"""The Rust backend's built-in printer (`witgen.backends.rust.layout`) against rustfmt.

`layout/unformatted.rs.txt` is Rust written the way the templates and the glue writer produce it
(no indentation, everything on one line); `layout/rustfmt.rs.txt` is what `rustfmt --edition
2021` makes of it. The printer must produce the latter without rustfmt; a second test checks,
where rustfmt is installed, that the expectation still is rustfmt's output."""

from __future__ import annotations

import subprocess
from pathlib import Path

from conftest import require_tool
from witgen import backends, frontend
from witgen.backends import rust as rust_backend
from witgen.backends.rust.layout import format_source
from witgen.diagnostics import WitgenError
from witgen.paths import REPO_ROOT

HERE = Path(__file__).resolve().parent / "layout"
UNFORMATTED = (HERE / "unformatted.rs.txt").read_text(encoding="utf-8")
EXPECTED = (HERE / "rustfmt.rs.txt").read_text(encoding="utf-8")
FRONTEND_CORPUS = REPO_ROOT / "tests" / "frontend" / "corpus" / "valid"


def test_printer_lays_out_as_rustfmt() -> None:
    assert format_source(UNFORMATTED) == EXPECTED


def test_printer_output_is_a_fixed_point() -> None:
    assert format_source(EXPECTED) == EXPECTED


def test_expectation_is_rustfmt_output() -> None:
    rustfmt = require_tool("rustfmt")
    proc = subprocess.run(
        [rustfmt, "--edition", "2021", "--emit", "stdout", "--quiet"],
        input=UNFORMATTED,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == EXPECTED


def test_parentheses_stay_parentheses() -> None:
    """A broken `(x as T)` must not become the one-element tuple `(x as T,)`."""
    text = (
        "fn get(&self) -> &T {\nunsafe {\n&*(_rep_a_long_lived_session_with_the_host_"
        "resource_type(self.handle() as i32) as usize as *const T)\n}\n}\n"
    )
    out = format_source(text)
    assert ",)" not in out.replace(" ", "").replace("\n", "")
    assert max(len(line) for line in out.splitlines()) <= 100


def test_blank_lines_and_empty_blocks() -> None:
    text = "pub mod m {\n\n\npub trait B {\n}\n\n\n\nfn f() {\n\nlet x = 1;\n\n}\n\n}\n\n"
    assert format_source(text) == (
        "pub mod m {\n    pub trait B {}\n\n    fn f() {\n        let x = 1;\n    }\n}\n"
    )


def test_printer_output_is_stable_over_the_corpora() -> None:
    """Laying generated code out again changes nothing (templates may be written either way)."""
    cases = [None, *sorted((REPO_ROOT / "tests" / "rust" / "corpus").glob("*.wit"))]
    cases += sorted(p for p in FRONTEND_CORPUS.iterdir() if p.suffix == ".wit" or p.is_dir())
    checked = 0
    for case in cases:
        try:
            resolve = frontend.load(case, all_features=True)
            main = resolve.main_package
            assert main is not None
            worlds = sorted(resolve.packages[main].worlds.values())
            if not worlds:
                continue
            files = rust_backend.generate(resolve, worlds, backends.GenerateOptions(source="x"))
        except WitgenError:
            continue
        for path, text in files.items():
            if path.endswith(".rs"):
                assert format_source(text) == text, f"{case}: {path}"
                checked += 1
    assert checked > 300
