"""Builds the test guests of tests/rust/ with the shared recipe in `witgen.toolchains.rust`.

Everything goes into one cargo workspace, `target/rust-guests/tests/`: the SDK generated from
each WIT of `tests/rust/wit/` and `tests/rust/corpus/`, and the guest crates of
`tests/rust/guests/`. One cargo run compiles all of it to wasm32 (a few seconds when warm).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from witgen import backends, frontend
from witgen.backends import rust as rust_backend
from witgen.toolchains import rust as toolchain

HERE = Path(__file__).resolve().parent
WIT = HERE / "wit"
CORPUS = HERE / "corpus"
GUESTS = HERE / "guests"
WORKSPACE = toolchain.TARGET_DIR / "tests"
COMPONENTS = toolchain.COMPONENTS / "tests"

# guest crate -> (WIT file, world, guest source)
GUEST_SPECS = {
    "echo-guest": (WIT / "echo.wit", "echo", GUESTS / "echo.rs"),
}


def generate_sdk(wit: Path, name: str) -> dict[str, str]:
    """The Rust SDK for every world of a WIT file, as a crate called `name`."""
    resolve = frontend.load(wit, all_features=True)
    main = resolve.main_package
    assert main is not None
    worlds = sorted(resolve.packages[main].worlds.values())
    options = backends.GenerateOptions(source=wit.name, package_name=name)
    return rust_backend.generate(resolve, worlds, options)


def corpus_files() -> list[Path]:
    return sorted(CORPUS.glob("*.wit"))


@lru_cache(maxsize=1)
def build_all() -> dict[str, Path]:
    """Generate and compile every test SDK and guest; guest crate -> component path."""
    sdks: dict[str, dict[str, str]] = {}
    guests: dict[str, tuple[str, str]] = {}
    for crate, (wit, _world, source) in GUEST_SPECS.items():
        sdk = crate.replace("-guest", "-sdk")
        sdks[sdk] = generate_sdk(wit, sdk)
        guests[crate] = (sdk, source.read_text(encoding="utf-8"))
    for wit in corpus_files():
        sdk = f"corpus-{wit.stem}"
        sdks[sdk] = generate_sdk(wit, sdk)
    toolchain.build_workspace(WORKSPACE, sdks, guests)
    return {
        crate: toolchain.componentize(
            toolchain.core_module(crate), wit, world, COMPONENTS / f"{crate}.wasm"
        )
        for crate, (wit, world, _source) in GUEST_SPECS.items()
    }


def sdk_dir(name: str) -> Path:
    return WORKSPACE / name
