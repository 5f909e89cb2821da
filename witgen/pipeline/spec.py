"""The pipeline file: TOML in, checked `PipelineSpec` out, every error at file:line.

The format is documented in `witgen.pipeline.FORMAT` (and the README). Syntax errors come from
`tomllib` with its line and column; semantic errors (an unknown key, a wrong type, a policy that
names a dead-letter sink that does not exist...) are located by `KeyLines`, which finds the line
that sets a key from the text itself, since `tomllib` keeps no positions.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from witgen.diagnostics import SourceCache, Span, WitError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

KINDS = ("source", "processor", "filter", "transformer", "aggregator", "destination")
MIDDLE_KINDS = ("processor", "filter", "transformer", "aggregator")
POLICIES = ("fail", "skip", "dead-letter", "retry")
AFTER_RETRY = ("fail", "skip", "dead-letter")

Path_ = tuple[str | int, ...]


class PipelineError(WitError):
    """A mistake in a pipeline file (exit status 2), shown at its file:line."""

    exit_code = 2


@dataclass(frozen=True)
class LimitsSpec:
    memory_bytes: int | None = 256 * 1024 * 1024
    fuel: int | None = None
    timeout: float | None = None  # seconds per call


@dataclass(frozen=True)
class WasiSpec:
    env: dict[str, str] = field(default_factory=dict)
    dirs: dict[str, str] = field(default_factory=dict)  # host path -> guest path (read-only)
    writable_dirs: dict[str, str] = field(default_factory=dict)  # host path -> guest path


@dataclass(frozen=True)
class PolicySpec:
    """What happens to records a stage could not handle."""

    action: str = "fail"  # fail | skip | dead-letter | retry
    retries: int = 0  # with retry: attempts after the first
    then: str = "fail"  # with retry: the action once the retries are used up
    dead_letter: str | None = None  # a sink name (`[[dead_letter]]`) or a .jsonl path

    @property
    def final(self) -> str:
        return self.then if self.action == "retry" else self.action


@dataclass(frozen=True)
class PluginSpec:
    """A plugin of the pipeline: a stage or a dead-letter destination."""

    name: str
    kind: str
    component: Path
    config: dict[str, str]
    limits: LimitsSpec
    wasi: WasiSpec
    signed_by: tuple[str, ...]  # names of trusted keys; empty: no signature required
    span: Span  # where the plugin is declared
    component_span: Span


@dataclass(frozen=True)
class StageSpec(PluginSpec):
    batch_size: int = 100
    instances: int = 1
    policy: PolicySpec = PolicySpec()
    key: str | None = None  # an aggregator's grouping key (a metadata key); None: global
    # a streaming source under retry: batches between two resume positions (checkpoints)
    checkpoint: int = 1


@dataclass(frozen=True)
class PipelineSpec:
    path: Path
    name: str
    contract: Path | None  # None: witgen's embedded contract
    records: int | None  # at most this many source records (None: until the source ends)
    stages: tuple[StageSpec, ...]
    dead_letters: dict[str, PluginSpec]
    keys: dict[str, Path]  # trusted public keys by name
    hot_reload: bool
    lines: KeyLines
    # consecutive fast-path plugin stages hand batches over guest to guest (witgen/pipeline/fusion.py)
    fuse: bool = True

    def span(self, *path: str | int) -> Span:
        return self.lines.span(path)


# ---------------------------------------------------------------------------- key lines


_HEADER = re.compile(r"^\s*(\[\[?)\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")
_KEY = re.compile(
    r"""^\s*((?:"[^"]*"|'[^']*'|[A-Za-z0-9_\-]+)(?:\s*\.\s*(?:"[^"]*"|'[^']*'|[A-Za-z0-9_\-]+))*)\s*="""
)
_PART = re.compile(r""""([^"]*)"|'([^']*)'|([A-Za-z0-9_\-]+)""")


def _parts(dotted: str) -> list[str]:
    return [a or b or c for a, b, c in _PART.findall(dotted)]


class KeyLines:
    """Line and column of every key the file sets, by its path (`("stage", 1, "kind")`).

    A key inside an inline table or a multi-line value is found at its parent's line.
    """

    def __init__(self, file: str, text: str) -> None:
        self.file = file
        self.where: dict[Path_, tuple[int, int]] = {}
        counts: dict[tuple[str, ...], int] = {}
        table: Path_ = ()
        depth = 0  # open brackets/braces of a value spanning lines
        for number, line in enumerate(text.splitlines(), start=1):
            if depth > 0:
                depth += _balance(line)
                continue
            header = _HEADER.match(line)
            if header and not _KEY.match(line):
                names = _parts(header[2])
                if header[1] == "[[":
                    key = tuple(names)
                    counts[key] = counts.get(key, -1) + 1
                    table = (*self._resolve(names[:-1], counts), names[-1], counts[key])
                else:
                    table = self._resolve(names, counts)
                col = line.index("[") + 1
                self.where.setdefault(table, (number, col))
                continue
            key_match = _KEY.match(line)
            if key_match:
                path = (*table, *_parts(key_match[1]))
                col = len(line) - len(line.lstrip()) + 1
                self.where.setdefault(path, (number, col))
                depth = max(0, _balance(line[key_match.end() :]))

    @staticmethod
    def _resolve(names: list[str], counts: dict[tuple[str, ...], int]) -> Path_:
        """`stage.limits` inside the last `[[stage]]` is ("stage", N, "limits")."""
        out: list[str | int] = []
        for i, name in enumerate(names):
            out.append(name)
            key = tuple(names[: i + 1])
            if key in counts:
                out.append(counts[key])
        return tuple(out)

    def span(self, path: Path_) -> Span:
        p = tuple(path)
        while p:
            if p in self.where:
                line, col = self.where[p]
                return Span(self.file, line, col)
            p = p[:-1]
        return Span(self.file, 1, 1)


def _balance(text: str) -> int:
    text = re.sub(r'"(?:\\.|[^"\\])*"|\'[^\']*\'', "", text.split("#", 1)[0])
    return text.count("[") + text.count("{") - text.count("]") - text.count("}")


# ---------------------------------------------------------------------------- reading


_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([KMG]i?B?|B)?\s*$", re.I)
_UNITS = {"": 1, "b": 1, "k": 1000, "kb": 1000, "kib": 1024, "ki": 1024}
_UNITS |= {"m": 10**6, "mb": 10**6, "mib": 2**20, "mi": 2**20}
_UNITS |= {"g": 10**9, "gb": 10**9, "gib": 2**30, "gi": 2**30}


class _Reader:
    def __init__(self, lines: KeyLines) -> None:
        self.lines = lines

    def fail(self, path: Path_, message: str) -> PipelineError:
        return PipelineError(message, self.lines.span(path))

    def table(self, data: dict[str, Any], path: Path_, allowed: tuple[str, ...]) -> None:
        for key in data:
            if key not in allowed:
                hint = f"; expected one of: {', '.join(allowed)}"
                raise self.fail((*path, key), f"unknown key `{_dotted(path, key)}`{hint}")

    def get(
        self, data: dict[str, Any], path: Path_, key: str, kind: type | tuple[type, ...]
    ) -> Any:
        value = data.get(key)
        if value is None:
            return None
        kinds = kind if isinstance(kind, tuple) else (kind,)
        if isinstance(value, bool) and bool not in kinds:
            ok = False
        else:
            ok = isinstance(value, kinds)
        if not ok:
            names = " or ".join(_type_word(k) for k in kinds)
            raise self.fail(
                (*path, key),
                f"`{_dotted(path, key)}` must be {names}, not {_type_word(type(value))}",
            )
        return value

    def positive(self, data: dict[str, Any], path: Path_, key: str, default: int) -> int:
        value = self.get(data, path, key, int)
        if value is None:
            return default
        if value < 1:
            raise self.fail((*path, key), f"`{_dotted(path, key)}` must be at least 1")
        return int(value)

    def strings(self, data: dict[str, Any], path: Path_, key: str) -> dict[str, str]:
        table = self.get(data, path, key, dict) or {}
        out: dict[str, str] = {}
        for k, v in table.items():
            if isinstance(v, bool) or not isinstance(v, (str, int, float)):
                raise self.fail(
                    (*path, key, k), f"`{_dotted(path, key)}.{k}` must be a string or a number"
                )
            out[str(k)] = v if isinstance(v, str) else str(v)
        return out


def _dotted(path: Path_, key: str) -> str:
    parts = [p for p in path if isinstance(p, str)]
    return ".".join([*parts, key])


def _type_word(kind: type) -> str:
    return {
        str: "a string",
        int: "an integer",
        float: "a number",
        bool: "true or false",
        dict: "a table",
        list: "an array",
    }.get(kind, kind.__name__)


def load(path: Path) -> PipelineSpec:
    """Read and check a pipeline file; `PipelineError` (exit 2) at file:line on any mistake."""
    shown = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise PipelineError(f"no such pipeline file: {shown}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise PipelineError(f"cannot read pipeline file {shown}: {exc}") from None
    SourceCache.remember(shown, text)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        # Python 3.14 sets lineno/colno; earlier versions only say it in the message.
        line = getattr(exc, "lineno", None)
        col = getattr(exc, "colno", None)
        found = re.search(r"\(at line (\d+), column (\d+)\)", str(exc))
        if found and not (line and col):
            line, col = int(found[1]), int(found[2])
        if line is None and "end of document" in str(exc):
            line = max(1, len(text.splitlines()))
            col = len(text.splitlines()[-1]) + 1 if text.splitlines() else 1
        message = re.sub(r"\s*\(at (line \d+, column \d+|end of document)\)", "", str(exc))
        span = Span(shown, line, col) if line and col else None
        raise PipelineError(f"invalid TOML: {message}", span) from None
    return _build(path, shown, data, KeyLines(shown, text))


TOP_KEYS: tuple[str, ...] = ("name", "contract", "records", "batch_size", "instances", "hot_reload")
TOP_KEYS += ("keys", "stage", "dead_letter", "fuse")
PLUGIN_KEYS: tuple[str, ...] = (
    "name",
    "kind",
    "component",
    "config",
    "limits",
    "wasi",
    "signed_by",
)
STAGE_KEYS: tuple[str, ...] = PLUGIN_KEYS + (
    "batch_size",
    "instances",
    "on_error",
    "retries",
    "then",
)
STAGE_KEYS += ("dead_letter", "key", "checkpoint")


def _build(path: Path, shown: str, data: dict[str, Any], lines: KeyLines) -> PipelineSpec:
    r = _Reader(lines)
    base = path.parent
    r.table(data, (), TOP_KEYS)
    name = r.get(data, (), "name", str) or path.stem
    contract_text = r.get(data, (), "contract", str)
    contract = None if contract_text is None else base / contract_text
    if contract is not None and not contract.exists():
        raise r.fail(("contract",), f"contract `{contract_text}` does not exist")
    records = r.get(data, (), "records", int)
    if records is not None and records < 0:
        raise r.fail(("records",), "`records` must not be negative")
    batch_default = r.positive(data, (), "batch_size", 100)
    instances_default = r.positive(data, (), "instances", 1)
    hot_reload = r.get(data, (), "hot_reload", bool)
    fuse = r.get(data, (), "fuse", bool)

    keys: dict[str, Path] = {}
    for key_name, key_path in (r.get(data, (), "keys", dict) or {}).items():
        if not isinstance(key_path, str):
            raise r.fail(("keys", key_name), f"`keys.{key_name}` must be a path (a string)")
        keys[key_name] = base / key_path
        if not keys[key_name].is_file():
            raise r.fail(("keys", key_name), f"public key file `{key_path}` does not exist")

    sinks_raw = r.get(data, (), "dead_letter", list) or []
    dead_letters: dict[str, PluginSpec] = {}
    for i, raw in enumerate(sinks_raw):
        where: Path_ = ("dead_letter", i)
        if not isinstance(raw, dict):
            raise r.fail(where, "`[[dead_letter]]` entries must be tables")
        r.table(raw, where, PLUGIN_KEYS)
        plugin = _plugin(r, raw, where, base, keys, f"dead-letter {i + 1}")
        if plugin.kind != "destination":
            raise r.fail((*where, "kind"), "a dead-letter sink must be a `destination` plugin")
        if plugin.name in dead_letters:
            raise r.fail((*where, "name"), f"two dead-letter sinks are named `{plugin.name}`")
        dead_letters[plugin.name] = plugin

    stages_raw = r.get(data, (), "stage", list)
    if not stages_raw:
        raise PipelineError(
            "the pipeline has no stages: add `[[stage]]` tables (a source first, a "
            "destination last)",
            Span(shown, 1, 1),
        )
    stages: list[StageSpec] = []
    for i, raw in enumerate(stages_raw):
        where = ("stage", i)
        if not isinstance(raw, dict):
            raise r.fail(where, "`[[stage]]` entries must be tables")
        r.table(raw, where, STAGE_KEYS)
        plugin = _plugin(r, raw, where, base, keys, f"stage {i + 1}")
        batch = r.positive(raw, where, "batch_size", batch_default)
        instances = r.positive(raw, where, "instances", instances_default)
        policy = _policy(r, raw, where, base, dead_letters)
        key = r.get(raw, where, "key", str)
        if key is not None and plugin.kind != "aggregator":
            raise r.fail((*where, "key"), "`key` (the grouping key) only applies to an aggregator")
        checkpoint = r.positive(raw, where, "checkpoint", 1)
        if "checkpoint" in raw and plugin.kind != "source":
            raise r.fail(
                (*where, "checkpoint"), "`checkpoint` only applies to a (streaming) source"
            )
        stages.append(
            StageSpec(
                **{f: getattr(plugin, f) for f in PluginSpec.__dataclass_fields__},
                batch_size=batch,
                instances=instances,
                policy=policy,
                key=key,
                checkpoint=checkpoint,
            )
        )
    _check_order(r, stages)
    names = [s.name for s in stages] + list(dead_letters)
    for i, s in enumerate(stages):
        if names.count(s.name) > 1:
            raise r.fail(("stage", i, "name"), f"two plugins are named `{s.name}`")
    return PipelineSpec(
        path=path,
        name=name,
        contract=contract,
        records=records,
        stages=tuple(stages),
        dead_letters=dead_letters,
        keys=keys,
        hot_reload=True if hot_reload is None else hot_reload,
        lines=lines,
        fuse=True if fuse is None else fuse,
    )


def _plugin(
    r: _Reader,
    raw: dict[str, Any],
    where: Path_,
    base: Path,
    keys: dict[str, Path],
    fallback_name: str,
) -> PluginSpec:
    kind = r.get(raw, where, "kind", str)
    if kind is None:
        raise r.fail(where, f"`kind` is missing; one of: {', '.join(KINDS)}")
    if kind not in KINDS:
        raise r.fail((*where, "kind"), f"unknown kind `{kind}`; one of: {', '.join(KINDS)}")
    name = r.get(raw, where, "name", str) or (kind if where[0] == "stage" else fallback_name)
    component_text = r.get(raw, where, "component", str)
    if component_text is None:
        raise r.fail(where, f"`component` (the plugin's .wasm file) is missing for `{name}`")
    signed = r.get(raw, where, "signed_by", (str, list))
    signed_by = (signed,) if isinstance(signed, str) else tuple(signed or ())
    for key in signed_by:
        if not isinstance(key, str) or key not in keys:
            known = ", ".join(keys) or "none is listed in [keys]"
            raise r.fail((*where, "signed_by"), f"unknown trusted key `{key}` (known: {known})")
    return PluginSpec(
        name=name,
        kind=kind,
        component=base / component_text,
        config=r.strings(raw, where, "config"),
        limits=_limits(r, raw, where),
        wasi=_wasi(r, raw, where, base),
        signed_by=signed_by,
        span=r.lines.span(where),
        component_span=r.lines.span((*where, "component")),
    )


def _limits(r: _Reader, raw: dict[str, Any], where: Path_) -> LimitsSpec:
    table = r.get(raw, where, "limits", dict) or {}
    here = (*where, "limits")
    r.table(table, here, ("memory", "fuel", "timeout"))
    memory = _size(r, table, here, "memory")
    fuel = r.get(table, here, "fuel", int)
    if fuel is not None and fuel < 1:
        raise r.fail((*here, "fuel"), "`limits.fuel` must be at least 1")
    timeout = r.get(table, here, "timeout", (int, float))
    if timeout is not None and timeout <= 0:
        raise r.fail((*here, "timeout"), "`limits.timeout` (seconds per call) must be positive")
    return LimitsSpec(
        memory_bytes=memory if memory is not None else LimitsSpec.memory_bytes,
        fuel=fuel,
        timeout=None if timeout is None else float(timeout),
    )


def _size(r: _Reader, table: dict[str, Any], here: Path_, key: str) -> int | None:
    value = r.get(table, here, key, (int, str))
    if value is None:
        return None
    if isinstance(value, int):
        size = value
    else:
        m = _SIZE.match(value)
        unit = (m[2] or "").lower() if m else ""
        if m is None or unit not in _UNITS:
            raise r.fail(
                (*here, key), f'`limits.{key}`: cannot read `{value}` as a size (e.g. "64 MiB")'
            )
        size = int(float(m[1]) * _UNITS[unit])
    if size < 65536:
        raise r.fail((*here, key), f"`limits.{key}` must be at least 64 KiB (one wasm page)")
    return size


def _wasi(r: _Reader, raw: dict[str, Any], where: Path_, base: Path) -> WasiSpec:
    table = r.get(raw, where, "wasi", dict) or {}
    here = (*where, "wasi")
    r.table(table, here, ("env", "dirs", "writable_dirs", "network"))
    network = r.get(table, here, "network", bool)
    if network:
        raise r.fail(
            (*here, "network"), "network access cannot be granted: plugins run without network"
        )
    dirs: dict[str, dict[str, str]] = {}
    for key in ("dirs", "writable_dirs"):
        dirs[key] = {}
        for host, guest in r.strings(table, here, key).items():
            host_path = base / host
            if not host_path.is_dir():
                raise r.fail((*here, key, host), f"`wasi.{key}`: `{host}` is not a directory")
            dirs[key][str(host_path)] = guest
    return WasiSpec(
        env=r.strings(table, here, "env"),
        dirs=dirs["dirs"],
        writable_dirs=dirs["writable_dirs"],
    )


def _policy(
    r: _Reader, raw: dict[str, Any], where: Path_, base: Path, sinks: dict[str, PluginSpec]
) -> PolicySpec:
    action = r.get(raw, where, "on_error", str) or "fail"
    if action not in POLICIES:
        raise r.fail(
            (*where, "on_error"), f"unknown on_error `{action}`; one of: {', '.join(POLICIES)}"
        )
    retries = r.get(raw, where, "retries", int)
    then = r.get(raw, where, "then", str)
    if action == "retry":
        if retries is None or retries < 1:
            raise r.fail(
                (*where, "retries" if retries is not None else "on_error"),
                '`on_error = "retry"` needs `retries` (at least 1)',
            )
        then = then or "fail"
        if then not in AFTER_RETRY:
            raise r.fail(
                (*where, "then"), f"unknown `then` `{then}`; one of: {', '.join(AFTER_RETRY)}"
            )
    else:
        for key, value in (("retries", retries), ("then", then)):
            if value is not None:
                raise r.fail((*where, key), f'`{key}` only applies to `on_error = "retry"`')
        then = "fail"
    target = r.get(raw, where, "dead_letter", str)
    final = then if action == "retry" else action
    if final == "dead-letter":
        if target is None:
            raise r.fail(
                (*where, "on_error"),
                "dead-lettering needs `dead_letter`: a `[[dead_letter]]` sink name or a .jsonl file",
            )
        if target not in sinks:
            if not target.endswith(".jsonl"):
                known = ", ".join(sinks) or "none is declared"
                raise r.fail(
                    (*where, "dead_letter"),
                    f'`dead_letter = "{target}"` is neither a `[[dead_letter]]` sink '
                    f"(declared: {known}) nor a .jsonl file",
                )
            target = str(base / target)
    elif target is not None:
        raise r.fail((*where, "dead_letter"), "`dead_letter` needs a dead-letter policy")
    return PolicySpec(action=action, retries=retries or 0, then=then, dead_letter=target)


def _check_order(r: _Reader, stages: list[StageSpec]) -> None:
    if stages[0].kind != "source":
        raise r.fail(("stage", 0, "kind"), "the first stage must be a `source`")
    if len(stages) < 2 or stages[-1].kind != "destination":
        last = len(stages) - 1
        raise r.fail(("stage", last, "kind"), "the last stage must be a `destination`")
    for i, s in enumerate(stages[1:-1], start=1):
        if s.kind not in MIDDLE_KINDS:
            raise r.fail(
                ("stage", i, "kind"),
                f"a `{s.kind}` can only be the {'first' if s.kind == 'source' else 'last'} "
                "stage; between them: " + ", ".join(MIDDLE_KINDS),
            )
