;; none.wat - no two functions are equal (a recursive pair calls itself by two different
;; indices; imports are never merged): nothing changes.
(module
  (import "env" "f" (func $f (param i32)))
  (import "env" "g" (func $g (param i32)))
  (func $r1 (param i32) (if (local.get 0) (then (call $r1 (i32.sub (local.get 0) (i32.const 1))))))
  (func $r2 (param i32) (if (local.get 0) (then (call $r2 (i32.sub (local.get 0) (i32.const 1))))))
  (func (export "main") (call $r1 (i32.const 3)) (call $r2 (i32.const 3)) (call $f (i32.const 0)) (call $g (i32.const 0)))
)
