"""The DataFlare runtime: loads a pipeline's plugins and moves records through them in batches.

One `Stage` per plugin: checked (`checks.py`), prepared once through the generated bindings
(compiled code shared, cached on disk), then `instances` instances in a pool. The source is read
on the calling thread; each batch is pushed through the other stages by a worker thread
(wasmtime releases the GIL while wasm runs, so instances of a stage run in parallel). Faults
(trap, timeout, memory limit, an invalid value from the guest, a host import that raised)
recycle the instance and send the batch through the stage's on-error policy; with `skip` and
`dead-letter` the batch is bisected so that only the records that fault are set aside.

Hot reload: a changed `.wasm` is checked and prepared off the hot path; instances are swapped
when they go back to the pool, i.e. between two calls, so every batch is handled by exactly one
version. A refused new version leaves the old one running.
"""

from __future__ import annotations

import base64
import json
import threading
import time
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

from witgen.pipeline import arrow_flow, checks, fusion, signing, streaming
from witgen.pipeline.contract import Contract
from witgen.pipeline.lifecycle import Event, Lifecycle, Listener, State
from witgen.pipeline.metrics import Accounting, StageMetrics
from witgen.pipeline.spec import PipelineSpec, PluginSpec, StageSpec


class Fault(Exception):
    """A plugin call that did not complete normally; `kind` says how."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(f"{kind}: {message}")
        self.kind = kind  # trap | timeout | invalid-value | host-error | plugin-error


class _NotReplayable(Exception):
    """A streaming source that does not give the same records again from a position."""


class HostCallError(Exception):
    """Raised by the host services for a call they refuse (a fault of the calling plugin)."""


# ---------------------------------------------------------------------------- host services


class HostServices:
    """logging, metrics and config for one plugin: what the contract's imports ask for.

    A function of a newer contract that the runtime does not know raises `HostCallError` when
    a plugin calls it (a host-import fault), instead of failing the load.
    """

    MAX_LOG = 64 * 1024

    def __init__(self, stage: str, config: dict[str, str], bindings: Any) -> None:
        self.stage = stage
        self.settings = config
        self.logs: list[tuple[str, str]] = []
        self.counters: dict[str, int] = {}
        self.histograms: dict[str, list[float]] = {}
        self._lock = threading.Lock()
        self.bind(bindings)

    def bind(self, bindings: Any) -> None:
        """Answer with the value types of `bindings` (those of the plugin's version)."""
        self._ok = bindings.Ok
        self._err = bindings.Err
        level = getattr(getattr(bindings, "logging", None), "Level", None)
        self._trace = None if level is None else getattr(level, "TRACE", None)

    def log(self, level: Any, message: str) -> None:
        if len(message) > self.MAX_LOG:
            raise HostCallError(f"log line of {len(message)} characters (at most {self.MAX_LOG})")
        with self._lock:
            if len(self.logs) < 10_000:
                self.logs.append((getattr(level, "value", str(level)), message))

    def enabled(self, level: Any) -> bool:
        return level is not self._trace

    def counter_add(self, name: str, delta: int) -> None:
        if not name:
            raise HostCallError("counter-add with an empty counter name")
        with self._lock:
            self.counters[name] = self.counters.get(name, 0) + delta

    def histogram_record(self, name: str, value: float, labels: list[tuple[str, str]]) -> None:
        if not name:
            raise HostCallError("histogram-record with an empty name")
        with self._lock:
            values = self.histograms.setdefault(name, [])
            if len(values) < 100_000:
                values.append(value)

    def get(self, key: str) -> str | None:
        return self.settings.get(key)

    def get_int(self, key: str) -> Any:
        try:
            return self._ok(int(self.settings[key]))
        except (KeyError, ValueError):
            return self._err(None)

    def get_all(self) -> list[tuple[str, str]]:
        return list(self.settings.items())

    def __getattr__(self, name: str) -> Callable[..., Any]:
        if name.startswith("_"):
            raise AttributeError(name)

        def unknown(*_args: Any) -> Any:
            raise HostCallError(f"`{name}` is not provided by this runtime")

        return unknown


# ---------------------------------------------------------------------------- plugins


def _classify(exc: BaseException, bindings: Any) -> Fault:
    if isinstance(exc, Fault):
        return exc
    if isinstance(exc, streaming.STREAM_FAULTS):
        return Fault(*streaming.classify(exc))
    if isinstance(exc, HostCallError):
        return Fault("host-error", str(exc))
    if isinstance(exc, bindings.PluginTimeout):
        return Fault("timeout", str(exc))
    if isinstance(exc, bindings.PluginTrap):
        return Fault("trap", str(exc))
    if isinstance(exc, bindings.PluginFailure):
        return Fault("trap", str(exc))
    if isinstance(exc, (ValueError, TypeError, KeyError, IndexError, OverflowError)):
        return Fault("invalid-value", f"{type(exc).__name__}: {exc}")
    return Fault("host-error", f"{type(exc).__name__}: {exc}")


class Plugin:
    """One plugin of the pipeline (a stage or a dead-letter sink) and its instance pool."""

    def __init__(
        self,
        spec: StageSpec,
        contract: Contract,
        trusted: dict[str, object],
        listeners: list[Listener],
        cache_dir: Path | None,
        instances: int = 1,
    ) -> None:
        self.spec = spec
        self.contract = contract
        self.bindings = contract.bindings
        self.cls = contract.plugin_class(spec.kind)
        self.trusted = {k: v for k, v in trusted.items() if k in spec.signed_by}
        self.cache_dir = cache_dir
        self.size = instances
        self.lifecycle = Lifecycle(spec.name, listeners)
        self.metrics = StageMetrics(spec.name, spec.kind)
        self.host = HostServices(spec.name, spec.config, self.bindings)
        self.generation = 0
        self.streaming = False  # it exports the streaming variant of its kind (streaming.py)
        self.prepared: Any = None
        self.checked: checks.Checked | None = None
        self._pool = _Pool()
        self._all: list[Any] = []
        self._swap_lock = threading.Lock()
        self._mtime = 0.0

    # -- loading --

    def check(self) -> checks.Checked:
        return checks.check_component(
            self.spec.component,
            self.spec.kind,
            self.contract,
            self.trusted,
            label=f"{self.spec.kind} `{self.spec.name}`",
            span=self.spec.component_span,
            cache_dir=None if self.cache_dir is None else self.cache_dir / "checks",
        )

    def is_streaming(self, checked: checks.Checked) -> bool:
        """Whether `checked` exports the streaming variant of the stage's kind."""
        streaming_kind = streaming.STREAMING.get(self.spec.kind)
        return streaming_kind in self.contract.worlds and checked.world == self.contract.world_name(
            streaming_kind
        )

    def prepare(self, checked: checks.Checked) -> Any:
        # Bindings for the contract version the plugin was built against (see
        # Contract.bindings_for); the same module for plugins of the current version.
        self.bindings = b = self.contract.bindings_for(checked.built_against)
        self.host.bind(b)
        if self.is_streaming(checked):
            return self._prepare_streaming(checked, b)
        self.streaming = False
        self.cls = self.contract.plugin_class(self.spec.kind, b)
        limits = b.Limits(
            memory_bytes=self.spec.limits.memory_bytes,
            fuel=self.spec.limits.fuel,
            timeout=self.spec.limits.timeout,
        )
        w = self.spec.wasi
        wasi = b.WasiGrants(
            env=dict(w.env),
            dirs={**w.dirs, **w.writable_dirs},
            writable_dirs=frozenset(w.writable_dirs),
        )
        try:
            return self.cls.prepare(
                checked.wasm,
                logging=self.host,
                metrics=self.host,
                config=self.host,
                limits=limits,
                wasi=wasi,
                cache=self.cache_dir is not None,
                cache_dir=self.cache_dir,
            )
        except b.PluginLoadError as exc:
            raise checks.PluginRefused(
                f"{self.spec.kind} `{self.spec.name}`: {self.spec.component}: {exc}",
                self.spec.component_span,
            ) from None

    def _prepare_streaming(self, checked: checks.Checked, b: Any) -> Any:
        """A plugin that exports `streaming-source` / `streaming-destination` (streaming.py)."""
        kind = streaming.STREAMING[self.spec.kind]
        limits = streaming.Limits(
            memory_bytes=self.spec.limits.memory_bytes,
            fuel=self.spec.limits.fuel,
            timeout=self.spec.limits.timeout,
        )
        try:
            prepared = streaming.prepare(
                self.spec.kind,
                checked.wasm,
                self.contract.resolve,
                self.contract.worlds[kind],
                checked.built_against,
                self.host,
                limits,
                b,
            )
        except Exception as exc:  # noqa: BLE001 - a plugin that cannot be linked or run
            why = str(exc) or type(exc).__name__
            raise checks.PluginRefused(
                f"{self.spec.kind} `{self.spec.name}`: {self.spec.component}: {why}",
                self.spec.component_span,
            ) from None
        self.streaming = True
        self.cls = (
            streaming.SourceInstance
            if self.spec.kind == "source"
            else streaming.DestinationInstance
        )
        return prepared

    def load(self) -> None:
        """Loading -> Initializing -> Ready; Error(reason) and PluginRefused on failure."""
        start = time.perf_counter()
        try:
            self._mtime = _mtime(self.spec.component)
            self.checked = self.check()
        except checks.PluginRefused as exc:
            self.lifecycle.fail(exc.message.splitlines()[0])
            raise
        self.start(self.checked, start)

    def start(self, checked: checks.Checked, began: float | None = None) -> None:
        """Prepare `checked` (bytes that passed `check`) and start the pool: the half of
        `load` that needs no file (the Ray engine's workers start from shipped bytes)."""
        start = time.perf_counter() if began is None else began
        self.checked = checked
        try:
            self.prepared = self.prepare(checked)
        except checks.PluginRefused as exc:
            self.lifecycle.fail(exc.message.splitlines()[0])
            raise
        self.metrics.load_seconds = time.perf_counter() - start
        self.metrics.mode = self.prepared.mode
        self.lifecycle.to(State.INITIALIZING)
        start = time.perf_counter()
        try:
            for _ in range(self.size):
                self._pool.put((self.generation, self._new_instance()))
            self.initialize()
        except Exception as exc:  # noqa: BLE001 - any failure to start is the plugin's
            fault = _classify(exc, self.bindings)
            self.lifecycle.fail(str(fault))
            raise checks.PluginRefused(
                f"{self.spec.kind} `{self.spec.name}` failed to start: {fault}",
                self.spec.component_span,
            ) from None
        self.metrics.init_seconds = time.perf_counter() - start
        self.lifecycle.to(State.READY)

    def initialize(self) -> None:
        """Ask each instance to describe itself (its first call)."""
        held = [self._pool.get() for _ in range(self.size)]
        try:
            for _, inst in held:
                inst.info()
        finally:
            for item in held:
                self._pool.put(item)

    def _new_instance(self) -> Any:
        inst = self.cls(self.prepared)
        self._all.append(inst)
        return inst

    # -- calls --

    def acquire(self) -> tuple[int, Any]:
        gen, inst = self._pool.get()
        if gen != self.generation or inst is None:
            if inst is not None:
                self._retire(inst)
            try:
                inst = self._new_instance()
            except Exception as exc:  # noqa: BLE001 - keep the pool whole, report a fault
                self._pool.put((-1, None))
                raise Fault("trap", f"cannot start a new instance: {exc}") from None
            gen = self.generation
        return gen, inst

    def release(self, gen: int, inst: Any, *, broken: bool = False) -> None:
        if broken:
            # A fresh instance is started when the slot is next acquired.
            self._retire(inst, flush=False)
            self.metrics.recycled += 1
            self.lifecycle.emit(Event("recycled", self.spec.name, reason="instance replaced"))
            self._pool.put((-1, None))
            return
        if self.metrics.calls % 64 == 1:
            self._note_memory(inst)
        self._pool.put((gen, inst))

    def _retire(self, inst: Any, flush: bool = True) -> None:
        if flush and self.spec.kind == "destination":
            try:
                inst.flush()
            except Exception:  # noqa: BLE001 - it is going away either way
                pass
        try:
            inst.close()
        except Exception:  # noqa: BLE001
            pass
        if inst in self._all:
            self._all.remove(inst)

    def _note_memory(self, inst: Any) -> None:
        # Best effort: the fast path's instance exposes its linear memory as a view.
        view = getattr(getattr(inst, "_instance", None), "view", None)
        if callable(view):
            try:
                self.metrics.memory_bytes = len(view()) * max(1, len(self._all))
            except Exception:  # noqa: BLE001
                pass

    def call(self, records: int, fn: Callable[[Any], Any]) -> Any:
        """Run `fn(instance)` on a pooled instance; a fault recycles it and raises `Fault`."""
        try:
            gen, inst = self.acquire()
        except Fault:
            self.metrics.call(0.0, records, True)
            raise
        start = time.perf_counter()
        try:
            result = fn(inst)
        except BaseException as exc:
            self.metrics.call(time.perf_counter() - start, records, True)
            self.release(gen, inst, broken=True)
            fault = _classify(exc, self.bindings)
            self.lifecycle.emit(Event("fault", self.spec.name, reason=str(fault), at=time.time()))
            raise fault from None
        self.metrics.call(time.perf_counter() - start, records, False)
        self.release(gen, inst)
        return result

    # -- hot reload --

    def changed_on_disk(self) -> bool:
        return _mtime(self.spec.component) != self._mtime

    def reload(self) -> bool:
        """Check and prepare the file on disk; swap at the next batch boundary. False (and
        the old version keeps running) when the new version is refused."""
        with self._swap_lock:
            self._mtime = _mtime(self.spec.component)
            start = time.perf_counter()
            running = (self.bindings, self.cls)
            try:
                checked = self.check()
                if self.checked is not None and checked.wasm == self.checked.wasm:
                    return True
                prepared = self.prepare(checked)
                probe = self.cls(prepared)  # it must start (self.cls: the new version's)
                probe.info()
                probe.close()
            except Exception as exc:  # noqa: BLE001 - refused: keep the running version
                self.bindings, self.cls = running
                self.host.bind(self.bindings)
                reason = exc.message if isinstance(exc, checks.PluginRefused) else str(exc)
                self.lifecycle.emit(
                    Event("reload-refused", self.spec.name, reason=reason, at=time.time())
                )
                return False
            self.checked, self.prepared = checked, prepared
            self.generation += 1
            self.metrics.reloads += 1
            self.metrics.mode = prepared.mode
            took = (time.perf_counter() - start) * 1e3
            self.lifecycle.emit(
                Event(
                    "reload",
                    self.spec.name,
                    reason=f"version {self.generation} loaded in {took:.1f} ms",
                    at=time.time(),
                )
            )
            return True

    def close(self) -> None:
        while True:
            try:
                _, inst = self._pool.get_nowait()
            except IndexError:
                break
            if inst is not None:
                self._retire(inst, flush=False)
        for inst in list(self._all):
            self._retire(inst, flush=False)


class _Pool:
    """Free instances as (generation, instance) pairs. Taking one that is there is a lock-free
    `deque.pop` (atomic under the GIL); only a caller that finds the pool empty waits."""

    def __init__(self) -> None:
        self._free: deque[tuple[int, Any]] = deque()
        self._cond = threading.Condition()
        self._waiting = 0

    def get(self) -> tuple[int, Any]:
        while True:
            try:
                return self._free.pop()
            except IndexError:
                pass
            with self._cond:
                self._waiting += 1
                try:
                    while not self._free:
                        self._cond.wait()
                finally:
                    self._waiting -= 1

    def get_nowait(self) -> tuple[int, Any]:
        return self._free.pop()

    def put(self, item: tuple[int, Any]) -> None:
        self._free.append(item)
        if self._waiting:
            with self._cond:
                self._cond.notify()


def _mtime(path: Path) -> float:
    try:
        st = path.stat()
        return st.st_mtime_ns + st.st_size * 1e-3
    except OSError:
        return 0.0


# ---------------------------------------------------------------------------- dead letters


class DeadLetters:
    """Where a stage's dead records go: a JSONL file or a destination plugin."""

    def __init__(self, target: str, sink: Plugin | None) -> None:
        self.target = target
        self.sink = sink
        self._lock = threading.Lock()
        self.count = 0

    def send(self, stage: str, reason: str, records: Sequence[Any]) -> bool:
        if not records:
            return True
        with self._lock:
            if self.sink is not None:
                try:
                    written = self.sink.call(len(records), lambda p: p.write_batch(list(records)))
                except Fault:
                    return False
                ok = isinstance(written, self.sink.bindings.Ok) and written.value == len(records)
                if ok:
                    self.sink.metrics.records_out += len(records)
                    self.count += len(records)
                return ok
            with open(self.target, "a", encoding="utf-8") as out:
                for r in records:
                    out.write(json.dumps(_record_json(stage, reason, r)) + "\n")
            self.count += len(records)
            return True


def _record_json(stage: str, reason: str, record: Any) -> dict[str, Any]:
    return {
        "stage": stage,
        "reason": reason,
        "record": {
            "id": record.id,
            "timestamp": record.timestamp,
            "payload": base64.b64encode(record.payload).decode("ascii"),
            "metadata": [list(kv) for kv in record.metadata],
        },
    }


# ---------------------------------------------------------------------------- the pipeline


class Pipeline:
    """A loaded pipeline. `run()` drains the source (or `records` of it) and stops."""

    # Records as Arrow between fast-path stages (arrow_flow.py): None where it can, False never.
    arrow: bool | None = None
    # fused stages (fusion.py): None follows the file's `fuse`; False/True override it
    fuse: bool | None = None

    def __init__(
        self,
        spec: PipelineSpec,
        contract: Contract,
        *,
        listeners: Sequence[Listener] = (),
        cache_dir: Path | None = None,
        hot_reload: bool | None = None,
    ) -> None:
        self.spec = spec
        self.contract = contract
        self.events: list[Event] = []
        self._listeners: list[Listener] = [self.events.append, *listeners]
        self.lifecycle = Lifecycle(None, self._listeners)
        self.accounting = Accounting()
        self.cache_dir = cache_dir
        self.hot_reload = spec.hot_reload if hot_reload is None else hot_reload
        self.seconds = 0.0
        self._started = 0.0
        self._resume = threading.Event()
        self._resume.set()
        self._stop = threading.Event()
        self._failure: str | None = None
        self._summaries: list[Any] = []
        self._failed_stages: dict[str, str] = {}
        self._fail_lock = threading.Lock()
        trusted = {name: signing.load_public_key(path) for name, path in spec.keys.items()}
        self.stages: list[Plugin] = [
            Plugin(s, contract, trusted, self._listeners, cache_dir, s.instances)
            for s in spec.stages
        ]
        self.sinks: dict[str, Plugin] = {
            name: Plugin(_as_stage(p), contract, trusted, self._listeners, cache_dir)
            for name, p in spec.dead_letters.items()
        }
        self.dead_letters: dict[str, DeadLetters] = {}
        for s in spec.stages:
            target = s.policy.dead_letter
            if target is not None and target not in self.dead_letters:
                self.dead_letters[target] = DeadLetters(target, self.sinks.get(target))

    def all_plugins(self) -> list[Plugin]:
        return [*self.stages, *self.sinks.values()]

    def on_event(self, listener: Listener) -> None:
        self._listeners.append(listener)

    @property
    def elapsed(self) -> float:
        if self.seconds:
            return self.seconds
        return time.perf_counter() - self._started if self._started else 0.0

    @property
    def records_per_second(self) -> float:
        return self.accounting.records_in / self.seconds if self.seconds else 0.0

    # -- loading --

    def load(self) -> None:
        """Load every plugin (checks, compile, instantiate). PluginRefused stops it."""
        if self.arrow is not False:
            arrow_flow.available()  # numpy and pyarrow imported now, not in the first batch
        try:
            for plugin in self.all_plugins():
                plugin.load()
        except checks.PluginRefused as exc:
            self.lifecycle.fail(exc.message.splitlines()[0])
            self.close()
            raise
        self.lifecycle.to(State.INITIALIZING)
        self.lifecycle.to(State.READY)

    # -- control (from any thread) --

    def pause(self) -> None:
        if self.lifecycle.state is State.PROCESSING:
            self._resume.clear()
            self.lifecycle.to(State.PAUSED)
            for p in self.all_plugins():
                if p.lifecycle.state is State.PROCESSING:
                    p.lifecycle.to(State.PAUSED)

    def resume(self) -> None:
        if self.lifecycle.state is State.PAUSED:
            for p in self.all_plugins():
                if p.lifecycle.state is State.PAUSED:
                    p.lifecycle.to(State.PROCESSING)
            self.lifecycle.to(State.PROCESSING)
            self._resume.set()

    def stop(self) -> None:
        """Graceful stop: no new batch is read; batches in flight finish."""
        self._stop.set()
        self._resume.set()

    def _fail(self, reason: str, stage: Plugin | None = None) -> None:
        """Stop the run (in-flight batches finish); the pipeline, and `stage` if given, end
        in Error(reason)."""
        with self._fail_lock:
            if self._failure is None:
                self._failure = reason
            if stage is not None and stage.spec.name not in self._failed_stages:
                self._failed_stages[stage.spec.name] = reason
        self._stop.set()
        self._resume.set()

    # -- running --

    def run(self, records: int | None = None) -> Accounting:
        limit = records if records is not None else self.spec.records
        source, middle = self.stages[0], self.stages[1:]
        workers = max(s.size for s in middle)
        self._started = time.perf_counter()
        for p in [self.lifecycle.to, *[q.lifecycle.to for q in self.all_plugins()]]:
            p(State.PROCESSING)
        watcher = _Watcher(self) if self.hot_reload else None
        slots = threading.Semaphore(workers * 2)  # batches read ahead of the workers

        def free(_done: Future[None]) -> None:
            slots.release()

        try:
            with ThreadPoolExecutor(workers, thread_name_prefix="witgen-run") as pool:
                try:
                    for window, batch in enumerate(self._read(source, limit)):
                        slots.acquire()
                        fut = pool.submit(self._push, middle, batch, f"window-{window}")
                        fut.add_done_callback(free)
                finally:
                    self._draining()
        finally:
            if watcher is not None:
                watcher.close()
        self._finish()
        return self.accounting

    def _draining(self) -> None:
        if self.lifecycle.state is State.PAUSED:
            self.resume()
        if self.lifecycle.state is State.PROCESSING:
            self.lifecycle.to(State.STOPPING)
        for p in self.all_plugins():
            if p.lifecycle.state in (State.PROCESSING, State.PAUSED, State.READY):
                p.lifecycle.to(State.STOPPING)

    def _read(self, source: Plugin, limit: int | None) -> Iterator[list[Any]]:
        """Source batches until it is exhausted, the limit is reached, or a stop."""
        if source.streaming:
            yield from self._read_stream(source, limit)
            return
        b = source.bindings
        size = source.spec.batch_size
        try:
            gen, inst = source.acquire()
        except Fault as no_instance:
            self._fail(f"source `{source.spec.name}`: {no_instance}", source)
            return
        try:
            cursor = inst.source.cursor()
        except Exception as exc:  # noqa: BLE001 - a plugin that cannot open its cursor
            source.release(gen, inst, broken=True)
            why = f"source `{source.spec.name}` cannot open a cursor: {_classify(exc, b)}"
            self._fail(why, source)
            return
        position = 0
        read = 0
        attempts_left = source.spec.policy.retries
        try:
            while not self._stop.is_set():
                self._resume.wait()
                if self._stop.is_set():
                    break
                want = size if limit is None else min(size, limit - read)
                if want <= 0:
                    break
                start = time.perf_counter()
                try:
                    if arrow_flow.usable(source, self.arrow):
                        codec = arrow_flow.codec(b)
                        got = arrow_flow.read(codec, inst, cursor, want)
                    else:
                        got = cursor.read_batch(want)
                    batch = read_records(got, want, b)
                    position = cursor.position()
                except Exception as exc:  # noqa: BLE001
                    fault = _classify(exc, b)
                    source.metrics.call(time.perf_counter() - start, 0, True)
                    source.lifecycle.emit(Event("fault", source.spec.name, reason=str(fault)))
                    if source.spec.policy.action != "retry" or attempts_left <= 0:
                        source.release(gen, inst, broken=True)
                        gen, inst = source.acquire()
                        cursor = None
                        self._fail(f"source `{source.spec.name}`: {fault}", source)
                        break
                    attempts_left -= 1  # resume where the last good batch ended
                    source.release(gen, inst, broken=True)
                    gen, inst = source.acquire()
                    cursor = self._resume_cursor(inst, position, b)
                    if cursor is None:
                        break
                    continue
                source.metrics.call(time.perf_counter() - start, len(batch), False)
                if not batch:
                    break
                source.metrics.records_out += len(batch)
                read += len(batch)
                self.accounting.add(source=len(batch))
                yield batch
                if gen != source.generation:  # hot reload of the source: resume the cursor
                    cursor.close()
                    source.release(gen, inst)
                    gen, inst = source.acquire()
                    cursor = self._resume_cursor(inst, position, b)
                    if cursor is None:
                        break
        finally:
            if cursor is not None:
                try:
                    cursor.close()
                except Exception:  # noqa: BLE001
                    pass
            source.release(gen, inst)

    def _read_stream(self, source: Plugin, limit: int | None) -> Iterator[list[Any]]:
        """Batches off a streaming source's `stream<data-record>` (streaming.py).

        One `read(position)` stream for the run, cut into batches of the stage's batch_size.
        Under `retry` a fault recycles the instance and reads again from the last position the
        source gave (its resume future: at the start, and at a checkpoint every `checkpoint`
        batches, when the stream is dropped and read again from there); the records already
        delivered since that position are read again and dropped, after checking their ids, so
        none is lost or duplicated. Records that came before an error ending the stream go on
        before the error is handled. A source that does not replay the
        same records from a position fails the run.
        """
        name = f"source `{source.spec.name}`"
        size = source.spec.batch_size
        retry = source.spec.policy.action == "retry"
        attempts_left = source.spec.policy.retries
        try:
            gen, inst = source.acquire()
        except Fault as no_instance:
            self._fail(f"{name}: {no_instance}", source)
            return
        checkpoint = 0  # a position the source gave (0: the start)
        since: list[str] = []  # ids of the records delivered since `checkpoint` (under retry)
        replay: deque[str] = deque()  # ids to read again and drop after a fault
        opened = False  # a stream is open
        ended = False  # the source ended the open stream
        due = False  # a checkpoint is due before the next batch
        read = 0
        try:
            while True:
                want = 0
                if not ended:
                    if self._stop.is_set():
                        break
                    self._resume.wait()
                    if self._stop.is_set():
                        break
                    want = size if limit is None else min(size, limit - read)
                    if want <= 0:
                        break
                start = time.perf_counter()
                batch: list[Any] = []
                try:
                    if due or ended:  # the position after every record delivered
                        checkpoint = inst.finish()
                        opened = due = False
                        since.clear()
                        if ended:
                            break
                        if gen != source.generation:  # hot reload: go on with the new version
                            source.release(gen, inst)
                            gen, inst = source.acquire()
                    if not opened:
                        inst.open(checkpoint)
                        opened = True
                    while replay:
                        again, gone = inst.read(min(len(replay), size))
                        for record in again:
                            expected = replay.popleft()
                            if record.id != expected:
                                raise _NotReplayable(
                                    f"resumed at position {checkpoint}, it gave `{record.id}` "
                                    f"where it had given `{expected}`"
                                )
                        if gone and replay:
                            raise _NotReplayable(
                                f"resumed at position {checkpoint}, its stream ended before "
                                "the records it had already given"
                            )
                    batch, ended = inst.read(want)
                except _NotReplayable as exc:
                    source.release(gen, inst, broken=True)
                    gen, inst, opened = -1, None, False
                    self._fail(f"{name} cannot resume: {exc}", source)
                    break
                except Exception as exc:  # noqa: BLE001
                    fault = _classify(exc, source.bindings)
                    source.metrics.call(time.perf_counter() - start, 0, True)
                    source.lifecycle.emit(
                        Event("fault", source.spec.name, reason=str(fault), at=time.time())
                    )
                    source.release(gen, inst, broken=True)
                    gen, inst, opened, ended, due = -1, None, False, False, False
                    if not retry or attempts_left <= 0:
                        self._fail(f"{name}: {fault}", source)
                        break
                    attempts_left -= 1
                    try:
                        gen, inst = source.acquire()
                    except Fault as no_instance:
                        self._fail(f"{name}: {no_instance}", source)
                        break
                    replay = deque(since)
                    continue
                source.metrics.call(time.perf_counter() - start, len(batch), False)
                if batch:
                    source.metrics.records_out += len(batch)
                    read += len(batch)
                    self.accounting.add(source=len(batch))
                    if retry:
                        since.extend(r.id for r in batch)
                    yield self._as_rows(batch)
                due = gen != source.generation or (
                    retry and len(since) >= source.spec.checkpoint * size
                )
        finally:
            if inst is not None:
                if opened:
                    try:  # the records asked for are read: the source may end cleanly
                        inst.finish()
                    except Exception as exc:  # noqa: BLE001 - nothing more is needed from it
                        source.lifecycle.emit(
                            Event("fault", source.spec.name, reason=f"closing the stream: {exc}")
                        )
                source.release(gen, inst)

    def _as_rows(self, records: list[Any]) -> Any:
        """A streaming source's records as Arrow Rows when the next stage takes them (so it,
        and the stages fused after it, run on the batch path), else as they are."""
        after = self.stages[1]
        if not arrow_flow.usable(after, self.arrow):
            return records
        codec = arrow_flow.codec(after.bindings)
        return arrow_flow.Rows(codec.from_py(records), codec)

    def _push(self, stages: list[Plugin], batch: list[Any], window: str) -> None:
        records = batch
        try:
            runs = dict(fusion.runs(self, stages)) if isinstance(batch, arrow_flow.Rows) else {}
            i = 0
            while i < len(stages):
                if not records:
                    return
                end = runs.get(i) if isinstance(records, arrow_flow.Rows) else None
                if end is not None:  # fused stages (fusion.py)
                    run = stages[i:end]
                    size = run[0].spec.batch_size
                    parts = [fusion.push(self, run, c, window) for c in _chunks(records, size)]
                    records, i = arrow_flow.join(parts), end
                    continue
                stage = stages[i]
                parts = [
                    self._through(stage, chunk, window)
                    for chunk in _chunks(records, stage.spec.batch_size)
                ]
                records = arrow_flow.join(parts)
                i += 1
        except Exception as exc:  # noqa: BLE001 - a runtime bug must not lose the batch silently
            self.accounting.add(failed=len(records))
            self._fail(f"internal error: {type(exc).__name__}: {exc}")

    def _through(self, stage: Plugin, records: list[Any], window: str) -> list[Any]:
        """Records out of `stage` for `records`; faults go through its policy."""
        policy = stage.spec.policy
        attempts = 1 + (policy.retries if policy.action == "retry" else 0)
        last: Fault | None = None
        for _ in range(attempts):
            try:
                return self._call(stage, records, window)
            except Fault as fault:
                last = fault
        assert last is not None
        return self._give_up(stage, records, window, last)

    def _give_up(self, stage: Plugin, records: list[Any], window: str, fault: Fault) -> list[Any]:
        action = stage.spec.policy.final
        if action != "fail" and len(records) > 1 and fault.kind != "plugin-error":
            # Find the records that fault: each half goes through the stage again.
            half = len(records) // 2
            parts: list[Any] = []
            for part in (records[:half], records[half:]):
                try:
                    parts.append(self._call(stage, part, window))
                except Fault as again:
                    parts.append(self._give_up(stage, part, window, again))
            return arrow_flow.join(parts)  # type: ignore[no-any-return]
        self._settle(stage, records, action, str(fault))
        return []

    def _settle(self, stage: Plugin, records: list[Any], action: str, reason: str) -> None:
        """Records `stage` could not handle, by its final action."""
        if not records:
            return
        if action == "skip":
            self.accounting.add(skipped=len(records))
            return
        if action == "dead-letter":
            target = stage.spec.policy.dead_letter
            assert target is not None
            if self.dead_letters[target].send(stage.spec.name, reason, records):
                self.accounting.add(dead_lettered=len(records))
                return
            reason = f"{reason}; the dead-letter sink `{target}` refused them too"
        # Under `fail` the run stops: nothing new is read, batches in flight finish (so
        # every record still gets exactly one fate).
        self.accounting.add(failed=len(records))
        self._fail(f"{stage.spec.kind} `{stage.spec.name}`: {reason}", stage)

    def _record_errors(
        self, stage: Plugin, failed: list[tuple[Any, Any]], window: str
    ) -> list[Any]:
        """Records the plugin reported failed (with its error), by the stage's policy."""
        if not failed:
            return []
        stage.metrics.record_errors += len(failed)
        policy = stage.spec.policy
        out: list[Any] = []
        if policy.action == "retry":
            left: list[tuple[Any, Any]] = []
            for record, error in failed:
                for _ in range(policy.retries):
                    try:
                        got, still = self._attempt(stage, [record], window)
                    except Fault as fault:
                        error = str(fault)
                        continue
                    if not still:
                        out.extend(got)
                        break
                    error = still[0][1]
                else:
                    left.append((record, error))
            failed = left
        for record, error in failed:
            self._settle(stage, [record], policy.final, _describe(error))
        return out

    def _call(self, stage: Plugin, records: list[Any], window: str) -> list[Any]:
        """One call of the stage's batch function; Fault if it faults or returns garbage.
        Records the plugin reports failed go through `_record_errors` (as single records)."""
        out, failed = self._attempt(stage, records, window)
        if failed:
            out = arrow_flow.join([out, self._record_errors(stage, failed, window)])
        return out

    def _attempt(
        self, stage: Plugin, records: list[Any], window: str
    ) -> tuple[list[Any], list[tuple[Any, Any]]]:
        """(records out, (record, error) pairs the plugin reported failed)."""
        if isinstance(records, arrow_flow.Rows):
            if arrow_flow.usable(stage, self.arrow):
                done = arrow_flow.attempt(self, stage, records, window, Fault)
                if done is not None:
                    return done
            records = list(records)  # this stage takes typed records
        b = stage.bindings
        kind = stage.spec.kind
        n = len(records)
        if kind == "processor":
            results = stage.call(n, lambda p: _same_length(p.process_batch(records), n))
            out: list[Any] = []
            failed: list[tuple[Any, Any]] = []
            skipped = extra = 0
            for record, result in zip(records, results):
                tag = type(result).__name__
                if tag.endswith("Emit"):
                    out.append(result.value)
                elif tag.endswith("Skip"):
                    skipped += 1
                elif tag.endswith("Split"):
                    out.extend(result.value)
                    extra += len(result.value) - 1
                elif tag.endswith("Failed"):
                    failed.append((record, result.value))
                else:
                    raise Fault("invalid-value", f"unexpected processing result {result!r}")
            self.accounting.add(skipped=skipped, filtered=skipped, split_extra=extra)
        elif kind == "filter":
            keep = stage.call(n, lambda p: _same_length(p.keep_batch(records), n))
            out = [r for r, k in zip(records, keep) if k]
            dropped = n - len(out)
            self.accounting.add(skipped=dropped, filtered=dropped)
            failed = []
        elif kind == "transformer":
            results = stage.call(n, lambda p: _same_length(p.transform_batch(records), n))
            out, failed = [], []
            for record, result in zip(records, results):
                if isinstance(result, b.Ok):
                    out.append(result.value)
                elif isinstance(result, b.Err):
                    failed.append((record, result.value))
                else:
                    raise Fault("invalid-value", f"unexpected transform result {result!r}")
        elif kind == "aggregator":
            key = stage.spec.key
            summaries = stage.call(n, lambda p: _aggregate(p, b, records, window, key))
            out, failed = list(records), []
            if summaries:
                with self._fail_lock:
                    self._summaries.extend(summaries)
        elif kind == "destination":
            count = written_count(stage.call(n, lambda p: p.write_batch(records)), n, b)
            self.accounting.add(out=count)  # fewer than n: the rest is unaccounted (imbalance)
            stage.metrics.records_out += count
            write_summaries(stage, self._take_summaries(), self.accounting)
            return [], []
        else:  # pragma: no cover - the spec allows no other kind here
            raise AssertionError(kind)
        stage.metrics.records_out += len(out)
        return out, failed

    def _resume_cursor(self, inst: Any, position: Any, b: Any) -> Any:
        """A source cursor resumed at `position`, or None (the run failed) if it cannot be."""
        resumed = inst.source.cursor_resume(position)
        if isinstance(resumed, b.Err):
            self._fail(f"source cannot resume: {_describe(resumed.value)}")
            return None
        return resumed.value

    def _take_summaries(self) -> list[Any]:
        with self._fail_lock:
            taken, self._summaries = self._summaries, []
        return taken

    def _finish(self) -> None:
        """After the drain: flush the destinations, close everything, settle the states."""
        for plugin in [self.stages[-1], *self.sinks.values()]:
            b = plugin.bindings
            held = [plugin._pool.get() for _ in range(plugin.size)]
            for gen, inst in held:
                if inst is None:
                    plugin._pool.put((gen, inst))
                    continue
                try:
                    flushed = inst.flush()
                    if isinstance(flushed, b.Err):
                        self._fail(
                            f"`{plugin.spec.name}` could not flush: {_describe(flushed.value)}",
                            plugin,
                        )
                except Exception as exc:  # noqa: BLE001
                    why = f"`{plugin.spec.name}` could not flush: {_classify(exc, b)}"
                    self._fail(why, plugin)
                plugin._pool.put((gen, inst))
        self.seconds = time.perf_counter() - self._started
        self.close()
        failure = self._failure
        for p in self.all_plugins():
            if p.spec.name in self._failed_stages:
                p.lifecycle.fail(self._failed_stages[p.spec.name])
            elif p.lifecycle.state is State.STOPPING:
                p.lifecycle.to(State.STOPPED)
        if failure is not None:
            self.lifecycle.fail(failure)
        elif not self.accounting.balanced:
            self.lifecycle.fail("the accounting does not balance: " + self.accounting.line())
        elif self.lifecycle.state is State.STOPPING:
            self.lifecycle.to(State.STOPPED)

    @property
    def failure(self) -> str | None:
        return self._failure

    def close(self) -> None:
        for p in self.all_plugins():
            p.close()


def _as_stage(plugin: PluginSpec) -> StageSpec:
    """A dead-letter sink as a stage of its own (one instance, defaults for the rest)."""
    return StageSpec(**{f: getattr(plugin, f) for f in PluginSpec.__dataclass_fields__})


def _aggregate(
    plugin: Any, b: Any, records: list[Any], window: str, key: str | None = None
) -> list[Any]:
    """The summaries of `records` in `window`: one accumulator, or with `key` (a metadata
    key) one per value of it, named `window/key=value` (records without it: `key=`)."""
    groups: dict[str, list[Any]] = {}
    if key is None:
        groups[window] = records
    else:
        for r in records:
            value = next((v for k, v in r.metadata if k == key), "")
            groups.setdefault(f"{window}/{key}={value}", []).append(r)
    out = []
    for name, group in groups.items():
        with plugin.aggregator.accumulator(name) as acc:
            added = acc.add_batch(group)
            if isinstance(added, b.Err):
                raise Fault("plugin-error", _describe(added.value))
            summary = acc.emit()
        if summary is not None:
            out.append(summary)
    return out


def _same_length(results: Any, n: int) -> Any:
    """The guest's answer, if it has one entry per record (else an invalid-value fault)."""
    if not isinstance(results, list) or len(results) != n:
        got = len(results) if isinstance(results, list) else type(results).__name__
        raise Fault("invalid-value", f"{got} results for {n} records")
    return results


def read_records(got: Any, want: int, b: Any) -> Any:
    """The records of a source's read-batch answer, asked for at most `want`."""
    if isinstance(got, b.Err):
        raise Fault("plugin-error", _describe(got.value))
    records = got.value
    if len(records) > want:
        raise Fault("invalid-value", f"{len(records)} records for max {want}")
    return records


def written_count(written: Any, n: int, b: Any) -> int:
    """How many of its `n` records a destination's write-batch answer says it wrote."""
    if isinstance(written, b.Err):
        raise Fault("plugin-error", _describe(written.value))
    count = written.value
    if not isinstance(count, int) or count > n:
        raise Fault("invalid-value", f"write-batch reported {count} for {n} records")
    return count


def write_summaries(stage: Any, summaries: list[Any], accounting: Accounting) -> None:
    """The aggregator's summaries, written by the destination `stage` (a `Plugin`): outside the
    balance (counted as generated); a fault was reported by the call and fails nothing."""
    if not summaries:
        return
    try:
        done = stage.call(0, lambda p: p.write_batch(summaries))
        if isinstance(done, stage.bindings.Ok):
            accounting.add(generated=int(done.value))
    except Fault:
        pass


def _describe(error: Any) -> str:
    if error is None:
        return "error"
    kind = getattr(error, "kind", None)
    message = getattr(error, "message", None)
    if message is not None:
        return f"{getattr(kind, 'value', kind)}: {message}"
    return str(error)


def _chunks(records: list[Any], size: int) -> Iterator[list[Any]]:
    for i in range(0, len(records), size):
        yield records[i : i + size]


# ---------------------------------------------------------------------------- hot reload


class _Watcher:
    """Watches the components of the stages; a change is reloaded on a background thread."""

    def __init__(self, pipeline: Pipeline) -> None:
        self.pipeline = pipeline
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True, name="witgen-reload")
        self._thread.start()

    def _loop(self) -> None:
        plugins = self.pipeline.stages
        dirs = sorted({str(p.spec.component.parent) for p in plugins})
        try:
            from watchfiles import watch

            for _changes in watch(
                *dirs, stop_event=self._stop, debounce=50, step=20, recursive=False
            ):
                self._check(plugins)
        except ImportError:  # watchfiles is optional: poll the files instead
            while not self._stop.wait(0.2):
                self._check(plugins)

    def _check(self, plugins: list[Plugin]) -> None:
        for p in plugins:
            if p.changed_on_disk():
                p.reload()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
