"""`witgen new` and fixture parsing: no toolchain needed."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.author.conftest import witgen
from witgen.author import fixtures
from witgen.author.project import KINDS, LANGUAGES, Project
from witgen.author.scaffold import ENTRY


@pytest.mark.parametrize("lang", LANGUAGES)
def test_new_writes_a_project(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], lang: str
) -> None:
    code, out, _ = witgen(capsys, "new", tmp_path / "my-plugin", "--lang", lang, "--kind", "filter")
    assert code == 0, out
    root = tmp_path / "my-plugin"
    project = Project.load(root)
    assert (project.lang, project.kind, project.world) == (lang, "filter", "filter-plugin")
    for rel in (ENTRY[lang], "README.md", ".gitignore", "fixtures/basic.toml", "wit/dataflare.wit"):
        assert (root / rel).is_file(), rel
    assert (root / "sdk" / ".witgen-sdk").is_file()
    readme = (root / "README.md").read_text()
    assert "witgen build my-plugin" in readme and "witgen test my-plugin" in readme
    assert "{ keep = true }" in readme  # the fixture format of this kind is documented
    assert "my-plugin" in (root / ENTRY[lang]).read_text()


def test_new_refuses_a_non_empty_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "taken"
    target.mkdir()
    (target / "keep.txt").write_text("mine")
    code, _, err = witgen(capsys, "new", target, "--lang", "go", "--kind", "processor")
    assert code == 2
    assert "not empty" in err
    assert sorted(p.name for p in target.iterdir()) == ["keep.txt"]
    assert [p.name for p in tmp_path.iterdir()] == ["taken"]  # no staging folder left behind


def test_new_into_an_empty_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "empty").mkdir()
    code, _, _ = witgen(capsys, "new", tmp_path / "empty", "--lang", "rust", "--kind", "source")
    assert code == 0
    assert Project.load(tmp_path / "empty").kind == "source"


def test_new_refuses_a_bad_name(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = witgen(
        capsys, "new", tmp_path / "Bad Name", "--lang", "rust", "--kind", "filter"
    )
    assert code == 2 and "invalid plugin name" in err
    assert not (tmp_path / "Bad Name").exists()


def test_new_with_another_contract(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    wit = tmp_path / "mini.wit"
    wit.write_text(
        "package acme:mini@0.2.0;\n\n"
        "interface filter {\n  keep: func(x: u32) -> bool;\n}\n\n"
        "world sieve {\n  export filter;\n}\n"
    )
    code, _, err = witgen(
        capsys, "new", tmp_path / "p", "--lang", "go", "--kind", "filter", "--wit", wit
    )
    assert code == 0, err
    project = Project.load(tmp_path / "p")
    assert project.world == "sieve"
    assert (tmp_path / "p" / "wit" / "mini.wit").read_text() == wit.read_text()
    code, _, err = witgen(
        capsys, "new", tmp_path / "q", "--lang", "go", "--kind", "source", "--wit", wit
    )
    assert code == 2 and "no world for kind 'source'" in err


@pytest.mark.parametrize("kind", KINDS)
def test_scaffold_fixtures_parse(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], kind: str
) -> None:
    code, _, _ = witgen(capsys, "new", tmp_path / "p", "--lang", "typescript", "--kind", kind)
    assert code == 0
    parsed = fixtures.load(tmp_path / "p" / "fixtures" / "basic.toml", kind)
    assert len(parsed.cases) >= 2
    assert all(c.outcomes for c in parsed.cases)


BAD_FIXTURES = [
    ("[[case]]\nname = 'x'\ninput = [\n", 3, "invalid TOML"),
    (
        "[[case]]\nname = 'a'\nexpect = []\n\n[[case]]\nname = 'b'\nexpct = []\n",
        7,
        "unknown key `expct`",
    ),
    (
        "[[case]]\nname = 'a'\ninput = [{ id = 'r', payload = 'x' }]\nexpect = [{ emitt = {} }]\n",
        4,
        "`emitt` is not a result",
    ),
    (
        "[[case]]\ninput = [{ id = 'r', payload_base64 = '!!' }]\nexpect = [{ skip = true }]\n",
        2,
        "not valid base64",
    ),
    ("[[case]]\ninput = [{ id = 'r' }]\nexpect = []\n", 3, "expect has 0 entries for 1 input"),
    ("[[case]]\ninput = []\nexpect = []\nmetrics = { n = 'one' }\n", 4, "metrics must be"),
    (
        "[[case]]\ninput = [{ id = 'r' }]\nexpect = [{ failed = 'oops' }]\n",
        3,
        "unknown error kind 'oops'",
    ),
    ("[config]\nx = true\n[[case]]\nexpect = []\n", 1, "config value `x`"),
    ("# nothing\n", 1, "no [[case]]"),
]


@pytest.mark.parametrize("text,line,message", BAD_FIXTURES)
def test_fixture_errors_name_file_and_line(
    tmp_path: Path, text: str, line: int, message: str
) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(fixtures.FixtureError) as info:
        fixtures.load(path, "processor")
    assert str(info.value).startswith(f"{path}:{line}: "), str(info.value)
    assert message in str(info.value)
    assert info.value.exit_code == 2


def test_toolchain_check_lists_every_language(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = witgen(capsys, "toolchain", "check")
    assert code in (0, 1)
    for lang in LANGUAGES:
        assert f"{lang}: " in out
