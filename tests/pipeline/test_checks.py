"""Loading with checks: pipeline-file errors at file:line, missing components, plugins built
against an older compatible contract (loaded), an incompatible one or one of another package
(refused with the compat findings), signatures (unsigned and tampered plugins refused before
any of their code runs), and exit status 2 for all of that."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.pipeline.conftest import stage_toml
from tests.pipeline.plugins import componentize, contract_copy, fault_filter, filter_wat
from tests.pipeline.test_run import CACHE, load
from witgen.cli import main
from witgen.pipeline import checks, signing
from witgen.pipeline.lifecycle import State


def run_cli(path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    status = main(["run", str(path), "-q", "--no-hot-reload", "--cache-dir", str(CACHE)])
    captured = capsys.readouterr()
    return status, captured.err + captured.out


# ---------------------------------------------------------------------------- pipeline files


@pytest.mark.parametrize(
    "text, line, message",
    [
        ("[[stage]]\nkind = 'source'\ncomponent = \n", 3, "invalid TOML"),
        (
            "[[stage]]\nkind = 'source'\ncomponent = 'x.wasm'\ncolour = 1\n",
            4,
            "unknown key `stage.colour`",
        ),
        ("[[stage]]\nkind = 'sorce'\ncomponent = 'x.wasm'\n", 2, "unknown kind `sorce`"),
        ("batch_size = 0\n", 1, "`batch_size` must be at least 1"),
        (
            "[[stage]]\nkind = 'source'\ncomponent = 'a.wasm'\n\n[[stage]]\nkind = 'filter'\n"
            "component = 'b.wasm'\non_error = 'retry'\n",
            8,
            "needs `retries`",
        ),
        (
            "[[stage]]\nkind = 'source'\ncomponent = 'a.wasm'\n[[stage]]\nkind = 'destination'\n"
            "component = 'b.wasm'\non_error = 'dead-letter'\ndead_letter = 'nowhere'\n",
            8,
            "neither a `[[dead_letter]]` sink",
        ),
        (
            "[[stage]]\nkind = 'source'\ncomponent = 'a.wasm'\n[stage.limits]\nmemory = '12 parsecs'\n",
            5,
            "cannot read `12 parsecs` as a size",
        ),
        (
            "[[stage]]\nkind = 'source'\ncomponent = 'a.wasm'\n[stage.wasi]\nnetwork = true\n",
            5,
            "network access cannot be granted",
        ),
        ("[[stage]]\nkind = 'filter'\ncomponent = 'a.wasm'\n", 2, "first stage must be a `source`"),
        (
            "[[stage]]\nkind = 'source'\ncomponent = 'a.wasm'\n[[stage]]\nkind = 'filter'\n"
            "component = 'b.wasm'\n",
            5,
            "last stage must be a `destination`",
        ),
        (
            "[[stage]]\nkind = 'source'\ncomponent = 'a.wasm'\nsigned_by = 'ops'\n",
            4,
            "unknown trusted key `ops`",
        ),
    ],
)
def test_pipeline_file_errors_at_file_line(
    tmp_path, capsys, text: str, line: int, message: str
) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(text)
    status, out = run_cli(path, capsys)
    assert status == 2, out
    assert message in out
    assert f"--> {path}:{line}:" in out


def test_missing_component_exit_2(write_pipeline, tmp_path, capsys) -> None:
    path = write_pipeline(stage_toml("filter", tmp_path / "nope.wasm"))
    status, out = run_cli(path, capsys)
    assert status == 2 and "does not exist" in out and f"{path}:" in out


def test_missing_pipeline_file_exit_2(tmp_path, capsys) -> None:
    status, out = run_cli(tmp_path / "none.toml", capsys)
    assert status == 2 and "no such pipeline file" in out


def test_wrong_kind_and_not_a_component(write_pipeline, rust, tmp_path, capsys) -> None:
    status, out = run_cli(write_pipeline(stage_toml("filter", rust["processor"])), capsys)
    assert status == 2 and "is a `processor-plugin` plugin" in out
    junk = tmp_path / "junk.wasm"
    junk.write_bytes(b"\0asm\x01\0\0\0garbage")
    status, out = run_cli(write_pipeline(stage_toml("filter", junk)), capsys)
    assert status == 2 and "not a valid component" in out


# ---------------------------------------------------------------------------- contract versions


def test_plugin_built_against_an_older_compatible_contract_loads(write_pipeline, tmp_path) -> None:
    # The runtime's contract is 1.1.0: a new host function and a new world. Plugins built
    # against 1.0.0 (all of them here) still load and run.
    newer = contract_copy(
        tmp_path,
        version="1.1.0",
        edit=(
            "    get-all: func() -> list<tuple<string, string>>;\n",
            "    get-all: func() -> list<tuple<string, string>>;\n\n"
            "    /// A float value.\n    get-float: func(key: string) -> option<f64>;\n",
        ),
    )
    path = write_pipeline(
        stage_toml("filter", fault_filter(drop_every=3)), top=f'contract = "{newer}"\n'
    )
    p = load(path)
    assert p.contract.describe() == "dataflare:core@1.1.0"
    acc = p.run()
    assert acc.balanced and acc.out == 200 and p.failure is None
    assert all(
        pl.checked is not None and pl.checked.built_against == "dataflare:core@1.0.0"
        for pl in p.stages
    )


def test_incompatible_plugin_is_refused_with_findings(write_pipeline, tmp_path, capsys) -> None:
    # 2.0.0 adds a function that filters must export: a 1.0.0 filter does not have it.
    newer = contract_copy(
        tmp_path,
        version="2.0.0",
        edit=(
            "    keep-batch: func(records: list<data-record>) -> list<bool>;\n",
            "    keep-batch: func(records: list<data-record>) -> list<bool>;\n\n"
            "    /// Resets the filter.\n    reset: func();\n",
        ),
    )
    path = write_pipeline(stage_toml("filter", fault_filter()), top=f'contract = "{newer}"\n')
    status, out = run_cli(path, capsys)
    assert status == 2
    assert "is not compatible with the contract dataflare:core@2.0.0" in out
    assert "FUNC_ADDED" in out and "reset" in out


def test_incompatible_type_change_is_refused(write_pipeline, tmp_path) -> None:
    newer = contract_copy(
        tmp_path, version="2.0.0", edit=("        timestamp: s64,", "        timestamp: u64,")
    )
    path = write_pipeline(stage_toml("filter", fault_filter()), top=f'contract = "{newer}"\n')
    with pytest.raises(checks.PluginRefused) as info:
        load(path)
    assert "not compatible" in info.value.message and "timestamp" in info.value.message


def test_a_world_of_another_package_is_refused(write_pipeline, tmp_path, capsys) -> None:
    other = contract_copy(tmp_path, package="acme:other")
    wat = filter_wat(pkg="acme:other@1.0.0")
    component = componentize(wat, other)
    status, out = run_cli(write_pipeline(stage_toml("filter", component)), capsys)
    assert status == 2
    assert "WORLD_PACKAGE_CHANGED" in out and "acme:other" in out


# ---------------------------------------------------------------------------- signatures


@pytest.fixture
def keys(tmp_path: Path) -> tuple[Path, Path]:
    key, pub = tmp_path / "k.key", tmp_path / "k.pub"
    assert main(["sign", "--keygen", "--key", str(key), "--public-key", str(pub)]) == 0
    return key, pub


def signed_stage(tmp_path: Path, key: Path, tamper: bool = False, sign: bool = True) -> str:
    component = tmp_path / "signed-filter.wasm"
    component.write_bytes(fault_filter(drop_every=2).read_bytes())
    if sign:
        assert main(["sign", str(component), "--key", str(key)]) == 0
    if tamper:  # flip one byte of the data segment ("wat-filter0.1.0" -> "wat-filtes...")
        data = bytearray(component.read_bytes())
        at = data.index(b"wat-filter")
        data[at + 9] ^= 1
        component.write_bytes(bytes(data))
    return stage_toml("filter", component, signed_by=["release"])


def test_signed_plugin_loads(write_pipeline, tmp_path, keys, capsys) -> None:
    key, pub = keys
    path = write_pipeline(signed_stage(tmp_path, key), top=f'[keys]\nrelease = "{pub}"\n')
    p = load(path)
    assert p.stages[1].checked is not None and p.stages[1].checked.signed_by == "release"
    assert p.run().out == 150
    status, out = run_cli(path, capsys)
    assert status == 0, out
    assert (
        main(["sign", str(tmp_path / "signed-filter.wasm"), "--verify", "--public-key", str(pub)])
        == 0
    )


@pytest.mark.parametrize("case", ["tampered", "unsigned", "other key"])
def test_unsigned_or_tampered_plugin_is_refused_before_it_runs(
    write_pipeline, tmp_path, keys, capsys, monkeypatch, case: str
) -> None:
    key, pub = keys
    if case == "other key":
        other_key, other_pub = tmp_path / "o.key", tmp_path / "o.pub"
        main(["sign", "--keygen", "--key", str(other_key), "--public-key", str(other_pub)])
        key = other_key
    stage = signed_stage(tmp_path, key, tamper=case == "tampered", sign=case != "unsigned")
    path = write_pipeline(stage, top=f'[keys]\nrelease = "{pub}"\n')
    # nothing of the plugin may be compiled or run: fail loudly if the bindings are reached
    from witgen.pipeline import runtime

    reached: list[str] = []
    real = runtime.Plugin.prepare

    def prepare(self, checked):  # type: ignore[no-untyped-def]
        reached.append(self.spec.name)
        return real(self, checked)

    monkeypatch.setattr(runtime.Plugin, "prepare", prepare)
    status, out = run_cli(path, capsys)
    assert status == 2
    expected = {
        "tampered": "was modified",
        "unsigned": "not signed",
        "other key": "no signature by a trusted key",
    }
    assert expected[case] in out
    assert "filter" not in reached
    if case == "tampered":
        assert (
            main(
                ["sign", str(tmp_path / "signed-filter.wasm"), "--verify", "--public-key", str(pub)]
            )
            == 1
        )


def test_refused_plugin_enters_error_state(write_pipeline, tmp_path, keys) -> None:
    key, pub = keys
    stage = signed_stage(tmp_path, key, sign=False)
    from witgen.pipeline import contract as contract_mod
    from witgen.pipeline import spec as spec_mod
    from witgen.pipeline.runtime import Pipeline

    spec = spec_mod.load(write_pipeline(stage, top=f'[keys]\nrelease = "{pub}"\n'))
    p = Pipeline(spec, contract_mod.load(None), cache_dir=CACHE, hot_reload=False)
    with pytest.raises(checks.PluginRefused):
        p.load()
    assert p.stages[1].lifecycle.history == [State.LOADING, State.ERROR]
    assert "not signed" in (p.stages[1].lifecycle.reason or "")
    assert p.lifecycle.state is State.ERROR


def test_signature_layout_follows_wasmsign2(tmp_path, keys) -> None:
    key, pub = keys
    wasm = fault_filter().read_bytes()
    signed = signing.sign(wasm, signing.load_secret_key(key))
    secs = signing.sections(signed)
    assert secs[0].id == 0 and secs[0].name == b"signature"  # the first section
    assert signed[secs[0].end :] == wasm[8:]  # the rest is the component, unchanged
    data = secs[0].payload
    assert data[:3] == bytes([1, 1, 1])  # spec version, content type, SHA-256
    (entry,) = signing.decode_signature_data(data)
    import hashlib

    assert entry.hashes == (hashlib.sha256(wasm[8:]).digest(),)
    ((key_id, alg, sig),) = entry.signatures
    assert key_id == b"" and alg == 1 and len(sig) == 64
    assert signing.encode_signature_data([entry]) == data
    assert pub.read_bytes()[0] == 0x01 and len(pub.read_bytes()) == 33
    assert key.read_bytes()[0] == 0x81 and len(key.read_bytes()) == 65
    # signing again replaces the signature instead of stacking a second section
    again = signing.sign(signed, signing.load_secret_key(key))
    assert [s.name for s in signing.sections(again)].count(b"signature") == 1


def test_prometheus_port_in_use_is_bad_input(write_pipeline, capsys) -> None:
    import socket

    with socket.socket() as busy:
        busy.bind(("0.0.0.0", 0))
        busy.listen()
        port = busy.getsockname()[1]
        path = write_pipeline(stage_toml("filter", fault_filter()), count=10)
        status = main(["run", str(path), "-q", "--no-hot-reload", "--prometheus", str(port)])
    assert status == 2
    assert f"cannot listen on port {port}" in capsys.readouterr().err


def test_invalid_contract_is_bad_input(write_pipeline, tmp_path, capsys) -> None:
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "c.wit").write_text("package a:b;\ninterface i { f: func( }\n")
    path = write_pipeline(stage_toml("filter", fault_filter()), top=f'contract = "{broken}"\n')
    status, out = run_cli(path, capsys)
    assert status == 2 and "c.wit:2:" in out
