"""Test plugins for `witgen run`: a filter written in WAT whose faults are chosen per record,
componentized with `wasm-tools` against the contract (or a changed copy of it), plus the Rust
example plugins for the other stages.

The WAT filter reads each record's index from its timestamp (the Rust example source stamps
record i with 1_700_000_000_000 + i) and, for the indexes it was built with, faults in one way:

    trap      `unreachable`
    timeout   an endless loop (the stage needs `limits.timeout` or `limits.fuel`)
    memory    grows its memory by 128 MiB and traps when that fails (a `limits.memory` hit)
    host      calls metrics.counter-add with an empty name (the host import raises)
    invalid   returns one decision more than it was given records (an invalid guest value)
    second    traps on the second keep-batch call of each instance (a transient fault)

It keeps every record except those whose index is a multiple of `drop_every` (0: none).
"""

from __future__ import annotations

import hashlib
import re
import subprocess
from pathlib import Path

from tests.conftest import require_tool
from witgen.paths import DEFAULT_WIT, REPO_ROOT

OUT = REPO_ROOT / "target" / "pipeline-tests"
IFACE = "dataflare:core/filter@1.0.0"
BASE_TS = 1_700_000_000_000

FAULTS = {
    "trap": "unreachable",
    "timeout": "(loop $spin (br $spin))",
    "memory": "(if (i32.eq (memory.grow (i32.const 2048)) (i32.const -1)) (then unreachable))",
    "host": "(call $counter_add (i32.const 0) (i32.const 0) (i64.const 1))",
    "invalid": "(local.set $extra (i32.const 1))",
}


def filter_wat(
    fault: str | None = None,
    at: tuple[int, ...] = (),
    drop_every: int = 0,
    pkg: str = "dataflare:core@1.0.0",
    spin: int = 0,
) -> str:
    iface = f"{pkg.split('@')[0]}/filter@{pkg.split('@')[1]}"
    metrics = f"{pkg.split('@')[0]}/metrics@{pkg.split('@')[1]}"
    checks = ""
    if fault in FAULTS:
        for i in at:
            checks += f"(if (i64.eq (local.get $i) (i64.const {i})) (then {FAULTS[fault]}))\n"
    work = ""
    if spin:  # CPU time inside wasm per record (for measuring parallel instances)
        work = (
            f"(local.set $w (i32.const {spin}))"
            "(block $w_done (loop $w_next (br_if $w_done (i32.eqz (local.get $w)))"
            " (local.set $w (i32.sub (local.get $w) (i32.const 1))) (br $w_next)))"
        )
    drop = ""
    if drop_every:
        drop = (
            f"(if (i64.eqz (i64.rem_u (local.get $i) (i64.const {drop_every})))"
            " (then (local.set $keep (i32.const 0))))"
        )
    second = ""
    if fault == "second":
        second = "(if (i32.eq (global.get $calls) (i32.const 2)) (then unreachable))"
    return f"""
(module
  (import "{metrics}" "counter-add" (func $counter_add (param i32 i32 i64)))
  (memory (export "memory") 1)
  (global $bump (mut i32) (i32.const 4096))
  (global $calls (mut i32) (i32.const 0))
  (data (i32.const 64) "wat-filter0.1.0")
  (func $realloc (export "cabi_realloc") (param $old i32) (param $old_size i32) (param $align i32) (param $size i32) (result i32)
    (local $ptr i32) (local $end i32)
    (local.set $ptr (i32.and (i32.add (global.get $bump) (i32.sub (local.get $align) (i32.const 1)))
                             (i32.sub (i32.const 0) (local.get $align))))
    (local.set $end (i32.add (local.get $ptr) (local.get $size)))
    (if (i32.gt_u (local.get $end) (i32.mul (memory.size) (i32.const 65536)))
      (then
        (if (i32.eq (memory.grow (i32.add (i32.shr_u (i32.sub (local.get $end) (i32.mul (memory.size) (i32.const 65536))) (i32.const 16)) (i32.const 1))) (i32.const -1))
          (then unreachable))))
    (global.set $bump (local.get $end))
    (if (local.get $old_size) (then (memory.copy (local.get $ptr) (local.get $old) (local.get $old_size))))
    (local.get $ptr))
  (func (export "{iface}#info") (result i32)
    (i32.store (i32.const 16) (i32.const 64))
    (i32.store (i32.const 20) (i32.const 10))
    (i32.store (i32.const 24) (i32.const 74))
    (i32.store (i32.const 28) (i32.const 5))
    (i32.store8 (i32.const 32) (i32.const 5))
    (i32.const 16))
  (func (export "{iface}#keep") (param i32 i32 i64 i32 i32 i32 i32) (result i32)
    (i32.const 1))
  (func (export "{iface}#keep-batch") (param $ptr i32) (param $len i32) (result i32)
    (local $n i32) (local $out i32) (local $i i64) (local $keep i32) (local $extra i32) (local $w i32)
    (global.set $calls (i32.add (global.get $calls) (i32.const 1)))
    {second}
    (local.set $out (call $realloc (i32.const 0) (i32.const 0) (i32.const 1) (i32.add (local.get $len) (i32.const 1))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $n) (local.get $len)))
        (local.set $i (i64.sub (i64.load offset=8 (i32.add (local.get $ptr) (i32.mul (local.get $n) (i32.const 32))))
                               (i64.const {BASE_TS})))
        (local.set $keep (i32.const 1))
        {checks}
        {drop}
        {work}
        (i32.store8 (i32.add (local.get $out) (local.get $n)) (local.get $keep))
        (local.set $n (i32.add (local.get $n) (i32.const 1)))
        (br $next)))
    (i32.store (i32.const 40) (local.get $out))
    (i32.store (i32.const 44) (i32.add (local.get $len) (local.get $extra)))
    (i32.const 40))
  (func (export "cabi_post_{iface}#keep-batch") (param i32)
    (global.set $bump (i32.const 4096)))
)
"""


def componentize(wat: str, wit: Path = DEFAULT_WIT, world: str = "filter-plugin") -> Path:
    """The component for `wat`, built once per (text, contract) into target/pipeline-tests/."""
    tool = require_tool("wasm-tools")
    key = hashlib.sha256(wat.encode() + str(wit).encode()).hexdigest()[:16]
    OUT.mkdir(parents=True, exist_ok=True)
    component = OUT / f"filter-{key}.wasm"
    if not component.exists():
        src = OUT / f"filter-{key}.wat"
        src.write_text(wat)
        core = OUT / f"filter-{key}.core.wasm"
        subprocess.run(
            [tool, "component", "embed", str(wit), str(src), "--world", world, "-o", str(core)],
            check=True,
        )
        tmp = OUT / f"filter-{key}.tmp.wasm"
        subprocess.run([tool, "component", "new", str(core), "-o", str(tmp)], check=True)
        tmp.replace(component)
    return component


def fault_filter(
    fault: str | None = None, at: tuple[int, ...] = (), drop_every: int = 0, spin: int = 0
) -> Path:
    return componentize(filter_wat(fault, at, drop_every, spin=spin))


def contract_copy(
    tmp: Path,
    *,
    version: str = "1.0.0",
    package: str = "dataflare:core",
    edit: tuple[str, str] | None = None,
) -> Path:
    """A copy of the contract with another package name/version and one textual edit."""
    text = (DEFAULT_WIT / "dataflare.wit").read_text()
    text = text.replace("package dataflare:core@1.0.0;", f"package {package}@{version};")
    if edit is not None:
        assert edit[0] in text, edit[0]
        text = text.replace(edit[0], edit[1], 1)
    out = tmp / f"contract-{re.sub(r'[^a-z0-9]', '-', package)}-{version}"
    out.mkdir(parents=True, exist_ok=True)
    (out / "dataflare.wit").write_text(text)
    return out
