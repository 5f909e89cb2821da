"""The generated TypeScript SDK type-checks with `tsc --strict`, is prettier-clean, and its
types bite: plugin code that misuses them is rejected."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.typescript.conftest import (
    EXAMPLE,
    GENERATED,
    KITCHEN_WIT,
    TSC_FLAGS,
    run,
)
from witgen import backends, frontend
from witgen.author.project import Project, sync_sdk
from witgen.backends import typescript
from witgen.diagnostics import WitgenError

FIXTURES = Path(__file__).parent / "fixtures"


def write_sdk(files: dict[str, str], out: Path) -> None:
    for rel, text in files.items():
        (out / rel).parent.mkdir(parents=True, exist_ok=True)
        (out / rel).write_text(text, encoding="utf-8")


def test_generated_sdk_typechecks_strict() -> None:
    proc = run("tsc", "--strict", "--noEmit", "-p", GENERATED)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_generated_sdk_and_example_are_prettier_clean() -> None:
    proc = run("prettier", "--check", GENERATED, EXAMPLE / "plugin.ts", FIXTURES)
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.fixture(scope="module")
def kitchen_sdk(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The SDK for the kitchen-sink WIT (every supported feature) in a fresh directory."""
    root = tmp_path_factory.mktemp("kitchen")
    resolve = frontend.load(KITCHEN_WIT)
    world = resolve.find_world("painter")
    files = typescript.generate(resolve, [world], backends.GenerateOptions(source="kitchen.wit"))
    write_sdk(files, root / "sdk")
    return root


def test_kitchen_sink_sdk_typechecks_and_is_prettier_clean(kitchen_sdk: Path) -> None:
    sdk = kitchen_sdk / "sdk"
    proc = run("tsc", "--strict", "--noEmit", "-p", sdk)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    proc = run("prettier", "--check", sdk)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_kitchen_sink_declarations_follow_jco_conventions(kitchen_sdk: Path) -> None:
    shapes = (kitchen_sdk / "sdk/interfaces/test-kitchen-shapes.d.ts").read_text()
    assert 'declare module "test:kitchen/shapes@0.2.0" {' in shapes
    assert "label?: string;" in shapes  # option<T> field
    assert "nested: Option<number | undefined>;" in shapes  # option<option<T>>
    assert "f: BigUint64Array;" in shapes and "a: Int8Array;" in shapes
    assert "results: Result<void, Color>[];" in shapes
    assert 'export type Color = "red" | "green" | "dark-blue";' in shapes
    assert "export { delete_ as delete };" in shapes  # reserved word, still importable
    assert "function delete_(new_: number, class_: string)" in shapes
    assert "export function open(name: string): Blob;" in shapes  # result -> throws
    assert "private constructor();" in shapes  # resource without a constructor
    canvas = (kitchen_sdk / "sdk/exports/test-kitchen-canvas.ts").read_text()
    assert "new (name: string): Layer;" in canvas
    assert "Layer: LayerClass;" in canvas
    assert "prototype: Snapshot;" in canvas
    assert "import type {\n  Point,\n  Shape,\n  Color as Colour," in canvas  # `use ... as`
    # world-level imported functions: the default export of a module named like the import
    tick = (kitchen_sdk / "sdk/interfaces/world-tick.d.ts").read_text()
    assert 'declare module "tick" {' in tick
    assert "export default function tick(n: number): bigint;" in tick
    paint = (kitchen_sdk / "sdk/interfaces/world-paint-with.d.ts").read_text()
    assert 'import type { Color, Point } from "test:kitchen/shapes@0.2.0";' in paint


@pytest.mark.parametrize(
    ("wit", "world"),
    [("inline.wit", "a"), ("inline.wit", "b"), ("empty.wit", "w"), ("empty.wit", "v")],
)
def test_edge_case_worlds_typecheck_and_are_prettier_clean(
    tmp_path: Path, wit: str, world: str
) -> None:
    resolve = frontend.load(KITCHEN_WIT.parent / wit)
    files = typescript.generate(
        resolve, [resolve.find_world(world)], backends.GenerateOptions(source=wit)
    )
    write_sdk(files, tmp_path)
    proc = run("tsc", "--strict", "--noEmit", "-p", tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    proc = run("prettier", "--check", tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_worlds_that_disagree_on_an_interface_need_one_world_at_a_time() -> None:
    resolve = frontend.load(KITCHEN_WIT.parent / "inline.wit")
    worlds = [resolve.find_world("a"), resolve.find_world("b")]
    with pytest.raises(WitgenError, match="generate one world at a time with --world"):
        typescript.generate(resolve, worlds, backends.GenerateOptions(source="inline.wit"))


def test_plugin_for_kitchen_sink_world_typechecks(kitchen_sdk: Path) -> None:
    shutil.copy(FIXTURES / "painter.ts", kitchen_sdk / "painter.ts")
    proc = run("tsc", *TSC_FLAGS, "painter.ts", cwd=kitchen_sdk)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_example_plugin_typechecks_with_its_tsconfig() -> None:
    sync_sdk(Project.load(EXAMPLE))  # sdk/ is generated, not committed
    proc = run("tsc", "--noEmit", "-p", EXAMPLE)
    assert proc.returncode == 0, proc.stdout + proc.stderr


# (what to change in the example plugin, the TypeScript error that must follow)
MISTAKES = {
    "wrong-field-type": ('version: "1.0.0"', "version: 100", "TS2322"),
    "unknown-variant-tag": ('{ tag: "skip" }', '{ tag: "skipped" }', "TS2322"),
    "number-for-u64": ('counterAdd("records-in", 1n)', 'counterAdd("records-in", 1)', "TS2345"),
    "unknown-enum-case": ('log("debug",', 'log("verbose",', "TS2345"),
    "payload-is-not-a-string": ("record.payload.length === 0", 'record.payload === ""', "TS2367"),
    "misspelled-export-function": (
        "  processBatch(records) {",
        "  processBatchx(records) {",
        "TS2561",
    ),
    "missing-export-function": (
        "  process(record) {\n    return processOne(record);\n  },\n",
        "",
        "TS2741",
    ),
    "unknown-flag": ("{ batching: true, ordered: true }", "{ batched: true }", "TS2322"),
}


@pytest.fixture(scope="module")
def processor_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of generated/typescript as ./sdk, beside which plugin variants are written."""
    root = tmp_path_factory.mktemp("processor")
    shutil.copytree(GENERATED, root / "sdk")
    return root


def example_source() -> str:
    text = (EXAMPLE / "plugin.ts").read_text(encoding="utf-8")
    return text.replace("../../../generated/typescript/", "./sdk/")


def test_example_plugin_compiles_in_the_sandbox(processor_sandbox: Path) -> None:
    # the control for the mistakes below: the unmodified plugin passes
    (processor_sandbox / "good.ts").write_text(example_source(), encoding="utf-8")
    proc = run("tsc", *TSC_FLAGS, "good.ts", cwd=processor_sandbox)
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.parametrize("mistake", sorted(MISTAKES))
def test_tsc_rejects_a_plugin_with_a_wrong_type(processor_sandbox: Path, mistake: str) -> None:
    old, new, code = MISTAKES[mistake]
    source = example_source()
    assert old in source, f"the example no longer contains {old!r}"
    bad = processor_sandbox / f"{mistake}.ts"
    bad.write_text(source.replace(old, new, 1), encoding="utf-8")
    proc = run("tsc", *TSC_FLAGS, bad.name, cwd=processor_sandbox)
    output = proc.stdout + proc.stderr
    assert proc.returncode != 0, f"tsc accepted {mistake}"
    assert f"{mistake}.ts(" in output and code in output, output


def test_colliding_names_typecheck(tmp_path: Path) -> None:
    """tests/go/collisions.wit (shared with the Go backend): a world named like an interface
    and like its own type, two packages' `types`, generated names beside WIT ones. WIT types
    keep their names; generated names and imports yield with a trailing underscore."""
    wit = Path(__file__).parents[1] / "go" / "collisions.wit"
    resolve = frontend.load(wit)
    main = resolve.main_package
    assert main is not None
    worlds = sorted(resolve.packages[main].worlds.values())
    files = typescript.generate(resolve, worlds, backends.GenerateOptions(source=wit.name))
    write_sdk(files, tmp_path)
    world = files["names.ts"]
    assert 'import type { Names } from "$root";' in world  # the world's own type `names`
    assert 'import type { Names as Names_ } from "./exports/names-names.js";' in world
    assert "  names: Names_;\n" in world
    proc = run("tsc", "--strict", "--noEmit", "-p", tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    proc = run("prettier", "--check", tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_interface_under_several_names_typechecks(tmp_path: Path) -> None:
    """tests/go/worlds.wit imports `store` as `primary` and `backup` and exports it as
    `cache`: a module per name (componentize-js serves a plain-named import as the module of
    that name), each with its own copy of the interface's types."""
    wit = Path(__file__).parents[1] / "go" / "worlds.wit"
    resolve = frontend.load(wit)
    files = typescript.generate(
        resolve, [resolve.find_world("worlds")], backends.GenerateOptions(source=wit.name)
    )
    write_sdk(files, tmp_path)
    for name in ("primary", "backup"):
        ambient = files[f"interfaces/worlds-{name}.d.ts"]
        assert f'declare module "{name}" {{' in ambient and "export interface Hit {" in ambient
    cache = files["exports/worlds-cache.ts"]
    assert "export interface Cache {" in cache and "export function defineCache(" in cache
    assert "  cache: Cache;\n" in files["worlds.ts"]
    proc = run("tsc", "--strict", "--noEmit", "-p", tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_stateful_helpers_for_plainly_named_exports_typecheck(tmp_path: Path) -> None:
    """`stateful.ts` has a `<name>FromClass` for an interface exported under a plain name too."""
    wit = tmp_path / "s.wit"
    wit.write_text(
        "package t:s;\ninterface types {\n  record plugin-error { message: string }\n}\n"
        "interface proc {\n  use types.{plugin-error};\n"
        "  run: func(x: u32) -> result<u32, plugin-error>;\n}\n"
        "world w {\n  export one: proc;\n  export two: proc;\n  export proc;\n}\n"
    )
    resolve = frontend.load(wit)
    files = typescript.generate(
        resolve, [resolve.find_world("w")], backends.GenerateOptions(source="s.wit")
    )
    stateful = files["stateful.ts"]
    for helper in ("procFromClass", "oneFromClass", "twoFromClass"):
        assert f"export function {helper}(" in stateful, helper
    write_sdk(files, tmp_path / "sdk")
    proc = run("tsc", "--strict", "--noEmit", "-p", tmp_path / "sdk")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    proc = run("prettier", "--check", tmp_path / "sdk")
    assert proc.returncode == 0, proc.stdout + proc.stderr
