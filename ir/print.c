/* print.c - the IR as deterministic wat-like text.
 *
 *   func 1 $add (param i32 i32) (result i32)
 *     %1 = local.get 0                         ; uses 1
 *     %2 = local.get 1                         ; uses 1
 *     %3 = i32.add %1 %2                       ; uses 1
 *   end %3
 *
 * %N is the first result of node N, %N.K its result K, %N.pA.I parameter I of arm A of
 * structured node N, _ a value popped from the polymorphic stack of unreachable code. */
#include "func.h"
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

static void print_valtype(FILE *out, ValType t) {
    switch (t.code) {
    case VT_I32: fputs("i32", out); return;
    case VT_I64: fputs("i64", out); return;
    case VT_F32: fputs("f32", out); return;
    case VT_F64: fputs("f64", out); return;
    case VT_V128: fputs("v128", out); return;
    case VT_I8: fputs("i8", out); return;
    case VT_I16: fputs("i16", out); return;
    case 0: fputs("?", out); return;
    }
    static const char *abstract[] = {"exn", "array", "struct", "i31", "eq", "any", "extern", "func",
                                     "none", "noextern", "nofunc", "noexn"};
    fprintf(out, "(ref %s", vt_nullable(t) ? "null " : "");
    if (t.heap >= 0) fprintf(out, "%d)", t.heap);
    else if (t.heap >= HT_EXN && t.heap <= HT_NOEXN) fprintf(out, "%s)", abstract[t.heap - HT_EXN]);
    else fprintf(out, "?)");
}

static void print_ref(FILE *out, ValueRef r) {
    if (r.node == 0) fputs(" _", out);
    else if (r.idx & IR_PARAM) fprintf(out, " %%%u.p%u.%u", r.node, (r.idx >> 16) & 0x7fff, r.idx & 0xffff);
    else if (r.idx == 0) fprintf(out, " %%%u", r.node);
    else fprintf(out, " %%%u.%u", r.node, r.idx);
}

static void print_bytes(FILE *out, const uint8_t *p, unsigned n) {
    fputs(" 0x", out);
    for (unsigned i = n; i-- > 0;) fprintf(out, "%02x", p[i]);
}

/* Contract: prints the immediates of in after its name, by immediate kind. */
static void print_imm(FILE *out, const Instr *in) {
    const uint8_t *p = in->vec;
    switch ((ImmKind)op_info[in->op].imm) {
    case IMM_NONE: case IMM_ZERO_BYTE: case IMM_COUNT: break;
    case IMM_BLOCK: case IMM_TRY_TABLE:
        if (in->bt.kind == BT_VAL) { fputs(" (result ", out); print_valtype(out, in->bt.val); fputc(')', out); }
        if (in->bt.kind == BT_TYPE) fprintf(out, " (type %u)", in->bt.type);
        for (uint32_t i = 0; in->op == OP_TRY_TABLE && i < in->n; i++) {
            Catch k = catch_next(&p);
            fprintf(out, " (catch%s%s", k.kind >= CATCH_ALL ? "_all" : "", k.kind & 1 ? "_ref" : "");
            if (k.kind < CATCH_ALL) fprintf(out, " %u", k.tag);
            fprintf(out, " %u)", k.label);
        }
        break;
    case IMM_BR_TABLE:
        for (uint32_t i = 0; i < in->n; i++) fprintf(out, " %u", br_table_label_next(&p));
        fprintf(out, " %u", in->a);
        break;
    case IMM_MEMARG: case IMM_MEMARG_LANE:
        if (in->mem) fprintf(out, " mem=%u", in->mem);
        fprintf(out, " offset=%" PRIu64 " align=%u", in->b, in->a);
        if (op_info[in->op].imm == IMM_MEMARG_LANE) fprintf(out, " lane=%u", in->lane);
        break;
    case IMM_I32: case IMM_I64: fprintf(out, " %" PRId64, in->i); break;
    case IMM_F32: print_bytes(out, in->bytes, 4); break;
    case IMM_F64: print_bytes(out, in->bytes, 8); break;
    case IMM_V128: case IMM_SHUFFLE: print_bytes(out, in->bytes, 16); break;
    case IMM_LANE: fprintf(out, " %u", in->lane); break;
    case IMM_SELECT_T:
        for (uint32_t i = 0; i < in->n; i++) { fputc(' ', out); print_valtype(out, select_type_next(&p)); }
        break;
    case IMM_HEAP: { ValType t = {VT_REF, in->heap}; fputc(' ', out); print_valtype(out, t); break; }
    case IMM_BR_ON_CAST: {
        ValType a = {(in->flags & 1) ? VT_REF_NULL : VT_REF, in->heap}, b = {(in->flags & 2) ? VT_REF_NULL : VT_REF, in->heap2};
        fprintf(out, " %u ", in->a);
        print_valtype(out, a);
        fputc(' ', out);
        print_valtype(out, b);
        break;
    }
    default:
        fprintf(out, " %u", in->a);
        if (op_info[in->op].imm >= IMM_CALL_INDIRECT) {
            ImmKind k = (ImmKind)op_info[in->op].imm;
            bool two = k == IMM_CALL_INDIRECT || k == IMM_TABLE_TABLE || k == IMM_ELEM_TABLE || k == IMM_MEM_MEM ||
                       k == IMM_DATA_MEM || k == IMM_TYPE_FIELD || k == IMM_TYPE_U32 || k == IMM_TYPE_DATA ||
                       k == IMM_TYPE_ELEM || k == IMM_TYPE_TYPE;
            if (two) fprintf(out, " %" PRIu64, in->b);
        }
    }
}

static void indent(FILE *out, uint32_t depth) {
    for (uint32_t i = 0; i < depth + 1; i++) fputs("  ", out);
}

static void print_node(FILE *out, const IrFunc *f, NodeId id, uint32_t depth) {
    const IrNode *n = ir_node(f, id);
    indent(out, depth);
    if (n->nres) fprintf(out, "%%%u = ", id);
    fputs(op_info[n->in.op].name, out);
    print_imm(out, &n->in);
    for (uint32_t i = 0; i < n->nargs; i++) print_ref(out, ir_args(f, n)[i]);
    uint32_t used = 0;
    for (uint32_t r = 0; r < n->nres; r++) used += ir_uses(f, n)[r].user != 0 || (ir_uses(f, n)[r].slot & IR_ARM_END);
    if (n->nres) fprintf(out, "  ; uses %u", used);
    fputc('\n', out);
}

static void print_arm_head(FILE *out, const IrFunc *f, const IrArm *arm, uint32_t depth) {
    indent(out, depth);
    fputs(op_info[arm->head.op].name, out);
    print_imm(out, &arm->head);
    fputc('\n', out);
    (void)f;
}

static void print_header(const IrFunc *f, FILE *out, Bytes name) {
    fprintf(out, "func %u", f->index);
    if (name.len) fprintf(out, " $%.*s", (int)name.len, (const char *)name.p);
    for (uint32_t i = 0; i < f->nparams; i++) { fputs(i ? " " : " (param ", out); print_valtype(out, f->type->params[i]); }
    if (f->nparams) fputc(')', out);
    for (uint32_t i = 0; i < f->nbody_results; i++) { fputs(i ? " " : " (result ", out); print_valtype(out, f->type->results[i]); }
    if (f->nbody_results) fputc(')', out);
    fputc('\n', out);
    for (uint32_t l = 0; l < f->nlocals; l++) {
        fprintf(out, "  ; local %u ", l);
        print_valtype(out, f->locals[l].type);
        fprintf(out, "%s: gets %u, sets %u\n", l < f->nparams ? " (param)" : "", f->locals[l].ngets, f->locals[l].nsets);
    }
}

void ir_print(const IrFunc *f, FILE *out, Bytes name) {
    print_header(f, out, name);
    typedef struct { NodeId node; uint32_t arm; } Open;
    Open *stack = NULL;
    uint32_t sp = 0, cap = 0;
    NodeId cur = f->body.first;
    for (;;) {
        while (cur) {
            const IrNode *n = ir_node(f, cur);
            print_node(out, f, cur, sp);
            if (ir_is_structured(n->in.op)) {
                Open o = {cur, n->arms};
                WS_VEC_PUSH(stack, sp, cap, o);
                cur = f->arms[n->arms].first;
                continue;
            }
            cur = n->next;
        }
        if (sp == 0) break;
        Open *o = &stack[sp - 1];
        uint32_t next = f->arms[o->arm].next;
        if (next) {
            o->arm = next;
            print_arm_head(out, f, &f->arms[next], sp - 1);
            cur = f->arms[next].first;
            continue;
        }
        const IrNode *n = ir_node(f, o->node);
        indent(out, sp - 1);
        if (n->flags & IRN_DELEGATE) fprintf(out, "delegate %u  ; %%%u\n", ir_delegate(n), o->node);
        else fprintf(out, "end  ; %%%u\n", o->node);
        cur = n->next;
        sp--;
    }
    fputs("end\n", out);
    free(stack);
}
