"""The author's loop for real: `witgen new`, `witgen build`, `witgen test` in each language.

These build actual components (Rust through Debian's rustc-web, Go, componentize-js), so they
need the toolchains `.ci/install` installs; without one they skip locally and fail in CI.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from conftest import require_tool
from tests.author.conftest import require_toolchain, witgen
from witgen.author.project import KINDS, LANGUAGES
from witgen.author.scaffold import ENTRY
from witgen.toolchains import go as go_recipe
from witgen.toolchains import wasm_binary


@pytest.mark.parametrize("lang", LANGUAGES)
def test_processor_loop(projects: Path, capsys: pytest.CaptureFixture[str], lang: str) -> None:
    require_toolchain(lang)
    root = projects / f"loop-{lang}"
    assert witgen(capsys, "new", root, "--lang", lang, "--kind", "processor")[0] == 0

    code, out, err = witgen(capsys, "build", root)
    assert code == 0, err
    component = root / "target" / "witgen" / "debug" / f"loop-{lang}.wasm"
    assert f": {component}" in out
    assert re.search(r"size +[\d,]+ bytes", out)
    assert "world  processor-plugin (exports dataflare:core/processor@1.0.0)" in out
    code, out, _ = witgen(capsys, "build", root)
    assert code == 0 and out.startswith("up to date:")
    if lang != "typescript":  # (a release build of TypeScript is one more componentize-js run)
        copy = root.parent / f"{lang}-release.wasm"
        code, out, err = witgen(capsys, "build", root, "--release", "--out", copy)
        assert code == 0, err
        assert f"built: {copy}" in out
        assert 0 < copy.stat().st_size <= component.stat().st_size

    code, out, err = witgen(capsys, "test", root)
    assert code == 0, out + err
    assert out.splitlines()[-1] == "4 passed, 0 failed"  # 3 cases and info()
    assert "coverage: exports 3/3 called (info, process, process-batch)" in out

    # the plugin misbehaves: a wrong metadata key
    entry = root / ENTRY[lang]
    entry.write_text(entry.read_text().replace('"processed-by"', '"processed_by"'))
    code, out, err = witgen(capsys, "test", root)
    assert code == 1, out + err
    assert out.splitlines()[-1] == "3 passed, 1 failed"
    assert "FAIL passes a record through, tagged" in out
    assert "--- expected" in out and "+++ actual" in out
    assert re.search(r'^ +-result\[0\]: emit = .*\["processed-by", "loop-', out, re.M)
    assert re.search(r'^ +\+result\[0\]: emit = .*\["processed_by", "loop-', out, re.M)

    code, out, _ = witgen(capsys, "test", root, "-k", "binary", "--json")
    assert code == 0
    doc = json.loads(out)
    assert (doc["passed"], doc["failed"]) == (1, 0)
    assert doc["coverage"]["exports"] == {"info": False, "process": False, "process-batch": True}


@pytest.mark.parametrize("kind", [k for k in KINDS if k != "processor"])
@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_kind_builds_and_passes(
    projects: Path, capsys: pytest.CaptureFixture[str], lang: str, kind: str
) -> None:
    require_toolchain(lang)
    root = projects / f"{kind}-{lang}"
    assert witgen(capsys, "new", root, "--lang", lang, "--kind", kind)[0] == 0
    code, out, err = witgen(capsys, "test", root)
    assert code == 0, out + err
    assert re.search(r"^\d+ passed, 0 failed$", out.splitlines()[-1]), out
    assert f"{kind}-plugin" in witgen(capsys, "build", root)[1]


MISBEHAVING = """
use plugin_sdk::processor_plugin::processor::{DataRecord, PluginInfo, ProcessingResult, Processor};
use plugin_sdk::processor_plugin::types::Capabilities;

struct Plugin;

impl Processor for Plugin {
    fn info() -> PluginInfo {
        PluginInfo { name: "bad".into(), version: "0".into(), capabilities: Capabilities::empty() }
    }

    fn process(record: DataRecord) -> ProcessingResult {
        match record.payload.as_slice() {
            b"trap" => panic!("asked to trap"),
            b"loop" => loop {
                std::hint::black_box(&record);
            },
            b"grow" => {
                let mut chunks: Vec<Vec<u8>> = Vec::new();
                loop {
                    chunks.push(vec![1u8; 1 << 20]);
                    std::hint::black_box(&chunks);
                }
            }
            b"oom" => {
                let big = vec![7u8; 256 << 20];
                ProcessingResult::Emit(DataRecord { payload: big, ..record })
            }
            _ => ProcessingResult::Emit(record),
        }
    }

    fn process_batch(records: Vec<DataRecord>) -> Vec<ProcessingResult> {
        records.into_iter().map(Self::process).collect()
    }
}

plugin_sdk::export_processor_plugin!(Plugin);
"""

FAILURE_CASES = """
[limits]
timeout = 0.5
memory_mb = 64

[[case]]
name = "traps"
input = [{ id = "a", payload = "trap" }]
expect = [{ emit = { id = "a" } }]

[[case]]
name = "loops"
input = [{ id = "b", payload = "loop" }]
expect = [{ emit = { id = "b" } }]

[[case]]
name = "exhausts memory"
input = [{ id = "c", payload = "oom" }]
expect = [{ emit = { id = "c" } }]

[[case]]
name = "grows past its memory limit"
input = [{ id = "g", payload = "grow" }]
expect = [{ emit = { id = "g" } }]

[[case]]
name = "a fresh instance after all that"
input = [{ id = "d", payload = "fine" }]
expect = [{ emit = { id = "d", payload = "fine" } }]

[[case]]
name = "a trap that is expected"
input = [{ id = "e", payload = "trap" }]
expect_failure = "trap"
"""


def test_bad_plugins_fail_cases_with_typed_reasons(
    projects: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    require_toolchain("rust")
    root = projects / "misbehaving"
    assert witgen(capsys, "new", root, "--lang", "rust", "--kind", "processor")[0] == 0
    (root / "src" / "lib.rs").write_text(MISBEHAVING)
    (root / "fixtures" / "basic.toml").write_text(FAILURE_CASES)
    code, out, err = witgen(capsys, "test", root, "--json")
    assert code == 1, err
    assert "Traceback" not in out + err
    cases = {c["name"]: c for c in json.loads(out)["cases"]}
    assert cases["traps"]["failure"] == "trap"
    assert cases["loops"]["failure"] == "timeout"
    assert cases["exhausts memory"]["failure"] in ("memory", "trap")  # one refused 256 MiB grow
    assert cases["grows past its memory limit"]["failure"] == "memory"
    assert (
        "memory at the limit of 67108864 bytes" in cases["grows past its memory limit"]["message"]
    )
    assert not cases["exhausts memory"]["passed"]
    assert cases["a fresh instance after all that"]["passed"]
    assert cases["a trap that is expected"]["passed"]
    code, out, _ = witgen(capsys, "test", root)
    assert "FAIL traps [trap]" in out and "FAIL loops [timeout]" in out
    assert "FAIL grows past its memory limit [memory]" in out
    assert out.splitlines()[-1] == "3 passed, 4 failed"


def test_compiler_errors_are_shown_as_printed(
    projects: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    require_toolchain("rust")
    root = projects / "broken"
    assert witgen(capsys, "new", root, "--lang", "rust", "--kind", "filter")[0] == 0
    lib = root / "src" / "lib.rs"
    lib.write_text(lib.read_text().replace("fn keep(", "fn keep(oops "))
    code, out, err = witgen(capsys, "build", root)
    assert code == 2
    assert "cargo build failed:" in err
    assert "src/lib.rs" in err and "error" in err
    code, out, err = witgen(capsys, "test", root)
    assert code == 2 and "cargo build failed" in err


def test_a_changed_contract_regenerates_the_sdk(
    projects: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    require_toolchain("go")
    root = projects / "regen"
    assert witgen(capsys, "new", root, "--lang", "go", "--kind", "filter")[0] == 0
    assert witgen(capsys, "build", root)[0] == 0
    wit = root / "wit" / "dataflare.wit"
    wit.write_text(
        wit.read_text().replace("keep-batch: func", "/// more docs\n    keep-batch: func")
    )
    code, out, err = witgen(capsys, "build", root)
    assert code == 0, err
    assert "regenerated" in out and out.splitlines()[1].startswith("built:")
    assert "more docs" in (root / "sdk" / "filter" / "filter.go").read_text()


def test_missing_toolchain_names_the_install_command(
    projects: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    root = projects / "no-go"
    assert witgen(capsys, "new", root, "--lang", "go", "--kind", "filter")[0] == 0
    monkeypatch.setattr(go_recipe, "go", lambda: None)
    code, _, err = witgen(capsys, "build", root)
    assert code == 2
    assert "missing Go" in err and "witgen toolchain install go" in err
    assert go_recipe.GO_INSTALL in err


def test_a_go_command_module_is_refused(tmp_path: Path) -> None:
    # a plain `go build` (no -buildmode=c-shared) makes a command exporting _start; it would
    # componentize, then trap at its first call
    tool = require_tool("wasm-tools")
    for name, export in (("cmd", "_start"), ("reactor", "_initialize")):
        wat = f'(module (func (export "{export}")) (memory (export "memory") 1))'
        subprocess.run(
            [tool, "parse", "-o", str(tmp_path / f"{name}.wasm"), "-"],
            input=wat.encode(),
            check=True,
        )
    assert wasm_binary.core_exports((tmp_path / "cmd.wasm").read_bytes()) == ["_start", "memory"]
    with pytest.raises(go_recipe.BuildFailed, match="not a reactor"):
        go_recipe.check_reactor(tmp_path / "cmd.wasm")
    go_recipe.check_reactor(tmp_path / "reactor.wasm")
