/* main.c - the wasmslim program: read, run passes, write, report. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include "../ir/leb.h"
#include "../ir/funcmap.h"
#include "../ir/module.h"
#include "../ir/pool.h"
#include "../ir/featureset.h"
#include "../ir/validate.h"
#include "io.h"
#include "options.h"
#include "print.h"
#include "profile.h"
#include "report.h"
#include "../passes/pass.h"

#define WASMSLIM_VERSION "0.1.0"

/* Everything one run holds, freed by run_end in debug builds. */
typedef struct Run {
    Options opt;
    InputFile input;
    Module m;
    bool have_module;
    SizeReport before, after;
    bool have_after;
    PassStats stats;         /* what the passes did */
    bool input_checked;      /* the input was validated (or its bodies are being) */
    Validator *checker;      /* -O0: validates the bodies in the IR round trip; a
                                pipeline that starts with remove-unused: in its scan */
    double t_start, t_last;  /* --time-passes: when the run and the last phase began (ms) */
} Run;

static double now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

/* Contract: with --time-passes, prints the wall time since the last phase ended (or the
 * run began) under name and starts the next phase; otherwise nothing. */
static void phase_done(Run *r, const char *name) {
    if (!r->opt.time_passes) return;
    double t = now_ms();
    fprintf(stderr, "time: %-22s %9.1f ms\n", name, t - r->t_last);
    r->t_last = t;
}

/* Inputs from this size on get the heap readied for them (ws_heap_prepare); smaller
 * runs allocate too little for it to matter, and would pay for its 16 MB probe. */
enum { HEAP_PREPARE_MIN = 256 << 10 };
/* --converge: at most this many rounds after the first (wasm-opt has no bound). */
enum { CONVERGE_ROUNDS = 16 };

static const char *display_name(const char *path) { return strcmp(path, "-") ? path : "<stdin>"; }

/* True when the run decodes code anyway: -O levels, code passes, --print, --profile. */
static bool run_touches_code(const Run *r) {
    if (r->opt.opt_level >= 0 || r->opt.print_ir || r->opt.profile != STATS_NONE) return true;
    for (uint32_t i = 0; i < r->opt.npipeline; i++)
        if (pass_info[r->opt.pipeline[i]].flags & PF_CODE) return true;
    return false;
}

static bool run_read(Run *r) {
    if (!io_read_file(r->opt.input, &r->input, run_touches_code(r))) return false;
    if (r->input.len >= HEAP_PREPARE_MIN) ws_heap_prepare(4 * r->input.len + ((size_t)64 << 20));
    ReadOptions ro = {0}; /* code is decoded by -O0's IR round trip, or not at all */
    WsError err;
    if (!module_read(&r->m, r->input.data, r->input.len, display_name(r->opt.input), &ro, &err)) {
        ws_error_print(&err, stderr);
        return false;
    }
    r->have_module = true;
    report_build(&r->before, &r->m);
    if (r->opt.profile != STATS_NONE) {
        FILE *info = r->opt.output && !strcmp(r->opt.output, "-") ? stderr : stdout;
        return profile_print(info, &r->m, r->opt.profile_count, r->opt.profile == STATS_JSON);
    }
    return true;
}

static bool is_dwarf(const Custom *c) { return custom_has_prefix(c, ".debug_"); }

/* Custom sections that describe code offsets: wrong once code changes. */
static bool describes_code_offsets(const Custom *c) {
    return is_dwarf(c) || custom_has_prefix(c, "reloc..debug_") || custom_is(c, "sourceMappingURL") ||
           custom_is(c, "external_debug_info");
}

/* Contract: true when the run still keeps a custom section for which `is` holds. */
static bool keeps_custom(const Module *m, bool (*is)(const Custom *)) {
    for (uint32_t i = 0; i < m->ncustoms; i++)
        if (!m->customs[i].removed && is(&m->customs[i])) return true;
    return false;
}

/* Contract: once code changed, drops what would describe it wrongly (DWARF, source map
 * URLs, external debug info) with a one-line notice. */
static void drop_stale_dwarf(Run *r) {
    Module *m = &r->m;
    if (!m->code_changed) return;
    uint32_t dropped = 0;
    for (uint32_t i = 0; i < m->ncustoms; i++)
        if (!m->customs[i].removed && describes_code_offsets(&m->customs[i])) {
            m->customs[i].removed = true;
            dropped++;
        }
    m->dwarf_dropped = dropped > 0;
    if (dropped && !r->opt.quiet)
        fprintf(stderr, "wasmslim: notice: code changed, dropped %u stale debug section%s (DWARF, source map)\n",
                dropped, dropped == 1 ? "" : "s");
}

/* Contract: -O0 sends every function through the IR and back.  Objects keep their code
 * bytes (relocations point into it, so the round trip only checks), and so does a
 * module with DWARF or a source map: re-encoding its padded LEBs would move the code
 * they describe and drop them (a --strip flag that removes them later also shortens
 * the LEBs; a pass that changes code still drops them). */
static bool run_roundtrip(Run *r) {
    if (r->opt.opt_level != 0) return true;
    WsError err;
    if (r->m.is_object) {
        if (module_decode_code(&r->m, &err)) return true;
        ws_error_print(&err, stderr);
        return false;
    }
    uint32_t jobs = pool_default_threads();
    bool ok = keeps_custom(&r->m, describes_code_offsets) ? module_check_functions(&r->m, jobs, r->checker, &err)
              : r->checker          ? module_rewrite_functions_checked(&r->m, jobs, r->checker, NULL, NULL, &err)
                                    : module_rewrite_functions(&r->m, jobs, NULL, NULL, &err);
    validator_end(r->checker);
    r->checker = NULL;
    phase_done(r, "-O0 round trip");
    if (ok) return true;
    ws_error_print(&err, stderr);
    return false;
}

/* The passes that run once, after every other, in this order: the meter pass (fuel,
 * memory cap, stack limit: instrumentation must see the final code, whatever the order
 * of the flags), then emit-target-features, which describes the module as written. */
static const PassId final_passes[] = {PASS_ID_meter, PASS_ID_emit_target_features};

static bool is_final_pass(PassId id) {
    for (size_t k = 0; k < WS_ARRAY_LEN(final_passes); k++)
        if (final_passes[k] == id) return true;
    return false;
}

/* Contract: moves the final passes (each added at most once) to the pipeline's end. */
static void final_passes_last(Options *o) {
    uint32_t n = 0;
    bool present[WS_ARRAY_LEN(final_passes)] = {false};
    for (uint32_t i = 0; i < o->npipeline; i++) {
        PassId id = o->pipeline[i];
        for (size_t k = 0; k < WS_ARRAY_LEN(final_passes); k++) present[k] |= final_passes[k] == id;
        if (!is_final_pass(id)) o->pipeline[n++] = id;
    }
    for (size_t k = 0; k < WS_ARRAY_LEN(final_passes); k++)
        if (present[k]) o->pipeline[n++] = final_passes[k];
    o->npipeline = n;
}

/* Contract: when the first pass checked the input's bodies (ctx->input_checked), the
 * checker goes; when it was to and did not (it failed first, or stopped before its
 * scan), the bodies are checked now, as the module stands. */
static bool finish_input_check(Run *r, PassCtx *ctx) {
    if (!ctx->input_checker) return true;
    validator_end(r->checker);
    r->checker = NULL;
    ctx->input_checker = NULL;
    if (ctx->input_checked || ctx->failed) return true;
    WsError err;
    if (module_validate_except_code(&r->m, false, &err)) return true;
    ws_error_print(&err, stderr);
    return false;
}

/* Contract: runs pipeline[from, to) on the module; false (with the message printed)
 * when a pass refuses the module.  A failed pass leaves ctx->failed for the caller. */
static bool run_pipeline(Run *r, PassCtx *ctx, uint32_t from, uint32_t to) {
    for (uint32_t i = from; i < to && !ctx->failed; i++) {
        PassId id = r->opt.pipeline[i];
        if (r->m.is_object && (pass_info[id].flags & PF_CODE)) {
            fprintf(stderr, "%s: error: pass %s changes code, which a relocatable object (with a "
                            "\"linking\" section) cannot take: optimise the linked module instead\n",
                    r->m.file, pass_info[id].name);
            return false;
        }
        pass_run(ctx, id, &r->m);
        if (!finish_input_check(r, ctx)) return false;
        phase_done(r, pass_info[id].name);
    }
    return true;
}

static WriteOptions write_options(const Run *r) {
    WriteOptions wo = {CODE_CANONICAL, pool_default_threads()};
    if (r->m.is_object || keeps_custom(&r->m, is_dwarf)) wo.code_mode = CODE_RAW;
    return wo;
}

static bool discard(void *ctx, const WritePiece *v, uint32_t n) { return (void)ctx, (void)v, (void)n, true; }

/* Contract: the size the module would be written at; SIZE_MAX if it cannot be. */
static size_t written_size(const Run *r) {
    WriteOptions wo = write_options(r);
    WriteSink sink = {discard, NULL, false};
    WriteLayout layout;
    WsError err;
    size_t n = module_write_stream(&r->m, &wo, &sink, &layout, &err) ? layout.total : SIZE_MAX;
    write_layout_free(&layout);
    return n;
}

/* Contract: --converge, as wasm-opt has it: the passes (metering and
 * emit-target-features excepted: they run once, last) run again while each round makes the written module smaller; the
 * module is left as the last round made it. */
static bool converge(Run *r, PassCtx *ctx, uint32_t npasses) {
    size_t last = written_size(r);
    for (uint32_t round = 0; round < CONVERGE_ROUNDS && !ctx->failed; round++) {
        if (!run_pipeline(r, ctx, 0, npasses)) return false;
        size_t now = written_size(r);
        if (now >= last) break;
        last = now;
    }
    return true;
}

static bool run_passes(Run *r) {
    if (!run_roundtrip(r)) return false;
    PassCtx ctx;
    memset(&ctx, 0, sizeof ctx);
    r->opt.pass.opt_level = options_pass_level(&r->opt);
    ctx.opt = &r->opt.pass;
    ctx.log = r->opt.quiet ? NULL : stderr;
    if (r->opt.output && !strcmp(r->opt.output, "-")) r->opt.pass.dce.report = stderr; /* stdout is the module */
    ctx.jobs = pool_default_threads();
    ctx.input_checker = r->checker; /* left by run_validate to the first pass */
    uint32_t n = r->opt.npipeline, npasses = n; /* the final passes (final_passes_last) run once */
    while (npasses && is_final_pass(r->opt.pipeline[npasses - 1])) npasses--;
    if (!run_pipeline(r, &ctx, 0, npasses)) return false;
    if (r->opt.converge && npasses && !ctx.failed && !converge(r, &ctx, npasses)) return false;
    if (!run_pipeline(r, &ctx, npasses, n)) return false;
    r->stats = ctx.stats;
    if (ctx.failed) {
        ws_error_print(&ctx.err, stderr);
        return false;
    }
    drop_stale_dwarf(r);
    return true;
}

/* Contract: true when the first pass checks the input's bodies as it scans them all
 * (PassCtx.input_checker): remove-unused lists each body's references from the check,
 * and the run walks every body once less (sql-wasm.wasm -O1 on one core: 64.7 -> 57.5
 * M instructions); metering alone builds every body's IR with the builder's check, as
 * -O0 does. */
static bool first_pass_checks(const Run *r) {
    if (r->opt.opt_level == 0 || r->opt.npipeline == 0) return false;
    return r->opt.pipeline[0] == PASS_ID_remove_unused || r->opt.pipeline[0] == PASS_ID_meter;
}

/* Contract: validates the module (the input, before the passes, which assume a valid
 * module; again after them if any ran); prints the error on failure.  Runs that only
 * copy code (stripping, --stats) check everything but the bodies.  Bodies are marked
 * once checked: after an -O0 round trip with no pass, only bodies whose bytes moved are
 * checked again (the rest of the module is untouched).  For -O0 each input body is
 * checked by the round trip right before it is built (validator_begin here, the checked
 * rewrite in run_roundtrip), while its bytes are in cache; when the first pass is
 * remove-unused, by its scan (first_pass_checks). */
static bool run_validate(Run *r) {
    WsError err;
    if (r->opt.no_validate) return true;
    bool first = !r->input_checked;
    r->input_checked = true;
    if (first && !r->m.is_object && (r->opt.opt_level == 0 || first_pass_checks(r))) { /* bodies: later */
        r->checker = validator_begin(&r->m, &err);
        if (r->checker) return true;
        ws_error_print(&err, stderr);
        return false;
    }
    bool skip_bodies = !run_touches_code(r) && r->opt.output; /* a run that writes nothing
                                                                 only validates: all of it */
    if (module_validate_except_code(&r->m, skip_bodies, &err)) {
        if (!skip_bodies) module_mark_bodies_valid(&r->m, true);
        return true;
    }
    ws_error_print(&err, stderr);
    return false;
}

/* Contract: when the options turn features off, the input (or, after the passes, the
 * module they made) uses none of them; prints the error otherwise. */
static bool run_check_features(Run *r, bool after_passes) {
    uint32_t off = r->opt.pass.features_off;
    WsError err;
    if (!off || module_check_features(&r->m, FT_ALL & ~off, &err)) return true;
    if (!after_passes) ws_error_print(&err, stderr);
    else fprintf(stderr, "wasmslim: error: the passes would make the output use a disabled feature: %s\n", err.msg);
    return false;
}

/* Contract: streams the module to opt.output (a temp file renamed over it once whole)
 * and builds the after-report from what was written. */
static bool run_write(Run *r) {
    WriteOptions wo = write_options(r);
    OutputFile out;
    if (!io_out_open(&out, r->opt.output, &r->input)) return false;
    WriteSink sink = {io_out_write, &out, false};
    WriteLayout layout;
    WsError err;
    bool ok = module_write_stream(&r->m, &wo, &sink, &layout, &err);
    if (!ok && !sink.failed) ws_error_print(&err, stderr);
    if (ok) ok = io_out_commit(&out);
    else io_out_abort(&out);
    if (ok) {
        report_build_written(&r->after, &r->m, &layout);
        r->have_after = true;
    }
    write_layout_free(&layout);
    return ok;
}

static void run_report(Run *r) {
    FILE *info = strcmp(r->opt.output ? r->opt.output : "", "-") ? stdout : stderr;
    if (r->opt.stats == STATS_TEXT) report_print_text(info, &r->before, r->have_after ? &r->after : NULL);
    if (r->opt.stats == STATS_JSON)
        report_print_json(info, &r->before, r->have_after ? &r->after : NULL, &r->stats);
    if (r->have_after && !r->opt.quiet) pass_stats_print(stderr, &r->stats, false);
    if (r->have_after && !r->opt.quiet) report_summary_line(stderr, &r->before, &r->after);
}

/* Contract: what is left at the end of a run.  Release builds leave the memory to the
 * system at exit (freeing the module and unmapping the input took 0.2-0.3 ms of
 * sql-wasm.wasm -O1's 13 ms); debug builds free everything, so that the sanitizers
 * see any leak. */
static void run_end(Run *r) {
#ifdef WS_DEBUG
    validator_end(r->checker);
    if (r->have_module) module_free(&r->m);
    report_free(&r->before);
    report_free(&r->after);
    io_release(&r->input);
    options_free(&r->opt);
#else
    (void)r;
#endif
}

int main(int argc, char **argv) {
    Run r;
    memset(&r, 0, sizeof r);
    if (!options_parse(&r.opt, argc, argv)) return 2;
    if (r.opt.help) { options_usage(stdout); return 0; }
    if (r.opt.version) { printf("wasmslim %s\n", WASMSLIM_VERSION); return 0; }
    if (r.opt.list_passes) { pass_list(stdout); return 0; }
    if (!r.opt.quiet) options_note_assumptions(&r.opt, stderr);
    pool_set_default_threads(r.opt.jobs); /* every parallel step, validation included */
    final_passes_last(&r.opt);
    r.t_start = r.t_last = now_ms();
    bool ok = run_read(&r);
    if (ok) phase_done(&r, "read");
    ok = ok && run_validate(&r);
    if (ok && !r.opt.no_validate) phase_done(&r, "validate input");
    ok = ok && run_check_features(&r, false);
    ok = ok && run_passes(&r);
    ok = ok && (r.opt.npipeline == 0 || run_check_features(&r, true));
    if (ok && (r.opt.npipeline || r.opt.opt_level == 0) && !r.opt.no_validate) {
        ok = run_validate(&r);
        if (ok) phase_done(&r, "validate output");
    }
    if (ok && r.opt.print_ir) ok = print_functions(stdout, &r.m, r.opt.print_function);
    if (ok && r.opt.output) ok = run_write(&r);
    if (ok && r.opt.output) phase_done(&r, "write");
    if (ok) run_report(&r);
    if (ok && r.opt.time_passes) fprintf(stderr, "time: %-22s %9.1f ms\n", "total", now_ms() - r.t_start);
    run_end(&r);
    return ok ? 0 : 1;
}
