;; Core module of the fast-flat test component (componentized against world.wit): each
;; export returns its flat arguments, written in the memory layout of its result when that
;; goes through a returned pointer; `via-host` passes its argument to the import `host-num` and returns what it wrote.
(module
  (import "test:fastflat/host" "host-num" (func $host_num (param i32 i64 i32)))
  (memory (export "memory") 1)
  (global $bump (mut i32) (i32.const 1024))
  (func (export "cabi_realloc") (param $old i32) (param $old_size i32) (param $align i32) (param $size i32) (result i32)
    (local $ptr i32)
    (local.set $ptr (i32.and (i32.add (global.get $bump) (i32.sub (local.get $align) (i32.const 1)))
                             (i32.sub (i32.const 0) (local.get $align))))
    (global.set $bump (i32.add (local.get $ptr) (local.get $size)))
    (local.get $ptr))
  ;; num: discriminant u8 at 0, payload at 8 (the joined i64 covers every case's bytes)
  (func (export "test:fastflat/guest#num-echo") (param $d i32) (param $p i64) (result i32)
    (i32.store8 (i32.const 512) (local.get $d))
    (i64.store (i32.const 520) (local.get $p))
    (i32.const 512))
  ;; wide: one i32 word, returned as it came
  (func (export "test:fastflat/guest#wide-echo") (param $a i32) (result i32)
    (local.get $a))
  ;; option<f32>: discriminant u8 at 0, f32 at 4
  (func (export "test:fastflat/guest#opt-echo") (param $d i32) (param $v f32) (result i32)
    (i32.store8 (i32.const 544) (local.get $d))
    (f32.store (i32.const 548) (local.get $v))
    (i32.const 544))
;; lists: the (pointer, length) the host lowered, handed back
  (func (export "test:fastflat/guest#ints-echo") (param $p i32) (param $n i32) (result i32)
    (i32.store (i32.const 576) (local.get $p))
    (i32.store (i32.const 580) (local.get $n))
    (i32.const 576))
  (func (export "test:fastflat/guest#floats-echo") (param $p i32) (param $n i32) (result i32)
    (i32.store (i32.const 584) (local.get $p))
    (i32.store (i32.const 588) (local.get $n))
    (i32.const 584))
  (func (export "test:fastflat/guest#via-host") (param $d i32) (param $p i64) (result i32)
    (call $host_num (local.get $d) (local.get $p) (i32.const 560))
    (i32.const 560))
)
