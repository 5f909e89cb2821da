//! A guest of tests/async/wit/tally.wit on witgen's generated Rust SDK: async methods and a
//! static function of an exported resource (`counter`), and of an imported one (`crate`),
//! run by the Python async host in tests/async/test_rust_async_resources.py. A counter's
//! value notes its drop to the host, which checks it comes once, after the last task using it.

use core::cell::Cell;

use tally_sdk::tally_guest::shelf::Crate;
use tally_sdk::tally_guest::tally::{
    task_return_counter_add, task_return_counter_doubled, task_return_counter_label,
    task_return_counter_linger, Counter, GuestCounter, Tally,
};
use tally_sdk::tally_guest::{note, task_return_probe, task_return_stash, Guest};

struct Total {
    value: Cell<u64>,
}

impl GuestCounter for Total {
    fn new(start: u64) -> Self {
        Total {
            value: Cell::new(start),
        }
    }

    async fn add(&self, n: u32) {
        let total = self.value.get().wrapping_add(u64::from(n));
        self.value.set(total);
        task_return_counter_add(total);
    }

    async fn label(&self, prefix: String) {
        task_return_counter_label(&format!("{prefix}{}", self.value.get()));
    }

    async fn linger(&self, n: u32) {
        let total = self.value.get().wrapping_add(u64::from(n));
        self.value.set(total);
        task_return_counter_linger(total);
        // the caller's borrow ended: it may drop the counter while the host answers
        Crate::count().await;
        let total = self.value.get().wrapping_add(u64::from(n));
        self.value.set(total);
        note(&format!("linger {total}"));
    }

    async fn doubled(start: u64) {
        task_return_counter_doubled(Counter::new(Total::new(start.wrapping_mul(2))));
    }
}

impl Drop for Total {
    fn drop(&mut self) {
        note(&format!("drop {}", self.value.get()));
    }
}

struct Tallies;

impl Tally for Tallies {
    type Counter = Total;
}

impl Guest for Tallies {
    async fn probe(c: Crate, key: String) {
        let mut bytes = c.fetch(&key).await;
        drop(c);
        let count = Crate::count().await;
        bytes.reverse();
        task_return_probe(&(count, bytes));
    }

    async fn stash(c: Crate, key: String, values: Vec<i32>) {
        let first = c.put(&key, &values).await;
        let reversed: String = key.chars().rev().collect();
        let second = c.put(&reversed, &values).await;
        task_return_stash(first + second);
    }
}

tally_sdk::export_tally_guest!(Tallies);
