"""Find and read WIT sources the way wit-parser's `resolve/fs.rs` does.

A `.wit` file is one package (plus any nested `package a:b { ... }` blocks); a directory is
one package made of all its `*.wit` files (sorted by name), and its `deps/` folder holds
dependencies, each a file or a directory (not recursive). All packages are then pushed in
dependency order: names sorted, each package after the packages it refers to.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

from witgen.diagnostics import SourceCache, Span, UsageError, WitError
from witgen.frontend.limits import MAX_SOURCE_BYTES
from witgen.frontend.merge import Merger, version_key
from witgen.frontend import ast, descent
from witgen.frontend.resolver import PackageResolver, Unresolved


def _read(path: Path) -> str:
    """The text of one `.wit` file: a regular file of at most `MAX_SOURCE_BYTES`, in UTF-8.

    A path that cannot be read (missing, a dangling or looping symbolic link, not a regular
    file, too large) is a `UsageError` (exit 2); bytes that are not UTF-8 are invalid WIT, a
    `WitError` at the first bad byte (exit 1).
    """
    try:
        # O_NONBLOCK: opening a FIFO must not wait for a writer before it is refused
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
        with os.fdopen(fd, "rb") as fh:
            info = os.fstat(fh.fileno())
            if not stat.S_ISREG(info.st_mode):
                raise UsageError(f"{path} is not a regular file; give a .wit file or a folder")
            if info.st_size > MAX_SOURCE_BYTES:
                raise UsageError(
                    f"{path} is {info.st_size} bytes; witgen reads WIT files of at most "
                    f"{MAX_SOURCE_BYTES // (1024 * 1024)} MiB"
                )
            data = fh.read(MAX_SOURCE_BYTES + 1)
    except OSError as err:
        raise UsageError(f"failed to read {path}: {err.strerror or err}") from None
    if len(data) > MAX_SOURCE_BYTES:  # it grew while being read
        raise UsageError(f"{path} is larger than {MAX_SOURCE_BYTES // (1024 * 1024)} MiB")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        before = data[: err.start]
        line = before.count(b"\n") + 1
        column = err.start - (before.rfind(b"\n") + 1) + 1
        SourceCache.remember(str(path), data.decode("utf-8", errors="replace"))
        raise WitError(
            "input was not valid UTF-8", Span(str(path), line, column, line, column + 1)
        ) from None
    SourceCache.remember(str(path), text)
    return text


def _parse(file: str, text: str) -> ast.File:
    """`parser.parse_text`, importing the exact path (and Lark) only for a file that the fast
    path declines (an invalid one, or one using what it leaves to Lark)."""
    tree = descent.parse(file, text)
    if tree is None:
        from witgen.frontend.parser import parse_exact

        tree = parse_exact(file, text)
    return tree


def parse_group(files: list[Path]) -> list[Unresolved]:
    """Parse the files of one package; returns [main, nested...] unresolved packages."""
    main = PackageResolver()
    nested: list[Unresolved] = []
    for f in files:
        tree = _parse(str(f), _read(f))
        for np in tree.nested:  # like wit-parser: a file's nested packages before the file
            if np.inner:
                raise WitError(
                    "nested packages must be placed at the top-level", np.inner[0].name.span
                )
            r = PackageResolver()
            r.push(np.name, np.items)
            nested.append(r.resolve())
        main.push(tree.package, tree.items, tree.path)
    return [main.resolve()] + nested


def _wit_files(directory: Path) -> list[Path]:
    """The `.wit` files of a package folder, sorted by name. Like wit-parser, every `.wit` entry
    that is not a folder is read, so a dangling or looping symbolic link is reported, not
    skipped."""
    try:
        entries = sorted(directory.iterdir(), key=lambda p: p.name)
    except OSError as err:
        raise UsageError(f"cannot read directory {directory}: {err.strerror or err}") from None
    files = []
    for p in entries:
        if p.suffix != ".wit":
            continue
        try:
            if stat.S_ISDIR(os.stat(p).st_mode):
                continue
        except OSError:
            pass  # reading it reports the error with the path
        files.append(p)
    return files


def _dep_kind(entry: Path) -> str:
    """ "dir" or "file" for an entry of `deps/` (symbolic links followed); an entry that cannot
    be followed (dangling, a loop, no permission) is reported where it is."""
    try:
        mode = os.stat(entry).st_mode
    except OSError as err:
        raise UsageError(f"failed to read dependency {entry}: {err.strerror or err}") from None
    return "dir" if stat.S_ISDIR(mode) else "file"


def _name_key(name: str) -> tuple[Any, ...]:
    base, _, version = name.partition("@")
    ns, _, pkg = base.partition(":")
    return (ns, pkg, (0,) if not version else (1, version_key(version)))


def push_all(merger: Merger, groups: list[list[Unresolved]]) -> int:
    """Push every package in wit-parser's order; returns the id of the main package.

    `groups` holds the main group first, then one per dependency; each is [main, nested...].
    """
    table: dict[str, Unresolved] = {}
    for group in groups:
        for u in group[1:] + group[:1]:  # wit-parser collects nested packages first
            if u.name in table:
                first = table[u.name].name_span
                raise WitError(
                    f"package `{u.name}` is defined in two different locations",
                    u.name_span,
                    (f"also defined at {first}",) if first is not None else (),
                )
            table[u.name] = u
    main_name = groups[0][0].name
    order: list[str] = []
    done: set[str] = set()
    # Like wit-parser, what is "being visited" is the dependency edge's target, so a cycle
    # is reported where a package names a dependency already on the path the second time.
    visiting: set[str] = set()

    def visit(u: Unresolved) -> None:
        if u.name in done:
            return
        for dep in u.foreign_deps:
            if dep in visiting:
                raise WitError(
                    f"package `{dep}` creates a dependency cycle", u.foreign_dep_spans[dep]
                )
            visiting.add(dep)
            d = table.get(dep)
            if d is not None:
                visit(d)
            visiting.discard(dep)
        done.add(u.name)
        order.append(u.name)

    # wit-parser walks the packages sorted by (namespace, name, version)
    for name in sorted(table, key=_name_key):
        visit(table[name])
    del visit  # a recursive closure (a cycle through `table`): freed now, not by the cyclic GC
    main_id = -1
    for name in order:
        pid = merger.append(table[name])
        if name == main_name:
            main_id = pid
    return main_id


def load_path(path: Path, merger: Merger) -> int:
    if path.is_dir():
        groups = [parse_group(_wit_files(path))]  # wit-parser reads the package before its deps
        deps_dir = path / "deps"
        if deps_dir.is_dir():
            try:
                entries = sorted(deps_dir.iterdir(), key=lambda p: p.name)
            except OSError as err:
                raise UsageError(f"cannot read {deps_dir}: {err.strerror or err}") from None
            for entry in entries:
                if _dep_kind(entry) == "dir":
                    groups.append(parse_group(_wit_files(entry)))
                elif entry.suffix == ".wit":
                    groups.append(parse_group([entry]))
                elif entry.suffix in (".wasm", ".wat"):
                    # wit-parser decodes WIT packages encoded as components; we do not
                    raise WitError(
                        f"{entry}: WIT packages encoded as WebAssembly are not supported in "
                        f"deps/; convert it first: `wasm-tools component wit {entry} -o "
                        f"{entry.with_suffix('.wit')}`"
                    )
        return push_all(merger, groups)
    if not path.exists():
        raise UsageError(f"no such file or directory: {path}")
    return push_all(merger, [parse_group([path])])
