/* meter_emit.c - a small stack-machine emitter over the function IR, for the code the
 * metering pass injects: instructions are appended one after another at a position,
 * and each takes its operands from the values the emitter pushed before it, exactly as
 * the bytecode will read them.
 *
 *   em_at(&e, f, pos); em_global(&e, OP_GLOBAL_GET, g); em_i64(&e, 5);
 *   em_simple(&e, OP_I64_SUB); em_global(&e, OP_GLOBAL_SET, g);
 *   inserts at pos:   global.get g  i64.const 5  i64.sub  global.set g
 *   with %3 = i64.sub %1 %2 and global.set %3 wired as def-use. */
#include "meter.h"
#include <pthread.h>

void em_at(Emit *e, IrFunc *f, MeterPos p) {
    memset(e, 0, sizeof *e);
    e->f = f;
    e->parent = p.parent;
    e->arm = p.arm;
    e->after = p.after;
}

void em_before(Emit *e, IrFunc *f, NodeId before) {
    const IrNode *b = ir_node(f, before);
    MeterPos p = {b->parent, b->parent_arm, b->prev};
    em_at(e, f, p);
}

void em_push(Emit *e, ValueRef v) {
    if (e->sp < WS_ARRAY_LEN(e->stack)) e->stack[e->sp++] = v;
}

NodeId em_op(Emit *e, Instr in, uint32_t npop, uint32_t nres, ValType t) {
    IrFunc *f = e->f;
    NodeId id = ir_new_node(f, &in, nres, &t);
    uint32_t take = npop <= e->sp ? npop : e->sp;
    ValueRef args[4] = {IR_POLY, IR_POLY, IR_POLY, IR_POLY};
    if (npop > 4) npop = 4; /* the injected code never takes more */
    if (take > npop) take = npop;
    for (uint32_t i = 0; i < take; i++) args[npop - take + i] = e->stack[e->sp - take + i];
    e->sp -= take;
    ir_set_args(f, id, args, npop);
    ir_insert_after(f, e->parent, e->arm, e->after, id);
    e->after = id;
    for (uint32_t r = 0; r < nres; r++) em_push(e, (ValueRef){id, r});
    return id;
}

/* Per opcode with a "PARAMS:RESULTS" signature: how many it pops, and its result's
 * letter (0: none), parsed once rather than at each of the pass's million emits. */
static uint8_t simple_npop[OP_COUNT];
static char simple_result[OP_COUNT];
static pthread_once_t simple_once = PTHREAD_ONCE_INIT;

static void simple_init(void) {
    for (int op = 0; op < OP_COUNT; op++) {
        const char *sig = op_info[op].sig, *colon = sig ? strchr(sig, ':') : NULL;
        if (!colon) continue;
        simple_npop[op] = (uint8_t)(colon - sig);
        simple_result[op] = colon[1];
    }
}

/* Contract: an instruction with a fixed "PARAMS:RESULTS" signature (one result at most). */
NodeId em_simple(Emit *e, OpId op) {
    pthread_once(&simple_once, simple_init);
    Instr in = ir_instr(op);
    char res = simple_result[op];
    ValType t = res ? ir_sig_type(e->f->m, res, &in) : vt_num(0);
    return em_op(e, in, simple_npop[op], res != 0, t);
}

NodeId em_i32(Emit *e, int32_t v) {
    Instr in = ir_instr(OP_I32_CONST);
    in.i = v;
    return em_op(e, in, 0, 1, vt_num(VT_I32));
}

NodeId em_i64(Emit *e, int64_t v) {
    Instr in = ir_instr(OP_I64_CONST);
    in.i = v;
    return em_op(e, in, 0, 1, vt_num(VT_I64));
}

NodeId em_local(Emit *e, OpId op, uint32_t local) {
    Instr in = ir_instr(op);
    in.a = local;
    ValType t = e->f->locals[local].type;
    if (op == OP_LOCAL_GET) return em_op(e, in, 0, 1, t);
    if (op == OP_LOCAL_TEE) return em_op(e, in, 1, 1, t);
    return em_op(e, in, 1, 0, t);
}

NodeId em_global(Emit *e, OpId op, uint32_t global) {
    Instr in = ir_instr(op);
    in.a = global;
    ValType t = e->f->m->globals[global].type;
    return op == OP_GLOBAL_GET ? em_op(e, in, 0, 1, t) : em_op(e, in, 1, 0, t);
}

NodeId em_br_if(Emit *e, uint32_t depth) {
    Instr in = ir_instr(OP_BR_IF);
    in.a = depth;
    return em_op(e, in, 1, 0, vt_num(0));
}

NodeId em_call(Emit *e, uint32_t func, uint32_t npop, uint32_t nres, ValType t) {
    Instr in = ir_instr(OP_CALL);
    in.a = func;
    return em_op(e, in, npop, nres, t);
}

uint32_t em_add_arm(IrFunc *f, NodeId id, OpId head) {
    ws_grow_big((void **)&f->arms, &f->cap_arms, f->narms + 1, sizeof(IrArm));
    uint32_t a = f->narms++;
    memset(&f->arms[a], 0, sizeof(IrArm));
    f->arms[a].head = ir_instr(head);
    IrNode *n = ir_node(f, id);
    if (!n->arms) {
        n->arms = a;
        f->arms[a].head = n->in;
    } else {
        uint32_t last = n->arms;
        while (f->arms[last].next) last = f->arms[last].next;
        f->arms[last].next = a;
    }
    n->narms++;
    return a;
}

NodeId em_if(Emit *e, BlockType bt, uint32_t nres, ValType t, Emit *then, Emit *els) {
    Instr in = ir_instr(OP_IF);
    in.bt = bt;
    NodeId id = em_op(e, in, 1, nres, t);
    em_add_arm(e->f, id, OP_IF);
    em_at(then, e->f, (MeterPos){id, 0, 0});
    if (els) {
        em_add_arm(e->f, id, OP_ELSE);
        em_at(els, e->f, (MeterPos){id, 1, 0});
    }
    return id;
}

void em_arm_end(Emit *arm, NodeId node, uint32_t k) {
    for (uint32_t i = 0; i < arm->sp; i++) {
        ValueRef v = arm->stack[i];
        if (v.node == 0 || (v.idx & IR_PARAM)) continue;
        IrUse *u = &arm->f->uses[ir_node(arm->f, v.node)->uses + v.idx];
        u->user = node;
        u->slot = IR_ARM_END | k << 16 | i;
    }
    arm->sp = 0;
}

uint32_t meter_depth(const IrFunc *f, NodeId parent, NodeId target) {
    uint32_t depth = 0;
    for (NodeId p = parent; p && p != target; p = ir_node(f, p)->parent) depth++;
    return depth;
}

NodeId meter_label_target(const IrFunc *f, NodeId parent, uint32_t depth) {
    NodeId t = parent;
    for (uint32_t k = 0; k < depth && t; k++) t = ir_node(f, t)->parent;
    return t;
}
