"""Large inputs: `witgen check` on a ~4.8 MB package with 20,000 functions beside wasm-tools, and
`witgen generate --lang python` at growing sizes (is it linear? how much of it is black?).

Each command runs as a fresh process, as a user runs it; wall time and peak memory (the child's
`ru_maxrss`) are measured from outside; best and median of N are printed. The baseline for `check` is
`wasm-tools component wit FILE` in the same run, the two commands alternated so that a busy machine
slows both alike (the issue's target: within 5x). witgen's bytecode is compiled first, as pip does
when it installs a package: with PYTHONDONTWRITEBYTECODE set (as in some CI and sandbox shells) every
run would otherwise recompile each module changed since its last .pyc (~0.04 s). For generation
the time spent in black is measured in-process by wrapping the backend's formatting function.
Numbers only; nothing is asserted.

    python3 benchmarks/large_input_bench.py [--functions 20000] [--python 1000,3000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import compileall
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def big_wit(functions: int, per_interface: int = 1000) -> str:
    """A versioned package: interfaces of `per_interface` documented functions each taking a
    record-ish mix of parameters and returning a result over a list of records (~240 bytes
    of WIT per function, like the issue's 4.8 MB / 20,000-function input)."""
    out = ["package big:input@1.0.0;", ""]
    names = []
    for i in range((functions + per_interface - 1) // per_interface):
        names.append(f"api{i}")
        out.append(f"/// Interface {i}: many functions that take records and return results.")
        out.append(f"interface api{i} {{")
        out.append(f"  /// An item of interface {i}.")
        out.append(
            f"  record item{i} {{ id: u64, name: string, tags: list<string>, score: option<f64> }}"
        )
        out.append(f"  variant outcome{i} {{ ok(item{i}), missing, failed(string) }}")
        for k in range(min(per_interface, functions - i * per_interface)):
            out.append(
                f"  /// Function {k} of interface {i}: looks up items by identifier and name, "
                "at most `limit` of them."
            )
            out.append(
                f"  lookup-item-number-{k}: func(id: u64, name: string, "
                f"filter: option<list<string>>, limit: u32) -> result<list<item{i}>, outcome{i}>;"
            )
        out.append("}")
        out.append("")
    out.append("world big {")
    out += [f"  export {n};" for n in names]
    out.append("}")
    return "\n".join(out) + "\n"


def run_child(cmd: list[str], env: dict[str, str] | None = None) -> tuple[float, float, int, int]:
    """(wall seconds, CPU seconds, peak RSS in MiB, exit status) of one fresh process. CPU time
    (user + system) is steadier than wall time on a busy machine."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.stderr is not None:
        proc.stderr.close()
    cpu = usage.ru_utime + usage.ru_stime
    return elapsed, cpu, usage.ru_maxrss // 1024, proc.returncode


def best_of(runs: list[tuple[float, float, int, int]], cmd: list[str]) -> tuple[float, float, int]:
    """Best wall and CPU time, and the largest peak memory, of runs of one command."""
    if any(code != 0 for *_, code in runs):
        sys.exit(f"failed: {' '.join(cmd)}")
    return min(r[0] for r in runs), min(r[1] for r in runs), max(r[2] for r in runs)


def median_of(runs: list[tuple[float, float, int, int]]) -> tuple[float, float]:
    """Median wall and CPU time of runs of one command."""
    return statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs)


PYTHON_GEN = """
import sys, time
from witgen import backends, frontend
import witgen.backends.python.generator as py
spent = [0.0]
name = "_format_all" if hasattr(py, "_format_all") else "_format"  # wall time of black
real = getattr(py, name)
def timed(*args, **kwargs):
    start = time.perf_counter()
    try:
        return real(*args, **kwargs)
    finally:
        spent[0] += time.perf_counter() - start
setattr(py, name, timed)
resolve = frontend.load(sys.argv[1])
worlds = sorted(resolve.packages[resolve.main_package].worlds.values())
start = time.perf_counter()
files = backends.available()["python"].generate(resolve, worlds, backends.GenerateOptions(source="x"))
total = time.perf_counter() - start
print(f"{total:.3f} {spent[0]:.3f} {sum(len(t) for t in files.values())}")
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--functions", type=int, default=20000)
    ap.add_argument("--python", default="1000,3000", help="function counts for generation")
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    wasm_tools = shutil.which("wasm-tools")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "big.wit"
        path.write_text(big_wit(args.functions), encoding="utf-8")
        size = path.stat().st_size / 1e6
        print(f"check: {args.functions} functions, {size:.1f} MB, {args.repeat} runs each")
        compileall.compile_dir(str(REPO / "witgen"), quiet=1)
        ours_cmd = [sys.executable, "-m", "witgen", "check", str(path)]
        ours: list[tuple[float, float, int, int]] = []
        base: list[tuple[float, float, int, int]] = []
        for _ in range(args.repeat):
            ours.append(run_child(ours_cmd, env))
            if wasm_tools is not None:
                base.append(run_child([wasm_tools, "component", "wit", str(path)]))
        ours_t, ours_c, ours_m = best_of(ours, ours_cmd)
        ours_mt, ours_mc = median_of(ours)
        print("                        best wall   best CPU  median wall median CPU  peak RSS")
        print(
            f"  witgen check          {ours_t:8.2f} s {ours_c:8.2f} s "
            f"{ours_mt:8.2f} s {ours_mc:8.2f} s {ours_m:6d} MiB"
        )
        if wasm_tools is None:
            print("  wasm-tools is not installed: no baseline")
        else:
            base_t, base_c, base_m = best_of(base, [wasm_tools, "component", "wit"])
            base_mt, base_mc = median_of(base)
            print(
                f"  wasm-tools component  {base_t:8.2f} s {base_c:8.2f} s "
                f"{base_mt:8.2f} s {base_mc:8.2f} s {base_m:6d} MiB"
            )
            print(
                f"  ratio                 {ours_t / base_t:8.1f}x  {ours_c / base_c:8.1f}x  "
                f"{ours_mt / base_mt:8.1f}x  {ours_mc / base_mc:8.1f}x  {ours_m / base_m:6.1f}x"
            )

        per_function = []
        if args.python:
            print("generate --lang python (in a fresh process; black's share measured inside)")
        for n in (int(x) for x in args.python.split(",") if x):
            wit = Path(tmp) / f"py{n}.wit"
            wit.write_text(big_wit(n, per_interface=300), encoding="utf-8")
            out = subprocess.run(
                [sys.executable, "-c", PYTHON_GEN, str(wit)],
                capture_output=True,
                text=True,
                env=env,
                check=True,
            ).stdout.split()
            total, black_s, size_out = float(out[0]), float(out[1]), int(out[2])
            per_function.append(total / n)
            print(
                f"  {n:6d} functions  {total:8.2f} s  black {black_s:7.2f} s "
                f"({100 * black_s / total:3.0f}%)  {size_out / 1e6:5.1f} MB  "
                f"{1000 * total / n:6.2f} ms/function"
            )
        if len(per_function) > 1:
            print(f"  ms/function largest/smallest: {per_function[-1] / per_function[0]:.2f}")


if __name__ == "__main__":
    main()
