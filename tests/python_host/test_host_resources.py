"""Resources the host implements in Python (guests/hostres.wat): one in an imported
interface, one declared in the world. The plugin creates, uses, passes around and drops
handles; the bindings keep the objects behind them and call `close()` when a handle goes."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.python_host.wat_guests import GUESTS, build_guest


@pytest.fixture(scope="module")
def component() -> Path:
    return build_guest(GUESTS / "hostres", GUESTS / "hostres.wat", "hostres", "test_hostres")


class Counter:
    def __init__(self, log: list[str], name: str, value: int) -> None:
        self.log, self.name, self.value = log, name, value

    def add(self, n: int) -> int:
        self.value += n
        return self.value

    def close(self) -> None:
        self.log.append(f"close {self.name}")


class Token:
    def __init__(self, log: list[str], v: int) -> None:
        self.log, self.v = log, v

    def value(self) -> int:
        return self.v

    def close(self) -> None:
        self.log.append(f"close token {self.v}")


class Host:
    """Serves `test:hres/store` and the world's own `token` resource."""

    def __init__(self) -> None:
        self.log: list[str] = []
        self.made = 0
        self.returned: list[Counter] = []

    def counter(self, start: int) -> Counter:
        self.made += 1
        return Counter(self.log, f"c{self.made}", start)

    def counter_merge(self, a: Counter, b: Counter) -> Counter:
        self.returned.append(b)  # `own` handed back: the host owns it again, nothing closed
        self.log.append(f"merge {a.name} {b.name}")
        return Counter(self.log, f"{a.name}+{b.name}", a.value + b.value)

    def total(self, c: Counter) -> int:
        return c.value

    def token(self, v: int) -> Token:
        return Token(self.log, v)


@pytest.mark.parametrize("fast", [False, True], ids=["generic", "fast"])
def test_plugin_uses_and_drops_host_resources(component: Path, fast: bool) -> None:
    from test_hostres import Hostres

    host = Host()
    plugin = Hostres.load(component, store=host, imports=host, cache=False, fast=fast)
    assert plugin.prepared.mode == ("core" if fast else "component")
    t = 7 + 5 + 10
    assert plugin.run(7) == t + 2 * t
    assert host.log == ["merge c1 c2", "close c1", "close c1+c2", f"close token {2 * t}"]
    assert [c.name for c in host.returned] == ["c2"]
    if not fast:  # the fast path keeps its objects per instance (CoreInstance.host_*)
        assert all(not table.objects for table in plugin.prepared.host_resources.values())
    host.log.clear()
    assert plugin.run(1) == 3 * (1 + 15)  # a second call reuses nothing stale
    assert host.log[-1] == "close token 32"


@pytest.mark.parametrize("fast", [False, True], ids=["generic", "fast"])
def test_host_object_lent_to_the_plugin(component: Path, fast: bool) -> None:
    from test_hostres import Hostres

    host = Host()
    plugin = Hostres.load(component, store=host, imports=host, cache=False, fast=fast)
    mine = Counter(host.log, "mine", 41)
    assert plugin.peek(mine) == 41 and mine.add(1) == 42 and plugin.peek(mine) == 42
    assert host.log == []  # a borrow never closes the host's object
    if not fast:
        assert all(not table.objects for table in plugin.prepared.host_resources.values())


def test_fast_path_takes_host_resources(component: Path) -> None:
    from test_hostres import _fast

    assert "hostres" not in _fast.UNSUPPORTED and "hostres" in _fast.EXPORTS


def test_missing_resource_implementation_is_a_load_error(component: Path) -> None:
    from test_hostres import Hostres, PluginLoadError

    with pytest.raises(PluginLoadError, match="no implementation"):
        Hostres.load(component, imports=Host(), cache=False)
