/* options_inline.c - command-line flags of the inline pass.
 *
 *   --inline, --inlining-optimizing   add the inline pass (what it accepts depends on -O)
 *   --no-inline=NAME[,NAME...]        never inline these functions (function name, export
 *                                     name or index; repeatable)
 *   --inline-max-size=N               -O2..-O4: largest callee (bytes) the budget takes
 *   --inline-growth=PCT               -O2..-O4: how much the code may grow, in percent
 *   --inline-report                   print what was inlined where, and the bytes won
 */
#include <stdio.h>
#include <stdlib.h>
#include "options.h"

static bool has_prefix(const char *s, const char *prefix) {
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* Contract: parses a decimal u32 value of flag arg into *v; usage error if malformed. */
static bool parse_u32(const char *value, const char *arg, uint32_t *v) {
    char *end;
    unsigned long n = strtoul(value, &end, 10);
    if (!*value || *end || n > UINT32_MAX) return options_usage_error("bad number in '%s'", arg);
    *v = (uint32_t)n;
    return true;
}

int options_parse_inline(Options *o, const char *arg) {
    InlineOptions *in = &o->pass.inlining;
    if (!strcmp(arg, "--inline") || !strcmp(arg, "--inlining-optimizing"))
        return options_add_pass(o, PASS_ID_inline) ? 1 : -1;
    if (!strcmp(arg, "--inline-report")) {
        in->report = true;
        return 1;
    }
    if (has_prefix(arg, "--no-inline=")) {
        bool ok = arg[12] ? in->nno_inline < INLINE_MAX_FLAGS : options_usage_error("'%s' needs a value", arg);
        if (arg[12] && !ok) options_usage_error("too many '%s' flags", arg);
        if (ok) in->no_inline[in->nno_inline++] = arg + 12;
        return ok ? 1 : -1;
    }
    if (has_prefix(arg, "--inline-max-size="))
        return parse_u32(arg + 18, arg, &in->max_size) ? 1 : -1;
    if (has_prefix(arg, "--inline-growth=")) {
        in->has_growth = true;
        return parse_u32(arg + 16, arg, &in->growth_pct) ? 1 : -1;
    }
    return 0;
}
