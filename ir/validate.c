/* validate.c - module-level validation: types (rec groups, subtyping), imports and
 * definitions, limits, constant expressions in their contexts, element and data
 * segments, start, exports, the set of declared function references; then every
 * function body (validate_code.c). */
#include "validate.h"
#include "validate_int.h"
#include "pool.h"
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

/* Contract: fails with the offset of entry k of section sec (see entry_offset). */
static WS_NORETURN WS_PRINTF(4, 5) void efail(Validator *v, uint8_t sec, uint32_t k, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(v->err->msg, sizeof v->err->msg, fmt, ap);
    va_end(ap);
    v->err->offset = entry_offset(v->m, sec, k);
    longjmp(v->err->jb, 1);
}

/* ---- types ---- */

/* Contract: t's type references stay below `end` (the end of its rec group). */
static bool refs_below(const ValType *ts, uint32_t n, uint32_t end) {
    for (uint32_t i = 0; i < n; i++)
        if (vt_is_ref(ts[i]) && ts[i].heap >= 0 && (uint32_t)ts[i].heap >= end) return false;
    return true;
}

static bool fields_below(const FieldType *fs, uint32_t n, uint32_t end) {
    for (uint32_t i = 0; i < n; i++)
        if (!refs_below(&fs[i].type, 1, end)) return false;
    return true;
}

/* Contract: type i (of a group ending at end): at most one supertype, defined before i;
 * every referenced type defined by the end of the group. */
static void check_type_shape(Validator *v, uint32_t i, uint32_t end) {
    const TypeDef *t = &v->m->types[i];
    if (t->nsupers > 1) efail(v, SEC_TYPE, i, "multiple supertypes");
    if (t->nsupers == 1 && t->supers[0] >= i)
        efail(v, SEC_TYPE, i, "unknown type %u: a supertype must be defined before its subtypes", t->supers[0]);
    if (!refs_below(t->params, t->nparams, end) || !refs_below(t->results, t->nresults, end) ||
        !fields_below(t->fields, t->nfields, end))
        efail(v, SEC_TYPE, i, "unknown type: type %u refers to a type defined later", i);
}

/* Contract: a declared supertype is open (not final) and t's structure matches it. */
static void check_subtyping(Validator *v, uint32_t i) {
    const TypeDef *t = &v->m->types[i];
    if (t->nsupers == 0) return;
    const TypeDef *super = &v->m->types[t->supers[0]];
    if (super->sub_form != SUB_OPEN) efail(v, SEC_TYPE, i, "sub type: supertype %u is final", t->supers[0]);
    if (!comp_sub(&v->ts, t, super))
        efail(v, SEC_TYPE, i, "sub type: type %u does not match its supertype %u", i, t->supers[0]);
}

static void check_types(Validator *v) {
    const Module *m = v->m;
    for (uint32_t g = 0; g < m->nrecs; g++) {
        const RecGroup *rg = &m->recs[g];
        uint32_t end = rg->first + rg->count;
        for (uint32_t i = rg->first; i < end; i++) check_type_shape(v, i, end);
        typespace_add_group(&v->ts);
        for (uint32_t i = rg->first; i < end; i++) check_subtyping(v, i);
    }
}

/* ---- imports and definitions ---- */

/* Where an error about item `index` of a kind whose imports come first is reported. */
typedef struct Where { uint8_t sec; uint32_t k; } Where;

static Where where(int32_t import, uint8_t def_sec, uint32_t index, uint32_t nimported) {
    Where w = {SEC_IMPORT, (uint32_t)import};
    if (import < 0) { w.sec = def_sec; w.k = index - nimported; }
    return w;
}

static void check_valtype_at(Validator *v, Where w, ValType t) {
    if (vt_is_ref(t) && t.heap >= 0 && (uint32_t)t.heap >= v->m->ntypes)
        efail(v, w.sec, w.k, "unknown type %d", (int)t.heap);
}

static const TypeDef *func_type_of(Validator *v, Where w, uint32_t x) {
    if (x >= v->m->ntypes) efail(v, w.sec, w.k, "unknown type %u", x);
    const TypeDef *t = &v->m->types[x];
    if (t->kind != COMP_FUNC) efail(v, w.sec, w.k, "type mismatch: type %u is not a function type", x);
    return t;
}

static void check_limits(Validator *v, Where w, const Limits *l, uint64_t cap, const char *what) {
    if (l->min > cap) efail(v, w.sec, w.k, "%s size must be at most %llu", what, (unsigned long long)cap);
    if (!(l->flags & LIM_HAS_MAX)) return;
    if (l->max > cap) efail(v, w.sec, w.k, "%s size must be at most %llu", what, (unsigned long long)cap);
    if (l->min > l->max) efail(v, w.sec, w.k, "size minimum must not be greater than maximum");
}

static void check_funcs(Validator *v) {
    const Module *m = v->m;
    for (uint32_t i = 0; i < m->nfuncs; i++)
        func_type_of(v, where(m->funcs[i].import, SEC_FUNCTION, i, m->nfunc_imports), m->funcs[i].type);
}

static void check_tables(Validator *v) {
    const Module *m = v->m;
    for (uint32_t i = 0; i < m->ntables; i++) {
        const Table *t = &m->tables[i];
        Where w = where(t->import, SEC_TABLE, i, m->ntable_imports);
        check_valtype_at(v, w, t->elem);
        check_limits(v, w, &t->limits, t->limits.flags & LIM_64 ? UINT64_MAX : UINT32_MAX, "table");
        if (t->has_init) validate_const_expr(v, &t->init, t->elem, m->nglobal_imports);
        else if (!vt_nullable(t->elem))
            efail(v, w.sec, w.k, "type mismatch: a table of non-nullable references needs an initializer");
    }
}

static void check_mems(Validator *v) {
    const Module *m = v->m;
    for (uint32_t i = 0; i < m->nmems; i++) {
        const Limits *l = &m->mems[i].limits;
        Where w = where(m->mems[i].import, SEC_MEMORY, i, m->nmem_imports);
        if (l->flags & LIM_64) check_limits(v, w, l, 1ull << 48, "memory");
        else if (l->min > 65536 || ((l->flags & LIM_HAS_MAX) && l->max > 65536))
            efail(v, w.sec, w.k, "memory size must be at most 65536 pages (4GiB)");
        else check_limits(v, w, l, 65536, "memory");
        if ((l->flags & LIM_SHARED) && !(l->flags & LIM_HAS_MAX))
            efail(v, w.sec, w.k, "shared memory must have maximum");
    }
}

/* Contract: every global's type is valid (before any constant expression reads one). */
static void check_global_types(Validator *v) {
    const Module *m = v->m;
    for (uint32_t i = 0; i < m->nglobals; i++) {
        const Global *g = &m->globals[i];
        if (g->import >= 0) check_valtype_at(v, where(g->import, SEC_GLOBAL, i, m->nglobal_imports), g->type);
        else check_valtype(v, g->init.offset, g->type);
    }
}

/* Contract: each defined global's initializer, seeing the globals before it. */
static void check_global_inits(Validator *v) {
    const Module *m = v->m;
    for (uint32_t i = 0; i < m->nglobals; i++)
        if (m->globals[i].import < 0) validate_const_expr(v, &m->globals[i].init, m->globals[i].type, i);
}

static void check_tags(Validator *v) {
    const Module *m = v->m;
    for (uint32_t i = 0; i < m->ntags; i++) {
        Where w = where(m->tags[i].import, SEC_TAG, i, m->ntag_imports);
        if (func_type_of(v, w, m->tags[i].type)->nresults != 0)
            efail(v, w.sec, w.k, "non-empty tag result type");
    }
}

/* ---- segments, start, exports ---- */

static void check_elem(Validator *v, uint32_t i) {
    const Module *m = v->m;
    const Elem *e = &m->elems[i];
    ValType et = elem_type(e);
    Where w = {SEC_ELEM, i};
    check_valtype_at(v, w, et);
    for (uint32_t k = 0; k < e->count; k++) {
        if (e->flags & 4) {
            validate_const_expr(v, &e->exprs[k], et, m->nglobals);
            continue;
        }
        if (e->funcs[k] >= m->nfuncs) efail(v, SEC_ELEM, i, "unknown function %u", e->funcs[k]);
        v->declared[e->funcs[k]] = 1;
    }
    if (e->flags & 1) return; /* passive or declarative */
    if (e->table >= m->ntables) efail(v, SEC_ELEM, i, "unknown table %u", e->table);
    const Table *t = &m->tables[e->table];
    if (!val_sub(&v->ts, et, t->elem))
        efail(v, SEC_ELEM, i, "type mismatch: element segment %u does not fit table %u", i, e->table);
    ValType at = vt_num(limits_addr_code(&t->limits));
    validate_const_expr(v, &e->offset, at, m->nglobals);
}

static void check_data(Validator *v, uint32_t i) {
    const Module *m = v->m;
    const Data *d = &m->datas[i];
    if (d->flags == 1) return;
    if (d->memory >= m->nmems) ws_fail(v->err, d->offset.offset, "unknown memory %u", d->memory);
    ValType at = vt_num(limits_addr_code(&m->mems[d->memory].limits));
    validate_const_expr(v, &d->offset, at, m->nglobals);
}

static void check_start(Validator *v) {
    const Module *m = v->m;
    if (!m->has_start) return;
    if (m->start >= m->nfuncs) efail(v, SEC_START, 0, "unknown function %u", m->start);
    const TypeDef *t = &m->types[m->funcs[m->start].type];
    if (t->nparams || t->nresults) efail(v, SEC_START, 0, "start function must have type [] -> []");
}

static uint32_t export_limit(const Module *m, uint8_t kind) {
    switch (kind) {
    case EXT_FUNC: return m->nfuncs;
    case EXT_TABLE: return m->ntables;
    case EXT_MEMORY: return m->nmems;
    case EXT_GLOBAL: return m->nglobals;
    default: return m->ntags;
    }
}

static uint32_t name_hash(Bytes b) {
    uint32_t h = 2166136261u;
    for (uint32_t i = 0; i < b.len; i++) h = (h ^ b.p[i]) * 16777619u;
    return h;
}

/* Contract: export indices exist (functions become declared references) and names are
 * unique (open-addressing set of export indices). */
static void check_exports(Validator *v) {
    static const char *const kinds[] = {"function", "table", "memory", "global", "tag"};
    const Module *m = v->m;
    uint32_t nslots = 16;
    while (nslots < (uint64_t)m->nexports * 2) nslots *= 2;
    uint32_t *slots = ws_calloc(nslots, sizeof(uint32_t));
    for (uint32_t i = 0; i < m->nexports; i++) {
        const Export *e = &m->exports[i];
        uint32_t at = name_hash(e->name) & (nslots - 1);
        for (; slots[at]; at = (at + 1) & (nslots - 1)) {
            const Bytes *o = &m->exports[slots[at] - 1].name;
            if (o->len == e->name.len && !memcmp(o->p, e->name.p, o->len)) {
                free(slots);
                efail(v, SEC_EXPORT, i, "duplicate export name");
            }
        }
        slots[at] = i + 1;
        if (e->index >= export_limit(m, e->kind)) {
            free(slots);
            efail(v, SEC_EXPORT, i, "unknown %s %u", kinds[e->kind <= EXT_TAG ? e->kind : 0], e->index);
        }
        if (e->kind == EXT_FUNC) v->declared[e->index] = 1;
    }
    free(slots);
}

/* ---- function bodies, in parallel ---- */

/* The first failure one worker saw (the lowest function index among those it checked). */
typedef struct BodyResult {
    bool failed;
    uint32_t func;
    size_t offset;
    char msg[sizeof ((WsError *)0)->msg];
} BodyResult;

typedef struct BodyJob {
    Validator **workers;
    BodyResult *results;
    uint32_t first;         /* index of the first defined function */
} BodyJob;

enum { PARALLEL_CODE_BYTES = 128u << 10 };  /* less code than this is checked on one thread */

static void body_item(void *ctx, uint32_t i, uint32_t worker) {
    BodyJob *job = ctx;
    Validator *w = job->workers[worker];
    BodyResult *r = &job->results[worker];
    uint32_t f = job->first + i;
    if (r->failed && r->func < f) return;
    if (w->m->funcs[f].valid) return; /* checked before, in this same module */
    WsError e;
    if (validator_check_body(w, f, &e)) return;
    r->failed = true;
    r->func = f;
    r->offset = e.offset;
    memcpy(r->msg, e.msg, sizeof r->msg);
}

/* Contract: a worker: a copy of v's shared fields with empty per-thread state. */
static Validator *worker_new(const Validator *v) {
    Validator *w = ws_malloc(sizeof *w);
    size_t shared = offsetof(Validator, vals);
    memcpy(w, v, shared);
    memset((char *)w + shared, 0, sizeof *w - shared);
    return w;
}

static void worker_free(Validator *w) {
    free(w->vals);
    free(w->ctrls);
    free(w->ltypes);
    free(w->linit);
    free(w->lgroup_end);
    free(w->lgroup_type);
    free(w->inits);
    free(w);
}

static uint32_t body_threads(const Module *m) {
    uint64_t bytes = 0;
    for (uint32_t i = m->nfunc_imports; i < m->nfuncs; i++)
        if (!m->funcs[i].valid) bytes += m->funcs[i].body.len;
    return bytes < PARALLEL_CODE_BYTES ? 1 : pool_default_threads();
}

/* Contract: checks every defined function; on failure reports the lowest-index failing
 * function's error, as a sequential check would. */
static void check_bodies(Validator *v) {
    const Module *m = v->m;
    uint32_t n = m->nfuncs - m->nfunc_imports, nthreads = body_threads(m);
    BodyJob job = {ws_calloc(nthreads, sizeof(Validator *)), ws_calloc(nthreads, sizeof(BodyResult)),
                   m->nfunc_imports};
    for (uint32_t t = 0; t < nthreads; t++) job.workers[t] = worker_new(v);
    pool_for(nthreads, n, body_item, &job);
    const BodyResult *worst = NULL;
    for (uint32_t t = 0; t < nthreads; t++) {
        const BodyResult *r = &job.results[t];
        if (r->failed && (!worst || r->func < worst->func)) worst = r;
        worker_free(job.workers[t]);
    }
    if (worst) {
        v->err->offset = worst->offset;
        memcpy(v->err->msg, worst->msg, sizeof v->err->msg);
    }
    free(job.workers);
    free(job.results);
    if (worst) longjmp(v->err->jb, 1);
}

/* ---- the module ---- */

static void validate_module(Validator *v) {
    const Module *m = v->m;
    check_types(v);
    check_funcs(v);
    check_global_types(v);
    check_tables(v);
    check_mems(v);
    check_global_inits(v);
    check_tags(v);
    for (uint32_t i = 0; i < m->nelems; i++) check_elem(v, i);
    for (uint32_t i = 0; i < m->ndatas; i++) check_data(v, i);
    check_start(v);
    check_exports(v);
    if (!v->skip_bodies) check_bodies(v);
}

static void validator_free(Validator *v) {
    typespace_free(&v->ts);
    free(v->declared);
    worker_free(v);
}

bool module_validate(const Module *m, WsError *err) { return module_validate_except_code(m, false, err); }

/* Contract: a validator for m that has checked everything but the bodies (and, unless
 * skip_bodies, the bodies too); NULL with err set when m is invalid. */
static Validator *validator_run(const Module *m, bool skip_bodies, WsError *err) {
    Validator *v = ws_calloc(1, sizeof *v);
    v->m = m;
    v->skip_bodies = skip_bodies;
    v->err = err;
    err->file = m->file;
    typespace_init(&v->ts, m);
    v->declared = ws_calloc(m->nfuncs ? m->nfuncs : 1, 1);
    validate_tables_init(v);
    validate_quick_init(v);
    void (*volatile run)(Validator *) = validate_module; /* not inlined next to setjmp */
    if (setjmp(err->jb)) {
        validator_free(v);
        return NULL;
    }
    run(v);
    return v;
}

Validator *validator_begin(const Module *m, WsError *err) { return validator_run(m, true, err); }

Validator *validator_worker(const Validator *v) { return worker_new(v); }

/* Contract: checks defined function `index`'s body on worker w, as module validation
 * does; false with *err (file, offset, message) at the first error. */
bool validator_check_body(Validator *w, uint32_t index, WsError *err) {
    err->file = w->m->file;
    w->err = err;
    if (setjmp(err->jb)) return false;
    validate_body(w, &w->m->funcs[index], index);
    return true;
}
bool validator_check_body_listened(Validator *w, uint32_t index, const ValidateListener *l, bool *canonical,
                                   WsError *err) {
    w->listen = l;
    w->listed_mem0 = false;
    bool ok = validator_check_body(w, index, err);
    *canonical = ok && w->canonical;
    w->listen = NULL;
    return ok;
}

void validator_worker_free(Validator *w) { worker_free(w); }
const Module *validator_module(const Validator *v) { return v->m; }
void validator_end(Validator *v) { if (v) validator_free(v); }

bool module_validate_except_code(const Module *m, bool skip_bodies, WsError *err) {
    Validator *v = validator_run(m, skip_bodies, err);
    if (!v) return false;
    validator_free(v);
    return true;
}
