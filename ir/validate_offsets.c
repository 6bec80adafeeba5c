/* validate_offsets.c - file offsets of section entries the module model keeps none for
 * (types, imports, function declarations, tables, memories, tags, exports, element
 * segments), found again in the input bytes when the validator reports an error.  Only
 * runs on the error path. */
#include "validate_int.h"

/* Contract: offset of the payload of the first section with id `sec` in the input, or
 * 0 if there is none (or no input). */
static size_t section_payload(const Module *m, uint8_t sec) {
    if (!m->input || m->input_len < 8) return 0;
    const uint8_t *p = m->input + 8, *end = m->input + m->input_len;
    while (p < end) {
        uint8_t id = *p++;
        uint64_t size = leb_u64_raw(&p);
        if (p > end || size > (uint64_t)(end - p)) return 0;
        if (id == sec) return (size_t)(p - m->input);
        p += size;
    }
    return 0;
}

static uint8_t peek(Cursor *c) {
    if (cur_eof(c)) cur_fail(c, "unexpected end");
    return *c->p;
}

static void skip_limits(Cursor *c) {
    uint8_t flags = cur_u8(c);
    if (flags & LIM_64) cur_u64(c); else cur_u32(c);
    if (flags & LIM_HAS_MAX) { if (flags & LIM_64) cur_u64(c); else cur_u32(c); }
}

static void skip_expr(Cursor *c) {
    CodeInfo info;
    expr_scan(c, &info);
}

static void skip_fields(Cursor *c, uint32_t n) {
    for (uint32_t i = 0; i < n; i++) {
        read_storagetype(c);
        cur_u8(c);
    }
}

/* Contract: skips one subtype (optional sub/sub final with supertypes, then comptype). */
static void skip_subtype(Cursor *c) {
    if (peek(c) == SUB_OPEN || peek(c) == SUB_FINAL) {
        c->p++;
        for (uint32_t n = cur_u32(c); n > 0; n--) cur_u32(c);
    }
    uint8_t kind = cur_u8(c);
    if (kind == COMP_FUNC) {
        for (int k = 0; k < 2; k++)
            for (uint32_t n = cur_u32(c); n > 0; n--) read_valtype(c);
    } else {
        skip_fields(c, kind == COMP_STRUCT ? cur_u32(c) : 1);
    }
}

/* Contract: in the type section at c, stops at the start of type index k (types of rec
 * groups counted one by one). */
static void seek_type(Cursor *c, uint32_t k) {
    uint32_t groups = cur_u32(c), t = 0;
    for (uint32_t g = 0; g < groups; g++) {
        uint32_t n = 1;
        if (peek(c) == 0x4e) {
            c->p++;
            n = cur_u32(c);
        }
        for (uint32_t i = 0; i < n; i++, t++) {
            if (t == k) return;
            skip_subtype(c);
        }
    }
}

static void skip_import(Cursor *c) {
    uint32_t len;
    cur_name(c, &len);
    cur_name(c, &len);
    switch (cur_u8(c)) {
    case EXT_FUNC: cur_u32(c); break;
    case EXT_TABLE: read_reftype(c); skip_limits(c); break;
    case EXT_MEMORY: skip_limits(c); break;
    case EXT_GLOBAL: read_valtype(c); cur_u8(c); break;
    default: cur_u8(c); cur_u32(c); break;
    }
}

static void skip_table(Cursor *c) {
    bool init = peek(c) == 0x40;
    if (init) c->p += 2;
    read_reftype(c);
    skip_limits(c);
    if (init) skip_expr(c);
}

static void skip_elem(Cursor *c) {
    uint32_t flags = cur_u32(c);
    bool passive = flags & 1, explicit_table = flags & 2, exprs = flags & 4;
    if (!passive && explicit_table) cur_u32(c);
    if (!passive) skip_expr(c);
    if (passive || explicit_table) { if (exprs) read_reftype(c); else cur_u8(c); }
    for (uint32_t n = cur_u32(c); n > 0; n--) { if (exprs) skip_expr(c); else cur_u32(c); }
}

/* Contract: skips one entry of section sec. */
static void skip_entry(Cursor *c, uint8_t sec) {
    uint32_t len;
    switch (sec) {
    case SEC_IMPORT: skip_import(c); break;
    case SEC_FUNCTION: cur_u32(c); break;
    case SEC_TABLE: skip_table(c); break;
    case SEC_MEMORY: skip_limits(c); break;
    case SEC_EXPORT: cur_name(c, &len); cur_u8(c); cur_u32(c); break;
    case SEC_TAG: cur_u8(c); cur_u32(c); break;
    case SEC_ELEM: skip_elem(c); break;
    default: break;
    }
}

size_t entry_offset(const Module *m, uint8_t sec, uint32_t k) {
    size_t start = section_payload(m, sec);
    if (!start || sec == SEC_START) return start;
    WsError err;
    Cursor c = {m->input, m->input + start, m->input + m->input_len, &err};
    if (setjmp(err.jb)) return start;
    if (sec == SEC_TYPE) {
        seek_type(&c, k);
        return cur_offset(&c);
    }
    cur_u32(&c);
    for (uint32_t i = 0; i < k; i++) skip_entry(&c, sec);
    return cur_offset(&c);
}
