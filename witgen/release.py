"""`witgen release`: one WIT version in, versioned SDK packages for every language out.

The release is refused (nothing is written) when an `--against` baseline is given and the
package version is not a correct successor of it (the compat checker decides, in both
directions: a plugin SDK and a host SDK ship together). Every language's package carries the
WIT package version, so a plugin built with SDK 1.2.0 and a host built with bindings 1.2.0
agree on the contract by construction.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from types import ModuleType

from witgen import __version__, backends, compat, ir
from witgen.diagnostics import UsageError

SEMVER = re.compile(r"^\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$")


@dataclass(frozen=True)
class Release:
    version: str
    package: str
    files: dict[str, str]  # relative path under the output directory -> text
    report: compat.Report | None


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


# -- stamping the version into each language's manifest --------------------------------------


def _stamp_cargo(files: dict[str, str], version: str) -> None:
    text = files.get("Cargo.toml")
    if text is not None:
        files["Cargo.toml"] = re.sub(
            r'(?m)^version = "[^"]*"', f'version = "{version}"', text, count=1
        )


def _stamp_package_json(files: dict[str, str], version: str) -> None:
    text = files.get("package.json")
    if text is not None:
        doc = json.loads(text)
        doc["version"] = version
        files["package.json"] = json.dumps(doc, indent=2) + "\n"


def _stamp_python(files: dict[str, str], version: str, package: str) -> None:
    if "pyproject.toml" in files:
        files["pyproject.toml"] = re.sub(
            r'(?m)^version = "[^"]*"', f'version = "{version}"', files["pyproject.toml"], count=1
        )
        return
    top = sorted({p.split("/", 1)[0] for p in files if "/" in p})
    dist_name = package.replace(":", "-") + "-host"
    files["pyproject.toml"] = (
        '[build-system]\nrequires = ["setuptools>=61"]\nbuild-backend = "setuptools.build_meta"\n'
        f'\n[project]\nname = "{dist_name}"\nversion = "{version}"\n'
        f'description = "Typed wasmtime host bindings for {package}"\n'
        'requires-python = ">=3.10"\ndependencies = ["wasmtime>=50"]\n'
        f"\n[tool.setuptools]\npackages = {json.dumps(top)}\n"
        f"\n[tool.setuptools.package-data]\n" + "".join(f'"{t}" = ["py.typed"]\n' for t in top)
    )


def _stamp_go(files: dict[str, str], version: str) -> None:
    # Go module versions are git tags, not manifest fields; record the tag to push.
    major = int(version.split(".", 1)[0])
    files["VERSION"] = f"v{version}\n"
    if major >= 2 and "go.mod" in files:
        # Go's import compatibility rule: major versions >= 2 end the module path in /vN.
        files["go.mod"] = re.sub(
            r"(?m)^module (\S+?)(/v\d+)?$", rf"module \1/v{major}", files["go.mod"], count=1
        )


def _stamp(lang: str, files: dict[str, str], version: str, package: str) -> None:
    if lang == "rust":
        _stamp_cargo(files, version)
    elif lang == "typescript":
        _stamp_package_json(files, version)
    elif lang == "python":
        _stamp_python(files, version, package)
    elif lang == "go":
        _stamp_go(files, version)


# -- the changelog ---------------------------------------------------------------------------


def changelog(package: str, version: str, report: compat.Report | None) -> str:
    lines = [f"# {package} {version}", ""]
    if report is None:
        lines += ["First release (no baseline given with --against).", ""]
        return "\n".join(lines)
    lines.append(f"Changes since {report.old_version or 'the baseline'}:")
    lines.append("")
    if not report.findings:
        lines += ["- No interface changes.", ""]
    for f in report.findings:
        sides = ", ".join(sorted(s.label for s in f.breaks)) or "nobody"
        lines.append(f"- **{f.rule}** ({f.severity.value}, breaks {sides}): {f.message}")
    lines.append("")
    return "\n".join(lines)


def build(
    resolve: ir.Resolve,
    *,
    source: str,
    baseline: ir.Resolve | None,
    languages: dict[str, ModuleType],
) -> Release:
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
    out: dict[str, str] = {}
    manifest: dict[str, object] = {
        "package": package,
        "version": version,
        "witgen": __version__,
        "languages": {},
    }
    for lang, module in sorted(languages.items()):
        files = dict(module.generate(resolve, worlds, backends.GenerateOptions(source=source)))
        _stamp(lang, files, version, package)
        digest = hashlib.sha256()
        for rel in sorted(files):
            digest.update(rel.encode() + b"\0" + files[rel].encode() + b"\0")
            out[f"{lang}/{rel}"] = files[rel]
        manifest["languages"][lang] = {  # type: ignore[index]
            "files": len(files),
            "sha256": digest.hexdigest(),
        }
    out["CHANGELOG.md"] = changelog(package, version, report)
    out["release.json"] = json.dumps(manifest, indent=2) + "\n"
    return Release(version, package, out, report)
