/* arena.c - bump allocator in chained blocks. */
#include "arena.h"
#include <stdio.h>
#include <stdlib.h>

struct ArenaBlock {
    ArenaBlock *next;
    size_t used, size;
    _Alignas(16) unsigned char data[];
};

enum { ARENA_BLOCK = 64 * 1024 };

void *arena_alloc(Arena *a, size_t n) {
    n = (n + 15) & ~(size_t)15;
    ArenaBlock *b = a->head;
    if (!b || b->size - b->used < n) {
        size_t size = n > ARENA_BLOCK / 4 ? n : ARENA_BLOCK;
        b = ws_malloc(sizeof *b + size);
        b->size = size;
        b->used = 0;
        if (a->head && n > ARENA_BLOCK / 4) { /* big block: keep the current head for small ones */
            b->next = a->head->next;
            a->head->next = b;
        } else {
            b->next = a->head;
            a->head = b;
        }
    }
    void *p = b->data + b->used;
    b->used += n;
    a->total += n;
    return p;
}

void *arena_zalloc(Arena *a, size_t n) { return memset(arena_alloc(a, n), 0, n); }

void *arena_array(Arena *a, size_t count, size_t size) {
    if (size && count > SIZE_MAX / size) {
        fprintf(stderr, "wasmslim: error: allocation overflow\n");
        exit(2);
    }
    return arena_zalloc(a, count * size);
}

void *arena_dup(Arena *a, const void *p, size_t n) {
    void *q = arena_alloc(a, n);
    return n ? memcpy(q, p, n) : q;
}

/* Contract: empties the arena for reuse: a standard-sized head block is kept (a
 * function's arena is reset for every function, which would otherwise take and give
 * back 64 KB each time), every other block freed. */
void arena_reset(Arena *a) {
    ArenaBlock *head = a->head;
    if (head && head->size == ARENA_BLOCK) {
        a->head = head->next;
        head->next = NULL;
    } else {
        head = NULL;
    }
    arena_free(a);
    if (head) head->used = 0;
    a->head = head;
}

void arena_free(Arena *a) {
    ArenaBlock *b = a->head;
    while (b) {
        ArenaBlock *next = b->next;
        free(b);
        b = next;
    }
    a->head = NULL;
    a->total = 0;
}
