"""`witgen fmt [PATH] [--check | --write | --output FILE]`: print WIT in canonical form.

The package is parsed and resolved, then printed back from the IR by `witgen.wit_printer`
(the layout `wasm-tools component wit` uses). Every `@unstable` item is kept: the package is
loaded with all features enabled. Packages that come from a `deps/` folder are not printed;
packages nested in the input's own files are, as `package ns:name { ... }` blocks.

Comparing with a file on disk (`--check`) needs one file to compare with: a `.wit` file, or a
package directory holding a single `.wit` file.
"""

from __future__ import annotations

import argparse
import difflib
import sys
from pathlib import Path

from witgen import frontend, ir
from witgen.diagnostics import UsageError
from witgen.fsio import write_file
from witgen.paths import default_wit
from witgen.wit_printer import print_wit

HELP = "print WIT in canonical form; --check exits 1 when a file is not formatted"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "path",
        nargs="?",
        type=Path,
        default=None,
        help="a .wit file or a package directory (default: the embedded wit/)",
    )
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument(
        "--check",
        action="store_true",
        help="write nothing; exit 1 (with a diff on stderr) when the file is not formatted",
    )
    mode.add_argument("-w", "--write", action="store_true", help="rewrite the file in place")
    parser.add_argument(
        "-o",
        "--output",
        type=Path,
        default=None,
        help="write the formatted text here (with --check: compare with this file instead)",
    )


def run(args: argparse.Namespace) -> int:
    path = Path(args.path) if args.path is not None else default_wit()
    resolve = frontend.load(path, all_features=True)
    text = format_resolve(resolve, path)
    if args.check:
        target = args.output if args.output is not None else source_file(path)
        return check(target, text)
    if args.write or args.output is not None:
        target = args.output if args.output is not None else source_file(path)
        write_file(target, text)
        return 0
    sys.stdout.write(text)
    return 0


def format_resolve(resolve: ir.Resolve, path: Path) -> str:
    """The canonical text of the input at `path`: its main package plus the packages its own
    files define (not those found under `deps/`)."""
    return print_wit(resolve, own_packages(resolve, path))


def own_packages(resolve: ir.Resolve, path: Path) -> list[int]:
    main = resolve.main_package
    if path.is_file():
        return list(range(len(resolve.packages)))  # a single file has no deps/
    deps = (path / "deps").resolve()
    own = []
    for i, pkg in enumerate(resolve.packages):
        if i == main:
            own.append(i)
        elif pkg.span is not None and deps not in Path(pkg.span.file).resolve().parents:
            own.append(i)
    return own


def source_file(path: Path) -> Path:
    """The one file that `--check`/`--write` compare with or rewrite."""
    if path.is_file():
        return path
    files = sorted(path.glob("*.wit"))
    if len(files) != 1:
        raise UsageError(
            f"{path} is a package of {len(files)} .wit files; --check and --write work on a "
            "single file (print to stdout, or pass --output FILE)"
        )
    return files[0]


def check(target: Path, text: str) -> int:
    try:
        current = target.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UsageError(f"no such file: {target}") from None
    except (OSError, UnicodeDecodeError) as err:
        raise UsageError(f"cannot read {target}: {err}") from None
    if current == text:
        return 0
    diff = difflib.unified_diff(
        current.splitlines(keepends=True),
        text.splitlines(keepends=True),
        f"{target} (on disk)",
        f"{target} (formatted)",
    )
    sys.stderr.write(f"{target} is not formatted (witgen fmt --write {target})\n")
    sys.stderr.writelines(diff)
    return 1
