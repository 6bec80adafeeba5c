;; wasmslim: -O3
;; functions on a call-graph cycle are never inlined
(module
  (func $fact (param i32) (result i32)
    local.get 0
    i32.eqz
    if (result i32)
      i32.const 1
    else
      local.get 0
      local.get 0
      i32.const 1
      i32.sub
      call $fact
      i32.mul
    end)
  (func $even (param i32) (result i32)
    local.get 0
    i32.eqz
    if (result i32) i32.const 1 else local.get 0 i32.const 1 i32.sub call $odd end)
  (func $odd (param i32) (result i32)
    local.get 0
    i32.eqz
    if (result i32) i32.const 0 else local.get 0 i32.const 1 i32.sub call $even end)
  (func (export "main") (param i32) (result i32)
    local.get 0
    call $fact
    local.get 0
    call $even
    i32.add))
