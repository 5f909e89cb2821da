"""The async host's bulk codecs give the same values as the generic one.

`_async.typed_codec` over the fast path's generated `data-record` helpers (generated/python)
moves Hypothesis-drawn records through the Rust streaming destination (host -> guest, checked by
the digest the guest computes) and reads the Rust streaming source (guest -> host, compared
with what the generic codec reads). `_async.number_codec` runs the WAT guest's u32/u64 streams.
"""

from __future__ import annotations

import asyncio
import importlib
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import rust_source
from test_rust_guest import digest, expected, records_st
from witgen import frontend
from witgen.abi.values import Ok
from witgen.hostrt import _async
from witgen.paths import DEFAULT_WIT

GENERATED = Path(__file__).resolve().parents[2] / "generated" / "python"


@pytest.fixture(scope="module")
def record_codec() -> tuple[rust_source.RecordCodec, Any]:
    rust_source.require_rust()
    sys.path.insert(0, str(GENERATED))
    try:
        fast = importlib.import_module("dataflare_core._fast")
        types = importlib.import_module("dataflare_core.types")
    finally:
        sys.path.remove(str(GENERATED))
    resolve = frontend.load(DEFAULT_WIT)
    tid = next(i for i, t in enumerate(resolve.types) if t.name == "data-record")
    load, put = getattr(fast, f"_ld_{tid}"), getattr(fast, f"_st_{tid}")

    def factory(plugin: _async.AsyncPlugin) -> _async.Codec:
        return _async.typed_codec(plugin, 32, 8, load, put)

    return factory, types.DataRecord


def as_dict(record: Any) -> dict[str, Any]:
    return {
        "id": record.id,
        "timestamp": record.timestamp,
        "payload": bytes(record.payload),
        "metadata": [tuple(pair) for pair in record.metadata],
    }


@pytest.fixture(scope="module")
def destination(record_codec: Any) -> rust_source.Destination:
    component = rust_source.build_destination().read_bytes()
    return rust_source.Destination(component, record_codec[0])


@pytest.fixture(scope="module")
def source(record_codec: Any) -> _async.AsyncPlugin:
    return rust_source.bind(rust_source.build().read_bytes(), record_codec[0])


@settings(max_examples=25)
@given(records_st)
def test_typed_codec_writes_what_the_generic_one_does(
    destination: rust_source.Destination, record_codec: Any, records: list[dict[str, Any]]
) -> None:
    cls = record_codec[1]
    typed = [cls(r["id"], r["timestamp"], r["payload"], r["metadata"]) for r in records]
    assert asyncio.run(destination.write(typed)) == Ok(digest(records))


@settings(max_examples=15)
@given(st.integers(0, 2**40), st.integers(0, 700), st.integers(1, 300))
def test_typed_codec_reads_what_the_generic_one_does(
    source: _async.AsyncPlugin, position: int, count: int, chunk: int
) -> None:
    async def body() -> tuple[list[Any], Any]:
        stream, resume = await source.call("read", position)
        got: list[Any] = []
        while len(got) < count:
            part = await stream.read(min(chunk, count - len(got)))
            assert part is not None and 0 < len(part) <= chunk
            got.extend(part)
        stream.close()
        return got, await resume

    records, resume = asyncio.run(body())
    assert [as_dict(r) for r in records] == [expected(position + i) for i in range(count)]
    assert resume == Ok(position + count)


def test_typed_codec_wrong_value_is_an_error_and_the_host_survives(
    destination: rust_source.Destination, record_codec: Any
) -> None:
    with pytest.raises((AttributeError, TypeError)):
        asyncio.run(destination.write([object()]))
    good = [{"id": "a", "timestamp": 1, "payload": b"x", "metadata": []}]
    cls = record_codec[1]
    typed = [cls(r["id"], r["timestamp"], r["payload"], r["metadata"]) for r in good]
    assert asyncio.run(destination.write(typed)) == Ok(digest(good))
