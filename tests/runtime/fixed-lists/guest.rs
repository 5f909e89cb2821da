//! The fixed-length lists guest in Rust: fixed lists are arrays.

use runtime_fixed_lists_sdk::fixed_lists::guest::{Grid, Guest};
use runtime_fixed_lists_sdk::imports::runtime::fixed_lists::host;

struct Fixed;

impl Guest for Fixed {
    fn rotate(v: [u32; 3]) -> [u32; 3] {
        [v[1], v[2], v[0]]
    }

    fn echo_grid(g: Grid) -> Grid {
        g
    }

    fn via_host_grid(g: Grid) -> Grid {
        host::pass_grid(&g)
    }

    fn reverse_bytes(b: [u8; 4]) -> [u8; 4] {
        [b[3], b[2], b[1], b[0]]
    }

    fn wide(a: [u64; 4], b: [f32; 4], c: [u32; 9]) -> [String; 3] {
        let sa: u64 = a.iter().sum();
        let sb: f32 = b[0] + b[1] + b[2] + b[3];
        let sc: u64 = c.iter().map(|&x| x as u64).sum();
        [sa.to_string(), sb.to_string(), sc.to_string()]
    }

    fn optional(v: Option<[i16; 2]>) -> Result<[char; 2], [bool; 3]> {
        match v {
            None => Err([true, false, true]),
            Some(x) => {
                let letter = (b'A' + (x[0] as i32).rem_euclid(26) as u8) as char;
                Ok([letter, 'é'])
            }
        }
    }
}

runtime_fixed_lists_sdk::export_fixed_lists!(Fixed);
