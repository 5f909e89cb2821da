//! Example destination: counts what it is given. `write-batch` returns the number of records
//! written (a record whose id is empty fails the batch with `invalid-input`), adds the
//! batch size to the counter `destination.records`, and records the payload bytes in the
//! histogram `destination.bytes`. `flush` logs the totals; `close` fails (`err`) when nothing
//! was ever written.

use std::sync::atomic::{AtomicU64, Ordering};

use plugin_sdk::destination_plugin::destination::{
    DataRecord, Destination, PluginError, PluginInfo,
};
use plugin_sdk::destination_plugin::logging::{self, Level};
use plugin_sdk::destination_plugin::metrics;
use plugin_sdk::destination_plugin::types::{Capabilities, ErrorKind};

static RECORDS: AtomicU64 = AtomicU64::new(0);
static BYTES: AtomicU64 = AtomicU64::new(0);

struct Counting;

impl Destination for Counting {
    fn info() -> PluginInfo {
        PluginInfo {
            name: "counting".to_string(),
            version: env!("CARGO_PKG_VERSION").to_string(),
            capabilities: Capabilities::BATCHING | Capabilities::STATEFUL,
        }
    }

    fn write_batch(records: Vec<DataRecord>) -> Result<u32, PluginError> {
        if let Some(bad) = records.iter().position(|r| r.id.is_empty()) {
            return Err(PluginError {
                kind: ErrorKind::InvalidInput,
                message: format!("record {bad} has an empty id"),
                record_id: None,
            });
        }
        let bytes: usize = records.iter().map(|r| r.payload.len()).sum();
        RECORDS.fetch_add(records.len() as u64, Ordering::Relaxed);
        BYTES.fetch_add(bytes as u64, Ordering::Relaxed);
        metrics::counter_add("destination.records", records.len() as u64);
        metrics::histogram_record(
            "destination.bytes",
            bytes as f64,
            &[("batch".to_string(), records.len().to_string())],
        );
        Ok(records.len() as u32)
    }

    fn flush() -> Result<(), PluginError> {
        let line = format!(
            "flushed {} records, {} bytes",
            RECORDS.load(Ordering::Relaxed),
            BYTES.load(Ordering::Relaxed)
        );
        logging::log(Level::Info, &line);
        Ok(())
    }

    fn close() -> Result<(), ()> {
        if RECORDS.load(Ordering::Relaxed) == 0 {
            Err(())
        } else {
            Ok(())
        }
    }
}

plugin_sdk::export_destination_plugin!(Counting);
