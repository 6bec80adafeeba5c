;; wasmslim: -O2 --inline-growth=500 --inline-max-size=200
;; multi-value results; early returns (the body goes into a block, returns branch out);
;; a tail call in the callee (becomes call + branch out); return_call sites in callers
(module
  (type $pair (func (param i32) (result i32 i64)))
  (func $divmod (param i32 i32) (result i32 i32)
    local.get 1
    i32.eqz
    if
      i32.const -1
      i32.const -2
      return
    end
    local.get 0
    local.get 1
    i32.div_u
    local.get 0
    local.get 1
    i32.rem_u)
  (func $pair (type $pair)
    local.get 0
    local.get 0
    i64.extend_i32_u
    i64.const 3
    i64.mul)
  (func $tailer (param i32) (result i32 i64)
    local.get 0
    i32.const 10
    i32.gt_u
    if
      local.get 0
      i32.const 1
      i32.sub
      return_call $pair
    end
    local.get 0
    i32.const 1
    i32.add
    return_call $pair)
  (func (export "divmod") (param i32 i32) (result i32)
    local.get 0
    local.get 1
    call $divmod
    i32.const 1000
    i32.mul
    i32.add)
  (func (export "tail") (param i32) (result i32 i64)
    local.get 0
    return_call $tailer)
  (func (export "pairsum") (param i32) (result i64)
    (local $t i64)
    local.get 0
    call $tailer
    local.set $t
    i64.extend_i32_u
    local.get $t
    i64.add)
  (func (export "swap") (param i32 i32) (result i32 i32)
    local.get 1
    local.get 0
    return_call $divmod))
