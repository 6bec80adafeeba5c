/* edit.c - editing the function IR while keeping it consistent: creating nodes, wiring
 * operands and users, inserting into and removing from sequences, local chains. */
#include "edit.h"

NodeId ir_new_node(IrFunc *f, const Instr *in, uint32_t nres, const ValType *types) {
    ws_grow_big((void **)&f->nodes, &f->cap_nodes, f->nnodes + 1, sizeof(IrNode));
    NodeId id = f->nnodes++;
    IrNode *n = &f->nodes[id];
    n->in = *in; /* then the rest zero (not the instruction twice) */
    ir_node_clear_links(n);
    n->nres = nres;
    if (nres) {
        ws_grow_big((void **)&f->uses, &f->cap_uses, f->nuses + nres, sizeof(IrUse));
        n = &f->nodes[id];
        n->uses = f->nuses;
        for (uint32_t i = 0; i < nres; i++) f->uses[f->nuses + i] = (IrUse){0, 0}; /* mostly one */
        f->nuses += nres;
        n->type = types ? types[0] : vt_num(0);
    }
    return id;
}

static void clear_user(IrFunc *f, ValueRef v) {
    if (v.node == 0 || (v.idx & IR_PARAM)) return;
    IrUse *u = &f->uses[f->nodes[v.node].uses + v.idx];
    u->user = 0;
    u->slot = 0;
}

void ir_set_args(IrFunc *f, NodeId id, const ValueRef *args, uint32_t n) {
    IrNode *node = &f->nodes[id];
    for (uint32_t i = 0; i < node->nargs; i++) clear_user(f, f->refs[node->args + i]);
    if (n > node->nargs) {
        ws_grow_big((void **)&f->refs, &f->cap_refs, f->nrefs + n, sizeof(ValueRef));
        node = &f->nodes[id];
        node->args = f->nrefs;
        f->nrefs += n;
    }
    node->nargs = n;
    for (uint32_t i = 0; i < n; i++) {
        f->refs[node->args + i] = args[i];
        ValueRef v = args[i];
        if (v.node == 0 || (v.idx & IR_PARAM)) continue;
        IrUse *u = &f->uses[f->nodes[v.node].uses + v.idx];
        u->user = id;
        u->slot = i;
    }
}

IrArm *ir_parent_arm(IrFunc *f, NodeId parent, uint32_t arm) {
    return parent ? ir_arm(f, ir_node(f, parent), arm) : &f->body;
}

/* Contract: keeps local chains in step with a node entering (add) or leaving a body. */
static void chain_local(IrFunc *f, NodeId id, bool add) {
    IrNode *n = &f->nodes[id];
    OpId op = n->in.op;
    if (op != OP_LOCAL_GET && op != OP_LOCAL_SET && op != OP_LOCAL_TEE) return;
    IrLocal *l = &f->locals[n->in.a];
    bool get = op == OP_LOCAL_GET;
    NodeId *head = get ? &l->first_get : &l->first_set;
    uint32_t *count = get ? &l->ngets : &l->nsets;
    if (add) {
        n->local_next = *head;
        *head = id;
        (*count)++;
        return;
    }
    for (NodeId *p = head; *p; p = &f->nodes[*p].local_next)
        if (*p == id) {
            *p = n->local_next;
            n->local_next = 0;
            (*count)--;
            return;
        }
}

void ir_insert_after(IrFunc *f, NodeId parent, uint32_t arm, NodeId after, NodeId id) {
    IrArm *a = ir_parent_arm(f, parent, arm);
    IrNode *n = &f->nodes[id];
    n->parent = parent;
    n->parent_arm = (uint16_t)arm;
    n->prev = after;
    n->next = after ? f->nodes[after].next : a->first;
    if (n->next) f->nodes[n->next].prev = id;
    else a->last = id;
    if (after) f->nodes[after].next = id;
    else a->first = id;
    chain_local(f, id, true);
}

void ir_insert_before(IrFunc *f, NodeId before, NodeId id) {
    const IrNode *b = &f->nodes[before];
    ir_insert_after(f, b->parent, b->parent_arm, b->prev, id);
}

/* Contract: takes node id out of its sequence and its operands' users; local chains
 * are the caller's business. */
static void unlink_node(IrFunc *f, NodeId id) {
    IrNode *n = &f->nodes[id];
    IrArm *a = ir_parent_arm(f, n->parent, n->parent_arm);
    if (n->prev) f->nodes[n->prev].next = n->next;
    else a->first = n->next;
    if (n->next) f->nodes[n->next].prev = n->prev;
    else a->last = n->prev;
    n->next = n->prev = 0;
    for (uint32_t i = 0; i < n->nargs; i++) clear_user(f, f->refs[n->args + i]);
    n->nargs = 0;
}

void ir_unlink(IrFunc *f, NodeId id) {
    unlink_node(f, id);
    chain_local(f, id, false);
}

static bool is_local_access(OpId op) { return op == OP_LOCAL_GET || op == OP_LOCAL_SET || op == OP_LOCAL_TEE; }

/* Contract: drops the nodes marked in `gone` from chain *head, keeping *count right. */
static void filter_chain(IrFunc *f, NodeId *head, uint32_t *count, const uint8_t *gone) {
    for (NodeId *p = head; *p;) {
        IrNode *n = &f->nodes[*p];
        if (!gone[*p]) { p = &n->local_next; continue; }
        *p = n->local_next;
        n->local_next = 0;
        (*count)--;
    }
}

void ir_unlink_batch(IrFunc *f, const NodeId *ids, uint32_t count) {
    uint8_t *gone = ws_calloc(f->nnodes + 1, 1);
    uint8_t *touched = ws_calloc(f->nlocals + 1, 1);
    for (uint32_t i = 0; i < count; i++) {
        unlink_node(f, ids[i]);
        gone[ids[i]] = 1;
        const IrNode *n = &f->nodes[ids[i]];
        if (is_local_access(n->in.op)) touched[n->in.a] = 1;
    }
    for (uint32_t l = 0; l < f->nlocals; l++) {
        if (!touched[l]) continue;
        filter_chain(f, &f->locals[l].first_get, &f->locals[l].ngets, gone);
        filter_chain(f, &f->locals[l].first_set, &f->locals[l].nsets, gone);
    }
    free(gone);
    free(touched);
}

/* Contract: removes a structured node's arms' contents recursively (explicit stack),
 * unlinking every node inside so that local chains and users stay right. */
static void unlink_inside(IrFunc *f, NodeId id) {
    NodeId *stack = NULL;
    uint32_t sp = 0, cap = 0;
    WS_VEC_PUSH(stack, sp, cap, id);
    while (sp) {
        NodeId s = stack[--sp];
        for (uint32_t a = f->nodes[s].arms; a; a = f->arms[a].next) {
            while (f->arms[a].first) {
                NodeId c = f->arms[a].first;
                if (ir_is_structured(f->nodes[c].in.op)) WS_VEC_PUSH(stack, sp, cap, c);
                ir_unlink(f, c);
            }
        }
    }
    free(stack);
}

void ir_remove(IrFunc *f, NodeId id) {
    if (ir_is_structured(f->nodes[id].in.op)) unlink_inside(f, id);
    ir_unlink(f, id);
}

NodeId ir_new_structured(IrFunc *f, const Instr *in, uint32_t nres, const ValType *types, uint32_t narms) {
    NodeId id = ir_new_node(f, in, nres, types);
    uint32_t prev = 0;
    for (uint32_t k = 0; k < narms; k++) {
        ws_grow_big((void **)&f->arms, &f->cap_arms, f->narms + 1, sizeof(IrArm));
        uint32_t a = f->narms++;
        memset(&f->arms[a], 0, sizeof(IrArm));
        f->arms[a].head = *in;
        if (prev) f->arms[prev].next = a;
        else f->nodes[id].arms = a;
        prev = a;
    }
    f->nodes[id].narms = narms;
    return id;
}

uint32_t ir_add_local(IrFunc *f, ValType t) {
    ws_grow((void **)&f->locals, &f->cap_locals, f->nlocals + 2, sizeof(IrLocal));
    uint32_t l = f->nlocals++;
    memset(&f->locals[l], 0, sizeof(IrLocal));
    f->locals[l].type = t;
    f->locals_changed = true;
    return l;
}

NodeId ir_append_simple(IrFunc *f, NodeId parent, uint32_t arm, NodeId after, const Instr *in,
                        const ValueRef *args, uint32_t nargs, uint32_t nres, ValType type) {
    NodeId id = ir_new_node(f, in, nres, &type);
    ir_set_args(f, id, args, nargs);
    ir_insert_after(f, parent, arm, after, id);
    return id;
}

uint32_t ir_preorder(const IrFunc *f, NodeId *out) {
    typedef struct { NodeId node; uint32_t arm; } Open;
    Open *stack = NULL;
    uint32_t n = 0, sp = 0, cap = 0;
    NodeId cur = f->body.first;
    for (;;) {
        while (cur) {
            out[n++] = cur;
            const IrNode *node = &f->nodes[cur];
            if (ir_is_structured(node->in.op) && node->arms) {
                Open o = {cur, node->arms};
                WS_VEC_PUSH(stack, sp, cap, o);
                cur = f->arms[node->arms].first;
                continue;
            }
            cur = node->next;
        }
        if (sp == 0) break;
        Open *o = &stack[sp - 1];
        if (f->arms[o->arm].next) {
            o->arm = f->arms[o->arm].next;
            cur = f->arms[o->arm].first;
            continue;
        }
        cur = f->nodes[o->node].next;
        sp--;
    }
    free(stack);
    return n;
}

void ir_replace_value(IrFunc *f, ValueRef old, ValueRef repl) {
    if (old.node == 0 || (old.idx & IR_PARAM)) return;
    IrUse u = f->uses[f->nodes[old.node].uses + old.idx];
    f->uses[f->nodes[old.node].uses + old.idx] = (IrUse){0, 0};
    if (u.user && !(u.slot & IR_ARM_END)) f->refs[f->nodes[u.user].args + u.slot] = repl;
    if (repl.node && !(repl.idx & IR_PARAM)) f->uses[f->nodes[repl.node].uses + repl.idx] = u;
}

NodeId ir_new_drop(IrFunc *f, ValueRef v) {
    Instr drop = ir_instr(OP_DROP);
    NodeId id = ir_new_node(f, &drop, 0, NULL);
    ir_set_args(f, id, &v, 1);
    return id;
}
