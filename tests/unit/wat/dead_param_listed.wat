;; dead-params after remove-unused (test_dce_scan.c): $gone is removed and the others
;; renumbered, so remove-unused leaves its lists of each body's references; $caller is
;; no candidate (exported), so dead-params does not scan it and finds its call to
;; $callee, whose first param is never used, in that list: the call must lose the
;; argument too, or the output is invalid.
(module
  (func $gone (param i32) (result i32) local.get 0)
  (func $callee (param i32 i32) (result i32) local.get 1)
  (func $caller (export "caller") (param i32) (result i32)
    i32.const 7 local.get 0 call $callee))
