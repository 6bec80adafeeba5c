;; memory.wat - an imported memory (the cap guards memory.grow) and, in memory64.wat,
;; a 64-bit one; for tests/meter/behaviour.mjs.
(module
  (import "env" "mem" (memory 1))
  (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))
  (func (export "size") (result i32) (memory.size)))
