//! The dual guest in Rust: its `cursor` wraps a cursor of the host's import of the same
//! interface.

use runtime_dual_sdk::dual::store_export::{Cursor, CursorBorrow, GuestCursor, Snapshot, Store};
use runtime_dual_sdk::imports::runtime::dual::store as host;

struct Wrapped {
    inner: host::Cursor,
}

impl GuestCursor for Wrapped {
    fn new(start: u32) -> Self {
        Wrapped { inner: host::Cursor::new(start) }
    }

    fn next(&self) -> u32 {
        self.inner.next() + 100
    }
}

struct Dual;

impl Store for Dual {
    type Cursor = Wrapped;

    fn open(start: u32) -> Cursor {
        Cursor::new(Wrapped { inner: host::open(start) })
    }

    fn peek(c: CursorBorrow<'_>) -> Snapshot {
        let seen = host::peek(&c.get::<Wrapped>().inner);
        Snapshot { label: format!("guest:{}", seen.label), at: seen.at }
    }
}

runtime_dual_sdk::export_dual!(Dual);
