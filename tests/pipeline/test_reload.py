"""Hot reload: a changed `.wasm` is checked and swapped in at a batch boundary; an invalid new
version is refused and the old one keeps running; no record is lost or handled twice."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from typing import Any

from tests.pipeline.conftest import stage_toml
from tests.pipeline.plugins import fault_filter
from tests.pipeline.test_run import CACHE, written
from witgen.pipeline import contract as contract_mod
from witgen.pipeline import spec as spec_mod
from witgen.pipeline.runtime import Pipeline


def replace_file(path: Path, data: bytes) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def wait_for(events: list[Any], kind: str, n: int = 1, timeout: float = 30) -> None:
    end = time.monotonic() + timeout
    while sum(e.kind == kind for e in events) < n:
        assert time.monotonic() < end, f"no {kind} event: {[str(e) for e in events]}"
        time.sleep(0.01)


def start(path: Path, events: list[Any]) -> tuple[Pipeline, threading.Thread]:
    spec = spec_mod.load(path)
    p = Pipeline(spec, contract_mod.load(None), listeners=[events.append], cache_dir=CACHE)
    p.load()
    runner = threading.Thread(target=p.run)
    runner.start()
    return p, runner


def test_reload_mid_run_with_exact_accounting(write_pipeline, tmp_path) -> None:
    component = tmp_path / "filter.wasm"
    component.write_bytes(fault_filter().read_bytes())  # version 1 keeps every record
    count = 10000
    path = write_pipeline(stage_toml("filter", component, instances=2), count=count, batch=20)
    events: list[Any] = []
    p, runner = start(path, events)
    try:
        while p.accounting.source < 200:
            time.sleep(0.002)
        p.pause()
        time.sleep(0.3)  # batches in flight finish under version 1
        handled_by_v1 = p.accounting.source
        assert p.accounting.out == handled_by_v1

        # an invalid new version is refused; version 1 keeps running
        replace_file(component, b"\0asm\x0d\0\x01\0not a component")
        wait_for(events, "reload-refused")
        assert p.stages[1].generation == 0
        # version 2 drops records whose index is even
        replace_file(component, fault_filter(drop_every=2).read_bytes())
        wait_for(events, "reload")
        assert p.stages[1].generation == 1
        p.resume()
    finally:
        runner.join(timeout=300)
    acc = p.accounting
    assert p.failure is None and acc.balanced and acc.source == count
    dropped = sum(1 for i in range(handled_by_v1, count) if i % 2 == 0)
    assert acc.filtered == dropped  # every record after the swap, and none before, saw v2
    assert acc.out == count - dropped == written(p)
    assert p.stages[1].metrics.reloads == 1
    refused = [e for e in events if e.kind == "reload-refused"]
    assert "not a valid component" in (refused[0].reason or "")


def test_reloads_while_running_lose_nothing(write_pipeline, tmp_path) -> None:
    component = tmp_path / "filter.wasm"
    versions = [fault_filter().read_bytes(), fault_filter(drop_every=5).read_bytes()]
    component.write_bytes(versions[0])
    # a source that outlasts the test: it is stopped (gracefully) after the third reload
    path = write_pipeline(stage_toml("filter", component, instances=2), count=10**7, batch=10)
    events: list[Any] = []
    p, runner = start(path, events)
    try:
        for n in range(1, 4):
            while p.accounting.source < 300 * n:
                time.sleep(0.002)
            replace_file(component, versions[n % 2])
            wait_for(events, "reload", n)
        seen = p.accounting.source
        while p.accounting.source < seen + 300:  # the last version runs for a while
            time.sleep(0.002)
    finally:
        p.stop()
        runner.join(timeout=300)
    acc = p.accounting
    assert p.failure is None and acc.balanced
    assert acc.out == written(p) and acc.out + acc.filtered == acc.source
    assert 0 < acc.filtered < acc.source // 5 + 10
    assert p.stages[1].metrics.reloads == 3
