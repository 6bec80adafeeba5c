;; segments.wat - active segments: those that may trap or write an imported memory stay
;; (roots); one that provably fits a private, otherwise unused memory or table goes with it.
(module
  (import "env" "mem" (memory $imported 1))
  (memory $private 1)
  (memory $trapping 1)
  (table $private_t 4 funcref)
  (table $trap_t 1 funcref)
  (data (memory $imported) (i32.const 0) "imported")
  (data (memory $private) (i32.const 10) "private")
  (data (memory $trapping) (i32.const 65535) "too long")
  (elem (table $private_t) (i32.const 0) func $only_in_table)
  (elem (table $trap_t) (i32.const 0) func $g $g)
  (func $only_in_table)
  (func $g)
  (func $f (export "f"))
)
