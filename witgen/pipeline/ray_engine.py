"""`witgen run --engine ray`: the same pipeline file and plugins, executed on Ray Data.

The driver (the `witgen run` process) does everything that needs the pipeline's files: it checks
every component (signature, world, compat), starts each plugin once locally (so a plugin that
cannot start is refused before the cluster sees it, and to read its `info`), and plans the
source's read tasks. What goes to the workers is a `Shipment` per stage: the stage's spec, the
exact bytes that passed the checks, and the contract's WIT text. No shared filesystem is
assumed; each worker process prepares the plugin through the contract's bindings, generated and
compiled into that node's own cache (`~/.cache/witgen/run/`), and keeps it for every batch.

Dataflow (one Ray dataset):

    source      read tasks over cursor ranges (when the cursor's positions are record offsets,
                probed on the driver), else one read task; or a Parquet / JSON Lines / Arrow file
    middle      processor, filter, transformer, aggregator: `map_batches(PluginStage)` with an
                actor pool per stage (`instances` actors, each holding one prepared plugin)
    destination one writer actor per partition (partition = output block, round robin), each
                flushed at the end

Records travel as Arrow tables (`arrow_codec`'s schema) with two engine columns: `_window` (the
source batch a record came from) and `_summary` (aggregator output). A stage whose plugin runs
on the fast path hands its records to the plugin's batch codec as `arrow_flow.Rows`, as the
local engine does between fast-path stages: no Python record per row (`Shipment.arrow` carries
the driver's `Pipeline.arrow`; False: typed records through `arrow_codec`). Every stage
cuts each window into chunks of its `batch_size` and hands them to the local engine's own policy
code (`Pipeline._through`: retries, bisection, skip, dead-letter, fail), so records, accounting
and per-stage counts are those of `--engine local`. Workers report their accounting, metrics,
faults and dead records to a `Ledger` actor after each batch (synchronously, so the driver's
totals are complete when the dataset is); a `fail` stops the read tasks, as in the local engine
(batches in flight finish). Dead records are written by the driver (its files, its sink plugin).

Aggregator state is partitioned by window: a window (one source batch) is processed whole by one
actor, chunk by chunk, each chunk into an accumulator named after the window, whose summary
travels downstream as a `_summary` row and is written by the destination (as `generated`).
"""

from __future__ import annotations

import hashlib
import importlib
import itertools
import logging
import os
import time
import zlib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Iterator

from witgen.diagnostics import UsageError
from witgen.pipeline import arrow_flow, checks
from witgen.pipeline import streaming as streaming_mod
from witgen.pipeline.contract import Contract
from witgen.pipeline.lifecycle import Event, State
from witgen.pipeline.metrics import Accounting
from witgen.pipeline.runtime import (
    Fault,
    Pipeline,
    Plugin,
    _chunks,
    _classify,
    _describe,
    read_records,
    write_summaries,
)
from witgen.pipeline.spec import LimitsSpec, PolicySpec, StageSpec, WasiSpec
from witgen.diagnostics import Span

INSTALL = "pip install 'witgen[ray]'"
DATASET_SUFFIXES = (".parquet", ".jsonl", ".json", ".arrow", ".feather", ".ipc")
METRIC_FIELDS: tuple[str, ...] = ("calls", "errors", "busy_seconds", "records_in")
METRIC_FIELDS += ("records_out", "record_errors", "recycled")
ACCOUNT_FIELDS: tuple[str, ...] = ("source", "split_extra", "out", "skipped", "filtered")
ACCOUNT_FIELDS += ("failed", "dead_lettered", "generated")


def require_ray() -> Any:
    """The `ray` module, or a UsageError (exit 2) saying how to install it."""
    # Ray's failure signal handler (SIGILL, SIGSEGV...) would replace wasmtime's, which turns
    # a plugin's trap in this process into a crash: Ray reads this when it is imported.
    os.environ.setdefault("RAY_DISABLE_FAILURE_SIGNAL_HANDLER", "1")
    try:
        importlib.import_module("pyarrow")
        ray = importlib.import_module("ray")
        importlib.import_module("ray.data")
    except ImportError as exc:
        raise UsageError(
            f"--engine ray needs Ray Data and pyarrow ({exc.name or exc} is not installed): "
            f"{INSTALL}"
        ) from None
    return ray


# ---------------------------------------------------------------------------- what ships


@dataclass(frozen=True)
class Shipment:
    """Everything a worker needs for one stage; no path in it is read on the worker."""

    spec: StageSpec
    checked: checks.Checked
    contract: tuple[tuple[str, str], ...] | None  # (relative path, WIT text); None: witgen's
    cache_dir: str | None = None  # None: the node's own ~/.cache/witgen/run/compiled
    arrow: bool | None = None  # the driver's `Pipeline.arrow`: records as Arrow through the codec


def contract_files(contract: Contract) -> tuple[tuple[str, str], ...] | None:
    from witgen.paths import DEFAULT_WIT

    source = contract.source
    if source.resolve() == DEFAULT_WIT.resolve():
        return None
    if source.is_dir():
        files = sorted(source.rglob("*.wit"))
        return tuple((str(f.relative_to(source)), f.read_text("utf-8")) for f in files)
    return ((source.name, source.read_text("utf-8")),)


_CONTRACTS: dict[str, Contract] = {}
_CORES: dict[str, "StageCore"] = {}


def worker_contract(files: tuple[tuple[str, str], ...] | None) -> Contract:
    """The contract from shipped text, written once into this node's cache and loaded once
    per process."""
    from witgen.pipeline import contract as contract_mod

    key = hashlib.sha256(repr(files).encode()).hexdigest()[:16]
    if key not in _CONTRACTS:
        if files is None:
            _CONTRACTS[key] = contract_mod.load(None)
        else:
            root = contract_mod.cache_root() / "contracts" / key
            for rel, text in files:
                target = root / rel
                target.parent.mkdir(parents=True, exist_ok=True)
                if not target.exists() or target.read_text("utf-8") != text:
                    target.write_text(text, encoding="utf-8")
            _CONTRACTS[key] = contract_mod.load(root if len(files) > 1 else root / files[0][0])
    return _CONTRACTS[key]


# ---------------------------------------------------------------------------- one stage


class _Collector:
    """Dead records of a worker, kept for the driver (which owns the files and sinks)."""

    def __init__(self) -> None:
        self.items: list[tuple[str, str, list[Any]]] = []

    def send(self, stage: str, reason: str, records: list[Any]) -> bool:
        self.items.append((stage, reason, list(records)))
        return True


class StageCore(Pipeline):
    """One stage on a worker: a `Plugin` (one instance) and the local engine's policy code
    (`_through` and what it calls), with its own accounting, reported per batch."""

    def __init__(self, ship: Shipment) -> None:  # noqa: D107 - Pipeline.__init__ not wanted
        import threading

        self.spec_stage = ship.spec
        self.arrow = ship.arrow
        self.events = []
        self.accounting = Accounting()
        self._fail_lock = threading.Lock()
        self._failure = None
        self._failed_stages = {}
        self._stop = threading.Event()
        self._resume = threading.Event()
        self._resume.set()
        self._summaries = []
        contract = worker_contract(ship.contract)
        self.contract = contract
        cache = Path(ship.cache_dir) if ship.cache_dir else None
        if cache is None:
            from witgen.pipeline.contract import cache_root

            cache = cache_root() / "compiled"
        self.plugin = Plugin(ship.spec, contract, {}, [self._event], cache, 1)
        self.plugin.start(ship.checked)
        self.collector = _Collector()
        target = ship.spec.policy.dead_letter
        self.dead_letters = {} if target is None else {target: self.collector}  # type: ignore
        self._reported = {f: 0.0 for f in METRIC_FIELDS}
        self._loaded = False
        self.summary_rows: list[tuple[Any, int]] = []

    def _event(self, event: Event) -> None:
        if event.kind != "state":
            self.events.append(event)

    # -- records --

    def process(self, table: Any) -> Any:
        """One Arrow batch through the stage; the records out, as Arrow (engine columns kept)."""
        from witgen.pipeline import arrow_codec

        plugin = self.plugin
        if plugin.spec.kind != "source" and arrow_flow.usable(plugin, self.arrow):
            return self._process_batches(table)
        records = arrow_codec.to_records(table, record_type(plugin.bindings))
        windows, flags = arrow_codec.engine_columns(table)
        out: list[Any] = []
        out_windows: list[int] = []
        out_flags: list[bool] = []
        size = plugin.spec.batch_size
        kind = plugin.spec.kind
        for window, rows in _runs(windows):
            regular = [records[i] for i in rows if not flags[i]]
            passing = [records[i] for i in rows if flags[i]]
            if kind == "destination":
                with self._fail_lock:
                    self._summaries.extend(passing)
                passing = []
            for chunk in _chunks(regular, size):
                got = self._through(plugin, chunk, f"window-{window}")
                out.extend(got)
                out_windows.extend([window] * len(got))
                out_flags.extend([False] * len(got))
            if kind == "aggregator":  # its summaries, made by `_attempt`, go downstream
                passing = passing + self._take_summaries()
            out.extend(passing)
            out_windows.extend([window] * len(passing))
            out_flags.extend([True] * len(passing))
        return arrow_codec.from_records(out, out_windows, out_flags)

    def _process_batches(self, table: Any) -> Any:
        """`process` without Python records: each run of one window goes to the stage as
        `arrow_flow.Rows`, which the policy code hands to the plugin's batch codec (as the
        local engine does between fast-path stages). Only summaries and what the stage returns
        as typed records (its rare paths) are converted one record at a time."""
        from witgen.pipeline import arrow_codec

        np, pa = importlib.import_module("numpy"), importlib.import_module("pyarrow")
        plugin = self.plugin
        codec = arrow_flow.codec(plugin.bindings)
        codec.batch._deps()  # the codec module's numpy and pyarrow, imported once
        names = table.schema.names
        n = table.num_rows
        windows = (
            table.column(arrow_codec.WINDOW).fill_null(0).to_numpy()
            if arrow_codec.WINDOW in names
            else np.zeros(n, np.int64)
        )
        flags = (
            table.column(arrow_codec.SUMMARY).fill_null(False).to_numpy(zero_copy_only=False)
            if arrow_codec.SUMMARY in names
            else np.zeros(n, bool)
        )
        batch = _record_batch(table, codec.batch._arrow_type(codec.record))
        size = plugin.spec.batch_size
        kind = plugin.spec.kind
        pieces: list[Any] = []
        cuts = [0, *(np.flatnonzero(np.diff(windows)) + 1).tolist(), n]
        for start, stop in zip(cuts, cuts[1:]):
            if start == stop:
                continue
            window = int(windows[start])
            summary = flags[start:stop]
            if summary.any():
                picked = np.flatnonzero(~summary) + start
                rows = arrow_flow.Rows(batch.take(pa.array(picked)), codec)
                marked = pa.array(np.flatnonzero(summary) + start)
                passing = arrow_codec.to_records(table.take(marked), record_type(plugin.bindings))
            else:
                rows = arrow_flow.Rows(batch.slice(start, stop - start), codec)
                passing = []
            if kind == "destination":
                with self._fail_lock:
                    self._summaries.extend(passing)
                passing = []
            for chunk in _chunks(rows, size):  # type: ignore[arg-type]
                got = self._through(plugin, chunk, f"window-{window}")
                if isinstance(got, arrow_flow.Rows):
                    pieces.append(_engine_table(got.batch, window))
                elif got:
                    count = len(got)
                    pieces.append(arrow_codec.from_records(got, [window] * count, [False] * count))
            if kind == "aggregator":  # its summaries, made by `_attempt`, go downstream
                passing = passing + self._take_summaries()
            if passing:
                count = len(passing)
                pieces.append(arrow_codec.from_records(passing, [window] * count, [True] * count))
        return pa.concat_tables(pieces) if pieces else arrow_codec.empty()

    def finish(self) -> None:
        """A destination's end: summaries still held are written, then flush."""
        plugin = self.plugin
        b = plugin.bindings
        write_summaries(plugin, self._take_summaries(), self.accounting)
        gen, inst = plugin.acquire()  # as the local engine: flush is not a counted call
        try:
            flushed = inst.flush()
            if isinstance(flushed, b.Err):
                self._fail(f"`{plugin.spec.name}` could not flush: {_describe(flushed.value)}")
        except Exception as exc:  # noqa: BLE001
            self._fail(f"`{plugin.spec.name}` could not flush: {_classify(exc, b)}")
        finally:
            plugin.release(gen, inst)

    def _fail(self, reason: str, stage: Plugin | None = None) -> None:
        with self._fail_lock:
            if self._failure is None:
                self._failure = reason

    # -- reports --

    def report(self) -> dict[str, Any]:
        """What changed since the last report: accounting, metrics, events, dead records."""
        from witgen.pipeline import arrow_codec

        m = self.plugin.metrics
        metrics = {f: getattr(m, f) - self._reported[f] for f in METRIC_FIELDS}
        self._reported = {f: float(getattr(m, f)) for f in METRIC_FIELDS}
        acc = {f: getattr(self.accounting, f) for f in ACCOUNT_FIELDS}
        self.accounting = Accounting()
        rep: dict[str, Any] = {
            "stage": self.plugin.spec.name,
            "accounting": acc,
            "metrics": metrics,
            "events": [(e.kind, e.reason, e.at) for e in self.events],
            "failure": self._failure,
            "dead": [
                (stage, reason, arrow_codec.from_records(records))
                for stage, reason, records in self.collector.items
            ],
        }
        if not self._loaded:
            self._loaded = True
            rep["load"] = (m.load_seconds, m.init_seconds, m.mode)
        self.events = []
        self.collector.items = []
        self._failure = None
        return rep


def record_type(bindings: Any) -> Any:
    """The bindings' `DataRecord` class (in their `types` module)."""
    found = getattr(bindings, "DataRecord", None)
    if found is None:
        found = importlib.import_module(f"{bindings.__name__}.types").DataRecord
    return found


def _record_batch(table: Any, record: Any) -> Any:
    """The record columns of an engine table as one RecordBatch of the codec's `record` type
    (the metadata pairs' struct fields renamed: Arrow's cast matches fields by name)."""
    pa = importlib.import_module("pyarrow")
    from witgen.pipeline import arrow_codec

    table = table.select([c for c in arrow_codec.SCHEMA.names if c in table.schema.names])
    if table.schema.names != arrow_codec.SCHEMA.names or not table.schema.equals(
        arrow_codec.SCHEMA
    ):  # a lenient read (a dataset source written by another tool): the one conversion
        table = arrow_codec.from_records(arrow_codec.to_records(table, _Pairs))
    columns = [_single(table.column(name)) for name in arrow_codec.SCHEMA.names]
    columns[3] = _pairs_as(columns[3], record.field("metadata").type)
    return pa.RecordBatch.from_arrays(columns, names=arrow_codec.SCHEMA.names)


def _engine_table(batch: Any, window: int) -> Any:
    """Records out of the codec (a RecordBatch of its record type) as an engine table."""
    pa = importlib.import_module("pyarrow")
    from witgen.pipeline import arrow_codec

    columns = [batch.column(name) for name in arrow_codec.SCHEMA.names]
    columns[3] = _pairs_as(columns[3], arrow_codec.METADATA_TYPE)
    n = batch.num_rows
    columns.append(pa.array([window] * n, pa.int64()) if n else pa.array([], pa.int64()))
    columns.append(pa.array([False] * n, pa.bool_()))
    return pa.Table.from_arrays(columns, schema=arrow_codec.ENGINE_SCHEMA)


def _single(column: Any) -> Any:
    """A table column as one array (chunks joined)."""
    return column.chunk(0) if column.num_chunks == 1 else column.combine_chunks()


def _pairs_as(column: Any, list_type: Any) -> Any:
    """A list<struct<a, b>> column with the struct's fields named as in `list_type`."""
    pa = importlib.import_module("pyarrow")
    if column.type.equals(list_type):
        return column
    pairs = column.values
    fields = [pairs.field(i) for i in range(pairs.type.num_fields)]
    names = [f.name for f in list_type.value_type]
    renamed = pa.StructArray.from_arrays(fields, names=names)
    return pa.ListArray.from_arrays(column.offsets, renamed, type=list_type)


class _Pairs:
    """A record built by `arrow_codec.to_records` only to be written back (`_record_batch`)."""

    def __init__(self, id: str, timestamp: int, payload: bytes, metadata: Any) -> None:
        self.id, self.timestamp, self.payload, self.metadata = id, timestamp, payload, metadata


def _runs(windows: list[int]) -> Iterator[tuple[int, list[int]]]:
    """Row indexes of each run of equal windows, in order."""
    start = 0
    for window, group in itertools.groupby(windows):
        n = len(list(group))
        yield window, list(range(start, start + n))
        start += n


# ---------------------------------------------------------------------------- Python API


class PluginStage:
    """A DataFlare plugin as a Ray Data callable class, for your own Ray jobs::

        ds = ds.map_batches(
            PluginStage,
            fn_constructor_kwargs={"component": wasm_bytes, "kind": "processor",
                                   "config": {"key": "value"}, "on_error": "skip"},
            concurrency=4, batch_format="pyarrow", batch_size=None,
        )

    Each actor checks the component against the contract (witgen's `dataflare:core` unless
    `contract` names a WIT file or directory on the workers), prepares it under `limits`
    (`memory` bytes, `fuel`, `timeout` seconds) and keeps it. Batches are Arrow tables of
    `arrow_codec.SCHEMA`; what comes out has the same schema (plus `_window` and `_summary`).
    Records set aside by `on_error` are counted in `self.accounting`; under `fail` (the
    default) a batch that cannot be handled raises, which fails the Ray job. A destination
    flushes after every batch (Ray Data has no end-of-stream call for a map).
    """

    def __init__(
        self,
        component: bytes | str | os.PathLike[str] | None = None,
        kind: str | None = None,
        *,
        name: str | None = None,
        config: dict[str, str] | None = None,
        limits: dict[str, Any] | None = None,
        batch_size: int = 100,
        on_error: str = "fail",
        retries: int = 0,
        then: str = "fail",
        contract: str | None = None,
        cache_dir: str | None = None,
        _shipment: Shipment | list[Any] | None = None,
        _ledger: Any = None,
    ) -> None:
        if isinstance(_shipment, list):  # [ObjectRef]: put once by the driver, fetched here
            _shipment = require_ray().get(_shipment[0])
        if _shipment is None:
            _shipment = _api_shipment(
                component,
                kind,
                name,
                config,
                limits,
                batch_size,
                on_error,
                retries,
                then,
                contract,
                cache_dir,
            )
            self._raise = True
        else:
            self._raise = False
        assert isinstance(_shipment, Shipment)
        self.core = StageCore(_shipment)
        self.ledger = _ledger
        self.accounting = Accounting()

    def __call__(self, batch: Any) -> Any:
        pa = importlib.import_module("pyarrow")

        table = batch if isinstance(batch, pa.Table) else pa.Table.from_batches([batch])
        try:
            out = self.core.process(table)
        except Exception as exc:  # noqa: BLE001 - as the local engine: a bug loses no record
            self.core.accounting.add(failed=table.num_rows)
            self.core._fail(f"internal error: {type(exc).__name__}: {exc}")
            out = self._empty()
        if self.core.plugin.spec.kind == "destination" and self.ledger is None:
            self.core.finish()
        rep = self.core.report()
        if self.ledger is not None:
            ray = require_ray()

            ray.get(self.ledger.report.remote(rep))
        else:
            for key, n in rep["accounting"].items():
                self.accounting.add(**{key: n})
            if rep["failure"] is not None and self._raise:
                raise RuntimeError(f"witgen PluginStage: {rep['failure']}")
        return out

    @staticmethod
    def _empty() -> Any:
        from witgen.pipeline import arrow_codec

        return arrow_codec.empty()


def _api_shipment(
    component: bytes | str | os.PathLike[str] | None,
    kind: str | None,
    name: str | None,
    config: dict[str, str] | None,
    limits: dict[str, Any] | None,
    batch_size: int,
    on_error: str,
    retries: int,
    then: str,
    contract: str | None,
    cache_dir: str | None,
) -> Shipment:
    import tempfile

    from witgen.pipeline import contract as contract_mod

    if component is None or kind is None:
        raise TypeError("PluginStage needs `component` (bytes or a path) and `kind`")
    wasm = component if isinstance(component, bytes) else Path(component).read_bytes()
    if on_error in ("dead-letter",) or then == "dead-letter":
        raise ValueError("PluginStage: dead-letter needs `witgen run`; use skip or fail")
    lim = limits or {}
    spec = StageSpec(
        name=name or kind,
        kind=kind,
        component=Path(f"{kind}.wasm"),
        config=dict(config or {}),
        limits=LimitsSpec(
            memory_bytes=lim.get("memory", LimitsSpec.memory_bytes),
            fuel=lim.get("fuel"),
            timeout=lim.get("timeout"),
        ),
        wasi=WasiSpec(),
        signed_by=(),
        span=Span("<PluginStage>", 1, 1),
        component_span=Span("<PluginStage>", 1, 1),
        batch_size=batch_size,
        instances=1,
        policy=PolicySpec(action=on_error, retries=retries, then=then),
    )
    loaded = contract_mod.load(None if contract is None else Path(contract))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "plugin.wasm"
        path.write_bytes(wasm)
        checked = checks.check_component(path, kind, loaded, {}, label=f"{kind} `{spec.name}`")
    files = contract_files(loaded)
    return Shipment(spec, checked, files, cache_dir)


# ---------------------------------------------------------------------------- Ray actors


class Ledger:
    """The run's books on the cluster: worker reports and the stop flag (a Ray actor)."""

    def __init__(self) -> None:
        self.reports: list[dict[str, Any]] = []
        self.failure: str | None = None
        self.halted = False

    def report(self, rep: dict[str, Any]) -> bool:
        self.reports.append(rep)
        if rep.get("failure") and self.failure is None:
            self.failure = rep["failure"]
        return self.stopped()

    def stopped(self) -> bool:
        return self.failure is not None or self.halted

    def halt(self) -> None:
        """A graceful stop (Ctrl-C on the driver): the read tasks read nothing more."""
        self.halted = True

    def take(self) -> list[dict[str, Any]]:
        taken, self.reports = self.reports, []
        return taken


class Writer:
    """One destination partition (a Ray actor): writes the blocks it is given, flushes at the
    end."""

    def __init__(self, ship: Shipment, ledger: Any, keep: bool = False) -> None:
        self.core = StageCore(ship)
        self.ledger = ledger
        self.kept: list[Any] | None = [] if keep else None
        if keep:  # tests and benchmarks: what the destination was given, in order
            self.core.arrow = False  # the tap sees typed `write_batch` calls, not Arrow batches
            plugin = self.core.plugin
            call = plugin.call
            kept = self.kept
            plugin.call = lambda n, fn: call(n, lambda inst: fn(_Tap(inst, kept)))  # type: ignore

    def write(self, table: Any) -> int:
        ray = require_ray()

        self.core.process(table)
        ray.get(self.ledger.report.remote(self.core.report()))
        return int(table.num_rows)

    def finish(self) -> Any:
        """Flush; the records written, as Arrow, when they were kept (else None)."""
        from witgen.pipeline import arrow_codec

        ray = require_ray()
        self.core.finish()
        ray.get(self.ledger.report.remote(self.core.report()))
        return None if self.kept is None else arrow_codec.from_records(self.kept)


class _Tap:
    def __init__(self, inst: Any, kept: list[Any]) -> None:
        self._inst = inst
        self._kept = kept

    def write_batch(self, records: list[Any]) -> Any:
        self._kept.extend(records)
        return self._inst.write_batch(records)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inst, name)


def read_range(batch: dict[str, Any], ship: Shipment, ledger: Any) -> Iterator[Any]:
    """A read task: the source records of one cursor range, one Arrow table per source batch
    (one window each). `start` -1: one sequential task from a fresh cursor."""
    import numpy as np

    ray = require_ray()

    from witgen.pipeline import arrow_codec

    key = hashlib.sha256(ship.checked.wasm + repr(ship.spec).encode()).hexdigest()
    if key not in _CORES:
        _CORES[key] = StageCore(ship)
    core = _CORES[key]
    plugin = core.plugin
    b = plugin.bindings
    size = plugin.spec.batch_size
    stopped = bool(ray.get(ledger.stopped.remote()))  # a run that failed reads nothing new
    reported = time.perf_counter()
    for start, stop, window in zip(
        np.asarray(batch["start"]), np.asarray(batch["stop"]), np.asarray(batch["window"])
    ):
        start, stop, window = int(start), int(stop), int(window)
        position = max(start, 0)
        read = 0
        attempts_left = plugin.spec.policy.retries
        cursor: Any = None
        try:
            while True:
                # ranged: [start, stop) in record offsets; sequential: `stop` records at most
                left = -1 if stop < 0 else (stop - position if start >= 0 else stop - read)
                if left == 0 or stopped:
                    break
                want = size if left < 0 else min(size, left)
                begin = time.perf_counter()
                try:
                    if cursor is None:
                        cursor = _open(plugin, b, position if start >= 0 or read else -1)
                    records = read_records(cursor.read_batch(want), want, b)
                    next_position = cursor.position()
                except Exception as exc:  # noqa: BLE001 - the local engine's source policy
                    fault = _classify(exc, b)
                    plugin.metrics.call(time.perf_counter() - begin, 0, True)
                    core._event(Event("fault", plugin.spec.name, reason=str(fault)))
                    cursor = None
                    _recycle(plugin)
                    if plugin.spec.policy.action != "retry" or attempts_left <= 0:
                        core._fail(f"source `{plugin.spec.name}`: {fault}")
                        break
                    attempts_left -= 1
                    continue
                plugin.metrics.call(time.perf_counter() - begin, len(records), False)
                if not records:
                    break
                plugin.metrics.records_out += len(records)
                core.accounting.add(source=len(records))
                read += len(records)
                position = next_position
                yield arrow_codec.from_records(records, [window] * len(records))
                window += 1
                if time.perf_counter() - reported > 0.05:  # books, and the stop flag
                    stopped = ray.get(ledger.report.remote(core.report()))
                    reported = time.perf_counter()
        finally:
            if cursor is not None:
                try:
                    cursor.close()
                except Exception:  # noqa: BLE001
                    pass
    ray.get(ledger.report.remote(core.report()))


def _open(plugin: Plugin, b: Any, position: int) -> Any:
    gen, inst = plugin.acquire()
    plugin.release(gen, inst)
    if position < 0:
        return inst.source.cursor()
    resumed = inst.source.cursor_resume(position)
    if isinstance(resumed, b.Err):
        raise Fault("plugin-error", f"cannot resume at {position}: {_describe(resumed.value)}")
    return resumed.value


def _recycle(plugin: Plugin) -> None:
    gen, inst = plugin.acquire()
    plugin.release(gen, inst, broken=True)


# ---------------------------------------------------------------------------- the driver


@dataclass
class RayOptions:
    address: str | None = None
    num_cpus: int = 2
    read_windows: int = 8  # source batches per read task (when the source can be split) ...
    read_records: int = 4096  # ... and at least this many records (a task costs milliseconds)
    keep_written: bool = False  # keep what the destination wrote in `RayPipeline.written`
    reports: list[dict[str, Any]] = field(default_factory=list)


class RayPipeline(Pipeline):
    """A loaded pipeline run on Ray; same books and outputs as `Pipeline` (metrics table, JSON,
    accounting line, exit status)."""

    def __init__(self, *args: Any, options: RayOptions | None = None, **kwargs: Any) -> None:
        kwargs["hot_reload"] = False  # the workers hold shipped bytes; no reload on Ray
        super().__init__(*args, **kwargs)
        self.options = options or RayOptions()
        self.dataset_source = _is_dataset(self.spec.stages[0].component)
        self.read_tasks = 0
        self.ordered = False
        self.written: list[Any] = []

    def load(self) -> None:
        """Check and start every plugin on the driver (a dataset source has no plugin)."""
        if self.dataset_source:
            source = self.stages[0]
            if not source.spec.component.exists():
                raise checks.PluginRefused(
                    f"source `{source.spec.name}`: dataset {source.spec.component} does not exist",
                    source.spec.component_span,
                )
            source.lifecycle.to(State.INITIALIZING)
            source.lifecycle.to(State.READY)
            source.metrics.mode = "dataset"
            saved, self.stages = self.stages, self.stages[1:]
            try:
                super().load()
            finally:
                self.stages = saved
        else:
            super().load()
        streaming = [p for p in self.all_plugins() if p.streaming]
        if streaming:
            # Streaming plugins (streaming-source / streaming-destination) run on the async host
            # in the local engine only; Ray's read tasks and writer actors call batch functions.
            self.close()
            p = streaming[0]
            raise checks.PluginRefused(
                f"{p.spec.kind} `{p.spec.name}`: {p.spec.component} exports "
                f"`{streaming_mod.STREAMING[p.spec.kind]}`; the Ray engine does not run "
                "streaming plugins: use `--engine local`, or a plugin that exports "
                f"`{p.spec.kind}`",
                p.spec.component_span,
            )
        # The order records reach the destination in is kept when the source and every stage
        # between declare `ordered` (the destination's own flag is about what it does next).
        infos = []
        for p in self.stages[0 if not self.dataset_source else 1 : -1]:
            gen, inst = p.acquire()
            try:
                infos.append(inst.info())
            finally:
                p.release(gen, inst)
        self.ordered = all(_ordered(i) for i in infos)

    def run(self, records: int | None = None) -> Accounting:
        ray = require_ray()

        limit = records if records is not None else self.spec.records
        started_here = _start_ray(ray, self.options)
        ctx = ray.data.DataContext.get_current()
        ctx.execution_options.preserve_order = self.ordered
        ctx.enable_progress_bars = False
        if hasattr(ctx, "print_on_execution_start"):
            ctx.print_on_execution_start = False
        self._started = time.perf_counter()
        for lc in [self.lifecycle, *[q.lifecycle for q in self.all_plugins()]]:
            if lc.state is State.READY:
                lc.to(State.PROCESSING)
        try:
            self._run_on_ray(ray, limit)
        finally:
            self._draining()
            if started_here:
                ray.shutdown()
        self._finish_ray()
        return self.accounting

    def _ship(self, plugin: Plugin) -> Shipment:
        assert plugin.checked is not None
        files = contract_files(self.contract)
        return Shipment(plugin.spec, plugin.checked, files, None, self.arrow)

    def _run_on_ray(self, ray: Any, limit: int | None) -> None:
        import warnings

        with warnings.catch_warnings():  # max_restarts has no non-deprecated spelling in 2.60
            warnings.simplefilter("ignore", DeprecationWarning)
            self._run_dataset(ray, limit)

    def _run_dataset(self, ray: Any, limit: int | None) -> None:

        ledger = ray.remote(num_cpus=0)(Ledger).remote()
        cpus = float(ray.cluster_resources().get("CPU", 1.0))
        middle = self.stages[1:-1]
        actors = sum(s.size for s in middle) + 1
        share = max(0.05, min(1.0, cpus / (actors + 1)))
        ds = self._source_dataset(ray, ledger, limit, share)
        for plugin in middle:
            ds = ds.map_batches(
                PluginStage,
                fn_constructor_kwargs={
                    "_shipment": [ray.put(self._ship(plugin))],  # nested: fetched by the actor
                    "_ledger": ledger,
                },
                compute=ray.data.ActorPoolStrategy(size=plugin.size),
                batch_size=None,
                batch_format="pyarrow",
                zero_copy_batch=True,
                num_cpus=share,
                ray_remote_args_fn=_restarts,
            )
        dest = self.stages[-1]
        # A writer holds what it wrote but not yet flushed: one that dies fails the run (a
        # restarted one could not know what its predecessor flushed).
        writer_cls = ray.remote(Writer).options(num_cpus=0, max_restarts=0)
        keep = self.options.keep_written
        writers = [writer_cls.remote(self._ship(dest), ledger, keep) for _ in range(dest.size)]
        try:
            self._drive(ray, ds, writers, ledger)
        except Exception as exc:  # noqa: BLE001 - Ray's errors end the run, not the process
            first = str(exc).strip().splitlines()
            why = first[-1] if first else type(exc).__name__
            Pipeline._fail(self, f"ray: {type(exc).__name__}: {why}")
        finally:
            self._merge(ray.get(ledger.take.remote()))
            for w in writers:
                ray.kill(w)
            ray.kill(ledger)

    def _drive(self, ray: Any, ds: Any, writers: list[Any], ledger: Any) -> None:
        """Deal the output blocks to the writers (bounded in flight), merge the books as they
        come (the live table shows them), stop the reads on Ctrl-C, then flush the writers."""
        pending: list[Any] = []
        merged = time.perf_counter()
        halted = False
        for n, ref in enumerate(_block_refs(ds)):
            pending.append(writers[n % len(writers)].write.remote(ref))
            if len(pending) > 4 * len(writers):
                done, pending = ray.wait(pending, num_returns=len(pending) - 2 * len(writers))
                ray.get(done)
            if self._stop.is_set() and not halted:
                halted = True  # a graceful stop: nothing new is read, what was read finishes
                ray.get(ledger.halt.remote())
            if time.perf_counter() - merged > 0.5:
                self._merge(ray.get(ledger.take.remote()))
                merged = time.perf_counter()
        ray.get(pending)
        kept = ray.get([w.finish.remote() for w in writers])
        if self.options.keep_written:
            from witgen.pipeline import arrow_codec

            rtype = record_type(self.contract.bindings)
            self.written = [r for table in kept for r in arrow_codec.to_records(table, rtype)]

    def _source_dataset(self, ray: Any, ledger: Any, limit: int | None, share: float) -> Any:

        source = self.stages[0]
        size = source.spec.batch_size
        if self.dataset_source:
            ds = _read_dataset(ray, source.spec.component)
            if limit is not None:
                ds = ds.limit(limit)
            self.read_tasks = 1
            return ds.map_batches(
                _windows,
                fn_kwargs={"stage": source.spec.name, "ledger": ledger},
                batch_size=size,
                batch_format="pyarrow",
                num_cpus=share,
            )
        windows = max(self.options.read_windows, -(-self.options.read_records // size))
        ranges = plan_reads(source, limit, windows)
        self.read_tasks = len(ranges)
        items = [{"start": a, "stop": b, "window": w} for a, b, w in ranges]
        ds = ray.data.from_items(items, override_num_blocks=len(items))
        return ds.map_batches(
            read_range,
            fn_kwargs={"ship": self._ship(source), "ledger": ledger},
            batch_size=1,
            num_cpus=share,
            max_retries=0,
        )

    def _merge(self, reports: list[dict[str, Any]]) -> None:
        by_name = {p.spec.name: p for p in self.all_plugins()}
        for rep in reports:
            plugin = by_name[rep["stage"]]
            m = plugin.metrics
            for f, n in rep["metrics"].items():
                setattr(m, f, getattr(m, f) + (n if f == "busy_seconds" else int(n)))
            self.accounting.add(**rep["accounting"])
            for kind, reason, at in rep["events"]:
                plugin.lifecycle.emit(Event(kind, plugin.spec.name, reason=reason, at=at))
            if rep.get("failure"):
                Pipeline._fail(self, rep["failure"], plugin)
            for stage, reason, table in rep["dead"]:
                self._dead(plugin, stage, reason, table)

    def _dead(self, plugin: Plugin, stage: str, reason: str, table: Any) -> None:
        from witgen.pipeline import arrow_codec

        target = plugin.spec.policy.dead_letter
        assert target is not None
        sink = self.dead_letters[target]
        bindings = sink.sink.bindings if sink.sink is not None else self.contract.bindings
        records = arrow_codec.to_records(table, record_type(bindings))
        if not sink.send(stage, reason, records):
            n = len(records)
            self.accounting.add(dead_lettered=-n, failed=n)
            why = f"{reason}; the dead-letter sink `{target}` refused them too"
            Pipeline._fail(self, f"{plugin.spec.kind} `{plugin.spec.name}`: {why}", plugin)

    def _finish_ray(self) -> None:
        # the driver's own instances (started to check and describe the plugins) close here;
        # the destination's instance never wrote, so it is not flushed
        for plugin in self.sinks.values():
            b = plugin.bindings
            gen, inst = plugin._pool.get()
            try:
                if inst is not None:
                    flushed = inst.flush()
                    if isinstance(flushed, b.Err):
                        why = f"`{plugin.spec.name}` could not flush: {_describe(flushed.value)}"
                        Pipeline._fail(self, why, plugin)
            finally:
                plugin._pool.put((gen, inst))
        self.seconds = time.perf_counter() - self._started
        self.close()
        for p in self.all_plugins():
            if p.spec.name in self._failed_stages:
                p.lifecycle.fail(self._failed_stages[p.spec.name])
            elif p.lifecycle.state is State.STOPPING:
                p.lifecycle.to(State.STOPPED)
        if self._failure is not None:
            self.lifecycle.fail(self._failure)
        elif not self.accounting.balanced:
            self.lifecycle.fail("the accounting does not balance: " + self.accounting.line())
        elif self.lifecycle.state is State.STOPPING:
            self.lifecycle.to(State.STOPPED)


def _restarts() -> dict[str, Any]:
    """A stage actor that dies (its process, not a trapping plugin: that instance is recycled
    in place) is restarted and its batch retried."""
    return {"max_restarts": 3, "max_task_retries": 3}


def _start_ray(ray: Any, options: RayOptions) -> bool:
    """Join `options.address`, or start a local Ray (2 CPUs, no dashboard, quiet); True if this
    call started it (and so must shut it down)."""
    if ray.is_initialized():
        return False
    quiet = {"logging_level": logging.ERROR, "log_to_driver": False}
    logging.getLogger("ray.data").setLevel(logging.ERROR)
    if options.address:
        ray.init(address=options.address, **quiet)
    else:
        ray.init(num_cpus=options.num_cpus, include_dashboard=False, **quiet)
    return True


def _block_refs(ds: Any) -> Iterator[Any]:
    for bundle in ds.iter_internal_ref_bundles():
        yield from bundle.block_refs


def _ordered(info: Any) -> bool:
    caps = getattr(info, "capabilities", None)
    flag = getattr(type(caps), "ORDERED", None)
    return caps is not None and flag is not None and bool(caps & flag)


def _is_dataset(component: Path) -> bool:
    return component.suffix.lower() in DATASET_SUFFIXES


def _read_dataset(ray: Any, path: Path) -> Any:
    """A Parquet, JSON Lines or Arrow IPC file (or a directory of them) as a Ray dataset."""
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        return ray.data.read_parquet(str(path))
    if suffix in (".jsonl", ".json"):
        return ray.data.read_json(str(path), lines=True)
    feather = importlib.import_module("pyarrow.feather")

    return ray.data.from_arrow(feather.read_table(str(path)))


def _windows(table: Any, stage: str, ledger: Any) -> Any:
    """Rows of a dataset source as engine records: one window per Ray batch, named from a
    digest of its ids (deterministic for the same data and batch size); counted as source
    records in the ledger."""
    ray = require_ray()

    from witgen.pipeline import arrow_codec

    class _Rec:
        def __init__(self, **kw: Any) -> None:
            self.__dict__.update(kw)

    records = arrow_codec.to_records(table, _Rec)
    digest = zlib.crc32("\n".join(r.id for r in records).encode())
    n = len(records)
    counts = dict.fromkeys(METRIC_FIELDS, 0) | {"calls": 1, "records_in": n, "records_out": n}
    rep = {"stage": stage, "accounting": {"source": n}, "metrics": counts, "events": []}
    ray.get(ledger.report.remote(rep | {"failure": None, "dead": []}))
    return arrow_codec.from_records(records, [digest] * n)


def plan_reads(source: Plugin, limit: int | None, windows: int) -> list[tuple[int, int, int]]:
    """Read tasks as (start, stop, first window): ranges of `windows` source batches when the
    cursor's positions are record offsets (a fresh cursor reports 0, and n after n records;
    the end is found by resuming at probe positions), else one task [(-1, limit or -1, 0)]."""
    b = source.bindings
    size = source.spec.batch_size
    one = [(-1, -1 if limit is None else limit, 0)]
    gen, inst = source.acquire()
    try:
        cursor = inst.source.cursor()
        p0 = cursor.position()
        got = cursor.read_batch(size)
        p1 = cursor.position()
        cursor.close()
        if isinstance(got, b.Err) or p0 != 0 or p1 != len(got.value):
            return one

        def has(position: int) -> bool:
            resumed = inst.source.cursor_resume(position)
            if isinstance(resumed, b.Err):
                return False
            c = resumed.value
            try:
                more = c.read_batch(1)
                return isinstance(more, b.Ok) and len(more.value) == 1
            finally:
                c.close()

        if len(got.value) < size:
            end = len(got.value)
        else:
            lo, hi = size, size * 2  # has(lo - 1) holds
            while has(hi - 1) and (limit is None or hi < limit):
                lo, hi = hi, hi * 2
            while lo < hi:  # the first position without a record
                mid = (lo + hi) // 2
                if has(mid):
                    lo = mid + 1
                else:
                    hi = mid
            end = lo
    except Exception:  # noqa: BLE001 - a source that cannot be probed is read in one task
        return one
    finally:
        source.release(gen, inst)
    if limit is not None:
        end = min(end, limit)
    span = size * max(1, windows)
    return [(a, min(a + span, end), a // size) for a in range(0, end, span)] or [(0, 0, 0)]


def replace_stage(stage: StageSpec, **changes: Any) -> StageSpec:
    return replace(stage, **changes)
