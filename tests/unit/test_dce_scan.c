/* test_dce_scan.c - the quick scan that lets dce skip functions it would not change
 * (passes/dce_scan.c): each rule of dce is seen, and what it clears dce leaves as is. */
#include "pass_case.h"
#include "../../ir/funcmap.h"
#include "../../passes/dce.h"
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#define WAT_DIR "tests/unit/wat/"

static const char *func_name(const Module *m, uint32_t f, char *buf, size_t n) {
    buf[0] = 0;
    const char *names[] = {"clean_add", "clean_loop", "clean_calls", "clean_if", "clean_unbalanced",
                           "clean_memory", "clean_return", "clean_wide", "nop", "tail", "left_behind",
                           "const_if", "const_br_if", "const_br_if_wide", "const_if_wide", "const_select",
                           "pure_drop", "empty_block", "empty_if", "dead_store", "stackify", "unused_local",
                           "locals_reordered"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (case_func_named(m, names[i]) == (int64_t)f) snprintf(buf, n, "%s", names[i]);
    return buf;
}

Test(dce_scan, every_rule_is_seen) {
    Case c;
    case_load_wat(&c, WAT_DIR, "dce_scan", 1);
    uint32_t clean = 0, dirty = 0;
    for (uint32_t f = c.m.nfunc_imports; f < c.m.nfuncs; f++) {
        char name[64];
        func_name(&c.m, f, name, sizeof name);
        cr_assert(name[0], "function %u has a name", f);
        bool expect = strncmp(name, "clean_", 6) != 0;
        cr_assert_eq(dce_scan_function(&c.m, f, &(DceScanInfo){0}) != DCE_STAYS, expect, "%s", name);
        if (expect) dirty++;
        else clean++;
    }
    cr_assert_eq(clean, 8);
    cr_assert_eq(dirty, 15);
    case_free(&c);
}

/* Every function through the full dce (no scan): those the scan clears keep their bytes,
 * the others change. */
Test(dce_scan, what_it_clears_dce_leaves_alone) {
    Case c;
    case_load_wat(&c, WAT_DIR, "dce_scan", 1);
    uint32_t n = c.m.nfuncs;
    bool *may = calloc(n, sizeof(bool));
    Bytes *before = calloc(n, sizeof(Bytes));
    for (uint32_t f = c.m.nfunc_imports; f < n; f++) {
        may[f] = dce_scan_function(&c.m, f, &(DceScanInfo){0}) != DCE_STAYS;
        before[f].len = c.m.funcs[f].body.len;
        before[f].p = malloc(before[f].len + 1);
        memcpy((uint8_t *)before[f].p, c.m.funcs[f].body.p, before[f].len);
    }
    WsError err;
    cr_assert(module_rewrite_functions(&c.m, 1, dce_function, &c.ctx, &err));
    for (uint32_t f = c.m.nfunc_imports; f < n; f++) {
        bool same = c.m.funcs[f].body.len == before[f].len &&
                    !memcmp(c.m.funcs[f].body.p, before[f].p, before[f].len);
        cr_assert_eq(same, !may[f], "function %u: scan says %s, dce %s", f, may[f] ? "may change" : "clean",
                     same ? "kept it" : "changed it");
        free((void *)before[f].p);
    }
    free(before);
    free(may);
    case_free(&c);
}

/* Nops: the verdict of each function of dce_nops.wat by its name, and for the DCE_NOPS
 * ones, dropping the nops on the bytes (what pass_dce does) gives the full dce's bytes. */
Test(dce_scan, nops_dropped_on_the_bytes_as_dce_would) {
    Case c;
    case_load_wat(&c, WAT_DIR, "dce_nops", 1);
    uint32_t n = c.m.nfuncs, stripped = 0, built = 0;
    DceVerdict *verdict = calloc(n, sizeof(DceVerdict));
    Buf *bytes = calloc(n, sizeof(Buf));
    const char *strip[] = {"strip_one", "strip_many", "strip_in_loop", "strip_arms", "strip_padded"};
    const char *build[] = {"build_only_nops_in_block", "build_nop_in_empty_if", "build_nop_after_return",
                           "build_nop_and_pure_drop", "build_nop_in_stackify"};
    for (size_t i = 0; i < 5; i++) {
        int64_t fs = case_func_named(&c.m, strip[i]), fb = case_func_named(&c.m, build[i]);
        cr_assert(fs >= 0 && fb >= 0);
        cr_assert_eq(dce_scan_function(&c.m, (uint32_t)fs, &(DceScanInfo){0}), DCE_NOPS, "%s", strip[i]);
        cr_assert_eq(dce_scan_function(&c.m, (uint32_t)fb, &(DceScanInfo){0}), DCE_BUILD, "%s", build[i]);
    }
    for (uint32_t f = c.m.nfunc_imports; f < n; f++) {
        verdict[f] = dce_scan_function(&c.m, f, &(DceScanInfo){0});
        if (verdict[f] != DCE_NOPS) continue;
        WsError err;
        Cursor cur = {c.m.input, c.m.funcs[f].body.p, c.m.funcs[f].body.p + c.m.funcs[f].body.len, &err};
        cr_assert(!setjmp(err.jb));
        cr_assert_gt(body_canonicalize_without_nops(&cur, &bytes[f]), 0);
    }
    WsError err;
    cr_assert(module_rewrite_functions(&c.m, 1, dce_function, &c.ctx, &err));
    for (uint32_t f = c.m.nfunc_imports; f < n; f++) {
        if (verdict[f] == DCE_BUILD) built++;
        if (verdict[f] != DCE_NOPS) continue;
        stripped++;
        cr_assert_eq(c.m.funcs[f].body.len, bytes[f].len, "function %u", f);
        cr_assert(!memcmp(c.m.funcs[f].body.p, bytes[f].data, bytes[f].len), "function %u", f);
        buf_free(&bytes[f]);
    }
    cr_assert_eq(stripped, 5);
    cr_assert_eq(built, 5);
    free(bytes);
    free(verdict);
    case_free(&c);
}

/* Validation marks after pass_dce: a body it left as it was keeps its mark (dce changes
 * bodies only, so the output check need not type it again), a body it replaced (through
 * the IR or by dropping nops on the bytes) loses it. */
Test(dce_scan, validation_marks_follow_the_bodies_dce_replaced) {
    const char *files[] = {"dce_scan", "dce_nops"};
    for (int i = 0; i < 2; i++) {
        Case c;
        case_load_wat(&c, WAT_DIR, files[i], 1);
        uint32_t n = c.m.nfuncs, kept = 0, cleared = 0;
        const uint8_t **before = calloc(n, sizeof *before);
        for (uint32_t f = c.m.nfunc_imports; f < n; f++) before[f] = c.m.funcs[f].body.p;
        module_mark_bodies_valid(&c.m, true);
        pass_run(&c.ctx, pass_lookup("dce"), &c.m);
        cr_assert_not(c.ctx.failed);
        for (uint32_t f = c.m.nfunc_imports; f < n; f++) {
            bool same = c.m.funcs[f].body.p == before[f];
            cr_assert_eq(c.m.funcs[f].valid, same, "%s: function %u", files[i], f);
            if (same) kept++;
            else cleared++;
        }
        cr_assert_eq(kept, i == 0 ? 8 : 0, "%s", files[i]);   /* the clean_* ones */
        cr_assert_eq(cleared, i == 0 ? 15 : 10, "%s", files[i]);
        free(before);
        case_free(&c);
    }
}

/* dead-params takes the calls of a body that is no candidate's from remove-unused's
 * lists when the body is still the one listed: the caller is rewritten all the same. */
Test(dce_scan, dead_params_takes_calls_from_remove_unused_lists) {
    Case c;
    case_load_wat(&c, WAT_DIR, "dead_param_listed", 1);
    pass_run(&c.ctx, pass_lookup("strip-debug"), &c.m); /* local names would stop dead-params */
    pass_run(&c.ctx, pass_lookup("remove-unused"), &c.m);
    cr_assert_eq(c.m.nfuncs, 2);
    cr_assert_not_null(c.m.refs_cache, "remove-unused left no lists");
    case_run(&c, "dead-params", true); /* the output must validate */
    cr_assert_eq(c.ctx.stats.params_removed, 1);
    cr_assert_eq(c.after.types[c.after.funcs[0].type].nparams, 1);
    case_free(&c);
}

/* dead-params takes a candidate's untouched params from dce's scan when the body is
 * still the one dce scanned and remove-unused listed (its calls then come from the
 * list): a mark that claims param 0 is named keeps it, so the body was not scanned. */
Test(dce_scan, dead_params_takes_untouched_params_from_dce) {
    for (int lie = 0; lie < 2; lie++) {
        Case c;
        case_load_wat(&c, WAT_DIR, "dead_param_listed", 1);
        pass_run(&c.ctx, pass_lookup("strip-debug"), &c.m); /* local names would stop dead-params */
        pass_run(&c.ctx, pass_lookup("remove-unused"), &c.m);
        pass_run(&c.ctx, pass_lookup("dce"), &c.m);
        const Func *callee = &c.m.funcs[0]; /* $gone went */
        cr_assert_eq(callee->params_at, callee->body.p, "dce's scan counted the params");
        cr_assert_eq(callee->params_untouched, 1u, "param 0 is never named");
        cr_assert_eq(c.m.funcs[1].params_untouched, 0u, "the caller reads its param");
        if (lie) c.m.funcs[0].params_untouched = 0;
        case_run(&c, "dead-params", true);
        cr_assert_eq(c.ctx.stats.params_removed, lie ? 0u : 1u);
        case_free(&c);
    }
}

/* The scan's canonical marks: a body dce leaves is marked for the writer to copy as it
 * is only when its bytes are canonical (one function here; a padded constant, an empty
 * local group and a padded local index are not), and the written module holds every
 * body in its canonical form either way. */
Test(dce_scan, canonical_marks_let_the_writer_copy) {
    static const uint8_t wasm[] = {
        0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
        0x01, 0x0a, 0x02, 0x60, 0x00, 0x01, 0x7f, 0x60, 0x01, 0x7f, 0x01, 0x7f, /* ()->i32, (i32)->i32 */
        0x03, 0x05, 0x04, 0x00, 0x00, 0x00, 0x01,
        0x0a, 0x1c, 0x04,
        0x04, 0x00, 0x41, 0x05, 0x0b,                               /* i32.const 5 */
        0x05, 0x00, 0x41, 0x85, 0x00, 0x0b,                         /* i32.const 5, padded */
        0x09, 0x02, 0x00, 0x7f, 0x01, 0x7e, 0x20, 0x00, 0x50, 0x0b, /* (local) (local i64) */
        0x05, 0x00, 0x20, 0x80, 0x00, 0x0b,                         /* local.get 0, padded */
    };
    Case c;
    case_load_bytes(&c, wasm, sizeof wasm, 1);
    Buf canon[4] = {{0}};
    for (uint32_t f = 0; f < 4; f++) {
        DceScanInfo info;
        cr_assert_eq(dce_scan_function(&c.m, f, &info), DCE_STAYS, "function %u", f);
        cr_assert_eq(info.canonical, f == 0, "function %u", f);
        WsError err;
        Cursor cur = {c.m.input, c.m.funcs[f].body.p, c.m.funcs[f].body.p + c.m.funcs[f].body.len, &err};
        cr_assert(!setjmp(err.jb));
        body_canonicalize(&cur, &canon[f]);
    }
    cr_assert_eq(canon[2].len, 7); /* the empty group folded away */
    case_run(&c, "dce", true);
    for (uint32_t f = 0; f < 4; f++) {
        cr_assert_eq(c.m.funcs[f].canonical_at == c.m.funcs[f].body.p, f == 0, "function %u", f);
        const Func *out = &c.after.funcs[f];
        cr_assert_eq(out->body.len, canon[f].len, "function %u", f);
        cr_assert(!memcmp(out->body.p, canon[f].data, canon[f].len), "function %u", f);
        buf_free(&canon[f]);
    }
    case_free(&c);
}

/* dead-params: removing a param retypes a function, so every mark goes; a run with
 * nothing to remove leaves the module as it was, and the marks. */
Test(dce_scan, dead_params_clears_the_marks_only_when_it_removes) {
    Case c;
    case_load_wat(&c, WAT_DIR, "dead_param_marks", 1);
    pass_run(&c.ctx, pass_lookup("strip-debug"), &c.m); /* local names would stop dead-params */
    module_mark_bodies_valid(&c.m, true);
    pass_run(&c.ctx, pass_lookup("dead-params"), &c.m);
    cr_assert_not(c.ctx.failed);
    cr_assert_eq(c.ctx.stats.params_removed, 1);
    for (uint32_t f = c.m.nfunc_imports; f < c.m.nfuncs; f++) cr_assert_not(c.m.funcs[f].valid, "function %u", f);
    module_mark_bodies_valid(&c.m, true);
    pass_run(&c.ctx, pass_lookup("dead-params"), &c.m); /* nothing left to remove: marks stay */
    cr_assert_eq(c.ctx.stats.params_removed, 1);
    for (uint32_t f = c.m.nfunc_imports; f < c.m.nfuncs; f++) cr_assert(c.m.funcs[f].valid, "function %u", f);
    case_free(&c);
}
