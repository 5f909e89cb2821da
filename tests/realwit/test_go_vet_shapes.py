"""Go SDKs for shapes of real WIT that did not compile (go vet), each reproduced with WIT
written for this test:

- a fallible constructor (`constructor() -> result<r, e>`, as in wit-component's tests): the
  Go constructor returned the resource type while its body built a `witrt.Result`;
- a variant with an `s64` payload beside flags (wit-component's `exports` world) and WASI 0.2
  http `types`: `math` was imported for integer casts that never call it;
- a resource reached through a `use` of a `use` (WASI 0.2 filesystem `types` uses
  `wasi:io/streams.{error}`, which uses `wasi:io/error.{error}`) and only lowered (passed as a
  borrow): the origin's package was imported but not used.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from conftest import require_tool
from go.conftest import go_env, run

WIT = {
    "fallible-constructor": """package demo:ctor;
interface store {
  resource conn {
    constructor(addr: string) -> result<conn, string>;
    ping: func() -> u32;
  }
  resource plain {
    constructor();
  }
}
world w-import { import store; }
world w-export { export store; }
world w-inline {
  import inline: interface {
    resource a { constructor() -> result<a, u32>; }
  }
  export exported: interface {
    resource b { constructor(x: u8) -> result<b>; }
  }
}
""",
    "integer-casts-only": """package demo:casts;
world w-casts {
  export shapes: interface {
    flags mode { read, write }
    variant value { none, text(string), big(s64), small(u8) }
    set: func(m: mode);
    get: func(v: value) -> value;
  }
  import host: interface {
    variant v { a(u64), b(s32) }
    put: func(x: v) -> option<v>;
  }
}
""",
    "use-of-use-lowered-only": """package demo:chain;
interface origin {
  resource fault {
    describe: func() -> string;
  }
}
interface relay {
  use origin.{fault};
  record failure { code: u32 }
}
interface user {
  use relay.{fault};
  classify: func(f: borrow<fault>) -> option<u8>;
}
world w-chain { import user; }
""",
}


@pytest.mark.parametrize("case", sorted(WIT))
def test_generated_go_vets(tmp_path: Path, case: str) -> None:
    go = require_tool("go")
    src = tmp_path / f"{case}.wit"
    src.write_text(WIT[case], encoding="utf-8")
    worlds = [line.split()[1] for line in WIT[case].splitlines() if line.startswith("world ")]
    for world in worlds:
        out = tmp_path / world
        proc = subprocess.run(
            [sys.executable, "-m", "witgen", "generate", "--lang", "go", str(src)]
            + ["--world", world, "--out", str(out)],
            capture_output=True,
            text=True,
        )
        assert proc.returncode == 0, proc.stderr
        run([go, "vet", "./..."], cwd=out, env=go_env())
