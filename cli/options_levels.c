/* options_levels.c - wasm-opt's level and assumption flags.
 *
 *   --optimize-level=N, -ol N   how much the passes focus on speed (0-4), as in wasm-opt:
 *                               sets the level without adding passes (-O2 = -ol 2 plus
 *                               the -O2 pipeline)
 *   --shrink-level=N, -s N      how much they focus on size (0-2): 1 is what -Os runs
 *                               with, 2 what -Oz runs with
 *   --low-memory-unused, -lmu, --zero-filled-memory, -uim, --fast-math, -ffm,
 *   --closed-world, -cw         assumptions wasm-opt's passes may use; none of ours
 *                               needs them, so they are accepted and change nothing
 *                               (a note on stderr says so)
 *
 * As in wasm-opt, the -O flags set both levels (-O3: 3 and 0, -Os: 2 and 1, -Oz: 2 and
 * 2), a later flag overrides an earlier one, and every pass runs with the final values.
 * Here they decide what inlining accepts: a shrink level of 1 or 2 is -Os's or -Oz's
 * size rule, else the optimize level's speed rule. */
#include <stdio.h>
#include <stdlib.h>
#include "options.h"

static const struct { const char *flag, *alias; } assumption_flags[] = {
    {"--low-memory-unused", "-lmu"},
    {"--zero-filled-memory", "-uim"},
    {"--fast-math", "-ffm"},
    {"--closed-world", "-cw"},
};

/* Contract: the value of a level flag at argv[*i]: after '=' in it, or the next
 * argument (advancing *i); NULL when there is none. */
static const char *flag_value(const char *name, int argc, char **argv, int *i) {
    const char *a = argv[*i];
    size_t n = strlen(name);
    if (a[n] == '=') return a + n + 1;
    return *i + 1 < argc ? argv[++*i] : NULL;
}

/* Contract: parses a level between 0 and max into *level; usage error otherwise. */
static bool parse_level(const char *value, const char *flag, int max, int *level) {
    if (!value) return options_usage_error("%s needs a level", flag);
    char *end;
    long n = strtol(value, &end, 10);
    if (!*value || *end || n < 0 || n > max) return options_usage_error("bad level in '%s'", flag);
    *level = (int)n;
    return true;
}

/* Contract: true when a is flag `name`, alone or as name=VALUE. */
static bool is_flag(const char *a, const char *name) {
    size_t n = strlen(name);
    return !strncmp(a, name, n) && (a[n] == '\0' || a[n] == '=');
}

void options_set_levels_of(Options *o, int opt_level) {
    o->optimize_level = opt_level == 's' || opt_level == 'z' ? 2 : opt_level;
    o->shrink_level = opt_level == 's' ? 1 : opt_level == 'z' ? 2 : 0;
}

int options_parse_levels(Options *o, int argc, char **argv, int *i) {
    const char *a = argv[*i];
    if (is_flag(a, "--optimize-level") || is_flag(a, "-ol")) {
        const char *name = a[1] == '-' ? "--optimize-level" : "-ol";
        return parse_level(flag_value(name, argc, argv, i), name, 4, &o->optimize_level) ? 1 : -1;
    }
    if (is_flag(a, "--shrink-level") || is_flag(a, "-s")) {
        const char *name = a[1] == '-' ? "--shrink-level" : "-s";
        return parse_level(flag_value(name, argc, argv, i), name, 2, &o->shrink_level) ? 1 : -1;
    }
    for (uint32_t k = 0; k < WS_ARRAY_LEN(assumption_flags); k++) {
        if (strcmp(a, assumption_flags[k].flag) && strcmp(a, assumption_flags[k].alias)) continue;
        o->assumptions |= 1u << k;
        return 1;
    }
    return 0;
}

int options_pass_level(const Options *o) {
    if (o->shrink_level > 0) return o->shrink_level == 1 ? 's' : 'z';
    return o->optimize_level;
}

void options_note_assumptions(const Options *o, FILE *out) {
    if (!o->assumptions) return;
    fputs("wasmslim: note:", out);
    const char *sep = " ";
    bool several = o->assumptions & (o->assumptions - 1);
    for (uint32_t k = 0; k < WS_ARRAY_LEN(assumption_flags); k++) {
        if (!(o->assumptions & (1u << k))) continue;
        fprintf(out, "%s%s", sep, assumption_flags[k].flag);
        sep = ", ";
    }
    fprintf(out, ": no pass here makes use of %s; the output is the same without %s\n",
            several ? "these assumptions" : "this assumption", several ? "them" : "it");
}
