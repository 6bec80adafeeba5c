;; dead-params and validation marks (test_dce_scan.c): $callee's first param is never
;; used, so dead-params removes it, retypes $callee and rewrites $caller; $other is
;; untouched, yet every mark goes (a function's type changed); a second run removes
;; nothing and keeps them.
(module
  (func $callee (param i32 i32) (result i32) local.get 1)
  (func $caller (export "caller") (param i32) (result i32)
    i32.const 7 local.get 0 call $callee)
  (func $other (export "other") (param i32) (result i32) local.get 0 i32.const 1 i32.add))
