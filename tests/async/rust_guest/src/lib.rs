//! A streaming source of `dataflare:core@1.1.0` (world `streaming-source-plugin`), written the
//! way witgen's Rust SDK will generate it: the export glue and the per-type stream/future imports
//! below are what the generator is to emit; `rt` is the SDK's async runtime, used verbatim.
//!
//! `read(position)` returns a stream of `data-record`s counting up from `position` until the host
//! drops the stream, and a future with the position to resume from.

extern crate alloc;

#[path = "../../../../witgen/backends/rust/async_support.rs"]
mod rt;

use rt::{FutureOps, FutureWriter, Lower, StreamOps, StreamWriter};

pub struct DataRecord {
    pub id: String,
    pub timestamp: i64,
    pub payload: Vec<u8>,
    pub metadata: Vec<(String, String)>,
}

unsafe fn put(at: *mut u8, offset: usize, value: u32) {
    (at.add(offset) as *mut u32).write_unaligned(value);
}

impl Lower for DataRecord {
    const SIZE: usize = 32;
    const ALIGN: usize = 8;

    unsafe fn store(&self, at: *mut u8, keep: &mut Vec<Vec<u64>>) {
        put(at, 0, self.id.as_ptr() as u32);
        put(at, 4, self.id.len() as u32);
        (at.add(8) as *mut i64).write_unaligned(self.timestamp);
        put(at, 16, self.payload.as_ptr() as u32);
        put(at, 20, self.payload.len() as u32);
        let mut pairs: Vec<u64> = vec![0; self.metadata.len() * 2];
        let base = pairs.as_mut_ptr() as *mut u8;
        for (i, (k, v)) in self.metadata.iter().enumerate() {
            put(base, i * 16, k.as_ptr() as u32);
            put(base, i * 16 + 4, k.len() as u32);
            put(base, i * 16 + 8, v.as_ptr() as u32);
            put(base, i * 16 + 12, v.len() as u32);
        }
        put(at, 24, base as u32);
        put(at, 28, self.metadata.len() as u32);
        keep.push(pairs);
    }
}

/// `result<u64, plugin-error>`, only its `ok` case here.
pub struct Resume(pub u64);

impl Lower for Resume {
    const SIZE: usize = 32;
    const ALIGN: usize = 8;

    unsafe fn store(&self, at: *mut u8, _keep: &mut Vec<Vec<u64>>) {
        *at = 0;
        (at.add(8) as *mut u64).write_unaligned(self.0);
    }
}

#[link(wasm_import_module = "[export]dataflare:core/streaming-source@1.1.0")]
extern "C" {
    #[link_name = "[task-return]read"]
    fn task_return_read(stream: u32, future: u32);
    #[link_name = "[stream-new-0]read"]
    fn read_stream_new() -> u64;
    #[link_name = "[async-lower][stream-write-0]read"]
    fn read_stream_write(writable: u32, ptr: *const u8, n: u32) -> u32;
    #[link_name = "[stream-drop-writable-0]read"]
    fn read_stream_drop_writable(writable: u32);
    #[link_name = "[future-new-1]read"]
    fn read_future_new() -> u64;
    #[link_name = "[async-lower][future-write-1]read"]
    fn read_future_write(writable: u32, ptr: *const u8) -> u32;
    #[link_name = "[future-drop-writable-1]read"]
    fn read_future_drop_writable(writable: u32);
}

pub struct ReadStream;

impl StreamOps for ReadStream {
    fn new() -> (u32, u32) {
        let pair = unsafe { read_stream_new() };
        (pair as u32, (pair >> 32) as u32)
    }
    unsafe fn write(writable: u32, ptr: *const u8, n: u32) -> u32 {
        read_stream_write(writable, ptr, n)
    }
    fn drop_writable(writable: u32) {
        unsafe { read_stream_drop_writable(writable) }
    }
}

pub struct ReadFuture;

impl FutureOps for ReadFuture {
    fn new() -> (u32, u32) {
        let pair = unsafe { read_future_new() };
        (pair as u32, (pair >> 32) as u32)
    }
    unsafe fn write(writable: u32, ptr: *const u8) -> u32 {
        read_future_write(writable, ptr)
    }
    fn drop_writable(writable: u32) {
        unsafe { read_future_drop_writable(writable) }
    }
}

const BATCH: u64 = 256;

async fn read(position: u64) {
    let (records, mut writer) = StreamWriter::<DataRecord, ReadStream>::new();
    let (resume, done) = FutureWriter::<Resume, ReadFuture>::new();
    unsafe { task_return_read(records, resume) };
    let mut next = position;
    while !writer.is_closed() {
        let batch: Vec<DataRecord> = (next..next + BATCH)
            .map(|i| DataRecord {
                id: format!("rec-{i}"),
                timestamp: 1_700_000_000_000 + i as i64,
                payload: i.to_le_bytes().to_vec(),
                metadata: vec![("source".to_string(), "rust-async".to_string())],
            })
            .collect();
        next += writer.write_all(batch).await as u64;
    }
    drop(writer);
    done.write(Resume(next)).await;
}

#[export_name = "[async-lift]dataflare:core/streaming-source@1.1.0#read"]
extern "C" fn export_read(position: i64) -> u32 {
    rt::start(read(position as u64))
}

#[export_name = "[callback][async-lift]dataflare:core/streaming-source@1.1.0#read"]
extern "C" fn export_read_callback(event: u32, handle: u32, payload: u32) -> u32 {
    rt::callback(event, handle, payload)
}

static mut INFO: [u32; 5] = [0; 5];

#[export_name = "dataflare:core/streaming-source@1.1.0#info"]
extern "C" fn export_info() -> *const u32 {
    let name = "rust-async-source";
    let version = "0.1.0";
    unsafe {
        let info = &raw mut INFO;
        (*info)[0] = name.as_ptr() as u32;
        (*info)[1] = name.len() as u32;
        (*info)[2] = version.as_ptr() as u32;
        (*info)[3] = version.len() as u32;
        (*info)[4] = 0b100; // ordered
        info as *const u32
    }
}

#[no_mangle]
unsafe extern "C" fn cabi_realloc(old: *mut u8, old_size: usize, align: usize, size: usize) -> *mut u8 {
    use std::alloc::{alloc, realloc, Layout};
    if size == 0 {
        return align as *mut u8;
    }
    if old.is_null() {
        alloc(Layout::from_size_align_unchecked(size, align))
    } else {
        realloc(old, Layout::from_size_align_unchecked(old_size, align), size)
    }
}
