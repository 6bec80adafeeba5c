/* dead_params.c - removes parameters that no call's value is used for.
 *
 *   before:                                  after:
 *     (func $f (param i32 i32) (result i32)    (func $f (param i32) (result i32)
 *       local.get 1)                             local.get 0)
 *     ... (call $f (call $g) (i32.const 7))    ... (call $g) drop (i32.const 7) (call $f)
 *
 * Only functions whose every caller is visible: defined, not exported, not the start
 * function, not in an element segment or a table initialiser, never named by ref.func.
 * A dropped argument keeps its effects: a `drop` is placed right after the instruction
 * that produced it (the value is on top of the stack there), and the cleanup that follows
 * removes pure ones.  Functions are skipped when the name section names locals (the
 * names would shift) or when an argument comes from a block parameter.
 *
 * The bodies are scanned for accesses to the candidates' params and for direct calls
 * to candidates; a body remove-unused listed (its cache, when the body is still that
 * one) is not scanned when it is no candidate's, or when dce's scan counted its params'
 * accesses (Func.params_at, when the body is still that one): its calls come from the
 * list, its untouched params from dce.  A
 * module without candidates is not scanned at all (esbuild.wasm: all 5,329 functions
 * escape). */
#include "pass.h"
#include "../ir/edit.h"
#include "../ir/funcmap.h"
#include "../ir/names.h"
#include "../ir/pool.h"
#include "remove_unused.h"
#include <stdlib.h>

/* A direct call to a candidate: a callee with params whose every caller is visible. */
typedef struct CallEdge { uint32_t caller, callee; } CallEdge;
typedef struct EdgeList { CallEdge *e; uint32_t n, cap; } EdgeList;

typedef struct DeadParams {
    Module *m;
    uint32_t *unused;     /* per function: bit mask of removable params (<= 32 params) */
    uint8_t *visible;     /* per function: every caller is a direct call in the module */
    uint8_t *blocked;     /* a call site passes an argument we cannot drop */
    uint8_t *want;        /* per defined function: has dead params or calls one that has */
    uint8_t *candidate;   /* per function: visible, with params */
    EdgeList *edges;      /* per worker: phase 1's calls to candidates */
    uint32_t nworkers;
    const struct RefsCache *cache; /* remove-unused's lists of the bodies' references */
    uint8_t *listed;      /* per defined function: not scanned, its calls are in the cache */
} DeadParams;

/* Contract: marks every function referenced other than by a direct call as not visible. */
static void mark_escaping(DeadParams *dp) {
    Module *m = dp->m;
    for (uint32_t f = 0; f < m->nfuncs; f++) dp->visible[f] = m->funcs[f].import < 0;
    for (uint32_t i = 0; i < m->nexports; i++)
        if (m->exports[i].kind == EXT_FUNC && m->exports[i].index < m->nfuncs) dp->visible[m->exports[i].index] = 0;
    if (m->has_start && m->start < m->nfuncs) dp->visible[m->start] = 0;
    for (uint32_t i = 0; i < m->nelems; i++) /* funcs listed, or any ref.func in exprs */
        for (uint32_t k = 0; k < m->elems[i].count && !m->elems[i].exprs; k++)
            if (m->elems[i].funcs[k] < m->nfuncs) dp->visible[m->elems[i].funcs[k]] = 0;
}

/* Contract: ref.func anywhere (code, constant expressions) makes its target escape. */
static void mark_ref_funcs(DeadParams *dp, const uint8_t *p, uint32_t len) {
    WsError err;
    Cursor c = {dp->m->input, p, p + len, &err};
    if (setjmp(err.jb)) return;
    Instr in;
    while (!cur_eof(&c)) {
        instr_decode(&c, &in);
        if (in.op == OP_REF_FUNC && in.a < dp->m->nfuncs) dp->visible[in.a] = 0;
    }
}

static void scan_refs(DeadParams *dp) {
    Module *m = dp->m;
    for (uint32_t i = 0; i < m->nelems; i++)
        for (uint32_t k = 0; m->elems[i].exprs && k < m->elems[i].count; k++)
            mark_ref_funcs(dp, m->elems[i].exprs[k].code, m->elems[i].exprs[k].len);
    for (uint32_t g = m->nglobal_imports; g < m->nglobals; g++)
        mark_ref_funcs(dp, m->globals[g].init.code, m->globals[g].init.len);
    for (uint32_t t = m->ntable_imports; t < m->ntables; t++)
        if (m->tables[t].has_init) mark_ref_funcs(dp, m->tables[t].init.code, m->tables[t].init.len);
}

/* By first byte, what phase 1 looks at: local accesses (local.get, local.set,
 * local.tee), direct calls (call, return_call); the rest is stepped over. */
enum { NOTE_NONE, NOTE_LOCAL, NOTE_CALL };
static const uint8_t noted[256] = {
    [0x20] = NOTE_LOCAL, [0x21] = NOTE_LOCAL, [0x22] = NOTE_LOCAL,
    [0x10] = NOTE_CALL, [0x12] = NOTE_CALL,
};

static void note(const DeadParams *dp, uint32_t f, const Instr *in, uint32_t *mask, EdgeList *w) {
    OpId op = (OpId)in->op;
    if ((op == OP_LOCAL_GET || op == OP_LOCAL_SET || op == OP_LOCAL_TEE) && in->a < 32) *mask &= ~(1u << in->a);
    bool direct = op == OP_CALL || op == OP_RETURN_CALL;
    if (direct && in->a < dp->m->nfuncs && dp->candidate[in->a])
        WS_VEC_PUSH(w->e, w->n, w->cap, ((CallEdge){f, (uint32_t)in->a}));
}

/* Contract: steps over the code of defined function f (after its local declarations),
 * clearing in *mask the bits of the params it accesses and listing in w its direct calls
 * to candidates; false when the body cannot be decoded (nothing may be assumed of it).
 * Instructions of no interest are stepped over from their bytes (instr_any_len). */
static bool scan_body(const DeadParams *dp, uint32_t f, uint32_t *mask, EdgeList *w) {
    const Func *fn = &dp->m->funcs[f];
    WsError err;
    Cursor c = {dp->m->input, fn->body.p, fn->body.p + fn->body.len, &err};
    uint32_t first = w->n;
    if (setjmp(err.jb)) {
        w->n = first;
        return false;
    }
    skip_local_decls(&c);
    Instr in;
    while (c.p < c.end) {
        uint8_t kind = noted[*c.p];
        size_t k = kind == NOTE_NONE ? instr_any_len(c.p, c.end) : 0;
        if (kind == NOTE_LOCAL && c.end - c.p >= 2 && c.p[1] < 0x80) { /* a one-byte index */
            if (c.p[1] < 32) *mask &= ~(1u << c.p[1]);
            k = 2;
        }
        if (k) {
            c.p += k;
            continue;
        }
        instr_decode(&c, &in);
        note(dp, f, &in, mask, w);
    }
    return true;
}

/* Phase 1 (per defined function, from its bytes): which params of a candidate are never
 * read or written, and which candidates each function calls (a body the cache lists is
 * left to find_wanted when it is no candidate's, or dce counted its params' accesses). */
static void find_unused(void *arg, uint32_t k, uint32_t worker) {
    DeadParams *dp = arg;
    uint32_t f = dp->m->nfunc_imports + k;
    const Module *m = dp->m;
    const BodyRef *refs;
    uint32_t nrefs;
    uint32_t np = m->funcs[f].type < m->ntypes ? m->types[m->funcs[f].type].nparams : 0;
    uint32_t mask = !dp->candidate[f] ? 0 : np >= 32 ? ~0u : (1u << np) - 1;
    bool counted = m->funcs[f].params_at == m->funcs[f].body.p; /* by dce's scan */
    if ((!dp->candidate[f] || counted) && unused_cache_refs(dp->cache, m, f, &refs, &nrefs)) {
        dp->listed[k] = 1;
        dp->unused[f] = mask & (counted ? m->funcs[f].params_untouched : 0);
        return;
    }
    if (!scan_body(dp, f, &mask, &dp->edges[worker])) {
        mask = 0;
        dp->want[k] = 1; /* undecodable: the IR build reports it */
    }
    dp->unused[f] = mask;
}

/* Contract: true when the references listed for function f name a function with dead
 * params (a candidate is only ever named by calls: it escapes otherwise). */
static bool lists_call_to_unused(const DeadParams *dp, uint32_t f) {
    const BodyRef *refs;
    uint32_t n;
    if (!unused_cache_refs(dp->cache, dp->m, f, &refs, &n)) return true; /* cannot happen */
    for (uint32_t i = 0; i < n; i++)
        if (refs[i].space == IX_FUNC && refs[i].index < dp->m->nfuncs && dp->unused[refs[i].index]) return true;
    return false;
}

/* Contract: want[k] for the functions phases 2 and 3 touch: those with dead params and
 * those with a direct call to one (and undecodable ones, set by phase 1). */
static void find_wanted(DeadParams *dp) {
    const Module *m = dp->m;
    for (uint32_t f = m->nfunc_imports; f < m->nfuncs; f++) {
        if (dp->unused[f]) dp->want[f - m->nfunc_imports] = 1;
        if (dp->listed[f - m->nfunc_imports] && lists_call_to_unused(dp, f)) dp->want[f - m->nfunc_imports] = 1;
    }
    for (uint32_t w = 0; w < dp->nworkers; w++)
        for (uint32_t i = 0; i < dp->edges[w].n; i++)
            if (dp->unused[dp->edges[w].e[i].callee]) dp->want[dp->edges[w].e[i].caller - m->nfunc_imports] = 1;
}

/* Phase 2 (per function): a callee whose argument comes from a block parameter or the
 * polymorphic stack cannot lose that param (no instruction pushes it). */
static bool find_blocked(IrFunc *f, void *arg, WsError *err) {
    (void)err;
    DeadParams *dp = arg;
    NodeId *order = ws_malloc((f->nnodes + 1) * sizeof(NodeId));
    uint32_t n = ir_preorder(f, order);
    for (uint32_t i = 0; i < n; i++) {
        const IrNode *call = ir_node(f, order[i]);
        bool direct = call->in.op == OP_CALL || call->in.op == OP_RETURN_CALL;
        if (!direct || call->in.a >= dp->m->nfuncs || !dp->unused[call->in.a]) continue;
        for (uint32_t k = 0; k < call->nargs && k < 32; k++) {
            ValueRef a = ir_args(f, call)[k];
            if (((dp->unused[call->in.a] >> k) & 1) && (a.node == 0 || (a.idx & IR_PARAM)))
                dp->blocked[call->in.a] = 1; /* a byte store: races only write the same 1 */
        }
    }
    free(order);
    return true;
}

/* Contract: drops the masked arguments of call node id right after their producers. */
static void rewrite_call(IrFunc *f, NodeId id, uint32_t mask) {
    uint32_t n = ir_node(f, id)->nargs, nkept = 0;
    ValueRef *args = ws_malloc((n + 1) * sizeof(ValueRef)), *kept = ws_malloc((n + 1) * sizeof(ValueRef));
    memcpy(args, ir_args(f, ir_node(f, id)), n * sizeof(ValueRef));
    ir_set_args(f, id, NULL, 0);
    for (uint32_t k = 0; k < n; k++) {
        if (k >= 32 || !((mask >> k) & 1)) {
            kept[nkept++] = args[k];
            continue;
        }
        NodeId parent = ir_node(f, args[k].node)->parent; /* read first: new nodes move the array */
        uint32_t arm = ir_node(f, args[k].node)->parent_arm;
        NodeId drop = ir_new_drop(f, args[k]);
        ir_insert_after(f, parent, arm, args[k].node, drop);
    }
    ir_set_args(f, id, kept, nkept);
    free(args);
    free(kept);
}

/* Contract: removes the masked params from f's locals, renumbering every access. */
static void remove_params(IrFunc *f, uint32_t mask, NodeId *order) {
    uint32_t *map = ws_malloc((f->nlocals + 1) * sizeof(uint32_t)), removed = 0;
    for (uint32_t l = 0; l < f->nlocals; l++) {
        bool gone = l < f->nparams && l < 32 && ((mask >> l) & 1);
        map[l] = l - removed;
        if (gone) removed++;
        else f->locals[map[l]] = f->locals[l];
    }
    uint32_t n = ir_preorder(f, order);
    for (uint32_t i = 0; i < n; i++) {
        IrNode *node = ir_node(f, order[i]);
        OpId op = node->in.op;
        if (op == OP_LOCAL_GET || op == OP_LOCAL_SET || op == OP_LOCAL_TEE) {
            node->in.a = map[node->in.a];
            ir_touch(f, order[i]);
        }
    }
    f->nlocals -= removed;
    f->nparams -= removed;
    f->locals_changed = true;
    free(map);
}

/* Phase 3 (per function): drop its own dead params, and the arguments of its calls. */
static bool rewrite(IrFunc *f, void *arg, WsError *err) {
    (void)err;
    DeadParams *dp = arg;
    NodeId *order = ws_malloc((f->nnodes + 1) * sizeof(NodeId));
    if (dp->unused[f->index]) remove_params(f, dp->unused[f->index], order);
    uint32_t n = ir_preorder(f, order);
    for (uint32_t i = 0; i < n; i++) {
        const IrNode *call = ir_node(f, order[i]);
        bool direct = call->in.op == OP_CALL || call->in.op == OP_RETURN_CALL;
        if (direct && call->in.a < dp->m->nfuncs && dp->unused[call->in.a])
            rewrite_call(f, order[i], dp->unused[call->in.a]);
    }
    free(order);
    return true;
}

/* Contract: the index of a plain function type (params, results) — an existing one in a
 * group of its own, else a new one appended in a new rec group. */
static uint32_t function_type(Module *m, const ValType *params, uint32_t np, const ValType *res, uint32_t nr) {
    for (uint32_t t = 0; t < m->ntypes; t++) {
        const TypeDef *d = &m->types[t];
        if (d->kind != COMP_FUNC || d->sub_form != SUB_BARE || m->recs[d->rec].count != 1) continue;
        if (d->nparams != np || d->nresults != nr) continue;
        if (!memcmp(d->params, params, np * sizeof(ValType)) && !memcmp(d->results, res, nr * sizeof(ValType)))
            return t;
    }
    m->types = ws_realloc(m->types, (m->ntypes + 1) * sizeof(TypeDef));
    RecGroup *recs = arena_array(&m->arena, m->nrecs + 1, sizeof(RecGroup));
    memcpy(recs, m->recs, m->nrecs * sizeof(RecGroup));
    recs[m->nrecs] = (RecGroup){m->ntypes, 1, false};
    m->recs = recs;
    TypeDef *d = &m->types[m->ntypes];
    memset(d, 0, sizeof *d);
    d->kind = COMP_FUNC;
    d->nparams = np;
    d->params = arena_dup(&m->arena, params, np * sizeof(ValType));
    d->nresults = nr;
    d->results = arena_dup(&m->arena, res, nr * sizeof(ValType));
    d->rec = m->nrecs++;
    return m->ntypes++;
}

static void retype(Module *m, uint32_t f, uint32_t mask) {
    const TypeDef *old = &m->types[m->funcs[f].type];
    ValType *params = ws_malloc((old->nparams + 1) * sizeof(ValType));
    uint32_t np = 0;
    for (uint32_t p = 0; p < old->nparams; p++)
        if (p >= 32 || !((mask >> p) & 1)) params[np++] = old->params[p];
    ValType *res = old->results; /* stable: types are only appended after the copy */
    uint32_t nr = old->nresults;
    ValType *res_copy = ws_malloc((nr + 1) * sizeof(ValType));
    memcpy(res_copy, res, nr * sizeof(ValType));
    m->funcs[f].type = function_type(m, params, np, res_copy, nr);
    free(params);
    free(res_copy);
}

static uint32_t popcount(uint32_t x) {
    uint32_t n = 0;
    for (; x; x &= x - 1) n++;
    return n;
}

/* Contract: the candidates: visible functions with params; true when there is one. */
static bool find_candidates(DeadParams *dp) {
    const Module *m = dp->m;
    bool some = false;
    for (uint32_t f = 0; f < m->nfuncs; f++) {
        uint32_t t = m->funcs[f].type;
        dp->candidate[f] = dp->visible[f] && t < m->ntypes && m->types[t].nparams > 0;
        some |= dp->candidate[f];
    }
    return some;
}

void pass_dead_params(PassCtx *ctx, Module *m) {
    if (names_has_subsection(m, NAME_LOCAL)) { /* local names would shift */
        ctx->unchanged = true;
        return;
    }
    uint32_t ndefined = module_ndefined_funcs(m), jobs = ctx->jobs ? ctx->jobs : 1;
    DeadParams dp = {m, ws_calloc(m->nfuncs + 1, sizeof(uint32_t)), ws_calloc(m->nfuncs + 1, 1),
                     ws_calloc(m->nfuncs + 1, 1), ws_calloc(ndefined + 1, 1), ws_calloc(m->nfuncs + 1, 1),
                     ws_calloc(jobs, sizeof(EdgeList)), jobs, unused_cache_get(m), ws_calloc(ndefined + 1, 1)};
    mark_escaping(&dp);
    scan_refs(&dp);
    if (find_candidates(&dp)) pool_for(jobs, ndefined, find_unused, &dp);
    bool any = false;
    for (uint32_t f = 0; f < m->nfuncs && !any; f++) any = dp.unused[f] != 0;
    if (any) find_wanted(&dp);
    bool ok = !any || module_analyze_some(m, jobs, dp.want, find_blocked, &dp, &ctx->err);
    uint32_t total = 0;
    for (uint32_t f = 0; ok && f < m->nfuncs; f++) {
        if (dp.blocked[f]) dp.unused[f] = 0;
        total += popcount(dp.unused[f]);
    }
    if (ok && total) ok = module_rewrite_some(m, jobs, dp.want, rewrite, &dp, &ctx->err);
    for (uint32_t f = 0; ok && total && f < m->nfuncs; f++)
        if (dp.unused[f]) retype(m, f, dp.unused[f]);
    if (!ok) ctx->failed = true;
    if (ok && total == 0) ctx->unchanged = true;
    PassStats delta = {0};
    delta.params_removed = ok ? total : 0;
    pass_stats_add(ctx, &delta);
    free(dp.unused);
    free(dp.visible);
    free(dp.blocked);
    free(dp.want);
    free(dp.candidate);
    free(dp.listed);
    for (uint32_t w = 0; w < jobs; w++) free(dp.edges[w].e);
    free(dp.edges);
}
