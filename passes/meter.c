/* meter.c - the metering pass (--fuel, --max-memory-pages, --stack-limit): bounds the
 * CPU, memory and stack an untrusted module may use, inside the module itself, so
 * that it works on any engine.  It runs after every optimisation pass (cli/main.c).
 *
 *   before:  (func $f (loop $l ... br_if $l ...))
 *   after:   (global $wasmslim_fuel (export "wasmslim_fuel") (mut i64) (i64.const 0))
 *            (func $f  block $out_of_fuel  block $body
 *              <pay the entry, check>  (loop $l <pay the iteration, check> ... br_if $l ...)
 *            end <check> return end  <write the fuel back> unreachable)
 *            (@custom "wasmslim.metering" "version 1\nfuel.export wasmslim_fuel\n...")
 *
 * Cost model.  Every instruction costs what the table says (default 1; 0 for nop,
 * drop, block, loop, end, else, unreachable, return; --fuel-costs=FILE).  An
 * instruction is executed when control reaches it in sequence, and its cost is due
 * as it starts, so an instruction that traps, throws or calls is paid.  Structured
 * openers (block, loop, if, try, try_table) execute when entered from before them: a
 * branch back to a loop does not execute `loop` again.  Delimiters (else, catch,
 * catch_all, delegate, end) execute when the arm before them falls through into
 * them, never when reached by a branch, an exception or a trap; an if without else
 * has an empty else arm that falls into its `end`; the function's final `end` runs
 * when the body falls off it.  A caught exception resumes at the first instruction of
 * the handler (catch arm, or the code after a try_table's target label).  Bulk
 * operations also pay K per byte or element (memory/table copy, fill, init) and per
 * page or element requested (memory.grow, table.grow), K = --fuel-per-byte, the
 * product saturated at 2^62: min(n, 2^62 / K) * K.
 *
 * Exactness.  A run that does not trap spends exactly the cost of the instructions it
 * executed, also when an exception ends it: no charge is moved before a throw or a
 * call that may throw (meter_calls.c: one that may reach an import, a throw, or an
 * indirect call that may).  A run that needs F units completes when given F.  After a
 * trap the fuel spent may also include code that runs together with what trapped (a
 * class, below: it may span calls that cannot throw, a loop that cannot return or
 * throw, an arm that ends in a trap, and in lazy mode an exit from a loop) but did not
 * run yet.
 *
 * How (meter_plan.c): straight-line segments are grouped into classes that run
 * together; each class is paid once, before its first segment.  --fuel-mode=exact:
 * every payment is checked, and when the fuel does not cover it the module traps
 * before the class starts, the fuel left at the cost missing, below zero.
 * --fuel-mode=lazy (default): payments only subtract; the sign is checked at loop
 * headers (every iteration), exception handlers, before calls to imports and before
 * bulk operations (which always pay as in exact mode), and at the entry and the exit of
 * every function that has loops or calls (at the exit only when a charge may have been
 * made since the last check: after a charge, a call to an import, to a function without
 * loops or calls or through a table; not after a call to a function that checks and
 * has no tail call, whose return is checked in turn).  A function without either cannot run for
 * long and checks nothing: so a call from the host may also return normally with the
 * fuel below zero, which the host must read as exhausted.  A negative fuel at a check
 * traps.  Lazy mode also pays the code after a loop's exits (br_if, br or return
 * beyond the loop) with the code before them, and gives it back when an exit is taken
 * (the check at the loop header adds it back, so it fails exactly when it would
 * without): an iteration that goes on pays once instead of once per exit passed.  The
 * overrun (how far below zero the fuel gets) is at most the largest charge
 * sum along a loop-free path of one function, calls to functions without loops or
 * calls on it counted with their own dearest path, plus the largest charge at a check
 * point of a function entry or handler; the pass computes that bound and records it
 * ("fuel.lazy-bound").  With
 * --fuel-import=MODULE.NAME the module calls the import with the deficit instead of
 * trapping; its result is added to the fuel, and if that is still not enough the
 * module traps.  Between checks the fuel may be kept in a local (loops); a trap that
 * is not out of fuel may leave the global up to one loop-free path behind.
 *
 * --max-memory-pages=N clamps the maximum of every defined memory (an error if a
 * minimum is above N) and makes memory.grow of imported memories return -1 beyond N.
 * --stack-limit=N keeps a depth in an exported i32 global: each function adds its
 * frame cost (1, or params + locals + operand stack height with --stack-cost=frame)
 * on entry, traps beyond N, and gives it back on every exit and in every handler.
 * The custom section "wasmslim.metering" records what was injected; a module that has
 * one is refused unless --force. */
#include "meter.h"
#include "../ir/funcmap.h"
#include "../ir/validate.h"
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#define METER_SECTION "wasmslim.metering"

static const char *fuel_export(const MeterOptions *o) { return o->fuel_export ? o->fuel_export : "wasmslim_fuel"; }
static const char *stack_export(const MeterOptions *o) { return o->stack_export ? o->stack_export : "wasmslim_stack"; }

static bool fail(PassCtx *ctx, const Module *m, size_t offset, const char *fmt, const char *arg) {
    pass_fail_at(ctx, m, offset, fmt, arg);
    return false;
}

/* Contract: refuses a module metered before (unless --force, which drops the old
 * record) and exports whose names are taken. */
static bool check_module(PassCtx *ctx, Module *m, const MeterOptions *o) {
    for (uint32_t i = 0; i < m->ncustoms; i++) {
        Custom *c = &m->customs[i];
        if (c->removed || !custom_is(c, METER_SECTION)) continue;
        if (!o->force)
            return fail(ctx, m, c->offset,
                        "the module is already metered (custom section \"%s\"); --force instruments it again",
                        METER_SECTION);
        c->removed = true;
    }
    size_t exports = pass_section_offset(m, SEC_EXPORT);
    if (o->fuel && meter_has_export(m, fuel_export(o)))
        return fail(ctx, m, exports, "an export is already named \"%s\" (choose another with --fuel-export)",
                    fuel_export(o));
    if (o->stack && meter_has_export(m, stack_export(o)))
        return fail(ctx, m, exports, "an export is already named \"%s\" (choose another with --stack-export)",
                    stack_export(o));
    if (o->fuel && o->stack && !strcmp(fuel_export(o), stack_export(o)))
        return fail(ctx, m, 0, "--fuel-export and --stack-export both name \"%s\"", fuel_export(o));
    return true;
}

/* Contract: clamps the maximum of the defined memories to the cap. */
static bool cap_memories(PassCtx *ctx, Module *m, uint64_t cap) {
    char msg[160];
    for (uint32_t i = m->nmem_imports; i < m->nmems; i++) {
        Limits *l = &m->mems[i].limits;
        if (l->min > cap) {
            snprintf(msg, sizeof msg, "memory %u has a minimum of %" PRIu64 " pages, above --max-memory-pages=%" PRIu64,
                     i, l->min, cap);
            return fail(ctx, m, pass_section_offset(m, SEC_MEMORY), "%s", msg);
        }
        if (!(l->flags & LIM_HAS_MAX) || l->max > cap) l->max = cap;
        l->flags |= LIM_HAS_MAX;
    }
    return true;
}

/* Contract: a [] -> results type for the body block of every multi-result function. */
static void body_block_types(Module *m, MeterCtx *mc) {
    uint32_t n = m->ntypes;
    uint32_t *bt = ws_malloc((n + 1) * sizeof(uint32_t));
    for (uint32_t t = 0; t < n; t++) bt[t] = UINT32_MAX;
    for (uint32_t i = m->nfunc_imports; i < m->nfuncs; i++) {
        uint32_t t = m->funcs[i].type;
        if (t >= n || bt[t] != UINT32_MAX || m->types[t].nresults < 2) continue;
        bt[t] = meter_func_type(m, NULL, 0, m->types[t].results, m->types[t].nresults);
    }
    mc->block_type = bt;
}

/* Contract: the refill helper, called when the fuel went below zero: asks the import
 * for the deficit, adds what it grants, and traps if that is still not enough:
 *   $d = -fuel; fuel += import($d); if fuel < 0 trap. */
static void add_refill(Module *m, const MeterCtx *mc, uint32_t import) {
    uint32_t type = meter_func_type(m, NULL, 0, NULL, 0), g = mc->fuel_global;
    Buf b = {0};
    buf_u8(&b, 0x00);                                                /* no locals */
    buf_bytes(&b, "\x42\x00\x23", 3); buf_u32(&b, g);                /* 0 - fuel */
    buf_u8(&b, 0x7d);
    buf_u8(&b, 0x10); buf_u32(&b, import);                           /* import(deficit) */
    buf_u8(&b, 0x23); buf_u32(&b, g);
    buf_u8(&b, 0x7c); buf_u8(&b, 0x24); buf_u32(&b, g);              /* fuel += result */
    buf_u8(&b, 0x23); buf_u32(&b, g);
    buf_bytes(&b, "\x42\x00\x53\x04\x40\x00\x0b\x0b", 8);            /* fuel < 0: trap */
    meter_add_function(m, type, b.data, b.len);
    buf_free(&b);
}

/* Contract: the cost table, from the file or the defaults. */
static bool load_costs(PassCtx *ctx, MeterCtx *mc) {
    const MeterOptions *o = mc->opt;
    if (!o->fuel_costs_file) {
        meter_costs_default(mc->costs);
        return true;
    }
    if (meter_costs_load(o->fuel_costs_file, mc->costs, &ctx->err)) return true;
    ctx->failed = true;
    return false;
}

/* Contract: what the function transform reads: indices of what is added, the shift;
 * the call scan runs on `jobs` threads. */
static void setup(Module *m, MeterCtx *mc, uint32_t jobs) {
    const MeterOptions *o = mc->opt;
    mc->m = m;
    mc->nfunc_imports = m->nfunc_imports;
    mc->fuel = o->fuel;
    mc->stack = o->stack;
    mc->mem_cap = o->mem_cap;
    mc->refill = o->fuel && o->fuel_import_module[0];
    mc->shift = mc->refill ? 1 : 0;
    mc->per_byte = o->fuel_per_byte_given ? o->fuel_per_byte : 1;
    if (mc->fuel) mc->fuel_global = meter_add_global(m, vt_num(VT_I64), o->fuel_init);
    if (mc->stack) mc->stack_global = meter_add_global(m, vt_num(VT_I32), 0);
    mc->refill_func = m->nfuncs + mc->shift;
    body_block_types(m, mc);
    uint32_t n = module_ndefined_funcs(m) + 1;
    mc->longest_path = ws_calloc(n, sizeof(uint64_t));
    mc->largest_point = ws_calloc(n, sizeof(uint64_t));
    mc->most_calls = ws_calloc(n, sizeof(uint64_t));
    mc->leaf = ws_calloc(n, 1);
    mc->charges = ws_calloc(n, sizeof(uint32_t));
    mc->refunds = ws_calloc(n, sizeof(uint32_t));
    if (mc->fuel) meter_calls(m, jobs, &mc->calls);
}

/* The overrun bound of lazy mode: what can run between two checks, at most a
 * loop-free path of one function, with every call on it to a leaf (which checks
 * nothing) counted as the dearest leaf's path, plus one charge at a check point
 * (the entry of the function called, or a handler). */
static uint64_t lazy_bound(const MeterCtx *mc, uint32_t ndefined) {
    uint64_t leaf = 0, path = 0, point = 0;
    for (uint32_t k = 0; k < ndefined; k++)
        if (mc->leaf[k] && mc->longest_path[k] > leaf) leaf = mc->longest_path[k];
    for (uint32_t k = 0; k < ndefined; k++) {
        uint64_t p = mc->longest_path[k] + mc->most_calls[k] * leaf;
        if (p > path) path = p;
        if (mc->largest_point[k] > point) point = mc->largest_point[k];
    }
    return path + point;
}

/* Contract: the "wasmslim.metering" record: "key value" lines. */
static void add_record(Module *m, const MeterCtx *mc, uint64_t bound) {
    const MeterOptions *o = mc->opt;
    char buf[1024];
    size_t n = (size_t)snprintf(buf, sizeof buf, "version 1\n");
    if (o->fuel) {
        n += (size_t)snprintf(buf + n, sizeof buf - n,
                              "fuel.export %s\nfuel.mode %s\nfuel.init %" PRId64 "\nfuel.costs fnv1a64:%016" PRIx64
                              "\nfuel.per-byte %" PRIu64 "\nfuel.lazy-bound %" PRIu64 "\n",
                              fuel_export(o), o->fuel_mode == FUEL_EXACT ? "exact" : "lazy", o->fuel_init,
                              meter_costs_digest(mc->costs, mc->per_byte), mc->per_byte,
                              o->fuel_mode == FUEL_EXACT ? 0 : bound);
        if (mc->refill)
            n += (size_t)snprintf(buf + n, sizeof buf - n, "fuel.import %s.%s\n", o->fuel_import_module,
                                  o->fuel_import_name);
    }
    if (o->stack)
        n += (size_t)snprintf(buf + n, sizeof buf - n, "stack.export %s\nstack.limit %u\nstack.cost %s\n",
                              stack_export(o), o->stack_limit, o->stack_cost == STACK_COST_FRAME ? "frame" : "1");
    if (o->mem_cap) n += (size_t)snprintf(buf + n, sizeof buf - n, "memory.max-pages %" PRIu64 "\n", o->max_memory_pages);
    if (n >= sizeof buf) n = sizeof buf - 1;
    module_add_custom(m, METER_SECTION, (const uint8_t *)buf, n);
}

/* True when the functions need rewriting (not for a memory cap alone on a module
 * without imported memories). */
static bool rewrites_code(const Module *m, const MeterCtx *mc) {
    return mc->fuel || mc->stack || (mc->mem_cap && m->nmem_imports > 0);
}

/* Contract: what --stats reports of the pass: the functions rewritten (all of them, or
 * none for a memory cap alone without imported memories), charge sites, refunded loop
 * exits and lazy mode's overrun bound. */
static void add_stats(PassCtx *ctx, const Module *m, const MeterCtx *mc, uint32_t ndefined, uint64_t bound) {
    PassStats d;
    memset(&d, 0, sizeof d);
    if (rewrites_code(m, mc)) d.funcs_metered = d.funcs_changed = ndefined;
    for (uint32_t k = 0; k < ndefined; k++) {
        d.fuel_charges += mc->charges[k];
        d.fuel_refunds += mc->refunds[k];
    }
    d.fuel_bound = bound;
    pass_stats_add(ctx, &d);
}

/* Contract: the exports, the import and helper, the record, a notice. */
static void finish(PassCtx *ctx, Module *m, MeterCtx *mc) {
    const MeterOptions *o = mc->opt;
    uint32_t ndefined = module_ndefined_funcs(m);
    if (mc->refill) {
        ValType i64 = vt_num(VT_I64);
        uint32_t type = meter_func_type(m, &i64, 1, &i64, 1);
        meter_insert_import(ctx, m, o->fuel_import_module, o->fuel_import_name, type);
        if (ctx->failed) return;
        add_refill(m, mc, mc->nfunc_imports);
    }
    if (mc->fuel) meter_add_export(m, fuel_export(o), EXT_GLOBAL, mc->fuel_global);
    if (mc->stack) meter_add_export(m, stack_export(o), EXT_GLOBAL, mc->stack_global);
    uint64_t bound = mc->fuel ? lazy_bound(mc, ndefined) : 0;
    add_record(m, mc, bound);
    add_stats(ctx, m, mc, ndefined, o->fuel_mode == FUEL_EXACT ? 0 : bound);
    if (!ctx->log || !mc->fuel) return;
    if (o->fuel_mode == FUEL_EXACT)
        fprintf(ctx->log, "wasmslim: metering: fuel (exact) in %u functions\n", ndefined);
    else
        fprintf(ctx->log, "wasmslim: metering: fuel (lazy, overrun at most %" PRIu64 " units) in %u functions\n",
                bound, ndefined);
}

/* Contract: the module as the input had it, for checking the input's bodies once setup
 * appended globals and types: the struct from before, with the arrays setup may have
 * moved (appending leaves every earlier entry as it was; a view is never freed). */
static Module input_view(const Module *before, const Module *m) {
    Module v = *before;
    v.types = m->types;
    v.recs = m->recs;
    v.globals = m->globals;
    return v;
}

/* Contract: rewrites every function; when the driver left the input's bodies to this
 * pass (ctx->input_checker), each is checked against the input's view as it is built
 * (as -O0 does: the builder's type check, or the validator), and the input counts as
 * checked. */
static void meter_functions(PassCtx *ctx, Module *m, const Module *before, MeterCtx *mc) {
    if (!ctx->input_checker) {
        if (rewrites_code(m, mc)) pass_for_each_function(ctx, m, meter_function, mc);
        return;
    }
    Module view = input_view(before, m);
    Validator *v = validator_begin(&view, &ctx->err);
    bool ok = v && (rewrites_code(m, mc)
                        ? module_rewrite_functions_checked(m, ctx->jobs ? ctx->jobs : 1, v, meter_function, mc, &ctx->err)
                        : module_validate(&view, &ctx->err));
    validator_end(v);
    if (ok) ctx->input_checked = true;
    else ctx->failed = true;
}

void pass_meter(PassCtx *ctx, Module *m) {
    const MeterOptions *o = &ctx->opt->meter;
    if (!o->fuel && !o->stack && !o->mem_cap) return;
    if (!check_module(ctx, m, o)) return;
    if (o->mem_cap && !cap_memories(ctx, m, o->max_memory_pages)) return;
    MeterCtx *mc = ws_calloc(1, sizeof *mc);
    mc->opt = o;
    if (load_costs(ctx, mc)) {
        Module before = *m;
        setup(m, mc, ctx->jobs);
        meter_functions(ctx, m, &before, mc);
        if (!ctx->failed) finish(ctx, m, mc);
    }
    free(mc->block_type);
    free(mc->longest_path);
    free(mc->largest_point);
    free(mc->most_calls);
    free(mc->leaf);
    free(mc->charges);
    free(mc->refunds);
    meter_calls_free(&mc->calls);
    free(mc);
}
