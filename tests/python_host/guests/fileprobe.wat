;; Core module of the file probe (componentized against fileprobe/fileprobe.wit): read-file
;; opens `path` under the first preopened directory and returns up to 64 KiB of it.
;; Return areas: get-directories at 16, open-at at 32, read-via-stream at 48, read at 64;
;; the export's result<list<u8>, u8> at 128.
(module
  (import "wasi:filesystem/preopens@0.2.0" "get-directories" (func $dirs (param i32)))
  (import "wasi:filesystem/types@0.2.0" "[method]descriptor.open-at"
    (func $open (param i32 i32 i32 i32 i32 i32 i32)))
  (import "wasi:filesystem/types@0.2.0" "[method]descriptor.read-via-stream"
    (func $stream (param i32 i64 i32)))
  (import "wasi:io/streams@0.2.0" "[method]input-stream.read" (func $read (param i32 i64 i32)))
  (memory (export "memory") 1)
  (global $bump (mut i32) (i32.const 1024))
  (func (export "cabi_realloc") (param $old i32) (param $old_size i32) (param $align i32) (param $size i32) (result i32)
    (local $ptr i32) (local $end i32)
    (local.set $ptr (i32.and (i32.add (global.get $bump) (i32.sub (local.get $align) (i32.const 1)))
                             (i32.sub (i32.const 0) (local.get $align))))
    (local.set $end (i32.add (local.get $ptr) (local.get $size)))
    (if (i32.gt_u (local.get $end) (i32.mul (memory.size) (i32.const 65536)))
      (then
        (if (i32.eq (memory.grow (i32.add (i32.shr_u (i32.sub (local.get $end) (i32.mul (memory.size) (i32.const 65536))) (i32.const 16)) (i32.const 1))) (i32.const -1))
          (then unreachable))))
    (global.set $bump (local.get $end))
    (local.get $ptr))
  (func $fail (param $code i32) (result i32)
    (i32.store8 (i32.const 128) (i32.const 1))
    (i32.store8 (i32.const 132) (local.get $code))
    (i32.const 128))
  (func (export "read-file") (param $path i32) (param $len i32) (result i32)
    (call $dirs (i32.const 16))
    (if (i32.eqz (i32.load (i32.const 20)))
      (then (return (call $fail (i32.const 255)))))
    ;; the first directory's descriptor, opened for reading
    (call $open (i32.load (i32.load (i32.const 16))) (i32.const 0)
      (local.get $path) (local.get $len) (i32.const 0) (i32.const 1) (i32.const 32))
    (if (i32.load8_u (i32.const 32))
      (then (return (call $fail (i32.load8_u (i32.const 36))))))
    (call $stream (i32.load (i32.const 36)) (i64.const 0) (i32.const 48))
    (if (i32.load8_u (i32.const 48))
      (then (return (call $fail (i32.load8_u (i32.const 52))))))
    (call $read (i32.load (i32.const 52)) (i64.const 65536) (i32.const 64))
    (i32.store8 (i32.const 128) (i32.const 0))
    (if (i32.load8_u (i32.const 64))
      (then ;; closed at once: an empty file
        (i32.store (i32.const 132) (i32.const 0))
        (i32.store (i32.const 136) (i32.const 0)))
      (else
        (i32.store (i32.const 132) (i32.load (i32.const 68)))
        (i32.store (i32.const 136) (i32.load (i32.const 72)))))
    (i32.const 128))
)
