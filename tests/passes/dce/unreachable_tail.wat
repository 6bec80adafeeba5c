;; wasmslim: --dce
;; code after return, br, unreachable and br_table goes; values left before them too
(module
  (func $f (export "f") (param i32) (result i32)
    (block $b
      local.get 0
      br_if $b
      i32.const 1
      return
      i32.const 2
      drop)
    i32.const 3
    unreachable
    i32.add
    drop
    i32.const 4))
