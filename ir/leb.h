/* leb.h - byte cursor for reading (LEB128 with full malformedness checks) and a growable
 * byte buffer for writing (always minimal LEB128). */
#ifndef WS_LEB_H
#define WS_LEB_H

#include "common.h"
#include "error.h"

/* A read position inside the input.  Offsets in errors are p - file_start. */
typedef struct Cursor {
    const uint8_t *file_start; /* first byte of the whole file */
    const uint8_t *p;          /* next byte to read */
    const uint8_t *end;        /* one past the last readable byte */
    WsError *err;
} Cursor;

static inline size_t cur_offset(const Cursor *c) { return (size_t)(c->p - c->file_start); }
static inline size_t cur_left(const Cursor *c) { return (size_t)(c->end - c->p); }
static inline bool cur_eof(const Cursor *c) { return c->p >= c->end; }

/* Sub-cursor over the next n bytes (checked); the parent skips them. */
Cursor cur_sub(Cursor *c, size_t n);

WS_NORETURN void cur_fail(Cursor *c, const char *fmt, ...) WS_PRINTF(2, 3);
uint8_t cur_u8(Cursor *c);
uint32_t cur_u32(Cursor *c);
uint64_t cur_u64(Cursor *c);
int32_t cur_s32(Cursor *c);
int64_t cur_s64(Cursor *c);
int64_t cur_s33(Cursor *c);
const uint8_t *cur_bytes(Cursor *c, size_t n);
/* A vector length whose elements take at least min_elem bytes each: fails before any
 * allocation if the remaining bytes cannot hold that many. */
uint32_t cur_count(Cursor *c, size_t min_elem, const char *what);
/* A name: u32 length then UTF-8 bytes (validated).  Returns a pointer into the input. */
const uint8_t *cur_name(Cursor *c, uint32_t *len);

/* Decoding from a plain pointer without error handling, for already-validated bytes. */
uint64_t leb_u64_raw(const uint8_t **p);
int64_t leb_s64_raw(const uint8_t **p);

/* Encoded sizes of minimal LEB128. */
unsigned leb_size_u64(uint64_t v);
unsigned leb_size_s64(int64_t v);

bool utf8_valid(const uint8_t *s, size_t n);

/* Growable output buffer. */
typedef struct Buf {
    uint8_t *data;
    size_t len, cap;
} Buf;

void buf_reserve(Buf *b, size_t extra);
void buf_free(Buf *b);
void buf_u8(Buf *b, uint8_t v);
void buf_bytes(Buf *b, const void *p, size_t n);
void buf_u32(Buf *b, uint32_t v);
void buf_u64(Buf *b, uint64_t v);
void buf_s32(Buf *b, int32_t v);
void buf_s64(Buf *b, int64_t v);
void buf_name(Buf *b, const uint8_t *s, uint32_t n);
/* Writes v as a LEB128 padded to exactly width bytes (width >= minimal size). */
void buf_u32_padded(Buf *b, uint32_t v, unsigned width);

#endif
