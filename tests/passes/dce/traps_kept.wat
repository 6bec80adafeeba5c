;; wasmslim: --dce
;; a load or a division may trap: never removed, even when its value is dropped
(module
  (memory 1)
  (func (export "f") (param i32)
    local.get 0
    i32.load
    drop
    i32.const 1
    local.get 0
    i32.div_s
    drop
    i32.const 1
    i32.const 2
    i32.add
    drop))
