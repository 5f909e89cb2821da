//! A streaming destination of `dataflare:core@1.1.0` (world `streaming-destination-plugin`) on
//! witgen's generated Rust SDK (tests/async/rust_source.py generates it): the async export
//! glue, the stream type of `write` (reading and lifting `data-record`s) and the async runtime
//! are the SDK's.
//!
//! `write(records)` reads the stream to its end and returns a digest of everything it received
//! (so the host can check each value arrived intact): the wrapping sum over the records of the
//! timestamp and the byte lengths of the id, the payload and every metadata key and value, plus
//! the bytes of the payloads.

use dataflare_streaming_sdk::async_rt::StreamReader;
use dataflare_streaming_sdk::streaming_destination_plugin::streaming_destination::{
    task_return_write, PluginInfo, StreamingDestination, WriteStream0,
};
use dataflare_streaming_sdk::streaming_destination_plugin::types::Capabilities;

struct Destination;

impl StreamingDestination for Destination {
    fn info() -> PluginInfo {
        PluginInfo {
            name: "rust-async-destination".to_string(),
            version: "0.1.0".to_string(),
            capabilities: Capabilities::empty(),
        }
    }

    async fn write(records: u32) {
        let mut reader = StreamReader::<WriteStream0>::from_handle(records);
        let mut digest: u64 = 0;
        while let Some(batch) = reader.next_batch(128).await {
            for r in batch {
                let mut d = (r.timestamp as u64)
                    .wrapping_add(r.id.len() as u64)
                    .wrapping_add(r.payload.len() as u64);
                for b in &r.payload {
                    d = d.wrapping_add(*b as u64);
                }
                for (k, v) in &r.metadata {
                    d = d.wrapping_add(k.len() as u64).wrapping_add(v.len() as u64);
                }
                digest = digest.wrapping_add(d);
            }
        }
        drop(reader);
        task_return_write(&Ok(digest));
    }
}

dataflare_streaming_sdk::export_streaming_destination_plugin!(Destination);
