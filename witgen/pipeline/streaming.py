"""Streaming stages of `witgen run`: plugins that export `streaming-source` or
`streaming-destination` (dataflare:core 1.1.0 and later) instead of `source` / `destination`.

Their functions are `async` and move `stream<data-record>`s, which wasmtime-py cannot run: they
run on witgen's async host (`witgen/hostrt/_async.py`, which drives the guest's core module
through the wasmtime C API and implements the async canonical built-ins). This module binds the
two interfaces for it from the contract's IR with the canonical-ABI layer (the layouts of
`data-record`, `plugin-info`, the imports' signatures), as the generated Python bindings do for
the synchronous worlds, and gives the runtime instance objects with the shape it pools:

- `SourceInstance`: `open(position)` calls `read(position)` and keeps the returned stream and
  resume future; `read(n)` takes up to n records off the stream (fewer when the stream ends);
  `finish()` drops the stream and awaits the future (the position to resume from).
- `DestinationInstance`: `write_batch(records)` is one `write` call whose stream carries the
  batch; its result (records written durably) is the batch's count, as `write-batch`'s is.

Each instance owns one asyncio event loop and runs it only inside its own calls, so it is used
by one thread at a time like any pooled instance. Every wait on the guest is bounded by the
stage's `limits.timeout` (a stream that stalls, a future that never resolves), besides the
per-entry fuel and epoch limits the async host applies. The host imports (logging, metrics,
config) are served synchronously by the runtime's `HostServices`; WASI is not provided here.
"""

from __future__ import annotations

import asyncio
import importlib
import struct
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any, Callable, Coroutine, Sequence

from witgen import ir
from witgen.abi.async_payloads import index_of, payloads
from witgen.abi.codec import AbiContext
from witgen.abi.layout import Layouts
from witgen.abi.values import AbiError, Err, Ok, Some
from witgen.hostrt import _async, _core, _runtime

# The stage kind a pipeline file names -> the interface a streaming plugin of it exports.
STREAMING = {"source": "streaming-source", "destination": "streaming-destination"}
MODE = "async"  # `Plugin.metrics.mode` of a streaming stage (never the Arrow or fused path)
Limits = _runtime.Limits


class StreamError(Exception):
    """A streaming call that did not complete: `kind` as the runtime's `Fault` kinds."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind  # trap | timeout | invalid-value | host-error | plugin-error


# Exceptions only a streaming stage raises (the generated bindings have their own classes).
STREAM_FAULTS = (StreamError, asyncio.TimeoutError, _runtime.PluginFailure, AbiError)


def classify(exc: BaseException) -> tuple[str, str]:
    """(fault kind, message) of an exception out of a streaming call."""
    if isinstance(exc, StreamError):
        return exc.kind, str(exc)
    if isinstance(exc, (asyncio.TimeoutError, _runtime.PluginTimeout)):
        return "timeout", str(exc) or "the plugin did not answer in time"
    if isinstance(exc, _runtime.PluginFailure):
        return "trap", str(exc)
    if isinstance(exc, (AbiError, ValueError, TypeError, KeyError, IndexError, OverflowError)):
        return "invalid-value", f"{type(exc).__name__}: {exc}"
    return "host-error", f"{type(exc).__name__}: {exc}"


# ---------------------------------------------------------------------------- binding


@dataclass
class Prepared:
    """A checked streaming plugin, ready to make instances (`SourceInstance(prepared)`)."""

    kind: str  # source | destination
    wasm: bytes
    iface: str  # `dataflare:core/streaming-source@1.1.0`, as the plugin was built
    resolve: ir.Resolve
    layouts: Layouts
    imports: list[tuple[str, str, ir.Function]]  # (core module, name, function) served
    host: Any  # HostServices
    limits: _runtime.Limits
    bindings: Any  # the generated bindings of the plugin's version: DataRecord, Ok, Err
    mode: str = MODE

    @property
    def timeout(self) -> float | None:
        return self.limits.timeout

    def function(self, name: str) -> ir.Function:
        iface_name = STREAMING[self.kind]
        return next(i for i in self.resolve.interfaces if i.name == iface_name).functions[name]


def prepare(
    kind: str,
    wasm: bytes,
    resolve: ir.Resolve,
    world: int,
    built_against: str,
    host: Any,
    limits: _runtime.Limits,
    bindings: Any,
) -> Prepared:
    """Bind a streaming plugin of `kind` built against `built_against` (`ns:pkg@version`).

    `resolve`/`world` are the contract's; its types are the plugin's (compat checked them)."""
    namespace, version = built_against.split("@", 1)

    def qualified(iface: ir.Interface) -> str:
        return f"{namespace}/{iface.name}@{version}"

    imports: list[tuple[str, str, ir.Function]] = []
    for entry in resolve.worlds[world].imports:
        if isinstance(entry.item, ir.WorldInterface):
            iface = resolve.interfaces[entry.item.id]
            for fn in iface.functions.values():
                imports.append((qualified(iface), fn.name, fn))
    export = next(i for i in resolve.interfaces if i.name == STREAMING[kind])
    prepared = Prepared(
        kind, wasm, qualified(export), resolve, Layouts(resolve), imports, host, limits, bindings
    )
    # instantiated once: a plugin whose imports cannot be served is refused at load
    probe = (SourceInstance if kind == "source" else DestinationInstance)(prepared)
    probe.close()
    return prepared


class _Instance:
    """What a streaming source and destination share: the async plugin, its loop, `info`."""

    def __init__(self, prepared: Prepared) -> None:
        self.prepared = prepared
        self.loop = asyncio.new_event_loop()
        self.plugin = _async.AsyncPlugin.__new__(_async.AsyncPlugin)
        self.context = AbiContext(prepared.layouts, memory=self.plugin)
        self._closed = False
        exports, payload_types, task_returns = self._exports()
        try:
            _async.AsyncPlugin.__init__(
                self.plugin,
                prepared.wasm,
                exports,
                payload_types,
                task_returns,
                prepared.limits,
                sync_imports=self._imports(),
            )
        except _core.FastUnavailable as exc:
            self.loop.close()
            raise _runtime.PluginLoadError(f"cannot run this streaming plugin: {exc}") from None

    # -- binding --

    def _exports(self) -> tuple[dict[str, Any], dict[Any, Any], dict[Any, Any]]:
        raise NotImplementedError

    def _records(self) -> _async.PayloadType:
        """`stream<data-record>`'s element codec (a fast reader of the record's layout)."""
        p = self.prepared
        fn = p.function("read" if p.kind == "source" else "write")
        stream = next(x for x in payloads(p.resolve, fn) if x.is_stream)
        assert isinstance(stream.element, int)
        return _async.PayloadType("stream<data-record>", self._record_codec(stream.element))

    def _record_codec(self, ty: int) -> _async.Codec:
        layouts, context, plugin = self.prepared.layouts, self.context, self.plugin
        lay = layouts.of(ty)
        typed = context.codec(ty)
        make = importlib.import_module(f"{self.prepared.bindings.__name__}.types").DataRecord
        generic_store = context.store

        def store(value: Any, ptr: int) -> None:
            generic_store(_as_dict(value), ty, ptr)

        resolve = self.prepared.resolve
        real = resolve.dealias(ty)
        kind = resolve.types[real].kind if isinstance(real, int) else None
        fields = [f.type for f in kind.fields] if isinstance(kind, ir.Record) else []
        offsets = layouts.field_offsets(fields) if fields else ()
        if (lay.size, lay.align, offsets) != (32, 8, (0, 8, 16, 24)):
            # not the 1.x `data-record` layout: the generic codec, then a record object
            def load_generic(ptr: int) -> Any:
                v = typed.load(plugin.view(), ptr)
                return make(v["id"], v["timestamp"], v["payload"], list(v["metadata"]))

            return _async.Codec(lay.size, lay.align, load_generic, store)

        def load_many(ptr: int, n: int) -> list[Any]:
            return _load_records(plugin.view(), ptr, n, make)

        def load(ptr: int) -> Any:
            return _load_records(plugin.view(), ptr, 1, make)[0]

        def store_many(values: Sequence[Any], ptr: int) -> None:
            _store_records(plugin, values, ptr)

        def store_one(value: Any, ptr: int) -> None:
            _store_records(plugin, (value,), ptr)

        return _async.Codec(
            lay.size, lay.align, load, store_one, load_many=load_many, store_many=store_many
        )

    def _imports(self) -> dict[tuple[str, str], _async.SyncImport]:
        """The contract's synchronous imports (logging, metrics, config), served by the host."""
        return {
            (module, name): _async.SyncImport(*self._host_function(fn))
            for module, name, fn in self.prepared.imports
        }

    def _host_function(self, fn: ir.Function) -> tuple[tuple[str, ...], tuple[str, ...], Any]:
        """A contract import served by `HostServices` (its method named after the function)."""
        layouts, context = self.prepared.layouts, self.context
        method = getattr(self.prepared.host, fn.name.replace("-", "_"))
        types = [p.type for p in fn.params]
        widths = [len(layouts.flat(t)) for t in types]
        ins: tuple[str, ...] = tuple(k for t in types for k in layouts.flat(t))
        assert len(ins) <= 16, f"{fn.name}: flat parameters through memory are not needed here"
        result = fn.result
        out_flat = layouts.flat(result) if result is not None else ()
        outs: tuple[str, ...] = ()
        through_memory = len(out_flat) > 1
        if through_memory:
            ins += ("i32",)
        else:
            outs = tuple(out_flat)
        masks = [0xFFFF_FFFF if k == "i32" else 0xFFFF_FFFF_FFFF_FFFF for k in ins]
        # HostServices answers an option with the value or None (the ABI layer wants Some)
        optional = isinstance(result, int) and isinstance(
            self.prepared.resolve.types[result].kind, ir.Option
        )

        def func(*flat: Any) -> Any:
            raw = [v & m if isinstance(v, int) else v for v, m in zip(flat, masks)]
            args, pos = [], 0
            for t, w in zip(types, widths):
                args.append(context.lift_flat(raw[pos : pos + w], t))
                pos += w
            value = _from_host(method(*args))
            if optional and value is not None and not isinstance(value, Some):
                value = Some(value)
            if result is None:
                return None
            if through_memory:
                context.store(value, result, raw[-1])
                return None
            return context.lower_flat(value, result)[0]

        return ins, outs, func

    # -- running --

    def run(self, coro: Coroutine[Any, Any, Any], timeout: float | None = None) -> Any:
        """Run `coro` on this instance's loop, bounded by the stage's timeout."""
        trapped = self.plugin.trapped
        if trapped is not None:  # the guest trapped since (e.g. while writing its stream)
            coro.close()
            raise trapped
        limit = self.prepared.timeout if timeout is None else timeout
        waited = coro if limit is None else asyncio.wait_for(coro, limit)
        try:
            return self.loop.run_until_complete(waited)
        except asyncio.TimeoutError:
            raise StreamError(
                "timeout", f"the plugin did not answer within {limit} s (limits.timeout)"
            ) from None

    def info(self) -> Any:
        """The sync `info` export (plugin-info)."""
        name = f"{self.prepared.iface}#info"
        fn = self.prepared.function("info")
        assert fn.result is not None
        self.plugin.state()
        ptr = int(self.plugin._enter(name, ())[0]) & 0xFFFF_FFFF
        value = self.context.load(fn.result, ptr)
        post = f"cabi_post_{name}"
        if post in self.plugin.info.exports:
            self.plugin._enter(post, (ptr,))
        return value

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        loop = self.loop
        pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
        for task in pending:
            task.cancel()
        if pending:
            try:
                loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            except BaseException:  # noqa: BLE001 - it is going away
                pass
        loop.close()

    def flush(self) -> Any:
        return self.prepared.bindings.Ok(None)


class SourceInstance(_Instance):
    """A streaming source: `open(position)`, `read(n)`, `finish()`."""

    def __init__(self, prepared: Prepared) -> None:
        super().__init__(prepared)
        self.stream: Any = None
        self.resume: Any = None

    def _exports(self) -> tuple[dict[str, Any], dict[Any, Any], dict[Any, Any]]:
        p = self.prepared
        read = p.function("read")
        stream_p, future_p = sorted(payloads(p.resolve, read), key=lambda x: not x.is_stream)
        assert isinstance(future_p.element, int)
        resume_t = future_p.element
        records = self._records()
        lay = p.layouts.of(resume_t)
        typed = self.context.codec(resume_t)
        plugin = self.plugin
        resume = _async.PayloadType(
            "future<result<u64, plugin-error>>",
            _async.Codec(
                lay.size,
                lay.align,
                lambda ptr: typed.load(plugin.view(), ptr),
                lambda value, ptr: self.context.store(value, resume_t, ptr),
            ),
        )

        def lower(state: _async.InstanceState, args: Sequence[Any]) -> list[int]:
            return [int(args[0])]

        def lift(state: _async.InstanceState, flat: Sequence[int | float]) -> Any:
            return (
                _async.lift_stream(state, int(flat[0]), records),
                _async.lift_future(state, int(flat[1]), resume),
            )

        export = _async.AsyncExport(
            f"[async-lift]{p.iface}#read", f"[export]{p.iface}", "read", lower, lift
        )
        return (
            {"read": export},
            {(p.iface, "read", stream_p.index): records, (p.iface, "read", future_p.index): resume},
            {(f"[export]{p.iface}", "read"): ("i32", "i32")},
        )

    def open(self, position: int) -> None:
        """`read(position)`: the stream of records from there, and its resume future."""
        self.stream, self.resume = self.run(self.plugin.call("read", position))

    def read(self, n: int) -> tuple[list[Any], bool]:
        """Up to `n` records, and whether the stream ended (the plugin dropped its end)."""
        out: list[Any] = []
        while len(out) < n:
            got = self.run(self.stream.read(n - len(out)))
            if got is None:
                return out, True
            out.extend(got)
        return out, False

    def finish(self) -> int:
        """Drop the stream (if the plugin has not) and await the resume future: the position
        to resume from. A plugin-error ends the stream early; garbage is invalid-value."""
        stream, self.stream = self.stream, None
        if stream is not None:
            stream.close()
        resume, self.resume = self.resume, None
        got = self.run(resume.get())
        if isinstance(got, Err):
            raise StreamError("plugin-error", describe(got.value))
        if not isinstance(got, Ok) or not isinstance(got.value, int):
            raise StreamError("invalid-value", f"resume future gave {got!r}")
        return got.value


class DestinationInstance(_Instance):
    """A streaming destination: each batch is one `write` call over a stream of it."""

    def _exports(self) -> tuple[dict[str, Any], dict[Any, Any], dict[Any, Any]]:
        p = self.prepared
        write = p.function("write")
        stream_id = write.params[0].type
        assert isinstance(stream_id, int) and write.result is not None
        result_ty = write.result
        records = self._records()
        self._writers: list[_async.StreamWriter] = []
        context = self.context

        def lower(state: _async.InstanceState, args: Sequence[Any]) -> list[int]:
            handle, writer = _async.lower_stream(state, records)
            self._writers.append(writer)
            return [handle]

        def lift(state: _async.InstanceState, flat: Sequence[int | float]) -> Any:
            return context.lift_flat(list(flat), result_ty)

        task_return = f"[export]{p.iface}"
        export = _async.AsyncExport(
            f"[async-lift]{p.iface}#write", task_return, "write", lower, lift
        )
        return (
            {"write": export},
            {(p.iface, "write", index_of(p.resolve, write, stream_id)): records},
            {(task_return, "write"): p.layouts.flat(result_ty)},
        )

    def write_batch(self, records: Sequence[Any]) -> Any:
        """Ok(records written durably) or Err(plugin-error), as `write-batch` answers (the
        bindings' Ok and Err)."""
        got = self.run(self._write(list(records)))
        b = self.prepared.bindings
        return b.Ok(got.value) if isinstance(got, Ok) else b.Err(got.value)

    async def _write(self, records: list[Any]) -> Any:
        call = asyncio.ensure_future(self.plugin.call("write"))
        while not self._writers and not call.done():
            await asyncio.sleep(0)  # the call lowers its stream argument first
        if not self._writers:
            return await call  # it failed before taking the stream: its error
        writer = self._writers.pop()
        taken = await writer.write(records) if records else 0
        writer.close()
        got = await call
        if isinstance(got, Ok):
            if not isinstance(got.value, int) or got.value > taken:
                raise StreamError(
                    "invalid-value", f"write reported {got.value} for {taken} records taken"
                )
            return Ok(got.value)
        if isinstance(got, Err):
            return Err(_error(got.value))
        raise StreamError("invalid-value", f"write returned {got!r}")


# ---------------------------------------------------------------------------- values

_RECORD = struct.Struct("<IIqIIII")  # id ptr/len, timestamp, payload ptr/len, metadata ptr/len
_STAMP = struct.Struct("<q")


def _load_records(mem: memoryview, ptr: int, n: int, make: Callable[..., Any]) -> list[Any]:
    """n `data-record`s at `ptr` (layout checked by the caller), bounds and UTF-8 checked: the
    record heads unpacked in one pass, the checks inline (this loop is hot)."""
    size = len(mem)
    _async.trap_if(ptr + 32 * n > size, "a record buffer is out of bounds")
    out = []
    unpack = struct.unpack_from
    try:
        for ip, il, ts, pp, pl, mp, ml in _RECORD.iter_unpack(mem[ptr : ptr + 32 * n]):
            if ip + il > size or pp + pl > size or mp & 3 or mp + 16 * ml > size:
                _async.trap_if(ip + il > size, "a record's id is out of bounds")
                _async.trap_if(pp + pl > size, "a record's payload is out of bounds")
                _async.trap_if(True, "a record's metadata is out of bounds")
            meta: list[tuple[str, str]] = []
            if ml:
                words = unpack(f"<{4 * ml}I", mem, mp)
                for j in range(0, 4 * ml, 4):
                    kp, kl, vp, vl = words[j : j + 4]
                    if kp + kl > size or vp + vl > size:
                        _async.trap_if(True, "metadata is out of bounds")
                    meta.append((str(mem[kp : kp + kl], "utf-8"), str(mem[vp : vp + vl], "utf-8")))
            rid = str(mem[ip : ip + il], "utf-8")
            out.append(make(rid, ts, bytes(mem[pp : pp + pl]), meta))
    except UnicodeDecodeError:
        raise _runtime.PluginTrap("a string in a record is not UTF-8") from None
    return out


def _store_records(plugin: Any, values: Sequence[Any], ptr: int) -> None:
    """`data-record`s at `ptr`: the records built in one host buffer, every string and list
    they reference registered with `plugin.ref` and allocated in ONE trip into the guest's
    `cabi_realloc` (`AsyncPlugin.allocate`), then the buffer copied in with one write."""
    n = len(values)
    buf = bytearray(32 * n)
    ref = plugin.ref
    stamp = _STAMP.pack_into
    try:
        for i, r in enumerate(values):
            o = 32 * i
            ref(buf, o, 1, r.id.encode("utf-8"))
            stamp(buf, o + 8, int(r.timestamp))
            ref(buf, o + 16, 1, bytes(r.payload))
            meta = r.metadata
            pairs = bytearray(16 * len(meta))
            for j, (k, v) in enumerate(meta):
                # a list's elements are registered before the list itself: `allocate` fills
                # their addresses into `pairs` before it copies `pairs` into the guest
                ref(pairs, 16 * j, 1, k.encode("utf-8"))
                ref(pairs, 16 * j + 8, 1, v.encode("utf-8"))
            ref(buf, o + 24, 4, pairs, len(meta))
        plugin.allocate()
    finally:
        plugin.pending.clear()
    _async.trap_if(ptr + 32 * n > len(plugin.view()), "a record buffer is out of bounds")
    plugin.write(ptr, buf)


def _as_dict(record: Any) -> Any:
    if isinstance(record, dict):
        return record
    return {
        "id": record.id,
        "timestamp": record.timestamp,
        "payload": bytes(record.payload),
        "metadata": [tuple(kv) for kv in record.metadata],
    }


def _from_host(value: Any) -> Any:
    """A `HostServices` answer (the generated bindings' Ok/Err) as the ABI layer's values."""
    name = type(value).__name__
    if name == "Ok" and not isinstance(value, Ok):
        return Ok(value.value)
    if name == "Err" and not isinstance(value, Err):
        return Err(value.value)
    return value


def _error(value: Any) -> Any:
    """A lifted plugin-error (a dict) as an object with `kind` and `message`."""
    if isinstance(value, dict):
        return SimpleNamespace(
            kind=value.get("kind"),
            message=value.get("message"),
            record_id=value.get("record-id"),
        )
    return value


def describe(error: Any) -> str:
    e = _error(error)
    kind, message = getattr(e, "kind", None), getattr(e, "message", None)
    if message is not None:
        return f"{getattr(kind, 'value', kind)}: {message}"
    return str(error)
