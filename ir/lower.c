/* lower.c - function IR back to bytecode: local declarations, then every sequence in
 * order with the structured instructions' arms, else/catch heads and end/delegate.
 * An untouched IR of a canonical body gives back the same bytes. */
#include "func.h"
#include "leb.h"
#include <stdio.h>
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

/* The output of one lowering: bytes go to out, except that input bytes copied as they
 * are gather into one pending run [run, run_end) of f->src first. */
typedef struct Lowerer {
    const IrFunc *f;
    Buf *out;
    const uint8_t *run, *run_end;
} Lowerer;

static void flush_run(Lowerer *L) {
    if (L->run_end > L->run) buf_bytes(L->out, L->run, (size_t)(L->run_end - L->run));
    L->run = L->run_end = NULL;
}

#ifdef WS_DEBUG
/* Debug builds: an IRN_SRC node's input bytes must be what encoding it gives (a pass
 * that changed `in` without ir_touch would otherwise be lowered to its old bytes). */
static void check_src(const IrNode *n, const uint8_t *src) {
    Buf b = {0};
    instr_encode(&b, &n->in);
    bool same = b.len == n->in.len && !memcmp(b.data, src, b.len);
    buf_free(&b);
    if (same) return;
    fprintf(stderr, "wasmslim: internal error: node %s at 0x%x changed without ir_touch\n",
            op_info[n->in.op].name, n->in.off);
    abort();
}
#else
static void check_src(const IrNode *n, const uint8_t *src) { (void)n; (void)src; }
#endif

/* Contract: emits node n's instruction (not its arms): its input bytes when it has
 * IRN_SRC (extending the pending run when they follow it), else its encoding. */
static void emit_node(Lowerer *L, const IrNode *n) {
    if (!(n->flags & IRN_SRC)) {
        flush_run(L);
        instr_encode(L->out, &n->in);
        return;
    }
    const uint8_t *src = L->f->src + n->in.off;
    check_src(n, src);
    if (src != L->run_end) {
        flush_run(L);
        L->run = src;
    }
    L->run_end = src + n->in.len;
}

/* Contract: emits the one byte b (end, else): as part of the pending run when the
 * input holds b right after it (the same bytes either way), else directly. */
static void emit_byte(Lowerer *L, uint8_t b) {
    const IrFunc *f = L->f;
    if (L->run_end && L->run_end < f->src + f->src_len && *L->run_end == b) {
        L->run_end++;
        return;
    }
    flush_run(L);
    buf_u8(L->out, b);
}

static void close_node(Lowerer *L, NodeId id) {
    const IrNode *n = ir_node(L->f, id);
    if (n->flags & IRN_DELEGATE) {
        flush_run(L);
        buf_u8(L->out, 0x18);
        buf_u32(L->out, ir_delegate(n));
    } else {
        emit_byte(L, 0x0b);
    }
}

/* Contract: an arm's head (else, catch, catch_all). */
static void emit_head(Lowerer *L, const Instr *head) {
    if (head->op == OP_ELSE) {
        emit_byte(L, 0x05);
        return;
    }
    flush_run(L);
    instr_encode(L->out, head);
}

void ir_lower(const IrFunc *f, Buf *out) {
    lower_locals(f, out);
    Lowerer L = {f, out, NULL, NULL};
    LowerFrame *stack = NULL;
    uint32_t sp = 0, cap = 0;
    NodeId cur = f->body.first;
    for (;;) {
        while (cur) {
            const IrNode *n = ir_node(f, cur);
            emit_node(&L, n);
            if (ir_is_structured(n->in.op)) {
                LowerFrame fr = {cur, n->arms, n->next};
                WS_VEC_PUSH(stack, sp, cap, fr);
                cur = f->arms[n->arms].first;
                continue;
            }
            /* usually the next node in the array: taken as a predicted branch, that
             * address is known before n->next is loaded (the walk is otherwise one
             * dependent load per node) */
            if (WS_LIKELY(n->next == cur + 1)) cur++;
            else cur = n->next;
        }
        if (sp == 0) break;
        LowerFrame *fr = &stack[sp - 1];
        uint32_t next = f->arms[fr->arm].next;
        if (next) {
            fr->arm = next;
            emit_head(&L, &f->arms[next].head);
            cur = f->arms[next].first;
            continue;
        }
        close_node(&L, fr->node);
        cur = fr->resume;
        sp--;
    }
    emit_byte(&L, 0x0b);
    flush_run(&L);
    free(stack);
}
