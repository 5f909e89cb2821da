//! A guest of tests/async/wit/broad.wit on witgen's generated Rust SDK: it uses every core
//! import the SDK declares for its futures, streams and async exports (so `component new`
//! checks each name and signature against the WIT), and every async export shape.

use broad_sdk::async_rt::{
    join, ErrorContext, FutureOps, FutureReadOps, FutureReader, FutureWriter, StreamOps,
    StreamReadOps, StreamReader, StreamWriter,
};
use broad_sdk::broad::pipes::{
    task_return_fail, task_return_nothing, task_return_split, task_return_wrap, Framed, Pipes,
    PlainStream0, SplitFuture1, SplitStream0, SplitStream2, WrapFuture1, WrapStream0,
};
use broad_sdk::broad::{
    clock, double, sink, task_return_relay, task_return_top, Guest, SinkStream0, TopFuture0,
};

/// Writes a default element to a new stream of type `O`, then reads it back.
async fn stream_round_trip<O>() -> usize
where
    O: StreamOps + StreamReadOps,
    <O as StreamOps>::Item: Default,
{
    let (readable, mut writer) = StreamWriter::<O>::new();
    let written = writer.write_all(vec![Default::default()]).await;
    drop(writer);
    let mut reader = StreamReader::<O>::from_handle(readable);
    written + reader.next_batch(1).await.map_or(0, |v| v.len())
}

/// Writes a default value to a new future of type `O`, then reads it back.
async fn future_round_trip<O>() -> bool
where
    O: FutureOps + FutureReadOps,
    <O as FutureOps>::Item: Default,
{
    let (readable, writer) = FutureWriter::<O>::new();
    let written = writer.write(Default::default()).await;
    written && FutureReader::<O>::from_handle(readable).read().await.is_some()
}

struct Broad;

impl Pipes for Broad {
    async fn split(bytes: u32, sizes: u32) {
        let mut input = StreamReader::<SplitStream0>::from_handle(bytes);
        let sizes = FutureReader::<SplitFuture1>::from_handle(sizes).read().await;
        let (out, mut writer) = StreamWriter::<SplitStream2>::new();
        task_return_split(out);
        let mut data = Vec::new();
        while let Some(chunk) = input.next_batch(64).await {
            data.extend(chunk);
        }
        let mut start = 0;
        for size in sizes.unwrap_or_default() {
            let end = (start + size as usize).min(data.len());
            let piece = String::from_utf8_lossy(&data[start..end]).into_owned();
            writer.write_all(vec![piece]).await;
            start = end;
        }
    }

    async fn wrap(f: Framed) {
        let mut body = StreamReader::<WrapStream0>::from_handle(f.body);
        let mut n = f.name.len() as u32;
        while let Some(chunk) = body.next_batch(64).await {
            n += chunk.len() as u32;
        }
        let (readable, writer) = FutureWriter::<WrapFuture1>::new();
        task_return_wrap(&Some(readable));
        writer.write(n).await;
    }

    async fn fail(e: u32) {
        let received = ErrorContext::from_handle(e);
        let mine = ErrorContext::new("failed on purpose");
        task_return_fail(&Err(mine.handle()));
        drop((received, mine));
    }

    /// Copies within this instance (what the spec allows for number types only): it exists to
    /// link every import of the SDK, the tests do not call it.
    async fn nothing() {
        task_return_nothing();
        stream_round_trip::<SplitStream0>().await;
        future_round_trip::<SplitFuture1>().await;
        stream_round_trip::<SplitStream2>().await;
        stream_round_trip::<WrapStream0>().await;
        future_round_trip::<WrapFuture1>().await;
        future_round_trip::<TopFuture0>().await;
        stream_round_trip::<PlainStream0>().await;
        stream_round_trip::<SinkStream0>().await;
    }

    fn plain() -> u32 {
        let (readable, writer) = StreamWriter::<PlainStream0>::new();
        drop(writer);
        readable
    }
}

impl Guest for Broad {
    async fn top(n: u32) {
        let (readable, writer) = FutureWriter::<TopFuture0>::new();
        task_return_top(readable);
        writer.write(format!("{n}")).await;
    }

    async fn relay(s: String, n: u32) {
        let at = clock::now(n).await;
        let doubled = double(&s, n).await;
        let (data, mut writer) = StreamWriter::<SinkStream0>::new();
        let bytes = s.into_bytes();
        let (count, _) = join(sink(data), async move {
            writer.write_all(bytes).await;
            drop(writer);
        })
        .await;
        task_return_relay(&(doubled, at + count as u64));
    }
}

broad_sdk::export_broad!(Broad);
