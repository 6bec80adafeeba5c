/* meter_frame.c - the metering pass on one function: wraps the body so that every
 * normal exit passes one place, then adds the fuel code (meter_fuel.c), the stack
 * depth accounting, the memory.grow guard of imported memories, and renumbers calls
 * when the fuel import moved the defined functions.
 *
 *   before:  (func (result i32) ... return ... end)
 *   after:   (func (result i32)
 *              block $out_of_fuel
 *                [stack: trap if depth + frame > limit; depth += frame]
 *                block $body (result i32)
 *                  ... br $body ...          ;; every return, now a branch
 *                end
 *                [lazy: check the fuel]  [stack: depth = depth at entry]
 *                return
 *              end
 *              local.get $f  global.set $fuel  unreachable)
 *
 * Stack depth is given back on every exit: after $body (falls off, returns, branches to
 * the function label), before tail calls, and restored from the entry value in every
 * exception handler of the function (catch arms, try_table landing points). */
#include "meter.h"
#include <stdlib.h>

/* ---- frame cost ---- */

typedef struct HFrame { NodeId node; uint32_t arm, outer, floor; } HFrame;

/* Contract: the largest operand stack height of f (values of the function's own
 * frame; unreachable code counts from its frame's floor). */
static uint32_t max_height(const IrFunc *f) {
    HFrame *st = NULL;
    uint32_t sp = 0, cap = 0, h = 0, floor = 0, max = 0;
    NodeId cur = f->body.first;
    for (;;) {
        for (; cur; cur = ir_node(f, cur)->next) {
            const IrNode *n = ir_node(f, cur);
            h = h >= n->nargs ? h - n->nargs : 0;
            if (h < floor) h = floor;
            if (ir_is_structured(n->in.op) && n->arms) {
                HFrame fr = {cur, n->arms, h, floor};
                WS_VEC_PUSH(st, sp, cap, fr);
                floor = h;
                h += f->arms[n->arms].nparams;
                if (h > max) max = h;
                cur = f->arms[n->arms].first;
                break;
            }
            h += n->nres;
            if (h > max) max = h;
            if (n->flags & IRN_UNREACHABLE_AFTER) h = floor;
        }
        if (cur) continue;
        if (sp == 0) break;
        HFrame *fr = &st[sp - 1];
        uint32_t next = f->arms[fr->arm].next;
        if (next) {
            fr->arm = next;
            h = fr->outer + f->arms[next].nparams;
            if (h > max) max = h;
            cur = f->arms[next].first;
            continue;
        }
        h = fr->outer + ir_node(f, fr->node)->nres;
        if (h > max) max = h;
        floor = fr->floor;
        cur = ir_node(f, fr->node)->next;
        sp--;
    }
    free(st);
    return max;
}

static uint32_t frame_cost(const MeterCtx *mc, const IrFunc *f) {
    if (mc->opt->stack_cost == STACK_COST_ONE) return 1;
    uint64_t c = (uint64_t)f->nlocals + max_height(f);
    return c > 0x3fffffff ? 0x3fffffff : (uint32_t)c;
}

/* ---- the wrapper ---- */

/* Contract: the block type of $body: the function's results, with no params. */
static BlockType body_block_type(const MeterFn *mf) {
    const IrFunc *f = mf->f;
    BlockType bt = {BT_EMPTY, {0, 0}, 0};
    if (f->type->nresults == 1) {
        bt.kind = BT_VAL;
        bt.val = f->type->results[0];
    } else if (f->type->nresults > 1) {
        bt.kind = BT_TYPE;
        bt.type = mf->mc->block_type[f->m->funcs[f->index].type];
    }
    return bt;
}

/* Contract: a block around the whole body ($body, with the function's results); the
 * values the body leaves become the block's. */
static NodeId wrap_body(MeterFn *mf) {
    IrFunc *f = mf->f;
    Instr in = ir_instr(OP_BLOCK);
    in.bt = body_block_type(mf);
    uint32_t nres = f->type->nresults;
    NodeId b = ir_new_node(f, &in, nres, nres ? f->type->results : NULL);
    uint32_t arm = em_add_arm(f, b, OP_BLOCK);
    f->arms[arm].first = f->body.first;
    f->arms[arm].last = f->body.last;
    for (NodeId id = f->body.first; id; id = ir_node(f, id)->next) {
        IrNode *n = ir_node(f, id);
        n->parent = b;
        n->parent_arm = 0;
        for (uint32_t r = 0; r < n->nres; r++) {
            IrUse *u = &f->uses[n->uses + r];
            if (u->user == 0 && (u->slot & IR_ARM_END)) u->user = b;
        }
    }
    f->body.first = f->body.last = 0;
    for (uint32_t r = 0; r < nres; r++) f->uses[ir_node(f, b)->uses + r] = (IrUse){0, IR_ARM_END | r};
    return b;
}

/* Contract: $out_of_fuel around $body, ending in `return`; after it the trap that
 * writes $f back first. */
static void wrap_oof(MeterFn *mf) {
    IrFunc *f = mf->f;
    Instr in = ir_instr(OP_BLOCK);
    in.bt.kind = BT_EMPTY;
    NodeId o = ir_new_node(f, &in, 0, NULL);
    em_add_arm(f, o, OP_BLOCK);
    ir_insert_after(f, 0, 0, 0, o);
    ir_insert_after(f, o, 0, 0, mf->body);
    uint32_t nres = f->type->nresults;
    ValueRef *res = ws_malloc((nres + 1) * sizeof(ValueRef));
    for (uint32_t r = 0; r < nres; r++) res[r] = (ValueRef){mf->body, r};
    Instr ret_in = ir_instr(OP_RETURN);
    NodeId ret = ir_new_node(f, &ret_in, 0, NULL);
    ir_set_args(f, ret, res, nres);
    ir_insert_after(f, o, 0, mf->body, ret);
    ir_node(f, ret)->flags |= IRN_UNREACHABLE_AFTER;
    free(res);
    Emit e;
    em_at(&e, f, (MeterPos){0, 0, o});
    fuel_emit_flush(mf, &e);
    NodeId u = em_op(&e, ir_instr(OP_UNREACHABLE), 0, 0, vt_num(0));
    ir_node(f, u)->flags |= IRN_UNREACHABLE_AFTER;
    mf->oof = o;
}

/* Contract: every return of the original code becomes a branch to $body. */
static void returns_to_body(MeterFn *mf, const NodeId *order, uint32_t count) {
    for (uint32_t i = 0; i < count; i++) {
        IrNode *n = ir_node(mf->f, order[i]);
        if (n->in.op != OP_RETURN || order[i] >= mf->orig_nnodes) continue;
        n->in.op = OP_BR;
        n->in.a = meter_depth(mf->f, n->parent, mf->body);
        ir_touch(mf->f, order[i]);
    }
}

/* The position right after $body (in $out_of_fuel, or in the function body), or
 * without $body after the original code. */
static MeterPos after_body(const MeterFn *mf) {
    MeterPos p = {mf->oof, 0, mf->body ? mf->body : mf->tail};
    return p;
}

/* True when node n leaves the function before its end: a return, or a branch (or a
 * try_table catch) to the function's label. */
static bool exits_early(const IrFunc *f, const IrNode *n) {
    OpId op = n->in.op;
    if (op == OP_RETURN) return true;
    if (!meter_is_branch(op) && op != OP_TRY_TABLE) return false;
    uint32_t level = meter_depth(f, n->parent, 0);
    const uint8_t *v = n->in.vec;
    uint32_t count = op == OP_BR_TABLE ? n->in.n + 1 : op == OP_TRY_TABLE ? n->in.n : 1;
    for (uint32_t i = 0; i < count; i++) {
        uint32_t d = op == OP_TRY_TABLE ? catch_next(&v).label
                     : op == OP_BR_TABLE && i < n->in.n ? br_table_label_next(&v) : n->in.a;
        if (d == level) return true;
    }
    return false;
}

/* True when some exit of f does not pass its end (so the exit code needs $body). */
static bool has_early_exit(const MeterFn *mf) {
    bool early = false;
    for (uint32_t i = 0; i < mf->order0_count && !early; i++) early = exits_early(mf->f, ir_node(mf->f, mf->order0[i]));
    return early;
}

/* Contract: a function that keeps the fuel in $f writes it back when it exits. */
static void exit_flush(MeterFn *mf) {
    MeterPos p = after_body(mf);
    Emit e;
    meter_em_at(mf, &e, p);
    fuel_emit_flush(mf, &e);
    meter_em_done(mf, &e, p);
}

/* Contract: lazy mode checks the fuel when the function exits normally. */
static void exit_check(MeterFn *mf) {
    MeterPos p = after_body(mf);
    Emit e;
    meter_em_at(mf, &e, p);
    if (mf->whole_cached) em_local(&e, OP_LOCAL_GET, mf->fuel_local);
    else em_global(&e, OP_GLOBAL_GET, mf->mc->fuel_global);
    em_simple(&e, OP_I64_CLZ);
    em_simple(&e, OP_I64_EQZ);
    if (mf->mc->refill) {
        Emit then;
        BlockType bt = {BT_EMPTY, {0, 0}, 0};
        em_if(&e, bt, 0, vt_num(0), &then, NULL);
        em_call(&then, mf->mc->refill_func, 0, 0, vt_num(0));
    } else if (mf->whole_cached) {
        em_br_if(&e, meter_depth(mf->f, e.parent, mf->oof));
    } else {
        fuel_emit_trap_if(&e);
    }
    meter_em_done(mf, &e, p);
}

/* ---- stack depth ---- */

static void stack_give_back(MeterFn *mf, Emit *e) {
    em_local(e, OP_LOCAL_GET, mf->entry_local);
    em_global(e, OP_GLOBAL_SET, mf->mc->stack_global);
}

/* Contract: at a handler: depth = depth at entry + this frame. */
static void stack_restore_at(MeterFn *mf, MeterPos p) {
    Emit e;
    meter_em_at(mf, &e, p);
    em_local(&e, OP_LOCAL_GET, mf->entry_local);
    em_i32(&e, (int32_t)mf->frame_cost);
    em_simple(&e, OP_I32_ADD);
    em_global(&e, OP_GLOBAL_SET, mf->mc->stack_global);
    meter_em_done(mf, &e, p);
}

/* Contract: the prologue: trap when depth + frame > limit, else depth += frame. */
static void stack_prologue(MeterFn *mf) {
    IrFunc *f = mf->f;
    Emit e, then;
    em_at(&e, f, (MeterPos){mf->oof, 0, 0});
    em_global(&e, OP_GLOBAL_GET, mf->mc->stack_global);
    em_local(&e, OP_LOCAL_TEE, mf->entry_local);
    em_i32(&e, (int32_t)((int64_t)mf->mc->opt->stack_limit - mf->frame_cost));
    em_simple(&e, OP_I32_GT_S);
    BlockType bt = {BT_EMPTY, {0, 0}, 0};
    em_if(&e, bt, 0, vt_num(0), &then, NULL);
    NodeId u = em_op(&then, ir_instr(OP_UNREACHABLE), 0, 0, vt_num(0));
    ir_node(f, u)->flags |= IRN_UNREACHABLE_AFTER;
    em_local(&e, OP_LOCAL_GET, mf->entry_local);
    em_i32(&e, (int32_t)mf->frame_cost);
    em_simple(&e, OP_I32_ADD);
    em_global(&e, OP_GLOBAL_SET, mf->mc->stack_global);
}

/* Contract: the landing points of try_table catch clauses (a structured node's end, or
 * a loop's start) and the catch arms of try get the depth restored. */
static void stack_handlers(MeterFn *mf, const NodeId *order, uint32_t count) {
    IrFunc *f = mf->f;
    uint8_t *done = arena_array(&f->arena, f->nnodes + 1, 1);
    for (uint32_t i = 0; i < count; i++) {
        const IrNode n = *ir_node(f, order[i]); /* a copy: nodes move as code is added */
        if (n.in.op == OP_TRY)
            for (uint32_t k = 1; k < n.narms; k++) stack_restore_at(mf, (MeterPos){order[i], k, 0});
        if (n.in.op != OP_TRY_TABLE) continue;
        const uint8_t *v = n.in.vec;
        for (uint32_t k = 0; k < n.in.n; k++) {
            Catch c = catch_next(&v);
            NodeId t = n.parent;
            for (uint32_t d = 0; d < c.label && t; d++) t = ir_node(f, t)->parent;
            if (!t || t == mf->body || done[t]) continue; /* the exit gives back anyway */
            done[t] = 1;
            const IrNode *tn = ir_node(f, t);
            MeterPos p = {tn->parent, tn->parent_arm, t};
            if (tn->in.op == OP_LOOP) p = (MeterPos){t, 0, 0};
            stack_restore_at(mf, p);
        }
    }
}

/* Contract: the depth accounting: prologue, give-back before tail calls and after
 * $body, restores in handlers. */
static void stack_emit(MeterFn *mf, const NodeId *order, uint32_t count) {
    stack_prologue(mf);
    for (uint32_t i = 0; i < count; i++) {
        OpId op = ir_node(mf->f, order[i])->in.op;
        if (op != OP_RETURN_CALL && op != OP_RETURN_CALL_INDIRECT && op != OP_RETURN_CALL_REF) continue;
        Emit e;
        em_before(&e, mf->f, order[i]);
        stack_give_back(mf, &e);
    }
    stack_handlers(mf, order, count);
    MeterPos p = after_body(mf);
    Emit e;
    meter_em_at(mf, &e, p);
    stack_give_back(mf, &e);
    meter_em_done(mf, &e, p);
}

/* ---- memory.grow of imported memories ---- */

/* Contract: `memory.grow` of a capped imported memory becomes
 *   local.set $d  (i64: $d > cap - min(size, cap))  if (result T) -1 else
 *   local.get $d  memory.grow  end. */
static void guard_grow(MeterFn *mf, NodeId id) {
    IrFunc *f = mf->f;
    uint32_t mem = ir_node(f, id)->in.a;
    bool wide = f->m->mems[mem].limits.flags & LIM_64;
    ValType t = vt_num(wide ? VT_I64 : VT_I32);
    uint32_t d = ir_add_local(f, t), s = ir_add_local(f, vt_num(VT_I64));
    int64_t cap = (int64_t)mf->mc->opt->max_memory_pages;
    Emit e, then, els;
    em_before(&e, f, id);
    ValueRef delta = ir_args(f, ir_node(f, id))[0];
    ir_unlink(f, id);
    em_push(&e, delta);
    em_local(&e, OP_LOCAL_SET, d);
    em_local(&e, OP_LOCAL_GET, d);
    if (!wide) em_simple(&e, OP_I64_EXTEND_I32_U);
    em_i64(&e, cap);
    Instr size = ir_instr(OP_MEMORY_SIZE);
    size.a = mem;
    em_op(&e, size, 0, 1, t);
    if (!wide) em_simple(&e, OP_I64_EXTEND_I32_U);
    em_local(&e, OP_LOCAL_TEE, s);
    em_i64(&e, cap);
    em_local(&e, OP_LOCAL_GET, s);
    em_i64(&e, cap);
    em_simple(&e, OP_I64_LT_U);
    em_op(&e, ir_instr(OP_SELECT), 3, 1, vt_num(VT_I64));
    em_simple(&e, OP_I64_SUB);
    em_simple(&e, OP_I64_GT_U);
    BlockType bt = {BT_VAL, t, 0};
    NodeId node = em_if(&e, bt, 1, t, &then, &els);
    if (wide) em_i64(&then, -1);
    else em_i32(&then, -1);
    em_arm_end(&then, node, 0);
    ir_replace_value(f, (ValueRef){id, 0}, (ValueRef){node, 0});
    em_local(&els, OP_LOCAL_GET, d);
    ir_set_args(f, id, &els.stack[els.sp - 1], 1);
    ir_insert_after(f, node, 1, els.after, id);
    els.after = id;
    els.stack[els.sp - 1] = (ValueRef){id, 0};
    em_arm_end(&els, node, 1);
}

static void guard_grows(MeterFn *mf, const NodeId *order, uint32_t count) {
    const Module *m = mf->f->m;
    for (uint32_t i = 0; i < count; i++) {
        const IrNode *n = ir_node(mf->f, order[i]);
        if (n->in.op == OP_MEMORY_GROW && n->in.a < m->nmem_imports) guard_grow(mf, order[i]);
    }
}

/* ---- the transform ---- */

/* Contract: calls and function references name the functions' final indices. */
static void renumber_calls(MeterFn *mf, const NodeId *order, uint32_t count) {
    for (uint32_t i = 0; i < count; i++) {
        IrNode *n = ir_node(mf->f, order[i]);
        OpId op = n->in.op;
        if (order[i] >= mf->orig_nnodes) continue;
        if ((op == OP_CALL || op == OP_RETURN_CALL || op == OP_REF_FUNC) && n->in.a >= mf->mc->nfunc_imports) {
            n->in.a += mf->mc->shift;
            ir_touch(mf->f, order[i]);
        }
    }
}

static bool has_bulk(const FuelPlan *plan, const IrFunc *f) {
    for (uint32_t i = 0; i < plan->nreached; i++)
        if (meter_is_bulk(ir_node(f, plan->reached[i])->in.op)) return true;
    return false;
}

/* Contract: the locals the injected code uses. */
static void add_locals(MeterFn *mf, const FuelPlan *plan, bool caches) {
    IrFunc *f = mf->f;
    const MeterCtx *mc = mf->mc;
    if (caches) mf->fuel_local = ir_add_local(f, vt_num(VT_I64));
    if (mc->fuel && mc->per_byte && has_bulk(plan, f)) {
        mf->dyn_local = ir_add_local(f, vt_num(VT_I64));
        mf->n32_local = ir_add_local(f, vt_num(VT_I32));
        mf->n64_local = ir_add_local(f, vt_num(VT_I64));
    }
    if (mc->stack) mf->entry_local = ir_add_local(f, vt_num(VT_I32));
}

/* Contract: a fresh preorder of f, in f's arena. */
static NodeId *preorder(IrFunc *f, uint32_t *count) {
    NodeId *order = arena_alloc(&f->arena, (f->nnodes + 1) * sizeof(NodeId));
    *count = ir_preorder(f, order);
    return order;
}

/* Contract: appends to out the preorder of the sequence starting at `first` of the
 * wrapped function: $body stands for the original code (mf->order0), $out_of_fuel for
 * its own sequence; false if any other structured node is met (the caller then walks
 * the whole function instead). */
static bool wrapped_seq(const MeterFn *mf, NodeId first, NodeId *out, uint32_t *n) {
    const IrFunc *f = mf->f;
    for (NodeId id = first; id; id = ir_node(f, id)->next) {
        out[(*n)++] = id;
        if (id == mf->body) {
            memcpy(out + *n, mf->order0, mf->order0_count * sizeof(NodeId));
            *n += mf->order0_count;
        } else if (id == mf->oof) {
            if (!wrapped_seq(mf, f->arms[ir_node(f, id)->arms].first, out, n)) return false;
        } else if (ir_is_structured(ir_node(f, id)->in.op)) {
            return false;
        }
    }
    return true;
}

#ifdef WS_DEBUG
/* Contract: debug builds: the derived preorder is the one a walk gives. */
static void check_wrapped_preorder(IrFunc *f, const NodeId *order, uint32_t count) {
    uint32_t walked;
    NodeId *check = preorder(f, &walked);
    if (walked == count && !memcmp(check, order, count * sizeof(NodeId))) return;
    fprintf(stderr, "wasmslim: internal error: metering: wrapped preorder of function %u differs\n", f->index);
    abort();
}
#else
static void check_wrapped_preorder(IrFunc *f, const NodeId *order, uint32_t count) {
    (void)f; (void)order; (void)count;
}
#endif

/* Contract: the preorder of f once wrapped (in f's arena): the original's with the
 * wrappers' few nodes around it, rather than a walk of every node again. */
static NodeId *wrapped_preorder(const MeterFn *mf, uint32_t *count) {
    IrFunc *f = mf->f;
    if (!mf->body) return preorder(f, count);
    NodeId *order = arena_alloc(&f->arena, (f->nnodes + 1) * sizeof(NodeId));
    *count = 0;
    if (!wrapped_seq(mf, f->body.first, order, count)) *count = ir_preorder(f, order);
    return order;
}

static void setup_cursors(MeterFn *mf) {
    IrFunc *f = mf->f;
    mf->nnodes_cursor = f->nnodes;
    mf->narms_cursor = f->narms;
    mf->cur_after = arena_array(&f->arena, f->nnodes + 1, sizeof(NodeId));
    mf->cur_arm = arena_array(&f->arena, f->narms + 1, sizeof(NodeId));
    mf->cached = arena_array(&f->arena, f->nnodes + 1, 1);
}

/* Contract: wraps the body and instruments it; `plan` was made on the original code.
 * In lazy mode a leaf (no loops, calls or handlers) checks nothing but its bulk
 * operations; a function with loops and no handlers may keep the fuel in $f
 * throughout (whole_cached), written back at its single exit after $body. */
static void instrument(MeterFn *mf, const FuelPlan *plan) {
    const MeterCtx *mc = mf->mc;
    IrFunc *f = mf->f;
    bool lazy = mc->opt->fuel_mode == FUEL_LAZY;
    bool lazy_leaf = lazy && plan->leaf, exits = mc->fuel && lazy && !plan->leaf && !plan->exit_checked;
    bool checks = mc->fuel && (!lazy_leaf || (mc->per_byte && has_bulk(plan, f)));
    bool caches = mc->fuel && fuel_caches(mf, plan);
    bool oof = checks && !mc->refill && caches;
    add_locals(mf, plan, caches);
    if (oof || mf->whole_cached || ((mc->stack || exits) && has_early_exit(mf))) mf->body = wrap_body(mf);
    else mf->tail = f->body.last;
    if (oof) wrap_oof(mf);
    else if (mf->body) ir_insert_after(f, 0, 0, 0, mf->body);
    uint32_t count;
    NodeId *order = wrapped_preorder(mf, &count);
    check_wrapped_preorder(f, order, count);
    if (mf->body) returns_to_body(mf, order, count);
    setup_cursors(mf);
    if (mc->fuel) fuel_emit(mf, plan, order, count);
    if (mf->whole_cached) exit_flush(mf);
    if (exits) exit_check(mf);
    if (mc->stack) stack_emit(mf, order, count);
    if (mc->mem_cap) guard_grows(mf, order, count);
    if (mc->shift) renumber_calls(mf, order, count);
    if (caches) fuel_drop_synced_flushes(mf);
}

bool meter_function(IrFunc *f, void *arg, WsError *err) {
    (void)err;
    const MeterCtx *mc = arg;
    MeterFn mf;
    memset(&mf, 0, sizeof mf);
    mf.mc = mc;
    mf.f = f;
    mf.orig_nnodes = f->nnodes;
    if (mc->stack) mf.frame_cost = frame_cost(mc, f);
    uint32_t count;
    NodeId *order = preorder(f, &count); /* of the original code: the plan's, and the checks' before wrapping */
    mf.order0 = order;
    mf.order0_count = count;
    FuelPlan plan;
    memset(&plan, 0, sizeof plan);
    if (mc->fuel) {
        fuel_plan(mc, f, order, count, &plan);
        uint32_t k = f->index - mc->nfunc_imports;
        mc->longest_path[k] = plan.longest_path;
        mc->largest_point[k] = plan.largest_point;
        mc->most_calls[k] = plan.most_calls;
        mc->leaf[k] = plan.leaf;
        for (uint32_t i = 0; i < plan.ncharges; i++) mc->charges[k] += plan.charges[i].amount != 0;
        mc->refunds[k] = plan.nrefunds;
    }
    instrument(&mf, &plan);
    fuel_plan_free(&plan);
    return true;
}
