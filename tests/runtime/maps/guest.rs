//! The maps guest in Rust: maps are `BTreeMap`s.

use std::collections::BTreeMap;

use runtime_maps_sdk::imports::runtime::maps::host;
use runtime_maps_sdk::maps::guest::{Guest, Tally};

struct Maps;

impl Guest for Maps {
    fn echo_map(m: BTreeMap<String, u32>) -> BTreeMap<String, u32> {
        m
    }

    fn group(m: BTreeMap<u32, Vec<String>>) -> Tally {
        let counts = m.iter().map(|(k, v)| (k.to_string(), v.len() as u32)).collect();
        let total = m.values().map(|v| v.len() as u64).sum();
        Tally { counts, total }
    }

    fn via_host_map(m: BTreeMap<String, u32>) -> BTreeMap<String, u32> {
        host::pass_map(&m)
    }
}

runtime_maps_sdk::export_maps!(Maps);
