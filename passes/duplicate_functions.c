/* duplicate_functions.c - duplicate-function-elimination (wasm-opt's name): defined
 * functions with the same type and the same body bytes become one; every reference to
 * the others (calls, ref.func, element segments, exports, start) goes to the first.
 *
 *   before:  (func $a (type 0) i32.const 1)   (func $b (type 0) i32.const 1)
 *            (func $c call $a call $b)         (export "b" (func $b))
 *   after:   (func $a (type 0) i32.const 1)
 *            (func $c call $a call $a)         (export "b" (func $a))
 *
 * Then callers that differed only in which twin they called are equal too, so rounds
 * repeat until one merges nothing (at most MAX_ROUNDS).  Bodies compare as bytes: two
 * functions that differ in encoding only (a padded LEB128) stay apart.  The merged
 * functions' names and code metadata go with them.  A host sees it in one way: two
 * exports of twins are the same function object afterwards (as with wasm-opt). */
#include "reindex.h"
#include <stdlib.h>

enum { MAX_ROUNDS = 32 };

/* Contract: a 64-bit FNV-1a hash of a function's type index and body bytes. */
static uint64_t func_hash(const Func *fn) {
    uint64_t h = 0xcbf29ce484222325ull ^ fn->type;
    h *= 0x100000001b3ull;
    for (uint32_t i = 0; i < fn->body.len; i++) {
        h ^= fn->body.p[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

static bool same_func(const Func *a, const Func *b) {
    return a->type == b->type && a->body.len == b->body.len && !memcmp(a->body.p, b->body.p, a->body.len);
}

/* Contract: alias[f] = the lowest defined function equal to f (REINDEX_GONE for the
 * first of each kind and for imports); returns how many functions have an alias. */
static uint32_t find_twins(const Module *m, uint32_t *alias) {
    uint32_t merged = 0;
    size_t cap = 16;
    while (cap < 2 * (size_t)module_ndefined_funcs(m)) cap *= 2;
    uint32_t *slot = ws_malloc(cap * sizeof(uint32_t)); /* function index, or REINDEX_GONE */
    for (size_t i = 0; i < cap; i++) slot[i] = REINDEX_GONE;
    for (uint32_t f = 0; f < m->nfuncs; f++) alias[f] = REINDEX_GONE;
    for (uint32_t f = m->nfunc_imports; f < m->nfuncs; f++) {
        size_t at = (size_t)func_hash(&m->funcs[f]) & (cap - 1);
        while (slot[at] != REINDEX_GONE && !same_func(&m->funcs[slot[at]], &m->funcs[f])) at = (at + 1) & (cap - 1);
        if (slot[at] == REINDEX_GONE) {
            slot[at] = f;
        } else {
            alias[f] = slot[at];
            merged++;
        }
    }
    free(slot);
    return merged;
}

/* Contract: one round: merges the twins find_twins reports; returns how many went
 * (0 when none, the module untouched). */
static uint32_t merge_round(PassCtx *ctx, Module *m) {
    uint32_t *alias = ws_malloc((m->nfuncs + 1) * sizeof(uint32_t));
    uint32_t merged = find_twins(m, alias);
    if (merged) {
        uint8_t *keep_funcs = ws_malloc(m->nfuncs + 1);
        for (uint32_t f = 0; f < m->nfuncs; f++) keep_funcs[f] = alias[f] == REINDEX_GONE;
        uint8_t *keep[IX_COUNT] = {keep_funcs};
        Reindex r;
        reindex_init(&r, m, keep);
        r.alias = alias;
        if (!reindex_apply(ctx, m, &r)) merged = 0;
        reindex_free(&r);
        free(keep_funcs);
    }
    free(alias);
    return merged;
}

void pass_duplicate_functions(PassCtx *ctx, Module *m) {
    uint32_t total = 0, merged;
    for (uint32_t round = 0; round < MAX_ROUNDS && !ctx->failed; round++) {
        if (!(merged = merge_round(ctx, m))) break;
        total += merged;
    }
    if (ctx->failed) return;
    ctx->unchanged = total == 0;
    PassStats delta = {0};
    delta.funcs_merged = total;
    pass_stats_add(ctx, &delta);
}
