/* pass_case.h - what the pass tests share: a module read from bytes or from a .wat file
 * (wat2wasm at test time, run from the repository root), passes run through the
 * registry, the output written, validated (ours, and wasm-validate when asked) and read
 * back for inspection. */
#ifndef WS_TEST_PASS_CASE_H
#define WS_TEST_PASS_CASE_H

#include "../../ir/leb.h"
#include "../../ir/module.h"
#include "../../passes/pass.h"

typedef struct Case {
    uint8_t *in;
    size_t in_len;
    Module m;
    PassOptions opt;
    PassCtx ctx;
    Buf out;
    Module after;
    bool have_after;
} Case;

/* Reads b (copied) as the case's module, which must be valid; level = opt_level. */
void case_load_bytes(Case *c, const uint8_t *b, size_t n, int level);
/* The same for a module that need not be valid (it must read). */
void case_load_unchecked(Case *c, const uint8_t *b, size_t n, int level);
/* Builds DIR/NAME.wat with wat2wasm (names kept) and loads it. */
void case_load_wat(Case *c, const char *dir, const char *name, int level);
/* Runs the passes of a comma-separated list, then writes, validates (with wabt too when
 * wabt is true) and re-reads the module into c->after. */
void case_run(Case *c, const char *passes, bool wabt);
void case_free(Case *c);

/* A whole file, malloc'd; asserts it can be read. */
uint8_t *case_read_file(const char *path, size_t *len);
/* Writes the bytes to a new file from the mkstemp template path. */
void case_write_tmp(char *path, const uint8_t *b, size_t n);
/* True when wasm-validate --enable-all accepts the bytes. */
bool case_wabt_valid(const uint8_t *b, size_t n);
/* Index of the function named name in m's name section, or -1. */
int64_t case_func_named(const Module *m, const char *name);

#endif
