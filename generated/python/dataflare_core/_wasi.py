"""WASI 0.2 for the fast path: the imports componentize-js plugins make, served from Python.

This file is witgen's host runtime (`witgen/hostrt/_wasi.py`), copied verbatim into every
generated package.

A componentize-js (StarlingMonkey) plugin's main core module imports a few WASI 0.2 functions
directly (`wasi:io/poll`, `wasi:io/streams`, `wasi:clocks/monotonic-clock`, `wasi:random/random`)
and the rest of WASI through a preview-1 adapter module. The fast path runs only the main
module: its preview-1 imports are served by wasmtime's own WASI (`_core`, as for Go guests) and
its WASI 0.2 imports by the functions here, at the core level (each takes the running
`CoreInstance` and the flat canonical-ABI arguments, and writes results into guest memory).

What a plugin may reach follows `WasiGrants`, deny by default as on the generic path: clocks and
random always; environment variables and arguments only as granted (empty otherwise); files only
under granted directories (`get-directories` lists exactly those; writes only where writable);
stdin is empty; stdout and stderr go to the process's own streams when granted
(`inherit_stdout`/`inherit_stderr`), otherwise into the host's log (logger `witgen.plugin`).
Resources (pollables, streams, descriptors, errors) live in a handle table per instance.
"""

from __future__ import annotations

import array
import logging
import os
import stat as stat_mod
import struct
import sys
import time
from typing import IO, Any, Callable

from . import _runtime

LOG = logging.getLogger("witgen.plugin")

Impl = Callable[..., Any]
# (interface without version, function) -> (core parameter types, core result types, impl)
_SERVED: dict[tuple[str, str], Served] = {}
_KINDS = {"i": "i32", "I": "i64"}


Served = tuple[tuple[str, ...], tuple[str, ...], Impl]


def lookup(module: str, name: str) -> Served | None:
    """How to serve the core import `module`/`name`, for any WASI 0.2.x version, or None."""
    iface, _, version = module.partition("@")
    if not iface.startswith("wasi:") or not version.startswith("0.2."):
        return None
    return _SERVED.get((iface, name))


def _serves(iface: str, name: str, ins: str, outs: str = "") -> Callable[[Impl], Impl]:
    def register(impl: Impl) -> Impl:
        _SERVED[(iface, name)] = (
            tuple(_KINDS[c] for c in ins),
            tuple(_KINDS[c] for c in outs),
            impl,
        )
        return impl

    return register


# ---------------------------------------------------------------------------- resources


class Pollable:
    """Ready at `deadline` (monotonic nanoseconds), or at once when it has none."""

    def __init__(self, deadline: int | None = None) -> None:
        self.deadline = deadline

    def ready(self) -> bool:
        return self.deadline is None or time.monotonic_ns() >= self.deadline


class InputStream:
    """stdin (always closed) or a file opened for reading at an offset."""

    def __init__(self, file: IO[bytes] | None = None, offset: int = 0) -> None:
        self.file = file
        self.offset = offset

    def read(self, size: int) -> bytes | None:
        """Up to `size` bytes; None at the end (the stream is closed)."""
        if self.file is None:
            return None
        self.file.seek(self.offset)
        data = self.file.read(min(size, 1 << 20))
        if not data and size:
            return None
        self.offset += len(data)
        return data


class OutputStream:
    """stdout or stderr (`name`), or a file opened for writing at an offset (None: append)."""

    def __init__(
        self,
        name: str = "",
        inherit: bool = False,
        file: IO[bytes] | None = None,
        offset: int | None = None,
    ) -> None:
        self.name = name
        self.inherit = inherit
        self.file = file
        self.offset = offset
        self.pending = b""

    def write(self, data: bytes) -> None:
        if self.file is not None:
            if self.offset is None:
                self.file.seek(0, os.SEEK_END)
            else:
                self.file.seek(self.offset)
                self.offset += len(data)
            self.file.write(data)
            return
        if self.inherit:
            out = sys.stdout if self.name == "stdout" else sys.stderr
            out.buffer.write(data)
            return
        # the host's log, one entry per line
        self.pending += data
        *lines, self.pending = self.pending.split(b"\n")
        for line in lines:
            LOG.info("plugin %s: %s", self.name, line.decode("utf-8", "replace"))

    def flush(self) -> None:
        if self.file is not None:
            self.file.flush()
        elif self.inherit:
            (sys.stdout if self.name == "stdout" else sys.stderr).flush()


class Descriptor:
    """A granted directory (a preopen) or a file opened under one."""

    def __init__(
        self,
        path: str,
        writable: bool,
        file: IO[bytes] | None = None,
    ) -> None:
        self.path = path
        self.writable = writable
        self.file = file


class ErrorResource:
    def __init__(self, text: str) -> None:
        self.text = text


class State:
    """The WASI side of one instance: its grants and its resource handles."""

    def __init__(self, grants: _runtime.WasiGrants, generation: int) -> None:
        self.grants = grants
        self.generation = generation
        self.table: dict[int, object] = {}
        self.next = 1

    def add(self, item: object) -> int:
        handle = self.next
        self.next += 1
        self.table[handle] = item
        return handle

    def get(self, handle: int, kind: type[Any]) -> Any:
        item = self.table.get(handle & 0xFFFFFFFF)
        if not isinstance(item, kind):
            raise _runtime.PluginTrap(f"unknown WASI {kind.__name__} handle {handle}")
        return item

    def drop(self, handle: int, kind: type[Any]) -> None:
        item = self.get(handle, kind)
        del self.table[handle & 0xFFFFFFFF]
        file = getattr(item, "file", None)
        if isinstance(item, Descriptor) and file is not None:
            file.close()


def state(rt: Any) -> State:
    """The WASI state of the running instance (fresh for each new store)."""
    found: State | None = rt.__dict__.get("_wasi_state")
    if found is None or found.generation != rt.generation:
        found = State(rt.prepared.wasi, rt.generation)
        rt._wasi_state = found
    return found


def _bytes_at(rt: Any, ptr: int, length: int) -> bytes:
    ptr &= 0xFFFFFFFF
    length &= 0xFFFFFFFF
    mem = rt.view()
    if ptr + length > len(mem):
        raise _runtime.PluginTrap("the plugin passed WASI a buffer out of bounds")
    return bytes(mem[ptr : ptr + length])


def _put_list(rt: Any, ret: int, data: bytes | bytearray, n: int, align: int) -> None:
    """Returns a list (its element bytes already laid out) through the return area `ret`."""
    area = bytearray(8)
    rt.ref(area, 0, align, data, n)
    rt.allocate()
    rt.write(ret & 0xFFFFFFFF, area)


def _strings(rt: Any, items: list[str], ret: int) -> None:
    elements = bytearray(8 * len(items))
    for i, item in enumerate(items):
        rt.ref(elements, 8 * i, 1, item.encode("utf-8"))
    _put_list(rt, ret, elements, len(items), 4)


def _i64(value: int) -> int:
    """An unsigned 64-bit value as the signed bit pattern a core i64 result is packed from."""
    value &= 0xFFFFFFFFFFFFFFFF
    return value - (1 << 64) if value >> 63 else value


# ---------------------------------------------------------------------------- wasi:io


@_serves("wasi:io/poll", "[resource-drop]pollable", "i")
def _drop_pollable(rt: Any, handle: int) -> None:
    state(rt).drop(handle, Pollable)


@_serves("wasi:io/poll", "[method]pollable.ready", "i", "i")
def _pollable_ready(rt: Any, handle: int) -> int:
    return int(state(rt).get(handle, Pollable).ready())


def _wait(rt: Any, pollables: list[Pollable]) -> None:
    """Sleeps until one of `pollables` is ready; a wait past the call's timeout is a timeout."""
    if any(p.ready() for p in pollables):
        return
    deadline = min(p.deadline for p in pollables if p.deadline is not None)
    delay = (deadline - time.monotonic_ns()) / 1e9
    limit = rt.prepared.limits.timeout
    if limit is not None and delay > limit:
        raise _runtime.PluginTimeout(
            f"the plugin waits {delay:.3f} s on a WASI pollable, past its timeout of {limit} s",
        )
    time.sleep(max(0.0, delay))


@_serves("wasi:io/poll", "[method]pollable.block", "i")
def _pollable_block(rt: Any, handle: int) -> None:
    _wait(rt, [state(rt).get(handle, Pollable)])


@_serves("wasi:io/poll", "poll", "iii")
def _poll(rt: Any, ptr: int, count: int, ret: int) -> None:
    s = state(rt)
    handles = array.array("I", _bytes_at(rt, ptr, 4 * (count & 0xFFFFFFFF)))
    if not handles:
        raise _runtime.PluginTrap("wasi:io/poll.poll was given no pollables")
    pollables = [s.get(h, Pollable) for h in handles]
    _wait(rt, pollables)
    ready = array.array("I", [i for i, p in enumerate(pollables) if p.ready()])
    _put_list(rt, ret, ready.tobytes(), len(ready), 4)


@_serves("wasi:io/error", "[resource-drop]error", "i")
def _drop_error(rt: Any, handle: int) -> None:
    state(rt).drop(handle, ErrorResource)


@_serves("wasi:io/error", "[method]error.to-debug-string", "ii")
def _error_text(rt: Any, handle: int, ret: int) -> None:
    text = state(rt).get(handle, ErrorResource).text.encode("utf-8")
    _put_list(rt, ret, text, len(text), 1)


# result<_, stream-error> = err(closed), 12 bytes
_CLOSED = struct.pack("<BxxxB7x", 1, 1)
_OK12 = bytes(12)


@_serves("wasi:io/streams", "[resource-drop]input-stream", "i")
def _drop_input(rt: Any, handle: int) -> None:
    state(rt).drop(handle, InputStream)


@_serves("wasi:io/streams", "[resource-drop]output-stream", "i")
def _drop_output(rt: Any, handle: int) -> None:
    state(rt).drop(handle, OutputStream)


def _read(rt: Any, handle: int, size: int, ret: int) -> None:
    data = state(rt).get(handle, InputStream).read(size & 0xFFFFFFFFFFFFFFFF)
    if data is None:
        rt.write(ret & 0xFFFFFFFF, _CLOSED)
        return
    area = bytearray(12)
    rt.ref(area, 4, 1, data)
    rt.allocate()
    rt.write(ret & 0xFFFFFFFF, area)


_serves("wasi:io/streams", "[method]input-stream.read", "iIi")(_read)
_serves("wasi:io/streams", "[method]input-stream.blocking-read", "iIi")(_read)


def _skip(rt: Any, handle: int, size: int, ret: int) -> None:
    data = state(rt).get(handle, InputStream).read(size & 0xFFFFFFFFFFFFFFFF)
    if data is None:
        rt.write(ret & 0xFFFFFFFF, struct.pack("<B7xB7x", 1, 1))
    else:
        rt.write(ret & 0xFFFFFFFF, struct.pack("<B7xQ", 0, len(data)))


_serves("wasi:io/streams", "[method]input-stream.skip", "iIi")(_skip)
_serves("wasi:io/streams", "[method]input-stream.blocking-skip", "iIi")(_skip)


def _subscribe(rt: Any, handle: int) -> int:
    return state(rt).add(Pollable())  # files and the log never block


_serves("wasi:io/streams", "[method]input-stream.subscribe", "i", "i")(_subscribe)
_serves("wasi:io/streams", "[method]output-stream.subscribe", "i", "i")(_subscribe)


@_serves("wasi:io/streams", "[method]output-stream.check-write", "ii")
def _check_write(rt: Any, handle: int, ret: int) -> None:
    state(rt).get(handle, OutputStream)
    rt.write(ret & 0xFFFFFFFF, struct.pack("<B7xQ", 0, 1 << 20))


def _write(rt: Any, handle: int, ptr: int, length: int, ret: int) -> None:
    stream = state(rt).get(handle, OutputStream)
    stream.write(_bytes_at(rt, ptr, length))
    rt.write(ret & 0xFFFFFFFF, _OK12)


def _flush(rt: Any, handle: int, ret: int) -> None:
    state(rt).get(handle, OutputStream).flush()
    rt.write(ret & 0xFFFFFFFF, _OK12)


def _write_zeroes(rt: Any, handle: int, count: int, ret: int) -> None:
    state(rt).get(handle, OutputStream).write(bytes(min(count & 0xFFFFFFFF, 1 << 20)))
    rt.write(ret & 0xFFFFFFFF, _OK12)


_serves("wasi:io/streams", "[method]output-stream.write", "iiii")(_write)
_WRITE_AND_FLUSH = "[method]output-stream.blocking-write-and-flush"
_serves("wasi:io/streams", _WRITE_AND_FLUSH, "iiii")(_write)
_serves("wasi:io/streams", "[method]output-stream.flush", "ii")(_flush)
_serves("wasi:io/streams", "[method]output-stream.blocking-flush", "ii")(_flush)
_serves("wasi:io/streams", "[method]output-stream.write-zeroes", "iIi")(_write_zeroes)
_serves(
    "wasi:io/streams",
    "[method]output-stream.blocking-write-zeroes-and-flush",
    "iIi",
)(_write_zeroes)


# ---------------------------------------------------------------------------- clocks, random


@_serves("wasi:clocks/monotonic-clock", "now", "", "I")
def _monotonic_now(rt: Any) -> int:
    return _i64(time.monotonic_ns())


@_serves("wasi:clocks/monotonic-clock", "resolution", "", "I")
def _monotonic_resolution(rt: Any) -> int:
    return 1


@_serves("wasi:clocks/monotonic-clock", "subscribe-instant", "I", "i")
def _subscribe_instant(rt: Any, when: int) -> int:
    return state(rt).add(Pollable(when & 0xFFFFFFFFFFFFFFFF))


@_serves("wasi:clocks/monotonic-clock", "subscribe-duration", "I", "i")
def _subscribe_duration(rt: Any, nanos: int) -> int:
    return state(rt).add(Pollable(time.monotonic_ns() + (nanos & 0xFFFFFFFFFFFFFFFF)))


@_serves("wasi:clocks/wall-clock", "now", "i")
def _wall_now(rt: Any, ret: int) -> None:
    seconds, nanos = divmod(time.time_ns(), 1_000_000_000)
    rt.write(ret & 0xFFFFFFFF, struct.pack("<QI4x", seconds, nanos))


@_serves("wasi:clocks/wall-clock", "resolution", "i")
def _wall_resolution(rt: Any, ret: int) -> None:
    rt.write(ret & 0xFFFFFFFF, struct.pack("<QI4x", 0, 1))


def _random_bytes(rt: Any, length: int, ret: int) -> None:
    length &= 0xFFFFFFFFFFFFFFFF
    if length > 1 << 26:
        raise _runtime.PluginTrap(f"the plugin asked for {length} random bytes")
    _put_list(rt, ret, os.urandom(length), length, 1)


def _random_u64(rt: Any) -> int:
    return _i64(int.from_bytes(os.urandom(8), "little"))


_serves("wasi:random/random", "get-random-bytes", "Ii")(_random_bytes)
_serves("wasi:random/random", "get-random-u64", "", "I")(_random_u64)
_serves("wasi:random/insecure", "get-insecure-random-bytes", "Ii")(_random_bytes)
_serves("wasi:random/insecure", "get-insecure-random-u64", "", "I")(_random_u64)


@_serves("wasi:random/insecure-seed", "insecure-seed", "i")
def _insecure_seed(rt: Any, ret: int) -> None:
    rt.write(ret & 0xFFFFFFFF, os.urandom(16))


# ---------------------------------------------------------------------------- wasi:cli


@_serves("wasi:cli/environment", "get-environment", "i")
def _environment(rt: Any, ret: int) -> None:
    env = state(rt).grants.env
    elements = bytearray(16 * len(env))
    for i, (key, value) in enumerate(env.items()):
        rt.ref(elements, 16 * i, 1, key.encode("utf-8"))
        rt.ref(elements, 16 * i + 8, 1, value.encode("utf-8"))
    _put_list(rt, ret, elements, len(env), 4)


@_serves("wasi:cli/environment", "get-arguments", "i")
def _arguments(rt: Any, ret: int) -> None:
    _strings(rt, list(state(rt).grants.args), ret)


@_serves("wasi:cli/environment", "initial-cwd", "i")
def _initial_cwd(rt: Any, ret: int) -> None:
    rt.write(ret & 0xFFFFFFFF, bytes(12))  # none


@_serves("wasi:cli/exit", "exit", "i")
def _exit(rt: Any, status: int) -> None:
    raise _runtime.PluginTrap(f"the plugin called wasi:cli/exit (status {status & 1})")


@_serves("wasi:cli/stdin", "get-stdin", "", "i")
def _stdin(rt: Any) -> int:
    return state(rt).add(InputStream())


@_serves("wasi:cli/stdout", "get-stdout", "", "i")
def _stdout(rt: Any) -> int:
    s = state(rt)
    return s.add(OutputStream("stdout", s.grants.inherit_stdout))


@_serves("wasi:cli/stderr", "get-stderr", "", "i")
def _stderr(rt: Any) -> int:
    s = state(rt)
    return s.add(OutputStream("stderr", s.grants.inherit_stderr))


def _no_tty(rt: Any, ret: int) -> None:
    rt.write(ret & 0xFFFFFFFF, bytes(8))  # option<own<terminal-...>>: none


def _drop_tty(rt: Any, handle: int) -> None:
    raise _runtime.PluginTrap(f"unknown WASI terminal handle {handle}")


for _stream in ("stdin", "stdout", "stderr"):
    _serves(f"wasi:cli/terminal-{_stream}", f"get-terminal-{_stream}", "i")(_no_tty)
_serves("wasi:cli/terminal-input", "[resource-drop]terminal-input", "i")(_drop_tty)
_serves("wasi:cli/terminal-output", "[resource-drop]terminal-output", "i")(_drop_tty)


# ---------------------------------------------------------------------------- wasi:filesystem

# error-code cases of wasi:filesystem/types
ACCESS, BAD_DESCRIPTOR, INVALID, IS_DIRECTORY, NO_ENTRY = 0, 3, 12, 14, 20
NOT_DIRECTORY, NOT_PERMITTED, READ_ONLY = 24, 31, 33
# descriptor-type cases
_DIRECTORY, _REGULAR, _UNKNOWN = 3, 6, 0


@_serves("wasi:filesystem/preopens", "get-directories", "i")
def _get_directories(rt: Any, ret: int) -> None:
    s = state(rt)
    grants = s.grants
    elements = bytearray(12 * len(grants.dirs))
    for i, (host, guest) in enumerate(grants.dirs.items()):
        writable = host in grants.writable_dirs
        handle = s.add(Descriptor(os.path.realpath(host), writable))
        struct.pack_into("<I", elements, 12 * i, handle)
        rt.ref(elements, 12 * i + 4, 1, guest.encode("utf-8"))
    _put_list(rt, ret, elements, len(grants.dirs), 4)


@_serves("wasi:filesystem/types", "[resource-drop]descriptor", "i")
def _drop_descriptor(rt: Any, handle: int) -> None:
    state(rt).drop(handle, Descriptor)


def _result8(rt: Any, ret: int, error: int | None, value: int = 0) -> None:
    """A `result<handle-or-u32, error-code>` (8 bytes) into the return area."""
    if error is None:
        rt.write(ret & 0xFFFFFFFF, struct.pack("<B3xI", 0, value))
    else:
        rt.write(ret & 0xFFFFFFFF, struct.pack("<B3xB3x", 1, error))


@_serves("wasi:filesystem/types", "[method]descriptor.open-at", "iiiiiii")
def _open_at(
    rt: Any,
    handle: int,
    _path_flags: int,
    ptr: int,
    length: int,
    open_flags: int,
    flags: int,
    ret: int,
) -> None:
    s = state(rt)
    base = s.get(handle, Descriptor)
    if base.file is not None:
        return _result8(rt, ret, NOT_DIRECTORY)
    name = _bytes_at(rt, ptr, length).decode("utf-8", "replace")
    target = os.path.realpath(os.path.join(base.path, name))
    if os.path.isabs(name) or os.path.commonpath([target, base.path]) != base.path:
        return _result8(rt, ret, NOT_PERMITTED)  # outside the granted directory
    create, directory, exclusive, truncate = (open_flags >> i & 1 for i in range(4))
    write = bool(flags & 2)
    if (write or create or truncate) and not base.writable:
        return _result8(rt, ret, READ_ONLY)
    if directory or os.path.isdir(target):
        if not os.path.isdir(target):
            missing = NOT_DIRECTORY if os.path.exists(target) else NO_ENTRY
            return _result8(rt, ret, missing)
        return _result8(rt, ret, None, s.add(Descriptor(target, base.writable)))
    mode = os.O_RDWR if write else os.O_RDONLY
    mode |= (os.O_CREAT if create else 0) | (os.O_EXCL if exclusive else 0)
    mode |= os.O_TRUNC if truncate else 0
    try:
        fd = os.open(target, mode, 0o644)
    except FileNotFoundError:
        return _result8(rt, ret, NO_ENTRY)
    except PermissionError:
        return _result8(rt, ret, ACCESS)
    except OSError:
        return _result8(rt, ret, INVALID)
    file = os.fdopen(fd, "r+b" if write else "rb", buffering=0)
    return _result8(rt, ret, None, s.add(Descriptor(target, write, file)))


@_serves("wasi:filesystem/types", "[method]descriptor.read-via-stream", "iIi")
def _read_via_stream(rt: Any, handle: int, offset: int, ret: int) -> None:
    s = state(rt)
    d = s.get(handle, Descriptor)
    if d.file is None:
        return _result8(rt, ret, IS_DIRECTORY)
    _result8(rt, ret, None, s.add(InputStream(d.file, offset & 0xFFFFFFFFFFFFFFFF)))


def _writer(rt: Any, handle: int, offset: int | None, ret: int) -> None:
    s = state(rt)
    d = s.get(handle, Descriptor)
    if d.file is None:
        return _result8(rt, ret, IS_DIRECTORY)
    if not d.writable:
        return _result8(rt, ret, BAD_DESCRIPTOR)
    _result8(rt, ret, None, s.add(OutputStream(file=d.file, offset=offset)))


@_serves("wasi:filesystem/types", "[method]descriptor.write-via-stream", "iIi")
def _write_via_stream(rt: Any, handle: int, offset: int, ret: int) -> None:
    _writer(rt, handle, offset & 0xFFFFFFFFFFFFFFFF, ret)


@_serves("wasi:filesystem/types", "[method]descriptor.append-via-stream", "ii")
def _append_via_stream(rt: Any, handle: int, ret: int) -> None:
    _writer(rt, handle, None, ret)


@_serves("wasi:filesystem/types", "[method]descriptor.get-type", "ii")
def _get_type(rt: Any, handle: int, ret: int) -> None:
    d = state(rt).get(handle, Descriptor)
    kind = _REGULAR if d.file is not None else _DIRECTORY
    rt.write(ret & 0xFFFFFFFF, bytes([0, kind]))


@_serves("wasi:filesystem/types", "[method]descriptor.get-flags", "ii")
def _get_flags(rt: Any, handle: int, ret: int) -> None:
    d = state(rt).get(handle, Descriptor)
    write = 2 if d.writable and d.file is not None else 0
    flags = 1 | write | (32 if d.writable else 0)
    rt.write(ret & 0xFFFFFFFF, bytes([0, flags]))


@_serves("wasi:filesystem/types", "[method]descriptor.stat", "ii")
def _stat(rt: Any, handle: int, ret: int) -> None:
    d = state(rt).get(handle, Descriptor)
    try:
        st = os.stat(d.file.fileno() if d.file is not None else d.path)
    except OSError:
        rt.write(ret & 0xFFFFFFFF, struct.pack("<B7xB95x", 1, BAD_DESCRIPTOR))
        return
    kind = (
        _DIRECTORY
        if stat_mod.S_ISDIR(st.st_mode)
        else _REGULAR if stat_mod.S_ISREG(st.st_mode) else _UNKNOWN
    )
    out = bytearray(104)
    struct.pack_into("<BxxxxxxxBxxxxxxxQQ", out, 0, 0, kind, st.st_nlink, st.st_size)
    for i, ns in enumerate((st.st_atime_ns, st.st_mtime_ns, st.st_ctime_ns)):
        struct.pack_into("<B7xQI", out, 32 + 24 * i, 1, *divmod(ns, 1_000_000_000))
    rt.write(ret & 0xFFFFFFFF, out)


@_serves("wasi:filesystem/types", "filesystem-error-code", "ii")
def _filesystem_error_code(rt: Any, _error: int, ret: int) -> None:
    rt.write(ret & 0xFFFFFFFF, bytes(2))  # none: stream errors carry no filesystem code
