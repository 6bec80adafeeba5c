;; cases.wat - small programs for tests/meter/behaviour.mjs: every way to run for
;; ever or to do a lot of work in one instruction must be paid for.
(module
  (import "env" "log" (func $log (param i32)))
  (memory (export "memory") 1 4)
  (table $t 4 funcref)
  (elem (table $t) (i32.const 0) func $spin_indirect $leaf $thrower)
  (tag $e (param i32))
  (type $v (func))
  (type $ii (func (param i32) (result i32)))

  ;; straight-line code: local.get, local.get, i32.add = 3 units
  (func (export "add3") (result i32) (i32.add (i32.const 1) (i32.const 2)))
  (func $leaf (type $ii) (i32.mul (local.get 0) (i32.const 3)))

  ;; loops that never end
  (func (export "spin") (loop $l (br $l)))
  (func (export "spin_if") (local $i i32)
    (loop $l
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (if (i32.and (local.get $i) (i32.const 1)) (then (br $l)) (else (br $l)))))
  (func (export "spin_table") (local $i i32)
    (loop $l
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_table $l $l $l (i32.and (local.get $i) (i32.const 3)))))
  (func $rec (export "rec") (call $rec))
  (func $spin_indirect (export "spin_indirect") (call_indirect $t (type $v) (i32.const 0)))
  (func $tail (export "tail") (return_call $tail))
  (func $tail_indirect (export "tail_indirect")
    (return_call_indirect $t (type $v) (i32.const 0)))
  (func $thrower (throw $e (i32.const 7)))
  ;; an exception caught in every iteration
  (func (export "spin_catch")
    (loop $l
      (try (do (call_indirect $t (type $v) (i32.const 2))) (catch $e (drop) (br $l)))))
  ;; calls to the host in a loop
  (func (export "spin_host") (loop $l (call $log (i32.const 1)) (br $l)))
  (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))
  ;; three classes of 2 units: i32.const, call
  (func (export "log3") (call $log (i32.const 1)) (call $log (i32.const 2)) (call $log (i32.const 3)))
  ;; memory.grow that keeps failing once the memory is full
  (func (export "grow_loop") (loop $l (drop (memory.grow (i32.const 1))) (br $l)))

  ;; bulk operations: 1 unit per instruction plus 1 per byte (default --fuel-per-byte)
  (func (export "fill_page") (memory.fill (i32.const 0) (i32.const 7) (i32.const 65536)))
  (func (export "fill_huge") (memory.fill (i32.const 0) (i32.const 7) (i32.const -1)))
  (func (export "copy_some") (memory.copy (i32.const 100) (i32.const 0) (i32.const 1000)))

  ;; exactness with branches, calls, exceptions
  (func (export "mixed") (result i32) (local $i i32) (local $s i32)
    (block $out
      (loop $l
        (br_if $out (i32.ge_u (local.get $i) (i32.const 10)))
        (if (i32.and (local.get $i) (i32.const 1))
          (then (local.set $s (i32.add (local.get $s) (call $leaf (local.get $i)))))
          (else (local.set $s (i32.sub (local.get $s) (local.get $i)))))
        (try (do (if (i32.eq (local.get $i) (i32.const 5)) (then (throw $e (local.get $i)))))
          (catch $e (local.set $s (i32.add (local.get $s)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $l)))
    (local.get $s))
  (func (export "throw_out") (call_indirect $t (type $v) (i32.const 2)))

  ;; cold loop exits (lazy mode pays the code after them with the loop header's charge
  ;; and gives back what they skip): a br_if, a br in an if arm, an exit from an inner
  ;; loop past the outer one, a return; $k picks the one taken (5, 103, 201, 307; 1000:
  ;; none, 20 iterations)
  (func (export "cold_exits") (param $k i32) (result i32) (local $i i32) (local $j i32) (local $s i32)
    (block $done
      (block $out
        (loop $l
          (br_if $out (i32.eq (local.get $i) (local.get $k)))
          (local.set $s (i32.add (local.get $s) (i32.mul (local.get $i) (i32.const 3))))
          (if (i32.eq (local.get $i) (i32.sub (local.get $k) (i32.const 100)))
            (then (local.set $s (i32.const 1)) (br $done)))
          (local.set $j (i32.const 0))
          (loop $inner
            (br_if $done (i32.eq (local.get $j) (i32.sub (local.get $k) (i32.const 200))))
            (local.set $s (i32.xor (local.get $s) (local.get $j)))
            (local.set $j (i32.add (local.get $j) (i32.const 1)))
            (br_if $inner (i32.lt_u (local.get $j) (i32.const 3))))
          (if (i32.eq (local.get $i) (i32.sub (local.get $k) (i32.const 300)))
            (then (return (i32.const -1))))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br_if $l (i32.lt_u (local.get $i) (i32.const 20)))))
      (local.set $s (i32.add (local.get $s) (i32.const 1000))))
    (local.get $s))
;; branches whose ways on are entered from them alone: the cheapest way is paid with
  ;; the code before the branch, the rest in the others (a br_if diamond, a br_table fan)
  (func (export "diamonds") (param $k i32) (result i32) (local $s i32)
    (block $join
      (block $far
        (br_if $far (i32.and (local.get $k) (i32.const 1)))
        (local.set $s (i32.const 7))
        (br $join))
      (local.set $s (i32.mul (local.get $k) (i32.add (local.get $k) (i32.const 3)))))
    (block $c
      (block $b
        (block $a
          (br_table $a $b $c (i32.shr_u (local.get $k) (i32.const 1))))
        (return (i32.add (local.get $s) (i32.const 1))))
      (return (i32.mul (local.get $s) (i32.sub (local.get $s) (i32.const 2)))))
    (local.get $s))
    ;; a cold exit after a call to a function that checks: no refund there (the callee
  ;; would see the code after the exit paid)
  (func $looper (loop $x (br_if $x (i32.const 0))))
  (func (export "cold_exit_after_call") (param $k i32) (result i32) (local $i i32) (local $s i32)
    (block $out
      (loop $l
        (call $looper)
        (br_if $out (i32.eq (local.get $i) (local.get $k)))
        (local.set $s (i32.add (local.get $s) (i32.mul (local.get $i) (local.get $i))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $l)))
    (local.get $s))
  ;; a cold exit with a call after it: the callee sees the fuel as without the refund
  (func (export "cold_exit_call") (param $k i32) (result i32) (local $i i32) (local $s i32)
    (block $out
      (loop $l
        (br_if $out (i32.eq (local.get $i) (local.get $k)))
        (local.set $s (i32.add (local.get $s) (call $leaf (local.get $i))))
        (call $log (local.get $s))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br_if $l (i32.lt_u (local.get $i) (i32.const 10)))))
    (local.get $s))

  ;; recursion for the stack limit: depth n + 1 frames
  (func $down (export "down") (param $n i32) (result i32)
    (if (result i32) (i32.eqz (local.get $n))
      (then (i32.const 0))
      (else (i32.add (i32.const 1) (call $down (i32.sub (local.get $n) (i32.const 1)))))))
  ;; throws from depth n, caught at the top, then recurses again
  (func $deep_throw (param $n i32)
    (if (i32.eqz (local.get $n)) (then (throw $e (i32.const 1))))
    (call $deep_throw (i32.sub (local.get $n) (i32.const 1))))
  (func (export "catch_deep") (param $n i32) (result i32)
    (try (result i32) (do (call $deep_throw (local.get $n)) (i32.const 0))
      (catch $e)))

  ;; lazy mode's check at a function's exit: dropped when a call to a function that
  ;; checks (it has a loop) ends it, kept when something is charged after that call
  (func $checks (param $n i32) (result i32) (loop $l) (local.get $n))
  (func (export "ends_in_checked_call") (param $n i32) (result i32)
    (if (local.get $n) (then (drop (i32.add (local.get $n) (i32.const 5)))))
    (call $checks (local.get $n)))
  (func (export "charges_after_call") (param $n i32) (result i32)
    (drop (call $checks (local.get $n)))
    (if (result i32) (local.get $n) (then (i32.add (local.get $n) (i32.const 1))) (else (i32.const 2))))
)
