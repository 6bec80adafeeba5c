/* common.c - allocation wrappers. */
#define _GNU_SOURCE /* MAP_ANONYMOUS, MADV_HUGEPAGE, mremap */
#include "common.h"
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

static WS_NORETURN void out_of_memory(size_t n) {
    fprintf(stderr, "wasmslim: error: out of memory (%zu bytes)\n", n);
    exit(2);
}

void *ws_malloc(size_t n) {
    void *p = malloc(n ? n : 1);
    if (!p) out_of_memory(n);
    return p;
}

void *ws_calloc(size_t count, size_t size) {
    void *p = calloc(count ? count : 1, size ? size : 1);
    if (!p) out_of_memory(count * size);
    return p;
}

void *ws_realloc(void *p, size_t n) {
    void *q = realloc(p, n ? n : 1);
    if (!q) out_of_memory(n);
    return q;
}

/* Contract: n bytes of zeroed memory for one large scratch area, in huge pages where
 * the system grants them (a 10 MB area then costs 5 page faults, not 2,560: 8% of a
 * 54 MB strip); freed with ws_big_free(p, n). */
void *ws_big_alloc(size_t n) {
    void *p = mmap(NULL, n ? n : 1, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) out_of_memory(n);
#ifdef MADV_HUGEPAGE
    madvise(p, n, MADV_HUGEPAGE); /* a hint: without it the area still works */
#endif
    return p;
}

void ws_big_free(void *p, size_t n) {
    if (p) munmap(p, n ? n : 1);
}

/* The capacity a growable array of cap elements takes to hold need: twice what it had
 * (8 at first) until need fits, at most UINT32_MAX. */
static uint32_t grown_capacity(uint32_t cap, uint32_t need) {
    uint64_t n = cap ? (uint64_t)cap * 2 : 8;
    while (n < need) n *= 2;
    return (uint32_t)(n > UINT32_MAX ? UINT32_MAX : n);
}

/* A growable array larger than WS_BIG_ARRAY bytes is a mapping of its own, of whole
 * 2 MB units (so its elements fill more than WS_BIG_ARRAY bytes of it). */
#define BIG_UNIT ((size_t)2 << 20)
static bool is_big(uint32_t cap, size_t elem) { return (uint64_t)cap * elem > WS_BIG_ARRAY; }
static size_t big_bytes(uint64_t cap, size_t elem) { return (size_t)((cap * elem + BIG_UNIT - 1) / BIG_UNIT * BIG_UNIT); }

/* Contract: ws_grow_to for arrays that may grow large (an IR's nodes, operands, uses):
 * up to WS_BIG_ARRAY bytes they live in the heap; past it in a mapping of their own, in
 * huge pages where granted, grown by remapping.  Growth then never copies the elements
 * nor touches memory the array does not use: a realloc that moves a 10 MB array writes
 * 10 MB of fresh pages (in a virtual machine, clearing a fresh page costs more than the
 * copy).  Freed with ws_free_big(items, cap, elem). */
void ws_grow_big_to(void **items, uint32_t *cap, uint32_t need, size_t elem) {
    uint32_t n = grown_capacity(*cap, need);
    if (!is_big(n, elem)) {
        ws_grow_to(items, cap, need, elem);
        return;
    }
    size_t bytes = big_bytes(n, elem);
    void *p = NULL;
#ifdef MREMAP_MAYMOVE
    if (is_big(*cap, elem)) {
        p = mremap(*items, big_bytes(*cap, elem), bytes, MREMAP_MAYMOVE);
        if (p == MAP_FAILED) out_of_memory(bytes);
    }
#endif
    if (!p) { /* out of the heap (or no mremap): one copy */
        p = ws_big_alloc(bytes);
        if (*cap) memcpy(p, *items, (size_t)*cap * elem);
        ws_free_big(*items, *cap, elem);
    }
    *items = p;
    uint64_t fit = bytes / elem;
    *cap = (uint32_t)(fit > UINT32_MAX ? UINT32_MAX : fit);
}

void ws_free_big(void *items, uint32_t cap, size_t elem) {
    if (is_big(cap, elem)) ws_big_free(items, big_bytes(cap, elem));
    else free(items);
}

char *ws_strdup(const char *s) {
    size_t n = strlen(s) + 1;
    return memcpy(ws_malloc(n), s, n);
}

/* Contract: ws_grow's growth: *items reallocated for at least need elements, twice
 * the capacity it had when that is more. */
void ws_grow_to(void **items, uint32_t *cap, uint32_t need, size_t elem) {
    if (need <= *cap) return;
    uint32_t n = grown_capacity(*cap, need);
    *items = ws_realloc(*items, (size_t)n * elem);
    *cap = n;
}

#ifdef __GLIBC__
/* Set by ws_heap_prepare once it readied the heap (before any worker starts: thread
 * creation orders it before their reads); worker arenas follow the same choice. */
static bool heap_readied;

static bool limited(int resource) {
    struct rlimit l;
    return getrlimit(resource, &l) == 0 && l.rlim_cur != RLIM_INFINITY;
}
#endif

/* Contract: readies the C library's heap for a run expected to allocate about `bytes`
 * (a hint; nothing fails if it is wrong).  With glibc: blocks up to 32 MB come from
 * the heap rather than mappings of their own, the heap grows by `bytes` at a time and
 * keeps that much free at its top for the next pass instead of giving it back, and the
 * area it has just grown by is hinted for huge pages.  A run then takes one page fault
 * per 2 MB it touches instead of one per 4 KB every time a pass allocates afresh: in
 * the virtual machines we run on, a fault costs microseconds (ruby.wasm -O1: 9,957
 * faults -> 1,120, 0.31 -> 0.21 s), for 6-25 MB more peak RSS.  Elsewhere, and under
 * a limit on address space or data size (whoever sets one wants memory spared, and the
 * reserve counts against it), nothing. */
void ws_heap_prepare(size_t bytes) {
#ifdef __GLIBC__
    const size_t huge = (size_t)2 << 20;
    if (limited(RLIMIT_AS) || limited(RLIMIT_DATA)) return;
    if (bytes > (size_t)1 << 30) bytes = (size_t)1 << 30;
    mallopt(M_MMAP_THRESHOLD, 32 << 20);
    mallopt(M_TOP_PAD, (int)bytes);
    /* a block just larger than the heap's free top makes it grow by the pad; the new
     * top's header is written right after the block, so the hint starts past it (a 2 MB
     * stretch with one small page touched before the hint is never a huge page: a 16 MB
     * probe put that page mid-heap, and esbuild.wasm -O0 took 512 faults more) */
    char *mark = malloc(64);
    if (!mark) return;
    uintptr_t end = (uintptr_t)sbrk(0), at = (uintptr_t)mark;
    free(mark);
    if (at >= end || end - at > bytes) return; /* blocks not from the brk heap (sanitizers) */
    size_t top = (size_t)(end - at) + 4096;
    char *probe = malloc(top);
    if (!probe) return;
    uintptr_t start = (uintptr_t)probe, lo = (start + top + 64 + huge - 1) & ~(uintptr_t)(huge - 1);
    uintptr_t hi = (uintptr_t)sbrk(0) & ~(uintptr_t)(huge - 1);
#ifdef MADV_HUGEPAGE
    if (hi > lo) madvise((void *)lo, hi - lo, MADV_HUGEPAGE); /* a hint */
#endif
    free(probe);
    /* the stretch below the first hinted address is taken, never touched: blocks then
     * come from huge pages from the start (else the first up to 2 MB of them fault
     * page by page, as many as 512 faults of microseconds each in a virtual machine) */
    static void *spacer; /* held, so never reported as a leak */
    if (lo > start + 64 && !spacer) spacer = malloc(lo - start - 64);
    heap_readied = true;
#else
    (void)bytes;
#endif
}

/* Contract: in a worker thread, hints its glibc arena for huge pages as ws_heap_prepare
 * does the main heap, when it did (not for small inputs, nor under a memory limit).  An
 * arena other than the main one lives in a heap mapping aligned to its maximum size (64
 * MB on 64-bit systems), found from any block it hands out; a wrong guess only sets the
 * hint on some other mapping of ours. */
void ws_thread_heap_prepare(void) {
#if defined(__GLIBC__) && defined(MADV_HUGEPAGE)
    const uintptr_t heap_max = (uintptr_t)64 << 20, huge = (uintptr_t)2 << 20;
    static _Thread_local void *spacer; /* held, so never reported as a leak */
    if (!heap_readied) return;
    void *probe = malloc(64);
    if (!probe) return;
    uintptr_t at = (uintptr_t)probe;
    if (at > (uintptr_t)sbrk(0)) { /* not in the main heap */
        madvise((void *)(at & ~(heap_max - 1)), heap_max, MADV_HUGEPAGE);
        /* the arena's first 2 MB were touched before the hint (its header, this block):
         * taken, never touched, so that blocks come from huge pages (else up to 512
         * faults of 4 KB each; ws_heap_prepare) */
        uintptr_t lo = (at + 128 + huge - 1) & ~(huge - 1);
        if (!spacer) spacer = malloc(lo - at - 128);
    }
    free(probe);
#endif
}
