//! Test guest for tests/rust/wit/echo.wit: every `kinds` export returns its input; the
//! `via-host*` exports go through the host's imports; `counters` is a resource with a live
//! count so the host can observe destructors.

use std::cell::Cell;
use std::sync::atomic::{AtomicU32, Ordering};

use echo_sdk::echo::counters::{Counter, CounterBorrow, Counters, GuestCounter};
use echo_sdk::echo::host;
use echo_sdk::echo::kinds::{
    CastsA, CastsB, Color, Full, Kinds, Nested, NestedList, Perms, Point, Primitives, Shape, Wide,
};
use echo_sdk::echo::Guest;

struct Echo;

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

impl Counters for Echo {
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
}

impl Guest for Echo {
    fn version() -> String {
        "echo 0.1.0".to_string()
    }
}

impl Kinds for Echo {
    fn echo_bool(v: bool) -> bool { v }
    fn echo_u8(v: u8) -> u8 { v }
    fn echo_u16(v: u16) -> u16 { v }
    fn echo_u32(v: u32) -> u32 { v }
    fn echo_u64(v: u64) -> u64 { v }
    fn echo_s8(v: i8) -> i8 { v }
    fn echo_s16(v: i16) -> i16 { v }
    fn echo_s32(v: i32) -> i32 { v }
    fn echo_s64(v: i64) -> i64 { v }
    fn echo_f32(v: f32) -> f32 { v }
    fn echo_f64(v: f64) -> f64 { v }
    fn echo_char(v: char) -> char { v }
    fn echo_string(v: String) -> String { v }
    fn echo_bytes(v: Vec<u8>) -> Vec<u8> { v }
    fn echo_u64s(v: Vec<u64>) -> Vec<u64> { v }
    fn echo_f32s(v: Vec<f32>) -> Vec<f32> { v }
    fn echo_bools(v: Vec<bool>) -> Vec<bool> { v }
    fn echo_chars(v: Vec<char>) -> Vec<char> { v }
    fn echo_strings(v: Vec<String>) -> Vec<String> { v }
    fn echo_pair(a: f32, b: f64) -> (f32, f64) { (a, b) }
    fn echo_primitives(v: Primitives) -> Primitives { v }
    fn echo_point(v: Point) -> Point { v }
    fn echo_perms(v: Perms) -> Perms { v }
    fn echo_wide(v: Wide) -> Wide { v }
    fn echo_full(v: Full) -> Full { v }
    fn echo_color(v: Color) -> Color { v }
    fn echo_shape(v: Shape) -> Shape { v }
    fn echo_option(v: Option<u8>) -> Option<u8> { v }
    fn echo_option_string(v: Option<String>) -> Option<String> { v }
    fn echo_result(v: Result<String, u32>) -> Result<String, u32> { v }
    fn echo_unit_result(v: Result<(), ()>) -> Result<(), ()> { v }
    fn echo_err_only(v: Result<(), Color>) -> Result<(), Color> { v }
    fn echo_nested(v: Nested) -> Nested { v }
    fn echo_nested_list(v: NestedList) -> NestedList { v }

    #[allow(clippy::too_many_arguments)]
    fn echo_spilled(
        a: u8, b: u16, c: u32, d: u64, e: i8, f: i16, g: i32, h: i64, i: f32, j: f64,
        k: char, l: bool, m: String, n: Point, o: Shape,
    ) -> (u8, u16, u32, u64, i8, i16, i32, i64, f32, f64, char, bool, String, Point, Shape) {
        (a, b, c, d, e, f, g, h, i, j, k, l, m, n, o)
    }

    fn echo_casts(a: CastsA, b: CastsB, c: Option<CastsB>) -> (CastsA, CastsB, Option<CastsB>) {
        (a, b, c)
    }

    fn via_host_casts(a: CastsA, b: CastsB) -> (CastsA, CastsB) {
        host::echo_casts(&a, &b)
    }

    fn via_host(v: Nested) -> Nested {
        host::echo_nested(&v)
    }

    fn via_host_spilled(s: String, n: Point, o: Shape, v: Vec<Shape>) -> (String, Point, Shape, Vec<Shape>) {
        host::echo_spilled(&s, &n, &o, &v)
    }

    fn via_host_strings(n: u32) -> Vec<String> {
        host::get_strings(n)
    }

    fn memory_pages() -> u32 {
        core::arch::wasm32::memory_size(0) as u32
    }
}

echo_sdk::export_echo!(Echo);
