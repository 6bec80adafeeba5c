/* options_meter.c - command-line flags of the metering pass (passes/meter.c).
 *
 *   --fuel                     inject fuel metering (exported global "wasmslim_fuel")
 *   --fuel-export=NAME         its export name
 *   --fuel-init=N              its initial value (default 0)
 *   --fuel-mode=lazy|exact     checks at entries, loops, exits, host calls (lazy), or
 *                              before every charge (exact)
 *   --fuel-import=MODULE.NAME  when fuel runs out, call this import (param i64)
 *                              (result i64) with the deficit instead of trapping
 *   --fuel-costs=FILE          "name cost" lines over the default costs
 *   --fuel-per-byte=K          bulk memory/table operations pay K per byte or element,
 *                              grows K per page or element (default 1)
 *   --max-memory-pages=N       cap every memory at N pages
 *   --stack-limit=N            trap when the call depth would pass N units
 *   --stack-cost=1|frame       units per frame: 1, or params + locals + operand height
 *   --stack-export=NAME        export name of the depth global ("wasmslim_stack")
 *   --force                    instrument a module that is already metered
 * Every --fuel-* flag implies --fuel.  All of them add the meter pass, which the
 * pipeline always runs last. */
#include <stdio.h>
#include <stdlib.h>
#include <errno.h>
#include "options.h"

static bool has_prefix(const char *s, const char *prefix) { return strncmp(s, prefix, strlen(prefix)) == 0; }

/* Contract: a decimal integer in [0, max] from the text after the flag's '='. */
static bool parse_u64(const char *arg, const char *v, uint64_t max, uint64_t *out) {
    char *end;
    errno = 0;
    unsigned long long n = strtoull(v, &end, 10);
    if (!*v || *end || *v == '-' || errno || n > max) return options_usage_error("bad number in '%s'", arg);
    *out = n;
    return true;
}

/* Contract: MODULE.NAME (split at the first dot) into the fuel import's names. */
static bool parse_import(MeterOptions *m, const char *arg, const char *v) {
    const char *dot = strchr(v, '.');
    if (!dot || dot == v || !dot[1]) return options_usage_error("'%s' wants MODULE.NAME", arg);
    size_t n = (size_t)(dot - v);
    if (n >= sizeof m->fuel_import_module) return options_usage_error("module name too long in '%s'", arg);
    memcpy(m->fuel_import_module, v, n);
    m->fuel_import_module[n] = 0;
    m->fuel_import_name = dot + 1;
    return true;
}

/* Contract: the --fuel-* flags; 1 handled, 0 not one, -1 usage error. */
static int parse_fuel(Options *o, const char *a) {
    MeterOptions *m = &o->pass.meter;
    uint64_t n = 0;
    bool ok = true;
    if (!strcmp(a, "--fuel")) ok = true;
    else if (has_prefix(a, "--fuel-export=") && a[14]) m->fuel_export = a + 14;
    else if (has_prefix(a, "--fuel-init=") && (ok = parse_u64(a, a + 12, INT64_MAX, &n))) m->fuel_init = (int64_t)n;
    else if (!strcmp(a, "--fuel-mode=lazy")) m->fuel_mode = FUEL_LAZY;
    else if (!strcmp(a, "--fuel-mode=exact")) m->fuel_mode = FUEL_EXACT;
    else if (has_prefix(a, "--fuel-import=")) ok = parse_import(m, a, a + 14);
    else if (has_prefix(a, "--fuel-costs=") && a[13]) m->fuel_costs_file = a + 13;
    else if (has_prefix(a, "--fuel-per-byte=") && (ok = parse_u64(a, a + 16, 1ull << 32, &n))) {
        m->fuel_per_byte = n;
        m->fuel_per_byte_given = true;
    } else if (has_prefix(a, "--fuel-")) {
        return options_usage_error("unknown or incomplete option '%s'", a) ? 1 : -1;
    } else {
        return 0;
    }
    if (!ok) return -1;
    m->fuel = true;
    return options_add_pass(o, PASS_ID_meter) ? 1 : -1;
}

/* Contract: the memory and stack flags; 1 handled, 0 not one, -1 usage error. */
static int parse_limits(Options *o, const char *a) {
    MeterOptions *m = &o->pass.meter;
    uint64_t n = 0;
    if (has_prefix(a, "--max-memory-pages=")) {
        if (!parse_u64(a, a + 19, 1ull << 48, &n)) return -1;
        m->mem_cap = true;
        m->max_memory_pages = n;
    } else if (has_prefix(a, "--stack-limit=")) {
        if (!parse_u64(a, a + 14, INT32_MAX, &n) || (n == 0 && !options_usage_error("'%s' must be positive", a)))
            return -1;
        m->stack = true;
        m->stack_limit = (uint32_t)n;
    } else if (!strcmp(a, "--stack-cost=1") || !strcmp(a, "--stack-cost=frame")) {
        m->stack_cost = a[13] == 'f' ? STACK_COST_FRAME : STACK_COST_ONE;
        return 1;
    } else if (has_prefix(a, "--stack-export=") && a[15]) {
        m->stack_export = a + 15;
        return 1;
    } else if (!strcmp(a, "--force")) {
        m->force = true;
        return 1;
    } else if (has_prefix(a, "--stack-")) {
        return options_usage_error("unknown or incomplete option '%s'", a) ? 1 : -1;
    } else {
        return 0;
    }
    return options_add_pass(o, PASS_ID_meter) ? 1 : -1;
}

int options_parse_meter(Options *o, const char *arg) {
    int r = parse_fuel(o, arg);
    return r ? r : parse_limits(o, arg);
}
