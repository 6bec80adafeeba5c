/* pass.h - what passes see: the options they read, the context they report into, and
 * the registry generated from passes/passes.def. */
#ifndef WS_PASS_H
#define WS_PASS_H

#include "../ir/module.h"
#include "dce_options.h"
#include "inline_options.h"
#include "meter_options.h"
#include <stdio.h>

/* Options that passes read (filled by the CLI). */
typedef struct PassOptions {
    const char **strip_patterns;   /* --strip-custom=GLOB */
    uint32_t nstrip_patterns;
    const char **keep_patterns;    /* --keep-custom=GLOB (wins over every strip rule) */
    uint32_t nkeep_patterns;
    uint32_t strip_names_mask;     /* --strip-names=KINDS: bit per NAME_* kind */
    DceOptions dce;                /* passes/dce_options.h */
    MeterOptions meter;            /* passes/meter_options.h */
    InlineOptions inlining;        /* passes/inline_options.h */
    int opt_level;                 /* -O level (Options.opt_level): -1 none, 0-4, 's', 'z' */
    uint32_t features_off;         /* FT_* the module may not use (--mvp-features, --disable-X) */
} PassOptions;

/* Counters a run reports (summary, --stats=json). */
typedef struct PassStats {
    uint32_t customs_removed;
    size_t custom_bytes_removed;
    /* module elements removed by the dead-code passes */
    uint32_t funcs_removed, imports_removed, globals_removed, tables_removed, mems_removed;
    uint32_t tags_removed, types_removed, elems_removed, datas_removed, exports_removed;
    /* function-level changes */
    uint32_t instrs_removed, locals_removed, params_removed, funcs_changed;
    uint32_t calls_inlined, funcs_inlined_away;
    uint32_t funcs_merged;         /* duplicate-function-elimination */
    /* metering (--fuel, --stack-limit, --max-memory-pages on imported memories) */
    uint32_t funcs_metered, fuel_charges, fuel_refunds;
    uint64_t fuel_bound;           /* lazy mode's overrun bound (set, not summed) */
} PassStats;

typedef struct PassCtx {
    const PassOptions *opt;
    FILE *log;          /* notices ("kept dylink.0 ..."); NULL = quiet */
    PassStats stats;
    uint32_t jobs;      /* worker threads for function passes */
    bool failed;        /* a pass failed: err says why; later passes do not run */
    bool unchanged;     /* set by a pass that left the module exactly as it was: the
                           bodies keep their validation marks (pass_run clears it
                           before each pass) */
    bool bodies_only;   /* set by a pass that changed nothing but function bodies and
                           cleared the validation mark of each body it replaced: the
                           others keep theirs (a body's validity depends on the module
                           outside the bodies only) */
    WsError err;
    /* Set by the driver when the input's bodies are still unchecked (everything else
     * is): the first pass, which reads every body anyway, checks each with a worker of
     * it (validator_check_body), marks it valid, fails on the lowest invalid function's
     * error as validation would, and sets input_checked (remove-unused does). */
    const struct Validator *input_checker;
    bool input_checked;
} PassCtx;

typedef enum PassKind { PASS_MODULE, PASS_FUNCTION } PassKind;
enum { PF_CODE = 1 };
typedef void (*ModulePassFn)(PassCtx *ctx, Module *m);

typedef enum PassId {
#define PASS(id, name, kind, flags, desc) PASS_ID_##id,
#include "passes.def"
#undef PASS
    PASS_COUNT
} PassId;

typedef struct PassInfo {
    const char *name;
    PassKind kind;
    unsigned flags;
    const char *desc;
    ModulePassFn run;
} PassInfo;

extern const PassInfo pass_info[PASS_COUNT];

#define PASS(id, name, kind, flags, desc) void pass_##id(PassCtx *ctx, Module *m);
#include "passes.def"
#undef PASS

/* Adds delta to ctx->stats under a lock (function passes run on several threads). */
void pass_stats_add(PassCtx *ctx, const PassStats *delta);
/* Contract: a pass refuses module m: sets ctx->failed and ctx->err (the module's file,
 * offset 0, the formatted message). */
void pass_fail(PassCtx *ctx, const Module *m, const char *fmt, ...) WS_PRINTF(3, 4);
/* As pass_fail, at file offset `offset` (of the section or item refused). */
void pass_fail_at(PassCtx *ctx, const Module *m, size_t offset, const char *fmt, ...) WS_PRINTF(4, 5);
/* File offset of the payload of known section `id` in the input, 0 when absent. */
size_t pass_section_offset(const Module *m, uint8_t id);
/* Prints the non-zero counters ("removed: 3 functions, ...") as one line, or as a JSON
 * object. */
void pass_stats_print(FILE *out, const PassStats *s, bool json);

/* Runs transform on every defined function's IR (in parallel, deterministic); on
 * failure sets ctx->failed and ctx->err. */
struct IrFunc;
typedef bool (*PassFuncFn)(struct IrFunc *f, void *arg, WsError *err);
void pass_for_each_function(PassCtx *ctx, Module *m, PassFuncFn fn, void *arg);
/* The dce pass on one function's IR (passes/dce.c), for passes that clean up what they
 * changed; arg is the PassCtx its counters go to. */
bool dce_function(struct IrFunc *f, void *arg, WsError *err);

/* Pass by name (also accepts wasm-opt's aliases); PASS_COUNT if unknown. */
PassId pass_lookup(const char *name);
void pass_list(FILE *out);
/* Runs one pass on the module. */
void pass_run(PassCtx *ctx, PassId id, Module *m);

/* After custom sections were removed from a relocatable object: renumbers the section
 * and symbol indices that linking and reloc.* hold, undoing removals that would leave
 * the object unlinkable (passes/object.c).  No-op on modules. */
void object_fixup(PassCtx *ctx, Module *m);
/* True for a reloc.* section of an object that applies to a known section (code, data),
 * or whose target cannot be read: removing it changes what the object links to. */
bool object_reloc_for_known(const Module *m, const Custom *c);

/* Glob match with '*' (any run, including dots and nothing) and '?' (one byte). */
bool glob_match(const char *pattern, const uint8_t *s, size_t len);

#endif
