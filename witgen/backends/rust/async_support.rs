//! Async support of witgen's Rust guest SDK: a tiny executor for callback-lifted exports,
//! stream and future writers, and error contexts. `no_std` + `alloc` only.
//!
//! The component model's callback ABI drives it. An async export starts a task (`start`): the
//! export's future is boxed, its state is put behind the context slot 0 of the task (so tasks of
//! one instance never mix), and the future is polled once. Whenever the future waits for a copy
//! that the host reported as BLOCKED, it joins that stream or future end to the task's waitable
//! set and returns `Pending`; the task then answers WAIT to the host. The host calls the export's
//! callback with each event (`callback`), which files the event under its handle and polls the
//! future again. A ready future ends the task (EXIT); its set is dropped.
//!
//! A task the caller cancels (TASK_CANCELLED, before it reported its result) is a flag on the
//! task: its future is dropped without another poll. Dropping it cancels what it waited for (a
//! copy in flight is cancelled before its buffer goes; an async import's subtask is cancelled,
//! and the task waits for the subtask to resolve before dropping it); then the task reports
//! the cancellation (`task.cancel`) and exits.
//!
//! Generated code provides, per payload type, the core imports of one stream or future type of
//! one function and how its values are laid out in memory (`StreamOps`, `StreamReadOps`,
//! `FutureOps`).

use alloc::boxed::Box;
use alloc::collections::BTreeMap;
use alloc::rc::Rc;
use alloc::vec::Vec;
use core::any::Any;
use core::future::Future;
use core::marker::PhantomData;
use core::pin::Pin;
use core::task::{Context, Poll, RawWaker, RawWakerVTable, Waker};

/// A copy the host could not complete at once; its result comes as an event.
pub const BLOCKED: u32 = 0xffff_ffff;
/// Copy results (the low 4 bits of a copy's answer; the rest is the element count).
pub const COMPLETED: u32 = 0;
pub const DROPPED: u32 = 1;
pub const CANCELLED: u32 = 2;
const CALLBACK_EXIT: u32 = 0;
const CALLBACK_WAIT: u32 = 2;
const TASK_CANCELLED: u32 = 6;
/// Subtask states: at or above RETURNED, the subtask is resolved.
const RETURNED: u32 = 2;

#[link(wasm_import_module = "$root")]
extern "C" {
    #[link_name = "[waitable-set-new]"]
    fn waitable_set_new() -> u32;
    #[link_name = "[waitable-set-drop]"]
    fn waitable_set_drop(set: u32);
    #[link_name = "[waitable-join]"]
    fn waitable_join(waitable: u32, set: u32);
    #[link_name = "[context-get-0]"]
    fn context_get() -> u32;
    #[link_name = "[context-set-0]"]
    fn context_set(value: u32);
    #[link_name = "[error-context-new-utf8]"]
    fn error_context_new(ptr: *const u8, len: usize) -> u32;
    #[link_name = "[error-context-drop]"]
    fn error_context_drop(handle: u32);
    #[link_name = "[subtask-drop]"]
    fn subtask_drop(handle: u32);
    #[link_name = "[async-lower][subtask-cancel]"]
    fn subtask_cancel(handle: u32) -> u32;
}

struct Task {
    /// None once the task was cancelled (the future was dropped).
    future: Option<Pin<Box<dyn Future<Output = ()>>>>,
    set: u32,
    /// Events the host delivered, by handle, not yet taken by the future waiting for them.
    events: BTreeMap<u32, u32>,
    /// The caller cancelled the task (TASK_CANCELLED).
    cancelled: bool,
    /// Subtasks cancelled when the future was dropped, not resolved yet.
    cancelling: Vec<u32>,
    /// The export's `task.cancel`.
    task_cancel: unsafe extern "C" fn(),
}

fn current() -> &'static mut Task {
    // SAFETY: context slot 0 holds the running task's state from `start` until it exits.
    unsafe { &mut *(context_get() as usize as *mut Task) }
}

/// Starts the task of an async export; returns the packed callback code for the host.
/// `task_cancel` is the export's `task.cancel` (its interface's `[task-cancel]` import).
pub fn start(
    future: impl Future<Output = ()> + 'static,
    task_cancel: unsafe extern "C" fn(),
) -> u32 {
    let task = Box::new(Task {
        future: Some(Box::pin(future)),
        set: unsafe { waitable_set_new() },
        events: BTreeMap::new(),
        cancelled: false,
        cancelling: Vec::new(),
        task_cancel,
    });
    unsafe { context_set(Box::into_raw(task) as usize as u32) };
    poll_current()
}

/// The async export's callback: files the host's event (or notes the cancellation), then
/// polls the task again.
pub fn callback(event: u32, handle: u32, payload: u32) -> u32 {
    if event == TASK_CANCELLED {
        current().cancelled = true;
    } else if event != 0 {
        current().events.insert(handle, payload);
    }
    poll_current()
}

fn poll_current() -> u32 {
    let task = current();
    if task.cancelled {
        if let Some(future) = task.future.take() {
            drop(future); // its guards cancel copies and subtasks in flight
        }
        return settle_cancelled();
    }
    let waker = noop_waker();
    let mut cx = Context::from_waker(&waker);
    let Some(future) = task.future.as_mut() else {
        return CALLBACK_WAIT | (task.set << 4);
    };
    match future.as_mut().poll(&mut cx) {
        Poll::Pending => CALLBACK_WAIT | (task.set << 4),
        Poll::Ready(()) => {
            finish(task);
            CALLBACK_EXIT
        }
    }
}

/// Ends the task: frees it, resets the context slot and drops its waitable set.
fn finish(task: &'static mut Task) {
    let set = task.set;
    // SAFETY: the pointer came from Box::into_raw in `start`; nothing uses it after.
    unsafe {
        drop(Box::from_raw(task as *mut Task));
        context_set(0);
        waitable_set_drop(set);
    }
}

/// After the future of a cancelled task was dropped: waits for the subtasks it cancelled to
/// resolve (dropping them), then reports the cancellation and exits.
fn settle_cancelled() -> u32 {
    let task = current();
    let mut i = 0;
    while i < task.cancelling.len() {
        let handle = task.cancelling[i];
        match task.events.remove(&handle) {
            Some(state) if state >= RETURNED => {
                unsafe {
                    waitable_join(handle, 0);
                    subtask_drop(handle);
                }
                task.cancelling.swap_remove(i);
            }
            _ => i += 1,
        }
    }
    if !task.cancelling.is_empty() {
        return CALLBACK_WAIT | (task.set << 4);
    }
    let task_cancel = task.task_cancel;
    unsafe { task_cancel() };
    finish(task);
    CALLBACK_EXIT
}

// The callback ABI re-polls a task on each of its events, so wakers have nothing to do.
fn noop_waker() -> Waker {
    fn clone(_: *const ()) -> RawWaker {
        RawWaker::new(core::ptr::null(), &VTABLE)
    }
    fn noop(_: *const ()) {}
    static VTABLE: RawWakerVTable = RawWakerVTable::new(clone, noop, noop, noop);
    // SAFETY: every vtable function ignores the data pointer.
    unsafe { Waker::from_raw(RawWaker::new(core::ptr::null(), &VTABLE)) }
}

/// The answer of a copy on `handle`: at once, or from the event once the host delivers it.
/// Dropped while the copy is in flight (its task was cancelled), it cancels the copy with
/// `cancel` (a synchronous cancel: done when it returns), before the caller's buffer goes.
async fn completion(handle: u32, answer: u32, cancel: fn(u32) -> u32) -> u32 {
    if answer != BLOCKED {
        return answer;
    }
    unsafe { waitable_join(handle, current().set) };
    let mut guard = CopyGuard {
        handle,
        cancel,
        armed: true,
    };
    let answer = EventFor(handle).await;
    guard.armed = false;
    answer
}

struct CopyGuard {
    handle: u32,
    cancel: fn(u32) -> u32,
    armed: bool,
}

impl Drop for CopyGuard {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        unsafe { waitable_join(self.handle, 0) };
        // an event already delivered ended the copy; otherwise it is still in flight
        if current().events.remove(&self.handle).is_none() {
            (self.cancel)(self.handle);
        }
    }
}

/// Waits for the call of an async import to return: `status` is what its `[async-lower]` core
/// function answered (the subtask's state, its handle above the low 4 bits); the subtask is
/// dropped once it returned. Only inside the task of an async export. Dropped before (its
/// task was cancelled), it cancels the subtask; the task drops it once it resolved.
pub async fn subtask(status: u32) {
    let (mut state, handle) = (status & 0xf, status >> 4);
    if state < RETURNED {
        let mut guard = SubtaskGuard {
            handle,
            armed: true,
        };
        while state < RETURNED {
            unsafe { waitable_join(handle, current().set) };
            state = EventFor(handle).await;
        }
        guard.armed = false;
    }
    if handle != 0 {
        unsafe { subtask_drop(handle) };
    }
}

struct SubtaskGuard {
    handle: u32,
    armed: bool,
}

impl Drop for SubtaskGuard {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        let task = current();
        let handle = self.handle;
        let state = match task.events.remove(&handle) {
            Some(state) if state >= RETURNED => state, // resolved, not taken yet
            _ => unsafe { subtask_cancel(handle) },
        };
        if state == BLOCKED {
            // resolves later: `settle_cancelled` drops it then
            unsafe { waitable_join(handle, task.set) };
            task.cancelling.push(handle);
        } else {
            unsafe {
                waitable_join(handle, 0);
                subtask_drop(handle);
            }
        }
    }
}

/// The value of an exported resource whose methods are async, for the task of one of its
/// methods: one more count of the `Rc` behind the resource's rep, so that the task keeps the
/// value alive after it reported its result (the caller's borrow ends there, and the host may
/// then drop the resource: its destructor only gives up the handle's count).
///
/// # Safety
///
/// `rep` must be the rep of a live resource, made by `Rc::into_raw` of an `Rc<T>` (the
/// generated `new` and destructor of such a resource use `Rc`).
pub unsafe fn hold<T>(rep: usize) -> Rc<T> {
    let value = rep as *const T;
    Rc::increment_strong_count(value);
    Rc::from_raw(value)
}

/// Runs two futures of one task concurrently (e.g. writing a stream while an async import
/// reads it); both outputs once both are ready.
pub async fn join<A: Future, B: Future>(a: A, b: B) -> (A::Output, B::Output) {
    let (mut a, mut b) = (core::pin::pin!(a), core::pin::pin!(b));
    let (mut done_a, mut done_b) = (None, None);
    let both = core::future::poll_fn(move |cx| {
        if done_a.is_none() {
            if let Poll::Ready(value) = a.as_mut().poll(cx) {
                done_a = Some(value);
            }
        }
        if done_b.is_none() {
            if let Poll::Ready(value) = b.as_mut().poll(cx) {
                done_b = Some(value);
            }
        }
        match (done_a.take(), done_b.take()) {
            (Some(x), Some(y)) => Poll::Ready((x, y)),
            (x, y) => {
                (done_a, done_b) = (x, y);
                Poll::Pending
            }
        }
    });
    both.await
}

struct EventFor(u32);

impl Future for EventFor {
    type Output = u32;

    fn poll(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<u32> {
        match current().events.remove(&self.0) {
            Some(payload) => {
                unsafe { waitable_join(self.0, 0) };
                Poll::Ready(payload)
            }
            None => Poll::Pending,
        }
    }
}

/// Blocks a lowered payload value points into: kept alive until the host copied the value.
pub type Keep = Vec<Box<dyn Any>>;

/// The core imports of one stream type of one function, and how its elements are lowered
/// (generated).
pub trait StreamOps {
    type Item;
    /// The size of one lowered element.
    const SIZE: usize;
    /// Writes `value` at `at`; pointers may refer to `value`'s own heap data (it outlives the
    /// copy) or to blocks pushed on `keep`.
    ///
    /// # Safety
    /// `at` must be valid for `SIZE` bytes and aligned as the element's type.
    unsafe fn store(value: &Self::Item, at: *mut u8, keep: &mut Keep);
    /// `(readable, writable)` handles of a new stream.
    fn new_pair() -> (u32, u32);
    /// # Safety
    /// `ptr` must hold `n` lowered elements until the copy completes.
    unsafe fn write(writable: u32, ptr: *const u8, n: u32) -> u32;
    /// Cancels the copy in flight on `writable`; its result.
    fn cancel_write(writable: u32) -> u32;
    fn drop_writable(writable: u32);
}

/// The core imports of one future type of one function, and how its value is lowered
/// (generated).
pub trait FutureOps {
    type Item;
    const SIZE: usize;
    /// # Safety
    /// As `StreamOps::store`.
    unsafe fn store(value: &Self::Item, at: *mut u8, keep: &mut Keep);
    fn new_pair() -> (u32, u32);
    /// # Safety
    /// `ptr` must hold the lowered value until the copy completes.
    unsafe fn write(writable: u32, ptr: *const u8) -> u32;
    /// Cancels the copy in flight on `writable`; its result.
    fn cancel_write(writable: u32) -> u32;
    fn drop_writable(writable: u32);
}

/// Lowered values in an 8-byte aligned block (alignment of every canonical-ABI type).
fn lowered<T>(
    values: &[T],
    size: usize,
    store: unsafe fn(&T, *mut u8, &mut Keep),
    keep: &mut Keep,
) -> Vec<u64> {
    let mut block: Vec<u64> = alloc::vec![0; (values.len() * size).div_ceil(8).max(1)];
    let base = block.as_mut_ptr() as *mut u8;
    for (i, value) in values.iter().enumerate() {
        unsafe { store(value, base.add(i * size), keep) };
    }
    block
}

/// The guest's writable end of a `stream<T>`; dropping it ends the stream for the reader.
pub struct StreamWriter<O: StreamOps> {
    handle: u32,
    closed: bool,
    _types: PhantomData<O>,
}

impl<O: StreamOps> StreamWriter<O> {
    /// A new stream: (the readable handle to hand to the host, this writer).
    pub fn new() -> (u32, Self) {
        let (readable, writable) = O::new_pair();
        let writer = Self {
            handle: writable,
            closed: false,
            _types: PhantomData,
        };
        (readable, writer)
    }

    /// Writes every value unless the reader goes away; returns how many it took.
    pub async fn write_all(&mut self, values: Vec<O::Item>) -> usize {
        if self.closed {
            return 0;
        }
        let mut keep = Vec::new();
        let block = lowered(&values, O::SIZE, O::store, &mut keep);
        let base = block.as_ptr() as *const u8;
        let mut done = 0;
        while done < values.len() {
            let left = (values.len() - done) as u32;
            let answer = unsafe { O::write(self.handle, base.add(done * O::SIZE), left) };
            let answer = completion(self.handle, answer, O::cancel_write).await;
            done += (answer >> 4) as usize;
            if answer & 0xf == DROPPED {
                self.closed = true;
                break;
            }
        }
        drop((values, keep, block)); // alive until the host copied them
        done
    }

    /// Whether the reader dropped its end.
    pub fn is_closed(&self) -> bool {
        self.closed
    }
}

impl<O: StreamOps> Drop for StreamWriter<O> {
    fn drop(&mut self) {
        O::drop_writable(self.handle);
    }
}

/// The core imports a reader of one stream type of one function needs, and how its elements
/// are lifted (they take over blocks the host allocated with `cabi_realloc` for their strings
/// and lists) (generated).
pub trait StreamReadOps {
    type Item;
    const SIZE: usize;
    /// # Safety
    /// `at` must hold an element the host lowered.
    unsafe fn load(at: *const u8) -> Self::Item;
    /// # Safety
    /// `ptr` must be valid for `n` elements until the copy completes.
    unsafe fn read(readable: u32, ptr: *mut u8, n: u32) -> u32;
    /// Cancels the copy in flight on `readable`; its result.
    fn cancel_read(readable: u32) -> u32;
    fn drop_readable(readable: u32);
}

/// The guest's readable end of a `stream<T>` the host writes.
pub struct StreamReader<O: StreamReadOps> {
    handle: u32,
    done: bool,
    _types: PhantomData<O>,
}

impl<O: StreamReadOps> StreamReader<O> {
    /// Takes over the readable end `handle` (a `stream<T>` parameter).
    pub fn from_handle(handle: u32) -> Self {
        Self {
            handle,
            done: false,
            _types: PhantomData,
        }
    }

    /// Up to `max` values; None once the writer dropped its end.
    pub async fn next_batch(&mut self, max: usize) -> Option<Vec<O::Item>> {
        if self.done {
            return None;
        }
        let mut block: Vec<u64> = alloc::vec![0; (max.max(1) * O::SIZE).div_ceil(8)];
        let base = block.as_mut_ptr() as *mut u8;
        let answer = unsafe { O::read(self.handle, base, max as u32) };
        let answer = completion(self.handle, answer, O::cancel_read).await;
        let n = (answer >> 4) as usize;
        if answer & 0xf == DROPPED {
            self.done = true;
            if n == 0 {
                return None;
            }
        }
        Some(
            (0..n)
                .map(|i| unsafe { O::load(base.add(i * O::SIZE)) })
                .collect(),
        )
    }
}

impl<O: StreamReadOps> Drop for StreamReader<O> {
    fn drop(&mut self) {
        O::drop_readable(self.handle);
    }
}

/// The guest's writable end of a `future<T>`: written exactly once.
pub struct FutureWriter<O: FutureOps> {
    handle: u32,
    _types: PhantomData<O>,
}

impl<O: FutureOps> FutureWriter<O> {
    pub fn new() -> (u32, Self) {
        let (readable, writable) = O::new_pair();
        (
            readable,
            Self {
                handle: writable,
                _types: PhantomData,
            },
        )
    }

    /// Writes the value; false when the reader dropped its end without reading.
    pub async fn write(self, value: O::Item) -> bool {
        let mut keep = Vec::new();
        let block = lowered(core::slice::from_ref(&value), O::SIZE, O::store, &mut keep);
        let answer = unsafe { O::write(self.handle, block.as_ptr() as *const u8) };
        let answer = completion(self.handle, answer, O::cancel_write).await;
        drop((value, keep, block));
        O::drop_writable(self.handle);
        answer & 0xf == COMPLETED
    }
}

/// The core imports a reader of one future type of one function needs, and how its value is
/// lifted (generated).
pub trait FutureReadOps {
    type Item;
    const SIZE: usize;
    /// # Safety
    /// `at` must hold a value the host lowered.
    unsafe fn load(at: *const u8) -> Self::Item;
    /// # Safety
    /// `ptr` must be valid for one value until the copy completes.
    unsafe fn read(readable: u32, ptr: *mut u8) -> u32;
    /// Cancels the copy in flight on `readable`; its result.
    fn cancel_read(readable: u32) -> u32;
    fn drop_readable(readable: u32);
}

/// The guest's readable end of a `future<T>` the host writes.
pub struct FutureReader<O: FutureReadOps> {
    handle: u32,
    _types: PhantomData<O>,
}

impl<O: FutureReadOps> FutureReader<O> {
    /// Takes over the readable end `handle` (a `future<T>` parameter).
    pub fn from_handle(handle: u32) -> Self {
        Self {
            handle,
            _types: PhantomData,
        }
    }

    /// The value; None when the writer dropped its end without writing.
    pub async fn read(self) -> Option<O::Item> {
        let mut block: Vec<u64> = alloc::vec![0; O::SIZE.div_ceil(8).max(1)];
        let base = block.as_mut_ptr() as *mut u8;
        let answer = unsafe { O::read(self.handle, base) };
        let answer = completion(self.handle, answer, O::cancel_read).await;
        if answer & 0xf == COMPLETED {
            Some(unsafe { O::load(base) })
        } else {
            None
        }
    }
}

impl<O: FutureReadOps> Drop for FutureReader<O> {
    fn drop(&mut self) {
        O::drop_readable(self.handle);
    }
}

/// An `error-context` this guest created; dropping it releases the handle.
pub struct ErrorContext(u32);

impl ErrorContext {
    pub fn new(debug_message: &str) -> Self {
        Self(unsafe { error_context_new(debug_message.as_ptr(), debug_message.len()) })
    }

    /// Takes over a handle the host passed (an `error-context` parameter or element).
    pub fn from_handle(handle: u32) -> Self {
        Self(handle)
    }

    /// The handle, to pass to the host (lowering an `error-context` lends it: this value still
    /// drops it).
    pub fn handle(&self) -> u32 {
        self.0
    }
}

impl Drop for ErrorContext {
    fn drop(&mut self) {
        unsafe { error_context_drop(self.0) };
    }
}
