/* registry.c - the pass table expanded from passes.def, lookup and listing. */
#include "pass.h"
#include <pthread.h>
#include <stdarg.h>
#include "../ir/funcmap.h"
#include "../ir/validate.h"

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

#ifdef WS_DEBUG
/* Debug builds: the whole module is validated after every pass; a pass that leaves it
 * invalid fails the run with an internal error naming the pass. */
static void validate_after(PassCtx *ctx, PassId id, Module *m) {
    if (module_validate(m, &ctx->err)) return;
    char msg[sizeof ctx->err.msg];
    snprintf(msg, sizeof msg, "internal error: invalid module after pass %.40s: %.400s", pass_info[id].name,
             ctx->err.msg);
    memcpy(ctx->err.msg, msg, sizeof msg);
    ctx->failed = true;
}
#else
static void validate_after(PassCtx *ctx, PassId id, Module *m) { (void)ctx; (void)id; (void)m; }
#endif

/* Contract: runs one pass; bodies lose their validation marks (a pass may change what
 * they refer to) unless the pass says it changed nothing, or only bodies (whose marks
 * it cleared itself), and debug builds validate the result. */
void pass_run(PassCtx *ctx, PassId id, Module *m) {
    if (ctx->failed) return;
    ctx->unchanged = false;
    ctx->bodies_only = false;
    pass_info[id].run(ctx, m);
    if (!ctx->unchanged && !ctx->bodies_only) module_mark_bodies_valid(m, false);
    if (!ctx->failed) validate_after(ctx, id, m);
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

static pthread_mutex_t stats_lock = PTHREAD_MUTEX_INITIALIZER;

static void fail_v(PassCtx *ctx, const Module *m, size_t offset, const char *fmt, va_list ap) {
    vsnprintf(ctx->err.msg, sizeof ctx->err.msg, fmt, ap);
    ctx->failed = true;
    ctx->err.file = m->file;
    ctx->err.offset = offset;
}

void pass_fail(PassCtx *ctx, const Module *m, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fail_v(ctx, m, 0, fmt, ap);
    va_end(ap);
}

void pass_fail_at(PassCtx *ctx, const Module *m, size_t offset, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fail_v(ctx, m, offset, fmt, ap);
    va_end(ap);
}

size_t pass_section_offset(const Module *m, uint8_t id) {
    const uint8_t *p = m->section_payload[section_rank(id)].p;
    return p && m->input ? (size_t)(p - m->input) : 0;
}

void pass_stats_add(PassCtx *ctx, const PassStats *delta) {
    pthread_mutex_lock(&stats_lock);
    PassStats *s = &ctx->stats;
    s->customs_removed += delta->customs_removed;
    s->custom_bytes_removed += delta->custom_bytes_removed;
    s->funcs_removed += delta->funcs_removed;
    s->imports_removed += delta->imports_removed;
    s->globals_removed += delta->globals_removed;
    s->tables_removed += delta->tables_removed;
    s->mems_removed += delta->mems_removed;
    s->tags_removed += delta->tags_removed;
    s->types_removed += delta->types_removed;
    s->elems_removed += delta->elems_removed;
    s->datas_removed += delta->datas_removed;
    s->exports_removed += delta->exports_removed;
    s->instrs_removed += delta->instrs_removed;
    s->locals_removed += delta->locals_removed;
    s->params_removed += delta->params_removed;
    s->funcs_changed += delta->funcs_changed;
    s->calls_inlined += delta->calls_inlined;
    s->funcs_inlined_away += delta->funcs_inlined_away;
    s->funcs_merged += delta->funcs_merged;
    s->funcs_metered += delta->funcs_metered;
    s->fuel_charges += delta->fuel_charges;
    s->fuel_refunds += delta->fuel_refunds;
    if (delta->fuel_bound > s->fuel_bound) s->fuel_bound = delta->fuel_bound;
    pthread_mutex_unlock(&stats_lock);
}

void pass_stats_print(FILE *out, const PassStats *s, bool json) {
    const struct { const char *name; uint64_t v; } rows[] = {
        {"custom sections removed", s->customs_removed}, {"functions removed", s->funcs_removed},
        {"imports removed", s->imports_removed}, {"globals removed", s->globals_removed},
        {"tables removed", s->tables_removed}, {"memories removed", s->mems_removed},
        {"tags removed", s->tags_removed}, {"types removed", s->types_removed},
        {"element segments removed", s->elems_removed}, {"data segments removed", s->datas_removed},
        {"exports removed", s->exports_removed}, {"instructions removed", s->instrs_removed},
        {"locals removed", s->locals_removed}, {"parameters removed", s->params_removed},
        {"calls inlined", s->calls_inlined}, {"functions merged", s->funcs_merged},
        {"functions changed", s->funcs_changed}, {"functions metered", s->funcs_metered},
        {"fuel charges", s->fuel_charges}, {"loop exits refunded", s->fuel_refunds},
        {"lazy overrun bound", s->fuel_bound},
    };
    const char *sep = json ? "{" : "passes: ";
    bool any = false;
    for (size_t i = 0; i < WS_ARRAY_LEN(rows); i++) {
        if (!rows[i].v && !json) continue;
        if (json) fprintf(out, "%s\"%s\": %llu", sep, rows[i].name, (unsigned long long)rows[i].v);
        else fprintf(out, "%s%s %llu", sep, rows[i].name, (unsigned long long)rows[i].v);
        sep = ", ";
        any = true;
    }
    if (json) fputs(any ? "}" : "{}", out);
    else if (any) fputc('\n', out);
}
