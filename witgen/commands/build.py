"""`witgen build [DIR] [--release] [--out FILE]`: build and check a plugin project's component.

Detects the language from `witgen.toml`, checks the toolchain (exit 2 naming what is missing and
the command that installs it), regenerates `sdk/` when `wit/` changed, builds with the language's
recipe (compiler errors are printed as the compiler printed them, exit 2), validates the
component and checks that it is a plugin of the project's world, then prints its path, size and
world. A second build with nothing changed reuses the component.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from witgen.author.builder import build, copy_to
from witgen.author.project import Project

HELP = "build a plugin project (from `witgen new`) into a checked WebAssembly component"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("dir", nargs="?", type=Path, default=Path("."), help="project folder")
    parser.add_argument("--release", action="store_true", help="optimised and stripped")
    parser.add_argument("--out", type=Path, default=None, help="also copy the component here")


def run(args: argparse.Namespace) -> int:
    project = Project.load(args.dir)
    if not args.dir.is_dir():
        raise FileNotFoundError(args.dir)
    result = build(project, release=args.release)
    path = copy_to(result, args.out) if args.out is not None else result.component
    if result.sdk_regenerated:
        print(f"regenerated {project.sdk} from {project.wit}")
    state = "built" if result.fresh else "up to date"
    print(f"{state}: {path}")
    print(f"  size   {result.size:,} bytes ({result.size / 1024:.1f} KiB)")
    print(f"  world  {result.world} (exports {', '.join(result.exports)})")
    return 0
