"""`witgen fmt` speed: formatting one file beside parsing it, in the same process.

For each input file (the repo's `wit/` files, a few corpus files, and a generated file of N
functions with a comment on each) prints, best of R runs:

- parse: `parse_text` (lexer + Lark parser), what every command pays per file;
- format: `format_wit(..., parsed=True)`, what `witgen fmt` adds once `frontend.load` has
  parsed the file: tokenize, lay out, and re-parse and re-lex the output as a safety check;
- the ratio format / parse.

Numbers only; nothing is asserted.

    python3 benchmarks/fmt_bench.py [--functions N] [--repeat R]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Callable

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from witgen.frontend.parser import parse_text  # noqa: E402
from witgen.wit_format import format_wit  # noqa: E402


def generated(functions: int) -> str:
    lines = ["package demo:big;", "", "interface i {"]
    for k in range(functions):
        lines.append(f"  // function {k}")
        lines.append(
            f"  fn{k}: func(a: u32, b: list<string>, /* c */ c: option<u8>) -> result<u32, string>;"
        )
    lines.append("}")
    return "\n".join(lines) + "\n"


def best(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--functions", type=int, default=2000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    inputs = [(p.name, p.read_text(encoding="utf-8")) for p in sorted((REPO / "wit").glob("*.wit"))]
    corpus = REPO / "tests" / "frontend" / "corpus" / "valid"
    for name in ("resource_full.wit", "docs_everywhere.wit", "include_with_rename.wit"):
        if (corpus / name).is_file():
            inputs.append((name, (corpus / name).read_text(encoding="utf-8")))
    inputs.append((f"generated ({args.functions} functions)", generated(args.functions)))
    parse_text("warm-up.wit", inputs[0][1])
    print(f"{'input':40} {'bytes':>9} {'parse ms':>9} {'format ms':>10} {'ratio':>6}")
    for name, text in inputs:
        parse = best(lambda: parse_text(name, text), args.repeat)
        fmt = best(lambda: format_wit(name, text, parsed=True), args.repeat)
        print(
            f"{name:40} {len(text.encode()):9} {parse * 1e3:9.1f} {fmt * 1e3:10.1f} "
            f"{fmt / parse:6.2f}"
        )


if __name__ == "__main__":
    main()
