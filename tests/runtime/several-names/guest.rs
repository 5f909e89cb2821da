//! The several-names guest in Rust: `first` and `second` are one interface exported twice, each
//! with its own total, logging to `primary` and `secondary` (one interface imported twice).

use std::sync::atomic::{AtomicU32, Ordering};

use runtime_several_names_sdk::several_names::{first, primary, second, secondary};

static FIRST: AtomicU32 = AtomicU32::new(0);
static SECOND: AtomicU32 = AtomicU32::new(0);

struct Names;

impl first::Counter for Names {
    fn bump(by: u32) -> u32 {
        let total = FIRST.fetch_add(by, Ordering::Relaxed) + by;
        primary::write(&format!("first={total}"));
        total
    }
}

impl second::Counter for Names {
    fn bump(by: u32) -> u32 {
        let total = SECOND.fetch_add(by, Ordering::Relaxed) + by;
        secondary::write(&format!("second={total}"));
        total
    }
}

runtime_several_names_sdk::export_several_names!(Names);
