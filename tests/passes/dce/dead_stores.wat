;; wasmslim: --dce
;; stores to locals never read, tees, drops of pure values, unused locals renumbered
(module
  (import "env" "get" (func $get (result i32)))
  (func (export "f") (param i32) (result i32)
    (local i64 i32 f32 i32 i32)
    i64.const 1
    local.set 1
    call $get
    local.set 2
    local.get 0
    local.tee 5
    i32.const 5
    i32.add
    local.set 4
    local.get 0
    i32.const 1
    i32.add
    drop
    call $get
    i32.const 2
    i32.mul
    drop
    local.get 4)
  (func (export "g")
    nop
    (block (loop (nop)))
    i32.const 3
    if end))
