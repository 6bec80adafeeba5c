;; wasmslim: --dce --ignore-implicit-traps
;; traps_kept.wat under wasm-opt's assumption that no load or division traps (-iit): a
;; value whose only effect is a possible trap goes when nothing uses it; a store (it
;; writes), a call and an explicit unreachable stay (-tnh does this and more:
;; traps_never_happen.wat)
(module
  (memory 1)
  (func $g (result i32) (i32.const 7))
  (func (export "f") (param i32)
    local.get 0
    i32.load
    drop
    i32.const 1
    local.get 0
    i32.div_s
    drop
    local.get 0
    f64.convert_i32_s
    i32.trunc_f64_s
    drop
    call $g
    drop
    local.get 0
    local.get 0
    i32.store
    local.get 0
    if
      unreachable
    end))
