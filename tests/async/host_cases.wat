;; A hand-written async guest (callback lifting) for cancellation and for misuse of the async
;; ABI; see host_cases.wit and tests/async/test_host_cancel_and_misuse.py.
(module
  (import "$root" "[waitable-set-new]" (func $ws_new (result i32)))
  (import "$root" "[waitable-set-drop]" (func $ws_drop (param i32)))
  (import "$root" "[waitable-join]" (func $join (param i32 i32)))
  (import "$root" "[subtask-drop]" (func $subtask_drop (param i32)))
  (import "$root" "[subtask-cancel]" (func $subtask_cancel (param i32) (result i32)))
  (import "$root" "[async-lower][subtask-cancel]" (func $subtask_cancel_async (param i32) (result i32)))
  (import "$root" "[backpressure-dec]" (func $bp_dec))
  (import "$root" "[backpressure-inc]" (func $bp_inc))
  (import "$root" "[error-context-debug-message-utf8]" (func $err_msg (param i32 i32)))
  (import "$root" "[error-context-drop]" (func $err_drop (param i32)))
  (import "$root" "[error-context-new-utf8]" (func $err_new (param i32 i32) (result i32)))
  (import "[export]test:hostcases/api@1.0.0" "[task-cancel]" (func $task_cancel))
  (import "[export]test:hostcases/api@1.0.0" "[task-return]wait-cancel" (func $ret_wait_cancel (param i32)))
  (import "[export]test:hostcases/api@1.0.0" "[task-return]yield-cancel" (func $ret_yield_cancel (param i32)))
  (import "[export]test:hostcases/api@1.0.0" "[task-return]cancel-host" (func $ret_cancel_host (param i32)))
  (import "[export]test:hostcases/api@1.0.0" "[task-return]call-void" (func $ret_call_void (param i32)))
  (import "[export]test:hostcases/api@1.0.0" "[task-return]misuse" (func $ret_misuse (param i32)))
  (import "[export]test:hostcases/api@1.0.0" "[task-return]u32s" (func $ret_s32 (param i64)))
  (import "[export]test:hostcases/api@1.0.0" "[stream-new-0]u32s" (func $s32_new (result i64)))
  (import "[export]test:hostcases/api@1.0.0" "[async-lower][stream-read-0]u32s" (func $s32_read (param i32 i32 i32) (result i32)))
  (import "[export]test:hostcases/api@1.0.0" "[stream-read-0]u32s" (func $s32_read_sync (param i32 i32 i32) (result i32)))
  (import "[export]test:hostcases/api@1.0.0" "[async-lower][stream-write-0]u32s" (func $s32_write (param i32 i32 i32) (result i32)))
  (import "[export]test:hostcases/api@1.0.0" "[async-lower][stream-cancel-read-0]u32s" (func $s32_cancel_read (param i32) (result i32)))
  (import "[export]test:hostcases/api@1.0.0" "[stream-drop-readable-0]u32s" (func $s32_drop_r (param i32)))
  (import "[export]test:hostcases/api@1.0.0" "[stream-drop-writable-0]u32s" (func $s32_drop_w (param i32)))
  (import "[export]test:hostcases/api@1.0.0" "[stream-new-0]u64s" (func $s64_new (result i64)))
  (import "[export]test:hostcases/api@1.0.0" "[future-new-0]u32f" (func $f32_new (result i64)))
  (import "[export]test:hostcases/api@1.0.0" "[async-lower][future-write-0]u32f" (func $f32_write (param i32 i32) (result i32)))
  (import "[export]test:hostcases/api@1.0.0" "[future-drop-writable-0]u32f" (func $f32_drop_w (param i32)))
  (import "test:hostcases/host@1.0.0" "[async-lower]hang" (func $hang (param i32 i32) (result i32)))
  (import "test:hostcases/host@1.0.0" "[async-lower]notify" (func $notify (param i32) (result i32)))
  (import "test:hostcases/host@1.0.0" "[async-lower]ping" (func $ping (result i32)))

  (memory (export "memory") 1)
  (global $heap (mut i32) (i32.const 32768))
  (global $leave (mut i32) (i32.const 0))

  (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32)
    (local $ptr i32)
    ;; misuse 25: calls a built-in while the host lowers a value
    (if (global.get $leave) (then (drop (call $ws_new))))
    (local.set $ptr (i32.and (i32.add (global.get $heap) (i32.sub (local.get 2) (i32.const 1)))
                             (i32.sub (i32.const 0) (local.get 2))))
    (global.set $heap (i32.add (local.get $ptr) (local.get 3)))
    (local.get $ptr))

  (func $wait (param $ws i32) (result i32)
    (i32.or (i32.const 2) (i32.shl (local.get $ws) (i32.const 4))))

  ;; ---- wait-cancel(x): waits on an empty set until the host cancels the call; then
  ;; task.cancel (x = 0) or task.return(x)
  (global $wc_x (mut i32) (i32.const 0))
  (global $wc_ws (mut i32) (i32.const 0))
  (func (export "[async-lift]test:hostcases/api@1.0.0#wait-cancel") (param $x i32) (result i32)
    (global.set $wc_x (local.get $x))
    (global.set $wc_ws (call $ws_new))
    (call $wait (global.get $wc_ws)))
  (func (export "[callback][async-lift]test:hostcases/api@1.0.0#wait-cancel")
    (param $ev i32) (param $p1 i32) (param $p2 i32) (result i32)
    (if (i32.ne (local.get $ev) (i32.const 6)) (then unreachable))
    (call $ws_drop (global.get $wc_ws))
    (if (global.get $wc_x)
      (then (call $ret_wait_cancel (global.get $wc_x)))
      (else (call $task_cancel)))
    (i32.const 0))

  ;; ---- yield-cancel: yields until the host cancels the call, then task.cancel
  (func (export "[async-lift]test:hostcases/api@1.0.0#yield-cancel") (result i32)
    (i32.const 1))
  (func (export "[callback][async-lift]test:hostcases/api@1.0.0#yield-cancel")
    (param $ev i32) (param $p1 i32) (param $p2 i32) (result i32)
    (if (i32.eqz (local.get $ev)) (then (return (i32.const 1))))
    (if (i32.ne (local.get $ev) (i32.const 6)) (then unreachable))
    (call $task_cancel)
    (i32.const 0))

  ;; ---- cancel-host(mode): calls hang(mode), yields once (the host coroutine starts) and
  ;; cancels that subtask; returns the subtask's final state | (its result << 4 when it
  ;; returned). Mode 4 cancels at once, before yielding; mode 2 cancels with the synchronous
  ;; built-in and mode 3 cancels twice (both misuse here).
  (global $ch_ws (mut i32) (i32.const 0))
  (global $ch_sub (mut i32) (i32.const 0))
  (global $ch_mode (mut i32) (i32.const 0))
  (func $ch_done (param $state i32) (result i32)
    (if (i32.eq (local.get $state) (i32.const 2))
      (then (local.set $state
        (i32.or (local.get $state) (i32.shl (i32.load (i32.const 2048)) (i32.const 4))))))
    (call $ret_cancel_host (local.get $state))
    (i32.const 0))
  (func $ch_cancel (result i32)
    (local $rc i32)
    (if (i32.eq (global.get $ch_mode) (i32.const 2))
      (then (drop (call $subtask_cancel (global.get $ch_sub)))))
    (local.set $rc (call $subtask_cancel_async (global.get $ch_sub)))
    (if (i32.eq (global.get $ch_mode) (i32.const 3))
      (then (drop (call $subtask_cancel_async (global.get $ch_sub)))))
    (if (i32.ne (local.get $rc) (i32.const -1))
      (then
        (call $subtask_drop (global.get $ch_sub))
        (return (call $ch_done (local.get $rc)))))
    (global.set $ch_ws (call $ws_new))
    (call $join (global.get $ch_sub) (global.get $ch_ws))
    (call $wait (global.get $ch_ws)))
  (func (export "[async-lift]test:hostcases/api@1.0.0#cancel-host") (param $mode i32) (result i32)
    (global.set $ch_mode (local.get $mode))
    (global.set $ch_sub (i32.shr_u (call $hang (local.get $mode) (i32.const 2048)) (i32.const 4)))
    (if (i32.eq (local.get $mode) (i32.const 4)) (then (return (call $ch_cancel))))
    (i32.const 1))
  (func (export "[callback][async-lift]test:hostcases/api@1.0.0#cancel-host")
    (param $ev i32) (param $p1 i32) (param $p2 i32) (result i32)
    (if (i32.eqz (local.get $ev)) (then (return (call $ch_cancel))))
    (if (i32.ne (local.get $ev) (i32.const 1)) (then unreachable))
    (call $subtask_drop (local.get $p1))
    (call $ws_drop (global.get $ch_ws))
    (call $ch_done (local.get $p2)))

  ;; ---- call-void(x): awaits notify(x) and ping() (host imports without a result), then x + 1
  (global $cv_x (mut i32) (i32.const 0))
  (global $cv_ws (mut i32) (i32.const 0))
  (global $cv_left (mut i32) (i32.const 0))
  (func (export "[async-lift]test:hostcases/api@1.0.0#call-void") (param $x i32) (result i32)
    (global.set $cv_x (local.get $x))
    (global.set $cv_ws (call $ws_new))
    (global.set $cv_left (i32.const 2))
    (call $join (i32.shr_u (call $notify (local.get $x)) (i32.const 4)) (global.get $cv_ws))
    (call $join (i32.shr_u (call $ping) (i32.const 4)) (global.get $cv_ws))
    (call $wait (global.get $cv_ws)))
  (func (export "[callback][async-lift]test:hostcases/api@1.0.0#call-void")
    (param $ev i32) (param $p1 i32) (param $p2 i32) (result i32)
    (if (i32.or (i32.ne (local.get $ev) (i32.const 1)) (i32.ne (local.get $p2) (i32.const 2)))
      (then unreachable))
    (call $subtask_drop (local.get $p1))
    (global.set $cv_left (i32.sub (global.get $cv_left) (i32.const 1)))
    (if (global.get $cv_left) (then (return (call $wait (global.get $cv_ws)))))
    (call $ws_drop (global.get $cv_ws))
    (call $ret_call_void (i32.add (global.get $cv_x) (i32.const 1)))
    (i32.const 0))

  ;; ---- same-type: task.return of another export with the same result type (u32): allowed
  (func (export "[async-lift]test:hostcases/api@1.0.0#same-type") (result i32)
    (call $ret_wait_cancel (i32.const 41))
    (i32.const 0))
  (func (export "[callback][async-lift]test:hostcases/api@1.0.0#same-type")
    (param i32 i32 i32) (result i32)
    unreachable)

  ;; ---- misuse(kind): one violation of the async ABI per kind (see the test for the list)
  (func $readable (param $pair i64) (result i32) (i32.wrap_i64 (local.get $pair)))
  (func $writable (param $pair i64) (result i32)
    (i32.wrap_i64 (i64.shr_u (local.get $pair) (i64.const 32))))
  (func (export "[async-lift]test:hostcases/api@1.0.0#misuse") (param $k i32) (result i32)
    (local $p i64) (local $ws i32)
    (local.set $p (call $s32_new))
    (block $done
      ;; 0: task.return of an export with another result type (u64)
      (if (i32.eq (local.get $k) (i32.const 0)) (then (call $ret_s32 (i64.const 1))))
      ;; 1: dropping a waitable set that still holds a waitable
      (if (i32.eq (local.get $k) (i32.const 1)) (then
        (local.set $ws (call $ws_new))
        (call $join (call $readable (local.get $p)) (local.get $ws))
        (call $ws_drop (local.get $ws))))
      ;; 2: joining a waitable to something that is not a waitable set
      (if (i32.eq (local.get $k) (i32.const 2)) (then
        (call $join (call $readable (local.get $p)) (call $writable (local.get $p)))))
      ;; 3: returning WAIT on a handle that is not a waitable set
      (if (i32.eq (local.get $k) (i32.const 3)) (then
        (call $ret_misuse (i32.const 0))
        (return (call $wait (call $readable (local.get $p))))))
      ;; 4: writing to the readable end
      (if (i32.eq (local.get $k) (i32.const 4)) (then
        (drop (call $s32_write (call $readable (local.get $p)) (i32.const 1024) (i32.const 1)))))
      ;; 5: writing again after the write reported the reader gone (the end is done)
      (if (i32.eq (local.get $k) (i32.const 5)) (then
        (call $s32_drop_r (call $readable (local.get $p)))
        (if (i32.ne (call $s32_write (call $writable (local.get $p)) (i32.const 1024) (i32.const 1))
                    (i32.const 1))
          (then (br $done)))
        (drop (call $s32_write (call $writable (local.get $p)) (i32.const 1024) (i32.const 1)))))
      ;; 6: dropping an end in the middle of a copy
      (if (i32.eq (local.get $k) (i32.const 6)) (then
        (drop (call $s32_read (call $readable (local.get $p)) (i32.const 1024) (i32.const 1)))
        (call $s32_drop_r (call $readable (local.get $p)))))
      ;; 7: cancelling a read that was never started
      (if (i32.eq (local.get $k) (i32.const 7)) (then
        (drop (call $s32_cancel_read (call $readable (local.get $p))))))
      ;; 8: dropping a future's writable end before writing it
      (if (i32.eq (local.get $k) (i32.const 8)) (then
        (call $f32_drop_w (call $writable (call $f32_new)))))
      ;; 9: writing a future again while the first write waits
      (if (i32.eq (local.get $k) (i32.const 9)) (then
        (local.set $p (call $f32_new))
        (drop (call $f32_write (call $writable (local.get $p)) (i32.const 1024)))
        (drop (call $f32_write (call $writable (local.get $p)) (i32.const 1024)))))
      ;; 10: backpressure below zero
      (if (i32.eq (local.get $k) (i32.const 10)) (then (call $bp_dec)))
      ;; 11: error-context.debug-message of a stream handle
      (if (i32.eq (local.get $k) (i32.const 11)) (then
        (call $err_msg (call $readable (local.get $p)) (i32.const 1024))))
      ;; 12: an unknown callback code
      (if (i32.eq (local.get $k) (i32.const 12)) (then
        (call $ret_misuse (i32.const 0))
        (return (i32.const 3))))
      ;; 13: a misaligned buffer
      (if (i32.eq (local.get $k) (i32.const 13)) (then
        (drop (call $s32_read (call $readable (local.get $p)) (i32.const 1025) (i32.const 1)))))
      ;; 14: a buffer out of bounds
      (if (i32.eq (local.get $k) (i32.const 14)) (then
        (drop (call $s32_read (call $readable (local.get $p)) (i32.const 65532) (i32.const 2)))))
      ;; 15: a stream<u64> end read as a stream<u32>
      (if (i32.eq (local.get $k) (i32.const 15)) (then
        (drop (call $s32_read (call $readable (call $s64_new)) (i32.const 1024) (i32.const 1)))))
      ;; 16: subtask.drop of a stream handle
      (if (i32.eq (local.get $k) (i32.const 16)) (then
        (call $subtask_drop (call $readable (local.get $p)))))
      ;; 17: task.cancel without a cancellation
      (if (i32.eq (local.get $k) (i32.const 17)) (then (call $task_cancel)))
      ;; 18: an error-context dropped twice (never made: handle 0 is never valid)
      (if (i32.eq (local.get $k) (i32.const 18)) (then (call $err_drop (i32.const 0))))
      ;; 19: a synchronous read that would block
      (if (i32.eq (local.get $k) (i32.const 19)) (then
        (drop (call $s32_read_sync (call $readable (local.get $p)) (i32.const 1024) (i32.const 1)))))
      ;; 20: a buffer longer than the spec allows
      (if (i32.eq (local.get $k) (i32.const 20)) (then
        (drop (call $s32_read (call $readable (local.get $p)) (i32.const 1024) (i32.const 0x10000000)))))
      ;; 21: task.return, then task.cancel
      (if (i32.eq (local.get $k) (i32.const 21)) (then
        (call $ret_misuse (i32.const 0))
        (call $task_cancel)))
      ;; 22: backpressure above its 16-bit counter
      (if (i32.eq (local.get $k) (i32.const 22)) (then
        (loop $more (call $bp_inc) (br $more))))
      ;; 23: subtask.cancel after the subtask's resolution was delivered (in the callback)
      (if (i32.eq (local.get $k) (i32.const 23)) (then
        (local.set $ws (call $ws_new))
        (call $join (i32.shr_u (call $ping) (i32.const 4)) (local.get $ws))
        (return (call $wait (local.get $ws)))))
      ;; 25: a built-in called from cabi_realloc while the host lowers a value
      (if (i32.eq (local.get $k) (i32.const 25)) (then
        (global.set $leave (i32.const 1))
        (call $err_msg (call $err_new (i32.const 0) (i32.const 0)) (i32.const 1024))))
      ;; 24: dropping the waitable set wait-cancel's task waits on
      (if (i32.eq (local.get $k) (i32.const 24)) (then (call $ws_drop (global.get $wc_ws))))
    )
    ;; not a violation after all: the test sees 999 instead of a trap
    (call $ret_misuse (i32.const 999))
    (i32.const 0))
  (func (export "[callback][async-lift]test:hostcases/api@1.0.0#misuse")
    (param $ev i32) (param $p1 i32) (param $p2 i32) (result i32)
    (if (i32.eq (local.get $ev) (i32.const 1))
      (then (drop (call $subtask_cancel_async (local.get $p1)))))
    unreachable)

  ;; ---- only their types are used
  (func (export "[async-lift]test:hostcases/api@1.0.0#u32s") (param i32) (result i32) unreachable)
  (func (export "[callback][async-lift]test:hostcases/api@1.0.0#u32s")
    (param i32 i32 i32) (result i32) unreachable)
  (func (export "[async-lift]test:hostcases/api@1.0.0#u64s") (param i32) (result i32) unreachable)
  (func (export "[callback][async-lift]test:hostcases/api@1.0.0#u64s")
    (param i32 i32 i32) (result i32) unreachable)
  (func (export "[async-lift]test:hostcases/api@1.0.0#u32f") (param i32) (result i32) unreachable)
  (func (export "[callback][async-lift]test:hostcases/api@1.0.0#u32f")
    (param i32 i32 i32) (result i32) unreachable)
)
