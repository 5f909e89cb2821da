"""The streaming contract `dataflare:core@1.1.0` (examples/contract-1.1.0/dataflare.wit).

It adds streaming variants of the source and destination interfaces (async functions with
`stream<data-record>` and `future<...>`). `witgen compat` must call it a compatible, minor change
of the default contract; every backend must still generate every 1.0 world from it; the Rust
and Python backends generate the streaming worlds too, the others refuse them by name, at the
function's file:line:column.

It is not the default contract (wit/) yet: only the Rust and Python backends generate async code, so
`witgen generate` of the whole package would fail for the other languages.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from witgen import backends, frontend, ir
from witgen.backends import GenerateOptions
from witgen.diagnostics import WitError

ROOT = Path(__file__).resolve().parents[2]
CONTRACT = ROOT / "examples" / "contract-1.1.0" / "dataflare.wit"
STREAMING = ("streaming-source-plugin", "streaming-destination-plugin")
# Backends that generate the streaming worlds (tests/async/test_rust_guest.py builds and runs them)
ASYNC_BACKENDS = ("python", "rust")


def world_ids(resolve: ir.Resolve) -> dict[str, int]:
    main = resolve.main_package
    return {w.name: i for i, w in enumerate(resolve.worlds) if w.package == main}


def test_compat_calls_it_a_compatible_minor_version() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "witgen", "compat", str(ROOT / "wit"), str(CONTRACT)],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "result: compatible" in done.stdout
    assert "need a minor bump: 1.1.0 or later" in done.stdout
    assert "world `streaming-source-plugin` was added" in done.stdout


@pytest.mark.parametrize("lang", sorted(backends.BACKENDS))
def test_backends_generate_the_1_0_worlds_and_refuse_streaming_by_name(lang: str) -> None:
    resolve = frontend.load(CONTRACT)
    module = backends.available()[lang]
    ids = world_ids(resolve)
    options = GenerateOptions(source="examples/contract-1.1.0/dataflare.wit")
    old = [i for name, i in ids.items() if name not in STREAMING]
    assert len(old) == 6
    assert module.generate(resolve, old, options)
    for name in STREAMING:
        if lang in ASYNC_BACKENDS:
            files = module.generate(resolve, [ids[name]], options)
            marker = "[async-lift]" if lang == "rust" else "async def"
            assert any(marker in text for text in files.values())
            continue
        with pytest.raises(WitError) as refused:
            module.generate(resolve, [ids[name]], options)
        assert "async" in refused.value.message
        span = refused.value.span
        assert span is not None, f"{lang}: the refusal of {name} has no location"
        line = CONTRACT.read_text().splitlines()[span.line - 1]
        assert line.strip().startswith(("read:", "write:"))
