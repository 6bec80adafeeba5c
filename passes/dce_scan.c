/* dce_scan.c - which functions dce could change, from their bytes alone.
 *
 *   (func (param i32) (result i32)      ->  no rule of dce.c applies: the function
 *     local.get 0  i32.const 1  i32.add)    keeps its bytes, no IR is built for it
 *   (func  i32.const 7  drop)           ->  a pure value dropped: build the IR
 *
 * Most functions of a compiled module give dce nothing to do (ruby.wasm: 652 of 17,490
 * change), and building and lowering the IR of the others is most of the pass's time.
 * One walk over the instructions, counting values per block and remembering for each
 * value on the stack whether its producer is pure (and whether it is an i32.const),
 * finds every place where a rule of dce.c could fire in its first sweep: code after an
 * instruction that ends a block; a value left behind by one; a branch, if or select on
 * an i32.const; a drop of a pure single value; an empty block, loop or if; a local
 * written but never read, or written once and read once (stackify); a declared local
 * never used, or locals compact_locals would reorder.  When none is found, the first
 * sweep changes nothing, so no later one runs and dce leaves the body as it is.
 *
 * Nops are stepped over as if absent (a nop where the arm is already dead excepted), so
 * the walk judges the body without them.  When that body stays, dce's only change is
 * dropping the nops: DCE_NOPS, which dce.c does on the bytes (esbuild.wasm: 3,095 of
 * the 3,677 functions dce changes; Go's compiler leaves nops).
 *
 * The walk only answers "no change" when it understood everything: any instruction it
 * does not type itself (references, GC, exceptions, tail calls, block types naming a
 * type, ...), any index out of range, a stack it cannot account for, or a malformed
 * body makes it answer "build the IR", and the builder then reports what is wrong. */
#include "dce.h"
#include "../ir/func.h"
#include "../ir/instr.h"
#include <pthread.h>
#include <stdlib.h>

enum { LIMIT_LOCALS = 1 << 16 };
/* A value on the scan's stack: its producer's kind in the low two bits (impure or
 * structured, pure with one result, i32.const), a serial number of the push above.
 * Wider than the counters around it, so that a push is known not to change them. */
enum { VK_OTHER, VK_PURE, VK_CONST, VK_MASK = 3 };
enum { SK_FUNC, SK_BLOCK, SK_LOOP, SK_IF, SK_ELSE };
typedef uint64_t ScanVal;

typedef struct ScanFrame {
    uint8_t kind;
    bool nonempty;      /* the current arm holds an instruction */
    bool then_empty;    /* SK_ELSE: the then arm held none */
    bool dead;          /* after br, return, unreachable...: only end/else may follow */
    uint32_t height;    /* values below the frame */
    uint32_t arm;       /* serial number of the current arm */
    uint32_t nresults;  /* 0 or 1 (one-byte block types only); the function's own */
} ScanFrame;

/* Per local: counts, and where its first local.set left the stack (for stackify). */
typedef struct LocalUse {
    uint32_t gets, sets, tees;
    uint32_t set_arm, set_height; /* arm, height */
    bool seg_balanced; /* the first get follows the first set in its arm, the code
                          between taking nothing from below it and leaving nothing */
    ScanVal set_below; /* the value below the first set's (or 0) */
} LocalUse;

/* What every instruction reads and writes: the value and frame stacks.  The quick
 * loop works on a copy in local variables (kept in registers), the general path on
 * the Scan's own. */
typedef struct Stacks {
    ScanVal *vals;
    uint32_t nvals, cap_vals;
    uint32_t serial;    /* pushes and arms so far */
    ScanFrame *frames;
    ScanFrame *top;     /* frames[nframes - 1] */
    uint32_t nframes, cap_frames;
} Stacks;

typedef struct Scan {
    const Module *m;
    const TypeDef *type;
    Stacks k;
    LocalUse *uses;
    uint32_t cap_uses;
    IrLocalGroup *groups; /* the local declarations */
    uint32_t ngroups, cap_groups;
    uint32_t nparams, nlocals;
    uint32_t nops;      /* nops stepped over (as if absent) */
    bool canonical;     /* the bytes so far are canonical (quick_step's encodings are) */
} Scan;

static inline uint32_t height(const Stacks *k) { return k->nvals - k->top->height; }

static inline uint32_t top_kind(const Stacks *k) { return (uint32_t)k->vals[k->nvals - 1] & VK_MASK; }

/* Contract: pushes a value of the given kind within the room reserved (quick_run's,
 * or push's check). */
static inline void push_reserved(Stacks *k, uint32_t kind) {
    k->vals[k->nvals++] = (ScanVal)++k->serial << 2 | kind;
}

/* Contract: pushes a value, growing the array first when it is full.  The array and
 * its capacity go through temporaries, so that no address of a field is taken and a
 * copy of the stacks can live in registers. */
static inline void push(Stacks *k, uint32_t kind) {
    if (k->nvals == k->cap_vals) {
        void *vals = k->vals;
        uint32_t cap = k->cap_vals;
        ws_grow_to(&vals, &cap, k->nvals + 1, sizeof *k->vals);
        k->vals = vals;
        k->cap_vals = cap;
    }
    push_reserved(k, kind);
}

/* Contract: pops n values of the current frame; false when it holds fewer. */
static inline bool pop(Stacks *k, uint32_t n) {
    if (height(k) < n) return false;
    k->nvals -= n;
    return true;
}

/* Contract: the top value is a condition nothing folds (present, not an i32.const);
 * it is popped.  False when dce would fold it or the stack is short. */
static inline bool pop_condition(Stacks *k) {
    return height(k) >= 1 && top_kind(k) != VK_CONST && pop(k, 1);
}

/* Values a branch to the frame `depth` out carries; false when there is no such frame. */
static inline bool label_arity(const Stacks *k, uint32_t depth, uint32_t *n) {
    if (depth >= k->nframes) return false;
    const ScanFrame *f = k->top - depth;
    *n = f->kind == SK_LOOP ? 0 : f->nresults;
    return true;
}

/* Contract: an instruction after which the rest of the arm is dead, leaving `keep`
 * values for it: true when no value is left behind (dce would remove a pure one). */
static inline bool ends_arm(Stacks *k, uint32_t keep) {
    if (height(k) > keep) return false;
    k->top->dead = true;
    k->nvals = k->top->height;
    return true;
}

/* Contract: opens a frame for a block type of kind bt_kind; false for one naming a
 * type (parameters: not followed). */
static inline bool open_frame(Stacks *k, uint8_t kind, uint8_t bt_kind) {
    if (bt_kind == BT_TYPE) return false;
    if (k->nframes == k->cap_frames) { /* through temporaries, as in push() */
        void *frames = k->frames;
        uint32_t cap = k->cap_frames;
        ws_grow_to(&frames, &cap, k->nframes + 1, sizeof *k->frames);
        k->frames = frames;
        k->cap_frames = cap;
    }
    k->frames[k->nframes++] = (ScanFrame){kind, false, false, false, k->nvals, ++k->serial, bt_kind == BT_VAL};
    k->top = &k->frames[k->nframes - 1];
    return true;
}

/* Contract: end of the innermost frame: false when an arm was empty in a way dce
 * removes (block, loop, if without else, if with both arms empty). */
static inline bool close_frame(Stacks *k) {
    ScanFrame *f = k->top;
    bool empty = !f->nonempty;
    if ((f->kind == SK_BLOCK || f->kind == SK_LOOP || f->kind == SK_IF) && empty) return false;
    if (f->kind == SK_ELSE && empty && f->then_empty) return false;
    uint32_t n = f->nresults;
    k->nvals = f->height;
    k->nframes--;
    if (k->nframes) k->top = f - 1;
    for (uint32_t i = 0; i < n; i++) push(k, VK_OTHER);
    return true;
}

/* Contract: a call of type t (popping `extra` more operands, call_indirect's index):
 * its results are impure values. */
static inline bool call_of(Stacks *k, const TypeDef *t, uint32_t extra) {
    if (!pop(k, t->nparams + extra)) return false;
    for (uint32_t i = 0; i < t->nresults; i++) push(k, VK_OTHER);
    return true;
}

static const TypeDef *func_type(const Module *m, uint32_t typeidx) {
    return typeidx < m->ntypes && m->types[typeidx].kind == COMP_FUNC ? &m->types[typeidx] : NULL;
}

/* Per opcode with a fixed signature in opcodes.def ("ii:i"): values popped and pushed
 * (one per letter) and the kind of the results; npop 0xff for one typed by hand. */
typedef struct FixedSig { uint8_t npop, npush, kind; } FixedSig;
static FixedSig fixed_sigs[OP_COUNT];
static pthread_once_t fixed_once = PTHREAD_ONCE_INIT;

/* By first byte, how quick_step takes a one-byte opcode: QC_SIG, no immediate and a
 * fixed signature pushing one value at most; QC_MEMARG, a load or store of a fixed
 * signature; the others by hand; QC_NONE: it does not. */
enum {
    QC_NONE, QC_GET, QC_SET, QC_TEE, QC_GLOBAL_GET, QC_CONST, QC_END, QC_BR_IF, QC_BLOCK, QC_LOOP, QC_IF, QC_CALL,
    QC_SIG, QC_MEMARG
};
static uint8_t quick_class[256];
static uint16_t quick_op[256];

static void fixed_sigs_init(void) {
    for (int op = 0; op < OP_COUNT; op++) {
        const char *sig = op_info[op].sig, *colon = strchr(sig, ':');
        FixedSig *f = &fixed_sigs[op];
        if (!colon) {
            f->npop = 0xff;
            continue;
        }
        f->npop = (uint8_t)(colon - sig);
        f->npush = (uint8_t)strlen(colon + 1);
        f->kind = (op_info[op].fx & DCE_IMPURE) || f->npush != 1 ? VK_OTHER : VK_PURE;
        if (op == OP_I32_CONST) f->kind = VK_CONST;
    }
    for (int op = 0; op < OP_COUNT; op++) {
        const OpInfo *oi = &op_info[op];
        if (oi->prefix || fixed_sigs[op].npop == 0xff || fixed_sigs[op].npush > 1 || op == OP_NOP) continue;
        quick_class[oi->code] = oi->imm == IMM_NONE ? QC_SIG : oi->imm == IMM_MEMARG ? QC_MEMARG : QC_NONE;
        quick_op[oi->code] = (uint16_t)op;
    }
    quick_class[0x20] = QC_GET;
    quick_class[0x21] = QC_SET;
    quick_class[0x22] = QC_TEE;
    quick_class[0x23] = QC_GLOBAL_GET;
    quick_class[0x41] = quick_class[0x42] = QC_CONST;
    quick_class[0x0b] = QC_END;
    quick_class[0x0d] = QC_BR_IF;
    quick_class[0x02] = QC_BLOCK;
    quick_class[0x03] = QC_LOOP;
    quick_class[0x04] = QC_IF;
    quick_class[0x10] = QC_CALL;
}

/* Contract: an instruction with a fixed signature: pops and pushes by its letters;
 * false for one typed by hand ("*") or a short stack. */
static inline bool fixed_signature(Stacks *k, OpId op) {
    const FixedSig *f = &fixed_sigs[op];
    if (f->npop == 0xff || !pop(k, f->npop)) return false;
    for (uint32_t i = 0; i < f->npush; i++) push(k, f->kind);
    return true;
}

/* Contract: the first get of a local whose first set was seen: whether it is in the
 * set's arm with the stack as the set left it (nothing below popped: the value under
 * it is the same push) - dce's stackify rule then applies if they are the only ones. */
static bool segment_balanced(const Stacks *k, const LocalUse *u) {
    const ScanFrame *f = k->top;
    if (!u->sets || u->set_arm != f->arm || k->nvals != u->set_height) return false;
    return k->nvals == f->height || k->vals[k->nvals - 1] == u->set_below;
}

/* Contract: local.get, local.set or local.tee (op) of local x; false, with nothing
 * changed, when x is out of range or the stack is short. */
static inline bool local_access(const Scan *s, Stacks *k, OpId op, uint64_t x) {
    if (x >= s->nlocals) return false;
    LocalUse *u = &s->uses[x];
    if (op == OP_LOCAL_GET) {
        if (!u->gets++) u->seg_balanced = segment_balanced(k, u);
        push(k, VK_PURE);
        return true;
    }
    if (!pop(k, 1)) return false;
    if (op == OP_LOCAL_TEE) {
        u->tees++;
        push(k, VK_OTHER);
    } else if (!u->sets++) {
        u->set_arm = k->top->arm;
        u->set_height = k->nvals;
        u->set_below = k->nvals > k->top->height ? k->vals[k->nvals - 1] : 0;
    }
    return true;
}

/* Contract: the reference and table instructions typed by hand that the scan follows:
 * pops and pushes (results of table reads impure: they trap); false for the others. */
static bool table_or_ref(Stacks *k, OpId op) {
    switch (op) {
    case OP_MEMORY_COPY: case OP_TABLE_COPY: case OP_TABLE_FILL: return pop(k, 3);
    case OP_TABLE_SET: return pop(k, 2);
    case OP_TABLE_GET: return pop(k, 1) && (push(k, VK_OTHER), true);
    case OP_TABLE_GROW: return pop(k, 2) && (push(k, VK_OTHER), true);
    case OP_REF_NULL: case OP_REF_FUNC: push(k, VK_PURE); return true;
    case OP_REF_IS_NULL: return pop(k, 1) && (push(k, VK_PURE), true);
    default: return false;
    }
}

/* Contract: steps over one instruction; false when dce could change something here or
 * the scan cannot tell. */
static bool step(Scan *s, const Instr *in) {
    const Module *m = s->m;
    Stacks *k = &s->k;
    ScanFrame *f = k->top;
    uint32_t n;
    const TypeDef *t;
    if (in->op == OP_NOP) { /* as if absent: the body without its nops is judged */
        s->nops++;
        return !f->dead;
    }
    if (in->op != OP_END && in->op != OP_ELSE) {
        if (f->dead) return false; /* code after the end of the arm */
        f->nonempty = true;
    }
    switch (in->op) {
    case OP_UNREACHABLE: return ends_arm(k, 0);
    case OP_BLOCK: return open_frame(k, SK_BLOCK, in->bt.kind);
    case OP_LOOP: return open_frame(k, SK_LOOP, in->bt.kind);
    case OP_IF: return pop_condition(k) && open_frame(k, SK_IF, in->bt.kind);
    case OP_ELSE:
        if (f->kind != SK_IF) return false;
        f->kind = SK_ELSE;
        f->then_empty = !f->nonempty;
        f->nonempty = f->dead = false;
        f->arm = ++k->serial;
        k->nvals = f->height;
        return true;
    case OP_END: return close_frame(k);
    case OP_BR: return label_arity(k, in->a, &n) && ends_arm(k, n);
    case OP_BR_IF:
        if (!label_arity(k, in->a, &n) || !pop_condition(k) || height(k) < n) return false;
        k->nvals -= n;
        for (uint32_t i = 0; i < n; i++) push(k, VK_OTHER);
        return true;
    case OP_BR_TABLE: return label_arity(k, in->a, &n) && pop_condition(k) && ends_arm(k, n);
    case OP_RETURN: return ends_arm(k, s->type->nresults);
    case OP_CALL:
        return in->a < m->nfuncs && (t = func_type(m, m->funcs[in->a].type)) && call_of(k, t, 0);
    case OP_CALL_INDIRECT: return (t = func_type(m, in->a)) && call_of(k, t, 1);
    case OP_DROP: return height(k) >= 1 && top_kind(k) == VK_OTHER && pop(k, 1);
    case OP_SELECT: case OP_SELECT_T: return pop_condition(k) && pop(k, 2) && (push(k, VK_PURE), true);
    case OP_LOCAL_GET: case OP_LOCAL_SET: case OP_LOCAL_TEE: return local_access(s, k, (OpId)in->op, in->a);
    case OP_GLOBAL_GET: push(k, VK_PURE); return true;
    case OP_GLOBAL_SET: return pop(k, 1);
    default: return fixed_signature(k, (OpId)in->op) || table_or_ref(k, (OpId)in->op);
    }
}

/* Contract: reads the local declarations into s; false when they declare more locals
 * than the scan follows. */
static bool read_locals(Scan *s, Cursor *c) {
    Cursor decls = *c;
    s->canonical = local_decls_canonical(&decls);
    s->ngroups = cur_count(c, 2, "local declaration");
    ws_grow((void **)&s->groups, &s->cap_groups, s->ngroups + 1, sizeof(IrLocalGroup));
    uint64_t total = s->nparams;
    for (uint32_t g = 0; g < s->ngroups; g++) {
        s->groups[g].count = cur_u32(c);
        s->groups[g].type = read_valtype(c);
        total += s->groups[g].count;
        if (total > LIMIT_LOCALS) return false;
    }
    s->nlocals = (uint32_t)total;
    ws_grow((void **)&s->uses, &s->cap_uses, s->nlocals + 1, sizeof(LocalUse));
    memset(s->uses, 0, (total + 1) * sizeof(LocalUse));
    return true;
}

static bool same_type(ValType a, ValType b) { return vt_eq(a, b) && a.code == b.code; }

/* Contract: true when the declared locals of each type form one run (empty declaration
 * groups separate nothing): compact_locals' grouping by type then keeps their order. */
static bool types_in_runs(const Scan *s) {
    uint32_t prev = UINT32_MAX; /* the last non-empty group */
    for (uint32_t g = 0; g < s->ngroups; g++) {
        if (!s->groups[g].count) continue;
        ValType t = s->groups[g].type;
        for (uint32_t k = 0; prev != UINT32_MAX && !same_type(s->groups[prev].type, t) && k < prev; k++)
            if (s->groups[k].count && same_type(s->groups[k].type, t)) return false; /* seen before */
        prev = g;
    }
    return true;
}

/* Contract: true when dce's local rules leave the locals alone: every local written is
 * read, none written once and read once by a plain set, every declared local used, and
 * compact_locals' order (most used first past 128 locals, else grouped by type) is the
 * declared one. */
static bool locals_stay(const Scan *s) {
    for (uint32_t l = 0; l < s->nlocals; l++) {
        const LocalUse *u = &s->uses[l];
        uint32_t sets = u->sets + u->tees;
        if (sets && !u->gets) return false;
        if (sets == 1 && u->sets == 1 && u->gets == 1 && u->seg_balanced) return false;
        if (l >= s->nparams && !sets && !u->gets) return false;
    }
    if (s->nlocals <= 128) return types_in_runs(s);
    for (uint32_t l = s->nparams + 1; l < s->nlocals; l++) {
        const LocalUse *a = &s->uses[l - 1], *b = &s->uses[l];
        if (a->gets + a->sets + a->tees < b->gets + b->sets + b->tees) return false;
    }
    return true;
}

/* Contract: the length of the canonical LEB128 at p (signed when `sign`) of at most
 * four bytes, or 0 (longer, padded, truncated). */
static inline size_t quick_leb(const uint8_t *p, const uint8_t *end, bool sign) {
    if (p < end && p[0] < 0x80) return 1;
    int64_t v;
    uint32_t u;
    return sign ? instr_quick_sleb(p, end, &v) : instr_quick_uleb(p, end, 4, &u);
}

/* The structure and control instructions quick_step takes, one function each: what
 * step() does, or 0 with nothing changed when the general path must decide.  None ends
 * an arm (br goes the general way), grows the stack by more than one value or closes
 * the function's frame. */

/* Contract: end of a block, loop or if arm. */
static inline size_t quick_end(Stacks *k) { return k->nframes > 1 && close_frame(k) ? 1 : 0; }

/* Contract: br_if with a one-byte label, its condition not an i32.const. */
static inline size_t quick_br_if(Stacks *k, const uint8_t *p) {
    uint32_t n;
    if (p[1] >= 0x80 || !label_arity(k, p[1], &n)) return 0;
    if (height(k) < n + 1 || top_kind(k) == VK_CONST) return 0;
    k->nvals -= n + 1;
    for (uint32_t i = 0; i < n; i++) push_reserved(k, VK_OTHER);
    return 2;
}

/* Contract: block, loop or if (kind) with a one-byte block type. */
static inline size_t quick_open(Stacks *k, uint8_t kind, const uint8_t *p, const uint8_t *end) {
    if (!blocktype_is_one_byte(p + 1, end)) return 0;
    if (kind == SK_IF && !pop_condition(k)) return 0;
    open_frame(k, kind, p[1] == 0x40 ? BT_EMPTY : BT_VAL);
    return 2;
}

/* Contract: call with a canonical index of at most three bytes, of at most one result. */
static inline size_t quick_call(const Module *m, Stacks *k, const uint8_t *p, const uint8_t *end) {
    uint32_t x;
    size_t len;
    const TypeDef *t;
    if (!(len = instr_quick_uleb(p + 1, end, 3, &x)) || x >= m->nfuncs) return 0;
    if (!(t = func_type(m, m->funcs[x].type)) || height(k) < t->nparams || t->nresults > 1) return 0;
    call_of(k, t, 0);
    return 1 + len;
}

/* Contract: steps over the instruction at p (p + 1 < end) from its bytes when it is
 * one of the commonest kinds (local.get, local.set, local.tee, global.get of a
 * one-byte index, i32.const and i64.const of at most four bytes, a one-byte operator or
 * a load or store of memory 0 with a one-byte alignment and an offset of at most four
 * bytes, of a fixed signature; the structure and control instructions above) in a live
 * arm with enough values, leaving the stacks as step() would; returns its length, or 0
 * with nothing changed.  Every encoding it takes is canonical; none ends the arm. */
static inline size_t quick_step(const Scan *s, Stacks *k, const uint8_t *p, const uint8_t *end) {
    ScanFrame *f = k->top;
    const FixedSig *sig;
    size_t len;
    switch (quick_class[p[0]]) {
    case QC_GET: /* one case each: the dispatch then predicts them apart */
        if (p[1] >= 0x80 || !local_access(s, k, OP_LOCAL_GET, p[1])) return 0;
        f->nonempty = true;
        return 2;
    case QC_SET:
        if (p[1] >= 0x80 || !local_access(s, k, OP_LOCAL_SET, p[1])) return 0;
        f->nonempty = true;
        return 2;
    case QC_TEE:
        if (p[1] >= 0x80 || !local_access(s, k, OP_LOCAL_TEE, p[1])) return 0;
        f->nonempty = true;
        return 2;
    case QC_GLOBAL_GET:
        if (p[1] >= 0x80) return 0;
        push_reserved(k, VK_PURE);
        f->nonempty = true;
        return 2;
    case QC_CONST:
        if (!(len = quick_leb(p + 1, end, true))) return 0;
        push_reserved(k, p[0] == 0x41 ? VK_CONST : VK_PURE);
        f->nonempty = true;
        return 1 + len;
    case QC_END: return quick_end(k); /* the arm keeps its state */
    /* the others mark the arm nonempty first: before open_frame may move the frames
     * (as step() would if the general path takes the instruction) */
    case QC_BR_IF: f->nonempty = true; return quick_br_if(k, p);
    case QC_BLOCK: f->nonempty = true; return quick_open(k, SK_BLOCK, p, end);
    case QC_LOOP: f->nonempty = true; return quick_open(k, SK_LOOP, p, end);
    case QC_IF: f->nonempty = true; return quick_open(k, SK_IF, p, end);
    case QC_CALL: f->nonempty = true; return quick_call(s->m, k, p, end);
    case QC_SIG: len = 1; break;
    case QC_MEMARG:
        if (end - p < 3 || p[1] >= 0x40 || !(len = quick_leb(p + 2, end, false))) return 0;
        len += 2;
        break;
    default: return 0;
    }
    sig = &fixed_sigs[quick_op[p[0]]];
    if (height(k) < sig->npop) return 0;
    k->nvals -= sig->npop;
    if (sig->npush) push_reserved(k, sig->kind); /* one at most: opcodes.def's one-byte ops */
    f->nonempty = true;
    return len;
}

/* Contract: room on the value stack for n more values. */
static void reserve(Scan *s, uint32_t n) {
    if (s->k.nvals + (uint64_t)n > s->k.cap_vals)
        ws_grow((void **)&s->k.vals, &s->k.cap_vals, s->k.nvals + n, sizeof *s->k.vals);
}

/* Contract: quick_step from p for as long as it takes the instructions, on a copy of
 * the stacks in local variables; returns where it stopped.  Nothing in a dead arm is
 * taken (only the general path ends arms, so the arm stays live within the run), and
 * as each instruction grows the stack by one value at most and takes a byte at least,
 * room for one value per byte left is made first and pushes need no check. */
static const uint8_t *quick_run(Scan *s, const uint8_t *p, const uint8_t *end) {
    if (s->k.top->dead || end - p < 2) return p;
    reserve(s, (uint32_t)(end - p) + 1);
    Stacks k = s->k;
    const uint8_t *stop = end - 1; /* p[1] is there */
    size_t len;
    while (p < stop && (len = quick_step(s, &k, p, end))) p += len;
    s->k = k;
    return p;
}

/* Contract: walks the body; false as soon as dce could change it. */
static bool walk(Scan *s, Cursor *c) {
    open_frame(&s->k, SK_FUNC, BT_EMPTY);
    *s->k.top = (ScanFrame){SK_FUNC, true, false, false, 0, 0, s->type->nresults};
    Instr in;
    while (s->k.nframes) {
        c->p = quick_run(s, c->p, c->end);
        if (cur_eof(c)) return false;
        instr_decode_canon(c, &in, &s->canonical);
        if (!step(s, &in)) return false;
    }
    return cur_eof(c) && locals_stay(s);
}

/* Contract: true when the body of fn leaves dce nothing to do; false also when it is
 * malformed (the cursor's error jumps here; *s is the caller's, so it survives). */
static bool body_stays(Scan *s, const Func *fn) {
    WsError err;
    Cursor c = {s->m->input, fn->body.p, fn->body.p + fn->body.len, &err};
    if (setjmp(err.jb)) return false;
    return read_locals(s, &c) && walk(s, &c);
}

/* Contract: after a whole walk, the params (below 32) the body never names. */
static uint32_t params_untouched(const Scan *s) {
    uint32_t mask = 0;
    for (uint32_t l = 0; l < s->nparams && l < 32; l++)
        if (!s->uses[l].gets && !s->uses[l].sets && !s->uses[l].tees) mask |= 1u << l;
    return mask;
}

/* Per thread, the arrays of its last scan, kept for the next one (each scan resets
 * what it uses): the scan runs once per body, most bodies are small, and allocating
 * them afresh each time was a tenth of its work on sql-wasm.wasm. */
static _Thread_local struct {
    ScanVal *vals;
    uint32_t cap_vals;
    ScanFrame *frames;
    uint32_t cap_frames;
    LocalUse *uses;
    uint32_t cap_uses;
    IrLocalGroup *groups;
    uint32_t cap_groups;
} kept;

DceVerdict dce_scan_function(const Module *m, uint32_t index, DceScanInfo *info) {
    const Func *fn = &m->funcs[index];
    const TypeDef *type = func_type(m, fn->type);
    memset(info, 0, sizeof *info);
    if (fn->import >= 0 || !type) return DCE_BUILD;
    pthread_once(&fixed_once, fixed_sigs_init);
    Scan s = {.m = m, .type = type, .nparams = type->nparams,
              .k = {.vals = kept.vals, .cap_vals = kept.cap_vals, .frames = kept.frames, .cap_frames = kept.cap_frames},
              .uses = kept.uses, .cap_uses = kept.cap_uses, .groups = kept.groups, .cap_groups = kept.cap_groups};
    bool stays = body_stays(&s, fn);
    info->canonical = stays && s.canonical && types_in_runs(&s); /* grouping keeps one run per type */
    if (stays) info->params_untouched = params_untouched(&s);
    kept.vals = s.k.vals;
    kept.cap_vals = s.k.cap_vals;
    kept.frames = s.k.frames;
    kept.cap_frames = s.k.cap_frames;
    kept.uses = s.uses;
    kept.cap_uses = s.cap_uses;
    kept.groups = s.groups;
    kept.cap_groups = s.cap_groups;
    return !stays ? DCE_BUILD : s.nops ? DCE_NOPS : DCE_STAYS;
}
