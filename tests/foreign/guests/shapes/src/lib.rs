//! A guest of tests/foreign/wit/foreign.wit built with the `wit-bindgen` crate (not witgen).

wit_bindgen::generate!({ path: "src/foreign.wit", world: "foreign" });

use std::cell::RefCell;

use exports::foreign::shapes::shapes::{
    Big, Counter, CounterBorrow, Flags16, Flags32, Flags8, GuestCounter, Mixed,
};
use foreign::shapes::host::{self, Blob, Color, Perms, Point, Shape};

thread_local! {
    static DROPS: RefCell<Vec<String>> = RefCell::new(Vec::new());
}

struct Plugin;

struct MyCounter {
    name: String,
    value: RefCell<i64>,
}

impl Drop for MyCounter {
    fn drop(&mut self) {
        let name = self.name.clone();
        DROPS.with(|d| d.borrow_mut().push(name));
    }
}

impl GuestCounter for MyCounter {
    fn new(name: String, start: i64) -> Self {
        MyCounter { name, value: RefCell::new(start) }
    }
    fn add(&self, n: i64) -> i64 {
        let mut v = self.value.borrow_mut();
        *v = v.wrapping_add(n);
        *v
    }
    fn value(&self) -> i64 {
        *self.value.borrow()
    }
    fn name(&self) -> String {
        self.name.clone()
    }
    fn merge(a: Counter, b: CounterBorrow<'_>) -> Counter {
        let a: MyCounter = a.into_inner();
        let b: &MyCounter = b.get();
        let name = format!("{}+{}", a.name, b.name);
        let sum = a.value().wrapping_add(b.value());
        Counter::new(MyCounter::new(name, sum))
    }
}

fn rev<T: Clone>(v: Vec<T>) -> Vec<T> {
    v.into_iter().rev().collect()
}

fn many_text(
    a1: u8, a2: i16, a3: u32, a4: i64, a5: f32, a6: f64, a7: char, a8: &str, a9: &[u8],
    a10: Option<u32>, a11: bool, a12: u64, a13: i8, a14: u16, a15: i32, a16: f64, a17: &str,
    a18: &Result<u32, String>,
) -> String {
    format!(
        "{a1}|{a2}|{a3}|{a4}|{:08x}|{:016x}|{}|{a8}|{a9:?}|{a10:?}|{a11}|{a12}|{a13}|{a14}|{a15}|{:016x}|{a17}|{a18:?}",
        a5.to_bits(), a6.to_bits(), a7 as u32, a16.to_bits()
    )
}

impl exports::foreign::shapes::shapes::Guest for Plugin {
    type Counter = MyCounter;

    fn u8_rt(a: u8) -> u8 { a }
    fn s8_rt(a: i8) -> i8 { a }
    fn u16_rt(a: u16) -> u16 { a }
    fn s16_rt(a: i16) -> i16 { a }
    fn u32_rt(a: u32) -> u32 { a }
    fn s32_rt(a: i32) -> i32 { a }
    fn u64_rt(a: u64) -> u64 { a }
    fn s64_rt(a: i64) -> i64 { a }
    fn f32_rt(a: f32) -> f32 { a }
    fn f64_rt(a: f64) -> f64 { a }
    fn char_rt(a: char) -> char { a }
    fn bool_rt(a: bool) -> bool { a }
    fn float_bits(a: f32, b: f64) -> (u32, u64) { (a.to_bits(), b.to_bits()) }
    fn floats_from_bits(a: u32, b: u64) -> (f32, f64) { (f32::from_bits(a), f64::from_bits(b)) }

    fn string_rt(s: String) -> String { s }
    fn string_stats(s: String) -> (u32, u32) { (s.len() as u32, s.chars().count() as u32) }
    fn make_string(c: char, n: u32) -> String { std::iter::repeat(c).take(n as usize).collect() }

    fn lists(
        a: Vec<u8>, b: Vec<i16>, c: Vec<u64>, d: Vec<f32>, e: Vec<f64>, f: Vec<char>,
        g: Vec<bool>, h: Vec<i8>, i: Vec<u32>,
    ) -> (Vec<u8>, Vec<i16>, Vec<u64>, Vec<f32>, Vec<f64>, Vec<char>, Vec<bool>, Vec<i8>, Vec<u32>) {
        (rev(a), rev(b), rev(c), rev(d), rev(e), rev(f), rev(g), rev(h), rev(i))
    }
    fn list_strings(a: Vec<String>) -> Vec<String> { rev(a) }
    fn list_points(a: Vec<Point>) -> Vec<Point> {
        a.into_iter().rev().map(|p| Point { x: p.y, y: p.x }).collect()
    }
    fn list_nested(a: Vec<Vec<String>>) -> Vec<Vec<String>> { a.into_iter().map(rev).rev().collect() }
    fn list_mixed(a: Vec<Mixed>) -> Vec<Option<Mixed>> {
        a.into_iter().map(|m| if let Mixed::G = m { None } else { Some(m) }).collect()
    }
    fn list_tuples(a: Vec<(u8, String, f64)>) -> Vec<(f64, String, u8)> {
        a.into_iter().map(|(x, s, f)| (f, s, x)).collect()
    }
    fn empty_lists(n: u32) -> (Vec<u8>, Vec<String>, Vec<Point>) {
        (vec![7; n as usize], vec!["x".into(); n as usize], vec![Point { x: 1, y: 2 }; n as usize])
    }

    fn big_rt(b: Big) -> Big { b }
    fn flags_rt(a: Flags8, b: Flags16, c: Flags32, d: Perms) -> (Flags8, Flags16, Flags32, Perms) {
        (a, b, c, d)
    }
    fn mixed_rt(a: Mixed) -> Mixed { a }
    fn color_rt(c: Color) -> Color { c }
    fn color_next(c: Color) -> Color {
        match c { Color::Red => Color::Green, Color::Green => Color::Blue, Color::Blue => Color::Red }
    }
    fn options(
        a: Option<u8>, b: Option<Option<String>>, c: Option<Point>, d: Option<f64>,
    ) -> (Option<u8>, Option<Option<String>>, Option<Point>, Option<f64>) {
        (a, b, c, d)
    }
    fn results(
        a: Result<u32, String>, b: Result<(), Color>, c: Result<String, ()>, d: Result<(), ()>,
    ) -> (Result<u32, String>, Result<(), Color>, Result<String, ()>, Result<(), ()>) {
        (a, b, c, d)
    }
    fn fallible(n: i32) -> Result<u32, String> {
        if n < 0 { Err(format!("negative: {n}")) } else { Ok(n as u32 * 2) }
    }
    fn many_params(
        a1: u8, a2: i16, a3: u32, a4: i64, a5: f32, a6: f64, a7: char, a8: String, a9: Vec<u8>,
        a10: Option<u32>, a11: bool, a12: u64, a13: i8, a14: u16, a15: i32, a16: f64, a17: String,
        a18: Result<u32, String>, a19: Point, a20: Perms,
    ) -> String {
        let head = many_text(a1, a2, a3, a4, a5, a6, a7, &a8, &a9, a10, a11, a12, a13, a14, a15, a16, &a17, &a18);
        format!("{head}|{},{}|{}", a19.x, a19.y, a20.bits())
    }
    fn big_result(n: u32) -> (u64, String, Vec<u32>, Point, Option<String>, f64, Mixed) {
        (
            u64::MAX - n as u64,
            "é".repeat(n as usize),
            (0..n).collect(),
            Point { x: -(n as i32), y: n as i32 },
            if n % 2 == 0 { Some(format!("even {n}")) } else { None },
            n as f64 / 3.0,
            Mixed::E(format!("m{n}")),
        )
    }

    fn counter_total(cs: Vec<CounterBorrow<'_>>) -> i64 {
        cs.iter().map(|c| c.get::<MyCounter>().value()).sum()
    }
    fn counter_take(c: Counter) -> i64 {
        let c: MyCounter = c.into_inner();
        c.value()
    }
    fn counter_pair(a: String, b: String) -> (Counter, Counter) {
        (Counter::new(MyCounter::new(a, 1)), Counter::new(MyCounter::new(b, 2)))
    }
    fn drops() -> Vec<String> {
        DROPS.with(|d| std::mem::take(&mut *d.borrow_mut()))
    }

    fn via_string(s: String) -> String { host::echo_string(&s) }
    fn via_strings(l: Vec<String>) -> Vec<String> { host::echo_strings(&l) }
    fn via_point(p: Point) -> Point { host::echo_point(p) }
    fn via_kinds(s: Shape, c: Color, p: Perms) -> (Shape, Color, Perms) { host::echo_kinds(s, c, p) }
    fn via_floats(a: f32, b: f64) -> (f32, f64) { host::echo_floats(a, b) }
    fn via_option(a: Option<Option<u32>>) -> Result<Option<String>, Color> { host::echo_option(a) }
    fn via_many(seed: u32) -> String {
        let s = seed as u64;
        let text = format!("s{seed}ü");
        let bytes: Vec<u8> = (0..(seed % 7) as u8).collect();
        let res = if seed % 2 == 0 { Ok(seed) } else { Err(format!("odd {seed}")) };
        let got = host::many(
            seed as u8, -(seed as i16), seed, -(s as i64) * 3, seed as f32 / 4.0, s as f64 * 1.5,
            char::from_u32(0x1F600 + seed % 16).unwrap(), &text, &bytes,
            if seed % 3 == 0 { None } else { Some(seed) }, seed % 2 == 1, u64::MAX - s,
            -(seed as i8), seed as u16, seed as i32 - 5, -(s as f64), "tail",
            res.as_ref().map(|v| *v).map_err(|e| e.as_str()),
        );
        let mine = many_text(
            seed as u8, -(seed as i16), seed, -(s as i64) * 3, seed as f32 / 4.0, s as f64 * 1.5,
            char::from_u32(0x1F600 + seed % 16).unwrap(), &text, &bytes,
            if seed % 3 == 0 { None } else { Some(seed) }, seed % 2 == 1, u64::MAX - s,
            -(seed as i8), seed as u16, seed as i32 - 5, -(s as f64), "tail", &res,
        );
        format!("{got}\n{mine}")
    }
    fn blob_dance(init: Vec<u8>, more: Vec<u8>) -> Vec<u8> {
        let a = Blob::new(&init);
        a.append(&more);
        let b = Blob::new(&more);
        let merged = Blob::merge(a, &b);
        merged.append(&[0xff]);
        merged.bytes()
    }
    fn blob_peek(b: &Blob) -> Vec<u8> { b.bytes() }
    fn blob_take(b: Blob) -> u32 { b.bytes().len() as u32 }
    fn blob_make(init: Vec<u8>) -> Blob {
        let b = Blob::new(&init);
        b.append(b"!");
        b
    }
}

impl Guest for Plugin {
    fn hello(name: String) -> String { format!("hello, {name}") }
    fn tick() -> u64 { now() + 1 }
}

export!(Plugin);
