/* inline_scan.c - what the inline pass knows about the module before deciding: every
 * direct call site (with the loops around it), who references each function outside
 * calls, canonical sizes, and which functions sit on a call-graph cycle.
 *
 *   (func $a (loop (call $b)))  (func $b (call $b))  (export "e" (func $c))
 *   sites: a#0 -> b (loop depth 1), b#0 -> b;  b: recursive;  c: referenced
 *
 * Bodies are decoded in parallel (each function into its own slot), then joined in
 * function order, so the result never depends on scheduling.  Order: Tarjan's strongly
 * connected components, iteratively, which come out callees first. */
#include "inline.h"
#include "../ir/instr.h"
#include "../ir/leb.h"
#include "../ir/names.h"
#include "../ir/pool.h"
#include <stdlib.h>

/* One function's scan. */
typedef struct FuncScan {
    InlSite *sites;
    uint32_t nsites, cap_sites;
    uint32_t *refs;               /* ref.func targets */
    uint32_t nrefs, cap_refs;
    uint32_t code_size, code_only, nlocals;
    WsError *err;                 /* set on malformed code */
} FuncScan;

typedef struct ScanJob {
    const Module *m;
    FuncScan *out;                /* by defined function */
} ScanJob;

static uint32_t valtype_size(ValType t) {
    return 1 + ((t.code == VT_REF || t.code == VT_REF_NULL) ? leb_size_s64(t.heap) : 0);
}

/* Contract: reads the local declarations; returns their canonical size (empty groups
 * dropped, neighbours of one type merged) and the number of locals in *n. */
static uint32_t scan_locals(Cursor *c, uint64_t *n) {
    uint32_t groups = cur_count(c, 2, "local declaration"), canon_groups = 0, bytes = 0;
    uint64_t run = 0;
    ValType prev = vt_num(0);
    *n = 0;
    for (uint32_t i = 0; i < groups; i++) {
        uint32_t count = cur_u32(c);
        ValType t = read_valtype(c);
        *n += count;
        if (!count) continue;
        if (run && t.code == prev.code && t.heap == prev.heap) { run += count; continue; }
        if (run) bytes += leb_size_u64(run) + valtype_size(prev);
        canon_groups++;
        run = count;
        prev = t;
    }
    if (run) bytes += leb_size_u64(run) + valtype_size(prev);
    return bytes + leb_size_u64(canon_groups);
}

/* Contract: decodes the code of one body, recording calls (with their loop depth) and
 * ref.func targets; returns the canonical bytes of its instructions. */
static uint32_t scan_code(Cursor *c, const Module *m, uint32_t caller, FuncScan *out) {
    uint8_t *loops = NULL;        /* per open block: 1 if a loop */
    uint32_t nopen = 1, cap = 0, depth = 0, bytes = 0;
    Buf enc = {0};
    ws_grow((void **)&loops, &cap, 16, 1);
    loops[0] = 0;
    while (nopen > 0 && !cur_eof(c)) {
        Instr in;
        instr_decode(c, &in);
        enc.len = 0;
        instr_encode(&enc, &in);
        bytes += (uint32_t)enc.len;
        if (ir_is_structured(in.op)) {
            ws_grow((void **)&loops, &cap, nopen + 1, 1);
            loops[nopen++] = in.op == OP_LOOP;
            depth += in.op == OP_LOOP;
        } else if (in.op == OP_END || in.op == OP_DELEGATE) {
            depth -= loops[--nopen];
        } else if ((in.op == OP_CALL || in.op == OP_RETURN_CALL) && in.a < m->nfuncs) {
            InlSite s = {caller, (uint32_t)in.a, (uint16_t)(depth > 0xffff ? 0xffff : depth),
                         in.op == OP_RETURN_CALL, INL_NO, WHY_NONE, (uint8_t)enc.len, 0, false};
            WS_VEC_PUSH(out->sites, out->nsites, out->cap_sites, s);
        } else if (in.op == OP_REF_FUNC && in.a < m->nfuncs) {
            WS_VEC_PUSH(out->refs, out->nrefs, out->cap_refs, (uint32_t)in.a);
        }
    }
    free(loops);
    buf_free(&enc);
    return bytes;
}

/* Contract: scans defined function k of the job (pool worker). */
static void scan_one(void *arg, uint32_t k, uint32_t worker) {
    (void)worker;
    ScanJob *job = arg;
    const Module *m = job->m;
    uint32_t f = m->nfunc_imports + k;
    FuncScan *out = &job->out[k];
    WsError err;
    memset(&err, 0, sizeof err);
    err.file = m->file;
    Cursor c = {m->input, m->funcs[f].body.p, m->funcs[f].body.p + m->funcs[f].body.len, &err};
    if (setjmp(err.jb)) {
        out->err = ws_malloc(sizeof err);
        memcpy(out->err, &err, sizeof err);
        return;
    }
    uint64_t nlocals;
    uint32_t decl = scan_locals(&c, &nlocals);
    out->code_only = scan_code(&c, m, f, out);
    out->code_size = decl + out->code_only;
    out->nlocals = (uint32_t)(nlocals > UINT32_MAX ? UINT32_MAX : nlocals);
}

/* ---- joining ---- */

static void mark_expr(Inliner *in, Expr e) {
    WsError err;
    memset(&err, 0, sizeof err);
    Cursor c = {in->m->input, e.code, e.code + e.len, &err};
    if (setjmp(err.jb)) return; /* validated: cannot happen */
    while (!cur_eof(&c)) {
        Instr ins;
        instr_decode(&c, &ins);
        if (ins.op == OP_REF_FUNC && ins.a < in->m->nfuncs) in->funcs[ins.a].referenced = true;
    }
}

/* Contract: marks the functions referenced from outside calls: exports, start, element
 * segments, global and table initialisers (ref.func in code is marked by the join). */
static void mark_roots(Inliner *in) {
    const Module *m = in->m;
    for (uint32_t i = 0; i < m->nexports; i++)
        if (m->exports[i].kind == EXT_FUNC && m->exports[i].index < m->nfuncs) in->funcs[m->exports[i].index].referenced = true;
    if (m->has_start && m->start < m->nfuncs) in->funcs[m->start].referenced = true;
    for (uint32_t i = 0; i < m->nelems; i++)
        for (uint32_t k = 0; k < m->elems[i].count; k++) {
            if (m->elems[i].exprs) mark_expr(in, m->elems[i].exprs[k]);
            else if (m->elems[i].funcs[k] < m->nfuncs) in->funcs[m->elems[i].funcs[k]].referenced = true;
        }
    for (uint32_t i = m->nglobal_imports; i < m->nglobals; i++) mark_expr(in, m->globals[i].init);
    for (uint32_t i = m->ntable_imports; i < m->ntables; i++)
        if (m->tables[i].has_init) mark_expr(in, m->tables[i].init);
}

/* Contract: joins the per-function scans into in->sites and in->funcs (function order);
 * false with ctx->err set from the lowest failing function. */
static bool join(Inliner *in, FuncScan *out, uint32_t n) {
    const Module *m = in->m;
    bool ok = true;
    for (uint32_t k = 0; k < n; k++) {
        if (out[k].err && ok) { memcpy(&in->ctx->err, out[k].err, sizeof(WsError)); ok = false; }
        free(out[k].err);
        in->nsites += out[k].nsites;
    }
    in->sites = ws_malloc((in->nsites + 1) * sizeof(InlSite));
    uint32_t at = 0;
    for (uint32_t k = 0; k < n; k++) {
        InlFunc *f = &in->funcs[m->nfunc_imports + k];
        f->defined = true;
        f->first_site = at;
        f->nsites = out[k].nsites;
        f->code_size = out[k].code_size;
        f->code_only = out[k].code_only;
        f->nlocals = out[k].nlocals;
        in->code_total += f->code_size;
        if (out[k].nsites) memcpy(in->sites + at, out[k].sites, out[k].nsites * sizeof(InlSite));
        at += out[k].nsites;
        for (uint32_t r = 0; r < out[k].nrefs; r++) in->funcs[out[k].refs[r]].referenced = true;
        free(out[k].sites);
        free(out[k].refs);
    }
    return ok;
}

/* Contract: groups site indices by callee (CSR), counting each callee's sites. */
static void index_callees(Inliner *in) {
    uint32_t nf = in->m->nfuncs;
    in->callee_first = ws_calloc(nf + 2, sizeof(uint32_t));
    in->callee_sites = ws_malloc((in->nsites + 1) * sizeof(uint32_t));
    for (uint32_t i = 0; i < in->nsites; i++) in->callee_first[in->sites[i].callee + 1]++;
    for (uint32_t f = 0; f < nf; f++) {
        in->funcs[f].ncalls = in->callee_first[f + 1];
        in->callee_first[f + 1] += in->callee_first[f];
    }
    uint32_t *fill = ws_malloc((nf + 1) * sizeof(uint32_t));
    memcpy(fill, in->callee_first, (nf + 1) * sizeof(uint32_t));
    for (uint32_t i = 0; i < in->nsites; i++) in->callee_sites[fill[in->sites[i].callee]++] = i;
    free(fill);
}

/* ---- recursion: Tarjan's SCCs, iteratively ---- */

typedef struct Tarjan {
    Inliner *in;
    uint32_t *index, *low, *stack, *frame_v, *frame_e;
    uint8_t *on_stack;
    uint32_t next_index, sp, fp;
} Tarjan;

static void tarjan_push(Tarjan *t, uint32_t v) {
    t->index[v] = t->low[v] = t->next_index++;
    t->stack[t->sp++] = v;
    t->on_stack[v] = 1;
    t->frame_v[t->fp] = v;
    t->frame_e[t->fp++] = 0;
}

/* Contract: v closes a component: pops it, appends it to the order, marks it recursive
 * when it has several members or calls itself. */
static void tarjan_emit(Tarjan *t, uint32_t v) {
    Inliner *in = t->in;
    uint32_t start = in->norder, w;
    do {
        w = t->stack[--t->sp];
        t->on_stack[w] = 0;
        in->order[in->norder++] = w;
    } while (w != v);
    bool cycle = in->norder - start > 1;
    const InlFunc *f = &in->funcs[v];
    for (uint32_t i = 0; !cycle && i < f->nsites; i++) cycle = in->sites[f->first_site + i].callee == v;
    for (uint32_t i = start; cycle && i < in->norder; i++) in->funcs[in->order[i]].recursive = true;
}

static void tarjan_from(Tarjan *t, uint32_t root) {
    Inliner *in = t->in;
    tarjan_push(t, root);
    while (t->fp) {
        uint32_t v = t->frame_v[t->fp - 1], *e = &t->frame_e[t->fp - 1];
        const InlFunc *f = &in->funcs[v];
        if (*e < f->nsites) {
            uint32_t w = in->sites[f->first_site + (*e)++].callee;
            if (!in->funcs[w].defined) continue;
            if (t->index[w] == UINT32_MAX) tarjan_push(t, w);
            else if (t->on_stack[w] && t->index[w] < t->low[v]) t->low[v] = t->index[w];
            continue;
        }
        t->fp--;
        if (t->low[v] == t->index[v]) tarjan_emit(t, v);
        if (t->fp) {
            uint32_t p = t->frame_v[t->fp - 1];
            if (t->low[v] < t->low[p]) t->low[p] = t->low[v];
        }
    }
}

static void find_recursion(Inliner *in) {
    uint32_t nf = in->m->nfuncs;
    Tarjan t = {in, ws_malloc((nf + 1) * 4), ws_malloc((nf + 1) * 4), ws_malloc((nf + 1) * 4),
                ws_malloc((nf + 1) * 4), ws_malloc((nf + 1) * 4), ws_calloc(nf + 1, 1), 0, 0, 0};
    for (uint32_t f = 0; f < nf; f++) t.index[f] = UINT32_MAX;
    in->order = ws_malloc((nf + 1) * sizeof(uint32_t));
    for (uint32_t f = in->m->nfunc_imports; f < nf; f++)
        if (t.index[f] == UINT32_MAX) tarjan_from(&t, f);
    free(t.index);
    free(t.low);
    free(t.stack);
    free(t.frame_v);
    free(t.frame_e);
    free(t.on_stack);
}

/* ---- --no-inline ---- */

/* Contract: marks the function one --no-inline word names: a function name (name
 * section), an export name, or an index. */
static void exclude_word(Inliner *in, const Bytes *names, const char *w, size_t len) {
    const Module *m = in->m;
    char buf[24];
    if (len && len < sizeof buf) {
        memcpy(buf, w, len);
        buf[len] = 0;
        char *end;
        unsigned long idx = strtoul(buf, &end, 10);
        if (!*end && idx < m->nfuncs) in->funcs[idx].excluded = true;
    }
    for (uint32_t f = 0; f < m->nfuncs; f++)
        if (names[f].len == len && !memcmp(names[f].p, w, len)) in->funcs[f].excluded = true;
    for (uint32_t i = 0; i < m->nexports; i++) {
        const Export *e = &m->exports[i];
        if (e->kind == EXT_FUNC && e->index < m->nfuncs && e->name.len == len && !memcmp(e->name.p, w, len))
            in->funcs[e->index].excluded = true;
    }
}

static void exclude_named(Inliner *in) {
    if (!in->opt->nno_inline) return;
    Bytes *names = ws_calloc(in->m->nfuncs + 1, sizeof(Bytes));
    names_functions(in->m, names);
    for (uint32_t i = 0; i < in->opt->nno_inline; i++)
        for (const char *p = in->opt->no_inline[i]; *p;) {
            size_t len = strcspn(p, ",");
            exclude_word(in, names, p, len);
            p += len + (p[len] == ',');
        }
    free(names);
}

bool inline_scan(Inliner *in) {
    const Module *m = in->m;
    uint32_t n = module_ndefined_funcs(m);
    in->funcs = ws_calloc(m->nfuncs + 1, sizeof(InlFunc));
    ScanJob job = {m, ws_calloc(n + 1, sizeof(FuncScan))};
    pool_for(in->ctx->jobs ? in->ctx->jobs : 1, n, scan_one, &job);
    bool ok = join(in, job.out, n);
    free(job.out);
    if (!ok) return false;
    mark_roots(in);
    index_callees(in);
    find_recursion(in);
    exclude_named(in);
    return true;
}
