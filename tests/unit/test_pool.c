/* test_pool.c - the worker pool (ir/pool.c): every item runs exactly once whatever the
 * thread count, calls reuse the parked workers, and a call made from inside a call
 * runs inline. */
#include "../../ir/pool.h"
#include <criterion/criterion.h>
#include <stdatomic.h>
#include <stdlib.h>

typedef struct Tally {
    atomic_uint *runs;      /* per item: how many times it ran */
    atomic_uint workers;    /* bit w set when worker w ran an item */
    atomic_ulong nested;    /* items of calls made from inside a call */
    atomic_uint off_worker; /* of those, how many ran with a worker id other than 0 */
} Tally;

static void count(void *ctx, uint32_t i, uint32_t worker) {
    Tally *t = ctx;
    atomic_fetch_add(&t->runs[i], 1);
    atomic_fetch_or(&t->workers, 1u << (worker & 31));
}

Test(pool, every_item_once_for_any_thread_count, .timeout = 60) {
    enum { N = 5000 };
    Tally t = {calloc(N, sizeof(atomic_uint)), 0, 0, 0};
    for (uint32_t round = 0; round < 60; round++) {
        uint32_t n = 1 + round * 83 % N, threads = 1 + round % 5;
        for (uint32_t i = 0; i < N; i++) atomic_store(&t.runs[i], 0);
        atomic_store(&t.workers, 0);
        pool_for(threads, n, count, &t);
        for (uint32_t i = 0; i < N; i++)
            cr_assert_eq(atomic_load(&t.runs[i]), i < n, "round %u: item %u ran %u times", round, i,
                         atomic_load(&t.runs[i]));
        cr_assert_eq(atomic_load(&t.workers) >> threads, 0, "round %u: a worker id >= %u", round, threads);
    }
    free(t.runs);
}

static void inner(void *ctx, uint32_t i, uint32_t worker) {
    (void)i;
    Tally *t = ctx; /* no assertion here: this may run on a worker thread */
    if (worker != 0) atomic_fetch_add(&t->off_worker, 1);
    atomic_fetch_add(&t->nested, 1);
}

static void outer(void *ctx, uint32_t i, uint32_t worker) {
    Tally *t = ctx;
    count(ctx, i, worker);
    if (i % 10 == 0) pool_for(4, 20, inner, t);
}

Test(pool, a_call_from_inside_a_call_runs_inline, .timeout = 60) {
    enum { N = 200 };
    Tally t = {calloc(N, sizeof(atomic_uint)), 0, 0, 0};
    pool_for(2, N, outer, &t);
    for (uint32_t i = 0; i < N; i++) cr_assert_eq(atomic_load(&t.runs[i]), 1, "item %u", i);
    cr_assert_eq(atomic_load(&t.nested), 20 * 20);
    cr_assert_eq(atomic_load(&t.off_worker), 0, "a call inside a call runs inline, as worker 0");
    free(t.runs);
}
