/* funcmap.c - per-function IR round trips on the thread pool.  Results are placed by
 * function index and stitched in order, so the output never depends on scheduling. */
#include "funcmap.h"
#include "leb.h"
#include "pool.h"
#include "validate.h"
#include <stdio.h>
#include <stdlib.h>

typedef struct MapJob {
    Module *m;
    bool analyze_only;
    IrFunc *workers;   /* one reusable IrFunc per worker thread */
    Validator **checkers; /* per worker, or NULL: bodies validated as they are built */
    const uint8_t *want;  /* per defined function: 0 = leave it alone (NULL: all) */
    FuncTransform fn;
    void *ctx;
    Buf *out;          /* new body per defined function */
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

/* Contract: one function: build, transform, verify, lower into job->out[k]. */
static void map_one(void *arg, uint32_t k, uint32_t worker) {
    (void)worker;
    MapJob *job = arg;
    uint32_t index = job->m->nfunc_imports + k;
    if (job->want && !job->want[k]) return;
    IrFunc *f = &job->workers[worker];
    WsError err;
    memset(&err, 0, sizeof err);
    Validator *check = job->checkers ? job->checkers[worker] : NULL;
    bool ok = ir_build_checked(f, job->m, index, check, &err) && verify(f, &err);
    if (ok && check) job->m->funcs[index].valid = true; /* the input body; install_bodies
                                                           clears it if the bytes move */
    if (ok && job->fn) ok = job->fn(f, job->ctx, &err) && verify(f, &err);
    if (ok && !job->analyze_only) ir_lower(f, &job->out[k]);
    if (!ok) job->errors[k] = copy_error(&err);
}

/* Contract: hands each new body's buffer (trimmed) to the module and points the
 * function at it, marking m->code_changed when any bytes moved; a body whose bytes did
 * not move keeps them, and its validation mark. */
static void install_bodies(Module *m, Buf *out, uint32_t n, const uint8_t *want) {
    for (uint32_t k = 0; k < n; k++) {
        if (want && !want[k]) continue;
        Func *f = &m->funcs[m->nfunc_imports + k];
        bool same = f->body.len == out[k].len && !memcmp(f->body.p, out[k].data, out[k].len);
        f->changed = true; /* canonical now, whether or not the bytes moved */
        if (same) continue; /* keep the bytes it has (buffer freed by the caller) */
        m->code_changed = true;
        f->valid = false;
        f->body.p = module_own(m, ws_realloc(out[k].data, out[k].len + 1));
        f->body.len = (uint32_t)out[k].len;
        out[k].data = NULL;
        out[k].len = out[k].cap = 0;
    }
}

static bool map_functions(Module *m, bool analyze_only, uint32_t nthreads, const Validator *v,
                          const uint8_t *want, FuncTransform fn, void *ctx, WsError *err) {
    uint32_t n = module_ndefined_funcs(m);
    if (nthreads < 1) nthreads = 1;
    MapJob job = {m, analyze_only, ws_calloc(nthreads, sizeof(IrFunc)), NULL, want, fn, ctx,
                  ws_calloc(n + 1, sizeof(Buf)), ws_calloc(n + 1, sizeof(WsError *))};
    if (v) {
        job.checkers = ws_calloc(nthreads, sizeof *job.checkers);
        for (uint32_t t = 0; t < nthreads; t++) job.checkers[t] = validator_worker(v);
    }
    pool_for(nthreads, n, map_one, &job);
    for (uint32_t t = 0; t < nthreads; t++) ir_free(&job.workers[t]);
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
    if (ok && !analyze_only) install_bodies(m, job.out, n, want);
    for (uint32_t k = 0; k < n; k++) buf_free(&job.out[k]);
    free(job.out);
    free(job.errors);
    return ok;
}

bool module_rewrite_functions(Module *m, uint32_t nthreads, FuncTransform fn, void *ctx, WsError *err) {
    return map_functions(m, false, nthreads, NULL, NULL, fn, ctx, err);
}

bool module_rewrite_some(Module *m, uint32_t nthreads, const uint8_t *want, FuncTransform fn, void *ctx,
                         WsError *err) {
    return map_functions(m, false, nthreads, NULL, want, fn, ctx, err);
}

bool module_analyze_some(Module *m, uint32_t nthreads, const uint8_t *want, FuncTransform fn, void *ctx,
                         WsError *err) {
    return map_functions(m, true, nthreads, NULL, want, fn, ctx, err);
}

bool module_rewrite_functions_checked(Module *m, uint32_t nthreads, const Validator *v, FuncTransform fn,
                                      void *ctx, WsError *err) {
    return map_functions(m, false, nthreads, v, NULL, fn, ctx, err);
}

bool module_analyze_functions(Module *m, uint32_t nthreads, FuncTransform fn, void *ctx, WsError *err) {
    return map_functions(m, true, nthreads, NULL, NULL, fn, ctx, err);
}
