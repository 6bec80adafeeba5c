/* build.c - function IR construction: decodes a body and simulates the operand stack,
 * turning every pop into a value reference to the node that pushed it.
 *
 *   bytes:  local.get 0  i32.const 1  i32.add  drop
 *   IR:     %1 = local.get 0 ; %2 = i32.const 1 ; %3 = i32.add %1 %2 ; drop %3
 *
 * Control frames track the stack height at their start; in unreachable code pops below
 * that height produce IR_POLY.  Structured instructions become nodes with one sequence
 * per arm; their parameters are values (node, IR_PARAM | arm << 16 | i). */
#include "func.h"
#include "leb.h"
#include <pthread.h>
#include <stdlib.h>

typedef struct Slot {
    ValueRef ref;
    ValType type;
    uint32_t use;                /* the value's entry in f->uses, or NO_USE (parameters,
                                    unknown operands of unreachable code) */
} Slot;
#define NO_USE UINT32_MAX

/* Contract: slot s holds value r, of type *t, whose users are recorded at uses[use].
 * The builder reads a slot's ref back as one 8-byte load, often right after the push;
 * a load spanning two narrower stores cannot be forwarded from the store buffer and
 * stalls, so ref and type are each written whole (field-by-field stores cost ruby.wasm
 * -O0 about 4% of its time). */
static inline void slot_write(Slot *s, ValueRef r, const ValType *t, uint32_t use) {
    uint64_t ref, type;
    memcpy(&ref, &r, sizeof ref);
    memcpy(&type, t, sizeof type);
    memcpy(&s->ref, &ref, sizeof ref);
    memcpy(&s->type, &type, sizeof type);
    s->use = use;
}

/* Contract: slot s holds result idx of node id (whose results' users start at
 * uses[first_use]), of type *t. */
static inline void slot_set(Slot *s, NodeId id, uint32_t idx, const ValType *t, uint32_t first_use) {
    slot_write(s, (ValueRef){id, idx}, t, first_use + idx);
}

typedef struct Frame {
    NodeId node;                 /* structured node, 0 for the function body */
    uint32_t arm;                /* arm number within the node */
    uint32_t arm_index;          /* that arm's index in f->arms */
    uint32_t height;             /* stack height at the frame's start */
    bool unreachable;
    uint32_t nlabel;             /* branch arity and types */
    const ValType *label;
    uint32_t nresults;
    const ValType *results;
    ValType one;                 /* the result of a block typed by one value type: label
                                    and results are &one when they are NULL (frames move
                                    as the array grows, so resolved at each use) */
} Frame;

static const ValType *frame_label(const Frame *fr) { return fr->label ? fr->label : &fr->one; }
static const ValType *frame_results(const Frame *fr) { return fr->results ? fr->results : &fr->one; }

/* The builder's stacks, kept in the IrFunc between functions. */
typedef struct IrScratch {
    Slot *stack;
    uint32_t cap_stack;
    Frame *frames;
    uint32_t cap_frames;
    NodeId *local_tails;         /* per local: last get, then last set (2 per local) */
    uint32_t cap_tails;
} IrScratch;

typedef struct Builder {
    IrFunc *f;
    const Module *m;
    Cursor c;
    Slot *stack;
    uint32_t sp, cap_stack;
    Frame *frames;
    uint32_t nframes, cap_frames;
    NodeId *local_tails;
    ValType pushed[4];           /* scratch for single-result pushes */
    uint16_t src_flag;           /* IRN_SRC for the instruction being added, or 0 */
    bool sure;                   /* every instruction so far passed the builder's own
                                    type check (build_check below): IrFunc.checked */
} Builder;

/* ---- storage ---- */

/* Contract: appends a node holding instruction in (or an empty one), all else zero.
 * `in` may already be the new node's own (build_code decodes into the free slot). */
static NodeId new_node_for(IrFunc *f, const Instr *in) {
    if (f->nnodes == f->cap_nodes) ws_grow_big((void **)&f->nodes, &f->cap_nodes, f->nnodes + 1, sizeof(IrNode));
    NodeId id = f->nnodes++;
    IrNode *n = &f->nodes[id];
    ir_node_clear_links(n);
    if (!in) memset(&n->in, 0, sizeof n->in);
    else if (in != &n->in) n->in = *in;
    return id;
}

static NodeId new_node(IrFunc *f) { return new_node_for(f, NULL); }

static uint32_t new_refs(IrFunc *f, uint32_t n) {
    if (n == 0) return f->nrefs;
    if (f->nrefs + n > f->cap_refs) ws_grow_big((void **)&f->refs, &f->cap_refs, f->nrefs + n, sizeof(ValueRef));
    uint32_t at = f->nrefs;
    f->nrefs += n;
    return at;
}

static uint32_t new_uses(IrFunc *f, uint32_t n) {
    if (n == 0) return f->nuses;
    if (f->nuses + n > f->cap_uses) ws_grow_big((void **)&f->uses, &f->cap_uses, f->nuses + n, sizeof(IrUse));
    uint32_t at = f->nuses;
    if (n == 1) f->uses[at] = (IrUse){0, 0};
    else memset(&f->uses[at], 0, n * sizeof(IrUse));
    f->nuses += n;
    return at;
}

static uint32_t new_arms(IrFunc *f, uint32_t n) {
    if (f->narms + n > f->cap_arms) ws_grow_big((void **)&f->arms, &f->cap_arms, f->narms + n, sizeof(IrArm));
    uint32_t at = f->narms;
    memset(&f->arms[at], 0, n * sizeof(IrArm));
    f->narms += n;
    return at;
}

/* ---- types ---- */

static const TypeDef *type_at(Builder *b, uint64_t idx, size_t off) {
    if (idx >= b->m->ntypes) ws_fail(b->c.err, off, "unknown type %llu", (unsigned long long)idx);
    return &b->m->types[idx];
}

static const TypeDef *func_type(Builder *b, uint64_t idx, size_t off) {
    const TypeDef *t = type_at(b, idx, off);
    if (t->kind != COMP_FUNC) ws_fail(b->c.err, off, "type %llu is not a function type", (unsigned long long)idx);
    return t;
}

static ValType ref_type(bool nullable, int32_t heap) {
    ValType t = {nullable ? VT_REF_NULL : VT_REF, heap};
    return t;
}

static ValType unpacked(ValType t) { return (t.code == VT_I8 || t.code == VT_I16) ? vt_num(VT_I32) : t; }

ValType ir_sig_type(const Module *m, char ch, const Instr *in) {
    if (op_sig_numtype(ch)) return vt_num(op_sig_numtype(ch));
    switch (ch) {
    case 'a': {
        ImmKind k = (ImmKind)op_imm[in->op];
        uint64_t mem = k == IMM_MEM ? in->a : k == IMM_DATA_MEM ? in->b : in->mem;
        return vt_num(mem < m->nmems ? limits_addr_code(&m->mems[mem].limits) : VT_I32);
    }
    case 't': {
        uint64_t t = op_imm[in->op] == IMM_ELEM_TABLE ? in->b : in->a;
        return vt_num(t < m->ntables ? limits_addr_code(&m->tables[t].limits) : VT_I32);
    }
    }
    return vt_num(VT_I32);
}

static void block_sig(Builder *b, const Instr *in, uint32_t *np, const ValType **p, uint32_t *nr,
                      const ValType **r) {
    *np = 0;
    *p = NULL;
    *nr = 0;
    *r = NULL;
    if (in->bt.kind == BT_VAL) *nr = 1; /* *r stays NULL: the frame's `one` */
    if (in->bt.kind == BT_TYPE) {
        const TypeDef *t = func_type(b, in->bt.type, in->off);
        *np = t->nparams; *p = t->params; *nr = t->nresults; *r = t->results;
    }
}

/* ---- the stack ---- */


static Frame *top_frame(Builder *b) { return &b->frames[b->nframes - 1]; }

/* Contract: pops one value; below the frame's height only unreachable code may pop
 * (giving IR_POLY), anything else is a stack underflow (invalid code). */
static Slot pop(Builder *b, size_t off) {
    Frame *fr = top_frame(b);
    if (b->sp > fr->height) return b->stack[--b->sp];
    if (!fr->unreachable) ws_fail(b->c.err, off, "type mismatch: operand stack underflow");
    Slot s = {IR_POLY, {0, 0}, NO_USE};
    return s;
}

/* Records the value in slot s as used by node `user` at `slot` (nothing for a parameter
 * or an unknown operand of unreachable code, which no node's results hold). */
static inline void record_use(IrUse *uses, const Slot *s, NodeId user, uint32_t slot) {
    if (s->use != NO_USE) uses[s->use] = (IrUse){user, slot};
}

/* Contract: pops n values into node id's operands (in push order). */
static void pop_args(Builder *b, NodeId id, uint32_t n) {
    IrFunc *f = b->f;
    uint32_t at = new_refs(f, n);
    IrNode *node = &f->nodes[id];
    node->args = at;
    node->nargs = n;
    if (b->sp >= top_frame(b)->height + n) { /* all above the frame: no underflow possible */
        b->sp -= n;
        for (uint32_t i = 0; i < n; i++) {
            f->refs[at + i] = b->stack[b->sp + i].ref;
            record_use(f->uses, &b->stack[b->sp + i], id, i);
        }
        return;
    }
    for (uint32_t i = n; i-- > 0;) {
        Slot s = pop(b, node->in.off);
        f->refs[at + i] = s.ref;
        record_use(f->uses, &s, id, i);
    }
}

static void push_results(Builder *b, NodeId id, uint32_t n, const ValType *types) {
    IrFunc *f = b->f;
    IrNode *node = &f->nodes[id];
    node->uses = new_uses(f, n);
    node->nres = n;
    if (n == 0) return;
    node->type = types[0];
    if (b->sp + n > b->cap_stack) ws_grow((void **)&b->stack, &b->cap_stack, b->sp + n, sizeof(Slot));
    for (uint32_t i = 0; i < n; i++) slot_set(&b->stack[b->sp + i], id, i, &types[i], node->uses);
    b->sp += n;
}

static void mark_unreachable(Builder *b) {
    Frame *fr = top_frame(b);
    b->sp = fr->height;
    fr->unreachable = true;
}

/* ---- sequences ---- */

static IrArm *current_arm(Builder *b) {
    Frame *fr = top_frame(b);
    return fr->node ? &b->f->arms[fr->arm_index] : &b->f->body;
}

static void append(Builder *b, NodeId id) {
    Frame *fr = top_frame(b);
    IrArm *arm = current_arm(b);
    IrNode *n = &b->f->nodes[id];
    n->parent = fr->node;
    n->parent_arm = (uint16_t)fr->arm;
    n->prev = arm->last;
    if (arm->last) b->f->nodes[arm->last].next = id;
    else arm->first = id;
    arm->last = id;
}

static const Frame *label_frame(Builder *b, uint64_t depth, size_t off) {
    if (depth >= b->nframes) ws_fail(b->c.err, off, "unknown label %llu", (unsigned long long)depth);
    return &b->frames[b->nframes - 1 - depth];
}

/* ---- control ---- */

static void push_frame(Builder *b, NodeId id, uint32_t arm_index, uint32_t nlabel, const ValType *label,
                       uint32_t nres, const ValType *res) {
    if (b->nframes == b->cap_frames) ws_grow((void **)&b->frames, &b->cap_frames, b->nframes + 1, sizeof(Frame));
    Frame *fr = &b->frames[b->nframes++];
    memset(fr, 0, sizeof *fr);
    fr->node = id;
    fr->arm_index = arm_index;
    fr->height = b->sp;
    fr->nlabel = nlabel;
    fr->label = label;
    fr->nresults = nres;
    fr->results = res;
    fr->one = vt_num(0);
}

static void push_params(Builder *b, NodeId id, uint32_t arm, uint32_t n, const ValType *types) {
    if (b->sp + n > b->cap_stack) ws_grow((void **)&b->stack, &b->cap_stack, b->sp + n, sizeof(Slot));
    for (uint32_t i = 0; i < n; i++)
        slot_write(&b->stack[b->sp++], (ValueRef){id, IR_PARAM | arm << 16 | i}, &types[i], NO_USE);
}

/* Contract: opens block, loop, if, try or try_table: pops its params (and the if
 * condition) as the node's operands, appends the node and enters its first arm. */
static void open_block(Builder *b, const Instr *in) {
    IrFunc *f = b->f;
    b->sure = false; /* typed blocks, try, try_table: the validator checks them */
    uint32_t np, nr;
    const ValType *p, *r;
    block_sig(b, in, &np, &p, &nr, &r);
    NodeId id = new_node_for(f, in);
    f->nodes[id].flags = b->src_flag;
    pop_args(b, id, np + (in->op == OP_IF));
    append(b, id);
    uint32_t arm = new_arms(f, 1);
    IrNode *n = &f->nodes[id];
    n->arms = arm;
    n->narms = 1;
    f->arms[arm].head = *in;
    f->arms[arm].nparams = np;
    f->arms[arm].param_types = (ValType *)p;
    bool loop = in->op == OP_LOOP;
    push_frame(b, id, arm, loop ? np : nr, loop ? p : r, nr, r);
    if (in->bt.kind == BT_VAL) top_frame(b)->one = in->bt.val;
    push_params(b, id, 0, np, p);
}

/* Contract: the values left in the current arm become uses of its node (or of node 0
 * at the function's end); the stack drops back to the frame's height. */
static void close_arm(Builder *b) {
    Frame *fr = top_frame(b);
    uint32_t n = b->sp - fr->height;
    for (uint32_t i = 0; i < n; i++)
        record_use(b->f->uses, &b->stack[fr->height + i], fr->node, IR_ARM_END | fr->arm << 16 | i);
    b->sp = fr->height;
}

static const ValType *tag_params(Builder *b, uint64_t tag, size_t off, uint32_t *n) {
    if (tag >= b->m->ntags) ws_fail(b->c.err, off, "unknown tag %llu", (unsigned long long)tag);
    const TypeDef *t = func_type(b, b->m->tags[tag].type, off);
    *n = t->nparams;
    return t->params;
}

static bool check_arm_end(const Builder *b, const Frame *fr);

/* Contract: else, catch or catch_all: ends the current arm and starts the next. */
static void next_arm(Builder *b, const Instr *in) {
    IrFunc *f = b->f;
    Frame *fr = top_frame(b);
    OpId open = fr->node ? f->nodes[fr->node].in.op : OP_COUNT;
    bool ok = in->op == OP_ELSE ? (open == OP_IF && fr->arm == 0)
                                : (open == OP_TRY && f->arms[fr->arm_index].head.op != OP_CATCH_ALL);
    if (!ok) ws_fail(b->c.err, in->off, "END opcode expected: misplaced %s", op_info[in->op].name);
    if (b->sure) b->sure = in->op == OP_ELSE && check_arm_end(b, fr);
    close_arm(b);
    uint32_t arm = new_arms(f, 1);
    f->arms[fr->arm_index].next = arm;
    f->arms[arm].head = *in;
    f->nodes[fr->node].narms++;
    fr->arm++;
    fr->arm_index = arm;
    fr->unreachable = false;
    if (in->op == OP_ELSE || in->op == OP_CATCH) {
        uint32_t np = f->arms[f->nodes[fr->node].arms].nparams;
        const ValType *p = f->arms[f->nodes[fr->node].arms].param_types;
        if (in->op == OP_CATCH) p = tag_params(b, in->a, in->off, &np);
        f->arms[arm].nparams = np;
        f->arms[arm].param_types = (ValType *)p;
        push_params(b, fr->node, fr->arm, np, p);
    }
}

/* Contract: end or delegate: closes the innermost frame and pushes the node's results
 * onto the enclosing frame (nothing for the function body's end). */
static void close_block(Builder *b, const Instr *in) {
    IrFunc *f = b->f;
    Frame fr = *top_frame(b);
    if (in->op == OP_DELEGATE) {
        bool ok = fr.node && f->nodes[fr.node].in.op == OP_TRY && fr.arm == 0;
        if (!ok) ws_fail(b->c.err, in->off, "END opcode expected: misplaced delegate");
        f->nodes[fr.node].flags |= IRN_DELEGATE;
        f->nodes[fr.node].in.a = (uint32_t)in->a; /* ir_delegate */
    }
    if (b->sure) { /* an if without else has no results (its block types have no params) */
        bool bare_if = fr.node && f->nodes[fr.node].in.op == OP_IF && fr.arm == 0 && fr.nresults;
        b->sure = in->op == OP_END && !bare_if && check_arm_end(b, &fr);
    }
    close_arm(b);
    b->nframes--;
    if (fr.node) push_results(b, fr.node, fr.nresults, frame_results(&fr));
}

/* ---- plain instructions ---- */

/* How a plain instruction changes the stack. */
typedef struct Arity {
    uint32_t npop, npush;
    const ValType *types;        /* pushed types (npush of them) */
    bool ends;                   /* leaves the stack polymorphic */
} Arity;

static Arity arity(uint32_t npop, uint32_t npush, const ValType *types) {
    Arity a = {npop, npush, types, false};
    return a;
}

static Arity ending(uint32_t npop) {
    Arity a = {npop, 0, NULL, true};
    return a;
}

/* The type of the value i slots below the top (i = 0: top), or a bottom type. */
static ValType peek_type(Builder *b, uint32_t i) {
    Frame *fr = top_frame(b);
    if (b->sp - fr->height > i) return b->stack[b->sp - 1 - i].type;
    return vt_num(0);
}

static Arity one(Builder *b, uint32_t npop, ValType t) {
    b->pushed[0] = t;
    return arity(npop, 1, b->pushed);
}

/* Operand counts of the fixed signatures, computed once. */
static uint8_t sig_pops[OP_COUNT];
/* Results of fixed signatures that name no memory or table: their count (else 0xff)
 * and types, so most instructions are typed by a table lookup. */
static uint8_t sig_npush[OP_COUNT];
static ValType sig_push[OP_COUNT][4];
static pthread_once_t sig_once = PTHREAD_ONCE_INIT;

/* What the builder's own type check knows of each opcode (see check_plain). */
enum { CK_NONE, CK_SIG, CK_MEM, CK_FREE, CK_LOCAL, CK_HAND };
enum { CK_ADDR = 1 };            /* in chk_par: the address type of the memory named */
static uint8_t chk_kind[OP_COUNT];
static uint8_t chk_par[OP_COUNT][3]; /* operand type codes, in push order */
static uint8_t chk_align[OP_COUNT];  /* CK_MEM: the natural alignment */

static uint8_t sig_letter_code(char c) { return c == 'a' ? CK_ADDR : op_sig_numtype(c); }

/* Contract: chk_* for op: CK_SIG when its signature names number/vector types alone
 * and its immediate needs no check (none, or a constant), as the validator's numeric
 * instructions; CK_MEM for loads and stores of a plain memarg (not atomic: those need
 * the exact alignment); CK_FREE for those valid once their index is in range; CK_LOCAL
 * for local.set and local.tee; CK_HAND for the other variable, call, branch, memory and
 * parametric instructions check_hand types; CK_NONE (never checked here) otherwise. */
static void chk_init_op(int op) {
    const OpInfo *oi = &op_info[op];
    switch (op) {
    case OP_LOCAL_GET: case OP_GLOBAL_GET: case OP_DROP: case OP_UNREACHABLE: /* index in range: valid */
        chk_kind[op] = CK_FREE;
        return;
    case OP_LOCAL_SET: case OP_LOCAL_TEE: chk_kind[op] = CK_LOCAL; return;
    case OP_GLOBAL_SET: case OP_CALL: case OP_CALL_INDIRECT: case OP_BR: case OP_BR_IF: case OP_BR_TABLE:
    case OP_RETURN: case OP_SELECT: case OP_MEMORY_SIZE: case OP_MEMORY_GROW: case OP_MEMORY_FILL:
    case OP_MEMORY_COPY:
        chk_kind[op] = CK_HAND;
        return;
    }
    const char *colon = strchr(oi->sig, ':');
    bool plain_imm = oi->imm == IMM_NONE || oi->imm == IMM_I32 || oi->imm == IMM_I64 || oi->imm == IMM_F32 ||
                     oi->imm == IMM_F64 || oi->imm == IMM_V128;
    bool mem = oi->imm == IMM_MEMARG && oi->prefix != 0xFE;
    if (!colon || colon - oi->sig > 3 || (!plain_imm && !mem)) return;
    for (const char *p = oi->sig; *p; p++) {
        if (p == colon) continue;
        uint8_t code = sig_letter_code(*p);
        if (!code || (code == CK_ADDR && !mem)) return;
        if (p < colon) chk_par[op][p - oi->sig] = code;
    }
    chk_kind[op] = mem ? CK_MEM : CK_SIG;
    if (mem) chk_align[op] = op_natural_align((OpId)op);
}

static void sig_init(void) {
    for (int op = 0; op < OP_COUNT; op++) chk_init_op(op);
    for (int op = 0; op < OP_COUNT; op++) {
        const char *colon = strchr(op_info[op].sig, ':');
        sig_pops[op] = colon ? (uint8_t)(colon - op_info[op].sig) : 0;
        sig_npush[op] = 0xff;
        if (!colon || strpbrk(colon, "at") || strlen(colon + 1) > 4) continue;
        Instr none = {0};
        uint8_t k = 0;
        for (const char *p = colon + 1; *p; p++) sig_push[op][k++] = ir_sig_type(NULL, *p, &none);
        sig_npush[op] = k;
    }
}

static Arity from_signature(Builder *b, const Instr *in) {
    if (sig_npush[in->op] != 0xff) return arity(sig_pops[in->op], sig_npush[in->op], sig_push[in->op]);
    const char *sig = op_info[in->op].sig;
    uint32_t npop = sig_pops[in->op], npush = 0;
    for (const char *p = sig + npop + 1; *p && npush < 4; p++) b->pushed[npush++] = ir_sig_type(b->m, *p, in);
    return arity(npop, npush, b->pushed);
}

static const TypeDef *callee_type(Builder *b, const Instr *in) {
    if (in->op == OP_CALL || in->op == OP_RETURN_CALL) {
        if (in->a >= b->m->nfuncs) ws_fail(b->c.err, in->off, "unknown function %llu", (unsigned long long)in->a);
        return func_type(b, b->m->funcs[in->a].type, in->off);
    }
    return func_type(b, in->a, in->off);
}

/* Contract: calls and tail calls pop the callee's params (plus the table index or the
 * function reference) and push its results; tail calls end the block. */
static Arity call_arity(Builder *b, const Instr *in) {
    const TypeDef *t = callee_type(b, in);
    uint32_t extra = (in->op == OP_CALL || in->op == OP_RETURN_CALL) ? 0 : 1;
    bool tail = in->op == OP_RETURN_CALL || in->op == OP_RETURN_CALL_INDIRECT || in->op == OP_RETURN_CALL_REF;
    if (tail) return ending(t->nparams + extra);
    return arity(t->nparams + extra, t->nresults, t->results);
}

static Arity branch_arity(Builder *b, const Instr *in) {
    const Frame *fr = label_frame(b, in->a, in->off);
    uint32_t n = fr->nlabel;
    switch (in->op) {
    case OP_BR: return ending(n);
    case OP_BR_IF: return arity(n + 1, n, frame_label(fr));
    case OP_BR_TABLE: return ending(n + 1);
    case OP_BR_ON_NULL: {
        ValType t = peek_type(b, 0);
        b->pushed[0] = ref_type(false, t.heap);
        if (n == 0) return arity(1, 1, b->pushed);
        return arity(n + 1, n + 1, NULL); /* types filled by the caller */
    }
    case OP_BR_ON_NON_NULL: return arity(n, n ? n - 1 : 0, frame_label(fr));
    default: /* br_on_cast, br_on_cast_fail: label types, last one replaced */
        return arity(n, n, frame_label(fr));
    }
}

static uint32_t local_index(Builder *b, const Instr *in) {
    if (in->a >= b->f->nlocals) ws_fail(b->c.err, in->off, "unknown local %llu", (unsigned long long)in->a);
    return (uint32_t)in->a;
}

static ValType global_type(Builder *b, const Instr *in) {
    if (in->a >= b->m->nglobals) ws_fail(b->c.err, in->off, "unknown global %llu", (unsigned long long)in->a);
    return b->m->globals[in->a].type;
}

static ValType table_elem(Builder *b, const Instr *in) {
    if (in->a >= b->m->ntables) ws_fail(b->c.err, in->off, "unknown table %llu", (unsigned long long)in->a);
    return b->m->tables[in->a].elem;
}

static const TypeDef *struct_or_array(Builder *b, const Instr *in, uint8_t kind) {
    const TypeDef *t = type_at(b, in->a, in->off);
    if (t->kind != kind) ws_fail(b->c.err, in->off, "type mismatch: type %llu has the wrong kind", (unsigned long long)in->a);
    return t;
}

static ValType field_type(Builder *b, const Instr *in) {
    const TypeDef *t = struct_or_array(b, in, COMP_STRUCT);
    if (in->b >= t->nfields) ws_fail(b->c.err, in->off, "unknown field %llu", (unsigned long long)in->b);
    return unpacked(t->fields[in->b].type);
}

/* Contract: arity of the GC instructions (0xFB prefix). */
static Arity gc_arity(Builder *b, const Instr *in) {
    int32_t ht = (int32_t)in->a;
    switch (in->op) {
    case OP_STRUCT_NEW: return one(b, struct_or_array(b, in, COMP_STRUCT)->nfields, ref_type(false, ht));
    case OP_STRUCT_NEW_DEFAULT: struct_or_array(b, in, COMP_STRUCT); return one(b, 0, ref_type(false, ht));
    case OP_STRUCT_GET: case OP_STRUCT_GET_S: case OP_STRUCT_GET_U: return one(b, 1, field_type(b, in));
    case OP_STRUCT_SET: field_type(b, in); return arity(2, 0, NULL);
    case OP_ARRAY_NEW: return one(b, 2, ref_type(false, ht));
    case OP_ARRAY_NEW_DEFAULT: return one(b, 1, ref_type(false, ht));
    case OP_ARRAY_NEW_FIXED: return one(b, (uint32_t)in->b, ref_type(false, ht));
    case OP_ARRAY_NEW_DATA: case OP_ARRAY_NEW_ELEM: return one(b, 2, ref_type(false, ht));
    case OP_ARRAY_GET: case OP_ARRAY_GET_S: case OP_ARRAY_GET_U:
        return one(b, 2, unpacked(struct_or_array(b, in, COMP_ARRAY)->fields[0].type));
    case OP_ARRAY_SET: return arity(3, 0, NULL);
    case OP_ARRAY_LEN: return one(b, 1, vt_num(VT_I32));
    case OP_ARRAY_FILL: case OP_ARRAY_INIT_DATA: case OP_ARRAY_INIT_ELEM: return arity(4, 0, NULL);
    case OP_ARRAY_COPY: return arity(5, 0, NULL);
    case OP_REF_TEST: case OP_REF_TEST_NULL: return one(b, 1, vt_num(VT_I32));
    case OP_REF_CAST: return one(b, 1, ref_type(false, in->heap));
    case OP_REF_CAST_NULL: return one(b, 1, ref_type(true, in->heap));
    case OP_ANY_CONVERT_EXTERN: return one(b, 1, ref_type(vt_nullable(peek_type(b, 0)), HT_ANY));
    case OP_EXTERN_CONVERT_ANY: return one(b, 1, ref_type(vt_nullable(peek_type(b, 0)), HT_EXTERN));
    case OP_REF_I31: return one(b, 1, ref_type(false, HT_I31));
    case OP_I31_GET_S: case OP_I31_GET_U: return one(b, 1, vt_num(VT_I32));
    default: return from_signature(b, in);
    }
}

/* Contract: arity of reference, variable and table instructions. */
static Arity misc_arity(Builder *b, const Instr *in) {
    switch (in->op) {
    case OP_DROP: return arity(1, 0, NULL);
    case OP_SELECT: return one(b, 3, peek_type(b, 1).code ? peek_type(b, 1) : peek_type(b, 2));
    case OP_SELECT_T: { const uint8_t *p = in->vec; return one(b, 3, select_type_next(&p)); }
    case OP_LOCAL_GET: return one(b, 0, b->f->locals[local_index(b, in)].type);
    case OP_LOCAL_SET: local_index(b, in); return arity(1, 0, NULL);
    case OP_LOCAL_TEE: return one(b, 1, b->f->locals[local_index(b, in)].type);
    case OP_GLOBAL_GET: return one(b, 0, global_type(b, in));
    case OP_GLOBAL_SET: global_type(b, in); return arity(1, 0, NULL);
    case OP_TABLE_GET: return one(b, 1, table_elem(b, in));
    case OP_TABLE_SET: table_elem(b, in); return arity(2, 0, NULL);
    case OP_TABLE_GROW: table_elem(b, in); return one(b, 2, ir_sig_type(b->m, 't', in));
    case OP_TABLE_FILL: case OP_TABLE_COPY: case OP_MEMORY_COPY: return arity(3, 0, NULL);
    case OP_REF_NULL: return one(b, 0, ref_type(true, in->heap));
    case OP_REF_IS_NULL: return one(b, 1, vt_num(VT_I32));
    case OP_REF_FUNC: {
        if (in->a >= b->m->nfuncs) ws_fail(b->c.err, in->off, "unknown function %llu", (unsigned long long)in->a);
        return one(b, 0, ref_type(false, (int32_t)b->m->funcs[in->a].type));
    }
    case OP_REF_EQ: return one(b, 2, vt_num(VT_I32));
    case OP_REF_AS_NON_NULL: return one(b, 1, ref_type(false, peek_type(b, 0).heap));
    default: return gc_arity(b, in);
    }
}

/* Contract: arity of any instruction that is not structured control. */
static Arity plain_arity(Builder *b, const Instr *in) {
    if (op_info[in->op].sig[0] != '*') return from_signature(b, in);
    switch (in->op) {
    case OP_UNREACHABLE: return ending(0);
    case OP_RETURN: return ending(b->f->nbody_results);
    case OP_THROW: { uint32_t n; tag_params(b, in->a, in->off, &n); return ending(n); }
    case OP_RETHROW: label_frame(b, in->a, in->off); return ending(0);
    case OP_THROW_REF: return ending(1);
    case OP_BR: case OP_BR_IF: case OP_BR_TABLE: case OP_BR_ON_NULL: case OP_BR_ON_NON_NULL:
    case OP_BR_ON_CAST: case OP_BR_ON_CAST_FAIL:
        return branch_arity(b, in);
    case OP_CALL: case OP_CALL_INDIRECT: case OP_CALL_REF: case OP_RETURN_CALL:
    case OP_RETURN_CALL_INDIRECT: case OP_RETURN_CALL_REF:
        return call_arity(b, in);
    default: return misc_arity(b, in);
    }
}

/* Contract: pushed types of the branch instructions whose results mix label types and
 * the operand's refined type (br_on_null with a non-empty label, br_on_cast*). */
static void refine_branch_types(Builder *b, const Instr *in, Arity *a, ValType operand, ValType *buf) {
    const Frame *fr = label_frame(b, in->a, in->off);
    for (uint32_t i = 0; i < a->npush && i < fr->nlabel; i++) buf[i] = frame_label(fr)[i];
    if (in->op == OP_BR_ON_NULL && a->npush) buf[a->npush - 1] = ref_type(false, operand.heap);
    if (in->op == OP_BR_ON_CAST && a->npush) buf[a->npush - 1] = operand;
    if (in->op == OP_BR_ON_CAST_FAIL && a->npush) buf[a->npush - 1] = ref_type(in->flags & 2, in->heap2);
    a->types = buf;
}

static void chain_local(Builder *b, NodeId id, const Instr *in) {
    IrFunc *f = b->f;
    uint32_t l = (uint32_t)in->a;
    bool get = in->op == OP_LOCAL_GET;
    NodeId *tail = &b->local_tails[2 * l + !get];
    if (*tail) f->nodes[*tail].local_next = id;
    else if (get) f->locals[l].first_get = id;
    else f->locals[l].first_set = id;
    *tail = id;
    if (get) f->locals[l].ngets++;
    else f->locals[l].nsets++;
}

/* ---- the builder's own type check ----
 *
 * The builder keeps a typed operand stack anyway, so for the commonest instructions it
 * types the body as the validator would (its quick path's rules: number and vector
 * operands compared by type code, no subtyping) while it builds.  When every
 * instruction of a body passed (IrFunc.checked), the body is valid and the -O0 round
 * trip need not run the validator over it again; any instruction, block type or local
 * these checks do not cover only clears Builder.sure, and the validator decides, with
 * its own message and offset, as before. */

static inline bool is_numvec(ValType t) { return t.code >= VT_V128 && t.code <= VT_I32; }

/* The top n slots of a stack of sp (NULL for none: the stack itself is NULL until a
 * first push). */
static inline const Slot *top_slots(const Slot *stack, uint32_t sp, uint32_t n) { return n ? stack + sp - n : NULL; }

/* Contract: true when the n operands ops[] have exactly the number/vector types ts[]
 * (a reference type in ts, whose check needs subtyping, is refused). */
static inline bool codes_match(const Slot *ops, const ValType *ts, uint32_t n) {
    for (uint32_t i = 0; i < n; i++)
        if (!is_numvec(ts[i]) || ops[i].type.code != ts[i].code) return false;
    return true;
}

/* Contract: a load or store: its memory exists, its alignment is at most the natural
 * one, its offset fits the memory's address type, and its operands (the address by
 * that type) have the signature's types. */
static bool check_mem(const Builder *b, const Instr *in, const Slot *ops, uint32_t npop) {
    const Module *m = b->m;
    if (in->mem >= m->nmems || in->a > chk_align[in->op]) return false;
    uint8_t addr = limits_addr_code(&m->mems[in->mem].limits);
    if (addr == VT_I32 && in->b > UINT32_MAX) return false;
    for (uint32_t i = 0; i < npop; i++) {
        uint8_t want = chk_par[in->op][i];
        if (ops[i].type.code != (want == CK_ADDR ? addr : want)) return false;
    }
    return true;
}

/* Contract: br_table with operands ops[] (label values, then the i32 index): every
 * label, the default too, exists and takes exactly the operands' number types. */
static bool check_br_table(const Builder *b, const Instr *in, const Slot *ops, uint32_t npop) {
    if (ops[npop - 1].type.code != VT_I32) return false;
    const uint8_t *p = in->vec;
    for (uint32_t i = 0; i <= in->n; i++) {
        uint32_t depth = i < in->n ? br_table_label_next(&p) : (uint32_t)in->a;
        if (depth >= b->nframes) return false;
        const Frame *fr = &b->frames[b->nframes - 1 - depth];
        if (fr->nlabel != npop - 1 || !codes_match(ops, frame_label(fr), npop - 1)) return false;
    }
    return true;
}

/* Contract: call_indirect of a function type through a table of funcref (exactly, as
 * the validator's quick path), index operand of the table's address type. */
static bool check_call_indirect(const Builder *b, const Instr *in, const Slot *ops, uint32_t npop) {
    const Module *m = b->m;
    if (in->a >= m->ntypes || m->types[in->a].kind != COMP_FUNC || in->b >= m->ntables) return false;
    const Table *tb = &m->tables[in->b];
    const TypeDef *t = &m->types[in->a];
    if (!vt_is_ref(tb->elem) || tb->elem.heap != HT_FUNC || npop != t->nparams + 1) return false;
    return ops[npop - 1].type.code == limits_addr_code(&tb->limits) && codes_match(ops, t->params, t->nparams);
}

/* Contract: memory.size, memory.grow, memory.fill and memory.copy: the memories exist
 * and the operands have their address types (memory.copy's length: i64 only between
 * two 64-bit memories). */
static bool check_memory_op(const Builder *b, const Instr *in, const Slot *ops, uint32_t npop) {
    const Module *m = b->m;
    uint64_t dst = in->a, src = in->op == OP_MEMORY_COPY ? in->b : in->a;
    if (dst >= m->nmems || src >= m->nmems) return false;
    uint8_t ad = limits_addr_code(&m->mems[dst].limits), as = limits_addr_code(&m->mems[src].limits);
    switch (in->op) {
    case OP_MEMORY_SIZE: return npop == 0;
    case OP_MEMORY_GROW: return npop == 1 && ops[0].type.code == ad;
    case OP_MEMORY_FILL: return npop == 3 && ops[0].type.code == ad && ops[1].type.code == VT_I32 && ops[2].type.code == ad;
    default:
        return npop == 3 && ops[0].type.code == ad && ops[1].type.code == as &&
               ops[2].type.code == (ad == VT_I64 && as == VT_I64 ? VT_I64 : VT_I32);
    }
}

/* Contract: the CK_HAND instructions, whose index immediates quick_arity (or
 * plain_arity) found in range. */
static bool check_hand(const Builder *b, const Instr *in, const Slot *ops, uint32_t npop) {
    const Module *m = b->m;
    switch (in->op) {
    case OP_GLOBAL_SET: return m->globals[in->a].mut && codes_match(ops, &m->globals[in->a].type, 1);
    case OP_CALL: {
        const TypeDef *t = &m->types[m->funcs[in->a].type];
        return npop == t->nparams && codes_match(ops, t->params, t->nparams);
    }
    case OP_CALL_INDIRECT: return check_call_indirect(b, in, ops, npop);
    case OP_RETURN: return codes_match(ops, b->f->type->results, npop);
    case OP_BR: case OP_BR_IF: {
        uint32_t n = npop - (in->op == OP_BR_IF);
        if (in->op == OP_BR_IF && ops[n].type.code != VT_I32) return false;
        const Frame *fr = &b->frames[b->nframes - 1 - in->a];
        return fr->nlabel == n && codes_match(ops, frame_label(fr), n);
    }
    case OP_BR_TABLE: return check_br_table(b, in, ops, npop);
    case OP_MEMORY_SIZE: case OP_MEMORY_GROW: case OP_MEMORY_FILL: case OP_MEMORY_COPY:
        return check_memory_op(b, in, ops, npop);
    case OP_SELECT: /* untyped: two operands of one number/vector type, an i32 condition */
        return ops[2].type.code == VT_I32 && ops[0].type.code == ops[1].type.code && is_numvec(ops[0].type);
    default: return false;
    }
}

/* Contract: whether instruction in, whose npop operands ops[0..npop) all lie above the
 * frame's height (so none is an unknown of unreachable code), is valid as the
 * validator types it; false for whatever these checks do not cover. */
static inline bool check_plain(const Builder *b, const Instr *in, const Slot *ops, uint32_t npop) {
    switch (chk_kind[in->op]) {
    case CK_SIG:
        for (uint32_t i = 0; i < npop; i++)
            if (ops[i].type.code != chk_par[in->op][i]) return false;
        return true;
    case CK_MEM: return check_mem(b, in, ops, npop);
    case CK_FREE: return true;
    case CK_LOCAL: return codes_match(ops, &b->f->locals[in->a].type, 1);
    case CK_HAND: return check_hand(b, in, ops, npop);
    default: return false;
    }
}

/* Contract: whether the values left in frame fr's arm (the stack above its height)
 * are its results, as the validator checks at else and end: exactly them, or, in
 * unreachable code, the last of them. */
static bool check_arm_end(const Builder *b, const Frame *fr) {
    uint32_t have = b->sp - fr->height, n = fr->nresults;
    if (have > n || (have < n && !fr->unreachable)) return false;
    return codes_match(top_slots(b->stack, b->sp, have), frame_results(fr) + (n - have), have);
}

/* Contract: operand i of node id is the value in ops[i]: recorded in args[i], and the
 * node as that value's user. */
static inline void take_operand(IrUse *uses, ValueRef *args, const Slot *ops, NodeId id, uint32_t i) {
    args[i] = ops[i].ref;
    record_use(uses, &ops[i], id, i);
}

/* Contract: fills every field of node id but its instruction (decoded in place) and
 * its type: IRN_SRC or not, operands at refs[args ..] (nargs), its results' users at
 * uses[first_use ..] (nres), and its place at the end of frame fr's arm, whose last node
 * is *last (updated). */
static inline void place_node(IrNode *nodes, NodeId id, uint16_t flags, uint32_t args, uint32_t nargs,
                              uint32_t first_use, uint32_t nres, const Frame *fr, IrArm *arm, NodeId *last) {
    IrNode *n = &nodes[id];
    ir_node_clear_links(n);
    n->flags = flags;
    n->args = args;
    n->nargs = nargs;
    n->uses = first_use;
    n->nres = nres;
    n->parent = fr->node;
    n->parent_arm = (uint16_t)fr->arm;
    n->prev = *last;
    if (*last) nodes[*last].next = id;
    else arm->first = id;
    *last = id;
}

/* Contract: plain() for an instruction that pops npop values, all above the frame's
 * height, and pushes npush of the given types (quick_arity's), in one pass: the node
 * (whose `in` the decoder filled in place), its operands and uses, its place in the
 * arm, its results on the stack.  Same result as the general path; the caller marks
 * what follows an ending instruction unreachable. */
static inline void plain_fixed(Builder *b, Frame *fr, uint32_t npop, uint32_t npush, const ValType *types) {
    IrFunc *f = b->f;
    if (f->nrefs + npop > f->cap_refs) ws_grow_big((void **)&f->refs, &f->cap_refs, f->nrefs + npop, sizeof(ValueRef));
    if (f->nuses + npush > f->cap_uses) ws_grow_big((void **)&f->uses, &f->cap_uses, f->nuses + npush, sizeof(IrUse));
    if (b->sp + npush > b->cap_stack) ws_grow((void **)&b->stack, &b->cap_stack, b->sp + npush, sizeof(Slot));
    /* counters and bases in locals: the stores below cannot then be taken as aliasing them */
    IrNode *nodes = f->nodes;
    IrUse *uses = f->uses;
    NodeId id = f->nnodes++;
    uint32_t at = f->nrefs, first_use = f->nuses, sp = b->sp - npop;
    f->nrefs = at + npop;
    f->nuses = first_use + npush;
    b->sp = sp + npush;
    IrArm *arm = fr->node ? &f->arms[fr->arm_index] : &f->body;
    place_node(nodes, id, b->src_flag, at, npop, first_use, npush, fr, arm, &arm->last);
    for (uint32_t i = 0; i < npop; i++) /* (b->stack is NULL until a first push) */
        take_operand(uses, f->refs + at, b->stack + sp, id, i);
    if (npush == 0) return;
    nodes[id].type = types[0];
    for (uint32_t i = 0; i < npush; i++) {
        uses[first_use + i] = (IrUse){0, 0};
        slot_set(&b->stack[sp + i], id, i, &types[i], first_use);
    }
}

/* Contract: plain() for what plain_fixed does not take: arity from the instruction's
 * kind, operands that may reach below the frame, instructions that end the block.
 * Kept out of line, so that the common path stays small. */
static WS_NOINLINE void plain_general(Builder *b, const Instr *in) {
    IrFunc *f = b->f;
    Arity a = plain_arity(b, in);
    if (b->sure) /* call_indirect and what quick_arity leaves (operands of unreachable code) */
        b->sure = b->sp >= top_frame(b)->height + a.npop && check_plain(b, in, top_slots(b->stack, b->sp, a.npop), a.npop);
    ValType buf[64], *types = buf;
    bool refine = (in->op == OP_BR_ON_NULL && a.types == NULL) || in->op == OP_BR_ON_CAST ||
                  in->op == OP_BR_ON_CAST_FAIL;
    if (refine) {
        if (a.npush > 64) types = arena_array(&f->arena, a.npush, sizeof(ValType));
        refine_branch_types(b, in, &a, peek_type(b, 0), types);
    }
    NodeId id = new_node_for(f, in);
    f->nodes[id].flags = b->src_flag;
    pop_args(b, id, a.npop);
    append(b, id);
    push_results(b, id, a.npush, a.types);
    if (in->op == OP_LOCAL_GET || in->op == OP_LOCAL_SET || in->op == OP_LOCAL_TEE) chain_local(b, id, in);
    if (a.ends) {
        f->nodes[id].flags |= IRN_UNREACHABLE_AFTER;
        mark_unreachable(b);
    }
}

/* Contract: the arity of the commonest instructions, when it is found without any
 * check that could fail: fixed signatures, locals, calls, globals, branches, drop,
 * select, return, unreachable.  False sends the instruction to plain_general, which
 * reports what is wrong.  Same arity as plain_arity where both answer. */
static inline bool quick_arity(Builder *b, const Instr *in, const Slot *stack, uint32_t sp, uint32_t height,
                               Arity *a) {
    const IrFunc *f = b->f;
    if (sig_npush[in->op] != 0xff) { /* never for "*": those have no ':' */
        *a = arity(sig_pops[in->op], sig_npush[in->op], sig_push[in->op]);
        return true;
    }
    switch (in->op) {
    case OP_LOCAL_GET: case OP_LOCAL_SET: case OP_LOCAL_TEE:
        if (in->a >= f->nlocals) return false;
        *a = arity(in->op != OP_LOCAL_GET, in->op != OP_LOCAL_SET, &f->locals[in->a].type);
        return true;
    case OP_CALL: {
        if (in->a >= b->m->nfuncs || b->m->funcs[in->a].type >= b->m->ntypes) return false;
        const TypeDef *t = &b->m->types[b->m->funcs[in->a].type];
        if (t->kind != COMP_FUNC) return false;
        *a = arity(t->nparams, t->nresults, t->results);
        return true;
    }
    case OP_GLOBAL_GET: case OP_GLOBAL_SET:
        if (in->a >= b->m->nglobals) return false;
        *a = arity(in->op == OP_GLOBAL_SET, in->op == OP_GLOBAL_GET, &b->m->globals[in->a].type);
        return true;
    case OP_BR: case OP_BR_IF: case OP_BR_TABLE: {
        if (in->a >= b->nframes) return false;
        const Frame *fr = &b->frames[b->nframes - 1 - in->a];
        uint32_t n = fr->nlabel;
        *a = in->op == OP_BR ? ending(n) : in->op == OP_BR_TABLE ? ending(n + 1) : arity(n + 1, n, frame_label(fr));
        return true;
    }
    case OP_DROP: *a = arity(1, 0, NULL); return true;
    case OP_RETURN: *a = ending(f->nbody_results); return true;
    case OP_UNREACHABLE: *a = ending(0); return true;
    case OP_SELECT: {
        if (sp < height + 3) return false;
        ValType t = stack[sp - 2].type;
        *a = one(b, 3, t.code ? t : stack[sp - 3].type);
        return true;
    }
    default: return false;
    }
}

/* Contract: one plain instruction: pops its operands, appends its node, pushes its
 * results; instructions that end the block leave the stack polymorphic. */
static void plain(Builder *b, const Instr *in) {
    IrFunc *f = b->f;
    Frame *top = top_frame(b);
    Arity a;
    if (ir_build_quick && in == &f->nodes[f->nnodes].in && quick_arity(b, in, b->stack, b->sp, top->height, &a) &&
        b->sp >= top->height + a.npop) {
        NodeId id = f->nnodes;
        if (b->sure) b->sure = check_plain(b, in, top_slots(b->stack, b->sp, a.npop), a.npop);
        plain_fixed(b, top, a.npop, a.npush, a.types);
        if (in->op == OP_LOCAL_GET || in->op == OP_LOCAL_SET || in->op == OP_LOCAL_TEE) chain_local(b, id, in);
        if (a.ends) {
            f->nodes[id].flags |= IRN_UNREACHABLE_AFTER;
            mark_unreachable(b);
        }
        return;
    }
    plain_general(b, in);
}

static void step(Builder *b, const Instr *in) {
    if (!b->m->has_datacount && (in->op == OP_MEMORY_INIT || in->op == OP_DATA_DROP ||
                                 in->op == OP_ARRAY_NEW_DATA || in->op == OP_ARRAY_INIT_DATA))
        ws_fail(b->c.err, in->off, "data count section required");
    switch (in->op) {
    case OP_BLOCK: case OP_LOOP: case OP_IF: case OP_TRY: case OP_TRY_TABLE: open_block(b, in); break;
    case OP_ELSE: case OP_CATCH: case OP_CATCH_ALL: next_arm(b, in); break;
    case OP_END: case OP_DELEGATE: close_block(b, in); break;
    default: plain(b, in);
    }
}

/* Contract: for local.get, global.get and the constants (4 in 10 instructions of
 * ruby.wasm), which pop nothing and push one value, that value's type; else NULL
 * (quick_arity then decides, or the general path). */
static inline const ValType *pushes_one(const Builder *b, const Instr *in) {
    switch (in->op) {
    case OP_LOCAL_GET: return in->a < b->f->nlocals ? &b->f->locals[in->a].type : NULL;
    case OP_GLOBAL_GET: return in->a < b->m->nglobals ? &b->m->globals[in->a].type : NULL;
    case OP_I32_CONST: case OP_I64_CONST: case OP_F32_CONST: case OP_F64_CONST: return sig_push[in->op];
    default: return NULL;
    }
}

/* Contract: block, loop or if with an empty or one-value block type (the quick
 * decoder's), whose condition (if) is above the frame's height: what open_block does,
 * in one pass.  False, nothing done, otherwise. */
static bool quick_open(Builder *b, const Instr *in) {
    IrFunc *f = b->f;
    Frame *fr = top_frame(b);
    uint32_t nargs = in->op == OP_IF;
    if (b->sp < fr->height + nargs || in->bt.kind == BT_TYPE) return false;
    if (b->sure) /* an i32 condition; a result of a number or vector type */
        b->sure = (!nargs || b->stack[b->sp - 1].type.code == VT_I32) && (in->bt.kind != BT_VAL || is_numvec(in->bt.val));
    NodeId id = f->nnodes++; /* in is this node's instruction, decoded in place */
    uint32_t at = new_refs(f, nargs);
    IrArm *parent = fr->node ? &f->arms[fr->arm_index] : &f->body;
    place_node(f->nodes, id, IRN_SRC, at, nargs, 0, 0, fr, parent, &parent->last);
    if (nargs) take_operand(f->uses, f->refs + at, &b->stack[--b->sp], id, 0);
    uint32_t arm = new_arms(f, 1); /* may move f->arms: parent is not used after it */
    f->nodes[id].arms = arm;
    f->nodes[id].narms = 1;
    f->arms[arm].head = *in;
    uint32_t nr = in->bt.kind == BT_VAL;
    push_frame(b, id, arm, in->op == OP_LOOP ? 0 : nr, NULL, nr, NULL);
    if (nr) top_frame(b)->one = in->bt.val;
    return true;
}

/* Contract: end, block, loop and if as step() would build them, without its dispatch
 * and with quick_open when it applies. */
static void step_structure(Builder *b, const Instr *in) {
    if (in->op == OP_END) close_block(b, in);
    else if (!((in->op == OP_BLOCK || in->op == OP_LOOP || in->op == OP_IF) && quick_open(b, in))) step(b, in);
}

/* Contract: local.get, global.get or i32.const (43% of ruby.wasm's instructions) with a
 * one-byte immediate at p, in range: decoded into *in (blank) as instr_decode_quick
 * would, *pushed set to its result's type, its length returned; else 0.  One test of
 * the opcode instead of the decoder's dispatch and then pushes_one's. */
static inline size_t quick_push_one(const Builder *b, const uint8_t *p, const uint8_t *end, Instr *in,
                                    const ValType **pushed) {
    if (end - p < 2 || p[1] >= 0x80) return 0;
    switch (p[0]) {
    case 0x20:
        if (p[1] >= b->f->nlocals) return 0;
        in->op = OP_LOCAL_GET;
        *pushed = &b->f->locals[p[1]].type;
        break;
    case 0x23:
        if (p[1] >= b->m->nglobals) return 0;
        in->op = OP_GLOBAL_GET;
        *pushed = &b->m->globals[p[1]].type;
        break;
    case 0x41:
        in->op = OP_I32_CONST;
        in->i = p[1] & 0x40 ? (int64_t)p[1] - 0x80 : (int64_t)p[1];
        *pushed = sig_push[OP_I32_CONST];
        return 2;
    default: return 0;
    }
    in->a = p[1];
    return 2;
}

/* Contract: builds the run of plain instructions at b->c that have quick encodings and
 * quick_arity's arity, operands above the frame's height and room in every array, as
 * plain() would, with the counters held in locals.  The first instruction it does not
 * take is decoded into the next node's `in` and given to step() when it has a quick
 * encoding (and the run goes on after it), else left to the caller, not consumed.
 * Returns false when no node slot was free (the caller grows the array). */
static bool build_straight(Builder *b) {
    IrFunc *f = b->f;
again:;
    Frame *fr = top_frame(b);
    IrArm *arm = fr->node ? &f->arms[fr->arm_index] : &f->body;
    IrNode *nodes = f->nodes;
    IrUse *uses = f->uses;
    ValueRef *refs = f->refs;
    Slot *stack = b->stack;
    uint32_t nnodes = f->nnodes, nrefs = f->nrefs, nuses = f->nuses, sp = b->sp, height = fr->height;
    NodeId last = arm->last;
    const uint8_t *p = b->c.p, *end = b->c.end, *file = b->c.file_start;
    bool handed = false, room = true, sure = b->sure;
    while (p < end) {
        if (nnodes == f->cap_nodes) { room = false; break; }
        IrNode *n = &nodes[nnodes];
        memset(&n->in, 0, sizeof n->in); /* blank: stores of zero, no loads */
        n->in.off = (uint32_t)(p - file);
        const ValType *pushed = NULL;
        size_t len = quick_push_one(b, p, end, &n->in, &pushed);
        if (!len) {
            if (!(len = instr_decode_quick(p, end, &n->in))) break;
            pushed = pushes_one(b, &n->in);
        }
        n->in.len = (uint32_t)len;
        p += len;
        if (pushed && nuses < f->cap_uses && sp < b->cap_stack) { /* the commonest shape, without loops */
            NodeId id = nnodes++;
            place_node(nodes, id, IRN_SRC, nrefs, 0, nuses, 1, fr, arm, &last);
            n->type = *pushed;
            uses[nuses++] = (IrUse){0, 0};
            slot_set(&stack[sp++], id, 0, pushed, nuses - 1);
            if (n->in.op == OP_LOCAL_GET) chain_local(b, id, &n->in);
            continue;
        }
        Arity a;
        if (!quick_arity(b, &n->in, stack, sp, height, &a) || sp < height + a.npop || nrefs + a.npop > f->cap_refs ||
            nuses + a.npush > f->cap_uses || sp - a.npop + a.npush > b->cap_stack) {
            handed = true;
            break;
        }
        if (sure) sure = check_plain(b, &n->in, top_slots(stack, sp, a.npop), a.npop);
        NodeId id = nnodes++;
        place_node(nodes, id, IRN_SRC, nrefs, a.npop, nuses, a.npush, fr, arm, &last);
        sp -= a.npop;
        switch (a.npop) { /* one or two operands (most instructions) without the loop */
        case 2: take_operand(uses, refs + nrefs, stack + sp, id, 1); /* fall through */
        case 1: take_operand(uses, refs + nrefs, stack + sp, id, 0); /* fall through */
        case 0: break;
        default:
            for (uint32_t i = 0; i < a.npop; i++) take_operand(uses, refs + nrefs, stack + sp, id, i);
        }
        nrefs += a.npop;
        if (a.npush) n->type = a.types[0];
        if (a.npush == 1) { /* the common case, without the loop */
            uses[nuses] = (IrUse){0, 0};
            slot_set(&stack[sp], id, 0, &a.types[0], nuses);
        } else {
            for (uint32_t i = 0; i < a.npush; i++) {
                uses[nuses + i] = (IrUse){0, 0};
                slot_set(&stack[sp + i], id, i, &a.types[i], nuses);
            }
        }
        nuses += a.npush;
        sp += a.npush;
        if (n->in.op == OP_LOCAL_GET || n->in.op == OP_LOCAL_SET || n->in.op == OP_LOCAL_TEE) chain_local(b, id, &n->in);
        if (a.ends) {
            n->flags |= IRN_UNREACHABLE_AFTER;
            sp = height;
            fr->unreachable = true;
        }
    }
    f->nnodes = nnodes;
    f->nrefs = nrefs;
    f->nuses = nuses;
    b->sp = sp;
    b->sure = sure;
    arm->last = last;
    b->c.p = p;
    if (!handed) return room;
    b->src_flag = IRN_SRC;
    step_structure(b, &nodes[nnodes].in);
    if (b->nframes > 0 && f->nnodes < f->cap_nodes) goto again; /* the frame may have changed: reload */
    return true;
}

bool ir_build_quick = true;

/* Contract: decodes the code after the locals until the body's final end, which must be
 * the last byte. */
static void build_code(Builder *b) {
    push_frame(b, 0, 0, b->f->nbody_results, b->f->type->results, b->f->nbody_results, b->f->type->results);
    while (b->nframes > 0) {
        if (cur_eof(&b->c)) cur_fail(&b->c, "unexpected end of section or function (END opcode expected)");
        IrFunc *f = b->f;
        const uint8_t *at = b->c.p;
        if (ir_build_quick && build_straight(b) && b->c.p != at) continue;
        if (b->nframes == 0 || cur_eof(&b->c)) continue;
        if (f->nnodes == f->cap_nodes) ws_grow_big((void **)&f->nodes, &f->cap_nodes, f->nnodes + 1, sizeof(IrNode));
        Instr *in = &f->nodes[f->nnodes].in; /* the next node's, if it becomes one */
        bool canon = true;
        instr_decode_canon(&b->c, in, &canon);
        b->src_flag = canon ? IRN_SRC : 0;
        step(b, in);
    }
    if (!cur_eof(&b->c)) cur_fail(&b->c, "section size mismatch: code after the function's final end");
}

/* ---- driver ---- */

static void read_locals(Builder *b) {
    IrFunc *f = b->f;
    uint32_t groups = cur_count(&b->c, 2, "local declaration");
    f->groups = arena_array(&f->arena, groups, sizeof(IrLocalGroup));
    f->ngroups = groups;
    uint64_t total = f->nparams;
    for (uint32_t i = 0; i < groups; i++) {
        f->groups[i].count = cur_u32(&b->c);
        f->groups[i].type = read_valtype(&b->c);
        if (!is_numvec(f->groups[i].type)) b->sure = false; /* reference locals: the validator */
        total += f->groups[i].count;
    }
    if (total > 50000000) ws_fail(b->c.err, cur_offset(&b->c), "too many locals");
    f->nlocals = (uint32_t)total;
    ws_grow((void **)&f->locals, &f->cap_locals, f->nlocals + 1, sizeof(IrLocal));
    memset(f->locals, 0, (total + 1) * sizeof(IrLocal));
    for (uint32_t i = 0; i < f->nparams; i++) f->locals[i].type = f->type->params[i];
    uint32_t at = f->nparams;
    for (uint32_t g = 0; g < groups; g++)
        for (uint32_t k = 0; k < f->groups[g].count; k++) f->locals[at++].type = f->groups[g].type;
    IrScratch *s = f->scratch;
    ws_grow((void **)&s->local_tails, &s->cap_tails, 2 * f->nlocals + 2, sizeof(NodeId));
    memset(s->local_tails, 0, (2 * total + 2) * sizeof(NodeId));
    b->local_tails = s->local_tails;
}

/* Contract: hands the builder's (possibly grown) stacks back to the scratch. */
static void builder_done(Builder *b) {
    IrScratch *s = b->f->scratch;
    s->stack = b->stack;
    s->cap_stack = b->cap_stack;
    s->frames = b->frames;
    s->cap_frames = b->cap_frames;
}

/* Contract: empties f for a new function, keeping every array's capacity. */
static void init_func(IrFunc *f, const Module *m, uint32_t index) {
    IrFunc keep = *f;
    memset(f, 0, sizeof *f);
    f->nodes = keep.nodes; f->cap_nodes = keep.cap_nodes;
    f->refs = keep.refs; f->cap_refs = keep.cap_refs;
    f->uses = keep.uses; f->cap_uses = keep.cap_uses;
    f->arms = keep.arms; f->cap_arms = keep.cap_arms;
    f->locals = keep.locals; f->cap_locals = keep.cap_locals;
    f->pass_scratch = keep.pass_scratch; f->pass_scratch_free = keep.pass_scratch_free;
    /* never NULL, so ir_args/ir_uses of a node without operands or uses (offset 0) are
     * defined even in a function that has none at all */
    ws_grow_big((void **)&f->refs, &f->cap_refs, 1, sizeof(ValueRef));
    ws_grow_big((void **)&f->uses, &f->cap_uses, 1, sizeof(IrUse));
    f->scratch = keep.scratch ? keep.scratch : ws_calloc(1, sizeof(IrScratch));
    arena_reset(&keep.arena);
    f->arena = keep.arena;
    f->m = m;
    f->index = index;
    if (m->funcs[index].type >= m->ntypes) return; /* reported by the caller */
    f->type = &m->types[m->funcs[index].type];
    f->nparams = f->type->nparams;
    f->nbody_results = f->type->nresults;
}

/* Contract: ir_build, with the builder's own type check when `check` is set. */
static bool build(IrFunc *f, const Module *m, uint32_t index, WsError *err, bool check) {
    pthread_once(&sig_once, sig_init);
    const Func *fn = &m->funcs[index];
    init_func(f, m, index);
    Builder *b = ws_calloc(1, sizeof *b); /* heap: intact after longjmp */
    b->f = f;
    b->m = m;
    b->stack = f->scratch->stack;
    b->cap_stack = f->scratch->cap_stack;
    b->frames = f->scratch->frames;
    b->cap_frames = f->scratch->cap_frames;
    /* offsets count from the input, or (a body a pass rewrote) from the body's start */
    bool in_input = m->input && fn->body.p >= m->input && fn->body.p + fn->body.len <= m->input + m->input_len;
    f->src = in_input ? m->input : fn->body.p;
    f->src_len = in_input ? m->input_len : fn->body.len;
    b->c = (Cursor){f->src, fn->body.p, fn->body.p + fn->body.len, err};
    err->file = m->file;
    if (m->funcs[index].type >= m->ntypes || f->type->kind != COMP_FUNC) {
        err->offset = fn->body_offset;
        snprintf(err->msg, sizeof err->msg, "function %u has no function type", index);
        free(b);
        return false;
    }
    if (setjmp(err->jb)) {
        if (!in_input) err->offset += fn->body_offset; /* as the validator reports it */
        builder_done(b);
        free(b);
        return false;
    }
    new_node(f); /* id 0: none */
    new_arms(f, 1); /* arm 0: none */
    b->sure = check;
    read_locals(b);
    build_code(b);
    f->checked = b->sure;
    builder_done(b);
    free(b);
    return true;
}

bool ir_build(IrFunc *f, const Module *m, uint32_t index, WsError *err) { return build(f, m, index, err, false); }

bool ir_build_checked(IrFunc *f, const Module *m, uint32_t index, WsError *err) {
    return build(f, m, index, err, true);
}

void ir_free(IrFunc *f) {
    if (f->pass_scratch_free) f->pass_scratch_free(f->pass_scratch);
    if (f->scratch) {
        free(f->scratch->stack);
        free(f->scratch->frames);
        free(f->scratch->local_tails);
        free(f->scratch);
    }
    ws_free_big(f->nodes, f->cap_nodes, sizeof(IrNode));
    ws_free_big(f->refs, f->cap_refs, sizeof(ValueRef));
    ws_free_big(f->uses, f->cap_uses, sizeof(IrUse));
    ws_free_big(f->arms, f->cap_arms, sizeof(IrArm));
    free(f->locals);
    arena_free(&f->arena);
    memset(f, 0, sizeof *f);
}
