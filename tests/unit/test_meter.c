/* test_meter.c - the metering pass's plan (where fuel is charged, how much) on small
 * functions, the cost table and its digest. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include "../../ir/edit.h"
#include "../../ir/leb.h"
#include "../../passes/meter.h"

static Module m;
static IrFunc f;
static MeterCtx mc;
static MeterOptions opt;
static FuelPlan plan;
static Buf bytes;

/* A module with one function (param i32) and the given code (no locals, final end
 * included), and a function import when `import` (index 0). */
static void build(const uint8_t *code, size_t n, bool import) {
    memset(&bytes, 0, sizeof bytes);
    buf_bytes(&bytes, "\0asm\1\0\0\0", 8);
    buf_bytes(&bytes, "\x01\x05\x01\x60\x01\x7f\x00", 7); /* type 0: (param i32) */
    if (import) buf_bytes(&bytes, "\x02\x07\x01\x01m\x01" "f\x00\x00", 9);
    buf_bytes(&bytes, "\x03\x02\x01\x00", 4);
    buf_u8(&bytes, 0x0a);
    buf_u32(&bytes, (uint32_t)(n + 3 + (n + 1 >= 128)));
    buf_u8(&bytes, 1);
    buf_u32(&bytes, (uint32_t)(n + 1));
    buf_u8(&bytes, 0); /* no locals */
    buf_bytes(&bytes, code, n);
    WsError err;
    ReadOptions ro = {.decode_code = true};
    cr_assert(module_read(&m, bytes.data, bytes.len, "t.wasm", &ro, &err), "%s", err.msg);
    memset(&f, 0, sizeof f);
    cr_assert(ir_build(&f, &m, m.nfunc_imports, &err), "%s", err.msg);
    memset(&mc, 0, sizeof mc);
    mc.opt = &opt;
    mc.m = &m;
    mc.nfunc_imports = m.nfunc_imports;
    mc.fuel = true;
    meter_costs_default(mc.costs);
    meter_calls(&m, 1, &mc.calls);
    NodeId *order = ws_malloc((f.nnodes + 1) * sizeof(NodeId));
    uint32_t count = ir_preorder(&f, order);
    fuel_plan(&mc, &f, order, count, &plan);
    free(order);
}

static void setup(void) { memset(&opt, 0, sizeof opt); }

static void teardown(void) {
    fuel_plan_free(&plan);
    meter_calls_free(&mc.calls);
    ir_free(&f);
    module_free(&m);
    buf_free(&bytes);
}

TestSuite(meter, .init = setup, .fini = teardown);

Test(meter, block_continuation_joins_the_entry) {
    /* block  local.get 0  br_if 0  i32.const 1  drop  end  i32.const 2  drop  end */
    static const uint8_t code[] = {0x02, 0x40, 0x20, 0x00, 0x0d, 0x00, 0x41, 0x01, 0x1a, 0x0b, 0x41, 0x02, 0x1a, 0x0b};
    build(code, sizeof code, false);
    cr_assert_eq(plan.ncharges, 2);
    cr_assert_eq(plan.charges[0].amount, 3); /* local.get, br_if, and i32.const 2 after the block */
    cr_assert(plan.charges[0].flags & CP_ENTRY);
    cr_assert_eq(plan.charges[1].amount, 1); /* i32.const 1, only when not branching */
    cr_assert(plan.leaf);
}

Test(meter, equal_if_arms_are_paid_before_the_if) {
    /* local.get 0  if  i32.const 1 drop  else  i32.const 2 drop  end  end */
    static const uint8_t code[] = {0x20, 0x00, 0x04, 0x40, 0x41, 0x01, 0x1a, 0x05, 0x41, 0x02, 0x1a, 0x0b, 0x0b};
    build(code, sizeof code, false);
    cr_assert_eq(plan.ncharges, 1);
    cr_assert_eq(plan.charges[0].amount, 3); /* local.get, if, one arm */
}

Test(meter, unequal_if_arms_pay_the_difference) {
    /* local.get 0  if  i32.const 1 i32.const 1 i32.add drop  end  end */
    static const uint8_t code[] = {0x20, 0x00, 0x04, 0x40, 0x41, 0x01, 0x41, 0x01, 0x6a, 0x1a, 0x0b, 0x0b};
    build(code, sizeof code, false);
    cr_assert_eq(plan.ncharges, 2);
    cr_assert_eq(plan.charges[0].amount, 2); /* local.get, if; the empty else costs 0 */
    cr_assert_eq(plan.charges[1].amount, 3);
}

Test(meter, a_br_if_diamond_pays_its_cheaper_way_before_the_branch) {
    /* block  block  local.get 0  br_if 0  i32.const 1 drop  br 1  end
     *   i32.const 2  i32.const 3  i32.add  drop  end  end:
     * fall through costs 2 (i32.const, br), the branch target 3 (two consts, add);
     * each is entered only from the br_if, so 2 is paid with the entry */
    static const uint8_t code[] = {0x02, 0x40, 0x02, 0x40, 0x20, 0x00, 0x0d, 0x00, 0x41, 0x01, 0x1a, 0x0c, 0x01,
                                   0x0b, 0x41, 0x02, 0x41, 0x03, 0x6a, 0x1a, 0x0b, 0x0b};
    build(code, sizeof code, false);
    cr_assert_eq(plan.ncharges, 2);
    cr_assert_eq(plan.charges[0].amount, 4); /* local.get, br_if, and the cheaper way */
    cr_assert_eq(plan.charges[1].amount, 1); /* what the target costs more */
}

Test(meter, br_table_targets_entered_from_it_alone_share_their_cheapest) {
    /* block  block  local.get 0  br_table 0 1  end  i32.const 1 drop return  end
     *   i32.const 1  i32.const 1  i32.add  drop  end */
    static const uint8_t code[] = {0x02, 0x40, 0x02, 0x40, 0x20, 0x00, 0x0e, 0x01, 0x00, 0x01, 0x0b, 0x41, 0x01,
                                   0x1a, 0x0f, 0x0b, 0x41, 0x01, 0x41, 0x01, 0x6a, 0x1a, 0x0b};
    build(code, sizeof code, false);
    cr_assert_eq(plan.ncharges, 2);
    cr_assert_eq(plan.charges[0].amount, 3); /* local.get, br_table, and target 0's i32.const */
    cr_assert_eq(plan.charges[1].amount, 2); /* target 1 costs 3 */
}

Test(meter, loop_headers_are_check_points) {
    /* loop  local.get 0  br_if 0  end  end */
    static const uint8_t code[] = {0x03, 0x40, 0x20, 0x00, 0x0d, 0x00, 0x0b, 0x0b};
    opt.fuel_mode = FUEL_LAZY;
    build(code, sizeof code, false);
    cr_assert(!plan.leaf);
    bool header = false;
    for (uint32_t i = 0; i < plan.ncharges; i++)
        if (plan.charges[i].flags & CP_HEADER) {
            header = true;
            cr_assert_eq(plan.charges[i].amount, 2);
            cr_assert(plan.charges[i].flags & CP_CHECK);
        }
    cr_assert(header);
    cr_assert_eq(plan.longest_path, 2); /* one pass through the loop */
}

Test(meter, nothing_is_paid_before_a_call_for_after_it) {
    /* i32.const 0  call 0 (the import)  i32.const 1  drop  end */
    static const uint8_t code[] = {0x41, 0x00, 0x10, 0x00, 0x41, 0x01, 0x1a, 0x0b};
    build(code, sizeof code, true);
    cr_assert_eq(plan.ncharges, 2);
    cr_assert_eq(plan.charges[0].amount, 2);
    cr_assert_eq(plan.charges[1].amount, 1);
    cr_assert(plan.charges[1].flags & CP_AFTER_CALL);
    cr_assert(plan.charges[0].flags & CP_CHECK);
    cr_assert_eq(plan.nreached, 0); /* the entry's check covers the import call */
    cr_assert_eq(plan.most_calls, 1);
}

Test(meter, an_import_call_after_a_charge_gets_a_check_of_its_own) {
    /* local.get 0  br_if 0  i32.const 0  call 0 (the import)  end: the fall-through
     * of br_if is charged after the entry's check */
    static const uint8_t code[] = {0x20, 0x00, 0x0d, 0x00, 0x41, 0x00, 0x10, 0x00, 0x0b};
    build(code, sizeof code, true);
    cr_assert_eq(plan.nreached, 1);
}

Test(meter, a_call_that_cannot_throw_does_not_split_the_charge) {
    /* i32.const 0  call 0 (itself: no import, no throw)  i32.const 1  drop  end */
    static const uint8_t code[] = {0x41, 0x00, 0x10, 0x00, 0x41, 0x01, 0x1a, 0x0b};
    build(code, sizeof code, false);
    cr_assert(!mc.calls.may_throw[0]);
    cr_assert_eq(plan.ncharges, 1);
    cr_assert_eq(plan.charges[0].amount, 3);
}

Test(meter, a_throw_makes_its_callers_throw) {
    /* i32.const 0  call 0 (itself)  i32.const 1  drop  return  throw_ref  end: the scan
     * looks at every instruction, reachable or not, also those it steps over undecoded */
    static const uint8_t code[] = {0x41, 0x00, 0x10, 0x00, 0x41, 0x01, 0x1a, 0x0f, 0x0a, 0x0b};
    build(code, sizeof code, false);
    cr_assert(mc.calls.may_throw[0]);
    cr_assert_eq(plan.ncharges, 2);
}

Test(meter, dead_code_is_never_charged) {
    /* unreachable  i32.const 1  drop  end */
    static const uint8_t code[] = {0x00, 0x41, 0x01, 0x1a, 0x0b};
    build(code, sizeof code, false);
    for (uint32_t i = 0; i < plan.ncharges; i++) cr_assert_eq(plan.charges[i].amount, 0);
}

Test(meter, code_after_a_loop_that_cannot_return_is_paid_before_it) {
    /* i32.const 1  drop  loop  local.get 0  br_if 0  end  i32.const 2  drop  end */
    static const uint8_t code[] = {0x41, 0x01, 0x1a, 0x03, 0x40, 0x20, 0x00, 0x0d, 0x00, 0x0b, 0x41, 0x02, 0x1a, 0x0b};
    build(code, sizeof code, false);
    cr_assert_eq(plan.ncharges, 2); /* the entry and the loop header */
    for (uint32_t i = 0; i < plan.ncharges; i++) {
        cr_assert(plan.charges[i].flags & (CP_ENTRY | CP_HEADER));
        cr_assert_eq(plan.charges[i].amount, 2); /* entry: both i32.const; header: local.get, br_if */
    }
}

Test(meter, code_after_a_loop_that_may_return_is_paid_after_it) {
    /* loop  local.get 0  if  return  end  local.get 0  br_if 0  end  i32.const 2  drop  end */
    static const uint8_t code[] = {0x03, 0x40, 0x20, 0x00, 0x04, 0x40, 0x0f, 0x0b, 0x20, 0x00,
                                   0x0d, 0x00, 0x0b, 0x41, 0x02, 0x1a, 0x0b};
    build(code, sizeof code, false);
    uint32_t after = 0;
    for (uint32_t i = 0; i < plan.ncharges; i++) {
        if (plan.charges[i].flags & CP_ENTRY) cr_assert_eq(plan.charges[i].amount, 0);
        if (plan.charges[i].amount == 1) after++; /* i32.const 2, after the loop */
    }
    cr_assert_eq(after, 1);
}

Test(meter, a_trapping_arm_does_not_split_the_charge) {
    /* local.get 0  if  unreachable  end  i32.const 2  drop  end: runs that complete
     * always run the code after the if */
    static const uint8_t code[] = {0x20, 0x00, 0x04, 0x40, 0x00, 0x0b, 0x41, 0x02, 0x1a, 0x0b};
    build(code, sizeof code, false);
    cr_assert_eq(plan.ncharges, 1);
    cr_assert_eq(plan.charges[0].amount, 3); /* local.get, if, i32.const */
}

Test(meter, a_call_that_returns_checked_ends_the_function_checked) {
    /* local.get 0  if  local.get 0  call 0 (itself: it checks at its entry)  end  end:
     * the arm's charge is followed by the callee's check, so lazy mode needs none at
     * the exit; the same without the call does */
    static const uint8_t code[] = {0x20, 0x00, 0x04, 0x40, 0x20, 0x00, 0x10, 0x00, 0x0b, 0x0b};
    build(code, sizeof code, false);
    cr_assert(mc.calls.returns_checked[0]);
    cr_assert(plan.exit_checked);
}

Test(meter, a_charge_after_the_last_check_keeps_the_exit_check) {
    /* local.get 0  call 0 (itself)  local.get 0  if  i32.const 1  drop  end  end: the
     * arm is paid after the call returned, and nothing checks it before the exit */
    static const uint8_t code[] = {0x20, 0x00, 0x10, 0x00, 0x20, 0x00, 0x04, 0x40, 0x41, 0x01, 0x1a, 0x0b, 0x0b};
    build(code, sizeof code, false);
    cr_assert(!plan.exit_checked);
}

Test(meter, an_import_call_leaves_the_fuel_unchecked) {
    /* i32.const 0  call 0 (the import)  end: the host may have changed the fuel */
    static const uint8_t code[] = {0x41, 0x00, 0x10, 0x00, 0x0b};
    build(code, sizeof code, true);
    cr_assert(!mc.calls.returns_checked[0]);
    cr_assert(mc.calls.returns_checked[1]);
    cr_assert(!plan.exit_checked);
}

Test(meter, a_function_with_a_tail_call_does_not_return_checked) {
    /* local.get 0  if  local.get 0  return_call 0  end  end: its callee's return is
     * its own, and a callee may be a leaf */
    static const uint8_t code[] = {0x20, 0x00, 0x04, 0x40, 0x20, 0x00, 0x12, 0x00, 0x0b, 0x0b};
    build(code, sizeof code, false);
    cr_assert(!mc.calls.returns_checked[0]);
}

/* block  loop  local.get 0  br_if 1 (out of the loop)  i32.const 1  drop  br 0  end  end  end */
static const uint8_t loop_with_exit[] = {0x02, 0x40, 0x03, 0x40, 0x20, 0x00, 0x0d, 0x01, 0x41,
                                         0x01, 0x1a, 0x0c, 0x00, 0x0b, 0x0b, 0x0b};

/* The loop header's charge in the plan (amount and unseen), or fails. */
static Charge header_charge(void) {
    for (uint32_t i = 0; i < plan.ncharges; i++)
        if (plan.charges[i].flags & CP_HEADER) return plan.charges[i];
    cr_assert_fail("no header charge");
    return plan.charges[0];
}

Test(meter, lazy_mode_pays_past_a_cold_loop_exit_and_refunds_it) {
    opt.fuel_mode = FUEL_LAZY;
    build(loop_with_exit, sizeof loop_with_exit, false);
    Charge h = header_charge();
    cr_assert_eq(h.amount, 4); /* local.get, br_if; and i32.const, br after the exit */
    cr_assert_eq(h.unseen, 2); /* the check adds back what the exit refunds */
    cr_assert_eq(plan.nrefunds, 1);
    cr_assert_eq(plan.refunds[0].amount, 2);
    cr_assert_eq(ir_node(&f, plan.refunds[0].node)->in.op, OP_BR_IF);
    cr_assert_eq(plan.ncharges, 2); /* the entry's and the header's */
    cr_assert_eq(plan.longest_path, 4); /* as without the refund: one iteration */
}

Test(meter, no_refund_where_a_call_would_see_the_fuel_paid_ahead) {
    /* block  loop  local.get 0  call 0 (itself: it checks at its entry)  local.get 0
     * br_if 1  i32.const 1  drop  br 0  end  end  end: paying the code after the exit at
     * the header would show the callee less fuel than the run may need */
    static const uint8_t code[] = {0x02, 0x40, 0x03, 0x40, 0x20, 0x00, 0x10, 0x00, 0x20, 0x00, 0x0d,
                                   0x01, 0x41, 0x01, 0x1a, 0x0c, 0x00, 0x0b, 0x0b, 0x0b};
    opt.fuel_mode = FUEL_LAZY;
    build(code, sizeof code, false);
    Charge h = header_charge();
    cr_assert_eq(h.amount, 4); /* local.get, call, local.get, br_if: the call cannot throw */
    cr_assert_eq(h.unseen, 0);
    cr_assert_eq(plan.nrefunds, 0);
}

Test(meter, exact_mode_pays_after_a_loop_exit) {
    opt.fuel_mode = FUEL_EXACT;
    build(loop_with_exit, sizeof loop_with_exit, false);
    Charge h = header_charge();
    cr_assert_eq(h.amount, 2);
    cr_assert_eq(h.unseen, 0);
    cr_assert_eq(plan.nrefunds, 0);
}

Test(meter, exact_mode_has_no_exit_check_to_drop) {
    static const uint8_t code[] = {0x20, 0x00, 0x04, 0x40, 0x20, 0x00, 0x10, 0x00, 0x0b, 0x0b};
    opt.fuel_mode = FUEL_EXACT;
    build(code, sizeof code, false);
    cr_assert(!plan.exit_checked);
}

Test(meter, default_costs) {
    uint32_t c[OP_COUNT];
    meter_costs_default(c);
    cr_assert_eq(c[OP_NOP] + c[OP_DROP] + c[OP_BLOCK] + c[OP_LOOP] + c[OP_END] + c[OP_ELSE] + c[OP_UNREACHABLE] +
                     c[OP_RETURN], 0);
    cr_assert_eq(c[OP_I32_ADD], 1);
    cr_assert_eq(c[OP_CALL], 1);
    cr_assert_eq(c[OP_IF], 1);
    cr_assert_neq(meter_costs_digest(c, 1), meter_costs_digest(c, 2));
}

Test(meter, cost_files) {
    char path[] = "/tmp/meter-costs-XXXXXX";
    int fd = mkstemp(path);
    cr_assert(fd >= 0);
    FILE *out = fdopen(fd, "w");
    fputs("# a comment\ni32.add 7   # dear\n\nselect_t 3\n", out);
    fclose(out);
    uint32_t c[OP_COUNT], d[OP_COUNT];
    WsError err;
    cr_assert(meter_costs_load(path, c, &err), "%s", err.msg);
    cr_assert_eq(c[OP_I32_ADD], 7);
    cr_assert_eq(c[OP_SELECT_T], 3);
    cr_assert_eq(c[OP_NOP], 0);
    meter_costs_default(d);
    cr_assert_neq(meter_costs_digest(c, 1), meter_costs_digest(d, 1));
    out = fopen(path, "w");
    fputs("i32.add 1\ni32.frobnicate 2\n", out);
    fclose(out);
    cr_assert(!meter_costs_load(path, c, &err));
    cr_assert(strstr(err.msg, "line 2") && strstr(err.msg, "i32.frobnicate"), "%s", err.msg);
    remove(path);
}
