/* reindex.c - removes items from the index spaces and renumbers every reference to the
 * rest (see reindex.h).  Bodies go first: that is the only step that can fail (on
 * malformed code), and it leaves the module untouched when it does.  Then the
 * declarations, imports, segments, types, exports, start and the custom sections.
 *
 *   before: import env.f (func 0)   funcs [f0 f1 f2]   export "g" (func 2)   elem [2 1]
 *   remove func 0:
 *   after:  (no import)             funcs [f1 f2]      export "g" (func 1)   elem [1 0]
 */
#include "reindex.h"
#include "../ir/leb.h"
#include "../ir/pool.h"
#include <stdlib.h>

uint32_t reindex_space_size(const Module *m, int k) {
    switch (k) {
    case IX_FUNC: return m->nfuncs;
    case IX_TABLE: return m->ntables;
    case IX_MEM: return m->nmems;
    case IX_GLOBAL: return m->nglobals;
    case IX_TAG: return m->ntags;
    case IX_ELEM: return m->nelems;
    case IX_DATA: return m->ndatas;
    case IX_TYPE: return m->ntypes;
    }
    return 0;
}

void reindex_init(Reindex *r, const Module *m, uint8_t *const keep[IX_COUNT]) {
    memset(r, 0, sizeof *r);
    for (int k = 0; k < IX_COUNT; k++) {
        uint32_t n = reindex_space_size(m, k), next = 0;
        r->count[k] = r->kept[k] = n;
        if (!keep[k] || n == 0) continue;
        uint32_t *map = ws_malloc(n * sizeof(uint32_t));
        for (uint32_t i = 0; i < n; i++) map[i] = keep[k][i] ? next++ : REINDEX_GONE;
        r->kept[k] = next;
        if (next == n) free(map);
        else r->map[k] = map;
    }
}

bool reindex_is_identity(const Reindex *r) {
    for (int k = 0; k < IX_COUNT; k++)
        if (r->map[k]) return false;
    return true;
}

void reindex_free(Reindex *r) {
    for (int k = 0; k < IX_COUNT; k++) free(r->map[k]);
    memset(r, 0, sizeof *r);
}

/* One worker of the parallel body rewrite: its scratch, the bodies it wrote, and the
 * first (lowest) function it failed on. */
typedef struct RxWorker {
    ReindexScratch s;
    Buf code;
    uint32_t failed;     /* function index, UINT32_MAX if none */
    WsError err;
} RxWorker;

typedef struct RxRun {
    PassCtx *ctx;
    Module *m;
    const Reindex *r;
    ReindexScratch s;    /* for the expressions (main thread) */
    uint32_t nworkers;
    RxWorker *workers;
    size_t *off;         /* per old function: offset of its new body, or SIZE_MAX */
    uint32_t *len, *worker;
    uint8_t *rewritten;  /* per new function: its body was rewritten */
} RxRun;

/* Contract: pool_for body: rewrites defined function nfunc_imports + i into its
 * worker's buffer if it is kept and an index in it moves; records failures. */
static void rewrite_one(void *arg, uint32_t i, uint32_t worker) {
    RxRun *x = arg;
    RxWorker *w = &x->workers[worker];
    const Module *m = x->m;
    uint32_t f = m->nfunc_imports + i;
    x->off[f] = SIZE_MAX;
    if (!reindex_kept(x->r, IX_FUNC, f) || (x->r->moves && !x->r->moves[f])) return;
    WsError err;
    err.file = m->file;
    const size_t at = w->code.len;
    if (setjmp(err.jb)) {
        w->code.len = at;
        if (f < w->failed) {
            w->failed = f;
            w->err = err;
        }
        return;
    }
    if (!reindex_body(x->r, m, m->funcs[f].body, x->r->moves != NULL, &w->s, &w->code, &err)) return;
    x->off[f] = at;
    x->len[f] = (uint32_t)(w->code.len - at);
    x->worker[f] = worker;
}

/* Contract: rewrites the bodies whose indices move, in parallel (ctx->jobs threads);
 * nothing in the module changes yet.  On malformed code fails through ctx->err with
 * the error of the lowest failing function (the same for any thread count). */
static void rewrite_bodies(RxRun *x) {
    const Module *m = x->m;
    x->nworkers = x->ctx->jobs ? x->ctx->jobs : 1;
    x->workers = ws_calloc(x->nworkers, sizeof(RxWorker));
    for (uint32_t w = 0; w < x->nworkers; w++) x->workers[w].failed = UINT32_MAX;
    pool_for(x->nworkers, module_ndefined_funcs(m), rewrite_one, x);
    RxWorker *first = NULL;
    for (uint32_t w = 0; w < x->nworkers; w++)
        if (x->workers[w].failed != UINT32_MAX && (!first || x->workers[w].failed < first->failed))
            first = &x->workers[w];
    if (!first) return;
    x->ctx->err.offset = first->err.offset;
    memcpy(x->ctx->err.msg, first->err.msg, sizeof first->err.msg);
    longjmp(x->ctx->err.jb, 1);
}

/* Contract: points the rewritten functions at their new bodies (the workers' buffers,
 * now owned by m) and marks them changed; records them in x->rewritten by new index. */
static void install_bodies(RxRun *x) {
    Module *m = x->m;
    uint8_t **blocks = ws_calloc(x->nworkers, sizeof(uint8_t *));
    for (uint32_t w = 0; w < x->nworkers; w++) {
        if (!x->workers[w].code.len) continue;
        blocks[w] = module_own(m, x->workers[w].code.data);
        memset(&x->workers[w].code, 0, sizeof(Buf));
    }
    for (uint32_t f = m->nfunc_imports; f < m->nfuncs; f++) {
        if (x->off[f] == SIZE_MAX) continue;
        Func *fn = &m->funcs[f];
        fn->body.p = blocks[x->worker[f]] + x->off[f];
        fn->body.len = x->len[f];
        fn->changed = true;
        x->rewritten[reindex_map(x->r, IX_FUNC, f)] = 1;
        m->code_changed = true;
    }
    free(blocks);
}

/* Contract: drops removed functions, renumbers the types of the rest; counts imports. */
static void compact_funcs(Module *m, const Reindex *r) {
    uint32_t n = 0, imports = 0;
    for (uint32_t f = 0; f < m->nfuncs; f++) {
        if (!reindex_kept(r, IX_FUNC, f)) {
            if (m->funcs[f].import < 0) m->code_changed = true; /* code section layout moved */
            continue;
        }
        Func fn = m->funcs[f];
        fn.type = reindex_map(r, IX_TYPE, fn.type);
        imports += fn.import >= 0;
        m->funcs[n++] = fn;
    }
    m->nfuncs = n;
    m->nfunc_imports = imports;
}

static void compact_tables(Module *m, const Reindex *r) {
    uint32_t n = 0, imports = 0;
    for (uint32_t i = 0; i < m->ntables; i++) {
        if (!reindex_kept(r, IX_TABLE, i)) continue;
        Table t = m->tables[i];
        t.elem = reindex_valtype(r, t.elem);
        imports += t.import >= 0;
        m->tables[n++] = t;
    }
    m->ntables = n;
    m->ntable_imports = imports;
}

static void compact_mems(Module *m, const Reindex *r) {
    uint32_t n = 0, imports = 0;
    for (uint32_t i = 0; i < m->nmems; i++) {
        if (!reindex_kept(r, IX_MEM, i)) continue;
        imports += m->mems[i].import >= 0;
        m->mems[n++] = m->mems[i];
    }
    m->nmems = n;
    m->nmem_imports = imports;
}

static void compact_globals(Module *m, const Reindex *r) {
    uint32_t n = 0, imports = 0;
    for (uint32_t i = 0; i < m->nglobals; i++) {
        if (!reindex_kept(r, IX_GLOBAL, i)) continue;
        Global g = m->globals[i];
        g.type = reindex_valtype(r, g.type);
        imports += g.import >= 0;
        m->globals[n++] = g;
    }
    m->nglobals = n;
    m->nglobal_imports = imports;
}

static void compact_tags(Module *m, const Reindex *r) {
    uint32_t n = 0, imports = 0;
    for (uint32_t i = 0; i < m->ntags; i++) {
        if (!reindex_kept(r, IX_TAG, i)) continue;
        Tag t = m->tags[i];
        t.type = reindex_map(r, IX_TYPE, t.type);
        imports += t.import >= 0;
        m->tags[n++] = t;
    }
    m->ntags = n;
    m->ntag_imports = imports;
}

/* Contract: sets the import slot of item idx (new index) of an import kind. */
static void set_import_slot(Module *m, uint8_t kind, uint32_t idx, int32_t slot) {
    switch (kind) {
    case EXT_FUNC: m->funcs[idx].import = slot; break;
    case EXT_TABLE: m->tables[idx].import = slot; break;
    case EXT_MEMORY: m->mems[idx].import = slot; break;
    case EXT_GLOBAL: m->globals[idx].import = slot; break;
    case EXT_TAG: m->tags[idx].import = slot; break;
    }
}

/* Contract: drops the imports of removed items and renumbers the rest (after the index
 * spaces were compacted). */
static void compact_imports(Module *m, const Reindex *r) {
    uint32_t n = 0;
    for (uint32_t i = 0; i < m->nimports; i++) {
        Import im = m->imports[i];
        if (!reindex_kept(r, im.kind, im.index)) continue;
        uint32_t idx = reindex_map(r, im.kind, im.index);
        im.index = idx;
        set_import_slot(m, im.kind, idx, (int32_t)n);
        m->imports[n++] = im;
    }
    m->nimports = n;
}

/* Contract: renumbers the initialisers of the defined globals and tables. */
static void remap_inits(RxRun *x) {
    Module *m = x->m;
    for (uint32_t i = m->nglobal_imports; i < m->nglobals; i++)
        reindex_expr(x->r, m, &m->globals[i].init, &x->s, &x->ctx->err);
    for (uint32_t i = m->ntable_imports; i < m->ntables; i++)
        if (m->tables[i].has_init) reindex_expr(x->r, m, &m->tables[i].init, &x->s, &x->ctx->err);
}

/* Contract: renumbers one element segment.  An implicit table 0 stays 0: table 0 is
 * kept whenever a segment writing it is, and kept items keep their order. */
static void remap_elem(RxRun *x, Elem *e) {
    const Reindex *r = x->r;
    e->type = reindex_valtype(r, e->type);
    if (!(e->flags & 1)) {
        if (e->flags & 2) e->table = reindex_map(r, IX_TABLE, e->table);
        reindex_expr(r, x->m, &e->offset, &x->s, &x->ctx->err);
    }
    for (uint32_t i = 0; i < e->count; i++) {
        if (e->flags & 4) reindex_expr(r, x->m, &e->exprs[i], &x->s, &x->ctx->err);
        else e->funcs[i] = reindex_map(r, IX_FUNC, e->funcs[i]);
    }
}

static void compact_elems(RxRun *x) {
    Module *m = x->m;
    uint32_t n = 0;
    for (uint32_t i = 0; i < m->nelems; i++) {
        if (!reindex_kept(x->r, IX_ELEM, i)) continue;
        Elem e = m->elems[i];
        remap_elem(x, &e);
        m->elems[n++] = e;
    }
    m->nelems = n;
}

/* Contract: drops removed data segments, renumbers memories and offsets of the rest;
 * drops the datacount section when no segment is left. */
static void compact_datas(RxRun *x) {
    Module *m = x->m;
    uint32_t n = 0;
    for (uint32_t i = 0; i < m->ndatas; i++) {
        if (!reindex_kept(x->r, IX_DATA, i)) continue;
        Data d = m->datas[i];
        if (d.flags == 2) d.memory = reindex_map(x->r, IX_MEM, d.memory);
        if (d.flags != 1) reindex_expr(x->r, m, &d.offset, &x->s, &x->ctx->err);
        m->datas[n++] = d;
    }
    if (n == 0 && m->ndatas > 0) m->has_datacount = false;
    m->ndatas = n;
    m->datacount = n;
}

static void remap_typedef(const Reindex *r, TypeDef *t) {
    for (uint32_t i = 0; i < t->nsupers; i++) t->supers[i] = reindex_map(r, IX_TYPE, t->supers[i]);
    for (uint32_t i = 0; i < t->nparams; i++) t->params[i] = reindex_valtype(r, t->params[i]);
    for (uint32_t i = 0; i < t->nresults; i++) t->results[i] = reindex_valtype(r, t->results[i]);
    for (uint32_t i = 0; i < t->nfields; i++) t->fields[i].type = reindex_valtype(r, t->fields[i].type);
}

/* Contract: drops removed rec groups (whole; empty ones too) and renumbers the type
 * references inside the kept types. */
static void compact_types(Module *m, const Reindex *r) {
    if (!r->map[IX_TYPE]) return;
    uint32_t nt = 0, ng = 0;
    for (uint32_t g = 0; g < m->nrecs; g++) {
        RecGroup rg = m->recs[g];
        if (rg.count == 0 || !reindex_kept(r, IX_TYPE, rg.first)) continue;
        for (uint32_t k = 0; k < rg.count; k++) {
            TypeDef t = m->types[rg.first + k];
            remap_typedef(r, &t);
            t.rec = ng;
            m->types[nt + k] = t;
        }
        rg.first = nt;
        nt += rg.count;
        m->recs[ng++] = rg;
    }
    m->ntypes = nt;
    m->nrecs = ng;
}

static void remap_exports(Module *m, const Reindex *r) {
    for (uint32_t i = 0; i < m->nexports; i++)
        m->exports[i].index = reindex_map(r, m->exports[i].kind, m->exports[i].index);
    if (m->has_start) m->start = reindex_map(r, IX_FUNC, m->start);
}

static void run_free(RxRun *x) {
    reindex_scratch_free(&x->s);
    for (uint32_t w = 0; w < x->nworkers; w++) {
        reindex_scratch_free(&x->workers[w].s);
        buf_free(&x->workers[w].code);
    }
    free(x->workers);
    free(x->off);
    free(x->len);
    free(x->worker);
    free(x->rewritten);
    free(x);
}

/* Contract: every step after the bodies; cannot fail (expressions were fully decoded
 * when the module was read). */
static void apply_rest(RxRun *x) {
    Module *m = x->m;
    const Reindex *r = x->r;
    compact_funcs(m, r);
    compact_tables(m, r);
    compact_mems(m, r);
    compact_globals(m, r);
    compact_tags(m, r);
    compact_imports(m, r);
    remap_inits(x);
    compact_elems(x);
    compact_datas(x);
    compact_types(m, r);
    remap_exports(m, r);
    reindex_customs(x->ctx, m, r, x->rewritten);
}

bool reindex_apply(PassCtx *ctx, Module *m, const Reindex *r) {
    if (reindex_is_identity(r)) return true;
    module_drop_refs_cache(m); /* its indices are the old ones */
    RxRun *x = ws_calloc(1, sizeof *x); /* on the heap: survives the longjmp intact */
    x->ctx = ctx;
    x->m = m;
    x->r = r;
    x->off = ws_calloc(m->nfuncs + 1, sizeof(size_t));
    x->len = ws_calloc(m->nfuncs + 1, sizeof(uint32_t));
    x->worker = ws_calloc(m->nfuncs + 1, sizeof(uint32_t));
    x->rewritten = ws_calloc(m->nfuncs + 1, 1);
    jmp_buf outer;
    memcpy(outer, ctx->err.jb, sizeof(jmp_buf));
    ctx->err.file = m->file;
    bool ok = false;
    if (setjmp(ctx->err.jb)) {
        ctx->failed = true;
        goto done;
    }
    rewrite_bodies(x);
    install_bodies(x);
    apply_rest(x);
    ok = true;
done:
    memcpy(ctx->err.jb, outer, sizeof(jmp_buf));
    run_free(x);
    return ok;
}
