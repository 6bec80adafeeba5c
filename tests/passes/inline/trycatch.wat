;; wasmslim: -O2
;; callees with try/catch, catch_all, delegate (to an inner try and to the function's
;; label: the exception must leave the inlined body) and rethrow; tail calls inside try
;; (in a callee, or at the call site) are never inlined: the handlers would catch what
;; the tail-called function throws
(module
  (tag $e (param i32))
  (tag $f)
  (func $thrower (param i32)
    local.get 0
    i32.const 10
    i32.gt_u
    if
      local.get 0
      throw $e
    end
    local.get 0
    i32.const 5
    i32.eq
    if
      throw $f
    end)
  (func $catcher (param i32) (result i32)
    (try (result i32)
      (do
        local.get 0
        call $thrower
        local.get 0)
      (catch $e
        i32.const 100
        i32.add)
      (catch_all
        i32.const -5)))
  (func $delegator (param i32) (result i32)
    (try (result i32)
      (do
        (try (result i32)
          (do
            local.get 0
            call $thrower
            local.get 0
            i32.const 1
            i32.add)
          (delegate 1)))
      (catch_all
        i32.const -1)))
  (func $inner_delegate (param i32) (result i32)
    (try (result i32)
      (do
        (try (result i32)
          (do
            local.get 0
            call $thrower
            local.get 0
            i32.const 2
            i32.add)
          (delegate 0)))
      (catch $e
        i32.const 200
        i32.add)))
  (func $rethrower (param i32) (result i32)
    (try (result i32)
      (do
        local.get 0
        call $thrower
        local.get 0)
      (catch $e
        drop
        rethrow 0)))
  (func (export "catcher") (param i32) (result i32)
    local.get 0
    call $catcher)
  (func (export "delegator") (param i32) (result i32)
    (try (result i32)
      (do
        local.get 0
        call $delegator)
      (catch $e
        i32.const 1000
        i32.add)))
  (func (export "inner_delegate") (param i32) (result i32)
    local.get 0
    call $inner_delegate)
  (func (export "rethrower") (param i32) (result i32)
    (try (result i32)
      (do
        local.get 0
        call $rethrower)
      (catch $e
        i32.const 3000
        i32.add)))
  (func $boom (param i32) (result i32)
    local.get 0
    throw $e)
  (func $tail_in_try (param i32) (result i32)
    (try (result i32)
      (do
        local.get 0
        return_call $boom)
      (catch $e
        i32.const 500
        i32.add)))
  (func (export "tail_in_try") (param i32) (result i32)
    (try (result i32)
      (do
        local.get 0
        call $tail_in_try)
      (catch $e
        i32.const 7000
        i32.add)))
  (func $boom2 (param i32) (result i32)
    local.get 0
    throw $e)
  (func (export "tail_site_in_try") (param i32) (result i32)
    (try (result i32)
      (do
        local.get 0
        return_call $boom2)
      (catch $e
        i32.const 9000
        i32.add))))
