;; A processor-plugin component written by hand (dataflare:core/processor@1.0.0), used by the
;; Python host tests and benchmarks. Per record it decides from the input:
;;   payload empty          -> failed(plugin-error { invalid-input, "empty payload", some(id) })
;;   timestamp < 0          -> skip
;;   id == "loop"           -> spins forever (deadline tests)
;;   id == "trap"           -> traps (unreachable)
;;   id == "grow"           -> grows memory by 256 pages (16 MiB) per record, traps when refused
;;   otherwise              -> emit(the record unchanged)
;; `info` logs one line through the imported logging interface.
(component
  (type $level (enum "trace" "debug" "info" "warn" "error"))
  (import "dataflare:core/logging@1.0.0" (instance $logging
    (export "level" (type $lvl (eq $level)))
    (export "log" (func (param "level" $lvl) (param "message" string)))
  ))

  ;; Core-module layout follows the component-model conventions wit-bindgen guests use:
  ;; exports `<interface>#<function>`, `cabi_post_<interface>#<function>`, `cabi_realloc` and
  ;; `memory`; imports `<interface>` `<function>`. Imports are wired through a shim table
  ;; (filled after the main instance exists) because lowering them needs the main memory.
  (core module $Shim
    (type $log_t (func (param i32 i32 i32)))
    (table (export "$imports") 1 1 funcref)
    (func (export "log") (param i32 i32 i32)
      (call_indirect (type $log_t) (local.get 0) (local.get 1) (local.get 2) (i32.const 0))))
  (core instance $shim (instantiate $Shim))
  (alias export $logging "log" (func $log))

  (core module $Main
    (import "dataflare:core/logging@1.0.0" "log" (func $log (param i32 i32 i32)))
    (memory (export "memory") 1)
    (global $heap_start i32 (i32.const 4096))
    (global $bump (mut i32) (i32.const 4096))
    (data (i32.const 16) "hand-written-processor")   ;; 22 bytes
    (data (i32.const 48) "1.0.0")                    ;; 5 bytes
    (data (i32.const 64) "empty payload")            ;; 13 bytes
    (data (i32.const 80) "info called")              ;; 11 bytes

    (func $alloc (param $size i32) (param $align i32) (result i32)
      (local $ptr i32) (local $end i32) (local $pages i32)
      (local.set $ptr (i32.and (i32.add (global.get $bump) (i32.sub (local.get $align) (i32.const 1)))
                               (i32.sub (i32.const 0) (local.get $align))))
      (local.set $end (i32.add (local.get $ptr) (local.get $size)))
      (if (i32.gt_u (local.get $end) (i32.mul (memory.size) (i32.const 65536)))
        (then
          (local.set $pages (i32.add (i32.shr_u (i32.sub (local.get $end) (i32.mul (memory.size) (i32.const 65536))) (i32.const 16)) (i32.const 1)))
          (if (i32.eq (memory.grow (local.get $pages)) (i32.const -1)) (then unreachable))))
      (global.set $bump (local.get $end))
      (local.get $ptr))

    (func (export "cabi_realloc") (param $old i32) (param $old_size i32) (param $align i32) (param $new_size i32) (result i32)
      (local $new i32)
      (local.set $new (call $alloc (local.get $new_size) (local.get $align)))
      (if (local.get $old_size) (then (memory.copy (local.get $new) (local.get $old) (local.get $old_size))))
      (local.get $new))

    ;; Everything handed out since the last call is garbage once the host has read the result.
    (func $reset (global.set $bump (global.get $heap_start)))
    (func (export "cabi_post_dataflare:core/processor@1.0.0#info") (param i32) (call $reset))
    (func (export "cabi_post_dataflare:core/processor@1.0.0#process") (param i32) (call $reset))
    (func (export "cabi_post_dataflare:core/processor@1.0.0#process-batch") (param i32) (call $reset))

    (func (export "dataflare:core/processor@1.0.0#info") (result i32)
      (local $r i32)
      (call $log (i32.const 2) (i32.const 80) (i32.const 11))
      (local.set $r (call $alloc (i32.const 20) (i32.const 4)))
      (i32.store offset=0 (local.get $r) (i32.const 16))
      (i32.store offset=4 (local.get $r) (i32.const 22))
      (i32.store offset=8 (local.get $r) (i32.const 48))
      (i32.store offset=12 (local.get $r) (i32.const 5))
      (i32.store8 offset=16 (local.get $r) (i32.const 5))   ;; batching | ordered
      (local.get $r))

    (func $is (param $ptr i32) (param $len i32) (param $word i32) (param $wlen i32) (result i32)
      ;; whether the string at ptr/len equals the little-endian packed word of wlen (<= 4) bytes
      (if (result i32) (i32.ne (local.get $len) (local.get $wlen))
        (then (i32.const 0))
        (else (i32.eq (i32.load (local.get $ptr)) (local.get $word)))))

    ;; Writes the processing-result for the data-record at $in into the 40-byte slot at $out.
    (func $decide (param $in i32) (param $out i32)
      (local $id i32) (local $idlen i32)
      (local.set $id (i32.load offset=0 (local.get $in)))
      (local.set $idlen (i32.load offset=4 (local.get $in)))
      (if (call $is (local.get $id) (local.get $idlen) (i32.const 0x706f6f6c) (i32.const 4))  ;; "loop"
        (then (loop $forever (br $forever))))
      (if (call $is (local.get $id) (local.get $idlen) (i32.const 0x70617274) (i32.const 4))  ;; "trap"
        (then unreachable))
      (if (call $is (local.get $id) (local.get $idlen) (i32.const 0x776f7267) (i32.const 4))  ;; "grow"
        (then (if (i32.eq (memory.grow (i32.const 256)) (i32.const -1)) (then unreachable))))
      (if (i32.eqz (i32.load offset=20 (local.get $in)))
        (then
          (i32.store8 offset=0 (local.get $out) (i32.const 3))          ;; failed
          (i32.store8 offset=8 (local.get $out) (i32.const 0))          ;; invalid-input
          (i32.store offset=12 (local.get $out) (i32.const 64))
          (i32.store offset=16 (local.get $out) (i32.const 13))
          (i32.store8 offset=20 (local.get $out) (i32.const 1))         ;; some(id)
          (i32.store offset=24 (local.get $out) (local.get $id))
          (i32.store offset=28 (local.get $out) (local.get $idlen))
          (return)))
      (if (i64.lt_s (i64.load offset=8 (local.get $in)) (i64.const 0))
        (then
          (i32.store8 offset=0 (local.get $out) (i32.const 1))          ;; skip
          (return)))
      (i32.store8 offset=0 (local.get $out) (i32.const 0))              ;; emit
      (memory.copy (i32.add (local.get $out) (i32.const 8)) (local.get $in) (i32.const 32)))

    (func (export "dataflare:core/processor@1.0.0#process")
      (param $id i32) (param $idlen i32) (param $ts i64) (param $p i32) (param $plen i32)
      (param $m i32) (param $mlen i32) (result i32)
      (local $in i32) (local $out i32)
      (local.set $in (call $alloc (i32.const 32) (i32.const 8)))
      (i32.store offset=0 (local.get $in) (local.get $id))
      (i32.store offset=4 (local.get $in) (local.get $idlen))
      (i64.store offset=8 (local.get $in) (local.get $ts))
      (i32.store offset=16 (local.get $in) (local.get $p))
      (i32.store offset=20 (local.get $in) (local.get $plen))
      (i32.store offset=24 (local.get $in) (local.get $m))
      (i32.store offset=28 (local.get $in) (local.get $mlen))
      (local.set $out (call $alloc (i32.const 40) (i32.const 8)))
      (call $decide (local.get $in) (local.get $out))
      (local.get $out))

    (func (export "dataflare:core/processor@1.0.0#process-batch") (param $ptr i32) (param $len i32) (result i32)
      (local $out i32) (local $i i32) (local $ret i32)
      (local.set $out (call $alloc (i32.mul (local.get $len) (i32.const 40)) (i32.const 8)))
      (block $done
        (loop $next
          (br_if $done (i32.ge_u (local.get $i) (local.get $len)))
          (call $decide
            (i32.add (local.get $ptr) (i32.mul (local.get $i) (i32.const 32)))
            (i32.add (local.get $out) (i32.mul (local.get $i) (i32.const 40))))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br $next)))
      (local.set $ret (call $alloc (i32.const 8) (i32.const 4)))
      (i32.store offset=0 (local.get $ret) (local.get $out))
      (i32.store offset=4 (local.get $ret) (local.get $len))
      (local.get $ret))
  )
  (core instance $main (instantiate $Main
    (with "dataflare:core/logging@1.0.0" (instance (export "log" (func $shim "log"))))
  ))
  (alias core export $main "memory" (core memory $mem))
  (core func $log_lowered (canon lower (func $log) (memory $mem) string-encoding=utf8))
  (core module $Fixup
    (import "" "$imports" (table 1 1 funcref))
    (import "" "log" (func $log (param i32 i32 i32)))
    (elem (i32.const 0) func $log))
  (core instance (instantiate $Fixup
    (with "" (instance (export "$imports" (table $shim "$imports")) (export "log" (func $log_lowered))))))

  (type $data-record (record (field "id" string) (field "timestamp" s64) (field "payload" (list u8))
                             (field "metadata" (list (tuple string string)))))
  (type $error-kind (enum "invalid-input" "bad-config" "unavailable" "internal"))
  (type $plugin-error (record (field "kind" $error-kind) (field "message" string)
                              (field "record-id" (option string))))
  (type $capabilities (flags "batching" "stateful" "ordered"))
  (type $plugin-info (record (field "name" string) (field "version" string)
                             (field "capabilities" $capabilities)))

  (type $processing-result (variant (case "emit" $data-record) (case "skip")
                                    (case "split" (list $data-record)) (case "failed" $plugin-error)))
  (func $info (result $plugin-info)
    (canon lift (core func $main "dataflare:core/processor@1.0.0#info") (memory $mem) (realloc (core func $main "cabi_realloc"))
      (post-return (core func $main "cabi_post_dataflare:core/processor@1.0.0#info"))))
  (func $process (param "record" $data-record) (result $processing-result)
    (canon lift (core func $main "dataflare:core/processor@1.0.0#process") (memory $mem) (realloc (core func $main "cabi_realloc"))
      (post-return (core func $main "cabi_post_dataflare:core/processor@1.0.0#process"))))
  (func $process-batch (param "records" (list $data-record)) (result (list $processing-result))
    (canon lift (core func $main "dataflare:core/processor@1.0.0#process-batch") (memory $mem) (realloc (core func $main "cabi_realloc"))
      (post-return (core func $main "cabi_post_dataflare:core/processor@1.0.0#process-batch"))))
  (instance $processor
    (export "data-record" (type $data-record))
    (export "error-kind" (type $error-kind))
    (export "capabilities" (type $capabilities))
    (export "plugin-error" (type $plugin-error))
    (export "processing-result" (type $processing-result))
    (export "plugin-info" (type $plugin-info))
    (export "info" (func $info))
    (export "process" (func $process))
    (export "process-batch" (func $process-batch))
  )
  (export "dataflare:core/processor@1.0.0" (instance $processor))
)
