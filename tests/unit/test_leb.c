/* test_leb.c - LEB128 decoding rules (malformed encodings) and minimal encoding; the
 * growable arrays of common.h. */
#include <criterion/criterion.h>
#include "../../ir/leb.h"

static Cursor make_cursor(WsError *err, const uint8_t *p, size_t n) {
    Cursor c = {p, p, p + n, err};
    return c;
}

enum { K_U32, K_S32, K_S33, K_S64 };

/* Decodes one LEB of the given kind; returns true when it failed, offset in *off. */
static bool decode_fails(int kind, const uint8_t *b, size_t n, size_t *off) {
    WsError e;
    Cursor c = make_cursor(&e, b, n);
    if (setjmp(e.jb)) {
        *off = e.offset;
        return true;
    }
    switch (kind) {
    case K_U32: cur_u32(&c); break;
    case K_S32: cur_s32(&c); break;
    case K_S33: cur_s33(&c); break;
    default: cur_s64(&c); break;
    }
    return false;
}
#define DECODE_FAILS(kind, bytes, off)                                                      \
    ({                                                                                      \
        static const uint8_t b_[] = bytes;                                                  \
        decode_fails(kind, b_, sizeof b_, off);                                             \
    })
#define B(...) {__VA_ARGS__}

Test(leb, u32_values) {
    static const uint8_t b[] = {0x00, 0x7f, 0x80, 0x01, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x80, 0x80, 0x00};
    WsError e;
    Cursor c = make_cursor(&e, b, sizeof b);
    if (setjmp(e.jb)) cr_assert_fail("unexpected failure: %s", e.msg);
    cr_assert_eq(cur_u32(&c), 0);
    cr_assert_eq(cur_u32(&c), 127);
    cr_assert_eq(cur_u32(&c), 128);
    cr_assert_eq(cur_u32(&c), 0xffffffffu);
    cr_assert_eq(cur_u32(&c), 0); /* padded zero: legal, not minimal */
    cr_assert(cur_eof(&c));
}

Test(leb, u32_malformed) {
    size_t off = 99;
    cr_assert(DECODE_FAILS(K_U32, B(0xff, 0xff, 0xff, 0xff, 0x1f), &off)); /* too large */
    cr_assert_eq(off, 0);
    cr_assert(DECODE_FAILS(K_U32, B(0x80, 0x80, 0x80, 0x80, 0x80, 0x00), &off)); /* too long */
    cr_assert(DECODE_FAILS(K_U32, B(0x80, 0x80), &off)); /* truncated */
}

Test(leb, s32_sign_rules) {
    static const uint8_t ok[] = {0x7f, 0xff, 0xff, 0xff, 0xff, 0x7f, 0x80, 0x80, 0x80, 0x80, 0x78};
    WsError e;
    Cursor c = make_cursor(&e, ok, sizeof ok);
    if (setjmp(e.jb)) cr_assert_fail("unexpected failure: %s", e.msg);
    cr_assert_eq(cur_s32(&c), -1);
    cr_assert_eq(cur_s32(&c), -1);
    cr_assert_eq(cur_s32(&c), INT32_MIN);
    size_t off;
    cr_assert(DECODE_FAILS(K_S32, B(0xff, 0xff, 0xff, 0xff, 0x4f), &off)); /* bits disagree with sign */
    cr_assert(DECODE_FAILS(K_S32, B(0x80, 0x80, 0x80, 0x80, 0x08), &off));
}

Test(leb, s64_and_s33_limits) {
    static const uint8_t b[] = {0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x7f,
                                0xff, 0xff, 0xff, 0xff, 0x0f};
    WsError e;
    Cursor c = make_cursor(&e, b, sizeof b);
    if (setjmp(e.jb)) cr_assert_fail("unexpected failure: %s", e.msg);
    cr_assert_eq(cur_s64(&c), INT64_MIN);
    cr_assert_eq(cur_s33(&c), 0xffffffffLL);
    size_t off;
    cr_assert(DECODE_FAILS(K_S64, B(0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01), &off));
    cr_assert(DECODE_FAILS(K_S33, B(0xff, 0xff, 0xff, 0xff, 0x1f), &off));
}

Test(leb, encode_minimal_roundtrip) {
    static const int64_t values[] = {0, 1, -1, 63, 64, -64, -65, 127, 128, INT32_MAX, INT32_MIN,
                                     INT64_MAX, INT64_MIN, 0x123456789LL};
    for (size_t i = 0; i < WS_ARRAY_LEN(values); i++) {
        Buf b = {0};
        buf_s64(&b, values[i]);
        cr_assert_eq(b.len, leb_size_s64(values[i]), "size of %lld", (long long)values[i]);
        const uint8_t *p = b.data;
        cr_assert_eq(leb_s64_raw(&p), values[i]);
        buf_free(&b);
        buf_u64(&b, (uint64_t)values[i]);
        cr_assert_eq(b.len, leb_size_u64((uint64_t)values[i]));
        p = b.data;
        cr_assert_eq(leb_u64_raw(&p), (uint64_t)values[i]);
        buf_free(&b);
    }
}

Test(leb, padded_encoding) {
    Buf b = {0};
    buf_u32_padded(&b, 5, 5);
    cr_assert_eq(b.len, 5);
    const uint8_t want[] = {0x85, 0x80, 0x80, 0x80, 0x00};
    cr_assert_arr_eq(b.data, want, 5);
    buf_free(&b);
}

Test(leb, count_checked_before_allocation) {
    static const uint8_t b[] = {0xff, 0xff, 0xff, 0xff, 0x0f, 1, 2, 3};
    WsError e;
    Cursor c = make_cursor(&e, b, sizeof b);
    if (setjmp(e.jb)) {
        cr_assert_eq(e.offset, 0);
        cr_assert(strstr(e.msg, "exceeds") != NULL);
        return;
    }
    cur_count(&c, 1, "function");
    cr_assert_fail("a count of 2^32-1 with 3 bytes left was accepted");
}

Test(leb, utf8) {
    cr_assert(utf8_valid((const uint8_t *)"h\xc3\xa9llo", 6));
    cr_assert(!utf8_valid((const uint8_t *)"\xc0\x80", 2));     /* overlong */
    cr_assert(!utf8_valid((const uint8_t *)"\xed\xa0\x80", 3)); /* surrogate */
    cr_assert(!utf8_valid((const uint8_t *)"\xf4\x90\x80\x80", 4));
    cr_assert(!utf8_valid((const uint8_t *)"\xe2\x82", 2));
}

/* ws_grow_big: an array keeps its elements while it grows from the heap into a mapping
 * of its own and on by remapping, its capacity always covers the request, and it is
 * freed whichever side of the threshold it ended on. */
Test(common, grow_big_keeps_elements) {
    typedef struct { uint32_t w[26]; } Elem; /* 104 bytes, as an IR node */
    Elem *a = NULL;
    uint32_t cap = 0, filled = 0;
    const uint32_t steps[] = {1, 100, 9000, 10100, 20200, 100000};
    for (size_t s = 0; s < sizeof steps / sizeof *steps; s++) {
        ws_grow_big((void **)&a, &cap, steps[s], sizeof(Elem));
        cr_assert_geq(cap, steps[s]);
        for (uint32_t i = 0; i < filled; i++) cr_assert_eq(a[i].w[i % 26], i * 2654435761u, "element %u", i);
        for (; filled < steps[s]; filled++) a[filled].w[filled % 26] = filled * 2654435761u;
    }
    cr_assert_gt((uint64_t)cap * sizeof(Elem), WS_BIG_ARRAY);
    ws_free_big(a, cap, sizeof(Elem));
    Elem *small = NULL;
    uint32_t small_cap = 0;
    ws_grow_big((void **)&small, &small_cap, 50, sizeof(Elem));
    cr_assert_leq((uint64_t)small_cap * sizeof(Elem), WS_BIG_ARRAY);
    ws_free_big(small, small_cap, sizeof(Elem));
}
