//! Example filter: keeps records whose payload has at least `filter.min-size` bytes
//! (configuration key, default 1) and whose metadata has no `("drop", "true")` pair.
//!
//! Adds 1 to the counter `filter.kept` or `filter.dropped` per record.

use plugin_sdk::filter_plugin::config;
use plugin_sdk::filter_plugin::filter::{DataRecord, Filter, PluginInfo};
use plugin_sdk::filter_plugin::metrics;
use plugin_sdk::filter_plugin::types::Capabilities;

struct MinSize;

fn min_size() -> usize {
    config::get_int("filter.min-size").map_or(1, |n| n.max(0) as usize)
}

fn decide(record: &DataRecord, min: usize) -> bool {
    let dropped = record
        .metadata
        .iter()
        .any(|(k, v)| k == "drop" && v == "true");
    let keep = record.payload.len() >= min && !dropped;
    let counter = if keep { "filter.kept" } else { "filter.dropped" };
    metrics::counter_add(counter, 1);
    keep
}

impl Filter for MinSize {
    fn info() -> PluginInfo {
        PluginInfo {
            name: "min-size".to_string(),
            version: env!("CARGO_PKG_VERSION").to_string(),
            capabilities: Capabilities::BATCHING | Capabilities::ORDERED,
        }
    }

    fn keep(record: DataRecord) -> bool {
        decide(&record, min_size())
    }

    fn keep_batch(records: Vec<DataRecord>) -> Vec<bool> {
        let min = min_size();
        records.iter().map(|r| decide(r, min)).collect()
    }
}

plugin_sdk::export_filter_plugin!(MinSize);
