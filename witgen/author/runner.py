"""Running fixture cases against a component through the generated Python host.

Every case gets a fresh plugin instance (the component is compiled once per fixture file) with
the case's configuration, under memory and time limits. A trap, a timeout, a memory limit or a
value the host cannot read fails that case with a typed reason; the next case runs on a new
instance. Results, logs and counters are compared with what the case expects, and a failed case
carries a unified diff of the two.
"""

from __future__ import annotations

import base64
import difflib
import fnmatch
import inspect
import json
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from witgen.author.fixtures import (
    Case,
    ExpectedError,
    ExpectedRecord,
    FixtureFile,
    Outcome,
    Record,
)
from witgen.author.host import RecordingHost

# kind -> every result tag a plugin of that kind can give (for the coverage report)
RESULT_TAGS = {
    "processor": ("emit", "skip", "split", "failed"),
    "transformer": ("ok", "error"),
    "filter": ("keep", "drop"),
    "destination": ("written", "error"),
    "source": ("records", "end", "error"),
    "aggregator": ("emit", "none", "error"),
}


class CaseFailure(Exception):
    """The plugin failed while a case ran: reason is trap, timeout, memory or invalid-value."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


@dataclass
class CaseResult:
    case: Case
    passed: bool
    failure: str | None = None  # typed reason when the plugin failed
    message: str = ""
    diff: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.case.name,
            "file": str(self.case.path),
            "line": self.case.line,
            "passed": self.passed,
            "failure": self.failure,
            "message": self.message,
            "diff": self.diff,
        }


@dataclass
class Coverage:
    exports: list[str]
    called: set[str] = field(default_factory=set)
    results: tuple[str, ...] = ()
    seen: set[str] = field(default_factory=set)

    def lines(self) -> list[str]:
        missed = [e for e in self.exports if e not in self.called]
        unseen = [r for r in self.results if r not in self.seen]
        done = [e for e in self.exports if e in self.called]
        out = [f"coverage: exports {len(done)}/{len(self.exports)} called ({', '.join(done)})"]
        if missed:
            out.append(f"  not called: {', '.join(missed)}")
        seen = [r for r in self.results if r in self.seen]
        out.append(f"coverage: results {len(seen)}/{len(self.results)} seen ({', '.join(seen)})")
        if unseen:
            out.append(f"  not seen: {', '.join(unseen)}")
        return out

    def to_json(self) -> dict[str, Any]:
        return {
            "exports": {e: e in self.called for e in self.exports},
            "results": {r: r in self.seen for r in self.results},
        }


# ---------------------------------------------------------------------------- rendering


def _payload_text(payload: bytes) -> tuple[str, str]:
    try:
        text = payload.decode("utf-8")
        if text.isprintable() or all(c.isprintable() or c in "\n\t" for c in text):
            return "payload", json.dumps(text, ensure_ascii=False)
    except UnicodeDecodeError:
        pass
    return "payload_base64", json.dumps(base64.b64encode(payload).decode())


def render_fields(fields: dict[str, Any]) -> str:
    parts = []
    for key in ("id", "timestamp", "payload", "metadata"):
        if key not in fields:
            continue
        value = fields[key]
        if key == "payload":
            name, text = _payload_text(value)
            parts.append(f"{name} = {text}")
        elif key == "metadata":
            pairs = ", ".join(f"[{json.dumps(k)}, {json.dumps(v)}]" for k, v in value)
            parts.append(f"metadata = [{pairs}]")
        elif key == "id":
            parts.append(f"id = {json.dumps(value)}")
        else:
            parts.append(f"{key} = {value}")
    return "{ " + ", ".join(parts) + " }"


def record_fields(record: Any, only: set[str] | None = None) -> dict[str, Any]:
    fields = {
        "id": record.id,
        "timestamp": record.timestamp,
        "payload": bytes(record.payload),
        "metadata": tuple((k, v) for k, v in record.metadata),
    }
    return {k: v for k, v in fields.items() if only is None or k in only}


@dataclass(frozen=True)
class Actual:
    """One result the plugin gave, in the fixture vocabulary."""

    tag: str
    value: Any = None  # a data-record, a list of them, a plugin-error, bool or int


def _render_outcome(tag: str, value: Any, like: Outcome | None) -> str:
    """`tag value`, for an expected Outcome (like=None) or an Actual shaped like `like`."""
    if isinstance(value, ExpectedRecord):
        return f"{tag} = {render_fields(value.fields)}"
    if isinstance(value, list) and (not value or isinstance(value[0], ExpectedRecord)):
        return f"{tag} = [" + ", ".join(render_fields(v.fields) for v in value) + "]"
    if isinstance(value, ExpectedError):
        msg = f", message = {json.dumps(value.message)}" if value.message is not None else ""
        return f"{tag} = {{ kind = {json.dumps(value.kind)}{msg} }}"
    if value is None:
        return f"{tag} = true"
    if isinstance(value, bool):
        return f"{tag} = {'true' if value else 'false'}"
    if isinstance(value, int):
        return f"{tag} = {value}"
    # an actual value: shape it like the expectation so the diff shows what matters
    shape = like.value if like is not None and like.tag == tag else None
    if isinstance(value, list):
        shapes = shape if isinstance(shape, list) else []
        items = []
        for i, rec in enumerate(value):
            only = set(shapes[i].fields) if i < len(shapes) else None
            items.append(render_fields(record_fields(rec, only)))
        return f"{tag} = [" + ", ".join(items) + "]"
    if hasattr(value, "payload"):
        only = set(shape.fields) if isinstance(shape, ExpectedRecord) else None
        return f"{tag} = {render_fields(record_fields(value, only))}"
    if hasattr(value, "kind"):
        kind = _level_name(value.kind)
        with_msg = not isinstance(shape, ExpectedError) or shape.message is not None
        msg = f", message = {json.dumps(value.message)}" if with_msg else ""
        return f"{tag} = {{ kind = {json.dumps(kind)}{msg} }}"
    return f"{tag} = {value!r}"


def _level_name(value: Any) -> str:
    inner = getattr(value, "value", value)
    return inner if isinstance(inner, str) else str(getattr(value, "name", value)).lower()


def _matches(expected: Outcome, actual: Actual) -> bool:
    if expected.tag != actual.tag:
        return False
    want, got = expected.value, actual.value
    if isinstance(want, ExpectedRecord):
        return bool(record_fields(got, set(want.fields)) == want.fields)
    if isinstance(want, list):
        return len(want) == len(got) and all(
            record_fields(g, set(w.fields)) == w.fields for w, g in zip(want, got)
        )
    if isinstance(want, ExpectedError):
        return _level_name(got.kind) == want.kind and (
            want.message is None or got.message == want.message
        )
    if expected.tag in ("skip", "none"):
        return True
    return bool(want == got)


# ---------------------------------------------------------------------------- running


class Runner:
    """Runs the cases of fixture files against one component of one plugin kind."""

    def __init__(
        self, component: Path, pkg: ModuleType, plugin_cls: Any, kind: str, exports: list[str]
    ) -> None:
        self.component = component
        self.pkg = pkg
        self.plugin_cls = plugin_cls
        self.kind = kind
        self.host = RecordingHost(pkg)
        self.coverage = Coverage(exports=exports, results=RESULT_TAGS[kind])
        wanted = inspect.signature(plugin_cls.prepare).parameters
        self.serves = {k: v for k, v in self.host.serves().items() if k in wanted}
        iface = __import__(f"{pkg.__name__}.{kind}", fromlist=["DataRecord"])
        self.DataRecord = iface.DataRecord

    def prepare(self, fixture: FixtureFile, cache_dir: Path | None) -> Any:
        limits = self.pkg.Limits(
            memory_bytes=fixture.limits.memory_bytes, timeout=fixture.limits.timeout
        )
        return self.plugin_cls.prepare(
            str(self.component), limits=limits, cache_dir=cache_dir, **self.serves
        )

    def run_file(
        self, fixture: FixtureFile, cache_dir: Path | None, pattern: str | None = None
    ) -> list[CaseResult]:
        prepared = self.prepare(fixture, cache_dir)
        results = [] if pattern is not None else [self.check_info(prepared, fixture)]
        for case in fixture.cases:
            if pattern is not None and not _selected(case.name, pattern):
                continue
            results.append(self.run_case(prepared, case))
        return results

    def check_info(self, prepared: Any, fixture: FixtureFile) -> CaseResult:
        """`info` once per file, on its own instance with the file's [config]: a pseudo-case."""
        case = Case("info() describes the plugin", fixture.path, 1, fixture.config, [], [])
        self.host.reset(fixture.config)
        try:
            plugin = self._guard(lambda: self.plugin_cls(prepared))
            try:
                info = self._call(getattr(plugin, self.kind), "info")
            finally:
                plugin.close()
        except CaseFailure as failure:
            return CaseResult(case, False, failure=failure.reason, message=f"{failure}")
        if not getattr(info, "name", None):
            return CaseResult(case, False, message=f"info() gave no name: {info!r}")
        return CaseResult(case, True)

    def run_case(self, prepared: Any, case: Case) -> CaseResult:
        self.host.reset(case.config)
        actual: list[Actual] = []
        stats: tuple[int, int] | None = None
        plugin = None
        try:
            plugin = self._guard(lambda: self.plugin_cls(prepared))
            actual, stats = self._drive(getattr(plugin, self.kind), case)
        except CaseFailure as failure:
            if case.expect_failure == failure.reason:
                return CaseResult(case, True)
            return CaseResult(
                case, False, failure=failure.reason, message=f"the plugin failed: {failure}"
            )
        finally:
            if plugin is not None:
                try:
                    plugin.close()
                except Exception:  # an instance that trapped is already gone
                    pass
        if case.expect_failure is not None:
            return CaseResult(
                case, False, message=f"expected a {case.expect_failure}, but the case completed"
            )
        for item in actual:
            self.coverage.seen.add(item.tag)
        return self._compare(case, actual, stats)

    def _guard(self, call: Any) -> Any:
        try:
            return call()
        except self.pkg.PluginTimeout as exc:
            raise CaseFailure("timeout", str(exc) or "the call ran past its time limit") from None
        except self.pkg.PluginFailure as exc:
            text = str(exc)
            low = text.lower()
            reason = "memory" if "memory" in low and ("limit" in low or "grow" in low) else "trap"
            if getattr(exc, "reason", None) in ("memory", "timeout"):
                reason = getattr(exc, "reason")  # a host that knows why says so
            raise CaseFailure(reason, text.strip().splitlines()[0] if text else "trap") from None
        except (ValueError, TypeError, KeyError, IndexError, OverflowError) as exc:
            raise CaseFailure("invalid-value", f"{type(exc).__name__}: {exc}") from None

    def _call(self, target: Any, wit_name: str, *args: Any) -> Any:
        self.coverage.called.add(wit_name)
        method = getattr(target, wit_name.replace("-", "_").replace("[", "").replace("]", ""))
        return self._guard(lambda: method(*args))

    def _record(self, rec: Record) -> Any:
        return self.DataRecord(
            id=rec.id, timestamp=rec.timestamp, payload=rec.payload, metadata=list(rec.metadata)
        )

    def _drive(self, exports: Any, case: Case) -> tuple[list[Actual], tuple[int, int] | None]:
        records = [self._record(r) for r in case.inputs]
        kind = self.kind
        out: list[Actual] = []
        if kind in ("processor", "transformer", "filter"):
            single, batch = {
                "processor": ("process", "process-batch"),
                "transformer": ("transform", "transform-batch"),
                "filter": ("keep", "keep-batch"),
            }[kind]
            if case.batch:
                results = self._call(exports, batch, records)
            else:
                results = [self._call(exports, single, r) for r in records]
            out = [self._classify(r) for r in results]
        elif kind == "destination":
            result = self._call(exports, "write-batch", records)
            out = [self._result(result, "written")]
            self._call(exports, "flush")
        elif kind == "source":
            if case.resume is not None:
                self.coverage.called.add("cursor.resume")
                opened = self._guard(lambda: exports.cursor_resume(case.resume))
                if isinstance(opened, self.pkg.Err):
                    return [Actual("error", opened.value)], None
                cursor = opened.value
            else:
                self.coverage.called.add("cursor")
                cursor = self._guard(lambda: exports.cursor())
            for limit in case.reads:
                self.coverage.called.add("cursor.read-batch")
                got = self._guard(lambda: cursor.read_batch(limit))
                if isinstance(got, self.pkg.Err):
                    out.append(Actual("error", got.value))
                    break
                out.append(Actual("records", list(got.value)))
                if not got.value:
                    self.coverage.seen.add("end")
            self.coverage.called.add("cursor.position")
            self._guard(lambda: cursor.position())
        elif kind == "aggregator":
            self.coverage.called.add("accumulator")
            acc = self._guard(lambda: exports.accumulator(case.key))
            error = None
            if case.batch:
                self.coverage.called.add("accumulator.add-batch")
                got = self._guard(lambda: acc.add_batch(records))
                error = got.value if isinstance(got, self.pkg.Err) else None
            else:
                self.coverage.called.add("accumulator.add")
                for rec in records:
                    got = self._guard(lambda: acc.add(rec))
                    if isinstance(got, self.pkg.Err):
                        error = got.value
                        break
            if error is not None:
                out = [Actual("error", error)]
            else:
                self.coverage.called.add("accumulator.emit")
                emitted = self._guard(lambda: acc.emit())
                out = [Actual("none") if emitted is None else Actual("emit", emitted)]
            stats = None
            if case.stats is not None:
                got_stats = self._call(exports, "stats", acc)
                stats = (int(got_stats[0]), int(got_stats[1]))
            return out, stats
        return out, None

    def _result(self, result: Any, ok_tag: str) -> Actual:
        if isinstance(result, self.pkg.Err):
            return Actual("error", result.value)
        if isinstance(result, self.pkg.Ok):
            return Actual(ok_tag, result.value)
        raise CaseFailure("invalid-value", f"expected a result, got {result!r}")

    def _classify(self, result: Any) -> Actual:
        if isinstance(result, bool):
            return Actual("keep", result)
        if isinstance(result, (self.pkg.Ok, self.pkg.Err)):
            return self._result(result, "ok")
        name = type(result).__name__
        for tag in ("Emit", "Skip", "Split", "Failed"):
            if name.endswith(tag):
                return Actual(tag.lower(), getattr(result, "value", None))
        raise CaseFailure("invalid-value", f"unexpected result {result!r}")

    def _compare(
        self, case: Case, actual: list[Actual], stats: tuple[int, int] | None
    ) -> CaseResult:
        ok = len(case.outcomes) == len(actual) and all(
            _matches(e, a) for e, a in zip(case.outcomes, actual)
        )
        want: list[str] = []
        got: list[str] = []
        for i in range(max(len(case.outcomes), len(actual))):
            exp = case.outcomes[i] if i < len(case.outcomes) else None
            if exp is not None:
                want.append(f"result[{i}]: {_render_outcome(exp.tag, exp.value, None)}")
            if i < len(actual):
                a = actual[i]
                if self.kind == "filter" and a.tag == "keep" and a.value is False:
                    self.coverage.seen.add("drop")
                if exp is not None and _matches(exp, a):
                    got.append(want[-1])
                else:
                    got.append(f"result[{i}]: {_render_outcome(a.tag, a.value, exp)}")
        if case.stats is not None:
            want.append(f"stats: {list(case.stats)}")
            got.append(f"stats: {list(stats) if stats else None}")
            ok = ok and stats == case.stats
        if case.logs is not None:
            want += [f"log: {line}" for line in case.logs]
            got += [f"log: {line}" for line in self.host.logs]
            ok = ok and case.logs == self.host.logs
        if case.metrics is not None:
            for name, total in sorted(case.metrics.items()):
                want.append(f"metric {name} = {total}")
                got.append(f"metric {name} = {self.host.counters.get(name, 0)}")
                ok = ok and self.host.counters.get(name, 0) == total
        if ok:
            return CaseResult(case, True)
        diff = list(difflib.unified_diff(want, got, "expected", "actual", lineterm="", n=2))
        return CaseResult(case, False, message="results differ", diff=diff)


def _selected(name: str, pattern: str) -> bool:
    if any(c in pattern for c in "*?["):
        return fnmatch.fnmatch(name, pattern)
    return pattern.lower() in name.lower()
