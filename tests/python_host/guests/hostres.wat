;; Core module of the host-resources test component (componentized against hostres/).
;; `run(n)`: a = counter(n); b = counter(10); a.add(5); m = merge(a, b) (b moves to the
;; host); t = total(m); drops a and m; tok = token(2 * t); v = tok.value(); drops tok;
;; returns t + v. `peek(c)` returns c.add(0) for a counter the host lends it, then drops
;; the borrow (as the canonical ABI requires).
(module
  (import "test:hres/store@0.1.0" "[constructor]counter" (func $counter (param i32) (result i32)))
  (import "test:hres/store@0.1.0" "[method]counter.add" (func $add (param i32 i32) (result i32)))
  (import "test:hres/store@0.1.0" "[static]counter.merge" (func $merge (param i32 i32) (result i32)))
  (import "test:hres/store@0.1.0" "total" (func $total (param i32) (result i32)))
  (import "test:hres/store@0.1.0" "[resource-drop]counter" (func $drop_counter (param i32)))
  (import "$root" "[constructor]token" (func $token (param i32) (result i32)))
  (import "$root" "[method]token.value" (func $value (param i32) (result i32)))
  (import "$root" "[resource-drop]token" (func $drop_token (param i32)))
  (memory (export "memory") 1)
  (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32)
    (i32.const 1024))
  (func (export "run") (param $n i32) (result i32)
    (local $a i32) (local $b i32) (local $m i32) (local $t i32) (local $tok i32) (local $v i32)
    (local.set $a (call $counter (local.get $n)))
    (local.set $b (call $counter (i32.const 10)))
    (drop (call $add (local.get $a) (i32.const 5)))
    (local.set $m (call $merge (local.get $a) (local.get $b)))
    (local.set $t (call $total (local.get $m)))
    (call $drop_counter (local.get $a))
    (call $drop_counter (local.get $m))
    (local.set $tok (call $token (i32.mul (local.get $t) (i32.const 2))))
    (local.set $v (call $value (local.get $tok)))
    (call $drop_token (local.get $tok))
    (i32.add (local.get $t) (local.get $v)))
  (func (export "peek") (param $c i32) (result i32)
    (local $r i32)
    (local.set $r (call $add (local.get $c) (i32.const 0)))
    (call $drop_counter (local.get $c))  ;; a borrowed handle is given back before returning
    (local.get $r))
)
