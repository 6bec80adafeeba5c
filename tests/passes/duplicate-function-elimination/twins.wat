;; twins.wat - $a2 and $a3 equal $a1 (type and bytes): calls, ref.func and the element
;; segment go to $a1 and the twins go; $b differs in a constant, $c in its type, $d in
;; its locals: they stay.
(module
  (type $t (func (param i32) (result i32)))
  (type $u (func (param i32) (result i32)))
  (import "env" "f" (func $imp (param i32) (result i32)))
  (import "env" "g" (func $imp2 (param i32) (result i32)))
  (table 4 funcref)
  (func $a1 (type $t) (i32.add (local.get 0) (i32.const 1)))
  (func $b (type $t) (i32.add (local.get 0) (i32.const 2)))
  (func $a2 (type $t) (i32.add (local.get 0) (i32.const 1)))
  (func $c (type $u) (i32.add (local.get 0) (i32.const 1)))
  (func $d (type $t) (local i64) (i32.add (local.get 0) (i32.const 1)))
  (func $a3 (type $t) (i32.add (local.get 0) (i32.const 1)))
  (func $main (export "main") (param i32) (result i32)
    (drop (ref.func $a3))
    (i32.add
      (i32.add (call $a1 (local.get 0)) (call $a2 (local.get 0)))
      (i32.add (call $a3 (call $b (local.get 0))) (call $c (call $d (call $imp (local.get 0)))))))
  (elem (i32.const 0) func $a2 $a3 $b $imp2)
  (elem declare func $a3)
)
