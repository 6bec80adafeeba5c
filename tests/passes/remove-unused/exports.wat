;; wasmslim: --export-only=a,memory --keep-export=c
;; exports.wat - for --export-only and --keep-export: each export reaches its own helper;
;; $z is reached by nothing.
(module
  (func $a (export "a") (result i32) (call $x))
  (func $b (export "b") (result i32) (call $y))
  (func $c (export "c") (result i32) (i32.const 3))
  (func $x (result i32) (i32.const 1))
  (func $y (result i32) (i32.const 2))
  (func $z (result i32) (i32.const 26))
  (memory (export "memory") 1)
)
