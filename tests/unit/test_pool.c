/* test_pool.c - the worker pool (ir/pool.c): every item runs exactly once whatever the
 * thread count, calls reuse the parked workers, a call made from inside a call runs
 * inline, and threads are bound to CPUs only when each can have its own. */
#define _GNU_SOURCE /* sched_getaffinity, pthread_getaffinity_np, CPU_* */
#include "../../ir/leb.h"
#include "../../ir/module.h"
#include "../../ir/pool.h"
#include "../../ir/validate.h"
#include <criterion/criterion.h>
#include <dirent.h>
#include <pthread.h>
#include <sched.h>
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

/* -j N sets the thread count of every parallel step that is not told one (the
 * validator's); 0 goes back to the online processors. */
Test(pool, default_threads_follow_the_setting) {
    uint32_t online = pool_default_threads();
    cr_assert_geq(online, 1);
    pool_set_default_threads(1);
    cr_assert_eq(pool_default_threads(), 1);
    pool_set_default_threads(3);
    cr_assert_eq(pool_default_threads(), 3);
    pool_set_default_threads(0);
    cr_assert_eq(pool_default_threads(), online);
}

/* Threads of this process (Linux: /proc/self/task), or -1 without /proc. */
static int thread_count(void) {
    DIR *d = opendir("/proc/self/task");
    if (!d) return -1;
    int n = 0;
    for (struct dirent *e; (e = readdir(d));) n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

/* A valid module of 2,000 functions of 100 nops each: 204 KB of code, enough for the
 * validator to check bodies on the pool. */
static void many_bodies(Buf *b) {
    static const uint8_t head[] = {0, 'a', 's', 'm', 1, 0, 0, 0, 1, 4, 1, 0x60, 0, 0};
    enum { FUNCS = 2000, NOPS = 100 };
    buf_bytes(b, head, sizeof head);
    Buf sec = {0};
    buf_u32(&sec, FUNCS);
    for (int i = 0; i < FUNCS; i++) buf_u8(&sec, 0);
    buf_u8(b, 3);
    buf_u32(b, (uint32_t)sec.len);
    buf_bytes(b, sec.data, sec.len);
    sec.len = 0;
    buf_u32(&sec, FUNCS);
    for (int i = 0; i < FUNCS; i++) {
        buf_u32(&sec, NOPS + 2);
        buf_u8(&sec, 0); /* no locals */
        for (int k = 0; k < NOPS; k++) buf_u8(&sec, 0x01);
        buf_u8(&sec, 0x0b);
    }
    buf_u8(b, 10);
    buf_u32(b, (uint32_t)sec.len);
    buf_bytes(b, sec.data, sec.len);
    buf_free(&sec);
}

/* -j 1 (pool_set_default_threads(1)) keeps the validation of many bodies on the calling
 * thread; with 2 the pool starts one worker (and keeps it). */
Test(pool, validation_starts_no_thread_under_j1) {
    Buf b = {0};
    many_bodies(&b);
    Module m;
    WsError err;
    ReadOptions ro = {0};
    cr_assert(module_read(&m, b.data, b.len, "many.wasm", &ro, &err), "%s", err.msg);
    int before = thread_count();
    if (before < 0) cr_skip_test("no /proc/self/task");
    pool_set_default_threads(1);
    cr_assert(module_validate(&m, &err), "%s", err.msg);
    cr_assert_eq(thread_count(), before, "-j1 started a thread");
    pool_set_default_threads(2);
    cr_assert(module_validate(&m, &err), "%s", err.msg);
    cr_assert_eq(thread_count(), before + 1, "the pool's worker");
    cr_assert(module_validate(&m, &err), "%s", err.msg);
    cr_assert_eq(thread_count(), before + 1, "the same worker again");
    pool_set_default_threads(0);
    module_free(&m);
    buf_free(&b);
}

/* What each thread's CPU mask was while it ran items (the mask of the last item it ran). */
typedef struct Masks {
    cpu_set_t of[4];
    atomic_uint seen; /* bit w: worker w ran an item */
} Masks;

static void note_mask(void *ctx, uint32_t i, uint32_t worker) {
    Masks *m = ctx;
    (void)i;
    if (worker >= 4) return;
    pthread_getaffinity_np(pthread_self(), sizeof m->of[worker], &m->of[worker]);
    atomic_fetch_or(&m->seen, 1u << worker);
    for (volatile uint32_t k = 0; k < 20000; k++) {} /* long enough for the worker to take items */
}

/* With a CPU per thread allowed, a call binds its caller to one CPU and the worker to
 * the next allowed one, and gives the caller its own mask back. */
Test(pool, threads_are_bound_only_with_a_cpu_each, .timeout = 60) {
    cpu_set_t allowed, after;
    cr_assert_eq(sched_getaffinity(0, sizeof allowed, &allowed), 0);
    if (CPU_COUNT(&allowed) < 2) cr_skip_test("one CPU allowed: nothing to bind");
    Masks m;
    memset(&m, 0, sizeof m);
    for (int round = 0; round < 50 && atomic_load(&m.seen) != 3; round++) pool_for(2, 400, note_mask, &m);
    cr_assert_eq(atomic_load(&m.seen), 3, "the worker never ran an item in 50 calls");
    cr_assert_eq(CPU_COUNT(&m.of[0]), 1, "the caller runs bound to its home CPU during a call");
    cr_assert_eq(CPU_COUNT(&m.of[1]), 1, "the worker is bound to one CPU");
    cr_assert(!CPU_EQUAL(&m.of[0], &m.of[1]), "caller and worker share a CPU");
    int home = 0, next = -1;
    while (!CPU_ISSET(home, &m.of[0])) home++;
    for (int step = 1; step < CPU_SETSIZE && next < 0; step++)
        if (CPU_ISSET((home + step) % CPU_SETSIZE, &allowed)) next = (home + step) % CPU_SETSIZE;
    cr_assert(CPU_ISSET(next, &m.of[1]), "the worker is not on the allowed CPU after the caller's");
    cr_assert_eq(pthread_getaffinity_np(pthread_self(), sizeof after, &after), 0);
    cr_assert(CPU_EQUAL(&after, &allowed), "the caller did not get its own mask back");
}

/* With fewer CPUs allowed than threads, no thread is bound: the caller and the worker
 * run with the process's mask. */
Test(pool, more_threads_than_cpus_binds_nothing, .timeout = 60) {
    cpu_set_t allowed;
    cr_assert_eq(sched_getaffinity(0, sizeof allowed, &allowed), 0);
    uint32_t threads = (uint32_t)CPU_COUNT(&allowed) + 1; /* as -j 3 on two CPUs, or -j 2 on one */
    Masks m;
    memset(&m, 0, sizeof m);
    for (int round = 0; round < 50 && (atomic_load(&m.seen) & 3) != 3; round++) pool_for(threads, 400, note_mask, &m);
    cr_assert_eq(atomic_load(&m.seen) & 3, 3, "worker 1 never ran an item in 50 calls");
    cr_assert(CPU_EQUAL(&m.of[0], &allowed), "the caller's mask changed");
    cr_assert(CPU_EQUAL(&m.of[1], &allowed), "a worker was bound though the CPUs are fewer than the threads");
}
