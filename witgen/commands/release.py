"""`witgen release [PATH] [--against OLD] [--out DIR]`: versioned SDKs for every language.

Package metadata comes from `witgen.toml` beside the WIT (`[release]`, see
`witgen.release_config`) or `--config FILE`; the options below override it.
"""

from __future__ import annotations

import argparse
import sys
from contextlib import ExitStack
from pathlib import Path

from witgen import backends, release
from witgen import release_config as release_config_mod
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
from witgen.paths import DEFAULT_WIT

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
    meta = parser.add_argument_group(
        "package metadata (override [release] in witgen.toml beside the WIT)"
    )
    meta.add_argument(
        "--config", type=Path, default=None, help="read [release] from this file instead"
    )
    meta.add_argument("--crate", default=None, help="Rust crate name (default NS-NAME-sdk)")
    meta.add_argument("--npm-package", default=None, help="npm package name (default @NS/NAME-sdk)")
    meta.add_argument(
        "--go-module",
        default=None,
        help="Go module path without /vN (default HOST/PATH/go from --repository)",
    )
    meta.add_argument(
        "--python-distribution", default=None, help="PyPI distribution (default NS-NAME-host)"
    )
    meta.add_argument("--python-package", default=None, help="Python import package name")
    meta.add_argument("--license", default=None, help="SPDX license expression")
    meta.add_argument("--repository", default=None, help="source repository URL")
    meta.add_argument("--homepage", default=None, help="homepage URL (default: the repository)")
    meta.add_argument(
        "--author", action="append", default=None, help="an author, `Name <mail>` (repeatable)"
    )
    meta.add_argument("--description", default=None, help="one-line package description")


def wit_files(path: Path | None) -> dict[str, str]:
    """The contract as the guest SDKs ship it: the input's `.wit` files and `deps/`, by
    relative path (content only, so the release does not depend on where the input lies)."""
    base = DEFAULT_WIT if path is None else path
    try:
        if base.is_file():
            return {base.name: base.read_text(encoding="utf-8")}
        found = [p for p in base.glob("*.wit") if p.is_file()]
        deps = base / "deps"
        if deps.is_dir():
            found += [p for p in deps.rglob("*.wit") if p.is_file()]
        return {p.relative_to(base).as_posix(): p.read_text(encoding="utf-8") for p in found}
    except (OSError, UnicodeDecodeError) as err:
        raise UsageError(f"cannot read the WIT to ship from {base}: {err}") from None


def release_config(args: argparse.Namespace) -> release_config_mod.ReleaseConfig:
    path = args.config
    if path is None:
        path = release_config_mod.find_config(args.path, DEFAULT_WIT)
    elif not path.is_file():
        raise UsageError(f"--config {path}: no such file")
    base = release_config_mod.load(path) if path is not None else release_config_mod.ReleaseConfig()
    return release_config_mod.override(
        base,
        crate=args.crate,
        npm_package=args.npm_package,
        go_module=args.go_module,
        python_distribution=args.python_distribution,
        python_package=args.python_package,
        license=args.license,
        repository=args.repository,
        homepage=args.homepage,
        authors=args.author,
        description=args.description,
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
            wit=wit_files(args.path),
            config=release_config(args),
        )
    for warning in rel.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    out = args.out / rel.version
    if args.out.exists() and not args.out.is_dir():
        raise UsageError(f"--out {args.out} is a file, not a folder; choose another path")
    protect = [input_path(args.path)]
    if args.against is not None and Path(args.against).exists():
        protect.append(Path(args.against))
    write_tree(out, rel.files, force=args.force, protect=protect)
    print(f"released {rel.package}@{rel.version} for {', '.join(wanted)} into {out}")
    if rel.report is not None:
        breaking = [f for f in rel.report.findings if f.breaks]
        if breaking:
            n = len(breaking)
            print(
                f"version {rel.version} is right for {n} breaking change{'s' if n != 1 else ''} "
                f"since {rel.report.old_version} (see CHANGELOG.md)"
            )
    for rel_path in sorted(p for p in rel.files if p.startswith("packages/")):
        if not rel_path.startswith("packages/go/") or rel_path.endswith(".zip"):
            print(f"  {out / rel_path}")
    return 0
