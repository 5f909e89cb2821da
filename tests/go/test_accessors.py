"""Accessors in the Go bindings read as Go's getters and setters: `level: get() -> u32` is
Level(), `level: set(v: u32)` is SetLevel(v), and SetLevel_(v) beside a plain function
`set-level` (which keeps SetLevel), for free functions, resource methods and Exports alike.
(go vet over the corpus's accessor worlds: tests/go/test_corpus.py.)"""

from __future__ import annotations

from pathlib import Path

from witgen import backends, frontend

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


def test_accessor_names_and_the_setter_clash(tmp_path: Path) -> None:
    (tmp_path / "clash.wit").write_text(WIT)
    resolve = frontend.load(tmp_path / "clash.wit")
    assert resolve.main_package is not None
    world = resolve.packages[resolve.main_package].worlds["clashes"]
    files = backends.available()["go"].generate(
        resolve, [world], backends.GenerateOptions(source="clash.wit")
    )
    imports, exports = files["clash/clash.go"], files["clashexport/clashexport.go"]
    for line in (
        "func Level() uint32 {",
        "func SetLevel_(v uint32) {",
        "func SetLevel(v uint32, quietly bool) {",
        "func (self Knob) Value() float32 {",
        "func (self Knob) SetValue_(v float32) {",
        "func (self Knob) SetValue() {",
        "func KnobLimit() float32 {",
    ):
        assert line in imports, line
    for line in ("\tLevel() uint32", "\tSetLevel_(v uint32)", "\tSetValue_(v float32)"):
        assert line + "\n" in exports, line
    assert "//go:wasmexport a:b/clash#[set]level\n" in exports
