;; wasmslim: -O2
;; a function called once, referenced nowhere else, is inlined and then removed
(module
  (memory 1)
  (func $helper (param $p i32) (param $n i32) (result i32)
    (local $acc i32)
    (local $i i32)
    (block $done
      (loop $next
        local.get $i
        local.get $n
        i32.ge_s
        br_if $done
        local.get $acc
        local.get $p
        local.get $i
        i32.const 2
        i32.shl
        i32.add
        i32.load
        i32.add
        local.set $acc
        local.get $i
        i32.const 1
        i32.add
        local.set $i
        br $next))
    local.get $acc)
  (func (export "sum") (param i32 i32) (result i32)
    local.get 0
    local.get 1
    call $helper
    i32.const 1
    i32.add))
