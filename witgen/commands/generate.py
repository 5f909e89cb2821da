"""`witgen generate --lang LANG [--world W] [--out DIR] [PATH]`: write an SDK or bindings."""

from __future__ import annotations

import argparse
from pathlib import Path

from witgen import backends
from witgen.commands.common import (
    add_input_arguments,
    input_path,
    load_input,
    select_world,
    source_label,
)
from witgen.diagnostics import UsageError
from witgen.fsio import write_tree

HELP = "generate a guest SDK (rust, go, typescript) or host bindings (python)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_input_arguments(parser, world=True)
    parser.add_argument("--lang", required=True, choices=sorted(backends.BACKENDS))
    parser.add_argument(
        "--out", type=Path, default=None, help="output directory (default: generated/LANG)"
    )
    parser.add_argument("--name", default=None, help="name of the generated package/crate")
    parser.add_argument(
        "--force",
        action="store_true",
        help="write into an --out folder that holds files witgen did not write (they are kept; "
        "those at a generated path are overwritten)",
    )


def run(args: argparse.Namespace) -> int:
    available = backends.available()
    if args.lang not in available:
        raise UsageError(f"the {args.lang} backend is not available in this build")
    resolve = load_input(args)
    if args.world is not None:
        worlds = [select_world(resolve, args.world)]
    else:
        main = resolve.main_package
        worlds = sorted(resolve.packages[main].worlds.values()) if main is not None else []
        # no world: the backend refuses (`backends.require_worlds`), naming the package
    source = source_label(resolve)
    options = backends.GenerateOptions(source=source, package_name=args.name)
    files = available[args.lang].generate(resolve, worlds, options)
    out = args.out if args.out is not None else Path("generated") / args.lang
    write_tree(out, files, force=args.force, protect=[input_path(args.path)])
    print(f"wrote {len(files)} files to {out}")
    return 0
