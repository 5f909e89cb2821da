"""World-level items on both paths against a real component (guests/worlditems.wat):
functions the world imports (served by a host object at the component's root), world-level
types (declared in the world and brought in by `use ... as`), inline interfaces imported and
exported, and a function the world exports directly."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.python_host.wat_guests import GUESTS, build_guest


@pytest.fixture(scope="module")
def component() -> Path:
    return build_guest(GUESTS / "worlditems", GUESTS / "worlditems.wat", "host-funcs", "test_world")


@pytest.fixture(params=[False, True], ids=["generic", "fast"])
def fast(request: pytest.FixtureRequest) -> bool:
    return bool(request.param)


class Host:
    """Serves the world's own imports and the inline `settings` interface."""

    def __init__(self) -> None:
        self.configs: list[Any] = []

    def configure(self, c: Any) -> Any:
        from test_world.host_funcs_types import EventStart, EventStop

        self.configs.append(c)
        return EventStart() if c.level < 10 else EventStop(c.level * 2)

    def where(self) -> Any:
        from test_world.host_funcs_types import Spot

        return Spot(3, 4)

    def get(self, key: str) -> int:
        return len(key) * 100


def test_world_imports_inline_interfaces_and_world_types(component: Path, fast: bool) -> None:
    from test_world import HostFuncs
    from test_world.host_funcs_types import Config, Mode, Spot
    from test_world.shared import Point

    assert Spot is Point  # `use shared.{point as spot}` names the same class
    host = Host()
    plugin = HostFuncs.load(component, imports=host, settings=host, cache=False, fast=fast)
    assert plugin.prepared.mode == ("core" if fast else "component")
    assert plugin.guest.run("abc", 5) == 300 + 7  # start: asks settings.get("abc")
    assert plugin.guest.run("héllo", 50) == 100 + 7  # stop(100)
    assert host.configs == [Config("abc", 5), Config("héllo", 50)]
    assert plugin.flip(Mode.FAST) is Mode.SLOW and plugin.flip(Mode.SLOW) is Mode.FAST


def test_missing_world_import_is_a_load_error(component: Path, fast: bool) -> None:
    from test_world import HostFuncs, PluginLoadError

    with pytest.raises(PluginLoadError, match="no implementation"):
        HostFuncs.load(component, settings=Host(), cache=False, fast=fast)


def test_host_errors_reach_the_caller(component: Path, fast: bool) -> None:
    from test_world import HostFuncs
    from test_world.host_funcs_types import Mode

    class Failing(Host):
        def where(self) -> Any:
            raise RuntimeError("no location")

    plugin = HostFuncs.load(component, imports=Failing(), settings=Host(), cache=False, fast=fast)
    with pytest.raises(RuntimeError, match="no location"):
        plugin.guest.run("x", 1)
    assert plugin.flip(Mode.FAST) is Mode.SLOW  # the plugin stays usable
