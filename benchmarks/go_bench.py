"""Go guest SDK benchmark: the example processor (examples/go/processor) built against the SDK
this checkout generates and against the SDK a baseline git revision generates.

Both components are built with the same Go recipe (witgen.toolchains.go), loaded by the same
wasmtime-py host and given the same records. Prints, for each: records/s through
`process-batch` (wall clock, rounds alternating between the two) and the wasm fuel the guest
burns per record (deterministic: lifting, the plugin's work, lowering, without the host's
Python conversion), with current/baseline ratios.

    python3 benchmarks/go_bench.py [--against REV] [--batch N] [--calls N]
"""

from __future__ import annotations

import argparse
import hashlib
import io
import os
import shutil
import statistics
import subprocess
import sys
import tarfile
import time
from pathlib import Path
from typing import Any, Callable

import wasmtime
import wasmtime.component as wc

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from witgen.paths import DEFAULT_WIT, REPO_ROOT  # noqa: E402
from witgen.toolchains import go as toolchain  # noqa: E402

BENCH = REPO_ROOT / "target" / "go-bench"
EXAMPLE = REPO_ROOT / "examples" / "go" / "processor"
PROCESSOR = "dataflare:core/processor@1.0.0"
WORLD = "processor-plugin"


def _generate_sdk(out: Path, source_root: Path) -> None:
    """`witgen generate --lang go` for wit/ with the witgen found under `source_root`."""
    if out.exists():
        shutil.rmtree(out)
    env = dict(os.environ, PYTHONPATH=str(source_root))
    subprocess.run(
        [sys.executable, "-m", "witgen", "generate", "--lang", "go", str(DEFAULT_WIT)]
        + ["--out", str(out), "--name", "sdk"],
        cwd=source_root,
        env=env,
        check=True,
        capture_output=True,
    )


def _baseline_tree(rev: str) -> Path:
    """witgen/ and sdk_templates/ as of `rev`, extracted (no checkout is touched)."""
    root = BENCH / f"src-{rev.replace('/', '_')}"
    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True)
    archive = subprocess.run(
        ["git", "archive", "--format=tar", rev, "witgen", "sdk_templates", "wit"],
        cwd=REPO_ROOT,
        check=True,
        capture_output=True,
    ).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(root, filter="data")
    return root


def build(name: str, source_root: Path) -> Path:
    """The example processor built against the SDK that `source_root`'s witgen generates."""
    guest = BENCH / name
    if guest.exists():
        shutil.rmtree(guest)
    guest.mkdir(parents=True)
    shutil.copy(EXAMPLE / "main.go", guest / "main.go")
    shutil.copy(EXAMPLE / "go.mod", guest / "go.mod")
    _generate_sdk(guest / "sdk", source_root)
    digest = hashlib.sha256()
    for f in sorted(p for p in guest.rglob("*") if p.is_file()):
        digest.update(str(f.relative_to(guest)).encode() + f.read_bytes())
    out = BENCH / f"{name}-{digest.hexdigest()[:16]}.component.wasm"
    if not out.exists():  # else the same sources were built before
        for stale in BENCH.glob(f"{name}-*.wasm"):
            stale.unlink()
        toolchain.build_guest(guest, DEFAULT_WIT, WORLD, out)
    return out


def _record(i: int) -> wc.Record:
    r = wc.Record()
    r.id = f"record-{i}"
    r.timestamp = 1_700_000_000_000 + i
    r.payload = b"some payload|bytes " * 4
    r.metadata = [("source", "bench"), ("n", str(i))]
    return r


def _link(linker: wc.Linker) -> None:
    linker.add_wasip2()
    with linker.root() as root:
        with root.add_instance("dataflare:core/logging@1.0.0") as logging:
            logging.add_func("log", lambda _s, level, msg: None)
            logging.add_func("enabled", lambda _s, level: False)
        with root.add_instance("dataflare:core/metrics@1.0.0") as metrics:
            metrics.add_func("counter-add", lambda _s, name, delta: None)
            metrics.add_func("histogram-record", lambda _s, name, value, labels: None)
        with root.add_instance("dataflare:core/config@1.0.0") as config:
            config.add_func("get", lambda _s, key: "bench")
            config.add_func("get-int", lambda _s, key: 0)
            config.add_func("get-all", lambda _s: [])


def _instance(
    engine: wasmtime.Engine, path: Path, fuel: int | None = None
) -> tuple[wasmtime.Store, Any]:
    comp = wc.Component(engine, path.read_bytes())
    linker = wc.Linker(engine)
    _link(linker)
    store = wasmtime.Store(engine)
    if fuel is not None:
        store.set_fuel(fuel)
    store.set_wasi(wasmtime.WasiConfig())
    inst = linker.instantiate(store, comp)
    parent = inst.get_export_index(store, PROCESSOR)
    func = inst.get_func(store, inst.get_export_index(store, "process-batch", parent))
    assert func is not None
    return store, func


def records_per_second(
    paths: dict[str, Path], batch: list[wc.Record], calls: int
) -> dict[str, float]:
    engine = wasmtime.Engine()
    fns: dict[str, Callable[[], Any]] = {}
    for name, path in paths.items():
        store, func = _instance(engine, path)
        fns[name] = lambda store=store, func=func: func(store, batch)
        fns[name]()  # warm up
    samples: dict[str, list[float]] = {name: [] for name in fns}
    rounds = 7
    for _ in range(rounds):
        for name, fn in fns.items():
            start = time.perf_counter()
            for _ in range(max(1, calls // rounds)):
                fn()
            samples[name].append((time.perf_counter() - start) / max(1, calls // rounds))
    return {name: len(batch) / statistics.median(v) for name, v in samples.items()}


def fuel_per_record(path: Path, batch: list[wc.Record]) -> float:
    config = wasmtime.Config()
    config.consume_fuel = True
    engine = wasmtime.Engine(config)
    store, func = _instance(engine, path, fuel=10**15)
    func(store, batch)  # warm up (first-call allocations)
    before = store.get_fuel()
    func(store, batch)
    return (before - store.get_fuel()) / len(batch)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--against", default="HEAD", help="baseline git revision (HEAD)")
    parser.add_argument("--batch", type=int, default=500, help="records per process-batch call")
    parser.add_argument("--calls", type=int, default=70, help="process-batch calls timed")
    args = parser.parse_args(argv)
    paths = {
        "baseline": build("baseline", _baseline_tree(args.against)),
        "current": build("current", REPO_ROOT),
    }
    batch = [_record(i) for i in range(args.batch)]
    rates = records_per_second(paths, batch, args.calls)
    fuel = {name: fuel_per_record(path, batch) for name, path in paths.items()}
    print(f"Go processor example, process-batch of {args.batch} records (baseline: {args.against})")
    for name in paths:
        size = paths[name].stat().st_size
        print(
            f"  {name:9} {rates[name]:10.0f} records/s  {fuel[name]:9.0f} fuel/record  "
            f"{size / 1024:7.0f} KiB"
        )
    print(
        f"  current/baseline: records/s x{rates['current'] / rates['baseline']:.3f}, "
        f"fuel/record x{fuel['current'] / fuel['baseline']:.3f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
