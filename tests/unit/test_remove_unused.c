/* test_remove_unused.c - the remove-unused pass on tiny modules: the .wat files of
 * tests/passes/remove-unused/ (built with wat2wasm at test time; run from the
 * repository root) and hand-made bytes for GC rec groups.  Each case runs the pass,
 * writes the module, checks that wasm-validate accepts the output (wat cases) and
 * inspects the re-read result: what is left, how references were renumbered, the name
 * section, the counters, --export-only, --keep-export and --why-kept. */
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

#define WAT_DIR "tests/passes/remove-unused/"

/* The immediates of the instructions of function f with opcode op, in order (max 8). */
static uint32_t imms_of(const Module *m, uint32_t f, OpId op, uint32_t *out) {
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
        if (in.op == op && count < 8) out[count++] = (uint32_t)in.a;
    }
    return count;
}

static const Export *export_named(const Module *m, const char *name) {
    for (uint32_t i = 0; i < m->nexports; i++)
        if (m->exports[i].name.len == strlen(name) && !memcmp(m->exports[i].name.p, name, strlen(name)))
            return &m->exports[i];
    return NULL;
}

Test(remove_unused, functions_and_imports) {
    Case c;
    case_load_wat(&c, WAT_DIR, "funcs", 0);
    cr_assert_eq(c.m.nfuncs, 9);
    case_run(&c, "remove-unused-module-elements", true);
    Module *a = &c.after;
    cr_assert_eq(a->nfuncs, 5);          /* used_import main helper taken init */
    cr_assert_eq(a->nimports, 1);
    cr_assert_eq(c.ctx.stats.funcs_removed, 3);
    cr_assert_eq(c.ctx.stats.imports_removed, 1);
    cr_assert_eq(case_func_named(a, "dead1"), -1);
    cr_assert_eq(case_func_named(a, "unused_import"), -1);
    int64_t main_f = case_func_named(a, "main"), helper = case_func_named(a, "helper"), imp = case_func_named(a, "used_import");
    cr_assert(main_f >= 0 && helper >= 0 && imp == 0);
    uint32_t calls[8];
    cr_assert_eq(imms_of(a, (uint32_t)main_f, OP_CALL, calls), 2);
    cr_assert_eq(calls[0], (uint32_t)imp);
    cr_assert_eq(calls[1], (uint32_t)helper);
    cr_assert_eq(export_named(a, "main")->index, (uint32_t)main_f);
    cr_assert(a->has_start);
    cr_assert_eq(a->start, (uint32_t)case_func_named(a, "init"));
    cr_assert(c.m.code_changed);
    case_free(&c);
}

Test(remove_unused, ref_func_stays_declared) {
    Case c;
    case_load_wat(&c, WAT_DIR, "funcs", 0);
    case_run(&c, "remove-unused-module-elements", true);
    Module *a = &c.after;
    int64_t taken = case_func_named(a, "taken");
    uint32_t refs[8];
    cr_assert_eq(imms_of(a, (uint32_t)case_func_named(a, "helper"), OP_REF_FUNC, refs), 1);
    cr_assert_eq(refs[0], (uint32_t)taken);
    cr_assert_eq(a->nelems, 1); /* declare func $taken (without the removed $dead2) */
    cr_assert_eq(a->elems[0].flags, 3);
    cr_assert_eq(a->elems[0].count, 1);
    cr_assert_eq(a->elems[0].funcs[0], (uint32_t)taken);
    case_free(&c);
}

Test(remove_unused, globals_tables_memories_tags_segments) {
    Case c;
    case_load_wat(&c, WAT_DIR, "spaces", 0);
    case_run(&c, "remove-unused-module-elements", true);
    Module *a = &c.after;
    PassStats *s = &c.ctx.stats;
    cr_assert_eq(a->nglobals, 3);        /* imported g_used, live, exported */
    cr_assert_eq(s->globals_removed, 1);
    cr_assert_eq(s->imports_removed, 1); /* g_unused */
    cr_assert_eq(a->ntables, 1);
    cr_assert_eq(s->tables_removed, 1);
    cr_assert_eq(a->nmems, 1);
    cr_assert_eq(s->mems_removed, 1);
    cr_assert_eq(a->ntags, 1);
    cr_assert_eq(s->tags_removed, 1);
    cr_assert_eq(a->ndatas, 2);          /* used by memory.init, dropped by data.drop */
    cr_assert_eq(s->datas_removed, 1);
    cr_assert_eq(a->nelems, 1);
    cr_assert_eq(s->elems_removed, 1);
    cr_assert_eq(a->types[a->tags[0].type].params[0].code, VT_I64);
    const Export *g = export_named(a, "exported");
    cr_assert_eq(g->kind, EXT_GLOBAL);
    cr_assert_eq(g->index, 2);
    uint32_t run = export_named(a, "run")->index, imm[8];
    cr_assert_eq(imms_of(a, run, OP_GLOBAL_SET, imm), 1);
    cr_assert_eq(imm[0], 1);
    cr_assert_eq(imms_of(a, run, OP_DATA_DROP, imm), 1);
    cr_assert_eq(imm[0], 1);
    cr_assert_eq(imms_of(a, run, OP_THROW, imm), 1);
    cr_assert_eq(imm[0], 0);
    case_free(&c);
}

Test(remove_unused, active_segments) {
    Case c;
    case_load_wat(&c, WAT_DIR, "segments", 0);
    case_run(&c, "remove-unused-module-elements", true);
    Module *a = &c.after;
    cr_assert_eq(a->nmems, 2);           /* imported, trapping */
    cr_assert_eq(a->ndatas, 2);
    cr_assert_eq(a->datas[1].flags, 2);
    cr_assert_eq(a->datas[1].memory, 1);
    cr_assert_eq(a->ntables, 1);         /* the one whose segment may trap */
    cr_assert_eq(a->nelems, 1);
    cr_assert_eq(a->elems[0].count, 2);
    cr_assert_eq(case_func_named(a, "only_in_table"), -1);
    cr_assert(case_func_named(a, "g") >= 0);
    case_free(&c);
}

Test(remove_unused, mvp_types) {
    Case c;
    case_load_wat(&c, WAT_DIR, "types", 0);
    case_run(&c, "remove-unused-module-elements", true);
    Module *a = &c.after;
    cr_assert_eq(a->ntypes, 3);
    cr_assert_eq(c.ctx.stats.types_removed, 2);
    uint32_t run = export_named(a, "run")->index, imm[8];
    cr_assert_eq(imms_of(a, run, OP_CALL_INDIRECT, imm), 1);
    cr_assert_eq(a->types[imm[0]].nparams, 1);
    cr_assert_eq(a->funcs[case_func_named(a, "id")].type, imm[0]);
    case_free(&c);
}

/* Rec groups: {0: struct (ref null 1), 1: struct i32} used through a parameter,
 * {2: struct, 3: array i8} unused, 4: open struct i32 (supertype of 5), 5: sub 4 struct
 * i32 i64 (struct.new_default in code), 6: func i64 unused, 7: func (ref null 0) -> i32. */
static const uint8_t gc_module[] = {
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    0x01, 0x2c, 0x06,
    0x4e, 0x02, 0x5f, 0x01, 0x63, 0x01, 0x00, 0x5f, 0x01, 0x7f, 0x00,
    0x4e, 0x02, 0x5f, 0x00, 0x5e, 0x78, 0x01,
    0x50, 0x00, 0x5f, 0x01, 0x7f, 0x00,
    0x50, 0x01, 0x04, 0x5f, 0x02, 0x7f, 0x00, 0x7e, 0x00,
    0x60, 0x01, 0x7e, 0x00,
    0x60, 0x01, 0x63, 0x00, 0x01, 0x7f,
    0x03, 0x02, 0x01, 0x07,
    0x07, 0x05, 0x01, 0x01, 'f', 0x00, 0x00,
    0x0a, 0x0a, 0x01, 0x08, 0x00, 0xfb, 0x01, 0x05, 0x1a, 0x41, 0x00, 0x0b,
};

Test(remove_unused, rec_groups) {
    Case c;
    case_load_bytes(&c, gc_module, sizeof gc_module, 0);
    cr_assert_eq(c.m.ntypes, 8);
    case_run(&c, "remove-unused-module-elements", false);
    Module *a = &c.after;
    cr_assert_eq(a->nrecs, 4);
    cr_assert_eq(a->ntypes, 5);          /* 0 1 | 4 -> 2 | 5 -> 3 | 7 -> 4 */
    cr_assert_eq(c.ctx.stats.types_removed, 3);
    cr_assert(a->recs[0].explicit_rec);
    cr_assert_eq(a->recs[0].count, 2);
    cr_assert_eq(a->types[0].fields[0].type.heap, 1);
    cr_assert_eq(a->types[3].nsupers, 1);
    cr_assert_eq(a->types[3].supers[0], 2);
    cr_assert_eq(a->types[4].kind, COMP_FUNC);
    cr_assert_eq(a->types[4].params[0].heap, 0);
    cr_assert_eq(a->funcs[0].type, 4);
    uint32_t imm[8];
    cr_assert_eq(imms_of(a, 0, OP_STRUCT_NEW_DEFAULT, imm), 1);
    cr_assert_eq(imm[0], 3);
    case_free(&c);
}

Test(remove_unused, name_section_renumbered) {
    Case c;
    case_load_wat(&c, WAT_DIR, "funcs", 0);
    case_run(&c, "remove-unused-module-elements", true);
    Module *a = &c.after;
    /* every kept function keeps its own name at its new index */
    const char *kept[] = {"used_import", "main", "helper", "taken", "init"};
    for (uint32_t i = 0; i < 5; i++) cr_assert_eq(case_func_named(a, kept[i]), (int64_t)i, "%s", kept[i]);
    /* the local names of $main ($x, $tmp) moved with it: find the local subsection */
    const Custom *cs = names_section(a);
    cr_assert(cs);
    WsError err;
    Cursor cur = {cs->payload.p, cs->payload.p, cs->payload.p + cs->payload.len, &err};
    bool seen = false;
    while (!cur_eof(&cur)) {
        uint8_t id = cur_u8(&cur);
        Cursor sub = cur_sub(&cur, cur_u32(&cur));
        if (id != NAME_LOCAL) continue;
        uint32_t n = cur_u32(&sub);
        for (uint32_t i = 0; i < n; i++) {
            uint32_t f = cur_u32(&sub), nl = cur_u32(&sub);
            for (uint32_t k = 0; k < nl; k++) {
                uint32_t idx = cur_u32(&sub), len;
                const uint8_t *s = cur_name(&sub, &len);
                if (f == 1 && idx == 1 && len == 3 && !memcmp(s, "tmp", 3)) seen = true;
                cr_assert(f < a->nfuncs);
            }
        }
    }
    cr_assert(seen, "local $tmp of $main not found under the new index");
    case_free(&c);
}

Test(remove_unused, export_only) {
    Case c;
    case_load_wat(&c, WAT_DIR, "exports", 0);
    const char *only = "a";
    c.opt.dce.export_only[c.opt.dce.nexport_only++] = only;
    case_run(&c, "remove-unused-module-elements", true);
    Module *a = &c.after;
    cr_assert_eq(a->nexports, 1);
    cr_assert_eq(c.ctx.stats.exports_removed, 3);
    cr_assert_eq(a->nfuncs, 2);          /* a, x */
    cr_assert_eq(a->nmems, 0);           /* its export was dropped */
    cr_assert_eq(case_func_named(a, "x"), 1);
    case_free(&c);
}

Test(remove_unused, keep_export) {
    Case c;
    case_load_wat(&c, WAT_DIR, "exports", 0);
    c.opt.dce.export_only[c.opt.dce.nexport_only++] = "a,memory";
    c.opt.dce.keep_exports[c.opt.dce.nkeep_exports++] = "c";
    c.opt.dce.keep_exports[c.opt.dce.nkeep_exports++] = "$z";
    case_run(&c, "remove-unused-module-elements", true);
    Module *a = &c.after;
    cr_assert_eq(a->nexports, 3);        /* a, c, memory */
    cr_assert(export_named(a, "c"));
    cr_assert_null(export_named(a, "b"));
    cr_assert_eq(a->nfuncs, 4);          /* a, c, x, z */
    cr_assert(case_func_named(a, "z") >= 0);
    cr_assert_eq(case_func_named(a, "y"), -1);
    cr_assert_eq(a->nmems, 1);
    case_free(&c);
}

/* The bodies' validation marks survive a run that removed nothing (the module is as it
 * was, so the output check need not type them again) and no other. */
Test(remove_unused, validation_marks_stay_only_when_nothing_changed) {
    const char *export_only[] = {NULL, "a"};
    for (int i = 0; i < 2; i++) {
        Case c;
        case_load_wat(&c, WAT_DIR, "exports", 0);
        c.opt.dce.keep_exports[c.opt.dce.nkeep_exports++] = "z";
        if (export_only[i]) c.opt.dce.export_only[c.opt.dce.nexport_only++] = export_only[i];
        module_mark_bodies_valid(&c.m, true);
        case_run(&c, "remove-unused", true);
        bool kept = i == 0;
        for (uint32_t f = c.m.nfunc_imports; f < c.m.nfuncs; f++)
            cr_assert_eq(c.m.funcs[f].valid, kept, "case %d, function %u", i, f);
        module_mark_bodies_valid(&c.m, true);
        pass_run(&c.ctx, pass_lookup("strip-debug"), &c.m);
        cr_assert_not(c.m.funcs[c.m.nfuncs - 1].valid, "another pass clears the marks");
        case_free(&c);
    }
}

Test(remove_unused, unknown_names_fail_unchanged) {
    const char *flags[][2] = {{"nosuch", NULL}, {NULL, "nosuch"}};
    for (int i = 0; i < 2; i++) {
        Case c;
        case_load_wat(&c, WAT_DIR, "exports", 0);
        if (flags[i][0]) c.opt.dce.export_only[c.opt.dce.nexport_only++] = flags[i][0];
        if (flags[i][1]) c.opt.dce.keep_exports[c.opt.dce.nkeep_exports++] = flags[i][1];
        pass_run(&c.ctx, pass_lookup("remove-unused"), &c.m);
        cr_assert(c.ctx.failed);
        cr_assert(strstr(c.ctx.err.msg, "nosuch"), "%s", c.ctx.err.msg);
        cr_assert_eq(c.m.nfuncs, 6);
        cr_assert_eq(c.m.nexports, 4);
        case_free(&c);
    }
}

/* Runs --why-kept=query on funcs.wat and returns the printed line (static buffer). */
static const char *why(const char *query) {
    static char line[512];
    Case c;
    case_load_wat(&c, WAT_DIR, "funcs", 0);
    FILE *f = tmpfile();
    c.opt.dce.report = f;
    c.opt.dce.why_kept[c.opt.dce.nwhy_kept++] = query;
    case_run(&c, "remove-unused-module-elements", false);
    rewind(f);
    cr_assert(fgets(line, sizeof line, f));
    fclose(f);
    case_free(&c);
    return line;
}

Test(remove_unused, why_kept) {
    cr_assert_str_eq(why("helper"), "$helper (func 5) <- called by $main (func 4) <- export \"main\"\n");
    cr_assert_str_eq(why("$taken"), "$taken (func 7) <- taken by ref.func in $helper (func 5) "
                                    "<- called by $main (func 4) <- export \"main\"\n");
    cr_assert_str_eq(why("8"), "$init (func 8) <- start function\n");
    cr_assert_str_eq(why("dead1"), "$dead1 (func 2): unreachable from every root (removed)\n");
    cr_assert_str_eq(why("main"), "$main (func 4) <- export \"main\"\n");
}

Test(remove_unused, code_metadata_renumbered) {
    Case c;
    case_load_wat(&c, WAT_DIR, "funcs", 0);
    /* branch hints for $dead2 (3), $main (4, whose code is rewritten) and $taken (7) */
    static const uint8_t hints[] = {
        0x00, 0x2a, 0x19, 'm', 'e', 't', 'a', 'd', 'a', 't', 'a', '.', 'c', 'o', 'd', 'e', '.',
        'b', 'r', 'a', 'n', 'c', 'h', '_', 'h', 'i', 'n', 't',
        0x03, 0x03, 0x01, 0x01, 0x01, 0x00, 0x04, 0x01, 0x01, 0x01, 0x01, 0x07, 0x01, 0x00, 0x01, 0x01,
    };
    size_t n = c.in_len;
    uint8_t *b = malloc(n + sizeof hints);
    memcpy(b, c.in, n);
    memcpy(b + n, hints, sizeof hints);
    case_free(&c);
    case_load_bytes(&c, b, n + sizeof hints, 0);
    free(b);
    case_run(&c, "remove-unused-module-elements", true);
    const Custom *cs = NULL;
    for (uint32_t i = 0; i < c.after.ncustoms; i++)
        if (custom_has_prefix(&c.after.customs[i], "metadata.code.")) cs = &c.after.customs[i];
    cr_assert(cs);
    static const uint8_t want[] = {0x01, 0x03, 0x01, 0x00, 0x01, 0x01}; /* $taken, now 3 */
    cr_assert_eq(cs->payload.len, sizeof want);
    cr_assert_arr_eq(cs->payload.p, want, sizeof want);
    case_free(&c);
}

Test(remove_unused, nothing_to_remove_keeps_bytes) {
    Case c;
    case_load_wat(&c, WAT_DIR, "exports", 0);
    c.opt.dce.keep_exports[c.opt.dce.nkeep_exports++] = "z";
    case_run(&c, "remove-unused-module-elements", true);
    cr_assert_not(c.m.code_changed);
    cr_assert_eq(c.after.nfuncs, 6);
    for (uint32_t f = 0; f < c.m.nfuncs; f++) cr_assert_not(c.m.funcs[f].changed);
    case_free(&c);
}

/* Five exported functions: () -> i32 but the fourth, (i32) -> i32. */
static const uint8_t five_bodies[] = {
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    0x01, 0x0a, 0x02, 0x60, 0x00, 0x01, 0x7f, 0x60, 0x01, 0x7f, 0x01, 0x7f,
    0x03, 0x06, 0x05, 0x00, 0x00, 0x00, 0x01, 0x00,
    0x07, 0x15, 0x05, 0x01, 0x61, 0x00, 0x00, 0x01, 0x62, 0x00, 0x01, 0x01, 0x63, 0x00, 0x02,
    0x01, 0x64, 0x00, 0x03, 0x01, 0x65, 0x00, 0x04,
    0x0a, 0x27, 0x05,
    0x04, 0x00, 0x41, 0x05, 0x0b,                                     /* i32.const 5 */
    0x05, 0x00, 0x41, 0x85, 0x00, 0x0b,                               /* i32.const 5, padded */
    0x09, 0x02, 0x00, 0x7f, 0x01, 0x7e, 0x20, 0x00, 0x50, 0x0b,       /* (local) (local i64) */
    0x05, 0x00, 0x20, 0x80, 0x00, 0x0b,                               /* local.get 0, padded */
    0x0a, 0x03, 0x01, 0x7f, 0x01, 0x7e, 0x01, 0x7f, 0x20, 0x00, 0x0b, /* i32 in two groups */
};

/* Contract: remove-unused on bytes with the input's bodies left to it, as the CLI runs
 * it when it is the first pass (the bodies need not be valid); the checker stays for
 * the caller to end. */
static Validator *run_checking(Case *c, const uint8_t *wasm, size_t n) {
    case_load_unchecked(c, wasm, n, 1);
    WsError err;
    Validator *v = validator_begin(&c->m, &err);
    cr_assert_not_null(v, "%s", err.msg);
    c->ctx.input_checker = v;
    pass_run(&c->ctx, pass_lookup("remove-unused"), &c->m);
    return v;
}

/* With the input's bodies left to it (PassCtx.input_checker), remove-unused checks each
 * body while it lists it: every body is marked valid, and only the canonical one is
 * marked for the writer to copy (not a padded constant, an empty local group, a padded
 * local index, nor a type declared in two groups); the module written is the one a
 * run that checked the bodies first writes. */
Test(remove_unused, checks_the_input_bodies_it_lists) {
    Case c, plain;
    Validator *v = run_checking(&c, five_bodies, sizeof five_bodies);
    cr_assert_not(c.ctx.failed, "%s", c.ctx.err.msg);
    cr_assert(c.ctx.input_checked);
    cr_assert_eq(c.m.nfuncs, 5);
    for (uint32_t f = 0; f < 5; f++) {
        cr_assert(c.m.funcs[f].valid, "function %u", f);
        cr_assert_eq(c.m.funcs[f].canonical_at == c.m.funcs[f].body.p, f == 0, "function %u", f);
    }
    case_run(&c, "", true);
    case_load_bytes(&plain, five_bodies, sizeof five_bodies, 1);
    case_run(&plain, "remove-unused", true);
    cr_assert_eq(c.out.len, plain.out.len);
    cr_assert(!memcmp(c.out.data, plain.out.data, c.out.len));
    validator_end(v);
    case_free(&plain);
    case_free(&c);
}

/* An invalid body, reachable or not, fails the checking scan with the validator's error
 * for the lowest such function. */
Test(remove_unused, checking_scan_reports_the_first_invalid_body) {
    uint8_t wasm[sizeof five_bodies];
    memcpy(wasm, five_bodies, sizeof wasm);
    wasm[sizeof wasm - 8] = 0x7e; /* the last body's local 0: i64, returned as i32 */
    cr_assert_eq(wasm[56], 0x41);
    wasm[56] = 0x42;              /* the first body: i64.const 5 */
    Module m;
    WsError want;
    ReadOptions ro = {0};
    cr_assert(module_read(&m, wasm, sizeof wasm, "in.wasm", &ro, &want));
    cr_assert_not(module_validate(&m, &want));
    module_free(&m);
    Case c;
    Validator *v = run_checking(&c, wasm, sizeof wasm);
    cr_assert(c.ctx.failed);
    cr_assert_not(c.ctx.input_checked);
    cr_assert_eq(c.ctx.err.offset, want.offset);
    cr_assert_str_eq(c.ctx.err.msg, want.msg);
    cr_assert(strstr(c.ctx.err.msg, "type mismatch"), "%s", c.ctx.err.msg);
    validator_end(v);
    case_free(&c);
}
