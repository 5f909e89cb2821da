//! A streaming source of `dataflare:core@1.1.0` (world `streaming-source-plugin`) on witgen's
//! generated Rust SDK (tests/async/rust_source.py generates it): the async export glue, the
//! stream and future types of `read` and the async runtime are the SDK's.
//!
//! `read(position)` returns a stream of `data-record`s counting up from `position` until the host
//! drops the stream, and a future with the position to resume from.

use dataflare_streaming_sdk::async_rt::{FutureWriter, StreamWriter};
use dataflare_streaming_sdk::streaming_source_plugin::streaming_source::{
    task_return_read, DataRecord, PluginInfo, ReadFuture1, ReadStream0, StreamingSource,
};
use dataflare_streaming_sdk::streaming_source_plugin::types::Capabilities;

const BATCH: u64 = 256;

struct Source;

impl StreamingSource for Source {
    fn info() -> PluginInfo {
        PluginInfo {
            name: "rust-async-source".to_string(),
            version: "0.1.0".to_string(),
            capabilities: Capabilities::ORDERED,
        }
    }

    async fn read(position: u64) {
        let (records, mut writer) = StreamWriter::<ReadStream0>::new();
        let (resume, done) = FutureWriter::<ReadFuture1>::new();
        task_return_read(&(records, resume));
        let mut next = position;
        while !writer.is_closed() {
            let batch: Vec<DataRecord> = (next..next + BATCH)
                .map(|i| DataRecord {
                    id: format!("rec-{i}"),
                    timestamp: 1_700_000_000_000 + i as i64,
                    payload: i.to_le_bytes().to_vec(),
                    metadata: vec![("source".to_string(), "rust-async".to_string())],
                })
                .collect();
            next += writer.write_all(batch).await as u64;
        }
        drop(writer);
        done.write(Ok(next)).await;
    }
}

dataflare_streaming_sdk::export_streaming_source_plugin!(Source);
