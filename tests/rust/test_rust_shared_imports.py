"""Interfaces imported by path are generated once (`src/imports/<ns>/<pkg>/<iface>.rs`) and
re-exported by every world that imports them; exported and inline interfaces stay per world.

Text-level checks (no toolchain): that the stub guests of the corpus compile, and that a world's
path to an imported resource names the very type of the shared module, is checked by
test_rust_corpus.py (see `_same_handle_types` in stubs.py).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from witgen import backends, frontend
from witgen.backends import rust as rust_backend
from witgen.paths import DEFAULT_WIT

from .build import CORPUS


def _generate(path: Path | None) -> dict[str, str]:
    resolve = frontend.load(path, all_features=True)
    main = resolve.main_package
    assert main is not None
    worlds = sorted(resolve.packages[main].worlds.values())
    return rust_backend.generate(resolve, worlds, backends.GenerateOptions(source="t"))


def test_dataflare_imports_are_generated_once() -> None:
    files = _generate(DEFAULT_WIT)
    shared = {"config", "logging", "metrics", "types"}
    assert {f"src/imports/dataflare/core/{i}.rs" for i in shared} <= set(files)
    assert "pub mod imports;" in files["src/lib.rs"]
    worlds = [p for p in files if p.endswith("_plugin.rs")]
    assert len(worlds) == 6
    for path in worlds:
        text = files[path]
        for iface in shared:
            assert f"pub use crate::imports::dataflare::core::{iface};" in text
            assert f"pub mod {iface} {{" not in text
        # the import wrappers and their extern blocks live only in the shared modules
        assert "fn log(" not in text and 'wasm_import_module = "dataflare:core/logging' not in text
    logging = files["src/imports/dataflare/core/logging.rs"]
    assert "pub fn log(level: Level, message: &str)" in logging
    assert '#[link(wasm_import_module = "dataflare:core/logging@1.0.0")]' in logging
    # exported interfaces and the export macros stay per world
    assert "pub trait Processor {" in files["src/processor_plugin.rs"]
    assert "macro_rules! export_processor_plugin" in files["src/processor_plugin.rs"]


def test_shared_modules_refer_to_each_other_by_crate_paths() -> None:
    files = _generate(CORPUS / "resources.wit")
    store = files["src/imports/corpus/resources/store.rs"]
    # `use files.{file}` in the same package: a sibling module
    assert "pub type File = super::files::File;" in store
    assert "super::super" not in store and "crate::resources_import" not in store
    # both worlds import `files`; one module, re-exported twice
    for world in ("resources_import", "resources_export"):
        assert "pub use crate::imports::corpus::resources::files;" in files[f"src/{world}.rs"]
    # `store` is exported by one world: generated there, not re-exported
    assert "pub mod store {" in files["src/resources_export.rs"]
    assert "pub use crate::imports::corpus::resources::store;" in files["src/resources_import.rs"]


def test_interface_imported_and_exported_by_one_world() -> None:
    files = _generate(CORPUS / "borrows.wit")
    world = files["src/borrower.rs"]
    assert "pub use crate::imports::corpus::borrows::shared;" in world
    assert "pub mod shared_export {" in world  # the export direction has its own module
    assert "src/imports/corpus/borrows/shared.rs" in files


def test_inline_imports_stay_in_their_world() -> None:
    files = _generate(CORPUS / "worlds.wit")
    everything = files["src/everything.rs"]
    assert "pub mod clock {" in everything  # `import clock: interface { ... }`
    assert not any(p.endswith("/clock.rs") for p in files)
    assert "pub use crate::imports::corpus::worlds::logging;" in everything
    assert "pub use crate::imports::corpus::worlds::logging;" in files["src/imports_only.rs"]


def test_two_versions_of_a_package_get_two_modules() -> None:
    files = _generate(CORPUS / "versions")
    shared = sorted(p for p in files if p.startswith("src/imports/"))
    assert shared == ["src/imports/my/dep_v0_1_0/a.rs", "src/imports/my/dep_v0_2_0/a.rs"]
    imports = files["src/imports.rs"]
    assert "/// Package `my:dep@0.1.0`." in imports and "/// Package `my:dep@0.2.0`." in imports


def test_a_world_named_imports_moves_the_shared_root(tmp_path: Path) -> None:
    wit = tmp_path / "t.wit"
    wit.write_text(
        "package t:x;\ninterface log { log: func(m: string); }\n"
        "world imports { import log; }\nworld other { import log; }\n",
        encoding="utf-8",
    )
    files = _generate(wit)
    assert "src/imports_/t/x/log.rs" in files
    assert "pub mod imports_;" in files["src/lib.rs"] and "pub mod imports;" in files["src/lib.rs"]
    assert "pub use crate::imports_::t::x::log;" in files["src/imports.rs"]


def _write(tmp_path: Path, worlds: str) -> Path:
    wit = tmp_path / "t.wit"
    wit.write_text(
        "package t:x;\ninterface types { record thing { v: u32 } }\n"
        "interface store {\n    use types.{thing};\n    resource bucket { get: func() -> thing; }\n"
        "    open: func() -> bucket;\n    peek: func() -> thing;\n}\n"
        "interface plain {\n    use types.{thing};\n    peek: func() -> thing;\n}\n" + worlds,
        encoding="utf-8",
    )
    return wit


def test_named_imports_are_modules_of_their_own_named_after_the_instance(tmp_path: Path) -> None:
    files = _generate(
        _write(
            tmp_path,
            "world a { import primary: plain; import plain; }\nworld b { import plain; }\n",
        )
    )
    a = files["src/a.rs"]
    # the named instance has its own core import module, so its own Rust module
    assert "pub mod primary {" in a and '#[link(wasm_import_module = "primary")]' in a
    assert "pub use crate::imports::t::x::plain;" in a
    assert "pub use crate::imports::t::x::plain;" in files["src/b.rs"]


def test_each_instance_of_an_interface_with_resources_has_its_own_types(tmp_path: Path) -> None:
    """`import primary: store; import secondary: store;`: each instance has resource types of
    its own (handles of one are not handles of the other), so each module defines and names
    its own; the interface's types used elsewhere are those of the instance imported by path."""
    wit = _write(
        tmp_path,
        "world a { import primary: store; import secondary: store; export primary-out: store; "
        "export secondary-out: store; }\n",
    )
    a = _generate(wit)["src/a.rs"]
    for mod in ("primary", "secondary"):
        module = a.split(f"pub mod {mod} {{", 1)[1].split("\npub mod ", 1)[0]
        other = "secondary" if mod == "primary" else "primary"
        assert "pub struct Bucket {" in module and f"super::{other}::" not in module
        assert "pub fn open() -> Bucket {" in module
    for mod in ("primary_out", "secondary_out"):
        module = a.split(f"pub mod {mod} {{", 1)[1].split("\npub mod ", 1)[0]
        assert "fn open() -> Self::Bucket;" in module or "fn open() -> Bucket;" in module
        assert f'"{mod.replace("_", "-")}#open"' in a  # a core export per instance
