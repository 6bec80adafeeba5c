/* module.c - section order and small queries on the module model. */
#include "module.h"
#include <stdlib.h>

static const uint8_t rank_to_id[RANK_COUNT] = {
    SEC_CUSTOM, SEC_TYPE, SEC_IMPORT, SEC_FUNCTION, SEC_TABLE, SEC_MEMORY, SEC_TAG,
    SEC_GLOBAL, SEC_EXPORT, SEC_START, SEC_ELEM, SEC_DATACOUNT, SEC_CODE, SEC_DATA,
};

int section_rank(uint8_t id) {
    for (int r = 1; r < RANK_COUNT; r++)
        if (rank_to_id[r] == id) return r;
    return 0;
}

uint8_t section_id_of_rank(int rank) { return rank_to_id[rank]; }

const char *section_name(uint8_t id) {
    static const char *names[SEC_ID_COUNT] = {
        "custom", "type", "import", "function", "table", "memory", "global", "export",
        "start", "elem", "code", "data", "datacount", "tag",
    };
    return id < SEC_ID_COUNT ? names[id] : "unknown";
}

bool custom_is(const Custom *c, const char *name) {
    size_t n = strlen(name);
    return c->name.len == n && memcmp(c->name.p, name, n) == 0;
}

bool custom_has_prefix(const Custom *c, const char *prefix) {
    size_t n = strlen(prefix);
    return c->name.len >= n && memcmp(c->name.p, prefix, n) == 0;
}

uint32_t module_ndefined_funcs(const Module *m) { return m->nfuncs - m->nfunc_imports; }

void *module_own(Module *m, void *block) {
    WS_VEC_PUSH(m->owned, m->nowned, m->cap_owned, block);
    return block;
}

void module_drop_refs_cache(Module *m) {
    if (m->refs_cache) m->refs_cache_free(m->refs_cache);
    m->refs_cache = NULL;
}

void module_note_same_refs(Module *m, uint32_t f, const uint8_t *old, const uint8_t *now) {
    if (m->refs_cache) m->refs_cache_rebind(m->refs_cache, f, old, now);
}

void module_mark_bodies_valid(Module *m, bool valid) {
    for (uint32_t i = m->nfunc_imports; i < m->nfuncs; i++) m->funcs[i].valid = valid;
}

Cursor module_cursor(const Module *m, const uint8_t *p, size_t len, WsError *err) {
    bool in_input = m->input && p >= m->input && p + len <= m->input + m->input_len;
    Cursor c = {in_input ? m->input : p, p, p + len, err};
    return c;
}

void module_add_custom(Module *m, const char *name, const uint8_t *payload, size_t len) {
    m->customs = ws_realloc(m->customs, (m->ncustoms + 1) * sizeof(Custom));
    Custom *c = &m->customs[m->ncustoms++];
    memset(c, 0, sizeof *c);
    size_t nlen = strlen(name);
    c->name = (Bytes){arena_dup(&m->arena, name, nlen ? nlen : 1), (uint32_t)nlen};
    c->payload = (Bytes){arena_dup(&m->arena, payload, len ? len : 1), (uint32_t)len};
    c->after_rank = RANK_COUNT - 1;
    size_t body = leb_size_u64(c->name.len) + c->name.len + len;
    c->size = 1 + leb_size_u64(body) + body;
}
