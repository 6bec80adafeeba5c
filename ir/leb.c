/* leb.c - LEB128 decoding with the spec's malformedness rules, and encoding. */
#include "leb.h"
#include <stdarg.h>
#include <stdlib.h>

void cur_fail(Cursor *c, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->err->msg, sizeof c->err->msg, fmt, ap);
    va_end(ap);
    c->err->offset = cur_offset(c);
    longjmp(c->err->jb, 1);
}

Cursor cur_sub(Cursor *c, size_t n) {
    if (n > cur_left(c)) cur_fail(c, "unexpected end: need %zu bytes, %zu left", n, cur_left(c));
    Cursor s = *c;
    s.end = c->p + n;
    c->p += n;
    return s;
}

uint8_t cur_u8(Cursor *c) {
    if (c->p >= c->end) cur_fail(c, "unexpected end");
    return *c->p++;
}

const uint8_t *cur_bytes(Cursor *c, size_t n) {
    if (n > cur_left(c)) cur_fail(c, "unexpected end: need %zu bytes, %zu left", n, cur_left(c));
    const uint8_t *p = c->p;
    c->p += n;
    return p;
}

/* Contract: reads an unsigned LEB128 of at most `bits` significant bits.  Fails on
 * truncation, on more than ceil(bits/7) bytes ("integer representation too long") and on
 * set bits beyond `bits` in the last byte ("integer too large"). */
static uint64_t read_uleb(Cursor *c, unsigned bits) {
    const uint8_t *start = c->p;
    uint64_t result = 0;
    unsigned shift = 0, maxbytes = (bits + 6) / 7;
    for (unsigned i = 0;; i++) {
        if (c->p >= c->end) { c->p = start; cur_fail(c, "unexpected end of LEB128"); }
        uint8_t byte = *c->p++;
        if (i == maxbytes - 1) {
            unsigned used = bits - shift; /* significant bits left for this byte */
            if (byte & 0x80) { c->p = start; cur_fail(c, "integer representation too long"); }
            if (used < 7 && (byte >> used) != 0) { c->p = start; cur_fail(c, "integer too large"); }
            return result | ((uint64_t)byte << shift);
        }
        result |= (uint64_t)(byte & 0x7f) << shift;
        shift += 7;
        if (!(byte & 0x80)) return result;
    }
}

/* Contract: signed LEB128 of `bits` bits; the unused bits of the last allowed byte must
 * all equal the sign bit. */
static int64_t read_sleb(Cursor *c, unsigned bits) {
    const uint8_t *start = c->p;
    uint64_t result = 0;
    unsigned shift = 0, maxbytes = (bits + 6) / 7;
    for (unsigned i = 0;; i++) {
        if (c->p >= c->end) { c->p = start; cur_fail(c, "unexpected end of LEB128"); }
        uint8_t byte = *c->p++;
        if (i == maxbytes - 1) {
            if (byte & 0x80) { c->p = start; cur_fail(c, "integer representation too long"); }
            unsigned used = bits - shift; /* bits of value in this byte, incl. sign */
            if (used < 7) {
                int sign = (byte >> (used - 1)) & 1;
                uint8_t rest = (uint8_t)(byte & 0x7f) >> (used - 1); /* sign bit and above */
                uint8_t want = sign ? (uint8_t)(0x7f >> (used - 1)) : 0;
                if (rest != want) { c->p = start; cur_fail(c, "integer too large"); }
            }
            result |= (uint64_t)(byte & 0x7f) << shift;
            shift += 7;
            if (shift < 64 && (byte & 0x40)) result |= ~(uint64_t)0 << shift;
            return (int64_t)result;
        }
        result |= (uint64_t)(byte & 0x7f) << shift;
        shift += 7;
        if (!(byte & 0x80)) {
            if (shift < 64 && (byte & 0x40)) result |= ~(uint64_t)0 << shift;
            return (int64_t)result;
        }
    }
}

uint32_t cur_u32(Cursor *c) { return (uint32_t)read_uleb(c, 32); }
uint64_t cur_u64(Cursor *c) { return read_uleb(c, 64); }
int32_t cur_s32(Cursor *c) { return (int32_t)read_sleb(c, 32); }
int64_t cur_s64(Cursor *c) { return read_sleb(c, 64); }
int64_t cur_s33(Cursor *c) { return read_sleb(c, 33); }

uint32_t cur_count(Cursor *c, size_t min_elem, const char *what) {
    size_t at = cur_offset(c);
    uint32_t n = cur_u32(c);
    if (min_elem && (uint64_t)n * min_elem > cur_left(c)) {
        c->p = c->file_start + at;
        cur_fail(c, "%s count %u exceeds the %zu bytes left", what, n, cur_left(c));
    }
    return n;
}

/* Contract: true when s[0..n) is well-formed UTF-8 (no overlongs, surrogates or
 * code points above U+10FFFF). */
bool utf8_valid(const uint8_t *s, size_t n) {
    size_t i = 0;
    while (i < n) {
        uint8_t b = s[i];
        if (b < 0x80) { i++; continue; }
        unsigned len;
        uint32_t cp;
        if ((b & 0xe0) == 0xc0) { len = 2; cp = b & 0x1f; }
        else if ((b & 0xf0) == 0xe0) { len = 3; cp = b & 0x0f; }
        else if ((b & 0xf8) == 0xf0) { len = 4; cp = b & 0x07; }
        else return false;
        if (i + len > n) return false;
        for (unsigned k = 1; k < len; k++) {
            if ((s[i + k] & 0xc0) != 0x80) return false;
            cp = (cp << 6) | (s[i + k] & 0x3f);
        }
        if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000))
            return false;
        if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
        i += len;
    }
    return true;
}

const uint8_t *cur_name(Cursor *c, uint32_t *len) {
    uint32_t n = cur_count(c, 1, "name length");
    const uint8_t *s = cur_bytes(c, n);
    if (!utf8_valid(s, n)) {
        c->p = s;
        cur_fail(c, "malformed UTF-8 encoding");
    }
    *len = n;
    return s;
}

uint64_t leb_u64_raw(const uint8_t **p) {
    uint64_t r = 0;
    unsigned shift = 0;
    uint8_t b;
    do {
        b = *(*p)++;
        if (shift < 64) r |= (uint64_t)(b & 0x7f) << shift;
        shift += 7;
    } while (b & 0x80);
    return r;
}

int64_t leb_s64_raw(const uint8_t **p) {
    uint64_t r = 0;
    unsigned shift = 0;
    uint8_t b;
    do {
        b = *(*p)++;
        if (shift < 64) r |= (uint64_t)(b & 0x7f) << shift;
        shift += 7;
    } while (b & 0x80);
    if (shift < 64 && (b & 0x40)) r |= ~(uint64_t)0 << shift;
    return (int64_t)r;
}

unsigned leb_size_u64(uint64_t v) {
    unsigned n = 1;
    while (v >= 0x80) { v >>= 7; n++; }
    return n;
}

unsigned leb_size_s64(int64_t v) {
    unsigned n = 1;
    for (;;) {
        uint8_t byte = v & 0x7f;
        v >>= 7; /* arithmetic shift on every supported compiler */
        if ((v == 0 && !(byte & 0x40)) || (v == -1 && (byte & 0x40))) return n;
        n++;
    }
}

void buf_reserve(Buf *b, size_t extra) {
    if (b->len + extra <= b->cap) return;
    size_t n = b->cap ? b->cap * 2 : 256;
    while (n < b->len + extra) n *= 2;
    b->data = ws_realloc(b->data, n);
    b->cap = n;
}

void buf_free(Buf *b) {
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

void buf_u8(Buf *b, uint8_t v) {
    buf_reserve(b, 1);
    b->data[b->len++] = v;
}

void buf_bytes(Buf *b, const void *p, size_t n) {
    if (!n) return;
    buf_reserve(b, n);
    memcpy(b->data + b->len, p, n);
    b->len += n;
}

void buf_u64(Buf *b, uint64_t v) {
    buf_reserve(b, 10);
    do {
        uint8_t byte = v & 0x7f;
        v >>= 7;
        if (v) byte |= 0x80;
        b->data[b->len++] = byte;
    } while (v);
}

void buf_u32(Buf *b, uint32_t v) { buf_u64(b, v); }

void buf_s64(Buf *b, int64_t v) {
    buf_reserve(b, 10);
    for (;;) {
        uint8_t byte = v & 0x7f;
        v >>= 7;
        bool done = (v == 0 && !(byte & 0x40)) || (v == -1 && (byte & 0x40));
        b->data[b->len++] = done ? byte : (byte | 0x80);
        if (done) return;
    }
}

void buf_s32(Buf *b, int32_t v) { buf_s64(b, v); }

void buf_name(Buf *b, const uint8_t *s, uint32_t n) {
    buf_u32(b, n);
    buf_bytes(b, s, n);
}

void buf_u32_padded(Buf *b, uint32_t v, unsigned width) {
    buf_reserve(b, width);
    for (unsigned i = 0; i < width; i++) {
        uint8_t byte = v & 0x7f;
        v >>= 7;
        b->data[b->len++] = (i + 1 < width) ? (byte | 0x80) : byte;
    }
}
