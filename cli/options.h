/* options.h - command-line options of the wasmslim program. */
#ifndef WS_OPTIONS_H
#define WS_OPTIONS_H

#include "../ir/common.h"
#include "../passes/pass.h"
#include <stdio.h>

typedef enum StatsFormat { STATS_NONE, STATS_TEXT, STATS_JSON } StatsFormat;

typedef struct Options {
    const char *input;       /* path or "-" */
    const char *output;      /* path, "-" or NULL (no output written) */
    int opt_level;           /* -1: none given; 0: -O0 */
    int optimize_level;      /* wasm-opt's levels, set by -O and -ol/-s (-1: none) */
    int shrink_level;
    unsigned assumptions;    /* --fast-math and the like given (options_levels.c) */
    StatsFormat stats;
    StatsFormat profile;     /* --profile[=N] (text) or --profile=json */
    uint32_t profile_count;  /* how many functions --profile lists */
    bool quiet;
    bool no_validate;        /* --no-validate: skip validating the module before output */
    bool print_ir;           /* --print / --print-function */
    bool time_passes;        /* --time-passes: wall time of each phase on stderr */
    bool converge;           /* --converge: the passes again while the module shrinks */
    const char *print_function; /* NAME or INDEX, NULL = all */
    uint32_t jobs;           /* -j N: worker threads (default: online processors) */
    bool help, version, list_passes;
    PassId pipeline[64];     /* passes in command-line order */
    uint32_t npipeline;
    PassOptions pass;        /* what the passes read */
} Options;

/* Flag parsers of the pass families, each in its own file: return 1 if arg was theirs
 * (handled), 0 if not, -1 after printing a usage error.  They may add passes with
 * options_add_pass. */
int options_parse_dce(Options *o, const char *arg);     /* cli/options_dce.c */
int options_parse_meter(Options *o, const char *arg);   /* cli/options_meter.c */
int options_parse_inline(Options *o, const char *arg);  /* cli/options_inline.c */
/* cli/options_levels.c: --optimize-level, --shrink-level and the assumption flags; as
 * the parsers above, but may take the next argument as the value (advancing *i). */
int options_parse_levels(Options *o, int argc, char **argv, int *i);
/* Sets both levels as -O flag `opt_level` (0-4, 's', 'z') does. */
void options_set_levels_of(Options *o, int opt_level);
/* The level the passes read (PassOptions.opt_level): 's' or 'z' for shrink level 1 or
 * 2, else the optimize level (-1: none given). */
int options_pass_level(const Options *o);
/* One note naming the assumption flags given, which change nothing here. */
void options_note_assumptions(const Options *o, FILE *out);
bool options_add_pass(Options *o, PassId id);           /* appends unless present */
bool options_usage_error(const char *fmt, const char *arg); /* prints, returns false */

/* Parses argv into *o.  On a usage error prints "wasmslim: error: ..." and returns false. */
bool options_parse(Options *o, int argc, char **argv);
void options_usage(FILE *out);
void options_free(Options *o);

#endif
