;; wasmslim: -O3
;; a module without multi-value: a body that needs a block gets its parameters stored
;; before the block, which takes none (no type index block type: the module stays MVP)
(module
  (func $clamp (param i32 i32) (result i32)
    (if (i32.lt_s (local.get 0) (local.get 1)) (then (return (local.get 1))))
    (i32.add (local.get 0) (i32.const 1)))
  (func (export "f") (param i32) (result i32)
    (call $clamp (i32.mul (local.get 0) (i32.const 3)) (i32.const 10))))
