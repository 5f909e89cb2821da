"""`witgen new NAME --lang LANG --kind KIND [--wit PATH]`: scaffold a plugin project.

Writes the folder NAME: the contract (`wit/`), the SDK generated for the kind's world (`sdk/`),
a plugin skeleton that builds and does something sensible, fixture tests that pass, a README
with the next commands, `.gitignore` and `witgen.toml`. A non-empty NAME is refused (exit 2,
nothing written).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from witgen.author.project import KINDS, LANGUAGES
from witgen.author.scaffold import ENTRY, create

HELP = "create a plugin project (SDK, skeleton, fixtures) for a language and plugin kind"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", type=Path, help="the folder to create (its name names the plugin)")
    parser.add_argument("--lang", required=True, choices=LANGUAGES)
    parser.add_argument("--kind", required=True, choices=KINDS)
    parser.add_argument(
        "--wit", type=Path, default=None, help="the contract (default: the embedded dataflare:core)"
    )


def run(args: argparse.Namespace) -> int:
    project = create(args.name, lang=args.lang, kind=args.kind, wit=args.wit)
    print(f"created {project.kind} plugin {project.name} ({project.lang}, world {project.world})")
    print(f"  edit   {args.name / ENTRY[project.lang]}")
    print(f"  then   witgen build {args.name}")
    print(f"         witgen test {args.name}")
    return 0
