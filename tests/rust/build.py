"""Builds the test guests of tests/rust/ with the shared recipe in `witgen.toolchains.rust`.

Everything goes into one cargo workspace, `target/rust-guests/tests/`: the SDK generated from
each WIT of `tests/rust/wit/` and `tests/rust/corpus/`, and the guest crates of
`tests/rust/guests/`. One cargo run compiles all of it to wasm32 (a few seconds when warm).
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from witgen import backends, frontend, ir
from witgen.backends import rust as rust_backend
from witgen.toolchains import rust as toolchain

from .stubs import stub_source

HERE = Path(__file__).resolve().parent
WIT = HERE / "wit"
CORPUS = HERE / "corpus"
GUESTS = HERE / "guests"
WORKSPACE = toolchain.TARGET_DIR / "tests"
COMPONENTS = toolchain.COMPONENTS / "tests"

# guest crate -> (WIT file, world, guest source)
GUEST_SPECS = {
    "main-guest": (WIT / "main.wit", "runner", GUESTS / "main.rs"),
    "maps-guest": (WIT / "maps.wit", "maps-guest", GUESTS / "maps.rs"),
    "instances-guest": (WIT / "instances.wit", "instances-guest", GUESTS / "instances.rs"),
}


def load(wit: Path) -> tuple[ir.Resolve, list[int]]:
    resolve = frontend.load(wit, all_features=True)
    main = resolve.main_package
    assert main is not None
    return resolve, sorted(resolve.packages[main].worlds.values())


def generate_sdk(wit: Path, name: str) -> dict[str, str]:
    """The Rust SDK for every world of a WIT file, as a crate called `name`."""
    resolve, worlds = load(wit)
    options = backends.GenerateOptions(source=wit.name, package_name=name)
    return rust_backend.generate(resolve, worlds, options)


def corpus_files() -> list[Path]:
    """Corpus entries: `.wit` files and package directories (with their `deps/`)."""
    return sorted(CORPUS.glob("*.wit")) + sorted(p for p in CORPUS.iterdir() if p.is_dir())


@lru_cache(maxsize=1)
def build_all() -> dict[str, Path]:
    """Generate and compile every test SDK and guest; guest crate -> component path."""
    sdks: dict[str, dict[str, str]] = {}
    guests: dict[str, tuple[str, str]] = {}
    for crate, (wit, _world, source) in GUEST_SPECS.items():
        sdk = crate.replace("-guest", "-sdk")
        sdks[sdk] = generate_sdk(wit, sdk)
        guests[crate] = (sdk, source.read_text(encoding="utf-8"))
    sdks["dataflare-core-sdk"] = generate_sdk(toolchain.DEFAULT_WIT, "dataflare-core-sdk")
    stubs: dict[str, tuple[Path, str]] = {}
    for wit in corpus_files():
        sdk = f"corpus-{wit.stem}"
        sdks[sdk] = generate_sdk(wit, sdk)
        resolve, worlds = load(wit)
        for w in worlds:
            name = resolve.worlds[w].name
            crate = f"stub-{wit.stem}-{name}"
            guests[crate] = (sdk, stub_source(resolve, w, sdk.replace("-", "_")))
            stubs[crate] = (wit, name)
    toolchain.build_workspace(WORKSPACE, sdks, guests)
    specs = {crate: (wit, world) for crate, (wit, world, _src) in GUEST_SPECS.items()}
    specs.update(stubs)
    return {
        crate: toolchain.componentize(
            toolchain.core_module(crate),
            wit,
            world,
            COMPONENTS / f"{crate}.wasm",
            all_features=True,
        )
        for crate, (wit, world) in specs.items()
    }


def sdk_dirs() -> list[Path]:
    """The generated SDK crates of the test workspace (after `build_all`); a stale folder of an
    earlier layout that the workspace no longer lists is left out."""
    manifest = (WORKSPACE / "Cargo.toml").read_text(encoding="utf-8")
    members = set(re.findall(r'"([^"]+)"', manifest.split("members = [", 1)[1].split("]", 1)[0]))
    return sorted(
        p
        for p in WORKSPACE.iterdir()
        if p.name in members
        and (p / "src" / "lib.rs").exists()
        and not p.name.startswith(("stub-", *GUEST_SPECS))
    )
