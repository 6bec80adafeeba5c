;; wasmslim: --dce
;; if / br_if / br_table / select on constants
(module
  (import "env" "log" (func $log (param i32)))
  (func (export "if_true") (result i32)
    i32.const 1
    if (result i32) i32.const 10 else i32.const 20 end)
  (func (export "if_false_no_else")
    i32.const 0
    if i32.const 5 call $log end)
  (func (export "br_if_never") (result i32)
    (block $b (result i32)
      i32.const 7
      i32.const 0
      br_if $b
      i32.const 1
      i32.add))
  (func (export "br_if_always") (result i32)
    (block $b (result i32)
      i32.const 7
      i32.const 1
      br_if $b
      drop
      i32.const 8))
  (func (export "br_table") (result i32)
    (block $a (block $b (block $c
      i32.const 1
      br_table $c $b $a)
      i32.const 100 return)
      i32.const 200 return)
    i32.const 300)
  (func (export "select") (param i32) (result i32)
    local.get 0
    i32.const 9
    i32.const 1
    select))
