/* test_instr.c - the opcode table, instruction decoding/encoding, body and expression
 * scanning and canonicalization (ir/opcodes.*, ir/instr.*). */
#include <criterion/criterion.h>
#include <stdlib.h>
#include "instr.h"

/* Test input is copied to offset BASE of a fake file, so that error offsets are checked
 * as file offsets.  The error record is static: it is written between setjmp and
 * longjmp, which leaves automatic objects indeterminate. */
enum { BASE = 16 };
static WsError err;
static uint8_t *file;

static Cursor over(const uint8_t *bytes, size_t n) {
    free(file);
    file = malloc(BASE + n + 1);
    memset(file, 0xEE, BASE);
    memcpy(file + BASE, bytes, n);
    return (Cursor){file, file + BASE, file + BASE + n, &err};
}

#define B(...) ((const uint8_t[]){__VA_ARGS__}), sizeof((const uint8_t[]){__VA_ARGS__})

/* Decodes exactly one instruction that must fill the bytes. */
static Instr dec(const uint8_t *b, size_t n) {
    Cursor c = over(b, n);
    Instr in;
    if (setjmp(err.jb)) cr_assert_fail("unexpected failure at 0x%zx: %s", err.offset, err.msg);
    instr_decode(&c, &in);
    cr_assert_eq(c.p, c.end, "decoded %u of %zu bytes", in.len, n);
    cr_assert_eq(in.len, n);
    cr_assert_eq(in.off, (size_t)BASE);
    return in;
}

static bool same_bytes(const Buf *b, const uint8_t *want, size_t n) {
    return b->len == n && memcmp(b->data, want, n) == 0;
}

/* Encodes in and expects exactly the bytes want. */
static void expect_encoding(const Instr *in, const uint8_t *want, size_t n) {
    Buf b = {0};
    instr_encode(&b, in);
    cr_assert(same_bytes(&b, want, n), "%s: encoded to %zu bytes, want %zu",
              op_info[in->op].name, b.len, n);
    buf_free(&b);
}

/* Scans a body; on failure returns true and the error's offset relative to the body. */
static bool body_fails(const uint8_t *b, size_t n, CodeInfo *info, size_t *off) {
    Cursor c = over(b, n);
    if (setjmp(err.jb)) {
        *off = err.offset - BASE;
        return true;
    }
    body_scan(&c, info);
    return false;
}

static void expect_body_ok(const uint8_t *b, size_t n, CodeInfo *info) {
    size_t off;
    cr_assert_not(body_fails(b, n, info, &off), "failed at +%zu: %s", off, err.msg);
}

static void expect_body_error(const uint8_t *b, size_t n, size_t want_off, const char *want) {
    CodeInfo info;
    size_t off = 0;
    cr_assert(body_fails(b, n, &info, &off), "accepted, want \"%s\"", want);
    cr_assert(strstr(err.msg, want), "message \"%s\", want \"%s\"", err.msg, want);
    cr_assert_eq(off, want_off, "offset +%zu, want +%zu (%s)", off, want_off, err.msg);
}

static Buf canonical_body(const uint8_t *b, size_t n) {
    Cursor c = over(b, n);
    Buf out = {0};
    if (setjmp(err.jb)) cr_assert_fail("canonicalize failed: %s", err.msg);
    body_canonicalize(&c, &out);
    cr_assert_eq(c.p, c.end);
    return out;
}

/* ---- the opcode table ---- */

Test(opcodes, every_entry_looks_itself_up) {
    for (unsigned i = 0; i < OP_COUNT; i++) {
        const OpInfo *o = &op_info[i];
        cr_assert(o->prefix == 0 || (o->prefix >= 0xFB && o->prefix <= 0xFE), "%s", o->name);
        cr_assert(o->prefix != 0 || o->code < 0xFB, "%s", o->name);
        cr_assert_eq(op_lookup(o->prefix, o->code), (OpId)i, "%s", o->name);
        cr_assert_eq(op_by_name(o->name), (OpId)i, "%s: name not unique", o->name);
        cr_assert_lt(o->imm, IMM_COUNT, "%s", o->name);
    }
}

Test(opcodes, counts_per_prefix) {
    unsigned count[256] = {0};
    for (unsigned i = 0; i < OP_COUNT; i++) count[op_info[i].prefix]++;
    cr_assert_eq(count[0], 199);
    cr_assert_eq(count[0xFB], 31);  /* GC 0-30 */
    cr_assert_eq(count[0xFC], 18);  /* saturating truncation 0-7, bulk memory and tables 8-17 */
    cr_assert_eq(count[0xFD], 256); /* 236 fixed-width SIMD + 20 relaxed */
    cr_assert_eq(count[0xFE], 67);  /* notify, wait32/64, fence, 63 atomic accesses */
}

Test(opcodes, unknown_codes) {
    cr_assert_eq(op_lookup(0, 0x16), OP_COUNT);
    cr_assert_eq(op_lookup(0, 0x27), OP_COUNT);
    cr_assert_eq(op_lookup(0, 0xD7), OP_COUNT);
    cr_assert_eq(op_lookup(0, 0xFF), OP_COUNT);
    cr_assert_eq(op_lookup(0xFB, 31), OP_COUNT);
    cr_assert_eq(op_lookup(0xFC, 18), OP_COUNT);
    cr_assert_eq(op_lookup(0xFD, 0x9A), OP_COUNT);
    cr_assert_eq(op_lookup(0xFD, 0x114), OP_COUNT);
    cr_assert_eq(op_lookup(0xFE, 0x04), OP_COUNT);
    cr_assert_eq(op_lookup(0xFE, 0x4F), OP_COUNT);
    cr_assert_eq(op_lookup(0xFE, UINT32_MAX), OP_COUNT);
    cr_assert_eq(op_lookup(0xFF, 0), OP_COUNT);
    cr_assert_eq(op_by_name("i32.frobnicate"), OP_COUNT);
}

Test(opcodes, known_codes) {
    cr_assert_eq(op_lookup(0, 0x6A), OP_I32_ADD);
    cr_assert_eq(op_lookup(0xFD, 0x0C), OP_V128_CONST);
    cr_assert_eq(op_lookup(0xFD, 0x113), OP_I32X4_RELAXED_DOT_I8X16_I7X16_ADD_S);
    cr_assert_eq(op_lookup(0xFE, 0x4E), OP_I64_ATOMIC_RMW32_CMPXCHG_U);
    cr_assert_eq(op_lookup(0xFB, 30), OP_I31_GET_U);
    cr_assert_eq(op_lookup(0xFC, 17), OP_TABLE_FILL);
    cr_assert_eq(op_by_name("select_t"), OP_SELECT_T);
    cr_assert_eq(op_by_name("ref.cast_null"), OP_REF_CAST_NULL);
}

static bool sig_ok(const char *s) {
    if (strcmp(s, "*") == 0) return true;
    const char *colon = strchr(s, ':');
    if (!colon || strchr(colon + 1, ':')) return false;
    for (; *s; s++)
        if (*s != ':' && !strchr("ilfdvat", *s)) return false;
    return true;
}

Test(opcodes, signatures_and_effects) {
    for (unsigned i = 0; i < OP_COUNT; i++) {
        const OpInfo *o = &op_info[i];
        cr_assert(sig_ok(o->sig), "%s: bad signature \"%s\"", o->name, o->sig);
        if (o->imm == IMM_MEMARG || o->imm == IMM_MEMARG_LANE)
            cr_assert(o->sig[0] == 'a' && (o->fx & FX_TRAP), "%s", o->name);
    }
    cr_assert_eq(op_info[OP_I32_LOAD].fx, FX_RMEM | FX_TRAP);
    cr_assert_eq(op_info[OP_F64_STORE].fx, FX_WMEM | FX_TRAP);
    cr_assert_eq(op_info[OP_I32_ADD].fx, 0);
    cr_assert_eq(op_info[OP_I64_REM_U].fx, FX_TRAP);
    cr_assert_eq(op_info[OP_I32_TRUNC_F32_S].fx, FX_TRAP);
    cr_assert_eq(op_info[OP_I32_TRUNC_SAT_F32_S].fx, 0);
    cr_assert_eq(op_info[OP_LOCAL_GET].fx, FX_RLOCAL);
    cr_assert(op_info[OP_CALL_INDIRECT].fx & FX_CALL);
    cr_assert(op_info[OP_CALL].fx & FX_WMEM);
    cr_assert_not(op_info[OP_CALL].fx & (FX_RLOCAL | FX_WLOCAL));
    cr_assert(op_info[OP_BR_TABLE].fx & FX_CTRL);
    cr_assert_str_eq(op_info[OP_I32_STORE].sig, "ai:");
    cr_assert_str_eq(op_info[OP_MEMORY_GROW].sig, "a:a");
}

/* ---- one instruction per immediate kind: decode, fields, canonical re-encoding ---- */

typedef struct Case {
    const char *name;
    uint8_t bytes[40];
    size_t len;
} Case;

#define C(nm, ...) {nm, {__VA_ARGS__}, sizeof((uint8_t[]){__VA_ARGS__})}
static const Case cases[] = {
    C("i32.add", 0x6A),
    C("block", 0x02, 0x40), C("loop", 0x03, 0x7F), C("if", 0x04, 0x63, 0x70),
    C("block", 0x02, 0x64, 0x05), C("try", 0x06, 0x85, 0x01), C("block", 0x02, 0x7B),
    C("br", 0x0C, 0x03), C("br_on_null", 0xD5, 0x00), C("delegate", 0x18, 0x01),
    C("br_table", 0x0E, 0x02, 0x00, 0x01, 0x02),
    C("call", 0x10, 0xE5, 0x8E, 0x26), C("ref.func", 0xD2, 0x07),
    C("call_indirect", 0x11, 0x02, 0x01), C("return_call_indirect", 0x13, 0x00, 0x00),
    C("call_ref", 0x14, 0x07), C("struct.new", 0xFB, 0x00, 0x03),
    C("local.get", 0x20, 0x81, 0x01), C("global.set", 0x24, 0x00),
    C("table.get", 0x25, 0x03), C("table.size", 0xFC, 0x10, 0x00),
    C("table.copy", 0xFC, 0x0E, 0x01, 0x02), C("elem.drop", 0xFC, 0x0D, 0x04),
    C("table.init", 0xFC, 0x0C, 0x04, 0x01),
    C("memory.size", 0x3F, 0x00), C("memory.grow", 0x40, 0x01),
    C("memory.copy", 0xFC, 0x0A, 0x00, 0x01), C("data.drop", 0xFC, 0x09, 0x03),
    C("memory.init", 0xFC, 0x08, 0x03, 0x00),
    C("i32.load", 0x28, 0x02, 0x10), C("i64.load", 0x29, 0x43, 0x02, 0x08),
    C("i64.load", 0x29, 0x03, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01),
    C("i32.atomic.rmw.cmpxchg", 0xFE, 0x48, 0x02, 0x00),
    C("v128.load8_lane", 0xFD, 0x54, 0x00, 0x00, 0x0F),
    C("i32.const", 0x41, 0x7F), C("i32.const", 0x41, 0x80, 0x80, 0x80, 0x80, 0x78),
    C("i64.const", 0x42, 0xC0, 0x00),
    C("f32.const", 0x43, 0x00, 0x00, 0x80, 0x3F),
    C("f64.const", 0x44, 0, 0, 0, 0, 0, 0, 0xF0, 0x3F),
    C("v128.const", 0xFD, 0x0C, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16),
    C("i8x16.extract_lane_s", 0xFD, 0x15, 0x0F),
    C("i8x16.shuffle", 0xFD, 0x0D, 0, 17, 2, 19, 4, 21, 6, 23, 8, 25, 10, 27, 12, 29, 14, 31),
    C("select_t", 0x1C, 0x02, 0x7F, 0x63, 0x05),
    C("ref.null", 0xD0, 0x70), C("ref.test", 0xFB, 0x14, 0x6C),
    C("ref.cast_null", 0xFB, 0x17, 0x05),
    C("throw", 0x08, 0x00), C("catch", 0x07, 0x02),
    C("try_table", 0x1F, 0x40, 0x04, 0x00, 0x01, 0x00, 0x01, 0x02, 0x01, 0x02, 0x03, 0x03, 0x00),
    C("struct.get_u", 0xFB, 0x04, 0x01, 0x02), C("array.new_fixed", 0xFB, 0x08, 0x01, 0x03),
    C("array.new_data", 0xFB, 0x09, 0x01, 0x02), C("array.init_elem", 0xFB, 0x13, 0x01, 0x02),
    C("array.copy", 0xFB, 0x11, 0x01, 0x02),
    C("br_on_cast", 0xFB, 0x18, 0x03, 0x00, 0x6E, 0x6C),
    C("br_on_cast_fail", 0xFB, 0x19, 0x01, 0x02, 0x6E, 0x80, 0x01),
    C("atomic.fence", 0xFE, 0x03, 0x00),
    C("i32x4.relaxed_laneselect", 0xFD, 0x8B, 0x02),
};

Test(instr, every_immediate_kind_round_trips) {
    bool seen[IMM_COUNT] = {false};
    for (size_t k = 0; k < WS_ARRAY_LEN(cases); k++) {
        const Case *t = &cases[k];
        Instr in = dec(t->bytes, t->len);
        cr_assert_str_eq(op_info[in.op].name, t->name);
        seen[op_info[in.op].imm] = true;
        expect_encoding(&in, t->bytes, t->len);
    }
    for (int kind = 0; kind < IMM_COUNT; kind++)
        cr_assert(seen[kind], "immediate kind %d untested", kind);
}

Test(instr, fields) {
    Instr in = dec(B(0x10, 0xE5, 0x8E, 0x26));
    cr_assert_eq(in.a, 624485);
    in = dec(B(0x11, 0x02, 0x01));
    cr_assert(in.a == 2 && in.b == 1);
    in = dec(B(0x29, 0x43, 0x02, 0x08));
    cr_assert(in.a == 3 && in.mem == 2 && in.b == 8);
    in = dec(B(0x29, 0x03, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01));
    cr_assert_eq(in.b, UINT64_MAX);
    in = dec(B(0x41, 0x80, 0x80, 0x80, 0x80, 0x78));
    cr_assert_eq(in.i, INT32_MIN);
    in = dec(B(0x42, 0xC0, 0x00));
    cr_assert_eq(in.i, 64);
    in = dec(B(0x43, 0x00, 0x00, 0x80, 0x3F));
    cr_assert_eq(in.bytes, file + BASE + 1);
    in = dec(B(0xFD, 0x54, 0x00, 0x00, 0x0F));
    cr_assert_eq(in.lane, 15);
    in = dec(B(0xD0, 0x70));
    cr_assert_eq(in.heap, HT_FUNC);
    in = dec(B(0xFB, 0x17, 0x05));
    cr_assert_eq(in.heap, 5);
    in = dec(B(0xFB, 0x19, 0x01, 0x02, 0x6E, 0x80, 0x01));
    cr_assert(in.flags == 1 && in.a == 2 && in.heap == HT_ANY && in.heap2 == 128);
    in = dec(B(0xFB, 0x04, 0x01, 0x02));
    cr_assert(in.a == 1 && in.b == 2);
}

Test(instr, block_types) {
    Instr in = dec(B(0x02, 0x40));
    cr_assert_eq(in.bt.kind, BT_EMPTY);
    in = dec(B(0x03, 0x7F));
    cr_assert(in.bt.kind == BT_VAL && in.bt.val.code == VT_I32);
    in = dec(B(0x04, 0x63, 0x70));
    cr_assert(in.bt.kind == BT_VAL && in.bt.val.code == VT_REF_NULL && in.bt.val.heap == HT_FUNC);
    in = dec(B(0x02, 0x6E));
    cr_assert(in.bt.kind == BT_VAL && vt_nullable(in.bt.val) && in.bt.val.heap == HT_ANY);
    in = dec(B(0x06, 0x85, 0x01));
    cr_assert(in.bt.kind == BT_TYPE && in.bt.type == 133);
    in = dec(B(0x02, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F)); /* largest s33 type index */
    cr_assert(in.bt.kind == BT_TYPE && in.bt.type == UINT32_MAX);
}

Test(instr, variable_length_immediates) {
    Instr in = dec(B(0x0E, 0x03, 0x05, 0x80, 0x01, 0x00, 0x02));
    const uint8_t *p = in.vec;
    cr_assert(in.n == 3 && in.a == 2);
    cr_assert_eq(br_table_label_next(&p), 5);
    cr_assert_eq(br_table_label_next(&p), 128);
    cr_assert_eq(br_table_label_next(&p), 0);

    in = dec(B(0x1C, 0x03, 0x7F, 0x64, 0x6B, 0x63, 0x05));
    p = in.vec;
    ValType t = select_type_next(&p);
    cr_assert(in.n == 3 && t.code == VT_I32);
    t = select_type_next(&p);
    cr_assert(t.code == VT_REF && t.heap == HT_STRUCT && !vt_nullable(t));
    t = select_type_next(&p);
    cr_assert(t.code == VT_REF_NULL && t.heap == 5);

    in = dec(B(0x1F, 0x7F, 0x04, 0x00, 0x01, 0x00, 0x01, 0x02, 0x01, 0x02, 0x03, 0x03, 0x00));
    p = in.vec;
    cr_assert(in.n == 4 && in.bt.kind == BT_VAL);
    Catch k = catch_next(&p);
    cr_assert(k.kind == CATCH_TAG && k.tag == 1 && k.label == 0);
    k = catch_next(&p);
    cr_assert(k.kind == CATCH_TAG_REF && k.tag == 2 && k.label == 1);
    k = catch_next(&p);
    cr_assert(k.kind == CATCH_ALL && k.label == 3);
    k = catch_next(&p);
    cr_assert(k.kind == CATCH_ALL_REF && k.label == 0);
}

/* Decodes padded bytes, which must re-encode to the canonical bytes. */
static void expect_shrinks(const uint8_t *padded, size_t n, const uint8_t *want, size_t wn) {
    Instr in = dec(padded, n);
    expect_encoding(&in, want, wn);
}

Test(instr, non_canonical_immediates_encode_minimally) {
    expect_shrinks(B(0x10, 0x80, 0x80, 0x80, 0x80, 0x00), B(0x10, 0x00));
    expect_shrinks(B(0x41, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F), B(0x41, 0x7F));
    expect_shrinks(B(0x42, 0xC0, 0x80, 0x00), B(0x42, 0xC0, 0x00));
    expect_shrinks(B(0xFC, 0x80, 0x00), B(0xFC, 0x00));
    expect_shrinks(B(0x28, 0x42, 0x00, 0x00), B(0x28, 0x02, 0x00));
    expect_shrinks(B(0x28, 0x82, 0x80, 0x00, 0x84, 0x00), B(0x28, 0x02, 0x04));
    expect_shrinks(B(0x02, 0x80, 0x00), B(0x02, 0x00));
    expect_shrinks(B(0xD0, 0x85, 0x00), B(0xD0, 0x05));
    expect_shrinks(B(0x0E, 0x81, 0x00, 0x80, 0x00, 0x82, 0x00), B(0x0E, 0x01, 0x00, 0x02));
    expect_shrinks(B(0x1C, 0x01, 0x64, 0x81, 0x00), B(0x1C, 0x01, 0x64, 0x01));
    expect_shrinks(B(0x1F, 0x40, 0x01, 0x00, 0x80, 0x00, 0x80, 0x00),
                   B(0x1F, 0x40, 0x01, 0x00, 0x00, 0x00));
    expect_shrinks(B(0xFB, 0x18, 0x00, 0x80, 0x00, 0x6E, 0x81, 0x00),
                   B(0xFB, 0x18, 0x00, 0x00, 0x6E, 0x01));
}

/* The same padded instruction inside a body (no locals, then end) goes through the
 * body canonicalizer's in-place fast path; it must agree with decode + encode. */
static void expect_body_shrinks(const uint8_t *padded, size_t n, const uint8_t *want, size_t wn) {
    uint8_t body[64], expect[64];
    cr_assert(n + 2 <= sizeof body && wn + 2 <= sizeof expect);
    body[0] = expect[0] = 0x00;
    memcpy(body + 1, padded, n);
    memcpy(expect + 1, want, wn);
    body[n + 1] = expect[wn + 1] = 0x0B;
    Buf out = canonical_body(body, n + 2);
    cr_assert_eq(out.len, wn + 2, "length %zu, want %zu (first byte %02x)", out.len, wn + 2, padded[0]);
    cr_assert(!memcmp(out.data, expect, wn + 2));
    buf_free(&out);
}

Test(instr, body_fast_path_shrinks_like_decode_and_encode) {
    static const struct { uint8_t in[12], n, want[12], wn; } padded[] = {
        {{0x10, 0x80, 0x80, 0x80, 0x80, 0x00}, 6, {0x10, 0x00}, 2},          /* call */
        {{0x20, 0x81, 0x00}, 3, {0x20, 0x01}, 2},                              /* local.get */
        {{0x23, 0xFF, 0x80, 0x00}, 4, {0x23, 0x7F}, 2},                        /* global.get 127 */
        {{0x23, 0xFF, 0x81, 0x00}, 4, {0x23, 0xFF, 0x01}, 3},                  /* global.get 255 */
        {{0x11, 0x81, 0x00, 0x80, 0x00}, 5, {0x11, 0x01, 0x00}, 3},           /* call_indirect */
        {{0x41, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F}, 6, {0x41, 0x7F}, 2},           /* i32.const -1 */
        {{0x41, 0x80, 0x7F}, 3, {0x41, 0x80, 0x7F}, 3},                        /* i32.const -128 */
        {{0x42, 0xC0, 0x80, 0x00}, 4, {0x42, 0xC0, 0x00}, 3},                  /* i64.const 64 */
        {{0x28, 0x42, 0x00, 0x00}, 4, {0x28, 0x02, 0x00}, 3},                  /* memarg, memory 0 */
        {{0x28, 0x82, 0x80, 0x00, 0x84, 0x00}, 6, {0x28, 0x02, 0x04}, 3},     /* padded align, offset */
        {{0x36, 0x02, 0x90, 0x80, 0x80, 0x80, 0x00}, 7, {0x36, 0x02, 0x10}, 3}, /* store offset */
        {{0x28, 0x42, 0x01, 0x80, 0x00}, 5, {0x28, 0x42, 0x01, 0x00}, 4},     /* memory 1 stays */
        {{0x02, 0x80, 0x00}, 3, {0x02, 0x00}, 2},                              /* block, type 0 */
        {{0x43, 0x00, 0x00, 0x80, 0x00}, 5, {0x43, 0x00, 0x00, 0x80, 0x00}, 5}, /* f32.const */
        {{0x3F, 0x80, 0x00}, 3, {0x3F, 0x00}, 2},                              /* memory.size */
    };
    for (size_t i = 0; i < sizeof padded / sizeof padded[0]; i++) {
        expect_body_shrinks(padded[i].in, padded[i].n, padded[i].want, padded[i].wn);
        expect_shrinks(padded[i].in, padded[i].n, padded[i].want, padded[i].wn);
    }
}

/* ---- the type grammar ---- */

/* Reads one value type that must fill the bytes. */
static ValType one_valtype(const uint8_t *b, size_t n) {
    Cursor c = over(b, n);
    if (setjmp(err.jb)) cr_assert_fail("%s", err.msg);
    ValType t = read_valtype(&c);
    cr_assert(cur_eof(&c));
    return t;
}

Test(types, value_types) {
    static const uint8_t shorthands[] = {0x69, 0x6A, 0x6B, 0x6C, 0x6D, 0x6E,
                                         0x6F, 0x70, 0x71, 0x72, 0x73, 0x74};
    for (size_t k = 0; k < sizeof shorthands; k++) {
        ValType t = one_valtype(&shorthands[k], 1);
        cr_assert(vt_is_ref(t) && vt_nullable(t) && t.heap == (int32_t)shorthands[k] - 0x80);
        Buf b = {0};
        write_valtype(&b, t);
        cr_assert(same_bytes(&b, &shorthands[k], 1));
        buf_free(&b);
    }
    Cursor c = over(B(0x64, 0x07, 0x78, 0x7B));
    if (setjmp(err.jb)) cr_assert_fail("%s", err.msg);
    ValType t = read_reftype(&c);
    cr_assert(t.code == VT_REF && t.heap == 7);
    cr_assert_eq(read_storagetype(&c).code, VT_I8);
    cr_assert_eq(read_valtype(&c).code, VT_V128);
}

static const char *type_error(const uint8_t *b, size_t n, ValType (*read)(Cursor *)) {
    Cursor c = over(b, n);
    if (setjmp(err.jb)) return err.msg;
    read(&c);
    return NULL;
}

Test(types, malformed) {
    const char *m = type_error(B(0x78), read_valtype);
    cr_assert(m && strstr(m, "malformed value type"));
    m = type_error(B(0x7F), read_reftype);
    cr_assert(m && strstr(m, "malformed reference type"));
    m = type_error(B(0x63, 0x60), read_valtype);
    cr_assert(m && strstr(m, "malformed heap type"));
    m = type_error(B(0x63, 0xF0, 0x7F), read_valtype); /* padded abstract type */
    cr_assert(m && strstr(m, "malformed heap type"));
    m = type_error(B(0x63, 0x80, 0x80, 0x80, 0x80, 0x08), read_valtype);
    cr_assert(m && strstr(m, "type index too large"));
}

/* ---- function bodies ---- */

Test(body, info) {
    CodeInfo info;
    expect_body_ok(B(0x02, 0x03, 0x7F, 0x80, 0x01, 0x7E, 0x20, 0x00, 0x1A, 0x0B), &info);
    cr_assert(info.nlocals == 131 && info.ninstrs == 3 && info.canonical && !info.uses_data_index);
    expect_body_ok(B(0x00, 0xFC, 0x09, 0x00, 0x0B), &info);
    cr_assert(info.uses_data_index);
    expect_body_ok(B(0x00, 0xFB, 0x12, 0x00, 0x00, 0x0B), &info);
    cr_assert(info.uses_data_index);
}

Test(body, padded_call_shrinks_and_redecodes) {
    static const uint8_t padded[] = {0x00, 0x10, 0x85, 0x80, 0x80, 0x80, 0x00, 0x0B};
    CodeInfo info;
    expect_body_ok(padded, sizeof padded, &info);
    cr_assert_not(info.canonical);
    Buf out = canonical_body(padded, sizeof padded);
    cr_assert(same_bytes(&out, B(0x00, 0x10, 0x05, 0x0B)));
    expect_body_ok(out.data, out.len, &info);
    cr_assert(info.canonical && info.ninstrs == 2);
    Instr in = dec(out.data + 1, 2);
    cr_assert(in.op == OP_CALL && in.a == 5);
    buf_free(&out);
}

Test(body, padded_locals_and_memidx_zero) {
    CodeInfo info;
    expect_body_ok(B(0x01, 0x82, 0x00, 0x7F, 0x0B), &info);
    cr_assert(!info.canonical && info.nlocals == 2);
    Buf out = canonical_body(B(0x81, 0x00, 0x82, 0x00, 0x7F, 0x0B));
    cr_assert(same_bytes(&out, B(0x01, 0x02, 0x7F, 0x0B)));
    buf_free(&out);
    expect_body_ok(B(0x00, 0x41, 0x00, 0x28, 0x42, 0x00, 0x00, 0x1A, 0x0B), &info);
    cr_assert_not(info.canonical);
    out = canonical_body(B(0x00, 0x41, 0x00, 0x28, 0x42, 0x00, 0x00, 0x1A, 0x0B));
    cr_assert(same_bytes(&out, B(0x00, 0x41, 0x00, 0x28, 0x02, 0x00, 0x1A, 0x0B)));
    buf_free(&out);
    expect_body_ok(B(0x00, 0x41, 0x00, 0x28, 0x42, 0x01, 0x00, 0x1A, 0x0B), &info);
    cr_assert(info.canonical); /* memory 1 must stay explicit */
}

Test(body, local_groups_are_folded) {
    CodeInfo info;
    /* 2 i32, 0 i64, 3 i32, 1 (ref 0) */
    static const uint8_t split[] = {0x04, 0x02, 0x7F, 0x00, 0x7E, 0x03, 0x7F, 0x01, 0x64, 0x00,
                                    0x0B};
    expect_body_ok(split, sizeof split, &info);
    cr_assert(!info.canonical && info.nlocals == 6);
    Buf out = canonical_body(split, sizeof split);
    cr_assert(same_bytes(&out, B(0x02, 0x05, 0x7F, 0x01, 0x64, 0x00, 0x0B)));
    buf_free(&out);
    out = canonical_body(B(0x01, 0x00, 0x7F, 0x0B));
    cr_assert(same_bytes(&out, B(0x00, 0x0B)));
    buf_free(&out);
    expect_body_ok(B(0x03, 0x01, 0x7F, 0x01, 0x7E, 0x01, 0x7F, 0x0B), &info);
    cr_assert(info.canonical);
}

Test(body, canonical_body_is_reproduced) {
    static const uint8_t body[] = {
        0x01, 0x01, 0x7F,                   /* one i32 local */
        0x02, 0x40, 0x20, 0x00, 0x04, 0x7F, /* block, local.get 0, if (result i32) */
        0x41, 0x01, 0x05, 0x41, 0x02, 0x0B, /* i32.const 1 else i32.const 2 end */
        0x21, 0x00, 0x0B, 0x0B,             /* local.set 0 end end */
    };
    CodeInfo info;
    expect_body_ok(body, sizeof body, &info);
    cr_assert(info.canonical);
    Buf out = canonical_body(body, sizeof body);
    cr_assert(same_bytes(&out, body, sizeof body));
    buf_free(&out);
}

Test(body, malformed_encodings) {
    expect_body_error(B(0x00, 0xFF, 0x0B), 1, "illegal opcode ff");
    expect_body_error(B(0x00, 0x16, 0x0B), 1, "illegal opcode");
    expect_body_error(B(0x00, 0xFC, 0x12, 0x0B), 1, "illegal opcode fc 12");
    expect_body_error(B(0x00, 0x41, 0x00, 0x28, 0x80, 0x01, 0x00, 0x1A, 0x0B), 4,
                      "malformed memop flags");
    expect_body_error(B(0x01, 0x80, 0x80, 0x80, 0x80, 0x10, 0x7F, 0x0B), 1, "integer too large");
    expect_body_error(B(0x00, 0x41, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00, 0x0B), 2,
                      "integer representation too long");
    expect_body_error(B(0x02, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F, 0x7F, 0x02, 0x7E, 0x0B), 0,
                      "too many locals");
    expect_body_error(B(0x00, 0xFE, 0x03, 0x01, 0x0B), 3, "zero byte expected");
    expect_body_error(B(0x01, 0x01, 0x60, 0x0B), 2, "malformed value type");
    expect_body_error(B(0x00, 0xD0, 0x60, 0x0B), 2, "malformed heap type");
    expect_body_error(B(0x00, 0x02, 0x60, 0x0B, 0x0B), 2, "malformed block type");
    expect_body_error(B(0x00, 0x1F, 0x40, 0x01, 0x04, 0x00, 0x0B, 0x0B), 4,
                      "malformed catch clause");
    expect_body_error(B(0x00, 0xFB, 0x18, 0x04, 0x00, 0x6E, 0x6E, 0x0B), 3, "malformed cast flags");
    expect_body_error(B(0x00, 0x41), 2, "unexpected end");
    expect_body_error(B(0x00, 0x43, 0x00, 0x00), 2, "unexpected end");
}

Test(body, must_end_exactly_at_its_end) {
    expect_body_error(B(0x00, 0x01), 2, "unexpected end of section or function");
    expect_body_error(B(0x00, 0x02, 0x40, 0x0B), 4, "END opcode expected");
    expect_body_error(B(0x00, 0x0B, 0x01), 2, "section size mismatch");
    expect_body_error(B(0x00, 0x0B, 0x0B), 2, "section size mismatch");
    expect_body_error(B(0x00), 1, "unexpected end");
}

Test(body, block_nesting) {
    CodeInfo info;
    expect_body_ok(B(0x00, 0x41, 0x00, 0x04, 0x40, 0x05, 0x0B, 0x0B), &info);
    expect_body_ok(B(0x00, 0x06, 0x40, 0x07, 0x00, 0x07, 0x01, 0x19, 0x0B, 0x0B), &info);
    expect_body_ok(B(0x00, 0x06, 0x40, 0x18, 0x00, 0x0B), &info); /* delegate closes the try */
    expect_body_ok(B(0x00, 0x06, 0x40, 0x0B, 0x0B), &info);
    expect_body_ok(B(0x00, 0x1F, 0x40, 0x00, 0x0B, 0x0B), &info);

    expect_body_error(B(0x00, 0x05, 0x0B), 1, "END opcode expected");
    expect_body_error(B(0x00, 0x02, 0x40, 0x05, 0x0B, 0x0B), 3, "END opcode expected");
    expect_body_error(B(0x00, 0x41, 0x00, 0x04, 0x40, 0x05, 0x05, 0x0B, 0x0B), 6,
                      "END opcode expected");
    expect_body_error(B(0x00, 0x02, 0x40, 0x07, 0x00, 0x0B, 0x0B), 3, "END opcode expected");
    expect_body_error(B(0x00, 0x1F, 0x40, 0x00, 0x19, 0x0B, 0x0B), 4, "END opcode expected");
    expect_body_error(B(0x00, 0x06, 0x40, 0x19, 0x19, 0x0B, 0x0B), 4, "END opcode expected");
    expect_body_error(B(0x00, 0x06, 0x40, 0x19, 0x07, 0x00, 0x0B, 0x0B), 4, "END opcode expected");
    expect_body_error(B(0x00, 0x06, 0x40, 0x07, 0x00, 0x18, 0x00, 0x0B), 5, "END opcode expected");
    expect_body_error(B(0x00, 0x18, 0x00, 0x0B), 1, "END opcode expected");
    /* an else inside a block inside an if belongs to the block */
    expect_body_error(B(0x00, 0x41, 0x00, 0x04, 0x40, 0x02, 0x40, 0x05, 0x0B, 0x0B, 0x0B), 7,
                      "END opcode expected");
}

/* A body nesting depth blocks, then tail, then depth ends and the function's end. */
static uint8_t *deep_body(uint32_t depth, const uint8_t *tail, size_t tn, size_t *n) {
    uint8_t *b = malloc(1 + 2 * (size_t)depth + tn + depth + 1);
    size_t k = 0;
    b[k++] = 0x00;
    for (uint32_t i = 0; i < depth; i++) {
        b[k++] = i % 2 ? 0x02 : 0x03;
        b[k++] = 0x40;
    }
    memcpy(b + k, tail, tn);
    k += tn;
    for (uint32_t i = 0; i <= depth; i++) b[k++] = 0x0B;
    *n = k;
    return b;
}

Test(body, deep_nesting_beyond_the_inline_stack) {
    size_t n;
    uint8_t *b = deep_body(100000, B(0x01), &n);
    CodeInfo info;
    expect_body_ok(b, n, &info);
    cr_assert_eq(info.ninstrs, 100000 * 2 + 2);
    free(b);
    b = deep_body(100000, B(0x05), &n);
    expect_body_error(b, n, 1 + 2 * 100000, "END opcode expected");
    free(b);
    b = deep_body(5000, B(0x41, 0x80, 0x80, 0x00, 0x1A), &n);
    expect_body_ok(b, n, &info);
    cr_assert_not(info.canonical);
    Buf out = canonical_body(b, n);
    cr_assert_eq(out.len, n - 2);
    expect_body_ok(out.data, out.len, &info);
    cr_assert(info.canonical);
    buf_free(&out);
    free(b);
}

/* ---- constant expressions ---- */

Test(expr, stops_after_its_end) {
    Cursor c = over(B(0x41, 0x80, 0x80, 0x00, 0x0B, 0x99, 0x98));
    CodeInfo info;
    if (setjmp(err.jb)) cr_assert_fail("%s", err.msg);
    expr_scan(&c, &info);
    cr_assert(c.p == file + BASE + 5 && !info.canonical && info.ninstrs == 2);
    c = over(B(0x41, 0x80, 0x80, 0x00, 0x0B, 0x99, 0x98));
    Buf out = {0};
    expr_canonicalize(&c, &out);
    cr_assert(c.p == file + BASE + 5 && same_bytes(&out, B(0x41, 0x00, 0x0B)));
    buf_free(&out);
    c = over(B(0x23, 0x00, 0x41, 0x02, 0x6A, 0x0B));
    expr_scan(&c, &info);
    cr_assert(cur_eof(&c) && info.canonical && info.ninstrs == 4);
}

/* The shortcut for `i32.const N end` (segment offsets) takes exactly the canonical
 * ones of up to four bytes, and canonicalizing one leaves its bytes as they are. */
Test(expr, small_i32_const_shortcut) {
    static const struct { uint8_t bytes[8]; size_t n, len; } small_cases[] = {
        {{0x41, 0x05, 0x0B}, 3, 3},
        {{0x41, 0x80, 0x01, 0x0B}, 4, 4},
        {{0x41, 0xff, 0xff, 0xff, 0x3f, 0x0B}, 6, 6},        /* 2^27 - 1: four bytes */
        {{0x41, 0x80, 0x80, 0x80, 0x80, 0x01, 0x0B}, 7, 0},  /* five bytes: full path */
        {{0x41, 0x85, 0x00, 0x0B}, 4, 0},                    /* padded */
        {{0x41, 0x05, 0x0B, 0x0B}, 4, 3},                    /* stops at its end */
        {{0x41, 0x05}, 2, 0},                                /* no end */
        {{0x41, 0x05, 0x1A}, 3, 0},                          /* more than a constant */
        {{0x42, 0x05, 0x0B}, 3, 0},                          /* i64.const */
        {{0x23, 0x00, 0x0B}, 3, 0},
    };
    for (size_t k = 0; k < WS_ARRAY_LEN(small_cases); k++) {
        size_t len = instr_small_i32_expr(small_cases[k].bytes, small_cases[k].bytes + small_cases[k].n);
        cr_assert_eq(len, small_cases[k].len, "case %zu: %zu", k, len);
        if (!len) continue;
        Cursor c = over(small_cases[k].bytes, small_cases[k].n);
        Buf out = {0};
        expr_canonicalize(&c, &out);
        cr_assert(out.len == len && !memcmp(out.data, small_cases[k].bytes, len), "case %zu", k);
        buf_free(&out);
    }
}

Test(expr, missing_end) {
    Cursor c = over(B(0x41, 0x00));
    CodeInfo info;
    if (setjmp(err.jb)) {
        cr_assert(strstr(err.msg, "unexpected end of section or function"), "%s", err.msg);
        cr_assert_eq(err.offset, (size_t)BASE + 2);
        return;
    }
    expr_scan(&c, &info);
    cr_assert_fail("accepted");
}

/* ---- the verifying steps agree with the full decoder ---- */

/* True when instruction in names an index of a module-level space. */
static bool names_module_index(const Instr *in) {
    switch ((ImmKind)op_imm[in->op]) {
    case IMM_NONE: case IMM_LABEL: case IMM_LOCAL: case IMM_I32: case IMM_I64: return false;
    case IMM_MEMARG: return in->mem != 0;
    case IMM_BLOCK: return in->bt.kind == BT_TYPE || (in->bt.kind == BT_VAL && vt_is_ref(in->bt.val));
    default: return true;
    }
}

/* Checks one byte string against the decoders; true when instr_stable_len took it. */
static bool stable_agrees(const uint8_t *bytes, size_t n, bool memargs) {
    volatile size_t stable = instr_stable_len(bytes, bytes + n, memargs); /* read after longjmp */
    Cursor c = over(bytes, n);
    Instr in, fast;
    bool canon = true;
    if (setjmp(err.jb)) {
        cr_assert_eq(stable, 0, "stable step took %zu bytes the decoder rejects (%02x)", (size_t)stable, bytes[0]);
        return false;
    }
    instr_decode_slow(&c, &in, &canon); /* the general path alone */
    Cursor c2 = over(bytes, n);
    bool fast_canon = true;
    instr_decode_canon(&c2, &fast, &fast_canon); /* with the quick path */
    cr_assert(in.op == fast.op && in.len == fast.len && in.a == fast.a && in.b == fast.b && in.i == fast.i &&
                  in.mem == fast.mem && in.bt.kind == fast.bt.kind && in.bt.val.code == fast.bt.val.code &&
                  canon == fast_canon,
              "fast decode differs for %02x", bytes[0]);
    if (!stable) return false;
    cr_assert(canon && in.len == stable, "%s: stable step %zu bytes, decoder %u (canonical %d)",
              op_info[in.op].name, (size_t)stable, in.len, canon);
    cr_assert_not(names_module_index(&in), "%s names a module index", op_info[in.op].name);
    cr_assert(memargs || op_imm[in.op] != IMM_MEMARG, "memarg taken without memargs");
    return true;
}

/* Random instructions: a one-byte opcode and immediate bytes drawn mostly from LEB128
 * shapes (continuation bytes, terminal 0x00/0x7f, sign bits).  Wherever
 * instr_stable_len accepts one, the decoder must read it canonically with the same
 * length and find no module index in it; the decoder with its quick path must read
 * what the general path alone reads. */
Test(instr, verifying_steps_agree_with_decode) {
    static const uint8_t shapes[] = {0x00, 0x01, 0x3f, 0x40, 0x7f, 0x80, 0x81, 0xc0, 0xff, 0x0f, 0x10, 0x78, 0x08};
    uint32_t seed = 12345, accepted = 0;
    for (int iter = 0; iter < 200000; iter++) {
        uint8_t bytes[16];
        seed = seed * 1103515245u + 12345u;
        bytes[0] = (uint8_t)(seed >> 16);
        for (int i = 1; i < 16; i++) {
            seed = seed * 1103515245u + 12345u;
            bytes[i] = (seed >> 20) & 1 ? shapes[(seed >> 8) % sizeof shapes] : (uint8_t)(seed >> 12);
        }
        size_t n = 2 + (seed >> 4) % 13;
        accepted += stable_agrees(bytes, n, false) + stable_agrees(bytes, n, true);
    }
    cr_assert_gt(accepted, 10000, "only %u accepted", accepted);
}

/* The quick decoder's multi-byte immediates: canonical LEB128s of up to three bytes
 * (indices) or four (constants, memarg offsets) are taken, with the general decoder's
 * values; padded, longer or truncated ones are left to it (0), so that it marks them
 * non-canonical or reports them. */
Test(instr, quick_decoder_multibyte_immediates) {
    static const struct { uint8_t bytes[8]; size_t n, len; int64_t value; } quick_cases[] = {
        {{0x10, 0x80, 0x80, 0x01}, 4, 4, 16384},            /* call 16384: three bytes */
        {{0x10, 0xff, 0xff, 0x7f}, 4, 4, 2097151},
        {{0x10, 0x80, 0x80, 0x00}, 4, 0, 0},                /* padded */
        {{0x10, 0x80, 0x80, 0x80, 0x01}, 5, 0, 0},          /* four bytes: general path */
        {{0x10, 0x80, 0x80}, 3, 0, 0},                      /* truncated */
        {{0x41, 0xc0, 0x00}, 3, 3, 64},                     /* i32.const 64 */
        {{0x41, 0x80, 0x7f}, 3, 3, -128},
        {{0x41, 0xff, 0x00}, 3, 3, 127},
        {{0x41, 0x80, 0x80, 0x80, 0x40}, 5, 5, -(1 << 27)},
        {{0x41, 0xff, 0xff, 0xff, 0x3f}, 5, 5, (1 << 27) - 1},
        {{0x42, 0x80, 0x80, 0x01}, 4, 4, 16384},            /* i64.const */
        {{0x41, 0x81, 0x00}, 3, 0, 0},                      /* padded: 1 */
        {{0x41, 0xff, 0x7f}, 3, 0, 0},                      /* padded: -1 */
        {{0x41, 0x80, 0x80, 0x80, 0x80, 0x01}, 6, 0, 0},    /* five bytes: general path */
        {{0x28, 0x02, 0x80, 0x02}, 4, 4, 256},              /* i32.load offset=256 */
        {{0x28, 0x02, 0xff, 0xff, 0xff, 0x7f}, 6, 6, 0xfffffff},
        {{0x28, 0x02, 0x80, 0x00}, 4, 0, 0},                /* padded offset */
        {{0x28, 0x42, 0x00, 0x00}, 4, 0, 0},                /* memory index: general path */
    };
    for (size_t k = 0; k < WS_ARRAY_LEN(quick_cases); k++) {
        Instr in = {0};
        size_t len = instr_decode_quick(quick_cases[k].bytes, quick_cases[k].bytes + quick_cases[k].n, &in);
        cr_assert_eq(len, quick_cases[k].len, "case %zu: length %zu, want %zu", k, len, quick_cases[k].len);
        if (!len) continue;
        int64_t got = op_imm[in.op] == IMM_MEMARG ? (int64_t)in.b : op_imm[in.op] == IMM_FUNC ? (int64_t)in.a : in.i;
        cr_assert_eq(got, quick_cases[k].value, "case %zu: value %lld", k, (long long)got);
        Cursor c = over(quick_cases[k].bytes, quick_cases[k].n);
        Instr slow;
        bool canon = true;
        instr_decode_slow(&c, &slow, &canon);
        cr_assert(canon && slow.len == len && slow.a == in.a && slow.b == in.b && slow.i == in.i, "case %zu", k);
    }
}
