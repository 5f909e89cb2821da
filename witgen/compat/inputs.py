"""Reading OLD and NEW: a `.wit` file, a package directory, or `git:REF[:PATH]`.

A git input is read with `git archive` into a temporary directory, so the work tree, the index
and the checked-out branch are never touched. Locations inside it are shown as the path in the
repository, which is also what CI annotations expect.

A WIT package encoded as a component (`.wasm`, or its text form `.wat`), as
`wasm-tools component semver-check` accepts it, is decoded back to WIT text with
`wasm-tools component wit` first.
"""

from __future__ import annotations

import io
import shutil
import subprocess
import tarfile
import tempfile
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

from witgen import frontend, ir
from witgen.diagnostics import SourceCache, Span, UsageError

GIT_PREFIX = "git:"


@dataclass
class Input:
    spec: str  # as the user wrote it
    resolve: ir.Resolve
    identity: str  # equal for two specs that name the same source
    # Spans from a git checkout point into a temporary directory: (its prefix, shown instead).
    rename: tuple[str, str] | None = field(default=None)

    def show(self, span: Span | None) -> Span | None:
        if span is None or self.rename is None:
            return span
        prefix, shown = self.rename
        if not span.file.startswith(prefix):
            return span
        file = shown + span.file[len(prefix) :]
        return Span(file, span.line, span.column, span.end_line, span.end_column)


def parse_git_spec(spec: str) -> tuple[str, str | None]:
    """`git:REF[:PATH]` -> (REF, PATH or None). Git refs cannot contain `:`."""
    rest = spec[len(GIT_PREFIX) :]
    ref, sep, path = rest.partition(":")
    if not ref:
        raise UsageError(f"`{spec}`: expected git:REF or git:REF:PATH")
    return ref, (path if sep and path else None)


def load(
    spec: str,
    *,
    default_git_path: str | None,
    features: frozenset[str],
    all_features: bool,
    stack: ExitStack,
) -> Input:
    """Load one side. Temporary files live as long as `stack`."""
    if spec.startswith(GIT_PREFIX):
        return _load_git(spec, default_git_path, features, all_features, stack)
    path = Path(spec)
    if not path.exists():
        raise UsageError(f"no such file or directory: {spec}")
    if path.is_file() and path.suffix in ENCODED_SUFFIXES:
        return _load_encoded(spec, path, features, all_features, stack)
    resolve = frontend.load(path, features=features, all_features=all_features)
    return Input(spec, resolve, str(path.resolve()))


ENCODED_SUFFIXES = (".wasm", ".wat")


def _load_encoded(
    spec: str, path: Path, features: frozenset[str], all_features: bool, stack: ExitStack
) -> Input:
    exe = shutil.which("wasm-tools")
    if exe is None:
        raise UsageError(f"`{spec}` is a binary WIT package: reading it needs `wasm-tools`")
    proc = subprocess.run([exe, "component", "wit", str(path)], capture_output=True, text=True)
    if proc.returncode != 0:
        raise UsageError(f"`{spec}` is not a WIT package: {proc.stderr.strip()}")
    tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="witgen-compat-")))
    decoded = tmp / (path.stem + ".wit")
    decoded.write_text(proc.stdout, encoding="utf-8")
    shown = f"{spec} (as WIT)"
    SourceCache.remember(shown, proc.stdout)
    resolve = frontend.load(decoded, features=features, all_features=all_features)
    return Input(spec, resolve, str(path.resolve()), rename=(str(decoded), shown))


def _git(args: list[str]) -> subprocess.CompletedProcess[bytes]:
    exe = shutil.which("git")
    if exe is None:
        raise UsageError("git inputs need `git`, which is not installed")
    return subprocess.run([exe, *args], capture_output=True)


def _load_git(
    spec: str,
    default_path: str | None,
    features: frozenset[str],
    all_features: bool,
    stack: ExitStack,
) -> Input:
    ref, path = parse_git_spec(spec)
    path = path or default_path or "wit"
    top = _git(["rev-parse", "--show-toplevel"])
    if top.returncode != 0:
        raise UsageError(f"`{spec}`: the current directory is not in a git repository")
    commit = _git(["rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"])
    if commit.returncode != 0:
        raise UsageError(f"`{spec}`: no commit, branch or tag named `{ref}`")
    sha = commit.stdout.decode().strip()
    # PATH is relative to the current directory, like any git pathspec.
    root = Path(top.stdout.decode().strip())
    rel = _repo_relative(root, path)
    archive = _git(["-C", str(root), "archive", "--format=tar", sha, "--", rel])
    if archive.returncode != 0:
        raise UsageError(f"`{spec}`: `{rel}` does not exist at {ref}")
    tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="witgen-compat-")))
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        if hasattr(tarfile, "data_filter"):
            tar.extractall(tmp, filter="data")
        else:  # Python < 3.10.12: git archive output holds only regular files and dirs
            tar.extractall(tmp)
    target = tmp / rel
    for wit in tmp.rglob("*.wit"):
        shown = str(wit.relative_to(tmp))
        SourceCache.remember(shown, wit.read_text(encoding="utf-8", errors="replace"))
    resolve = frontend.load(target, features=features, all_features=all_features)
    return Input(spec, resolve, f"git:{sha}:{rel}", rename=(f"{tmp}/", ""))


def _repo_relative(root: Path, path: str) -> str:
    """A path given relative to the current directory (or absolute), made relative to `root`."""
    p = Path(path)
    candidate = p if p.is_absolute() else Path.cwd() / p
    try:
        return str(candidate.resolve().relative_to(root.resolve())) or "."
    except ValueError:
        return path  # not inside the work tree: take it as a path from the repository root
