"""`witgen fmt [PATH] [--check | --write | -o FILE] [--resolved]`: format WIT source files.

Each `.wit` file is formatted on its own by `witgen.wit_format` (a package directory: each of
its `*.wit` files, never `deps/`): the layout `wasm-tools component wit` prints, with every
comment kept between the same two tokens and items left in the order and file they were
written in. The package is loaded first (all features on), so invalid WIT is reported with its
location and nothing is written.

- no flag: print the formatted text (several files: each after a `==> FILE <==` line);
- `--check`: write nothing; exit 1, with a unified diff on stderr, when a file would change;
- `--write`: rewrite the files that change, and only those (one that is read-only for the
  user is refused). Each is replaced atomically (a temporary file in the same directory, then
  a rename) with the old file's mode (and owner when allowed); a symlink is followed, so its
  target is formatted and the link stays. Any error stops before the first write;
- `-o FILE`: write the formatted text of a single source file to FILE (with `--check`:
  compare with FILE instead).

`--resolved` prints the resolved package instead, byte for byte as `wasm-tools component wit`
does (`witgen.wit_printer`: includes merged, items reordered, comments other than docs
dropped); it never rewrites a source file.
"""

from __future__ import annotations

import argparse
import difflib
import os
import stat
import sys
import tempfile
from pathlib import Path

from witgen import frontend, ir
from witgen.commands.common import parse_features
from witgen.diagnostics import UsageError, WitError, WitErrors
from witgen.paths import default_wit
from witgen.wit_format import format_wit
from witgen.wit_printer import print_wit

HELP = "format WIT files, keeping comments; --check exits 1 when a file is not formatted"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "path",
        nargs="?",
        type=Path,
        default=None,
        help="a .wit file or a package directory (default: the embedded wit/)",
    )
    parser.add_argument(
        "--features",
        default="",
        help="comma-separated @unstable features to check with (default: all, or none when "
        "the WIT is valid only without them)",
    )
    parser.add_argument("--all-features", action="store_true", help="enable every feature")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument(
        "--check",
        action="store_true",
        help="write nothing; exit 1 (with a diff on stderr) when a file is not formatted",
    )
    mode.add_argument(
        "-w",
        "--write",
        action="store_true",
        help="rewrite files in place (atomically, keeping their mode; symlinks are followed)",
    )
    mode.add_argument(
        "--resolved",
        action="store_true",
        help="print the resolved package as `wasm-tools component wit` does (drops comments)",
    )
    parser.add_argument(
        "-o",
        "--output",
        type=Path,
        default=None,
        help="write the formatted text here (with --check: compare with this file instead)",
    )


def run(args: argparse.Namespace) -> int:
    path = Path(args.path) if args.path is not None else default_wit()
    resolve = load(path, args)
    if args.resolved:
        text = format_resolve(resolve, path)
        if args.output is not None:
            write_file(args.output, text)
        else:
            sys.stdout.write(text)
        return 0
    files = source_files(path)
    formatted = [(f, *format_file(f)) for f in files]  # every file before any write
    if args.output is not None:
        if len(formatted) != 1:
            raise UsageError(
                f"{path} is a package of {len(formatted)} .wit files; --output takes a "
                "single file (use --write to format each file in place)"
            )
        _, _, text = formatted[0]
        if args.check:
            return check(args.output, read_text(args.output), text)
        write_file(args.output, text)
        return 0
    if args.check:
        status = 0
        for f, current, text in formatted:
            status = max(status, check(f, current, text))
        return status
    if args.write:
        for f, current, text in formatted:
            if text != current:
                write_file(f, text)
        return 0
    for f, _, text in formatted:
        if len(formatted) > 1:
            sys.stdout.write(f"==> {f} <==\n")
        sys.stdout.write(text)
    return 0


def source_files(path: Path) -> list[Path]:
    """The files `fmt` formats: the file itself, or a package directory's `*.wit` files."""
    if not path.is_dir():
        return [path]
    try:
        entries = sorted(path.iterdir(), key=lambda p: p.name)
    except OSError as err:
        raise UsageError(f"cannot read directory {path}: {err.strerror or err}") from None
    return [p for p in entries if p.suffix == ".wit" and p.is_file()]


def load(path: Path, args: argparse.Namespace) -> ir.Resolve:
    """The input resolved with the features asked for; without `--features`/`--all-features`,
    with every feature on (gated items are checked too) or, when that fails, with the default
    ones: WIT that `check` accepts is formatted even where enabling every feature makes it
    invalid (wit-parser's own tests have such packages), and invalid WIT reports the error
    `check` reports."""
    if args.features or args.all_features:
        return frontend.load(
            path, features=parse_features(args.features), all_features=args.all_features
        )
    try:
        return frontend.load(path, all_features=True)
    except (WitError, WitErrors):
        return frontend.load(path)


def format_file(path: Path) -> tuple[str, str]:
    """(current text, formatted text) of one file."""
    current = read_text(path)
    return current, format_wit(str(path), current, parsed=True)  # `frontend.load` parsed it


def read_text(path: Path) -> str:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise UsageError(f"no such file: {path}") from None
    except OSError as err:
        raise UsageError(f"cannot read {path}: {err.strerror or err}") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise UsageError(f"{path} is not valid UTF-8") from None


def check(target: Path, current: str, text: str) -> int:
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


def write_file(target: Path, text: str) -> None:
    """Replace `target` (through a symlink: the file it points to) with `text` atomically.

    The new file is written next to the old one and renamed over it, so at every instant the
    path holds the old or the new text. It gets the old file's permission bits (a new file:
    0666 less the umask) and, when the process may set them, its owner and group. A hard link
    to the old file keeps the old text. A process killed before the rename may leave a
    `.NAME.*.tmp` file beside NAME; NAME itself is intact."""
    real = Path(os.path.realpath(target))
    try:
        old: os.stat_result | None = os.stat(real)
    except FileNotFoundError:
        old = None
    except OSError as err:
        raise UsageError(f"cannot write {target}: {err.strerror or err}") from None
    if old is not None and not stat.S_ISREG(old.st_mode):
        what = "a directory" if stat.S_ISDIR(old.st_mode) else "not a regular file"
        raise UsageError(f"cannot write {target}: {what}")
    if old is not None and not os.access(real, os.W_OK):
        # The rename would succeed in a writable directory, but a read-only file says no.
        raise UsageError(f"cannot write {target}: the file is read-only for you")
    if old is not None:
        mode = stat.S_IMODE(old.st_mode)
    else:
        umask = os.umask(0)
        os.umask(umask)
        mode = 0o666 & ~umask
    tmp: str | None = None
    try:
        if old is None:
            real.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{real.name}.", suffix=".tmp", dir=real.parent)
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        if old is not None:
            try:
                os.chown(tmp, old.st_uid, old.st_gid)
            except OSError:
                pass  # not allowed to give the file away: it stays ours
        os.chmod(tmp, mode)
        os.replace(tmp, real)
        tmp = None
    except OSError as err:
        raise UsageError(f"cannot write {target}: {err.strerror or err}") from None
    finally:
        if tmp is not None:
            try:
                os.unlink(tmp)
            except OSError:
                pass


def format_resolve(resolve: ir.Resolve, path: Path) -> str:
    """The resolved text of the input at `path`: its main package plus the packages its own
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
