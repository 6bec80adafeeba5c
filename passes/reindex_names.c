/* reindex_names.c - renumbering the custom sections that hold indices: the name
 * section (each subsection is keyed by one index space) and code metadata
 * ("metadata.code.*": keyed by function index, then by code offset).  Other custom
 * sections are kept as they are; when indices moved, those of unknown meaning get a
 * notice, since what they hold cannot be renumbered.
 *
 *   before: "name" functions {0 "a", 1 "dead", 2 "b"}  locals {1 {0 "x"}, 2 {0 "y"}}
 *   remove func 1:
 *   after:  "name" functions {0 "a", 1 "b"}            locals {1 {0 "y"}}
 */
#include "reindex.h"
#include "../ir/leb.h"
#include "../ir/names.h"
#include <stdlib.h>

/* Contract: the index space keying name subsection id (-1: not keyed, copied as is);
 * *nested is set when its entries hold name maps (locals, labels, fields). */
static int subsection_space(uint8_t id, bool *nested) {
    *nested = id == NAME_LOCAL || id == NAME_LABEL || id == NAME_FIELD;
    switch (id) {
    case NAME_FUNCTION: case NAME_LOCAL: case NAME_LABEL: return IX_FUNC;
    case NAME_TYPE: case NAME_FIELD: return IX_TYPE;
    case NAME_TABLE: return IX_TABLE;
    case NAME_MEMORY: return IX_MEM;
    case NAME_GLOBAL: return IX_GLOBAL;
    case NAME_ELEM: return IX_ELEM;
    case NAME_DATA: return IX_DATA;
    case NAME_TAG: return IX_TAG;
    default: return -1;
    }
}

/* Contract: skips one entry's value at c: a name, or (nested) a whole name map. */
static void skip_value(Cursor *c, bool nested) {
    uint32_t len, n = nested ? cur_count(c, 2, "name") : 1;
    for (uint32_t i = 0; i < n; i++) {
        if (nested) cur_u32(c);
        cur_name(c, &len);
    }
}

/* Contract: copies the map at c (vec of index + value) to out, renumbered with space k
 * and without the entries of removed items; returns how many it kept.  The map must
 * fill the subsection exactly. */
static uint32_t remap_map(const Reindex *r, int k, bool nested, Cursor *c, Buf *out) {
    Cursor probe = *c;
    uint32_t n = cur_count(&probe, 2, "name"), kept = 0;
    for (uint32_t i = 0; i < n; i++) {
        kept += reindex_kept(r, k, cur_u32(&probe));
        skip_value(&probe, nested);
    }
    if (!cur_eof(&probe)) cur_fail(&probe, "junk after a name map");
    cur_u32(c);
    buf_u32(out, kept);
    for (uint32_t i = 0; i < n; i++) {
        uint32_t from = cur_u32(c);
        const uint8_t *value = c->p;
        skip_value(c, nested);
        if (!reindex_kept(r, k, from)) continue;
        buf_u32(out, reindex_map(r, k, from));
        buf_bytes(out, value, (size_t)(c->p - value));
    }
    return kept;
}

/* Contract: renumbers the map of one subsection keyed by space k into sub (entries
 * counted in *kept); false, with sub partly written, when it is malformed. */
static bool remap_subsection(const Reindex *r, int k, bool nested, Cursor s, Buf *sub, uint32_t *kept) {
    WsError err;
    s.err = &err;
    if (setjmp(err.jb)) return false;
    *kept = remap_map(r, k, nested, &s, sub);
    return true;
}

typedef struct NameBufs {
    Buf out, sub;
    uint32_t dropped;   /* malformed subsections dropped */
} NameBufs;

/* Contract: renumbers one subsection (id, payload s) into nb->sub; false when it must
 * go (malformed, or no entry left).  Subsection 10 is fields (nested, keyed by type),
 * but wabt up to 1.0.3x writes tag names there: a flat map is read as that. */
static bool remap_one(const Reindex *r, uint8_t id, Cursor s, NameBufs *nb) {
    bool nested;
    int k = subsection_space(id, &nested);
    uint32_t kept = 0;
    nb->sub.len = 0;
    if (k < 0 || !r->map[k]) {
        buf_bytes(&nb->sub, s.p, cur_left(&s));
        return true;
    }
    bool ok = remap_subsection(r, k, nested, s, &nb->sub, &kept);
    if (!ok && id == NAME_FIELD) {
        nb->sub.len = 0;
        ok = remap_subsection(r, IX_TAG, false, s, &nb->sub, &kept);
    }
    if (!ok) nb->dropped++;
    return ok && kept > 0;
}

/* Contract: renumbers a name section payload into nb->out; subsections left empty or
 * malformed are dropped.  Fails through c's error when the framing is malformed. */
static void remap_names_into(const Reindex *r, Cursor *c, NameBufs *nb) {
    while (!cur_eof(c)) {
        uint8_t id = cur_u8(c);
        uint32_t size = cur_u32(c);
        Cursor s = cur_sub(c, size);
        if (!remap_one(r, id, s, nb)) continue;
        buf_u8(&nb->out, id);
        buf_u32(&nb->out, (uint32_t)nb->sub.len);
        buf_bytes(&nb->out, nb->sub.data, nb->sub.len);
    }
}

/* Contract: renumbers the name section of custom cs in place (new payload in the
 * arena); false if its framing is malformed.  *dropped counts malformed subsections. */
static bool remap_names(const Reindex *r, Module *m, Custom *cs, uint32_t *dropped) {
    WsError err;
    Cursor c = {cs->payload.p, cs->payload.p, cs->payload.p + cs->payload.len, &err};
    NameBufs *nb = ws_calloc(1, sizeof *nb);
    bool ok = false;
    if (setjmp(err.jb)) goto done;
    remap_names_into(r, &c, nb);
    cs->payload.p = nb->out.len ? arena_dup(&m->arena, nb->out.data, nb->out.len) : cs->payload.p;
    cs->payload.len = (uint32_t)nb->out.len;
    *dropped = nb->dropped;
    ok = true;
done:
    buf_free(&nb->out);
    buf_free(&nb->sub);
    free(nb);
    return ok;
}

/* Contract: skips one function's entries of code metadata: vec(offset, size, bytes). */
static void skip_metadata_entries(Cursor *c) {
    uint32_t n = cur_count(c, 2, "code metadata entry");
    for (uint32_t i = 0; i < n; i++) {
        cur_u32(c);
        uint32_t size = cur_u32(c);
        cur_bytes(c, size);
    }
}

/* Contract: the new index of the function of a code metadata record, or REINDEX_GONE
 * when it is removed or its body was rewritten (its code offsets are stale). */
static uint32_t metadata_target(const Reindex *r, const uint8_t *rewritten, uint32_t f, uint32_t *stale) {
    if (!reindex_kept(r, IX_FUNC, f)) return REINDEX_GONE;
    uint32_t to = reindex_map(r, IX_FUNC, f);
    if (rewritten[to]) {
        (*stale)++;
        return REINDEX_GONE;
    }
    return to;
}

/* Contract: copies a code metadata payload (vec(funcidx, entries)) to out, renumbered,
 * without the records of removed functions or rewritten bodies (counted in *stale). */
static void remap_metadata_into(const Reindex *r, const uint8_t *rewritten, Cursor *c, Buf *out,
                                uint32_t *stale) {
    Cursor probe = *c;
    uint32_t n = cur_count(&probe, 2, "code metadata function"), kept = 0, ignore = 0;
    for (uint32_t i = 0; i < n; i++) {
        kept += metadata_target(r, rewritten, cur_u32(&probe), &ignore) != REINDEX_GONE;
        skip_metadata_entries(&probe);
    }
    if (!cur_eof(&probe)) cur_fail(&probe, "junk after code metadata");
    cur_u32(c);
    buf_u32(out, kept);
    for (uint32_t i = 0; i < n; i++) {
        uint32_t to = metadata_target(r, rewritten, cur_u32(c), stale);
        const uint8_t *entries = c->p;
        skip_metadata_entries(c);
        if (to == REINDEX_GONE) continue;
        buf_u32(out, to);
        buf_bytes(out, entries, (size_t)(c->p - entries));
    }
}

/* Contract: renumbers a code metadata section in place; false if it is malformed. */
static bool remap_metadata(const Reindex *r, const uint8_t *rewritten, Module *m, Custom *cs,
                           uint32_t *stale) {
    WsError err;
    Cursor c = {cs->payload.p, cs->payload.p, cs->payload.p + cs->payload.len, &err};
    Buf *out = ws_calloc(1, sizeof *out);
    bool ok = false;
    if (setjmp(err.jb)) goto done;
    remap_metadata_into(r, rewritten, &c, out, stale);
    cs->payload.p = arena_dup(&m->arena, out->data, out->len);
    cs->payload.len = (uint32_t)out->len;
    ok = true;
done:
    buf_free(out);
    free(out);
    return ok;
}

/* Contract: true for custom sections known to hold no index that reindexing moves. */
static bool holds_no_indices(const Custom *c) {
    static const char *const known[] = {
        "producers", "target_features", "dylink.0", "dylink", "sourceMappingURL",
        "external_debug_info", "build_id",
    };
    for (size_t i = 0; i < WS_ARRAY_LEN(known); i++)
        if (custom_is(c, known[i])) return true;
    return custom_has_prefix(c, ".debug_"); /* dropped by the CLI once code changed */
}

static void notice(PassCtx *ctx, const Custom *c, const char *what) {
    if (ctx->log)
        fprintf(ctx->log, "wasmslim: notice: custom section \"%.*s\": %s\n", (int)c->name.len,
                (const char *)c->name.p, what);
}

static void drop_custom(PassCtx *ctx, Custom *c, const char *why) {
    notice(ctx, c, why);
    c->removed = true;
    ctx->stats.customs_removed++;
    ctx->stats.custom_bytes_removed += c->size;
}

/* Contract: renumbers one code metadata section; reports stale records it dropped. */
static void reindex_metadata(PassCtx *ctx, Module *m, const Reindex *r, const uint8_t *rewritten,
                             Custom *c) {
    uint32_t stale = 0;
    if (!remap_metadata(r, rewritten, m, c, &stale)) {
        drop_custom(ctx, c, "malformed, its function indices cannot be renumbered: dropped");
        return;
    }
    if (stale && ctx->log)
        fprintf(ctx->log, "wasmslim: notice: custom section \"%.*s\": dropped the records of %u "
                          "function(s) whose code was rewritten (stale code offsets)\n",
                (int)c->name.len, (const char *)c->name.p, stale);
}

void reindex_customs(PassCtx *ctx, Module *m, const Reindex *r, const uint8_t *rewritten) {
    for (uint32_t i = 0; i < m->ncustoms; i++) {
        Custom *c = &m->customs[i];
        if (c->removed) continue;
        uint32_t dropped = 0;
        if (custom_is(c, "name")) {
            if (!remap_names(r, m, c, &dropped))
                drop_custom(ctx, c, "malformed, its indices cannot be renumbered: dropped");
            else if (c->payload.len == 0)
                c->removed = true;
            if (dropped) notice(ctx, c, "dropped malformed subsections (their indices cannot be renumbered)");
        } else if (custom_has_prefix(c, "metadata.code.")) {
            reindex_metadata(ctx, m, r, rewritten, c);
        } else if (!holds_no_indices(c)) {
            notice(ctx, c, "unknown meaning, kept as is (indices in it, if any, are stale)");
        }
    }
}
