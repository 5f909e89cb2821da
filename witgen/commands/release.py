"""`witgen release [PATH] [--against OLD] [--out DIR]`: versioned SDKs for every language."""

from __future__ import annotations

import argparse
from contextlib import ExitStack
from pathlib import Path

from witgen import backends, release
from witgen.commands.common import (
    add_input_arguments,
    input_path,
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
        "--out",
        type=Path,
        default=Path("dist"),
        help="releases folder; this release is written to OUT/VERSION (default: dist)",
    )
    parser.add_argument(
        "--force",
        action="store_true",
        help="write into an OUT/VERSION folder that holds files witgen did not write",
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
            source=source_label(resolve),
            baseline=baseline,
            languages={lang: available[lang] for lang in wanted},
        )
    out = args.out / rel.version
    if args.out.exists() and not args.out.is_dir():
        raise UsageError(f"--out {args.out} is a file, not a folder; choose another path")
    protect = [input_path(args.path)]
    if args.against is not None and Path(args.against).exists():
        protect.append(Path(args.against))
    write_tree(out, rel.files, force=args.force, protect=protect)
    print(f"released {rel.package}@{rel.version} for {', '.join(wanted)} into {out}")
    return 0
