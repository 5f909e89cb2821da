//! An async guest of tests/foreign/wit/async.wit built with the `wit-bindgen` crate's async
//! support (not witgen): async exports, `wit_bindgen::spawn_local` writers, streams, futures.

wit_bindgen::generate!({ path: "src/async.wit", world: "async-shapes" });

use exports::foreign::streams::pipes::Guest;
use foreign::streams::host_io::{self, Item};
use wit_bindgen::rt::async_support::ErrorContext;
use wit_bindgen::{FutureReader, StreamReader, StreamResult};

thread_local! {
    static CANCELLED: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
}

struct Plugin;

/// A panic's message goes to the host's `log` before the guest aborts.
fn report_panics() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| std::panic::set_hook(Box::new(|info| host_io::log(&info.to_string()))));
}

fn item(i: u32) -> Item {
    Item {
        id: i,
        name: format!("item-{i}"),
        tags: (0..i % 4).map(|t| format!("t{t}")).collect(),
        score: i as f64 / 2.0,
    }
}

impl Guest for Plugin {
    async fn echo(s: String, n: u32) -> String {
        report_panics();
        wit_bindgen::yield_async().await;
        format!("{s}:{n}")
    }

    async fn count_bytes(n: u32, chunk: u32) -> StreamReader<u8> {
        let (mut tx, rx) = wit_stream::new::<u8>();
        wit_bindgen::spawn_local(async move {
            let mut i = 0u32;
            while i < n {
                let end = n.min(i + chunk.max(1));
                let buf: Vec<u8> = (i..end).map(|b| b as u8).collect();
                let rest = tx.write_all(buf).await;
                if !rest.is_empty() {
                    return; // the reader went away
                }
                i = end;
            }
        });
        rx
    }

    async fn items(start: u32, n: u32) -> (StreamReader<Item>, FutureReader<u32>) {
        let (mut tx, rx) = wit_stream::new::<Item>();
        let (ftx, frx) = wit_future::new::<u32>(|| u32::MAX);
        wit_bindgen::spawn_local(async move {
            let mut written = 0u32;
            while written < n {
                if tx.write_one(item(start + written)).await.is_some() {
                    break; // dropped by the host
                }
                written += 1;
            }
            drop(tx);
            let _ = ftx.write(written).await;
        });
        (rx, frx)
    }

    async fn sum_bytes(mut data: StreamReader<u8>) -> u64 {
        let mut total = 0u64;
        loop {
            let (result, buf) = data.read(Vec::with_capacity(100)).await;
            total += buf.iter().map(|b| *b as u64).sum::<u64>();
            if let StreamResult::Dropped = result {
                break;
            }
        }
        total
    }

    async fn rename(mut input: StreamReader<Item>, suffix: String) -> StreamReader<Item> {
        let (mut tx, rx) = wit_stream::new::<Item>();
        wit_bindgen::spawn_local(async move {
            while let Some(mut it) = input.next().await {
                it.name.push_str(&suffix);
                it.tags.reverse();
                if tx.write_one(it).await.is_some() {
                    break;
                }
            }
        });
        rx
    }

    async fn await_value(f: FutureReader<String>) -> String {
        let s = f.await;
        format!("got {s}")
    }

    async fn later(v: u64, fail: bool) -> FutureReader<Result<u64, String>> {
        let (tx, rx) = wit_future::new::<Result<u64, String>>(|| Err("dropped".to_string()));
        wit_bindgen::spawn_local(async move {
            wit_bindgen::yield_async().await;
            let value = if fail { Err(format!("failed {v}")) } else { Ok(v * 2) };
            let _ = tx.write(value).await;
        });
        rx
    }

    async fn lookup(keys: Vec<String>) -> Vec<Option<Vec<u8>>> {
        let mut out = Vec::new();
        for key in keys {
            out.push(host_io::fetch(key).await);
        }
        out
    }

    async fn forward(n: u32) -> u64 {
        let (mut tx, rx) = wit_stream::new::<Item>();
        let writer = async move {
            for i in 0..n {
                if tx.write_one(item(i)).await.is_some() {
                    break;
                }
            }
        };
        let (answer, ()) = futures_join(host_io::collect(rx), writer).await;
        answer
    }

    fn version() -> String {
        "wit-bindgen async".to_string()
    }

    async fn abandon() -> FutureReader<u32> {
        let (tx, rx) = wit_future::new::<u32>(|| 7);
        drop(tx);
        rx
    }

    async fn wait_for(f: FutureReader<u32>) -> u32 {
        report_panics();
        struct Guard(bool);
        impl Drop for Guard {
            fn drop(&mut self) {
                if !self.0 {
                    CANCELLED.with(|c| c.set(c.get() + 1));
                }
            }
        }
        let mut guard = Guard(false);
        let v = f.await;
        guard.0 = true;
        v + 1
    }

    fn cancelled() -> u32 {
        CANCELLED.with(|c| c.get())
    }

    async fn fetch_both(a: String, b: String) -> (Option<Vec<u8>>, Option<Vec<u8>>) {
        futures_join(host_io::fetch(a), host_io::fetch(b)).await
    }

    async fn errors(fail: bool, e: ErrorContext) -> Result<String, ErrorContext> {
        if fail {
            Err(ErrorContext::new(&format!("guest: {}", e.debug_message())))
        } else {
            Ok(e.debug_message())
        }
    }
}

/// Runs both futures to completion concurrently (no extra crate).
async fn futures_join<A: std::future::Future, B: std::future::Future>(a: A, b: B) -> (A::Output, B::Output) {
    use std::pin::pin;
    use std::task::Poll;
    let mut a = pin!(a);
    let mut b = pin!(b);
    let mut ra = None;
    let mut rb = None;
    std::future::poll_fn(move |cx| {
        if ra.is_none() {
            if let Poll::Ready(v) = a.as_mut().poll(cx) {
                ra = Some(v);
            }
        }
        if rb.is_none() {
            if let Poll::Ready(v) = b.as_mut().poll(cx) {
                rb = Some(v);
            }
        }
        if ra.is_some() && rb.is_some() {
            Poll::Ready((ra.take().unwrap(), rb.take().unwrap()))
        } else {
            Poll::Pending
        }
    })
    .await
}

export!(Plugin);
