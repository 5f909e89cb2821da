"""Front-end speed: parse + resolve of the installed WASI packages, in this process, beside
`wasm-tools component wit --json` (a subprocess) on the same input. Prints times and ratios.

    python3 benchmarks/frontend_bench.py [PATH ...]      (default: installed WASI WIT dirs)

The target (issue 2) is a ratio <= 3x. Start-up (importing Lark, building or loading the
cached LALR tables) is printed separately: it is paid once per process.
"""

from __future__ import annotations

import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def _median_ms(fn: object, rounds: int) -> float:
    times = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        fn()  # type: ignore[operator]
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def main() -> int:
    t0 = time.perf_counter()
    from witgen import frontend
    from witgen.frontend import parser

    parser._parser()
    startup = (time.perf_counter() - t0) * 1000
    paths = [Path(p) for p in sys.argv[1:]] or sorted(
        Path("/usr/src").glob("rustc-*/library/vendor/wasi-*/wit")
    )
    exe = shutil.which("wasm-tools")
    if not paths or exe is None:
        print("need WIT input (Debian rust-web-src) and wasm-tools on PATH")
        return 1
    print(f"start-up (import + parser tables): {startup:.1f} ms")
    worst = 0.0
    for path in paths:
        frontend.load(path)  # warm
        ours = _median_ms(lambda: frontend.load(path), 7)
        theirs = _median_ms(
            lambda: subprocess.run(
                [exe, "component", "wit", "--json", str(path)], capture_output=True, check=True
            ),
            7,
        )
        ratio = ours / theirs
        worst = max(worst, ratio)
        size = sum(f.stat().st_size for f in path.rglob("*.wit")) if path.is_dir() else path.stat().st_size
        print(
            f"{path}: {size / 1024:.0f} KiB WIT  witgen {ours:.1f} ms  "
            f"wasm-tools {theirs:.1f} ms  ratio {ratio:.2f}x"
        )
    print(f"worst ratio {worst:.2f}x (target <= 3x)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
