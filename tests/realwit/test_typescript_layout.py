"""The TypeScript SDK for long real-world names is laid out as prettier prints it.

Found by the sweep (wit-bindgen's keywords-uppercase, wasi-nn, WASI 0.2 http, wit-parser's
multi-file test): a single import/export specifier was broken over three lines when the line
passed 80 columns (prettier never breaks a lone specifier), and a `defineX(impl: X): X {` helper
longer than 80 columns stayed on one line (prettier breaks its parameter). The WIT is written
for this test with names long enough to cross the width.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from typescript.conftest import run

WIT = """package averylongnamespace:averylongpackagename@0.2.0-rc-2024-06-25;

interface extraordinarily-long-interface-name {
  record measurement-with-a-long-name { value: u32 }
  resource execution-context-with-long-name {
    run: func() -> measurement-with-a-long-name;
  }
}

interface consumer-of-long-things {
  use extraordinarily-long-interface-name.{execution-context-with-long-name};
  take: func(c: borrow<execution-context-with-long-name>) -> u32;
}

interface keywords-uppercase-and-long {
  record CONST { BREAK: u8 }
  WHILE: func(ENUM: CONST) -> option<CONST>;
}

world the-world-with-a-long-name {
  import consumer-of-long-things;
  export keywords-uppercase-and-long;
  export consumer-of-long-things;
}
"""


def test_long_names_are_prettier_clean_and_typecheck(tmp_path: Path) -> None:
    src = tmp_path / "long.wit"
    src.write_text(WIT, encoding="utf-8")
    out = tmp_path / "ts"
    proc = subprocess.run(
        [sys.executable, "-m", "witgen", "generate", "--lang", "typescript", str(src)]
        + ["--out", str(out)],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    pretty = run("prettier", "--check", out)
    assert pretty.returncode == 0, pretty.stdout + pretty.stderr
    tsc = run("tsc", "--strict", "--noEmit", "-p", out)
    assert tsc.returncode == 0, tsc.stdout + tsc.stderr
    text = "\n".join(p.read_text() for p in sorted(out.rglob("*.ts")))
    assert "export function defineKeywordsUppercaseAndLong(\n  impl: " in text
