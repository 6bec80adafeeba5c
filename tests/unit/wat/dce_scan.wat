;; Functions named clean_* leave dce nothing to do; every other one has exactly one
;; thing dce changes.  test_dce_scan.c checks the quick scan (passes/dce_scan.c) on each,
;; and that dce really leaves the clean ones byte for byte.
(module
  (type $ii (func (param i32) (result i32)))
  (memory 1)
  (global $g (mut i32) (i32.const 0))
  (table 1 funcref)
  (func $clean_add (param i32) (result i32)
    local.get 0 i32.const 1 i32.add)
  (func $clean_loop (param i32) (result i32) (local i32)
    block
      loop
        local.get 1 local.get 0 i32.add local.set 1
        local.get 0 i32.const 1 i32.sub local.tee 0
        br_if 0
      end
    end
    local.get 1)
  (func $clean_calls (param i32) (result i32)
    local.get 0 call $clean_add drop
    local.get 0 i32.const 0 call_indirect (type $ii))
  (func $clean_if (param i32) (result i32)
    local.get 0
    if (result i32) i32.const 1 else local.get 0 i32.load end)
  (func $clean_unbalanced (param i32) (result i32) (local i32)
    ;; set once, read once, but the value under the set is consumed in between
    ;; (the stack is as high at the get, but with another value)
    local.get 0 local.get 0 local.set 1 call $clean_add local.get 1 i32.add)
  (func $clean_memory (param i32)
    local.get 0 local.get 0 i32.const 8 memory.copy
    global.get $g local.get 0 i32.add global.set $g)
  (func $clean_return (param i32) (result i32)
    local.get 0 if local.get 0 return end
    i32.const 3)
  (func $nop (param i32) (result i32) nop local.get 0)
  (func $tail (param i32) (result i32) local.get 0 return local.get 0 drop)
  (func $left_behind (result i32) i32.const 1 i32.const 2 return)
  (func $const_if (result i32) i32.const 1 if (result i32) i32.const 2 else i32.const 3 end)
  (func $const_br_if (param i32) block i32.const 0 br_if 0 end)
  (func $const_select (param i32) (result i32) local.get 0 local.get 0 i32.const 1 select)
  (func $pure_drop (param i32) local.get 0 i32.const 1 i32.add drop)
  (func $empty_block (param i32) (result i32) block end local.get 0)
  (func $empty_if (param i32) (result i32) local.get 0 if end local.get 0)
  (func $dead_store (param i32) (result i32) (local i32) local.get 0 local.set 1 local.get 0)
  (func $stackify (param i32) (result i32) (local i32)
    local.get 0 i32.const 1 i32.add local.set 1 i32.const 5 call $clean_add drop local.get 1)
  (func $unused_local (param i32) (result i32) (local i32 i32)
    local.get 0 local.tee 1 local.get 1 i32.add)
  (func $locals_reordered (param i32) (result i32) (local i32 i64 i32)
    local.get 0 local.tee 1 local.get 1 i32.add local.tee 3 local.get 3 i32.add
    i64.const 1 local.tee 2 drop local.get 2 i32.wrap_i64 i32.add)
  (export "clean_add" (func $clean_add))
)
