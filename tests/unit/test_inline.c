/* test_inline.c - the inline pass on tiny modules: the .wat files of
 * tests/passes/inline/ (built with wat2wasm at test time; run from the repository root)
 * and hand-made bytes for what wabt 1.0.32 cannot write (try_table, non-nullable
 * reference locals).  Each case runs the pass (alone or in an -O pipeline) through the
 * registry, writes the module, checks it with our validator and wasm-validate, inspects
 * what is left, and where node can run the module, that every export still returns
 * (or throws) the same (tests/passes/inline/call.mjs). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include "../../ir/instr.h"
#include "../../ir/leb.h"
#include "../../ir/module.h"
#include "../../ir/names.h"
#include "../../ir/validate.h"
#include "../../passes/pass.h"
#include "pass_case.h"

#define WAT_DIR "tests/passes/inline/"

static const char *const O_PIPELINE = "remove-unused,dce,inline,dce,remove-unused";

/* How many instructions of function f have opcode op (and immediate a, unless any). */
static uint32_t count_ops(const Module *m, uint32_t f, OpId op, int64_t a) {
    WsError err;
    const Func *fn = &m->funcs[f];
    Cursor c = {fn->body.p, fn->body.p, fn->body.p + fn->body.len, &err};
    uint32_t n = cur_u32(&c), count = 0;
    for (uint32_t i = 0; i < n; i++) {
        cur_u32(&c);
        read_valtype(&c);
    }
    while (!cur_eof(&c)) {
        Instr in;
        instr_decode(&c, &in);
        if (in.op == op && (a < 0 || in.a == (uint64_t)a)) count++;
    }
    return count;
}

static uint32_t count_all(const Module *m, OpId op) {
    uint32_t n = 0;
    for (uint32_t f = m->nfunc_imports; f < m->nfuncs; f++) n += count_ops(m, f, op, -1);
    return n;
}

/* Output of call.mjs for module bytes and the given calls ("name:1,2 name:3"), into a
 * malloc'd string; node flags may be added. */
static char *node_calls(const uint8_t *b, size_t n, const char *flags, const char *calls) {
    char tmp[] = "/tmp/ws_inline_XXXXXX", out[] = "/tmp/ws_inline_out_XXXXXX", cmd[1024];
    case_write_tmp(tmp, b, n);
    int fd = mkstemp(out);
    close(fd);
    snprintf(cmd, sizeof cmd, "node --no-warnings %s " WAT_DIR "call.mjs %s %s > %s 2>&1", flags, tmp, calls, out);
    int rc = system(cmd);
    size_t len;
    char *text = (char *)case_read_file(out, &len);
    text[len] = 0;
    unlink(tmp);
    unlink(out);
    cr_assert(rc == 0, "node failed: %s\n%s", cmd, text);
    return text;
}

/* Every call gives the same output before and after the passes. */
static void same_behaviour(Case *c, const char *flags, const char *calls) {
    char *before = node_calls(c->in, c->in_len, flags, calls);
    char *after = node_calls(c->out.data, c->out.len, flags, calls);
    cr_assert_str_eq(after, before);
    free(before);
    free(after);
}

Test(inline, wrapper_inlined_everywhere) {
    Case c;
    case_load_wat(&c, WAT_DIR, "wrapper", -1);
    int64_t wrap = case_func_named(&c.m, "wrap"), add = case_func_named(&c.m, "add"), main_f = 3;
    cr_assert_eq(count_ops(&c.m, (uint32_t)main_f, OP_CALL, wrap), 1);
    case_run(&c, "inline", true);
    Module *a = &c.after;
    cr_assert_eq(count_ops(a, (uint32_t)main_f, OP_CALL, wrap), 0, "the wrapper is inlined");
    cr_assert_eq(count_ops(a, (uint32_t)main_f, OP_CALL, add), 1, "its callee is called directly");
    cr_assert_eq(case_func_named(a, "wrap"), wrap, "an exported wrapper stays");
    cr_assert_geq(c.ctx.stats.calls_inlined, 1);
    same_behaviour(&c, "", "main:8 main:0 wrap:3,4");
    case_free(&c);
}

Test(inline, getter_inlined_at_oz_only_because_smaller) {
    Case c;
    case_load_wat(&c, WAT_DIR, "wrapper", 'z');
    size_t before = c.in_len;
    case_run(&c, O_PIPELINE, true);
    cr_assert_eq(case_func_named(&c.after, "get"), -1, "the getter is inlined at both calls and removed");
    cr_assert_lt(c.out.len, before);
    same_behaviour(&c, "", "main:8 main:100");
    case_free(&c);
}

Test(inline, single_caller_inlined_and_removed) {
    Case c;
    case_load_wat(&c, WAT_DIR, "single", 2);
    uint32_t nfuncs = c.m.nfuncs;
    case_run(&c, O_PIPELINE, true);
    cr_assert_eq(c.after.nfuncs, nfuncs - 1);
    cr_assert_eq(case_func_named(&c.after, "helper"), -1);
    cr_assert_eq(count_all(&c.after, OP_CALL), 0);
    cr_assert_eq(c.ctx.stats.calls_inlined, 1);
    cr_assert_eq(c.ctx.stats.funcs_inlined_away, 1);
    same_behaviour(&c, "", "sum:0,0 sum:0,4 sum:16,3");
    case_free(&c);
}

Test(inline, single_caller_kept_with_no_inline) {
    Case c;
    case_load_wat(&c, WAT_DIR, "single", 2);
    c.opt.inlining.no_inline[0] = "helper";
    c.opt.inlining.nno_inline = 1;
    case_run(&c, O_PIPELINE, true);
    cr_assert_neq(case_func_named(&c.after, "helper"), -1);
    cr_assert_eq(c.ctx.stats.calls_inlined, 0);
    case_free(&c);
}

Test(inline, recursion_not_inlined) {
    Case c;
    case_load_wat(&c, WAT_DIR, "recursion", 3);
    uint32_t calls = count_all(&c.m, OP_CALL);
    case_run(&c, O_PIPELINE, true);
    cr_assert_eq(c.ctx.stats.calls_inlined, 0);
    cr_assert_eq(c.after.nfuncs, 4);
    cr_assert_eq(count_all(&c.after, OP_CALL), calls);
    same_behaviour(&c, "", "main:0 main:5 main:6");
    case_free(&c);
}

Test(inline, exported_callee_kept) {
    Case c;
    case_load_wat(&c, WAT_DIR, "exported", 2);
    case_run(&c, O_PIPELINE, true);
    Module *a = &c.after;
    int64_t exported = case_func_named(a, "exported"), in_table = case_func_named(a, "in_table");
    cr_assert_neq(exported, -1, "an exported callee stays");
    cr_assert_neq(in_table, -1, "a callee in an exported table stays");
    cr_assert_eq(count_all(a, OP_CALL), 2, "neither is inlined at -O2 (not tiny)");
    same_behaviour(&c, "", "main:3 exported:3");
    case_free(&c);
}

Test(inline, multi_value_early_returns_and_tail_calls) {
    Case c;
    case_load_wat(&c, WAT_DIR, "multivalue", 2);
    c.opt.inlining.has_growth = true;
    c.opt.inlining.growth_pct = 500;
    c.opt.inlining.max_size = 200;
    case_run(&c, O_PIPELINE, true);
    cr_assert_geq(c.ctx.stats.calls_inlined, 6);
    cr_assert_eq(case_func_named(&c.after, "tailer"), -1);
    cr_assert_eq(count_all(&c.after, OP_CALL) + count_all(&c.after, OP_RETURN_CALL), 0);
    same_behaviour(&c, "", "divmod:17,5 divmod:3,0 tail:4 tail:20 pairsum:4 pairsum:30 swap:5,17 swap:0,9");
    case_free(&c);
}

Test(inline, try_catch_delegate_rethrow) {
    Case c;
    case_load_wat(&c, WAT_DIR, "trycatch", 2);
    case_run(&c, O_PIPELINE, true);
    cr_assert_eq(c.ctx.stats.funcs_inlined_away, 4);
    cr_assert_eq(count_all(&c.after, OP_DELEGATE), 2);
    cr_assert_eq(count_all(&c.after, OP_RETHROW), 1);
    same_behaviour(&c, "",
                   "catcher:3 catcher:5 catcher:12 delegator:3 delegator:5 delegator:12 inner_delegate:3 "
                   "inner_delegate:5 inner_delegate:12 rethrower:3 rethrower:5 rethrower:12 tail_in_try:4 "
                   "tail_site_in_try:4");
    cr_assert_neq(case_func_named(&c.after, "tail_in_try"), -1, "a tail call inside try stays a tail call");
    cr_assert_neq(case_func_named(&c.after, "boom2"), -1, "a tail call site inside try stays");
    case_free(&c);
}

Test(inline, locals_zeroed_in_loops) {
    Case c;
    case_load_wat(&c, WAT_DIR, "locals", 2);
    case_run(&c, O_PIPELINE, true);
    cr_assert_eq(c.ctx.stats.calls_inlined, 1);
    cr_assert_geq(count_all(&c.after, OP_V128_CONST), 2, "the v128 local is zeroed on every pass");
    same_behaviour(&c, "", "loop:1 loop:5 loop:10");
    case_free(&c);
}

/* ---- hand-made modules ---- */

/* try_table whose catch names the function's label (needs a block once inlined):
 *   $thrower (param i32): throws $e(x) when x > 10
 *   $to_function (param i32) (result i32): try_table (result i32) (catch $e 0) x call $thrower x end
 *   main (export) (param i32) (result i32): x call $to_function i32.const 1 i32.add */
static const uint8_t TRY_TABLE_MODULE[] = {
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    0x01, 0x0a, 0x02, 0x60, 0x01, 0x7f, 0x00, 0x60, 0x01, 0x7f, 0x01, 0x7f,   /* types */
    0x03, 0x04, 0x03, 0x00, 0x01, 0x01,                                       /* funcs */
    0x0d, 0x03, 0x01, 0x00, 0x00,                                             /* tag $e */
    0x07, 0x08, 0x01, 0x04, 'm', 'a', 'i', 'n', 0x00, 0x02,                   /* export */
    0x0a, 0x2a, 0x03,                                                         /* code */
    0x0e, 0x00, 0x20, 0x00, 0x41, 0x0a, 0x4b, 0x04, 0x40, 0x20, 0x00, 0x08, 0x00, 0x0b, 0x0b,
    0x0f, 0x00, 0x1f, 0x7f, 0x01, 0x00, 0x00, 0x00, 0x20, 0x00, 0x10, 0x00, 0x20, 0x00, 0x0b, 0x0b,
    0x09, 0x00, 0x20, 0x00, 0x10, 0x01, 0x41, 0x01, 0x6a, 0x0b,
};

Test(inline, try_table_catch_to_function_label) {
    Case c;
    case_load_bytes(&c, TRY_TABLE_MODULE, sizeof TRY_TABLE_MODULE, 2);
    case_run(&c, O_PIPELINE, false); /* wabt 1.0.32 does not know try_table: our validator only */
    Module *a = &c.after;
    cr_assert_eq(a->nfuncs, 1, "both callees inlined and removed");
    cr_assert_eq(count_ops(a, 0, OP_TRY_TABLE, -1), 1);
    cr_assert_eq(count_ops(a, 0, OP_BLOCK, -1), 1, "the catch to the function label needs a block");
    cr_assert_eq(count_ops(a, 0, OP_THROW, -1), 1);
    case_free(&c);
}

/* A callee with a non-nullable reference local, inlined into a loop:
 *   $seven (result i32): i32.const 7            (declared for ref.func)
 *   $nonnull (param i32) (result i32) (local (ref $ft)): ref.func $seven local.set 1
 *       local.get 0 local.get 1 call_ref $ft i32.add
 *   main (export) (param i32) (result i32): loop summing $nonnull(i) for i < n */
static const uint8_t NONNULL_MODULE[] = {
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    0x01, 0x0a, 0x02, 0x60, 0x00, 0x01, 0x7f, 0x60, 0x01, 0x7f, 0x01, 0x7f,   /* types */
    0x03, 0x04, 0x03, 0x00, 0x01, 0x01,                                       /* funcs */
    0x07, 0x08, 0x01, 0x04, 'm', 'a', 'i', 'n', 0x00, 0x02,                   /* export */
    0x09, 0x05, 0x01, 0x03, 0x00, 0x01, 0x00,                                 /* declare $seven */
    0x0a, 0x36, 0x03,                                                         /* code */
    0x04, 0x00, 0x41, 0x07, 0x0b,
    0x10, 0x01, 0x01, 0x64, 0x00, 0xd2, 0x00, 0x21, 0x01, 0x20, 0x00, 0x20, 0x01, 0x14, 0x00, 0x6a, 0x0b,
    0x1e, 0x01, 0x02, 0x7f, 0x03, 0x40, 0x20, 0x02, 0x20, 0x01, 0x10, 0x01, 0x6a, 0x21, 0x02, 0x20, 0x01,
    0x41, 0x01, 0x6a, 0x22, 0x01, 0x20, 0x00, 0x49, 0x0d, 0x00, 0x0b, 0x20, 0x02, 0x0b,
};

Test(inline, non_nullable_reference_local) {
    Case c;
    case_load_bytes(&c, NONNULL_MODULE, sizeof NONNULL_MODULE, 2);
    case_run(&c, O_PIPELINE, false); /* nor typed references */
    Module *a = &c.after;
    cr_assert_eq(a->nfuncs, 2, "$nonnull inlined and removed, $seven kept (ref.func)");
    cr_assert_eq(count_ops(a, 1, OP_CALL, -1), 0);
    cr_assert_eq(count_ops(a, 1, OP_CALL_REF, -1), 1);
    cr_assert_eq(count_ops(a, 1, OP_REF_NULL, -1), 0, "a non-nullable local is never zeroed");
    /* node 20 reads the pre-standard reference type encoding: validation only */
    case_free(&c);
}

/* ---- determinism, report ---- */

Test(inline, same_output_for_any_thread_count) {
    Case one, many;
    case_load_wat(&one, WAT_DIR, "multivalue", 3);
    case_load_wat(&many, WAT_DIR, "multivalue", 3);
    one.ctx.jobs = 1;
    many.ctx.jobs = 8;
    case_run(&one, O_PIPELINE, false);
    case_run(&many, O_PIPELINE, false);
    cr_assert_eq(one.out.len, many.out.len);
    cr_assert(!memcmp(one.out.data, many.out.data, one.out.len));
    case_free(&one);
    case_free(&many);
}

Test(inline, report_names_what_went_where) {
    Case c;
    case_load_wat(&c, WAT_DIR, "single", 2);
    char path[] = "/tmp/ws_inline_report_XXXXXX";
    int fd = mkstemp(path);
    cr_assert(fd >= 0);
    c.opt.inlining.report = true;
    c.opt.inlining.report_out = fdopen(fd, "w");
    case_run(&c, "inline", true);
    fclose(c.opt.inlining.report_out);
    size_t n;
    char *text = (char *)case_read_file(path, &n);
    text[n] = 0;
    unlink(path);
    cr_assert(strstr(text, "inline: $helper into "), "%s", text);
    cr_assert(strstr(text, "single call"), "%s", text);
    cr_assert(strstr(text, "$helper inlined away (1 call)"), "%s", text);
    cr_assert(strstr(text, "1 functions inlined away"), "%s", text);
    free(text);
    case_free(&c);
}
