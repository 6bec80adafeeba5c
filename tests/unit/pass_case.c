/* pass_case.c - the helpers of pass_case.h. */
#include "pass_case.h"
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include "../../ir/names.h"
#include "../../ir/validate.h"

uint8_t *case_read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    cr_assert(f, "cannot open %s", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *b = malloc((size_t)n + 1);
    cr_assert(fread(b, 1, (size_t)n, f) == (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return b;
}

void case_load_unchecked(Case *c, const uint8_t *b, size_t n, int level) {
    memset(c, 0, sizeof *c);
    c->in = malloc(n + 1);
    memcpy(c->in, b, n);
    c->in_len = n;
    WsError err;
    cr_assert(module_read(&c->m, c->in, n, "t.wasm", NULL, &err), "read: %s", err.msg);
    c->opt.opt_level = level;
    c->ctx.opt = &c->opt;
    c->ctx.jobs = 2;
}

void case_load_bytes(Case *c, const uint8_t *b, size_t n, int level) {
    case_load_unchecked(c, b, n, level);
    WsError err;
    cr_assert(module_validate(&c->m, &err), "input invalid: %s", err.msg);
}

void case_load_wat(Case *c, const char *dir, const char *name, int level) {
    char tmp[] = "/tmp/ws_case_XXXXXX", cmd[512];
    int fd = mkstemp(tmp);
    cr_assert(fd >= 0);
    close(fd);
    snprintf(cmd, sizeof cmd, "wat2wasm --enable-all --debug-names %s%s.wat -o %s", dir, name, tmp);
    cr_assert(system(cmd) == 0, "wat2wasm failed: %s", cmd);
    size_t n;
    uint8_t *b = case_read_file(tmp, &n);
    unlink(tmp);
    case_load_bytes(c, b, n, level);
    free(b);
}

void case_write_tmp(char *path, const uint8_t *b, size_t n) {
    int fd = mkstemp(path);
    cr_assert(fd >= 0);
    cr_assert(write(fd, b, n) == (ssize_t)n);
    close(fd);
}

bool case_wabt_valid(const uint8_t *b, size_t n) {
    char tmp[] = "/tmp/ws_case_XXXXXX", cmd[256];
    case_write_tmp(tmp, b, n);
    snprintf(cmd, sizeof cmd, "wasm-validate --enable-all %s", tmp);
    int rc = system(cmd);
    unlink(tmp);
    return rc == 0;
}

void case_run(Case *c, const char *passes, bool wabt) {
    char name[64];
    for (const char *p = passes; *p;) {
        size_t len = strcspn(p, ",");
        cr_assert(len < sizeof name);
        memcpy(name, p, len);
        name[len] = 0;
        PassId id = pass_lookup(name);
        cr_assert(id != PASS_COUNT, "no pass %s", name);
        pass_run(&c->ctx, id, &c->m);
        cr_assert(!c->ctx.failed, "pass %s failed: %s", name, c->ctx.err.msg);
        p += len + (p[len] == ',');
    }
    WsError err;
    cr_assert(module_write(&c->m, NULL, &c->out, &err), "write: %s", err.msg);
    ReadOptions ro = {.decode_code = true};
    cr_assert(module_read(&c->after, c->out.data, c->out.len, "out.wasm", &ro, &err), "reread: %s", err.msg);
    c->have_after = true;
    cr_assert(module_validate(&c->after, &err), "output invalid: %s", err.msg);
    if (wabt) cr_assert(case_wabt_valid(c->out.data, c->out.len), "wasm-validate rejected the output");
}

void case_free(Case *c) {
    if (c->have_after) module_free(&c->after);
    module_free(&c->m);
    buf_free(&c->out);
    free(c->in);
}

int64_t case_func_named(const Module *m, const char *name) {
    Bytes *names = calloc(m->nfuncs + 1, sizeof(Bytes));
    names_functions(m, names);
    int64_t found = -1;
    for (uint32_t f = 0; f < m->nfuncs; f++)
        if (names[f].len == strlen(name) && !memcmp(names[f].p, name, names[f].len)) found = f;
    free(names);
    return found;
}
