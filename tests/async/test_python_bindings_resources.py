"""Resources in async worlds, through the generated Python bindings.

The guest of tests/async/wit/tally.wit (tests/async/rust_tally, built as in
test_rust_async_resources.py, which drives it by hand) run through `witgen generate --lang
python`: the exported resource `counter` is a `Counter` object whose async methods are
coroutine methods (its handle is the guest's rep; `close()` runs the guest's destructor), its
constructor and async static function are methods of the world's `tally` exports; the host
resource `crate` is any Python object with the `Crate` Protocol's coroutine methods, lent to the
guest as a handle in its table (`close()` runs when the guest drops an owned one), its static
function a coroutine method of the `shelf` object.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import rust_source
import test_rust_async_resources as by_hand
from test_python_bindings import _generate

TALLY_WIT = by_hand.TALLY_WIT
U64 = by_hand.U64


@dataclass
class Crate:
    """A host `crate` (the generated `Crate` Protocol)."""

    items: dict[str, bytes]
    closed: int = 0
    kept: dict[str, list[int]] = field(default_factory=dict)

    async def fetch(self, key: str) -> bytes:
        await asyncio.sleep(0)  # the guest waits for the subtask
        assert not self.closed
        return self.items.get(key, b"")

    async def put(self, key: str, values: list[int]) -> int:
        await asyncio.sleep(0)
        self.kept[key] = values
        return sum(len(v) for v in self.kept.values())

    def close(self) -> None:
        self.closed += 1


class Host:
    """Serves `shelf` (the crate count) and the world's `note`."""

    def __init__(self) -> None:
        self.crates: list[Crate] = []
        self.notes: list[str] = []
        self.gate: asyncio.Event | None = None

    async def crate_count(self) -> int:
        await asyncio.sleep(0)
        if self.gate is not None:
            await self.gate.wait()
        return sum(not c.closed for c in self.crates)

    def note(self, message: str) -> None:
        self.notes.append(message)


@pytest.fixture(scope="module")
def tally_pkg(tmp_path_factory: pytest.TempPathFactory) -> ModuleType:
    return _generate(TALLY_WIT, "tally_bindings", tmp_path_factory.mktemp("t"))


@pytest.fixture(scope="module")
def host() -> Host:
    return Host()


@pytest.fixture(scope="module")
def plugin(tally_pkg: ModuleType, host: Host) -> Any:
    rust_source.require_rust()
    component = by_hand.build_tally()
    return tally_pkg.TallyGuest.load(component, shelf=host, imports=host)


def test_the_package_is_black_and_mypy_clean(tally_pkg: ModuleType) -> None:
    folder = Path(tally_pkg.__file__).parent
    black = [sys.executable, "-m", "black", "--check", "-q", str(folder)]
    assert subprocess.run(black, capture_output=True).returncode == 0
    mypy = [sys.executable, "-m", "mypy", "--strict", "--no-incremental", str(folder)]
    out = subprocess.run(mypy, capture_output=True, text=True, cwd=folder.parent)
    assert out.returncode == 0, out.stdout + out.stderr


@settings(max_examples=25, deadline=None)
@given(st.integers(0, U64), st.lists(st.integers(0, 2**32 - 1), max_size=8), st.text(max_size=10))
def test_async_methods_and_static_of_an_exported_resource(
    plugin: Any, tally_pkg: ModuleType, start: int, adds: list[int], prefix: str
) -> None:
    async def body() -> tuple[list[int], str]:
        counter = await plugin.tally.counter_doubled(start)
        assert isinstance(counter, tally_pkg.tally.Counter)
        totals = [await counter.add(n) for n in adds]
        label = await counter.label(prefix)
        counter.close()
        return totals, label

    totals, label = asyncio.run(body())
    expected, total = [], (start * 2) & U64
    for n in adds:
        total = (total + n) & U64
        expected.append(total)
    assert totals == expected
    assert label == f"{prefix}{total}"


def test_the_constructor_and_a_drop_run_in_the_guest(plugin: Any, host: Host) -> None:
    async def body() -> tuple[int, int]:
        a = plugin.tally.counter(5)
        b = await plugin.tally.counter_doubled(100)
        await a.add(1)
        result = await a.add(2), await b.add(3)
        host.notes.clear()
        a.close()
        with b:
            pass
        return result

    assert asyncio.run(body()) == (8, 203)
    assert host.notes == ["drop 8", "drop 203"]


def test_a_closed_counter_is_refused(plugin: Any) -> None:
    async def body() -> None:
        counter = plugin.tally.counter(1)
        counter.close()
        await counter.add(1)

    with pytest.raises(Exception, match="closed"):
        asyncio.run(body())


@settings(max_examples=25, deadline=None)
@given(
    st.dictionaries(st.text(max_size=6), st.binary(max_size=40), max_size=4),
    st.text(max_size=6),
    st.integers(0, 3),
)
def test_async_method_and_static_of_a_host_resource(
    plugin: Any, host: Host, items: dict[str, bytes], key: str, others: int
) -> None:
    crate = Crate(items)
    host.crates[:] = [crate] + [Crate({}) for _ in range(others)]
    count, data = asyncio.run(plugin.probe(crate, key))
    assert crate.closed == 1  # the guest dropped the crate it owned: close() ran once
    assert count == others
    assert bytes(data) == items.get(key, b"")[::-1]


@settings(max_examples=25, deadline=None)
@given(st.text(max_size=8), st.lists(st.integers(-(2**31), 2**31 - 1), max_size=30))
def test_a_host_resource_method_with_its_parameters_in_memory(
    plugin: Any, host: Host, key: str, values: list[int]
) -> None:
    crate = Crate({})
    host.crates[:] = [crate]
    total = asyncio.run(plugin.stash(crate, key, values))
    assert crate.kept == {key: values, key[::-1]: values}
    assert total == len(values) + len(values) * len(crate.kept)
    assert crate.closed == 1


def test_a_wrong_crate_names_the_function(plugin: Any) -> None:
    with pytest.raises(TypeError, match="stash"):
        asyncio.run(plugin.stash(None, "k", []))


@settings(max_examples=10, deadline=None)
@given(st.integers(0, 2**40), st.lists(st.integers(0, 2**32 - 1), min_size=1, max_size=3))
def test_closing_a_counter_while_its_method_tasks_run(
    plugin: Any, host: Host, start: int, lingers: list[int]
) -> None:
    """`linger` answers, then waits for the host; the counter is closed meanwhile: the value
    goes once, after the last task."""
    host.notes.clear()

    async def body() -> tuple[list[int], list[str]]:
        host.gate = asyncio.Event()
        try:
            counter = await plugin.tally.counter_doubled(start)
            totals = [await counter.linger(n) for n in lingers]
            counter.close()
            early = list(host.notes)
            host.gate.set()
            for _ in range(1000):
                if len(host.notes) >= len(lingers) + 1:
                    break
                await asyncio.sleep(0)
            return totals, early
        finally:
            host.gate = None

    totals, early = asyncio.run(body())
    assert early == []
    total, expected = start * 2, []
    for n in lingers:
        total += n
        expected.append(total)
    assert totals == expected
    *lingered, dropped = host.notes
    assert dropped == f"drop {total + sum(lingers)}"
    assert len(lingered) == len(lingers)
