//! json-transformer-rust: field mapping over JSON payloads, driven by configuration.
//!
//! The plugin is a value (the SDK's stateful shape): `new` reads the configuration once per
//! instance and fails with `bad-config` when it is malformed; `transform` takes `&mut self`.
//!
//! Configuration:
//! - `rename`: `old:new` pairs, comma-separated (`user_id:id,ts:timestamp`);
//! - `drop`: field names to remove, comma-separated;
//! - `add`: `field:value` pairs added as JSON strings.
//!
//! A payload that is not a JSON object fails with `invalid-input`. Records count in the
//! counter `json.records`; every transformed record carries `("content-type", "application/json")`.

mod json;

use json::Value;
use plugin_sdk::stateful::transformer_plugin::transformer::TransformerState;
use plugin_sdk::transformer_plugin::config;
use plugin_sdk::transformer_plugin::metrics;
use plugin_sdk::transformer_plugin::transformer::{DataRecord, PluginError, PluginInfo};
use plugin_sdk::transformer_plugin::types::{Capabilities, ErrorKind};

struct JsonTransformer {
    rename: Vec<(String, String)>,
    drop: Vec<String>,
    add: Vec<(String, String)>,
    seen: u64,
}

fn bad_config(message: String) -> PluginError {
    PluginError {
        kind: ErrorKind::BadConfig,
        message,
        record_id: None,
    }
}

fn pairs(key: &str) -> Result<Vec<(String, String)>, PluginError> {
    let text = config::get(key).unwrap_or_default();
    text.split(',')
        .filter(|item| !item.trim().is_empty())
        .map(|item| match item.split_once(':') {
            Some((a, b)) if !a.trim().is_empty() => {
                Ok((a.trim().to_string(), b.trim().to_string()))
            }
            _ => Err(bad_config(format!(
                "{key}: expected name:value, got {item:?}"
            ))),
        })
        .collect()
}

impl TransformerState for JsonTransformer {
    fn new() -> Result<Self, PluginError> {
        let drop = config::get("drop").unwrap_or_default();
        Ok(JsonTransformer {
            rename: pairs("rename")?,
            drop: drop
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(String::from)
                .collect(),
            add: pairs("add")?,
            seen: 0,
        })
    }

    fn info(&mut self) -> PluginInfo {
        PluginInfo {
            name: "json-transformer".to_string(),
            version: env!("CARGO_PKG_VERSION").to_string(),
            capabilities: Capabilities::BATCHING | Capabilities::ORDERED,
        }
    }

    fn transform(&mut self, mut record: DataRecord) -> Result<DataRecord, PluginError> {
        self.seen += 1;
        metrics::counter_add("json.records", 1);
        let invalid = |message: String| PluginError {
            kind: ErrorKind::InvalidInput,
            message,
            record_id: Some(record.id.clone()),
        };
        let mut fields = match json::parse(&record.payload) {
            Ok(Value::Object(fields)) => fields,
            Ok(_) => return Err(invalid("payload is not a JSON object".to_string())),
            Err(err) => return Err(invalid(format!("payload is not JSON: {err}"))),
        };
        fields.retain(|(name, _)| !self.drop.contains(name));
        for (name, _) in fields.iter_mut() {
            if let Some((_, new)) = self.rename.iter().find(|(old, _)| old == name) {
                *name = new.clone();
            }
        }
        for (name, value) in &self.add {
            fields.push((name.clone(), Value::String(value.clone())));
        }
        record.payload = Value::Object(fields).to_string().into_bytes();
        record
            .metadata
            .push(("content-type".to_string(), "application/json".to_string()));
        Ok(record)
    }

    fn transform_batch(
        &mut self,
        records: Vec<DataRecord>,
    ) -> Vec<Result<DataRecord, PluginError>> {
        records.into_iter().map(|r| self.transform(r)).collect()
    }
}

plugin_sdk::export_transformer_plugin_stateful!(JsonTransformer);
