"""Write .ci/constraints.txt: the exact version of every Python package the suite runs with.

    python3 .ci/lock.py            # regenerate from the current environment (after a green run)
    python3 .ci/lock.py --check    # exit 1 if the file differs from the current environment

It reads pyproject.toml (the build requirements, the dependencies and every optional extra) and
walks the installed distributions' own requirements, so the file holds exactly the packages
witgen and its tests pull in, each pinned to the version installed now. `.ci/install` installs
with `pip install -c .ci/constraints.txt`, so a new upstream release cannot change what CI runs;
`.ci/upgrade` ignores the file and tries the newest versions the declared ranges allow.

A requirement whose distribution is not installed (an optional extra CI does not install) is left
out and named on stderr. Run it with the interpreter the suite runs with.
"""

from __future__ import annotations

import argparse
import sys
from importlib import metadata
from pathlib import Path

from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10: witgen depends on tomli there
    import tomli as tomllib  # type: ignore[no-redef]

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / ".ci" / "constraints.txt"
# Build and install tooling the scripts use besides the declared requirements.
TOOLS = ["setuptools", "build"]


def _applies(req: Requirement, extras: set[str]) -> bool:
    if req.marker is None:
        return True
    env: dict[str, str] = dict(default_environment())
    for extra in extras or {""}:
        env["extra"] = extra
        if req.marker.evaluate(env):
            return True
    return False


def pins() -> tuple[dict[str, str], list[str]]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    roots = [Requirement(r) for r in project["build-system"]["requires"]]
    roots += [Requirement(r) for r in project["project"].get("dependencies", [])]
    for group in project["project"].get("optional-dependencies", {}).values():
        roots += [Requirement(r) for r in group]
    roots += [Requirement(t) for t in TOOLS]
    own = canonicalize_name(project["project"]["name"])

    found: dict[str, str] = {}
    missing: list[str] = []
    todo: list[tuple[Requirement, set[str]]] = [(r, set()) for r in roots]
    seen: set[tuple[str, frozenset[str]]] = set()
    while todo:
        req, parent_extras = todo.pop()
        if not _applies(req, parent_extras):
            continue
        name = canonicalize_name(req.name)
        key = (name, frozenset(req.extras))
        if key in seen or name == own:
            continue
        seen.add(key)
        try:
            dist = metadata.distribution(req.name)
        except metadata.PackageNotFoundError:
            missing.append(str(req))
            continue
        found[name] = dist.version
        for sub in dist.requires or []:
            todo.append((Requirement(sub), set(req.extras)))
    return found, sorted(set(missing))


def render(found: dict[str, str]) -> str:
    head = [
        "# Exact versions the witgen test suite passed with (Python "
        f"{sys.version_info.major}.{sys.version_info.minor}).",
        "# Regenerate after a green run: python3 .ci/lock.py   (see .ci/upgrade to move forward)",
    ]
    return "\n".join(head + [f"{n}=={v}" for n, v in sorted(found.items())]) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare instead of writing")
    args = parser.parse_args()
    found, missing = pins()
    for req in missing:
        print(f"lock: not installed, left out: {req}", file=sys.stderr)
    text = render(found)
    if args.check:
        current = OUT.read_text(encoding="utf-8") if OUT.exists() else ""
        if current != text:
            import difflib

            print(f"{OUT} differs from the installed versions:", file=sys.stderr)
            for line in difflib.unified_diff(
                current.splitlines(), text.splitlines(), "pinned", "installed", n=0, lineterm=""
            ):
                if not line.startswith("@@"):
                    print(f"  {line}", file=sys.stderr)
            return 1
        return 0
    OUT.write_text(text, encoding="utf-8")
    print(f"wrote {len(found)} pins to {OUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
