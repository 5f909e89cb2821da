"""The one conversion between Arrow record batches and DataFlare `data-record`s.

Every stage of the Ray engine (`witgen.pipeline.ray_engine`), the dataset source and the Python
API (`PluginStage`) go through `to_records` and `from_records`; nothing else builds or reads the
columns. The schema (`SCHEMA`):

    id          string
    timestamp   int64                               (milliseconds since the Unix epoch)
    payload     binary                              (large_binary is accepted too)
    metadata    list<struct<key: string, value: string>>   (map<string, string> is accepted)

plus two optional columns the engine adds and that travel with each record:

    _window     int64   the source batch the record came from (the aggregator's window and the
                        unit a stage's `batch_size` chunks are cut from)
    _summary    bool    an aggregator summary on its way to the destination (written as
                        `generated`, outside the accounting, by the destination only)

Reading is lenient about what Arrow files written by other tools hold: a missing `id` becomes
the row number (`row-<n>`), a missing `timestamp` 0, a string `payload` its UTF-8 bytes, a
missing `metadata` an empty list. Writing always produces `SCHEMA` exactly.
"""

from __future__ import annotations

import importlib
from typing import Any, Callable, Sequence

pa: Any = importlib.import_module("pyarrow")  # an optional extra; untyped

METADATA_TYPE = pa.list_(pa.struct([("key", pa.string()), ("value", pa.string())]))
SCHEMA = pa.schema(
    [
        ("id", pa.string()),
        ("timestamp", pa.int64()),
        ("payload", pa.binary()),
        ("metadata", METADATA_TYPE),
    ]
)
WINDOW = "_window"
SUMMARY = "_summary"
ENGINE_SCHEMA = SCHEMA.append(pa.field(WINDOW, pa.int64())).append(pa.field(SUMMARY, pa.bool_()))

# A generated `DataRecord` class (or any callable taking id, timestamp, payload, metadata).
RecordType = Callable[..., Any]


def to_records(table: Any, record_type: RecordType) -> list[Any]:
    """The rows of `table` as `record_type(id, timestamp, payload, metadata)` values."""
    n = table.num_rows
    names = table.schema.names
    ids = _column(table, "id") if "id" in names else [f"row-{i}" for i in range(n)]
    stamps = _column(table, "timestamp") if "timestamp" in names else [0] * n
    payloads = _column(table, "payload") if "payload" in names else [b""] * n
    metas = _column(table, "metadata") if "metadata" in names else [None] * n
    out = []
    for rid, ts, payload, meta in zip(ids, stamps, payloads, metas):
        if isinstance(payload, str):
            payload = payload.encode("utf-8")
        out.append(
            record_type(
                id="" if rid is None else str(rid),
                timestamp=int(ts or 0),
                payload=b"" if payload is None else bytes(payload),
                metadata=_pairs(meta),
            )
        )
    return out


def from_records(
    records: Sequence[Any],
    windows: Sequence[int] | None = None,
    summary: Sequence[bool] | None = None,
) -> Any:
    """`records` as a table of `SCHEMA`; with `windows`, also the engine's two columns."""
    columns: list[Any] = [
        pa.array([r.id for r in records], pa.string()),
        pa.array([r.timestamp for r in records], pa.int64()),
        pa.array([bytes(r.payload) for r in records], pa.binary()),
        pa.array([[{"key": k, "value": v} for k, v in r.metadata] for r in records], METADATA_TYPE),
    ]
    if windows is None:
        return pa.Table.from_arrays(columns, schema=SCHEMA)
    flags = summary if summary is not None else [False] * len(records)
    columns += [pa.array(list(windows), pa.int64()), pa.array(list(flags), pa.bool_())]
    return pa.Table.from_arrays(columns, schema=ENGINE_SCHEMA)


def engine_columns(table: Any) -> tuple[list[int], list[bool]]:
    """The `_window` and `_summary` values of each row (0 and False where a column is absent)."""
    n = table.num_rows
    names = table.schema.names
    windows = [int(w or 0) for w in _column(table, WINDOW)] if WINDOW in names else [0] * n
    flags = [bool(s) for s in _column(table, SUMMARY)] if SUMMARY in names else [False] * n
    return windows, flags


def empty(engine: bool = True) -> Any:
    return (ENGINE_SCHEMA if engine else SCHEMA).empty_table()


def _column(table: Any, name: str) -> list[Any]:
    col = table.column(name)
    values: list[Any] = col.to_pylist()
    return values


def _pairs(meta: Any) -> list[tuple[str, str]]:
    """list<struct<key, value>> rows come as dicts, map<string, string> rows as tuples."""
    if not meta:
        return []
    out = []
    for item in meta:
        if isinstance(item, dict):
            out.append((str(item.get("key", "")), str(item.get("value", ""))))
        else:
            key, value = item
            out.append((str(key), str(value)))
    return out
