"""Reproducible archives: the same files give the same bytes, wherever and whenever packed.

Entries are sorted, every timestamp is one fixed instant (`SOURCE_DATE_EPOCH` when set, else
1980-01-01, the earliest a zip can hold), owners are uid/gid 0 with no user or group names,
modes are 0644 (0755 for directories and executables named by the caller), gzip headers carry
no file name and no time. Nothing here reads the clock, the host name or the file system.
"""

from __future__ import annotations

import gzip
import io
import os
import tarfile
import time
import zipfile
from collections.abc import Mapping

from witgen.diagnostics import UsageError

DEFAULT_EPOCH = 315532800  # 1980-01-01T00:00:00Z


def source_date_epoch() -> int:
    """The fixed time stamped into archives (`SOURCE_DATE_EPOCH`, as reproducible-builds.org)."""
    text = os.environ.get("SOURCE_DATE_EPOCH")
    if text is None or not text.strip():
        return DEFAULT_EPOCH
    try:
        value = int(text.strip())
    except ValueError:
        raise UsageError(f"SOURCE_DATE_EPOCH={text!r} is not a number of seconds") from None
    if value < DEFAULT_EPOCH:
        raise UsageError("SOURCE_DATE_EPOCH must be 1980-01-01 (315532800) or later")
    return value


def iso_time(epoch: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


def _data(value: str | bytes) -> bytes:
    return value.encode("utf-8") if isinstance(value, str) else value


def _dirs(names: list[str]) -> list[str]:
    found = set()
    for name in names:
        parts = name.split("/")[:-1]
        for i in range(1, len(parts) + 1):
            found.add("/".join(parts[:i]))
    return sorted(found)


def tar_gz(
    files: Mapping[str, str | bytes],
    *,
    epoch: int,
    directories: bool = True,
    executable: frozenset[str] = frozenset(),
) -> bytes:
    """A gzip-compressed ustar archive of `files` (archive path -> content)."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        entries: list[tuple[str, bytes | None]] = [(d, None) for d in _dirs(list(files))]
        if not directories:
            entries = []
        entries += [(name, _data(content)) for name, content in files.items()]
        for name, data in sorted(entries, key=lambda e: e[0]):
            info = tarfile.TarInfo(name)
            info.mtime = epoch
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            if data is None:
                info.type = tarfile.DIRTYPE
                info.mode = 0o755
                tar.addfile(info)
            else:
                info.size = len(data)
                info.mode = 0o755 if name in executable else 0o644
                tar.addfile(info, io.BytesIO(data))
    out = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=out, mtime=0, compresslevel=9) as gz:
        gz.write(raw.getvalue())
    return out.getvalue()


def zip_archive(files: Mapping[str, str | bytes], *, epoch: int) -> bytes:
    """A deflated zip of `files`, sorted, every entry dated `epoch` (UTC), mode 0644."""
    stamp = time.gmtime(max(epoch, DEFAULT_EPOCH))[:6]
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name in sorted(files):
            info = zipfile.ZipInfo(name, date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3  # unix, so that the mode below is read
            info.external_attr = (0o100644 & 0xFFFF) << 16
            zf.writestr(info, _data(files[name]), compresslevel=9)
    return out.getvalue()
