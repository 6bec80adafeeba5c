;; wasmslim: --dce --traps-never-happen
;; wasm-opt's -tnh: no trap ever happens, so an if arm that starts with unreachable is
;; never taken: the if becomes the other arm (a block), its condition evaluated and
;; dropped (a pure one then goes too; a call stays); an if whose arms both trap stays.
;; The values whose only effect is a possible trap go too, as under -iit
;; (traps_ignored.wat, where the first if below is kept)
(module
  (memory 1)
  (global $g (mut i32) (i32.const 0))
  (func $h (param i32) (result i32) (local.get 0))
  (func (export "f") (param i32) (result i32)
    (if (local.get 0) (then (unreachable)))
    (drop (i32.load (local.get 0)))
    (if (i32.eq (global.get $g) (i32.const 3)) (then (unreachable)))
    (if (local.get 0) (then (global.set $g (i32.const 1))) (else (unreachable)))
    (if (result i32) (i32.lt_s (local.get 0) (i32.const 0))
      (then (unreachable))
      (else (i32.add (local.get 0) (i32.const 1))))
    (if (call $h (local.get 0)) (then (unreachable)))
    (if (local.get 0) (then (unreachable)) (else (unreachable)))))
