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
 * structured, pure with one result, i32.const), a serial number of the push above. */
enum { VK_OTHER, VK_PURE, VK_CONST, VK_MASK = 3 };
enum { SK_FUNC, SK_BLOCK, SK_LOOP, SK_IF, SK_ELSE };

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
    uint32_t set_arm, set_height, set_below; /* arm, height, the value below (or 0) */
    bool seg_balanced; /* the first get follows the first set in its arm, the code
                          between taking nothing from below it and leaving nothing */
} LocalUse;

typedef struct Scan {
    const Module *m;
    const TypeDef *type;
    uint32_t *vals;
    uint32_t serial;    /* pushes and arms so far */
    uint32_t nvals, cap_vals;
    ScanFrame *frames;
    uint32_t nframes, cap_frames;
    ScanFrame *top;     /* frames[nframes - 1] */
    LocalUse *uses;
    uint32_t cap_uses;
    IrLocalGroup *groups; /* the local declarations */
    uint32_t ngroups, cap_groups;
    uint32_t nparams, nlocals;
    uint32_t nops;      /* nops stepped over (as if absent) */
    bool canonical;     /* the bytes so far are canonical (quick_step's encodings are) */
} Scan;

static inline ScanFrame *top_frame(Scan *s) { return s->top; }
static inline uint32_t height(Scan *s) { return s->nvals - top_frame(s)->height; }

static inline uint32_t top_kind(Scan *s) { return s->vals[s->nvals - 1] & VK_MASK; }

static inline void push(Scan *s, uint32_t kind) {
    WS_VEC_PUSH(s->vals, s->nvals, s->cap_vals, ++s->serial << 2 | kind);
}

/* Contract: pops n values of the current frame; false when it holds fewer. */
static bool pop(Scan *s, uint32_t n) {
    if (height(s) < n) return false;
    s->nvals -= n;
    return true;
}

/* Contract: the top value is a condition nothing folds (present, not an i32.const);
 * it is popped.  False when dce would fold it or the stack is short. */
static bool pop_condition(Scan *s) {
    return height(s) >= 1 && top_kind(s) != VK_CONST && pop(s, 1);
}

/* Values a branch to the frame `depth` out carries; false when there is no such frame. */
static bool label_arity(Scan *s, uint32_t depth, uint32_t *n) {
    if (depth >= s->nframes) return false;
    const ScanFrame *f = &s->frames[s->nframes - 1 - depth];
    *n = f->kind == SK_LOOP ? 0 : f->nresults;
    return true;
}

/* Contract: an instruction after which the rest of the arm is dead, leaving `keep`
 * values for it: true when no value is left behind (dce would remove a pure one). */
static bool ends_arm(Scan *s, uint32_t keep) {
    if (height(s) > keep) return false;
    top_frame(s)->dead = true;
    s->nvals = top_frame(s)->height;
    return true;
}

static bool open_frame(Scan *s, uint8_t kind, const BlockType *bt) {
    if (bt->kind == BT_TYPE) return false; /* parameters: not followed */
    ScanFrame f = {kind, false, false, false, s->nvals, ++s->serial, bt->kind == BT_VAL};
    WS_VEC_PUSH(s->frames, s->nframes, s->cap_frames, f);
    s->top = &s->frames[s->nframes - 1];
    return true;
}

/* Contract: end of the innermost frame: false when an arm was empty in a way dce
 * removes (block, loop, if without else, if with both arms empty). */
static bool close_frame(Scan *s) {
    ScanFrame *f = top_frame(s);
    bool empty = !f->nonempty;
    if ((f->kind == SK_BLOCK || f->kind == SK_LOOP || f->kind == SK_IF) && empty) return false;
    if (f->kind == SK_ELSE && empty && f->then_empty) return false;
    uint32_t n = f->nresults;
    s->nvals = f->height;
    s->nframes--;
    s->top = s->nframes ? &s->frames[s->nframes - 1] : NULL;
    for (uint32_t i = 0; i < n; i++) push(s, VK_OTHER);
    return true;
}

/* Contract: a call of type t (popping `extra` more operands, call_indirect's index):
 * its results are impure values. */
static bool call_of(Scan *s, const TypeDef *t, uint32_t extra) {
    if (!pop(s, t->nparams + extra)) return false;
    for (uint32_t i = 0; i < t->nresults; i++) push(s, VK_OTHER);
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

/* By first byte, what quick_step does with a one-byte opcode: QS_SIG, no immediate and
 * a fixed signature; QS_MEMARG, a load or store of a fixed signature; else nothing. */
enum { QS_NONE, QS_SIG, QS_MEMARG };
static uint8_t quick_kind[256];
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
        if (oi->prefix || fixed_sigs[op].npop == 0xff || op == OP_NOP) continue;
        uint8_t kind = oi->imm == IMM_NONE ? QS_SIG : oi->imm == IMM_MEMARG ? QS_MEMARG : QS_NONE;
        quick_kind[oi->code] = kind;
        quick_op[oi->code] = (uint16_t)op;
    }
}

/* Contract: an instruction with a fixed signature: pops and pushes by its letters;
 * false for one typed by hand ("*") or a short stack. */
static bool fixed_signature(Scan *s, OpId op) {
    const FixedSig *f = &fixed_sigs[op];
    if (f->npop == 0xff || !pop(s, f->npop)) return false;
    for (uint32_t i = 0; i < f->npush; i++) push(s, f->kind);
    return true;
}

/* Contract: the first get of a local whose first set was seen: whether it is in the
 * set's arm with the stack as the set left it (nothing below popped: the value under
 * it is the same push) - dce's stackify rule then applies if they are the only ones. */
static bool segment_balanced(Scan *s, const LocalUse *u) {
    const ScanFrame *f = top_frame(s);
    if (!u->sets || u->set_arm != f->arm || s->nvals != u->set_height) return false;
    return s->nvals == f->height || s->vals[s->nvals - 1] == u->set_below;
}

/* Contract: local.get, local.set or local.tee (op) of local x; false, with nothing
 * changed, when x is out of range or the stack is short. */
static inline bool local_access(Scan *s, OpId op, uint64_t x) {
    if (x >= s->nlocals) return false;
    LocalUse *u = &s->uses[x];
    if (op == OP_LOCAL_GET) {
        if (!u->gets++) u->seg_balanced = segment_balanced(s, u);
        push(s, VK_PURE);
        return true;
    }
    if (!pop(s, 1)) return false;
    if (op == OP_LOCAL_TEE) {
        u->tees++;
        push(s, VK_OTHER);
    } else if (!u->sets++) {
        u->set_arm = top_frame(s)->arm;
        u->set_height = s->nvals;
        u->set_below = s->nvals > top_frame(s)->height ? s->vals[s->nvals - 1] : 0;
    }
    return true;
}

/* Contract: the reference and table instructions typed by hand that the scan follows:
 * pops and pushes (results of table reads impure: they trap); false for the others. */
static bool table_or_ref(Scan *s, OpId op) {
    switch (op) {
    case OP_MEMORY_COPY: case OP_TABLE_COPY: case OP_TABLE_FILL: return pop(s, 3);
    case OP_TABLE_SET: return pop(s, 2);
    case OP_TABLE_GET: return pop(s, 1) && (push(s, VK_OTHER), true);
    case OP_TABLE_GROW: return pop(s, 2) && (push(s, VK_OTHER), true);
    case OP_REF_NULL: case OP_REF_FUNC: push(s, VK_PURE); return true;
    case OP_REF_IS_NULL: return pop(s, 1) && (push(s, VK_PURE), true);
    default: return false;
    }
}

/* Contract: steps over one instruction; false when dce could change something here or
 * the scan cannot tell. */
static bool step(Scan *s, const Instr *in) {
    const Module *m = s->m;
    ScanFrame *f = top_frame(s);
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
    case OP_UNREACHABLE: return ends_arm(s, 0);
    case OP_BLOCK: return open_frame(s, SK_BLOCK, &in->bt);
    case OP_LOOP: return open_frame(s, SK_LOOP, &in->bt);
    case OP_IF: return pop_condition(s) && open_frame(s, SK_IF, &in->bt);
    case OP_ELSE:
        if (f->kind != SK_IF) return false;
        f->kind = SK_ELSE;
        f->then_empty = !f->nonempty;
        f->nonempty = f->dead = false;
        f->arm = ++s->serial;
        s->nvals = f->height;
        return true;
    case OP_END: return close_frame(s);
    case OP_BR: return label_arity(s, in->a, &n) && ends_arm(s, n);
    case OP_BR_IF:
        if (!label_arity(s, in->a, &n) || !pop_condition(s) || height(s) < n) return false;
        s->nvals -= n;
        for (uint32_t i = 0; i < n; i++) push(s, VK_OTHER);
        return true;
    case OP_BR_TABLE: return label_arity(s, in->a, &n) && pop_condition(s) && ends_arm(s, n);
    case OP_RETURN: return ends_arm(s, s->type->nresults);
    case OP_CALL:
        return in->a < m->nfuncs && (t = func_type(m, m->funcs[in->a].type)) && call_of(s, t, 0);
    case OP_CALL_INDIRECT: return (t = func_type(m, in->a)) && call_of(s, t, 1);
    case OP_DROP: return height(s) >= 1 && top_kind(s) == VK_OTHER && pop(s, 1);
    case OP_SELECT: case OP_SELECT_T: return pop_condition(s) && pop(s, 2) && (push(s, VK_PURE), true);
    case OP_LOCAL_GET: case OP_LOCAL_SET: case OP_LOCAL_TEE: return local_access(s, (OpId)in->op, in->a);
    case OP_GLOBAL_GET: push(s, VK_PURE); return true;
    case OP_GLOBAL_SET: return pop(s, 1);
    default: return fixed_signature(s, (OpId)in->op) || table_or_ref(s, (OpId)in->op);
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

/* Contract: quick_step for the structure and control instructions that take no value
 * from the stack (end, br, block, loop, if with a one-byte block type) or one (br_if,
 * if), and call with a canonical index of at most three bytes: what step() does, or 0
 * with nothing changed when the general path must decide. */
static inline size_t quick_control(Scan *s, const uint8_t *p, const uint8_t *end) {
    uint32_t n, x;
    size_t k;
    BlockType bt = {0};
    switch (p[0]) {
    case 0x0b: return close_frame(s) ? 1 : 0;
    case 0x0c: case 0x0d:
        if (p[1] >= 0x80 || !label_arity(s, p[1], &n)) return 0;
        if (p[0] == 0x0c) return ends_arm(s, n) ? 2 : 0;
        if (height(s) < n + 1 || top_kind(s) == VK_CONST) return 0;
        s->nvals -= n + 1;
        for (uint32_t i = 0; i < n; i++) push(s, VK_OTHER);
        return 2;
    case 0x02: case 0x03: case 0x04:
        if (!blocktype_is_one_byte(p + 1, end)) return 0;
        bt.kind = p[1] == 0x40 ? BT_EMPTY : BT_VAL;
        if (p[0] == 0x04 && !pop_condition(s)) return 0;
        open_frame(s, p[0] == 0x02 ? SK_BLOCK : p[0] == 0x03 ? SK_LOOP : SK_IF, &bt);
        return 2;
    case 0x10: {
        const TypeDef *t;
        if (!(k = instr_quick_uleb(p + 1, end, 3, &x)) || x >= s->m->nfuncs) return 0;
        if (!(t = func_type(s->m, s->m->funcs[x].type)) || height(s) < t->nparams) return 0;
        call_of(s, t, 0);
        return 1 + k;
    }
    default: return 0;
    }
}

/* Contract: steps over the instruction at p (p < end) from its bytes when it is one of
 * the commonest kinds (local.get, local.set, local.tee, global.get of a one-byte index,
 * i32.const and i64.const of at most four bytes, a one-byte operator or a load or
 * store of memory 0 with a one-byte alignment and an offset of at most four bytes, of
 * a fixed signature; quick_control's) in a live arm with enough values, leaving the
 * scan as step() would; returns its length, or 0 with nothing changed.  Every
 * encoding it takes is canonical. */
static inline size_t quick_step(Scan *s, const uint8_t *p, const uint8_t *end) {
    ScanFrame *f = top_frame(s);
    if (f->dead || end - p < 2) return 0; /* the general path says why */
    const FixedSig *sig;
    size_t k;
    switch (p[0]) {
    case 0x20: case 0x21: case 0x22: {
        OpId op = p[0] == 0x20 ? OP_LOCAL_GET : p[0] == 0x21 ? OP_LOCAL_SET : OP_LOCAL_TEE;
        if (p[1] >= 0x80 || !local_access(s, op, p[1])) return 0;
        f->nonempty = true;
        return 2;
    }
    case 0x23:
        if (p[1] >= 0x80) return 0;
        push(s, VK_PURE);
        f->nonempty = true;
        return 2;
    case 0x41: case 0x42:
        if (!(k = quick_leb(p + 1, end, true))) return 0;
        push(s, p[0] == 0x41 ? VK_CONST : VK_PURE);
        f->nonempty = true;
        return 1 + k;
    case 0x0b: return quick_control(s, p, end); /* end: the arm keeps its state */
    case 0x02: case 0x03: case 0x04: case 0x0c: case 0x0d: case 0x10:
        f->nonempty = true; /* before open_frame may move the frames (as step() would
                               set it if the general path takes the instruction) */
        return quick_control(s, p, end);
    default:
        if (quick_kind[p[0]] == QS_SIG) k = 1;
        else if (quick_kind[p[0]] == QS_MEMARG && end - p >= 3 && p[1] < 0x40 && (k = quick_leb(p + 2, end, false)))
            k += 2;
        else return 0;
        sig = &fixed_sigs[quick_op[p[0]]];
        if (height(s) < sig->npop) return 0;
        s->nvals -= sig->npop;
        for (uint32_t i = 0; i < sig->npush; i++) push(s, sig->kind);
        f->nonempty = true;
        return k;
    }
}

/* Contract: walks the body; false as soon as dce could change it. */
static bool walk(Scan *s, Cursor *c) {
    ScanFrame fn = {SK_FUNC, true, false, false, 0, 0, s->type->nresults};
    WS_VEC_PUSH(s->frames, s->nframes, s->cap_frames, fn);
    s->top = s->frames;
    Instr in;
    while (s->nframes) {
        if (cur_eof(c)) return false;
        size_t k = quick_step(s, c->p, c->end);
        if (k) {
            c->p += k;
            continue;
        }
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
    uint32_t *vals;
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
    Scan s = {.m = m, .type = type, .nparams = type->nparams, .vals = kept.vals, .cap_vals = kept.cap_vals,
              .frames = kept.frames, .cap_frames = kept.cap_frames, .uses = kept.uses, .cap_uses = kept.cap_uses,
              .groups = kept.groups, .cap_groups = kept.cap_groups};
    bool stays = body_stays(&s, fn);
    info->canonical = stays && s.canonical && types_in_runs(&s); /* grouping keeps one run per type */
    if (stays) info->params_untouched = params_untouched(&s);
    kept.vals = s.vals;
    kept.cap_vals = s.cap_vals;
    kept.frames = s.frames;
    kept.cap_frames = s.cap_frames;
    kept.uses = s.uses;
    kept.cap_uses = s.cap_uses;
    kept.groups = s.groups;
    kept.cap_groups = s.cap_groups;
    return !stays ? DCE_BUILD : s.nops ? DCE_NOPS : DCE_STAYS;
}
