/* arena.h - bump allocator: many small allocations, freed all at once. */
#ifndef WS_ARENA_H
#define WS_ARENA_H

#include "common.h"

typedef struct ArenaBlock ArenaBlock;
typedef struct Arena {
    ArenaBlock *head;
    size_t total; /* bytes handed out, for statistics */
} Arena;

void *arena_alloc(Arena *a, size_t n);             /* 16-byte aligned, uninitialised */
void *arena_zalloc(Arena *a, size_t n);            /* zeroed */
void *arena_array(Arena *a, size_t count, size_t size); /* zeroed, overflow-checked */
void *arena_dup(Arena *a, const void *p, size_t n);
void arena_free(Arena *a);
void arena_reset(Arena *a);                        /* empty, its standard block kept */

#endif
