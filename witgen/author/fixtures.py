"""Fixture files for `witgen test`: TOML a person writes by hand (format: the scaffold README).

Parsing checks everything up front and reports a mistake at `file:line` (`FixtureError`, exit
status 2): TOML syntax errors where tomllib found them, wrong keys or values at the line of the
key inside its `[[case]]`.
"""

from __future__ import annotations

import base64
import binascii
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from witgen.diagnostics import WitgenError

RECORD_KEYS = {"id", "payload", "payload_base64", "metadata", "timestamp"}
ERROR_KINDS = ("invalid-input", "bad-config", "unavailable", "internal")
FAILURES = ("trap", "timeout", "memory", "invalid-value")
# kind -> (the shape of `expect`, the outcome tags it may hold)
OUTCOMES = {
    "processor": ("list", ("emit", "skip", "split", "failed")),
    "transformer": ("list", ("ok", "error")),
    "filter": ("list", ("keep",)),
    "destination": ("one", ("written", "error")),
    "source": ("list", ("records", "error")),
    "aggregator": ("one", ("emit", "none", "error")),
}
CASE_KEYS = {
    "name", "input", "expect", "config", "batch", "logs", "metrics", "expect_failure",
    "key", "stats", "reads", "resume",
}  # fmt: skip
MiB = 1024 * 1024


class FixtureError(WitgenError):
    exit_code = 2

    def __init__(self, path: Path, line: int, message: str) -> None:
        super().__init__(f"{path}:{line}: {message}")


@dataclass(frozen=True)
class Record:
    """A record given to the plugin (every field set)."""

    id: str
    timestamp: int
    payload: bytes
    metadata: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class ExpectedRecord:
    """A record as a case expects it: only the named fields are compared."""

    fields: dict[str, Any]  # id, timestamp, payload (bytes), metadata (tuple of pairs)


@dataclass(frozen=True)
class ExpectedError:
    kind: str
    message: str | None = None


@dataclass(frozen=True)
class Outcome:
    """One expected result: a tag (`emit`, `skip`, `error`...) and what it carries."""

    tag: str
    value: Any = None  # ExpectedRecord, list of them, ExpectedError, bool or int


@dataclass
class Case:
    name: str
    path: Path
    line: int
    config: dict[str, str]
    inputs: list[Record]
    outcomes: list[Outcome]
    batch: bool = False
    logs: list[str] | None = None
    metrics: dict[str, int] | None = None
    expect_failure: str | None = None
    key: str = "window"
    stats: tuple[int, int] | None = None
    reads: list[int] = field(default_factory=lambda: [100])
    resume: int | None = None

    @property
    def where(self) -> str:
        return f"{self.path}:{self.line}"


@dataclass
class Limits:
    memory_bytes: int = 128 * MiB
    timeout: float = 5.0


@dataclass
class FixtureFile:
    path: Path
    cases: list[Case]
    limits: Limits
    config: dict[str, str] = field(default_factory=dict)


class _Lines:
    """Line numbers of `[[case]]` headers and of keys inside them (tomllib gives none)."""

    def __init__(self, text: str) -> None:
        self.lines = text.splitlines()
        self.cases = [i + 1 for i, ln in enumerate(self.lines) if ln.strip() == "[[case]]"]

    def case(self, index: int) -> int:
        return self.cases[index] if index < len(self.cases) else 1

    def key(self, index: int, key: str) -> int:
        start = self.case(index)
        end = self.cases[index + 1] if index + 1 < len(self.cases) else len(self.lines) + 1
        pattern = re.compile(rf"^\s*{re.escape(key)}\s*=|[{{,]\s*{re.escape(key)}\s*=")
        for n in range(start, end):
            if pattern.search(self.lines[n - 1]):
                return n
        return start

    def top(self, key: str) -> int:
        for n, line in enumerate(self.lines, 1):
            if line.strip().startswith((f"[{key}]", f"{key} =", f"{key}=")):
                return n
        return 1


def load(path: Path, kind: str) -> FixtureFile:
    """Parse and check one fixture file for a plugin of `kind`."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise FixtureError(path, 1, f"cannot read the file: {exc}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        match = re.search(r"\(at line (\d+), column (\d+)\)", str(exc))
        line = int(match.group(1)) if match else max(1, len(text.splitlines()))
        message = re.sub(r"\s*\(at (line \d+, column \d+|end of document)\)", "", str(exc))
        raise FixtureError(path, line, f"invalid TOML: {message}") from None
    lines = _Lines(text)
    unknown = set(data) - {"config", "case", "limits"}
    if unknown:
        key = sorted(unknown)[0]
        raise FixtureError(
            path, lines.top(key), f"unknown key `{key}` (expected [config], [limits], [[case]])"
        )
    config = _config(data.get("config", {}), path, lines.top("config"))
    limits = _limits(data.get("limits", {}), path, lines.top("limits"))
    raw_cases = data.get("case", [])
    if not isinstance(raw_cases, list) or not raw_cases:
        raise FixtureError(path, 1, "no [[case]] in this file")
    cases = [_case(raw, i, kind, config, path, lines) for i, raw in enumerate(raw_cases)]
    return FixtureFile(path, cases, limits, config)


def _config(raw: Any, path: Path, line: int) -> dict[str, str]:
    if not isinstance(raw, dict):
        raise FixtureError(path, line, "config must be a table of key = value")
    out = {}
    for key, value in raw.items():
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            raise FixtureError(path, line, f"config value `{key}` must be a string or a number")
        out[key] = value if isinstance(value, str) else str(value)
    return out


def _limits(raw: Any, path: Path, line: int) -> Limits:
    if not isinstance(raw, dict) or set(raw) - {"memory_mb", "timeout"}:
        raise FixtureError(path, line, "[limits] takes memory_mb and timeout")
    limits = Limits()
    if "memory_mb" in raw:
        if not isinstance(raw["memory_mb"], int) or raw["memory_mb"] <= 0:
            raise FixtureError(path, line, "memory_mb must be a positive integer")
        limits.memory_bytes = raw["memory_mb"] * MiB
    if "timeout" in raw:
        if not isinstance(raw["timeout"], (int, float)) or raw["timeout"] <= 0:
            raise FixtureError(path, line, "timeout must be a positive number of seconds")
        limits.timeout = float(raw["timeout"])
    return limits


class _Ctx:
    def __init__(self, path: Path, lines: _Lines, index: int) -> None:
        self.path, self.lines, self.index = path, lines, index

    def fail(self, key: str, message: str) -> FixtureError:
        return FixtureError(self.path, self.lines.key(self.index, key), message)


def _case(
    raw: Any, index: int, kind: str, config: dict[str, str], path: Path, lines: _Lines
) -> Case:
    ctx = _Ctx(path, lines, index)
    line = lines.case(index)
    if not isinstance(raw, dict):
        raise FixtureError(path, line, "a [[case]] must be a table")
    unknown = set(raw) - CASE_KEYS
    if unknown:
        key = sorted(unknown)[0]
        raise ctx.fail(
            key, f"unknown key `{key}` in a case (known: {', '.join(sorted(CASE_KEYS))})"
        )
    name = raw.get("name", f"case {index + 1}")
    if not isinstance(name, str):
        raise ctx.fail("name", "name must be a string")
    merged = dict(config)
    merged.update(_config(raw.get("config", {}), path, lines.key(index, "config")))
    inputs_raw = raw.get("input", [])
    if not isinstance(inputs_raw, list):
        raise ctx.fail("input", "input must be a list of records")
    inputs = [_input(r, n, name, ctx) for n, r in enumerate(inputs_raw)]
    case = Case(name, path, line, merged, inputs, [])
    batch = raw.get("batch", False)
    if not isinstance(batch, bool):
        raise ctx.fail("batch", "batch must be true or false")
    case.batch = batch
    failure = raw.get("expect_failure")
    if failure is not None and failure not in FAILURES:
        raise ctx.fail("expect_failure", f"expect_failure must be one of {', '.join(FAILURES)}")
    case.expect_failure = failure
    if "expect" not in raw and failure is None:
        raise FixtureError(path, line, f"case `{name}` has no `expect`")
    if "expect" in raw:
        case.outcomes = _outcomes(raw["expect"], kind, ctx)
    if "logs" in raw:
        logs = raw["logs"]
        if not isinstance(logs, list) or not all(isinstance(x, str) for x in logs):
            raise ctx.fail("logs", 'logs must be a list of "level: message" strings')
        case.logs = logs
    if "metrics" in raw:
        metrics = raw["metrics"]
        if not isinstance(metrics, dict) or not all(
            isinstance(v, int) and not isinstance(v, bool) for v in metrics.values()
        ):
            raise ctx.fail("metrics", "metrics must be a table of counter = integer total")
        case.metrics = metrics
    if "key" in raw:
        if not isinstance(raw["key"], str):
            raise ctx.fail("key", "key must be a string")
        case.key = raw["key"]
    if "stats" in raw:
        stats = raw["stats"]
        if not (
            isinstance(stats, list) and len(stats) == 2 and all(isinstance(x, int) for x in stats)
        ):
            raise ctx.fail("stats", "stats must be [count, bytes]")
        case.stats = (stats[0], stats[1])
    if "reads" in raw:
        reads = raw["reads"]
        if not isinstance(reads, list) or not all(isinstance(x, int) and x >= 0 for x in reads):
            raise ctx.fail("reads", "reads must be a list of non-negative integers")
        case.reads = reads
    if "resume" in raw:
        if not isinstance(raw["resume"], int) or raw["resume"] < 0:
            raise ctx.fail("resume", "resume must be a non-negative integer")
        case.resume = raw["resume"]
    shape, _ = OUTCOMES[kind]
    if (
        shape == "list"
        and "expect" in raw
        and kind != "source"
        and len(case.outcomes) != len(inputs)
    ):
        raise ctx.fail(
            "expect",
            f"expect has {len(case.outcomes)} entries for {len(inputs)} input records "
            "(one result per record)",
        )
    return case


def _payload(raw: dict[str, Any], ctx: _Ctx) -> bytes | None:
    if "payload" in raw and "payload_base64" in raw:
        raise ctx.fail("payload_base64", "give payload or payload_base64, not both")
    if "payload" in raw:
        if not isinstance(raw["payload"], str):
            raise ctx.fail("payload", "payload must be a string (payload_base64 for binary data)")
        return raw["payload"].encode("utf-8")
    if "payload_base64" in raw:
        value = raw["payload_base64"]
        try:
            if not isinstance(value, str):
                raise ValueError
            return base64.b64decode(value, validate=True)
        except (ValueError, binascii.Error):
            raise ctx.fail("payload_base64", "payload_base64 is not valid base64") from None
    return None


def _metadata(raw: Any, ctx: _Ctx) -> tuple[tuple[str, str], ...]:
    if isinstance(raw, dict):
        pairs = list(raw.items())
    elif isinstance(raw, list) and all(isinstance(p, list) and len(p) == 2 for p in raw):
        pairs = [(p[0], p[1]) for p in raw]
    else:
        raise ctx.fail("metadata", 'metadata must be a table or a list of ["key", "value"] pairs')
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in pairs):
        raise ctx.fail("metadata", "metadata keys and values must be strings")
    return tuple((k, v) for k, v in pairs)


def _record_fields(raw: Any, ctx: _Ctx, key: str) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise ctx.fail(key, f'{key}: a record is a table like {{ id = "r1", payload = "..." }}')
    unknown = set(raw) - RECORD_KEYS
    if unknown:
        bad = sorted(unknown)[0]
        raise ctx.fail(
            bad, f"unknown record field `{bad}` (known: {', '.join(sorted(RECORD_KEYS))})"
        )
    out: dict[str, Any] = {}
    if "id" in raw:
        if not isinstance(raw["id"], str):
            raise ctx.fail("id", "id must be a string")
        out["id"] = raw["id"]
    if "timestamp" in raw:
        if not isinstance(raw["timestamp"], int) or isinstance(raw["timestamp"], bool):
            raise ctx.fail("timestamp", "timestamp must be an integer")
        out["timestamp"] = raw["timestamp"]
    payload = _payload(raw, ctx)
    if payload is not None:
        out["payload"] = payload
    if "metadata" in raw:
        out["metadata"] = _metadata(raw["metadata"], ctx)
    return out


def _input(raw: Any, n: int, case_name: str, ctx: _Ctx) -> Record:
    fields = _record_fields(raw, ctx, "input")
    return Record(
        id=fields.get("id", f"{n}"),
        timestamp=fields.get("timestamp", 0),
        payload=fields.get("payload", b""),
        metadata=fields.get("metadata", ()),
    )


def _error(raw: Any, ctx: _Ctx, key: str) -> ExpectedError:
    if isinstance(raw, str):
        raw = {"kind": raw}
    if not isinstance(raw, dict) or set(raw) - {"kind", "message"} or "kind" not in raw:
        raise ctx.fail(key, f'{key}: an error is "kind" or {{ kind = "...", message = "..." }}')
    if raw["kind"] not in ERROR_KINDS:
        raise ctx.fail(key, f"unknown error kind {raw['kind']!r} (one of {', '.join(ERROR_KINDS)})")
    message = raw.get("message")
    if message is not None and not isinstance(message, str):
        raise ctx.fail(key, "an error's message must be a string")
    return ExpectedError(raw["kind"], message)


def _outcome(raw: Any, tags: tuple[str, ...], ctx: _Ctx) -> Outcome:
    if not isinstance(raw, dict) or len(raw) != 1:
        choices = " | ".join(f"{{ {t} = ... }}" for t in tags)
        raise ctx.fail("expect", f"each expected result is one of {choices}")
    tag, value = next(iter(raw.items()))
    if tag not in tags:
        raise ctx.fail(tag, f"`{tag}` is not a result here (expected one of {', '.join(tags)})")
    if tag in ("emit", "ok"):
        return Outcome(tag, ExpectedRecord(_record_fields(value, ctx, tag)))
    if tag in ("split", "records"):
        if not isinstance(value, list):
            raise ctx.fail(tag, f"{tag} must be a list of records")
        return Outcome(tag, [ExpectedRecord(_record_fields(v, ctx, tag)) for v in value])
    if tag in ("failed", "error"):
        return Outcome(tag, _error(value, ctx, tag))
    if tag in ("skip", "none"):
        if value is not True:
            raise ctx.fail(tag, f"write {tag} = true")
        return Outcome(tag)
    if tag == "keep":
        if not isinstance(value, bool):
            raise ctx.fail(tag, "keep must be true or false")
        return Outcome(tag, value)
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:  # written
        raise ctx.fail(tag, f"{tag} must be a non-negative integer")
    return Outcome(tag, value)


def _outcomes(raw: Any, kind: str, ctx: _Ctx) -> list[Outcome]:
    shape, tags = OUTCOMES[kind]
    if shape == "one":
        return [_outcome(raw, tags, ctx)]
    if not isinstance(raw, list):
        raise ctx.fail("expect", "expect must be a list, one entry per result")
    return [_outcome(item, tags, ctx) for item in raw]


def discover(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.toml")) if folder.is_dir() else []
