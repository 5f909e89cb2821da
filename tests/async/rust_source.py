"""The Rust streaming source (tests/async/rust_guest) built once and bound for the async host.

Shared by tests/async/test_rust_guest.py and benchmarks/async_stream_bench.py. The bindings are
what the Python generator is to emit for `streaming-source.read`: payload types and codecs
from the canonical-ABI layer, the result lifter for `tuple<stream<data-record>, future<...>>`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

from witgen import frontend, ir
from witgen.abi.codec import AbiContext
from witgen.abi.layout import Layouts
from witgen.hostrt import _async
from witgen.toolchains import rust

ROOT = Path(__file__).resolve().parents[2]
CONTRACT = ROOT / "examples" / "contract-1.1.0" / "dataflare.wit"
CRATE = "async-stream-source"
IFACE = "dataflare:core/streaming-source@1.1.0"


def build() -> Path:
    """The component (cargo build of the guest, then wasm-tools embed + new)."""
    rust.cargo_build(ROOT / "tests" / "async" / "rust_guest")
    return rust.componentize(
        rust.core_module(CRATE),
        CONTRACT,
        "streaming-source-plugin",
        rust.COMPONENTS / f"{CRATE}.wasm",
    )


def _read_types(resolve: ir.Resolve) -> tuple[int, int]:
    """(data-record, result<u64, plugin-error>): the payloads of `read`'s stream and future."""
    for iface in resolve.interfaces:
        if iface.name == "streaming-source":
            result = iface.functions["read"].result
            assert isinstance(result, int)
            pair = resolve.types[result].kind
            assert isinstance(pair, ir.Tuple)
            stream_t, future_t = (resolve.types[t].kind for t in pair.types)  # type: ignore[index]
            assert isinstance(stream_t, ir.Stream) and isinstance(future_t, ir.Future)
            assert isinstance(stream_t.type, int) and isinstance(future_t.type, int)
            return stream_t.type, future_t.type
    raise LookupError("no streaming-source interface")


def bind(component: bytes) -> _async.AsyncPlugin:
    resolve = frontend.load(CONTRACT)
    layouts = Layouts(resolve)
    record_t, resume_t = _read_types(resolve)
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

    records = _async.PayloadType("stream<data-record>", codec(record_t))
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
        {(IFACE, "read", 0): records, (IFACE, "read", 1): resume},
        {(f"[export]{IFACE}", "read"): ("i32", "i32")},
    )
    return plugin
