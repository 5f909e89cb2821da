//! Test guest for tests/rust/wit/main.wit: a world-level export called `main` (its core export
//! is `cm32p2||main`, since Rust on wasm32 reserves the symbol `main`) and an interface one.

use main_sdk::runner::start;
use main_sdk::runner::Guest;

struct Runner;

impl Guest for Runner {
    fn main(args: Vec<String>) -> String {
        format!("main({})", args.join(","))
    }
}

impl start::Guest for Runner {
    fn main() -> u32 {
        42
    }
}

main_sdk::export_runner!(Runner);
