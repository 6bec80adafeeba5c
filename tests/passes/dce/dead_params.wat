;; wasmslim: --dce
;; parameters no caller needs go from the function, its type and every call site;
;; an argument with effects is still evaluated (and dropped); exported functions keep theirs
(module
  (import "env" "get" (func $get (result i32)))
  (func $helper (param i32 i32 i64) (result i32)
    local.get 1)
  (func (export "main") (param i32) (result i32)
    call $get
    local.get 0
    i64.const 9
    call $helper
    i32.const 1
    i32.const 2
    i64.const 3
    call $helper
    i32.add)
  (func (export "kept") (param i32 i32) (result i32)
    local.get 1))
