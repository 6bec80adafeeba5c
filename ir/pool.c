/* pool.c - a fork/join pool: workers started once, at the first parallel call, then
 * parked between calls; work is claimed in chunks through an atomic counter.
 *
 * Why parked and not started per call: a thread created by a busy thread may wait on
 * its creator's CPU until the creator blocks (measured in our 2-vCPU VMs: 0.2 ms
 * usually, 2.5-3 ms one time in three), so a short parallel step often ran on one CPU;
 * a worker that already runs elsewhere takes the next step at once.  Between calls a
 * worker spins briefly (the next step often follows within microseconds), then sleeps
 * on a condition variable.  Calls from inside a call (or from two threads at once) run
 * inline.
 *
 * Why nobody waits for a worker to arrive: waking a sleeping or new thread on the other
 * CPU of these VMs takes 0.3 ms at best (the idle virtual CPU is woken by the host),
 * and sql-wasm.wasm -O1's first parallel step began 0.5-3.8 ms late while the caller
 * waited for its new worker to run.  So a worker joins a call only while it is open:
 * the caller works from the start, and when its share is done it closes the call and
 * waits only for the workers that joined (they are running chunks).  A worker that
 * arrives after that sits the call out.  Unbound new workers are still waited for at
 * the first call (blocking, so that the scheduler spreads them).
 *
 * Why bound to CPUs: in the same VMs the scheduler left a new thread on its creator's
 * CPU for milliseconds while the other idled (a test program's two 3.5 ms halves took
 * 7 ms in 9 runs of 10), and sql-wasm.wasm -O1's first parallel step took 4.5-5.7 ms
 * instead of 2.5 in half the runs.  So when the process may use a CPU per thread, each
 * worker is bound to one of them other than the first caller's (the next ones after
 * it, so that processes started on different CPUs do not share), and during each call
 * the calling thread is bound to that first caller's CPU ("home"; its own CPU mask is
 * given back when the call ends).  Binding the workers alone was worse: a caller woken
 * by a worker then ran on the worker's CPU, sharing it with the worker's spinning. */
#define _GNU_SOURCE /* pthread_attr_setaffinity_np, pthread_setaffinity_np, sched_getcpu */
#include "pool.h"
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>

enum { POOL_CHUNK = 8, POOL_MAX = 64, SPIN_ROUNDS = 20000 };

typedef struct Pool {
    pthread_mutex_t lock;
    pthread_cond_t wake;       /* a new call was published */
    pthread_cond_t done;       /* the last worker of a call finished */
    _Atomic uint64_t call;     /* number of the current call << 8 | its thread count */
    bool open;                 /* workers may still join the current call (under lock) */
    atomic_uint active;        /* workers that joined the current call and still run */
    atomic_uint next;          /* next item to hand out */
    void (*fn)(void *ctx, uint32_t i, uint32_t worker);
    void *ctx;
    uint32_t n;
    uint32_t started;          /* workers created, ids 1 .. started */
    atomic_uint running;       /* workers that have begun to run */
    atomic_flag busy;          /* a call is in progress */
    int home;                  /* the CPU callers are bound to during a call; -1: none */
} Pool;

static Pool pool = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, PTHREAD_COND_INITIALIZER,
                    0, false, 0, 0, NULL, NULL, 0, 0, 0, ATOMIC_FLAG_INIT, -1};

static inline void cpu_relax(void) {
#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
    __builtin_ia32_pause();
#endif
}

/* Contract: runs chunks of the current call until none is left. */
static void run_chunks(uint32_t worker) {
    for (;;) {
        uint32_t start = atomic_fetch_add(&pool.next, POOL_CHUNK);
        if (start >= pool.n) return;
        uint32_t end = start + POOL_CHUNK < pool.n ? start + POOL_CHUNK : pool.n;
        for (uint32_t i = start; i < end; i++) pool.fn(pool.ctx, i, worker);
    }
}

/* Contract: waits for a call other than `seen`, spinning a little, then asleep;
 * returns its word. */
static uint64_t await_call(uint64_t seen) {
    for (uint32_t k = 0; k < SPIN_ROUNDS; k++) {
        uint64_t c = atomic_load(&pool.call);
        if (c >> 8 != seen >> 8) return c;
        cpu_relax();
    }
    pthread_mutex_lock(&pool.lock);
    uint64_t c;
    while ((c = atomic_load(&pool.call)) >> 8 == seen >> 8) pthread_cond_wait(&pool.wake, &pool.lock);
    pthread_mutex_unlock(&pool.lock);
    return c;
}

/* Contract: true when the worker joined the call numbered `call` (still open: the
 * caller then waits for it, so the call's fields hold still until it reports done). */
static bool join_call(uint64_t call) {
    pthread_mutex_lock(&pool.lock);
    bool joined = pool.open && atomic_load(&pool.call) >> 8 == call >> 8;
    if (joined) atomic_fetch_add(&pool.active, 1);
    pthread_mutex_unlock(&pool.lock);
    return joined;
}

/* Contract: a worker's life: each call whose thread count includes it is joined if it
 * is still open and worked on; the others are only noted. */
static void *pool_worker(void *arg) {
    uint32_t id = (uint32_t)(uintptr_t)arg;
    ws_thread_heap_prepare();
    pthread_mutex_lock(&pool.lock);
    atomic_fetch_add(&pool.running, 1);
    pthread_cond_broadcast(&pool.done);
    pthread_mutex_unlock(&pool.lock);
    uint64_t seen = 0;
    for (;;) {
        seen = await_call(seen);
        if (id >= (uint32_t)(seen & 0xff) || !join_call(seen)) continue;
        run_chunks(id);
        if (atomic_fetch_sub(&pool.active, 1) == 1) {
            pthread_mutex_lock(&pool.lock);
            pthread_cond_signal(&pool.done);
            pthread_mutex_unlock(&pool.lock);
        }
    }
    return NULL;
}

/* Contract: when the process may use more CPUs than `want` workers: on the first start,
 * makes the caller's CPU the home, and binds the thread attr creates (worker number `k`
 * from 0) to the (k+1)-th allowed CPU after home, counting round from the last to the
 * first (so that processes with different homes spread their workers apart).  Leaves
 * attr as it is otherwise. */
static void bind_worker(pthread_attr_t *attr, uint32_t k, uint32_t want) {
    cpu_set_t allowed, one;
    if (sched_getaffinity(0, sizeof allowed, &allowed) != 0) return;
    if (pool.started == 0) {
        int here = sched_getcpu();
        if (here >= 0 && CPU_ISSET(here, &allowed) && (uint32_t)CPU_COUNT(&allowed) > want) pool.home = here;
    }
    if (pool.home < 0 || (uint32_t)CPU_COUNT(&allowed) <= want) return;
    CPU_ZERO(&one);
    for (int step = 1; step < CPU_SETSIZE; step++) {
        int cpu = (pool.home + step) % CPU_SETSIZE;
        if (!CPU_ISSET(cpu, &allowed) || k-- > 0) continue;
        CPU_SET(cpu, &one);
        pthread_attr_setaffinity_np(attr, sizeof one, &one); /* if refused: unbound */
        return;
    }
}

/* Contract: binds the calling thread to the home CPU, its mask saved in *saved; false
 * (nothing done) when there is no home or the mask cannot be read. */
static bool bind_caller(cpu_set_t *saved) {
    if (pool.home < 0 || pthread_getaffinity_np(pthread_self(), sizeof *saved, saved) != 0) return false;
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(pool.home, &one);
    return pthread_setaffinity_np(pthread_self(), sizeof one, &one) == 0;
}

/* Contract: starts workers until `want` run (fewer if the system refuses); returns how
 * many run. */
static uint32_t start_workers(uint32_t want) {
    while (pool.started < want) {
        pthread_t t;
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        bind_worker(&attr, pool.started, want);
        bool ok = pthread_create(&t, &attr, pool_worker, (void *)(uintptr_t)(pool.started + 1)) == 0;
        pthread_attr_destroy(&attr);
        if (!ok) break;
        pool.started++;
    }
    if (pool.home >= 0) return pool.started; /* bound: they will run where they must */
    pthread_mutex_lock(&pool.lock); /* until they run: the scheduler then spreads them */
    while (atomic_load(&pool.running) < pool.started) pthread_cond_wait(&pool.done, &pool.lock);
    pthread_mutex_unlock(&pool.lock);
    return pool.started;
}

/* Contract: closes the current call to workers not yet in it and waits for those in. */
static void close_call(void) {
    pthread_mutex_lock(&pool.lock);
    pool.open = false;
    pthread_mutex_unlock(&pool.lock);
    for (uint32_t k = 0; k < SPIN_ROUNDS && atomic_load(&pool.active); k++) cpu_relax();
    pthread_mutex_lock(&pool.lock);
    while (atomic_load(&pool.active)) pthread_cond_wait(&pool.done, &pool.lock);
    pthread_mutex_unlock(&pool.lock);
}

void pool_for(uint32_t nthreads, uint32_t n, void (*fn)(void *ctx, uint32_t i, uint32_t worker), void *ctx) {
    if (nthreads > POOL_MAX) nthreads = POOL_MAX;
    if (nthreads <= 1 || n <= POOL_CHUNK || atomic_flag_test_and_set(&pool.busy)) {
        for (uint32_t i = 0; i < n; i++) fn(ctx, i, 0);
        return;
    }
    uint32_t threads = start_workers(nthreads - 1) + 1;
    if (threads > nthreads) threads = nthreads;
    cpu_set_t saved;
    bool bound = bind_caller(&saved);
    pthread_mutex_lock(&pool.lock);
    pool.fn = fn;
    pool.ctx = ctx;
    pool.n = n;
    atomic_store(&pool.next, 0);
    atomic_store(&pool.active, 0);
    pool.open = true;
    uint64_t number = (atomic_load(&pool.call) >> 8) + 1;
    atomic_store(&pool.call, number << 8 | threads);
    pthread_cond_broadcast(&pool.wake);
    pthread_mutex_unlock(&pool.lock);
    run_chunks(0);
    close_call();
    if (bound) pthread_setaffinity_np(pthread_self(), sizeof saved, &saved);
    atomic_flag_clear(&pool.busy);
}

static atomic_uint default_threads; /* 0: the online processors */

void pool_set_default_threads(uint32_t n) { atomic_store(&default_threads, n > POOL_MAX ? POOL_MAX : n); }

uint32_t pool_default_threads(void) {
    uint32_t set = atomic_load(&default_threads);
    if (set) return set;
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : n > POOL_MAX ? POOL_MAX : (uint32_t)n;
}
