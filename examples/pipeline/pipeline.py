"""A DataFlare pipeline host: source -> processor -> filter -> transformer -> aggregator ->
destination, each stage a plugin component loaded through the generated Python bindings
(`generated/python/dataflare_core`).

Every record's fate is tracked: it is written, skipped, dropped or rejected (with the plugin's
error), or split into children that have fates of their own; the aggregator keeps one window
per source batch and its summaries are written too. Per-plugin metrics (load time, calls,
errors, records, records/s) are collected around every call.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, TypeVar

REPO_ROOT = Path(__file__).resolve().parents[2]
if sys.pycache_prefix is None:  # keep generated/ free of __pycache__ (it is checked for drift)
    sys.pycache_prefix = str(REPO_ROOT / "target" / "pycache")
if str(REPO_ROOT / "generated" / "python") not in sys.path:
    sys.path.insert(0, str(REPO_ROOT / "generated" / "python"))

from dataflare_core import (  # noqa: E402
    AggregatorPlugin,
    DestinationPlugin,
    Err,
    FilterPlugin,
    Limits,
    Ok,
    PluginFailure,
    ProcessorPlugin,
    SourcePlugin,
    TransformerPlugin,
)
from dataflare_core.logging import Level  # noqa: E402
from dataflare_core.types import (  # noqa: E402
    DataRecord,
    PluginError,
    ProcessingResultEmit,
    ProcessingResultFailed,
    ProcessingResultSkip,
    ProcessingResultSplit,
)

KINDS = ("source", "processor", "filter", "transformer", "aggregator", "destination")
T = TypeVar("T")


# ---------------------------------------------------------------------------- the host side


class Host:
    """Serves logging, metrics and configuration to every plugin."""

    def __init__(self, settings: dict[str, str], echo_logs: bool = False) -> None:
        self.settings = settings
        self.echo_logs = echo_logs
        self.logs: list[tuple[Level, str]] = []
        self.counters: dict[str, int] = {}
        self.histograms: dict[str, list[float]] = {}

    def log(self, level: Level, message: str) -> None:
        self.logs.append((level, message))
        if self.echo_logs:
            print(f"[{level.value}] {message}", file=sys.stderr)

    def enabled(self, level: Level) -> bool:
        return level is not Level.TRACE

    def counter_add(self, name: str, delta: int) -> None:
        self.counters[name] = self.counters.get(name, 0) + delta

    def histogram_record(self, name: str, value: float, labels: list[tuple[str, str]]) -> None:
        self.histograms.setdefault(name, []).append(value)

    def get(self, key: str) -> str | None:
        return self.settings.get(key)

    def get_int(self, key: str) -> Ok[int] | Err[None]:
        try:
            return Ok(int(self.settings[key]))
        except (KeyError, ValueError):
            return Err(None)

    def get_all(self) -> list[tuple[str, str]]:
        return list(self.settings.items())


# ---------------------------------------------------------------------------- bookkeeping


@dataclass
class StageMetrics:
    kind: str
    mode: str = ""
    load_seconds: float = 0.0
    calls: int = 0
    errors: int = 0
    records: int = 0
    busy_seconds: float = 0.0

    @property
    def records_per_second(self) -> float:
        return self.records / self.busy_seconds if self.busy_seconds else 0.0

    def timed(self, records: int, call: Callable[[], T]) -> T:
        start = time.perf_counter()
        try:
            return call()
        except PluginFailure:
            self.errors += 1
            raise
        finally:
            self.busy_seconds += time.perf_counter() - start
            self.calls += 1
            self.records += records


@dataclass(frozen=True)
class Fate:
    """What happened to one record: `written`, `skipped`, `dropped`, `rejected` or `split`."""

    outcome: str
    stage: str
    error: PluginError | str | None = None
    children: tuple[str, ...] = ()


@dataclass
class Report:
    fates: dict[str, Fate] = field(default_factory=dict)  # by record id as the source made it
    written: list[DataRecord] = field(default_factory=list)  # as the destination got them
    summaries: list[DataRecord] = field(default_factory=list)  # aggregator windows written
    windows: list[tuple[str, int, int]] = field(default_factory=list)  # key, count, bytes
    metrics: dict[str, StageMetrics] = field(default_factory=dict)
    seconds: float = 0.0

    def settle(self, record_id: str, fate: Fate) -> None:
        if record_id in self.fates:
            raise AssertionError(
                f"record {record_id!r} got two fates: {self.fates[record_id]}, {fate}"
            )
        self.fates[record_id] = fate

    def table(self) -> str:
        rows = [
            f"{'plugin':<12} {'path':<9} {'load ms':>8} {'calls':>6} {'errors':>6} "
            f"{'records':>8} {'records/s':>11}"
        ]
        for m in self.metrics.values():
            rows.append(
                f"{m.kind:<12} {m.mode:<9} {m.load_seconds * 1e3:>8.1f} {m.calls:>6} "
                f"{m.errors:>6} {m.records:>8} {m.records_per_second:>11,.0f}"
            )
        outcomes: dict[str, int] = {}
        for fate in self.fates.values():
            outcomes[fate.outcome] = outcomes.get(fate.outcome, 0) + 1
        summary = ", ".join(f"{k} {v}" for k, v in sorted(outcomes.items()))
        rows.append(
            f"records: {summary}; windows {len(self.summaries)}; "
            f"total {self.seconds * 1e3:.0f} ms"
        )
        return "\n".join(rows)


# ---------------------------------------------------------------------------- the pipeline


class Pipeline:
    """Loads the six plugins once; `run` pushes every source record through the chain."""

    def __init__(
        self,
        components: dict[str, Path],
        settings: dict[str, str] | None = None,
        *,
        fast: bool | None = None,
        limits: Limits = Limits(),
        cache_dir: Path | None = None,
        echo_logs: bool = False,
    ) -> None:
        self.host = Host(settings or {}, echo_logs)
        self.metrics = {kind: StageMetrics(kind) for kind in KINDS}
        common: dict[str, Any] = dict(
            logging=self.host,
            metrics=self.host,
            config=self.host,
            limits=limits,
            cache=cache_dir is not None,
            cache_dir=cache_dir,
        )
        classes: dict[str, Any] = {
            "source": SourcePlugin,
            "processor": ProcessorPlugin,
            "filter": FilterPlugin,
            "transformer": TransformerPlugin,
            "aggregator": AggregatorPlugin,
            "destination": DestinationPlugin,
        }
        plugins: dict[str, Any] = {}
        for kind in KINDS:
            start = time.perf_counter()
            plugin = classes[kind].load(components[kind], fast=fast, **common)
            self.metrics[kind].load_seconds = time.perf_counter() - start
            self.metrics[kind].mode = plugin.prepared.mode
            plugins[kind] = plugin
        self.source: SourcePlugin = plugins["source"]
        self.processor: ProcessorPlugin = plugins["processor"]
        self.filter: FilterPlugin = plugins["filter"]
        self.transformer: TransformerPlugin = plugins["transformer"]
        self.aggregator: AggregatorPlugin = plugins["aggregator"]
        self.destination: DestinationPlugin = plugins["destination"]

    def close(self) -> None:
        for plugin in (
            self.source,
            self.processor,
            self.filter,
            self.transformer,
            self.aggregator,
            self.destination,
        ):
            plugin.close()

    def run(self, batch_size: int = 100, extra: Iterable[DataRecord] = ()) -> Report:
        """Drain the source (then `extra`, host-made records) through every stage."""
        report = Report(metrics=self.metrics)
        start = time.perf_counter()
        m = self.metrics
        with self.source.source.cursor() as cursor:
            window = 0
            while True:
                read = m["source"].timed(0, lambda: cursor.read_batch(batch_size))
                if isinstance(read, Err):
                    raise RuntimeError(f"the source failed: {read.value}")
                batch = read.value
                m["source"].records += len(batch)
                if not batch:
                    break
                self._push(batch, f"window-{window}", report)
                window += 1
        leftovers = list(extra)
        for i in range(0, len(leftovers), batch_size):
            self._push(leftovers[i : i + batch_size], f"window-{window}", report)
            window += 1
        flushed = m["destination"].timed(0, self.destination.flush)
        if isinstance(flushed, Err):
            raise RuntimeError(f"the destination could not flush: {flushed.value}")
        report.seconds = time.perf_counter() - start
        return report

    def _push(self, batch: list[DataRecord], window: str, report: Report) -> None:
        m = self.metrics
        # processor: one result per record, in order
        results = m["processor"].timed(len(batch), lambda: self.processor.process_batch(batch))
        survivors: list[tuple[str, DataRecord]] = []  # (origin id, record)
        for record, result in zip(batch, results):
            if isinstance(result, ProcessingResultEmit):
                survivors.append((record.id, result.value))
            elif isinstance(result, ProcessingResultSkip):
                report.settle(record.id, Fate("skipped", "processor"))
            elif isinstance(result, ProcessingResultSplit):
                children = tuple(child.id for child in result.value)
                report.settle(record.id, Fate("split", "processor", children=children))
                survivors.extend((child.id, child) for child in result.value)
            elif isinstance(result, ProcessingResultFailed):
                report.settle(record.id, Fate("rejected", "processor", result.value))
        # filter: keep or drop
        records = [r for _, r in survivors]
        keep = m["filter"].timed(len(records), lambda: self.filter.keep_batch(records))
        kept: list[tuple[str, DataRecord]] = []
        for (origin, record), decision in zip(survivors, keep):
            if decision:
                kept.append((origin, record))
            else:
                report.settle(origin, Fate("dropped", "filter"))
        # transformer: Ok(record) or Err(error), one per record
        records = [r for _, r in kept]
        rewritten = m["transformer"].timed(
            len(records), lambda: self.transformer.transform_batch(records)
        )
        ready: list[tuple[str, DataRecord]] = []
        for (origin, _), outcome in zip(kept, rewritten):
            if isinstance(outcome, Ok):
                ready.append((origin, outcome.value))
            else:
                report.settle(origin, Fate("rejected", "transformer", outcome.value))
        # aggregator: one window per batch; records pass through, the summary is written too
        records = [r for _, r in ready]
        if records:
            with m["aggregator"].timed(
                0, lambda: self.aggregator.aggregator.accumulator(window)
            ) as acc:
                added = m["aggregator"].timed(len(records), lambda: acc.add_batch(records))
                if isinstance(added, Err):
                    for origin, _ in ready:
                        report.settle(origin, Fate("rejected", "aggregator", added.value))
                    return
                count, size = m["aggregator"].timed(0, lambda: self.aggregator.stats(acc))
                report.windows.append((window, count, size))
                summary = m["aggregator"].timed(0, acc.emit)
        else:
            summary = None
        # destination: the records, then the window's summary
        if records:
            written = m["destination"].timed(
                len(records), lambda: self.destination.write_batch(records)
            )
            if isinstance(written, Err) or written.value != len(records):
                error = written.value if isinstance(written, Err) else f"wrote {written.value}"
                for origin, _ in ready:
                    report.settle(origin, Fate("rejected", "destination", error))
            else:
                report.written.extend(records)
                for origin, _ in ready:
                    report.settle(origin, Fate("written", "destination"))
        if summary is not None:
            done = m["destination"].timed(1, lambda: self.destination.write_batch([summary]))
            if isinstance(done, Ok):
                report.summaries.append(summary)
