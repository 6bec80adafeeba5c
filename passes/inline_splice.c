/* inline_splice.c - the IR surgery of the inline pass: one call replaced by a copy of
 * the callee's body.
 *
 *   before:                                  after:
 *     (func $get (param i32) (result i32)      local.get $p
 *       local.get 0  i32.load offset=4)        i32.load offset=4
 *     ... local.get $p  call $get ...
 *
 * The callee's locals become new locals of the caller; the parameters are stored from
 * the call's operands, except that a parameter read once, right where the stores end,
 * keeps its value on the stack (both the store and the read go).  A callee without
 * `return`, tail calls or branches to its function label is spliced flat into the
 * caller's sequence; any other goes into a `block` typed like the callee, whose label
 * its returns branch to (`return` -> `br N`, `return_call f` -> `call f  br N`).  Labels
 * inside the body are relative, so every other branch, `delegate`, `rethrow` and
 * try_table catch keeps its meaning: the block stands where the function's label was.
 * A final top-level `return` that discards nothing is dropped first (-O0 code ends
 * every function with one).  At a `return_call` site the body's returns and tail calls
 * stay what they are (they return from the caller) and a `return` takes the values the
 * body leaves.  A tail call inside `try` or `try_table` - in the callee at an ordinary
 * site, or the site itself - is left alone: as a plain call inside the handlers, what
 * its callee throws would be caught where it used to escape.  Declared locals that may
 * be read before being written are zeroed first when the site is inside a loop
 * (elsewhere the caller's fresh locals already are zero; a non-nullable reference
 * local is always written first, validation guarantees it). */
#include "inline.h"
#include "../ir/edit.h"
#include <stdlib.h>

enum { ACC_NONE, ACC_READ, ACC_SET_TOP, ACC_SET_NESTED };  /* first access to a local */

/* Where the body of one splice goes, and what it left. */
typedef struct Region {
    NodeId call;             /* the call being replaced (linked until the end) */
    uint32_t callee;
    NodeId block;            /* the block holding the body; 0 = flat */
    bool tail;               /* return_call site */
    bool params_stored;      /* parameters stored before the block, which takes none */
    uint32_t base;           /* caller local of callee local 0 */
    uint32_t nres;           /* callee results */
    uint32_t nends;          /* values the callee body leaves at its end (flat mode) */
    uint32_t ordinal;        /* calls of the callee copied so far */
    NodeId trailing;         /* callee's final top-level `return`, dropped (0: none) */
} Region;

static bool is_local_op(OpId op) { return op == OP_LOCAL_GET || op == OP_LOCAL_SET || op == OP_LOCAL_TEE; }

static bool is_return_call(OpId op) {
    return op == OP_RETURN_CALL || op == OP_RETURN_CALL_INDIRECT || op == OP_RETURN_CALL_REF;
}

void inline_splicer_init(InlSplicer *s, const Module *m, IrFunc *f, const InlSite *sites,
                         const InlFunc *funcs) {
    memset(s, 0, sizeof *s);
    s->m = m;
    s->f = f;
    s->sites = sites;
    s->funcs = funcs;
}

void inline_splicer_free(InlSplicer *s) {
    ir_free(&s->callee);
    free(s->map);
    free(s->depth);
    free(s->order);
    free(s->access);
    free(s->args);
    free(s->sets);
    free(s->ends);
    free(s->queue);
    free(s->queue_callee);
    buf_free(&s->enc);
}

/* Contract: the per-callee scratch arrays hold at least nodes nodes and locals locals. */
static void reserve(InlSplicer *s, uint32_t nodes, uint32_t locals) {
    if (nodes > s->cap) {
        s->cap = nodes;
        s->map = ws_realloc(s->map, nodes * sizeof(NodeId));
        s->depth = ws_realloc(s->depth, nodes * sizeof(uint32_t));
        s->order = ws_realloc(s->order, nodes * sizeof(NodeId));
    }
    if (locals > s->cap_access) {
        s->cap_access = locals;
        s->access = ws_realloc(s->access, locals);
        s->sets = ws_realloc(s->sets, locals * sizeof(NodeId));
        s->ends = ws_realloc(s->ends, locals * sizeof(ValueRef));
    }
}

/* ---- what the callee needs ---- */

/* True if node n (with d structured ancestors) names its function's label: a branch to
 * depth d, a try_table catch or a delegate to depth d (those count from outside). */
static bool names_function_label(const IrNode *n, uint32_t d) {
    const uint8_t *p = n->in.vec;
    switch (n->in.op) {
    case OP_BR: case OP_BR_IF: case OP_BR_ON_NULL: case OP_BR_ON_NON_NULL:
    case OP_BR_ON_CAST: case OP_BR_ON_CAST_FAIL:
        return n->in.a == d;
    case OP_BR_TABLE:
        for (uint32_t i = 0; i < n->in.n; i++)
            if (br_table_label_next(&p) == d) return true;
        return n->in.a == d;
    case OP_TRY_TABLE:
        for (uint32_t i = 0; i < n->in.n; i++)
            if (catch_next(&p).label == d) return true;
        return false;
    case OP_TRY:
        return (n->flags & IRN_DELEGATE) && ir_delegate(n) == d;
    default:
        return false;
    }
}

/* Contract: the callee's last top-level node if it is a `return` that discards nothing
 * (every value at the top level has a user): it can go, its operands becoming the
 * values the body ends with.  0 otherwise. */
static NodeId trailing_return(const IrFunc *c) {
    NodeId last = c->body.last;
    if (!last || ir_node(c, last)->in.op != OP_RETURN) return 0;
    for (NodeId id = c->body.first; id; id = ir_node(c, id)->next)
        for (uint32_t k = 0; k < ir_node(c, id)->nres; k++) {
            IrUse u = ir_uses(c, ir_node(c, id))[k];
            if (!u.user && !(u.slot & IR_ARM_END)) return 0;
        }
    return last;
}

static bool has_ancestor(const IrFunc *f, NodeId id, OpId a, OpId b) {
    for (NodeId p = ir_node(f, id)->parent; p; p = ir_node(f, p)->parent)
        if (ir_node(f, p)->in.op == a || ir_node(f, p)->in.op == b) return true;
    return false;
}

/* What one walk over the callee found. */
typedef struct Shape {
    bool block;              /* its body needs a block at this site */
    bool tail_in_try;        /* a tail call inside try or try_table: as a plain call,
                              * the handlers would catch what the callee throws */
} Shape;

/* Contract: walks the callee once: preorder into s->order (count in *n), depths, the
 * first access of every local, and its shape at this site (the trailing return aside). */
static Shape survey(InlSplicer *s, bool tail, NodeId trailing, uint32_t *n) {
    const IrFunc *c = &s->callee;
    reserve(s, c->nnodes + 1, c->nlocals + c->nbody_results + 1);
    memset(s->access, ACC_NONE, c->nlocals + 1);
    *n = ir_preorder(c, s->order);
    bool label = false, ret = false;
    Shape sh = {false, false};
    for (uint32_t i = 0; i < *n; i++) {
        NodeId id = s->order[i];
        const IrNode *nd = ir_node(c, id);
        uint32_t d = nd->parent ? s->depth[nd->parent] + 1 : 0;
        s->depth[id] = d;
        label = label || names_function_label(nd, d);
        ret = ret || (nd->in.op == OP_RETURN && id != trailing) || is_return_call(nd->in.op);
        if (is_return_call(nd->in.op) && has_ancestor(c, id, OP_TRY, OP_TRY_TABLE)) sh.tail_in_try = true;
        if (!is_local_op(nd->in.op) || s->access[nd->in.a] != ACC_NONE) continue;
        s->access[nd->in.a] = nd->in.op == OP_LOCAL_GET ? ACC_READ : d == 0 ? ACC_SET_TOP : ACC_SET_NESTED;
    }
    sh.block = label || (!tail && ret);
    return sh;
}

/* ---- creating nodes ---- */

/* The type of the function a call instruction calls. */
static const TypeDef *call_type(const Module *m, const Instr *in) {
    if (in->op == OP_CALL || in->op == OP_RETURN_CALL) return &m->types[m->funcs[in->a].type];
    return &m->types[in->a];
}

/* Contract: links caller node id where callee node c belongs: inside the copy of c's
 * parent, else at the end of the block, else just before the call (flat). */
static void place(InlSplicer *s, const Region *r, NodeId c, NodeId id) {
    IrFunc *f = s->f;
    const IrNode *cn = ir_node(&s->callee, c);
    if (cn->parent) {
        NodeId p = s->map[cn->parent];
        ir_insert_after(f, p, cn->parent_arm, ir_parent_arm(f, p, cn->parent_arm)->last, id);
    } else if (r->block) {
        ir_insert_after(f, r->block, 0, ir_parent_arm(f, r->block, 0)->last, id);
    } else {
        ir_insert_before(f, r->call, id);
    }
}

/* Contract: gives caller node id the operands of callee node cn, remapped. */
static void set_mapped_args(InlSplicer *s, NodeId id, const IrNode *cn) {
    const IrFunc *c = &s->callee;
    ws_grow((void **)&s->args, &s->cap_args, cn->nargs + 1, sizeof(ValueRef));
    for (uint32_t i = 0; i < cn->nargs; i++) {
        ValueRef v = ir_args(c, cn)[i];
        s->args[i] = v.node ? (ValueRef){s->map[v.node], v.idx} : IR_POLY;
    }
    ir_set_args(s->f, id, s->args, cn->nargs);
}

/* Contract: results of callee node c left at an arm's end stay there in the copy; those
 * left at the function body's end go to the block's end, or are remembered (flat). */
static void copy_end_uses(InlSplicer *s, Region *r, NodeId c, NodeId id) {
    const IrFunc *cf = &s->callee;
    const IrNode *cn = ir_node(cf, c);
    for (uint32_t k = 0; k < cn->nres; k++) {
        IrUse u = ir_uses(cf, cn)[k];
        if (!(u.slot & IR_ARM_END)) continue;
        IrUse *to = &ir_uses(s->f, ir_node(s->f, id))[k];
        if (u.user) {
            *to = (IrUse){s->map[u.user], u.slot};
        } else if (r->block) {
            *to = (IrUse){r->block, u.slot};
        } else {
            uint32_t slot = u.slot & 0xffff;
            s->ends[slot] = (ValueRef){id, k};
            if (slot + 1 > r->nends) r->nends = slot + 1;
        }
    }
}

/* Contract: a callee's call or return_call copied: counts its ordinal and queues the
 * copy when the callee's own decision inlines it (apply mode). */
static void note_call(InlSplicer *s, Region *r, OpId op, NodeId copy, uint32_t target) {
    if (op != OP_CALL && op != OP_RETURN_CALL) return;
    uint32_t k = r->ordinal++;
    const InlFunc *cf = &s->funcs[r->callee];
    if (!s->nested || k >= cf->nsites || s->sites[cf->first_site + k].state != INL_YES) return;
    ws_grow((void **)&s->queue, &s->cap_queue, s->nqueue + 1, sizeof(NodeId));
    ws_grow((void **)&s->queue_callee, &s->cap_queue_callee, s->nqueue + 1, sizeof(uint32_t));
    s->queue[s->nqueue] = copy;
    s->queue_callee[s->nqueue++] = target;
}

/* Contract: a tail call of the callee at an ordinary site: the matching plain call,
 * then a branch out of the block with its results. */
static void clone_tail_call(InlSplicer *s, Region *r, NodeId c) {
    IrFunc *f = s->f;
    const IrNode *cn = ir_node(&s->callee, c);
    Instr in = cn->in;
    in.op = in.op == OP_RETURN_CALL ? OP_CALL : in.op == OP_RETURN_CALL_INDIRECT ? OP_CALL_INDIRECT : OP_CALL_REF;
    const TypeDef *t = call_type(s->m, &in);
    ValType t0 = t->nresults ? t->results[0] : vt_num(0);
    NodeId call = ir_new_node(f, &in, t->nresults, &t0);
    s->map[c] = call;
    set_mapped_args(s, call, cn);
    place(s, r, c, call);
    Instr br = ir_instr(OP_BR);
    br.a = s->depth[c];
    NodeId b = ir_new_node(f, &br, 0, NULL);
    ws_grow((void **)&s->args, &s->cap_args, t->nresults + 1, sizeof(ValueRef));
    for (uint32_t i = 0; i < t->nresults; i++) s->args[i] = (ValueRef){call, i};
    ir_set_args(f, b, s->args, t->nresults);
    ir_node(f, b)->flags |= IRN_UNREACHABLE_AFTER;
    ir_insert_after(f, ir_node(f, call)->parent, ir_node(f, call)->parent_arm, call, b);
    note_call(s, r, cn->in.op, call, (uint32_t)cn->in.a);
}

/* Contract: copies callee node c into the caller (operands remapped, locals moved by
 * base, returns turned into branches unless at a tail site) and links it in place. */
static void clone_node(InlSplicer *s, Region *r, NodeId c) {
    IrFunc *f = s->f;
    const IrNode *cn = ir_node(&s->callee, c);
    if (!r->tail && is_return_call(cn->in.op)) {
        clone_tail_call(s, r, c);
        return;
    }
    Instr in = cn->in;
    if (is_local_op(in.op)) in.a += r->base;
    if (!r->tail && in.op == OP_RETURN) {
        in = ir_instr(OP_BR);
        in.a = s->depth[c];
    }
    NodeId id;
    if (ir_is_structured(in.op)) {
        id = ir_new_structured(f, &in, cn->nres, &cn->type, cn->narms);
        uint32_t src = cn->arms;
        for (uint32_t a = ir_node(f, id)->arms; a; a = f->arms[a].next, src = s->callee.arms[src].next) {
            f->arms[a].head = s->callee.arms[src].head;
            f->arms[a].nparams = s->callee.arms[src].nparams;
            f->arms[a].param_types = s->callee.arms[src].param_types;
        }
    } else {
        id = ir_new_node(f, &in, cn->nres, &cn->type);
    }
    ir_node(f, id)->flags = cn->flags & (uint16_t)~IRN_SRC; /* its `in` may have changed */
    s->map[c] = id;
    set_mapped_args(s, id, cn);
    copy_end_uses(s, r, c, id);
    place(s, r, c, id);
    if (cn->in.op == OP_CALL || cn->in.op == OP_RETURN_CALL) note_call(s, r, cn->in.op, id, (uint32_t)cn->in.a);
}

/* Contract: the dropped trailing return: its operands are the values the body ends
 * with (left at the block's end, or remembered when flat). */
static void take_trailing(InlSplicer *s, Region *r, NodeId c) {
    IrFunc *f = s->f;
    const IrNode *cn = ir_node(&s->callee, c);
    for (uint32_t i = 0; i < cn->nargs; i++) {
        ValueRef v = ir_args(&s->callee, cn)[i];
        ValueRef mv = v.node ? (ValueRef){s->map[v.node], v.idx} : IR_POLY;
        if (!r->block) s->ends[i] = mv;
        else if (mv.node && !(mv.idx & IR_PARAM)) ir_uses(f, ir_node(f, mv.node))[mv.idx] = (IrUse){r->block, IR_ARM_END | i};
    }
    if (!r->block) r->nends = cn->nargs;
}

/* ---- the region around the body ---- */

/* Contract: moves the call's operands into s->args (count in *n), leaving it without. */
static void take_args(InlSplicer *s, NodeId call, uint32_t *n) {
    IrFunc *f = s->f;
    const IrNode *cn = ir_node(f, call);
    *n = cn->nargs;
    ws_grow((void **)&s->args, &s->cap_args, *n + 1, sizeof(ValueRef));
    if (*n) memcpy(s->args, ir_args(f, cn), *n * sizeof(ValueRef));
    ir_set_args(f, call, NULL, 0);
}

/* Contract: a block typed like the callee in place of the call: it takes the call's
 * operands as its parameters (unless they were stored before it) and gives its results
 * to the call's users. */
static void open_block(InlSplicer *s, Region *r, uint32_t nargs) {
    IrFunc *f = s->f;
    const TypeDef *t = s->callee.type;
    uint32_t nparams = r->params_stored ? 0 : t->nparams;
    Instr in = ir_instr(OP_BLOCK);
    if (nparams == 0 && t->nresults == 1) {
        in.bt.kind = BT_VAL;
        in.bt.val = t->results[0];
    } else if (nparams || t->nresults) {
        in.bt.kind = BT_TYPE;
        in.bt.type = s->m->funcs[r->callee].type;
    }
    ValType t0 = t->nresults ? t->results[0] : vt_num(0);
    NodeId k = ir_new_structured(f, &in, t->nresults, &t0, 1);
    IrArm *arm = &f->arms[ir_node(f, k)->arms];
    arm->nparams = nparams;
    arm->param_types = nparams ? t->params : NULL;
    ir_set_args(f, k, s->args, nparams ? nargs : 0);
    ir_insert_before(f, r->call, k);
    r->block = k;
    for (uint32_t i = 0; i < t->nresults && !r->tail; i++)
        ir_replace_value(f, (ValueRef){r->call, i}, (ValueRef){k, i});
}

/* Contract: links a new plain node at the region's current end. */
static void append(InlSplicer *s, const Region *r, NodeId id) {
    IrFunc *f = s->f;
    if (r->block) ir_insert_after(f, r->block, 0, ir_parent_arm(f, r->block, 0)->last, id);
    else ir_insert_before(f, r->call, id);
}

/* Contract: an instruction pushing the default value of t (zero, null); false for a
 * type without one. */
static bool zero_of(ValType t, Instr *in) {
    static const uint8_t zeros[16];
    OpId op = t.code == VT_I32 ? OP_I32_CONST : t.code == VT_I64 ? OP_I64_CONST : t.code == VT_F32 ? OP_F32_CONST
            : t.code == VT_F64 ? OP_F64_CONST : t.code == VT_V128 ? OP_V128_CONST : OP_COUNT;
    if (op == OP_COUNT && !vt_nullable(t)) return false;
    *in = ir_instr(op == OP_COUNT ? OP_REF_NULL : op);
    in->bytes = zeros;
    in->heap = t.heap;
    return true;
}

/* Contract: zeroes the callee's declared locals that may be read before written, when
 * the region can run more than once per call of the caller (inside a loop). */
static void zero_locals(InlSplicer *s, const Region *r, bool in_loop) {
    const IrFunc *c = &s->callee;
    IrFunc *f = s->f;
    for (uint32_t l = c->nparams; in_loop && l < c->nlocals; l++) {
        Instr in, set = ir_instr(OP_LOCAL_SET);
        if (!c->locals[l].ngets || s->access[l] == ACC_SET_TOP || !zero_of(c->locals[l].type, &in)) continue;
        NodeId z = ir_new_node(f, &in, 1, &c->locals[l].type);
        append(s, r, z);
        set.a = r->base + l;
        ir_append_simple(f, ir_node(f, z)->parent, ir_node(f, z)->parent_arm, z, &set, &(ValueRef){z, 0}, 1, 0,
                         vt_num(0));
    }
}

/* Contract: stores the parameters, last first (the top of the stack), from the call's
 * operands (flat) or the block's parameters; remembers the stores in s->sets. */
static void store_params(InlSplicer *s, const Region *r) {
    IrFunc *f = s->f;
    uint32_t n = s->callee.nparams;
    for (uint32_t k = 0; k < n; k++) {
        uint32_t i = n - 1 - k;
        Instr set = ir_instr(OP_LOCAL_SET);
        set.a = r->base + i;
        NodeId id = ir_new_node(f, &set, 0, NULL);
        ValueRef v = r->block ? (ValueRef){r->block, IR_PARAM | i} : s->args[i];
        ir_set_args(f, id, &v, 1);
        append(s, r, id);
        s->sets[k] = id;
    }
}

/* The value the flat body leaves for result i (bodies ending unreachable may leave
 * fewer: the bottom ones come from the polymorphic stack). */
static ValueRef end_value(const InlSplicer *s, const Region *r, uint32_t i) {
    uint32_t missing = r->nres - r->nends;
    return i < missing ? IR_POLY : s->ends[i - missing];
}

/* Contract: hands the body's results on: to the call's users (flat), or to a `return`
 * after the body at a tail site. */
static void finish_results(InlSplicer *s, const Region *r) {
    IrFunc *f = s->f;
    if (r->tail) {
        ws_grow((void **)&s->args, &s->cap_args, r->nres + 1, sizeof(ValueRef));
        for (uint32_t i = 0; i < r->nres; i++)
            s->args[i] = r->block ? (ValueRef){r->block, i} : end_value(s, r, i);
        Instr ret = ir_instr(OP_RETURN);
        NodeId id = ir_new_node(f, &ret, 0, NULL);
        ir_set_args(f, id, s->args, r->nres);
        ir_node(f, id)->flags |= IRN_UNREACHABLE_AFTER;
        ir_insert_before(f, r->call, id);
    } else if (!r->block) {
        for (uint32_t i = 0; i < r->nres; i++) ir_replace_value(f, (ValueRef){r->call, i}, end_value(s, r, i));
    }
}

/* Contract: while the last parameter store is directly followed by the only read of its
 * local, the read's user takes the stored value itself and both go: the argument stays
 * on the stack where the read would have pushed it. */
static void forward_params(InlSplicer *s, uint32_t nsets) {
    IrFunc *f = s->f;
    for (uint32_t k = nsets; k-- > 0;) {
        NodeId set = s->sets[k], next = ir_node(f, set)->next;
        uint32_t l = (uint32_t)ir_node(f, set)->in.a;
        if (!next || ir_node(f, next)->in.op != OP_LOCAL_GET || ir_node(f, next)->in.a != l || f->locals[l].ngets != 1)
            return;
        ValueRef v = ir_args(f, ir_node(f, set))[0];
        ir_set_args(f, set, NULL, 0);
        ir_replace_value(f, (ValueRef){next, 0}, v);
        ir_unlink(f, set);
        ir_unlink(f, next);
    }
}

/* ---- measuring ---- */

static bool linked(IrFunc *f, NodeId id) {
    const IrNode *n = ir_node(f, id);
    return n->prev || n->next || ir_parent_arm(f, n->parent, n->parent_arm)->first == id;
}

/* Contract: encoded bytes of node id alone: its instruction, and for a structured node
 * the heads of its later arms and its end (or delegate). */
static uint32_t node_bytes(InlSplicer *s, NodeId id) {
    IrFunc *f = s->f;
    const IrNode *n = ir_node(f, id);
    s->enc.len = 0;
    instr_encode(&s->enc, &n->in);
    if (!ir_is_structured(n->in.op)) return (uint32_t)s->enc.len;
    for (uint32_t a = f->arms[n->arms].next; a; a = f->arms[a].next) instr_encode(&s->enc, &f->arms[a].head);
    return (uint32_t)s->enc.len + 1 + ((n->flags & IRN_DELEGATE) ? leb_size_u64(ir_delegate(n)) : 0);
}

static uint32_t valtype_bytes(ValType t) {
    return 1 + ((t.code == VT_REF || t.code == VT_REF_NULL) ? leb_size_s64(t.heap) : 0);
}

uint32_t inline_decl_bytes(const IrFunc *f) {
    uint32_t groups = 0, bytes = 0, run = 0;
    ValType prev = vt_num(0);
    for (uint32_t l = f->nparams; l < f->nlocals; l++) {
        const IrLocal *lo = &f->locals[l];
        if (!lo->ngets && !lo->nsets) continue;
        if (run && vt_eq(lo->type, prev) && lo->type.code == prev.code) { run++; continue; }
        if (run) bytes += leb_size_u64(run) + valtype_bytes(prev);
        groups++;
        run = 1;
        prev = lo->type;
    }
    if (run) bytes += leb_size_u64(run) + valtype_bytes(prev);
    return bytes + leb_size_u64(groups);
}

/* Contract: the bytes nodes [first, f->nnodes) that are still linked encode to. */
static int64_t new_bytes(InlSplicer *s, NodeId first) {
    int64_t total = 0;
    for (NodeId id = first; id < s->f->nnodes; id++)
        if (linked(s->f, id)) total += node_bytes(s, id);
    return total;
}

/* ---- the splice ---- */

/* Contract: the callee's copy between the region's start and the call (its locals are
 * the caller's already): zeroes, parameter stores, body, results; the call is unlinked
 * at the end. */
static void splice_body(InlSplicer *s, Region *r, uint32_t norder) {
    IrFunc *f = s->f;
    const IrFunc *c = &s->callee;
    bool in_loop = has_ancestor(f, r->call, OP_LOOP, OP_LOOP);
    zero_locals(s, r, in_loop);
    if (!r->params_stored) store_params(s, r);
    for (uint32_t i = 0; i < norder; i++) {
        if (s->order[i] == r->trailing) take_trailing(s, r, s->order[i]);
        else clone_node(s, r, s->order[i]);
    }
    finish_results(s, r);
    forward_params(s, c->nparams);
    ir_unlink(f, r->call);
}

bool inline_splice(InlSplicer *s, NodeId call, uint32_t callee, int64_t *growth, bool *skipped,
                   WsError *err) {
    IrFunc *f = s->f;
    Region r = {0};
    r.call = call;
    r.callee = callee;
    r.tail = ir_node(f, call)->in.op == OP_RETURN_CALL;
    /* a tail call leaves the caller's handlers behind: its callee cannot sit inside them */
    *skipped = r.tail && has_ancestor(f, call, OP_TRY, OP_TRY_TABLE);
    if (*skipped) return true;
    if (!ir_build(&s->callee, s->m, callee, err)) return false;
    uint32_t norder, nargs;
    r.base = f->nlocals;
    r.nres = s->callee.nbody_results;
    r.trailing = trailing_return(&s->callee);
    Shape sh = survey(s, r.tail, r.trailing, &norder);
    *skipped = f->nlocals + s->callee.nlocals > INL_MAX_LOCALS || (!r.tail && sh.tail_in_try);
    if (*skipped) return true;
    int64_t before = 0;
    NodeId first = f->nnodes;
    if (growth) before = node_bytes(s, call) + inline_decl_bytes(f);
    take_args(s, call, &nargs);
    for (uint32_t l = 0; l < s->callee.nlocals; l++) ir_add_local(f, s->callee.locals[l].type);
    if (sh.block && s->no_block_params && s->callee.nparams) { /* no multivalue: no block params */
        store_params(s, &r);
        r.params_stored = true;
    }
    if (sh.block) open_block(s, &r, nargs);
    splice_body(s, &r, norder);
    if (growth) *growth = new_bytes(s, first) + inline_decl_bytes(f) - before;
    s->nsplices++;
    return true;
}
