"""The fast path's call machinery as it was before issue 14, for side-by-side baselines.

The benchmarks measure the current generated fast path and, in the same process on the same
plugins, this earlier one: `CoreInstance.call` pushing every call on the thread's running
stack, `invoke` going through a `RawFunc` whose C call declares argument types and takes
Python ints (converted on every call) with `*args` packing, and host imports whose callback
copies the values with `ctypes.string_at` / `ctypes.memmove` and finds the instance through
`current()`; every typed method called `CoreInstance.call` (no `bind`).
`previous_fast_path(module)` swaps these into a generated package's `_core`
module while a `with` block runs (load the plugins inside it: import callbacks are made when
a plugin is prepared, the earlier functions when an instance starts).
"""

from __future__ import annotations

import contextlib
import ctypes
import sys
from typing import Any, Callable, Iterator, Sequence

_P = ctypes.c_void_p
_TYPED_CALL = ctypes.CFUNCTYPE(_P, _P, _P, _P, ctypes.c_size_t, _P)


class _OldRawFunc:
    """The earlier `RawFunc`: own buffer, argument types declared, ints converted per call."""

    def __init__(self, core: Any, raw: Any, ins: Sequence[str], outs: Sequence[str]) -> None:
        n = max(len(ins), len(outs), 1)
        self.core = core
        self.lib = raw.lib
        self.buf = (ctypes.c_ubyte * (core._SLOT * n))()
        self.view = memoryview(self.buf).cast("B")
        self.pack = core._layout(ins, False).pack_into
        self.unpack = core._layout(outs, True).unpack_from
        self.trap = ctypes.c_void_p(0)
        address = ctypes.cast(self.lib.dll.wasmtime_func_call_unchecked, _P).value
        self.fn = _TYPED_CALL(address or 0)
        self.args = (
            raw.c_args[0].value,
            raw.c_args[1].value,
            ctypes.addressof(self.buf),
            n,
            ctypes.addressof(self.trap),
        )

    def __call__(self, *args: Any) -> tuple[Any, ...]:
        self.pack(self.view, 0, *args)
        error = self.fn(*self.args)
        if error or self.trap.value:
            trap, self.trap.value = self.trap.value or 0, 0
            raise self.core._failure(self.lib, trap, error)
        return self.unpack(self.view, 0)


def _old_machinery(core: Any) -> dict[str, Any]:
    runtime = core._runtime
    running = core._running
    hook = core._hook

    start = core.CoreInstance._start

    def restart(self: Any) -> None:
        start(self)
        self._old_funcs = {
            core_name: _OldRawFunc(core, self._funcs[core_name], ins, outs)
            for _, core_name, ins, outs, _ in self.core.exports.values()
        }

    def invoke(self: Any, core_name: str, args: Sequence[Any]) -> tuple[Any, ...]:
        self.entered = True
        return self._old_funcs[core_name](*args)

    def call(self: Any, iface: str | None, name: str, args: Sequence[Any]) -> Any:
        store = self._store
        if store is None:
            if self._closed:
                raise runtime.PluginClosed("the plugin is closed")
            self._start()
            store = self._store
        if self._active:
            raise runtime.PluginTrap(f"{name}: the plugin instance was re-entered")
        if self._fuel is not None:
            store.set_fuel(self._fuel)
        if self._limited:
            store.interrupts.start()
        self.pending.clear()
        self.entered = False
        self._active = True
        stack = running.stack
        stack.append(self)
        calls = self._calls
        calls.append(self)
        if not self._ticker.awake:
            self._ticker.wake()
        if sys.unraisablehook is not hook.current:
            runtime.ensure_hook()
        try:
            return self.core.exports[(iface, name)][0](self, *args)
        except core._CallFailed as exc:
            self._store = None
            raise runtime.classify(str(exc), store.interrupts.timed_out, None) from None
        finally:
            calls.pop()
            stack.pop()
            self._active = False

    def define(
        self: Any,
        module: str,
        name: str,
        ins: Sequence[str],
        outs: Sequence[str],
        func: Callable[..., Any],
    ) -> None:
        lib = self.lib
        unpack = core._layout(ins, True).unpack
        pack = core._layout(outs, True).pack
        arg_bytes = core._SLOT * len(ins)
        has_result = bool(outs)

        def callback(_env: Any, _caller: Any, values: int, _n: int) -> int:
            try:
                result = func(*unpack(ctypes.string_at(values, arg_bytes)))
                if has_result:
                    out = pack(result)
                    ctypes.memmove(values, out, len(out))
                return 0
            except BaseException as exc:
                runtime.pending.raised = exc
                return int(lib.new_trap(b"the host import raised an exception"))

        callback._witgen_callback = True  # type: ignore[attr-defined]
        raw = core._capi.HOST_CALLBACK(callback)
        self._callbacks.append(raw)
        ty = core._functype(lib, ins, outs)
        mod_bytes, name_bytes = module.encode("utf-8"), name.encode("utf-8")
        error = lib.wasmtime_linker_define_func_unchecked(
            self.linker.ptr,
            mod_bytes,
            len(mod_bytes),
            name_bytes,
            len(name_bytes),
            ty,
            ctypes.cast(raw, ctypes.c_void_p),
            None,
            None,
        )
        lib.wasm_functype_delete(ty)
        assert not error

    def bind_import(adapter: Any, impl: Any, sig: Any) -> Callable[..., Any]:
        if sig is None or sig.result is None:
            return lambda *args: adapter(core.current(), impl, *args)

        def checked(*args: Any) -> Any:
            result = impl(*args)
            wrong = sig.check_result(result)
            if wrong is not None:
                raise wrong
            return result

        return lambda *args: adapter(core.current(), checked, *args)

    def bind(self: Any, iface: str | None, name: str) -> Callable[..., Any]:
        # typed methods went through `call` for every export
        def general(*args: Any) -> Any:
            return self.call(iface, name, args)

        return general

    return {
        "bind": bind,
        "invoke": invoke,
        "call": call,
        "define": define,
        "bind_import": bind_import,
        "start": restart,
    }


@contextlib.contextmanager
def previous_fast_path(*cores: Any) -> Iterator[None]:
    """Within the block, the given `_core` modules run calls and imports the earlier way."""
    saved = []
    for core in cores:
        old = _old_machinery(core)
        saved.append(
            (
                core,
                core.CoreInstance.call,
                core.CoreInstance.invoke,
                core.CorePrepared._define,
                core._bind_import,
                core.CoreInstance._start,
                core.CoreInstance.bind,
            )
        )
        core.CoreInstance.bind = old["bind"]
        core.CoreInstance._start = old["start"]
        core.CoreInstance.call = old["call"]
        core.CoreInstance.invoke = old["invoke"]
        core.CorePrepared._define = old["define"]
        core._bind_import = old["bind_import"]
    try:
        yield
    finally:
        for core, call, invoke, define, bind_import, start, bind in saved:
            core.CoreInstance._start = start
            core.CoreInstance.bind = bind
            core.CoreInstance.call = call
            core.CoreInstance.invoke = invoke
            core.CorePrepared._define = define
            core._bind_import = bind_import


def loaded_cores() -> list[Any]:
    """Every generated package's `_core` module imported so far."""
    return [
        m
        for name, m in list(sys.modules.items())
        if name.endswith("._core") and hasattr(m, "CoreInstance") and hasattr(m, "RawFunc")
    ]
