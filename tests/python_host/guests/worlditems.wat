;; Core module of the world-items test component (componentized against worlditems/world.wit).
;; `guest#run(name, level)` calls the world-level import `configure(config {name, level})`;
;; on `start` it asks the inline import `settings.get(name)`, on `stop(n)` it takes n; then it
;; adds `where()`'s x and y. `flip` swaps the two cases of the world-level enum `mode`.
(module
  (import "$root" "configure" (func $configure (param i32 i32 i32 i32)))
  (import "$root" "where" (func $where (param i32)))
  (import "settings" "get" (func $get (param i32 i32) (result i32)))
  (memory (export "memory") 1)
  (global $bump (mut i32) (i32.const 1024))
  (func (export "cabi_realloc") (param $old i32) (param $old_size i32) (param $align i32) (param $size i32) (result i32)
    (local $ptr i32)
    (local.set $ptr (i32.and (i32.add (global.get $bump) (i32.sub (local.get $align) (i32.const 1)))
                             (i32.sub (i32.const 0) (local.get $align))))
    (global.set $bump (i32.add (local.get $ptr) (local.get $size)))
    (local.get $ptr))
  (func (export "guest#run") (param $name i32) (param $len i32) (param $level i32) (result i32)
    (local $r i32)
    (call $configure (local.get $name) (local.get $len) (local.get $level) (i32.const 256))
    (if (i32.eqz (i32.load8_u (i32.const 256)))
      (then (local.set $r (call $get (local.get $name) (local.get $len))))
      (else (local.set $r (i32.load (i32.const 260)))))
    (call $where (i32.const 264))
    (global.set $bump (i32.const 1024))
    (i32.add (local.get $r) (i32.add (i32.load (i32.const 264)) (i32.load (i32.const 268)))))
  (func (export "flip") (param $m i32) (result i32)
    (i32.sub (i32.const 1) (local.get $m)))
)
