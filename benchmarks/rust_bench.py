"""Rust guest SDK benchmark: witgen's generated SDK against wit-bindgen's Rust generator.

The same processor plugin (upper-case the payload, append one metadata pair; `process` and
`process-batch` of wit/dataflare.wit's `processor-plugin` world) is written twice: once with
`witgen generate --lang rust` (generated/rust) and once with the `wit-bindgen` crate from the
Rust crate registry. Both are built with the same toolchain and profile
(witgen.toolchains.rust), loaded by the same wasmtime-py host, and given the same records.

Prints, for each: component size, compile and instantiate time, per-call time of `process`,
records/s through `process-batch`, the memory one instance needs (the smallest store memory
limit under which it instantiates and processes a batch), and the wasm fuel the guest itself
burns per call and per record (deterministic: the generated glue without host noise), with
witgen/wit-bindgen ratios.

    python3 benchmarks/rust_bench.py [--calls N] [--batch N]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable

import wasmtime
import wasmtime.component as wc

from witgen.paths import DEFAULT_WIT, REPO_ROOT
from witgen.toolchains import rust as toolchain

BENCH = toolchain.TARGET_DIR / "bench"
WIT_BINDGEN = "0.63"
PROCESSOR = "dataflare:core/processor@1.0.0"

OURS = r"""
use dataflare_core_sdk::processor_plugin::processor::{
    DataRecord, PluginInfo, ProcessingResult, Processor,
};
use dataflare_core_sdk::processor_plugin::types::Capabilities;

struct Upper;

fn upper(mut record: DataRecord) -> ProcessingResult {
    record.payload.make_ascii_uppercase();
    record.metadata.push(("processed-by".to_string(), "bench".to_string()));
    ProcessingResult::Emit(record)
}

impl Processor for Upper {
    fn info() -> PluginInfo {
        PluginInfo {
            name: "bench".to_string(),
            version: "1".to_string(),
            capabilities: Capabilities::BATCHING,
        }
    }

    fn process(record: DataRecord) -> ProcessingResult {
        upper(record)
    }

    fn process_batch(records: Vec<DataRecord>) -> Vec<ProcessingResult> {
        records.into_iter().map(upper).collect()
    }
}

dataflare_core_sdk::export_processor_plugin!(Upper);
"""

THEIRS = r"""
wit_bindgen::generate!({ path: "%(wit)s", world: "processor-plugin" });

use dataflare::core::types::Capabilities;
use exports::dataflare::core::processor::{DataRecord, Guest, PluginInfo, ProcessingResult};

struct Upper;

fn upper(mut record: DataRecord) -> ProcessingResult {
    record.payload.make_ascii_uppercase();
    record.metadata.push(("processed-by".to_string(), "bench".to_string()));
    ProcessingResult::Emit(record)
}

impl Guest for Upper {
    fn info() -> PluginInfo {
        PluginInfo {
            name: "bench".to_string(),
            version: "1".to_string(),
            capabilities: Capabilities::BATCHING,
        }
    }

    fn process(record: DataRecord) -> ProcessingResult {
        upper(record)
    }

    fn process_batch(records: Vec<DataRecord>) -> Vec<ProcessingResult> {
        records.into_iter().map(upper).collect()
    }
}

export!(Upper);
"""


def _write(path: Path, text: str) -> None:
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def _manifest(name: str, deps: str) -> str:
    return (
        f'[package]\nname = "{name}"\nversion = "0.1.0"\nedition = "2021"\npublish = false\n\n'
        f'[lib]\ncrate-type = ["cdylib"]\n\n[dependencies]\n{deps}\n'
    )


def build() -> dict[str, Path]:
    """Build both plugins (one cargo run; wit-bindgen comes from the crate registry)."""
    sdk = REPO_ROOT / "generated" / "rust"
    _write(
        BENCH / "ours" / "Cargo.toml",
        _manifest("bench-witgen", f'dataflare-core-sdk = {{ path = "{sdk}" }}'),
    )
    _write(BENCH / "ours" / "src" / "lib.rs", OURS)
    _write(
        BENCH / "theirs" / "Cargo.toml",
        _manifest("bench-wit-bindgen", f'wit-bindgen = "{WIT_BINDGEN}"'),
    )
    _write(BENCH / "theirs" / "src" / "lib.rs", THEIRS % {"wit": DEFAULT_WIT})
    _write(
        BENCH / "Cargo.toml",
        '[workspace]\nresolver = "2"\nmembers = ["ours", "theirs"]\n' + toolchain.PROFILE,
    )
    toolchain.cargo_build(BENCH, vendored=False)
    out = toolchain.COMPONENTS / "bench"
    ours = toolchain.componentize(
        toolchain.core_module("bench-witgen"), DEFAULT_WIT, "processor-plugin", out / "witgen.wasm"
    )
    theirs = out / "wit-bindgen.wasm"
    core = toolchain.core_module("bench-wit-bindgen")
    if not theirs.exists() or theirs.stat().st_mtime < core.stat().st_mtime:
        # wit-bindgen embeds the component type itself: only `component new` is needed.
        subprocess.run(["wasm-tools", "component", "new", str(core), "-o", str(theirs)], check=True)
    return {"witgen": ours, "wit-bindgen": theirs}


def _record(i: int) -> wc.Record:
    r = wc.Record()
    r.id = f"record-{i}"
    r.timestamp = 1_700_000_000_000 + i
    r.payload = b"some payload bytes " * 4
    r.metadata = [("source", "bench"), ("n", str(i))]
    return r


def _instance(engine: wasmtime.Engine, comp: wc.Component, limit: int | None = None) -> Any:
    linker = wc.Linker(engine)
    store = wasmtime.Store(engine)
    if limit is not None:
        store.set_limits(memory_size=limit)
    inst = linker.instantiate(store, comp)
    parent = inst.get_export_index(store, PROCESSOR)

    def func(name: str) -> Callable[..., Any]:
        f = inst.get_func(store, inst.get_export_index(store, name, parent))
        assert f is not None
        return lambda *args: f(store, *args)

    return func


def _interleaved(
    fns: dict[str, Callable[[], Any]], repeat: int, rounds: int = 7
) -> dict[str, float]:
    """Median seconds per call of each function, rounds alternating between them so that
    background load on the machine hits both alike."""
    samples: dict[str, list[float]] = {name: [] for name in fns}
    per_round = max(1, repeat // rounds)
    for _ in range(rounds):
        for name, fn in fns.items():
            start = time.perf_counter()
            for _ in range(per_round):
                fn()
            samples[name].append((time.perf_counter() - start) / per_round)
    return {name: statistics.median(values) for name, values in samples.items()}


def _guest_fuel(path: Path, one: wc.Record, batch: list[wc.Record]) -> tuple[float, float]:
    """Wasm fuel (roughly, instructions) the guest spends in one `process` call and in one
    `process-batch` call: lifting, the plugin's work, lowering and post-return, without any of
    the host's Python conversion. Deterministic, so it compares the generated glue exactly."""
    config = wasmtime.Config()
    config.consume_fuel = True
    engine = wasmtime.Engine(config)
    comp = wc.Component(engine, path.read_bytes())
    linker = wc.Linker(engine)
    store = wasmtime.Store(engine)
    store.set_fuel(10**15)
    inst = linker.instantiate(store, comp)
    parent = inst.get_export_index(store, PROCESSOR)
    funcs = {}
    for name in ("process", "process-batch"):
        f = inst.get_func(store, inst.get_export_index(store, name, parent))
        assert f is not None
        funcs[name] = f
    used = []
    for name, arg in (("process", one), ("process-batch", batch)):
        funcs[name](store, arg)  # warm up (first-call allocations)
        before = store.get_fuel()
        funcs[name](store, arg)
        used.append(float(before - store.get_fuel()))
    return used[0], used[1]


def _min_memory(engine: wasmtime.Engine, comp: wc.Component, batch: list[wc.Record]) -> int:
    """Smallest memory limit (64 KiB steps) under which the plugin works."""
    page = 64 * 1024
    lo, hi = 1, 1024
    while lo < hi:
        mid = (lo + hi) // 2
        try:
            func = _instance(engine, comp, mid * page)
            func("process-batch")(batch)
            hi = mid
        except (wasmtime.WasmtimeError, wasmtime.Trap):
            lo = mid + 1
    return lo * page


def measure(
    components: dict[str, Path], calls: int, batch_size: int
) -> dict[str, dict[str, float]]:
    one = _record(0)
    batch = [_record(i) for i in range(batch_size)]
    results: dict[str, dict[str, float]] = {name: {} for name in components}
    loaded = {}
    for name, path in components.items():
        data = path.read_bytes()
        compiles = []
        for _ in range(3):
            engine = wasmtime.Engine()
            start = time.perf_counter()
            comp = wc.Component(engine, data)
            compiles.append(time.perf_counter() - start)
        func = _instance(engine, comp)
        process, process_batch = func("process"), func("process-batch")
        assert process(one).payload.payload == b"SOME PAYLOAD BYTES " * 4
        assert len(process_batch(batch)) == batch_size
        loaded[name] = (engine, comp, process, process_batch)
        results[name]["size_kib"] = len(data) / 1024
        results[name]["compile_ms"] = min(compiles) * 1e3

    def instantiate(engine: wasmtime.Engine, comp: wc.Component) -> Callable[[], Any]:
        linker = wc.Linker(engine)
        return lambda: linker.instantiate(wasmtime.Store(engine), comp)

    timings = {
        "instantiate_us": ({n: instantiate(e, c) for n, (e, c, _, _) in loaded.items()}, 400, 1e6),
        "process_us": ({n: (lambda p=p: p(one)) for n, (_, _, p, _) in loaded.items()}, calls, 1e6),
        "batch_ms": (
            {n: (lambda b=b: b(batch)) for n, (_, _, _, b) in loaded.items()},
            max(14, calls // batch_size),
            1e3,
        ),
    }
    for metric, (fns, repeat, scale) in timings.items():
        for name, seconds in _interleaved(fns, repeat).items():
            results[name][metric] = seconds * scale
    for name, path in components.items():
        fuel_one, fuel_batch = _guest_fuel(path, one, batch)
        results[name]["guest_fuel_process"] = fuel_one
        results[name]["guest_fuel_per_record"] = fuel_batch / batch_size
    for name, res in results.items():
        res["batch_records_per_s"] = batch_size / (res["batch_ms"] / 1e3)
        engine, comp, _, _ = loaded[name]
        res["memory_kib"] = _min_memory(engine, comp, batch) / 1024
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=2000, help="calls per timing")
    parser.add_argument("--batch", type=int, default=100, help="records per process-batch")
    args = parser.parse_args(argv)
    components = build()
    results = measure(components, args.calls, args.batch)
    ours, theirs = results["witgen"], results["wit-bindgen"]
    print(f"{'metric':<22}{'witgen':>14}{'wit-bindgen':>14}{'ratio':>9}")
    for key in ours:
        ratio = ours[key] / theirs[key] if theirs[key] else float("nan")
        print(f"{key:<22}{ours[key]:>14.1f}{theirs[key]:>14.1f}{ratio:>8.2f}x")
    print(
        "ratio = witgen / wit-bindgen (lower is better, except records/s); "
        f"batch = {args.batch} records, wit-bindgen {WIT_BINDGEN}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
