"""`witgen compat` compares the interfaces two versions share even when the worlds using them
were replaced.

Found by the sweep comparing real releases: wasi:http 0.2.12 -> 0.3.0 renames its worlds
(`imports`/`proxy` -> `service`/`middleware`), and compat reported only the two removed worlds,
not one of the dozens of changes to `wasi:http/types` both versions define. Interfaces that no
compared world reaches are now compared in the stand-in world (as imports, or as exports where
OLD's worlds only exported them). The WIT is written for this test in that shape.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

OLD = """package demo:web@1.4.0;

interface types {
  resource headers {
    constructor();
    get: func(name: string) -> list<string>;
    entries: func() -> list<tuple<string, string>>;
  }
  record request { path: string, headers-len: u32 }
}

interface handler {
  use types.{request};
  handle: func(req: request) -> u16;
}

interface unused-here {
  ping: func();
}

world proxy {
  import types;
  export handler;
}
"""

NEW = (
    OLD.replace("@1.4.0", "@2.0.0")
    .replace("    entries: func() -> list<tuple<string, string>>;\n", "")
    .replace("handle: func(req: request)", "handle: func(req: request, deadline: u64)")
    .replace("world proxy", "world service")
)


def compat(tmp_path: Path, old: str, new: str) -> dict:  # type: ignore[type-arg]
    (tmp_path / "old.wit").write_text(old, encoding="utf-8")
    (tmp_path / "new.wit").write_text(new, encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "-m", "witgen", "compat", str(tmp_path / "old.wit")]
        + [str(tmp_path / "new.wit"), "--format", "json"],
        capture_output=True,
        text=True,
    )
    assert "Traceback" not in proc.stderr, proc.stderr
    assert proc.returncode == 0, proc.stderr  # 2.0.0 allows breaking changes
    return json.loads(proc.stdout)  # type: ignore[no-any-return]


def test_interfaces_of_replaced_worlds_are_compared(tmp_path: Path) -> None:
    report = compat(tmp_path, OLD, NEW)
    rules = {f["rule"]: f for f in report["findings"]}
    assert "WORLD_REMOVED" in rules and "WORLD_ADDED" in rules
    assert "entries" in rules["RESOURCE_METHOD_REMOVED"]["message"]
    # `handler` was exported by the old world: a new parameter breaks both sides
    assert "deadline" in rules["FUNC_PARAM_ADDED"]["message"]


def test_unchanged_interfaces_of_replaced_worlds_add_nothing(tmp_path: Path) -> None:
    report = compat(tmp_path, OLD, OLD.replace("@1.4.0", "@2.0.0").replace("proxy", "service"))
    assert sorted(f["rule"] for f in report["findings"]) == ["WORLD_ADDED", "WORLD_REMOVED"]
