//! A streaming destination of `dataflare:core@1.1.0` (world `streaming-destination-plugin`),
//! written the way witgen's Rust SDK will generate it: `rt` is the SDK's async runtime, used
//! verbatim; the lifting of `data-record` and the per-type imports are what the generator is to
//! emit.
//!
//! `write(records)` reads the stream to its end and returns a digest of everything it received
//! (so the host can check each value arrived intact): the wrapping sum over the records of the
//! timestamp and the byte lengths of the id, the payload and every metadata key and value, plus
//! the bytes of the payloads.

extern crate alloc;

#[path = "../../../../witgen/backends/rust/async_support.rs"]
mod rt;

use rt::{Lift, StreamReadOps, StreamReader};

pub struct DataRecord {
    pub id: String,
    pub timestamp: i64,
    pub payload: Vec<u8>,
    pub metadata: Vec<(String, String)>,
}

unsafe fn get(at: *const u8, offset: usize) -> usize {
    (at.add(offset) as *const u32).read_unaligned() as usize
}

/// A string the host wrote with `cabi_realloc` (align 1): it becomes the guest's own.
unsafe fn take_string(at: *const u8, offset: usize) -> String {
    String::from_utf8_unchecked(take_bytes(at, offset))
}

/// A `list<u8>` the host wrote with `cabi_realloc` (align 1); an empty one owns no block.
unsafe fn take_bytes(at: *const u8, offset: usize) -> Vec<u8> {
    let (ptr, len) = (get(at, offset), get(at, offset + 4));
    if len == 0 {
        return Vec::new();
    }
    Vec::from_raw_parts(ptr as *mut u8, len, len)
}

impl Lift for DataRecord {
    const SIZE: usize = 32;
    const ALIGN: usize = 8;

    unsafe fn load(at: *const u8) -> Self {
        let id = take_string(at, 0);
        let timestamp = (at.add(8) as *const i64).read_unaligned();
        let payload = take_bytes(at, 16);
        let (pairs, count) = (get(at, 24) as *const u8, get(at, 28));
        let metadata = (0..count)
            .map(|i| (take_string(pairs, i * 16), take_string(pairs, i * 16 + 8)))
            .collect();
        if count > 0 {
            let layout = std::alloc::Layout::from_size_align_unchecked(count * 16, 4);
            std::alloc::dealloc(pairs as *mut u8, layout);
        }
        DataRecord { id, timestamp, payload, metadata }
    }
}

#[link(wasm_import_module = "[export]dataflare:core/streaming-destination@1.1.0")]
extern "C" {
    #[link_name = "[task-return]write"]
    fn task_return_write(disc: u32, a: i64, b: u32, c: u32, d: u32, e: u32, f: u32);
    #[link_name = "[async-lower][stream-read-0]write"]
    fn write_stream_read(readable: u32, ptr: *mut u8, n: u32) -> u32;
    #[link_name = "[stream-drop-readable-0]write"]
    fn write_stream_drop_readable(readable: u32);
}

pub struct WriteStream;

impl StreamReadOps for WriteStream {
    unsafe fn read(readable: u32, ptr: *mut u8, n: u32) -> u32 {
        write_stream_read(readable, ptr, n)
    }
    fn drop_readable(readable: u32) {
        unsafe { write_stream_drop_readable(readable) }
    }
}

async fn write(records: u32) {
    let mut reader = StreamReader::<DataRecord, WriteStream>::from_handle(records);
    let mut digest: u64 = 0;
    while let Some(batch) = reader.next_batch(128).await {
        for r in batch {
            let mut d = (r.timestamp as u64)
                .wrapping_add(r.id.len() as u64)
                .wrapping_add(r.payload.len() as u64);
            for b in &r.payload {
                d = d.wrapping_add(*b as u64);
            }
            for (k, v) in &r.metadata {
                d = d.wrapping_add(k.len() as u64).wrapping_add(v.len() as u64);
            }
            digest = digest.wrapping_add(d);
        }
    }
    drop(reader);
    unsafe { task_return_write(0, digest as i64, 0, 0, 0, 0, 0) };
}

#[export_name = "[async-lift]dataflare:core/streaming-destination@1.1.0#write"]
extern "C" fn export_write(records: u32) -> u32 {
    rt::start(write(records))
}

#[export_name = "[callback][async-lift]dataflare:core/streaming-destination@1.1.0#write"]
extern "C" fn export_write_callback(event: u32, handle: u32, payload: u32) -> u32 {
    rt::callback(event, handle, payload)
}

static mut INFO: [u32; 5] = [0; 5];

#[export_name = "dataflare:core/streaming-destination@1.1.0#info"]
extern "C" fn export_info() -> *const u32 {
    let name = "rust-async-destination";
    let version = "0.1.0";
    unsafe {
        let info = &raw mut INFO;
        (*info)[0] = name.as_ptr() as u32;
        (*info)[1] = name.len() as u32;
        (*info)[2] = version.as_ptr() as u32;
        (*info)[3] = version.len() as u32;
        (*info)[4] = 0;
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
