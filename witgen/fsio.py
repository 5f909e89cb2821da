"""Writing generated output safely: witgen owns only the files it wrote.

Generators build a `dict[relative path, text]` in memory; `write_tree` puts it into an output
folder without ever losing a file witgen did not write:

- The folder records what witgen wrote in `.witgen-manifest.json` (relative paths and SHA-256
  digests). A later run updates those files, removes the ones it no longer produces, and leaves
  every other file alone.
- A folder that holds files but no manifest, a file witgen would overwrite that it did not write
  (or that was changed since), and a file where a folder must go are refused with a `UsageError`
  (exit 2) before anything is touched; `force=True` (`--force`) writes over such files (never
  over a folder, never through a symbolic link) and leaves the rest alone.
- The output may not be, or contain, one of the inputs (`protect`), nor be a regular file.
- Crash safety: every file is written beside its target under a temporary name and renamed over
  it, so at every instant each path holds the old or the new content and the folder itself is
  never missing. Before the first temporary file is created the manifest lists both the old and
  the new digests and the temporary names, so a run killed half-way is recognised (its files
  still count as witgen's) and its leftovers are removed by the next run.
- Folders and files are created with the default modes, filtered by the umask.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import re
import secrets
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Mapping

from witgen.diagnostics import UsageError

MANIFEST = ".witgen-manifest.json"
_MANIFEST_FORMAT = 1
_SHOWN = 5  # offending files named in a refusal


def digest(content: str | bytes) -> str:
    data = content.encode("utf-8") if isinstance(content, str) else content
    return "sha256:" + hashlib.sha256(data).hexdigest()


def manifest_text(files: Mapping[str, str | bytes]) -> str:
    """The manifest a completed write of `files` leaves in the output folder."""
    return _render_manifest({rel: [digest(c)] for rel, c in files.items()}, [])


def _render_manifest(entries: dict[str, list[str]], staging: list[str]) -> str:
    doc: dict[str, object] = {
        "generator": "witgen",
        "format": _MANIFEST_FORMAT,
        "files": {
            rel: (d[0] if len(d) == 1 else sorted(set(d))) for rel, d in sorted(entries.items())
        },
    }
    if staging:
        doc["staging"] = sorted(staging)
    return json.dumps(doc, indent=2) + "\n"


@dataclass
class _Manifest:
    files: dict[str, set[str]] = field(default_factory=dict)  # path -> digests that are ours
    staging: list[str] = field(default_factory=list)


def _fail(path: Path, err: OSError) -> UsageError:
    return UsageError(f"{path}: {err.strerror or err}")


def _read_manifest(out_dir: Path) -> _Manifest | None:
    path = out_dir / MANIFEST
    if path.is_symlink() or not path.exists():
        return None
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except OSError as err:
        raise _fail(path, err) from None
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise UsageError(
            f"{path} is not a manifest witgen can read; remove it (and the files it listed) "
            "or choose another folder"
        ) from None
    man = _Manifest()
    if not isinstance(doc, dict) or doc.get("generator") != "witgen":
        raise UsageError(f"{path} was not written by witgen; choose another folder")
    for rel, value in dict(doc.get("files") or {}).items():
        digests = [value] if isinstance(value, str) else list(value)
        if _safe_rel(rel):
            man.files[rel] = {d for d in digests if isinstance(d, str)}
    man.staging = [s for s in doc.get("staging") or [] if isinstance(s, str) and _safe_rel(s)]
    return man


def _safe_rel(rel: str) -> bool:
    """A manifest path that stays inside the folder (a tampered manifest cannot aim outside)."""
    parts = rel.split("/")
    return bool(rel) and not rel.startswith("/") and all(p not in ("", ".", "..") for p in parts)


def _file_digest(path: Path) -> str | None:
    try:
        if path.is_symlink() or not path.is_file():
            return None
        return digest(path.read_bytes())
    except OSError:
        return None


def _inside(child: Path, parent: Path) -> bool:
    return child == parent or parent in child.parents


def _check_target(out_dir: Path, protect: Iterable[Path]) -> Path:
    """Refuse outputs that are files, or that are (or hold) an input; returns the real path."""
    if out_dir.is_symlink() and not out_dir.exists():
        raise UsageError(f"--out {out_dir} is a dangling symbolic link")
    if out_dir.exists() and not out_dir.is_dir():
        raise UsageError(
            f"--out {out_dir} is a file, not a folder; witgen writes a folder of files there, "
            "choose another path"
        )
    real = out_dir.resolve()
    for inp in protect:
        inp_real = Path(inp).resolve()
        if _inside(inp_real, real):
            what = "is" if inp_real == real else "contains"
            raise UsageError(
                f"--out {out_dir} {what} the input {inp}; witgen never writes over its input, "
                "choose another folder"
            )
    return real


def _plan(
    out_dir: Path, files: Mapping[str, str | bytes], old: _Manifest | None, force: bool
) -> tuple[list[str], list[str]]:
    """Check every path before touching anything; returns (files to write, stale to remove)."""
    foreign: list[str] = []
    blocked: list[str] = []
    if old is None and out_dir.is_dir():
        foreign.extend(_unknown_files(out_dir, files, limit=_SHOWN + 1))
    owned = old.files if old is not None else {}
    for rel in sorted(files):
        path = out_dir / rel
        # Every folder on the way must be a real folder (or not exist yet).
        for parent in reversed(Path(rel).parents[:-1] if "/" in rel else []):
            p = out_dir / parent
            if p.is_symlink():
                blocked.append(f"{parent} (a symbolic link, witgen will not write through it)")
                break
            if p.exists() and not p.is_dir():
                blocked.append(f"{parent} (a file where witgen needs a folder)")
                break
        else:
            if path.is_symlink():  # witgen never writes links: this one is the user's
                foreign.append(f"{rel} (a symbolic link)")
            elif path.is_dir():
                blocked.append(f"{rel} (a folder where witgen writes a file)")
            elif path.exists():
                now = _file_digest(path)
                if rel in owned:
                    if now not in owned[rel] and now != digest(files[rel]):
                        foreign.append(f"{rel} (changed)")
                elif now != digest(files[rel]):
                    foreign.append(rel)
    stale: list[str] = []
    for rel in sorted(set(owned) - set(files)):
        path = out_dir / rel
        if path.is_symlink() or not path.exists() or _through_link(out_dir, rel):
            continue
        if _file_digest(path) in owned[rel]:
            stale.append(rel)
        # a stale file changed since witgen wrote it is the user's now: left alone
    if blocked:
        raise UsageError(
            f"cannot write into {out_dir}: "
            + ", ".join(blocked[:_SHOWN])
            + (f" and {len(blocked) - _SHOWN} more" if len(blocked) > _SHOWN else "")
        )
    foreign = list(dict.fromkeys(foreign))
    if foreign and not force:
        shown = ", ".join(foreign[:_SHOWN])
        more = " and more" if len(foreign) > _SHOWN else ""
        reason = (
            "holds files witgen did not write"
            if old is None
            else "holds files witgen would overwrite that it did not write or that were changed"
        )
        raise UsageError(
            f"--out {out_dir} {reason} ({shown}{more}); nothing was written. Choose a new or "
            "empty folder, or pass --force to write witgen's files into it (other files are "
            "left alone)"
        )
    return sorted(files), stale


def _through_link(out_dir: Path, rel: str) -> bool:
    """Whether a folder on the way to `rel` is a symbolic link (the user's, not witgen's)."""
    parts = rel.split("/")[:-1]
    return any((out_dir / "/".join(parts[: i + 1])).is_symlink() for i in range(len(parts)))


def _unknown_files(out_dir: Path, files: Mapping[str, str | bytes], limit: int) -> list[str]:
    """Up to `limit` entries of a folder without a manifest that are not exactly what witgen
    would write there (a file with the same content counts as witgen's)."""
    found: list[str] = []
    stack = [Path()]
    while stack and len(found) < limit:
        rel_dir = stack.pop()
        try:
            with os.scandir(out_dir / rel_dir) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError as err:
            raise _fail(out_dir / rel_dir, err) from None
        subdirs = []
        for entry in entries:
            rel = (rel_dir / entry.name).as_posix()
            if entry.is_dir(follow_symlinks=False):
                subdirs.append(rel_dir / entry.name)
            elif rel not in files or _file_digest(out_dir / rel) != digest(files[rel]):
                found.append(rel)
                if len(found) >= limit:
                    break
        stack.extend(reversed(subdirs))
    return found


def _create(path: Path, content: bytes) -> None:
    """Create `path` (which must not exist) with mode 0666 minus the umask."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), 0o666)
    try:
        view = memoryview(content)
        while view:
            view = view[os.write(fd, view) :]
    finally:
        os.close(fd)


def _remove_staging(out_dir: Path, staging: Iterable[str]) -> None:
    for rel in staging:
        try:
            os.unlink(out_dir / rel)
        except FileNotFoundError:
            pass
        except OSError as err:
            raise _fail(out_dir / rel, err) from None


_MANIFEST_TMP = re.compile(r"\.witgen-manifest\.[0-9a-f]{12}\.tmp")


def _manifest_leftovers(out_dir: Path) -> list[str]:
    """Temporary manifests a killed run left (named only by `_write_manifest`)."""
    with os.scandir(out_dir) as it:
        return [
            e.name
            for e in it
            if _MANIFEST_TMP.fullmatch(e.name) and e.is_file(follow_symlinks=False)
        ]


def _write_manifest(out_dir: Path, text: str) -> None:
    target = out_dir / MANIFEST
    tmp = out_dir / f".witgen-manifest.{secrets.token_hex(6)}.tmp"
    _create(tmp, text.encode("utf-8"))
    try:
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_tree(
    out_dir: Path,
    files: Mapping[str, str | bytes],
    *,
    force: bool = False,
    protect: Iterable[Path] = (),
) -> None:
    """Write `files` (paths relative to `out_dir`) into `out_dir`, as described above.

    Raises `UsageError` (exit 2) with nothing touched when the folder holds files witgen did not
    write (unless `force`), when it is a file, or when it is or holds a path in `protect`.
    """
    out_dir = Path(out_dir)
    for rel in files:
        if not _safe_rel(rel) or rel == MANIFEST:
            raise ValueError(f"generated path {rel!r} is not a plain relative path")
    try:
        _check_target(out_dir, protect)
        old = _read_manifest(out_dir) if out_dir.is_dir() else None
        to_write, stale = _plan(out_dir, files, old, force)
        out_dir.mkdir(parents=True, exist_ok=True)
        if old is not None and old.staging:
            _remove_staging(out_dir, old.staging)  # leftovers of a run that was killed
        _remove_staging(out_dir, _manifest_leftovers(out_dir))
        token = secrets.token_hex(6)
        staging = {rel: _staging_name(rel, token) for rel in to_write}
        # The manifest first names both generations and the temporary files, so that a kill
        # at any point below leaves a folder the next run recognises as witgen's.
        pending: dict[str, list[str]] = {
            rel: sorted(d) for rel, d in (old.files.items() if old is not None else [])
        }
        for rel in to_write:
            pending.setdefault(rel, []).append(digest(files[rel]))
        _write_manifest(out_dir, _render_manifest(pending, list(staging.values())))
        try:
            for rel in to_write:
                target = out_dir / rel
                target.parent.mkdir(parents=True, exist_ok=True)
                content = files[rel]
                _create(
                    out_dir / staging[rel],
                    content.encode("utf-8") if isinstance(content, str) else content,
                )
            for rel in to_write:
                os.replace(out_dir / staging[rel], out_dir / rel)
        except BaseException:
            _remove_staging(out_dir, staging.values())
            raise
        for rel in stale:
            (out_dir / rel).unlink(missing_ok=True)
            _remove_empty_parents(out_dir, Path(rel).parent)
        _write_manifest(out_dir, manifest_text(files))
    except OSError as err:
        raise _fail(Path(err.filename) if err.filename else out_dir, err) from None


def _staging_name(rel: str, token: str) -> str:
    head, _, name = rel.rpartition("/")
    tmp = f".{name}.witgen-{token}.tmp"
    return f"{head}/{tmp}" if head else tmp


def _remove_empty_parents(out_dir: Path, rel_dir: Path) -> None:
    while str(rel_dir) not in ("", "."):
        try:
            os.rmdir(out_dir / rel_dir)
        except OSError as err:
            if err.errno in (errno.ENOTEMPTY, errno.EEXIST, errno.ENOENT):
                return
            raise
        rel_dir = rel_dir.parent


def write_file(path: Path, content: str | bytes) -> None:
    """Write one file atomically (temp file in the same directory, then rename)."""
    path = Path(path)
    if path.is_dir():
        raise UsageError(f"{path} is a folder; give the path of a file to write")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(content.encode("utf-8") if isinstance(content, str) else content)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
