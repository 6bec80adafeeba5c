;; wasmslim: -O0
;; the printer: values, block params, if/else, loops, legacy try/catch, multi-value
(module
  (type $pair (func (param i32) (result i32 i32)))
  (tag $e (param i32))
  (memory 1)
  (func $two (type $pair) local.get 0 local.get 0)
  (func (export "f") (param i32) (result i32)
    (local i64)
    local.get 0
    call $two
    i32.add
    (block (param i32) (result i32)
      i32.const 1
      i32.add)
    (if (param i32) (result i32) (local.get 0)
      (then i32.const 2 i32.mul)
      (else i32.const 3 i32.sub))
    (loop $l (param i32) (result i32)
      i32.const 1
      i32.sub
      local.tee 0
      local.get 0
      br_if $l)
    (try (param i32) (result i32)
      (do i32.load offset=8 align=2)
      (catch $e i32.const 4 i32.add)
      (catch_all i32.const 5))))
