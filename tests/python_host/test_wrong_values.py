"""A wrong Python value is reported with the function, the path inside the value and the
expected type, identically on the generic and the fast path; the plugin stays usable.

The same holds for values a host implementation returns to the plugin."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest

from tests.python_host.conftest import RecordingHost
from tests.python_host.wat_guests import GUESTS, build_echo, build_guest
from dataflare_core import ProcessorPlugin
from dataflare_core.types import DataRecord, ProcessingResultEmit

GOOD = DataRecord("a", 1, b"x", [("k", "v")])


@pytest.fixture(params=[False, True], ids=["generic", "fast"])
def fast(request: pytest.FixtureRequest) -> bool:
    return bool(request.param)


@pytest.fixture
def processor(processor_wat: Path, fast: bool) -> ProcessorPlugin:
    plugin = ProcessorPlugin.load(processor_wat, logging=RecordingHost(), cache=False, fast=fast)
    assert plugin.prepared.mode == ("core" if fast else "component")
    return plugin


@pytest.mark.parametrize(
    "call, error, message",
    [
        (
            lambda p: p.process(dataclasses.replace(GOOD, payload="hello")),
            TypeError,
            "process(record.payload): expected bytes, got str",
        ),
        (
            lambda p: p.process(dataclasses.replace(GOOD, payload=5)),
            TypeError,
            "process(record.payload): expected bytes, got int",
        ),
        (
            lambda p: p.process(dataclasses.replace(GOOD, timestamp="1")),
            TypeError,
            "process(record.timestamp): expected int, got str",
        ),
        (
            lambda p: p.process(dataclasses.replace(GOOD, metadata={"ab": "cd"})),
            TypeError,
            "process(record.metadata): expected list, got dict",
        ),
        (
            lambda p: p.process(dataclasses.replace(GOOD, metadata=[("k", "v", "w")])),
            TypeError,
            "process(record.metadata[0]): expected tuple of 2, got tuple",
        ),
        (
            lambda p: p.process(dataclasses.replace(GOOD, metadata=[("k", None)])),
            TypeError,
            "process(record.metadata[0][1]): expected str, got None",
        ),
        (
            lambda p: p.process(dataclasses.replace(GOOD, id=None)),
            TypeError,
            "process(record.id): expected str, got None",
        ),
        (
            lambda p: p.process(dataclasses.replace(GOOD, timestamp=2**63)),
            ValueError,
            "process(record.timestamp): 9223372036854775808 is out of range for s64",
        ),
        (
            lambda p: p.process_batch([GOOD, "not a record"]),
            TypeError,
            "process_batch(records[1]): expected DataRecord, got str",
        ),
        (
            lambda p: p.process_batch([GOOD, dataclasses.replace(GOOD, payload=[1, 2])]),
            TypeError,
            "process_batch(records[1].payload): expected bytes, got list",
        ),
        (
            lambda p: p.process_batch(None),
            TypeError,
            "process_batch(records): expected list, got None",
        ),
    ],
)
def test_wrong_argument_names_function_path_and_type(
    processor: ProcessorPlugin, call: Any, error: type[Exception], message: str
) -> None:
    with pytest.raises(error) as info:
        call(processor)
    assert str(info.value) == message
    assert processor.process(GOOD) == ProcessingResultEmit(GOOD)  # still usable


@pytest.fixture(scope="module")
def echo_component() -> Path:
    return build_echo()


def _everything() -> Any:
    from test_echo import Err, Ok
    from test_echo import kinds as k

    return k.Everything(
        True, 1, -1, 2, -2, 3, -3, 4, -4, 1.5, 2.5, "c", "s", b"raw", k.Color.RED,
        k.Perms.READ, k.Many(0), k.Point(1, 2.0, "p"), k.ShapeSquare(3), None, None,
        Ok(1), Ok(None), Ok(k.Color.BLUE), Err(k.Point(0, 0.0, "z")), [("a", True)], 7,
    )  # fmt: skip


@pytest.mark.parametrize(
    "change, error, message",
    [
        ({"color": "red"}, TypeError, "echo(items[0].color): expected Color, got str"),
        ({"perms": 1}, TypeError, "echo(items[0].perms): expected Perms, got int"),
        ({"shape": "circle"}, TypeError, "echo(items[0].shape): expected ShapeCircle or ShapeSq"),
        ({"b": 1}, TypeError, "echo(items[0].b): expected bool, got int"),
        ({"c": "cc"}, TypeError, "echo(items[0].c): expected str of length 1, got str"),
        ({"u8v": 256}, ValueError, "echo(items[0].u8v): 256 is out of range for u8"),
        ({"s8v": -129}, ValueError, "echo(items[0].s8v): -129 is out of range for s8"),
        ({"outcome": 3}, TypeError, "echo(items[0].outcome): expected Ok(...) or Err(...)"),
        ({"pairs": [("a", "yes")]}, TypeError, "echo(items[0].pairs[0][1]): expected bool"),
        ({"nested": 5}, TypeError, "echo(items[0].nested): expected None or Some(...), got int"),
    ],
)
def test_every_kind_of_wrong_value(
    echo_component: Path, fast: bool, change: dict[str, Any], error: type, message: str
) -> None:
    from test_echo import EchoWorld

    echo = EchoWorld.load(echo_component, cache=False, fast=fast)
    good = _everything()
    assert echo.kinds.echo([good]) == [good]
    with pytest.raises(error) as info:
        echo.kinds.echo([dataclasses.replace(good, **change)])
    assert str(info.value).startswith(message)
    assert echo.kinds.echo([good]) == [good]
    with pytest.raises(ValueError, match=r"^add_one\(x\): -1 is out of range for u32$"):
        echo.add_one(-1)


@pytest.fixture(scope="module")
def world_component() -> Path:
    return build_guest(GUESTS / "worlditems", GUESTS / "worlditems.wat", "host-funcs", "test_world")


class Host:
    def __init__(self, **returns: Any) -> None:
        self.returns = returns

    def configure(self, c: Any) -> Any:
        from test_world.host_funcs_types import EventStart

        return self.returns.get("configure", EventStart())

    def where(self) -> Any:
        from test_world.host_funcs_types import Spot

        return self.returns.get("where", Spot(3, 4))

    def get(self, key: str) -> Any:
        return self.returns.get("get", 100)


@pytest.mark.parametrize(
    "returns, error, message",
    [
        ({"get": None}, TypeError, "get(return): expected int, got None"),
        ({"get": 2**32}, ValueError, "get(return): 4294967296 is out of range for u32"),
        ({"where": (3, 4)}, TypeError, "where(return): expected Point, got tuple"),
        ({"configure": "start"}, TypeError, "configure(return): expected EventStart or"),
    ],
)
def test_wrong_value_returned_by_the_host(
    world_component: Path, fast: bool, returns: dict[str, Any], error: type, message: str
) -> None:
    from test_world import HostFuncs

    bad = Host(**returns)
    plugin = HostFuncs.load(world_component, imports=bad, settings=bad, cache=False, fast=fast)
    with pytest.raises(error) as info:
        plugin.guest.run("abc", 5)
    assert str(info.value).startswith(message)
    good = Host()
    plugin = HostFuncs.load(world_component, imports=good, settings=good, cache=False, fast=fast)
    assert plugin.guest.run("abc", 5) == 100 + 7
