/* remove_unused.c - remove-unused (wasm-opt's --remove-unused-module-elements): drops
 * the functions, imports, globals, tables, memories, tags, element and data segments
 * and types that no root reaches, then renumbers the rest everywhere (reindex.c).
 *
 *   before: (func $main (export "main") call $a)  (func $a)  (func $dead call $a)
 *           (import "env" "unused" (func))  (global $g i32)  (data $d "passive")
 *   after:  (func $main (export "main") call $a)  (func $a)
 *
 * Roots: the exports (after --export-only dropped the others), --keep-export, the
 * start function, and every active segment that may trap at instantiation or writes an
 * imported table or memory.  An active segment that provably fits a table or memory
 * the module defines is kept exactly when that table or memory is.  Declarative
 * element segments only declare functions for ref.func: they go, and one is added
 * back for the functions kept code takes with ref.func and nothing else declares.
 *
 * Marking is a breadth-first worklist over all item kinds; each item records what
 * reached it first, which is the chain --why-kept prints (unused_why.c). */
#include "remove_unused.h"
#include "../ir/instr.h"
#include "../ir/leb.h"
#include "../ir/names.h"
#include "../ir/pool.h"
#include "../ir/validate.h"
#include <stdlib.h>

/* Contract: in a scan worker's view, appends the reference to the body's list unless
 * the body named the item before (the first reference wins, as in marking); a ref.func
 * is listed apart from calls of the same function (it also asks for a declaration).
 * Keeps the body's highest index per space.  Indices out of range are listed as they
 * are: marking reports them if the body turns out to be reachable. */
static void scan_record(Unused *u, int k, uint64_t i, uint8_t how, size_t at) {
    ScanWorker *w = u->rec;
    if (i < u->base[k + 1] - u->base[k]) {
        uint32_t id = u->base[k] + (uint32_t)i;
        if (u->cur_max && (uint32_t)i >= u->cur_max[k]) u->cur_max[k] = (uint32_t)i + 1;
        if (how == HOW_REFFUNC) { /* k is IX_FUNC: a later call of i is then listed already */
            if (w->seen_reffunc[i] == w->stamp) return;
            w->seen_reffunc[i] = w->stamp;
        } else if (w->seen[id] == w->stamp) {
            return;
        }
        w->seen[id] = w->stamp;
    }
    BodyRef r = {(uint8_t)k, how, (uint32_t)(i > UINT32_MAX ? UINT32_MAX : i), (uint32_t)at};
    WS_VEC_PUSH(w->refs, w->nrefs, w->cap_refs, r);
}

static const char *const space_words[IX_COUNT] = {
    "function", "table", "memory", "global", "tag", "element segment", "data segment", "type",
};

/* Contract: marks item i of space k kept, reached through `how` from u->parent (first
 * reason wins) and queues it; fails on an index out of range. */
static void mark(Unused *u, int k, uint64_t i, uint8_t how, size_t at) {
    if (u->rec) {
        scan_record(u, k, i, how, at);
        return;
    }
    if (i >= u->base[k + 1] - u->base[k])
        ws_fail(u->err, at, "remove-unused: %s index %llu out of range", space_words[k],
                (unsigned long long)i);
    uint32_t id = u->base[k] + (uint32_t)i;
    if (u->live[id]) return;
    u->live[id] = 1;
    u->how[id] = how;
    u->from[id] = u->parent;
    u->queue[u->qtail++] = id;
}

void unused_mark_root(Unused *u, int k, uint64_t i, uint8_t how, uint32_t detail) {
    u->parent = detail;
    mark(u, k, i, how, 0);
}

static void mark_heap(Unused *u, int32_t heap, size_t at) {
    if (heap >= 0) mark(u, IX_TYPE, (uint32_t)heap, HOW_USE, at);
}

static void mark_valtype(Unused *u, ValType t, size_t at) {
    if (vt_is_ref(t)) mark_heap(u, t.heap, at);
}

static void mark_blocktype(Unused *u, BlockType bt, size_t at) {
    if (bt.kind == BT_TYPE) mark(u, IX_TYPE, bt.type, HOW_USE, at);
    else if (bt.kind == BT_VAL) mark_valtype(u, bt.val, at);
}

/* Contract: marks the types of a typed select and the tags of try_table catches. */
static void mark_vec(Unused *u, const Instr *in) {
    const uint8_t *p = in->vec;
    for (uint32_t i = 0; i < in->n; i++) {
        if (op_info[in->op].imm == IMM_SELECT_T) {
            mark_valtype(u, select_type_next(&p), in->off);
            continue;
        }
        Catch k = catch_next(&p);
        if (k.kind == CATCH_TAG || k.kind == CATCH_TAG_REF) mark(u, IX_TAG, k.tag, HOW_USE, in->off);
    }
}

/* Contract: marks the function an instruction names: calls, ref.func (a body's
 * ref.func also asks for a declaration: visit_func remembers it). */
static void mark_func_ref(Unused *u, const Instr *in) {
    mark(u, IX_FUNC, in->a, in->op == OP_REF_FUNC ? HOW_REFFUNC : HOW_CALL, in->off);
}

/* Contract: marks every item one instruction names. */
static void mark_instr(Unused *u, const Instr *in) {
    size_t at = in->off;
    int ka, kb;
    switch ((ImmKind)op_info[in->op].imm) {
    case IMM_BLOCK: mark_blocktype(u, in->bt, at); return;
    case IMM_FUNC: mark_func_ref(u, in); return;
    case IMM_MEMARG: case IMM_MEMARG_LANE: mark(u, IX_MEM, in->mem, HOW_USE, at); return;
    case IMM_HEAP: mark_heap(u, in->heap, at); return;
    case IMM_BR_ON_CAST: mark_heap(u, in->heap, at); mark_heap(u, in->heap2, at); return;
    case IMM_SELECT_T: mark_vec(u, in); return;
    case IMM_TRY_TABLE: mark_blocktype(u, in->bt, at); mark_vec(u, in); return;
    default: break;
    }
    reindex_imm_spaces(op_info[in->op].imm, &ka, &kb);
    if (ka >= 0) mark(u, ka, in->a, HOW_USE, at);
    if (kb >= 0) mark(u, kb, in->b, HOW_USE, at);
}

/* Contract: cur_u32, with one- and two-byte encodings read in line. */
static inline uint32_t scan_u32(Cursor *c) {
    const uint8_t *p = c->p;
    if (p < c->end && p[0] < 0x80) return *c->p++;
    if (c->end - p >= 2 && p[1] < 0x80) {
        c->p += 2;
        return (uint32_t)(p[0] & 0x7f) | (uint32_t)p[1] << 7;
    }
    return cur_u32(c);
}

/* Contract: mark() for a reference other than ref.func, without the call when the body
 * being scanned listed item i of space k before (scan_record would then change nothing:
 * the first reference is kept, and the body's highest index was raised by it). */
static inline void mark_scanned(Unused *u, int k, uint32_t i, uint8_t how, size_t at) {
    const ScanWorker *w = u->rec;
    if (w && i < u->base[k + 1] - u->base[k] && w->seen[u->base[k] + i] == w->stamp) return;
    mark(u, k, i, how, at);
}

/* Contract: marks what a call, call_indirect, global or table access, throw (op, with
 * index immediates a and b) or load or store of memory 0 (op of IMM_MEMARG; a and b
 * unused) at offset `at` names, as mark_instr would. */
static void mark_named(Unused *u, OpId op, uint32_t a, uint32_t b, size_t at) {
    int ka, kb;
    if (op_imm[op] == IMM_MEMARG) {
        mark_scanned(u, IX_MEM, 0, HOW_USE, at);
        return;
    }
    reindex_imm_spaces(op_imm[op], &ka, &kb);
    mark_scanned(u, ka, a, op_imm[op] == IMM_FUNC ? HOW_CALL : HOW_USE, at);
    if (kb >= 0) mark_scanned(u, kb, b, HOW_USE, at);
}

/* Contract: for the commonest one-byte instructions that name an item (instr_stable_len
 * took the others), steps over the one at c and marks what it names (as mark_instr
 * would); false, with c unmoved, for any other. */
static bool mark_quick(Unused *u, Cursor *c) {
    const uint8_t *at = c->p;
    OpId op = op_lookup(0, *at);
    if (op == OP_COUNT || op == OP_REF_FUNC) return false;
    size_t off = cur_offset(c);
    int ka, kb;
    switch ((ImmKind)op_imm[op]) {
    case IMM_FUNC: case IMM_GLOBAL: case IMM_TABLE: case IMM_TAG: case IMM_CALL_INDIRECT:
        c->p++;
        reindex_imm_spaces(op_imm[op], &ka, &kb);
        uint32_t a = scan_u32(c);
        uint32_t b = kb >= 0 ? scan_u32(c) : 0;
        mark_named(u, op, a, b, off);
        return true;
    case IMM_MEMARG:
        if (c->end - at < 2 || at[1] >= 0x40) return false; /* an explicit memory index */
        c->p += 2;
        mark_named(u, op, 0, 0, off);
        if (c->p < c->end && *c->p < 0x80) c->p++; /* the offset */
        else cur_u64(c);
        return true;
    default: return false;
    }
}

/* Contract: marks what the instructions from c to its end name. */
static void mark_code(Unused *u, Cursor *c) {
    Instr in;
    while (!cur_eof(c)) {
        size_t stable = instr_stable_len(c->p, c->end, false); /* names nothing */
        if (stable) {
            c->p += stable;
            continue;
        }
        if (mark_quick(u, c)) continue;
        instr_decode(c, &in);
        mark_instr(u, &in);
    }
}

static void mark_expr(Unused *u, const Expr *e) {
    Cursor c = {u->m->input, e->code, e->code + e->len, u->err};
    mark_code(u, &c);
}

/* Contract: lists what body f names (scan_record), its locals' types first. */
static void scan_body(Unused *u, uint32_t f) {
    const Func *fn = &u->m->funcs[f];
    Cursor c = {u->m->input, fn->body.p, fn->body.p + fn->body.len, u->err};
    u->cur_max = &u->maxref[(size_t)f * IX_COUNT];
    uint32_t n = cur_count(&c, 2, "local declaration");
    for (uint32_t i = 0; i < n; i++) {
        cur_u32(&c);
        size_t at = cur_offset(&c); /* where the type starts */
        mark_valtype(u, read_valtype(&c), at);
    }
    mark_code(u, &c);
}

#ifdef WS_DEBUG
/* Debug builds: the list the check made of body f (from refs[first]) is the one
 * scan_body makes, and so is the highest index per space; aborts otherwise. */
static void check_listed(Unused *view, ScanWorker *w, uint32_t f, size_t first) {
    size_t n = w->nrefs - first;
    uint32_t row[IX_COUNT];
    memcpy(row, view->cur_max, sizeof row);
    memset(view->cur_max, 0, sizeof row);
    w->stamp = view->m->nfuncs + 1 + f; /* a stamp no body's listing used */
    scan_body(view, f);
    bool same = w->nrefs - first == 2 * n && !memcmp(view->cur_max, row, sizeof row);
    for (size_t i = 0; same && i < n; i++) {
        const BodyRef *a = &w->refs[first + i], *b = &w->refs[first + n + i];
        same = a->space == b->space && a->how == b->how && a->index == b->index && a->at == b->at;
    }
    if (!same) {
        fprintf(stderr, "internal error: remove-unused: function %u's references listed by its check "
                        "differ from its scan's\n", f);
        abort();
    }
    w->nrefs = first + n;
}
#else
static void check_listed(Unused *view, ScanWorker *w, uint32_t f, size_t first) {
    (void)view, (void)w, (void)f, (void)first;
}
#endif

static void list_local(void *ctx, ValType t, size_t at) { mark_valtype(ctx, t, at); }
static void list_instr(void *ctx, const Instr *in) { mark_instr(ctx, in); }

static void list_item(void *ctx, uint16_t op, uint32_t a, uint32_t b, size_t at) {
    mark_named(ctx, (OpId)op, a, b, at);
}

/* Contract: checks body f for the driver (ctx->input_checker) and lists what it names
 * from what the check walks (the same list scan_body makes of a valid body), marking
 * it for the writer to copy when the check found it canonical; the lowest function of
 * the worker's whose check fails is kept with its error. */
static void check_and_list(Unused *view, ScanWorker *w, uint32_t f) {
    ValidateListener l = {list_local, list_item, list_instr, view};
    WsError e;
    view->cur_max = &view->maxref[(size_t)f * IX_COUNT];
    size_t first = w->nrefs;
    bool canonical;
    if (validator_check_body_listened(w->checker, f, &l, &canonical, &e)) {
        Func *fn = &view->m->funcs[f];
        fn->valid = true;
        if (canonical) fn->canonical_at = fn->body.p; /* the writer copies it, unless it moves */
        check_listed(view, w, f, first);
        return;
    }
    if (w->invalid && w->invalid <= f) return;
    w->invalid = f + 1;
    w->invalid_err = e;
}

/* Contract: pool_for body: lists what defined function nfunc_imports + i names (from the
 * previous run's cache when its body is the one listed there, else scanned, or from its
 * check) in the worker's view of the marking state; a malformed body keeps its error
 * for marking to report if the body is reachable. */
static void scan_one(void *arg, uint32_t i, uint32_t worker) {
    BodyScan *bs = arg;
    ScanWorker *w = &bs->workers[worker];
    uint32_t f = bs->u->m->nfunc_imports + i;
    Unused view = *bs->u;
    view.rec = w;
    view.err = &w->err;
    w->stamp = f + 1;
    size_t first = w->nrefs;
    bs->list[f] = (BodyRefs){worker, (uint32_t)first, 0, false};
    if (setjmp(w->err.jb)) {
        w->nrefs = first;
        bs->list[f] = (BodyRefs){worker, w->nfails, 0, true};
        WS_VEC_PUSH(w->fails, w->nfails, w->cap_fails, w->err);
        return;
    }
    if (w->checker) check_and_list(&view, w, f);
    else if (!unused_cache_take(bs->cache, view.m, f, w, &view.maxref[(size_t)f * IX_COUNT])) scan_body(&view, f);
    bs->list[f].count = (uint32_t)(w->nrefs - first);
}

/* Contract: after a scan that checked the bodies, fails (through u->err) on the lowest
 * invalid function's error, as the validator would have; else notes them checked. */
static void report_checks(Unused *u, BodyScan *bs) {
    const ScanWorker *worst = NULL;
    for (uint32_t t = 0; t < bs->nworkers; t++) {
        ScanWorker *w = &bs->workers[t];
        validator_worker_free(w->checker);
        w->checker = NULL;
        if (w->invalid && (!worst || w->invalid < worst->invalid)) worst = w;
    }
    if (!worst) {
        u->ctx->input_checked = true;
        return;
    }
    u->err->offset = worst->invalid_err.offset;
    memcpy(u->err->msg, worst->invalid_err.msg, sizeof u->err->msg);
    longjmp(u->err->jb, 1);
}

/* Contract: lists the references of every defined body, on ctx->jobs threads, checking
 * each body too when the driver left that to this pass. */
static void scan_bodies(Unused *u, BodyScan *bs) {
    const Module *m = u->m;
    uint32_t items = u->base[IX_COUNT];
    bs->u = u;
    bs->nworkers = u->ctx->jobs ? u->ctx->jobs : 1;
    bs->workers = ws_calloc(bs->nworkers, sizeof(ScanWorker));
    for (uint32_t t = 0; t < bs->nworkers; t++) {
        bs->workers[t].seen = ws_calloc(items + 1, sizeof(uint32_t));
        bs->workers[t].seen_reffunc = ws_calloc(m->nfuncs + 1, sizeof(uint32_t));
        bs->workers[t].err.file = m->file;
        if (u->ctx->input_checker) bs->workers[t].checker = validator_worker(u->ctx->input_checker);
    }
    bs->list = ws_calloc(m->nfuncs + 1, sizeof(BodyRefs));
    bs->cache = unused_cache_get(m);
    pool_for(bs->nworkers, module_ndefined_funcs(m), scan_one, bs);
    if (u->ctx->input_checker) report_checks(u, bs);
}

static void body_scan_free(BodyScan *bs) {
    for (uint32_t t = 0; bs->workers && t < bs->nworkers; t++) {
        if (bs->workers[t].checker) validator_worker_free(bs->workers[t].checker);
        free(bs->workers[t].seen);
        free(bs->workers[t].seen_reffunc);
        free(bs->workers[t].refs);
        free(bs->workers[t].fails);
    }
    free(bs->workers);
    free(bs->list);
    memset(bs, 0, sizeof *bs);
}

/* Contract: marks what function f names, from the scan (in the order the body names
 * them, so the marking order and --why-kept chains are those of a sequential walk). */
static void visit_func(Unused *u, uint32_t f) {
    const Func *fn = &u->m->funcs[f];
    mark(u, IX_TYPE, fn->type, HOW_TYPE, fn->body_offset);
    if (fn->import >= 0) return;
    const BodyScan *bs = u->scan;
    const BodyRefs *l = &bs->list[f];
    if (l->failed) {
        const WsError *e = &bs->workers[l->worker].fails[l->first];
        u->err->offset = e->offset;
        memcpy(u->err->msg, e->msg, sizeof u->err->msg);
        longjmp(u->err->jb, 1);
    }
    if (l->count == 0) return; /* the worker may have listed nothing at all (refs NULL) */
    const BodyRef *r = bs->workers[l->worker].refs + l->first;
    for (uint32_t j = 0; j < l->count; j++) {
        mark(u, r[j].space, r[j].index, r[j].how, r[j].at);
        if (r[j].how == HOW_REFFUNC) u->reffunc[r[j].index] = 1;
    }
}

static uint32_t elem_table(const Elem *e) { return e->flags & 2 ? e->table : 0; }
static uint32_t data_memory(const Data *d) { return d->flags == 2 ? d->memory : 0; }
static bool elem_active(const Elem *e) { return !(e->flags & 1); }
static bool data_active(const Data *d) { return d->flags != 1; }

/* Contract: marks a table's element type, initialiser and the active segments that
 * write it (those not already roots). */
static void visit_table(Unused *u, uint32_t t) {
    const Module *m = u->m;
    const Table *tb = &m->tables[t];
    mark_valtype(u, tb->elem, 0);
    if (tb->import < 0 && tb->has_init) mark_expr(u, &tb->init);
    for (uint32_t i = 0; i < m->nelems; i++)
        if (elem_active(&m->elems[i]) && elem_table(&m->elems[i]) == t) mark(u, IX_ELEM, i, HOW_INIT, 0);
}

static void visit_mem(Unused *u, uint32_t mem) {
    const Module *m = u->m;
    for (uint32_t i = 0; i < m->ndatas; i++)
        if (data_active(&m->datas[i]) && data_memory(&m->datas[i]) == mem) mark(u, IX_DATA, i, HOW_INIT, 0);
}

static void visit_global(Unused *u, uint32_t g) {
    const Global *gl = &u->m->globals[g];
    mark_valtype(u, gl->type, 0);
    if (gl->import < 0) mark_expr(u, &gl->init);
}

static void visit_elem(Unused *u, uint32_t i) {
    const Elem *e = &u->m->elems[i];
    mark_valtype(u, e->type, e->offset.offset);
    if (elem_active(e)) {
        mark(u, IX_TABLE, elem_table(e), HOW_USE, e->offset.offset);
        mark_expr(u, &e->offset);
    }
    for (uint32_t k = 0; k < e->count; k++) {
        if (e->flags & 4) mark_expr(u, &e->exprs[k]);
        else mark(u, IX_FUNC, e->funcs[k], HOW_ELEM, e->offset.offset);
    }
}

static void visit_data(Unused *u, uint32_t i) {
    const Data *d = &u->m->datas[i];
    if (!data_active(d)) return;
    mark(u, IX_MEM, data_memory(d), HOW_USE, d->offset.offset);
    mark_expr(u, &d->offset);
}

/* Contract: marks the rest of a type's rec group and the types it refers to. */
static void visit_type(Unused *u, uint32_t t) {
    const Module *m = u->m;
    const TypeDef *td = &m->types[t];
    const RecGroup *g = &m->recs[td->rec];
    for (uint32_t k = 0; k < g->count; k++) mark(u, IX_TYPE, g->first + k, HOW_REC, 0);
    for (uint32_t i = 0; i < td->nsupers; i++) mark(u, IX_TYPE, td->supers[i], HOW_SUPER, 0);
    for (uint32_t i = 0; i < td->nparams; i++) mark_valtype(u, td->params[i], 0);
    for (uint32_t i = 0; i < td->nresults; i++) mark_valtype(u, td->results[i], 0);
    for (uint32_t i = 0; i < td->nfields; i++) mark_valtype(u, td->fields[i].type, 0);
}

int unused_space_of(const Unused *u, uint32_t id) {
    int k = 0;
    while (k + 1 < IX_COUNT && id >= u->base[k + 1]) k++;
    return k;
}

/* Contract: visits queued items until the queue is empty. */
static void drain(Unused *u) {
    while (u->qhead < u->qtail) {
        uint32_t id = u->queue[u->qhead++];
        int k = unused_space_of(u, id);
        uint32_t i = id - u->base[k];
        u->parent = id;
        switch (k) {
        case IX_FUNC: visit_func(u, i); break;
        case IX_TABLE: visit_table(u, i); break;
        case IX_MEM: visit_mem(u, i); break;
        case IX_GLOBAL: visit_global(u, i); break;
        case IX_TAG: mark(u, IX_TYPE, u->m->tags[i].type, HOW_TYPE, 0); break;
        case IX_ELEM: visit_elem(u, i); break;
        case IX_DATA: visit_data(u, i); break;
        case IX_TYPE: visit_type(u, i); break;
        }
    }
}

/* Contract: true when e is exactly `i32.const v` or `i64.const v` (then *v, unsigned). */
static bool const_offset(const Module *m, const Expr *e, uint64_t *v) {
    WsError err;
    Cursor c = {m->input, e->code, e->code + e->len, &err};
    if (setjmp(err.jb)) return false;
    Instr in;
    instr_decode(&c, &in);
    if (in.op != OP_I32_CONST && in.op != OP_I64_CONST) return false;
    if (cur_left(&c) != 1 || *c.p != 0x0b) return false;
    *v = in.op == OP_I32_CONST ? (uint64_t)(uint32_t)in.i : (uint64_t)in.i;
    return true;
}

/* Contract: the reason an active element segment is a root (HOW_TRAPS, HOW_IMPORTED),
 * or 0 when it provably fits a table the module defines. */
static uint8_t elem_root_reason(const Module *m, const Elem *e) {
    uint32_t t = elem_table(e);
    uint64_t off;
    if (t >= m->ntables) return HOW_TRAPS; /* invalid: marking reports it */
    if (m->tables[t].import >= 0) return HOW_IMPORTED;
    uint64_t min = m->tables[t].limits.min;
    if (!const_offset(m, &e->offset, &off) || off > min || e->count > min - off) return HOW_TRAPS;
    return 0;
}

static uint8_t data_root_reason(const Module *m, const Data *d) {
    uint32_t mem = data_memory(d);
    uint64_t off;
    if (mem >= m->nmems) return HOW_TRAPS;
    if (m->mems[mem].import >= 0) return HOW_IMPORTED;
    uint64_t pages = m->mems[mem].limits.min;
    uint64_t size = pages > (UINT64_MAX >> 16) ? UINT64_MAX : pages << 16;
    if (!const_offset(m, &d->offset, &off) || off > size || d->bytes.len > size - off) return HOW_TRAPS;
    return 0;
}

/* Contract: marks the roots: exports not dropped, start, active segments with effects
 * (--keep-export functions were marked while resolving the options). */
static void mark_roots(Unused *u) {
    const Module *m = u->m;
    for (uint32_t i = 0; i < m->nexports; i++)
        if (!u->drop_export[i]) unused_mark_root(u, m->exports[i].kind, m->exports[i].index, HOW_EXPORT, i);
    if (m->has_start) unused_mark_root(u, IX_FUNC, m->start, HOW_START, 0);
    for (uint32_t i = 0; i < m->nelems; i++) {
        uint8_t why = elem_active(&m->elems[i]) ? elem_root_reason(m, &m->elems[i]) : 0;
        if (why) unused_mark_root(u, IX_ELEM, i, why, 0);
    }
    for (uint32_t i = 0; i < m->ndatas; i++) {
        uint8_t why = data_active(&m->datas[i]) ? data_root_reason(m, &m->datas[i]) : 0;
        if (why) unused_mark_root(u, IX_DATA, i, why, 0);
    }
}

/* Contract: allocates the marking state for m; NULL (ctx->failed) when the items do not
 * fit 32-bit numbering. */
static Unused *unused_new(PassCtx *ctx, Module *m) {
    uint64_t total = 0;
    uint32_t base[IX_COUNT];
    for (int k = 0; k < IX_COUNT; k++) {
        base[k] = (uint32_t)total;
        total += reindex_space_size(m, k);
    }
    if (total >= UINT32_MAX) {
        pass_fail(ctx, m, "%s", "remove-unused: too many module items");
        return NULL;
    }
    Unused *u = ws_calloc(1, sizeof *u);
    u->scan = ws_calloc(1, sizeof *u->scan);
    u->ctx = ctx;
    u->m = m;
    u->err = &ctx->err;
    memcpy(u->base, base, sizeof base);
    u->base[IX_COUNT] = (uint32_t)total;
    u->live = ws_calloc(total + 1, 1);
    u->how = ws_calloc(total + 1, 1);
    u->from = ws_calloc(total + 1, sizeof(uint32_t));
    u->queue = ws_calloc(total + 1, sizeof(uint32_t));
    u->reffunc = ws_calloc(m->nfuncs + 1, 1);
    u->maxref = ws_calloc((size_t)m->nfuncs * IX_COUNT + 1, sizeof(uint32_t));
    u->drop_export = ws_calloc(m->nexports + 1, 1);
    u->listed = ws_calloc(m->nexports + 1, 1);
    return u;
}

static void unused_free(Unused *u) {
    if (!u) return;
    body_scan_free(u->scan);
    free(u->scan);
    free(u->live);
    free(u->how);
    free(u->from);
    free(u->queue);
    free(u->reffunc);
    free(u->maxref);
    free(u->drop_export);
    free(u->listed);
    free(u->names);
    free(u);
}

const Bytes *unused_names(Unused *u) {
    if (!u->names) {
        u->names = ws_calloc(u->m->nfuncs + 1, sizeof(Bytes));
        names_functions(u->m, u->names);
    }
    return u->names;
}

/* Contract: resolves the options and marks everything reachable; false (ctx->failed)
 * on an unknown name or malformed/invalid input.  The module is not changed. */
static bool unused_mark(Unused *u) {
    u->err->file = u->m->file;
    if (setjmp(u->err->jb)) {
        u->ctx->failed = true;
        return false;
    }
    scan_bodies(u, u->scan); /* first: an invalid body is reported before any option */
    unused_resolve_exports(u);
    mark_roots(u);
    drain(u);
    unused_why_kept(u);
    return true;
}

/* Contract: removes the exports --export-only dropped. */
static void drop_exports(Unused *u) {
    Module *m = u->m;
    uint32_t n = 0;
    for (uint32_t i = 0; i < m->nexports; i++)
        if (!u->drop_export[i]) m->exports[n++] = m->exports[i];
    u->ctx->stats.exports_removed += m->nexports - n;
    m->nexports = n;
}

/* Contract: adds the removals to the run's counters: defined items per space, imports
 * of every kind together. */
static void count_removed(Unused *u) {
    const Module *m = u->m;
    PassStats *s = &u->ctx->stats;
    uint32_t *defined[IX_COUNT] = {
        &s->funcs_removed, &s->tables_removed, &s->mems_removed, &s->globals_removed,
        &s->tags_removed, &s->elems_removed, &s->datas_removed, &s->types_removed,
    };
    for (uint32_t i = 0; i < m->nimports; i++) {
        const Import *im = &m->imports[i];
        s->imports_removed += !u->live[u->base[im->kind] + im->index];
    }
    for (int k = 0; k < IX_COUNT; k++) {
        uint32_t n = u->base[k + 1] - u->base[k], dead = 0;
        for (uint32_t i = 0; i < n; i++) dead += !u->live[u->base[k] + i];
        uint32_t imported = k == IX_FUNC ? m->nfunc_imports : k == IX_TABLE ? m->ntable_imports
                          : k == IX_MEM ? m->nmem_imports : k == IX_GLOBAL ? m->nglobal_imports
                          : k == IX_TAG ? m->ntag_imports : 0;
        uint32_t dead_imports = 0;
        for (uint32_t i = 0; i < imported; i++) dead_imports += !u->live[u->base[k] + i];
        *defined[k] += dead - dead_imports;
    }
}

/* Contract: sets need[f] = 0 for every function a constant expression takes. */
static void undeclare_expr(const Module *m, const Expr *e, uint8_t *need, WsError *err) {
    Cursor c = {m->input, e->code, e->code + e->len, err};
    Instr in;
    while (!cur_eof(&c)) {
        instr_decode(&c, &in);
        if (in.op == OP_REF_FUNC && in.a < m->nfuncs) need[in.a] = 0;
    }
}

/* Contract: clears need[f] for every function declared outside the code: exports,
 * element segments, global and table initialisers. */
static void undeclare_module(const Module *m, uint8_t *need) {
    WsError err;
    if (setjmp(err.jb)) return; /* cannot happen: expressions were decoded on reading */
    for (uint32_t i = 0; i < m->nexports; i++)
        if (m->exports[i].kind == EXT_FUNC && m->exports[i].index < m->nfuncs) need[m->exports[i].index] = 0;
    for (uint32_t i = 0; i < m->nelems; i++) {
        const Elem *e = &m->elems[i];
        for (uint32_t k = 0; k < e->count; k++) {
            if (e->flags & 4) undeclare_expr(m, &e->exprs[k], need, &err);
            else if (e->funcs[k] < m->nfuncs) need[e->funcs[k]] = 0;
        }
    }
    for (uint32_t i = m->nglobal_imports; i < m->nglobals; i++) undeclare_expr(m, &m->globals[i].init, need, &err);
    for (uint32_t i = m->ntable_imports; i < m->ntables; i++)
        if (m->tables[i].has_init) undeclare_expr(m, &m->tables[i].init, need, &err);
}

/* Contract: appends a declarative element segment (elem declare func ...) listing the
 * functions need[] flags, count of them. */
static void append_declaration(Module *m, const uint8_t *need, uint32_t count) {
    Elem *elems = arena_array(&m->arena, m->nelems + 1, sizeof(Elem));
    if (m->nelems) memcpy(elems, m->elems, m->nelems * sizeof(Elem));
    Elem *e = &elems[m->nelems];
    e->flags = 3;
    e->type = (ValType){VT_FUNCREF, HT_FUNC};
    e->count = count;
    e->funcs = arena_array(&m->arena, count, sizeof(uint32_t));
    for (uint32_t f = 0, n = 0; f < m->nfuncs; f++)
        if (need[f]) e->funcs[n++] = f;
    m->elems = elems;
    m->nelems++;
}

/* Contract: after the sweep, declares the functions kept code takes with ref.func that
 * nothing outside the code declares any more (their declarative or passive segment,
 * global or export may be gone).  Returns whether a segment was added. */
static bool declare_ref_funcs(Unused *u, const Reindex *r) {
    Module *m = u->m;
    uint8_t *need = ws_calloc(m->nfuncs + 1, 1);
    uint32_t count = 0;
    for (uint32_t f = 0; f < r->count[IX_FUNC]; f++)
        if (u->reffunc[f] && u->live[u->base[IX_FUNC] + f]) need[reindex_map(r, IX_FUNC, f)] = 1;
    undeclare_module(m, need);
    for (uint32_t f = 0; f < m->nfuncs; f++) count += need[f];
    if (count) append_declaration(m, need, count);
    free(need);
    return count > 0;
}

/* Contract: per function, whether an index its body names moves: its highest index in
 * some space is at or above that space's first removed item.  Saves reindexing a
 * scan of every body. */
static uint8_t *bodies_that_move(const Unused *u) {
    uint32_t first_gone[IX_COUNT];
    for (int k = 0; k < IX_COUNT; k++) {
        uint32_t i = u->base[k];
        while (i < u->base[k + 1] && u->live[i]) i++;
        first_gone[k] = i - u->base[k];
    }
    uint32_t nfuncs = u->base[IX_FUNC + 1] - u->base[IX_FUNC];
    uint8_t *moves = ws_calloc(nfuncs + 1, 1);
    for (uint32_t f = 0; f < nfuncs; f++)
        for (int k = 0; k < IX_COUNT; k++)
            if (u->maxref[(size_t)f * IX_COUNT + k] > first_gone[k]) moves[f] = 1;
    return moves;
}

void pass_remove_unused(PassCtx *ctx, Module *m) {
    Unused *u = unused_new(ctx, m);
    if (!u || !unused_mark(u)) {
        unused_free(u);
        return;
    }
    uint32_t nexports = m->nexports;
    drop_exports(u);
    /* nothing removed, no export dropped: the renumbering is the identity and the
     * module stays as it was, so the bodies' validation still holds */
    bool identity = m->nexports == nexports && !memchr(u->live, 0, u->base[IX_COUNT]);
    uint32_t elems_removed = ctx->stats.elems_removed;
    count_removed(u);
    uint8_t *keep[IX_COUNT];
    for (int k = 0; k < IX_COUNT; k++) keep[k] = u->live + u->base[k];
    Reindex r;
    reindex_init(&r, m, keep);
    uint8_t *moves = bodies_that_move(u);
    r.moves = moves;
    bool added = reindex_apply(ctx, m, &r) && declare_ref_funcs(u, &r);
    if (!ctx->failed) unused_cache_build(u, &r);
    if (added && ctx->stats.elems_removed > elems_removed) ctx->stats.elems_removed--;
    reindex_free(&r);
    free(moves);
    unused_free(u);
    ctx->unchanged = identity && !ctx->failed && !added;
}
