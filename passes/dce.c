/* dce.c - function-level dead-code elimination on the IR.
 *
 *   before:                         after:
 *     local.get 0                     local.get 0
 *     i32.const 0                     return
 *     if                            (the dead store, the constant branch, the
 *       call $log                     unreachable tail and the unused local are gone)
 *     end
 *     i32.const 7
 *     local.set 1      ; never read
 *     return
 *     i32.const 1
 *     drop
 *
 * Rules, repeated until nothing changes: code after an instruction that leaves the stack
 * polymorphic (unreachable, br, br_table, return, throw, ...) goes; if, br_if, br_table
 * and select on constant conditions are folded; stores to locals never read become drops
 * (tees vanish); drop of a pure value drops the value's operands instead, and values
 * nobody uses that are pure go with their operands; nops and empty blocks go.  Finally
 * unused locals are dropped and the rest renumbered, most used first.  Traps count as
 * effects: a load or a division is never removed (unless -iit or -tnh say no implicit
 * trap happens).  Under -tnh an if arm that starts with unreachable is never taken:
 *   (if (c) (then unreachable) (else B))  ->  (drop c) (block B) */
#include "pass.h"
#include "dce.h"
#include "../ir/edit.h"
#include "../ir/funcmap.h"
#include "../ir/pool.h"
#include <stdlib.h>

typedef struct Dce {
    IrFunc *f;
    NodeId *order;       /* scratch for ir_preorder */
    uint32_t *mark;      /* per node: stamp of the last segment it was in */
    uint32_t stamp;
    uint32_t removed;    /* instructions removed */
    bool changed;
    uint32_t impure;     /* effects that keep an unused value: DCE_IMPURE, less FX_TRAP
                            under --ignore-implicit-traps */
    bool tnh;            /* --traps-never-happen: an arm that traps at once is never taken */
} Dce;


static bool ends_block(OpId op) {
    switch (op) {
    case OP_UNREACHABLE: case OP_BR: case OP_BR_TABLE: case OP_RETURN: case OP_RETURN_CALL:
    case OP_RETURN_CALL_INDIRECT: case OP_RETURN_CALL_REF: case OP_THROW: case OP_RETHROW:
    case OP_THROW_REF:
        return true;
    default:
        return false;
    }
}

static bool value_used(const IrFunc *f, const IrNode *n, uint32_t r) {
    IrUse u = ir_uses(f, n)[r];
    return u.user != 0 || (u.slot & IR_ARM_END);
}

static bool any_result_used(const IrFunc *f, const IrNode *n) {
    for (uint32_t r = 0; r < n->nres; r++)
        if (value_used(f, n, r)) return true;
    return false;
}

static bool is_pure(const Dce *d, NodeId id) {
    const IrNode *n = ir_node(d->f, id);
    return !ir_is_structured(n->in.op) && !(ir_effects(d->f, id) & d->impure);
}

/* True while node id is still linked into the function's code. */
static bool in_body(IrFunc *f, NodeId id) {
    const IrNode *n = ir_node(f, id);
    return n->prev || n->next || ir_parent_arm(f, n->parent, n->parent_arm)->first == id;
}

/* Contract: removes node id (and what it contains) and counts it. */
static void drop_node(Dce *d, NodeId id) {
    ir_remove(d->f, id);
    d->removed++;
    d->changed = true;
}

/* Contract: removes the pure, otherwise unused producers of id's operands, recursively
 * (explicit stack), after id itself has been unlinked. */
static void drop_operand_trees(Dce *d, const ValueRef *args, uint32_t nargs) {
    IrFunc *f = d->f;
    NodeId *stack = NULL;
    uint32_t sp = 0, cap = 0;
    for (uint32_t i = 0; i < nargs; i++)
        if (args[i].node && !(args[i].idx & IR_PARAM)) WS_VEC_PUSH(stack, sp, cap, args[i].node);
    while (sp) {
        NodeId p = stack[--sp];
        const IrNode *n = ir_node(f, p);
        if (!in_body(f, p) || !is_pure(d, p) || any_result_used(f, n)) continue;
        for (uint32_t i = 0; i < n->nargs; i++) {
            ValueRef a = ir_args(f, n)[i];
            if (a.node && !(a.idx & IR_PARAM)) WS_VEC_PUSH(stack, sp, cap, a.node);
        }
        drop_node(d, p);
    }
    free(stack);
}

/* Contract: unlinks id and then its pure operand trees that nothing else uses. */
static void remove_with_operands(Dce *d, NodeId id) {
    IrFunc *f = d->f;
    const IrNode *n = ir_node(f, id);
    uint32_t nargs = n->nargs;
    ValueRef *args = ws_malloc((nargs + 1) * sizeof(ValueRef));
    if (nargs) memcpy(args, ir_args(f, n), nargs * sizeof(ValueRef));
    drop_node(d, id);
    drop_operand_trees(d, args, nargs);
    free(args);
}

/* ---- rule: code after a block-ending instruction ---- */

static void remove_tail(Dce *d, NodeId id) {
    while (ir_node(d->f, id)->next) drop_node(d, ir_node(d->f, id)->next);
}

/* ---- rule: constant conditions ---- */

/* The constant an i32.const producer gives for value v, if it is one. */
static bool const_value(const IrFunc *f, ValueRef v, int64_t *c) {
    if (v.node == 0 || (v.idx & IR_PARAM)) return false;
    const IrNode *p = ir_node(f, v.node);
    if (p->in.op != OP_I32_CONST) return false;
    *c = p->in.i;
    return true;
}

/* Contract: moves the contents of `keep` into the node's only arm (arm 0), renumbering
 * the parameter references and parent arms of its direct children. */
static void make_single_arm(IrFunc *f, NodeId id, uint32_t keep, uint32_t keep_no) {
    IrNode *n = ir_node(f, id);
    for (NodeId c = f->arms[keep].first; c; c = ir_node(f, c)->next) {
        IrNode *cn = ir_node(f, c);
        cn->parent_arm = 0;
        for (uint32_t i = 0; i < cn->nargs; i++) {
            ValueRef *a = &ir_args(f, cn)[i];
            if (a->node == id && (a->idx & IR_PARAM) && ((a->idx >> 16) & 0x7fff) == keep_no)
                a->idx = IR_PARAM | (a->idx & 0xffff);
        }
    }
    f->arms[keep].next = 0;
    f->arms[keep].head = n->in;
    n->arms = keep;
    n->narms = 1;
}

static void empty_arm(Dce *d, uint32_t arm) {
    while (d->f->arms[arm].first) drop_node(d, d->f->arms[arm].first);
}

/* Contract: if node id, its condition already taken off, becomes a block holding its
 * then arm (keep_then) or its else arm (nothing without an else); the other is emptied. */
static void keep_arm(Dce *d, NodeId id, bool keep_then) {
    IrFunc *f = d->f;
    uint32_t then_arm = ir_node(f, id)->arms, else_arm = f->arms[then_arm].next;
    if (keep_then) {
        if (else_arm) empty_arm(d, else_arm);
        make_single_arm(f, id, then_arm, 0);
    } else {
        empty_arm(d, then_arm);
        if (else_arm) make_single_arm(f, id, else_arm, 1);
        else make_single_arm(f, id, then_arm, 0);
    }
    ir_node(f, id)->in.op = OP_BLOCK;
    ir_touch(f, id);
    d->changed = true;
}

/* Contract: takes the condition (last operand) off node id and returns it. */
static ValueRef take_condition(IrFunc *f, NodeId id) {
    IrNode *n = ir_node(f, id);
    ValueRef cond = ir_args(f, n)[n->nargs - 1];
    ir_set_args(f, id, ir_args(f, n), n->nargs - 1);
    return cond;
}

/* Contract: if with a constant condition becomes a block holding the arm taken. */
static void fold_if(Dce *d, NodeId id, int64_t c) {
    drop_node(d, take_condition(d->f, id).node);
    keep_arm(d, id, c != 0);
}

/* Contract: br_if / br_table on a constant: never taken -> gone (its values flow on),
 * always taken -> br. */
static void fold_branch(Dce *d, NodeId id, int64_t c) {
    IrFunc *f = d->f;
    IrNode *n = ir_node(f, id);
    uint32_t nvals = n->nargs - 1;
    ValueRef cond = ir_args(f, n)[nvals];
    if (n->in.op == OP_BR_TABLE) {
        const uint8_t *p = n->in.vec;
        uint64_t label = n->in.a;
        for (uint32_t i = 0; i < n->in.n; i++) {
            uint32_t l = br_table_label_next(&p);
            if ((uint32_t)c == i) label = l;
        }
        n->in = ir_instr(OP_BR);
        n->in.a = label;
        ir_touch(f, id);
    } else if (c) {
        n->in.op = OP_BR;
        ir_touch(f, id);
    } else {
        ValueRef *vals = ws_malloc((nvals + 1) * sizeof(ValueRef));
        if (nvals) memcpy(vals, ir_args(f, n), nvals * sizeof(ValueRef));
        ir_set_args(f, id, NULL, 0);
        for (uint32_t i = 0; i < nvals; i++) ir_replace_value(f, (ValueRef){id, i}, vals[i]);
        free(vals);
        drop_node(d, id);
        drop_node(d, cond.node);
        return;
    }
    ir_set_args(f, id, ir_args(f, ir_node(f, id)), nvals);
    ir_node(f, id)->nres = 0;
    drop_node(d, cond.node);
    remove_tail(d, id);
}

/* Contract: select on a constant keeps the chosen operand (the other must be pure when
 * it lies below the chosen one on the stack, else it is dropped). */
static void fold_select(Dce *d, NodeId id, int64_t c) {
    IrFunc *f = d->f;
    IrNode *n = ir_node(f, id);
    ValueRef a = ir_args(f, n)[0], b = ir_args(f, n)[1], cond = ir_args(f, n)[2];
    if (!c && (a.node == 0 || (a.idx & IR_PARAM) || !is_pure(d, a.node) ||
               ir_node(f, a.node)->nargs != 0))
        return; /* would need to discard a value below the one kept */
    ir_set_args(f, id, NULL, 0);
    ir_replace_value(f, (ValueRef){id, 0}, c ? a : b);
    drop_node(d, cond.node);
    if (c) { /* b is on top: drop it */
        n = ir_node(f, id);
        n->in = ir_instr(OP_DROP);
        ir_touch(f, id);
        n->nres = 0;
        ir_set_args(f, id, &b, 1);
    } else {
        drop_node(d, id);
        drop_node(d, a.node);
    }
    d->changed = true;
}

/* ---- rule (--traps-never-happen): an arm that traps at once is never taken ---- */

static bool arm_traps(const IrFunc *f, uint32_t arm) {
    NodeId first = f->arms[arm].first;
    return first && ir_node(f, first)->in.op == OP_UNREACHABLE;
}

/* Contract: under -tnh, an if exactly one of whose arms starts with unreachable becomes
 * a block holding the other arm (nothing, without an else), its condition evaluated
 * and dropped before it:  (if (c) (then unreachable)) -> (drop c).  An if both of whose
 * arms trap is left as it is (it is itself a trap). */
static void assume_no_trap(Dce *d, NodeId id) {
    IrFunc *f = d->f;
    IrNode *n = ir_node(f, id);
    uint32_t then_arm = n->arms, else_arm = f->arms[then_arm].next;
    bool then_traps = arm_traps(f, then_arm), else_traps = else_arm && arm_traps(f, else_arm);
    if (then_traps == else_traps) return;
    ValueRef cond = take_condition(f, id);
    ir_insert_before(f, id, ir_new_drop(f, cond));
    keep_arm(d, id, else_traps);
}

static void fold_constant(Dce *d, NodeId id) {
    IrFunc *f = d->f;
    IrNode *n = ir_node(f, id);
    OpId op = n->in.op;
    bool cond_last = op == OP_IF || op == OP_BR_IF || op == OP_BR_TABLE || op == OP_SELECT || op == OP_SELECT_T;
    int64_t c;
    if (!cond_last || n->nargs == 0) return;
    if (!const_value(f, ir_args(f, n)[n->nargs - 1], &c)) {
        if (op == OP_IF && d->tnh) assume_no_trap(d, id);
        return;
    }
    if (op == OP_IF) fold_if(d, id, c);
    else if (op == OP_SELECT || op == OP_SELECT_T) fold_select(d, id, c);
    else fold_branch(d, id, c);
}

/* ---- rule: dead stores ---- */

static void dead_store(Dce *d, NodeId id) {
    IrFunc *f = d->f;
    IrNode *n = ir_node(f, id);
    if (f->locals[n->in.a].ngets) return;
    ValueRef v = ir_args(f, n)[0];
    if (n->in.op == OP_LOCAL_TEE) {
        ir_set_args(f, id, NULL, 0);
        ir_replace_value(f, (ValueRef){id, 0}, v);
        drop_node(d, id);
        return;
    }
    ir_set_args(f, id, NULL, 0);
    ir_insert_before(f, id, ir_new_drop(f, v));
    drop_node(d, id);
}

/* ---- rule: single-use locals stay on the stack ---- */

/* Contract: true when every operand of node n is produced by a node marked with stamp
 * (inside the segment) and every result of n is used inside it too. */
static bool self_contained(const IrFunc *f, const IrNode *n, const uint32_t *mark, uint32_t stamp) {
    for (uint32_t i = 0; i < n->nargs; i++) {
        ValueRef a = ir_args(f, n)[i];
        if (a.node == 0 || (a.idx & IR_PARAM) || mark[a.node] != stamp) return false;
    }
    for (uint32_t r = 0; r < n->nres; r++) {
        IrUse u = ir_uses(f, n)[r];
        if (u.user == 0 || (u.slot & IR_ARM_END) || mark[u.user] != stamp) return false;
    }
    return true;
}

/* Contract: `local.set x; SEG; local.get x` with x written and read once and SEG balanced
 * (it neither pops what was there before nor leaves anything) becomes `SEG` with the
 * value staying on the stack for the get's user. */
static void stackify(Dce *d, NodeId set) {
    IrFunc *f = d->f;
    const IrNode *sn = ir_node(f, set);
    const IrLocal *l = &f->locals[sn->in.a];
    if (sn->in.op != OP_LOCAL_SET || l->nsets != 1 || l->ngets != 1) return;
    NodeId get = l->first_get;
    uint32_t stamp = ++d->stamp;
    for (NodeId c = sn->next; c && c != get; c = ir_node(f, c)->next) d->mark[c] = stamp;
    if (ir_node(f, get)->parent != sn->parent || ir_node(f, get)->parent_arm != sn->parent_arm) return;
    for (NodeId c = sn->next; c != get; c = ir_node(f, c)->next) {
        if (!c || ends_block(ir_node(f, c)->in.op) || !self_contained(f, ir_node(f, c), d->mark, stamp)) return;
    }
    ValueRef v = ir_args(f, sn)[0];
    ir_set_args(f, set, NULL, 0);
    ir_replace_value(f, (ValueRef){get, 0}, v);
    drop_node(d, set);
    drop_node(d, get);
}

/* ---- rule: drops of pure values, unused pure values ---- */

/* Contract: drop X with X pure becomes one drop per operand of X (top first), so the
 * operands' own pure parts can go in turn. */
static void drop_pure_value(Dce *d, NodeId drop) {
    IrFunc *f = d->f;
    ValueRef v = ir_args(f, ir_node(f, drop))[0];
    if (v.node == 0 || (v.idx & IR_PARAM) || !is_pure(d, v.node) || ir_node(f, v.node)->nres != 1) return;
    NodeId x = v.node;
    uint32_t nargs = ir_node(f, x)->nargs;
    ValueRef *args = ws_malloc((nargs + 1) * sizeof(ValueRef));
    if (nargs) memcpy(args, ir_args(f, ir_node(f, x)), nargs * sizeof(ValueRef));
    ir_set_args(f, drop, NULL, 0);
    drop_node(d, x);
    for (uint32_t i = 0; i < nargs; i++) /* drops after x's position: pop the top first */
        ir_insert_before(f, drop, ir_new_drop(f, args[nargs - 1 - i]));
    drop_node(d, drop);
    free(args);
}

static void unused_pure(Dce *d, NodeId id) {
    IrFunc *f = d->f;
    IrNode *n = ir_node(f, id);
    if (n->nres == 0 || any_result_used(f, n) || !is_pure(d, id)) return;
    remove_with_operands(d, id);
}

/* ---- rule: nops and empty blocks ---- */

static bool arms_empty(const IrFunc *f, const IrNode *n) {
    for (uint32_t a = n->arms; a; a = f->arms[a].next)
        if (f->arms[a].first) return false;
    return true;
}

static void empty_structure(Dce *d, NodeId id) {
    IrFunc *f = d->f;
    IrNode *n = ir_node(f, id);
    bool plain = n->in.op == OP_BLOCK || n->in.op == OP_LOOP || (n->in.op == OP_IF && n->nargs == 1);
    if (!plain || n->nres != 0 || !arms_empty(f, n)) return;
    if (n->in.op == OP_BLOCK || n->in.op == OP_LOOP) {
        if (n->nargs == 0) drop_node(d, id);
        return;
    }
    ValueRef cond = ir_args(f, n)[0]; /* if (c) {} else {}: evaluate c, drop it */
    ir_set_args(f, id, NULL, 0);
    ir_insert_before(f, id, ir_new_drop(f, cond));
    drop_node(d, id);
}

/* ---- driver ---- */

/* Contract: one sweep of every rule over the nodes still in the body. */
static void sweep(Dce *d) {
    IrFunc *f = d->f;
    uint32_t count = ir_preorder(f, d->order);
    for (uint32_t i = 0; i < count; i++) {
        NodeId id = d->order[i];
        if (!in_body(f, id)) continue; /* removed earlier in this sweep */
        OpId op = ir_node(f, id)->in.op;
        if (op == OP_NOP) drop_node(d, id);
        else if (op == OP_LOCAL_SET || op == OP_LOCAL_TEE) dead_store(d, id);
        if (in_body(f, id) && op == OP_LOCAL_SET) stackify(d, id);
        else if (op == OP_DROP) drop_pure_value(d, id);
        else fold_constant(d, id);
        if (in_body(f, id) && ends_block(ir_node(f, id)->in.op)) remove_tail(d, id);
        if (in_body(f, id) && ir_is_structured(ir_node(f, id)->in.op)) empty_structure(d, id);
        if (in_body(f, id)) unused_pure(d, id);
    }
}

/* Contract: drops declared locals nobody reads or writes and renumbers the others,
 * most used first (ties: by type, then old index), rewriting every local access. */
static void compact_locals(Dce *d);

bool dce_function(IrFunc *f, void *arg, WsError *err) {
    (void)err;
    PassCtx *ctx = arg;
    uint32_t nlocals = f->nlocals;
    Dce d = {f, NULL, NULL, 0, 0, true, dce_impure(&ctx->opt->dce), ctx->opt->dce.traps_never_happen};
    for (int round = 0; d.changed && round < 16; round++) {
        d.changed = false;
        d.order = ws_realloc(d.order, (f->nnodes + 1) * sizeof(NodeId));
        d.mark = ws_realloc(d.mark, (f->nnodes + 1) * sizeof(uint32_t));
        memset(d.mark, 0, (f->nnodes + 1) * sizeof(uint32_t));
        d.stamp = 0;
        sweep(&d);
    }
    compact_locals(&d);
    free(d.order);
    free(d.mark);
    PassStats delta = {0};
    delta.instrs_removed = d.removed;
    delta.locals_removed = nlocals - f->nlocals;
    delta.funcs_changed = d.removed || nlocals != f->nlocals;
    if (delta.funcs_changed) pass_stats_add(ctx, &delta);
    return true;
}

typedef struct LocalRank { uint32_t old, uses, type_rank; } LocalRank;

/* Many locals: the most used get the one-byte indices. */
static int by_uses(const void *a, const void *b) {
    const LocalRank *x = a, *y = b;
    if (x->uses != y->uses) return x->uses > y->uses ? -1 : 1;
    return x->old < y->old ? -1 : x->old > y->old;
}

/* Few locals: one declaration group per type (types in order of first appearance). */
static int by_type(const void *a, const void *b) {
    const LocalRank *x = a, *y = b;
    if (x->type_rank != y->type_rank) return x->type_rank < y->type_rank ? -1 : 1;
    return x->old < y->old ? -1 : x->old > y->old;
}

/* Rank of each kept local's type: the position of the first kept local of that type. */
static void rank_types(const IrFunc *f, LocalRank *rank, uint32_t n) {
    for (uint32_t i = 0; i < n; i++) {
        rank[i].type_rank = i;
        for (uint32_t k = 0; k < i; k++)
            if (vt_eq(f->locals[rank[k].old].type, f->locals[rank[i].old].type) &&
                f->locals[rank[k].old].type.code == f->locals[rank[i].old].type.code) {
                rank[i].type_rank = rank[k].type_rank;
                break;
            }
    }
}

static void compact_locals(Dce *d) {
    IrFunc *f = d->f;
    uint32_t nparams = f->nparams, ndecl = f->nlocals - nparams, nkeep = 0;
    LocalRank *rank = ws_malloc((ndecl + 1) * sizeof(LocalRank));
    for (uint32_t l = nparams; l < f->nlocals; l++) {
        uint32_t uses = f->locals[l].ngets + f->locals[l].nsets;
        if (uses) rank[nkeep++] = (LocalRank){l, uses, 0};
    }
    bool wide = f->nlocals > 128; /* only then does the order change index sizes */
    if (wide) {
        qsort(rank, nkeep, sizeof(LocalRank), by_uses);
    } else {
        rank_types(f, rank, nkeep);
        qsort(rank, nkeep, sizeof(LocalRank), by_type);
    }
    bool same = nkeep == ndecl;
    for (uint32_t i = 0; same && i < nkeep; i++) same = rank[i].old == nparams + i;
    if (same) { free(rank); return; }
    uint32_t *map = ws_malloc((f->nlocals + 1) * sizeof(uint32_t));
    for (uint32_t l = 0; l < nparams; l++) map[l] = l;
    IrLocal *old = ws_malloc((f->nlocals + 1) * sizeof(IrLocal));
    memcpy(old, f->locals, f->nlocals * sizeof(IrLocal));
    for (uint32_t i = 0; i < nkeep; i++) {
        map[rank[i].old] = nparams + i;
        f->locals[nparams + i] = old[rank[i].old];
    }
    uint32_t count = ir_preorder(f, d->order);
    for (uint32_t i = 0; i < count; i++) {
        IrNode *n = ir_node(f, d->order[i]);
        if (n->in.op == OP_LOCAL_GET || n->in.op == OP_LOCAL_SET || n->in.op == OP_LOCAL_TEE) {
            n->in.a = map[n->in.a];
            ir_touch(f, d->order[i]);
        }
    }
    f->nlocals = nparams + nkeep;
    f->locals_changed = true;
    free(map);
    free(old);
    free(rank);
}

/* The scan's verdicts, and the bodies that only lose their nops, re-encoded from their
 * bytes (one buffer each, handed to the module once all are done). */
typedef struct DceJob {
    const Module *m;
    uint8_t *verdict;   /* per defined function: a DceVerdict */
    uint8_t *want;      /* per defined function: build the IR */
    Buf *stripped;      /* per defined function: the DCE_NOPS body without its nops */
    uint32_t *nops;     /* per defined function: how many went */
    uint8_t *canonical; /* per defined function: the scan found its bytes canonical */
    uint32_t *params;   /* per defined function scanned and cleared: its untouched params */
    uint8_t *scanned;   /* per defined function: the scan ran (no earlier fixpoint) */
    bool every_body;    /* --ignore-implicit-traps: the scan judges by DCE_IMPURE, so
                           every body goes to the IR */
} DceJob;

static void verdict_one(void *arg, uint32_t k, uint32_t worker) {
    (void)worker;
    DceJob *j = arg;
    const Func *fn = &j->m->funcs[j->m->nfunc_imports + k];
    DceScanInfo info = {0};
    j->scanned[k] = fn->dce_fixpoint != fn->body.p;
    j->verdict[k] = j->every_body ? DCE_BUILD
                    : !j->scanned[k] ? DCE_STAYS
                                     : dce_scan_function(j->m, j->m->nfunc_imports + k, &info);
    j->canonical[k] = info.canonical;
    j->params[k] = info.params_untouched;
    j->want[k] = j->verdict[k] == DCE_BUILD;
}

/* Contract: pool_for body: a DCE_NOPS body re-encoded canonically without its nops
 * (what dce's IR round trip gives it); one the re-encoding rejects goes to the IR. */
static void strip_one(void *arg, uint32_t k, uint32_t worker) {
    (void)worker;
    DceJob *j = arg;
    if (j->verdict[k] != DCE_NOPS) return;
    const Func *fn = &j->m->funcs[j->m->nfunc_imports + k];
    WsError err;
    Cursor c = {j->m->input, fn->body.p, fn->body.p + fn->body.len, &err};
    if (setjmp(err.jb)) {
        j->verdict[k] = DCE_BUILD;
        j->want[k] = 1;
        return;
    }
    j->nops[k] = body_canonicalize_without_nops(&c, &j->stripped[k]);
}

/* Contract: points each DCE_NOPS function at its stripped body (canonical: the writer
 * copies it) and counts what went. */
static void install_stripped(PassCtx *ctx, Module *m, DceJob *j) {
    PassStats delta = {0};
    for (uint32_t k = 0; k < module_ndefined_funcs(m); k++) {
        if (j->verdict[k] != DCE_NOPS) continue;
        Func *fn = &m->funcs[m->nfunc_imports + k];
        Buf *b = &j->stripped[k];
        const uint8_t *old = fn->body.p;
        fn->body.p = module_own(m, ws_realloc(b->data, b->len + 1));
        module_note_same_refs(m, m->nfunc_imports + k, old, fn->body.p); /* nops name nothing */
        fn->body.len = (uint32_t)b->len;
        fn->changed = true;
        fn->valid = false;
        memset(b, 0, sizeof *b);
        m->code_changed = true;
        delta.instrs_removed += j->nops[k];
        delta.funcs_changed++;
    }
    if (delta.funcs_changed) pass_stats_add(ctx, &delta);
}

/* Contract: the bodies dce leaves as they are, and those it only stripped of nops (the
 * scan judged them without their nops: nothing more would change), are marked so that
 * a later dce in the pipeline skips them unless another pass replaces them; those the
 * scan found canonical are marked so that the writer copies them; the params a scanned
 * body never names are noted for dead-params.  (Bodies the IR
 * rewrote are not marked: a second sweep over its output can still find something, a
 * constant left under a branch's value.) */
static void mark_fixpoints(Module *m, const DceJob *j) {
    for (uint32_t k = 0; k < module_ndefined_funcs(m); k++) {
        Func *fn = &m->funcs[m->nfunc_imports + k];
        if (j->verdict[k] != DCE_BUILD) fn->dce_fixpoint = fn->body.p;
        if (j->verdict[k] == DCE_STAYS && j->canonical[k]) fn->canonical_at = fn->body.p;
        if (j->verdict[k] != DCE_BUILD && j->scanned[k]) { /* stripped nops name no local */
            fn->params_at = fn->body.p;
            fn->params_untouched = j->params[k];
        }
    }
}

/* Contract: runs dce on the functions the quick scan cannot clear (dce_scan.c) and that
 * an earlier scan did not clear (unless another pass replaced them since); those it
 * finds holding only dead nops lose them on their bytes; the others keep their bytes
 * and validation marks (dce changes bodies only), and a module none of whose functions
 * needs a look is reported unchanged. */
void pass_dce(PassCtx *ctx, Module *m) {
    uint32_t n = module_ndefined_funcs(m), jobs = ctx->jobs ? ctx->jobs : 1;
    DceJob j = {m, ws_calloc(n + 1, 1), ws_calloc(n + 1, 1), ws_calloc(n + 1, sizeof(Buf)),
                ws_calloc(n + 1, sizeof(uint32_t)), ws_calloc(n + 1, 1), ws_calloc(n + 1, sizeof(uint32_t)),
                ws_calloc(n + 1, 1), ctx->opt->dce.ignore_traps};
    pool_for(jobs, n, verdict_one, &j);
    bool strip = memchr(j.verdict, DCE_NOPS, n) != NULL;
    if (strip) pool_for(jobs, n, strip_one, &j);
    bool build = memchr(j.want, 1, n) != NULL;
    if (!strip && !build) ctx->unchanged = true;
    ctx->bodies_only = true; /* module_rewrite_some and install_stripped clear the marks */
    if (build && !module_rewrite_some(m, jobs, j.want, dce_function, ctx, &ctx->err)) ctx->failed = true;
    if (!ctx->failed && strip) install_stripped(ctx, m, &j);
    if (!ctx->failed) mark_fixpoints(m, &j);
    for (uint32_t k = 0; k < n; k++) buf_free(&j.stripped[k]);
    free(j.verdict);
    free(j.want);
    free(j.stripped);
    free(j.nops);
    free(j.canonical);
    free(j.params);
    free(j.scanned);
}
