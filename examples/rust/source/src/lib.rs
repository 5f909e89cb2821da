//! Example source: a cursor over `source.count` generated records (configuration key,
//! default 10). Record `i` has id `rec-<i>`, timestamp `1_700_000_000_000 + i`, payload
//! `record <i>` and metadata `[("index", "<i>")]`. `position` is the index of the next record;
//! `resume` reopens a cursor there (an error past the end).

use std::cell::Cell;

use plugin_sdk::source_plugin::config;
use plugin_sdk::source_plugin::logging::{self, Level};
use plugin_sdk::source_plugin::source::{
    Cursor, DataRecord, GuestCursor, PluginError, PluginInfo, Source,
};
use plugin_sdk::source_plugin::types::{Capabilities, ErrorKind};

struct Generator;

struct Counter {
    next: Cell<u64>,
    end: u64,
}

fn count() -> u64 {
    config::get_int("source.count").map_or(10, |n| n.max(0) as u64)
}

fn record(i: u64) -> DataRecord {
    DataRecord {
        id: format!("rec-{i}"),
        timestamp: 1_700_000_000_000 + i as i64,
        payload: format!("record {i}").into_bytes(),
        metadata: vec![("index".to_string(), i.to_string())],
    }
}

impl GuestCursor for Counter {
    fn new() -> Self {
        logging::log(Level::Info, "cursor opened");
        Counter {
            next: Cell::new(0),
            end: count(),
        }
    }

    fn read_batch(&self, max: u32) -> Result<Vec<DataRecord>, PluginError> {
        let start = self.next.get();
        let stop = (start + u64::from(max)).min(self.end);
        self.next.set(stop);
        Ok((start..stop).map(record).collect())
    }

    fn position(&self) -> u64 {
        self.next.get()
    }

    fn resume(position: u64) -> Result<Cursor, PluginError> {
        let end = count();
        if position > end {
            return Err(PluginError {
                kind: ErrorKind::InvalidInput,
                message: format!("position {position} is past the end ({end})"),
                record_id: None,
            });
        }
        Ok(Cursor::new(Counter {
            next: Cell::new(position),
            end,
        }))
    }
}

impl Source for Generator {
    type Cursor = Counter;

    fn info() -> PluginInfo {
        PluginInfo {
            name: "generator".to_string(),
            version: env!("CARGO_PKG_VERSION").to_string(),
            capabilities: Capabilities::BATCHING | Capabilities::STATEFUL | Capabilities::ORDERED,
        }
    }
}

plugin_sdk::export_source_plugin!(Generator);
