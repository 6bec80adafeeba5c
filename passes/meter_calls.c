/* meter_calls.c - what the call graph tells the metering plan: which calls may throw.
 * The plan pays the code after a call before the call only when the call cannot end
 * in an exception (a trap is fine: after a trap the fuel spent is not exact anyway).
 *
 *   (func $sq (param i32) (result i32) ... no call, no throw)       may not throw
 *   (func $log (call $fd_write ...))        an import may throw      may throw
 *   (func $f  A (call $sq) B (call $log) C)
 *   plan:  A and B paid together before A; C after the call to $log
 *
 * A defined function may throw when it contains throw, throw_ref or rethrow, or calls
 * (or tail-calls) an import or a function that may throw, or makes an indirect call
 * (call_indirect, call_ref and their tail forms) while indirect calls may throw.
 * Indirect calls may throw when the host can hand the module a function reference (a
 * table imported or exported, or an import or export whose type holds a reference) or
 * when a function whose reference the module takes (element segments, ref.func) may
 * throw.  A body that does not decode makes every call count as throwing.  (A shortcut
 * that was measured and dropped: also skipping the checks of functions whose call
 * tree is loop-free with a static cost of at most 256 saved 0.2% of size on the C
 * fixtures and loosened the lazy bound by two thirds.) */
#include "meter.h"
#include "../ir/instr.h"
#include "../ir/pool.h"
#include <stdlib.h>

/* What a scan collects: direct callees in order, the references taken. */
typedef struct ScanOut {
    uint32_t *callee;
    uint32_t ncallee, cap_callee;
    uint8_t *taken;                /* per function: its reference is taken */
} ScanOut;

typedef struct ThrowScan {
    const Module *m;
    uint32_t *first, *callee;      /* direct callees of f: callee[first[f] .. first[f+1]) */
    uint32_t ncallee;
    uint8_t *self;                 /* per function: TH_* found in its own body */
    uint8_t *taken;                /* per function: its reference is taken */
} ThrowScan;

enum { TH_THROWS = 1, TH_INDIRECT = 2, TH_CHECKS = 4, TH_TAIL = 8 };

static bool has_ref(const ValType *t, uint32_t n) {
    for (uint32_t i = 0; i < n; i++)
        if (vt_is_ref(t[i])) return true;
    return false;
}

static bool func_type_has_ref(const Module *m, uint32_t type) {
    if (type >= m->ntypes || m->types[type].kind != COMP_FUNC) return true;
    const TypeDef *t = &m->types[type];
    return has_ref(t->params, t->nparams) || has_ref(t->results, t->nresults);
}

/* True when an import or an export lets the host give the module a reference. */
static bool host_gives_refs(const Module *m) {
    if (m->ntable_imports) return true;
    for (uint32_t i = 0; i < m->nfunc_imports; i++)
        if (func_type_has_ref(m, m->funcs[i].type)) return true;
    for (uint32_t i = 0; i < m->nglobal_imports; i++)
        if (vt_is_ref(m->globals[i].type)) return true;
    for (uint32_t i = 0; i < m->nexports; i++) {
        const Export *e = &m->exports[i];
        if (e->kind == EXT_TABLE) return true;
        if (e->kind == EXT_GLOBAL && e->index < m->nglobals && vt_is_ref(m->globals[e->index].type)) return true;
        if (e->kind == EXT_FUNC && e->index < m->nfuncs && func_type_has_ref(m, m->funcs[e->index].type)) return true;
    }
    return false;
}

enum { NOTE_CALLEE = 16, NOTE_REF = 32 }; /* beside the TH_* a body takes from an opcode */

/* Per opcode, what note_instr takes from it: TH_* for its function, NOTE_CALLEE (a direct
 * callee), NOTE_REF (a reference taken).  A body that loops, or has handlers or calls,
 * is not a leaf (TH_CHECKS: lazy mode checks its entry). */
static const uint8_t note_kind[OP_COUNT] = {
    [OP_REF_FUNC] = NOTE_REF,
    [OP_CALL] = NOTE_CALLEE | TH_CHECKS,
    [OP_RETURN_CALL] = NOTE_CALLEE | TH_TAIL,
    [OP_THROW] = TH_THROWS, [OP_THROW_REF] = TH_THROWS, [OP_RETHROW] = TH_THROWS,
    [OP_CALL_INDIRECT] = TH_INDIRECT | TH_CHECKS, [OP_CALL_REF] = TH_INDIRECT | TH_CHECKS,
    [OP_RETURN_CALL_INDIRECT] = TH_INDIRECT | TH_TAIL, [OP_RETURN_CALL_REF] = TH_INDIRECT | TH_TAIL,
    [OP_LOOP] = TH_CHECKS, [OP_TRY] = TH_CHECKS, [OP_TRY_TABLE] = TH_CHECKS,
};

/* Contract: records what instruction `in` of function f (or of a constant expression,
 * f = UINT32_MAX) tells: a direct callee, a reference taken, a throw. */
static void note_instr(const ThrowScan *s, ScanOut *o, uint32_t f, const Instr *in) {
    uint8_t k = note_kind[in->op];
    if (!k) return;
    if ((k & NOTE_REF) && in->a < s->m->nfuncs) o->taken[in->a] = 1;
    if (f == UINT32_MAX) return;
    if ((k & NOTE_CALLEE) && in->a < s->m->nfuncs) WS_VEC_PUSH(o->callee, o->ncallee, o->cap_callee, (uint32_t)in->a);
    s->self[f] |= k & (TH_THROWS | TH_INDIRECT | TH_CHECKS | TH_TAIL);
}

/* Contract: notes every instruction of the sequence at c into o; the one-byte ones
 * that name no function, table, type or tag are stepped over undecoded (note_instr
 * reads only the opcode of those: rethrow and throw_ref among them). */
static void scan_code(const ThrowScan *s, ScanOut *o, uint32_t f, Cursor *c) {
    Instr in;
    while (!cur_eof(c)) {
        uint8_t b = *c->p;
        size_t stable = b >= 0xfb ? 0 : instr_stable_len(c->p, c->end, true);
        if (stable) {
            in.op = op_lookup(0, b);
            c->p += stable;
        } else {
            instr_decode(c, &in);
        }
        note_instr(s, o, f, &in);
    }
}

static void scan_expr(const ThrowScan *s, ScanOut *o, Expr e, WsError *err) {
    Cursor c = {s->m->input, e.code, e.code + e.len, err};
    scan_code(s, o, UINT32_MAX, &c);
}

/* Contract: the references taken outside function bodies. */
static void scan_module_refs(const ThrowScan *s, ScanOut *o, WsError *err) {
    const Module *m = s->m;
    for (uint32_t i = 0; i < m->nelems; i++) {
        const Elem *e = &m->elems[i];
        for (uint32_t k = 0; k < e->count; k++) {
            if (e->exprs) scan_expr(s, o, e->exprs[k], err);
            else if (e->funcs[k] < m->nfuncs) o->taken[e->funcs[k]] = 1;
        }
    }
    for (uint32_t i = m->nglobal_imports; i < m->nglobals; i++) scan_expr(s, o, m->globals[i].init, err);
    for (uint32_t i = m->ntable_imports; i < m->ntables; i++)
        if (m->tables[i].has_init) scan_expr(s, o, m->tables[i].init, err);
}

/* The bodies, scanned on the pool: each worker collects into its own ScanOut, and
 * notes for each function it took where its callees went (merged in function order,
 * so the result does not depend on who scanned what). */
typedef struct BodyScan {
    const ThrowScan *s;
    ScanOut *outs;                 /* per worker */
    uint8_t *failed;               /* per worker: a body did not decode */
    uint32_t *start, *count;       /* per function: its callees in its worker's ScanOut */
    uint32_t *worker;              /* per function: that worker */
} BodyScan;

/* Contract: pool_for body: scans defined function i into its worker's ScanOut and
 * notes where its callees went; a body that does not decode stops the worker. */
static void scan_one(void *ctx, uint32_t i, uint32_t worker) {
    BodyScan *j = ctx;
    const Module *m = j->s->m;
    uint32_t f = m->nfunc_imports + i;
    ScanOut *o = &j->outs[worker];
    if (j->failed[worker]) return;
    WsError err = {0};
    err.file = m->file;
    j->start[f] = o->ncallee;
    j->worker[f] = worker;
    if (setjmp(err.jb)) {
        j->failed[worker] = 1;
        return;
    }
    const Func *fn = &m->funcs[f];
    Cursor c = {m->input, fn->body.p, fn->body.p + fn->body.len, &err};
    skip_local_decls(&c);
    scan_code(j->s, o, f, &c);
    j->count[f] = o->ncallee - j->start[f];
}

/* Contract: the callees of every function in order (s->first, s->callee) and the
 * references taken, from the per-worker outputs. */
static void merge_scans(ThrowScan *s, const BodyScan *j, uint32_t nworkers) {
    const Module *m = s->m;
    uint32_t total = 0;
    for (uint32_t w = 0; w < nworkers; w++) total += j->outs[w].ncallee;
    s->callee = ws_malloc((total + 1) * sizeof(uint32_t));
    for (uint32_t f = 0; f < m->nfuncs; f++) {
        s->first[f] = s->ncallee;
        if (m->funcs[f].import >= 0 || !j->count[f]) continue; /* (a worker's list is NULL until its first callee) */
        memcpy(s->callee + s->ncallee, j->outs[j->worker[f]].callee + j->start[f], j->count[f] * sizeof(uint32_t));
        s->ncallee += j->count[f];
    }
    s->first[m->nfuncs] = s->ncallee;
    for (uint32_t w = 0; w < nworkers; w++)
        for (uint32_t f = 0; f < m->nfuncs; f++) s->taken[f] |= j->outs[w].taken[f];
}

/* Contract: decodes every body (on up to `jobs` threads) and constant expression;
 * false if one does not decode. */
static bool scan_module(ThrowScan *s, uint32_t jobs) {
    const Module *m = s->m;
    uint32_t nw = jobs ? jobs : 1, n = m->nfuncs - m->nfunc_imports;
    BodyScan j = {s, ws_calloc(nw, sizeof(ScanOut)), ws_calloc(nw, 1), ws_calloc(m->nfuncs + 1, sizeof(uint32_t)),
                  ws_calloc(m->nfuncs + 1, sizeof(uint32_t)), ws_calloc(m->nfuncs + 1, sizeof(uint32_t))};
    for (uint32_t w = 0; w < nw; w++) j.outs[w].taken = ws_calloc(m->nfuncs + 1, 1);
    pool_for(nw, n, scan_one, &j);
    bool ok = true;
    for (uint32_t w = 0; w < nw; w++) ok = ok && !j.failed[w];
    if (ok) merge_scans(s, &j, nw);
    for (uint32_t w = 0; w < nw; w++) {
        free(j.outs[w].callee);
        free(j.outs[w].taken);
    }
    free(j.outs);
    free(j.failed);
    free(j.start);
    free(j.count);
    free(j.worker);
    if (!ok) return false;
    WsError err = {0};
    err.file = m->file;
    if (setjmp(err.jb)) return false;
    ScanOut o = {NULL, 0, 0, s->taken};
    scan_module_refs(s, &o, &err);
    return true;
}

/* Contract: out[f] = f may throw, given whether indirect calls may; a fixpoint over
 * the callers (reverse call edges) from the functions that throw by themselves. */
static void propagate(const ThrowScan *s, bool indirect, uint8_t *out) {
    const Module *m = s->m;
    uint32_t n = m->nfuncs, *at = ws_calloc(n + 2, sizeof(uint32_t)), *caller = ws_malloc((s->ncallee + 1) * sizeof(uint32_t));
    for (uint32_t i = 0; i < s->ncallee; i++) at[s->callee[i] + 2]++;
    for (uint32_t v = 0; v < n; v++) at[v + 2] += at[v + 1];
    for (uint32_t f = 0; f < n; f++)
        for (uint32_t i = s->first[f]; i < s->first[f + 1]; i++) caller[at[s->callee[i] + 1]++] = f;
    uint32_t *work = ws_malloc((n + 1) * sizeof(uint32_t)), nw = 0;
    for (uint32_t f = 0; f < n; f++) {
        bool own = m->funcs[f].import >= 0 || (s->self[f] & TH_THROWS) || (indirect && (s->self[f] & TH_INDIRECT));
        out[f] = own;
        if (own) work[nw++] = f;
    }
    while (nw) {
        uint32_t v = work[--nw];
        for (uint32_t i = at[v]; i < at[v + 1]; i++)
            if (!out[caller[i]]) {
                out[caller[i]] = 1;
                work[nw++] = caller[i];
            }
    }
    free(work);
    free(caller);
    free(at);
}

static bool taken_may_throw(const ThrowScan *s, const uint8_t *may) {
    for (uint32_t f = 0; f < s->m->nfuncs; f++)
        if (s->taken[f] && may[f]) return true;
    return false;
}

/* Contract: out[f] = defined function f returns with its fuel checked in lazy mode:
 * it is not a leaf (it checks at its entry) and returns only through its own end (no
 * tail call hands its return to a callee that may be a leaf). */
static void returns_checked(const ThrowScan *s, uint8_t *out) {
    for (uint32_t f = 0; f < s->m->nfuncs; f++)
        out[f] = s->m->funcs[f].import < 0 && (s->self[f] & (TH_CHECKS | TH_TAIL)) == TH_CHECKS;
}

void meter_calls(const Module *m, uint32_t jobs, MeterCalls *out) {
    ThrowScan s = {m, ws_calloc(m->nfuncs + 1, sizeof(uint32_t)), NULL, 0, ws_calloc(m->nfuncs + 1, 1),
                   ws_calloc(m->nfuncs + 1, 1)};
    out->may_throw = ws_calloc(m->nfuncs + 1, 1);
    out->returns_checked = ws_calloc(m->nfuncs + 1, 1);
    out->indirect_may_throw = true;
    if (!scan_module(&s, jobs)) {
        memset(out->may_throw, 1, m->nfuncs);
    } else {
        returns_checked(&s, out->returns_checked);
        out->indirect_may_throw = host_gives_refs(m);
        propagate(&s, out->indirect_may_throw, out->may_throw);
        if (!out->indirect_may_throw && taken_may_throw(&s, out->may_throw)) {
            out->indirect_may_throw = true;
            propagate(&s, true, out->may_throw);
        }
    }
    free(s.first);
    free(s.callee);
    free(s.self);
    free(s.taken);
}

void meter_calls_free(MeterCalls *c) {
    free(c->may_throw);
    free(c->returns_checked);
}
