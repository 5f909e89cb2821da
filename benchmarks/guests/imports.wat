;; The host-import benchmark guest: `call-host` calls the host's `tick` n times in a loop.
(module
  (import "bench:imports/host@0.1.0" "tick" (func $tick (param i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32) (i32.const 8))
  (func (export "call-host") (param $n i32) (result i32)
    (local $acc i32)
    (block $done
      (loop $next
        (br_if $done (i32.eqz (local.get $n)))
        (local.set $acc (call $tick (local.get $acc)))
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (br $next)))
    (local.get $acc))
  (func (export "add-one") (param $x i32) (result i32)
    (i32.add (local.get $x) (i32.const 1)))
)
