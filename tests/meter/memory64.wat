;; memory64.wat - a defined and an imported 64-bit memory, for tests/meter/behaviour.mjs
;; (node 20 needs --experimental-wasm-memory64).
(module
  (import "env" "mem64" (memory $imp i64 1))
  (func (export "grow") (param i64) (result i64) (memory.grow $imp (local.get 0)))
  (func (export "fill") (param i64) (memory.fill $imp (i64.const 0) (i32.const 1) (local.get 0))))
