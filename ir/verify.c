/* verify.c - internal consistency of the function IR (debug builds run it after every
 * pass): ids in range and reached once, sequence links and parents, operands defined
 * earlier in the same sequence (or parameters of the enclosing node), def-use agreeing
 * both ways, local def/use chains, operand types of instructions with a fixed signature. */
#include "func.h"
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

typedef struct Verifier {
    const IrFunc *f;
    uint32_t *pos;       /* position of each node in its sequence, 0 = not reached */
    char *msg;
    size_t n;
    bool ok;
} Verifier;

static bool bad(Verifier *v, const char *fmt, ...) {
    if (!v->ok) return false;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(v->msg, v->n, fmt, ap);
    va_end(ap);
    v->ok = false;
    return false;
}

/* Type of a value, or code 0 when unknown (polymorphic, later multi-value results). */
static ValType value_type(const IrFunc *f, ValueRef r) {
    ValType none = {0, 0};
    if (r.node == 0) return none;
    if (r.idx & IR_PARAM) {
        const IrArm *arm = ir_arm(f, ir_node(f, r.node), (r.idx >> 16) & 0x7fff);
        uint32_t i = r.idx & 0xffff;
        return i < arm->nparams && arm->param_types ? arm->param_types[i] : none;
    }
    return r.idx == 0 ? ir_node(f, r.node)->type : none;
}

/* Contract: operand types of an instruction with a fixed signature match it. */
static bool check_types(Verifier *v, NodeId id, const IrNode *n) {
    const char *sig = op_info[n->in.op].sig;
    if (sig[0] == '*') return true;
    const char *colon = strchr(sig, ':');
    if ((uint32_t)(colon - sig) != n->nargs) return bad(v, "node %u (%s): %u operands, signature wants %d", id, op_info[n->in.op].name, n->nargs, (int)(colon - sig));
    for (uint32_t i = 0; i < n->nargs; i++) {
        ValType have = value_type(v->f, ir_args(v->f, n)[i]), want = ir_sig_type(v->f->m, sig[i], &n->in);
        if (have.code && have.code != want.code)
            return bad(v, "node %u (%s): operand %u has type 0x%02x, wants 0x%02x", id, op_info[n->in.op].name, i, have.code, want.code);
    }
    return true;
}

/* Contract: each operand is produced earlier in the same sequence (or is a parameter of
 * the enclosing arm, or polymorphic) and names this node as its user. */
static bool check_args(Verifier *v, NodeId id, const IrNode *n) {
    const IrFunc *f = v->f;
    if (n->args + n->nargs > f->nrefs) return bad(v, "node %u: operands out of range", id);
    for (uint32_t i = 0; i < n->nargs; i++) {
        ValueRef r = ir_args(f, n)[i];
        if (r.node == 0) continue;
        if (r.node >= f->nnodes) return bad(v, "node %u: operand %u names node %u", id, i, r.node);
        if (r.idx & IR_PARAM) {
            if (r.node != n->parent || ((r.idx >> 16) & 0x7fff) != n->parent_arm)
                return bad(v, "node %u: parameter operand of another arm", id);
            continue;
        }
        const IrNode *p = ir_node(f, r.node);
        if (p->parent != n->parent || p->parent_arm != n->parent_arm || v->pos[r.node] == 0 || v->pos[r.node] >= v->pos[id])
            return bad(v, "node %u: operand %u (node %u) is not produced earlier in its sequence", id, i, r.node);
        if (r.idx >= p->nres) return bad(v, "node %u: operand %u names result %u of %u", id, i, r.idx, p->nres);
        IrUse u = ir_uses(f, p)[r.idx];
        if (u.user != id || u.slot != i) return bad(v, "node %u: producer %u records user %u slot %u", id, r.node, u.user, u.slot);
    }
    return true;
}

/* Contract: every recorded user of node id's results really takes that value. */
static bool check_uses(Verifier *v, NodeId id, const IrNode *n) {
    const IrFunc *f = v->f;
    if (n->uses + n->nres > f->nuses) return bad(v, "node %u: uses out of range", id);
    for (uint32_t r = 0; r < n->nres; r++) {
        IrUse u = ir_uses(f, n)[r];
        if (u.user == 0 || (u.slot & IR_ARM_END)) continue;
        if (u.user >= f->nnodes) return bad(v, "node %u: user %u out of range", id, u.user);
        const IrNode *user = ir_node(f, u.user);
        if (u.slot >= user->nargs) return bad(v, "node %u: user %u has no operand %u", id, u.user, u.slot);
        ValueRef back = ir_args(f, user)[u.slot];
        if (back.node != id || back.idx != r) return bad(v, "node %u: user %u does not take result %u", id, u.user, r);
    }
    return true;
}

static bool check_node(Verifier *v, NodeId id, NodeId parent, uint32_t arm, NodeId prev) {
    const IrNode *n = ir_node(v->f, id);
    if (n->in.op >= OP_COUNT) return bad(v, "node %u: bad opcode", id);
    if (n->prev != prev) return bad(v, "node %u: prev is %u, expected %u", id, n->prev, prev);
    if (n->parent != parent || n->parent_arm != arm) return bad(v, "node %u: wrong parent", id);
    return check_args(v, id, n) && check_uses(v, id, n) && check_types(v, id, n);
}

/* Contract: walks one sequence, numbering positions; recurses (with an explicit stack)
 * into structured nodes. */
static bool walk(Verifier *v) {
    const IrFunc *f = v->f;
    typedef struct { NodeId node; uint32_t arm, k; } Open;
    Open *stack = NULL;
    uint32_t sp = 0, cap = 0, position = 1;
    NodeId parent = 0, prev = 0, cur = f->body.first;
    uint32_t armno = 0;
    for (;;) {
        while (cur && v->ok) {
            if (cur >= f->nnodes) { bad(v, "sequence reaches node %u of %u", cur, f->nnodes); break; }
            if (v->pos[cur]) { bad(v, "node %u reached twice", cur); break; }
            v->pos[cur] = position++;
            if (!check_node(v, cur, parent, armno, prev)) break;
            const IrNode *n = ir_node(f, cur);
            if (ir_is_structured(n->in.op)) {
                Open o = {cur, n->arms, 0};
                WS_VEC_PUSH(stack, sp, cap, o);
                parent = cur; armno = 0; prev = 0;
                cur = f->arms[n->arms].first;
                continue;
            }
            prev = cur;
            cur = n->next;
        }
        if (!v->ok || sp == 0) break;
        Open *o = &stack[sp - 1];
        if (f->arms[o->arm].last != prev) { bad(v, "arm of node %u: last is wrong", o->node); break; }
        if (f->arms[o->arm].next) {
            o->arm = f->arms[o->arm].next;
            o->k++;
            parent = o->node; armno = o->k; prev = 0;
            cur = f->arms[o->arm].first;
            continue;
        }
        prev = o->node;
        cur = ir_node(f, o->node)->next;
        sp--;
        parent = sp ? stack[sp - 1].node : 0;
        armno = sp ? stack[sp - 1].k : 0;
    }
    free(stack);
    return v->ok;
}

/* Contract: each local's get and set chains hold exactly its accesses. */
static bool check_locals(Verifier *v) {
    const IrFunc *f = v->f;
    for (uint32_t l = 0; l < f->nlocals && v->ok; l++) {
        uint32_t gets = 0, sets = 0;
        for (NodeId g = f->locals[l].first_get; g && v->ok; g = ir_node(f, g)->local_next, gets++)
            if (g >= f->nnodes || ir_node(f, g)->in.op != OP_LOCAL_GET || ir_node(f, g)->in.a != l || !v->pos[g])
                return bad(v, "local %u: get chain holds node %u", l, g);
        for (NodeId s = f->locals[l].first_set; s && v->ok; s = ir_node(f, s)->local_next, sets++) {
            OpId op = s < f->nnodes ? ir_node(f, s)->in.op : OP_COUNT;
            if ((op != OP_LOCAL_SET && op != OP_LOCAL_TEE) || ir_node(f, s)->in.a != l || !v->pos[s])
                return bad(v, "local %u: set chain holds node %u", l, s);
        }
        if (gets != f->locals[l].ngets || sets != f->locals[l].nsets)
            return bad(v, "local %u: counts %u/%u, chains %u/%u", l, f->locals[l].ngets, f->locals[l].nsets, gets, sets);
    }
    return v->ok;
}

bool ir_verify(const IrFunc *f, char *msg, size_t n) {
    Verifier v = {f, ws_calloc(f->nnodes + 1, sizeof(uint32_t)), msg, n, true};
    if (f->body.last && f->body.last >= f->nnodes) bad(&v, "body ends at node %u", f->body.last);
    if (v.ok) walk(&v);
    if (v.ok) check_locals(&v);
    free(v.pos);
    return v.ok;
}
