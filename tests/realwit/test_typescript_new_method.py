"""A WIT function or method called `new` is a method in the TypeScript SDK, not a construct
signature.

Found by the sweep with a keyword-heavy WIT (names common in real packages: `new`, `type`,
`default`, `self`...): in an interface or type literal `new(...)` declares a construct
signature, so a static `new` of an exported resource gave its class type a second constructor
no class can have, and an exported interface function `new` made the interface constructible.
The key is now the string `"new"`; a plugin implementing both type-checks.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from typescript.conftest import run

WIT = """package demo:kw;
interface things {
  resource widget {
    constructor(n: u32);
    new: static func(n: u32) -> widget;
    clone: func() -> widget;
    new-ish: func() -> u32;
  }
  new: func() -> u32;
}
world w {
  export things;
  export new: func() -> u32;
}
"""

PLUGIN = """import { defineThings, type Widget as WidgetT } from "./exports/demo-kw-things.js";

class Widget implements WidgetT {
  constructor(public n: number) {}
  clone(): WidgetT {
    return new Widget(this.n);
  }
  newIsh(): number {
    return this.n;
  }
  static new(n: number): WidgetT {
    return new Widget(n + 1);
  }
}

export const things = defineThings({
  Widget,
  new(): number {
    return 7;
  },
});
"""


def test_new_is_a_method_and_a_plugin_typechecks(tmp_path: Path) -> None:
    src = tmp_path / "k.wit"
    src.write_text(WIT, encoding="utf-8")
    out = tmp_path / "ts"
    proc = subprocess.run(
        [sys.executable, "-m", "witgen", "generate", "--lang", "typescript", str(src)]
        + ["--out", str(out)],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    text = (out / "exports" / "demo-kw-things.ts").read_text()
    assert '  new (n: number): Widget;\n\n  "new"(n: number): Widget;' in text
    assert '  "new"(): number;' in text
    pretty = run("prettier", "--check", out)
    assert pretty.returncode == 0, pretty.stdout + pretty.stderr
    (out / "plugin.ts").write_text(PLUGIN, encoding="utf-8")
    tsc = run("tsc", "--strict", "--noEmit", "-p", out)
    assert tsc.returncode == 0, tsc.stdout + tsc.stderr
