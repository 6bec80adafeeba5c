/* unused_why.c - the command-line roots of remove-unused (--export-only, --keep-export)
 * and its --why-kept report: the chain of first references from a root to an item.
 *
 *   --why-kept=foo:
 *   $foo (func 3) <- called by $bar (func 12) <- called by $main (func 5) <- export "main"
 *   --why-kept=dead:
 *   $dead (func 7): unreachable from every root (removed)
 */
#include "remove_unused.h"
#include <stdlib.h>

static const char *const item_words[IX_COUNT] = {
    "func", "table", "memory", "global", "tag", "elem segment", "data segment", "type",
};

static const char *const how_words[HOW_COUNT] = {
    [HOW_CALL] = "called by", [HOW_REFFUNC] = "taken by ref.func in", [HOW_USE] = "used by",
    [HOW_TYPE] = "type of", [HOW_ELEM] = "element of", [HOW_INIT] = "initializes",
    [HOW_REC] = "in the rec group of", [HOW_SUPER] = "supertype of",
};

static bool bytes_eq(Bytes b, const char *s, size_t n) { return b.len == n && !memcmp(b.p, s, n); }

static int64_t find_export(const Module *m, const char *s, size_t n) {
    for (uint32_t i = 0; i < m->nexports; i++)
        if (bytes_eq(m->exports[i].name, s, n)) return i;
    return -1;
}

/* Contract: the function named s in the name section (also written "$name"), or -1. */
static int64_t find_func_name(Unused *u, const char *s, size_t n) {
    const Bytes *names = unused_names(u);
    for (int pass = 0; pass < 2; pass++) {
        for (uint32_t f = 0; f < u->m->nfuncs; f++)
            if (names[f].len && bytes_eq(names[f], s, n)) return f;
        if (n == 0 || s[0] != '$') break;
        s++;
        n--;
    }
    return -1;
}

typedef void (*NameFn)(Unused *u, const char *s, size_t n);

/* Contract: calls fn on every comma-separated name of the flag values. */
static void for_each_name(Unused *u, const char *const *values, uint32_t nvalues, NameFn fn) {
    for (uint32_t i = 0; i < nvalues; i++) {
        const char *p = values[i];
        while (*p) {
            size_t len = strcspn(p, ",");
            if (len) fn(u, p, len);
            p += len;
            if (*p == ',') p++;
        }
    }
}

static void list_export(Unused *u, const char *s, size_t n) {
    int64_t e = find_export(u->m, s, n);
    if (e < 0) ws_fail(u->err, 0, "--export-only: no export named \"%.*s\"", (int)n, s);
    u->listed[e] = 1;
}

/* Contract: --keep-export NAME: keeps the export NAME, else makes the function NAME a
 * root; fails when neither exists. */
static void keep_export(Unused *u, const char *s, size_t n) {
    int64_t e = find_export(u->m, s, n);
    if (e >= 0) {
        u->listed[e] = 1;
        return;
    }
    int64_t f = find_func_name(u, s, n);
    if (f < 0) ws_fail(u->err, 0, "--keep-export: no export or function named \"%.*s\"", (int)n, s);
    unused_mark_root(u, IX_FUNC, (uint64_t)f, HOW_KEEP, 0);
}

void unused_resolve_exports(Unused *u) {
    const DceOptions *o = &u->ctx->opt->dce;
    for_each_name(u, o->export_only, o->nexport_only, list_export);
    for_each_name(u, o->keep_exports, o->nkeep_exports, keep_export);
    if (o->nexport_only)
        for (uint32_t i = 0; i < u->m->nexports; i++) u->drop_export[i] = !u->listed[i];
}

static void describe(Unused *u, FILE *out, uint32_t id) {
    int k = unused_space_of(u, id);
    uint32_t i = id - u->base[k];
    const Bytes *names = k == IX_FUNC ? unused_names(u) : NULL;
    if (names && names[i].len) fprintf(out, "$%.*s (func %u)", (int)names[i].len, (const char *)names[i].p, i);
    else fprintf(out, "%s %u", item_words[k], i);
}

static void describe_root(Unused *u, FILE *out, uint32_t id) {
    const Export *e = &u->m->exports[u->how[id] == HOW_EXPORT ? u->from[id] : 0];
    switch (u->how[id]) {
    case HOW_EXPORT: fprintf(out, "export \"%.*s\"", (int)e->name.len, (const char *)e->name.p); break;
    case HOW_START: fputs("start function", out); break;
    case HOW_KEEP: fputs("--keep-export", out); break;
    case HOW_TRAPS: fputs("active segment that may trap at instantiation", out); break;
    case HOW_IMPORTED: fputs("active segment writing an imported table or memory", out); break;
    }
}

/* Contract: prints item id, then each first reference back to its root, on one line. */
static void print_chain(Unused *u, FILE *out, uint32_t id) {
    describe(u, out, id);
    if (!u->live[id]) {
        fputs(": unreachable from every root (removed)\n", out);
        return;
    }
    for (uint32_t steps = 0; !HOW_IS_ROOT(u->how[id]) && steps < u->base[IX_COUNT]; steps++) {
        fprintf(out, " <- %s ", how_words[u->how[id]]);
        id = u->from[id];
        describe(u, out, id);
    }
    fputs(" <- ", out);
    describe_root(u, out, id);
    fputc('\n', out);
}

/* Contract: the item a --why-kept query names: a function index, a function name, or
 * an export name; fails when it names nothing. */
static uint32_t query_item(Unused *u, const char *q) {
    const Module *m = u->m;
    size_t n = strlen(q);
    if (n && strspn(q, "0123456789") == n) {
        unsigned long long f = strtoull(q, NULL, 10);
        if (f >= m->nfuncs) ws_fail(u->err, 0, "--why-kept: no function %s (the module has %u)", q, m->nfuncs);
        return u->base[IX_FUNC] + (uint32_t)f;
    }
    int64_t f = find_func_name(u, q, n);
    if (f >= 0) return u->base[IX_FUNC] + (uint32_t)f;
    int64_t e = find_export(m, q, n);
    if (e < 0) ws_fail(u->err, 0, "--why-kept: no function or export named \"%s\"", q);
    const Export *x = &m->exports[e];
    if (x->index >= u->base[x->kind + 1] - u->base[x->kind])
        ws_fail(u->err, 0, "--why-kept: export \"%s\" names a missing item", q);
    return u->base[x->kind] + x->index;
}

void unused_why_kept(Unused *u) {
    const DceOptions *o = &u->ctx->opt->dce;
    FILE *out = o->report ? o->report : stdout;
    for (uint32_t i = 0; i < o->nwhy_kept; i++) print_chain(u, out, query_item(u, o->why_kept[i]));
}
