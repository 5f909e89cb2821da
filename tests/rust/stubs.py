"""Stub guests for the corpus: for each world, a crate that implements every export trait of
the generated SDK with `unimplemented!()` bodies and calls the world's export macro.

Building the stub monomorphises all export glue and expands the macro; turning it into a
component (`wasm-tools component new`) then checks every core import and export signature
against the canonical ABI for that world.
"""

from __future__ import annotations

from witgen import ir
from witgen.backends import GenerateOptions
from witgen.backends.rust.generator import ModuleModel, RustGen, WorldModel
from witgen.backends.rust.names import bare


def _impls(m: ModuleModel, indent: str) -> list[str]:
    out = []
    for r in m.resources:
        if not r.exported:
            continue
        out.append(f"{indent}pub struct Stub{r.name};")
        out.append(f"{indent}impl {r.trait} for Stub{r.name} {{")
        out += [f"{indent}    {f.signature} {{ {_stub_body(f.signature)} }}" for f in r.trait_fns]
        out.append(f"{indent}}}")
    if m.trait:
        out.append(f"{indent}impl {m.trait} for crate::Stub {{")
        out += [f"{indent}    type {name} = Stub{name};" for name, _ in m.trait_assoc]
        out += [f"{indent}    {f.signature} {{ {_stub_body(f.signature)} }}" for f in m.trait_fns]
        out.append(f"{indent}}}")
    return out


def _stub_body(signature: str) -> str:
    """An async export's trait function returns a future (`!` is none)."""
    return "async {}" if "-> impl core::future::Future" in signature else "unimplemented!()"


def _import_paths(m: ModuleModel, prefix: str) -> list[str]:
    """Paths of every imported-function wrapper of a module (free functions and methods)."""
    out = []
    for f in m.functions:
        out.append(f"{prefix}::{_fn_name(f.signature)}")
    for r in m.resources:
        if not r.exported:
            out += [f"{prefix}::{r.name}::{_fn_name(f.signature)}" for f in r.methods]
    return out


def _fn_name(signature: str) -> str:
    return signature.split("fn ", 1)[1].split("(", 1)[0].split("<", 1)[0]


def _same_handle_types(model: WorldModel, sdk_crate: str) -> list[str]:
    """For each imported resource of a shared interface: a function that only compiles if the
    world's path (`sdk::world::iface::R`) and the shared one (`sdk::imports::..::R`) name one
    type, so that one handle type serves every world."""
    out = []
    for m in model.modules:
        if not m.reexport:
            continue
        shared = sdk_crate + m.reexport.removeprefix("crate").split(" as ")[0]
        for r in m.resources:
            # `m.name` may be a raw identifier (`r#type`), which cannot be part of a longer one
            fn = "_".join(("same", bare(m.name), bare(r.name).lower()))
            out += [
                f"pub fn {fn}(",
                f"    r: {sdk_crate}::{model.name}::{m.name}::{r.name},",
                f") -> {shared}::{r.name} {{",
                "    r",
                "}",
            ]
    return out


def stub_source(
    resolve: ir.Resolve, world: int, sdk_crate: str, worlds: list[int] | None = None
) -> str:
    """The stub guest of `world` in the SDK generated for `worlds` (default: every world of
    the world's package, as `generate_sdk` does)."""
    gen = RustGen(resolve, GenerateOptions(source="stub"))
    if worlds is None:
        world_pkg = resolve.worlds[world].package
        assert world_pkg is not None
        worlds = sorted(resolve.packages[world_pkg].worlds.values())
    gen.plan_worlds(worlds)  # as the SDK was generated
    gen.plan_shared(worlds)
    model = gen.world(world)
    w = model.name
    lines = [
        "#![allow(unused_variables, unused_imports, clippy::all)]",
        "pub struct Stub;",
        f"pub mod {w} {{",
        f"    pub use {sdk_crate}::{w}::*;",
        *_impls(model.root, "    "),
    ]
    for m in model.modules:
        if m.direction != "export":
            continue
        lines += [
            f"    pub mod {m.name} {{",
            f"        pub use {sdk_crate}::{w}::{m.name}::*;",
            *_impls(m, "        "),
            "    }",
        ]
    keep = _import_paths(model.root, f"{sdk_crate}::{w}")
    for m in model.modules:
        if m.direction == "import":
            keep += _import_paths(m, f"{sdk_crate}::{w}::{m.name}")
    lines += [
        "}",
        f"{sdk_crate}::{model.macro}!(Stub);",
        "// Keep every import wrapper (and so every core import) in the module, so that",
        "// `component new` checks their signatures too.",
        "pub struct Keep(pub [*const (); %d]);" % len(keep),
        "unsafe impl Sync for Keep {}",
        "#[used]",
        "pub static KEEP: Keep = Keep([",
        *[f"    {p} as *const ()," for p in keep],
        "]);",
        *_same_handle_types(model, sdk_crate),
        "",
    ]
    return "\n".join(lines)
