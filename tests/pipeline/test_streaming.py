"""`witgen run` with streaming plugins: a source that exports `streaming-source` and a destination
that exports `streaming-destination` (dataflare:core@1.1.0, examples/contract-1.1.0).

The plugins are the Rust examples examples/rust/streaming-source and streaming-destination,
built with witgen's Rust SDK (tests/pipeline/streaming_plugins.py). The source streams
`rec-<i>` (timestamp 1_700_000_000_000 + i) and makes faults on request; the destination with
`destination.check-order` refuses any record that does not follow the previous one (a
duplicate, a gap, a record out of order), so a clean run proves every record arrived once, in
order. Every run is `python -m witgen run` in a subprocess, from another directory.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import unavailable
from tests.pipeline.conftest import stage_toml
from tests.pipeline.plugins import fault_filter
from witgen.paths import REPO_ROOT

CONTRACT = REPO_ROOT / "examples" / "contract-1.1.0"


@pytest.fixture(scope="module")
def streaming() -> dict[str, Path]:
    from witgen.toolchains import rust

    missing = rust.missing_tools()
    if missing:
        message = f"cannot build the streaming example plugins; missing: {', '.join(missing)}"
        if os.environ.get("CI"):
            pytest.fail(message + " (.ci/install must install them)")
        pytest.skip(message)
    from tests.pipeline.streaming_plugins import build_all

    return build_all()


def pipeline(
    tmp: Path,
    streaming: dict[str, Path],
    *,
    count: int = 1000,
    source: dict[str, Any] | None = None,
    middle: str = "",
    destination: dict[str, Any] | None = None,
    batch: int = 100,
    contract: Path | None = CONTRACT,
) -> Path:
    text = f"batch_size = {batch}\n"
    if contract is not None:
        text += f'contract = "{contract}"\n'
    src = dict(source or {})
    config = {"source.count": str(count), **src.pop("config", {})}
    text += stage_toml("source", streaming["source"], config=config, **src)
    text += middle
    dst = dict(destination or {})
    dst_config = {"destination.check-order": "true", **dst.pop("config", {})}
    text += stage_toml("destination", streaming["destination"], config=dst_config, **dst)
    path = tmp / "streaming.toml"
    path.write_text(text)
    return path


def run(path: Path, *extra: str) -> tuple[int, str, str, dict[str, Any]]:
    """(exit status, stdout, stderr, --metrics-json) of `witgen run` from another cwd."""
    metrics = path.parent / "metrics.json"
    metrics.unlink(missing_ok=True)
    done = subprocess.run(
        [sys.executable, "-m", "witgen", "run", path.name, "--no-hot-reload", "-q"]
        + ["--metrics-json", str(metrics), *extra],
        capture_output=True,
        text=True,
        cwd=path.parent,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
        timeout=300,
    )
    doc = json.loads(metrics.read_text()) if metrics.exists() else {}
    return done.returncode, done.stdout, done.stderr, doc


def books(out: str) -> str:
    return next(line for line in out.splitlines() if line.startswith("records in"))


def stage(doc: dict[str, Any], name: str) -> dict[str, Any]:
    found: dict[str, Any] = next(s for s in doc["stages"] if s["name"] == name)
    return found


def test_streaming_source_to_streaming_destination(tmp_path: Path, streaming) -> None:
    code, out, err, doc = run(pipeline(tmp_path, streaming, count=1000))
    assert code == 0, out + err
    assert books(out).startswith("records in 1000 (source 1000, splits +0) = out 1000 + skipped 0")
    assert "balanced" in books(out)
    assert stage(doc, "source")["mode"] == "async"
    assert stage(doc, "destination")["mode"] == "async"
    assert stage(doc, "source")["records_out"] == 1000
    assert stage(doc, "destination")["records_out"] == 1000


def test_streaming_stages_around_1_0_plugins(tmp_path: Path, streaming) -> None:
    # a 1.0.0 WAT filter (drops every 10th record) between the two streaming plugins
    middle = stage_toml("filter", fault_filter(drop_every=10), name="filter")
    path = pipeline(tmp_path, streaming, count=500, middle=middle)
    # the destination's order check would refuse the gaps the filter leaves
    text = path.read_text().replace('"destination.check-order" = "true"', '"x" = "y"')
    path.write_text(text)
    code, out, err, doc = run(path)
    assert code == 0, out + err
    assert "= out 450 + skipped 50 (filtered 50)" in books(out)
    assert stage(doc, "filter")["mode"] != "async"


def test_records_limit(tmp_path: Path, streaming) -> None:
    code, out, err, _ = run(pipeline(tmp_path, streaming, count=10_000), "--records", "333")
    assert code == 0, out + err
    assert books(out).startswith("records in 333 (source 333, splits +0) = out 333")


def test_endless_source_with_records_in_the_file(tmp_path: Path, streaming) -> None:
    path = pipeline(tmp_path, streaming, count=0)
    # no source.count: the source never ends by itself; `records` stops it
    text = path.read_text().replace('"source.count" = "0"', '"unused" = "0"')
    path.write_text("records = 250\n" + text)
    code, out, err, _ = run(path)
    assert code == 0, out + err
    assert books(out).startswith("records in 250 (source 250, splits +0) = out 250")


def test_source_trap_mid_stream_is_retried_without_loss_or_duplicates(
    tmp_path: Path, streaming
) -> None:
    # each instance traps after writing 350 records: at 350, 650 and 950 of 1000
    source = {"config": {"source.trap-every": "350"}, "on_error": "retry", "retries": 3}
    code, out, err, doc = run(pipeline(tmp_path, streaming, count=1000, source=source))
    assert code == 0, out + err  # the destination's order check saw no duplicate and no gap
    assert books(out).startswith("records in 1000 (source 1000, splits +0) = out 1000")
    assert stage(doc, "source")["recycled"] == 3


def test_source_replays_from_an_older_checkpoint_and_drops_what_it_had_given(
    tmp_path: Path, streaming
) -> None:
    # positions every 2 batches: a trap re-reads up to a batch it had already given
    source = {
        "config": {"source.trap-every": "350"},
        "on_error": "retry",
        "retries": 6,
        "checkpoint": 2,
    }
    code, out, err, _ = run(pipeline(tmp_path, streaming, count=1000, source=source))
    assert code == 0, out + err
    assert books(out).startswith("records in 1000 (source 1000, splits +0) = out 1000")


def test_source_trap_when_the_retries_run_out(tmp_path: Path, streaming) -> None:
    source = {"config": {"source.trap-every": "350"}, "on_error": "retry", "retries": 2}
    code, out, err, _ = run(pipeline(tmp_path, streaming, count=1000, source=source))
    assert code == 1
    assert "error: source `source`: trap:" in err
    # 300, 600 and 900 were delivered whole before each trap; the books still balance
    assert books(out).startswith("records in 900 (source 900, splits +0) = out 900")
    assert "balanced" in books(out)


def test_source_trap_without_retry_fails_the_run(tmp_path: Path, streaming) -> None:
    source = {"config": {"source.trap-every": "350"}}
    code, out, err, _ = run(pipeline(tmp_path, streaming, count=1000, source=source))
    assert code == 1
    assert "trap" in err and "Traceback" not in err
    assert "records in 300 " in books(out) and "balanced" in books(out)


def test_a_stream_that_stalls_times_out(tmp_path: Path, streaming) -> None:
    source = {"config": {"source.stall-at": "250"}, "limits": {"timeout": 0.5}}
    code, out, err, _ = run(pipeline(tmp_path, streaming, count=1000, source=source))
    assert code == 1
    assert "timeout" in err and "limits.timeout" in err
    assert "balanced" in books(out)


def test_a_stream_that_ends_with_an_error(tmp_path: Path, streaming) -> None:
    source = {"config": {"source.error-at": "250"}}
    code, out, err, _ = run(pipeline(tmp_path, streaming, count=1000, source=source))
    assert code == 1
    assert "plugin-error: unavailable: the source failed at record 250" in err
    # the records before the error went through
    assert books(out).startswith("records in 250 (source 250, splits +0) = out 250")


def test_destination_trap_is_bisected_under_skip(tmp_path: Path, streaming) -> None:
    destination = {
        "config": {"destination.check-order": "false", "destination.trap-at": "rec-123"},
        "on_error": "skip",
    }
    code, out, err, doc = run(pipeline(tmp_path, streaming, count=300, destination=destination))
    assert code == 0, out + err
    assert "= out 299 + skipped 1 " in books(out)
    assert stage(doc, "destination")["recycled"] >= 1


def test_destination_error_result_goes_to_the_dead_letters(tmp_path: Path, streaming) -> None:
    destination = {
        "config": {"destination.check-order": "false", "destination.reject": "rec-150"},
        "on_error": "dead-letter",
        "dead_letter": "dead.jsonl",
    }
    code, out, err, _ = run(pipeline(tmp_path, streaming, count=300, destination=destination))
    assert code == 0, out + err
    # an error result is the plugin's answer for the call: its batch is dead-lettered whole
    assert "= out 200 + skipped 0 (filtered 0) + failed 0 + dead-lettered 100" in books(out)
    lines = [json.loads(x) for x in (tmp_path / "dead.jsonl").read_text().splitlines()]
    assert [x["record"]["id"] for x in lines] == [f"rec-{i}" for i in range(100, 200)]
    assert "rejected rec-150" in lines[0]["reason"]


def test_the_order_check_sees_a_gap(tmp_path: Path, streaming) -> None:
    # the destination's order check is real: a filter dropping every 10th record makes gaps
    middle = stage_toml("filter", fault_filter(drop_every=10), name="filter")
    code, out, err, _ = run(pipeline(tmp_path, streaming, count=100, middle=middle))
    assert code == 1
    assert "out of order: rec-1 where rec-0 was due" not in err  # rec-0 is dropped: starts at 1
    assert "out of order: rec-11 where rec-10 was due" in err


def test_ray_engine_refuses_streaming_plugins(tmp_path: Path, streaming) -> None:
    if importlib.util.find_spec("ray") is None:
        unavailable("the Ray engine needs `pip install 'witgen[ray]'`")
    code, out, err, _ = run(pipeline(tmp_path, streaming, count=10), "--engine", "ray")
    assert code == 2, out + err
    assert "the Ray engine does not run streaming plugins" in err
    assert "streaming.toml:" in err and "Traceback" not in err


def test_a_1_0_contract_refuses_a_streaming_plugin(tmp_path: Path, streaming) -> None:
    code, out, err, _ = run(pipeline(tmp_path, streaming, count=10, contract=None))
    assert code == 2, out + err
    assert "exports streaming-source, which is not one of the contract's plugin worlds" in err


def test_a_streaming_source_in_a_destination_stage_is_refused(tmp_path: Path, streaming) -> None:
    swapped = {"source": streaming["destination"], "destination": streaming["source"]}
    code, out, err, _ = run(pipeline(tmp_path, swapped, count=10))
    assert code == 2, out + err
    assert "the stage is a `source` but" in err and "streaming-destination-plugin" in err


def test_checkpoint_only_applies_to_a_source(tmp_path: Path, streaming) -> None:
    path = pipeline(tmp_path, streaming, destination={"checkpoint": 2})
    code, out, err, _ = run(path)
    assert code == 2
    assert "streaming.toml:" in err and "`checkpoint` only applies to a (streaming) source" in err


def test_destination_answering_garbage_is_an_invalid_value(tmp_path: Path, streaming) -> None:
    destination = {"config": {"destination.overcount": "true"}}
    code, out, err, _ = run(pipeline(tmp_path, streaming, count=300, destination=destination))
    assert code == 1
    assert "invalid-value: write reported 101 for 100 records taken" in err
    # every batch read before the run stopped failed (one fate each); the books balance
    assert "= out 0 + skipped 0 (filtered 0) + failed " in books(out)
    assert "balanced" in books(out)


def test_the_streaming_example_pipeline(tmp_path: Path, streaming, rust) -> None:
    # examples/pipeline/streaming.toml, beside its outputs in tmp_path (paths made absolute)
    example = REPO_ROOT / "examples" / "pipeline" / "streaming.toml"
    text = example.read_text().replace('"../contract-1.1.0"', f'"{CONTRACT}"')
    components = REPO_ROOT / "target" / "rust-guests" / "components"
    text = text.replace('"../../target/rust-guests/components/', f'"{components}/')
    path = tmp_path / "streaming.toml"
    path.write_text(text)
    code, out, err, doc = run(path, "--records", "3000")
    assert code == 0, out + err
    assert books(out).startswith("records in ") and "balanced" in books(out)
    assert "(source 3000," in books(out)
    modes = {s["name"]: s["mode"] for s in doc["stages"]}
    assert modes["stream-in"] == modes["stream-out"] == "async"
    assert modes["uppercase"] != "async" and modes["min-size"] != "async"


def test_record_codec_round_trips_through_guest_memory(tmp_path: Path, streaming) -> None:
    """The destination's record store (every string and list allocated in one trip into the
    guest's cabi_realloc) read back by the source's record load: ids, timestamps, payloads and
    metadata of every shape (none, several pairs, empty and non-ASCII strings) come back."""
    from witgen.pipeline import contract as contract_mod
    from witgen.pipeline import spec as spec_mod
    from witgen.pipeline import streaming as streaming_mod
    from witgen.pipeline.runtime import Pipeline

    spec = spec_mod.load(pipeline(tmp_path, streaming, count=1))
    run_ = Pipeline(spec, contract_mod.load(spec.contract), cache_dir=tmp_path / "c")
    run_.load()
    try:
        prepared = run_.stages[-1].prepared
        instance = streaming_mod.DestinationInstance(prepared)
        try:
            make = prepared.bindings.types.DataRecord
            records = [
                make(f"rec-{i}", -5 + i * 10**12, bytes(range(i % 7)), []) for i in range(300)
            ]
            records += [
                make("", 0, b"", [("", "")]),
                make(
                    "ünï-✓", 2**62, b"\x00\xff" * 40, [("k", "v"), ("ключ", "значение"), ("a", "")]
                ),
                make("x" * 5000, 1, b"y" * 70000, [(str(j), "z" * j) for j in range(50)]),
            ]
            plugin = instance.plugin
            plugin.state()  # instantiated
            ptr = plugin.realloc(8, 32 * len(records))
            streaming_mod._store_records(plugin, records, ptr)
            got = streaming_mod._load_records(plugin.view(), ptr, len(records), make)
            assert not plugin.pending
            for want, have in zip(records, got, strict=True):
                assert (have.id, have.timestamp, bytes(have.payload)) == (
                    want.id,
                    want.timestamp,
                    bytes(want.payload),
                )
                assert [tuple(kv) for kv in have.metadata] == want.metadata
            # a bad string or block traps (the source's load checks what the guest gave)
            from witgen.hostrt import _runtime

            first = ptr + 32 * 301  # the record with metadata ("k", "v"), ...
            id_ptr = int.from_bytes(plugin.view()[first : first + 4], "little")
            plugin.view()[id_ptr] = 0xFF
            with pytest.raises(_runtime.PluginTrap, match="not UTF-8"):
                streaming_mod._load_records(plugin.view(), ptr, len(records), make)
            plugin.view()[first + 20 : first + 24] = (2**31).to_bytes(4, "little")
            with pytest.raises(_runtime.PluginTrap, match="payload is out of bounds"):
                streaming_mod._load_records(plugin.view(), ptr, len(records), make)
        finally:
            instance.close()
    finally:
        run_.close()
