/* meter_fuel.c - lowering the fuel plan into code: charges, checks, dynamic charges of
 * bulk operations, and the fuel cached in a local inside loops.
 *
 *   lazy charge:        global.get $fuel  i64.const 7  i64.sub  global.set $fuel
 *   lazy check point:   global.get $fuel  i64.const 7  i64.sub  global.set $fuel
 *                       global.get $fuel  i64.clz  i64.eqz  if unreachable end
 *   in a cached loop:   local.get $f  i64.const 7  i64.sub  local.tee $f
 *                       i64.clz  i64.eqz  br_if $out_of_fuel
 *   (exact mode checks every charge that way: no class starts unless it was paid)
 *   right after a call there (the fuel read back from the global at once):
 *                       call $g  global.get $fuel  i64.const 7  i64.sub  local.set $f
 *   lazy, a loop exit whose continuation the header paid (R units; the header's
 *   check adds R back before its test):
 *                       if  local.get $f  i64.const R  i64.add  local.set $f  br L+1  end
 *                       (in place of br_if L)
 *
 * Inside a loop without exception handlers (and its nested loops) the fuel lives in
 * the local $f: read from the global before the loop, written back at the loop header
 * (so a trap never leaves more than one iteration unbilled), before every call, branch
 * out of the loop, return or throw, and after the loop; re-read after every call (a
 * write-back where the global already holds $f, such as a call right after the header,
 * is dropped once everything is emitted: fuel_drop_synced_flushes).  The
 * $out_of_fuel block (meter_frame.c) ends in `local.get $f  global.set $fuel
 * unreachable`, so $f holds the fuel at every branch to it.  With --fuel-import the
 * checks call the refill helper instead of branching.  A function with loops and no
 * handlers keeps it in $f throughout (read at the entry, written back at the exit)
 * when that takes no more bytes than in its loops only (FuelPlan.whole_less_loops:
 * then every call outside loops costs a write-back and a reload, and every check
 * there 4 bytes less). */
#include "meter.h"
#include <stdlib.h>

bool meter_pos_cached(const MeterFn *mf, NodeId parent) { return parent && mf->cached[parent]; }

MeterPos meter_map_pos(const MeterFn *mf, MeterPos p) {
    if (p.parent == 0 && mf->body) {
        p.parent = mf->body;
        p.arm = 0;
    }
    return p;
}

/* Index in f->arms of arm `arm` of parent (0 stands for the function body). */
static uint32_t arm_index(const IrFunc *f, NodeId parent, uint32_t arm) {
    return parent ? (uint32_t)(ir_arm(f, ir_node(f, parent), arm) - f->arms) : 0;
}

void meter_em_at(MeterFn *mf, Emit *e, MeterPos p) {
    NodeId after = p.after;
    if (after && after < mf->nnodes_cursor && mf->cur_after[after]) after = mf->cur_after[after];
    if (!p.after) {
        uint32_t a = arm_index(mf->f, p.parent, p.arm);
        after = a < mf->narms_cursor ? mf->cur_arm[a] : 0;
    }
    em_at(e, mf->f, (MeterPos){p.parent, p.arm, after});
}

void meter_em_done(MeterFn *mf, const Emit *e, MeterPos p) {
    if (p.after) {
        if (p.after < mf->nnodes_cursor) mf->cur_after[p.after] = e->after;
        return;
    }
    uint32_t a = arm_index(mf->f, p.parent, p.arm);
    if (a < mf->narms_cursor) mf->cur_arm[a] = e->after;
}

static void load_fuel(MeterFn *mf, Emit *e, bool cached) {
    if (cached && !mf->reload_here) em_local(e, OP_LOCAL_GET, mf->fuel_local);
    else em_global(e, OP_GLOBAL_GET, mf->mc->fuel_global);
}

void fuel_emit_flush(MeterFn *mf, Emit *e) {
    em_local(e, OP_LOCAL_GET, mf->fuel_local);
    em_global(e, OP_GLOBAL_SET, mf->mc->fuel_global);
}

static void reload(MeterFn *mf, Emit *e) {
    em_global(e, OP_GLOBAL_GET, mf->mc->fuel_global);
    em_local(e, OP_LOCAL_SET, mf->fuel_local);
}

/* The amount of a charge: a constant, or the dyn local for dynamic charges. */
static void push_amount(MeterFn *mf, Emit *e, uint64_t c, bool dyn) {
    if (dyn) em_local(e, OP_LOCAL_GET, mf->dyn_local);
    else em_i64(e, (int64_t)c);
}

/* Contract: `if unreachable end` on the condition on the stack. */
void fuel_emit_trap_if(Emit *e) {
    Emit then;
    BlockType bt = {BT_EMPTY, {0, 0}, 0};
    em_if(e, bt, 0, vt_num(0), &then, NULL);
    NodeId u = em_op(&then, ir_instr(OP_UNREACHABLE), 0, 0, vt_num(0));
    ir_node(e->f, u)->flags |= IRN_UNREACHABLE_AFTER;
}

/* Contract: the out-of-fuel path taken when the fuel on the stack is negative (tested
 * as clz(fuel) == 0, two bytes shorter than fuel < 0): a branch to the $out_of_fuel
 * block where $f holds the fuel (cached), a trap in line where the global does, or
 * (--fuel-import) a call to the refill helper (which asks the host for the deficit),
 * $f written back before and re-read after. */
static void out_of_fuel(MeterFn *mf, Emit *e, bool cached) {
    em_simple(e, OP_I64_CLZ);
    em_simple(e, OP_I64_EQZ);
    if (!mf->mc->refill) {
        if (cached) em_br_if(e, meter_depth(mf->f, e->parent, mf->oof));
        else fuel_emit_trap_if(e);
        return;
    }
    Emit then;
    BlockType bt = {BT_EMPTY, {0, 0}, 0};
    em_if(e, bt, 0, vt_num(0), &then, NULL);
    if (cached) fuel_emit_flush(mf, &then);
    em_call(&then, mf->mc->refill_func, 0, 0, vt_num(0));
    if (cached) reload(mf, &then);
}

/* Contract: fuel -= c (op I64_SUB), or fuel += c (I64_ADD), with no check. */
static void pay_plain(MeterFn *mf, Emit *e, uint64_t c, bool cached, OpId op) {
    load_fuel(mf, e, cached);
    em_i64(e, (int64_t)c);
    em_simple(e, op);
    if (cached) em_local(e, OP_LOCAL_SET, mf->fuel_local);
    else em_global(e, OP_GLOBAL_SET, mf->mc->fuel_global);
}

/* Contract: fuel -= c (the dyn local when dyn), then out of fuel when negative, once
 * `unseen` (what a refund may give back of c) is added back for the test.  Cached: $f
 * holds the fuel, and so does the global with write-through (wt), less unseen: the
 * fuel as a trap in the loop should leave it, as if no refund were pending; else the
 * global is charged and read again for the test. */
static void pay_checked(MeterFn *mf, Emit *e, uint64_t c, bool dyn, bool cached, bool wt, uint64_t unseen) {
    uint32_t fl = mf->fuel_local;
    bool sub = dyn || c;
    load_fuel(mf, e, cached);
    if (sub) {
        push_amount(mf, e, c, dyn);
        em_simple(e, OP_I64_SUB);
        if (!cached) {
            em_global(e, OP_GLOBAL_SET, mf->mc->fuel_global);
            em_global(e, OP_GLOBAL_GET, mf->mc->fuel_global);
        } else {
            em_local(e, OP_LOCAL_TEE, fl);
        }
    }
    if (cached && wt && unseen) { /* the global gets the fuel as if unseen were not paid yet */
        em_i64(e, (int64_t)unseen);
        em_simple(e, OP_I64_ADD);
        em_global(e, OP_GLOBAL_SET, mf->mc->fuel_global);
        em_global(e, OP_GLOBAL_GET, mf->mc->fuel_global);
        unseen = 0;
    } else if (cached && wt) {
        em_global(e, OP_GLOBAL_SET, mf->mc->fuel_global);
        em_local(e, OP_LOCAL_GET, fl);
    }
    if (unseen) {
        em_i64(e, (int64_t)unseen);
        em_simple(e, OP_I64_ADD);
    }
    out_of_fuel(mf, e, cached);
}

/* Contract: one charge of the plan at its position (an implicit else arm is made
 * first when the charge falls there). */
static void emit_charge(MeterFn *mf, const Charge *c) {
    IrFunc *f = mf->f;
    if (c->flags & CP_ELSE) {
        NodeId node = c->pos.parent;
        uint32_t a = em_add_arm(f, node, OP_ELSE);
        const IrArm *first = ir_arm(f, ir_node(f, node), 0);
        f->arms[a].nparams = first->nparams;
        f->arms[a].param_types = first->param_types;
    }
    MeterPos p = meter_map_pos(mf, c->pos);
    bool cached = meter_pos_cached(mf, p.parent);
    bool wt = cached && (c->flags & CP_HEADER);
    Emit e;
    meter_em_at(mf, &e, p);
    mf->reload_here = cached && c->pos.after && mf->charged_after[c->pos.after];
    if (mf->mc->opt->fuel_mode == FUEL_EXACT || (c->flags & CP_CHECK))
        pay_checked(mf, &e, c->amount, false, cached, wt, c->unseen);
    else pay_plain(mf, &e, c->amount, cached, OP_I64_SUB);
    mf->reload_here = false;
    meter_em_done(mf, &e, p);
}

/* ---- calls and bulk operations ---- */

/* Contract: lazy mode: the fuel is not negative when a call may reach the host. */
static void emit_call_check(MeterFn *mf, NodeId id) {
    if (mf->mc->opt->fuel_mode == FUEL_EXACT) return;
    bool cached = meter_pos_cached(mf, ir_node(mf->f, id)->parent);
    Emit e;
    em_before(&e, mf->f, id);
    load_fuel(mf, &e, cached);
    out_of_fuel(mf, &e, cached);
}

static bool mem_is_64(const Module *m, uint64_t i) { return i < m->nmems && (m->mems[i].limits.flags & LIM_64); }
static bool table_is_64(const Module *m, uint64_t i) {
    return i < m->ntables && (m->tables[i].limits.flags & LIM_64);
}

/* The type of the length (or delta) operand of a bulk operation (i32 for an index out
 * of range: only an unvalidated module has one). */
static ValType bulk_len_type(const Module *m, const Instr *in) {
    bool a64, b64;
    switch (in->op) {
    case OP_MEMORY_FILL: case OP_MEMORY_GROW: return ir_sig_type(m, 'a', in);
    case OP_TABLE_FILL: case OP_TABLE_GROW: return ir_sig_type(m, 't', in);
    case OP_MEMORY_COPY:
        a64 = mem_is_64(m, in->a);
        b64 = mem_is_64(m, in->b);
        return vt_num(a64 && b64 ? VT_I64 : VT_I32);
    case OP_TABLE_COPY:
        a64 = table_is_64(m, in->a);
        b64 = table_is_64(m, in->b);
        return vt_num(a64 && b64 ? VT_I64 : VT_I32);
    default: /* memory.init, table.init */
        return vt_num(VT_I32);
    }
}

/* Contract: puts `local.tee l` between node id and its last operand (the top of the
 * stack just before it). */
static void tee_last_operand(IrFunc *f, NodeId id, uint32_t l) {
    IrNode *n = ir_node(f, id);
    uint32_t k = n->nargs - 1;
    ValueRef *args = ws_malloc(n->nargs * sizeof(ValueRef));
    memcpy(args, ir_args(f, n), n->nargs * sizeof(ValueRef));
    ValueRef old = args[k];
    Instr in = ir_instr(OP_LOCAL_TEE);
    in.a = l;
    NodeId tee = ir_new_node(f, &in, 1, &f->locals[l].type);
    args[k] = (ValueRef){tee, 0};
    ir_set_args(f, id, args, ir_node(f, id)->nargs);
    ir_set_args(f, tee, &old, 1);
    ir_insert_before(f, id, tee);
    free(args);
}

/* Contract: the dynamic charge of bulk operation id, paid before it as in exact mode:
 * per_byte * min(n, 2^62 / per_byte), n its length (or grow delta) as unsigned. */
static void emit_dyn_charge(MeterFn *mf, NodeId id) {
    IrFunc *f = mf->f;
    uint64_t k = mf->mc->per_byte;
    ValType t = bulk_len_type(f->m, &ir_node(f, id)->in);
    bool wide = t.code == VT_I64;
    uint32_t nl = wide ? mf->n64_local : mf->n32_local;
    tee_last_operand(f, id, nl);
    uint64_t cap = (1ull << 62) / k;
    Emit e;
    em_before(&e, f, id);
    em_local(&e, OP_LOCAL_GET, nl);
    if (!wide) em_simple(&e, OP_I64_EXTEND_I32_U);
    if (wide || cap < 0xffffffffull) { /* min(n, cap) */
        em_i64(&e, (int64_t)cap);
        em_local(&e, OP_LOCAL_GET, nl);
        if (!wide) em_simple(&e, OP_I64_EXTEND_I32_U);
        em_i64(&e, (int64_t)cap);
        em_simple(&e, OP_I64_LT_U);
        em_op(&e, ir_instr(OP_SELECT), 3, 1, vt_num(VT_I64));
    }
    if (k != 1) {
        em_i64(&e, (int64_t)k);
        em_simple(&e, OP_I64_MUL);
    }
    em_local(&e, OP_LOCAL_SET, mf->dyn_local);
    pay_checked(mf, &e, 0, true, meter_pos_cached(mf, ir_node(f, id)->parent), false, 0);
}

/* ---- loops that keep the fuel in $f ---- */

/* True when the fuel lives in $f in the whole function: it has loops, no try or
 * try_table, and that takes no more bytes than keeping it there in its loops only
 * (with calls outside loops, it is written back and read again around each). */
static bool whole_cached(const FuelPlan *plan) {
    return plan->has_loops && !plan->has_try && plan->whole_less_loops <= 0;
}

/* Contract: per node of the preorder, 1 when a try or try_table is in it or is it;
 * the caller frees the array. */
static uint8_t *uncacheable(const MeterFn *mf, const NodeId *order, uint32_t count) {
    const IrFunc *f = mf->f;
    uint8_t *un = ws_calloc(f->nnodes + 1, 1);
    for (uint32_t i = 0; i < count; i++) {
        OpId op = ir_node(f, order[i])->in.op;
        if (op != OP_TRY && op != OP_TRY_TABLE) continue;
        for (NodeId a = order[i]; a && !un[a]; a = ir_node(f, a)->parent) un[a] = 1;
    }
    return un;
}

/* Contract: marks the structured nodes inside (or being) a loop whose fuel is cached:
 * all of them when the whole function is cached, else every loop without a try or
 * try_table inside, and what it contains.  (Caching also loops with calls, which
 * write $f back before each call and read it after, costs 8 bytes per call but halves
 * the global accesses: node runs recursive fib with a loop 1.2-1.3x plain with it,
 * 2.3-2.9x without, where exported mutable globals are reached through a pointer.) */
static void mark_cached(MeterFn *mf, const FuelPlan *plan, const NodeId *order, uint32_t count) {
    IrFunc *f = mf->f;
    if (mf->whole_cached) {
        for (uint32_t i = 0; i < count; i++) mf->cached[order[i]] = ir_is_structured(ir_node(f, order[i])->in.op);
        return;
    }
    if (!plan->has_loops) return; /* nothing is cached (mf->cached starts zeroed) */
    uint8_t *un = plan->has_try ? uncacheable(mf, order, count) : NULL;
    for (uint32_t i = 0; i < count; i++) {
        const IrNode *n = ir_node(f, order[i]);
        if (!ir_is_structured(n->in.op)) continue;
        bool inside = n->parent && mf->cached[n->parent];
        mf->cached[order[i]] = inside || (n->in.op == OP_LOOP && !(un && un[order[i]]));
    }
    free(un);
}

bool fuel_caches(MeterFn *mf, const FuelPlan *plan) {
    mf->whole_cached = whole_cached(plan);
    if (mf->whole_cached || !plan->has_loops) return mf->whole_cached;
    if (!plan->has_try) return true; /* every loop is cached */
    const NodeId *order = mf->order0;
    uint32_t count = mf->order0_count;
    uint8_t *un = uncacheable(mf, order, count);
    bool any = false;
    for (uint32_t i = 0; i < count && !any; i++) any = ir_node(mf->f, order[i])->in.op == OP_LOOP && !un[order[i]];
    free(un);
    return any;
}

/* True when a label of branch node n leaves the cached loop it is in. */
static bool leaves_cached(const MeterFn *mf, const IrNode *n) {
    const uint8_t *v = n->in.vec;
    for (uint32_t i = 0, count = meter_label_count(n); i < count; i++) {
        NodeId t = meter_label_target(mf->f, n->parent, meter_label_next(n, &v, i));
        if (!t || !mf->cached[t]) return true;
    }
    return false;
}

/* Contract: what one node of a cached loop needs: write $f back before it leaves the
 * loop or calls, re-read it after a call. */
static void cached_node(MeterFn *mf, NodeId id) {
    IrFunc *f = mf->f;
    if (id >= mf->orig_nnodes) return; /* the wrapper's own return: the exit writes back */
    const IrNode *n = ir_node(f, id);
    OpId op = n->in.op;
    bool leaves = ((meter_op_kind[op] & MK_EXIT) && op != OP_UNREACHABLE) || /* return, tail call, throw */
                  meter_is_call(op) || (meter_is_branch(op) && leaves_cached(mf, n));
    if (!leaves) return;
    MeterPos after = {n->parent, n->parent_arm, id};
    Emit e;
    em_before(&e, f, id);
    fuel_emit_flush(mf, &e);
    if (!meter_is_call(op) || mf->charged_after[id]) return; /* the charge there reloads */
    meter_em_at(mf, &e, after);
    reload(mf, &e);
    meter_em_done(mf, &e, after);
}

/* Contract: $f is read before each outermost cached loop and written after it, and
 * kept in step around the loops' calls and exits. */
static void emit_cached_loops(MeterFn *mf, const NodeId *order, uint32_t count) {
    IrFunc *f = mf->f;
    for (uint32_t i = 0; i < count; i++) {
        NodeId id = order[i];
        const IrNode *n = ir_node(f, id);
        if (n->parent && mf->cached[n->parent]) {
            cached_node(mf, id);
            continue;
        }
        if (!mf->cached[id]) continue; /* an outermost cached loop, or the wrapper */
        MeterPos after = {n->parent, n->parent_arm, id};
        Emit e;
        em_before(&e, f, id);
        reload(mf, &e);
        if (id == mf->oof || id == mf->body) continue; /* the exit writes back */
        meter_em_at(mf, &e, after);
        fuel_emit_flush(mf, &e);
        meter_em_done(mf, &e, after);
    }
}

/* Contract: the refund of a cold loop exit (the plan's): fuel += amount before the
 * node (a br or return), with $f written back when the node leaves where it is cached;
 * a br_if becomes `if  [refund]  br L+1  end` on its condition (its label carries no
 * value), so that only the exit pays it back. */
static void emit_refund(MeterFn *mf, const Refund *r) {
    IrFunc *f = mf->f;
    const IrNode *n = ir_node(f, r->node);
    OpId op = n->in.op;
    uint32_t label = n->in.a;
    bool cached = meter_pos_cached(mf, n->parent);
    bool flush = cached && (op == OP_RETURN || leaves_cached(mf, n));
    Emit e;
    em_before(&e, f, r->node);
    if (op != OP_BR_IF) {
        pay_plain(mf, &e, r->amount, cached, OP_I64_ADD);
        if (flush) fuel_emit_flush(mf, &e);
        return;
    }
    ValueRef cond = ir_args(f, n)[0];
    ir_set_args(f, r->node, NULL, 0);
    em_push(&e, cond);
    Emit then;
    BlockType bt = {BT_EMPTY, {0, 0}, 0};
    em_if(&e, bt, 0, vt_num(0), &then, NULL);
    pay_plain(mf, &then, r->amount, cached, OP_I64_ADD);
    if (flush) fuel_emit_flush(mf, &then);
    Instr br = ir_instr(OP_BR);
    br.a = label + 1;
    NodeId b = em_op(&then, br, 0, 0, vt_num(0));
    ir_node(f, b)->flags |= IRN_UNREACHABLE_AFTER;
    ir_unlink(f, r->node);
}

/* Contract: marks the calls a charge that pays something comes right after: in a
 * cached loop that charge reads the fuel from the global itself, `call $g  global.get
 * $fuel  i64.const N  i64.sub  local.set $f`, and the reload that would come first
 * (`global.get $fuel  local.set $f  local.get $f ...`) is left out: 4 bytes and 2
 * instructions fewer. */
static void mark_charged_after(MeterFn *mf, const FuelPlan *plan) {
    mf->charged_after = arena_array(&mf->f->arena, mf->orig_nnodes + 1, 1);
    for (uint32_t i = 0; i < plan->ncharges; i++) {
        NodeId after = plan->charges[i].pos.after;
        bool call = after && after < mf->orig_nnodes && meter_is_call(ir_node(mf->f, after)->in.op);
        if (call && plan->charges[i].amount) mf->charged_after[after] = 1;
    }
}

void fuel_emit(MeterFn *mf, const FuelPlan *plan, const NodeId *order, uint32_t count) {
    IrFunc *f = mf->f;
    mark_cached(mf, plan, order, count);
    mark_charged_after(mf, plan);
    for (uint32_t i = 0; i < plan->nreached; i++) {
        NodeId id = plan->reached[i];
        if (meter_is_bulk(ir_node(f, id)->in.op)) {
            if (mf->mc->per_byte) emit_dyn_charge(mf, id);
        } else {
            emit_call_check(mf, id);
        }
    }
    emit_cached_loops(mf, order, count);
    for (uint32_t i = 0; i < plan->ncharges; i++) emit_charge(mf, &plan->charges[i]);
    for (uint32_t i = 0; i < plan->nrefunds; i++) emit_refund(mf, &plan->refunds[i]);
}

/* ---- write-backs with nothing to write ---- */

/* The node producing n's one operand, when n has one and a node produced it; else 0. */
static NodeId operand_node(const IrFunc *f, const IrNode *n) {
    if (n->nargs != 1) return 0;
    ValueRef v = ir_args(f, n)[0];
    return v.node == 0 || (v.idx & IR_PARAM) ? 0 : v.node;
}

/* Contract: the local.get/local.tee of $f that node n (a global.set of the fuel) stores,
 * or 0 when it stores something else. */
static NodeId stored_from_f(const MeterFn *mf, const IrNode *n) {
    if (n->in.op != OP_GLOBAL_SET || n->in.a != mf->mc->fuel_global) return 0;
    NodeId src = operand_node(mf->f, n);
    if (!src) return 0;
    const IrNode *s = ir_node(mf->f, src);
    return (s->in.op == OP_LOCAL_GET || s->in.op == OP_LOCAL_TEE) && s->in.a == mf->fuel_local ? src : 0;
}

/* True when node n leaves the global and $f equal: a store of $f to the global, or
 * $f reloaded from the global. */
static bool syncs(const MeterFn *mf, const IrNode *n) {
    if (stored_from_f(mf, n)) return true;
    if (n->in.op != OP_LOCAL_SET || n->in.a != mf->fuel_local) return false;
    NodeId src = operand_node(mf->f, n);
    return src && ir_node(mf->f, src)->in.op == OP_GLOBAL_GET && ir_node(mf->f, src)->in.a == mf->mc->fuel_global;
}

/* True when node n may change the global or $f (other than as syncs() sees), or run
 * code that does: calls, structured nodes, writes of either. */
static bool may_unsync(const MeterFn *mf, const IrNode *n) {
    OpId op = (OpId)n->in.op;
    if (meter_op_kind[op] & (MK_STRUCT | MK_CALL | MK_BULK)) return true;
    if ((op == OP_LOCAL_SET || op == OP_LOCAL_TEE) && n->in.a == mf->fuel_local) return true;
    return op == OP_GLOBAL_SET && n->in.a == mf->mc->fuel_global;
}

/* Contract: in one sequence, lists (in *gone) each write-back `local.get $f  global.set
 * $fuel` the pass inserted where the global already holds $f (the caller removes them). */
static void drop_synced_in(MeterFn *mf, NodeId first, NodeId **gone, uint32_t *ngone, uint32_t *cap) {
    IrFunc *f = mf->f;
    bool synced = false;
    for (NodeId id = first, next; id; id = next) {
        const IrNode *n = ir_node(f, id);
        next = n->next;
        NodeId src = stored_from_f(mf, n);
        bool flush = src && id >= mf->orig_nnodes && src >= mf->orig_nnodes && n->prev == src &&
                     ir_node(f, src)->in.op == OP_LOCAL_GET;
        if (flush && synced) {
            WS_VEC_PUSH(*gone, *ngone, *cap, id);
            WS_VEC_PUSH(*gone, *ngone, *cap, src);
            continue;
        }
        if (syncs(mf, n)) synced = true;
        else if (may_unsync(mf, n)) synced = false;
    }
}

void fuel_drop_synced_flushes(MeterFn *mf) {
    IrFunc *f = mf->f;
    NodeId *gone = NULL;
    uint32_t ngone = 0, cap = 0;
    drop_synced_in(mf, f->body.first, &gone, &ngone, &cap);
    for (uint32_t a = 1; a < f->narms; a++) drop_synced_in(mf, f->arms[a].first, &gone, &ngone, &cap);
    if (ngone) ir_unlink_batch(f, gone, ngone);
    free(gone);
}
