"""`witgen test [DIR] [-k PATTERN] [--json]`: run a plugin project's fixtures.

Builds the component when it is stale (as `witgen build`), loads it with the generated Python
host under limits, runs every case of `fixtures/*.toml` on a fresh instance, prints one line per
case (a diff of expected and actual for a failed one), the coverage of exports and result cases,
and the summary `N passed, M failed`. Exit 0 when every case passed, 1 when any failed, 2 when
the tests cannot run (no project, no fixtures, a build or fixture file error).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

from witgen import ir
from witgen.author import fixtures
from witgen.author.builder import build
from witgen.author.host import project_host
from witgen.author.project import Project
from witgen.author.runner import CaseResult, Runner
from witgen.diagnostics import UsageError

HELP = "build a plugin project when stale and run its fixture cases (fixtures/*.toml)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("dir", nargs="?", type=Path, default=Path("."), help="project folder")
    parser.add_argument(
        "-k", dest="pattern", default=None, help="only cases whose name contains PATTERN (or glob)"
    )
    parser.add_argument("--json", action="store_true", help="print the results as JSON")


def export_names(resolve: ir.Resolve, wid: int) -> list[str]:
    """The exported functions of a world, as the coverage report names them."""
    names = []
    for entry in resolve.worlds[wid].exports:
        item = entry.item
        if isinstance(item, ir.WorldInterface):
            for fn in resolve.interfaces[item.id].functions:
                names.append(re.sub(r"^\[[a-z-]+\]", "", fn))
    return names


def run(args: argparse.Namespace) -> int:
    project = Project.load(args.dir)
    files = fixtures.discover(project.fixtures)
    if not files:
        raise UsageError(f"no fixture files in {project.fixtures} (add a *.toml file)")
    loaded = [fixtures.load(path, project.kind) for path in files]
    result = build(project)
    log = sys.stderr if args.json else sys.stdout
    state = "built" if result.fresh else "up to date"
    print(f"{state}: {result.component} ({result.size:,} bytes)", file=log)
    pkg, plugin_cls = project_host(project)
    resolve = project.resolve()
    runner = Runner(
        result.component,
        pkg,
        plugin_cls,
        project.kind,
        export_names(resolve, project.world_id(resolve)),
    )
    cache = None  # the host's per-user cache of compiled components, shared by projects
    results: list[CaseResult] = []
    for fixture in loaded:
        shown = _rel(fixture.path)
        if not args.json:
            print(shown)
        for case_result in runner.run_file(fixture, cache, args.pattern):
            results.append(case_result)
            if not args.json:
                _print_case(case_result)
    passed = sum(r.passed for r in results)
    failed = len(results) - passed
    if args.json:
        doc = {
            "component": str(result.component),
            "cases": [r.to_json() for r in results],
            "passed": passed,
            "failed": failed,
            "coverage": runner.coverage.to_json(),
        }
        print(json.dumps(doc, indent=2))
    else:
        for line in runner.coverage.lines():
            print(line)
        print(f"{passed} passed, {failed} failed")
    if not results:
        print(f"error: no case matches -k {args.pattern!r}", file=sys.stderr)
        return 2
    return 0 if failed == 0 else 1


def _rel(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _print_case(result: CaseResult) -> None:
    if result.passed:
        print(f"  PASS {result.case.name}")
        return
    where = f"{_rel(result.case.path)}:{result.case.line}"
    reason = f" [{result.failure}]" if result.failure else ""
    print(f"  FAIL {result.case.name}{reason} ({where})")
    print(f"       {result.message}")
    for line in result.diff:
        print(f"       {line}")
