;; wasmslim: -O1
;; the second remove-unused of -O1 sees what dce changed: $callee is called when the first
;; one runs, dce folds the if and the call goes, and the second run removes $callee (its
;; list of main's references is from the rewritten body, not the one the first run saw);
;; $kept's body is unchanged between the runs and still keeps $leaf; $nops loses its nops
;; on the bytes in dce (its list of references is rebound to the new body, not rescanned)
;; and still keeps $leaf2
(module
  (func $callee (result i32)
    i32.const 5)
  (func $leaf (result i32)
    i32.const 6)
  (func $kept (export "kept") (result i32)
    call $leaf)
  (func $leaf2 (result i32)
    i32.const 8)
  (func $nops (export "nops") (result i32)
    nop
    call $leaf2
    nop)
  (func (export "main") (result i32)
    i32.const 0
    if (result i32)
      call $callee
    else
      i32.const 7
    end))
