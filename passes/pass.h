/* pass.h - what passes see: the options they read, the context they report into, and
 * the registry generated from passes/passes.def. */
#ifndef WS_PASS_H
#define WS_PASS_H

#include "../ir/module.h"
#include <stdio.h>

/* Options that passes read (filled by the CLI). */
typedef struct PassOptions {
    const char **strip_patterns;   /* --strip-custom=GLOB */
    uint32_t nstrip_patterns;
    const char **keep_patterns;    /* --keep-custom=GLOB (wins over every strip rule) */
    uint32_t nkeep_patterns;
    uint32_t strip_names_mask;     /* --strip-names=KINDS: bit per NAME_* kind */
} PassOptions;

/* Counters a run reports (summary, --stats=json). */
typedef struct PassStats {
    uint32_t customs_removed;
    size_t custom_bytes_removed;
} PassStats;

typedef struct PassCtx {
    const PassOptions *opt;
    FILE *log;          /* notices ("kept dylink.0 ..."); NULL = quiet */
    PassStats stats;
} PassCtx;

typedef enum PassKind { PASS_MODULE, PASS_FUNCTION } PassKind;
typedef void (*ModulePassFn)(PassCtx *ctx, Module *m);

typedef enum PassId {
#define PASS(id, name, kind, desc) PASS_ID_##id,
#include "passes.def"
#undef PASS
    PASS_COUNT
} PassId;

typedef struct PassInfo {
    const char *name;
    PassKind kind;
    const char *desc;
    ModulePassFn run;
} PassInfo;

extern const PassInfo pass_info[PASS_COUNT];

#define PASS(id, name, kind, desc) void pass_##id(PassCtx *ctx, Module *m);
#include "passes.def"
#undef PASS

/* Pass by name (also accepts wasm-opt's aliases); PASS_COUNT if unknown. */
PassId pass_lookup(const char *name);
void pass_list(FILE *out);
/* Runs one pass on the module. */
void pass_run(PassCtx *ctx, PassId id, Module *m);

/* After custom sections were removed from a relocatable object: renumbers the section
 * and symbol indices that linking and reloc.* hold, undoing removals that would leave
 * the object unlinkable (passes/object.c).  No-op on modules. */
void object_fixup(PassCtx *ctx, Module *m);

/* Glob match with '*' (any run, including dots and nothing) and '?' (one byte). */
bool glob_match(const char *pattern, const uint8_t *s, size_t len);

#endif
