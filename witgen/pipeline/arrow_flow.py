"""Records as Arrow between the stages of `witgen run` (the local engine).

When numpy and pyarrow are installed and a stage's plugin runs on the fast path, the runtime
calls its batch function through the generated package's batch codec (`_batch.py`): the source's
`read-batch` result is lifted straight into a `pyarrow.RecordBatch`, and every later stage
lowers that batch into its guest memory without one Python object per record. Between stages
the records stay a `Rows` (a record batch that the runtime's policy code can still treat like a
list: `len`, slices, iteration as typed records). Only the rare paths make Python records:
records a plugin reports failed, records that go to a dead-letter file or sink, a keyed
aggregator's grouping, and stages on the generic path.

`Pipeline.arrow` switches it: None (the default) uses Arrow where it can, False never.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any, Iterator, Sequence

_deps: tuple[Any, Any] | None = None


def available() -> bool:
    """numpy and pyarrow are importable (the `ray` or `arrow` extra)."""
    global _deps
    if _deps is None:
        try:
            _deps = (importlib.import_module("numpy"), importlib.import_module("pyarrow"))
            importlib.import_module("pyarrow.compute")  # filter/take: loaded now, not mid-run
        except ImportError:
            _deps = (None, None)
    return _deps[0] is not None


def _np_pa() -> tuple[Any, Any]:
    assert available() and _deps is not None
    return _deps


class Codec:
    """The batch codec of one bindings package, and conversions for the rare paths."""

    def __init__(self, bindings: ModuleType) -> None:
        self.batch = importlib.import_module(bindings.__name__ + "._batch")
        self.abi = importlib.import_module(bindings.__name__ + "._abi")
        sig = self.abi.PROCESSOR__PROCESS_BATCH
        self.record = sig.params[0][1]  # the data-record descriptor
        self.results = sig.result[1]  # processing-result
        self.transformed = self.abi.TRANSFORMER__TRANSFORM_BATCH.result[1]
        self.type: Any = None

    def to_py(self, batch: Any) -> list[Any]:
        record = self.record
        typed = self.batch._typed
        return [typed(record, row) for row in batch.to_pylist()]

    def from_py(self, records: Sequence[Any]) -> Any:
        _, pa = _np_pa()
        if self.type is None:
            self.batch._deps()  # the batch module imports numpy and pyarrow on first use
            self.type = self.batch._arrow_type(self.record)
        d = self.record
        if d[0] != "record" or not records:
            rows = pa.array([_plain(d, r) for r in records], type=self.type)
            return pa.RecordBatch.from_struct_array(rows)
        # column by column: no dict per record, and plain fields (strings, numbers) as they are
        columns = {}
        for attr, _, fd in d[2]:
            values = [getattr(r, attr) for r in records]
            arrow = self.type.field(attr).type
            if _pairs(fd):  # a list of plain tuples (metadata): offsets and one column each
                columns[attr] = _list_of_tuples(pa, values, arrow)
                continue
            if fd[0] in ("record", "tuple", "list", "bytes"):
                values = [_plain(fd, v) for v in values]
            columns[attr] = pa.array(values, type=arrow)
        fields = list(self.type)
        return pa.RecordBatch.from_arrays(
            [columns[f.name] for f in fields], schema=pa.schema(fields)
        )


def _pairs(d: Any) -> bool:
    """A `list<tuple<string, ...>>` (metadata): built column-wise by `_list_of_tuples`."""
    return bool(d[0] == "list" and d[1][0] == "tuple" and all(fd[0] == "string" for fd in d[1][1]))


def _list_of_tuples(pa: Any, lists: Sequence[Any], arrow: Any) -> Any:
    """An Arrow list<struct<f0, f1, ...>> column from lists of tuples, built from flat columns."""
    offsets = [0]
    flat: list[Any] = []
    for value in lists:
        flat.extend(value)
        offsets.append(len(flat))
    struct_type = arrow.value_type
    width = struct_type.num_fields
    for t in flat:
        if len(t) != width:
            raise ValueError(f"a tuple of {len(t)} for a tuple of {width}")
    children = [
        pa.array([t[i] for t in flat], type=struct_type.field(i).type) for i in range(width)
    ]
    items = pa.StructArray.from_arrays(children, fields=list(struct_type))
    return pa.ListArray.from_arrays(pa.array(offsets, type=pa.int32()), items, type=arrow)


def _plain(d: Any, v: Any) -> Any:
    """A typed value as the plain Python Arrow takes (the inverse of `_batch._typed`)."""
    kind = d[0]
    if kind == "record":
        return {attr: _plain(fd, getattr(v, attr)) for attr, _, fd in d[2]}
    if kind == "tuple":
        return {f"f{i}": _plain(fd, x) for i, (fd, x) in enumerate(zip(d[1], v))}
    if kind == "list":
        return [_plain(d[1], x) for x in v]
    if kind == "bytes":
        return bytes(v)
    return v


_codecs: dict[str, Codec] = {}


def codec(bindings: ModuleType) -> Codec:
    found = _codecs.get(bindings.__name__)
    if found is None:
        found = _codecs[bindings.__name__] = Codec(bindings)
    return found


class Rows:
    """A record batch the runtime passes where it passes a list of records."""

    __slots__ = ("batch", "codec")

    def __init__(self, batch: Any, codec_: Codec) -> None:
        self.batch = batch
        self.codec = codec_

    def __len__(self) -> int:
        return int(self.batch.num_rows)

    def __bool__(self) -> bool:
        return bool(self.batch.num_rows > 0)

    def __getitem__(self, part: slice) -> Rows:
        start, stop, _ = part.indices(self.batch.num_rows)
        return Rows(self.batch.slice(start, max(0, stop - start)), self.codec)

    def __iter__(self) -> Iterator[Any]:
        return iter(self.codec.to_py(self.batch))

    def row(self, i: int) -> Any:
        return self.codec.to_py(self.batch.slice(i, 1))[0]


def usable(plugin: Any, arrow: bool | None) -> bool:
    """Whether `plugin`'s calls can take the batch path now."""
    if arrow is False or not available():
        return False
    prepared = plugin.prepared
    return prepared is not None and bool(prepared.mode == "core")


def join(parts: Sequence[Any]) -> Any:
    """Records out of several calls, in order: a list, or Rows when any part is Rows."""
    parts = [p for p in parts if len(p)]
    if not any(isinstance(p, Rows) for p in parts):
        out: list[Any] = []
        for p in parts:
            out.extend(p)
        return out
    first = next(p for p in parts if isinstance(p, Rows))
    if len(parts) == 1:
        return first
    _, pa = _np_pa()
    batches = [p.batch if isinstance(p, Rows) else first.codec.from_py(p) for p in parts]
    try:
        return Rows(pa.concat_batches(batches), first.codec)
    except (pa.ArrowInvalid, pa.ArrowTypeError):  # schemas that differ: Python records
        return [r for p in parts for r in p]


def _call(c: Codec, plugin: Any, sig_name: str, *args: Any) -> Any:
    """The batch variant of the plugin's function `sig_name` (a name in its `_abi`)."""
    return c.batch.call(plugin._instance, getattr(c.abi, sig_name), *args)


def read(codec_: Codec, plugin: Any, cursor: Any, want: int) -> Any:
    """`cursor.read_batch(want)` with the records as Rows (Ok/Err like the typed call)."""
    got = _call(codec_, plugin, "SOURCE__METHOD_CURSOR_READ_BATCH", cursor, want)
    value = getattr(got, "value", None)
    if type(got).__name__ == "Ok" and value is not None and not isinstance(value, list):
        return type(got)(Rows(value, codec_))
    return got


def attempt(pipeline: Any, stage: Any, rows: Rows, window: str, fault: Any) -> Any:
    """`Pipeline._attempt` for Rows: (records out, failed pairs), or None for the typed path."""
    sc = codec(stage.bindings)  # the stage's own bindings (its contract version)
    kind = stage.spec.kind
    batch = rows.batch
    n = len(rows)
    if kind == "processor":
        res = stage.call(
            n, lambda p: _same(_call(sc, p, "PROCESSOR__PROCESS_BATCH", batch), n, fault)
        )
    elif kind == "filter":
        res = stage.call(n, lambda p: _same(_call(sc, p, "FILTER__KEEP_BATCH", batch), n, fault))
    elif kind == "transformer":
        res = stage.call(
            n, lambda p: _same(_call(sc, p, "TRANSFORMER__TRANSFORM_BATCH", batch), n, fault)
        )
    elif kind == "destination":
        res = stage.call(n, lambda p: _call(sc, p, "DESTINATION__WRITE_BATCH", batch))
    else:
        res = None
    return settle(pipeline, stage, rows, res, window, fault)


def settle(pipeline: Any, stage: Any, rows: Any, res: Any, window: str, fault: Any) -> Any:
    """The books of one successful batch call: (records out, failed pairs) from `res` (the
    stage's batch result for the input `rows`), or None for the typed path. An aggregator is
    called here (`res` None)."""
    from witgen.pipeline.runtime import _describe, write_summaries, written_count  # (a cycle)

    np, pa = _np_pa()
    c = rows.codec
    b = stage.bindings
    sc = codec(b)
    kind = stage.spec.kind
    batch = rows.batch
    n = len(rows)
    failed: list[tuple[Any, Any]] = []
    if kind == "processor":
        cases = [name for name, *_ in c.results[1]]
        tags = c.batch.to_np(res.column("case").indices)
        emit, skip = tags == cases.index("emit"), tags == cases.index("skip")
        split, bad = tags == cases.index("split"), tags == cases.index("failed")
        skipped = int(skip.sum())
        if bool(emit.all()):
            out: Any = Rows(pa.RecordBatch.from_struct_array(res.column("emit")), c)
            extra = 0
        else:
            emitted = res.column("emit").filter(c.batch.bools(emit))
            lists = res.column("split")
            lengths = np.where(split, c.batch.to_np(lists.value_lengths().fill_null(0)), 0)
            parts = [emitted]
            if split.any():
                parts.append(lists.filter(c.batch.bools(split)).flatten())
            rows_of = np.concatenate([np.nonzero(emit)[0], np.repeat(np.arange(n), lengths)])
            order = np.argsort(rows_of, kind="stable")
            merged = pa.concat_arrays(parts).take(c.batch.num(order))
            out = Rows(pa.RecordBatch.from_struct_array(merged), c)
            extra = int(lengths.sum()) - int(split.sum())
            err_desc = dict((name, d) for name, _, d in c.results[1])["failed"]
            errors = res.column("failed")
            for i in np.nonzero(bad)[0]:
                error = c.batch._typed(err_desc, errors[int(i)].as_py())
                failed.append((rows.row(int(i)), error))
        pipeline.accounting.add(skipped=skipped, filtered=skipped, split_extra=extra)
    elif kind == "filter":
        keep = res
        out = Rows(batch.filter(keep), c)
        dropped = n - len(out)
        pipeline.accounting.add(skipped=dropped, filtered=dropped)
    elif kind == "transformer":
        ok = c.batch.to_np(res.column("case").indices) == 0
        good = res.column("ok")
        if not ok.all():
            good = good.filter(c.batch.bools(ok))
            err_desc = c.transformed[2]
            errors = res.column("err")
            for i in np.nonzero(~ok)[0]:
                error = c.batch._typed(err_desc, errors[int(i)].as_py())
                failed.append((rows.row(int(i)), error))
        out = Rows(pa.RecordBatch.from_struct_array(good), c)
    elif kind == "aggregator":
        if stage.spec.key is not None:
            return None  # grouping by a metadata value: the typed path

        def add(p: Any) -> list[Any]:
            with p.aggregator.accumulator(window) as acc:
                added = _call(sc, p, "AGGREGATOR__METHOD_ACCUMULATOR_ADD_BATCH", acc, batch)
                if isinstance(added, b.Err):
                    raise fault("plugin-error", _describe(added.value))
                summary = acc.emit()
            return [] if summary is None else [summary]

        summaries = stage.call(n, add)
        out = rows
        if summaries:
            with pipeline._fail_lock:
                pipeline._summaries.extend(summaries)
    elif kind == "destination":
        count = written_count(res, n, b)
        pipeline.accounting.add(out=count)
        stage.metrics.records_out += count
        write_summaries(stage, pipeline._take_summaries(), pipeline.accounting)
        return [], []
    else:
        return None
    stage.metrics.records_out += len(out)
    return out, failed


def _same(results: Any, n: int, fault: Any) -> Any:
    """The guest's answer, if it has one entry per record (else an invalid-value fault)."""
    if len(results) != n:
        raise fault("invalid-value", f"{len(results)} results for {n} records")
    return results
