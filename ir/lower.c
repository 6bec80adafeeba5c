/* lower.c - function IR back to bytecode: local declarations, then every sequence in
 * order with the structured instructions' arms, else/catch heads and end/delegate.
 * An untouched IR of a canonical body gives back the same bytes. */
#include "func.h"
#include "leb.h"
#include <stdlib.h>

/* Contract: writes the local declarations as runs of equal types (empty groups dropped,
 * neighbours of one type merged: the canonical form body_canonicalize also writes),
 * from the input's groups while the locals are unchanged, else from f->locals. */
static void lower_locals(const IrFunc *f, Buf *out) {
    uint32_t n = f->nlocals - f->nparams;
    const IrLocal *l = f->locals + f->nparams;
    uint32_t ngroups = 0;
    for (uint32_t i = 0; i < n; i++)
        if (i == 0 || !vt_eq(l[i].type, l[i - 1].type) || l[i].type.code != l[i - 1].type.code) ngroups++;
    buf_u32(out, ngroups);
    for (uint32_t i = 0; i < n;) {
        uint32_t run = 1;
        while (i + run < n && vt_eq(l[i + run].type, l[i].type) && l[i + run].type.code == l[i].type.code) run++;
        buf_u32(out, run);
        write_valtype(out, l[i].type);
        i += run;
    }
}

typedef struct LowerFrame {
    NodeId node;
    uint32_t arm;      /* index in f->arms of the arm being emitted */
    NodeId resume;     /* node after the structured node */
} LowerFrame;

static void close_node(const IrFunc *f, NodeId id, Buf *out) {
    const IrNode *n = ir_node(f, id);
    if (n->flags & IRN_DELEGATE) {
        buf_u8(out, 0x18);
        buf_u32(out, n->delegate);
    } else {
        buf_u8(out, 0x0b);
    }
}

void ir_lower(const IrFunc *f, Buf *out) {
    lower_locals(f, out);
    LowerFrame *stack = NULL;
    uint32_t sp = 0, cap = 0;
    NodeId cur = f->body.first;
    for (;;) {
        while (cur) {
            const IrNode *n = ir_node(f, cur);
            instr_encode(out, &n->in);
            if (ir_is_structured(n->in.op)) {
                LowerFrame fr = {cur, n->arms, n->next};
                WS_VEC_PUSH(stack, sp, cap, fr);
                cur = f->arms[n->arms].first;
                continue;
            }
            cur = n->next;
        }
        if (sp == 0) break;
        LowerFrame *fr = &stack[sp - 1];
        uint32_t next = f->arms[fr->arm].next;
        if (next) {
            fr->arm = next;
            instr_encode(out, &f->arms[next].head);
            cur = f->arms[next].first;
            continue;
        }
        close_node(f, fr->node, out);
        cur = fr->resume;
        sp--;
    }
    buf_u8(out, 0x0b);
    free(stack);
}
