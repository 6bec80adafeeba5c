/* profile.c - size profile of functions: own body size and retained size (the bytes
 * that would go if the function went: the sum over its subtree in the dominator tree of
 * the reference graph rooted at exports, start, tables and global initialisers, as
 * twiggy computes it).  Functions no root reaches are reported as unreachable. */
#include "profile.h"
#include "../ir/callgraph.h"
#include "../ir/leb.h"
#include "../ir/names.h"
#include <stdlib.h>

typedef struct FuncSize {
    uint32_t index;
    uint64_t own, retained;
    bool reachable;
} FuncSize;

/* Encoded size of a defined function: its body with the size prefix, plus its entry
 * in the function section. */
static uint64_t func_bytes(const Func *f) {
    if (f->import >= 0) return 0;
    return f->body.len + leb_size_u64(f->body.len) + leb_size_u64(f->type);
}

/* Contract: fills sizes[0..nfuncs) with own and retained sizes; false if code is bad. */
static bool compute_sizes(const Module *m, FuncSize *sizes) {
    CallGraph g;
    WsError err;
    if (!callgraph_build(m, &g, &err)) {
        ws_error_print(&err, stderr);
        return false;
    }
    uint32_t nn = m->nfuncs + 1;
    uint32_t *idom = ws_malloc(nn * sizeof(uint32_t)), *order = ws_malloc(nn * sizeof(uint32_t));
    uint32_t count = callgraph_dominators(&g, idom, order);
    uint64_t *retained = ws_calloc(nn, sizeof(uint64_t));
    for (uint32_t f = 0; f < m->nfuncs; f++) {
        sizes[f].index = f;
        sizes[f].own = func_bytes(&m->funcs[f]);
        sizes[f].reachable = idom[f] != UINT32_MAX;
        retained[f] = sizes[f].own;
    }
    for (uint32_t i = count; i-- > 1;) { /* children before parents */
        uint32_t v = order[i];
        if (idom[v] != m->nfuncs) retained[idom[v]] += retained[v];
    }
    for (uint32_t f = 0; f < m->nfuncs; f++) sizes[f].retained = retained[f];
    free(idom);
    free(order);
    free(retained);
    callgraph_free(&g);
    return true;
}

static int by_own_desc(const void *a, const void *b) {
    const FuncSize *x = a, *y = b;
    if (x->own != y->own) return x->own < y->own ? 1 : -1;
    return x->index < y->index ? -1 : x->index > y->index;
}

static void print_name(FILE *out, Bytes name, bool json) {
    if (!json) {
        if (name.len) fprintf(out, "%.*s", (int)name.len, (const char *)name.p);
        else fputs("-", out);
        return;
    }
    fputc('"', out);
    for (uint32_t i = 0; i < name.len; i++) {
        uint8_t ch = name.p[i];
        if (ch == '"' || ch == '\\') fprintf(out, "\\%c", ch);
        else if (ch < 0x20) fprintf(out, "\\u%04x", ch);
        else fputc(ch, out);
    }
    fputc('"', out);
}

static void print_text(FILE *out, const FuncSize *s, uint32_t n, const Bytes *names, uint64_t code) {
    fprintf(out, "%8s %10s %6s %10s %6s  %s\n", "function", "bytes", "share", "retained", "share", "name");
    for (uint32_t i = 0; i < n; i++) {
        fprintf(out, "%8u %10llu %5.1f%% ", s[i].index, (unsigned long long)s[i].own, 100.0 * (double)s[i].own / (double)code);
        if (s[i].reachable)
            fprintf(out, "%10llu %5.1f%%  ", (unsigned long long)s[i].retained, 100.0 * (double)s[i].retained / (double)code);
        else
            fprintf(out, "%10s %6s  ", "unreach.", "");
        print_name(out, names[s[i].index], false);
        fputc('\n', out);
    }
}

static void print_json(FILE *out, const FuncSize *s, uint32_t n, const Bytes *names) {
    fputs("{\"functions\": [", out);
    for (uint32_t i = 0; i < n; i++) {
        fprintf(out, "%s{\"index\": %u, \"bytes\": %llu, \"retained\": %llu, \"reachable\": %s, \"name\": ",
                i ? ", " : "", s[i].index, (unsigned long long)s[i].own,
                (unsigned long long)s[i].retained, s[i].reachable ? "true" : "false");
        print_name(out, names[s[i].index], true);
        fputc('}', out);
    }
    fputs("]", out);
}

bool profile_print(FILE *out, const Module *m, uint32_t n, bool json) {
    FuncSize *sizes = ws_calloc(m->nfuncs + 1, sizeof(FuncSize));
    if (!compute_sizes(m, sizes)) { free(sizes); return false; }
    Bytes *names = ws_calloc(m->nfuncs + 1, sizeof(Bytes));
    names_functions(m, names);
    uint64_t code = 0, dead = 0;
    uint32_t ndead = 0;
    for (uint32_t f = 0; f < m->nfuncs; f++) {
        code += sizes[f].own;
        if (!sizes[f].reachable && m->funcs[f].import < 0) { dead += sizes[f].own; ndead++; }
    }
    qsort(sizes, m->nfuncs, sizeof(FuncSize), by_own_desc);
    if (n > m->nfuncs) n = m->nfuncs;
    if (json) {
        print_json(out, sizes, n, names);
        fprintf(out, ", \"code_bytes\": %llu, \"unreachable_functions\": %u, \"unreachable_bytes\": %llu}\n",
                (unsigned long long)code, ndead, (unsigned long long)dead);
    } else {
        print_text(out, sizes, n, names, code ? code : 1);
        fprintf(out, "functions: %u defined, %llu bytes; unreachable from the roots: %u, %llu bytes\n",
                module_ndefined_funcs(m), (unsigned long long)code, ndead, (unsigned long long)dead);
    }
    free(sizes);
    free(names);
    return true;
}
