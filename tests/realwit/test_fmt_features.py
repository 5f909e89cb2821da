"""`witgen fmt` formats WIT that `witgen check` accepts, also when turning every feature on
makes it invalid.

Found by the sweep over wit-parser's own tests (`foreign-world-dep-gated`): a world gated by a
feature, imported under the same gate from another package, is valid by default, but with every
feature on the import names a world where an interface is expected; fmt loaded with every
feature and refused a valid file. The WIT here is written for this test in that shape.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

WIT = """package demo:outer;

world top {
    include demo:mid/base;
}

package demo:mid {
  world base {
    @unstable(feature = later)
    import demo:leaf/gone;
    import f: func();
  }
}

package demo:leaf {
  @unstable(feature = later)
  world gone {}
}
"""


def witgen(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "witgen", *map(str, args)], capture_output=True, text=True
    )


def test_fmt_formats_wit_valid_without_features(tmp_path: Path) -> None:
    src = tmp_path / "gated.wit"
    src.write_text(WIT, encoding="utf-8")
    assert witgen("check", src).returncode == 0
    proc = witgen("fmt", "--write", src)
    assert proc.returncode == 0, proc.stderr
    text = src.read_text()
    assert text.startswith("package demo:outer;\n\nworld top {\n  include demo:mid/base;\n}")
    assert "@unstable(feature = later)" in text  # gated items are kept, not dropped
    assert witgen("fmt", "--check", src).returncode == 0
    assert witgen("check", src).returncode == 0
    resolved = witgen("fmt", "--resolved", src)
    assert resolved.returncode == 0 and "world top" in resolved.stdout, resolved.stderr


def test_fmt_with_the_features_asked_for_reports_their_error(tmp_path: Path) -> None:
    src = tmp_path / "gated.wit"
    src.write_text(WIT, encoding="utf-8")
    proc = witgen("fmt", "--features", "later", src)
    assert proc.returncode == 1
    assert proc.stderr.startswith("error: ") and f"{src}:10:" in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr


def test_fmt_still_refuses_invalid_wit(tmp_path: Path) -> None:
    src = tmp_path / "bad.wit"
    src.write_text("package demo:bad;\ninterface i {\n  f: func() -> missing;\n}\n")
    proc = witgen("fmt", "--write", src)
    assert proc.returncode == 1 and f"{src}:3:16" in proc.stderr, proc.stderr
    assert src.read_text().endswith("missing;\n}\n")  # nothing written
