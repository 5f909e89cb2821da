"""Runtime support shared by the generated bindings: loading, limits, errors, value conversion.

This file is witgen's host runtime (`witgen/hostrt/_runtime.py`), copied verbatim into every
generated package beside `_core.py` and `_capi.py`; `_version.py` of the package says which
witgen wrote it. The package needs only `wasmtime` at run time, never witgen itself.

Value conversion (the generic path) is driven by type descriptors generated from the WIT
(`_abi.py`) together with the function types wasmtime reports for the loaded component; both
are resolved once, when a component is prepared, never per call. A value of the wrong Python
type is reported with the function, the path inside the value and the expected type, the
same way on the generic and the fast path (`mismatch`).
"""

from __future__ import annotations

import ctypes
import hashlib
import itertools
import math
import os
import struct
import sys
import tempfile
import threading
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Generic, Mapping, Protocol, Sequence, TypeVar, Union

import wasmtime
import wasmtime.component as wc

from . import _capi

T = TypeVar("T")
E = TypeVar("E")

# ---------------------------------------------------------------------------- value wrappers


@dataclass(frozen=True, slots=True)
class Ok(Generic[T]):
    """The `ok` case of a WIT `result`."""

    value: T


@dataclass(frozen=True, slots=True)
class Err(Generic[E]):
    """The `err` case of a WIT `result`."""

    value: E


Result = Union[Ok[T], Err[E]]
"""A WIT `result<T, E>`: `Ok(value)` or `Err(value)`."""


@dataclass(frozen=True, slots=True)
class Some(Generic[T]):
    """A present value of an `option` nested in another `option` (`None` alone is ambiguous)."""

    value: T


# ---------------------------------------------------------------------------- errors


class PluginFailure(Exception):
    """Base of every error raised by the bindings about a plugin."""


class PluginLoadError(PluginFailure):
    """The component could not be read, compiled, linked or instantiated."""


class PluginTrap(PluginFailure):
    """The plugin trapped. The instance is discarded; the next call uses a fresh one.

    `reason` names the kind of failure: `trap`, `timeout` or `memory` (the subclasses).
    """

    reason = "trap"


class PluginTimeout(PluginTrap):
    """The plugin ran past its fuel or deadline budget for one call."""

    reason = "timeout"


class PluginMemoryLimit(PluginTrap):
    """The plugin trapped with its linear memory at `Limits.memory_bytes` (a growth refused)."""

    reason = "memory"


class PluginClosed(PluginFailure):
    """The plugin or resource was closed (or lost when its instance trapped)."""


# ---------------------------------------------------------------------------- limits and WASI

MAX_TIMEOUT = 365 * 24 * 3600.0
"""The longest `Limits.timeout` accepted, in seconds (a year)."""


@dataclass(frozen=True, slots=True)
class Limits:
    """Resource limits for one plugin instance.

    `memory_bytes` caps the instance's linear memory; `fuel` caps the instructions of one call
    (deterministic); `timeout` caps the wall-clock time of one call in seconds. A call exceeding
    either budget raises `PluginTimeout`. `None` means no limit. Ctrl-C interrupts a running
    call (`KeyboardInterrupt`) whatever the limits.
    """

    memory_bytes: int | None = 256 * 1024 * 1024
    fuel: int | None = None
    timeout: float | None = None

    def __post_init__(self) -> None:
        for name, top, top_text in (
            ("memory_bytes", 2**63 - 1, "2**63-1"),
            ("fuel", 2**64 - 1, "2**64-1"),
        ):
            value = getattr(self, name)
            if value is None:
                continue
            if isinstance(value, bool) or not isinstance(value, int):
                raise ValueError(f"Limits.{name} must be an int or None, not {value!r}")
            if not 0 < value <= top:
                raise ValueError(
                    f"Limits.{name} must be between 1 and {top_text} (None: unlimited), "
                    f"not {value}",
                )
        timeout = self.timeout
        if timeout is not None:
            if isinstance(timeout, bool) or not isinstance(timeout, (int, float)):
                raise ValueError(
                    f"Limits.timeout must be seconds or None, not {timeout!r}",
                )
            if math.isnan(timeout) or not 0 < timeout <= MAX_TIMEOUT:
                raise ValueError(
                    f"Limits.timeout must be more than 0 and at most {MAX_TIMEOUT:.0f} seconds "
                    f"(None: no timeout), not {timeout}",
                )


@dataclass(frozen=True, slots=True)
class WasiGrants:
    """What a plugin may reach through WASI. Everything not granted here is denied."""

    env: Mapping[str, str] = field(default_factory=dict)
    args: Sequence[str] = ()
    # host directory -> guest path; opened read-only unless listed in `writable_dirs`
    dirs: Mapping[str, str] = field(default_factory=dict)
    writable_dirs: frozenset[str] = frozenset()
    inherit_stdout: bool = False
    inherit_stderr: bool = False

    def config(self) -> wasmtime.WasiConfig:
        cfg = wasmtime.WasiConfig()
        cfg.env = list(self.env.items())
        cfg.argv = list(self.args)
        for host, guest in self.dirs.items():
            cfg.preopen_dir(host, guest, fs_mutable=host in self.writable_dirs)
        if self.inherit_stdout:
            cfg.inherit_stdout()
        if self.inherit_stderr:
            cfg.inherit_stderr()
        return cfg


# ---------------------------------------------------------------------------- interruption

TICK_SECONDS = 0.005


class Ticker:
    """Advances an engine's epoch every `TICK_SECONDS`, but only while a call is running.

    Every store gets an epoch deadline one tick ahead and a callback (`Interrupts`) that
    decides at each tick whether the call goes on (Ctrl-C and timeouts stop it). The thread
    parks itself when no call has run for a while and is woken by the next call.
    """

    def __init__(self, increment: Callable[[], None]) -> None:
        self._increment = increment
        # one entry per call in progress (append/remove)
        self.running: list[object] = []
        self.awake = False
        self._wake = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def enter(self, token: object) -> None:
        self.running.append(token)
        if not self.awake:
            self.wake()

    def wake(self) -> None:
        """Starts ticking (and the thread, the first time); `running` is not empty."""
        if not self.awake:
            self.awake = True
            self._wake.set()
            if self._thread is None:
                with self._lock:
                    if self._thread is None:
                        self._thread = threading.Thread(
                            target=self._run,
                            name="witgen-epoch",
                            daemon=True,
                        )
                        self._thread.start()

    def leave(self, token: object) -> None:
        self.running.pop()  # any entry: only whether the list is empty matters

    def _run(self) -> None:
        idle = 0
        while True:
            time.sleep(TICK_SECONDS)
            if self.running:
                idle = 0
                self._increment()
                continue
            idle += 1
            if idle < 200:
                continue
            self._wake.clear()
            self.awake = False
            if self.running:  # a call started while we were deciding to sleep
                self.awake = True
                continue
            self._wake.wait()
            idle = 0


class _Pending(threading.local):
    """Per thread: an exception raised where it could not propagate (a C callback), and the
    instances whose calls are in progress (innermost last)."""

    def __init__(self) -> None:
        self.raised: BaseException | None = None
        self.stack: list[Any] = []


pending = _Pending()


def take_pending() -> BaseException | None:
    exc, pending.raised = pending.raised, None
    return exc


def _stash_unraisable(hook: Any) -> Callable[[Any], None]:
    """ctypes reports an exception escaping a callback as "ignored"; keep ours instead.

    Ctrl-C during a guest is raised as soon as Python code runs again, which is at the first
    line of the next callback (ours, or wasmtime-py's for a host import), before any `try`.
    While a call is in progress on this thread it is kept here, and the call stops at the
    next epoch check and raises it.
    """

    def unraisable(info: Any) -> None:
        exc = info.exc_value
        ours = getattr(info.object, "_witgen_callback", False)
        if ours or (pending.stack and not isinstance(exc, Exception)):
            if pending.raised is None:
                pending.raised = exc
            return
        hook(info)

    return unraisable


class _Hook:
    current: Callable[[Any], None] | None = None


def ensure_hook() -> None:
    """Puts the stashing hook in front of `sys.unraisablehook` again if it was replaced."""
    if sys.unraisablehook is not _Hook.current:
        _Hook.current = _stash_unraisable(sys.unraisablehook)
        sys.unraisablehook = _Hook.current


ensure_hook()


class Interrupts:
    """The epoch-deadline callback of one store: Ctrl-C and the call's timeout stop the guest.

    Runs on the thread that called into the guest, once per tick of the engine's `Ticker`.
    """

    def __init__(self, lib: _capi.Library, store: int, timeout: float | None) -> None:
        self.lib = lib
        self.timeout = timeout
        self.stop_at = math.inf
        self.timed_out = False
        self._callback = _capi.EPOCH_CALLBACK(self._tick)
        lib.wasmtime_store_epoch_deadline_callback(
            store,
            ctypes.cast(self._callback, ctypes.c_void_p),
            None,
            None,
        )

    def start(self) -> None:
        """Called before each call into the guest."""
        self.timed_out = False
        if self.timeout is not None:
            self.stop_at = time.monotonic() + self.timeout

    def _tick(self, _context: Any, _env: Any, delta: Any, kind: Any) -> int:
        try:
            if pending.raised is None:
                _check_signals()
        except BaseException as exc:  # Ctrl-C (or whatever a signal handler raised)
            pending.raised = exc
        if pending.raised is not None:
            return int(self.lib.wasmtime_error_new(b"interrupted by the host") or 0)
        if time.monotonic() >= self.stop_at:
            self.timed_out = True
            return int(
                self.lib.wasmtime_error_new(b"the call ran past its timeout") or 0,
            )
        delta[0] = 1
        kind[0] = 0  # WASMTIME_UPDATE_DEADLINE_CONTINUE
        return 0

    _tick._witgen_callback = True  # type: ignore[attr-defined]


def _check_signals() -> None:
    """Runs pending signal handlers now (on the main thread): Ctrl-C raises here."""
    ctypes.pythonapi.PyErr_CheckSignals()


def c_api() -> _capi.Library | None:
    """The wasmtime C API, or None (and the reason in `c_api_unavailable`)."""
    try:
        return _capi.load()
    except _capi.Unavailable:
        return None


# ---------------------------------------------------------------------------- engines, cache

_engines: dict[bool, tuple[wasmtime.Engine, Ticker]] = {}
_engines_lock = threading.Lock()


def enable_accessors(cfg: wasmtime.Config) -> None:
    """Let the engine load `[get]`/`[set]` names (WIT accessors): wasmtime-py 51 has no switch
    for the proposal, but its C library does (`wasmtime_config_..._accessors_set`), reached
    through our own handle on that library (`_capi`), not wasmtime-py's private modules.
    """
    lib = c_api()
    if lib is None:
        return
    name = "wasmtime_config_wasm_component_model_accessors_set"
    switch = getattr(lib.dll, name, None)
    if switch is not None:
        switch.argtypes = [ctypes.c_void_p, ctypes.c_bool]
        switch.restype = None
        switch(cfg.ptr(), True)


def engine_for(limits: Limits) -> tuple[wasmtime.Engine, Ticker]:
    """One engine per fuel setting, shared by every plugin in the process (generic path).

    Epoch interruption is always on: it is how Ctrl-C and timeouts stop a running guest.
    """
    key = limits.fuel is not None
    with _engines_lock:
        found = _engines.get(key)
        if found is None:
            cfg = wasmtime.Config()
            cfg.consume_fuel = key
            cfg.epoch_interruption = True
            # Component-model proposals wasmtime gates behind switches (wasmtime-py 51 has
            # them): WIT `map<K, V>`, and the `implements` names of interfaces imported or
            # exported under a name of their own (`import primary: log`).
            for proposal in ("map", "implements"):
                if hasattr(type(cfg), f"wasm_component_model_{proposal}"):
                    setattr(cfg, f"wasm_component_model_{proposal}", True)
            enable_accessors(cfg)
            engine = wasmtime.Engine(cfg)
            found = _engines[key] = (engine, Ticker(engine.increment_epoch))
    return found


def default_cache_dir() -> Path | None:
    """`$XDG_CACHE_HOME/witgen-python` or `~/.cache/witgen-python`; None (no cache, with a
    warning) when there is no home directory to put it in."""
    base = os.environ.get("XDG_CACHE_HOME")
    if not base:
        try:
            base = os.path.join(Path.home(), ".cache")
        except (RuntimeError, KeyError, OSError):
            warnings.warn(
                "witgen: no home directory, so compiled code is not cached",
                RuntimeWarning,
                stacklevel=2,
            )
            return None
    return Path(base) / "witgen-python"


def _ours(path: Path) -> bool:
    """Whether a cache file was written by this user and nobody else can have changed it."""
    if not hasattr(os, "getuid"):
        return True
    try:
        st = path.stat()
    except OSError:
        return False
    return st.st_uid == os.getuid() and not st.st_mode & 0o022


def cached(
    data: bytes,
    tag: str,
    cache_dir: Path | None,
    compile: Callable[[], T],
    serialize: Callable[[T], bytes],
    deserialize: Callable[[bytes], T],
) -> T:
    """Compiled code for `data`, from `cache_dir` when this exact input was compiled before.

    Each entry `<key>.cwasm` has a digest beside it (`<key>.sha256`) written after it; an entry
    whose bytes do not match its digest, or that another user could have written, is never
    deserialized but recompiled and replaced. A cache that cannot be read or written is
    skipped with a warning.
    """
    if cache_dir is None:
        return compile()
    key = hashlib.sha256(
        data + f"|{tag}|wasmtime {_capi.wasmtime_version()}".encode(),
    ).hexdigest()
    path = cache_dir / f"{key}.cwasm"
    digest_path = cache_dir / f"{key}.sha256"
    try:
        blob = path.read_bytes()
        digest = digest_path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        blob, digest = b"", ""
    if not (_ours(path) and _ours(digest_path)):
        blob = b""  # only code this user wrote, in files nobody else could change
    if blob and digest == hashlib.sha256(blob).hexdigest():
        try:
            return deserialize(blob)
        except Exception:
            pass  # written by another wasmtime build: recompile below and overwrite
    compiled = compile()
    try:
        code = serialize(compiled)
        cache_dir.mkdir(parents=True, exist_ok=True)
        for target, content in (
            (path, code),
            (digest_path, hashlib.sha256(code).hexdigest()),
        ):
            fd, tmp = tempfile.mkstemp(dir=cache_dir, suffix=".tmp")
            try:
                with os.fdopen(fd, "wb") as out:
                    out.write(
                        content if isinstance(content, bytes) else content.encode(),
                    )
                os.replace(tmp, target)
            except BaseException:
                os.unlink(tmp)
                raise
    except OSError as exc:
        warnings.warn(
            f"witgen: not caching compiled code in {cache_dir}: {exc.strerror or exc}",
            RuntimeWarning,
            stacklevel=2,
        )
    return compiled


def compile_component(
    engine: wasmtime.Engine,
    wasm: bytes | str,
    key_extra: str,
    cache_dir: Path | None,
) -> wc.Component:
    """Compile, or deserialize from `cache_dir` when this exact component was compiled before."""
    data = wasm.encode("utf-8") if isinstance(wasm, str) else wasm
    return cached(
        data,
        f"component|{key_extra}",
        cache_dir,
        lambda: wc.Component(engine, wasm),
        lambda c: bytes(c.serialize()),
        lambda b: wc.Component.deserialize(engine, b),
    )


# ---------------------------------------------------------------------------- fixed lists
#
# wasmtime-py exposes no switch for the fixed-length lists proposal, so wasmtime refuses a
# component whose types contain `list<T, N>`. Such a list has exactly the canonical ABI of a
# tuple of N T's (same size, alignment and flat values), so the host hands wasmtime the
# component with each fixed-length list type written as that tuple: the guest's code is
# unchanged, and the bindings convert Python lists to and from the tuples (`Converters`).
# Only the component's type definitions are rewritten; a component this reader does not
# understand is passed on untouched (wasmtime then reports what it refuses).

_PRIMITIVE_CODES = frozenset(range(0x73, 0x80)) | {0x64}
_COMPONENT_PREAMBLE = b"\x00asm\x0d\x00\x01\x00"


class _Unreadable(Exception):
    """A component construct the fixed-list rewriter does not know."""


def _u32(data: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            return result, pos


def _leb_bytes(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


# copies one item at a position, returns its end
_CopyItem = Callable[[int, bytearray], int]


class _TypeRewriter:
    """Copies component type definitions, writing each `list<T, N>` as `tuple<T, ...>`."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.changed = False

    def skip_leb(self, pos: int) -> int:
        while self.data[pos] & 0x80:
            pos += 1
        return pos + 1

    def skip_name(self, pos: int) -> int:
        n, pos = _u32(self.data, pos)
        return pos + n

    def skip_option(self, pos: int, skip: Callable[[int], int]) -> int:
        flag = self.data[pos]
        if flag == 0x00:
            return pos + 1
        if flag != 0x01:
            raise _Unreadable("option")
        return skip(pos + 1)

    def vec(self, pos: int, item: _CopyItem, out: bytearray) -> int:
        n, start = _u32(self.data, pos)
        out += self.data[pos:start]
        pos = start
        for _ in range(n):
            pos = item(pos, out)
        return pos

    def copy(self, pos: int, end: int, out: bytearray) -> int:
        out += self.data[pos:end]
        return end

    def deftype(self, pos: int, out: bytearray) -> int:
        data = self.data
        code = data[pos]
        if code in (0x40, 0x43):  # function: params, then results
            out.append(code)
            pos = self.vec(pos + 1, self.labelled_valtype, out)
            if data[pos] == 0x00:
                return self.copy(pos, self.skip_leb(pos + 1), out)
            if data[pos : pos + 2] != b"\x01\x00":
                raise _Unreadable("function results")
            return self.copy(pos, pos + 2, out)
        if code in (0x41, 0x42):  # component type / instance type: declarations
            out.append(code)
            return self.vec(pos + 1, self.declaration, out)
        if code == 0x3F:  # resource: rep i32, optional destructor
            if data[pos + 1] != 0x7F:
                raise _Unreadable("resource")
            end = self.skip_option(pos + 2, self.skip_leb)
            return self.copy(pos, end, out)
        return self.defvaltype(pos, out)

    def valtype(self, pos: int, out: bytearray) -> int:
        return self.copy(pos, self.skip_leb(pos), out)

    def label(self, pos: int, out: bytearray) -> int:
        return self.copy(pos, self.skip_name(pos), out)

    def labelled_valtype(self, pos: int, out: bytearray) -> int:
        return self.copy(pos, self.skip_leb(self.skip_name(pos)), out)

    def defvaltype(self, pos: int, out: bytearray) -> int:
        data = self.data
        code = data[pos]
        if code in _PRIMITIVE_CODES:
            return self.copy(pos, pos + 1, out)
        if code == 0x67:  # list<T, N> -> tuple<T, ... (N times)>
            element_end = self.skip_leb(pos + 1)
            length, end = _u32(data, element_end)
            out.append(0x6F)
            out += _leb_bytes(length)
            out += data[pos + 1 : element_end] * length
            self.changed = True
            return end
        if code == 0x72:  # record
            out.append(code)
            return self.vec(pos + 1, self.labelled_valtype, out)
        if code == 0x71:  # variant: cases of a name, an optional payload, no refinement
            out.append(code)
            return self.vec(pos + 1, self.case, out)
        if code == 0x6F:  # tuple
            out.append(code)
            return self.vec(pos + 1, self.valtype, out)
        if code in (0x6E, 0x6D):  # flags, enum
            out.append(code)
            return self.vec(pos + 1, self.label, out)
        if code in (0x70, 0x6B):  # list, option
            return self.copy(pos, self.skip_leb(pos + 1), out)
        if code in (0x69, 0x68):  # own, borrow
            return self.copy(pos, self.skip_leb(pos + 1), out)
        if code == 0x6A:  # result
            end = self.skip_option(pos + 1, self.skip_leb)  # ok
            end = self.skip_option(end, self.skip_leb)  # err
            return self.copy(pos, end, out)
        if code in (0x66, 0x65):  # stream, future
            return self.copy(pos, self.skip_option(pos + 1, self.skip_leb), out)
        if code == 0x63:  # map
            return self.copy(pos, self.skip_leb(self.skip_leb(pos + 1)), out)
        raise _Unreadable(f"value type {code:#x}")

    def case(self, pos: int, out: bytearray) -> int:
        end = self.skip_option(self.skip_name(pos), self.skip_leb)
        if self.data[end] != 0x00:
            raise _Unreadable("variant case refinement")
        return self.copy(pos, end + 1, out)

    def declaration(self, pos: int, out: bytearray) -> int:
        data = self.data
        kind = data[pos]
        if kind == 0x01:  # a type
            out.append(kind)
            return self.deftype(pos + 1, out)
        if kind == 0x02:  # an alias
            return self.copy(pos, self.skip_alias(pos + 1), out)
        if kind in (0x03, 0x04):  # an import or an export: name, then what it is
            if data[pos + 1] not in (0x00, 0x01):
                raise _Unreadable("extern name")
            end = self.skip_externdesc(self.skip_name(pos + 2))
            return self.copy(pos, end, out)
        raise _Unreadable(f"declaration {kind:#x}")

    def skip_alias(self, pos: int) -> int:
        data = self.data
        # the sort: core sorts take two bytes
        pos = pos + 2 if data[pos] == 0x00 else pos + 1
        target = data[pos]
        if target in (0x00, 0x01):  # an export of an instance: index, name
            return self.skip_name(self.skip_leb(pos + 1))
        if target == 0x02:  # outer: count, index
            return self.skip_leb(self.skip_leb(pos + 1))
        raise _Unreadable("alias")

    def skip_externdesc(self, pos: int) -> int:
        data = self.data
        kind = data[pos]
        if kind == 0x00:  # core module: 0x11, type index
            return self.skip_leb(pos + 2)
        if kind in (0x01, 0x04, 0x05):  # func, component, instance: type index
            return self.skip_leb(pos + 1)
        if kind in (0x02, 0x03):  # value or type bound
            bound = data[pos + 1]
            if kind == 0x03 and bound == 0x01:  # a fresh resource type
                return pos + 2
            if bound in (0x00, 0x01):
                return self.skip_leb(pos + 2)
        raise _Unreadable("extern description")

    def component(self, start: int, end: int) -> bytes:
        """A component's binary with its type sections rewritten (nested components too)."""
        data = self.data
        out = bytearray(data[start : start + 8])
        pos = start + 8
        while pos < end:
            section = data[pos]
            size, body = _u32(data, pos + 1)
            if section == 4:  # a nested component
                content = self.component(body, body + size)
            elif section == 7:  # component types
                rewritten = bytearray()
                if self.vec(body, self.deftype, rewritten) != body + size:
                    raise _Unreadable("type section length")
                content = bytes(rewritten)
            else:
                content = data[body : body + size]
            out.append(section)
            out += _leb_bytes(len(content))
            out += content
            pos = body + size
        return bytes(out)


def fixed_lists_as_tuples(wasm: bytes) -> bytes:
    """`wasm` with every fixed-length list type written as the tuple of the same ABI (see above);
    `wasm` itself when it has none or is not a component this reader understands."""
    if not wasm.startswith(_COMPONENT_PREAMBLE):
        return wasm
    rewriter = _TypeRewriter(wasm)
    try:
        rewritten = rewriter.component(0, len(wasm))
    except (_Unreadable, IndexError):
        return wasm
    return rewritten if rewriter.changed else wasm


def with_fixed_lists_as_tuples(wasm: bytes | str) -> bytes | str:
    """`fixed_lists_as_tuples` of a component's bytes or WAT text (as bytes when rewritten)."""
    if isinstance(wasm, bytes):
        return fixed_lists_as_tuples(wasm)
    if "list" not in wasm:
        return wasm
    try:
        binary = bytes(wasmtime.wat2wasm(wasm))
    except wasmtime.WasmtimeError:
        return wasm  # compiling it reports the error
    rewritten = fixed_lists_as_tuples(binary)
    return wasm if rewritten is binary else rewritten


def wasmtime_py_version() -> str:
    try:
        from importlib.metadata import version

        return version("wasmtime")
    except Exception:
        return "(unknown version)"


def read_component(source: str | os.PathLike[str] | bytes) -> bytes | str:
    """A component's bytes (or WAT text) from a path or from bytes already in memory."""
    if isinstance(source, bytes):
        return source
    path = Path(source)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise PluginLoadError(f"cannot read component {path}: {exc.strerror}") from None
    if path.suffix == ".wat":
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            raise PluginLoadError(
                f"cannot read component {path}: not UTF-8 text",
            ) from None
    return data


# ---------------------------------------------------------------------------- descriptors
#
# A descriptor says how a WIT type looks on the Python side of these bindings:
#   ("bool",) ("float", wit_name) ("char",) ("string",)   passed as they are
#   ("int", lo, hi, wit_name)      integers, range-checked when lowered
#   ("bytes",)                     list<u8>
#   ("list", elem)                 list<T>
#   ("tuple", (elems...))          tuple<...>
#   ("fixed-list", elem, n)        list<T, n>: a Python list of n (the component sees a tuple)
#   ("fixed-bytes", n)             list<u8, n>: bytes of length n
#   ("map", key, value)            map<K, V>: a dict (the fast path only: see `Prepared`)
#   ("record", cls, ((attr, wit_name, desc), ...))
#   ("enum", cls)                  enum.Enum whose values are the WIT case names
#   ("flags", cls, ((wit_name, member), ...))
#   ("variant", ((wit_case, cls, desc | None), ...))   one dataclass per case (`value` field)
#   ("option", desc, nested)       None / value, or None / Some(value) when nested
#   ("result", ok | None, err | None)
#   ("own", cls) / ("borrow", cls) a resource class wrapping a handle
#   ("host-own", key) / ("host-borrow", key)   a host object lent to the plugin as a handle
#                                  of the host resource `key` (`<interface>#<name>`)

Desc = tuple[Any, ...]
Convert = Callable[[Any], Any]
_PLAIN = ("prim", "bool", "float", "char", "string")
_F32 = struct.Struct("<f")


def _identity(value: Any) -> Any:
    return value


def as_bytes(v: Any) -> bytes:
    """`list<u8>` from bytes-like values only (`bytes(5)` would make five zero bytes)."""
    if type(v) is bytes:
        return v
    if not isinstance(v, (bytes, bytearray, memoryview)):
        raise TypeError(f"expected bytes, got {type(v).__name__}")
    return bytes(v)


def as_sequence(v: Any) -> Any:
    """A WIT `list` from a list or tuple (not a dict, set or string, which would also iterate)."""
    if not isinstance(v, (list, tuple)):
        raise TypeError(f"expected list, got {type(v).__name__}")
    return v


def as_tuple(v: Any, n: int) -> Any:
    if not isinstance(v, tuple) or len(v) != n:
        raise TypeError(f"expected a tuple of {n}, got {type(v).__name__}")
    return v


def as_fixed(v: Any, n: int) -> Any:
    """A fixed-length list's value: a sequence of exactly `n` items."""
    if len(v) != n:
        raise ValueError(f"expected {n} items, got {len(v)}")
    return v


def _type_name(v: Any) -> str:
    return "None" if v is None else type(v).__name__


def mismatch(desc: Desc | None, v: Any, path: str) -> Exception | None:
    """What is wrong with Python value `v` for descriptor `desc`, or None when nothing is.

    The error names `path` (e.g. `process(record.payload)`) and the expected type; both paths
    (generic and fast) report wrong values through this one function.
    """
    if desc is None:
        return None
    kind = desc[0]
    want: str | None = None
    if kind == "bool":
        want = None if isinstance(v, bool) else "bool"
    elif kind == "float":
        want = None if isinstance(v, (int, float)) else "float"
    elif kind == "char":
        if not isinstance(v, str) or len(v) != 1:
            want = "str of length 1"
        elif 0xD800 <= ord(v) <= 0xDFFF:
            return ValueError(f"{path}: {ord(v):#x} is a surrogate, not a char")
    elif kind == "string":
        want = None if isinstance(v, str) else "str"
    elif kind == "int":
        if not isinstance(v, int):
            want = "int"
        elif not desc[1] <= v <= desc[2]:
            return ValueError(f"{path}: {v} is out of range for {desc[3]}")
    elif kind == "bytes":
        want = None if isinstance(v, (bytes, bytearray, memoryview)) else "bytes"
    elif kind == "fixed-bytes":
        if not isinstance(v, (bytes, bytearray, memoryview)) or len(v) != desc[1]:
            want = f"bytes of length {desc[1]}"
    elif kind == "fixed-list":
        if not isinstance(v, (list, tuple)) or len(v) != desc[2]:
            want = f"list of {desc[2]}"
        else:
            for i, x in enumerate(v):
                found = mismatch(desc[1], x, f"{path}[{i}]")
                if found is not None:
                    return found
    elif kind == "map":
        if not isinstance(v, Mapping):
            want = "dict"
        else:
            for key, value in v.items():
                found = mismatch(desc[1], key, f"{path} key") or mismatch(
                    desc[2], value, f"{path}[{key!r}]"
                )
                if found is not None:
                    return found
    elif kind == "list":
        if not isinstance(v, (list, tuple)):
            want = "list"
        else:
            for i, x in enumerate(v):
                found = mismatch(desc[1], x, f"{path}[{i}]")
                if found is not None:
                    return found
    elif kind == "tuple":
        n = len(desc[1])
        if not isinstance(v, tuple) or len(v) != n:
            want = f"tuple of {n}"
        else:
            for i, (d, x) in enumerate(zip(desc[1], v)):
                found = mismatch(d, x, f"{path}[{i}]")
                if found is not None:
                    return found
    elif kind == "record":
        fields = desc[2]
        if not isinstance(v, desc[1]) and not all(hasattr(v, f[0]) for f in fields):
            want = desc[1].__name__
        else:
            for attr, _, d in fields:
                found = mismatch(d, getattr(v, attr), f"{path}.{attr}")
                if found is not None:
                    return found
    elif kind in ("enum", "flags", "own", "borrow"):
        want = None if isinstance(v, desc[1]) else desc[1].__name__
    elif kind == "option":
        if v is not None:
            if desc[2]:
                if not isinstance(v, Some):
                    return TypeError(
                        f"{path}: expected None or Some(...), got {_type_name(v)}",
                    )
                return mismatch(desc[1], v.value, f"{path}.value")
            return mismatch(desc[1], v, path)
    elif kind == "result":
        if isinstance(v, Ok):
            return mismatch(desc[1], v.value, f"{path}.value")
        if isinstance(v, Err):
            return mismatch(desc[2], v.value, f"{path}.value")
        want = "Ok(...) or Err(...)"
    elif kind == "variant":
        for _, cls, d in desc[1]:
            if type(v) is cls:
                return mismatch(d, getattr(v, "value", None), f"{path}.value")
        want = " or ".join(cls.__name__ for _, cls, _ in desc[1])
    if want is not None:
        return TypeError(f"{path}: expected {want}, got {_type_name(v)}")
    return None


def _f32(v: float) -> float:
    try:
        _F32.pack(v)
    except OverflowError:  # IEEE round-to-nearest: beyond f32's range is infinite
        return math.copysign(math.inf, v)
    return v


def has_f32(desc: Desc | None) -> bool:
    """Whether a value of `desc` may hold an f32."""
    if desc is None:
        return False
    kind = desc[0]
    if kind == "float":
        return bool(desc[1] == "f32")
    if kind in ("list", "fixed-list", "option"):
        return has_f32(desc[1])
    if kind == "tuple":
        return any(has_f32(d) for d in desc[1])
    if kind in ("map", "result"):
        return has_f32(desc[1]) or has_f32(desc[2])
    if kind == "record":
        return any(has_f32(d) for _, _, d in desc[2])
    if kind == "variant":
        return any(has_f32(d) for _, _, d in desc[1])
    return False


def f32_rounded(desc: Desc | None, v: Any) -> Any:
    """`v` with each f32 in it that `struct` cannot pack (finite, beyond f32's range)
    made the infinity IEEE rounding gives; `v` itself when nothing changed."""
    kind = None if desc is None else desc[0]
    new: Any = v
    if kind == "float":
        assert desc is not None
        if desc[1] == "f32" and isinstance(v, float) and math.isfinite(v):
            new = _f32(v)
    elif kind in ("list", "fixed-list", "tuple") and isinstance(v, (list, tuple)):
        assert desc is not None
        descs = desc[1] if kind == "tuple" else [desc[1]] * len(v)
        items = [f32_rounded(d, x) for d, x in zip(descs, v)]
        if any(a is not b for a, b in zip(items, v)):
            new = tuple(items) if isinstance(v, tuple) else items
    elif kind == "map" and isinstance(v, Mapping):
        assert desc is not None
        key, value = desc[1], desc[2]
        pairs = [(f32_rounded(key, k), f32_rounded(value, x)) for k, x in v.items()]
        if any(a is not k or b is not x for (a, b), (k, x) in zip(pairs, v.items())):
            new = dict(pairs)
    elif kind == "record":
        assert desc is not None
        changed = {}
        for attr, _, d in desc[2]:
            old = getattr(v, attr, None)
            value = f32_rounded(d, old)
            if value is not old:
                changed[attr] = value
        if changed:
            fields = {attr: getattr(v, attr) for attr, _, _ in desc[2]}
            new = desc[1](**{**fields, **changed})
    elif kind == "option" and v is not None:
        assert desc is not None
        inner = v.value if desc[2] and isinstance(v, Some) else v
        value = f32_rounded(desc[1], inner)
        if value is not inner:
            new = Some(value) if desc[2] else value
    elif kind == "result" and isinstance(v, (Ok, Err)):
        assert desc is not None
        value = f32_rounded(desc[1] if isinstance(v, Ok) else desc[2], v.value)
        if value is not v.value:
            new = type(v)(value)
    elif kind == "variant":
        assert desc is not None
        for _, cls, d in desc[1]:
            if type(v) is cls and d is not None:
                value = f32_rounded(d, v.value)
                if value is not v.value:
                    new = cls(value)
    return new


def _case_classes(wt: Any) -> tuple[type, ...]:
    found: set[type] = set()
    wt.add_classes(found)
    found.discard(object)
    return tuple(found)


def _is_tagged(wt: Any) -> bool:
    """Whether wasmtime passes this variant-like type as `Variant(tag, payload)`.

    wasmtime-py tags a variant-like value only when its cases' Python classes overlap;
    otherwise it passes the bare payload and picks the case by the payload's class.
    """
    return bool(wt._tagged())


_host_resource_types = itertools.count(1)


class HostResources:
    """The Python objects a host lends plugins as handles of one resource type, by rep.

    A handle the plugin owns keeps its object here until the plugin drops it; then the
    object's `close()` runs (if it has one). Objects handed back to the host as `own`
    leave the table without being closed: the host owns them again.
    """

    def __init__(self, key: str) -> None:
        self.key = key
        self._type_id = next(_host_resource_types)
        self.type = wc.ResourceType.host(self._type_id)
        self.objects: dict[int, Any] = {}
        self._reps: dict[int, int] = {}  # id(object) -> rep, while the object is lent
        self._next = itertools.count(1)
        self._lock = threading.Lock()
        self._borrowed: list[int] = []

    def lend(self, obj: Any, own: bool) -> wc.ResourceHost:
        with self._lock:
            rep = self._reps.get(id(obj))
            if rep is None:
                rep = next(self._next) & 0xFFFFFFFF
                self.objects[rep] = obj
                self._reps[id(obj)] = rep
                if not own:  # only lent for one call: forgotten when the call returns
                    self._borrowed.append(rep)
        if own:
            return wc.ResourceHost.own(rep, self._type_id)
        return wc.ResourceHost.borrow(rep, self._type_id)

    def find(self, store: Any, handle: Any, take: bool) -> Any:
        if isinstance(handle, wc.ResourceAny):
            handle = handle.to_host(store)
        rep = handle.rep
        with self._lock:
            obj = self.objects.get(rep)
            if obj is None:
                raise PluginClosed(f"no live `{self.key}` object has handle {rep}")
            if take:
                del self.objects[rep]
                self._reps.pop(id(obj), None)
        return obj

    def end_call(self) -> None:
        """Forget objects lent only as `borrow` to the call that just returned."""
        with self._lock:
            for rep in self._borrowed:
                obj = self.objects.pop(rep, None)
                if obj is not None:
                    self._reps.pop(id(obj), None)
            self._borrowed.clear()

    def drop(self, _store: Any, rep: int) -> None:
        """`[resource-drop]`: the plugin let go of its handle."""
        with self._lock:
            obj = self.objects.pop(rep, None)
            if obj is not None:
                self._reps.pop(id(obj), None)
        close = getattr(obj, "close", None)
        if callable(close):
            close()


def host_method(name: str) -> Callable[..., Any]:
    """Serves `[method]r.name` by calling `name` on the host object the handle stands for."""

    def call(obj: Any, *args: Any) -> Any:
        return getattr(obj, name)(*args)

    return call


class Converters:
    """Builds lower (Python -> wasmtime) and lift (wasmtime -> Python) functions once per type."""

    def __init__(self, hosts: dict[str, HostResources] | None = None) -> None:
        # The instance lifted resources belong to, and the store of the call in progress: set
        # per call, per thread (converters are shared by every instance of a component).
        self._owner = threading.local()
        self.hosts: dict[str, HostResources] = {} if hosts is None else hosts

    def host(self, key: str) -> HostResources:
        table = self.hosts.get(key)
        if table is None:
            table = self.hosts[key] = HostResources(key)
        return table

    @property
    def store(self) -> Any:
        return getattr(self._owner, "store", None)

    @store.setter
    def store(self, store: Any) -> None:
        self._owner.store = store

    @property
    def owner(self) -> Any:
        return getattr(self._owner, "value", None)

    @owner.setter
    def owner(self, instance: Any) -> None:
        self._owner.value = instance

    # -- lowering --

    def lower(self, desc: Desc, wt: Any) -> Convert:
        kind = desc[0]
        if kind in _PLAIN:
            return _identity
        if kind == "int":
            _, lo, hi, name = desc

            def lower_int(v: Any) -> Any:
                if not lo <= v <= hi:
                    raise ValueError(f"{v} is out of range for {name}")
                return v

            return lower_int
        if kind == "bytes":
            return as_bytes
        if kind == "list":
            elem = self.lower(desc[1], wt.element)
            if elem is _identity:
                return lambda v: list(as_sequence(v))
            return lambda v: [elem(x) for x in as_sequence(v)]
        if kind == "tuple":
            parts = [self.lower(d, t) for d, t in zip(desc[1], wt.elements)]
            n = len(parts)
            return lambda v: tuple(f(x) for f, x in zip(parts, as_tuple(v, n)))
        if kind == "fixed-bytes":
            return lambda v: tuple(as_fixed(as_bytes(v), desc[1]))
        if kind == "fixed-list":
            elem, n = self.lower(desc[1], wt.elements[0]), desc[2]
            return lambda v: tuple(elem(x) for x in as_fixed(as_sequence(v), n))
        if kind == "record":
            fields = [
                (attr, name, self.lower(d, t))
                for (attr, name, d), (_, t) in zip(desc[2], wt.fields)
            ]

            def lower_record(v: Any) -> Any:
                rec = wc.Record()
                for attr, name, f in fields:
                    setattr(rec, name, f(getattr(v, attr)))
                return rec

            return lower_record
        if kind == "enum":
            return lambda v: v.value
        if kind == "flags":
            table = desc[2]
            return lambda v: {name for name, member in table if member in v}
        if kind in ("own", "borrow"):
            consume = kind == "own"
            return lambda v: v._handle_for_call(consume)
        if kind in ("host-own", "host-borrow"):
            lender, own = self.host(desc[1]), kind == "host-own"
            return lambda v: lender.lend(v, own)
        return self._lower_variant_like(desc, wt)

    def _lower_variant_like(self, desc: Desc, wt: Any) -> Convert:
        tagged = _is_tagged(wt)
        cases = wt._cases()
        kind = desc[0]

        def payload(i: int, d: Desc | None) -> Convert | None:
            t = cases[i][1]
            return None if d is None or t is None else self.lower(d, t)

        def wrap(i: int, f: Convert | None) -> Convert:
            tag = cases[i][0]
            if tagged:
                if f is None:
                    return lambda v: wc.Variant(tag)
                return lambda v: wc.Variant(tag, f(v))
            return f if f is not None else (lambda v: None)

        if kind == "option":
            some = wrap(1, payload(1, desc[1]))
            none = wrap(0, None)
            if desc[2]:
                return lambda v: none(None) if v is None else some(v.value)
            return lambda v: none(None) if v is None else some(v)
        if kind == "result":
            ok = wrap(0, payload(0, desc[1]))
            err = wrap(1, payload(1, desc[2]))

            def lower_result(v: Any) -> Any:
                if isinstance(v, Ok):
                    return ok(v.value)
                if isinstance(v, Err):
                    return err(v.value)
                raise TypeError(f"expected Ok(...) or Err(...), got {v!r}")

            return lower_result
        by_class: dict[type, Convert] = {}
        for i, (_, cls, d) in enumerate(desc[1]):
            f = wrap(i, payload(i, d))
            by_class[cls] = (lambda f: lambda v: f(v.value))(f) if d is not None else f

        def lower_variant(v: Any) -> Any:
            f = by_class.get(type(v))
            if f is None:
                raise TypeError(f"{v!r} is not a case of this variant")
            return f(v)

        return lower_variant

    # -- lifting --

    def lift(self, desc: Desc, wt: Any) -> Convert:
        kind = desc[0]
        if kind in _PLAIN or kind in ("int", "bytes"):
            return _identity
        if kind == "fixed-bytes":
            return bytes
        if kind == "fixed-list":
            elem = self.lift(desc[1], wt.elements[0])
            return lambda v: [elem(x) for x in v]
        if kind == "list":
            elem = self.lift(desc[1], wt.element)
            if elem is _identity:
                return _identity
            return lambda v: [elem(x) for x in v]
        if kind == "tuple":
            parts = [self.lift(d, t) for d, t in zip(desc[1], wt.elements)]
            return lambda v: tuple(f(x) for f, x in zip(parts, v))
        if kind == "record":
            cls = desc[1]
            pairs = zip(desc[2], wt.fields)
            fields = [(name, self.lift(d, t)) for (_, name, d), (_, t) in pairs]
            return lambda v: cls(*[f(getattr(v, name)) for name, f in fields])
        if kind == "enum":
            enum_cls = desc[1]

            def lift_enum(v: Any) -> Any:
                try:
                    return enum_cls(v)
                except ValueError:
                    raise PluginTrap(
                        f"the plugin returned an unknown {enum_cls.__name__} case {v!r}",
                    ) from None

            return lift_enum
        if kind == "flags":
            cls, table = desc[1], dict(desc[2])

            def lift_flags(v: Any) -> Any:
                out = cls(0)
                for name in v:
                    flag = table.get(name)
                    if flag is None:
                        raise PluginTrap(
                            f"the plugin returned an unknown {cls.__name__} flag",
                        )
                    out |= flag
                return out

            return lift_flags
        if kind in ("own", "borrow"):
            cls = desc[1]
            return lambda v: cls(
                self.owner,
                v,
            )  # owner: set by Instance.call before lifting
        if kind in ("host-own", "host-borrow"):
            hosted, take = self.host(desc[1]), kind == "host-own"
            return lambda v: hosted.find(
                self.store,
                v,
                take,
            )  # store: set before lifting
        return self._lift_variant_like(desc, wt)

    def _lift_variant_like(self, desc: Desc, wt: Any) -> Convert:
        tagged = _is_tagged(wt)
        cases = wt._cases()
        kind = desc[0]
        makers: list[Convert] = []
        if kind == "option":
            inner = self.lift(desc[1], cases[1][1])
            makers = [lambda v: None, (lambda v: Some(inner(v))) if desc[2] else inner]
        elif kind == "result":
            for i, (d, box) in enumerate(((desc[1], Ok), (desc[2], Err))):
                t = cases[i][1]
                f: Convert = lambda v: None
                if d is not None and t is not None:
                    f = self.lift(d, t)
                makers.append((lambda f, box: lambda v: box(f(v)))(f, box))
        else:
            for i, (_, cls, d) in enumerate(desc[1]):
                t = cases[i][1]
                if d is None or t is None:
                    makers.append((lambda cls: lambda v: cls())(cls))
                else:
                    f = self.lift(d, t)
                    makers.append((lambda cls, f: lambda v: cls(f(v)))(cls, f))
        if tagged:
            by_tag = {name: m for (name, _), m in zip(cases, makers)}

            def lift_tagged(v: Any) -> Any:
                make = by_tag.get(v.tag)
                if make is None:
                    raise PluginTrap(f"the plugin returned an unknown case {v.tag!r}")
                return make(v.payload)

            return lift_tagged
        # Untagged: the cases' Python classes are disjoint, so the payload's class names the
        # case; a payload-less case arrives as None.
        empty = [m for (_, t), m in zip(cases, makers) if t is None]
        tests = [(_case_classes(t), m) for (_, t), m in zip(cases, makers) if t]

        def lift_untagged(v: Any) -> Any:
            if v is None and empty:
                return empty[0](None)
            for classes, m in tests:
                if isinstance(v, classes):
                    return m(v)
            raise PluginTrap(f"the plugin returned a value {v!r} that matches no case")

        return lift_untagged


# ---------------------------------------------------------------------------- plugins


@dataclass(frozen=True, slots=True)
class FuncSig:
    """A function of the WIT world: where it lives and the descriptors of its values."""

    # the component export/import name of its interface; None: a world-level function
    interface: str | None
    name: str
    params: tuple[Desc, ...]
    result: Desc | None
    method: str = ""  # the Python name of the function (errors name it)
    names: tuple[str, ...] = ()  # the Python names of its parameters

    def label(self) -> str:
        return self.method or self.name

    def check_args(self, args: Sequence[Any]) -> Exception | None:
        """The first wrong argument (see `mismatch`), or None."""
        for i, (desc, value) in enumerate(zip(self.params, args)):
            name = self.names[i] if i < len(self.names) else f"arg{i}"
            found = mismatch(desc, value, f"{self.label()}({name}")
            if found is not None:
                return _close_paren(found)
        return None

    def check_result(self, value: Any) -> Exception | None:
        """What is wrong with a value a host implementation returned, or None."""
        found = mismatch(self.result, value, f"{self.label()}(return")
        return None if found is None else _close_paren(found)


def _close_paren(exc: Exception) -> Exception:
    """`f(record.payload: expected ...` -> `f(record.payload): expected ...`."""
    text = str(exc)
    head, sep, tail = text.partition(": ")
    return type(exc)(f"{head}){sep}{tail}")


def classify(
    text: str,
    timed_out: bool = False,
    memory_full: int | None = None,
) -> PluginFailure:
    """The typed error for a trap or error message wasmtime reported for a call.

    `memory_full`: the memory limit in bytes when the host saw the instance's memory at it
    after the trap (its last growth was refused, see `_core`), else None.
    """
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    last = lines[-1] if lines else "unknown failure"
    if timed_out or "wasm trap: interrupt" in text or "fuel" in text:
        return PluginTimeout(f"the plugin exceeded its time budget: {last}")
    if memory_full is not None:
        return PluginMemoryLimit(
            f"the plugin trapped with its memory at the limit of {memory_full} bytes: {last}"
        )
    return PluginTrap(f"the plugin trapped: {last}")


def _func_type_of(
    engine: wasmtime.Engine,
    items: Mapping[str, Any],
    iface: str | None,
    name: str,
) -> Any:
    if iface is None:
        ext = items.get(name)
        return None if ext is None else ext.ty
    ext = items.get(iface)
    if ext is None:
        return None
    inner = ext.ty.exports(engine).get(name)
    return None if inner is None else inner.ty


_SCALARS = {
    "bool": wc.Bool,
    "char": wc.Char,
    "string": wc.String,
    "f32": wc.F32,
    "f64": wc.F64,
    "u8": wc.U8,
    "s8": wc.S8,
    "u16": wc.U16,
    "s16": wc.S16,
    "u32": wc.U32,
    "s32": wc.S32,
    "u64": wc.U64,
    "s64": wc.S64,
}


def wit_text(wt: Any) -> str:
    """A short WIT spelling of a wasmtime component type, for errors."""
    for name, cls in _SCALARS.items():
        if isinstance(wt, cls):
            return name
    if isinstance(wt, wc.ListType):
        return f"list<{wit_text(wt.element)}>"
    if isinstance(wt, wc.TupleType):
        return f"tuple<{', '.join(wit_text(t) for t in wt.elements)}>"
    if isinstance(wt, wc.OptionType):
        return f"option<{wit_text(wt.payload)}>"
    if isinstance(wt, wc.ResultType):
        ok = "_" if wt.ok is None else wit_text(wt.ok)
        err = "_" if wt.err is None else wit_text(wt.err)
        return f"result<{ok}, {err}>"
    if isinstance(wt, wc.RecordType):
        return f"record {{{', '.join(name for name, _ in wt.fields)}}}"
    if isinstance(wt, wc.VariantType):
        return f"variant {{{', '.join(name for name, _ in wt.cases)}}}"
    if isinstance(wt, wc.EnumType):
        return f"enum {{{', '.join(wt.names)}}}"
    if isinstance(wt, wc.FlagsType):
        return f"flags {{{', '.join(wt.names)}}}"
    if isinstance(wt, wc.OwnType):
        return "own<...>"
    if isinstance(wt, wc.BorrowType):
        return "borrow<...>"
    return type(wt).__name__


def type_mismatch(desc: Desc | None, wt: Any, path: str) -> str | None:
    """How the component's type `wt` differs from the bindings' descriptor, or None."""
    if desc is None or wt is None:
        if desc is None and wt is None:
            return None
        expected = "no value" if desc is None else "a value"
        return f"{path}: the bindings expect {expected}"
    kind = desc[0]
    want: str | None = None
    if kind in ("bool", "char", "string"):
        want = kind
    elif kind == "float" or kind == "int":
        want = desc[1] if kind == "float" else desc[3]
    if want is not None:
        if isinstance(wt, _SCALARS[want]):
            return None
        return f"{path}: the bindings expect {want}, the component has {wit_text(wt)}"
    found: str | None = None
    if kind == "bytes":
        if not (isinstance(wt, wc.ListType) and isinstance(wt.element, wc.U8)):
            found = "list<u8>"
    elif kind in ("fixed-bytes", "fixed-list"):
        # wasmtime sees the tuple the fixed-length list was rewritten to (`fixed_lists_as_tuples`)
        n = desc[1] if kind == "fixed-bytes" else desc[2]
        elem: Desc = ("int", 0, 255, "u8") if kind == "fixed-bytes" else desc[1]
        if not isinstance(wt, wc.TupleType) or len(wt.elements) != n:
            found = f"a list of {n}"
        else:
            return type_mismatch(elem, wt.elements[0], f"{path}[]")
    elif kind == "list":
        if not isinstance(wt, wc.ListType):
            found = "a list"
        else:
            return type_mismatch(desc[1], wt.element, f"{path}[]")
    elif kind == "tuple":
        if not isinstance(wt, wc.TupleType) or len(wt.elements) != len(desc[1]):
            found = f"a tuple of {len(desc[1])}"
        else:
            for i, (d, t) in enumerate(zip(desc[1], wt.elements)):
                inner = type_mismatch(d, t, f"{path}[{i}]")
                if inner is not None:
                    return inner
    elif kind == "record":
        names = [name for _, name, _ in desc[2]]
        if not isinstance(wt, wc.RecordType) or [n for n, _ in wt.fields] != names:
            found = f"record {{{', '.join(names)}}}"
        else:
            for (attr, _, d), (_, t) in zip(desc[2], wt.fields):
                inner = type_mismatch(d, t, f"{path}.{attr}")
                if inner is not None:
                    return inner
    elif kind == "enum":
        names = [m.value for m in desc[1]]
        if not isinstance(wt, wc.EnumType) or list(wt.names) != names:
            found = f"enum {{{', '.join(names)}}}"
    elif kind == "flags":
        names = [name for name, _ in desc[2]]
        if not isinstance(wt, wc.FlagsType) or list(wt.names) != names:
            found = f"flags {{{', '.join(names)}}}"
    elif kind == "variant":
        names = [name for name, _, _ in desc[1]]
        if not isinstance(wt, wc.VariantType) or [n for n, _ in wt.cases] != names:
            found = f"variant {{{', '.join(names)}}}"
        else:
            for (name, _, d), (_, case_type) in zip(desc[1], wt.cases):
                inner = type_mismatch(d, case_type, f"{path}.{name}")
                if inner is not None:
                    return inner
    elif kind == "option":
        if not isinstance(wt, wc.OptionType):
            found = "an option"
        else:
            return type_mismatch(desc[1], wt.payload, f"{path}?")
    elif kind == "result":
        if not isinstance(wt, wc.ResultType):
            found = "a result"
        else:
            return type_mismatch(desc[1], wt.ok, f"{path}.ok") or type_mismatch(
                desc[2],
                wt.err,
                f"{path}.err",
            )
    elif kind in ("own", "host-own"):
        found = None if isinstance(wt, wc.OwnType) else "own<...>"
    elif kind in ("borrow", "host-borrow"):
        found = None if isinstance(wt, wc.BorrowType) else "borrow<...>"
    if found is None:
        return None
    return f"{path}: the bindings expect {found}, the component has {wit_text(wt)}"


def has_map(desc: Desc | None) -> bool:
    """Whether values of `desc` contain a `map<K, V>`, which wasmtime-py (51) cannot describe:
    reading such a function's type raises TypeError ("unknown component value type kind").
    """
    if desc is None:
        return False
    kind = desc[0]
    if kind == "map":
        return True
    if kind in ("list", "option"):
        return has_map(desc[1])
    if kind == "fixed-list":
        return has_map(desc[1])
    if kind == "tuple":
        return any(has_map(d) for d in desc[1])
    if kind == "record":
        return any(has_map(d) for _, _, d in desc[2])
    if kind == "result":
        return has_map(desc[1]) or has_map(desc[2])
    if kind == "variant":
        return any(has_map(d) for _, _, d in desc[1])
    return False


def sig_has_map(sig: FuncSig) -> bool:
    return has_map(sig.result) or any(has_map(d) for d in sig.params)


def func_mismatch(sig: FuncSig, fty: Any) -> str | None:
    """How a component function's type differs from the bindings' signature, or None."""
    params = list(fty.params)
    if len(params) != len(sig.params):
        return f"it takes {len(params)} parameters, the bindings pass {len(sig.params)}"
    for i, (desc, (_, wt)) in enumerate(zip(sig.params, params)):
        name = sig.names[i] if i < len(sig.names) else f"arg{i}"
        found = type_mismatch(desc, wt, name)
        if found is not None:
            return found
    return type_mismatch(sig.result, fty.result, "result")


def check_types(
    engine: wasmtime.Engine,
    ctype: Any,
    exports: Sequence[FuncSig],
    imports: Sequence[tuple[FuncSig, Any]],
) -> None:
    """Refuses a component whose functions' types differ from the bindings' (first difference)."""
    export_items = ctype.exports(engine)
    for sig in exports:
        where = f"{sig.interface}#{sig.name}" if sig.interface else sig.name
        fty = _func_type_of(engine, export_items, sig.interface, sig.name)
        if fty is None:
            raise PluginLoadError(f"the component does not export `{where}`")
        if sig_has_map(sig):
            continue  # wasmtime-py cannot read its type; the fast path checks the core one
        found = func_mismatch(sig, fty)
        if found is not None:
            raise PluginLoadError(
                f"the component's export `{where}` does not match the bindings: {found}",
            )
    import_items = ctype.imports(engine)
    for sig, _ in imports:
        fty = _func_type_of(engine, import_items, sig.interface, sig.name)
        if fty is None or not isinstance(fty, wc.FuncType):
            continue  # not imported by this component
        if sig_has_map(sig):
            continue  # wasmtime-py cannot read its type; the fast path checks the core one
        found = func_mismatch(sig, fty)
        if found is not None:
            where = f"{sig.interface}#{sig.name}" if sig.interface else sig.name
            raise PluginLoadError(
                f"the component's import `{where}` does not match the bindings: {found}",
            )


class Prepared:
    """A compiled component, linked with its host imports: instantiate it many times cheaply.

    wasmtime-py exposes no component `InstancePre`, so this keeps everything that does not
    depend on a store (engine, compiled code, linker, function types, converters) and leaves
    only `Linker.instantiate` per instance.
    """

    def __init__(
        self,
        source: str | os.PathLike[str] | bytes,
        exports: Sequence[FuncSig],
        imports: Sequence[tuple[FuncSig, Callable[..., Any] | None]],
        limits: Limits,
        wasi: WasiGrants | None,
        cache_dir: Path | None,
        fast: bool | None = False,
        fast_exports: Mapping[tuple[str | None, str], Any] | None = None,
        fast_imports: Mapping[tuple[str, str], Any] | None = None,
    ) -> None:
        if not isinstance(limits, Limits):
            raise TypeError(f"limits must be a Limits, not {type(limits).__name__}")
        self.limits = limits
        self.wasi = wasi if wasi is not None else WasiGrants()
        self.cache_dir = cache_dir
        self.cache_key = f"fuel={limits.fuel is not None},epoch=True"
        self.sigs = {(s.interface, s.name): s for s in exports}
        self.core: Any = None
        self.fast_unavailable: str | None = None
        wasm = with_fixed_lists_as_tuples(read_component(source))
        self.engine, self.ticker = engine_for(limits)
        self.lib = c_api()
        try:
            self.component = compile_component(
                self.engine,
                wasm,
                self.cache_key,
                cache_dir,
            )
        except wasmtime.WasmtimeError as exc:
            raise PluginLoadError(f"invalid component: {str(exc).strip()}") from None
        # Both paths: the component's function types must be the ones the bindings expect.
        check_types(self.engine, self.component.type, exports, imports)
        if fast is not False:
            self.core = self._try_fast(
                wasm,
                fast,
                fast_exports,
                fast_imports or {},
                imports,
            )
            if self.core is not None:
                return
        with_maps = [s for s in exports if sig_has_map(s)]
        with_maps += [s for s, _ in imports if sig_has_map(s)]
        if with_maps:
            first = with_maps[0]
            where = f"{first.interface}#{first.name}" if first.interface else first.name
            raise PluginLoadError(
                f"`{where}` passes map<K, V> values, which wasmtime-py "
                f"{wasmtime_py_version()} cannot convert, so only the fast path can run this "
                f"component{': ' + self.fast_unavailable if self.fast_unavailable else ''}",
            )
        ctype = self.component.type
        self.linker = wc.Linker(self.engine)
        self.linker.add_wasip2()
        # host resources lent to instances of this component, by `<interface>#<name>`
        self.host_resources: dict[str, HostResources] = {}
        self._link_imports(ctype.imports(self.engine), imports)
        self.converters = Converters(self.host_resources)
        self.exports: dict[
            tuple[str | None, str],
            tuple[Any, list[Convert], Convert | None],
        ] = {}
        export_items = ctype.exports(self.engine)
        for sig in exports:
            fty = _func_type_of(self.engine, export_items, sig.interface, sig.name)
            if fty is None:
                where = f"{sig.interface}#{sig.name}" if sig.interface else sig.name
                raise PluginLoadError(f"the component does not export `{where}`")
            lower = self.converters.lower
            lowers = [lower(d, t) for d, (_, t) in zip(sig.params, fty.params)]
            lift = None
            if sig.result is not None:
                lift = self.converters.lift(sig.result, fty.result)
            self.exports[(sig.interface, sig.name)] = (fty, lowers, lift)

    @property
    def mode(self) -> str:
        """ "core" when the fast path runs the plugin's core module, else "component"."""
        return "core" if self.core is not None else "component"

    def new_instance(self) -> InstanceLike:
        """A fresh instance: `Instance` (generic path) or `_core.CoreInstance` (fast path)."""
        if self.core is not None:
            from . import _core

            instance: InstanceLike = _core.CoreInstance(self.core)
            return instance
        return Instance(self)

    def bad_args(
        self,
        iface: str | None,
        name: str,
        args: Sequence[Any],
    ) -> Exception | None:
        """The error for the first wrong argument of a call, or None."""
        sig = self.sigs.get((iface, name))
        return None if sig is None else sig.check_args(args)

    def f32_rounded_args(
        self,
        iface: str | None,
        name: str,
        args: Sequence[Any],
    ) -> list[Any] | None:
        """The arguments with each f32 beyond f32's range made an infinity, or None when
        there is no such value (see `f32_rounded`)."""
        sig = self.sigs.get((iface, name))
        if sig is None:
            return None
        rounded = [f32_rounded(d, a) for d, a in zip(sig.params, args)]
        if all(r is a for r, a in zip(rounded, args)):
            return None
        return rounded + list(args[len(rounded) :])

    def _try_fast(
        self,
        wasm: bytes | str,
        fast: bool | None,
        fast_exports: Mapping[tuple[str | None, str], Any] | None,
        fast_imports: Mapping[tuple[str, str], Any],
        imports: Sequence[tuple[FuncSig, Callable[..., Any] | None]],
    ) -> Any:
        from . import _core

        try:
            if fast_exports is None:
                raise _core.FastUnavailable(
                    "this world has no fast path (see _fast.UNSUPPORTED)",
                )
            binary = wasmtime.wat2wasm(wasm) if isinstance(wasm, str) else wasm
            served = {(s.interface or "$root", s.name): (s, f) for s, f in imports}
            return _core.CorePrepared(
                self,
                bytes(binary),
                fast_exports,
                fast_imports,
                served,
            )
        except _core.FastUnavailable as exc:
            if fast:
                raise PluginLoadError(
                    f"the fast path cannot run this component: {exc}",
                ) from None
            self.fast_unavailable = str(exc)
            if exc.warn:
                warnings.warn(
                    f"witgen: using the generic path: {exc}",
                    RuntimeWarning,
                    stacklevel=4,
                )
            return None
        except wasmtime.WasmtimeError as exc:
            raise PluginLoadError(f"invalid component: {str(exc).strip()}") from None

    def _link_imports(
        self,
        wanted: Mapping[str, Any],
        imports: Sequence[tuple[FuncSig, Callable[..., Any] | None]],
    ) -> None:
        by_iface: dict[str | None, list[tuple[FuncSig, Callable[..., Any] | None]]] = {}
        for sig, impl in imports:
            by_iface.setdefault(sig.interface, []).append((sig, impl))
        conv = Converters(self.host_resources)
        # Resource types the host implements, per interface (root: ""). A type the world
        # brings in with `use` appears at the root too, as the same type: one table.
        tables: dict[str, list[tuple[str, HostResources]]] = {}
        known: list[tuple[Any, HostResources]] = []
        scopes: list[tuple[str, Mapping[str, Any]]] = [
            (i, wanted[i].ty.exports(self.engine))
            for i in by_iface
            if i is not None and i in wanted
        ]
        for scope, items in [*scopes, ("", wanted)]:
            for name, item in items.items():
                if not isinstance(item.ty, wc.ResourceType):
                    continue
                table = next((t for ty, t in known if ty == item.ty), None)
                if table is None:
                    table = conv.host(f"{scope}#{name}")
                    known.append((item.ty, table))
                tables.setdefault(scope, []).append((name, table))
        with self.linker.root() as root:
            # Functions and resources the world imports directly live at the component's root.
            for name, table in tables.get("", []):
                root.add_resource(name, table.type, table.drop)
            for sig, impl in by_iface.pop(None, []):
                if sig.name not in wanted:
                    continue
                if impl is None:
                    raise PluginLoadError(
                        f"the component imports the function `{sig.name}` but no "
                        f"implementation of it was given to load()",
                    )
                root.add_func(
                    sig.name,
                    _host_func(conv, sig, wanted[sig.name].ty, impl),
                )
            for iface, funcs in by_iface.items():
                if iface is None or iface not in wanted:
                    continue
                needed = wanted[iface].ty.exports(self.engine)
                with root.add_instance(iface) as inst:
                    for name, table in tables.get(iface, []):
                        inst.add_resource(name, table.type, table.drop)
                    for sig, impl in funcs:
                        if sig.name not in needed:
                            continue
                        if impl is None:
                            raise PluginLoadError(
                                f"the component imports `{iface}` but no implementation "
                                f"of it was given to load()",
                            )
                        inst.add_func(
                            sig.name,
                            _host_func(conv, sig, needed[sig.name].ty, impl),
                        )

    def instantiate_store(
        self,
    ) -> tuple[wasmtime.Store, wc.Instance, Interrupts | None]:
        store = wasmtime.Store(self.engine)
        if self.limits.memory_bytes is not None:
            store.set_limits(memory_size=self.limits.memory_bytes)
        if self.limits.fuel is not None:
            store.set_fuel(self.limits.fuel)
        interrupts = None
        if self.lib is not None:
            # Store.ptr() is wasmtime-py's public handle of the C store the callback attaches to.
            address = ctypes.cast(store.ptr(), ctypes.c_void_p).value
            interrupts = Interrupts(self.lib, address or 0, self.limits.timeout)
            store.set_epoch_deadline(1)
        elif self.limits.timeout is not None:
            store.set_epoch_deadline(
                max(1, math.ceil(self.limits.timeout / TICK_SECONDS)),
            )
        else:
            store.set_epoch_deadline(2**62)
        store.set_wasi(self.wasi.config())
        try:
            instance = self.linker.instantiate(store, self.component)
        except wasmtime.WasmtimeError as exc:
            raise PluginLoadError(
                f"cannot instantiate the component: {str(exc).strip()}",
            ) from None
        except wasmtime.Trap as exc:
            raise PluginLoadError(
                f"the component trapped while starting: {exc}",
            ) from None
        return store, instance, interrupts


class _HostRaised(Exception):
    """Stands in for a host import's exception while wasmtime unwinds the guest."""


def _host_func(
    conv: Converters,
    sig: FuncSig,
    fty: Any,
    impl: Callable[..., Any],
) -> Callable[..., Any]:
    lifts = [conv.lift(d, t) for d, (_, t) in zip(sig.params, fty.params)]
    lower = conv.lower(sig.result, fty.result) if sig.result is not None else None

    def call(store: Any, *args: Any) -> Any:
        try:
            conv.store = store
            result = impl(*[f(a) for f, a in zip(lifts, args)])
            if lower is None:
                return None
            wrong = sig.check_result(result)
            if wrong is not None:
                raise wrong
            return lower(result)
        except BaseException as exc:  # re-raised as itself once the guest has unwound
            pending.raised = exc
            raise _HostRaised(str(exc)) from None

    return call


class Instance:
    """One live instance of a prepared component, with its own store (memory, limits).

    After a trap the instance is discarded; the next call transparently starts a fresh one
    (plugin state is lost, as it would be after a crash).
    """

    def __init__(self, prepared: Prepared) -> None:
        self.prepared = prepared
        self.generation = 0
        self._funcs: dict[tuple[str | None, str], Any] = {}
        self._store: wasmtime.Store | None = None
        self._interrupts: Interrupts | None = None
        self._closed = False
        self._depth = 0
        self._start()

    def _start(self) -> None:
        store, instance, interrupts = self.prepared.instantiate_store()
        funcs: dict[tuple[str | None, str], Any] = {}
        for iface, name in self.prepared.exports:
            parent = None
            if iface is not None:
                parent = instance.get_export_index(store, iface)
            index = instance.get_export_index(store, name, parent)
            assert index is not None
            funcs[(iface, name)] = instance.get_func(store, index)
        self._store, self._funcs, self._interrupts = store, funcs, interrupts
        self.generation += 1

    @property
    def store(self) -> wasmtime.Store:
        if self._closed:
            raise PluginClosed("the plugin is closed")
        if self._store is None:
            self._start()
        assert self._store is not None
        return self._store

    def bind(self, iface: str | None, name: str) -> Callable[..., Any]:
        """The export as a function of its WIT arguments (`call` under another shape)."""

        def bound(*args: Any) -> Any:
            return self.call(iface, name, args)

        return bound

    def call(self, iface: str | None, name: str, args: Sequence[Any]) -> Any:
        if self._depth:
            raise PluginTrap(
                f"{name}: the plugin instance was re-entered from one of its host imports "
                "(the component model forbids re-entering an instance)",
            )
        fty, lowers, lift = self.prepared.exports[(iface, name)]
        wrong = self.prepared.bad_args(iface, name, args)
        if wrong is not None:
            raise wrong
        store = self.store
        values = [f(a) for f, a in zip(lowers, args)]
        limits = self.prepared.limits
        if limits.fuel is not None:
            store.set_fuel(limits.fuel)
        interrupts = self._interrupts
        if interrupts is not None:
            interrupts.start()
        elif limits.timeout is not None:
            store.set_epoch_deadline(max(1, math.ceil(limits.timeout / TICK_SECONDS)))
        ticker = self.prepared.ticker
        if sys.unraisablehook is not _Hook.current:
            ensure_hook()
        pending.raised = None
        stack = pending.stack
        stack.append(self)
        self._depth += 1
        ticker.enter(self)
        try:
            out = self._funcs[(iface, name)](store, *values)
        except BaseException as exc:
            self._store = None  # poisoned: a fresh instance serves the next call
            raised = take_pending()
            if raised is not None:
                raise raised from None
            if isinstance(exc, (wasmtime.WasmtimeError, wasmtime.Trap)):
                timed_out = interrupts is not None and interrupts.timed_out
                raise classify(str(exc), timed_out) from None
            raise
        finally:
            ticker.leave(self)
            stack.pop()
            self._depth -= 1
            for table in self.prepared.host_resources.values():
                table.end_call()
        if lift is None:
            return None
        self.prepared.converters.owner = self
        self.prepared.converters.store = store
        try:
            return lift(out)
        except PluginTrap:
            raise
        except (TypeError, ValueError, KeyError, AttributeError) as exc:
            raise PluginTrap(f"the plugin returned an invalid value: {exc}") from None

    def drop_resource(self, handle: Any, generation: int, dtor: str) -> None:
        if generation == self.generation and self._store is not None:
            handle.drop(self._store)

    def close(self) -> None:
        self._closed = True
        self._store = None
        self._funcs = {}


class InstanceLike(Protocol):
    """What generated classes call: `Instance` (generic path) or `_core.CoreInstance`."""

    generation: int

    def call(self, iface: str | None, name: str, args: Sequence[Any]) -> Any: ...

    def bind(self, iface: str | None, name: str) -> Callable[..., Any]: ...

    def drop_resource(self, handle: Any, generation: int, dtor: str) -> None: ...

    def close(self) -> None: ...


class Resource:
    """Base of generated classes for resources exported by a plugin.

    The handle is dropped deterministically by `close()` (or leaving a `with` block); a
    resource of an instance that trapped is gone and raises `PluginClosed`.
    """

    __slots__ = ("_owner", "_handle", "_generation")
    # the core export that destroys it (fast path): `<interface>#[dtor]<name>`
    _DTOR = ""

    def __init__(self, owner: InstanceLike, handle: Any) -> None:
        self._owner = owner
        self._handle = handle
        self._generation = owner.generation

    def _handle_for_call(self, consume: bool) -> Any:
        if self._handle is None or self._generation != self._owner.generation:
            raise PluginClosed(f"{type(self).__name__} is closed")
        handle = self._handle
        if consume:
            self._handle = None
        return handle

    def close(self) -> None:
        """Drops the handle now; the plugin's destructor for it runs."""
        handle, self._handle = self._handle, None
        if handle is not None:
            self._owner.drop_resource(handle, self._generation, self._DTOR)

    def __enter__(self: T) -> T:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
