"""`witgen release`: one WIT version in, versioned SDK packages for every language out.

The release is refused (nothing is written) when an `--against` baseline is given and the
package version is not a correct successor of it (the compat checker decides, in both
directions: a plugin SDK and a host SDK ship together). Every language's package carries the
WIT package version, so a plugin built with SDK 1.2.0 and a host built with bindings 1.2.0
agree on the contract by construction.

The output directory (`dist/VERSION/` by default) holds:

- `rust/`, `typescript/`, `go/`, `python/`: each package's source tree, manifests written from
  the release metadata (`witgen.toml` `[release]`, see `witgen.release_config`); the guest SDKs
  carry the WIT in `wit/`;
- `packages/`: what the registries take, byte-for-byte reproducible (`witgen.release_packages`):
  `rust/NAME-V.crate`, `npm/SCOPE-NAME-V.tgz`, `python/*.whl` and `*.tar.gz`, and the Go module
  as a module proxy serves it (`go/MODULE/@v/...`);
- `CHANGELOG.md` (one line per change, with the side it breaks) and `release.json` (names,
  per-language tree digests and archive digests).
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from types import ModuleType

from witgen import __version__, backends, compat, ir, release_packages
from witgen.diagnostics import UsageError
from witgen.release_archives import source_date_epoch
from witgen.release_config import Metadata, ReleaseConfig, resolve_metadata

SEMVER = re.compile(r"^\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$")


@dataclass(frozen=True)
class Release:
    version: str
    package: str
    files: dict[str, str | bytes]  # relative path under the output directory -> content
    report: compat.Report | None
    warnings: tuple[str, ...] = ()


def package_version(resolve: ir.Resolve) -> tuple[str, str]:
    """(package name without version, version) of the main package; a version is required."""
    if resolve.main_package is None:
        raise UsageError("nothing to release: no package")
    pkg = resolve.packages[resolve.main_package]
    if pkg.version is None:
        raise UsageError(
            f"package `{pkg.name}` has no version; declare one (e.g. `package {pkg.name}@1.0.0;`)"
        )
    return f"{pkg.namespace}:{pkg.short_name}", pkg.version


# -- packages per language --------------------------------------------------------------------

GUEST_LANGUAGES = ("rust", "typescript", "go")  # these SDKs ship the WIT they were made from


def _package(
    lang: str, files: dict[str, str | bytes], wit: dict[str, str], meta: Metadata, epoch: int
) -> release_packages.Packed:
    if lang == "rust":
        return release_packages.rust(files, wit, meta, epoch)
    if lang == "typescript":
        return release_packages.typescript(files, wit, meta, epoch)
    if lang == "go":
        return release_packages.go(files, wit, meta, epoch)
    if lang == "python":
        return release_packages.python(files, meta, epoch)
    return release_packages.Packed(files, {})


def _package_name(lang: str, meta: Metadata) -> str | None:
    return {
        "rust": meta.crate,
        "typescript": meta.npm_package,
        "go": meta.go_module,
        "python": meta.python_package,
    }.get(lang)


def _tree_digest(files: dict[str, str | bytes]) -> str:
    digest = hashlib.sha256()
    for rel in sorted(files):
        data = files[rel]
        digest.update(rel.encode() + b"\0" + (data.encode() if isinstance(data, str) else data))
        digest.update(b"\0")
    return digest.hexdigest()


# -- the changelog ---------------------------------------------------------------------------


def _plain_message(f: compat.Finding) -> str:
    """The finding's message without the "(breaks ...)" tail the checker appends."""
    return re.sub(r" \(breaks existing [a-z ]+\)$", "", f.message)


def _sides(f: compat.Finding) -> str:
    if not f.breaks:
        return "breaks nobody"
    if len(f.breaks) == 2:
        return "breaks existing guests and hosts"
    return f"breaks {next(iter(f.breaks)).label}"


def changelog(package: str, version: str, report: compat.Report | None) -> str:
    """One line per change, naming the side it breaks once; breaking changes first."""
    lines = [f"# {package} {version}", ""]
    if report is None:
        lines += ["First release (no baseline given with --against).", ""]
        return "\n".join(lines)
    lines.append(f"Changes since {report.old_version or 'the baseline'}:")
    lines.append("")
    changes = [f for f in report.findings if not f.rule.startswith("PACKAGE_VERSION_")]
    if not changes:
        lines += ["- No interface changes.", ""]
    groups = (
        ("Breaking changes", [f for f in changes if f.breaks]),
        ("Other changes", [f for f in changes if not f.breaks]),
    )
    seen: set[tuple[str, str]] = set()
    for title, group in groups:
        if not group:
            continue
        lines += [f"## {title}", ""]
        for f in group:
            key = (f.rule, _plain_message(f))
            if key in seen:
                continue
            seen.add(key)
            tail = f" ({_sides(f)})" if f.breaks else ""
            lines.append(f"- `{f.rule}`: {_plain_message(f)}{tail}")
        lines.append("")
    return "\n".join(lines)


def build(
    resolve: ir.Resolve,
    *,
    source: str,
    baseline: ir.Resolve | None,
    languages: dict[str, ModuleType],
    wit: dict[str, str],
    config: ReleaseConfig | None = None,
    epoch: int | None = None,
) -> Release:
    """The release of `resolve`: every file, as text or bytes, under the output directory.

    `wit` is the contract as shipped with the guest SDKs (relative path -> text). Nothing in
    the result depends on where the input lies or when this runs: the same WIT content and
    configuration give the same bytes (`epoch` defaults to SOURCE_DATE_EPOCH or 1980-01-01).
    """
    package, version = package_version(resolve)
    if not SEMVER.match(version):
        raise UsageError(f"package version `{version}` is not a semver version")
    report = None
    if baseline is not None:
        report = compat.check(baseline, resolve, direction=compat.Direction.BOTH)
        # Breaking changes are fine in a release as long as the version says so: what is
        # refused is a version that understates the change (or a renamed package).
        wrong_version = [
            f
            for f in report.findings
            if f.rule.startswith("PACKAGE_VERSION_") or f.rule == "PACKAGE_RENAMED"
        ]
        if wrong_version:
            wrong = "; ".join(f"{f.rule}: {f.message}" for f in wrong_version)
            hint = (
                f" (the minimum correct version is {report.minimum_next_version})"
                if report.minimum_next_version
                else ""
            )
            raise UsageError(f"refusing to release {package}@{version}: {wrong}{hint}")
    main = resolve.main_package
    assert main is not None
    worlds = sorted(resolve.packages[main].worlds.values())
    if not worlds:
        raise UsageError(f"package `{package}` defines no world to release SDKs for")
    meta = resolve_metadata(config or ReleaseConfig(), resolve)
    when = source_date_epoch() if epoch is None else epoch
    out: dict[str, str | bytes] = {}
    manifest: dict[str, object] = {
        "package": package,
        "version": version,
        "witgen": __version__,
        "source_date_epoch": when,  # the time stamped into every archive
        "names": {
            "rust": meta.crate,
            "typescript": meta.npm_package,
            "go": meta.go_module,
            "python": meta.python_distribution,
        },
        "languages": {},
    }
    for lang, module in sorted(languages.items()):
        options = backends.GenerateOptions(source=source, package_name=_package_name(lang, meta))
        files: dict[str, str | bytes] = dict(module.generate(resolve, worlds, options))
        packed = _package(lang, files, wit if lang in GUEST_LANGUAGES else {}, meta, when)
        for rel in sorted(packed.tree):
            out[f"{lang}/{rel}"] = packed.tree[rel]
        archives = {}
        for rel in sorted(packed.archives):
            out[f"packages/{rel}"] = packed.archives[rel]
            archives[f"packages/{rel}"] = hashlib.sha256(packed.archives[rel]).hexdigest()
        manifest["languages"][lang] = {  # type: ignore[index]
            "files": len(packed.tree),
            "sha256": _tree_digest(packed.tree),
            "packages": archives,
        }
    out["CHANGELOG.md"] = changelog(package, version, report)
    out["release.json"] = json.dumps(manifest, indent=2) + "\n"
    return Release(version, package, out, report, meta.warnings)
