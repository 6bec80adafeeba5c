/* registry.c - the pass table expanded from passes.def, lookup and listing. */
#include "pass.h"
#include "../ir/funcmap.h"

const PassInfo pass_info[PASS_COUNT] = {
#define PASS(id, name, kind, flags, desc) {name, kind, flags, desc, pass_##id},
#include "passes.def"
#undef PASS
};

static const struct { const char *alias, *name; } aliases[] = {
    {"remove-unused-module-elements", "remove-unused"},
    {"inlining-optimizing", "inline"},
};

PassId pass_lookup(const char *name) {
    for (size_t i = 0; i < WS_ARRAY_LEN(aliases); i++)
        if (!strcmp(name, aliases[i].alias)) name = aliases[i].name;
    for (int i = 0; i < PASS_COUNT; i++)
        if (!strcmp(pass_info[i].name, name)) return (PassId)i;
    return PASS_COUNT;
}

void pass_list(FILE *out) {
    for (int i = 0; i < PASS_COUNT; i++)
        fprintf(out, "  %-24s %-8s %s\n", pass_info[i].name,
                pass_info[i].kind == PASS_MODULE ? "module" : "function", pass_info[i].desc);
}

void pass_run(PassCtx *ctx, PassId id, Module *m) {
    if (!ctx->failed) pass_info[id].run(ctx, m);
}

void pass_for_each_function(PassCtx *ctx, Module *m, PassFuncFn fn, void *arg) {
    if (ctx->failed) return;
    if (!module_rewrite_functions(m, ctx->jobs ? ctx->jobs : 1, fn, arg, &ctx->err)) ctx->failed = true;
}

/* Contract: classic glob over bytes; iterative with one backtrack point, so it is linear
 * in practice and never recursive. */
bool glob_match(const char *pattern, const uint8_t *s, size_t len) {
    const char *p = pattern, *star = NULL;
    size_t i = 0, star_i = 0;
    while (i < len) {
        if (*p == '*') { star = p++; star_i = i; continue; }
        if (*p && (*p == '?' || (uint8_t)*p == s[i])) { p++; i++; continue; }
        if (!star) return false;
        p = star + 1;
        i = ++star_i;
    }
    while (*p == '*') p++;
    return *p == '\0';
}
