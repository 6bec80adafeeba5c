/* pool.h - parallel for over an index range on pthreads. */
#ifndef WS_POOL_H
#define WS_POOL_H

#include "common.h"

/* Calls fn(ctx, i, worker) for every i in [0, n) on up to nthreads threads (worker in
 * [0, nthreads)); nthreads <= 1 runs inline, and so does a call made while another is
 * in progress (from inside fn).  Items are handed out in small chunks by an atomic
 * counter, so the order of calls varies but each i runs exactly once.  The workers are
 * started at the first call and stay (parked) until the process ends. */
void pool_for(uint32_t nthreads, uint32_t n, void (*fn)(void *ctx, uint32_t i, uint32_t worker), void *ctx);
/* The thread count for parallel steps not told one: what pool_set_default_threads set
 * (the CLI's -j N), else the online processors (at least 1). */
uint32_t pool_default_threads(void);
/* Sets it (0: back to the online processors). */
void pool_set_default_threads(uint32_t n);

#endif
