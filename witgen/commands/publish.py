"""`witgen publish DIST --registry KIND=LOCATION ...`: push a release to real registries.

See `witgen.publish` for what each registry kind receives and which credentials it reads from
the environment. Exit status: 0 published, 1 a registry refused or could not be reached, 2 bad
input (no release, a digest that does not match release.json, a missing client).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from witgen import publish
from witgen.diagnostics import UsageError

HELP = "push a release's packages to npm, PyPI, a Cargo registry, a Go proxy directory and OCI"


DESCRIPTION = """\
Push the packages of a release (written by `witgen release`) to registries. Every archive is
checked against the digests in release.json first. Credentials come from the environment:

  npm=URL                  npm publish                      NPM_TOKEN
  pypi=URL                 twine upload                     TWINE_USERNAME/TWINE_PASSWORD, PYPI_TOKEN
  cargo=sparse+URL/index/  Cargo's publish API              CARGO_REGISTRY_TOKEN
  go=DIR                   files merged into a GOPROXY dir  (or push the tag in go/VERSION)
  oci=http(s)://HOST/PFX   wasm-pkg OCI layout              OCI_USERNAME/OCI_PASSWORD, OCI_TOKEN

Exit status: 0 published, 1 a registry refused or could not be reached, 2 bad input.
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = DESCRIPTION
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument(
        "dist", type=Path, help="the release directory (dist/VERSION, or dist with one version)"
    )
    parser.add_argument(
        "--registry",
        action="append",
        required=True,
        metavar="KIND=LOCATION",
        help="npm=URL, pypi=URL, cargo=INDEX-URL, go=DIR, oci=URL (repeatable; only these "
        "are published, in the order given)",
    )
    parser.add_argument(
        "--component",
        action="append",
        default=[],
        metavar="NAME=FILE",
        help="also push this plugin component to the OCI registry as PREFIX/NAME:VERSION",
    )


def run(args: argparse.Namespace) -> int:
    registries = [publish.parse_registry(spec) for spec in args.registry]
    components: dict[str, Path] = {}
    for spec in args.component:
        name, sep, file = spec.partition("=")
        if not sep or not name or not file:
            raise UsageError(f"--component {spec!r}: expected NAME=FILE")
        components[name] = Path(file)
    if components and not any(kind == "oci" for kind, _ in registries):
        raise UsageError("--component needs an OCI registry (--registry oci=URL)")
    release = publish.open_release(args.dist)
    publish.publish(release, registries, components=components)
    print(f"published {release.package}@{release.version} to {len(registries)} registries")
    return 0
