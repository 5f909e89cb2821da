"""witgen owns only what it writes: `generate`/`release --out` never change or remove a file
witgen did not write, never write over their input or turn a file into a folder, survive a kill
at any point, and report filesystem errors as one `error:` line (exit 2)."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from witgen import cli
from witgen.diagnostics import UsageError
from witgen.fsio import MANIFEST, write_tree
from witgen.paths import REPO_ROOT

SMALL_WIT = """package demo:small@1.2.3;

interface api {
  record point { x: s32, y: s32 }
  shift: func(p: point, by: s32) -> point;
}

world plugin {
  export api;
}
"""


def witgen(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "witgen", *args],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
    )


def snapshot(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and not p.is_symlink()
    }


@pytest.fixture()
def small_wit(tmp_path: Path) -> Path:
    path = tmp_path / "in" / "small.wit"
    path.parent.mkdir()
    path.write_text(SMALL_WIT, encoding="utf-8")
    return path


def test_existing_project_is_refused_and_left_alone(tmp_path: Path, small_wit: Path) -> None:
    proj = tmp_path / "myproj"
    (proj / "src").mkdir(parents=True)
    (proj / "src" / "main.rs").write_text("fn main() {}\n")
    (proj / "NOTES.txt").write_text("mine\n")
    before = snapshot(proj)
    proc = witgen("generate", "--lang", "rust", str(small_wit), "--out", str(proj))
    assert proc.returncode == 2
    assert proc.stderr.startswith("error: ") and "Traceback" not in proc.stderr
    assert "NOTES.txt" in proc.stderr and "src/main.rs" in proc.stderr and "--force" in proc.stderr
    assert snapshot(proj) == before and not (proj / MANIFEST).exists()
    # --force writes witgen's files beside the user's, which stay as they were.
    proc = witgen("generate", "--lang", "rust", str(small_wit), "--out", str(proj), "--force")
    assert proc.returncode == 0, proc.stderr
    after = snapshot(proj)
    assert after["NOTES.txt"] == b"mine\n" and after["src/main.rs"] == b"fn main() {}\n"
    assert "Cargo.toml" in after and MANIFEST in after


def test_input_is_never_written_over(tmp_path: Path, small_wit: Path) -> None:
    for out in (small_wit.parent, tmp_path):  # equal to, and containing, the input
        proc = witgen("generate", "--lang", "typescript", str(small_wit.parent), "--out", str(out))
        assert proc.returncode == 2, proc.stderr
        assert "input" in proc.stderr and "Traceback" not in proc.stderr
        assert small_wit.read_text(encoding="utf-8") == SMALL_WIT
    assert sorted(p.name for p in small_wit.parent.iterdir()) == ["small.wit"]


def test_a_file_is_never_turned_into_a_folder(tmp_path: Path, small_wit: Path) -> None:
    afile = tmp_path / "afile"
    afile.write_text("data\n")
    proc = witgen("generate", "--lang", "rust", str(small_wit), "--out", str(afile))
    assert proc.returncode == 2 and "is a file" in proc.stderr
    assert afile.read_text() == "data\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["afile", "in"]
    # nor a file inside the output where witgen needs a folder, even with --force
    out = tmp_path / "out"
    out.mkdir()
    (out / "src").write_text("user\n")
    proc = witgen("generate", "--lang", "rust", str(small_wit), "--out", str(out), "--force")
    assert proc.returncode == 2 and "src" in proc.stderr
    assert snapshot(out) == {"src": b"user\n"}


def test_regeneration_updates_own_files_removes_stale_ones_keeps_the_rest(
    tmp_path: Path, small_wit: Path
) -> None:
    out = tmp_path / "out"
    assert witgen("generate", "--lang", "go", str(small_wit), "--out", str(out)).returncode == 0
    first = snapshot(out)
    (out / "NOTES.txt").write_text("keep me\n")
    # a new interface makes new files; dropping the old one makes its files stale
    small_wit.write_text(
        SMALL_WIT.replace("interface api", "interface api2").replace("export api;", "export api2;"),
        encoding="utf-8",
    )
    proc = witgen("generate", "--lang", "go", str(small_wit), "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    second = snapshot(out)
    assert second["NOTES.txt"] == b"keep me\n"
    manifest = json.loads(second[MANIFEST])["files"]
    assert set(second) - {"NOTES.txt", MANIFEST} == set(manifest)
    gone = set(first) - set(second)
    assert gone and all("api/" in g or g.startswith("api") for g in gone), gone
    # a generated file the user changed is not overwritten without --force
    target = out / sorted(manifest)[0]
    target.write_text("edited\n")
    proc = witgen("generate", "--lang", "go", str(small_wit), "--out", str(out))
    assert proc.returncode == 2 and "changed" in proc.stderr
    assert target.read_text() == "edited\n"


def test_release_writes_its_version_folder_only(tmp_path: Path, small_wit: Path) -> None:
    dist = tmp_path / "dist"
    (dist / "1.0.0").mkdir(parents=True)
    (dist / "1.0.0" / "release.json").write_text("{}\n")
    (dist / "README").write_text("releases\n")
    before = snapshot(dist)
    proc = witgen("release", str(small_wit), "--out", str(dist), "--lang", "rust")
    assert proc.returncode == 0, proc.stderr
    after = snapshot(dist)
    assert {k: v for k, v in after.items() if not k.startswith("1.2.3/")} == before
    assert "1.2.3/release.json" in after and "1.2.3/rust/Cargo.toml" in after
    # the same release again is an update of witgen's own folder
    assert witgen("release", str(small_wit), "--out", str(dist), "--lang", "rust").returncode == 0


def test_a_generated_file_replaced_by_a_link_is_refused(tmp_path: Path, small_wit: Path) -> None:
    out = tmp_path / "out"
    args = ["generate", "--lang", "rust", str(small_wit), "--out", str(out)]
    assert witgen(*args).returncode == 0
    (tmp_path / "mine.toml").write_text("mine\n")
    (out / "Cargo.toml").unlink()
    (out / "Cargo.toml").symlink_to(tmp_path / "mine.toml")
    proc = witgen(*args)
    assert proc.returncode == 2 and "Cargo.toml (a symbolic link)" in proc.stderr
    assert (out / "Cargo.toml").is_symlink()
    assert (tmp_path / "mine.toml").read_text() == "mine\n"


def test_stale_files_behind_a_linked_folder_are_not_removed(tmp_path: Path) -> None:
    out = tmp_path / "out"
    write_tree(out, {"pkg/a.txt": "A", "b.txt": "B"})
    elsewhere = tmp_path / "elsewhere"
    (out / "pkg").rename(elsewhere)
    (out / "pkg").symlink_to(elsewhere)
    write_tree(out, {"b.txt": "B2"})  # pkg/a.txt is stale, but it now lives in the user's folder
    assert (elsewhere / "a.txt").read_text() == "A"
    assert (out / "b.txt").read_text() == "B2"


def test_modes_follow_the_umask(tmp_path: Path, small_wit: Path) -> None:
    out = tmp_path / "out"
    old = os.umask(0o002)
    try:
        assert cli.main(["generate", "--lang", "rust", str(small_wit), "--out", str(out)]) == 0
    finally:
        os.umask(old)
    for p in [out, *out.rglob("*")]:
        mode = stat.S_IMODE(p.stat().st_mode)
        assert mode == (0o775 if p.is_dir() else 0o664), (p, oct(mode))


KILL_AFTER = textwrap.dedent("""
    import os, sys
    from witgen import cli
    real = os.replace
    count = [0]
    def replace(a, b):
        if not str(a).endswith(".tmp"):
            return real(a, b)
        count[0] += 1
        if count[0] > int(sys.argv[1]):
            os._exit(9)  # like SIGKILL: no cleanup runs
        return real(a, b)
    os.replace = replace
    sys.exit(cli.main(sys.argv[2:]))
    """)


# renames: the pending manifest, then the 4 generated files, then the final manifest
@pytest.mark.parametrize("renames", [0, 1, 3, 5])
def test_a_kill_between_renames_leaves_old_or_new_and_is_cleaned_up(
    tmp_path: Path, small_wit: Path, renames: int
) -> None:
    out = tmp_path / "out"
    args = ["generate", "--lang", "rust", str(small_wit), "--out", str(out)]
    assert witgen(*args).returncode == 0
    old = snapshot(out)
    (out / "NOTES.txt").write_text("mine\n")
    small_wit.write_text(SMALL_WIT.replace("by: s32", "by: s64"), encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "-c", KILL_AFTER, str(renames), *args],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
    )
    assert proc.returncode == 9, proc.stderr
    killed = snapshot(out)
    assert killed["NOTES.txt"] == b"mine\n"
    assert any(".tmp" in k for k in killed)  # the kill left staging files behind...
    assert witgen(*args).returncode == 0  # ...which the next run recognises and removes
    new = snapshot(out)
    for rel, data in killed.items():
        if ".tmp" not in rel and rel not in (MANIFEST, "NOTES.txt"):
            assert data in (old.get(rel), new.get(rel)), rel
    assert not any(".tmp" in k for k in new)
    assert new["NOTES.txt"] == b"mine\n" and new != old


@pytest.mark.parametrize(
    "out",
    ["/sys/witgen-x", "/dev/null/x", "/proc/witgen-x"],
)
def test_unwritable_outputs_are_one_error_line(small_wit: Path, out: str) -> None:
    proc = witgen("generate", "--lang", "rust", str(small_wit), "--out", out)
    assert proc.returncode == 2
    assert proc.stderr.startswith("error: ") and proc.stderr.count("\n") == 1, proc.stderr


def test_read_only_output_is_one_error_line(
    tmp_path: Path,
    small_wit: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # root ignores permission bits, so the read-only mount is simulated where files are created
    def read_only(*args: object, **kwargs: object) -> int:
        raise OSError(30, "Read-only file system", str(args[0]))

    monkeypatch.setattr(os, "open", read_only)
    code = cli.main(["generate", "--lang", "rust", str(small_wit), "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("error: ") and "Read-only file system" in err, err


def test_out_dot_writes_into_the_current_folder(tmp_path: Path, small_wit: Path) -> None:
    here = tmp_path / "here"
    here.mkdir()
    proc = witgen("generate", "--lang", "rust", str(small_wit), "--out", ".", cwd=here)
    assert proc.returncode == 0, proc.stderr
    assert (here / "Cargo.toml").is_file() and (here / MANIFEST).is_file()


def test_fmt_output_to_a_folder_is_one_error_line(tmp_path: Path, small_wit: Path) -> None:
    proc = witgen("fmt", str(small_wit), "-o", str(tmp_path))
    assert proc.returncode == 2
    assert proc.stderr.startswith("error: ") and proc.stderr.count("\n") == 1, proc.stderr


# --- property: no file witgen did not write is ever changed or removed ----------------------

NAMES = st.sampled_from(["a", "b", "src", "lib.rs", "Cargo.toml", "NOTES.txt", ".hidden", "x.go"])
USER_TREES = st.dictionaries(
    st.lists(NAMES, min_size=1, max_size=3).map("/".join), st.binary(max_size=20), max_size=6
)
GENERATED = st.dictionaries(
    st.lists(NAMES, min_size=1, max_size=3).map("/".join), st.text(max_size=20), max_size=6
)


def _place(root: Path, tree: dict[str, bytes]) -> dict[str, bytes]:
    """Write what can be written of `tree` (a path cannot be both a file and a folder)."""
    placed: dict[str, bytes] = {}
    for rel, data in sorted(tree.items()):
        path = root / rel
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            if path.exists():
                continue
            path.write_bytes(data)
        except (FileExistsError, NotADirectoryError):
            continue
        placed[rel] = data
    return placed


def _consistent(files: dict[str, str]) -> dict[str, str]:
    """Drop generated paths that are a prefix folder of another generated path."""
    return {
        rel: text
        for rel, text in files.items()
        if not any(other.startswith(rel + "/") for other in files)
    }


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(before=GENERATED, user=USER_TREES, after=GENERATED, force=st.booleans())
def test_property_user_files_survive(
    tmp_path_factory: pytest.TempPathFactory,
    before: dict[str, str],
    user: dict[str, bytes],
    after: dict[str, str],
    force: bool,
) -> None:
    out = tmp_path_factory.mktemp("out")
    before, after = _consistent(before), _consistent(after)
    write_tree(out, before)
    placed = _place(out, {k: v for k, v in user.items() if k not in before})
    snap = snapshot(out)
    try:
        write_tree(out, after, force=force)
    except UsageError:
        assert snapshot(out) == snap  # refused: nothing touched
        return
    now = snapshot(out)
    for rel, data in placed.items():
        if rel in after and force:
            continue  # --force: the user asked for this one to be overwritten
        assert now.get(rel) == data, rel
    for rel, text in after.items():
        assert now[rel] == text.encode("utf-8")
    assert set(json.loads(now[MANIFEST])["files"]) == set(after)


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(user=USER_TREES, command=st.sampled_from(["generate", "release"]), force=st.booleans())
def test_property_commands_never_touch_user_files(
    tmp_path_factory: pytest.TempPathFactory,
    user: dict[str, bytes],
    command: str,
    force: bool,
) -> None:
    root = tmp_path_factory.mktemp("cmd")
    wit = root / "small.wit"
    wit.write_text(SMALL_WIT, encoding="utf-8")
    out = root / "out"
    out.mkdir()
    target = out / "1.2.3" if command == "release" else out
    placed = _place(target, user) if user else {}
    placed_root = _place(out, {"OTHER.txt": b"x"}) if command == "release" else {}
    snap = snapshot(out)
    args = [command, str(wit), "--out", str(out), "--lang", "rust"] + (["--force"] if force else [])
    code = cli.main(args)
    if code != 0:
        assert code == 2 and snapshot(out) == snap
        return
    now = snapshot(target)
    written = set(json.loads(now[MANIFEST])["files"])
    for rel, data in placed.items():
        if not (force and rel in written):
            assert now.get(rel) == data, rel
    for rel, data in placed_root.items():
        assert (out / rel).read_bytes() == data
