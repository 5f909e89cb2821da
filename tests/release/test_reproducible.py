"""The same WIT content released from two folders, from two working directories and at two
times gives byte-identical files, packages and digests; archive metadata is normalized."""

from __future__ import annotations

import gzip
import io
import json
import os
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

from witgen.release_archives import DEFAULT_EPOCH

from .test_packages import CONFIG, make_contract


def release(wit: Path, out: Path, cwd: Path, epoch: str | None = None) -> dict[str, bytes]:
    env = {k: v for k, v in os.environ.items() if k != "SOURCE_DATE_EPOCH"}
    if epoch is not None:
        env["SOURCE_DATE_EPOCH"] = epoch
    proc = subprocess.run(
        [sys.executable, "-m", "witgen", "release", os.path.relpath(wit, cwd), "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=cwd,
        env=env,
    )
    assert proc.returncode == 0, proc.stderr
    root = out / "1.0.0"
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def test_two_folders_give_identical_bytes(tmp_path: Path) -> None:
    a = make_contract(tmp_path / "alice" / "contracts" / "wit", "1.0.0")
    b = make_contract(tmp_path / "bob-elsewhere" / "x", "1.0.0")
    first = release(a, tmp_path / "out-a", cwd=tmp_path / "alice")
    second = release(b, tmp_path / "dist" / "b", cwd=tmp_path)
    assert sorted(first) == sorted(second)
    differing = [rel for rel in first if first[rel] != second[rel]]
    assert differing == []
    # The source trees (which the archives pack) name no path and no machine.
    host = os.uname().nodename
    for rel, data in first.items():
        if rel.startswith("packages/"):
            continue
        text = data.decode("utf-8")
        assert str(tmp_path) not in text and "alice" not in text, rel
        assert len(host) < 4 or host not in text, rel
    manifest = json.loads(first["release.json"])
    assert len(manifest["languages"]) == 4
    assert all(lang["packages"] for lang in manifest["languages"].values())


def test_archives_are_normalized_and_follow_source_date_epoch(tmp_path: Path) -> None:
    wit = make_contract(tmp_path / "wit", "1.0.0")
    default = release(wit, tmp_path / "d1", cwd=tmp_path)
    later = release(wit, tmp_path / "d2", cwd=tmp_path, epoch=str(DEFAULT_EPOCH))
    assert default == later  # "no SOURCE_DATE_EPOCH" means the fixed default, never the clock
    stamped = release(wit, tmp_path / "d3", cwd=tmp_path, epoch="1700000000")
    archives = [rel for rel in stamped if rel.startswith("packages/")]
    assert len(archives) == 8
    for rel in archives:
        data = stamped[rel]
        if rel.endswith((".crate", ".tgz", ".tar.gz")):
            assert data[4:8] == b"\0\0\0\0"  # gzip header: no time
            with tarfile.open(fileobj=io.BytesIO(data)) as tar:
                members = tar.getmembers()
            assert [m.name for m in members] == sorted(m.name for m in members)
            for m in members:
                assert (m.uid, m.gid, m.uname, m.gname) == (0, 0, "", "")
                assert m.mtime == 1700000000
                assert m.mode == (0o755 if m.isdir() else 0o644)
            gzip.decompress(data)
        elif rel.endswith((".zip", ".whl")):
            with zipfile.ZipFile(io.BytesIO(data)) as zf:
                infos = zf.infolist()
                assert zf.testzip() is None
            assert [i.filename for i in infos] == sorted(i.filename for i in infos)
            assert {i.date_time for i in infos} == {(2023, 11, 14, 22, 13, 20)}
            assert {i.external_attr >> 16 for i in infos} == {0o100644}
    info = json.loads(stamped["packages/go/example.com/acme/flare/@v/v1.0.0.info"])
    assert info == {"Version": "v1.0.0", "Time": "2023-11-14T22:13:20Z"}
    # Only the archives depend on the stamp; the source trees and changelog do not.
    for rel in default:
        if not rel.startswith("packages/") and rel not in ("release.json", ".witgen-manifest.json"):
            assert default[rel] == stamped[rel], rel


def test_config_is_part_of_the_release(tmp_path: Path) -> None:
    a = make_contract(tmp_path / "a", "1.0.0")
    b = make_contract(tmp_path / "b", "1.0.0", CONFIG.replace("MIT OR Apache-2.0", "MIT"))
    first = release(a, tmp_path / "da", cwd=tmp_path)
    second = release(b, tmp_path / "db", cwd=tmp_path)
    assert first["rust/Cargo.toml"] != second["rust/Cargo.toml"]
    assert first["rust/src/lib.rs"] == second["rust/src/lib.rs"]
