"""Fused stages: consecutive plugin stages hand batches over guest memory to guest memory.

With `fuse = true` (the default) in the pipeline file, a run of consecutive processor, filter,
transformer and destination stages whose plugins are on the fast path (same contract bindings,
same `batch_size`, Arrow available) is driven here instead of stage by stage. A stage's
`list<data-record>` result is not lifted into an Arrow batch: its records stay in the guest that
produced them (`_batch.call_raw`, post-return deferred) and the next stage's call copies them
from that guest's memory into its own (`_batch.GuestRows`: element bytes kept, pointers
rewritten, strings validated, one gather trip per field), then the first guest's post-return
runs and its instance returns to its pool.

Measured on the example Rust plugins (processor -> filter -> transformer -> destination, 1000
records a call, alternating runs on a shared 2-core machine): 13-30% less time per record than
the same calls with an Arrow batch between the stages (`benchmarks/batch_bench.py` prints
`witgen run` both ways, where the machine's load often hides the difference). Composing the
stages into one component was not taken: the fast path runs one core module per store, and a
composed component would run on the generic path, whose value conversion costs ~250 us a
record.

What fusion changes, and what it does not:
* every stage keeps its own instance pool, store, limits (fuel, memory, timeout), metrics
  (calls, time of its own call, records in and out, errors) and `on_error` policy;
* a stage's instance stays checked out until the next stage has copied its records (a few
  hundred microseconds later);
* a batch leaves the fused path, for the stage where it happens and every stage after it, when
  a stage faults (its policy then runs as unfused: remaining retries, halving, skip,
  dead-letter, fail) or gives a result other than emit / skip (processor), keep (filter) or ok
  (transformer): that result is lifted to Arrow and settled by `arrow_flow.settle`, exactly as
  without fusion. Records and books are the same either way.
"""

from __future__ import annotations

import time
from typing import Any, Sequence

from witgen.pipeline import arrow_flow
from witgen.pipeline.lifecycle import Event

FUSABLE = ("processor", "filter", "transformer", "destination")
_SIGS = {
    "processor": "PROCESSOR__PROCESS_BATCH",
    "filter": "FILTER__KEEP_BATCH",
    "transformer": "TRANSFORMER__TRANSFORM_BATCH",
    "destination": "DESTINATION__WRITE_BATCH",
}
_RECORDS_CASE = {"processor": "emit", "transformer": "ok"}


def runs(pipeline: Any, stages: Sequence[Any]) -> list[tuple[int, int]]:
    """(start, end) of each run of two or more consecutive stages that can be fused."""
    fuse = getattr(pipeline, "fuse", None)  # a Pipeline attribute overrides the file
    if fuse is None:
        fuse = getattr(pipeline.spec, "fuse", True)
    if not fuse or not arrow_flow.available():
        return []
    found: list[tuple[int, int]] = []
    start = 0
    for i in range(1, len(stages) + 1):
        if i < len(stages) and _joins(pipeline, stages[i - 1], stages[i]):
            continue
        if i - start >= 2:
            found.append((start, i))
        start = i
    return found


def _joins(pipeline: Any, a: Any, b: Any) -> bool:
    return (
        a.spec.kind in FUSABLE
        and a.spec.kind != "destination"
        and b.spec.kind in FUSABLE
        and a.bindings is b.bindings
        and a.spec.batch_size == b.spec.batch_size
        and arrow_flow.usable(a, pipeline.arrow)
        and arrow_flow.usable(b, pipeline.arrow)
    )


class _Held:
    """One instance of a stage checked out for a call whose result the next stage still
    reads; the bookkeeping of `Plugin.call` (metrics, fault events, recycling)."""

    def __init__(self, stage: Any, records: int) -> None:
        self.stage = stage
        self.records = records
        try:
            self.gen, self.inst = stage.acquire()
        except Exception:
            stage.metrics.call(0.0, records, True)
            raise

    def run(self, fn: Any) -> Any:
        from witgen.pipeline.runtime import _classify  # (a cycle)

        stage = self.stage
        start = time.perf_counter()
        try:
            result = fn(self.inst)
        except BaseException as exc:
            stage.metrics.call(time.perf_counter() - start, self.records, True)
            stage.release(self.gen, self.inst, broken=True)
            self.inst = None
            fault = _classify(exc, stage.bindings)
            stage.lifecycle.emit(Event("fault", stage.spec.name, reason=str(fault), at=time.time()))
            raise fault from None
        stage.metrics.call(time.perf_counter() - start, self.records, False)
        return result

    def done(self) -> None:
        if self.inst is not None:
            self.stage.release(self.gen, self.inst)
            self.inst = None


class _Carry:
    """The records between two fused stages: Arrow Rows, or GuestRows held in a guest (with
    the raw result and the instance that must outlive the next call)."""

    def __init__(
        self,
        rows: Any,
        raw: Any = None,
        held: _Held | None = None,
        codec: arrow_flow.Codec | None = None,
    ) -> None:
        self.rows = rows
        self.raw = raw
        self.held = held
        self.as_rows_codec: arrow_flow.Codec = rows.codec if codec is None else codec

    def __len__(self) -> int:
        return len(self.rows)

    def free(self) -> None:
        """Runs the holding guest's post-return and returns its instance."""
        if self.raw is not None:
            raw, self.raw = self.raw, None
            try:
                raw.release()
            finally:
                if self.held is not None:
                    self.held.done()
        elif self.held is not None:
            self.held.done()
        self.held = None

    def as_rows(self, codec: arrow_flow.Codec) -> arrow_flow.Rows:
        """The records as Arrow Rows (lifted from the guest if they are still there)."""
        if isinstance(self.rows, arrow_flow.Rows):
            return self.rows
        guest = self.rows
        _, pa = arrow_flow._np_pa()
        lifted = codec.batch._lift(guest.rt, guest.desc, guest.rows, 0)
        return arrow_flow.Rows(pa.RecordBatch.from_struct_array(lifted), codec)


def push(pipeline: Any, stages: Sequence[Any], rows: arrow_flow.Rows, window: str) -> Any:
    """Records out of the fused run `stages` for the Arrow `rows` (at most one batch_size)."""
    carry = _Carry(rows)
    try:
        for i, stage in enumerate(stages):
            if not len(carry):
                return []
            step = _step(pipeline, stage, carry, window, last=i + 1 == len(stages))
            if not isinstance(step, _Carry):  # settled the unfused way: the rest goes unfused
                return _after(pipeline, stages[i + 1 :], step, window)
            carry = step
        return []
    finally:
        carry.free()


def _step(pipeline: Any, stage: Any, carry: _Carry, window: str, last: bool) -> Any:
    """One stage of a fused run: the next _Carry, or the records out (already settled)."""
    from witgen.pipeline.runtime import Fault  # (a cycle)

    codec = carry.as_rows_codec
    kind = stage.spec.kind
    sc = arrow_flow.codec(stage.bindings)
    sig = getattr(sc.abi, _SIGS[kind])
    n = len(carry)
    arg = carry.rows.batch if isinstance(carry.rows, arrow_flow.Rows) else carry.rows
    keep_raw = kind in _RECORDS_CASE and not last

    def raw_call(p: Any) -> Any:
        raw = sc.batch.call_raw(p._instance, sig, arg)
        if raw.count() != n:
            raw.release()
            raise Fault("invalid-value", f"{raw.count()} results for {n} records")
        return raw

    def call(p: Any) -> Any:
        got = sc.batch.call(p._instance, sig, arg)
        if kind != "destination" and len(got) != n:
            raise Fault("invalid-value", f"{len(got)} results for {n} records")
        return got

    try:
        held = _Held(stage, n)
        got = held.run(raw_call if keep_raw else call)
        return _answer(pipeline, stage, carry, got, held, window, last, keep_raw)
    except Fault as fault:  # the call or its answer: the stage's policy, as `_through` does
        rest = _unfused(pipeline, stage, carry.as_rows(codec), window, fault)
        carry.free()
        return rest


def _answer(
    pipeline: Any,
    stage: Any,
    carry: _Carry,
    got: Any,
    held: _Held,
    window: str,
    last: bool,
    keep_raw: bool,
) -> Any:
    """The books of a stage's answer `got`: the next _Carry, or the records out (settled)."""
    np, _ = arrow_flow._np_pa()
    codec = carry.as_rows_codec
    kind = stage.spec.kind
    sc = arrow_flow.codec(stage.bindings)
    n = len(carry)
    if not keep_raw:
        # the result is in Python now: the instance goes back before the policy code runs
        # (which may call this stage again, e.g. retrying a failed record)
        held.done()
        if kind == "destination":  # the books of `arrow_flow.settle`, without lifting
            from witgen.pipeline.runtime import write_summaries, written_count

            count = written_count(got, n, stage.bindings)
            pipeline.accounting.add(out=count)
            stage.metrics.records_out += count
            write_summaries(stage, pipeline._take_summaries(), pipeline.accounting)
            return []
        if kind == "filter" and not last:
            keep = np.asarray(got, dtype=bool)
            kept = int(keep.sum())
            pipeline.accounting.add(skipped=n - kept, filtered=n - kept)
            stage.metrics.records_out += kept
            return _select(carry, keep, codec)
        return _settle(pipeline, stage, carry, got, window, codec)  # the run's last stage
    raw = got
    try:
        elements = raw.elements()
        tags = raw.tags(elements)
        cases = [name for name, _ in sc.batch._cases(raw.desc[1])]
        wanted = _RECORDS_CASE[kind]
        emit = tags == cases.index(wanted)
        skip = tags == cases.index("skip") if kind == "processor" else np.zeros(n, bool)
        if not bool((emit | skip).all()):
            res = raw.lift()
            raw.release()
            held.done()
            return _settle(pipeline, stage, carry, res, window, codec)
    except BaseException:
        raw.release()
        held.done()
        raise
    skipped = int(skip.sum())
    if skipped:
        pipeline.accounting.add(skipped=skipped, filtered=skipped)
    stage.metrics.records_out += n - skipped
    guest = raw.case_rows(elements, emit, wanted)
    carry.free()  # this call copied the previous guest's records
    return _Carry(guest, raw, held, codec)


def _select(carry: _Carry, keep: Any, codec: arrow_flow.Codec) -> _Carry:
    """The kept records of `carry` (still where they are)."""
    rows = carry.rows
    if isinstance(rows, arrow_flow.Rows):
        return _Carry(arrow_flow.Rows(rows.batch.filter(codec.batch.bools(keep)), codec))
    picked = type(rows)(rows.rt, rows.desc, rows.rows[keep], rows.release)
    selected = _Carry(picked, carry.raw, carry.held, codec)
    carry.raw = carry.held = None  # handed over: freed with the selection
    return selected


def _settle(
    pipeline: Any, stage: Any, carry: _Carry, res: Any, window: str, codec: arrow_flow.Codec
) -> Any:
    """Records out of a stage's result the unfused way (failed records by the policy)."""
    from witgen.pipeline.runtime import Fault  # (a cycle)

    rows = carry.as_rows(codec)
    settled = arrow_flow.settle(pipeline, stage, rows, res, window, Fault)
    out, failed = settled
    if failed:
        out = arrow_flow.join([out, pipeline._record_errors(stage, failed, window)])
    return out


def _unfused(pipeline: Any, stage: Any, rows: Any, window: str, fault: Any) -> Any:
    """What `Pipeline._through` gives after its first attempt faulted with `fault`."""
    from witgen.pipeline.runtime import Fault  # (a cycle)

    policy = stage.spec.policy
    last = fault
    for _ in range(policy.retries if policy.action == "retry" else 0):
        try:
            return pipeline._call(stage, rows, window)
        except Fault as again:
            last = again
    return pipeline._give_up(stage, rows, window, last)


def _after(pipeline: Any, stages: Sequence[Any], records: Any, window: str) -> Any:
    """The remaining stages, unfused (as `Pipeline._push` runs them)."""
    from witgen.pipeline.runtime import _chunks  # (a cycle)

    for stage in stages:
        if not records:
            return []
        parts = [
            pipeline._through(stage, chunk, window)
            for chunk in _chunks(records, stage.spec.batch_size)
        ]
        records = arrow_flow.join(parts)
    return records
