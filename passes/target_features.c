/* target_features.c - the emit-target-features pass (wasm-opt's --emit-target-features):
 * the target_features custom section, rewritten from what the module uses.
 *
 *   before: ... code data  "target_features" [+simd128 +bulk-memory]   (no v128 left)
 *   after:  ... code data  "target_features" [+sign-ext +mutable-globals]
 *
 * The section lists every feature the module as written uses (ir/featureset.c scans
 * it), "+" and LLVM's name each, in featureset.def's order; one it already had is
 * replaced.  Runs after every other pass, metering included (its exported fuel global
 * needs mutable-globals).  Refused on relocatable objects: their sections are indexed
 * by the relocations, and wasm-ld writes the linked module's own. */
#include "pass.h"
#include "../ir/featureset.h"
#include "../ir/leb.h"
#include <string.h>

/* File offset of the "linking" section that makes m an object. */
static size_t linking_offset(const Module *m) {
    for (uint32_t i = 0; i < m->ncustoms; i++)
        if (custom_is(&m->customs[i], "linking")) return m->customs[i].offset;
    return 0;
}

void pass_emit_target_features(PassCtx *ctx, Module *m) {
    if (m->is_object) {
        pass_fail_at(ctx, m, linking_offset(m), "%s",
                     "--emit-target-features: not on a relocatable object (wasm-ld writes the section)");
        return;
    }
    uint32_t used;
    if (!module_features_used(m, &used, &ctx->err)) {
        ctx->failed = true;
        return;
    }
    for (uint32_t i = 0; i < m->ncustoms; i++)
        if (custom_is(&m->customs[i], "target_features")) m->customs[i].removed = true;
    Buf b = {0};
    buf_u32(&b, (uint32_t)__builtin_popcount(used));
    for (uint32_t i = 0; feature_section_name(i); i++) {
        if (!(used & (1u << i))) continue;
        const char *name = feature_section_name(i);
        buf_u8(&b, '+');
        buf_u32(&b, (uint32_t)strlen(name));
        buf_bytes(&b, name, strlen(name));
    }
    module_add_custom(m, "target_features", b.data, b.len);
    buf_free(&b);
}
