"""The WIT corpus of tests/rust/corpus/ (every WIT feature the backend supports): each file's
SDK is generated and compiled to wasm32, a stub guest per world implements every export trait
and calls the export macro, and `wasm-tools component new` checks every core import/export
signature against the canonical ABI. The generated code must be rustfmt- and clippy-clean: the
backend lays it out itself (no formatter runs while generating), rustfmt runs here as a check,
over these SDKs, the committed generated/rust and every world of the front end's corpus."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from unittest import mock

import pytest
import wasmtime.component as wc

from witgen import backends, frontend, ir
from witgen.backends.rust import generator as rust_backend
from witgen.backends.common import Unsupported
from witgen.backends.rust.names import camel, escape, snake, type_name
from witgen.diagnostics import WitgenError
from witgen.fsio import write_tree
from witgen.paths import REPO_ROOT

from conftest import require_tool
from corpus_worlds import corpus_worlds
from witgen.toolchains import rust as toolchain
from .build import WORKSPACE, build_all, corpus_files, generate_sdk, load, sdk_dirs
from .stubs import stub_source
from .host import engine
from .toolchain import require_rust_toolchain


@pytest.fixture(scope="module")
def components() -> dict[str, Path]:
    require_rust_toolchain()
    return build_all()


def test_every_corpus_world_becomes_a_component(components: dict[str, Path]) -> None:
    for wit in corpus_files():
        resolve, _ = frontend.load(wit, all_features=True), None
        main = resolve.main_package
        assert main is not None
        for world in resolve.packages[main].worlds:
            path = components[f"stub-{wit.stem}-{world}"]
            assert path.read_bytes()[:8] == b"\0asm\x0d\0\x01\0"
            # wasmtime-py 50 can enable neither fixed-length lists, named interface imports
            # (`cm-implements`), accessors nor async (error-context); `component new` has
            # checked those already
            if wit.stem not in ("fixed", "named-imports", "accessors", "async"):
                wc.Component(engine(), path.read_bytes())  # wasmtime validates it too


def test_corpus_components_keep_their_imports(components: dict[str, Path]) -> None:
    """The stubs keep every import, so `component new` checked the import signatures."""
    wit = subprocess.run(
        ["wasm-tools", "component", "wit", str(components["stub-resources-resources-import"])],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "copy-from: func(other: borrow<file>) -> u64;" in wit
    assert "take: static func(b: bucket) -> list<string>;" in wit


def test_generated_code_is_rustfmt_clean(components: dict[str, Path]) -> None:
    files = [p for d in sdk_dirs() for p in (d / "src").rglob("*.rs")]
    assert len(files) > 20
    _rustfmt_check(files)


def _rustfmt_check(files: list[Path]) -> None:
    """`rustfmt --check` over `files`: the backend must already have laid them out so (it runs no
    formatter itself); a failure shows rustfmt's diff."""
    rustfmt = require_tool("rustfmt")
    proc = subprocess.run(
        [rustfmt, "--check", "--edition", "2021", *map(str, files)],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-3000:]


def test_committed_sdk_is_rustfmt_clean() -> None:
    files = sorted((REPO_ROOT / "generated" / "rust" / "src").rglob("*.rs"))
    assert len(files) > 10
    _rustfmt_check(files)


FRONTEND_CORPUS = WORKSPACE.parent.parent / "rust-corpus"  # target/rust-corpus


def test_frontend_corpus_worlds_compile_and_are_rustfmt_and_clippy_clean() -> None:
    """Every world of the front end's valid corpus that the Rust backend generates (it refuses
    none of them now) is laid out exactly as rustfmt lays it out and compiles clippy-clean, with a stub guest that implements its export traits and expands
    its export macro: the SDKs and stubs are the crates of one cargo workspace, checked by one
    `cargo clippy` run (target/rust-corpus, cached between runs)."""
    cargo = require_tool("cargo")
    require_tool("cargo-clippy")
    sdks: dict[str, dict[str, str]] = {}
    stubs: dict[str, str] = {}
    for case, resolve, name, world in corpus_worlds():
        crate = re.sub(r"[^a-z0-9]+", "-", f"fc-{case.stem}-{name}".lower())
        options = backends.GenerateOptions(source=case.name, package_name=crate)
        try:
            sdks[crate] = rust_backend.generate(resolve, [world], options)
        except WitgenError:
            continue
        stubs[f"stub-{crate}"] = stub_source(resolve, world, crate.replace("-", "_"), [world])
    assert len(sdks) >= 100, f"only {len(sdks)} corpus worlds generated Rust"
    for crate, files in sdks.items():
        toolchain.write_sdk(FRONTEND_CORPUS / crate, files)
    for stub, source in stubs.items():
        sdk = stub.removeprefix("stub-")
        toolchain.write_sdk(
            FRONTEND_CORPUS / stub,
            {"Cargo.toml": toolchain.guest_manifest(stub, sdk), "src/lib.rs": source},
        )
    for stale in FRONTEND_CORPUS.glob("*fc-*"):
        if stale.name not in sdks and stale.name not in stubs:
            shutil.rmtree(stale)
    members = ", ".join(f'"{c}"' for c in sorted([*sdks, *stubs]))
    manifest = f'[workspace]\nresolver = "2"\nmembers = [{members}]\n'
    if not (FRONTEND_CORPUS / "Cargo.toml").exists() or (
        (FRONTEND_CORPUS / "Cargo.toml").read_text() != manifest
    ):
        (FRONTEND_CORPUS / "Cargo.toml").write_text(manifest)
    _rustfmt_check(sorted(FRONTEND_CORPUS.glob("fc-*/src/**/*.rs")))  # the SDKs, not stubs
    env = dict(os.environ, CARGO_TARGET_DIR=str(WORKSPACE.parent.parent / "rust-host"))
    env.pop("RUSTC", None)
    proc = subprocess.run(
        [cargo, "clippy", "--quiet", "--keep-going", "--all-features", "--workspace"]
        + ["--", "-D", "warnings"],
        cwd=FRONTEND_CORPUS,
        capture_output=True,
        text=True,
        env=env,
    )
    assert proc.returncode == 0, proc.stderr[-6000:]


def test_generated_code_is_clippy_clean(components: dict[str, Path]) -> None:
    cargo = require_tool("cargo")
    require_tool("cargo-clippy")
    env = dict(os.environ)
    env.pop("RUSTC", None)
    env["CARGO_TARGET_DIR"] = str(WORKSPACE.parent.parent / "rust-host")
    packages = [arg for d in sdk_dirs() for arg in ("-p", d.name)]
    proc = subprocess.run(
        [cargo, "clippy", "--quiet", "--keep-going", "--all-features", *packages]
        + ["--", "-D", "warnings"],
        cwd=WORKSPACE,
        capture_output=True,
        text=True,
        env=env,
    )
    assert proc.returncode == 0, proc.stderr[-6000:]


# -- helpers and imports: chosen while generating, none missing, none unused --


def _sdks() -> list[tuple[str, dict[str, str]]]:
    """The crates of wit/ and of every corpus entry, as the build above generates them."""
    out = [("wit/", generate_sdk(toolchain.DEFAULT_WIT, "dataflare-core-sdk"))]
    out += [(wit.name, generate_sdk(wit, f"corpus-{wit.stem}")) for wit in corpus_files()]
    return out


_RT_ITEM = re.compile(r"^pub(\(crate\))? (?:unsafe )?(?:fn|struct) (\w+)", re.M)


def test_crates_have_exactly_the_helpers_and_imports_they_use() -> None:
    """The backend picks `rt` helpers and `use` lines from records kept while it generates;
    here the emitted text is read back: every helper in rt.rs is called, every helper called
    exists, every `use` is needed and nothing is silenced with `allow(unused_imports)` or
    `allow(dead_code)`. The helpers are `pub(crate)` (only `cabi_realloc`, which the export
    macros call from the user's crate, is `pub`), so the clippy `-D warnings` run above also
    rejects an unused one (see `test_an_unused_helper_fails_the_lint`)."""
    checked = 0
    for name, files in _sdks():
        rt = files["src/rt.rs"]
        items = {m.group(2): m.group(1) is not None for m in _RT_ITEM.finditer(rt)}
        assert items["cabi_realloc"] is False, name
        helpers = set(items) - {"cabi_realloc"}
        assert all(items[h] for h in helpers), f"{name}: rt helpers must be pub(crate): {items}"
        modules = {p: t for p, t in files.items() if p.endswith(".rs") and p != "src/rt.rs"}
        live = {"cabi_realloc"}
        for path, text in modules.items():
            assert "allow(unused_imports)" not in text and "allow(dead_code)" not in text, path
            used = set(re.findall(r"\brt::(\w+)", text))
            live |= used
            assert used <= set(items), f"{name} {path}: missing helpers {used - set(items)}"
            for block in _module_blocks(text):
                imports = re.findall(r"^\s*use alloc::\w+::(\w+);$", block, re.M)
                body = re.sub(r"^\s*use .*$", "", block, flags=re.M)
                for item in imports:
                    assert re.search(rf"\b{item}\b", body), f"{name} {path}: unused {item}"
                for item in ("String", "Vec", "Box"):
                    if re.search(rf"(?<![:\w]){item}\b", body):
                        assert item in imports, f"{name} {path}: {item} not imported"
                has_rt = re.search(r"(?<![:\w])rt::", body) is not None
                assert has_rt == ("use crate::rt;" in block), f"{name} {path}: `use crate::rt`"
        grown = True
        while grown:  # helpers called by live helpers (`give_string` calls `give_list`)
            calls = {h for c in live for h in items if re.search(rf"\b{h}\(", _rt_item(rt, c))}
            grown = not calls <= live
            live |= calls
        assert live == set(items), f"{name}: unused rt helpers {set(items) - live}"
        checked += 1
    assert checked > 15


def _rt_item(rt: str, name: str) -> str:
    """The text of one `rt` item (from its definition to the next item)."""
    start = re.search(rf"^pub.* (?:fn|struct) {name}\b", rt, re.M)
    assert start is not None, name
    end = _RT_ITEM.search(rt, start.end())
    rest = rt[start.start() : end.start() if end else len(rt)]
    return rest


def _module_blocks(text: str) -> list[str]:
    """A file's own scope and each inline `pub mod x { ... }` of it, separately."""
    blocks, outer, depth, inner = [], [], 0, []
    for line in text.split("\n"):
        if depth == 0 and re.match(r"^pub mod \w+ \{$", line):
            depth, inner = 1, []
            continue
        if depth:
            depth += line.count("{") - line.count("}")
            if depth == 0:
                blocks.append("\n".join(inner))
            else:
                inner.append(line)
        else:
            outer.append(line)
    return ["\n".join(outer), *blocks]


def test_an_unused_helper_fails_the_lint(tmp_path: Path) -> None:
    """What makes the clippy run above a check of the helper choice: a helper the glue does not
    call is a dead-code error, and a missing one a compile error."""
    cargo = require_tool("cargo")
    wit = tmp_path / "t.wit"
    wit.write_text("package t:x;\nworld w {\n    export f: func(x: u32) -> u32;\n}\n")
    resolve, worlds = load(wit)
    options = backends.GenerateOptions(source="t.wit", package_name="t-sdk")
    assert "fn dealloc" not in rust_backend.generate(resolve, worlds, options)["src/rt.rs"]
    with mock.patch.object(rust_backend, "rt_closure", lambda _: set(rust_backend.RT_HELPERS)):
        files = rust_backend.generate(resolve, worlds, options)
    write_tree(tmp_path / "sdk", files)
    env = dict(os.environ, CARGO_TARGET_DIR=str(WORKSPACE.parent.parent / "rust-host"))
    env.pop("RUSTC", None)
    proc = subprocess.run(
        [cargo, "check", "--quiet", "--manifest-path", str(tmp_path / "sdk" / "Cargo.toml")],
        capture_output=True,
        text=True,
        env=env,
    )
    assert "function `dealloc` is never used" in proc.stderr, proc.stderr[-3000:]
    assert "struct `Cleanup` is never constructed" in proc.stderr


# -- refusals and naming (no toolchain needed) --


def _generate(tmp_path: Path, text: str) -> dict[str, str]:
    wit = tmp_path / "t.wit"
    wit.write_text(text, encoding="utf-8")
    resolve = frontend.load(wit, all_features=True)
    main = resolve.main_package
    assert main is not None
    worlds = sorted(resolve.packages[main].worlds.values())
    return rust_backend.generate(resolve, worlds, backends.GenerateOptions(source="t.wit"))


@pytest.mark.parametrize(
    "body",
    [
        "resource r { m: async func(); }",
        "resource r { s: static async func() -> r; }",
        "resource r { constructor(); m: async func(s: stream<u8>) -> future<string>; }",
    ],
)
def test_async_resource_functions_generate(tmp_path: Path, body: str) -> None:
    """Async methods and statics of resources are generated, imported and exported (the
    backend refuses no async feature any more; tests/async builds and runs them)."""
    for direction in ("import", "export"):
        text = f"package t:x;\ninterface i {{\n    {body}\n}}\nworld w {{ {direction} i; }}\n"
        files = _generate(tmp_path, text)
        assert any("[async-" in t for t in files.values()), direction


def test_async_resource_functions_generate_from_the_cli(tmp_path: Path) -> None:
    wit = tmp_path / "t.wit"
    wit.write_text(
        "package t:x;\ninterface i { resource r { m: async func(); } }\nworld w { export i; }\n",
        encoding="utf-8",
    )
    proc = subprocess.run(
        [
            "python3",
            "-m",
            "witgen",
            "generate",
            "--lang",
            "rust",
            "--out",
            str(tmp_path / "o"),
            str(wit),
        ],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    lib = (tmp_path / "o" / "src").rglob("*.rs")
    assert any("[async-lift]t:x/i#[method]r.m" in p.read_text() for p in lib)


@pytest.mark.parametrize("lang", ["rust", "go", "typescript", "python"])
def test_a_package_without_worlds_is_refused_by_name(tmp_path: Path, lang: str) -> None:
    """Like wit-bindgen, the backends generate the bindings of a world; a package of loose
    interfaces is a one-line usage error (exit 2) from the CLI and from the backend itself."""
    wit = tmp_path / "t.wit"
    wit.write_text(
        "package t:x;\ninterface i {\n    record r { a: u32 }\n    f: func(v: r) -> string;\n}\n",
        encoding="utf-8",
    )
    out = tmp_path / "o"
    proc = subprocess.run(
        ["python3", "-m", "witgen", "generate", "--lang", lang, "--out", str(out), str(wit)],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.startswith("error: the ") and "package `t:x` defines none" in proc.stderr
    assert "Traceback" not in proc.stderr and not out.exists()
    resolve = frontend.load(wit)
    with pytest.raises(WitgenError, match="generates code for a world") as info:
        backends.available()[lang].generate(resolve, [], backends.GenerateOptions(source="t"))
    assert info.value.exit_code == 2


def test_names() -> None:
    assert snake("read-batch") == "read_batch"
    assert snake("type") == "r#type" and snake("self") == "self_" and snake("crate") == "crate_"
    assert camel("data-record") == "DataRecord" and camel("HTTP-client") == "HttpClient"
    assert type_name("result") == "WitResult" and type_name("option") == "WitOption"
    assert escape("match") == "r#match"


def test_docs_become_rustdoc(tmp_path: Path) -> None:
    files = _generate(
        tmp_path,
        "package t:x;\n/// The interface.\ninterface i {\n    /// A record.\n"
        "    record r {\n        /// A field.\n        a: u8,\n    }\n"
        "    /// A function.\n    f: func(v: r);\n}\nworld w { import i; }\n",
    )
    text = files["src/imports/t/x/i.rs"]  # imported by path: generated once, shared
    for line in ("//! The interface.", "/// A record.", "/// A field.", "/// A function."):
        assert line in text


def test_without_world_one_module_per_world() -> None:
    resolve = frontend.load(None)
    main = resolve.main_package
    assert main is not None
    worlds = sorted(resolve.packages[main].worlds.values())
    files = rust_backend.generate(resolve, worlds, backends.GenerateOptions(source="wit/"))
    names = {resolve.worlds[w].name.replace("-", "_") for w in worlds}
    assert {f"src/{n}.rs" for n in names} <= set(files)
    assert all(f"pub mod {n};" in files["src/lib.rs"] for n in names)
    assert isinstance(resolve, ir.Resolve)


def test_world_option_selects_one_world(tmp_path: Path) -> None:
    out = tmp_path / "sdk"
    proc = subprocess.run(
        [
            "python3",
            "-m",
            "witgen",
            "generate",
            "--lang",
            "rust",
            "--world",
            "filter-plugin",
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    assert sorted(str(p.relative_to(out / "src")) for p in (out / "src").rglob("*.rs")) == [
        "filter_plugin.rs",
        "imports.rs",
        "imports/dataflare/core/config.rs",
        "imports/dataflare/core/logging.rs",
        "imports/dataflare/core/metrics.rs",
        "imports/dataflare/core/types.rs",
        "lib.rs",
        "rt.rs",
        "stateful.rs",  # wit/ defines a plugin-error: the stateful shape (witgen.backends.rust.stateful)
    ]
    assert "macro_rules! export_filter_plugin" in (out / "src" / "filter_plugin.rs").read_text()
