;; Functions with nops.  strip_*: nothing but the nops for dce to change (the quick scan
;; says DCE_NOPS, and dce.c drops them on the bytes); build_*: a nop whose going
;; changes more, or another rule besides (DCE_BUILD: the IR is built).
;; test_dce_scan.c checks the verdicts, and that dropping the nops on the bytes gives
;; exactly what the full dce gives.
(module
  (memory 1)
  (func $strip_one (param i32) (result i32) nop local.get 0)
  (func $strip_many (param i32) (result i32)
    nop local.get 0 nop nop i32.const 1 nop i32.add nop)
  (func $strip_in_loop (param i32) (result i32) (local i32)
    block
      loop
        nop
        local.get 1 local.get 0 i32.add local.set 1
        local.get 0 i32.const 1 i32.sub local.tee 0
        br_if 0
        nop
      end
    end
    local.get 1)
  (func $strip_arms (param i32) (result i32)
    local.get 0
    if (result i32) nop i32.const 1 else local.get 0 nop i32.load end)
  (func $strip_padded (param i32) (result i32)
    ;; wat2wasm writes canonical LEBs; the memarg offset 200 takes two bytes
    nop local.get 0 i32.load offset=200)
  (func $build_only_nops_in_block (param i32) (result i32) block nop nop end local.get 0)
  (func $build_nop_in_empty_if (param i32) (result i32) local.get 0 if nop end local.get 0)
  (func $build_nop_after_return (param i32) (result i32) local.get 0 return nop)
  (func $build_nop_and_pure_drop (param i32) nop local.get 0 nop drop)
  (func $build_nop_in_stackify (param i32) (result i32) (local i32)
    local.get 0 i32.const 1 i32.add local.set 1 nop local.get 1))
