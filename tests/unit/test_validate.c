/* test_validate.c - the validator on small hand-assembled modules: operand typing,
 * index ranges, local initialisation, br_on_cast, rec group equivalence, constant
 * expressions, declared function references, module-level rules; with the offsets
 * errors are reported at. */
#include <criterion/criterion.h>
#include "../../ir/module.h"
#include "../../ir/subtype.h"
#include "../../ir/validate.h"

/* A module being assembled: sections appended in order, offsets remembered. */
typedef struct Wasm {
    uint8_t b[1024];
    size_t n;
    size_t payload;     /* file offset of the last section's payload */
    size_t body[4];     /* file offsets of the bodies of the last code section */
} Wasm;

static void w_init(Wasm *w) {
    static const uint8_t header[] = {0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00};
    memset(w, 0, sizeof *w);
    memcpy(w->b, header, sizeof header);
    w->n = sizeof header;
}

static void w_sec(Wasm *w, uint8_t id, const uint8_t *p, size_t n) {
    cr_assert(n < 128 && w->n + n + 2 <= sizeof w->b);
    w->b[w->n++] = id;
    w->b[w->n++] = (uint8_t)n;
    w->payload = w->n;
    memcpy(w->b + w->n, p, n);
    w->n += n;
}

/* A code section with the given bodies (locals + instructions, each < 128 bytes). */
static void w_code(Wasm *w, uint32_t count, const uint8_t *const *bodies, const size_t *lens) {
    uint8_t p[512];
    size_t n = 0;
    p[n++] = (uint8_t)count;
    for (uint32_t i = 0; i < count; i++) {
        p[n++] = (uint8_t)lens[i];
        w->body[i] = w->n + 2 + n; /* id and size bytes, then this payload offset */
        memcpy(p + n, bodies[i], lens[i]);
        n += lens[i];
    }
    w_sec(w, 10, p, n);
}

#define SEC(w, id, ...)                                                                     \
    do {                                                                                    \
        static const uint8_t p_[] = {__VA_ARGS__};                                          \
        w_sec(w, id, p_, sizeof p_);                                                        \
    } while (0)
#define CODE1(w, ...)                                                                       \
    do {                                                                                    \
        static const uint8_t b_[] = {__VA_ARGS__};                                          \
        const uint8_t *bs_[] = {b_};                                                        \
        size_t ls_[] = {sizeof b_};                                                         \
        w_code(w, 1, bs_, ls_);                                                             \
    } while (0)

static bool check(const Wasm *w, WsError *err) {
    Module m;
    ReadOptions ro = {.decode_code = true};
    cr_assert(module_read(&m, w->b, w->n, "t.wasm", &ro, err), "read failed: 0x%zx %s", err->offset, err->msg);
    bool ok = module_validate(&m, err);
    module_free(&m);
    return ok;
}

static void expect_valid(const Wasm *w) {
    WsError err;
    cr_assert(check(w, &err), "unexpectedly invalid: 0x%zx %s", err.offset, err.msg);
}

static void expect_invalid(const Wasm *w, size_t off, const char *msg) {
    WsError err;
    cr_assert(!check(w, &err), "unexpectedly valid (expected '%s')", msg);
    cr_expect(strstr(err.msg, msg) != NULL, "message '%s' lacks '%s'", err.msg, msg);
    cr_expect_eq(err.offset, off, "offset 0x%zx, expected 0x%zx (%s)", err.offset, off, err.msg);
    cr_expect_str_eq(err.file, "t.wasm");
}

/* (type (func)) (func ...) with one body. */
#define FUNC_VOID(w) do { SEC(w, 1, 0x01, 0x60, 0x00, 0x00); SEC(w, 3, 0x01, 0x00); } while (0)

/* ---- operand typing and index ranges ---- */

Test(validate, type_mismatch_at_the_instruction) {
    Wasm w;
    w_init(&w);
    FUNC_VOID(&w);
    CODE1(&w, 0x00, 0x41, 0x00, 0x42, 0x00, 0x6a, 0x1a, 0x0b); /* i32.const i64.const i32.add */
    expect_invalid(&w, w.body[0] + 5, "type mismatch");
}

Test(validate, result_mismatch_at_end) {
    Wasm w;
    w_init(&w);
    SEC(&w, 1, 0x01, 0x60, 0x00, 0x01, 0x7f);                  /* (func (result i32)) */
    SEC(&w, 3, 0x01, 0x00);
    CODE1(&w, 0x00, 0x42, 0x00, 0x0b);                         /* i64.const 0 end */
    expect_invalid(&w, w.body[0] + 3, "type mismatch");
}

Test(validate, extra_value_at_end) {
    Wasm w;
    w_init(&w);
    FUNC_VOID(&w);
    CODE1(&w, 0x00, 0x41, 0x00, 0x0b);
    expect_invalid(&w, w.body[0] + 3, "type mismatch");
}

Test(validate, unreachable_makes_the_stack_polymorphic) {
    Wasm w;
    w_init(&w);
    SEC(&w, 1, 0x01, 0x60, 0x00, 0x01, 0x7f);
    SEC(&w, 3, 0x01, 0x00);
    CODE1(&w, 0x00, 0x00, 0x6a, 0x0b);                         /* unreachable i32.add */
    expect_valid(&w);
    w_init(&w);
    SEC(&w, 1, 0x01, 0x60, 0x00, 0x01, 0x7f);
    SEC(&w, 3, 0x01, 0x00);
    CODE1(&w, 0x00, 0x00, 0x42, 0x00, 0x6a, 0x0b);             /* unreachable i64.const i32.add */
    expect_invalid(&w, w.body[0] + 4, "type mismatch");
}

Test(validate, unknown_local_and_function) {
    Wasm w;
    w_init(&w);
    FUNC_VOID(&w);
    CODE1(&w, 0x00, 0x20, 0x05, 0x1a, 0x0b);                   /* local.get 5 */
    expect_invalid(&w, w.body[0] + 1, "unknown local");
    w_init(&w);
    FUNC_VOID(&w);
    CODE1(&w, 0x00, 0x10, 0x03, 0x0b);                         /* call 3 */
    expect_invalid(&w, w.body[0] + 1, "unknown function");
}

Test(validate, alignment_and_memory) {
    Wasm w;
    w_init(&w);
    FUNC_VOID(&w);
    SEC(&w, 5, 0x01, 0x00, 0x01);                              /* (memory 1) */
    CODE1(&w, 0x00, 0x41, 0x00, 0x28, 0x03, 0x00, 0x1a, 0x0b); /* i32.load align=8 */
    expect_invalid(&w, w.body[0] + 3, "alignment must not be larger than natural");
    w_init(&w);
    FUNC_VOID(&w);
    CODE1(&w, 0x00, 0x41, 0x00, 0x28, 0x02, 0x00, 0x1a, 0x0b); /* no memory */
    expect_invalid(&w, w.body[0] + 3, "unknown memory");
}

/* ---- locals of non-defaultable type ---- */

/* (type 0 (struct)) (type 1 (func)) (func (type 1) (local (ref 0)) BODY) */
#define STRUCT_LOCAL(w, ...)                                                                \
    do {                                                                                    \
        SEC(w, 1, 0x02, 0x5f, 0x00, 0x60, 0x00, 0x00);                                      \
        SEC(w, 3, 0x01, 0x01);                                                              \
        CODE1(w, 0x01, 0x01, 0x64, 0x00, __VA_ARGS__);                                      \
    } while (0)

/* The same with 100000 i32 locals before the (ref 0) one. */
#define STRUCT_LOCAL_N(w, ...)                                                              \
    do {                                                                                    \
        SEC(w, 1, 0x02, 0x5f, 0x00, 0x60, 0x00, 0x00);                                      \
        SEC(w, 3, 0x01, 0x01);                                                              \
        CODE1(w, 0x02, 0xa0, 0x8d, 0x06, 0x7f, 0x01, 0x64, 0x00, __VA_ARGS__);              \
    } while (0)

Test(validate, uninitialized_local) {
    Wasm w;
    w_init(&w);
    STRUCT_LOCAL(&w, 0x20, 0x00, 0x1a, 0x0b);                  /* local.get 0 */
    expect_invalid(&w, w.body[0] + 4, "uninitialized local");
    w_init(&w);
    STRUCT_LOCAL(&w, 0xfb, 0x00, 0x00, 0x21, 0x00, 0x20, 0x00, 0x1a, 0x0b); /* set, then get */
    expect_valid(&w);
}

Test(validate, local_initialisation_ends_with_its_block) {
    Wasm w;
    w_init(&w);
    /* block (struct.new 0) local.set 0 (local.get 0) drop end local.get 0 */
    STRUCT_LOCAL(&w, 0x02, 0x40, 0xfb, 0x00, 0x00, 0x21, 0x00, 0x20, 0x00, 0x1a, 0x0b,
                 0x20, 0x00, 0x1a, 0x0b);
    expect_invalid(&w, w.body[0] + 15, "uninitialized local");
}

/* ---- GC casts ---- */

/* (type 0 (struct)) (type 1 (func (param anyref) (result (ref null 0)))) */
#define CAST_FUNC(w) do { SEC(w, 1, 0x02, 0x5f, 0x00, 0x60, 0x01, 0x6e, 0x01, 0x63, 0x00); SEC(w, 3, 0x01, 0x01); } while (0)

Test(validate, br_on_cast_typing) {
    Wasm w;
    w_init(&w);
    CAST_FUNC(&w);
    /* block (result (ref null 0)) local.get 0 br_on_cast 0 anyref (ref null 0) drop
     * ref.null none end end: the fallthrough is (ref any), dropped */
    CODE1(&w, 0x00, 0x02, 0x63, 0x00, 0x20, 0x00, 0xfb, 0x18, 0x03, 0x00, 0x6e, 0x00, 0x1a,
          0xd0, 0x71, 0x0b, 0x0b);
    expect_valid(&w);
}

Test(validate, br_on_cast_fail_sends_the_difference) {
    Wasm w;
    w_init(&w);
    CAST_FUNC(&w);
    /* br_on_cast_fail 0 anyref (ref null 0) sends (ref any) to a (ref null 0) label */
    CODE1(&w, 0x00, 0x02, 0x63, 0x00, 0x20, 0x00, 0xfb, 0x19, 0x03, 0x00, 0x6e, 0x00, 0x0b, 0x0b);
    expect_invalid(&w, w.body[0] + 6, "type mismatch");
}

Test(validate, br_on_cast_target_must_be_a_subtype) {
    Wasm w;
    w_init(&w);
    CAST_FUNC(&w);
    /* br_on_cast 0 funcref (ref null 0): a struct type is not below func */
    CODE1(&w, 0x00, 0x02, 0x63, 0x00, 0x20, 0x00, 0xfb, 0x18, 0x03, 0x00, 0x70, 0x00, 0x1a,
          0xd0, 0x71, 0x0b, 0x0b);
    expect_invalid(&w, w.body[0] + 6, "type mismatch");
}

/* ---- iso-recursive equivalence ---- */

/* Two one-type rec groups (struct (field (ref null SELF))) [mutable in the second if
 * mut2], then (func (param (ref null 0))) and (func (param (ref null 1))); function 1
 * passes its parameter to function 0. */
static void two_groups(Wasm *w, uint8_t mut2) {
    uint8_t types[] = {0x04, 0x4e, 0x01, 0x5f, 0x01, 0x63, 0x00, 0x00,
                       0x4e, 0x01, 0x5f, 0x01, 0x63, 0x01, mut2,
                       0x60, 0x01, 0x63, 0x00, 0x00, 0x60, 0x01, 0x63, 0x01, 0x00};
    w_init(w);
    w_sec(w, 1, types, sizeof types);
    SEC(w, 3, 0x02, 0x02, 0x03);
    static const uint8_t b0[] = {0x00, 0x0b}, b1[] = {0x00, 0x20, 0x00, 0x10, 0x00, 0x0b};
    const uint8_t *bs[] = {b0, b1};
    size_t ls[] = {sizeof b0, sizeof b1};
    w_code(w, 2, bs, ls);
}

Test(validate, equal_rec_groups_are_the_same_type) {
    Wasm w;
    two_groups(&w, 0);
    expect_valid(&w);
    Module m;
    WsError err;
    cr_assert(module_read(&m, w.b, w.n, "t.wasm", NULL, &err));
    TypeSpace ts;
    typespace_build(&ts, &m);
    cr_expect(type_equiv(&ts, 0, 1));
    cr_expect(type_equiv(&ts, 2, 3));  /* so are function types over them */
    cr_expect(heap_sub(&ts, 1, 0));
    typespace_free(&ts);
    module_free(&m);
}

Test(validate, different_rec_groups_are_different_types) {
    Wasm w;
    two_groups(&w, 1);
    expect_invalid(&w, w.body[1] + 3, "type mismatch");
}

Test(validate, final_types_have_no_subtypes) {
    Wasm w;
    w_init(&w);
    SEC(&w, 1, 0x02, 0x5f, 0x00, 0x50, 0x01, 0x00, 0x5f, 0x00); /* struct; (sub 0 struct) */
    expect_invalid(&w, w.payload + 3, "sub type");
    w_init(&w);
    SEC(&w, 1, 0x02, 0x50, 0x00, 0x5f, 0x00, 0x50, 0x01, 0x00, 0x5f, 0x00);
    expect_valid(&w);
}

/* ---- constant expressions ---- */

Test(validate, extended_constant_expressions) {
    Wasm w;
    w_init(&w);
    SEC(&w, 6, 0x01, 0x7f, 0x00, 0x41, 0x01, 0x41, 0x02, 0x6a, 0x0b); /* i32.add */
    expect_valid(&w);
    w_init(&w);
    SEC(&w, 6, 0x01, 0x7f, 0x00, 0x01, 0x41, 0x00, 0x0b);            /* nop */
    expect_invalid(&w, w.payload + 3, "constant expression required");
}

Test(validate, global_get_in_constant_expressions) {
    Wasm w;
    w_init(&w);  /* an earlier, immutable, defined global: valid in 3.0 */
    SEC(&w, 6, 0x02, 0x7f, 0x00, 0x41, 0x00, 0x0b, 0x7f, 0x00, 0x23, 0x00, 0x0b);
    expect_valid(&w);
    w_init(&w);  /* a later global */
    SEC(&w, 6, 0x02, 0x7f, 0x00, 0x23, 0x01, 0x0b, 0x7f, 0x00, 0x41, 0x00, 0x0b);
    expect_invalid(&w, w.payload + 3, "unknown global");
    w_init(&w);  /* a mutable imported global */
    SEC(&w, 2, 0x01, 0x01, 'm', 0x01, 'g', 0x03, 0x7f, 0x01);
    SEC(&w, 6, 0x01, 0x7f, 0x00, 0x23, 0x00, 0x0b);
    expect_invalid(&w, w.payload + 3, "constant expression required");
}

/* ---- declared function references ---- */

Test(validate, undeclared_function_reference) {
    Wasm w;
    w_init(&w);
    FUNC_VOID(&w);
    CODE1(&w, 0x00, 0xd2, 0x00, 0x1a, 0x0b);                   /* ref.func 0 drop */
    expect_invalid(&w, w.body[0] + 1, "undeclared function reference");
    w_init(&w);
    FUNC_VOID(&w);
    SEC(&w, 9, 0x01, 0x03, 0x00, 0x01, 0x00);                  /* (elem declare func 0) */
    CODE1(&w, 0x00, 0xd2, 0x00, 0x1a, 0x0b);
    expect_valid(&w);
    w_init(&w);
    FUNC_VOID(&w);
    SEC(&w, 7, 0x01, 0x01, 'f', 0x00, 0x00);                   /* (export "f" (func 0)) */
    CODE1(&w, 0x00, 0xd2, 0x00, 0x1a, 0x0b);
    expect_valid(&w);
}

/* ---- control: exceptions, tail calls ---- */

Test(validate, rethrow_needs_a_catch_label) {
    Wasm w;
    w_init(&w);
    FUNC_VOID(&w);
    CODE1(&w, 0x00, 0x06, 0x40, 0x09, 0x00, 0x0b, 0x0b);       /* try rethrow 0 end */
    expect_invalid(&w, w.body[0] + 3, "invalid rethrow label");
}

Test(validate, try_table_catch_must_match_its_label) {
    Wasm w;
    w_init(&w);
    SEC(&w, 1, 0x02, 0x60, 0x01, 0x7f, 0x00, 0x60, 0x00, 0x00); /* tag type (param i32) */
    SEC(&w, 3, 0x01, 0x01);
    SEC(&w, 13, 0x01, 0x00, 0x00);
    /* block (result i64) try_table (catch 0 0) end i64.const 0 end drop */
    CODE1(&w, 0x00, 0x02, 0x7e, 0x1f, 0x40, 0x01, 0x00, 0x00, 0x00, 0x0b, 0x42, 0x00, 0x0b,
          0x1a, 0x0b);
    expect_invalid(&w, w.body[0] + 3, "type mismatch");
}

Test(validate, tail_call_results_must_match) {
    Wasm w;
    w_init(&w);
    SEC(&w, 1, 0x02, 0x60, 0x00, 0x01, 0x7f, 0x60, 0x00, 0x01, 0x7e);
    SEC(&w, 3, 0x02, 0x00, 0x01);
    static const uint8_t b0[] = {0x00, 0x12, 0x01, 0x0b}, b1[] = {0x00, 0x42, 0x00, 0x0b};
    const uint8_t *bs[] = {b0, b1};
    size_t ls[] = {sizeof b0, sizeof b1};
    w_code(&w, 2, bs, ls);
    expect_invalid(&w, w.body[0] + 1, "type mismatch");
}

/* ---- module level ---- */

Test(validate, duplicate_export_offset_is_the_entry) {
    Wasm w;
    w_init(&w);
    FUNC_VOID(&w);
    SEC(&w, 7, 0x02, 0x01, 'f', 0x00, 0x00, 0x01, 'f', 0x00, 0x00);
    size_t exports = w.payload;
    CODE1(&w, 0x00, 0x0b);
    expect_invalid(&w, exports + 5, "duplicate export name");
}

Test(validate, memory_limits) {
    Wasm w;
    w_init(&w);
    SEC(&w, 5, 0x01, 0x00, 0x81, 0x80, 0x04);                  /* min 65537 pages */
    expect_invalid(&w, w.payload + 1, "memory size");
    w_init(&w);
    SEC(&w, 5, 0x01, 0x01, 0x02, 0x01);                        /* min 2 > max 1 */
    expect_invalid(&w, w.payload + 1, "size minimum must not be greater than maximum");
    w_init(&w);
    SEC(&w, 5, 0x01, 0x02, 0x01);                              /* shared, no max */
    expect_invalid(&w, w.payload + 1, "shared memory must have maximum");
}

Test(validate, start_function_type) {
    Wasm w;
    w_init(&w);
    SEC(&w, 1, 0x01, 0x60, 0x01, 0x7f, 0x00);
    SEC(&w, 3, 0x01, 0x00);
    SEC(&w, 8, 0x00);
    size_t start = w.payload;
    CODE1(&w, 0x00, 0x0b);
    expect_invalid(&w, start, "start function");
}

/* A body a pass rewrote (bytes outside the input) reports body_offset + its offset. */
Test(validate, rewritten_body_offsets) {
    Wasm w;
    w_init(&w);
    FUNC_VOID(&w);
    CODE1(&w, 0x00, 0x0b);
    Module m;
    WsError err;
    cr_assert(module_read(&m, w.b, w.n, "t.wasm", NULL, &err));
    static const uint8_t body[] = {0x00, 0x01, 0x41, 0x00, 0x0b}; /* nop i32.const 0 */
    m.funcs[0].body.p = body;
    m.funcs[0].body.len = sizeof body;
    m.funcs[0].changed = true;
    cr_assert(!module_validate(&m, &err));
    cr_expect_eq(err.offset, m.funcs[0].body_offset + 4, "offset 0x%zx: %s", err.offset, err.msg);
    module_free(&m);
}

/* Bodies the reader only skimmed (no ReadOptions.decode_code) are fully checked here. */
static bool check_undecoded(const Wasm *w, WsError *err) {
    Module m;
    cr_assert(module_read(&m, w->b, w->n, "t.wasm", NULL, err), "read failed: %s", err->msg);
    bool ok = module_validate(&m, err);
    module_free(&m);
    return ok;
}

Test(validate, undecoded_bodies_are_checked) {
    Wasm w;
    WsError err;
    w_init(&w);
    FUNC_VOID(&w);
    CODE1(&w, 0x00, 0x05, 0x0b);                               /* else outside if */
    cr_assert(!check_undecoded(&w, &err));
    cr_expect_eq(err.offset, w.body[0] + 1);
    w_init(&w);
    FUNC_VOID(&w);
    CODE1(&w, 0x00, 0xfc, 0x09, 0x00, 0x0b);                   /* data.drop 0 */
    SEC(&w, 11, 0x01, 0x01, 0x00);                             /* one passive segment */
    cr_assert(!check_undecoded(&w, &err));
    cr_expect(strstr(err.msg, "data count section required"), "%s", err.msg);
    cr_expect_eq(err.offset, w.body[0] + 1);
}

/* Many locals and a small body: the locals stay run-length groups. */
Test(validate, grouped_locals) {
    Wasm w;
    w_init(&w);  /* (local i32 x 100000) (local (ref 0)); local.get 100000 */
    STRUCT_LOCAL_N(&w, 0x20, 0xa0, 0x8d, 0x06, 0x1a, 0x0b);
    expect_invalid(&w, w.body[0] + 8, "uninitialized local");
    w_init(&w);  /* set it, then get it and an i32 local */
    STRUCT_LOCAL_N(&w, 0xfb, 0x00, 0x00, 0x21, 0xa0, 0x8d, 0x06, 0x20, 0xa0, 0x8d, 0x06, 0x1a,
                   0x20, 0x05, 0x1a, 0x0b);
    expect_valid(&w);
    w_init(&w);
    STRUCT_LOCAL_N(&w, 0x20, 0xa1, 0x8d, 0x06, 0x1a, 0x0b);   /* local.get 100001 */
    expect_invalid(&w, w.body[0] + 8, "unknown local");
}
