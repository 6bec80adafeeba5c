;; throws.wat - calls that may and may not throw, for tests/meter/behaviour.mjs: the
;; code after a call is paid before the call only when the call cannot end in an
;; exception (meter_calls.c).
(module
  (import "env" "boom" (func $boom (param i32)))   ;; the host throws when given 1
  (table $t 2 funcref)
  (elem (table $t) (i32.const 0) func $pure)
  (type $ii (func (param i32) (result i32)))
  (func $pure (type $ii) (i32.add (local.get 0) (i32.const 1)))
  (func $calls_host (param i32) (call $boom (local.get 0)))
  ;; calls that cannot throw (direct, and indirect through a table only $pure is in):
  ;; one charge for the whole body
  (func $pure_calls (export "pure_calls") (result i32)
    (i32.add (call $pure (i32.const 1)) (call_indirect $t (type $ii) (i32.const 2) (i32.const 0))))
  ;; a call that may throw (it reaches the host): what follows is paid after it
  (func $host_after (export "host_after") (param i32) (result i32)
    (call $calls_host (local.get 0))
    (i32.add (call $pure (i32.const 3)) (i32.const 4)))
)
