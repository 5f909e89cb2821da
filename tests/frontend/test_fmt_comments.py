"""`witgen fmt` keeps comments, file modes and symlinks (issue 10).

1. Every corpus file (tests/frontend/corpus/valid/ and wit/) with a comment between every two
   tokens, in every kind (`//`, `/* */`, nested, multi-line, `///`, `/** */`, trailing or on
   lines of their own), and with Hypothesis-chosen comments at chosen places:
   - formatting twice changes nothing;
   - every comment is still there, in order, between the same two tokens;
   - the IR (`frontend.load` -> JSON, docs included) is the same before and after.
2. Text that wasm-tools' printer (our `wit_printer`, byte-identical to it) wrote is already
   formatted: the layout is wasm-tools'.
3. `--write` keeps the mode, writes through symlinks, replaces atomically, leaves unchanged
   files alone; `--check` lists files that would change with a diff; a package of several
   files is formatted file by file.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from wit_oracle import ALL_FEATURES, REPO, VALID, corpus_entries, wasm_tools

from conftest import require_tool
from test_fuzz import mutants, wit_packages

from witgen import frontend, ir
from witgen.diagnostics import WitgenError
from witgen.frontend.parser import parse_text
from witgen.frontend.lexer import tokenize
from witgen.wit_format import format_wit
from witgen.wit_printer import print_wit

ENTRIES = corpus_entries(VALID) + [REPO / "wit"]
IDS = [e.name if e.parent == VALID else "wit" for e in ENTRIES]

# `{n}` makes every inserted comment unique, so order and place can be checked.
KINDS = [
    " /* c{n} */ ",
    " // c{n}\n",
    "\n/* c{n} /* nested {n} */ */\n",
    "\n\n// c{n}\n\n",
    "\n/// d{n}\n",
    " /** d{n} */ ",
    " /* c{n}\n     still c{n} */ ",
    "\t/* c{n} */\n",
    "\n/** d{n}\n  * more {n}\n  */ ",
    " //   c{n} trailing spaces   \n",
]


def own_files(entry: Path) -> list[Path]:
    if entry.is_file():
        return [entry]
    return sorted(p for p in entry.iterdir() if p.suffix == ".wit" and p.is_file())


def with_comments(text: str, pick: Any) -> str:
    """`text` with `pick(gap)` (a comment, or None) inserted in gap 0 (before the first
    token), gap k (after token k-1) ... and the last gap (after the last token)."""
    tokens = tokenize("x.wit", text).tokens
    cuts = [tokens[0].start_pos if tokens else 0] + [t.end_pos for t in tokens]
    out, at = [], 0
    for gap, cut in enumerate(cuts):
        out.append(text[at:cut])
        comment = pick(gap)
        if comment is not None:
            out.append(comment)
        at = cut
    out.append(text[at:])
    return "".join(out)


def shape(text: str) -> list[tuple[str, str, tuple[str, ...]]]:
    """Tokens other than `,` with the comments before each (line comments right-trimmed),
    then the comments after the last token."""
    lexed = tokenize("x.wit", text)
    assert lexed.error is None
    spans = lexed.comment_spans
    out, k = [], 0
    for tok in lexed.tokens:
        if tok.type == "_COMMA":
            continue
        before = []
        while k < len(spans) and spans[k][0] < tok.start_pos:
            before.append(_comment(text[spans[k][0] : spans[k][1]]))
            k += 1
        out.append((str(tok.type), text[tok.start_pos : tok.end_pos], tuple(before)))
    out.append(("end", "", tuple(_comment(text[s:e]) for s, e in spans[k:])))
    return out


def _comment(body: str) -> str:
    return body.rstrip() if body.startswith("//") else body


def load_json(entry: Path) -> Any:
    return ir.to_json(frontend.load(entry, all_features=True))


def copy_entry(entry: Path, dest: Path) -> Path:
    if entry.is_file():
        target = dest / entry.name
        shutil.copyfile(entry, target)
        return target
    target = dest / entry.name
    shutil.copytree(entry, target, symlinks=True)
    return target


def check_formatting_keeps_everything(entry: Path, tmp: Path, pick: Any) -> None:
    tmp.mkdir(exist_ok=True)
    copy = copy_entry(entry, tmp)
    for i, f in enumerate(own_files(copy)):
        # Comments before `package` are its docs, which only one file of a package may have.
        text = f.read_text(encoding="utf-8")
        pick_here = pick if i == 0 else (lambda gap: None if gap == 0 else pick(gap))
        f.write_text(with_comments(text, pick_here), encoding="utf-8")
    before = load_json(copy)
    for f in own_files(copy):
        commented = f.read_text(encoding="utf-8")
        once = format_wit(str(f), commented)
        assert format_wit(str(f), once) == once, f"not idempotent on {f.name}:\n{once}"
        assert shape(once) == shape(commented), f"a comment moved in {f.name}:\n{once}"
        f.write_text(once, encoding="utf-8")
    assert load_json(copy) == before


# ---------------------------------------------------------------- 1. comments everywhere


@pytest.mark.parametrize("entry", ENTRIES, ids=IDS)
def test_comments_between_all_tokens_survive(entry: Path, tmp_path: Path) -> None:
    for shift in range(0, len(KINDS), 3):  # every gap gets a comment; kinds rotate
        sub = tmp_path / str(shift)
        sub.mkdir()
        check_formatting_keeps_everything(
            entry, sub, lambda gap: KINDS[(gap + shift) % len(KINDS)].format(n=gap)
        )


@given(
    entry=st.sampled_from(ENTRIES),
    choices=st.dictionaries(
        st.integers(0, 400), st.lists(st.sampled_from(KINDS), min_size=1, max_size=3)
    ),
)
def test_comments_at_chosen_places_survive(entry: Path, choices: dict[int, list[str]]) -> None:
    import tempfile

    def pick(gap: int) -> str | None:
        kinds = choices.get(gap)
        return None if kinds is None else "".join(k.format(n=gap) for k in kinds)

    with tempfile.TemporaryDirectory() as tmp:
        check_formatting_keeps_everything(entry, Path(tmp), pick)


@pytest.mark.parametrize("entry", ENTRIES, ids=IDS)
def test_wasm_tools_reads_the_formatted_text_as_the_commented_one(
    entry: Path, tmp_path: Path
) -> None:
    """The same check with wasm-tools as the judge of the IR."""
    require_tool("wasm-tools")

    def pick(gap: int) -> str:
        return KINDS[(gap * 7) % len(KINDS)].format(n=gap)

    copies = []
    for name in ("commented", "formatted"):
        (tmp_path / name).mkdir()
        copy = copy_entry(entry, tmp_path / name)
        for i, f in enumerate(own_files(copy)):
            text = with_comments(f.read_text(encoding="utf-8"), pick if i == 0 else _no_first(pick))
            if name == "formatted":
                text = format_wit(str(f), text)
            f.write_text(text, encoding="utf-8")
        copies.append(copy)
    before, after = (wasm_tools(c, ALL_FEATURES) for c in copies)
    assert before.ok, before.stderr
    assert after.ok, after.stderr
    assert after.json() == before.json()


def _no_first(pick: Any) -> Any:
    return lambda gap: None if gap == 0 else pick(gap)


def test_crlf_tabs_and_bom() -> None:
    src = (
        "\ufeff// header\r\n"
        "package demo:x@1.0.0-rc;\r\n"
        "\tinterface i {\r\n"
        "\t\t/** doc\r\n\t\t * lines\r\n\t\t */\r\n"
        "\t\tf: func();   // note   \r\n"
        "}\r\n"
    )
    out = format_wit("x.wit", src)
    assert out == (
        "\ufeff// header\n"
        "package demo:x@1.0.0-rc;\n\n"
        "interface i {\n"
        "  /** doc\r\n\t\t * lines\r\n\t\t */\n"
        "  f: func(); // note\n"
        "}\n\n"
    )
    assert format_wit("x.wit", out) == out
    assert shape(out) == shape(src)


@settings(max_examples=max(20, settings.default.max_examples // 5))  # ~1 s an example
@given(
    text=wit_packages(),
    choices=st.dictionaries(
        st.integers(0, 300), st.lists(st.sampled_from(KINDS), min_size=1, max_size=2)
    ),
)
def test_generated_packages_with_comments_survive(text: str, choices: dict[int, list[str]]) -> None:
    """The fuzz generator's valid packages (test_fuzz.py), comments at chosen places."""
    import tempfile

    def pick(gap: int) -> str | None:
        kinds = choices.get(gap)
        return None if kinds is None else "".join(k.format(n=gap) for k in kinds)

    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "gen.wit"
        src.write_text(text, encoding="utf-8")
        try:
            frontend.load(src, all_features=True)
        except WitgenError:
            assume(False)  # the generator rarely emits invalid WIT (see test_fuzz.py)
        check_formatting_keeps_everything(src, Path(tmp) / "out", pick)


@settings(max_examples=max(20, settings.default.max_examples // 4))
@given(mutants())
def test_anything_the_parser_accepts_formats_idempotently(text: str) -> None:
    """Token-level mutants of valid WIT: one that parses (resolving may still fail) keeps its
    tokens and comments and formats idempotently; one that does not is refused, as the
    parser refuses it."""
    try:
        parse_text("m.wit", text)
    except WitgenError as err:
        with pytest.raises(WitgenError) as refused:
            format_wit("m.wit", text)
        assert str(refused.value) == str(err)
        return
    once = format_wit("m.wit", text)
    assert format_wit("m.wit", once) == once
    assert shape(once) == shape(text)


def test_inserted_comments_are_really_there() -> None:
    """The checks above see comments: the commented text has one per gap."""
    text = (VALID / "record_basic.wit").read_text()
    commented = with_comments(text, lambda gap: f" /* c{gap} */ ")
    n_tokens = len(tokenize("x.wit", text).tokens)
    assert len(tokenize("x.wit", commented).comment_spans) == n_tokens + 1
    once = format_wit("x.wit", commented)
    assert [f"/* c{g} */" in once for g in range(n_tokens + 1)] == [True] * (n_tokens + 1)


def test_comment_kinds_are_laid_out_in_place() -> None:
    src = (
        "// header\n\n"
        "package demo:x; // trailing\n"
        "/// the interface\n"
        "interface i {\n"
        "    /* leading */ record r { a: u8 /* after a */, b: u8 // after b\n"
        "    }\n"
        "  f: func(/* p */ x: u8, // x\n"
        " y: u8,) -> u8;\n"
        "}\n"
        "// the end\n"
    )
    assert format_wit("x.wit", src) == (
        "// header\n\n"
        "package demo:x; // trailing\n\n"
        "/// the interface\n"
        "interface i {\n"
        "  /* leading */ record r {\n"
        "    a: u8 /* after a */,\n"
        "    b: u8, // after b\n"
        "  }\n\n"
        "  f: func(/* p */ x: u8, // x\n"
        "    y: u8) -> u8;\n"
        "}\n\n"
        "// the end\n"
    )


FORMS = (
    "package demo:forms@1.0.0;\n"
    "use demo:other/things@2.0.0 as things;\n"
    "use demo:other/more;\n"
    "interface i { use things.{a, b as c,}; resource r { constructor(x: u8,); get: func() -> u8; make: static func() -> r; go: async func(); } type t = tuple<u8, u16,>; type l = list<u8, 4>; type m = map<string, u32>; type res = result<_, string>; variant v { a, b(list<u8>) } enum e { x, y } flags f { p, q, } f: func(a: borrow<r>, b: own<r>) -> result; }\n"
    "world w { import x: interface { f: func(); } @since(version = 1.0.0) @deprecated(version = 2.0.0) import %type: func(); include base with { a as b } include other; export i; export demo:other/things@2.0.0; export e2: demo:other/more; }\n"
    "world base { import a: func(); }\n"
    "package demo:other@2.0.0 { interface things { type a = u8; type b = u8; } interface more {} }\n"
)


def test_every_statement_form_is_laid_out_like_wasm_tools() -> None:
    """Forms wasm-tools never prints (top-level `use`, `include`, trailing commas) get the
    same kind of layout; `include ... with { }` has no `;` and ends its line."""
    assert format_wit("x.wit", FORMS) == (
        "package demo:forms@1.0.0;\n"
        "\n"
        "use demo:other/things@2.0.0 as things;\n"
        "use demo:other/more;\n"
        "\n"
        "interface i {\n"
        "  use things.{a, b as c};\n"
        "\n"
        "  resource r {\n"
        "    constructor(x: u8);\n"
        "    get: func() -> u8;\n"
        "    make: static func() -> r;\n"
        "    go: async func();\n"
        "  }\n"
        "\n"
        "  type t = tuple<u8, u16>;\n"
        "\n"
        "  type l = list<u8, 4>;\n"
        "\n"
        "  type m = map<string, u32>;\n"
        "\n"
        "  type res = result<_, string>;\n"
        "\n"
        "  variant v {\n"
        "    a,\n"
        "    b(list<u8>),\n"
        "  }\n"
        "\n"
        "  enum e {\n"
        "    x,\n"
        "    y,\n"
        "  }\n"
        "\n"
        "  flags f {\n"
        "    p,\n"
        "    q,\n"
        "  }\n"
        "\n"
        "  f: func(a: borrow<r>, b: own<r>) -> result;\n"
        "}\n"
        "\n"
        "world w {\n"
        "  import x: interface {\n"
        "    f: func();\n"
        "  }\n"
        "  @since(version = 1.0.0)\n"
        "  @deprecated(version = 2.0.0)\n"
        "  import %type: func();\n"
        "\n"
        "  include base with { a as b }\n"
        "  include other;\n"
        "\n"
        "  export i;\n"
        "  export demo:other/things@2.0.0;\n"
        "  export e2: demo:other/more;\n"
        "}\n"
        "world base {\n"
        "  import a: func();\n"
        "}\n"
        "package demo:other@2.0.0 {\n"
        "  interface things {\n"
        "    type a = u8;\n"
        "\n"
        "    type b = u8;\n"
        "  }\n"
        "  interface more {\n"
        "  }\n"
        "}\n"
    )


# ---------------------------------------------------------------- 2. wasm-tools' layout


@pytest.mark.parametrize("entry", ENTRIES, ids=IDS)
def test_wasm_tools_printed_text_is_already_formatted(entry: Path) -> None:
    text = print_wit(frontend.load(entry, all_features=True))
    assert format_wit("x.wit", text) == text


# ---------------------------------------------------------------- 3. the command


def witgen(*args: str | Path) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        [sys.executable, "-m", "witgen", *map(str, args)], capture_output=True, text=True, cwd=REPO
    )
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc


COMMENTED = (
    "// keep me\npackage demo:x;\n/* block /* nested */ */\n"
    "interface i { /** docs */ record r { a: u8, b: string } // trailing\n"
    "f: func(x: r) -> r; }\n"
)


def test_write_keeps_comments_mode_and_symlink(tmp_path: Path) -> None:
    real = tmp_path / "real.wit"
    real.write_text(COMMENTED)
    real.chmod(0o664)
    link = tmp_path / "link.wit"
    link.symlink_to(real.name)
    before = load_json(real)
    proc = witgen("fmt", "--write", link)
    assert proc.returncode == 0, proc.stderr
    assert link.is_symlink() and os.readlink(link) == real.name
    assert stat.S_IMODE(real.stat().st_mode) == 0o664
    text = real.read_text()
    assert text == format_wit("x.wit", COMMENTED) != COMMENTED
    for comment in ("// keep me", "/* block /* nested */ */", "/** docs */", "// trailing"):
        assert comment in text
    assert "///" not in text
    assert load_json(real) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link.wit", "real.wit"]  # no temp


def test_write_leaves_formatted_files_untouched(tmp_path: Path) -> None:
    src = tmp_path / "x.wit"
    src.write_text(format_wit("x.wit", COMMENTED))
    os.utime(src, ns=(1_000_000_000, 1_000_000_000))
    inode = src.stat().st_ino
    assert witgen("fmt", "--write", src).returncode == 0
    assert src.stat().st_mtime_ns == 1_000_000_000 and src.stat().st_ino == inode


def test_write_on_invalid_wit_writes_nothing(tmp_path: Path) -> None:
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "a.wit").write_text("package demo:x;\ninterface a { f: func(); }\n")
    (pkg / "b.wit").write_text("interface b { use a.{missing}; }\n")
    proc = witgen("fmt", "--write", pkg)
    assert proc.returncode == 1 and proc.stderr.startswith("error: ")
    assert (pkg / "a.wit").read_text() == "package demo:x;\ninterface a { f: func(); }\n"
    assert sorted(p.name for p in pkg.iterdir()) == ["a.wit", "b.wit"]


def test_write_replaces_the_file_atomically(tmp_path: Path) -> None:
    """The new text arrives by rename: a reader holding the old file keeps the old text."""
    src = tmp_path / "x.wit"
    src.write_text(COMMENTED)
    with open(src, encoding="utf-8") as old:
        assert witgen("fmt", "--write", src).returncode == 0
        assert old.read() == COMMENTED
    assert src.read_text() != COMMENTED


def test_a_failed_write_leaves_the_file_and_no_temporary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from witgen.commands import fmt
    from witgen.diagnostics import UsageError

    src = tmp_path / "x.wit"
    src.write_text(COMMENTED)

    def refuse(a: object, b: object) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(fmt.os, "replace", refuse)
    with pytest.raises(UsageError, match=f"cannot write {src}: Permission denied"):
        fmt.write_file(src, "package demo:x;\n")
    assert src.read_text() == COMMENTED
    assert [p.name for p in tmp_path.iterdir()] == ["x.wit"]


def test_a_read_only_file_is_not_rewritten(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Renaming over it would work in a writable directory; the file's own mode says no.
    (`os.access` is faked: the tests may run as root, who may write anything.)"""
    from witgen.commands import fmt
    from witgen.diagnostics import UsageError

    src = tmp_path / "x.wit"
    src.write_text(COMMENTED)
    src.chmod(0o444)
    monkeypatch.setattr(fmt.os, "access", lambda path, how: False)
    with pytest.raises(UsageError, match="read-only"):
        fmt.write_file(src, "package demo:x;\n")
    assert src.read_text() == COMMENTED
    assert [p.name for p in tmp_path.iterdir()] == ["x.wit"]


def test_output_under_a_regular_file_is_an_error_not_a_traceback(tmp_path: Path) -> None:
    src = tmp_path / "x.wit"
    src.write_text(COMMENTED)
    proc = witgen("fmt", src, "-o", src / "out.wit")
    assert proc.returncode == 2 and proc.stderr.startswith(f"error: cannot write {src}")
    assert src.read_text() == COMMENTED


def test_output_to_a_directory_is_a_usage_error(tmp_path: Path) -> None:
    src = tmp_path / "x.wit"
    src.write_text(COMMENTED)
    proc = witgen("fmt", src, "-o", tmp_path)
    assert proc.returncode == 2 and "a directory" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_check_and_write_format_each_file_of_a_package(tmp_path: Path) -> None:
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    a = "package demo:x;\n\n// a's comment\ninterface a {\n  f: func();\n}\n\n"
    b = "interface b { use a.{}; /* b's comment */ }\n"
    (pkg / "a.wit").write_text(a)
    (pkg / "b.wit").write_text(b)
    (pkg / "deps").mkdir()
    dep = "package dep:y;\ninterface   z {}\n"
    (pkg / "deps" / "y.wit").write_text(dep)
    check = witgen("fmt", "--check", pkg)
    assert check.returncode == 1
    assert f"{pkg / 'b.wit'} is not formatted" in check.stderr
    assert "a.wit is not formatted" not in check.stderr
    assert "+interface b {" in check.stderr
    assert witgen("fmt", "--write", pkg).returncode == 0
    assert (pkg / "a.wit").read_text() == a
    assert (pkg / "b.wit").read_text() == "interface b {\n  use a.{}; /* b's comment */\n}\n\n"
    assert (pkg / "deps" / "y.wit").read_text() == dep
    assert witgen("fmt", "--check", pkg).returncode == 0
    shown = witgen("fmt", pkg)
    assert (
        shown.stdout
        == f"==> {pkg / 'a.wit'} <==\n{a}==> {pkg / 'b.wit'} <==\n" + (pkg / "b.wit").read_text()
    )


def test_resolved_prints_what_wasm_tools_prints() -> None:
    proc = witgen("fmt", "--resolved", VALID / "include_with_rename.wit")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == print_wit(
        frontend.load(VALID / "include_with_rename.wit", all_features=True)
    )
    assert witgen("fmt", "--resolved", "--write", VALID / "include_with_rename.wit").returncode == 2


# ---------------------------------------------------------------- 4. other files are not touched

UNFORMATTED_A = "// a\npackage demo:x;\ninterface a { f: func(); /* end */ }\n"
UNFORMATTED_B = "interface b {   use a.{};\n}\n"
USER_FILES = {  # files `fmt --write PKG` must leave alone, byte for byte
    "NOTES.txt": "interface   not-wit {}\n",
    "UPPER.WIT": "interface   upper {}\n",  # not `*.wit`: not a package source
    "old.wit.bak": "interface   bak {}\n",
    "sub/inner.wit": "package other:inner;\ninterface   inner {}\n",
    "deps/dep.wit": "package dep:y;\ninterface   z {}\n",
}


@given(
    present=st.sets(st.sampled_from(sorted(USER_FILES))),
    modes=st.lists(st.sampled_from([0o600, 0o640, 0o644, 0o664, 0o755]), min_size=2, max_size=2),
    b_is_link=st.booleans(),
    already_formatted=st.booleans(),
)
def test_write_changes_only_the_package_sources(
    present: set[str], modes: list[int], b_is_link: bool, already_formatted: bool
) -> None:
    import tempfile

    from witgen.cli import main

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        pkg, outside = root / "pkg", root / "outside"
        pkg.mkdir()
        outside.mkdir()
        a_text, b_text = UNFORMATTED_A, UNFORMATTED_B
        if already_formatted:
            a_text, b_text = format_wit("a.wit", a_text), format_wit("b.wit", b_text)
        (pkg / "a.wit").write_text(a_text)
        b_real = outside / "b.wit" if b_is_link else pkg / "b.wit"
        b_real.write_text(b_text)
        if b_is_link:
            (pkg / "b.wit").symlink_to(b_real)
        (pkg / "a.wit").chmod(modes[0])
        b_real.chmod(modes[1])
        for name in present:
            (pkg / name).parent.mkdir(exist_ok=True)
            (pkg / name).write_text(USER_FILES[name])
        snapshot = _tree(root, skip={pkg / "a.wit", b_real})

        assert main(["fmt", "--write", str(pkg)]) == 0

        assert _tree(root, skip={pkg / "a.wit", b_real}) == snapshot
        assert (pkg / "b.wit").is_symlink() == b_is_link
        assert (pkg / "a.wit").read_text() == format_wit("a.wit", UNFORMATTED_A)
        assert b_real.read_text() == format_wit("b.wit", UNFORMATTED_B)
        assert stat.S_IMODE((pkg / "a.wit").stat().st_mode) == modes[0]
        assert stat.S_IMODE(b_real.stat().st_mode) == modes[1]
        assert main(["fmt", "--check", str(pkg)]) == 0


def _tree(root: Path, skip: set[Path]) -> dict[str, Any]:
    """Every entry under `root` (links not followed): kind, and bytes, mode and mtime of
    files other than `skip` (those may change, but must still be there)."""
    out: dict[str, Any] = {}
    for path in sorted(root.rglob("*")):
        rel = str(path.relative_to(root))
        if path.is_symlink():
            out[rel] = ("link", os.readlink(path))
        elif path.is_dir():
            out[rel] = "dir"
        elif path in skip:
            out[rel] = "file"
        else:
            st_ = path.stat()
            out[rel] = (path.read_bytes(), stat.S_IMODE(st_.st_mode), st_.st_mtime_ns)
    return out
