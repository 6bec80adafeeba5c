/* test_build_check.c - the IR builder's own type check (ir_build_checked): a body it
 * passes must be one the validator accepts, on hand-written bodies that break each rule
 * it covers and on every function of the spec testsuite's binary modules (invalid ones
 * included); the common valid bodies must pass it, or the -O0 round trip gains nothing. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include "pass_case.h"
#include "../../ir/func.h"
#include "../../ir/validate.h"

typedef struct Verdict {
    bool built, checked, valid;
    char msg[sizeof(((WsError *)0)->msg)];
} Verdict;

/* Contract: builder and validator on defined function `index` of the module in bytes
 * (read without validation); false when the module cannot be read or has invalid
 * parts outside the bodies. */
static bool judge(const uint8_t *bytes, size_t n, uint32_t index, Verdict *v) {
    Module m;
    WsError err;
    memset(v, 0, sizeof *v);
    if (!module_read(&m, bytes, n, "t.wasm", NULL, &err)) return false;
    Validator *check = validator_begin(&m, &err);
    if (!check || index >= m.nfuncs || index < m.nfunc_imports) {
        validator_end(check);
        module_free(&m);
        return false;
    }
    IrFunc f;
    memset(&f, 0, sizeof f);
    v->built = ir_build_checked(&f, &m, index, &err);
    v->checked = v->built && f.checked;
    Validator *w = validator_worker(check);
    v->valid = validator_check_body(w, index, &err);
    if (!v->valid) snprintf(v->msg, sizeof v->msg, "%s", err.msg);
    validator_worker_free(w);
    validator_end(check);
    ir_free(&f);
    module_free(&m);
    return true;
}

/* Contract: the module text `wat` through wat2wasm --no-check (so invalid bodies can
 * be written), judged on its first defined function (after `imports` imported ones). */
static Verdict judge_wat(const char *wat, uint32_t imports) {
    char src[] = "/tmp/ws_bc_XXXXXX", cmd[256];
    case_write_tmp(src, (const uint8_t *)wat, strlen(wat));
    snprintf(cmd, sizeof cmd, "wat2wasm --enable-all --no-check %s -o %s.wasm", src, src);
    cr_assert(system(cmd) == 0, "wat2wasm failed on: %s", wat);
    char out[64];
    snprintf(out, sizeof out, "%s.wasm", src);
    size_t n;
    uint8_t *b = case_read_file(out, &n);
    unlink(src);
    unlink(out);
    Verdict v;
    cr_assert(judge(b, n, imports, &v), "module unreadable: %s", wat);
    free(b);
    return v;
}

static void expect_checked(const char *wat) {
    Verdict v = judge_wat(wat, 0);
    cr_assert(v.valid, "expected valid (%s): %s", v.msg, wat);
    cr_assert(v.checked, "the builder's check should cover: %s", wat);
}

static uint32_t invalid_cases, invalid_built;

/* (each such body is counted: the check only matters for those the builder builds) */
static void expect_invalid(const char *wat) {
    Verdict v = judge_wat(wat, 0);
    cr_assert(!v.valid, "expected invalid: %s", wat);
    cr_assert(!v.checked, "the builder's check passed an invalid body: %s", wat);
    invalid_cases++;
    invalid_built += v.built;
}

Test(build_check, covers_common_valid_bodies) {
    expect_checked("(module (memory 1) (global $g (mut i64) (i64.const 0))"
                   " (func (param i32) (result i32) (local i64 f32)"
                   "  local.get 0 i64.extend_i32_u local.tee 1 global.set $g"
                   "  block $b (result i32) local.get 0 local.get 0 br_if $b drop"
                   "   loop $l local.get 0 br_if $l end local.get 0 i32.load offset=4 end"
                   "  if (result i32) i32.const 1 else i32.const 2 end"
                   "  local.get 0 i32.const 3 select"
                   "  i32.const 0 local.get 0 i32.store8 i32.const 0 i32.const 1 i32.const 2 memory.fill"
                   "  i32.const 0 i32.const 1 i32.const 2 memory.copy i32.const 1 memory.grow drop"
                   "  block block local.get 0 br_table 0 1 1 end end))");
    expect_checked("(module (type $t (func (param i64) (result i64))) (table 2 funcref)"
                   " (func (param i64) (result i64) local.get 0 i32.const 1 call_indirect (type $t)"
                   "  call 0 return))");
    expect_checked("(module (func (result i32) unreachable i32.const 1 i32.const 2 i32.add))");
    expect_checked("(module (func nop block end))"); /* nothing ever on the stack */
    expect_checked("(module (func (result i32) block (result i32) i32.const 1 br 0 i32.const 2 i32.const 3 i32.add end))");
    expect_checked("(module (memory i64 1) (func (param i64) local.get 0 i64.load drop"
                   " i64.const 0 i32.const 0 i64.const 1 memory.fill))");
}

Test(build_check, refuses_each_broken_rule) {
    expect_invalid("(module (func (param i64) (result i32) local.get 0 i32.const 1 i32.add))");
    expect_invalid("(module (func (param i32) (local i64) local.get 0 local.set 1))");
    expect_invalid("(module (func (param i32) (result i64) local.get 0 local.tee 0 drop i64.const 0"
                   " local.get 0 local.tee 0))");
    expect_invalid("(module (global i32 (i32.const 0)) (func i32.const 1 global.set 0))");
    expect_invalid("(module (global (mut i64) (i64.const 0)) (func i32.const 1 global.set 0))");
    expect_invalid("(module (func (result i32) i32.const 0 i32.load))");                   /* no memory */
    expect_invalid("(module (memory 1) (func (result i32) i32.const 0 i32.load align=8))");
    expect_invalid("(module (memory 1) (func (result i32) i64.const 0 i32.load))");
    expect_invalid("(module (memory i64 1) (func (result i32) i32.const 0 i32.load))");
    expect_invalid("(module (memory 1) (func i32.const 0 i64.const 0 i32.store))");
    expect_invalid("(module (func (param f32) block local.get 0 br_if 0 end))");
    expect_invalid("(module (func (result i32) block (result i32) i64.const 1 br 0 end))");
    expect_invalid("(module (func (result i32) i32.const 1 if (result i32) i32.const 2 end))"); /* no else */
    expect_invalid("(module (func (result i32) i32.const 1 if (result i32) i64.const 2 else i32.const 3 end))");
    expect_invalid("(module (func (result i32) i32.const 1 if (result i32) i32.const 2 else i64.const 3 end))");
    expect_invalid("(module (func (param i64) local.get 0 if end))");
    expect_invalid("(module (func (result i32) i64.const 1))");
    expect_invalid("(module (func (result i32) i32.const 1 i32.const 2))");           /* one too many */
    expect_invalid("(module (func i32.const 1 block (result i32) end drop))");        /* missing */
    expect_invalid("(module (func (result i32) i64.const 1 return))");
    expect_invalid("(module (func (param i32) (result i32) local.get 0 call 1) (func (param i64) (result i32) i32.const 0))");
    expect_invalid("(module (func (result i32) i32.const 1 i64.const 2 i32.const 0 select))");
    expect_invalid("(module (func (result i64) i64.const 1 i64.const 2 i64.const 0 select))");
    expect_invalid("(module (func block (result i32) block i32.const 0 i32.const 0 br_table 0 1 end end drop))");
    expect_invalid("(module (func (result i32) block (result i32) i64.const 0 i32.const 0 br_table 0 0 end))");
    expect_invalid("(module (memory 1) (func i32.const 0 i32.const 0 i64.const 1 memory.fill))");
    expect_invalid("(module (memory 1) (func i64.const 1 memory.grow drop))");
    expect_invalid("(module (memory i64 1) (memory 1) (func i64.const 0 i32.const 0 i64.const 1 memory.copy 0 1))");
    expect_invalid("(module (type $t (func)) (table 1 externref) (func i32.const 0 call_indirect (type $t)))");
    expect_invalid("(module (type $t (func (param i32))) (table 1 funcref) (func i64.const 0 i32.const 0"
                   " call_indirect (type $t)))");
    expect_invalid("(module (func (result i32) unreachable i64.const 1 i32.const 2 i32.add))");
    expect_invalid("(module (func (result i32) unreachable i64.const 1))");
    cr_assert_eq(invalid_built, invalid_cases, "%u of %u invalid bodies built", invalid_built, invalid_cases);
}

/* ---- every function of the spec testsuite ---- */

typedef struct SpecTally {
    uint32_t modules, bodies, checked, invalid_bodies, invalid_built;
} SpecTally;

static void judge_module_file(const char *path, SpecTally *t) {
    size_t n;
    uint8_t *b = case_read_file(path, &n);
    Module m;
    WsError err;
    bool read = module_read(&m, b, n, path, NULL, &err);
    Validator *check = read ? validator_begin(&m, &err) : NULL;
    if (check) {
        t->modules++;
        IrFunc f;
        memset(&f, 0, sizeof f);
        Validator *w = validator_worker(check);
        for (uint32_t i = m.nfunc_imports; i < m.nfuncs; i++) {
            bool built = ir_build_checked(&f, &m, i, &err);
            bool valid = validator_check_body(w, i, &err);
            t->bodies++;
            t->checked += built && f.checked;
            t->invalid_bodies += !valid;
            t->invalid_built += !valid && built;
            cr_assert(valid || !(built && f.checked), "%s: function %u passed the builder's check, "
                      "the validator says %s", path, i, err.msg);
        }
        validator_worker_free(w);
        ir_free(&f);
    }
    validator_end(check);
    if (read) module_free(&m);
    free(b);
}

Test(build_check, never_passes_what_the_validator_rejects_in_the_spec_testsuite) {
    const char *root = "../shared/spec/json";
    DIR *top = opendir(root);
    if (!top) {
        cr_log_warn("spec testsuite absent (%s): SKIPPED", root);
        return;
    }
    SpecTally t = {0};
    struct dirent *d;
    while ((d = readdir(top))) {
        if (d->d_name[0] == '.') continue;
        char dir[512];
        snprintf(dir, sizeof dir, "%s/%s", root, d->d_name);
        DIR *sub = opendir(dir);
        if (!sub) continue;
        struct dirent *e;
        while ((e = readdir(sub))) {
            size_t len = strlen(e->d_name);
            if (len < 5 || strcmp(e->d_name + len - 5, ".wasm")) continue;
            char path[1024];
            snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
            judge_module_file(path, &t);
        }
        closedir(sub);
    }
    closedir(top);
    cr_log_info("spec: %u modules, %u bodies, %u passed the builder's check; %u invalid, %u of them built",
                t.modules, t.bodies, t.checked, t.invalid_bodies, t.invalid_built);
    /* not vacuous: most bodies are covered, and invalid bodies did get built */
    cr_assert_gt(t.checked, t.bodies / 2, "%u of %u", t.checked, t.bodies);
    cr_assert_gt(t.invalid_built, 100, "%u", t.invalid_built);
}
