/* common.h - basic includes, allocation wrappers and small macros used everywhere. */
#ifndef WS_COMMON_H
#define WS_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include <string.h>

#if defined(__GNUC__)
#define WS_NORETURN __attribute__((noreturn))
#define WS_PRINTF(a, b) __attribute__((format(printf, a, b)))
#define WS_NOINLINE __attribute__((noinline))
#define WS_PREFETCH(p) __builtin_prefetch(p)
#define WS_LIKELY(x) __builtin_expect(!!(x), 1)
#else
#define WS_NORETURN
#define WS_PRINTF(a, b)
#define WS_NOINLINE
#define WS_PREFETCH(p) ((void)(p))
#define WS_LIKELY(x) (x)
#endif

#define WS_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* Allocation that never returns NULL: on exhaustion it prints and exits(2). */
void *ws_malloc(size_t n);
void *ws_calloc(size_t count, size_t size);
void *ws_realloc(void *p, size_t n);
char *ws_strdup(const char *s);
void *ws_big_alloc(size_t n);       /* large scratch areas, huge pages if granted */
void ws_big_free(void *p, size_t n);
void ws_heap_prepare(size_t bytes);  /* heap tuning for a run of about this many bytes */
void ws_thread_heap_prepare(void);   /* the same for a worker thread's arena */

/* Arrays larger than this get a mapping of their own (ws_grow_big). */
#define WS_BIG_ARRAY ((size_t)1 << 20)
void ws_grow_big_to(void **items, uint32_t *cap, uint32_t need, size_t elem);
void ws_free_big(void *items, uint32_t cap, size_t elem);
/* Contract: ws_grow for arrays that may grow large (ws_grow_big_to); the test in line. */
static inline void ws_grow_big(void **items, uint32_t *cap, uint32_t need, size_t elem) {
    if (need > *cap) ws_grow_big_to(items, cap, need, elem);
}
/* ws_grow's growth, out of line. */
void ws_grow_to(void **items, uint32_t *cap, uint32_t need, size_t elem);
/* Contract: after the call, *items has room for need elements; *cap is updated.
 * Growth is geometric so pushes are amortised O(1).  (The test is in line: callers
 * such as the IR editor call it once per node.) */
static inline void ws_grow(void **items, uint32_t *cap, uint32_t need, size_t elem) {
    if (need > *cap) ws_grow_to(items, cap, need, elem);
}
#define WS_VEC_PUSH(arr, len, cap, value)                                       \
    do {                                                                        \
        if ((len) + 1 > (cap)) ws_grow((void **)&(arr), &(cap), (len) + 1, sizeof(*(arr))); \
        (arr)[(len)++] = (value);                                               \
    } while (0)

#endif
