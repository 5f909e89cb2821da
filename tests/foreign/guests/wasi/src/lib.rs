//! A guest of tests/foreign/wit/wasi.wit built with the `wit-bindgen` crate for wasm32-wasip1:
//! Rust's std reaches the host through WASI (stdout, stderr, environment, arguments, files,
//! clocks).

wit_bindgen::generate!({ path: "src/wasi.wit", world: "wasi-guest" });

struct Plugin;

impl Guest for Plugin {
    fn greet(name: String) -> String {
        println!("hello from stdout, {name}");
        eprintln!("and from stderr");
        let greeting = std::env::var("GREETING").unwrap_or_else(|_| "none".to_string());
        format!("{name}|{greeting}|{}", std::env::args().count())
    }

    fn read_file(path: String) -> Result<String, String> {
        std::fs::read_to_string(&path).map_err(|e| format!("{:?}", e.kind()))
    }

    fn now_positive() -> bool {
        let wall = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH);
        let start = std::time::Instant::now();
        wall.map(|d| d.as_secs() > 1_600_000_000).unwrap_or(false) && start.elapsed().as_secs() < 60
    }
}

export!(Plugin);
