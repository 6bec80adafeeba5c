;; rounds.wat - $b1 and $b2 differ only in which twin they call ($a1 or $a2): once the
;; twins are one, so are they (a second round); $c1 and $c2 then follow in a third.
(module
  (func $a1 (result i32) (i32.const 7))
  (func $a2 (result i32) (i32.const 7))
  (func $b1 (result i32) (i32.mul (call $a1) (i32.const 3)))
  (func $b2 (result i32) (i32.mul (call $a2) (i32.const 3)))
  (func $c1 (result i32) (i32.sub (call $b1) (i32.const 1)))
  (func $c2 (result i32) (i32.sub (call $b2) (i32.const 1)))
  (func (export "main") (result i32) (i32.add (call $c1) (call $c2)))
)
