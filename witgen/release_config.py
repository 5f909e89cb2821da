"""Release metadata from one place: the `[release]` table of a `witgen.toml` beside the WIT.

`witgen release` reads `witgen.toml` from the WIT package directory (or from the directory of a
`.wit` file), unless `--config FILE` names another one; command-line options override the file.
Every field is optional and has a default derived from the WIT package (`ns:name@version`):

    [release]
    description = "..."          # default: the first paragraph of the package's `///` docs
    license = "Apache-2.0"       # SPDX expression; none by default (registries want one)
    repository = "https://github.com/org/repo"
    homepage = "https://..."     # default: the repository
    authors = ["Name <mail>"]

    [release.rust]
    crate = "ns-name-sdk"        # default: NS-NAME-sdk

    [release.typescript]
    package = "@ns/name-sdk"     # npm name, scoped or not; default: @NS/NAME-sdk

    [release.go]
    module = "github.com/org/repo/go"  # default: HOST/PATH/go from `repository`, else NS/NAME
                                       # (which `go get` cannot fetch: a warning says so)

    [release.python]
    distribution = "ns-name-host"  # the PyPI name; default: NS-NAME-host
    package = "ns_name"            # the import name; default: NS_NAME

The version is never configured: every package carries the WIT package's version.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from witgen import ir
from witgen.backends.python import names as python_names
from witgen.diagnostics import UsageError

CONFIG_NAME = "witgen.toml"

_CRATE = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,63}$")
_NPM = re.compile(r"^(?:@[a-z0-9][a-z0-9._~-]*/)?[a-z0-9][a-z0-9._~-]*$")
_GO = re.compile(r"^[a-z0-9][a-z0-9._~-]*(?:/[A-Za-z0-9._~-]+)*$")
_PY_DIST = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?$")
_PY_PACKAGE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

_TOP_KEYS = {"description", "license", "repository", "homepage", "authors"}
_LANG_KEYS = {
    "rust": {"crate"},
    "typescript": {"package"},
    "go": {"module"},
    "python": {"distribution", "package"},
}


@dataclass(frozen=True)
class ReleaseConfig:
    """What `[release]` and the options said, before defaults are filled in."""

    description: str | None = None
    license: str | None = None
    repository: str | None = None
    homepage: str | None = None
    authors: tuple[str, ...] = ()
    crate: str | None = None
    npm_package: str | None = None
    go_module: str | None = None
    python_distribution: str | None = None
    python_package: str | None = None
    source: str | None = None  # the file it was read from, for messages


@dataclass(frozen=True)
class Metadata:
    """Everything the packages say about themselves, defaults filled in."""

    package: str  # ns:name
    version: str
    description: str
    license: str | None
    repository: str | None
    homepage: str | None
    authors: tuple[str, ...]
    crate: str
    npm_package: str
    go_module: str  # with the /vN suffix for major versions >= 2
    go_tag: str  # the git tag that publishes the Go module (prefixed for a subdirectory)
    python_distribution: str
    python_package: str
    warnings: tuple[str, ...] = field(default=())


def find_config(path: Path | None, default_dir: Path) -> Path | None:
    """`witgen.toml` beside the WIT input, if there is one."""
    base = default_dir if path is None else (path if path.is_dir() else path.parent)
    candidate = base / CONFIG_NAME
    return candidate if candidate.is_file() else None


def load(path: Path) -> ReleaseConfig:
    """Read the `[release]` table of `path` (a missing table gives an empty config)."""
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as err:
        raise UsageError(f"cannot read release configuration {path}: {err.strerror}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
        raise UsageError(f"{path}: not valid TOML: {err}") from None
    table = doc.get("release", {})
    if not isinstance(table, dict):
        raise UsageError(f"{path}: `release` must be a table ([release])")
    return from_table(table, str(path))


def _text(table: dict[str, Any], key: str, where: str) -> str | None:
    value = table.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise UsageError(f"{where}: `{key}` must be a non-empty string")
    return value.strip()


def from_table(table: dict[str, Any], source: str) -> ReleaseConfig:
    for key in table:
        if key not in _TOP_KEYS and key not in _LANG_KEYS:
            known = ", ".join(sorted(_TOP_KEYS | set(_LANG_KEYS)))
            raise UsageError(f"{source}: unknown key `release.{key}` (known: {known})")
    langs: dict[str, dict[str, Any]] = {}
    for lang, keys in _LANG_KEYS.items():
        sub = table.get(lang, {})
        if not isinstance(sub, dict):
            raise UsageError(f"{source}: `release.{lang}` must be a table ([release.{lang}])")
        for key in sub:
            if key not in keys:
                raise UsageError(
                    f"{source}: unknown key `release.{lang}.{key}` "
                    f"(known: {', '.join(sorted(keys))})"
                )
        langs[lang] = sub
    authors = table.get("authors", [])
    if not isinstance(authors, list) or not all(isinstance(a, str) and a for a in authors):
        raise UsageError(f"{source}: `release.authors` must be a list of strings")
    return ReleaseConfig(
        description=_text(table, "description", source),
        license=_text(table, "license", source),
        repository=_text(table, "repository", source),
        homepage=_text(table, "homepage", source),
        authors=tuple(authors),
        crate=_text(langs["rust"], "crate", f"{source} [release.rust]"),
        npm_package=_text(langs["typescript"], "package", f"{source} [release.typescript]"),
        go_module=_text(langs["go"], "module", f"{source} [release.go]"),
        python_distribution=_text(langs["python"], "distribution", f"{source} [release.python]"),
        python_package=_text(langs["python"], "package", f"{source} [release.python]"),
        source=source,
    )


def override(base: ReleaseConfig, **options: Any) -> ReleaseConfig:
    """`base` with the options that were given (None and empty mean "not given")."""
    given = {k: v for k, v in options.items() if v not in (None, (), [])}
    if "authors" in given:
        given["authors"] = tuple(given["authors"])
    return replace(base, **given)


def _first_paragraph(docs: str | None) -> str | None:
    if not docs:
        return None
    para = docs.strip().split("\n\n", 1)[0]
    text = " ".join(line.strip() for line in para.splitlines()).strip()
    return text or None


def _repo_module(repository: str | None) -> str | None:
    """`https://github.com/org/repo(.git)` -> `github.com/org/repo`."""
    if repository is None:
        return None
    url = urlparse(repository if "://" in repository else "https://" + repository)
    host, path = url.hostname, url.path.strip("/").removesuffix(".git")
    if not host or "." not in host or not path:
        return None
    return f"{host}/{path}".lower()


_MAJOR_SUFFIX = re.compile(r"/v(\d+)$")


def _go_module(base: str, major: int, where: str) -> str:
    """The module path for a release: `/vN` appended for N >= 2 (Go's import rule)."""
    m = _MAJOR_SUFFIX.search(base)
    if m is not None:
        if int(m[1]) != major or major < 2:
            raise UsageError(
                f"{where}: Go module path `{base}` ends in /v{m[1]} but the release is version "
                f"{major}.x; give the path without the suffix (witgen adds /vN for N >= 2)"
            )
        base = base[: m.start()]
    return f"{base}/v{major}" if major >= 2 else base


def _go_tag(module: str, repository: str | None, version: str) -> str:
    """A module in a subdirectory of its repository is tagged `SUBDIR/vX.Y.Z`."""
    repo = _repo_module(repository)
    root = _MAJOR_SUFFIX.sub("", module)
    if repo is not None and root.startswith(repo + "/"):
        return f"{root[len(repo) + 1:]}/v{version}"
    return f"v{version}"


def resolve_metadata(config: ReleaseConfig, resolve: ir.Resolve) -> Metadata:
    """Fill in the defaults from the WIT package and check every name."""
    main = resolve.main_package
    assert main is not None
    pkg = resolve.packages[main]
    assert pkg.version is not None
    ns, name, version = pkg.namespace, pkg.short_name, pkg.version
    where = config.source or "release options"
    warnings: list[str] = []
    crate = config.crate or f"{ns}-{name}-sdk"
    if not _CRATE.match(crate):
        raise UsageError(f"{where}: `{crate}` is not a valid crate name (letters, digits, - _)")
    npm = config.npm_package or f"@{ns}/{name}-sdk"
    if not _NPM.match(npm) or len(npm) > 214:
        raise UsageError(f"{where}: `{npm}` is not a valid npm package name (lowercase, @scope/)")
    major = int(version.split(".", 1)[0])
    repo_module = _repo_module(config.repository)
    go_base = config.go_module or (f"{repo_module}/go" if repo_module else f"{ns}/{name}")
    if not _GO.match(go_base):
        raise UsageError(f"{where}: `{go_base}` is not a valid Go module path")
    if "." not in go_base.split("/", 1)[0]:
        warnings.append(
            f"Go module path `{go_base}` cannot be fetched with `go get` (its first element needs "
            "a dot, e.g. github.com/org/repo); set [release.go] module or --go-module"
        )
    go_module = _go_module(go_base, major, where)
    dist = config.python_distribution or f"{ns}-{name}-host"
    if not _PY_DIST.match(dist):
        raise UsageError(f"{where}: `{dist}` is not a valid Python distribution name")
    py_package = config.python_package or python_names.package(ns, name)
    if not _PY_PACKAGE.match(py_package):
        raise UsageError(f"{where}: `{py_package}` is not a valid Python package name")
    for key, value in (("license", config.license), ("repository", config.repository)):
        if value is None:
            warnings.append(
                f"no {key} set: crates.io and npm warn or refuse; set `{key}` in [release] of "
                f"{CONFIG_NAME} or --{key}"
            )
    description = (
        config.description or _first_paragraph(pkg.docs.contents if pkg.docs else None) or ""
    )
    if not description:
        description = f"SDKs for the WIT package {ns}:{name}"
    return Metadata(
        package=f"{ns}:{name}",
        version=version,
        description=description,
        license=config.license,
        repository=config.repository,
        homepage=config.homepage or config.repository,
        authors=config.authors,
        crate=crate,
        npm_package=npm,
        go_module=go_module,
        go_tag=_go_tag(go_module, config.repository, version),
        python_distribution=dist,
        python_package=py_package,
        warnings=tuple(warnings),
    )
