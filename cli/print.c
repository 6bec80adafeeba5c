/* print.c - --print: builds each function's IR in index order and prints it. */
#include "print.h"
#include "../ir/func.h"
#include "../ir/names.h"
#include <stdlib.h>

/* Contract: resolves NAME or INDEX to a defined function index; UINT32_MAX if none. */
static uint32_t find_function(const Module *m, const Bytes *names, const char *which) {
    char *end;
    unsigned long idx = strtoul(which, &end, 10);
    if (*which && !*end) return idx >= m->nfunc_imports && idx < m->nfuncs ? (uint32_t)idx : UINT32_MAX;
    size_t len = strlen(which);
    for (uint32_t f = m->nfunc_imports; f < m->nfuncs; f++)
        if (names[f].len == len && !memcmp(names[f].p, which, len)) return f;
    return UINT32_MAX;
}

static bool print_one(FILE *out, const Module *m, uint32_t f, Bytes name) {
    IrFunc ir = {0};
    WsError err;
    if (!ir_build(&ir, m, f, &err)) {
        ws_error_print(&err, stderr);
        ir_free(&ir);
        return false;
    }
    ir_print(&ir, out, name);
    ir_free(&ir);
    return true;
}

bool print_functions(FILE *out, const Module *m, const char *which) {
    Bytes *names = ws_calloc(m->nfuncs + 1, sizeof(Bytes));
    names_functions(m, names);
    bool ok = true;
    if (which) {
        uint32_t f = find_function(m, names, which);
        if (f == UINT32_MAX) fprintf(stderr, "wasmslim: error: no defined function '%s'\n", which);
        ok = f != UINT32_MAX && print_one(out, m, f, names[f]);
    } else {
        for (uint32_t f = m->nfunc_imports; f < m->nfuncs && ok; f++) ok = print_one(out, m, f, names[f]);
    }
    free(names);
    return ok;
}
