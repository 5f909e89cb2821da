"""Run the DataFlare pipeline on the example Rust plugins and print per-plugin metrics.

    python3 -m examples.pipeline [--count N] [--batch-size B] [--generic] [--components DIR]

Without `--components`, the example plugins of `examples/rust/` are built (once; cached in
`target/rust-guests/`) with witgen's Rust recipe.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from examples.pipeline.pipeline import KINDS, Pipeline


def components(directory: Path | None) -> dict[str, Path]:
    if directory is None:
        from witgen.toolchains import rust

        missing = rust.missing_tools()
        if missing:
            sys.exit(f"error: cannot build the example plugins; missing: {', '.join(missing)}")
        return {k: p for k, p in rust.build_examples().items()}
    found = {kind: directory / f"{kind}.wasm" for kind in KINDS}
    absent = [str(p) for p in found.values() if not p.is_file()]
    if absent:
        sys.exit(f"error: missing plugin components: {', '.join(absent)}")
    return found


def main() -> int:
    parser = argparse.ArgumentParser(prog="python3 -m examples.pipeline", description=__doc__)
    parser.add_argument("--count", type=int, default=10_000, help="records the source makes")
    parser.add_argument("--batch-size", type=int, default=1000)
    parser.add_argument("--components", type=Path, default=None)
    parser.add_argument(
        "--generic", action="store_true", help="use the generic wasmtime.component path only"
    )
    parser.add_argument("--min-size", type=int, default=1, help="filter.min-size setting")
    args = parser.parse_args()
    settings = {"source.count": str(args.count), "filter.min-size": str(args.min_size)}
    pipeline = Pipeline(components(args.components), settings, fast=False if args.generic else None)
    try:
        report = pipeline.run(batch_size=args.batch_size)
    finally:
        pipeline.close()
    print(report.table())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
