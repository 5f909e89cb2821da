"""Per-stage metrics (the plan's list plus records in/out), the accounting of a run, and their
outputs: a JSON document (`--metrics-json`), Prometheus exposition (`--prometheus`) and a live
terminal table (rich, only on a TTY)."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

if TYPE_CHECKING:
    from witgen.pipeline.runtime import Pipeline


@dataclass
class StageMetrics:
    name: str
    kind: str
    mode: str = ""  # "core" (fast path) or "component" (generic path)
    load_seconds: float = 0.0
    init_seconds: float = 0.0
    calls: int = 0
    errors: int = 0  # calls that faulted or returned a batch-level error
    busy_seconds: float = 0.0  # time inside plugin calls
    records_in: int = 0
    records_out: int = 0
    record_errors: int = 0  # records a plugin reported failed
    memory_bytes: int = 0  # linear memory of the stage's instances, last seen
    reloads: int = 0
    recycled: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    started: float = field(default_factory=time.perf_counter, repr=False)

    def call(self, seconds: float, records_in: int, failed: bool) -> None:
        with self.lock:
            self.calls += 1
            self.busy_seconds += seconds
            self.records_in += records_in
            if failed:
                self.errors += 1

    @property
    def avg_call_seconds(self) -> float:
        return self.busy_seconds / self.calls if self.calls else 0.0

    @property
    def throughput(self) -> float:
        """Records per second of time spent inside the plugin."""
        return self.records_in / self.busy_seconds if self.busy_seconds else 0.0

    @property
    def error_rate(self) -> float:
        return self.errors / self.calls if self.calls else 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "mode": self.mode,
            "load_seconds": self.load_seconds,
            "init_seconds": self.init_seconds,
            "calls": self.calls,
            "avg_call_seconds": self.avg_call_seconds,
            "throughput_records_per_second": self.throughput,
            "memory_bytes": self.memory_bytes,
            "errors": self.errors,
            "error_rate": self.error_rate,
            "record_errors": self.record_errors,
            "records_in": self.records_in,
            "records_out": self.records_out,
            "reloads": self.reloads,
            "recycled": self.recycled,
        }


@dataclass
class Accounting:
    """Every record that entered has exactly one fate.

    `records_in` counts source records plus the extra records splits made (a record split in
    three adds two; split into none, it removes one). `skipped` holds deliberate drops
    (processor skip, filter) and records skipped by policy. Aggregator summaries written to
    the destination are `generated`, outside the balance.
    """

    source: int = 0
    split_extra: int = 0
    out: int = 0
    skipped: int = 0
    filtered: int = 0  # part of `skipped`: dropped by a filter or a processor's `skip`
    failed: int = 0
    dead_lettered: int = 0
    generated: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, **counts: int) -> None:
        with self.lock:
            for key, n in counts.items():
                setattr(self, key, getattr(self, key) + n)

    @property
    def records_in(self) -> int:
        return self.source + self.split_extra

    @property
    def balanced(self) -> bool:
        return self.records_in == self.out + self.skipped + self.failed + self.dead_lettered

    def line(self) -> str:
        mark = "balanced" if self.balanced else "DOES NOT BALANCE"
        return (
            f"records in {self.records_in} (source {self.source}, splits {self.split_extra:+d})"
            f" = out {self.out} + skipped {self.skipped} (filtered {self.filtered}) + failed "
            f"{self.failed} + dead-lettered {self.dead_lettered}: {mark}; "
            f"summaries written {self.generated}"
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "in": self.records_in,
            "source": self.source,
            "split_extra": self.split_extra,
            "out": self.out,
            "skipped": self.skipped,
            "filtered": self.filtered,
            "failed": self.failed,
            "dead_lettered": self.dead_lettered,
            "generated": self.generated,
            "balanced": self.balanced,
        }


def to_json(pipeline: Pipeline) -> dict[str, Any]:
    return {
        "schema": "witgen.run/v1",
        "pipeline": pipeline.spec.name,
        "state": pipeline.lifecycle.label,
        "seconds": pipeline.seconds,
        "records_per_second": pipeline.records_per_second,
        "accounting": pipeline.accounting.to_json(),
        "stages": [
            {**s.metrics.to_json(), "state": s.lifecycle.label} for s in pipeline.all_plugins()
        ],
        "events": [str(e) for e in pipeline.events if e.kind != "state"],
    }


def write_json(pipeline: Pipeline, path: Path) -> None:
    path.write_text(json.dumps(to_json(pipeline), indent=2) + "\n", encoding="utf-8")


def table(pipeline: Pipeline) -> str:
    rows = [
        f"{'stage':<14} {'kind':<11} {'path':<9} {'state':<12} {'load ms':>8} {'init ms':>8}"
        f" {'calls':>6} {'avg µs':>8} {'in':>8} {'out':>8} {'err %':>6} {'rec/s':>10} {'mem KiB':>8}"
    ]
    for s in pipeline.all_plugins():
        m = s.metrics
        rows.append(
            f"{m.name[:14]:<14} {m.kind:<11} {m.mode:<9} {s.lifecycle.label[:12]:<12} "
            f"{m.load_seconds * 1e3:>8.1f} {m.init_seconds * 1e3:>8.1f} {m.calls:>6} "
            f"{m.avg_call_seconds * 1e6:>8.0f} {m.records_in:>8} {m.records_out:>8} "
            f"{m.error_rate * 100:>6.1f} {m.throughput:>10,.0f} {m.memory_bytes // 1024:>8}"
        )
    return "\n".join(rows)


# ---------------------------------------------------------------------------- Prometheus


def serve_prometheus(pipeline: Pipeline, port: int) -> Callable[[], None]:
    """Expose the metrics on http://0.0.0.0:PORT/metrics; returns a function that stops it."""
    from prometheus_client import CollectorRegistry, start_http_server
    from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

    class Collector:
        def collect(self) -> Any:
            gauges = {
                "load_seconds": "plugin load time",
                "init_seconds": "plugin initialisation time",
                "avg_call_seconds": "average plugin call time",
                "throughput_records_per_second": "records per second inside the plugin",
                "memory_bytes": "linear memory of the stage's instances",
                "error_rate": "share of calls that failed",
            }
            counters = {
                "calls": "plugin calls",
                "errors": "failed plugin calls",
                "records_in": "records into the stage",
                "records_out": "records out of the stage",
            }
            stages = [s.metrics.to_json() for s in pipeline.all_plugins()]
            for key, doc in gauges.items():
                g = GaugeMetricFamily(f"witgen_stage_{key}", doc, labels=["stage", "kind"])
                for m in stages:
                    g.add_metric([m["name"], m["kind"]], float(m[key]))
                yield g
            for key, doc in counters.items():
                c = CounterMetricFamily(f"witgen_stage_{key}", doc, labels=["stage", "kind"])
                for m in stages:
                    c.add_metric([m["name"], m["kind"]], float(m[key]))
                yield c
            acc = pipeline.accounting.to_json()
            r = CounterMetricFamily("witgen_records", "records by fate", labels=["fate"])
            for fate in ("in", "out", "skipped", "failed", "dead_lettered"):
                r.add_metric([fate], float(acc[fate]))
            yield r

    registry = CollectorRegistry()
    registry.register(Collector())
    server, thread = start_http_server(port, registry=registry)

    def stop() -> None:
        server.shutdown()
        server.server_close()
        thread.join(timeout=2)

    return stop


# ---------------------------------------------------------------------------- live display


class LiveDisplay:
    """A rich table refreshed while the pipeline runs: per stage its state and records/s."""

    def __init__(self, pipeline: Pipeline) -> None:
        from rich.live import Live

        self.pipeline = pipeline
        self.live = Live(self.render(), refresh_per_second=4, transient=False)

    def render(self) -> Any:
        from rich.table import Table

        p = self.pipeline
        t = Table(title=f"witgen run {p.spec.name}: {p.lifecycle.label}")
        for col in ("stage", "kind", "state", "in", "out", "records/s", "errors"):
            t.add_column(
                col, justify="right" if col in ("in", "out", "records/s", "errors") else "left"
            )
        elapsed = max(p.elapsed, 1e-9)
        for s in p.all_plugins():
            m = s.metrics
            t.add_row(
                m.name,
                m.kind,
                s.lifecycle.label,
                str(m.records_in),
                str(m.records_out),
                f"{m.records_in / elapsed:,.0f}",
                str(m.errors),
            )
        t.caption = p.accounting.line()
        return t

    def __enter__(self) -> LiveDisplay:
        self.live.__enter__()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._refresh, daemon=True)
        self._thread.start()
        return self

    def _refresh(self) -> None:
        while not self._stop.wait(0.25):
            self.live.update(self.render())

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.live.update(self.render())
        self.live.__exit__(None, None, None)
