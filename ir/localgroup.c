/* localgroup.c - canonical bodies with their declared locals grouped by type, as
 * binaryen writes them: (local i32 f64 i32) becomes (local i32 i32 f64), saving a group
 * header per merge; local indices in the code are renumbered to match.
 *
 * Works on groups, never on single locals: a body may declare 2^32-1 locals in 6 bytes,
 * so nothing is allocated per local. */
#include "instr.h"
#include <stdlib.h>

typedef struct Group {
    uint64_t old_start;   /* first local index of the group in the input */
    uint64_t new_start;
    uint32_t count;
    ValType type;
} Group;

typedef struct Plan {
    Group *g;
    uint32_t *order;      /* groups in output order */
    uint32_t n;
    uint32_t nparams;
    uint32_t *direct;     /* new index of each declared local, when they are few */
    uint64_t ndeclared;
} Plan;

enum { DIRECT_MAX = 1 << 16 }; /* locals mapped through a table (else binary search) */

static bool same_type(ValType a, ValType b) { return a.code == b.code && a.heap == b.heap; }

/* Contract: reads the declarations into plan->g (non-empty groups, input order, with
 * old indices); the cursor ends after them. */
static void read_groups(Cursor *c, Plan *plan) {
    uint32_t n = cur_count(c, 2, "local declaration");
    plan->g = ws_calloc(n + 1, sizeof(Group));
    plan->order = ws_calloc(n + 1, sizeof(uint32_t));
    uint64_t at = plan->nparams;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t count = cur_u32(c);
        ValType t = read_valtype(c);
        if (count == 0) continue;
        plan->g[plan->n++] = (Group){at, 0, count, t};
        at += count;
    }
    plan->ndeclared = at - plan->nparams;
}

typedef struct Key { uint32_t group, rank; ValType type; } Key;

static int by_type_then_group(const void *a, const void *b) {
    const Key *x = a, *y = b;
    if (x->type.code != y->type.code) return x->type.code < y->type.code ? -1 : 1;
    if (x->type.heap != y->type.heap) return x->type.heap < y->type.heap ? -1 : 1;
    return x->group < y->group ? -1 : x->group > y->group;
}
static int by_rank_then_group(const void *a, const void *b) {
    const Key *x = a, *y = b;
    if (x->rank != y->rank) return x->rank < y->rank ? -1 : 1;
    return x->group < y->group ? -1 : x->group > y->group;
}

/* Contract: sorts k[0..n) by cmp (a total order); insertion sort for the usual few
 * groups, qsort beyond. */
static void sort_keys(Key *k, uint32_t n, int (*cmp)(const void *, const void *)) {
    if (n > 32) {
        qsort(k, n, sizeof(Key), cmp);
        return;
    }
    for (uint32_t i = 1; i < n; i++) {
        Key x = k[i];
        uint32_t j = i;
        for (; j > 0 && cmp(&k[j - 1], &x) > 0; j--) k[j] = k[j - 1];
        k[j] = x;
    }
}

/* Contract: orders the groups (types by first appearance, groups of one type together
 * in input order) into plan->order and gives each its new start; O(n log n).  Returns
 * the number of distinct types. */
static uint32_t assign_new_starts(Plan *plan) {
    Key *k = ws_calloc(plan->n + 1, sizeof(Key));
    for (uint32_t i = 0; i < plan->n; i++) k[i] = (Key){i, 0, plan->g[i].type};
    sort_keys(k, plan->n, by_type_then_group);
    uint32_t ntypes = 0;
    for (uint32_t i = 0; i < plan->n; i++) {
        bool first = i == 0 || !same_type(k[i].type, k[i - 1].type);
        if (first) ntypes++;
        k[i].rank = first ? k[i].group : k[i - 1].rank;
    }
    sort_keys(k, plan->n, by_rank_then_group);
    uint64_t next = plan->nparams;
    for (uint32_t i = 0; i < plan->n; i++) {
        plan->order[i] = k[i].group;
        plan->g[k[i].group].new_start = next;
        next += plan->g[k[i].group].count;
    }
    free(k);
    return ntypes;
}

/* Contract: with few declared locals, a table of their new indices (O(1) lookups). */
static void build_direct(Plan *plan) {
    if (plan->ndeclared > DIRECT_MAX) return;
    plan->direct = ws_malloc((size_t)plan->ndeclared * sizeof(uint32_t) + 1);
    for (uint32_t i = 0; i < plan->n; i++) {
        const Group *g = &plan->g[i];
        for (uint32_t j = 0; j < g->count; j++)
            plan->direct[g->old_start - plan->nparams + j] = (uint32_t)(g->new_start + j);
    }
}

/* Contract: the new index of a declared local the direct table does not cover (the
 * LocalRemap keeps parameters and looks the table up first); plan->n > 0, since a
 * plan without groups is never applied. */
static uint32_t remap_local(void *ctx, uint32_t local) {
    const Plan *plan = ctx;
    uint32_t lo = 0, hi = plan->n - 1; /* last group with old_start <= local */
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo + 1) / 2;
        if (plan->g[mid].old_start <= local) lo = mid;
        else hi = mid - 1;
    }
    return (uint32_t)(plan->g[lo].new_start + (local - plan->g[lo].old_start));
}

static void write_groups(const Plan *plan, uint32_t ntypes, Buf *out) {
    buf_u32(out, ntypes);
    for (uint32_t i = 0; i < plan->n;) {
        const Group *first = &plan->g[plan->order[i]];
        uint64_t total = 0;
        for (; i < plan->n && same_type(plan->g[plan->order[i]].type, first->type); i++)
            total += plan->g[plan->order[i]].count;
        buf_u32(out, (uint32_t)total);
        write_valtype(out, first->type);
    }
}

static void plan_free(Plan *plan) {
    free(plan->g);
    free(plan->order);
    free(plan->direct);
    plan->g = NULL;
    plan->order = NULL;
    plan->direct = NULL;
}

/* Contract: the grouped re-encoding; frees the plan on failure too (by catching the
 * error and passing it on to the caller's handler). */
void body_canonicalize_grouped(Cursor *c, Buf *out, uint32_t nparams) {
    Plan *plan = ws_calloc(1, sizeof *plan); /* heap: intact after a longjmp */
    plan->nparams = nparams;
    WsError *e = c->err;
    jmp_buf outer;
    memcpy(outer, e->jb, sizeof(jmp_buf));
    if (setjmp(e->jb)) {
        plan_free(plan);
        free(plan);
        memcpy(e->jb, outer, sizeof(jmp_buf));
        longjmp(e->jb, 1);
    }
    Cursor start = *c;
    read_groups(c, plan);
    uint32_t ntypes = assign_new_starts(plan);
    if (ntypes == plan->n) { /* already one group per type: the plain canonical form */
        *c = start;
        body_canonicalize(c, out);
    } else {
        write_groups(plan, ntypes, out);
        build_direct(plan);
        LocalRemap remap = {remap_local, plan, plan->direct, nparams, plan->direct ? (uint32_t)plan->ndeclared : 0};
        code_canonicalize_remap(c, out, &remap);
    }
    plan_free(plan);
    free(plan);
    memcpy(e->jb, outer, sizeof(jmp_buf));
}
