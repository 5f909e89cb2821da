"""Arguments shared by several subcommands (input path, features, world)."""

from __future__ import annotations

import argparse
from pathlib import Path

from witgen import frontend, ir
from witgen.diagnostics import UsageError
from witgen.paths import DEFAULT_WIT


def add_input_arguments(parser: argparse.ArgumentParser, *, world: bool = False) -> None:
    parser.add_argument(
        "path",
        nargs="?",
        type=Path,
        default=None,
        help="a .wit file or a package directory (default: the embedded wit/)",
    )
    parser.add_argument(
        "--features", default="", help="comma-separated @unstable features to enable"
    )
    parser.add_argument(
        "--all-features", action="store_true", help="enable every @unstable feature"
    )
    if world:
        parser.add_argument(
            "--world", default=None, help="world name, or namespace:package/name[@version]"
        )


def parse_features(text: str) -> frozenset[str]:
    return frozenset(f.strip() for f in text.split(",") if f.strip())


def load_input(args: argparse.Namespace) -> ir.Resolve:
    return frontend.load(
        args.path, features=parse_features(args.features), all_features=args.all_features
    )


def select_world(resolve: ir.Resolve, spec: str | None) -> int:
    try:
        return resolve.find_world(spec)
    except LookupError as err:
        raise UsageError(str(err)) from None


def input_path(path: Path | None) -> Path:
    """The file or folder the input is read from (the embedded `wit/` when left out)."""
    return path if path is not None else DEFAULT_WIT


def source_label(resolve: ir.Resolve) -> str:
    """How generated headers name their input: the WIT package it defines (`ns:pkg@1.0.0`).

    Never a path: the output is the same wherever the input lies, however its path was spelled
    and wherever witgen is installed.
    """
    main = resolve.main_package
    return resolve.packages[main].name if main is not None else "WIT"
