"""A plugin project: `witgen.toml`, the vendored contract in `wit/` and the SDK generated from it.

    [plugin]
    name = "my-plugin"      # the component is target/witgen/<name>.wasm
    lang = "rust"           # rust | go | typescript
    kind = "processor"      # source | destination | processor | transformer | filter | aggregator
    world = "processor-plugin"

The SDK in `sdk/` is generated from `wit/`; `sdk/.witgen-sdk` records a digest of the WIT and
the witgen version it was generated with, so `witgen build` regenerates it when either changed.
"""

from __future__ import annotations

import functools
import hashlib
import tomllib
from dataclasses import dataclass
from pathlib import Path

from witgen import __version__, backends, frontend, ir
from witgen.diagnostics import UsageError
from witgen.fsio import write_tree
from witgen.paths import TEMPLATES

LANGUAGES = ("rust", "go", "typescript")
KINDS = ("source", "destination", "processor", "transformer", "filter", "aggregator")
PROJECT_FILE = "witgen.toml"
SDK_STAMP = ".witgen-sdk"
# how each language names the SDK package inside a project
SDK_NAMES = {"rust": "plugin-sdk", "go": "sdk", "typescript": None}


@dataclass(frozen=True)
class Project:
    root: Path
    name: str
    lang: str
    kind: str
    world: str

    @property
    def wit(self) -> Path:
        return self.root / "wit"

    @property
    def sdk(self) -> Path:
        return self.root / "sdk"

    @property
    def out_dir(self) -> Path:
        return self.root / "target" / "witgen"

    def component(self, release: bool = False) -> Path:
        return self.out_dir / ("release" if release else "debug") / f"{self.name}.wasm"

    @property
    def fixtures(self) -> Path:
        return self.root / "fixtures"

    @classmethod
    def load(cls, root: Path) -> Project:
        """Read `root/witgen.toml`; anything wrong is a usage error (exit 2)."""
        path = root / PROJECT_FILE
        if not path.is_file():
            raise UsageError(
                f"{root} is not a witgen plugin project (no {PROJECT_FILE}); "
                "create one with `witgen new NAME --lang LANG --kind KIND`"
            )
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise UsageError(f"{path}: {exc}") from None
        plugin = data.get("plugin")
        if not isinstance(plugin, dict):
            raise UsageError(f"{path}: missing the [plugin] table")
        values: dict[str, str] = {}
        for key in ("name", "lang", "kind", "world"):
            value = plugin.get(key)
            if not isinstance(value, str) or not value:
                raise UsageError(f"{path}: [plugin] needs a string `{key}`")
            values[key] = value
        if values["lang"] not in LANGUAGES:
            raise UsageError(f"{path}: lang must be one of {', '.join(LANGUAGES)}")
        if values["kind"] not in KINDS:
            raise UsageError(f"{path}: kind must be one of {', '.join(KINDS)}")
        return cls(root=root.resolve(), **values)

    def manifest(self) -> str:
        return (
            "# A witgen plugin project: `witgen build` and `witgen test` read this file.\n"
            "[plugin]\n"
            f'name = "{self.name}"\n'
            f'lang = "{self.lang}"\n'
            f'kind = "{self.kind}"\n'
            f'world = "{self.world}"\n'
        )

    def resolve(self) -> ir.Resolve:
        return frontend.load(self.wit)

    def world_id(self, resolve: ir.Resolve) -> int:
        try:
            return resolve.find_world(self.world)
        except LookupError as err:
            raise UsageError(f"{self.wit}: {err}") from None


@functools.cache
def generator_digest() -> str:
    """A digest of witgen's code generators (backends and templates): a new witgen, or a changed
    one in a checkout, regenerates the SDKs of projects."""
    h = hashlib.sha256(__version__.encode())
    roots = [Path(backends.__file__).parent, TEMPLATES]
    for root in roots:
        for path in sorted(root.rglob("*")):
            if path.is_file() and path.suffix in (".py", ".j2") and "scaffold" not in path.parts:
                h.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes())
    return h.hexdigest()


def wit_digest(wit: Path) -> str:
    """A digest of every `.wit` file under `wit` (names and contents) and of the generators."""
    h = hashlib.sha256(generator_digest().encode())
    for path in sorted(wit.rglob("*.wit")):
        h.update(str(path.relative_to(wit)).encode() + b"\0")
        h.update(path.read_bytes() + b"\0")
    return h.hexdigest()[:16]


def world_for_kind(resolve: ir.Resolve, kind: str) -> str:
    """The world of the main package for a plugin kind: `<kind>-plugin`, else the only world
    exporting an interface called `<kind>`."""
    main = resolve.main_package
    if main is None:
        raise UsageError("the contract has no package")
    worlds = resolve.packages[main].worlds
    if f"{kind}-plugin" in worlds:
        return f"{kind}-plugin"
    found = []
    for name, wid in sorted(worlds.items()):
        for entry in resolve.worlds[wid].exports:
            item = entry.item
            if isinstance(item, ir.WorldInterface) and resolve.interfaces[item.id].name == kind:
                found.append(name)
    if len(found) != 1:
        raise UsageError(
            f"the contract has {'no' if not found else 'several'} world for kind {kind!r} "
            f"(worlds: {', '.join(sorted(worlds)) or 'none'}); a `{kind}-plugin` world is expected"
        )
    return found[0]


def sdk_files(project: Project, resolve: ir.Resolve) -> dict[str, str]:
    """The SDK of the project's world, generated by the language's backend."""
    options = backends.GenerateOptions(source="wit/", package_name=SDK_NAMES[project.lang])
    backend = backends.available()[project.lang]
    files: dict[str, str] = backend.generate(resolve, [project.world_id(resolve)], options)
    return files


def sync_sdk(project: Project, *, force: bool = False) -> bool:
    """Regenerate `sdk/` when the WIT (or witgen) changed since it was generated; True if so."""
    digest = wit_digest(project.wit)
    stamp = project.sdk / SDK_STAMP
    if not force and stamp.is_file() and stamp.read_text(encoding="utf-8").strip() == digest:
        return False
    files: dict[str, str | bytes] = dict(sdk_files(project, project.resolve()))
    for path in sorted(project.wit.rglob("*.wit")):  # the SDK carries the WIT it was made from
        files[f"wit/{path.relative_to(project.wit)}"] = path.read_bytes()
    files[SDK_STAMP] = digest + "\n"
    write_tree(project.sdk, files)
    return True
