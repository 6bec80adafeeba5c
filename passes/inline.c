/* inline.c - the inline pass (wasm-opt's --inlining-optimizing): callees' bodies in
 * place of their calls, then the dce cleanup on every function that changed.
 *
 *   before:                                    after (then remove-unused deletes $get):
 *     (func $get (param i32) (result i32)        (func $main (export "main") (result i32)
 *       local.get 0  i32.load offset=4)            i32.const 16
 *     (func $main (export "main") (result i32)     i32.load offset=4)
 *       i32.const 16  call $get)
 *
 * Steps, each deterministic: scan the module (inline_scan.c); choose the sites worth
 * measuring, and measure each by splicing the callee into a throwaway IR of its caller
 * and encoding what changed (one caller per parallel job); decide (inline_plan.c);
 * splice the decided sites for real - with the decided calls inside the copied bodies,
 * so a body carries its own inlining along - and run dce on each changed function
 * (in parallel, results placed by function order: the output is the same for every
 * -j; functions without decided sites are not even decoded).  Callees left without
 * references are deleted by the remove-unused pass that follows in every -O pipeline.
 * --inline-report prints every decision with its measured cost and the code size the
 * pass really reached. */
#include "inline.h"
#include "../ir/featureset.h"
#include "../ir/edit.h"
#include "../ir/leb.h"
#include "../ir/names.h"
#include "../ir/pool.h"
#include <stdlib.h>

/* True when a body's block may take the call's operands as parameters: multivalue is
 * not turned off, and the module uses it already (a function type with several
 * results), so that inlining never makes a module need a feature it did not (storing
 * the parameters before the block instead costs the same bytes: sql-wasm -O3 769,359
 * -> 769,355, ruby 16,564,368 -> 16,564,715). */
static bool block_params_allowed(const PassCtx *ctx, const Module *m) {
    if (ctx->opt->features_off & FT_MULTIVALUE) return false;
    for (uint32_t i = 0; i < m->ntypes; i++)
        if (m->types[i].kind == COMP_FUNC && m->types[i].nresults > 1) return true;
    return false;
}

/* Contract: reads the level and the options into in (defaults per level). */
static void setup(Inliner *in, PassCtx *ctx, Module *m) {
    memset(in, 0, sizeof *in);
    in->ctx = ctx;
    in->m = m;
    in->opt = &ctx->opt->inlining;
    in->level = ctx->opt->opt_level;
    in->size_mode = in->level == 's' || in->level == 'z';
    bool speed = in->level >= 2 && in->level <= 4;
    in->max_size = in->opt->max_size ? in->opt->max_size : !speed ? 0 : in->level == 2 ? 40 : 100;
    in->block_params = block_params_allowed(ctx, m);
}

static uint32_t budget_pct(const Inliner *in) {
    if (in->opt->has_growth) return in->opt->growth_pct;
    return in->level == 2 ? 5 : (in->level == 3 || in->level == 4) ? 15 : 0;
}

/* Contract: the call and return_call nodes of f in bytecode order (ordinal order) into
 * *calls; returns their count. */
static uint32_t collect_calls(const IrFunc *f, NodeId **calls, uint32_t *cap) {
    NodeId *order = ws_malloc((f->nnodes + 1) * sizeof(NodeId));
    uint32_t n = ir_preorder(f, order), k = 0;
    for (uint32_t i = 0; i < n; i++) {
        OpId op = ir_node(f, order[i])->in.op;
        if (op == OP_CALL || op == OP_RETURN_CALL) WS_VEC_PUSH(*calls, k, *cap, order[i]);
    }
    free(order);
    return k;
}

static WsError *copy_error(const WsError *e) {
    WsError *c = ws_malloc(sizeof *c);
    memcpy(c, e, sizeof *c);
    return c;
}

/* ---- trial: measure the chosen sites ---- */

typedef struct TrialWorker {
    IrFunc f;
    InlSplicer s;
    NodeId *calls;
    uint32_t cap_calls;
} TrialWorker;

typedef struct Trial {
    Inliner *in;
    uint32_t *callers;       /* functions with sites to measure */
    TrialWorker *w;          /* by pool worker */
    WsError **errors;        /* by job */
} Trial;

/* Contract: one caller: builds its IR and splices every site to measure in ordinal
 * order, recording each one's growth (pool job k). */
static void trial_one(void *arg, uint32_t k, uint32_t worker) {
    Trial *t = arg;
    Inliner *in = t->in;
    TrialWorker *w = &t->w[worker];
    const InlFunc *fn = &in->funcs[t->callers[k]];
    WsError err;
    memset(&err, 0, sizeof err);
    if (!ir_build(&w->f, in->m, t->callers[k], &err)) { t->errors[k] = copy_error(&err); return; }
    w->s.f = &w->f;
    uint32_t ncalls = collect_calls(&w->f, &w->calls, &w->cap_calls);
    for (uint32_t i = 0; i < fn->nsites && i < ncalls; i++) {
        InlSite *s = &in->sites[fn->first_site + i];
        if (s->state != INL_MEASURE) continue;
        int64_t growth = 0;
        bool skipped;
        if (!inline_splice(&w->s, w->calls[i], s->callee, &growth, &skipped, &err)) {
            t->errors[k] = copy_error(&err);
            return;
        }
        s->measured = !skipped;
        s->delta = (int32_t)(growth > INT32_MAX ? INT32_MAX : growth < INT32_MIN ? INT32_MIN : growth);
    }
}

/* Contract: the defined functions (in index order, malloc'd, count in *n) with at
 * least one call site in the given state. */
static uint32_t *callers_with(const Inliner *in, int state, uint32_t *n) {
    const Module *m = in->m;
    uint32_t *callers = ws_malloc((m->nfuncs + 1) * sizeof(uint32_t));
    *n = 0;
    for (uint32_t f = m->nfunc_imports; f < m->nfuncs; f++) {
        const InlFunc *fn = &in->funcs[f];
        bool any = false;
        for (uint32_t i = 0; i < fn->nsites && !any; i++) any = in->sites[fn->first_site + i].state == state;
        if (any) callers[(*n)++] = f;
    }
    return callers;
}

/* Contract: measures every INL_MEASURE site; false with ctx->err set on malformed code. */
static bool run_trials(Inliner *in) {
    const Module *m = in->m;
    uint32_t n, jobs = in->ctx->jobs ? in->ctx->jobs : 1;
    uint32_t *callers = callers_with(in, INL_MEASURE, &n);
    Trial t = {in, callers, ws_calloc(jobs, sizeof(TrialWorker)), ws_calloc(n + 1, sizeof(WsError *))};
    for (uint32_t i = 0; i < jobs; i++) {
        inline_splicer_init(&t.w[i].s, m, &t.w[i].f, in->sites, in->funcs);
        t.w[i].s.no_block_params = !in->block_params;
    }
    pool_for(jobs, n, trial_one, &t);
    bool ok = true;
    for (uint32_t k = 0; k < n; k++) {
        if (t.errors[k] && ok) { memcpy(&in->ctx->err, t.errors[k], sizeof(WsError)); ok = false; }
        free(t.errors[k]);
    }
    for (uint32_t i = 0; i < jobs; i++) {
        inline_splicer_free(&t.w[i].s);
        ir_free(&t.w[i].f);
        free(t.w[i].calls);
    }
    free(t.w);
    free(t.errors);
    free(callers);
    return ok;
}

/* ---- apply ---- */

#ifdef WS_DEBUG
static bool verify(IrFunc *f, WsError *err) {
    char msg[256];
    if (ir_verify(f, msg, sizeof msg)) return true;
    err->offset = f->m->funcs[f->index].body_offset;
    snprintf(err->msg, sizeof err->msg, "internal error: IR of function %u fails verification after inlining: %s",
             f->index, msg);
    return false;
}
#else
static bool verify(IrFunc *f, WsError *err) { (void)f; (void)err; return true; }
#endif

/* Contract: on one function: splices its decided sites, then the decided calls inside
 * the copied bodies (a queue: inlined callees are never recursive, so it ends),
 * verifies (debug builds), and cleans the function up with dce. */
static bool apply_one(Inliner *in, IrFunc *f, WsError *err) {
    const InlFunc *fn = &in->funcs[f->index];
    InlSplicer s;
    inline_splicer_init(&s, in->m, f, in->sites, in->funcs);
    s.nested = true;
    s.no_block_params = !in->block_params;
    NodeId *calls = NULL;
    uint32_t cap = 0, ncalls = 0;
    for (uint32_t i = 0; i < fn->nsites; i++) {
        const InlSite *site = &in->sites[fn->first_site + i];
        if (site->state != INL_YES) continue;
        if (!calls) ncalls = collect_calls(f, &calls, &cap);
        if (i >= ncalls) break;
        ws_grow((void **)&s.queue_callee, &s.cap_queue_callee, s.nqueue + 1, sizeof(uint32_t));
        s.queue_callee[s.nqueue] = site->callee;
        WS_VEC_PUSH(s.queue, s.nqueue, s.cap_queue, calls[i]);
    }
    bool ok = true, skipped;
    for (uint32_t q = 0; q < s.nqueue && ok; q++) ok = inline_splice(&s, s.queue[q], s.queue_callee[q], NULL, &skipped, err);
    in->spliced[f->index - in->m->nfunc_imports] = s.nsplices;
    inline_splicer_free(&s);
    free(calls);
    return ok && verify(f, err) && dce_function(f, in->ctx, err) && verify(f, err);
}

typedef struct Apply {
    Inliner *in;
    uint32_t *callers;       /* functions with decided sites */
    IrFunc *w;               /* by pool worker */
    Buf *out;                /* new body by job */
    WsError **errors;        /* by job */
} Apply;

static void apply_job(void *arg, uint32_t k, uint32_t worker) {
    Apply *a = arg;
    IrFunc *f = &a->w[worker];
    WsError err;
    memset(&err, 0, sizeof err);
    if (ir_build(f, a->in->m, a->callers[k], &err) && apply_one(a->in, f, &err)) ir_lower(f, &a->out[k]);
    else a->errors[k] = copy_error(&err);
}

/* Contract: the new bodies, in one block the module owns, replace the callers' (only
 * those: the other functions are not touched at all). */
static void install(Module *m, const uint32_t *callers, const Buf *out, uint32_t n) {
    size_t total = 0, at = 0;
    for (uint32_t k = 0; k < n; k++) total += out[k].len;
    uint8_t *block = module_own(m, ws_malloc(total + 1));
    for (uint32_t k = 0; k < n; k++) {
        Func *fn = &m->funcs[callers[k]];
        memcpy(block + at, out[k].data, out[k].len);
        if (fn->body.len != out[k].len || memcmp(fn->body.p, out[k].data, out[k].len)) m->code_changed = true;
        fn->changed = true;
        fn->body.p = block + at;
        fn->body.len = (uint32_t)out[k].len;
        at += out[k].len;
    }
}

/* Contract: rewrites every function with a decided site (in parallel, placed by
 * function order); false with ctx->err set from the first failing one. */
static bool apply(Inliner *in) {
    Module *m = in->m;
    uint32_t n, jobs = in->ctx->jobs ? in->ctx->jobs : 1;
    uint32_t *callers = callers_with(in, INL_YES, &n);
    Apply a = {in, callers, ws_calloc(jobs, sizeof(IrFunc)), ws_calloc(n + 1, sizeof(Buf)),
               ws_calloc(n + 1, sizeof(WsError *))};
    pool_for(jobs, n, apply_job, &a);
    bool ok = true;
    for (uint32_t k = 0; k < n; k++) {
        if (a.errors[k] && ok) { memcpy(&in->ctx->err, a.errors[k], sizeof(WsError)); ok = false; }
        free(a.errors[k]);
    }
    if (ok && n) install(m, callers, a.out, n);
    for (uint32_t i = 0; i < jobs; i++) ir_free(&a.w[i]);
    for (uint32_t k = 0; k < n; k++) buf_free(&a.out[k]);
    free(a.w);
    free(a.out);
    free(a.errors);
    free(callers);
    return ok;
}

/* ---- report ---- */

static void print_func(FILE *out, const Bytes *names, uint32_t f) {
    if (names[f].len) fprintf(out, "$%.*s", (int)names[f].len, (const char *)names[f].p);
    else fprintf(out, "#%u", f);
}

static const char *why_word(uint8_t why) {
    static const char *const words[] = {"", "tiny", "single call", "hot", "small", "smaller"};
    return why < WS_ARRAY_LEN(words) ? words[why] : "";
}

/* True when every call of f is inlined and nothing else references it. */
static bool inlined_away(const Inliner *in, uint32_t f) {
    const InlFunc *fn = &in->funcs[f];
    return fn->defined && !fn->referenced && fn->ncalls > 0 && fn->ninlined == fn->ncalls;
}

/* Contract: one line per inlined site and per callee inlined away (estimates from the
 * measurements), then the totals actually reached. */
static void report(const Inliner *in, uint64_t after, uint32_t splices, uint32_t away) {
    const Module *m = in->m;
    FILE *out = in->opt->report_out ? in->opt->report_out : stderr;
    Bytes *names = ws_calloc(m->nfuncs + 1, sizeof(Bytes));
    names_functions(m, names);
    uint32_t decided = 0;
    for (uint32_t i = 0; i < in->nsites; i++) {
        const InlSite *s = &in->sites[i];
        if (s->state != INL_YES) continue;
        decided++;
        fputs("inline: ", out);
        print_func(out, names, s->callee);
        fputs(" into ", out);
        print_func(out, names, s->caller);
        fprintf(out, " (call %u, %s): %+lld B\n", i - in->funcs[s->caller].first_site, why_word(s->why),
                (long long)(s->delta + in->funcs[s->callee].extra));
    }
    for (uint32_t f = m->nfunc_imports; f < m->nfuncs; f++) {
        if (!inlined_away(in, f)) continue;
        fputs("inline: ", out);
        print_func(out, names, f);
        fprintf(out, " inlined away (%u call%s): -%lld B when deleted\n", in->funcs[f].ncalls,
                in->funcs[f].ncalls == 1 ? "" : "s", (long long)inline_removal_gain(in, f));
    }
    fprintf(out, "inline: %u sites decided, %u splices (with the calls inside copied bodies), %u functions "
                 "inlined away; code %llu -> %llu B (%+lld B, measured after cleanup, without the functions "
                 "inlined away)\n",
            decided, splices, away, (unsigned long long)in->code_total, (unsigned long long)after,
            (long long)after - (long long)in->code_total);
    free(names);
}

/* Contract: counts, report, and the scratch freed. */
static void finish(Inliner *in) {
    const Module *m = in->m;
    uint32_t splices = 0, away = 0;
    uint64_t after = 0;
    for (uint32_t f = m->nfunc_imports; f < m->nfuncs; f++) {
        splices += in->spliced[f - m->nfunc_imports];
        if (inlined_away(in, f)) away++;
        else after += m->funcs[f].body.len;
    }
    in->ctx->stats.calls_inlined += splices;
    in->ctx->stats.funcs_inlined_away += away;
    if (in->opt->report) report(in, after, splices, away);
}

static void inliner_free(Inliner *in) {
    free(in->sites);
    free(in->funcs);
    free(in->callee_sites);
    free(in->callee_first);
    free(in->order);
    free(in->spliced);
}

void pass_inline(PassCtx *ctx, Module *m) {
    if (ctx->failed) return;
    Inliner in;
    setup(&in, ctx, m);
    bool ok = inline_scan(&in);
    in.budget = in.code_total * budget_pct(&in) / 100;
    if (ok) inline_choose_trials(&in);
    ok = ok && run_trials(&in);
    if (ok) inline_decide(&in);
    in.spliced = ws_calloc(module_ndefined_funcs(m) + 1, sizeof(uint32_t));
    ok = ok && apply(&in);
    if (ok) finish(&in);
    else ctx->failed = true;
    inliner_free(&in);
}
