/* names.c - reading and filtering the name section.  Custom sections are never fatal:
 * a malformed name section is left alone (as engines ignore it). */
#include "names.h"
#include "leb.h"

static const char *kind_words[NAME_KIND_COUNT] = {
    "module", "function", "local", "label", "type", "table",
    "memory", "global", "elem", "data", "field", "tag",
};

const char *name_kind_str(int kind) {
    return kind >= 0 && kind < NAME_KIND_COUNT ? kind_words[kind] : "unknown";
}

int name_kind_parse(const char *word, size_t len) {
    for (int k = 0; k < NAME_KIND_COUNT; k++)
        if (strlen(kind_words[k]) == len && !memcmp(kind_words[k], word, len)) return k;
    if (len == 4 && !memcmp(word, "func", 4)) return NAME_FUNCTION;
    if (len == 3 && !memcmp(word, "mem", 3)) return NAME_MEMORY;
    return -1;
}

bool names_filter(Arena *a, Bytes in, uint32_t drop_mask, Bytes *out) {
    WsError err;
    Cursor c = {in.p, in.p, in.p + in.len, &err};
    Buf b = {0};
    if (setjmp(err.jb)) {
        buf_free(&b);
        return false;
    }
    while (!cur_eof(&c)) {
        const uint8_t *start = c.p;
        uint8_t id = cur_u8(&c);
        uint32_t size = cur_u32(&c);
        cur_bytes(&c, size);
        if (id < 32 && (drop_mask >> id) & 1) continue;
        buf_bytes(&b, start, (size_t)(c.p - start));
    }
    out->p = b.len ? arena_dup(a, b.data, b.len) : in.p;
    out->len = (uint32_t)b.len;
    buf_free(&b);
    return true;
}

const Custom *names_section(const Module *m) {
    for (uint32_t i = 0; i < m->ncustoms; i++)
        if (!m->customs[i].removed && custom_is(&m->customs[i], "name")) return &m->customs[i];
    return NULL;
}

static void read_namemap(Cursor *c, const Module *m, Bytes *names) {
    uint32_t n = cur_count(c, 2, "name");
    for (uint32_t i = 0; i < n; i++) {
        uint32_t idx = cur_u32(c);
        Bytes s;
        s.p = cur_name(c, &s.len);
        if (idx < m->nfuncs) names[idx] = s;
    }
}

void names_functions(const Module *m, Bytes *names) {
    memset(names, 0, m->nfuncs * sizeof(Bytes));
    const Custom *cs = names_section(m);
    if (!cs) return;
    WsError err;
    Cursor c = {cs->payload.p, cs->payload.p, cs->payload.p + cs->payload.len, &err};
    if (setjmp(err.jb)) {
        memset(names, 0, m->nfuncs * sizeof(Bytes));
        return;
    }
    while (!cur_eof(&c)) {
        uint8_t id = cur_u8(&c);
        uint32_t size = cur_u32(&c);
        Cursor sub = cur_sub(&c, size);
        if (id == NAME_FUNCTION) read_namemap(&sub, m, names);
    }
}

bool names_has_subsection(const Module *m, int kind) {
    const Custom *cs = names_section(m);
    if (!cs) return false;
    WsError err;
    Cursor c = {cs->payload.p, cs->payload.p, cs->payload.p + cs->payload.len, &err};
    if (setjmp(err.jb)) return true; /* unreadable: assume it may name anything */
    while (!cur_eof(&c)) {
        uint8_t id = cur_u8(&c);
        uint32_t size = cur_u32(&c);
        cur_bytes(&c, size);
        if (id == kind) return true;
    }
    return false;
}
