/* callgraph.c - function reference graph and its dominator tree (Cooper, Harvey and
 * Kennedy's iterative algorithm over reverse postorder). */
#include "callgraph.h"
#include "instr.h"
#include "leb.h"
#include <stdlib.h>

typedef struct EdgeList {
    uint32_t *items;
    uint32_t len, cap;
} EdgeList;

static void edge_push(EdgeList *l, uint32_t v) { WS_VEC_PUSH(l->items, l->len, l->cap, v); }

/* Contract: appends every function index an instruction sequence references (call,
 * return_call, ref.func) to out; stops at the cursor's end. */
static void scan_refs(Cursor *c, const Module *m, EdgeList *out) {
    Instr in;
    while (!cur_eof(c)) {
        instr_decode(c, &in);
        if (op_info[in.op].imm == IMM_FUNC && in.a < m->nfuncs) edge_push(out, (uint32_t)in.a);
    }
}

static void scan_expr(const Module *m, Expr e, EdgeList *out, WsError *err) {
    Cursor c = {m->input, e.code, e.code + e.len, err};
    scan_refs(&c, m, out);
}

/* Contract: sorts and deduplicates items[from..len). */
static int cmp_u32(const void *a, const void *b) {
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}
static void dedup_tail(EdgeList *l, uint32_t from) {
    qsort(l->items + from, l->len - from, sizeof(uint32_t), cmp_u32);
    uint32_t w = from;
    for (uint32_t i = from; i < l->len; i++)
        if (w == from || l->items[w - 1] != l->items[i]) l->items[w++] = l->items[i];
    l->len = w;
}

static void collect_roots(const Module *m, EdgeList *roots, WsError *err) {
    for (uint32_t i = 0; i < m->nexports; i++)
        if (m->exports[i].kind == EXT_FUNC && m->exports[i].index < m->nfuncs)
            edge_push(roots, m->exports[i].index);
    if (m->has_start && m->start < m->nfuncs) edge_push(roots, m->start);
    for (uint32_t i = 0; i < m->nelems; i++) {
        const Elem *e = &m->elems[i];
        for (uint32_t k = 0; k < e->count; k++) {
            if (e->exprs) scan_expr(m, e->exprs[k], roots, err);
            else if (e->funcs[k] < m->nfuncs) edge_push(roots, e->funcs[k]);
        }
    }
    for (uint32_t i = m->nglobal_imports; i < m->nglobals; i++) scan_expr(m, m->globals[i].init, roots, err);
    for (uint32_t i = m->ntable_imports; i < m->ntables; i++)
        if (m->tables[i].has_init) scan_expr(m, m->tables[i].init, roots, err);
    dedup_tail(roots, 0);
}

bool callgraph_build(const Module *m, CallGraph *g, WsError *err) {
    memset(g, 0, sizeof *g);
    g->nfuncs = m->nfuncs;
    g->first = ws_calloc(m->nfuncs + 1, sizeof(uint32_t));
    EdgeList edges = {0}, roots = {0};
    err->file = m->file;
    if (setjmp(err->jb)) {
        free(edges.items);
        free(roots.items);
        callgraph_free(g);
        return false;
    }
    for (uint32_t f = 0; f < m->nfuncs; f++) {
        g->first[f] = edges.len;
        const Func *fn = &m->funcs[f];
        if (fn->import >= 0) continue;
        Cursor c = {m->input, fn->body.p, fn->body.p + fn->body.len, err};
        skip_local_decls(&c);
        scan_refs(&c, m, &edges);
        dedup_tail(&edges, g->first[f]);
    }
    g->first[m->nfuncs] = edges.len;
    collect_roots(m, &roots, err);
    g->edges = edges.items;
    g->roots = roots.items;
    g->nroots = roots.len;
    return true;
}

void callgraph_free(CallGraph *g) {
    free(g->first);
    free(g->edges);
    free(g->roots);
    memset(g, 0, sizeof *g);
}

/* Successors of node v (the virtual root is g->nfuncs). */
static const uint32_t *succ(const CallGraph *g, uint32_t v, uint32_t *n) {
    if (v == g->nfuncs) { *n = g->nroots; return g->roots; }
    *n = g->first[v + 1] - g->first[v];
    return g->edges + g->first[v];
}

/* Contract: fills order with the nodes reachable from the root in reverse postorder and
 * rpo[v] with each one's position (UINT32_MAX if unreachable); iterative DFS. */
static uint32_t reverse_postorder(const CallGraph *g, uint32_t *order, uint32_t *rpo) {
    uint32_t nn = g->nfuncs + 1, count = 0, sp = 0;
    uint32_t *stack = ws_malloc(nn * sizeof(uint32_t)), *next = ws_calloc(nn, sizeof(uint32_t));
    uint8_t *seen = ws_calloc(nn, 1);
    stack[sp++] = g->nfuncs;
    seen[g->nfuncs] = 1;
    while (sp) {
        uint32_t v = stack[sp - 1], n;
        const uint32_t *s = succ(g, v, &n);
        if (next[v] < n) {
            uint32_t w = s[next[v]++];
            if (!seen[w]) { seen[w] = 1; stack[sp++] = w; }
            continue;
        }
        order[count++] = v; /* postorder */
        sp--;
    }
    for (uint32_t i = 0; i < count / 2; i++) {
        uint32_t t = order[i];
        order[i] = order[count - 1 - i];
        order[count - 1 - i] = t;
    }
    for (uint32_t v = 0; v < nn; v++) rpo[v] = UINT32_MAX;
    for (uint32_t i = 0; i < count; i++) rpo[order[i]] = i;
    free(stack);
    free(next);
    free(seen);
    return count;
}

static uint32_t intersect(const uint32_t *idom, const uint32_t *rpo, uint32_t a, uint32_t b) {
    while (a != b) {
        while (rpo[a] > rpo[b]) a = idom[a];
        while (rpo[b] > rpo[a]) b = idom[b];
    }
    return a;
}

/* Predecessor lists in CSR form over the reachable nodes. */
static void predecessors(const CallGraph *g, const uint32_t *rpo, uint32_t **pfirst, uint32_t **pedges) {
    uint32_t nn = g->nfuncs + 1, n;
    uint32_t *first = ws_calloc(nn + 1, sizeof(uint32_t));
    for (uint32_t v = 0; v < nn; v++) {
        if (rpo[v] == UINT32_MAX) continue;
        const uint32_t *s = succ(g, v, &n);
        for (uint32_t i = 0; i < n; i++) first[s[i] + 1]++;
    }
    for (uint32_t v = 0; v < nn; v++) first[v + 1] += first[v];
    uint32_t *fill = ws_malloc(nn * sizeof(uint32_t)), *edges = ws_malloc((first[nn] + 1) * sizeof(uint32_t));
    memcpy(fill, first, nn * sizeof(uint32_t));
    for (uint32_t v = 0; v < nn; v++) {
        if (rpo[v] == UINT32_MAX) continue;
        const uint32_t *s = succ(g, v, &n);
        for (uint32_t i = 0; i < n; i++) edges[fill[s[i]]++] = v;
    }
    free(fill);
    *pfirst = first;
    *pedges = edges;
}

uint32_t callgraph_dominators(const CallGraph *g, uint32_t *idom, uint32_t *order) {
    uint32_t nn = g->nfuncs + 1, root = g->nfuncs;
    uint32_t *rpo = ws_malloc(nn * sizeof(uint32_t)), *pfirst, *pedges;
    uint32_t count = reverse_postorder(g, order, rpo);
    predecessors(g, rpo, &pfirst, &pedges);
    for (uint32_t v = 0; v < nn; v++) idom[v] = UINT32_MAX;
    idom[root] = root;
    for (bool changed = true; changed;) {
        changed = false;
        for (uint32_t i = 1; i < count; i++) {
            uint32_t v = order[i], best = UINT32_MAX;
            for (uint32_t k = pfirst[v]; k < pfirst[v + 1]; k++) {
                uint32_t p = pedges[k];
                if (idom[p] == UINT32_MAX) continue;
                best = best == UINT32_MAX ? p : intersect(idom, rpo, p, best);
            }
            if (best != idom[v]) { idom[v] = best; changed = true; }
        }
    }
    free(rpo);
    free(pfirst);
    free(pedges);
    return count;
}
