;; wasmslim: --dce
;; a local written once and read once, with balanced code between, stays on the stack
(module
  (import "env" "f" (func $f (param i32) (result i32)))
  (func (export "g") (param i32) (result i32)
    (local i32 i32)
    local.get 0
    i32.const 3
    i32.mul
    local.set 1
    i32.const 7
    call $f
    drop
    local.get 1
    i32.const 1
    i32.add
    local.set 2
    i32.const 5
    local.get 2
    i32.sub))
