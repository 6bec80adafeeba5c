/* test_read.c - the reader and writer on hand-made modules: round trips, custom section
 * positions, canonicalisation of padded LEBs, and malformed input with offsets. */
#include <criterion/criterion.h>
#include "../../ir/leb.h"
#include "../../ir/module.h"

static bool read_ok(Module *m, const uint8_t *b, size_t n, WsError *err) {
    ReadOptions ro = {.decode_code = true};
    return module_read(m, b, n, "t.wasm", &ro, err);
}

/* Reads b, writes it back canonically into out; asserts both steps succeed. */
static void roundtrip(const uint8_t *b, size_t n, Buf *out) {
    Module m;
    WsError err;
    cr_assert(read_ok(&m, b, n, &err), "read failed: 0x%zx %s", err.offset, err.msg);
    cr_assert(module_write(&m, NULL, out, &err), "write failed: %s", err.msg);
    module_free(&m);
}

/* (type (func (param i32) (result i32))) (func (export "f") (local.get 0)) with custom
 * sections at the start, between sections and at the end. */
static const uint8_t with_customs[] = {
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    0x00, 0x04, 0x03, 'a', 'b', 'c',                         /* custom "abc" before all */
    0x01, 0x06, 0x01, 0x60, 0x01, 0x7f, 0x01, 0x7f,          /* type */
    0x03, 0x02, 0x01, 0x00,                                  /* function */
    0x00, 0x03, 0x01, 'x', 0x42,                             /* custom "x" payload 0x42 */
    0x07, 0x05, 0x01, 0x01, 'f', 0x00, 0x00,                 /* export "f" func 0 */
    0x0a, 0x06, 0x01, 0x04, 0x00, 0x20, 0x00, 0x0b,          /* code */
    0x00, 0x01, 0x00,                                        /* custom "" (empty name) */
};

Test(read, roundtrip_identical_with_customs) {
    Buf out = {0};
    roundtrip(with_customs, sizeof with_customs, &out);
    cr_assert_eq(out.len, sizeof with_customs);
    cr_assert_arr_eq(out.data, with_customs, sizeof with_customs);
    buf_free(&out);
}

Test(read, model_contents) {
    Module m;
    WsError err;
    cr_assert(read_ok(&m, with_customs, sizeof with_customs, &err));
    cr_assert_eq(m.ntypes, 1);
    cr_assert_eq(m.types[0].nparams, 1);
    cr_assert_eq(m.types[0].params[0].code, VT_I32);
    cr_assert_eq(m.nfuncs, 1);
    cr_assert_eq(m.funcs[0].import, -1);
    cr_assert_eq(m.nexports, 1);
    cr_assert_eq(m.ncustoms, 3);
    cr_assert_eq(m.customs[0].after_rank, 0);
    cr_assert_eq(m.customs[1].after_rank, section_rank(SEC_FUNCTION));
    cr_assert_eq(m.customs[2].after_rank, RANK_COUNT - 1); /* after the last known section: stays last */
    cr_assert_eq(m.customs[2].name.len, 0);
    module_free(&m);
}

/* Same module with a padded section size, padded type index and a padded local index. */
static const uint8_t padded[] = {
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    0x01, 0x86, 0x80, 0x80, 0x80, 0x00, 0x01, 0x60, 0x01, 0x7f, 0x01, 0x7f,
    0x03, 0x03, 0x01, 0x80, 0x00,
    0x0a, 0x0a, 0x01, 0x08, 0x00, 0x20, 0x80, 0x80, 0x80, 0x80, 0x00, 0x0b,
};
static const uint8_t padded_canonical[] = {
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    0x01, 0x06, 0x01, 0x60, 0x01, 0x7f, 0x01, 0x7f,
    0x03, 0x02, 0x01, 0x00,
    0x0a, 0x06, 0x01, 0x04, 0x00, 0x20, 0x00, 0x0b,
};

/* Expects the round trip of in to give want, and want's own round trip to give want. */
static void expect_canonical_fixpoint(const uint8_t *in, size_t n, const uint8_t *want, size_t want_len) {
    Buf once = {0}, twice = {0};
    roundtrip(in, n, &once);
    cr_assert_eq(once.len, want_len);
    cr_assert_arr_eq(once.data, want, want_len);
    roundtrip(once.data, once.len, &twice);
    cr_assert_eq(twice.len, once.len);
    cr_assert_arr_eq(twice.data, once.data, once.len);
    buf_free(&once);
    buf_free(&twice);
}

Test(read, padded_lebs_become_minimal_and_fixpoint) {
    expect_canonical_fixpoint(padded, sizeof padded, padded_canonical, sizeof padded_canonical);
}

/* Data segments of every form: the writer copies an offset `i32.const N end` that is
 * canonical as it is, re-encodes a padded one, and sizes the section to match. */
static const uint8_t datas_padded[] = {
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    0x05, 0x03, 0x01, 0x00, 0x01,                                    /* memory 1 page */
    0x0b, 0x27, 0x05,                                                /* data, 5 segments */
    0x00, 0x41, 0x05, 0x0b, 0x02, 'a', 'b',                          /* i32.const 5 */
    0x00, 0x41, 0x85, 0x80, 0x80, 0x80, 0x00, 0x0b, 0x01, 'c',       /* padded 5 */
    0x01, 0x01, 'd',                                                 /* passive */
    0x02, 0x00, 0x41, 0x80, 0x80, 0x04, 0x0b, 0x00,                  /* memory 0, 65536 */
    0x00, 0x41, 0xff, 0xff, 0xff, 0xff, 0x07, 0x0b, 0x01, 'e',       /* 0x7fffffff */
};
static const uint8_t datas_canonical[] = {
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    0x05, 0x03, 0x01, 0x00, 0x01,
    0x0b, 0x23, 0x05,
    0x00, 0x41, 0x05, 0x0b, 0x02, 'a', 'b',
    0x00, 0x41, 0x05, 0x0b, 0x01, 'c',
    0x01, 0x01, 'd',
    0x02, 0x00, 0x41, 0x80, 0x80, 0x04, 0x0b, 0x00,
    0x00, 0x41, 0xff, 0xff, 0xff, 0xff, 0x07, 0x0b, 0x01, 'e',
};

Test(read, data_offsets_copied_or_reencoded) {
    expect_canonical_fixpoint(datas_padded, sizeof datas_padded, datas_canonical, sizeof datas_canonical);
}

Test(read, raw_code_mode_copies_bodies) {
    Module m;
    WsError err;
    cr_assert(read_ok(&m, padded, sizeof padded, &err));
    WriteOptions wo = {CODE_RAW, 0};
    Buf out = {0};
    cr_assert(module_write(&m, &wo, &out, &err));
    /* section sizes and the function section are canonical, the body is not touched */
    const uint8_t body[] = {0x08, 0x00, 0x20, 0x80, 0x80, 0x80, 0x80, 0x00, 0x0b};
    cr_assert_arr_eq(out.data + out.len - sizeof body, body, sizeof body);
    module_free(&m);
    buf_free(&out);
}

/* Expects reading b to fail at offset off with a message containing what. */
static void expect_malformed(const uint8_t *b, size_t n, size_t off, const char *what) {
    Module m;
    WsError err;
    cr_assert_not(read_ok(&m, b, n, &err), "accepted a malformed module (%s)", what);
    cr_assert_eq(err.offset, off, "offset 0x%zx, expected 0x%zx (%s)", err.offset, off, err.msg);
    cr_assert(strstr(err.msg, what), "message '%s' lacks '%s'", err.msg, what);
}

Test(read, malformed_modules) {
    static const uint8_t out_of_order[] = {0, 'a', 's', 'm', 1, 0, 0, 0, 0x03, 0x01, 0x00, 0x01, 0x01, 0x00};
    expect_malformed(out_of_order, sizeof out_of_order, 11, "out of order");
    static const uint8_t no_code[] = {0, 'a', 's', 'm', 1, 0, 0, 0, 0x01, 0x04, 0x01, 0x60, 0, 0,
                                      0x03, 0x02, 0x01, 0x00};
    expect_malformed(no_code, sizeof no_code, sizeof no_code, "inconsistent lengths");
    static const uint8_t bad_version[] = {0, 'a', 's', 'm', 2, 0, 0, 0};
    expect_malformed(bad_version, sizeof bad_version, 4, "unknown binary version");
    static const uint8_t size_mismatch[] = {0, 'a', 's', 'm', 1, 0, 0, 0, 0x01, 0x05, 0x01, 0x60, 0, 0, 0};
    expect_malformed(size_mismatch, sizeof size_mismatch, 14, "section size mismatch");
    static const uint8_t bad_utf8[] = {0, 'a', 's', 'm', 1, 0, 0, 0, 0x00, 0x03, 0x02, 0xc0, 0x80};
    expect_malformed(bad_utf8, sizeof bad_utf8, 11, "UTF-8");
    static const uint8_t huge_types[] = {0, 'a', 's', 'm', 1, 0, 0, 0, 0x01, 0x05, 0xff, 0xff, 0xff, 0xff, 0x0f};
    expect_malformed(huge_types, sizeof huge_types, 10, "exceeds");
}

/* Every element segment encoding (flags 0..7) survives a round trip unchanged. */
static const uint8_t elems[] = {
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    0x01, 0x04, 0x01, 0x60, 0x00, 0x00,                          /* type () -> () */
    0x03, 0x02, 0x01, 0x00,                                      /* one function */
    0x04, 0x04, 0x01, 0x70, 0x00, 0x04,                          /* table funcref 4 */
    0x09, 0x2c, 0x08,                                            /* 8 segments, 44 bytes */
    0x00, 0x41, 0x00, 0x0b, 0x01, 0x00,                          /* 0: active, funcs */
    0x01, 0x00, 0x01, 0x00,                                      /* 1: passive, funcs */
    0x02, 0x00, 0x41, 0x01, 0x0b, 0x00, 0x01, 0x00,              /* 2: table 0, funcs */
    0x03, 0x00, 0x01, 0x00,                                      /* 3: declarative, funcs */
    0x04, 0x41, 0x02, 0x0b, 0x01, 0xd2, 0x00, 0x0b,              /* 4: active, exprs */
    0x05, 0x70, 0x00,                                            /* 5: passive, exprs */
    0x06, 0x00, 0x41, 0x03, 0x0b, 0x70, 0x00,                    /* 6: table 0, exprs */
    0x07, 0x70, 0x00,                                            /* 7: declarative, exprs */
    0x0a, 0x04, 0x01, 0x02, 0x00, 0x0b,                          /* code */
};

Test(read, element_segment_forms) {
    Buf out = {0};
    roundtrip(elems, sizeof elems, &out);
    cr_assert_eq(out.len, sizeof elems);
    cr_assert_arr_eq(out.data, elems, sizeof elems);
    buf_free(&out);
}

/* A module of 40 functions () -> () with bodies "nop end", except that bodies 10 and 30
 * hold an illegal opcode; returns its length (buf must hold 512 bytes). */
static size_t two_bad_bodies(uint8_t *b) {
    size_t n = 0;
    static const uint8_t head[] = {0, 'a', 's', 'm', 1, 0, 0, 0, 0x01, 0x04, 0x01, 0x60, 0x00, 0x00,
                                   0x03, 41, 40};
    memcpy(b, head, sizeof head);
    n = sizeof head;
    for (int i = 0; i < 40; i++) b[n++] = 0x00;
    b[n++] = 0x0a;
    b[n++] = 1 + 40 * 4;         /* 161: two-byte LEB */
    b[n - 1] = 0x80 | (161 & 0x7f);
    b[n++] = 161 >> 7;
    b[n++] = 40;
    for (int i = 0; i < 40; i++) {
        b[n++] = 3;
        b[n++] = 0x00;
        b[n++] = (i == 10 || i == 30) ? 0xff : 0x01;
        b[n++] = 0x0b;
    }
    return n;
}

Test(write, malformed_body_found_while_writing_is_reported_alike_at_any_thread_count) {
    uint8_t b[512];
    size_t n = two_bad_bodies(b);
    size_t offsets[3];
    uint32_t jobs[3] = {1, 2, 4};
    for (int k = 0; k < 3; k++) {
        Module m;
        WsError err;
        ReadOptions ro = {.decode_code = false}; /* a light read: bodies not decoded */
        cr_assert(module_read(&m, b, n, "t.wasm", &ro, &err), "light read: %s", err.msg);
        WriteOptions wo = {CODE_CANONICAL, jobs[k]};
        Buf out = {0};
        cr_assert_not(module_write(&m, &wo, &out, &err), "-j%u wrote a malformed body", jobs[k]);
        cr_assert(strstr(err.msg, "illegal opcode"), "%s", err.msg);
        offsets[k] = err.offset;
        module_free(&m);
        buf_free(&out);
    }
    cr_assert_eq(offsets[0], offsets[1]);
    cr_assert_eq(offsets[0], offsets[2]);
    /* body 10 starts after the header, 40 function entries, section id, size, count */
    size_t body10 = 17 + 40 + 1 + 2 + 1 + 10 * 4;
    cr_assert_eq(offsets[0], body10 + 2, "offset 0x%zx, want 0x%zx", offsets[0], body10 + 2);
}

/* ---- unchanged bodies reach the sink as runs of the input ---- */

typedef struct PieceLog {
    Buf bytes;                  /* everything emitted, in order */
    uint32_t pieces, from_input;
    const uint8_t *input;
    size_t input_len;
} PieceLog;

static bool log_pieces(void *ctx, const WritePiece *v, uint32_t n) {
    PieceLog *log = ctx;
    for (uint32_t i = 0; i < n; i++) {
        buf_bytes(&log->bytes, v[i].p, v[i].n);
        log->pieces++;
        if (v[i].p >= log->input && v[i].p < log->input + log->input_len) log->from_input++;
    }
    return true;
}

/* 40 canonical functions of 600 bytes (nops): the writer references each body with
 * its size as input bytes, and consecutive ones as one piece (before: a copied size
 * and a piece per body, 80 pieces). */
Test(write, unchanged_bodies_are_one_run_of_the_input) {
    enum { N = 40, BODY = 600 };
    Buf in = {0};
    const uint8_t head[] = {0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x04, 0x01, 0x60, 0x00, 0x00};
    buf_bytes(&in, head, sizeof head);
    buf_u8(&in, 0x03);
    buf_u32(&in, 1 + N);
    buf_u32(&in, N);
    for (int i = 0; i < N; i++) buf_u8(&in, 0x00);
    buf_u8(&in, 0x0a);
    buf_u32(&in, 1 + N * (2 + BODY));
    buf_u32(&in, N);
    for (int i = 0; i < N; i++) {
        buf_u32(&in, BODY);
        buf_u8(&in, 0x00); /* no locals */
        for (int k = 0; k < BODY - 2; k++) buf_u8(&in, 0x01);
        buf_u8(&in, 0x0b);
    }
    Module m;
    WsError err;
    cr_assert(read_ok(&m, in.data, in.len, &err), "%s", err.msg);
    PieceLog log = {{0}, 0, 0, in.data, in.len};
    WriteSink sink = {log_pieces, &log, false};
    WriteLayout layout = {0};
    cr_assert(module_write_stream(&m, NULL, &sink, &layout, &err), "%s", err.msg);
    cr_assert_eq(log.bytes.len, in.len);
    cr_assert_arr_eq(log.bytes.data, in.data, in.len);
    cr_assert_eq(log.from_input, 1, "%u pieces from the input", log.from_input);
    cr_assert_leq(log.pieces, 3, "%u pieces", log.pieces);
    write_layout_free(&layout);
    module_free(&m);
    buf_free(&log.bytes);
    buf_free(&in);
}
