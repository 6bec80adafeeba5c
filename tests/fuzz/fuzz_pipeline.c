/* fuzz_pipeline.c - libFuzzer target for the passes.
 *
 * Bytes -> module_read (full decode) -> module_validate; inputs that do not read or are
 * not valid are dropped (fuzz_read covers those).  A valid module then goes, each time
 * from a fresh read, through:
 *   - the -O0 IR round trip (module_rewrite_functions with no transform, as the CLI's -O0;
 *     relocatable objects only decode), which must succeed on every valid module;
 *   - every registered pass on its own;
 *   - every registered pass in registry order, one after the other;
 *   - remove-unused checking the input's bodies as its scan lists them (run_checking),
 *     on invalid modules too: it must then fail with the validator's error.
 * Relocatable objects skip PF_CODE passes, which the CLI refuses for them.  After each
 * run the module must validate, write, read back with the full decode and validate
 * again; an invalid output, a write or read-back failure, or an "internal error" (the IR
 * verifier under WS_DEBUG, ...) is a finding: abort().  A pass may refuse a module with
 * an ordinary error (ctx.failed): that is not a finding.  The options (pass_options) are
 * a command line's: strip globs, every name kind, metering on; the input's last byte
 * picks the -O level, the fuel mode and the stack cost.
 * Without ir/validate.h (the validator not written yet) the IR round trip is the
 * validity check: the module must go through it and the output must read back.
 * Build: make build/fuzz_pipeline; run: make fuzz. */
#include <stdio.h>
#include <stdlib.h>
#include "funcmap.h"
#include "leb.h"
#include "module.h"
#include "../passes/pass.h"
#if defined(__has_include)
#if __has_include("validate.h")
#include "validate.h"
#define HAVE_VALIDATE 1
#endif
/* PassOptions.opt_level came with the inline pass, the metering options with the meter
 * pass: set them once those exist (drop these two guards when both are committed). */
#if __has_include("../passes/inline_options.h")
#define HAVE_OPT_LEVEL 1
#endif
#if __has_include("../passes/meter.h")
#define HAVE_METER 1
#endif
#endif

static void finding(const char *what, const char *pass, const WsError *err) {
    fprintf(stderr, "fuzz_pipeline: %s", what);
    if (pass) fprintf(stderr, " [%s]", pass);
    if (err) fprintf(stderr, " (0x%zx: %s)", err->offset, err->msg);
    fputc('\n', stderr);
    abort();
}

static bool internal(const WsError *err) {
    return !strncmp(err->msg, "internal error", 14);
}

static bool valid(const Module *m, WsError *err) {
#ifdef HAVE_VALIDATE
    return module_validate(m, err);
#else
    (void)m;
    (void)err;
    return true;
#endif
}

/* What the passes read, like a command line would set them, with the choices that change
 * what the passes do taken from the input's last byte (so a finding reproduces):
 * the -O level (inline's thresholds), fuel mode, stack cost and -tnh.  Metering is on with all
 * three instruments (--fuel --max-memory-pages=16 --stack-limit=1000). */
static const char *strip_patterns[] = {"*e*", "x?"};
static const char *keep_patterns[] = {"*s"};
static PassOptions pass_options(const uint8_t *data, size_t size) {
    static const int levels[] = {0, 1, 2, 3, 4, 's', 'z'};
    unsigned pick = size ? data[size - 1] : 0;
    PassOptions o;
    memset(&o, 0, sizeof o);
    o.strip_patterns = strip_patterns;
    o.nstrip_patterns = WS_ARRAY_LEN(strip_patterns);
    o.keep_patterns = keep_patterns;
    o.nkeep_patterns = WS_ARRAY_LEN(keep_patterns);
    o.strip_names_mask = ~0u;
    o.dce.ignore_traps = o.dce.traps_never_happen = (pick & 0x40) != 0; /* -tnh */
#if HAVE_OPT_LEVEL
    o.opt_level = levels[pick % WS_ARRAY_LEN(levels)];
#endif
#if HAVE_METER
    o.meter.fuel = true;
    o.meter.fuel_mode = (pick & 0x10) ? FUEL_EXACT : FUEL_LAZY;
    o.meter.mem_cap = true;
    o.meter.max_memory_pages = 16;
    o.meter.stack = true;
    o.meter.stack_limit = 1000;
    o.meter.stack_cost = (pick & 0x20) ? STACK_COST_FRAME : STACK_COST_ONE;
#endif
    (void)levels;
    (void)pick;
    return o;
}

/* Checks the written bytes: they read back with the full decode and validate. */
static void check_output(const Buf *out, const char *label) {
    Module back;
    WsError err;
    ReadOptions ro = {.decode_code = true};
    if (!module_read(&back, out->data, out->len, "output", &ro, &err)) finding("the output does not read back", label, &err);
    if (!valid(&back, &err)) finding("the output does not validate", label, &err);
#ifndef HAVE_VALIDATE
    if (!back.is_object && !module_rewrite_functions(&back, 1, NULL, NULL, &err))
        finding("the output fails the IR round trip", label, &err);
#endif
    module_free(&back);
}

/* One run over a fresh read of a valid module: the -O0 IR round trip if asked, then the
 * passes [first, last) in order. */
static void run(const uint8_t *data, size_t size, bool roundtrip, int first, int last, const char *label) {
    Module m;
    WsError err;
    ReadOptions ro = {.decode_code = true};
    if (!module_read(&m, data, size, "fuzz", &ro, &err)) finding("a valid module does not read again", label, &err);
    bool ok = true;
    if (roundtrip && m.is_object) {
        if (!module_decode_code(&m, &err)) finding("module_decode_code rejects a module the reader decoded", label, &err);
    } else if (roundtrip && !module_rewrite_functions(&m, 1, NULL, NULL, &err)) {
        finding("the -O0 IR round trip fails on a valid module", label, &err);
    }
    PassOptions opt = pass_options(data, size);
    PassCtx ctx;
    memset(&ctx, 0, sizeof ctx);
    ctx.opt = &opt;
    ctx.jobs = 1;
    for (int p = first; ok && p < last; p++) {
        if (m.is_object && (pass_info[p].flags & PF_CODE)) continue;
        pass_run(&ctx, (PassId)p, &m);
        if (ctx.failed) {
            if (internal(&ctx.err)) finding("a pass fails with an internal error", pass_info[p].name, &ctx.err);
            ok = false;
        }
    }
    if (ok) {
        if (!valid(&m, &err)) finding("the module does not validate after the passes", label, &err);
        Buf out = {0};
        WriteOptions wo = {m.is_object ? CODE_RAW : CODE_CANONICAL, 0};
        if (!module_write(&m, &wo, &out, &err)) finding("a valid module does not write", label, &err);
        check_output(&out, label);
        buf_free(&out);
    }
    module_free(&m);
}

#ifdef HAVE_VALIDATE
/* Contract: *m read lightly (as the CLI reads it) and a checker of everything but its
 * bodies; NULL, with m freed, for an object or a module invalid outside its bodies
 * (a finding when the module is valid). */
static Validator *read_for_checking(const uint8_t *data, size_t size, bool is_valid, Module *m) {
    WsError err;
    ReadOptions ro = {0};
    if (!module_read(m, data, size, "fuzz", &ro, &err)) finding("a module does not read lightly", NULL, &err);
    Validator *v = m->is_object ? NULL : validator_begin(m, &err);
    if (!v) {
        if (is_valid && !m->is_object) finding("validator_begin rejects a valid module", NULL, &err);
        module_free(m);
    }
    return v;
}

/* remove-unused as the first pass of an -O level, with the input's bodies left to its
 * scan (PassCtx.input_checker, as the CLI runs it; the code read lightly, as the CLI
 * reads it): on a valid module it must succeed, and the output pass check_output; on
 * one whose bodies alone are invalid it must fail with exactly the validator's error
 * (want).  Debug builds also compare each body's list with the plain scan's and each
 * canonical mark with a re-encoding. */
static void run_checking(const uint8_t *data, size_t size, bool is_valid, const WsError *want) {
    Module m;
    WsError err;
    Validator *v = read_for_checking(data, size, is_valid, &m);
    if (!v) return;
    PassOptions opt = pass_options(data, size);
    PassCtx ctx;
    memset(&ctx, 0, sizeof ctx);
    ctx.opt = &opt;
    ctx.jobs = 1;
    ctx.input_checker = v;
    pass_run(&ctx, PASS_ID_remove_unused, &m);
    validator_end(v);
    if (!is_valid && !ctx.failed) finding("the checking scan accepts an invalid body", "remove-unused", want);
    if (!is_valid && (ctx.err.offset != want->offset || strcmp(ctx.err.msg, want->msg)))
        finding("the checking scan reports another error than validation", "remove-unused", &ctx.err);
    if (is_valid && ctx.failed && internal(&ctx.err)) finding("a pass fails with an internal error", "remove-unused", &ctx.err);
    if (is_valid && !ctx.failed) {
        if (!ctx.input_checked) finding("the checking scan did not check the bodies", "remove-unused", NULL);
        if (!valid(&m, &err)) finding("the module does not validate after the checking scan", "remove-unused", &err);
        Buf out = {0};
        WriteOptions wo = {CODE_CANONICAL, 0};
        if (!module_write(&m, &wo, &out, &err)) finding("a valid module does not write", "remove-unused", &err);
        check_output(&out, "remove-unused checking");
        buf_free(&out);
    }
    module_free(&m);
}

/* The -O0 round trip as the CLI runs it: each body checked as it is built, by the
 * builder's own type check when that covers it (ir_build_checked), else by the
 * validator.  On a valid module it must succeed; on one whose bodies alone are invalid
 * it must fail with exactly the validator's error (want). */
static void run_checked_roundtrip(const uint8_t *data, size_t size, bool is_valid, const WsError *want) {
    Module m;
    WsError err;
    Validator *v = read_for_checking(data, size, is_valid, &m);
    if (!v) return;
    bool ok = module_rewrite_functions_checked(&m, 1, v, NULL, NULL, &err);
    validator_end(v);
    if (!is_valid && ok) finding("the checked -O0 round trip accepts an invalid body", "-O0", want);
    if (!is_valid && (err.offset != want->offset || strcmp(err.msg, want->msg)))
        finding("the checked -O0 round trip reports another error than validation", "-O0", &err);
    if (is_valid && !ok) finding("the checked -O0 round trip fails on a valid module", "-O0", &err);
    if (is_valid && !valid(&m, &err)) finding("the module does not validate after the checked round trip", "-O0", &err);
    module_free(&m);
}
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    Module m;
    WsError err;
    ReadOptions ro = {.decode_code = true};
    if (!module_read(&m, data, size, "fuzz", &ro, &err)) return 0;
    bool is_valid = valid(&m, &err);
#ifndef HAVE_VALIDATE
    if (is_valid && !m.is_object) {
        is_valid = module_rewrite_functions(&m, 1, NULL, NULL, &err);
        if (!is_valid && internal(&err)) finding("the IR round trip fails", NULL, &err);
    }
#endif
    module_free(&m);
#ifdef HAVE_VALIDATE
    run_checking(data, size, is_valid, &err);
    run_checked_roundtrip(data, size, is_valid, &err);
#endif
    if (!is_valid) return 0;
    run(data, size, true, 0, 0, "-O0");
    for (int p = 0; p < PASS_COUNT; p++) run(data, size, false, p, p + 1, pass_info[p].name);
    run(data, size, false, 0, PASS_COUNT, "all passes");
    return 0;
}
