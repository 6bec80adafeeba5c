;; plugin.wat - the untrusted module of the README's host example
;; (tests/meter/host-example.mjs): sums 0..n-1, one loop iteration per step.
(module
  (func (export "sum") (param $n i32) (result i64) (local $i i32) (local $s i64)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $s (i64.add (local.get $s) (i64.extend_i32_u (local.get $i))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (local.get $s)))
