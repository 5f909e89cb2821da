"""Rust layout speed: the built-in printer (`witgen.backends.rust.layout.format_source`) against rustfmt.

For the default contract and two Rust corpus files, prints (best of R runs, same process):

- render: the Rust backend without layout (templates and glue only);
- printer: `format_source` over every `.rs` file, what generating adds today;
- rustfmt: one `rustfmt --edition 2021` process per file over the same unformatted text, what
  generating used to add when rustfmt was installed (skipped when it is not);
- the ratios printer / render and rustfmt / printer.

Numbers only; nothing is asserted.

    python3 benchmarks/layout_bench.py [--repeat R]
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from witgen import backends, frontend  # noqa: E402
from witgen.backends import rust as rust_backend  # noqa: E402
from witgen.backends.rust import layout as rust_layout  # noqa: E402


def best(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def unformatted(path: Path | None) -> dict[str, str]:
    resolve = frontend.load(path, all_features=True)
    main = resolve.main_package
    assert main is not None
    worlds = sorted(resolve.packages[main].worlds.values())
    real = rust_backend.format_source
    rust_backend.format_source = lambda text: text  # type: ignore[assignment]
    try:
        files = rust_backend.generate(resolve, worlds, backends.GenerateOptions(source="bench"))
    finally:
        rust_backend.format_source = real  # type: ignore[assignment]
    return {p: t for p, t in files.items() if p.endswith(".rs")}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    rustfmt = shutil.which("rustfmt")
    corpus = REPO / "tests" / "rust" / "corpus"
    for name, path in [
        ("wit/", None),
        ("big-enum.wit", corpus / "big-enum.wit"),
        ("long-names.wit", corpus / "long-names.wit"),
    ]:
        files = unformatted(path)
        size = sum(len(t) for t in files.values()) // 1024
        render = best(lambda: unformatted(path), args.repeat)

        def printer() -> None:
            for text in files.values():
                rust_layout.format_source(text)

        def run_rustfmt() -> None:
            assert rustfmt is not None
            for text in files.values():
                subprocess.run(
                    [rustfmt, "--edition", "2021", "--emit", "stdout", "--quiet"],
                    input=text,
                    capture_output=True,
                    text=True,
                )

        rust_layout.tokens.cache_clear()
        laid = best(printer, args.repeat)
        line = f"{name:16} {len(files):3} files {size:4} KiB  render {render * 1000:7.1f} ms"
        line += f"  printer {laid * 1000:7.1f} ms ({laid / render:4.1f}x render)"
        if rustfmt is not None:
            fmt = best(run_rustfmt, max(1, args.repeat // 2))
            line += f"  rustfmt {fmt * 1000:7.1f} ms ({fmt / laid:4.1f}x printer)"
        print(line)


if __name__ == "__main__":
    main()
