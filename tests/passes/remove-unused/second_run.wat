;; wasmslim: -O1
;; the second remove-unused of -O1 sees what dce changed: $callee is called when the first
;; one runs, dce folds the if and the call goes, and the second run removes $callee (its
;; list of main's references is from the rewritten body, not the one the first run saw);
;; $kept's body is unchanged between the runs and still keeps $leaf
(module
  (func $callee (result i32)
    i32.const 5)
  (func $leaf (result i32)
    i32.const 6)
  (func $kept (export "kept") (result i32)
    call $leaf)
  (func (export "main") (result i32)
    i32.const 0
    if (result i32)
      call $callee
    else
      i32.const 7
    end))
