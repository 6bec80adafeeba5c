/* funcmap.c - per-function IR round trips on the thread pool.  Results are placed by
 * function index and stitched in order, so the output never depends on scheduling. */
#include "funcmap.h"
#include "leb.h"
#include "pool.h"
#include "validate.h"
#include <stdio.h>
#include <stdlib.h>

/* What map_functions does with each function's IR after the transform. */
typedef enum MapMode {
    MAP_REWRITE,   /* lower it and install the bodies whose bytes moved */
    MAP_ANALYZE,   /* nothing: the transform was an analysis */
    MAP_CHECK,     /* lower it (the round trip works), keep the input's bytes */
} MapMode;

typedef struct MapJob {
    Module *m;
    MapMode mode;
    IrFunc *workers;   /* one reusable IrFunc per worker thread */
    Validator **checkers; /* per worker, or NULL: bodies validated as they are built */
    const uint8_t *want;  /* per defined function: 0 = leave it alone (NULL: all) */
    FuncTransform fn;
    void *ctx;
    Buf *out;          /* new body per defined function (empty when its bytes did not move) */
    uint8_t *same;     /* per defined function: LOWERED_* */
    Buf *scratch;      /* per worker: where bodies are lowered before the comparison */
    WsError **errors;  /* set for failing functions */
} MapJob;

static WsError *copy_error(const WsError *e) {
    WsError *copy = ws_malloc(sizeof *copy);
    memcpy(copy, e, sizeof *copy);
    return copy;
}

#ifdef WS_DEBUG
static bool verify(IrFunc *f, WsError *err) {
    char msg[256];
    if (ir_verify(f, msg, sizeof msg)) return true;
    err->offset = f->m->funcs[f->index].body_offset;
    snprintf(err->msg, sizeof err->msg, "internal error: IR of function %u fails verification: %s", f->index, msg);
    return false;
}
#else
static bool verify(IrFunc *f, WsError *err) { (void)f; (void)err; return true; }
#endif

/* How a lowered body compares with the one the function had. */
enum {
    LOWERED_MOVED = 0,   /* other bytes: validated again before writing */
    LOWERED_SAME = 1,    /* the same bytes (no copy is ever held) */
    LOWERED_CANON = 2,   /* other bytes, exactly the writer's canonical re-encoding of the
                            input body the job checked (padded LEBs made minimal): as valid
                            as it, as every body the writer re-encodes on copying */
};

/* Contract: true when lowered is what the writer's canonical re-encoding of function
 * index's body gives (into canon: the worker's scratch, done with, so that the check
 * touches no new memory). */
static bool lowered_is_canonical(const Module *m, uint32_t index, const Buf *lowered, Buf *canon) {
    const Bytes *body = &m->funcs[index].body;
    WsError err = {0};
    if (setjmp(err.jb)) return false;
    Cursor c = {m->input, body->p, body->p + body->len, &err};
    canon->len = 0;
    body_canonicalize(&c, canon);
    return canon->len == lowered->len && !memcmp(canon->data, lowered->data, lowered->len);
}

/* Contract: lowers f into the worker's scratch (MAP_CHECK: only that) and compares it
 * with the body it has while both are in cache: a body that did not move is only noted
 * in job->same (no copy of it is ever held); one that moved is copied out to
 * job->out[k], sized exactly, and noted LOWERED_CANON when the job checked the input
 * body and changed nothing but its encoding (a round trip without transform). */
static void keep_lowered(MapJob *job, IrFunc *f, uint32_t k, uint32_t worker) {
    Buf *scratch = &job->scratch[worker];
    scratch->len = 0;
    ir_lower(f, scratch);
    if (job->mode == MAP_CHECK) return; /* the round trip works; the input's bytes stay */
    const Bytes *body = &job->m->funcs[f->index].body;
    if (body->len == scratch->len && !memcmp(body->p, scratch->data, scratch->len)) {
        job->same[k] = LOWERED_SAME;
        return;
    }
    Buf *out = &job->out[k];
    out->data = ws_malloc(scratch->len + 1);
    memcpy(out->data, scratch->data, scratch->len);
    out->len = out->cap = scratch->len;
    if (job->checkers && !job->fn && lowered_is_canonical(job->m, f->index, out, scratch))
        job->same[k] = LOWERED_CANON;
}

#ifdef WS_DEBUG
/* Contract: in debug builds, a body the builder's own type check passed is checked by
 * the validator as well: disagreement is an internal error. */
static bool builder_check_agrees(Validator *check, const IrFunc *f, WsError *err) {
    if (validator_check_body(check, f->index, err)) return true;
    char msg[sizeof err->msg];
    memcpy(msg, err->msg, sizeof msg);
    snprintf(err->msg, sizeof err->msg, "internal error: the IR builder's type check passed function %u, "
             "the validator says: %.150s", f->index, msg);
    return false;
}
#else
static bool builder_check_agrees(Validator *check, const IrFunc *f, WsError *err) {
    (void)check; (void)f; (void)err;
    return true;
}
#endif

/* Contract: builds function `index` of the job's module into f, with the input body
 * checked first when the job checks (-O0, metering): by the builder's own type check
 * when it covers the whole body (f->checked), else by the validator, whose error (the
 * first in the body, at its offset) is the one reported for an invalid body.  The check
 * is against the validator's module, which may be a view of the job's from before a
 * pass appended to it (the metering pass's globals and types); the IR then refers to
 * the job's module. */
static bool build_checked(MapJob *job, Validator *check, IrFunc *f, uint32_t index, WsError *err) {
    if (!check) return ir_build(f, job->m, index, err);
    bool built = ir_build_checked(f, validator_module(check), index, err);
    f->m = job->m;
    if (built && f->checked) return builder_check_agrees(check, f, err);
    WsError verr;
    memset(&verr, 0, sizeof verr);
    if (validator_check_body(check, index, &verr)) return built;
    memcpy(err, &verr, sizeof *err);
    return false;
}

/* Contract: one function: check (-O0: the input body), build, transform, verify, lower
 * (keep_lowered). */
static void map_one(void *arg, uint32_t k, uint32_t worker) {
    (void)worker;
    MapJob *job = arg;
    uint32_t index = job->m->nfunc_imports + k;
    if (job->want && !job->want[k]) return;
    IrFunc *f = &job->workers[worker];
    WsError err;
    memset(&err, 0, sizeof err);
    Validator *check = job->checkers ? job->checkers[worker] : NULL;
    bool ok = build_checked(job, check, f, index, &err) && verify(f, &err);
    if (ok && check) job->m->funcs[index].valid = true; /* the input body; install_bodies
                                                           clears it if the bytes move */
    if (ok && job->fn) ok = job->fn(f, job->ctx, &err) && verify(f, &err);
    if (ok && job->mode != MAP_ANALYZE) keep_lowered(job, f, k, worker);
    if (!ok) job->errors[k] = copy_error(&err);
}

/* Contract: hands each new body's buffer to the module and points the function at it,
 * marking m->code_changed when any bytes moved; a body whose bytes did not move keeps
 * them, and its validation mark, as does one lowered to its canonical form
 * (LOWERED_CANON). */
static void install_bodies(Module *m, Buf *out, const uint8_t *same, uint32_t n, const uint8_t *want) {
    for (uint32_t k = 0; k < n; k++) {
        if (want && !want[k]) continue;
        Func *f = &m->funcs[m->nfunc_imports + k];
        f->changed = true; /* canonical now, whether or not the bytes moved */
        if (same[k] == LOWERED_SAME) continue; /* keep the bytes it has */
        m->code_changed = true;
        if (same[k] != LOWERED_CANON) f->valid = false;
        f->body.p = module_own(m, out[k].data);
        f->body.len = (uint32_t)out[k].len;
        out[k].data = NULL;
        out[k].len = out[k].cap = 0;
    }
}

static bool map_functions(Module *m, MapMode mode, uint32_t nthreads, const Validator *v,
                          const uint8_t *want, FuncTransform fn, void *ctx, WsError *err) {
    uint32_t n = module_ndefined_funcs(m);
    if (nthreads < 1) nthreads = 1;
    MapJob job = {m, mode, ws_calloc(nthreads, sizeof(IrFunc)), NULL, want, fn, ctx,
                  ws_calloc(n + 1, sizeof(Buf)), ws_calloc(n + 1, 1), ws_calloc(nthreads, sizeof(Buf)),
                  ws_calloc(n + 1, sizeof(WsError *))};
    if (v) {
        job.checkers = ws_calloc(nthreads, sizeof *job.checkers);
        for (uint32_t t = 0; t < nthreads; t++) job.checkers[t] = validator_worker(v);
    }
    pool_for(nthreads, n, map_one, &job);
    for (uint32_t t = 0; t < nthreads; t++) {
        ir_free(&job.workers[t]);
        buf_free(&job.scratch[t]);
    }
    free(job.scratch);
    for (uint32_t t = 0; v && t < nthreads; t++) validator_worker_free(job.checkers[t]);
    free(job.checkers);
    free(job.workers);
    bool ok = true;
    for (uint32_t k = 0; k < n; k++) {
        if (job.errors[k] && ok) {
            memcpy(err, job.errors[k], sizeof *err);
            ok = false;
        }
        free(job.errors[k]);
    }
    if (ok && mode == MAP_REWRITE) install_bodies(m, job.out, job.same, n, want);
    for (uint32_t k = 0; k < n; k++) buf_free(&job.out[k]);
    free(job.out);
    free(job.same);
    free(job.errors);
    return ok;
}

bool module_rewrite_functions(Module *m, uint32_t nthreads, FuncTransform fn, void *ctx, WsError *err) {
    return map_functions(m, MAP_REWRITE, nthreads, NULL, NULL, fn, ctx, err);
}

bool module_rewrite_some(Module *m, uint32_t nthreads, const uint8_t *want, FuncTransform fn, void *ctx,
                         WsError *err) {
    return map_functions(m, MAP_REWRITE, nthreads, NULL, want, fn, ctx, err);
}

bool module_analyze_some(Module *m, uint32_t nthreads, const uint8_t *want, FuncTransform fn, void *ctx,
                         WsError *err) {
    return map_functions(m, MAP_ANALYZE, nthreads, NULL, want, fn, ctx, err);
}

bool module_rewrite_functions_checked(Module *m, uint32_t nthreads, const Validator *v, FuncTransform fn,
                                      void *ctx, WsError *err) {
    return map_functions(m, MAP_REWRITE, nthreads, v, NULL, fn, ctx, err);
}

bool module_check_functions(Module *m, uint32_t nthreads, const Validator *v, WsError *err) {
    return map_functions(m, MAP_CHECK, nthreads, v, NULL, NULL, NULL, err);
}

bool module_analyze_functions(Module *m, uint32_t nthreads, FuncTransform fn, void *ctx, WsError *err) {
    return map_functions(m, MAP_ANALYZE, nthreads, NULL, NULL, fn, ctx, err);
}
