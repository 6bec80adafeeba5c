;; wasmslim: -O2
;; callee locals of every type inside a loop: those read before written are zeroed on
;; each pass (non-nullable reference locals: tests/unit/test_inline.c, in bytes)
(module
  (func $seven (result i32) i32.const 7)
  (table 1 funcref)
  (elem (i32.const 0) $seven)
  (func $counter (param i32) (result i32)
    (local $n i32) (local $w i64) (local $g f32) (local $d f64) (local $v v128)
    (local $r funcref) (local $x externref)
    local.get $n
    local.get 0
    i32.add
    local.set $n
    local.get $v
    i32x4.extract_lane 0
    local.get $n
    i32.add
    local.get $w
    i32.wrap_i64
    i32.add
    local.get $g
    i32.trunc_f32_s
    i32.add
    local.get $d
    i32.trunc_f64_s
    i32.add
    local.get $r
    ref.is_null
    i32.add
    local.get $x
    ref.is_null
    i32.add
    v128.const i32x4 5 5 5 5
    local.set $v
    i64.const 9
    local.set $w
    f32.const 4
    local.set $g
    f64.const 3
    local.set $d
    i32.const 0
    table.get 0
    local.set $r)
  (func (export "loop") (param i32) (result i32)
    (local $i i32) (local $acc i32)
    (loop $l
      local.get $acc
      local.get $i
      call $counter
      i32.add
      local.set $acc
      local.get $i
      i32.const 1
      i32.add
      local.tee $i
      local.get 0
      i32.lt_u
      br_if $l)
    local.get $acc))
