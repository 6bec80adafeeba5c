/* reindex.h - deleting items from the module's index spaces and renumbering every
 * reference to the items that stay: function bodies, constant expressions, segments,
 * imports, exports, start, types (supertypes, reference types), the name section and
 * code metadata ("metadata.code.*").  Used by remove-unused; usable by any pass that
 * deletes module items.
 *
 *   before: funcs [a b c]   call 2 in a      names {0:a 1:b 2:c}
 *   remove b (keep = 1 0 1):
 *   after:  funcs [a c]     call 1 in a      names {0:a 1:c}
 *
 * The caller guarantees that no kept item refers to a removed one (a mark phase) and
 * that rec groups are kept or removed whole. */
#ifndef WS_REINDEX_H
#define WS_REINDEX_H

#include "pass.h"
#include "../ir/leb.h"

/* Index spaces; the first five equal the EXT_* kinds of imports and exports. */
enum { IX_FUNC, IX_TABLE, IX_MEM, IX_GLOBAL, IX_TAG, IX_ELEM, IX_DATA, IX_TYPE, IX_COUNT };
#define REINDEX_GONE UINT32_MAX

typedef struct Reindex {
    uint32_t count[IX_COUNT];   /* items before */
    uint32_t kept[IX_COUNT];    /* items after */
    uint32_t *map[IX_COUNT];    /* old index -> new index or REINDEX_GONE; NULL = identity */
    const uint8_t *moves;       /* optional, per old function: an index in its body moves
                                   (the caller scanned it); NULL: bodies are scanned */
    const uint32_t *alias;      /* optional, per old function: REINDEX_GONE, or for a
                                   removed one the old index of the kept function its
                                   references go to instead (duplicate-function-elimination) */
} Reindex;

/* Fills r from keep flags (keep[k][i] != 0 keeps item i of space k; keep[k] NULL keeps
 * the whole space).  Order is preserved, so imports stay first. */
void reindex_init(Reindex *r, const Module *m, uint8_t *const keep[IX_COUNT]);
void reindex_free(Reindex *r);
bool reindex_is_identity(const Reindex *r);
/* Size of index space k of m. */
uint32_t reindex_space_size(const Module *m, int k);
/* Whether item i of space k stays (a removed function with an alias does not). */
static inline bool reindex_kept(const Reindex *r, int k, uint64_t i) {
    return !r->map[k] || i >= r->count[k] || r->map[k][i] != REINDEX_GONE;
}
/* New index of item i of space k (i itself when out of range or the map is identity);
 * a reference to a removed function with an alias goes to the alias's new index. */
static inline uint32_t reindex_map(const Reindex *r, int k, uint64_t i) {
    if (!r->map[k] || i >= r->count[k]) return (uint32_t)i;
    uint32_t to = r->map[k][i];
    if (to == REINDEX_GONE && k == IX_FUNC && r->alias && r->alias[i] != REINDEX_GONE) to = r->map[k][r->alias[i]];
    return to;
}

/* Removes the items r drops and renumbers the rest everywhere.  Bodies whose indices
 * move are rewritten canonically (changed = true, m->code_changed).  Notices go to
 * ctx->log.  Returns false with ctx->err set (ctx->failed) on malformed code. */
bool reindex_apply(PassCtx *ctx, Module *m, const Reindex *r);

/* ---- the pieces, also for passes that renumber without removing (an inserted
 * import shifts the functions: build a Reindex by hand with the shifted maps) ---- */

/* Scratch buffers reused across bodies and expressions (zero-initialise; free with
 * reindex_scratch_free). */
typedef struct ReindexScratch {
    Buf canon;   /* one instruction's canonical encoding */
    Buf vec;     /* a renumbered vector immediate */
    Buf out;     /* a rewritten expression */
} ReindexScratch;

void reindex_scratch_free(ReindexScratch *s);

/* Rewrites a function body (locals and code) if an index in it moves (known to move
 * when `moves`): then returns true with the canonical new body appended to out.  Fails
 * through err on malformed code. */
bool reindex_body(const Reindex *r, const Module *m, Bytes body, bool moves, ReindexScratch *s,
                  Buf *out, WsError *err);
/* Rewrites a constant expression if an index in it moves (new bytes in m's arena). */
void reindex_expr(const Reindex *r, Module *m, Expr *e, ReindexScratch *s, WsError *err);
/* The index spaces of the a and b immediates of an instruction with immediate kind imm
 * (IMM_*), -1 for none.  Memargs, heap and block types, vectors: handled apart. */
void reindex_imm_spaces(int imm, int *a, int *b);
/* Maps the type index inside a reference value type. */
ValType reindex_valtype(const Reindex *r, ValType t);
/* Renumbers the name section and the code metadata sections; rewritten[f] (new function
 * index) tells which bodies changed, for code metadata keyed by code offsets. */
void reindex_customs(PassCtx *ctx, Module *m, const Reindex *r, const uint8_t *rewritten);

#endif
