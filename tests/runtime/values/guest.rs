//! The values guest in Rust: each echo returns its argument, each via-host passes it through
//! the host's import of the same type.

use runtime_values_sdk::imports::runtime::values::host;
use runtime_values_sdk::values::guest::{Guest, Nested, Point, Scalars};

struct Values;

impl Guest for Values {
    fn echo_scalars(v: Scalars) -> Scalars {
        v
    }

    fn echo_nested(v: Nested) -> Nested {
        v
    }

    fn echo_points(v: Vec<Point>) -> Vec<Point> {
        v
    }

    fn echo_strings(v: Vec<String>) -> Vec<String> {
        v
    }

    fn echo_bytes(v: Vec<u8>) -> Vec<u8> {
        v
    }

    fn count_chars(s: String) -> u32 {
        s.chars().count() as u32
    }

    fn via_host_scalars(v: Scalars) -> Scalars {
        host::pass_scalars(&v)
    }

    fn via_host_nested(v: Nested) -> Nested {
        host::pass_nested(&v)
    }
}

runtime_values_sdk::export_values!(Values);
