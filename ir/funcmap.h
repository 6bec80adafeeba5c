/* funcmap.h - build, transform and lower every defined function, in parallel. */
#ifndef WS_FUNCMAP_H
#define WS_FUNCMAP_H

#include "func.h"

/* A function-level transform on one function's IR; returns false with *err set to stop
 * the run.  May be NULL (round trip through the IR). */
typedef bool (*FuncTransform)(IrFunc *f, void *ctx, WsError *err);

/* Builds the IR of every defined function of m, applies fn, verifies the IR in debug
 * builds (WS_DEBUG), lowers it and replaces the bodies.  Bodies whose bytes changed are
 * marked changed, and m->code_changed is set if any did.  Output is the same for any
 * nthreads.  On failure returns false with the error of the lowest-index failing
 * function, leaving m unchanged. */
bool module_rewrite_functions(Module *m, uint32_t nthreads, FuncTransform fn, void *ctx, WsError *err);
/* The same, each body first validated by a worker of v (validator_begin), right before
 * it is built, while its bytes are in cache.  Bodies that pass are marked valid.  v's
 * module may be a view of m with fewer types, globals, ... (m appended to since). */
struct Validator;
bool module_rewrite_functions_checked(Module *m, uint32_t nthreads, const struct Validator *v, FuncTransform fn,
                                      void *ctx, WsError *err);

/* The round trip of module_rewrite_functions_checked without its result: each body is
 * validated by v (if not NULL), built, verified and lowered, and keeps its input bytes
 * (-O0 on a module whose DWARF describes them). */
bool module_check_functions(Module *m, uint32_t nthreads, const struct Validator *v, WsError *err);
/* Builds every defined function's IR and calls fn on it (in parallel), without lowering
 * or changing the module: for analyses.  fn must only write per-function slots of its
 * context.  Returns false with the lowest-index failure. */
bool module_analyze_functions(Module *m, uint32_t nthreads, FuncTransform fn, void *ctx, WsError *err);

/* The same two for the defined functions k (index nfunc_imports + k) with want[k] set;
 * the others are not built and keep their bodies. */
bool module_rewrite_some(Module *m, uint32_t nthreads, const uint8_t *want, FuncTransform fn, void *ctx,
                         WsError *err);
bool module_analyze_some(Module *m, uint32_t nthreads, const uint8_t *want, FuncTransform fn, void *ctx,
                         WsError *err);

#endif
