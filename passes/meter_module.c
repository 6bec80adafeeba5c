/* meter_module.c - the module-level edits of the metering pass: appended globals,
 * exports, types, helper functions and custom sections, and the fuel import, which
 * is inserted after the other function imports and moves every defined function up by
 * one everywhere an index names it.
 *
 *   before: import env.f (func 0)   func 1   export "run" (func 1)   elem [1]
 *   meter_insert_import(env.gas):
 *   after:  import env.f (func 0)   import env.gas (func 1)   func 2
 *           export "run" (func 2)   elem [2]   (names, start, ref.func moved too) */
#include "meter.h"
#include "reindex.h"
#include "../ir/instr.h"
#include "../ir/leb.h"
#include <stdlib.h>

/* Contract: a copy of n bytes in the module's arena. */
static Bytes dup_bytes(Module *m, const void *p, size_t n) {
    Bytes b = {arena_dup(&m->arena, p, n ? n : 1), (uint32_t)n};
    return b;
}

uint32_t meter_add_global(Module *m, ValType t, int64_t init) {
    Buf b = {0};
    buf_u8(&b, t.code == VT_I64 ? 0x42 : 0x41);
    buf_s64(&b, init);
    buf_u8(&b, 0x0b);
    m->globals = ws_realloc(m->globals, (m->nglobals + 1) * sizeof(Global));
    Global *g = &m->globals[m->nglobals];
    memset(g, 0, sizeof *g);
    g->type = t;
    g->mut = 1;
    g->import = -1;
    g->init.code = dup_bytes(m, b.data, b.len).p;
    g->init.len = (uint32_t)b.len;
    buf_free(&b);
    return m->nglobals++;
}

bool meter_has_export(const Module *m, const char *name) {
    size_t n = strlen(name);
    for (uint32_t i = 0; i < m->nexports; i++)
        if (m->exports[i].name.len == n && !memcmp(m->exports[i].name.p, name, n)) return true;
    return false;
}

void meter_add_export(Module *m, const char *name, uint8_t kind, uint32_t index) {
    Export *e = arena_array(&m->arena, m->nexports + 1, sizeof(Export));
    if (m->nexports) memcpy(e, m->exports, m->nexports * sizeof(Export));
    e[m->nexports].name = dup_bytes(m, name, strlen(name));
    e[m->nexports].kind = kind;
    e[m->nexports].index = index;
    m->exports = e;
    m->nexports++;
}

static bool same_types(const ValType *a, const ValType *b, uint32_t n) {
    for (uint32_t i = 0; i < n; i++)
        if (!vt_eq(a[i], b[i])) return false;
    return true;
}

/* True for a function type alone in its rec group, final, without supertypes: the
 * type a host function has. */
static bool is_plain_func(const Module *m, const TypeDef *t) {
    return t->kind == COMP_FUNC && t->nsupers == 0 && t->sub_form != SUB_OPEN && m->recs[t->rec].count == 1;
}

uint32_t meter_func_type(Module *m, const ValType *params, uint32_t np, const ValType *results, uint32_t nr) {
    for (uint32_t i = 0; i < m->ntypes; i++) {
        const TypeDef *t = &m->types[i];
        if (is_plain_func(m, t) && t->nparams == np && t->nresults == nr && same_types(t->params, params, np) &&
            same_types(t->results, results, nr))
            return i;
    }
    RecGroup *recs = arena_array(&m->arena, m->nrecs + 1, sizeof(RecGroup));
    if (m->nrecs) memcpy(recs, m->recs, m->nrecs * sizeof(RecGroup));
    recs[m->nrecs] = (RecGroup){m->ntypes, 1, false};
    m->recs = recs;
    m->types = ws_realloc(m->types, (m->ntypes + 1) * sizeof(TypeDef));
    TypeDef *t = &m->types[m->ntypes];
    memset(t, 0, sizeof *t);
    t->kind = COMP_FUNC;
    t->sub_form = SUB_BARE;
    t->nparams = np;
    t->nresults = nr;
    t->params = arena_array(&m->arena, np + 1, sizeof(ValType));
    t->results = arena_array(&m->arena, nr + 1, sizeof(ValType));
    if (np) memcpy(t->params, params, np * sizeof(ValType));
    if (nr) memcpy(t->results, results, nr * sizeof(ValType));
    t->rec = m->nrecs++;
    return m->ntypes++;
}

uint32_t meter_add_function(Module *m, uint32_t type, const uint8_t *body, size_t len) {
    m->funcs = ws_realloc(m->funcs, (m->nfuncs + 1) * sizeof(Func));
    Func *f = &m->funcs[m->nfuncs];
    memset(f, 0, sizeof *f);
    f->type = type;
    f->import = -1;
    f->body.p = module_own(m, ws_malloc(len));
    memcpy((uint8_t *)f->body.p, body, len);
    f->body.len = (uint32_t)len;
    f->changed = true;
    m->code_changed = true;
    return m->nfuncs++;
}

/* Contract: the ref.func of a constant expression renumbered (new bytes in the arena
 * when one moves); fails through err on malformed bytes (already validated). */
static void renumber_expr(Module *m, const Reindex *r, Expr *e, Buf *out, WsError *err) {
    Cursor c = {m->input, e->code, e->code + e->len, err};
    bool moved = false;
    out->len = 0;
    while (!cur_eof(&c)) {
        Instr in;
        instr_decode(&c, &in);
        if (in.op == OP_REF_FUNC && reindex_map(r, IX_FUNC, in.a) != in.a) {
            in.a = reindex_map(r, IX_FUNC, in.a);
            moved = true;
        }
        instr_encode(out, &in);
    }
    if (!moved) return;
    e->code = arena_dup(&m->arena, out->data, out->len);
    e->len = (uint32_t)out->len;
}

/* Contract: renumbers the module-level references to functions (not the bodies) with
 * map r; fails through ctx->err on malformed expressions. */
static void renumber_refs(PassCtx *ctx, Module *m, const Reindex *r) {
    Buf b = {0};
    for (uint32_t i = m->nglobal_imports; i < m->nglobals; i++) renumber_expr(m, r, &m->globals[i].init, &b, &ctx->err);
    for (uint32_t i = m->ntable_imports; i < m->ntables; i++)
        if (m->tables[i].has_init) renumber_expr(m, r, &m->tables[i].init, &b, &ctx->err);
    for (uint32_t i = 0; i < m->nelems; i++) {
        Elem *e = &m->elems[i];
        if (!(e->flags & 1)) renumber_expr(m, r, &e->offset, &b, &ctx->err);
        for (uint32_t k = 0; k < e->count; k++) {
            if (e->flags & 4) renumber_expr(m, r, &e->exprs[k], &b, &ctx->err);
            else e->funcs[k] = reindex_map(r, IX_FUNC, e->funcs[k]);
        }
    }
    for (uint32_t i = 0; i < m->nexports; i++)
        if (m->exports[i].kind == EXT_FUNC) m->exports[i].index = reindex_map(r, IX_FUNC, m->exports[i].index);
    if (m->has_start) m->start = reindex_map(r, IX_FUNC, m->start);
    buf_free(&b);
}

/* Contract: the import itself: after the other imports, function index nfunc_imports. */
static void append_import(Module *m, const char *module, const char *name, uint32_t type) {
    module_drop_refs_cache(m); /* every defined function moves up */
    Import *im = arena_array(&m->arena, m->nimports + 1, sizeof(Import));
    if (m->nimports) memcpy(im, m->imports, m->nimports * sizeof(Import));
    im[m->nimports] = (Import){dup_bytes(m, module, strlen(module)), dup_bytes(m, name, strlen(name)), EXT_FUNC,
                               m->nfunc_imports};
    m->imports = im;
    m->funcs = ws_realloc(m->funcs, (m->nfuncs + 1) * sizeof(Func));
    memmove(&m->funcs[m->nfunc_imports + 1], &m->funcs[m->nfunc_imports],
            (m->nfuncs - m->nfunc_imports) * sizeof(Func));
    Func *f = &m->funcs[m->nfunc_imports];
    memset(f, 0, sizeof *f);
    f->type = type;
    f->import = (int32_t)m->nimports;
    m->nimports++;
    m->nfuncs++;
    m->nfunc_imports++;
}

void meter_insert_import(PassCtx *ctx, Module *m, const char *module, const char *name, uint32_t type) {
    uint32_t n = m->nfuncs, first = m->nfunc_imports;
    Reindex r;
    memset(&r, 0, sizeof r);
    r.count[IX_FUNC] = n;
    r.kept[IX_FUNC] = n + 1;
    r.map[IX_FUNC] = ws_malloc((n + 1) * sizeof(uint32_t));
    for (uint32_t i = 0; i < n; i++) r.map[IX_FUNC][i] = i < first ? i : i + 1;
    jmp_buf outer;
    memcpy(outer, ctx->err.jb, sizeof(jmp_buf));
    ctx->err.file = m->file;
    if (setjmp(ctx->err.jb)) {
        ctx->failed = true;
    } else {
        append_import(m, module, name, type);
        renumber_refs(ctx, m, &r);
        uint8_t *rewritten = ws_calloc(m->nfuncs + 1, 1);
        memset(rewritten + m->nfunc_imports, 1, m->nfuncs - m->nfunc_imports);
        reindex_customs(ctx, m, &r, rewritten);
        free(rewritten);
    }
    memcpy(ctx->err.jb, outer, sizeof(jmp_buf));
    free(r.map[IX_FUNC]);
}
