"""A componentize-js plugin on the fast path (issue 14): its WASI 0.2 imports are served by
`_wasi.py`, and its fixtures pass with the same outcomes, logs and counters as on the generic
wasmtime.component path."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.typescript.conftest import EXAMPLE, build_example
from witgen.paths import REPO_ROOT

# compiled code of the 12 MB component, kept between runs (git-ignored); the pipeline tests'
# cache, so that test_pipeline_ts finds the component already compiled
CACHE = REPO_ROOT / "target" / "pipeline-tests" / "cache"


@pytest.fixture(scope="module")
def component() -> Path:
    return build_example()


def _runner(component: Path, fast: bool) -> Any:
    from witgen.author import fixtures
    from witgen.author.host import project_host
    from witgen.author.project import Project
    from witgen.author.runner import Runner
    from witgen.commands.test import export_names

    project = Project.load(EXAMPLE)
    pkg, plugin_cls = project_host(project)
    resolve = project.resolve()

    prepared: dict[Any, Any] = {}

    class OnePath(Runner):
        """Prepares the component once per limits, on one path only."""

        def prepare(self, fixture: Any, cache_dir: Path | None) -> Any:
            limits = self.pkg.Limits(
                memory_bytes=fixture.limits.memory_bytes, timeout=fixture.limits.timeout
            )
            key = (limits.memory_bytes, limits.timeout)
            if key not in prepared:
                prepared[key] = self.plugin_cls.prepare(
                    str(self.component), limits=limits, cache_dir=CACHE, fast=fast, **self.serves
                )
            return prepared[key]

    runner = OnePath(
        component, pkg, plugin_cls, project.kind, export_names(resolve, project.world_id(resolve))
    )
    loaded = [fixtures.load(p, project.kind) for p in fixtures.discover(project.fixtures)]
    return runner, loaded


def test_fixtures_pass_alike_on_both_paths(component: Path) -> None:
    outcomes = {}
    for fast in (True, False):
        runner, loaded = _runner(component, fast)
        results = [r for fixture in loaded for r in runner.run_file(fixture, CACHE)]
        failed = [f"{r.case.name}: {r.message}" for r in results if not r.passed]
        assert not failed, ("fast" if fast else "generic", failed)
        outcomes[fast] = [(r.case.name, r.passed) for r in results]
    assert outcomes[True] == outcomes[False] and len(outcomes[True]) > 3


def test_batch_results_logs_and_counters_match(component: Path) -> None:
    from witgen.author.host import project_host
    from witgen.author.project import Project

    pkg, plugin_cls = project_host(Project.load(EXAMPLE))
    types = __import__(f"{pkg.__name__}.processor", fromlist=["DataRecord"])
    records = [
        types.DataRecord(f"r{i}", i, payload, meta)
        for i, (payload, meta) in enumerate(
            [
                (b"hello", [("source", "demo")]),
                (b"", []),
                (b"a\nb\nc", [("split", "lines")]),
                (b"x", [("drop", "yes")]),
                ("ünïcode".encode(), []),
            ]
            * 20
        )
    ]
    seen = {}
    for fast in (True, False):
        runner, _ = _runner(component, fast)
        host = runner.host
        host.reset({"id-prefix": "p/", "max-parts": "2"})
        prepared = plugin_cls.prepare(str(component), cache_dir=CACHE, fast=fast, **runner.serves)
        assert prepared.mode == ("core" if fast else "component"), prepared.fast_unavailable
        plugin = plugin_cls(prepared)
        try:
            got = plugin.processor.process_batch(records)
            single = [plugin.processor.process(r) for r in records[:5]]
        finally:
            plugin.close()
        seen[fast] = (got, single, list(host.logs), dict(host.counters))
    assert seen[True] == seen[False]
