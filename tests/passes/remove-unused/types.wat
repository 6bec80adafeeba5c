;; types.wat - MVP function types: the unused ones go, block types, call_indirect types
;; and local ref types are renumbered.  (GC rec groups are tested from bytes in
;; tests/unit/test_remove_unused.c: wabt 1.0.32 has no GC text syntax.)
(module
  (type $unused (func (param f64)))
  (type $sig (func (param i32) (result i32)))
  (type $unused2 (func (param f32 f32)))
  (type $pair (func (result i32 i32)))
  (table 1 funcref)
  (elem (i32.const 0) $id)
  (func $id (type $sig) (local.get 0))
  (func $dead (type $unused) (nop))
  (func (export "run") (result i32)
    (local $r funcref)
    (block (type $pair) (i32.const 1) (i32.const 2))
    (drop)
    (call_indirect (type $sig) (i32.const 5) (i32.const 0))
    (i32.add))
)
