//! A streaming source of `dataflare:core@1.1.0` (world `streaming-source-plugin`): it exports
//! `streaming-source.read`, so `witgen run` streams its records instead of calling read-batch.
//!
//! `read(position)` returns a stream of records `rec-<i>` for i = position, position + 1, ...
//! (timestamp 1_700_000_000_000 + i, payload i as 8 little-endian bytes, one metadata pair) and
//! a future with the position to resume from, written when the stream ends: when
//! `source.count` records have been given (none: never) or when the host drops the stream.
//!
//! Configuration (the pipeline file's `config`), besides `source.count`; the others make faults
//! for tests of the runtime:
//! - `source.trap-every = K`: an instance traps after writing K records (a transient fault:
//!   a fresh instance resumed at the last position goes on);
//! - `source.stall-at = N`: the stream stops at record N and never ends (a `limits.timeout`);
//! - `source.error-at = N`: the stream ends at record N and the future reports an error.

use core::cell::Cell;

use dataflare_streaming_sdk::async_rt::{FutureWriter, StreamWriter};
use dataflare_streaming_sdk::streaming_source_plugin::config;
use dataflare_streaming_sdk::streaming_source_plugin::streaming_source::{
    task_return_read, DataRecord, PluginError, PluginInfo, ReadFuture1, ReadStream0,
    StreamingSource,
};
use dataflare_streaming_sdk::streaming_source_plugin::types::{Capabilities, ErrorKind};

const CHUNK: u64 = 128;
const BASE_TS: i64 = 1_700_000_000_000;

struct Source;

thread_local! {
    /// Records this instance has written (for `source.trap-every`).
    static WRITTEN: Cell<u64> = const { Cell::new(0) };
}

fn setting(key: &str) -> Option<u64> {
    config::get(key).and_then(|v| v.trim().parse().ok())
}

fn record(i: u64) -> DataRecord {
    DataRecord {
        id: format!("rec-{i}"),
        timestamp: BASE_TS + i as i64,
        payload: i.to_le_bytes().to_vec(),
        metadata: vec![("source".to_string(), "rust-streaming".to_string())],
    }
}

impl StreamingSource for Source {
    fn info() -> PluginInfo {
        PluginInfo {
            name: "rust-streaming-source".to_string(),
            version: "0.1.0".to_string(),
            capabilities: Capabilities::ORDERED,
        }
    }

    async fn read(position: u64) {
        let (records, mut writer) = StreamWriter::<ReadStream0>::new();
        let (resume, done) = FutureWriter::<ReadFuture1>::new();
        task_return_read(&(records, resume));
        let count = setting("source.count").unwrap_or(u64::MAX);
        let trap_every = setting("source.trap-every");
        let stall_at = setting("source.stall-at");
        let error_at = setting("source.error-at");
        let mut next = position;
        while !writer.is_closed() && next < count {
            if stall_at == Some(next) {
                core::future::pending::<()>().await;
            }
            if error_at == Some(next) {
                drop(writer);
                let error = PluginError {
                    kind: ErrorKind::Unavailable,
                    message: format!("the source failed at record {next}"),
                    record_id: None,
                };
                done.write(Err(error)).await;
                return;
            }
            let mut end = (next + CHUNK).min(count);
            for limit in [stall_at, error_at].into_iter().flatten() {
                if limit > next {
                    end = end.min(limit);
                }
            }
            if let Some(k) = trap_every {
                let left = k.saturating_sub(WRITTEN.with(Cell::get));
                if left == 0 {
                    panic!("trap after {k} records (source.trap-every)");
                }
                end = end.min(next + left);
            }
            let taken = writer.write_all((next..end).map(record).collect()).await as u64;
            WRITTEN.with(|w| w.set(w.get() + taken));
            next += taken;
        }
        drop(writer);
        done.write(Ok(next)).await;
    }
}

dataflare_streaming_sdk::export_streaming_source_plugin!(Source);
