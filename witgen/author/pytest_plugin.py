"""A pytest plugin shipped with witgen (entry point `pytest11`): the `load_test_plugin` fixture.

    def test_uppercases(load_test_plugin):
        plugin = load_test_plugin("my-plugin", config={"prefix": "x-"})
        result = plugin.process(plugin.DataRecord(id="r1", timestamp=0, payload=b"hi", metadata=[]))
        assert result == plugin.types.ProcessingResultEmit(...)
        assert plugin.host.logs == ["debug: processing r1"]

`load_test_plugin(path_or_dir, config=None, limits=None, wit=None)` takes a plugin project folder
(built first when stale, as `witgen build`) or a component file (checked against the worlds of
`wit`, default the embedded dataflare:core contract), loads it with the generated Python host and
returns the typed plugin (`<World>Plugin`) wrapped with `host`, a recording host whose `logs`,
`counters` and `config` the test can read and change. Instances are closed after the test.
"""

from __future__ import annotations

from pathlib import Path
from types import ModuleType
from typing import Any, Callable, Iterator

import pytest

DEFAULT_LIMITS_MB = 128


class TestPlugin:
    """The typed plugin plus its recording host; attributes not found here are the plugin's."""

    __test__ = False  # not a test class, whatever pytest's collection rules say

    def __init__(self, plugin: Any, host: Any, pkg: ModuleType, kind: str) -> None:
        self.plugin = plugin
        self.host = host
        self.pkg = pkg
        self.kind = kind
        self.types = __import__(f"{pkg.__name__}.types", fromlist=["DataRecord"])
        self.DataRecord = self.types.DataRecord

    def record(
        self,
        id: str,
        payload: bytes | str = b"",
        metadata: list[tuple[str, str]] | None = None,
        timestamp: int = 0,
    ) -> Any:
        """A data-record of this contract (text payloads are UTF-8 encoded)."""
        data = payload.encode() if isinstance(payload, str) else payload
        return self.DataRecord(id=id, timestamp=timestamp, payload=data, metadata=metadata or [])

    def __getattr__(self, name: str) -> Any:
        return getattr(self.plugin, name)


def _load(
    path_or_dir: str | Path,
    config: dict[str, str] | None,
    limits: Any,
    wit: str | Path | None,
) -> TestPlugin:
    from witgen.author.builder import build, check_component
    from witgen.author.host import RecordingHost, host_package, plugin_class, project_host
    from witgen.author.project import KINDS, Project
    from witgen.diagnostics import WitgenError
    from witgen.paths import default_wit

    path = Path(path_or_dir)
    if path.is_dir():
        project = Project.load(path)
        component = build(project).component
        pkg, cls = project_host(project)
        kind = project.kind
    else:
        contract = Path(wit) if wit is not None else default_wit()
        from witgen import frontend

        resolve = frontend.load(contract)
        main = resolve.main_package
        assert main is not None
        world = None
        for name, wid in sorted(resolve.packages[main].worlds.items()):
            try:
                check_component(path, resolve, wid)
            except WitgenError:
                continue
            world = name
            break
        if world is None:
            raise pytest.fail.Exception(f"{path} is not a plugin of any world of {contract}")
        cache = Path.home() / ".cache" / "witgen" / "pytest-hosts"
        pkg = host_package(contract, cache, world)
        cls = plugin_class(pkg, world)
        component = path
        kind = next((k for k in KINDS if world.startswith(k)), world)
    host = RecordingHost(pkg, config=dict(config or {}))
    if limits is None:
        limits = pkg.Limits(memory_bytes=DEFAULT_LIMITS_MB * 1024 * 1024, timeout=10.0)
    import inspect

    wanted = inspect.signature(cls.load).parameters
    serves = {k: v for k, v in host.serves().items() if k in wanted}
    plugin = cls.load(str(component), limits=limits, **serves)
    return TestPlugin(plugin, host, pkg, kind)


@pytest.fixture
def load_test_plugin() -> Iterator[Callable[..., TestPlugin]]:
    """Load a plugin (project folder or component file) with a recording host; see module doc."""
    loaded: list[TestPlugin] = []

    def load(
        path_or_dir: str | Path,
        config: dict[str, str] | None = None,
        limits: Any = None,
        wit: str | Path | None = None,
    ) -> TestPlugin:
        plugin = _load(path_or_dir, config, limits, wit)
        loaded.append(plugin)
        return plugin

    yield load
    for plugin in loaded:
        try:
            plugin.plugin.close()
        except Exception:  # an instance that trapped is already gone
            pass
