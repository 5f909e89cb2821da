//! Example transformer: prefixes each record id with the configuration value
//! `transformer.prefix` (default `t-`) and appends `("length", <payload bytes>)` to the
//! metadata. A payload that is not UTF-8 is an `invalid-input` error.

use plugin_sdk::transformer_plugin::config;
use plugin_sdk::transformer_plugin::logging::{self, Level};
use plugin_sdk::transformer_plugin::transformer::{
    DataRecord, PluginError, PluginInfo, Transformer,
};
use plugin_sdk::transformer_plugin::types::{Capabilities, ErrorKind};

struct Prefixer;

fn rewrite(mut record: DataRecord, prefix: &str) -> Result<DataRecord, PluginError> {
    if std::str::from_utf8(&record.payload).is_err() {
        logging::log(Level::Warn, &format!("{} is not UTF-8", record.id));
        return Err(PluginError {
            kind: ErrorKind::InvalidInput,
            message: "payload is not UTF-8".to_string(),
            record_id: Some(record.id),
        });
    }
    record.id = format!("{prefix}{}", record.id);
    let length = record.payload.len().to_string();
    record.metadata.push(("length".to_string(), length));
    Ok(record)
}

fn prefix() -> String {
    config::get("transformer.prefix").unwrap_or_else(|| "t-".to_string())
}

impl Transformer for Prefixer {
    fn info() -> PluginInfo {
        PluginInfo {
            name: "prefixer".to_string(),
            version: env!("CARGO_PKG_VERSION").to_string(),
            capabilities: Capabilities::BATCHING | Capabilities::ORDERED,
        }
    }

    fn transform(record: DataRecord) -> Result<DataRecord, PluginError> {
        rewrite(record, &prefix())
    }

    fn transform_batch(records: Vec<DataRecord>) -> Vec<Result<DataRecord, PluginError>> {
        let prefix = prefix();
        records.into_iter().map(|r| rewrite(r, &prefix)).collect()
    }
}

plugin_sdk::export_transformer_plugin!(Prefixer);
