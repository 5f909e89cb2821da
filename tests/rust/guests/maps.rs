//! Test guest for tests/rust/wit/maps.wit: each export changes its argument a little, passes
//! it to the import of the same name and returns what the host answered (changed again), so
//! maps are lifted and lowered on both sides of the guest.

use std::collections::BTreeMap;

use maps_sdk::maps_guest::maps;
use maps_sdk::maps_guest::maps_export::{Holder, Maps, Tally};

struct Guest;

impl Maps for Guest {
    fn pass(m: BTreeMap<String, u32>) -> BTreeMap<String, u32> {
        let bumped: BTreeMap<String, u32> = m.into_iter().map(|(k, v)| (k, v + 1)).collect();
        maps::pass(&bumped)
    }

    fn group(m: BTreeMap<u32, Vec<String>>) -> Tally {
        let tally = maps::group(&m);
        let mut counts = tally.counts;
        counts.insert("rust".to_string(), m.len() as u32);
        Tally {
            counts,
            total: tally.total + 1,
        }
    }

    fn hold(
        h: Holder,
        o: Option<BTreeMap<char, Tally>>,
    ) -> (Holder, Option<BTreeMap<char, Tally>>) {
        let (h, o) = maps::hold(&into_import(h), &o.map(|m| m.into_iter().map(|(k, t)| (k, tally_in(t))).collect()));
        (from_import(h), o.map(|m| m.into_iter().map(|(k, t)| (k, tally_out(t))).collect()))
    }
}

fn tally_in(t: Tally) -> maps::Tally {
    maps::Tally { counts: t.counts, total: t.total }
}

fn tally_out(t: maps::Tally) -> Tally {
    Tally { counts: t.counts, total: t.total }
}

fn into_import(h: Holder) -> maps::Holder {
    match h {
        Holder::None => maps::Holder::None,
        Holder::Some(m) => maps::Holder::Some(m),
        Holder::Floats(m) => maps::Holder::Floats(m),
    }
}

fn from_import(h: maps::Holder) -> Holder {
    match h {
        maps::Holder::None => Holder::None,
        maps::Holder::Some(m) => Holder::Some(m),
        maps::Holder::Floats(m) => Holder::Floats(m),
    }
}

maps_sdk::export_maps_guest!(Guest);
