"""The Rust streaming source (tests/async/rust_guest) built once and bound for the async host.

Shared by tests/async/test_rust_guest.py and benchmarks/async_stream_bench.py. The bindings are
what the Python generator is to emit for `streaming-source.read`: payload types and codecs
from the canonical-ABI layer, the result lifter for `tuple<stream<data-record>, future<...>>`.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any, Callable, Sequence

from witgen import frontend, ir
from witgen.abi.async_payloads import index_of, payloads
from witgen.abi.codec import AbiContext
from witgen.abi.layout import Layouts
from witgen.backends import GenerateOptions
from witgen.backends.rust import generator as rust_generator
from witgen.hostrt import _async
import pytest

from witgen.toolchains import rust

ROOT = Path(__file__).resolve().parents[2]
CONTRACT = ROOT / "examples" / "contract-1.1.0" / "dataflare.wit"
CRATE = "async-stream-source"
IFACE = "dataflare:core/streaming-source@1.1.0"
DEST_CRATE = "async-stream-destination"
DEST_IFACE = "dataflare:core/streaming-destination@1.1.0"


SDK_DIR = rust.TARGET_DIR / "async-sdk"  # the guests' Cargo.toml depend on it by this path
STREAMING_WORLDS = ("streaming-source-plugin", "streaming-destination-plugin")


def require_rust() -> None:
    """Skip (with the reason) without the Rust guest toolchain; under CI, which installs it, fail."""
    missing = rust.missing_tools()
    if missing:
        reason = f"the Rust guests need: {', '.join(missing)}"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)


def build_guest(wit: Path, world: str, sdk: tuple[Path, str], crate: str, core: str) -> Path:
    """tests/async/<crate> on witgen's SDK (folder, crate name) generated from the WIT's first
    world (the crate's Cargo.toml depends on it by that path), made a component (`component new`
    checks every core import and export name and signature against the WIT)."""
    resolve = frontend.load(wit)
    options = GenerateOptions(str(wit.relative_to(ROOT)), sdk[1])
    rust.write_sdk(sdk[0], rust_generator.generate(resolve, [0], options))
    rust.cargo_build(ROOT / "tests" / "async" / crate)
    return rust.componentize(rust.core_module(core), wit, world, rust.COMPONENTS / f"{core}.wasm")


def write_sdk() -> None:
    """witgen's Rust SDK for the two streaming worlds, which both guests use."""
    resolve = frontend.load(CONTRACT)
    worlds = [i for i, w in enumerate(resolve.worlds) if w.name in STREAMING_WORLDS]
    options = GenerateOptions(str(CONTRACT.relative_to(ROOT)), "dataflare-streaming-sdk")
    rust.write_sdk(SDK_DIR, rust_generator.generate(resolve, worlds, options))


def build() -> Path:
    """The component (cargo build of the guest, then wasm-tools embed + new)."""
    write_sdk()
    rust.cargo_build(ROOT / "tests" / "async" / "rust_guest")
    return rust.componentize(
        rust.core_module(CRATE),
        CONTRACT,
        "streaming-source-plugin",
        rust.COMPONENTS / f"{CRATE}.wasm",
    )


def build_destination() -> Path:
    write_sdk()
    rust.cargo_build(ROOT / "tests" / "async" / "rust_destination")
    return rust.componentize(
        rust.core_module(DEST_CRATE),
        CONTRACT,
        "streaming-destination-plugin",
        rust.COMPONENTS / f"{DEST_CRATE}.wasm",
    )


def _function(resolve: ir.Resolve, interface: str, name: str) -> ir.Function:
    return next(i for i in resolve.interfaces if i.name == interface).functions[name]


RecordCodec = Callable[[_async.AsyncPlugin], _async.Codec]


def bind(component: bytes, record_codec: RecordCodec | None = None) -> _async.AsyncPlugin:
    """The source's `read`; `record_codec` replaces the generic codec of its records."""
    resolve = frontend.load(CONTRACT)
    layouts = Layouts(resolve)
    read = _function(resolve, "streaming-source", "read")
    # the stream and the future of `read`, numbered as its core imports name them
    stream_p, future_p = sorted(payloads(resolve, read), key=lambda p: not p.is_stream)
    assert isinstance(stream_p.element, int) and isinstance(future_p.element, int)
    record_t, resume_t = stream_p.element, future_p.element
    plugin = _async.AsyncPlugin.__new__(_async.AsyncPlugin)
    context = AbiContext(layouts, memory=plugin)

    def codec(ty: int) -> _async.Codec:
        lay = layouts.of(ty)
        typed = context.codec(ty)
        return _async.Codec(
            lay.size,
            lay.align,
            lambda ptr: typed.load(plugin.view(), ptr),
            lambda value, ptr: context.store(value, ty, ptr),
        )

    records = _async.PayloadType(
        "stream<data-record>",
        codec(record_t) if record_codec is None else record_codec(plugin),
    )
    resume = _async.PayloadType("future<result<u64, plugin-error>>", codec(resume_t))

    def lower(state: _async.InstanceState, args: Sequence[Any]) -> list[int]:
        return [int(args[0])]

    def lift(state: _async.InstanceState, flat: Sequence[int | float]) -> Any:
        return (
            _async.lift_stream(state, int(flat[0]), records),
            _async.lift_future(state, int(flat[1]), resume),
        )

    _async.AsyncPlugin.__init__(
        plugin,
        component,
        {
            "read": _async.AsyncExport(
                f"[async-lift]{IFACE}#read", f"[export]{IFACE}", "read", lower, lift
            )
        },
        {(IFACE, "read", stream_p.index): records, (IFACE, "read", future_p.index): resume},
        {(f"[export]{IFACE}", "read"): ("i32", "i32")},
    )
    return plugin


class Destination:
    """The streaming destination's `write` as a coroutine taking the records to stream."""

    def __init__(self, component: bytes, record_codec: RecordCodec | None = None) -> None:
        resolve = frontend.load(CONTRACT)
        layouts = Layouts(resolve)
        write = _function(resolve, "streaming-destination", "write")
        stream_id = write.params[0].type
        assert isinstance(stream_id, int)
        stream_ty = resolve.types[stream_id].kind
        assert isinstance(stream_ty, ir.Stream) and isinstance(stream_ty.type, int)
        result_ty = write.result
        assert result_ty is not None
        plugin = _async.AsyncPlugin.__new__(_async.AsyncPlugin)
        context = AbiContext(layouts, memory=plugin)
        record_t = stream_ty.type
        typed = context.codec(record_t)
        lay = layouts.of(record_t)
        records = _async.PayloadType(
            "stream<data-record>",
            (
                _async.Codec(
                    lay.size,
                    lay.align,
                    lambda ptr: typed.load(plugin.view(), ptr),
                    lambda value, ptr: context.store(value, record_t, ptr),
                )
                if record_codec is None
                else record_codec(plugin)
            ),
        )
        self.writers: list[_async.StreamWriter] = []

        def lower(state: _async.InstanceState, args: Sequence[Any]) -> list[int]:
            handle, writer = _async.lower_stream(state, records)
            self.writers.append(writer)
            return [handle]

        def lift(state: _async.InstanceState, flat: Sequence[int | float]) -> Any:
            return context.lift_flat(list(flat), result_ty)

        task_return = f"[export]{DEST_IFACE}"
        _async.AsyncPlugin.__init__(
            plugin,
            component,
            {
                "write": _async.AsyncExport(
                    f"[async-lift]{DEST_IFACE}#write", task_return, "write", lower, lift
                )
            },
            {(DEST_IFACE, "write", index_of(resolve, write, stream_id)): records},
            {(task_return, "write"): layouts.of(result_ty).flat},
        )
        self.plugin = plugin

    async def write(self, values: Sequence[Any]) -> Any:
        call = asyncio.ensure_future(self.plugin.call("write"))
        await asyncio.sleep(0)  # the call lowered its stream argument
        writer = self.writers.pop()
        taken = await writer.write(values)
        assert taken == len(values), taken
        writer.close()
        return await call
