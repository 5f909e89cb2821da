//! The resources guest in Rust: `counter` is a Rust type the host drives through handles;
//! `tally` is the host's, used through the imported functions.

use std::cell::Cell;
use std::sync::atomic::{AtomicU32, Ordering};

use runtime_resources_sdk::imports::runtime::resources::host::Tally;
use runtime_resources_sdk::resources::guest::{Counter, CounterBorrow, Guest, GuestCounter};

static LIVE: AtomicU32 = AtomicU32::new(0);

struct Count {
    value: Cell<i64>,
}

impl Count {
    fn make(value: i64) -> Self {
        LIVE.fetch_add(1, Ordering::Relaxed);
        Count { value: Cell::new(value) }
    }
}

impl Drop for Count {
    fn drop(&mut self) {
        LIVE.fetch_sub(1, Ordering::Relaxed);
    }
}

impl GuestCounter for Count {
    fn new(start: i64) -> Self {
        Count::make(start)
    }

    fn add(&self, delta: i64) -> i64 {
        self.value.set(self.value.get().wrapping_add(delta));
        self.value.get()
    }

    fn get(&self) -> i64 {
        self.value.get()
    }

    fn merge(a: CounterBorrow<'_>, b: CounterBorrow<'_>) -> Counter {
        let sum = a.get::<Count>().get().wrapping_add(b.get::<Count>().get());
        Counter::new(Count::make(sum))
    }
}

struct Resources;

impl Guest for Resources {
    type Counter = Count;

    fn total(c: CounterBorrow<'_>) -> i64 {
        c.get::<Count>().get()
    }

    fn consume(c: Counter) -> i64 {
        c.get::<Count>().get()
    }

    fn live() -> u32 {
        LIVE.load(Ordering::Relaxed)
    }

    fn use_tally(start: u32, by: u32) -> u32 {
        let first = Tally::new(start);
        let second = Tally::bump(&first, by);
        second.get()
    }
}

runtime_resources_sdk::export_resources!(Resources);
