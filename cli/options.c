/* options.c - parsing of wasmslim's command line (wasm-opt compatible where it overlaps). */
#include <stdio.h>
#include <stdlib.h>
#include "options.h"
#include "../ir/featureset.h"
#include "../ir/names.h"

void options_usage(FILE *out) {
    fputs("usage: wasmslim [options] IN.wasm [-o OUT.wasm]\n"
          "\n"
          "Reads a WebAssembly module, runs the requested passes and writes it back in\n"
          "canonical encoding.  '-' reads stdin / writes stdout.\n"
          "\n"
          "  -o FILE, --output FILE  write the result to FILE (atomically: temp file +\n"
          "                       rename)\n"
          "  -O0                  every function through the IR and back; no transforms\n"
          "                       (a module whose DWARF or source map is kept keeps its\n"
          "                       code bytes, so that they stay true)\n"
          "  -j N                 threads for every parallel step, validation included\n"
          "                       (default: online processors, at most 64); the output is\n"
          "                       the same for every N\n"
          "  -O1                  --remove-unused --dce\n"
          "  -O                   -Os, as in wasm-opt\n"
          "  -O2, -O3, -Os, -Oz   also --inline (speed levels: small and hot callees; size\n"
          "                       levels: only what makes the module smaller), then cleanup\n"
          "                       and --duplicate-function-elimination\n"
          "  --duplicate-function-elimination  merge functions with the same type and body\n"
          "                       bytes into the first (references follow)\n"
          "  --dce                function-level dead code elimination, and parameters no\n"
          "                       caller needs (functions only called directly)\n"
          "  --vacuum             wasm-opt's name for the function-level pass alone (dce)\n"
          "  --dae, --dae-optimizing  parameters no caller needs (dead-params); then dce\n"
          "  --ignore-implicit-traps, -iit\n"
          "                       assume no load, division or cast traps: dce may drop\n"
          "                       such a value when nothing uses it\n"
          "  --traps-never-happen, -tnh\n"
          "                       assume no trap happens: as -iit, and an if arm that\n"
          "                       starts with unreachable is never taken\n"
          "  --remove-unused      remove what no export, start or active segment reaches (alias\n"
          "                       --remove-unused-module-elements); renumbers everything\n"
          "  --export-only=A,B    drop every other export first (adds --remove-unused)\n"
          "  --keep-export=A,B    keep these exports, or functions by name, as roots\n"
          "  --why-kept=NAME      print why a function (name, $name, index or export) is kept\n"
          "  --inline             inline wrappers and single-call functions (-O2/-O3: also small\n"
          "                       hot callees; -Os/-Oz: only what measurably shrinks)\n"
          "  --no-inline=NAME[,NAME]  never inline these functions (repeatable)\n"
          "  --inline-max-size=N  callee size limit at -O2..-O4 (default 40/100 bytes)\n"
          "  --inline-growth=PCT  whole-module code growth budget (default 5/15)\n"
          "  --inline-report      what was inlined where, and the bytes won\n"
          "  --optimize-level=N, -ol N  (0-4) and --shrink-level=N, -s N  (0-2): the levels\n"
          "                       the passes run with, as in wasm-opt (the -O flags set\n"
          "                       both; the last flag wins); they decide what --inline\n"
          "                       accepts: shrink level 1 or 2 as -Os/-Oz, else the speed\n"
          "                       rule of the optimize level.  They add no pass\n"
          "  --low-memory-unused, -lmu, --zero-filled-memory, -uim, --fast-math, -ffm,\n"
          "  --closed-world, -cw  wasm-opt's assumptions: no pass here uses them, so they\n"
          "                       change nothing (a note says so)\n"
          "  -p PASS,PASS,...     run the named passes in order (see --list-passes)\n"
          "  --converge, -c       run the passes again while the module gets smaller\n"
          "                       (metering, if asked for, runs once, after)\n"
          "  -g, --debuginfo      accepted for wasm-opt compatibility: the name section and\n"
          "                       debug sections are kept unless a --strip flag drops them\n"
          "                       (DWARF only while the code it describes is unchanged)\n"
          "  --list-passes        list the passes\n"
          "\n"
          "Stripping (never decodes code; keeps every data segment):\n"
          "  --strip-debug, --strip  name section, DWARF (.debug_*), sourceMappingURL,\n"
          "                       external_debug_info, reloc..debug_*\n"
          "  --strip-dwarf        DWARF only\n"
          "  --strip-producers    the producers section\n"
          "  --strip-target-features  the target_features section\n"
          "  --strip-all          every custom section except those that change meaning\n"
          "                       (dylink.0; linking and reloc.* in objects), named on stderr\n"
          "  --strip-custom=GLOB  custom sections whose name matches (repeatable; * and ?)\n"
          "  --keep-custom=GLOB   never remove matching sections (repeatable; wins)\n"
          "  --strip-names[=KINDS]  name subsections, comma-separated: module, function,\n"
          "                       local, label, type, table, memory, global, elem, data,\n"
          "                       field, tag (default: all)\n"
          "\n"
          "Metering (runs after every other pass; see README):\n"
          "  --fuel, --fuel-export=NAME, --fuel-init=N, --fuel-mode=lazy|exact\n"
          "  --fuel-import=MODULE.NAME, --fuel-costs=FILE, --fuel-per-byte=K\n"
          "  --max-memory-pages=N, --stack-limit=N, --stack-cost=1|frame\n"
          "  --stack-export=NAME, --force\n"
          "\n"
          "Reports:\n"
          "  --print              the IR of every function (after the passes), as text\n"
          "  --print-function=NAME|INDEX  the IR of one function\n"
          "  --stats[=json]       section sizes and counts, before and after\n"
          "  --profile[=N|json]   the N (default 20) largest functions of the input with\n"
          "                       their retained size (dominator tree of the call graph)\n"
          "  -q, --quiet          no summary line\n"
          "  --time-passes        wall time of reading, validating, each pass and writing\n"
          "                       (stderr)\n"
          "  --no-validate, --no-validation, -n\n"
          "                       do not validate the module (by default every module is\n"
          "                       validated after the passes; without -o that is all)\n"
          "  --mvp-features, -mvp, --disable-FEATURE, --enable-FEATURE, --all-features, -all\n"
          "                       the features the module may use, in order from all of\n"
          "                       them (default); a module that uses another one is\n"
          "                       refused, and so is an output the passes would make use\n"
          "                       one.  FEATURE: sign-ext, mutable-globals,\n"
          "                       nontrapping-float-to-int, simd, bulk-memory, threads,\n"
          "                       exception-handling, tail-call, reference-types,\n"
          "                       multivalue, gc, memory64, typed-function-references,\n"
          "                       relaxed-simd, extended-const, multimemory\n"
          "  --detect-features    accepted (deprecated in wasm-opt, a no-op there too)\n"
          "  --emit-target-features  write the target_features section from the features\n"
          "                       the output uses (after every other pass)\n"
          "  -h, --help           this text\n"
          "  --version            print the version\n",
          out);
}

bool options_usage_error(const char *fmt, const char *arg) {
    fputs("wasmslim: error: ", stderr);
    fprintf(stderr, fmt, arg);
    fputs(" (see --help)\n", stderr);
    return false;
}

static bool starts_with(const char *s, const char *prefix) {
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* Contract: appends pass id to the pipeline unless it is there already (flags that
 * configure a pass, like repeated --strip-custom, add it once). */
bool options_add_pass(Options *o, PassId id) {
    for (uint32_t i = 0; i < o->npipeline; i++)
        if (o->pipeline[i] == id) return true;
    if (o->npipeline == WS_ARRAY_LEN(o->pipeline)) return options_usage_error("%s", "too many passes");
    o->pipeline[o->npipeline++] = id;
    return true;
}

static bool add_pattern(const char ***list, uint32_t *n, const char *pattern) {
    *list = ws_realloc(*list, (*n + 1) * sizeof **list);
    (*list)[(*n)++] = pattern;
    return true;
}

/* Contract: parses "local,label,..." into the --strip-names mask. */
static bool parse_name_kinds(Options *o, const char *list) {
    const char *p = list;
    while (*p) {
        size_t len = strcspn(p, ",");
        int kind = name_kind_parse(p, len);
        if (kind < 0) return options_usage_error("unknown name kind in --strip-names=%s", list);
        o->pass.strip_names_mask |= 1u << kind;
        p += len;
        if (*p == ',') p++;
    }
    return options_add_pass(o, PASS_ID_strip_names);
}

/* Contract: one of wasm-opt's feature flags, applied in command-line order to the
 * features a module may use (all of them unless a flag says otherwise). */
static bool parse_feature_flag(Options *o, const char *a) {
    if (!strcmp(a, "--all-features") || !strcmp(a, "-all")) {
        o->pass.features_off = 0;
        return true;
    }
    if (!strcmp(a, "--mvp-features") || !strcmp(a, "-mvp")) {
        o->pass.features_off = FT_ALL;
        return true;
    }
    /* binaryen's other names: parts of our features, or proposals whose encodings the
     * reader does not know (a module that uses them is refused when read, so turning
     * them on or off changes nothing) */
    static const struct { const char *name; uint32_t bit; } other[] = {
        {"gc-nn-locals", FT_FUNCTION_REFERENCES}, {"bulk-memory-opt", FT_BULK_MEMORY},
        {"call-indirect-overlong", FT_REFERENCE_TYPES}, {"strings", 0}, {"fp16", 0},
        {"stack-switching", 0}, {"typed-continuations", 0}, {"shared-everything", 0},
        {"custom-descriptors", 0},
    };
    bool enable = starts_with(a, "--enable-");
    const char *name = a + (enable ? 9 : 10);
    uint32_t bit = feature_by_name(name, strlen(name));
    bool known = bit != 0;
    for (size_t i = 0; i < WS_ARRAY_LEN(other) && !known; i++)
        if (!strcmp(name, other[i].name)) {
            bit = other[i].bit;
            known = true;
        }
    if (!known) return options_usage_error("unknown feature in '%s'", a);
    if (enable) o->pass.features_off &= ~bit;
    else o->pass.features_off |= bit;
    return true;
}

/* Contract: parses -p's comma-separated pass names, appending each in order. */
static bool parse_pass_list(Options *o, const char *list) {
    char name[64];
    const char *p = list;
    while (*p) {
        size_t len = strcspn(p, ",");
        if (len == 0 || len >= sizeof name) return options_usage_error("bad pass list '%s'", list);
        memcpy(name, p, len);
        name[len] = 0;
        PassId id = pass_lookup(name);
        if (id == PASS_COUNT) return options_usage_error("unknown pass '%s' (see --list-passes)", name);
        if (o->npipeline == WS_ARRAY_LEN(o->pipeline)) return options_usage_error("%s", "too many passes");
        o->pipeline[o->npipeline++] = id;
        p += len;
        if (*p == ',') p++;
    }
    return true;
}

/* Contract: handles the flags that name one pass or configure the strip passes; returns
 * 1 if handled, 0 if not a pass flag, -1 on a usage error. */
static int parse_pass_flag(Options *o, const char *a) {
    static const struct { const char *flag; PassId id; } simple[] = {
        {"--strip-debug", PASS_ID_strip_debug},
        {"--strip", PASS_ID_strip_debug}, /* wasm-opt: "deprecated; same as strip-debug" */
        {"--strip-dwarf", PASS_ID_strip_dwarf},
        {"--strip-producers", PASS_ID_strip_producers},
        {"--strip-target-features", PASS_ID_strip_target_features},
        {"--emit-target-features", PASS_ID_emit_target_features},
        {"--strip-all", PASS_ID_strip_all},
        {"--strip-names", PASS_ID_strip_names},
        {"--duplicate-function-elimination", PASS_ID_duplicate_functions},
    };
    if (!strcmp(a, "--dce")) { /* function level, with the parameters no caller needs */
        bool ok = options_add_pass(o, PASS_ID_dce) && options_add_pass(o, PASS_ID_dead_params);
        if (ok && o->npipeline < WS_ARRAY_LEN(o->pipeline)) o->pipeline[o->npipeline++] = PASS_ID_dce;
        return ok ? 1 : -1;
    }
    for (size_t i = 0; i < WS_ARRAY_LEN(simple); i++)
        if (!strcmp(a, simple[i].flag)) return options_add_pass(o, simple[i].id) ? 1 : -1;
    if (starts_with(a, "--strip-names=")) return parse_name_kinds(o, a + 14) ? 1 : -1;
    if (starts_with(a, "--strip-custom=")) {
        add_pattern(&o->pass.strip_patterns, &o->pass.nstrip_patterns, a + 15);
        return options_add_pass(o, PASS_ID_strip_custom) ? 1 : -1;
    }
    if (starts_with(a, "--keep-custom="))
        return add_pattern(&o->pass.keep_patterns, &o->pass.nkeep_patterns, a + 14) ? 1 : -1;
    return 0;
}

/* The pipelines of the -O levels, by pass name (the size levels differ from the speed
 * levels in what inlining accepts); -O1 leaves out the passes from_level2 names. */
static const char *const level_passes[] = {"remove-unused", "dce", "dead-params", "inline", "dce",
                                           "duplicate-function-elimination", "remove-unused"};

static bool from_level2(const char *pass) {
    return !strcmp(pass, "inline") || !strcmp(pass, "duplicate-function-elimination");
}

/* Contract: appends the passes of an -O level (those that exist) to the pipeline. */
static bool add_opt_level(Options *o, const char *flag) {
    char c = flag[2];
    o->opt_level = c == 's' || !c ? 's' : c == 'z' ? 'z' : c - '0'; /* -O is -Os, as in wasm-opt */
    options_set_levels_of(o, o->opt_level);
    for (size_t i = 0; i < WS_ARRAY_LEN(level_passes); i++) {
        if (o->opt_level < 2 && from_level2(level_passes[i])) continue;
        PassId id = pass_lookup(level_passes[i]);
        if (id == PASS_COUNT) continue; /* not built yet in this tree */
        if (o->npipeline == WS_ARRAY_LEN(o->pipeline)) return options_usage_error("%s", "too many passes");
        o->pipeline[o->npipeline++] = id;
    }
    return true;
}

/* Contract: handles one option at argv[*i] (advancing *i past a separate value).
 * Returns false after printing a usage error. */
static bool parse_one(Options *o, int argc, char **argv, int *i) {
    const char *a = argv[*i];
    int handled = parse_pass_flag(o, a);
    if (!handled) handled = options_parse_dce(o, a);
    if (!handled) handled = options_parse_meter(o, a);
    if (!handled) handled = options_parse_inline(o, a);
    if (!handled) handled = options_parse_levels(o, argc, argv, i);
    if (handled) return handled > 0;
    if (!strcmp(a, "-p")) {
        if (*i + 1 >= argc) return options_usage_error("%s needs a pass list", a);
        return parse_pass_list(o, argv[++*i]);
    } else if (!strcmp(a, "--list-passes")) {
        o->list_passes = true;
    } else if (!strcmp(a, "-o") || !strcmp(a, "--output")) {
        if (*i + 1 >= argc) return options_usage_error("%s needs a file name", a);
        o->output = argv[++*i];
    } else if (starts_with(a, "--output=")) {
        o->output = a + 9;
    } else if (!strcmp(a, "--converge") || !strcmp(a, "-c")) {
        o->converge = true;
    } else if (!strcmp(a, "-g") || !strcmp(a, "--debuginfo")) {
        /* names and debug sections are kept unless a --strip flag says otherwise */
    } else if (!strcmp(a, "-j") || (a[0] == '-' && a[1] == 'j' && a[2])) {
        const char *v = a[2] ? a + 2 : (*i + 1 < argc ? argv[++*i] : "");
        char *end;
        unsigned long n = strtoul(v, &end, 10);
        if (!*v || *end || n == 0 || n > 256) return options_usage_error("bad thread count in '%s'", a);
        o->jobs = (uint32_t)n;
    } else if (!strcmp(a, "--print")) {
        o->print_ir = true;
    } else if (starts_with(a, "--print-function=")) {
        o->print_ir = true;
        o->print_function = a + 17;
    } else if (!strcmp(a, "-O0")) {
        o->opt_level = 0;
        options_set_levels_of(o, 0);
    } else if (!strcmp(a, "-O") || !strcmp(a, "-O1") || !strcmp(a, "-O2") || !strcmp(a, "-O3") ||
               !strcmp(a, "-O4") || !strcmp(a, "-Os") || !strcmp(a, "-Oz")) {
        return add_opt_level(o, a);
    } else if (!strcmp(a, "--stats")) {
        o->stats = STATS_TEXT;
    } else if (!strcmp(a, "--stats=json")) {
        o->stats = STATS_JSON;
    } else if (!strcmp(a, "--profile") || !strcmp(a, "--profile=json")) {
        o->profile = a[9] ? STATS_JSON : STATS_TEXT;
    } else if (starts_with(a, "--profile=")) {
        char *end;
        unsigned long n = strtoul(a + 10, &end, 10);
        if (*end || n == 0 || n > UINT32_MAX) return options_usage_error("bad count in '%s'", a);
        o->profile = STATS_TEXT;
        o->profile_count = (uint32_t)n;
    } else if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) {
        o->quiet = true;
    } else if (!strcmp(a, "--time-passes")) {
        o->time_passes = true;
    } else if (!strcmp(a, "--no-validate") || !strcmp(a, "--no-validation") || !strcmp(a, "-n")) {
        o->no_validate = true;
    } else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
        o->help = true;
    } else if (!strcmp(a, "--version")) {
        o->version = true;
    } else if (!strcmp(a, "--all-features") || !strcmp(a, "-all") || !strcmp(a, "--mvp-features") ||
               !strcmp(a, "-mvp") || starts_with(a, "--enable-") || starts_with(a, "--disable-")) {
        return parse_feature_flag(o, a);
    } else if (!strcmp(a, "--detect-features")) {
        /* deprecated in wasm-opt, where it does nothing either */
    } else if (a[0] == '-' && a[1] != '\0') {
        return options_usage_error("unknown option '%s'", a);
    } else {
        if (o->input) return options_usage_error("more than one input file ('%s')", a);
        o->input = a;
    }
    return true;
}

bool options_parse(Options *o, int argc, char **argv) {
    memset(o, 0, sizeof *o);
    o->opt_level = o->optimize_level = o->shrink_level = -1;
    o->profile_count = 20;
    for (int i = 1; i < argc; i++)
        if (!parse_one(o, argc, argv, &i)) return false;
    if (!o->input && !o->help && !o->version && !o->list_passes)
        return options_usage_error("%s", "no input file");
    if ((o->pass.meter.fuel || o->pass.meter.stack) && (o->pass.features_off & FT_MUTABLE_GLOBALS))
        return options_usage_error("%s", "--fuel and --stack-limit export a mutable global, which needs "
                                         "mutable-globals: the options disable it");
    return true;
}

void options_free(Options *o) {
    free(o->pass.strip_patterns);
    free(o->pass.keep_patterns);
}
