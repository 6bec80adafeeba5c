/* subtype.c - canonical type ids for iso-recursive equivalence, and subtyping (see
 * subtype.h). */
#include "subtype.h"
#include <stdlib.h>

/* ---- structural keys of rec groups ---- */

/* A type index as seen from inside rec group g: a position in g (tagged with bit 32) or
 * the canonical id of a type before g. */
static uint64_t key_idx(const TypeSpace *ts, const RecGroup *g, uint32_t x) {
    if (x >= g->first && x - g->first < g->count) return (1ull << 32) | (x - g->first);
    return ts->canon[x];
}

/* Key of a heap type: abstract types tagged with bit 33. */
static uint64_t key_heap(const TypeSpace *ts, const RecGroup *g, int32_t h) {
    if (h < 0) return (2ull << 32) | (uint32_t)h;
    return key_idx(ts, g, (uint32_t)h);
}

/* Key of a value/storage type: the shorthand reference encodings fold into (ref null h). */
static uint64_t key_val(const TypeSpace *ts, const RecGroup *g, ValType t) {
    if (!vt_is_ref(t)) return t.code;
    return (key_heap(ts, g, t.heap) << 2) | (vt_nullable(t) ? 2u : 1u);
}

static uint64_t mix(uint64_t h, uint64_t v) {
    h ^= v + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
    return h * 0xff51afd7ed558ccdull;
}

static bool is_final(const TypeDef *t) { return t->sub_form != SUB_OPEN; }

/* Contract: hash of type t's structure as seen from its rec group g. */
static uint64_t hash_type(const TypeSpace *ts, const RecGroup *g, const TypeDef *t) {
    uint64_t h = mix(t->kind, is_final(t));
    h = mix(h, t->nsupers);
    for (uint32_t i = 0; i < t->nsupers; i++) h = mix(h, key_idx(ts, g, t->supers[i]));
    h = mix(h, ((uint64_t)t->nparams << 32) | t->nresults);
    for (uint32_t i = 0; i < t->nparams; i++) h = mix(h, key_val(ts, g, t->params[i]));
    for (uint32_t i = 0; i < t->nresults; i++) h = mix(h, key_val(ts, g, t->results[i]));
    h = mix(h, t->nfields);
    for (uint32_t i = 0; i < t->nfields; i++)
        h = mix(h, key_val(ts, g, t->fields[i].type) * 2 + t->fields[i].mut);
    return h;
}

static bool same_vals(const TypeSpace *ts, const RecGroup *ga, const ValType *a,
                      const RecGroup *gb, const ValType *b, uint32_t n) {
    for (uint32_t i = 0; i < n; i++)
        if (key_val(ts, ga, a[i]) != key_val(ts, gb, b[i])) return false;
    return true;
}

/* Contract: a (in group ga) and b (in gb) have equal structure under the group keys. */
static bool same_type(const TypeSpace *ts, const RecGroup *ga, const TypeDef *a,
                      const RecGroup *gb, const TypeDef *b) {
    if (a->kind != b->kind || is_final(a) != is_final(b) || a->nsupers != b->nsupers ||
        a->nparams != b->nparams || a->nresults != b->nresults || a->nfields != b->nfields)
        return false;
    for (uint32_t i = 0; i < a->nsupers; i++)
        if (key_idx(ts, ga, a->supers[i]) != key_idx(ts, gb, b->supers[i])) return false;
    if (!same_vals(ts, ga, a->params, gb, b->params, a->nparams)) return false;
    if (!same_vals(ts, ga, a->results, gb, b->results, a->nresults)) return false;
    for (uint32_t i = 0; i < a->nfields; i++)
        if (a->fields[i].mut != b->fields[i].mut ||
            key_val(ts, ga, a->fields[i].type) != key_val(ts, gb, b->fields[i].type))
            return false;
    return true;
}

static bool same_group(const TypeSpace *ts, const RecGroup *ga, const RecGroup *gb) {
    if (ga->count != gb->count) return false;
    const TypeDef *types = ts->m->types;
    for (uint32_t i = 0; i < ga->count; i++)
        if (!same_type(ts, ga, &types[ga->first + i], gb, &types[gb->first + i])) return false;
    return true;
}

/* ---- the space ---- */

void typespace_init(TypeSpace *ts, const Module *m) {
    memset(ts, 0, sizeof *ts);
    ts->m = m;
    ts->canon = ws_calloc(m->ntypes ? m->ntypes : 1, sizeof(uint32_t));
    ts->hashes = ws_calloc(m->nrecs ? m->nrecs : 1, sizeof(uint32_t));
    ts->nslots = 16;
    while (ts->nslots < (uint64_t)m->nrecs * 2) ts->nslots *= 2;
    ts->slots = ws_calloc(ts->nslots, sizeof(uint32_t));
}

void typespace_add_group(TypeSpace *ts) {
    const RecGroup *g = &ts->m->recs[ts->ngroups];
    uint64_t h = mix(g->count, 0);
    for (uint32_t i = 0; i < g->count; i++) h = mix(h, hash_type(ts, g, &ts->m->types[g->first + i]));
    uint32_t h32 = (uint32_t)(h ^ (h >> 32)), mask = ts->nslots - 1, at = h32 & mask;
    const RecGroup *same = NULL;
    for (; ts->slots[at]; at = (at + 1) & mask) {
        uint32_t other = ts->slots[at] - 1;
        if (ts->hashes[other] == h32 && same_group(ts, g, &ts->m->recs[other])) {
            same = &ts->m->recs[other];
            break;
        }
    }
    for (uint32_t i = 0; i < g->count; i++) ts->canon[g->first + i] = same ? same->first + i : g->first + i;
    ts->hashes[ts->ngroups] = h32;
    if (!same) ts->slots[at] = ts->ngroups + 1;
    ts->ngroups++;
    ts->ntypes = g->first + g->count;
}

void typespace_build(TypeSpace *ts, const Module *m) {
    typespace_init(ts, m);
    while (ts->ngroups < m->nrecs) typespace_add_group(ts);
}

void typespace_free(TypeSpace *ts) {
    free(ts->canon);
    free(ts->slots);
    free(ts->hashes);
    memset(ts, 0, sizeof *ts);
}

/* ---- subtyping ---- */

/* Contract: abstract a <: abstract b (both >= the abstract codes, neither bottom). */
static bool abstract_sub(int32_t a, int32_t b) {
    if (a == b) return true;
    switch (a) {
    case HT_NONE: return b == HT_I31 || b == HT_STRUCT || b == HT_ARRAY || b == HT_EQ || b == HT_ANY;
    case HT_I31: case HT_STRUCT: case HT_ARRAY: return b == HT_EQ || b == HT_ANY;
    case HT_EQ: return b == HT_ANY;
    case HT_NOFUNC: return b == HT_FUNC;
    case HT_NOEXTERN: return b == HT_EXTERN;
    case HT_NOEXN: return b == HT_EXN;
    default: return false;
    }
}

/* Contract: defined type a <: abstract b, by a's composite kind. */
static bool def_sub_abstract(const TypeSpace *ts, uint32_t a, int32_t b) {
    uint8_t kind = ts->m->types[a].kind;
    switch (b) {
    case HT_ANY: case HT_EQ: return kind != COMP_FUNC;
    case HT_STRUCT: return kind == COMP_STRUCT;
    case HT_ARRAY: return kind == COMP_ARRAY;
    case HT_FUNC: return kind == COMP_FUNC;
    default: return false;
    }
}

/* Contract: defined a <: defined b: some type on a's declared supertype chain is
 * equivalent to b.  Supertypes precede their subtypes, so the walk ends. */
static bool def_sub(const TypeSpace *ts, uint32_t a, uint32_t b) {
    uint32_t cb = ts->canon[b];
    for (;;) {
        if (ts->canon[a] == cb) return true;
        const TypeDef *t = &ts->m->types[a];
        if (t->nsupers == 0 || t->supers[0] >= a) return false;
        a = t->supers[0];
    }
}

bool heap_sub(const TypeSpace *ts, int32_t a, int32_t b) {
    if (a == HT_BOT) return true;
    if (b == HT_BOT) return false;
    if (a >= 0 && b >= 0) return a == b || def_sub(ts, (uint32_t)a, (uint32_t)b);
    if (a >= 0) return def_sub_abstract(ts, (uint32_t)a, b);
    if (b >= 0) {
        uint8_t kind = ts->m->types[b].kind;
        return (a == HT_NONE && kind != COMP_FUNC) || (a == HT_NOFUNC && kind == COMP_FUNC);
    }
    return abstract_sub(a, b);
}

bool val_sub(const TypeSpace *ts, ValType a, ValType b) {
    if (a.code == VT_BOT) return true;
    bool ra = vt_is_ref(a), rb = vt_is_ref(b);
    if (!ra || !rb) return !ra && !rb && a.code == b.code;
    if (vt_nullable(a) && !vt_nullable(b)) return false;
    return heap_sub(ts, a.heap, b.heap);
}

bool val_equiv(const TypeSpace *ts, ValType a, ValType b) {
    return val_sub(ts, a, b) && val_sub(ts, b, a);
}

bool field_sub(const TypeSpace *ts, FieldType a, FieldType b) {
    if (a.mut != b.mut) return false;
    if (a.mut) return val_equiv(ts, a.type, b.type);
    return val_sub(ts, a.type, b.type);
}

static bool results_sub(const TypeSpace *ts, const ValType *a, const ValType *b, uint32_t n) {
    for (uint32_t i = 0; i < n; i++)
        if (!val_sub(ts, a[i], b[i])) return false;
    return true;
}

bool comp_sub(const TypeSpace *ts, const TypeDef *a, const TypeDef *b) {
    if (a->kind != b->kind) return false;
    if (a->kind == COMP_FUNC)
        return a->nparams == b->nparams && a->nresults == b->nresults &&
               results_sub(ts, b->params, a->params, a->nparams) &&
               results_sub(ts, a->results, b->results, a->nresults);
    if (a->nfields < b->nfields) return false;
    for (uint32_t i = 0; i < b->nfields; i++)
        if (!field_sub(ts, a->fields[i], b->fields[i])) return false;
    return true;
}

int32_t heap_top(const TypeSpace *ts, int32_t h) {
    if (h >= 0) return ts->m->types[h].kind == COMP_FUNC ? HT_FUNC : HT_ANY;
    switch (h) {
    case HT_FUNC: case HT_NOFUNC: return HT_FUNC;
    case HT_EXTERN: case HT_NOEXTERN: return HT_EXTERN;
    case HT_EXN: case HT_NOEXN: return HT_EXN;
    case HT_BOT: return HT_BOT;
    default: return HT_ANY;
    }
}
