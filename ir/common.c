/* common.c - allocation wrappers. */
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS, MADV_HUGEPAGE */
#include "common.h"
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>

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

char *ws_strdup(const char *s) {
    size_t n = strlen(s) + 1;
    return memcpy(ws_malloc(n), s, n);
}

/* Contract: after the call, *items has room for need elements; *cap is updated.
 * Growth is geometric so pushes are amortised O(1). */
void ws_grow(void **items, uint32_t *cap, uint32_t need, size_t elem) {
    if (need <= *cap) return;
    uint64_t n = *cap ? (uint64_t)*cap * 2 : 8;
    while (n < need) n *= 2;
    if (n > UINT32_MAX) n = UINT32_MAX;
    *items = ws_realloc(*items, (size_t)n * elem);
    *cap = (uint32_t)n;
}
