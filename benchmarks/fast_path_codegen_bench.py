"""A/B of the Python fast path's generated code: this checkout's `_fast.py` against another
commit's, with everything else (runtime, plugin, records) the same, in one process.

    python3 benchmarks/fast_path_codegen_bench.py [--against REF] [--rounds N]

REF (default HEAD) names the commit whose `generated/python/dataflare_core/_fast.py` is the
baseline; the candidate is generated now from wit/ by this checkout's emitter. Both copies of
the package are loaded side by side and take turns (best of N, thread CPU time, GC paused).
Prints records/s of `process-batch` (1000 records), calls/s of `process` and `info` on the
hand-written WAT processor, and the ratio candidate/baseline. Nothing is asserted.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO)]
sys.pycache_prefix = str(REPO / "target" / "pycache")

from witgen import backends, frontend  # noqa: E402
from witgen.commands.common import source_label  # noqa: E402
from witgen.paths import DEFAULT_WIT  # noqa: E402

WAT_PROCESSOR = REPO / "tests" / "python_host" / "guests" / "processor.wat"
PACKAGE = "dataflare_core"


def fresh_fast_module() -> str:
    resolve = frontend.load(DEFAULT_WIT)
    main = resolve.main_package
    assert main is not None
    worlds = sorted(resolve.packages[main].worlds.values())
    files = backends.available()["python"].generate(
        resolve, worlds, backends.GenerateOptions(source=source_label(resolve))
    )
    return files[f"{PACKAGE}/_fast.py"]


def committed_fast_module(ref: str) -> str:
    return subprocess.run(
        ["git", "show", f"{ref}:generated/python/{PACKAGE}/_fast.py"],
        cwd=REPO,
        check=True,
        capture_output=True,
        text=True,
    ).stdout


def alternating(fns: dict[str, Callable[[], Any]], rounds: int) -> dict[str, float]:
    times: dict[str, list[float]] = {name: [] for name in fns}
    gc.disable()
    try:
        for _ in range(rounds):
            for name, fn in fns.items():
                start = time.thread_time()
                fn()
                times[name].append(time.thread_time() - start)
    finally:
        gc.enable()
    return {name: min(t) for name, t in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--against", default="HEAD", help="the baseline commit (default HEAD)")
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()

    root = Path(tempfile.mkdtemp(prefix="fast-ab-"))
    source = REPO / "generated" / "python" / PACKAGE
    variants = {
        "baseline": committed_fast_module(args.against),
        "candidate": fresh_fast_module(),
    }
    from tests.python_host.conftest import RecordingHost

    plugins: dict[str, Any] = {}
    record_cls: dict[str, Any] = {}
    for name, fast in variants.items():
        package = f"{PACKAGE}_{name}"
        shutil.copytree(source, root / package, ignore=shutil.ignore_patterns("__pycache__"))
        (root / package / "_fast.py").write_text(fast, encoding="utf-8")
    sys.path.insert(0, str(root))
    for name in variants:
        module = importlib.import_module(f"{PACKAGE}_{name}")
        types = importlib.import_module(f"{PACKAGE}_{name}.types")
        host = RecordingHost()
        plugins[name] = module.ProcessorPlugin.load(
            WAT_PROCESSOR, logging=host, metrics=host, config=host, cache=False, fast=True
        )
        assert plugins[name].prepared.mode == "core", f"{name}: not on the fast path"
        record_cls[name] = types.DataRecord

    def records(name: str, n: int) -> list[Any]:
        cls = record_cls[name]
        return [
            cls(f"rec-{i}", 1_700_000_000_000 + i, bytes(64), [("index", str(i))]) for i in range(n)
        ]

    batches = {name: records(name, 1000) for name in variants}
    singles = {name: records(name, 1)[0] for name in variants}
    for name in variants:  # warm up, and both give the same answer
        plugins[name].process_batch(batches[name])
    assert repr(plugins["baseline"].process_batch(batches["baseline"])).replace(
        "baseline", ""
    ) == repr(plugins["candidate"].process_batch(batches["candidate"])).replace("candidate", "")

    def batch_call(name: str) -> Callable[[], None]:
        return lambda: plugins[name].process_batch(batches[name])

    def single_calls(name: str) -> Callable[[], None]:
        def run() -> None:
            process, record = plugins[name].process, singles[name]
            for _ in range(2000):
                process(record)

        return run

    def info_calls(name: str) -> Callable[[], None]:
        def run() -> None:
            info = plugins[name].info
            for _ in range(2000):
                info()

        return run

    print(
        f"fast path generated code, baseline {args.against} vs this checkout (best of {args.rounds})"
    )
    for label, make, count, unit in (
        ("process-batch(1000 records)", batch_call, 1000, "records/s"),
        ("process(record) x2000", single_calls, 2000, "calls/s"),
        ("info() x2000", info_calls, 2000, "calls/s"),
    ):
        best = alternating({name: make(name) for name in variants}, args.rounds)
        base, cand = count / best["baseline"], count / best["candidate"]
        print(
            f"  {label:30} baseline {base:>11,.0f}  candidate {cand:>11,.0f} {unit}  ratio {cand / base:.3f}"
        )
    for plugin in plugins.values():
        plugin.close()
    shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
