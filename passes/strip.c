/* strip.c - removal of custom sections: debug info, names, producers, target features,
 * everything, or what glob patterns name.  Never decodes code.
 *
 *   before: type import func ... code data  "name" ".debug_info" ".debug_line" "producers"
 *   --strip-debug:
 *   after:  type import func ... code data  "producers"
 *
 * --keep-custom=GLOB wins over every rule.  Sections that change what a module means
 * (dylink.0; linking and the reloc.* of code/data in relocatable objects) survive
 * --strip-all.  After removals from an object, object_fixup (object.c) renumbers the
 * section and symbol indices of linking and reloc.* so the object still links. */
#include "pass.h"
#include "../ir/names.h"

typedef bool (*StripRule)(const PassOptions *o, const Module *m, const Custom *c);

static bool is_dwarf(const PassOptions *o, const Module *m, const Custom *c) {
    return custom_has_prefix(c, ".debug_") || custom_has_prefix(c, "reloc..debug_");
}

static bool is_debug(const PassOptions *o, const Module *m, const Custom *c) {
    return is_dwarf(o, m, c) || custom_is(c, "name") || custom_is(c, "sourceMappingURL") ||
           custom_is(c, "external_debug_info");
}

static bool is_producers(const PassOptions *o, const Module *m, const Custom *c) {
    return custom_is(c, "producers");
}

static bool is_target_features(const PassOptions *o, const Module *m, const Custom *c) {
    return custom_is(c, "target_features");
}

/* Sections whose removal changes how the module links or loads. */
static bool changes_meaning(const Module *m, const Custom *c) {
    if (custom_is(c, "dylink.0") || custom_is(c, "dylink")) return true;
    return m->is_object && (custom_is(c, "linking") || object_reloc_for_known(m, c));
}

static bool is_any_but_meaningful(const PassOptions *o, const Module *m, const Custom *c) {
    return !changes_meaning(m, c);
}

static bool kept_by_pattern(const PassOptions *o, const Custom *c) {
    for (uint32_t i = 0; i < o->nkeep_patterns; i++)
        if (glob_match(o->keep_patterns[i], c->name.p, c->name.len)) return true;
    return false;
}

static void log_kept(PassCtx *ctx, const Custom *c, const char *why) {
    if (ctx->log)
        fprintf(ctx->log, "wasmslim: kept custom section \"%.*s\" (%s)\n", (int)c->name.len,
                (const char *)c->name.p, why);
}

/* Contract: marks removed every live custom section the rule selects, unless a
 * --keep-custom pattern names it; counts what went; keeps objects linkable. */
static void strip_by_rule(PassCtx *ctx, Module *m, StripRule rule) {
    uint32_t removed = 0;
    for (uint32_t i = 0; i < m->ncustoms; i++) {
        Custom *c = &m->customs[i];
        if (c->removed || !rule(ctx->opt, m, c)) continue;
        if (kept_by_pattern(ctx->opt, c)) { log_kept(ctx, c, "--keep-custom"); continue; }
        c->removed = true;
        removed++;
        ctx->stats.customs_removed++;
        ctx->stats.custom_bytes_removed += c->size;
    }
    if (removed && m->is_object) object_fixup(ctx, m);
}

void pass_strip_debug(PassCtx *ctx, Module *m) { strip_by_rule(ctx, m, is_debug); }
void pass_strip_dwarf(PassCtx *ctx, Module *m) { strip_by_rule(ctx, m, is_dwarf); }
void pass_strip_producers(PassCtx *ctx, Module *m) { strip_by_rule(ctx, m, is_producers); }
void pass_strip_target_features(PassCtx *ctx, Module *m) { strip_by_rule(ctx, m, is_target_features); }

void pass_strip_all(PassCtx *ctx, Module *m) {
    for (uint32_t i = 0; i < m->ncustoms; i++)
        if (!m->customs[i].removed && changes_meaning(m, &m->customs[i]))
            log_kept(ctx, &m->customs[i], "changes meaning");
    strip_by_rule(ctx, m, is_any_but_meaningful);
}

static bool matches_strip_pattern(const PassOptions *o, const Module *m, const Custom *c) {
    for (uint32_t i = 0; i < o->nstrip_patterns; i++)
        if (glob_match(o->strip_patterns[i], c->name.p, c->name.len)) return true;
    return false;
}

void pass_strip_custom(PassCtx *ctx, Module *m) { strip_by_rule(ctx, m, matches_strip_pattern); }

/* Contract: drops the name subsections selected by --strip-names (all of them when the
 * mask is empty); removes the section when nothing is left. */
void pass_strip_names(PassCtx *ctx, Module *m) {
    uint32_t removed = 0;
    uint32_t mask = ctx->opt->strip_names_mask ? ctx->opt->strip_names_mask : ~0u;
    for (uint32_t i = 0; i < m->ncustoms; i++) {
        Custom *c = &m->customs[i];
        if (c->removed || !custom_is(c, "name") || kept_by_pattern(ctx->opt, c)) continue;
        Bytes filtered;
        if (!names_filter(&m->arena, c->payload, mask, &filtered)) continue;
        size_t before = c->payload.len;
        c->payload = filtered;
        ctx->stats.custom_bytes_removed += before - filtered.len;
        if (filtered.len == 0) {
            c->removed = true;
            removed++;
            ctx->stats.customs_removed++;
        }
    }
    if (removed && m->is_object) object_fixup(ctx, m);
}
