;; The `enc` world's guest: `echo(s)` passes the string it got, as it got it, to the host's
;; `host-echo` and returns the host's answer. It never looks at the bytes, so it works with
;; every string encoding the component declares (`wasm-tools component embed --encoding`).
(module
  (import "$root" "host-echo" (func $host (param i32 i32 i32)))
  (memory (export "memory") 1)
  (global $bump (mut i32) (i32.const 1024))
  (func (export "cabi_realloc") (param $old i32) (param $old_size i32) (param $align i32)
                                (param $size i32) (result i32)
    (local $ptr i32)
    ;; shrinking keeps the block (string transcoding allocates the worst case, then shrinks)
    (if (i32.and (i32.ne (local.get $old) (i32.const 0))
                 (i32.le_u (local.get $size) (local.get $old_size)))
      (then (return (local.get $old))))
    (local.set $ptr (i32.and (i32.add (global.get $bump) (i32.sub (local.get $align) (i32.const 1)))
                             (i32.sub (i32.const 0) (local.get $align))))
    (global.set $bump (i32.add (local.get $ptr) (local.get $size)))
    (if (i32.ne (local.get $old) (i32.const 0))
      (then (memory.copy (local.get $ptr) (local.get $old) (local.get $old_size))))
    (local.get $ptr))
  (func (export "echo") (param $p i32) (param $n i32) (result i32)
    (call $host (local.get $p) (local.get $n) (i32.const 16))
    (i32.const 16))
  ;; every call starts from an empty heap
  (func (export "cabi_post_echo") (param i32)
    (global.set $bump (i32.const 1024)))
)
