//! A streaming destination of `dataflare:core@1.1.0` (world `streaming-destination-plugin`): it
//! exports `streaming-destination.write`, so `witgen run` streams each batch to it instead of
//! calling write-batch.
//!
//! `write(records)` reads the stream to its end, counts the records in the `records-written`
//! metric, logs how many it wrote (debug level) and returns that count.
//!
//! Configuration, for tests of the runtime: `destination.check-order = "true"` refuses (an
//! error result) a record whose id `rec-<n>` does not follow the previous one this instance
//! wrote (a duplicate, a gap or a record out of order); `destination.trap-at = ID` traps when the
//! record with that id arrives; `destination.reject = ID` ends the call with an error there;
//! `destination.overcount = "true"` answers one record more than it was given (garbage).

use dataflare_streaming_sdk::async_rt::StreamReader;
use dataflare_streaming_sdk::streaming_destination_plugin::streaming_destination::{
    task_return_write, PluginError, PluginInfo, StreamingDestination, WriteStream0,
};
use dataflare_streaming_sdk::streaming_destination_plugin::types::{Capabilities, ErrorKind};
use dataflare_streaming_sdk::streaming_destination_plugin::{config, logging, metrics};

use core::cell::Cell;

struct Destination;

thread_local! {
    /// The index of the record that must come next (with `destination.check-order`).
    static NEXT: Cell<Option<u64>> = const { Cell::new(None) };
}

fn index(id: &str) -> Option<u64> {
    id.strip_prefix("rec-")?.parse().ok()
}

impl StreamingDestination for Destination {
    fn info() -> PluginInfo {
        PluginInfo {
            name: "rust-streaming-destination".to_string(),
            version: "0.1.0".to_string(),
            capabilities: Capabilities::ORDERED,
        }
    }

    async fn write(records: u32) {
        let trap_at = config::get("destination.trap-at");
        let reject = config::get("destination.reject");
        let check_order = config::get("destination.check-order").as_deref() == Some("true");
        let mut reader = StreamReader::<WriteStream0>::from_handle(records);
        let mut written: u64 = 0;
        while let Some(batch) = reader.next_batch(256).await {
            for r in batch {
                if trap_at.as_deref() == Some(r.id.as_str()) {
                    panic!("trap at {} (destination.trap-at)", r.id);
                }
                let mut refused = None;
                if reject.as_deref() == Some(r.id.as_str()) {
                    refused = Some(format!("rejected {}", r.id));
                } else if check_order {
                    let got = index(&r.id);
                    let want = NEXT.with(Cell::get).or(got);
                    if got.is_none() || got != want {
                        refused = Some(format!("out of order: {} where rec-{} was due", r.id, want.unwrap_or(0)));
                    } else {
                        NEXT.with(|n| n.set(got.map(|g| g + 1)));
                    }
                }
                if let Some(message) = refused {
                    drop(reader);
                    task_return_write(&Err(PluginError {
                        kind: ErrorKind::InvalidInput,
                        message,
                        record_id: Some(r.id.clone()),
                    }));
                    return;
                }
                written += 1;
            }
        }
        drop(reader);
        if config::get("destination.overcount").as_deref() == Some("true") {
            written += 1;
        }
        metrics::counter_add("records-written", written);
        if logging::enabled(logging::Level::Debug) {
            logging::log(logging::Level::Debug, &format!("wrote {written} records"));
        }
        task_return_write(&Ok(written));
    }
}

dataflare_streaming_sdk::export_streaming_destination_plugin!(Destination);
