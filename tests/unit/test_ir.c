/* test_ir.c - function IR construction (def-use, locals, arms, effects), lowering back to
 * the same bytes, the verifier catching corrupted IR, and the editing API. */
#include <criterion/criterion.h>
#include "../../ir/edit.h"
#include "../../ir/funcmap.h"
#include "../../ir/leb.h"
#include "../../ir/validate.h"

/* (func (param i32) (result i32) (local i32)
 *   local.get 0  i32.const 1  i32.add  local.tee 1
 *   if (result i32) local.get 1 else i32.const 2 local.get 0 i32.div_s end)  */
static const uint8_t module_bytes[] = {
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    0x01, 0x06, 0x01, 0x60, 0x01, 0x7f, 0x01, 0x7f,
    0x03, 0x02, 0x01, 0x00,
    0x0a, 0x18, 0x01, 0x16, 0x01, 0x01, 0x7f,
    0x20, 0x00, 0x41, 0x01, 0x6a, 0x22, 0x01,
    0x04, 0x7f, 0x20, 0x01, 0x05, 0x41, 0x02, 0x20, 0x00, 0x6d, 0x0b,
    0x0b,
};

static Module m;
static IrFunc f;

static void setup(void) {
    WsError err;
    ReadOptions ro = {.decode_code = true};
    cr_assert(module_read(&m, module_bytes, sizeof module_bytes, "t.wasm", &ro, &err), "%s", err.msg);
    memset(&f, 0, sizeof f);
    cr_assert(ir_build(&f, &m, 0, &err), "%s", err.msg);
}

static void teardown(void) {
    ir_free(&f);
    module_free(&m);
}

/* The n-th node of the body sequence (1-based). */
static NodeId body_node(int n) {
    NodeId id = f.body.first;
    while (--n > 0 && id) id = ir_node(&f, id)->next;
    return id;
}

TestSuite(ir, .init = setup, .fini = teardown);

Test(ir, def_use_and_locals) {
    NodeId get0 = body_node(1), c1 = body_node(2), add = body_node(3), tee = body_node(4);
    cr_assert_eq(ir_node(&f, add)->in.op, OP_I32_ADD);
    cr_assert_eq(ir_node(&f, add)->nargs, 2);
    cr_assert_eq(ir_args(&f, ir_node(&f, add))[0].node, get0);
    cr_assert_eq(ir_args(&f, ir_node(&f, add))[1].node, c1);
    cr_assert_eq(ir_uses(&f, ir_node(&f, get0))[0].user, add);
    cr_assert_eq(ir_uses(&f, ir_node(&f, add))[0].user, tee);
    cr_assert_eq(f.nlocals, 2);
    cr_assert_eq(f.locals[0].ngets, 2); /* local.get 0 twice */
    cr_assert_eq(f.locals[1].nsets, 1);
    cr_assert_eq(f.locals[1].ngets, 1);
    cr_assert_eq(f.locals[1].first_set, tee);
}

Test(ir, arms_and_effects) {
    NodeId iff = body_node(5);
    const IrNode *n = ir_node(&f, iff);
    cr_assert_eq(n->in.op, OP_IF);
    cr_assert_eq(n->narms, 2);
    cr_assert_eq(n->nargs, 1); /* the condition: the tee */
    cr_assert_eq(ir_args(&f, n)[0].node, body_node(4));
    const IrArm *els = ir_arm(&f, n, 1);
    NodeId div = els->last;
    cr_assert_eq(ir_node(&f, div)->in.op, OP_I32_DIV_S);
    cr_assert_eq(ir_node(&f, div)->parent, iff);
    cr_assert_eq(ir_node(&f, div)->parent_arm, 1);
    cr_assert(ir_effects(&f, div) & FX_TRAP);
    cr_assert_not(ir_effects(&f, body_node(3)) & FX_TRAP);
    cr_assert(ir_uses(&f, ir_node(&f, div))[0].slot & IR_ARM_END); /* the arm's result */
}

Test(ir, lowers_to_the_same_bytes) {
    Buf out = {0};
    ir_lower(&f, &out);
    const Func *fn = &m.funcs[0];
    cr_assert_eq(out.len, fn->body.len);
    cr_assert_arr_eq(out.data, fn->body.p, out.len);
    buf_free(&out);
    char msg[256];
    cr_assert(ir_verify(&f, msg, sizeof msg), "%s", msg);
}

Test(ir, lowering_copies_only_untouched_input) {
    NodeId c1 = body_node(2);
    cr_assert(ir_node(&f, c1)->flags & IRN_SRC, "a canonical input instruction is copied");
    ir_node(&f, c1)->in.i = 100; /* i32.const 100: two bytes (e4 00) instead of one */
    ir_touch(&f, c1);
    cr_assert_not(ir_node(&f, c1)->flags & IRN_SRC);
    Buf out = {0};
    ir_lower(&f, &out);
    const Func *fn = &m.funcs[0];
    cr_assert_eq(out.len, fn->body.len + 1);
    /* locals (3 bytes), local.get 0, then the new constant, then the rest unchanged */
    const uint8_t want[] = {0x41, 0xe4, 0x00, 0x6a, 0x22, 0x01};
    cr_assert_arr_eq(out.data + 5, want, sizeof want);
    cr_assert_arr_eq(out.data + 11, fn->body.p + 10, fn->body.len - 10);
    buf_free(&out);
}

Test(ir, block_result_types_survive_later_instructions) {
    NodeId iff = body_node(5);
    cr_assert_eq(ir_node(&f, iff)->nres, 1);
    cr_assert_eq(ir_node(&f, iff)->type.code, VT_I32); /* from the block type, not a stale copy */
}

Test(ir, verifier_catches_corruption) {
    char msg[256];
    NodeId add = body_node(3);
    ir_args(&f, ir_node(&f, add))[0].node = body_node(4); /* operand defined after its user */
    cr_assert_not(ir_verify(&f, msg, sizeof msg));
    cr_assert(strstr(msg, "not produced earlier") || strstr(msg, "does not take"), "%s", msg);
}

Test(ir, verifier_catches_bad_links_and_chains) {
    char msg[256];
    ir_node(&f, body_node(2))->prev = 0;
    cr_assert_not(ir_verify(&f, msg, sizeof msg));
    cr_assert(strstr(msg, "prev"), "%s", msg);
    ir_node(&f, body_node(2))->prev = body_node(1);
    cr_assert(ir_verify(&f, msg, sizeof msg), "%s", msg);
    f.locals[0].ngets = 7;
    cr_assert_not(ir_verify(&f, msg, sizeof msg));
    cr_assert(strstr(msg, "local 0"), "%s", msg);
}

Test(ir, verifier_catches_operand_types) {
    char msg[256];
    ir_node(&f, body_node(2))->type = vt_num(VT_I64); /* i32.add now gets an i64 */
    cr_assert_not(ir_verify(&f, msg, sizeof msg));
    cr_assert(strstr(msg, "type"), "%s", msg);
}

Test(ir, edit_keeps_consistency) {
    /* replace `i32.const 1` by `i32.const 5` through the editing API */
    NodeId c1 = body_node(2), add = body_node(3);
    Instr in = ir_instr(OP_I32_CONST);
    in.i = 5;
    ValType t = vt_num(VT_I32);
    NodeId c5 = ir_new_node(&f, &in, 1, &t);
    ir_insert_after(&f, 0, 0, c1, c5);
    ValueRef args[2] = {ir_args(&f, ir_node(&f, add))[0], {c5, 0}};
    ir_set_args(&f, add, args, 2);
    ir_unlink(&f, c1);
    char msg[256];
    cr_assert(ir_verify(&f, msg, sizeof msg), "%s", msg);
    Buf out = {0};
    ir_lower(&f, &out);
    cr_assert_eq(out.data[6], 0x05); /* locals (3 bytes), local.get 0 (2), i32.const 5 */
    buf_free(&out);
    /* removing a local.get keeps the chain right */
    NodeId get0 = body_node(1);
    ir_set_args(&f, add, (ValueRef[]){IR_POLY, {c5, 0}}, 2);
    ir_unlink(&f, get0);
    cr_assert_eq(f.locals[0].ngets, 1);
}

Test(ir, unlink_batch_filters_each_chain_once) {
    /* append `local.get 0 drop` three times, then take out the first and the last pair */
    NodeId gets[3], drops[3], after = f.body.last;
    for (int i = 0; i < 3; i++) {
        Instr in = ir_instr(OP_LOCAL_GET);
        ValType t = vt_num(VT_I32);
        gets[i] = ir_new_node(&f, &in, 1, &t);
        ir_insert_after(&f, 0, 0, after, gets[i]);
        Instr d = ir_instr(OP_DROP);
        drops[i] = ir_new_node(&f, &d, 0, NULL);
        ir_insert_after(&f, 0, 0, gets[i], drops[i]);
        ir_set_args(&f, drops[i], (ValueRef[]){{gets[i], 0}}, 1);
        after = drops[i];
    }
    cr_assert_eq(f.locals[0].ngets, 5);
    NodeId gone[] = {drops[0], gets[0], drops[2], gets[2]};
    ir_unlink_batch(&f, gone, 4);
    cr_assert_eq(f.locals[0].ngets, 3);
    uint32_t seen = 0;
    for (NodeId g = f.locals[0].first_get; g; g = ir_node(&f, g)->local_next) {
        cr_assert(g != gets[0] && g != gets[2]);
        seen++;
    }
    cr_assert_eq(seen, 3);
    cr_assert_eq(f.body.last, drops[1]);
    cr_assert_eq(ir_node(&f, gets[0])->next, 0);
    char msg[256];
    cr_assert(ir_verify(&f, msg, sizeof msg), "%s", msg);
}

/* ---- the builder's quick paths build what its general path builds ---- */

static bool same_instr(const Instr *a, const Instr *b) {
    return a->op == b->op && a->lane == b->lane && a->flags == b->flags && a->off == b->off && a->len == b->len &&
           a->a == b->a && a->mem == b->mem && a->n == b->n && a->heap == b->heap && a->heap2 == b->heap2 &&
           a->b == b->b && a->bt.kind == b->bt.kind && a->bt.type == b->bt.type &&
           a->bt.val.code == b->bt.val.code && a->bt.val.heap == b->bt.val.heap && a->vec == b->vec;
}

/* Contract: asserts that q (quick paths) and g (general path) are the same IR: every
 * node field, operand, use, arm and local chain. */
static void assert_same_ir(const IrFunc *q, const IrFunc *g, const char *what, uint32_t fn) {
    cr_assert(q->nnodes == g->nnodes && q->nrefs == g->nrefs && q->nuses == g->nuses && q->narms == g->narms &&
                  q->nlocals == g->nlocals && q->body.first == g->body.first && q->body.last == g->body.last,
              "%s function %u: sizes differ", what, fn);
    for (uint32_t i = 1; i < q->nnodes; i++) {
        const IrNode *a = &q->nodes[i], *b = &g->nodes[i];
        cr_assert(same_instr(&a->in, &b->in) && a->next == b->next && a->prev == b->prev && a->parent == b->parent &&
                      a->parent_arm == b->parent_arm && a->flags == b->flags && a->args == b->args &&
                      a->uses == b->uses && a->nargs == b->nargs && a->nres == b->nres && a->arms == b->arms &&
                      a->narms == b->narms && a->type.code == b->type.code &&
                      a->type.heap == b->type.heap && a->local_next == b->local_next,
                  "%s function %u: node %u (%s) differs", what, fn, i, op_info[a->in.op].name);
    }
    for (uint32_t i = 0; i < q->nrefs; i++)
        cr_assert(q->refs[i].node == g->refs[i].node && q->refs[i].idx == g->refs[i].idx, "%s %u: ref %u", what, fn, i);
    for (uint32_t i = 0; i < q->nuses; i++)
        cr_assert(q->uses[i].user == g->uses[i].user && q->uses[i].slot == g->uses[i].slot, "%s %u: use %u", what, fn, i);
    for (uint32_t i = 1; i < q->narms; i++)
        cr_assert(q->arms[i].first == g->arms[i].first && q->arms[i].last == g->arms[i].last &&
                      q->arms[i].next == g->arms[i].next && q->arms[i].nparams == g->arms[i].nparams,
                  "%s %u: arm %u", what, fn, i);
    for (uint32_t i = 0; i < q->nlocals; i++)
        cr_assert(q->locals[i].first_get == g->locals[i].first_get && q->locals[i].first_set == g->locals[i].first_set &&
                      q->locals[i].ngets == g->locals[i].ngets && q->locals[i].nsets == g->locals[i].nsets,
                  "%s %u: local %u", what, fn, i);
}

/* Contract: builds every defined function of the module in `path` both ways and
 * compares; returns the number of functions compared (0: no such file). */
static uint32_t compare_builds(const char *path) {
    FILE *fp = fopen(path, "rb");
    if (!fp) return 0;
    static uint8_t bytes[1 << 22];
    size_t n = fread(bytes, 1, sizeof bytes, fp);
    fclose(fp);
    Module mod;
    WsError err;
    ReadOptions ro = {.decode_code = true};
    if (!module_read(&mod, bytes, n, path, &ro, &err)) return 0;
    IrFunc q, g;
    memset(&q, 0, sizeof q);
    memset(&g, 0, sizeof g);
    uint32_t compared = 0;
    for (uint32_t i = mod.nfunc_imports; i < mod.nfuncs; i++) {
        ir_build_quick = true;
        bool ok_q = ir_build(&q, &mod, i, &err);
        ir_build_quick = false;
        bool ok_g = ir_build(&g, &mod, i, &err);
        ir_build_quick = true;
        cr_assert_eq(ok_q, ok_g, "%s function %u: built one way only", path, i);
        if (!ok_q) continue;
        assert_same_ir(&q, &g, path, i);
        compared++;
    }
    ir_free(&q);
    ir_free(&g);
    module_free(&mod);
    return compared;
}

/* The demo module (wasi-libc: loops, calls, memory, br_table, select) and, when the spec
 * testsuite is present, modules with multi-value blocks, unreachable code, exceptions,
 * GC and SIMD. */
Test(ir_quick, same_ir_as_the_general_path) {
    cr_assert_eq(compare_builds("fixtures/demo/hello.wasm"), 49); /* all its defined functions */
    static const char *spec[] = {
        "../shared/spec/json/unreached-valid/unreached-valid.0.wasm", "../shared/spec/json/block/block.0.wasm",
        "../shared/spec/json/br_if/br_if.0.wasm", "../shared/spec/json/select/select.0.wasm",
        "../shared/spec/json/local_tee/local_tee.0.wasm", "../shared/spec/json/call/call.0.wasm",
        "../shared/spec/json/return/return.0.wasm", "../shared/spec/json/br_table/br_table.0.wasm",
        "../shared/spec/json/unreachable/unreachable.0.wasm", "../shared/spec/json/try_table/try_table.0.wasm",
        "../shared/spec/json/br_on_cast/br_on_cast.0.wasm", "../shared/spec/json/simd_lane/simd_lane.0.wasm",
    };
    uint32_t total = 0;
    for (size_t i = 0; i < WS_ARRAY_LEN(spec); i++) total += compare_builds(spec[i]);
    if (total == 0) cr_log_warn("spec testsuite absent: only the demo module compared");
}

/* ---- funcmap: a round trip that only checks keeps the input's bytes ---- */

/* (func  i32.const 0 (as a padded 5-byte LEB)  drop) */
static const uint8_t padded_bytes[] = {
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    0x01, 0x04, 0x01, 0x60, 0x00, 0x00,
    0x03, 0x02, 0x01, 0x00,
    0x0a, 0x0b, 0x01, 0x09, 0x00, 0x41, 0x80, 0x80, 0x80, 0x80, 0x00, 0x1a, 0x0b,
};

static void read_padded(Module *pm) {
    WsError err;
    ReadOptions ro = {.decode_code = true};
    cr_assert(module_read(pm, padded_bytes, sizeof padded_bytes, "p.wasm", &ro, &err), "%s", err.msg);
}

Test(funcmap, check_keeps_input_bytes_rewrite_canonicalises) {
    Module pm;
    WsError err;
    read_padded(&pm);
    const uint8_t *before = pm.funcs[0].body.p;
    cr_assert(module_check_functions(&pm, 2, NULL, &err), "%s", err.msg);
    cr_assert_eq(pm.funcs[0].body.p, before);
    cr_assert_eq(pm.funcs[0].body.len, 9);
    cr_assert(!pm.code_changed && !pm.funcs[0].changed);
    cr_assert(module_rewrite_functions(&pm, 2, NULL, NULL, &err), "%s", err.msg);
    cr_assert_eq(pm.funcs[0].body.len, 5); /* locals, i32.const 0 in one byte, drop, end */
    cr_assert(pm.code_changed && pm.funcs[0].changed);
    module_free(&pm);
}

/* A transform that changes nothing (so the lowered body is the canonical one). */
static bool touch_nothing(IrFunc *func, void *ctx, WsError *err) {
    (void)func; (void)ctx; (void)err;
    return true;
}

/* A checked round trip without transform (-O0) keeps the validation mark of a body it
 * re-encodes only canonically; with a transform, or unchecked, the body is validated
 * again on output (the mark goes). */
Test(funcmap, checked_round_trip_keeps_the_mark_of_a_canonicalised_body) {
    Module pm;
    WsError err;
    read_padded(&pm);
    Validator *v = validator_begin(&pm, &err);
    cr_assert(v, "%s", err.msg);
    cr_assert(module_rewrite_functions_checked(&pm, 2, v, NULL, NULL, &err), "%s", err.msg);
    validator_end(v);
    cr_assert_eq(pm.funcs[0].body.len, 5);
    cr_assert(pm.code_changed && pm.funcs[0].valid);
    module_free(&pm);
    read_padded(&pm);
    v = validator_begin(&pm, &err);
    cr_assert(v, "%s", err.msg);
    cr_assert(module_rewrite_functions_checked(&pm, 2, v, touch_nothing, NULL, &err), "%s", err.msg);
    validator_end(v);
    cr_assert_eq(pm.funcs[0].body.len, 5);
    cr_assert(!pm.funcs[0].valid);
    module_free(&pm);
}
