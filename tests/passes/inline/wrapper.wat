;; wasmslim: --inline
;; a wrapper no bigger than its call is inlined at every call, even kept exported
(module
  (func $add (export "add") (param i32 i32) (result i32)
    local.get 0
    local.get 1
    i32.add
    i32.const 3
    i32.mul)
  (func $wrap (export "wrap") (param i32 i32) (result i32)
    local.get 0
    local.get 1
    call $add)
  (func $get (param i32) (result i32)
    local.get 0
    i32.load offset=4)
  (memory 1)
  (func (export "main") (param i32) (result i32)
    local.get 0
    i32.const 1
    call $wrap
    local.get 0
    call $get
    i32.add
    i32.const 5
    call $get
    i32.add))
