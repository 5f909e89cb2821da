//! stream-aggregator: windowed counts and sums by key, kept in the aggregator's resource.
//!
//! Each `accumulator` is one aggregation: records fall into tumbling windows of `window-ms`
//! milliseconds (configuration, default 60000) by their timestamp, and into groups by the
//! metadata value named by `group-by` (configuration, default `key`; `-` when missing). The
//! payload is the number to sum (UTF-8 text). `emit` gives one record, id = the accumulator's
//! key, whose payload has one line per (window, group), in order:
//! `window=<start> key=<group> count=<n> sum=<s>`. A payload that is not a number fails `add`
//! with `invalid-input`, and nothing of it is kept. `merge` adds two accumulators up; `stats` is
//! (records, groups).

use std::cell::RefCell;
use std::collections::BTreeMap;

use plugin_sdk::aggregator_plugin::aggregator::{
    Accumulator, AccumulatorBorrow, Aggregator, DataRecord, GuestAccumulator, PluginError,
    PluginInfo,
};
use plugin_sdk::aggregator_plugin::config;
use plugin_sdk::aggregator_plugin::metrics;
use plugin_sdk::aggregator_plugin::types::{Capabilities, ErrorKind};

struct Plugin;

#[derive(Default, Clone, Copy)]
struct Cell {
    count: u64,
    sum: f64,
}

struct Windows {
    key: String,
    window_ms: i64,
    group_by: String,
    records: RefCell<u64>,
    cells: RefCell<BTreeMap<(i64, String), Cell>>,
}

impl Windows {
    fn take(&self, record: &DataRecord) -> Result<(), PluginError> {
        let text = std::str::from_utf8(&record.payload).unwrap_or("").trim();
        let value: f64 = text.parse().map_err(|_| PluginError {
            kind: ErrorKind::InvalidInput,
            message: format!("payload {text:?} is not a number"),
            record_id: Some(record.id.clone()),
        })?;
        let group = record
            .metadata
            .iter()
            .find(|(k, _)| *k == self.group_by)
            .map_or("-", |(_, v)| v.as_str());
        let start = record.timestamp - record.timestamp.rem_euclid(self.window_ms);
        let mut cells = self.cells.borrow_mut();
        let cell = cells.entry((start, group.to_string())).or_default();
        cell.count += 1;
        cell.sum += value;
        *self.records.borrow_mut() += 1;
        Ok(())
    }
}

fn window_ms() -> i64 {
    config::get_int("window-ms")
        .ok()
        .filter(|ms| *ms > 0)
        .unwrap_or(60_000)
}

impl GuestAccumulator for Windows {
    fn new(key: String) -> Self {
        metrics::counter_add("aggregations", 1);
        Windows {
            key,
            window_ms: window_ms(),
            group_by: config::get("group-by").unwrap_or_else(|| "key".to_string()),
            records: RefCell::new(0),
            cells: RefCell::new(BTreeMap::new()),
        }
    }

    fn add(&self, record: DataRecord) -> Result<(), PluginError> {
        self.take(&record)
    }

    fn add_batch(&self, records: Vec<DataRecord>) -> Result<u64, PluginError> {
        for record in &records {
            self.take(record)?;
        }
        Ok(*self.records.borrow())
    }

    fn emit(&self) -> Option<DataRecord> {
        let cells = self.cells.borrow();
        if cells.is_empty() {
            return None;
        }
        let lines: Vec<String> = cells
            .iter()
            .map(|((start, group), c)| {
                format!("window={start} key={group} count={} sum={}", c.count, c.sum)
            })
            .collect();
        let newest = cells.keys().map(|(start, _)| *start).max().unwrap_or(0);
        Some(DataRecord {
            id: self.key.clone(),
            timestamp: newest,
            payload: lines.join("\n").into_bytes(),
            metadata: vec![("window-ms".to_string(), self.window_ms.to_string())],
        })
    }

    fn merge(left: AccumulatorBorrow<'_>, right: AccumulatorBorrow<'_>) -> Accumulator {
        let (l, r) = (left.get::<Windows>(), right.get::<Windows>());
        let mut cells = l.cells.borrow().clone();
        for (k, c) in r.cells.borrow().iter() {
            let cell = cells.entry(k.clone()).or_default();
            cell.count += c.count;
            cell.sum += c.sum;
        }
        Accumulator::new(Windows {
            key: format!("{}+{}", l.key, r.key),
            window_ms: l.window_ms,
            group_by: l.group_by.clone(),
            records: RefCell::new(*l.records.borrow() + *r.records.borrow()),
            cells: RefCell::new(cells),
        })
    }
}

impl Aggregator for Plugin {
    type Accumulator = Windows;

    fn info() -> PluginInfo {
        PluginInfo {
            name: "stream-aggregator".to_string(),
            version: env!("CARGO_PKG_VERSION").to_string(),
            capabilities: Capabilities::BATCHING | Capabilities::STATEFUL,
        }
    }

    fn stats(window: AccumulatorBorrow<'_>) -> (u64, u64) {
        let w = window.get::<Windows>();
        let groups = w.cells.borrow().len() as u64;
        (*w.records.borrow(), groups)
    }
}

plugin_sdk::export_aggregator_plugin!(Plugin);
