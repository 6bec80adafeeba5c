;; wasmslim: -O2
;; a callee that is exported (or in a table) stays, even with one call
(module
  (table (export "table") 1 funcref)
  (elem (i32.const 0) $in_table)
  (func $exported (export "exported") (param i32) (result i32)
    local.get 0
    i32.const 100
    i32.mul
    i32.const 7
    i32.add
    i32.const 3
    i32.rem_u
    i32.const 11
    i32.xor)
  (func $in_table (param i32) (result i32)
    local.get 0
    i32.const 100
    i32.mul
    i32.const 9
    i32.add
    i32.const 5
    i32.rem_u
    i32.const 13
    i32.xor)
  (func (export "main") (param i32) (result i32)
    local.get 0
    call $exported
    local.get 0
    call $in_table
    i32.add))
