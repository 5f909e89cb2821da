"""The DataFlare runtime behind `witgen run`: pipeline files, plugin checks, lifecycle, metrics,
instance pools, hot reload and signatures. `FORMAT` documents the pipeline file."""

from __future__ import annotations

FORMAT = """\
Pipeline file (TOML). Paths are relative to the file.

  name = "example"             # optional (default: the file name)
  contract = "wit"             # optional: the WIT contract (default: witgen's dataflare:core)
  records = 10000              # optional: stop after this many source records
  batch_size = 100             # default for every stage
  instances = 1                # default for every stage
  hot_reload = true            # watch the components and swap changed ones (default true)
  fuse = true                  # fused stages (default true): consecutive processor / filter /
                               # transformer / destination stages on the fast path with the same
                               # batch_size and contract hand each batch over guest memory to
                               # guest memory (no Arrow batch between them); each stage keeps its
                               # own instance, store, limits, metrics and on_error policy. A batch
                               # leaves the fused path for the rest of its stages (and goes on
                               # unfused, with identical records and books) when a stage faults or
                               # gives a result other than emit / skip / keep / ok.

  [keys]                       # trusted Ed25519 public keys (`witgen sign --keygen`)
  release = "keys/release.pub"

  [[stage]]                    # in order: one source, then processor / filter /
  name = "read"                # transformer / aggregator stages, then one destination
  kind = "source"
  component = "plugins/source.wasm"
  config = { "source.count" = "1000" }  # served to the plugin by the config import
  batch_size = 500             # records per call
  instances = 1                # instance pool size (parallel calls); a source has one cursor
  on_error = "fail"            # fail | skip | dead-letter | retry
  retries = 3                  # with retry: attempts after the first ...
  then = "dead-letter"         # ... then fail (default) | skip | dead-letter
  dead_letter = "dlq"          # a [[dead_letter]] sink name, or a file ending in .jsonl
  key = "user"                 # aggregator only: one window per value of this metadata key
  checkpoint = 1               # streaming source under retry: batches between resume positions
  signed_by = ["release"]      # require a valid signature by one of these keys
  [stage.limits]
  memory = "64 MiB"            # linear memory per instance (bytes or "N KiB/MiB/GiB")
  fuel = 100000000             # instructions per call
  timeout = 0.5                # seconds per call
  [stage.wasi]                 # everything not granted is denied; network always is
  env = { TZ = "UTC" }
  dirs = { "data" = "/data" }            # host directory -> guest path, read-only
  writable_dirs = { "out" = "/out" }     # writable

  [[dead_letter]]              # a destination plugin that receives dead records
  name = "dlq"
  kind = "destination"
  component = "plugins/destination.wasm"

Faults (trap, timeout, memory limit, invalid value from the guest, a host import that raised)
recycle the instance; the batch then goes through `on_error` (with skip and dead-letter it is
split in halves until only the records that fault are set aside). Records a plugin reports as
failed (processor `failed`, transformer `err`) go through `on_error` one by one. Accounting:
records in (source records, plus the extra records splits make) = out + skipped (including
processor skips and filter drops) + failed + dead-lettered. A stage that faults after part of
its work took effect (a destination that wrote, then trapped) sees the records again when
they are retried or bisected: delivery to plugins is at least once, the accounting exact.

Streaming plugins (contract 1.1.0 or later, e.g. `contract = "examples/contract-1.1.0"`): a
`source` stage whose component exports `streaming-source` instead of `source`, or a
`destination` stage whose component exports `streaming-destination`, is run through that
interface (the kind stays `source` / `destination`; the component's exports decide). The source's
`read(position)` stream is cut into batches of `batch_size`; `records` and a stop drop the
stream, and the source's resume future is awaited. Under `retry` a fault (trap, timeout, garbage,
a stream the plugin ends with an error) recycles the instance and reads again from the last
position the source gave: at the start, and every `checkpoint` batches (the stream is dropped,
its resume position awaited, and a new stream read from there); records already delivered since
are read again, checked (same ids) and dropped, so none is lost or duplicated; a source that does
not replay them fails the run. Other policies fail the run on a source fault, as for a cursor.
Each destination batch is one `write` call whose stream carries the batch; its result (records
written durably) counts like write-batch's, and on_error applies to it the same way.
`limits.timeout` bounds every wait on a streaming plugin (a batch that does not come, a future
that never resolves); fuel and memory apply per entry into the guest. Streaming plugins run on
witgen's async host (no WASI) and never on the Arrow or fused path; `--engine ray` refuses them
(exit 2).

An aggregator's windows are the source batches: each batch's records (in chunks of the
aggregator's `batch_size`) go into an accumulator named `window-N`, or with `key` one per value
of that metadata key (`window-N/user=ada`); the summaries are written by the destination.

With `--engine ray`, a source stage's `component` may instead be a dataset file (`.parquet`,
`.jsonl`, `.arrow` or `.feather`), read as a Ray dataset: columns id, timestamp, payload,
metadata (witgen.pipeline.arrow_codec).
"""
