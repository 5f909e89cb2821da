"""`witgen release [PATH] [--against OLD] [--out DIR]`: versioned SDKs for every language."""

from __future__ import annotations

import argparse
from contextlib import ExitStack
from pathlib import Path

from witgen import backends, release
from witgen.commands.common import (
    add_input_arguments,
    load_input,
    parse_features,
    source_label,
)
from witgen.compat import inputs
from witgen.diagnostics import UsageError
from witgen.fsio import write_tree

HELP = "generate versioned SDK packages for every language, checked against a baseline"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_input_arguments(parser)
    parser.add_argument(
        "--against",
        default=None,
        help="the previous release's WIT (file, directory or git:REF[:PATH]); the version "
        "must be a correct successor of it",
    )
    parser.add_argument(
        "--out", type=Path, default=None, help="output directory (default: dist/VERSION)"
    )
    parser.add_argument(
        "--lang",
        action="append",
        choices=sorted(backends.BACKENDS),
        help="only these languages (repeatable; default: all)",
    )


def run(args: argparse.Namespace) -> int:
    resolve = load_input(args)
    available = backends.available()
    wanted = args.lang or sorted(available)
    missing = [lang for lang in wanted if lang not in available]
    if missing:
        raise UsageError(f"backend not available in this build: {', '.join(missing)}")
    with ExitStack() as stack:
        baseline = None
        if args.against is not None:
            baseline = inputs.load(
                args.against,
                default_git_path=str(args.path) if args.path is not None else "wit",
                features=parse_features(args.features),
                all_features=args.all_features,
                stack=stack,
            ).resolve
        rel = release.build(
            resolve,
            source=source_label(args.path),
            baseline=baseline,
            languages={lang: available[lang] for lang in wanted},
        )
    out = args.out if args.out is not None else Path("dist") / rel.version
    write_tree(out, dict(rel.files))
    print(f"released {rel.package}@{rel.version} for {', '.join(wanted)} into {out}")
    return 0
