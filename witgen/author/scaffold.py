"""`witgen new`: the files of a new plugin project, per language and kind.

Templates (layout only) live in `sdk_templates/<lang>/scaffold/` (the plugin skeleton of each
kind and the language's build files) and `sdk_templates/scaffold/` (README, fixtures and
`.gitignore`, shared by the three languages: the skeletons behave the same in each, so one set of
fixtures serves all). Everything else is decided here.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from pathlib import Path

import jinja2

from witgen import frontend
from witgen.author.project import KINDS, LANGUAGES, Project, sync_sdk
from witgen.author.project import world_for_kind
from witgen.diagnostics import UsageError
from witgen.paths import TEMPLATES, default_wit, template_loader

ENTRY = {"rust": "src/lib.rs", "go": "main.go", "typescript": "plugin.ts"}
SKELETON = {"rust": "{kind}.rs.j2", "go": "{kind}.go.j2", "typescript": "{kind}.ts.j2"}
BUILD_FILES = {
    "rust": {"Cargo.toml": "Cargo.toml.j2"},
    "go": {"go.mod": "go.mod.j2"},
    "typescript": {"tsconfig.json": "tsconfig.json.j2"},
}
LANG_TITLE = {"rust": "Rust", "go": "Go", "typescript": "TypeScript"}
NAME_RE = re.compile(r"^[a-z][a-z0-9]*(?:[-_][a-z0-9]+)*$")

EXPECT_DOC = {
    "processor": (
        "one entry per input record, the result of `process` (or of `process-batch`):\n"
        "`{ emit = RECORD }`, `{ skip = true }`, `{ split = [RECORD, ...] }`, `{ failed = ERROR }`."
    ),
    "transformer": (
        "one entry per input record, the result of `transform` (or of `transform-batch`):\n"
        "`{ ok = RECORD }` or `{ error = ERROR }`."
    ),
    "filter": (
        "one entry per input record, the answer of `keep` (or of `keep-batch`):\n"
        "`{ keep = true }` or `{ keep = false }`."
    ),
    "destination": (
        "the result of one `write-batch` call with every input record (then `flush`):\n"
        "`expect = { written = N }` or `expect = { error = ERROR }`."
    ),
    "source": (
        "a cursor is opened (or `resume = POSITION` reopens one), then `read-batch` is called\n"
        "once per number in `reads = [MAX, ...]` (default `[100]`); one entry per call:\n"
        "`{ records = [RECORD, ...] }` or `{ error = ERROR }` (an error of `resume` is the only entry)."
    ),
    "aggregator": (
        'an accumulator is made with `key = "..."` (default `window`), every input is added\n'
        "(`add`, or one `add-batch` with `batch = true`), then `emit` is called:\n"
        "`expect = { emit = RECORD }`, `{ none = true }`, or `{ error = ERROR }` when an add\n"
        "failed; optional `stats = [COUNT, BYTES]` checks the `stats` function."
    ),
}


def _env(folder: Path) -> jinja2.Environment:
    return jinja2.Environment(
        loader=template_loader(folder.relative_to(TEMPLATES).as_posix()),
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
        autoescape=False,
    )


def check_name(name: str) -> None:
    if not NAME_RE.match(name):
        raise UsageError(
            f"invalid plugin name {name!r}: use lower-case letters, digits and single '-' or '_' "
            "between them, starting with a letter (e.g. my-plugin)"
        )


def project_files(project: Project, wit_source: Path) -> dict[str, str | bytes]:
    """Every file of a new project (relative path -> content)."""
    if project.lang not in LANGUAGES or project.kind not in KINDS:
        raise UsageError(f"unknown language or kind: {project.lang} {project.kind}")
    files: dict[str, str | bytes] = {}
    wit_files = [wit_source] if wit_source.is_file() else sorted(wit_source.rglob("*.wit"))
    for path in wit_files:
        rel = path.name if wit_source.is_file() else str(path.relative_to(wit_source))
        files[f"wit/{rel}"] = path.read_bytes()
    lang_env = _env(TEMPLATES / project.lang / "scaffold")
    common_env = _env(TEMPLATES / "scaffold")
    resolve = frontend.load(wit_source)
    main = resolve.main_package
    package = "" if main is None else resolve.packages[main].name
    values = {
        "name": project.name,
        "crate": project.name.replace("-", "_"),
        "kind": project.kind,
        "world": project.world,
        "lang": project.lang,
        "lang_title": LANG_TITLE[project.lang],
        "package": package,
        "entry": ENTRY[project.lang],
        "expect_doc": EXPECT_DOC[project.kind],
    }
    skeleton = SKELETON[project.lang].format(kind=project.kind)
    files[ENTRY[project.lang]] = lang_env.get_template(skeleton).render(values)
    for out, template in BUILD_FILES[project.lang].items():
        files[out] = lang_env.get_template(template).render(values)
    files["README.md"] = common_env.get_template("README.md.j2").render(values)
    files[".gitignore"] = common_env.get_template("gitignore.j2").render(values)
    files["fixtures/basic.toml"] = common_env.get_template(
        f"fixtures/{project.kind}.toml.j2"
    ).render(values)
    files["witgen.toml"] = project.manifest()
    return files


def create(root: Path, *, lang: str, kind: str, wit: Path | None = None) -> Project:
    """Write a new project in `root` (refused, nothing written, when it is a non-empty folder)."""
    name = root.name
    check_name(name)
    if root.exists() and (not root.is_dir() or any(root.iterdir())):
        raise UsageError(f"{root} already exists and is not empty; choose another name")
    wit_source = wit if wit is not None else default_wit()
    if not wit_source.exists():
        raise UsageError(f"{wit_source}: no such file or directory")
    resolve = frontend.load(wit_source)
    world = world_for_kind(resolve, kind)
    project = Project(root=root.resolve(), name=name, lang=lang, kind=kind, world=world)
    files = project_files(project, wit_source)
    parent = root.resolve().parent
    parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{name}.", dir=parent))
    try:
        for rel, content in files.items():
            target = staging / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(content if isinstance(content, bytes) else content.encode())
        staged = Project(root=staging, name=name, lang=lang, kind=kind, world=world)
        sync_sdk(staged, force=True)
        if root.exists():
            root.rmdir()
        os.replace(staging, root)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return project
