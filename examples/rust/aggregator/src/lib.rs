//! Example aggregator: an accumulator counts records and payload bytes of one window.
//! `emit` gives a record with id = the window key, payload `count=<n>;bytes=<b>` and the
//! newest timestamp seen, or `none` for an empty window. `add` rejects records with an empty
//! id (`invalid-input`). `merge` sums two windows into a new one keyed `<left>+<right>`;
//! `stats` returns `(count, bytes)`.

use std::cell::Cell;

use plugin_sdk::aggregator_plugin::aggregator::{
    Accumulator, AccumulatorBorrow, Aggregator, DataRecord, GuestAccumulator, PluginError,
    PluginInfo,
};
use plugin_sdk::aggregator_plugin::metrics;
use plugin_sdk::aggregator_plugin::types::{Capabilities, ErrorKind};

struct Summary;

struct Window {
    key: String,
    count: Cell<u64>,
    bytes: Cell<u64>,
    newest: Cell<i64>,
}

impl Window {
    fn take(&self, record: &DataRecord) -> Result<(), PluginError> {
        if record.id.is_empty() {
            return Err(PluginError {
                kind: ErrorKind::InvalidInput,
                message: "record without id".to_string(),
                record_id: None,
            });
        }
        self.count.set(self.count.get() + 1);
        self.bytes.set(self.bytes.get() + record.payload.len() as u64);
        self.newest.set(self.newest.get().max(record.timestamp));
        Ok(())
    }
}

impl GuestAccumulator for Window {
    fn new(key: String) -> Self {
        metrics::counter_add("aggregator.windows", 1);
        Window {
            key,
            count: Cell::new(0),
            bytes: Cell::new(0),
            newest: Cell::new(i64::MIN),
        }
    }

    fn add(&self, record: DataRecord) -> Result<(), PluginError> {
        self.take(&record)
    }

    fn add_batch(&self, records: Vec<DataRecord>) -> Result<u64, PluginError> {
        for record in &records {
            self.take(record)?;
        }
        Ok(self.count.get())
    }

    fn emit(&self) -> Option<DataRecord> {
        if self.count.get() == 0 {
            return None;
        }
        Some(DataRecord {
            id: self.key.clone(),
            timestamp: self.newest.get(),
            payload: format!("count={};bytes={}", self.count.get(), self.bytes.get()).into_bytes(),
            metadata: Vec::new(),
        })
    }

    fn merge(left: AccumulatorBorrow<'_>, right: AccumulatorBorrow<'_>) -> Accumulator {
        let (l, r) = (left.get::<Window>(), right.get::<Window>());
        Accumulator::new(Window {
            key: format!("{}+{}", l.key, r.key),
            count: Cell::new(l.count.get() + r.count.get()),
            bytes: Cell::new(l.bytes.get() + r.bytes.get()),
            newest: Cell::new(l.newest.get().max(r.newest.get())),
        })
    }
}

impl Aggregator for Summary {
    type Accumulator = Window;

    fn info() -> PluginInfo {
        PluginInfo {
            name: "summary".to_string(),
            version: env!("CARGO_PKG_VERSION").to_string(),
            capabilities: Capabilities::BATCHING | Capabilities::STATEFUL,
        }
    }

    fn stats(window: AccumulatorBorrow<'_>) -> (u64, u64) {
        let w = window.get::<Window>();
        (w.count.get(), w.bytes.get())
    }
}

plugin_sdk::export_aggregator_plugin!(Summary);
