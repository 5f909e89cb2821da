"""Accessors in the Python bindings: `level: get() -> u32` is `level()`, `level: set(v: u32)` is
`set_level(v)`, and `set_level_(v)` beside a plain function `set-level` (which keeps
`set_level`); each has its own `_abi` signature and fast-path adapter."""

from __future__ import annotations

import re
from pathlib import Path

from witgen import backends, frontend
from witgen.backends.python import generator

WIT = """
package a:b;
interface clash {
  level: get() -> u32;
  level: set(v: u32);
  set-level: func(v: u32, quietly: bool);
  resource knob {
    value: get() -> f32;
    value: set(v: f32);
    set-value: func();
    limit: static get() -> f32;
  }
}
world clashes { import clash; export clash; }
"""


def _generate(tmp_path: Path) -> dict[str, str]:
    (tmp_path / "clash.wit").write_text(WIT)
    resolve = frontend.load(tmp_path / "clash.wit")
    main = resolve.main_package
    assert main is not None
    world = resolve.packages[main].worlds["clashes"]
    return generator.generate(resolve, [world], backends.GenerateOptions(source="clash.wit"))


def test_accessor_names_and_the_setter_clash(tmp_path: Path) -> None:
    files = _generate(tmp_path)
    text = "\n".join(t for p, t in files.items() if "clash" in p)
    defs = set(re.findall(r"def (\w+)\(", text))
    assert {"level", "set_level", "set_level_", "value", "set_value", "set_value_"} <= defs
    assert "knob_limit" in defs
    abi = next(t for p, t in files.items() if p.endswith("_abi.py"))
    assert '"[set]level", (U32,), None, "set_level_"' in abi
    assert '"set-level", (U32, BOOL), None, "set_level"' in abi
