//! The flat guest in Rust: each echo returns its arguments, each via-host passes them through
//! the host's import of the same signature.

use runtime_flat_sdk::flat::{self, Point, Stamped};
use runtime_flat_sdk::flat::guest::{CastsA, CastsB, Color, Full, Guest, Shape};
use runtime_flat_sdk::imports::runtime::flat::host;

struct Flat;

type Spilled = (
    u8,
    u16,
    u32,
    u64,
    i8,
    i16,
    i32,
    i64,
    f32,
    f64,
    char,
    bool,
    String,
    Point,
    Shape,
);

impl Guest for Flat {
    fn echo_bool(v: bool) -> bool {
        v
    }

    fn echo_s8(v: i8) -> i8 {
        v
    }

    fn echo_u16(v: u16) -> u16 {
        v
    }

    fn echo_u64(v: u64) -> u64 {
        v
    }

    fn echo_f32(v: f32) -> f32 {
        v
    }

    fn echo_f64(v: f64) -> f64 {
        v
    }

    fn echo_char(v: char) -> char {
        v
    }

    fn echo_string(v: String) -> String {
        v
    }

    fn echo_pair(a: f32, b: f64) -> (f32, f64) {
        (a, b)
    }

    fn echo_lists(
        a: Vec<u64>,
        b: Vec<f32>,
        c: Vec<bool>,
        d: Vec<char>,
        e: Vec<i16>,
    ) -> (Vec<u64>, Vec<f32>, Vec<bool>, Vec<char>, Vec<i16>) {
        (a, b, c, d, e)
    }

    fn echo_color(v: Color) -> Color {
        v
    }

    fn echo_full(v: Full) -> Full {
        v
    }

    fn echo_option(v: Option<u8>) -> Option<u8> {
        v
    }

    fn echo_result(v: Result<String, u32>) -> Result<String, u32> {
        v
    }

    fn echo_err_only(v: Result<(), Color>) -> Result<(), Color> {
        v
    }

    fn echo_bare(v: Result<(), ()>) -> Result<(), ()> {
        v
    }

    fn echo_shape(v: Shape) -> Shape {
        v
    }

    fn echo_casts(a: CastsA, b: CastsB, c: Option<CastsB>) -> (CastsA, CastsB, Option<CastsB>) {
        (a, b, c)
    }

    fn via_host_casts(
        a: CastsA,
        b: CastsB,
        c: Option<CastsB>,
    ) -> (CastsA, CastsB, Option<CastsB>) {
        host::pass_casts(&a, &b, &c)
    }

    fn echo_spilled(
        a: u8,
        b: u16,
        c: u32,
        d: u64,
        e: i8,
        f: i16,
        g: i32,
        h: i64,
        i: f32,
        j: f64,
        k: char,
        l: bool,
        m: String,
        n: Point,
        o: Shape,
    ) -> Spilled {
        (a, b, c, d, e, f, g, h, i, j, k, l, m, n, o)
    }

    fn via_host_spilled(
        a: u8,
        b: u16,
        c: u32,
        d: u64,
        e: i8,
        f: i16,
        g: i32,
        h: i64,
        i: f32,
        j: f64,
        k: char,
        l: bool,
        m: String,
        n: Point,
        o: Shape,
    ) -> Spilled {
        host::pass_spilled(a, b, c, d, e, f, g, h, i, j, k, l, &m, &n, &o)
    }

    fn via_host_strings(n: u32) -> String {
        host::strings(n).join(",")
    }

    fn via_host_nothing(n: u32) {
        for _ in 0..n {
            host::nothing();
        }
    }
}

impl flat::Guest for Flat {
    fn stamp(r#where: Point) -> Stamped {
        Stamped { at: flat::clock(), r#where }
    }
}

runtime_flat_sdk::export_flat!(Flat);
