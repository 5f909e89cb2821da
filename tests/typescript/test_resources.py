"""End to end with resources: an aggregator plugin (tests/typescript/fixtures/aggregator.ts)
whose exported resource is a class, with a static function, borrowed handles, and `err`
returned by throwing `ComponentError`. Proves the SDK's resource and result conventions
match what componentize-js does at run time."""

from __future__ import annotations

from pathlib import Path

import pytest
import wasmtime
from wasmtime import component as wc

from tests.typescript.conftest import node_tool
from tests.typescript.guests import Guest, Host, Plugin, record

AGGREGATOR = Guest(
    name="aggregator",
    world="aggregator-plugin",
    entry=Path(__file__).parent / "fixtures" / "aggregator.ts",
)


@pytest.fixture(scope="module")
def aggregator_component() -> tuple[wasmtime.Engine, wc.Component]:
    node_tool("componentize-js")
    engine = wasmtime.Engine()
    return engine, AGGREGATOR.component(engine)


@pytest.fixture
def plugin(aggregator_component: tuple[wasmtime.Engine, wc.Component]) -> Plugin:
    engine, comp = aggregator_component
    return Plugin.instantiate(engine, comp, "dataflare:core/aggregator@1.0.0", Host())


def test_resource_lifecycle_and_static_function(plugin: Plugin) -> None:
    left = plugin.call("[constructor]accumulator", "w1")
    right = plugin.call("[constructor]accumulator", "w2")
    assert plugin.call("[method]accumulator.add", left, record("a", b"abc")) is None
    batch = [record("b", b"q"), record("c", b"qq")]
    assert plugin.call("[method]accumulator.add-batch", right, batch) == 2
    merged = plugin.call("[static]accumulator.merge", left, right)
    assert plugin.call("stats", merged) == (3, 6)  # tuple<u64, u64> from [bigint, bigint]
    summary = plugin.call("[method]accumulator.emit", merged)
    assert (summary.id, summary.payload, summary.metadata) == ("w1+w2", b"abc", [("count", "3")])
    empty = plugin.call("[constructor]accumulator", "w3")
    assert plugin.call("[method]accumulator.emit", empty) is None  # option -> undefined


def test_thrown_component_error_becomes_err(plugin: Plugin) -> None:
    acc = plugin.call("[constructor]accumulator", "w")
    err = plugin.call("[method]accumulator.add", acc, record("bad", b""))
    # result<_, plugin-error>: wasmtime-py returns the err payload untagged
    assert (err.kind, err.message, getattr(err, "record-id")) == ("invalid-input", "empty", "bad")
    assert plugin.call("stats", acc) == (0, 0)


def test_info_flags(plugin: Plugin) -> None:
    info = plugin.call("info")
    assert (info.name, info.capabilities) == ("agg", {"stateful"})
