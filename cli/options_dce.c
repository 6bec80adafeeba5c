/* options_dce.c - command-line flags of the dead-code passes.
 *
 *   --remove-unused, --remove-unused-module-elements   add the remove-unused pass
 *   --export-only=NAME,...   drop every other export first (adds the pass)
 *   --keep-export=NAME,...   keep these exports (or functions, by name) as roots
 *   --why-kept=NAME|INDEX    print why a function is kept (adds the pass)
 *   --vacuum, --dae, --dae-optimizing   wasm-opt's names: dce; dead-params; both
 *   --ignore-implicit-traps, -iit   dce may drop an unused value whose only effect is
 *                            a possible trap
 *   --traps-never-happen, -tnh   that, and an if arm starting with unreachable is never taken
 */
#include <stdio.h>
#include "options.h"

static bool has_prefix(const char *s, const char *prefix) {
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* Contract: appends value (non-empty) to a flag list of at most DCE_MAX_FLAGS. */
static bool push_value(const char **list, uint32_t *n, const char *value, const char *arg) {
    if (!*value) return options_usage_error("'%s' needs a value", arg);
    if (*n == DCE_MAX_FLAGS) return options_usage_error("too many '%s' flags", arg);
    list[(*n)++] = value;
    return true;
}

int options_parse_dce(Options *o, const char *arg) {
    DceOptions *d = &o->pass.dce;
    if (!strcmp(arg, "--remove-unused") || !strcmp(arg, "--remove-unused-module-elements"))
        return options_add_pass(o, PASS_ID_remove_unused) ? 1 : -1;
    if (has_prefix(arg, "--keep-export="))
        return push_value(d->keep_exports, &d->nkeep_exports, arg + 14, arg) ? 1 : -1;
    if (has_prefix(arg, "--export-only=")) {
        if (!push_value(d->export_only, &d->nexport_only, arg + 14, arg)) return -1;
        return options_add_pass(o, PASS_ID_remove_unused) ? 1 : -1;
    }
    if (!strcmp(arg, "--vacuum")) /* nops, pure drops, empty blocks, dead code: dce's work */
        return options_add_pass(o, PASS_ID_dce) ? 1 : -1;
    if (!strcmp(arg, "--dae")) /* dead argument elimination */
        return options_add_pass(o, PASS_ID_dead_params) ? 1 : -1;
    if (!strcmp(arg, "--dae-optimizing"))
        return options_add_pass(o, PASS_ID_dead_params) && options_add_pass(o, PASS_ID_dce) ? 1 : -1;
    if (!strcmp(arg, "--ignore-implicit-traps") || !strcmp(arg, "-iit")) {
        d->ignore_traps = true; /* an assumption the passes may use, as in wasm-opt: adds none */
        return 1;
    }
    if (!strcmp(arg, "--traps-never-happen") || !strcmp(arg, "-tnh")) {
        d->ignore_traps = d->traps_never_happen = true; /* the stronger assumption: adds none */
        return 1;
    }
    if (has_prefix(arg, "--why-kept=")) {
        if (!push_value(d->why_kept, &d->nwhy_kept, arg + 11, arg)) return -1;
        return options_add_pass(o, PASS_ID_remove_unused) ? 1 : -1;
    }
    return 0;
}
