//! Example processor: upper-cases payloads.
//!
//! - an empty payload is skipped (`skip`);
//! - a payload starting with `!` fails with `invalid-input`;
//! - a payload with newlines is split into one record per line (ids `<id>-<n>`);
//! - otherwise the payload is upper-cased and `("processed-by", "uppercase")` is appended to
//!   the metadata.
//!
//! Every record logs one `debug` line and adds 1 to the counter `processor.records`.

use plugin_sdk::processor_plugin::logging::{self, Level};
use plugin_sdk::processor_plugin::metrics;
use plugin_sdk::processor_plugin::processor::{
    DataRecord, PluginInfo, ProcessingResult, Processor,
};
use plugin_sdk::processor_plugin::types::{Capabilities, ErrorKind, PluginError};

struct Uppercase;

fn upper(mut record: DataRecord) -> DataRecord {
    record.payload.make_ascii_uppercase();
    record
        .metadata
        .push(("processed-by".to_string(), "uppercase".to_string()));
    record
}

impl Processor for Uppercase {
    fn info() -> PluginInfo {
        PluginInfo {
            name: "uppercase".to_string(),
            version: env!("CARGO_PKG_VERSION").to_string(),
            capabilities: Capabilities::BATCHING | Capabilities::ORDERED,
        }
    }

    fn process(record: DataRecord) -> ProcessingResult {
        logging::log(Level::Debug, &format!("processing {}", record.id));
        metrics::counter_add("processor.records", 1);
        if record.payload.is_empty() {
            return ProcessingResult::Skip;
        }
        if record.payload[0] == b'!' {
            return ProcessingResult::Failed(PluginError {
                kind: ErrorKind::InvalidInput,
                message: "payload starts with '!'".to_string(),
                record_id: Some(record.id),
            });
        }
        if record.payload.contains(&b'\n') {
            let parts = record
                .payload
                .split(|b| *b == b'\n')
                .enumerate()
                .map(|(n, line)| {
                    upper(DataRecord {
                        id: format!("{}-{}", record.id, n),
                        timestamp: record.timestamp,
                        payload: line.to_vec(),
                        metadata: record.metadata.clone(),
                    })
                })
                .collect();
            return ProcessingResult::Split(parts);
        }
        ProcessingResult::Emit(upper(record))
    }

    fn process_batch(records: Vec<DataRecord>) -> Vec<ProcessingResult> {
        records.into_iter().map(Self::process).collect()
    }
}

plugin_sdk::export_processor_plugin!(Uppercase);
