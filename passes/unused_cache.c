/* unused_cache.c - what remove-unused learned of each body, kept for its next run.
 *
 *   -O1: remove-unused, dce, dead-params, dce, remove-unused
 *        the second remove-unused scans only the bodies dce and dead-params rewrote
 *        (ruby.wasm: about 4,000 of 17,490); the others' references come from here
 *
 * After the sweep and renumbering, the references every kept body makes (the list the
 * scan made, in body order, each index mapped to its new number) are stored in the
 * module with the body pointer they were listed from.  A later run takes a function's
 * list when its body is still that one: bodies are never freed before the module, so a
 * replaced body never matches.  Any renumbering of an index space drops the cache
 * (reindex_apply calls module_drop_refs_cache); spaces may only grow meanwhile (new
 * types, functions appended), which leaves every listed index meaning what it did.  A
 * pass that replaces a body by one naming the same items (dce dropping nops on the
 * bytes) rebinds the list to the new body (module_note_same_refs). */
#include "remove_unused.h"
#include <stdlib.h>

struct RefsCache {
    uint32_t nfuncs;
    uint32_t size[IX_COUNT];   /* the index spaces' sizes it was built for */
    const uint8_t **body;      /* per function: the body its list describes, or NULL */
    uint32_t *first, *count;   /* per function: its list in refs */
    uint32_t *maxref;          /* per function and space: 1 + highest index listed */
    BodyRef *refs;
};

static void cache_free(struct RefsCache *c) {
    free(c->body);
    free(c->first);
    free(c->count);
    free(c->maxref);
    free(c->refs);
    free(c);
}

/* Contract: function f's list, if it was listed from body old, now stands for body now. */
static void cache_rebind(struct RefsCache *c, uint32_t f, const uint8_t *old, const uint8_t *now) {
    if (f < c->nfuncs && c->body[f] == old) c->body[f] = now;
}

const struct RefsCache *unused_cache_get(const Module *m) {
    const struct RefsCache *c = m->refs_cache;
    if (!c || c->nfuncs > m->nfuncs) return NULL;
    for (int k = 0; k < IX_COUNT; k++)
        if (c->size[k] > reindex_space_size(m, k)) return NULL;
    return c;
}

bool unused_cache_refs(const struct RefsCache *c, const Module *m, uint32_t f, const BodyRef **refs, uint32_t *n) {
    if (!c || f >= c->nfuncs || !c->body[f] || c->body[f] != m->funcs[f].body.p) return false;
    *refs = c->refs + c->first[f];
    *n = c->count[f];
    return true;
}

bool unused_cache_take(const struct RefsCache *c, const Module *m, uint32_t f, ScanWorker *w, uint32_t *maxrow) {
    const BodyRef *refs;
    uint32_t n;
    if (!unused_cache_refs(c, m, f, &refs, &n)) return false;
    if (n) { /* (a worker may hold no list yet: no NULL + 0) */
        ws_grow((void **)&w->refs, &w->cap_refs, w->nrefs + n, sizeof *w->refs);
        memcpy(w->refs + w->nrefs, refs, n * sizeof *w->refs);
        w->nrefs += n;
    }
    memcpy(maxrow, &c->maxref[(size_t)f * IX_COUNT], IX_COUNT * sizeof(uint32_t));
    return true;
}

/* The references the scan listed for old function f (none when its body failed). */
static const BodyRef *listed(const Unused *u, uint32_t f, uint32_t *n) {
    const BodyRefs *l = &u->scan->list[f];
    *n = l->failed ? 0 : l->count;
    return *n ? u->scan->workers[l->worker].refs + l->first : NULL;
}

/* Contract: copies old function f's list, renumbered, as new function g's. */
static void store(struct RefsCache *c, const Unused *u, const Reindex *r, uint32_t f, uint32_t g, uint32_t *at) {
    uint32_t n;
    const BodyRef *refs = listed(u, f, &n);
    c->body[g] = u->m->funcs[g].body.p;
    c->first[g] = *at;
    c->count[g] = n;
    uint32_t *row = &c->maxref[(size_t)g * IX_COUNT];
    for (uint32_t j = 0; j < n; j++) {
        BodyRef x = refs[j];
        x.index = reindex_map(r, x.space, x.index);
        if (x.index + 1 > row[x.space]) row[x.space] = x.index + 1;
        c->refs[(*at)++] = x;
    }
}

void unused_cache_build(const Unused *u, const Reindex *r) {
    Module *m = u->m;
    module_drop_refs_cache(m);
    uint32_t old_funcs = r->count[IX_FUNC];
    size_t total = 0;
    for (uint32_t f = 0; f < old_funcs; f++) {
        uint32_t n = 0;
        if (u->live[u->base[IX_FUNC] + f] && m->funcs[reindex_map(r, IX_FUNC, f)].import < 0) listed(u, f, &n);
        total += n;
    }
    if (total > UINT32_MAX) return;
    struct RefsCache *c = ws_calloc(1, sizeof *c);
    c->nfuncs = m->nfuncs;
    for (int k = 0; k < IX_COUNT; k++) c->size[k] = reindex_space_size(m, k);
    c->body = ws_calloc(m->nfuncs + 1, sizeof *c->body);
    c->first = ws_calloc(m->nfuncs + 1, sizeof(uint32_t));
    c->count = ws_calloc(m->nfuncs + 1, sizeof(uint32_t));
    c->maxref = ws_calloc((size_t)m->nfuncs * IX_COUNT + 1, sizeof(uint32_t));
    c->refs = ws_malloc((total + 1) * sizeof(BodyRef));
    uint32_t at = 0;
    for (uint32_t f = 0; f < old_funcs; f++) {
        if (!u->live[u->base[IX_FUNC] + f]) continue;
        uint32_t g = reindex_map(r, IX_FUNC, f);
        if (m->funcs[g].import < 0) store(c, u, r, f, g, &at);
    }
    m->refs_cache = c;
    m->refs_cache_free = cache_free;
    m->refs_cache_rebind = cache_rebind;
}
