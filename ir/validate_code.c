/* validate_code.c - the operand/control stack algorithm of the spec's appendix: operand
 * stack with a bottom type for unreachable code, control frames, structured control
 * (block, loop, if/else, legacy try/catch/delegate, try_table), locals with their
 * initialisation state, and the drivers for function bodies and constant expressions.
 * The typing of the other instructions is in validate_instr.c. */
#include "validate_int.h"
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

void vfail(Validator *v, size_t off, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(v->err->msg, sizeof v->err->msg, fmt, ap);
    va_end(ap);
    v->err->offset = v->base + off;
    longjmp(v->err->jb, 1);
}

/* ---- type names for messages ---- */

static const char *heap_name(int32_t h) {
    switch (h) {
    case HT_FUNC: return "func";
    case HT_EXTERN: return "extern";
    case HT_ANY: return "any";
    case HT_EQ: return "eq";
    case HT_I31: return "i31";
    case HT_STRUCT: return "struct";
    case HT_ARRAY: return "array";
    case HT_EXN: return "exn";
    case HT_NONE: return "none";
    case HT_NOFUNC: return "nofunc";
    case HT_NOEXTERN: return "noextern";
    case HT_NOEXN: return "noexn";
    default: return "bot";
    }
}

const char *vt_str(ValType t, char *buf, size_t n) {
    switch (t.code) {
    case VT_BOT: return "(unknown)";
    case VT_I32: return "i32";
    case VT_I64: return "i64";
    case VT_F32: return "f32";
    case VT_F64: return "f64";
    case VT_V128: return "v128";
    case VT_I8: return "i8";
    case VT_I16: return "i16";
    default: break;
    }
    const char *null = vt_nullable(t) ? "null " : "";
    if (t.heap >= 0) snprintf(buf, n, "(ref %s%d)", null, (int)t.heap);
    else snprintf(buf, n, "(ref %s%s)", null, heap_name(t.heap));
    return buf;
}

/* ---- operand stack ---- */

void vals_grow(Validator *v, uint32_t extra) {
    ws_grow((void **)&v->vals, &v->vals_cap, v->nvals + extra, sizeof(ValType));
}

void vals_push(Validator *v, const ValType *ts, uint32_t n) {
    if (n == 0) return;
    if (v->nvals + (uint64_t)n > v->vals_cap) ws_grow((void **)&v->vals, &v->vals_cap, v->nvals + n, sizeof(ValType));
    memcpy(v->vals + v->nvals, ts, n * sizeof(ValType));
    v->nvals += n;
}

static WS_NORETURN void underflow(Validator *v, const Instr *in, const ValType *expect) {
    char b[48];
    if (!expect) vfail(v, in->off, "type mismatch: %s needs an operand, the stack is empty", op_info[in->op].name);
    vfail(v, in->off, "type mismatch: %s expects %s, the stack is empty", op_info[in->op].name,
          vt_str(*expect, b, sizeof b));
}

ValType val_pop(Validator *v, const Instr *in) {
    const Frame *f = &v->ctrls[v->nctrls - 1];
    if (v->nvals > f->height) return v->vals[--v->nvals];
    if (!f->unreachable) underflow(v, in, NULL);
    ValType bot = {VT_BOT, 0};
    return bot;
}

ValType val_pop_check(Validator *v, const Instr *in, ValType expect) {
    const Frame *f = &v->ctrls[v->nctrls - 1];
    if (v->nvals == f->height) {
        if (!f->unreachable) underflow(v, in, &expect);
        ValType bot = {VT_BOT, 0};
        return bot;
    }
    ValType got = v->vals[--v->nvals];
    if (!val_sub(&v->ts, got, expect)) {
        char b1[48], b2[48];
        vfail(v, in->off, "type mismatch: %s expects %s, got %s", op_info[in->op].name,
              vt_str(expect, b1, sizeof b1), vt_str(got, b2, sizeof b2));
    }
    return got;
}

ValType val_pop_ref(Validator *v, const Instr *in) {
    ValType t = val_pop(v, in);
    if (t.code == VT_BOT) return vt_ref(HT_BOT, false);
    if (!vt_is_ref(t)) {
        char b[48];
        vfail(v, in->off, "type mismatch: %s expects a reference, got %s", op_info[in->op].name,
              vt_str(t, b, sizeof b));
    }
    return t;
}

void vals_pop(Validator *v, const Instr *in, const ValType *ts, uint32_t n) {
    while (n > 0) val_pop_expect(v, in, ts[--n]);
}

void set_unreachable(Validator *v) {
    Frame *f = &v->ctrls[v->nctrls - 1];
    v->nvals = f->height;
    f->unreachable = true;
}

/* ---- control frames ---- */

static const ValType *fr_results(const Frame *f) { return f->results ? f->results : &f->one; }

Frame *frame_at(Validator *v, const Instr *in, uint64_t depth) {
    if (depth >= v->nctrls) vfail(v, in->off, "unknown label %llu", (unsigned long long)depth);
    return &v->ctrls[v->nctrls - 1 - depth];
}

const ValType *label_types(Validator *v, const Instr *in, uint64_t depth, uint32_t *n) {
    const Frame *f = frame_at(v, in, depth);
    if (f->kind == FK_LOOP) {
        *n = f->nparams;
        return f->params;
    }
    *n = f->nresults;
    return fr_results(f);
}

/* Contract: pushes a frame of the given kind and signature (sig's params, results, one)
 * and then its parameters. */
static void ctrl_push(Validator *v, uint8_t kind, const Frame *sig) {
    if (v->nctrls == v->ctrls_cap) ws_grow((void **)&v->ctrls, &v->ctrls_cap, v->nctrls + 1, sizeof(Frame));
    Frame *f = &v->ctrls[v->nctrls++];
    *f = *sig;
    f->kind = kind;
    f->unreachable = false;
    f->height = v->nvals;
    f->init_height = v->ninits;
    vals_push(v, f->params, f->nparams);
}

void validate_reset_locals(Validator *v, uint32_t height) {
    while (v->ninits > height) {
        uint32_t x = v->inits[--v->ninits];
        if (v->dense) v->linit[x] = 0;
    }
}

/* Contract: checks the frame's results are on the stack and nothing else, pops it and
 * returns a copy (whose single result, if any, lives in the copy). */
static Frame ctrl_pop(Validator *v, const Instr *in) {
    Frame *f = &v->ctrls[v->nctrls - 1];
    vals_pop(v, in, fr_results(f), f->nresults);
    if (v->nvals != f->height)
        vfail(v, in->off, "type mismatch: %u value(s) left on the stack at the end of the block",
              v->nvals - f->height);
    validate_reset_locals(v, f->init_height);
    Frame copy = *f;
    v->nctrls--;
    return copy;
}

/* Contract: fills sig (params/results) from block type bt; fails on bad type indices. */
static void block_sig(Validator *v, const Instr *in, Frame *sig) {
    memset(sig, 0, sizeof *sig);
    if (in->bt.kind == BT_VAL) {
        check_valtype(v, in->off, in->bt.val);
        sig->nresults = 1;
        sig->one = in->bt.val;
    } else if (in->bt.kind == BT_TYPE) {
        const TypeDef *t = func_type_at(v, in->off, in->bt.type);
        sig->params = t->params;
        sig->nparams = t->nparams;
        sig->results = t->results;
        sig->nresults = t->nresults;
    }
}

static WS_NORETURN void misplaced(Validator *v, const Instr *in, const char *where) {
    vfail(v, in->off, "END opcode expected: %s outside %s", op_info[in->op].name, where);
}

/* Contract: a try_table catch clause list: each clause's values (tag parameters, plus
 * a non-null exnref for the _ref forms) must match its label's types. */
static void check_catches(Validator *v, const Instr *in) {
    const uint8_t *p = in->vec;
    ValType exnref = vt_ref(HT_EXN, false);
    for (uint32_t i = 0; i < in->n; i++) {
        Catch k = catch_next(&p);
        const ValType *ts = NULL;
        uint32_t nts = 0, nl;
        if (k.kind == CATCH_TAG || k.kind == CATCH_TAG_REF) {
            if (k.tag >= v->m->ntags) vfail(v, in->off, "unknown tag %u", k.tag);
            const TypeDef *t = func_type_at(v, in->off, v->m->tags[k.tag].type);
            ts = t->params;
            nts = t->nparams;
        }
        bool ref = k.kind == CATCH_TAG_REF || k.kind == CATCH_ALL_REF;
        const ValType *ls = label_types(v, in, k.label, &nl);
        bool ok = nl == nts + ref;
        for (uint32_t j = 0; ok && j < nts; j++) ok = val_sub(&v->ts, ts[j], ls[j]);
        if (ok && ref) ok = val_sub(&v->ts, exnref, ls[nts]);
        if (!ok) vfail(v, in->off, "type mismatch: catch clause %u does not match the types of label %u", i, k.label);
    }
}

/* Contract: block, loop, if, try, try_table: checks and pops the parameters, pushes the
 * frame. */
static void open_block(Validator *v, const Instr *in) {
    Frame sig;
    block_sig(v, in, &sig);
    if (in->op == OP_IF) val_pop_expect(v, in, vt_num(VT_I32));
    if (in->op == OP_TRY_TABLE) check_catches(v, in);
    vals_pop(v, in, sig.params, sig.nparams);
    uint8_t kind = in->op == OP_BLOCK ? FK_BLOCK : in->op == OP_LOOP ? FK_LOOP :
                   in->op == OP_IF ? FK_IF : in->op == OP_TRY ? FK_TRY : FK_TRY_TABLE;
    ctrl_push(v, kind, &sig);
}

/* Contract: legacy catch x / catch_all: ends the try (or previous catch) body and opens
 * the handler, whose operands are the tag's parameters. */
static void open_catch(Validator *v, const Instr *in) {
    uint8_t top = v->ctrls[v->nctrls - 1].kind;
    if (top != FK_TRY && top != FK_CATCH) misplaced(v, in, "try");
    const TypeDef *t = NULL;
    if (in->op == OP_CATCH) {
        if (in->a >= v->m->ntags) vfail(v, in->off, "unknown tag %llu", (unsigned long long)in->a);
        t = func_type_at(v, in->off, v->m->tags[in->a].type);
    }
    Frame f = ctrl_pop(v, in);
    Frame sig = f;
    sig.params = t ? t->params : NULL;
    sig.nparams = t ? t->nparams : 0;
    ctrl_push(v, in->op == OP_CATCH ? FK_CATCH : FK_CATCH_ALL, &sig);
}

/* Contract: end (an if without else first checks an implicit empty else), else, delegate. */
static void close_block(Validator *v, const Instr *in) {
    uint8_t top = v->ctrls[v->nctrls - 1].kind;
    if (in->op == OP_ELSE) {
        if (top != FK_IF) misplaced(v, in, "if");
        Frame f = ctrl_pop(v, in);
        ctrl_push(v, FK_ELSE, &f);
        return;
    }
    if (in->op == OP_DELEGATE && top != FK_TRY) misplaced(v, in, "try");
    if (in->op == OP_END && top == FK_IF) {
        Frame f = ctrl_pop(v, in);
        ctrl_push(v, FK_ELSE, &f);
    }
    Frame f = ctrl_pop(v, in);
    if (in->op == OP_DELEGATE && in->a >= v->nctrls)
        vfail(v, in->off, "unknown label %llu", (unsigned long long)in->a);
    vals_push(v, fr_results(&f), f.nresults);
}

/* ---- locals ---- */

/* Contract: the type of local x; fails "unknown local". */
static ValType local_type(Validator *v, const Instr *in, uint64_t x) {
    if (x >= v->nlocals) vfail(v, in->off, "unknown local %llu", (unsigned long long)x);
    if (v->dense) return v->ltypes[x];
    uint32_t lo = 0, hi = v->nlgroups - 1;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (v->lgroup_end[mid] > x) hi = mid;
        else lo = mid + 1;
    }
    return v->lgroup_type[lo];
}

static bool in_inits(const Validator *v, uint32_t x) {
    for (uint32_t i = 0; i < v->ninits; i++)
        if (v->inits[i] == x) return true;
    return false;
}

static bool local_is_set(const Validator *v, uint32_t x, ValType t) {
    if (v->dense) return v->linit[x];
    return vt_defaultable(t) || x < v->nparams || in_inits(v, x);
}

static void local_set(Validator *v, uint32_t x, ValType t) {
    if (local_is_set(v, x, t)) return;
    if (v->dense) v->linit[x] = 1;
    WS_VEC_PUSH(v->inits, v->ninits, v->inits_cap, x);
}

/* Contract: local.get, local.set, local.tee. */
static void local_instr(Validator *v, const Instr *in) {
    ValType t = local_type(v, in, in->a);
    uint32_t x = (uint32_t)in->a;
    if (in->op == OP_LOCAL_GET) {
        if (!local_is_set(v, x, t)) vfail(v, in->off, "uninitialized local %u", x);
        val_push(v, t);
        return;
    }
    val_pop_expect(v, in, t);
    local_set(v, x, t);
    if (in->op == OP_LOCAL_TEE) val_push(v, t);
}

static void add_group(Validator *v, uint32_t end, ValType t) {
    if (v->nlgroups == v->lgroups_cap) {
        uint32_t cap = v->lgroups_cap;
        ws_grow((void **)&v->lgroup_end, &cap, v->nlgroups + 1, sizeof(uint32_t));
        ws_grow((void **)&v->lgroup_type, &v->lgroups_cap, v->nlgroups + 1, sizeof(ValType));
    }
    v->lgroup_end[v->nlgroups] = end;
    v->lgroup_type[v->nlgroups++] = t;
}

/* Contract: expands the groups into ltypes/linit (parameters and defaultable locals
 * start set). */
static void expand_locals(Validator *v) {
    uint32_t n = (uint32_t)v->nlocals, cap = v->ltypes_cap;
    if (n > v->ltypes_cap) {
        ws_grow((void **)&v->ltypes, &cap, n, sizeof(ValType));
        ws_grow((void **)&v->linit, &v->ltypes_cap, n, 1);
    }
    uint32_t x = 0;
    for (uint32_t g = 0; g < v->nlgroups; g++) {
        ValType t = v->lgroup_type[g];
        uint8_t set = x < v->nparams || vt_defaultable(t);
        for (; x < v->lgroup_end[g]; x++) {
            v->ltypes[x] = t;
            v->linit[x] = set;
        }
    }
}

/* Contract: reads the local declarations after the parameters of type ft.  They are
 * expanded only if that costs at most about as much as the body (whose bytes bound the
 * work of the whole check), else kept as groups. */
static void read_locals(Validator *v, Cursor *c, const TypeDef *ft) {
    uint64_t body_len = (uint64_t)(c->end - c->p);
    v->nlgroups = 0;
    v->nparams = ft->nparams;
    for (uint32_t i = 0; i < ft->nparams; i++) add_group(v, i + 1, ft->params[i]);
    size_t at = cur_offset(c);
    uint32_t groups = cur_count(c, 2, "local declaration");
    uint64_t total = ft->nparams;
    for (uint32_t i = 0; i < groups; i++) {
        uint32_t n = cur_u32(c);
        size_t toff = cur_offset(c);
        ValType t = read_valtype(c);
        if (v->listen) v->listen->local(v->listen->ctx, t, toff);
        check_valtype(v, toff, t);
        total += n;
        if (total > UINT32_MAX) vfail(v, at, "too many locals");
        if (n) add_group(v, (uint32_t)total, t);
    }
    v->nlocals = total;
    v->dense = total <= LOCALS_DENSE_MAX && total <= 64 + 16 * body_len;
    if (v->dense) expand_locals(v);
}

/* ---- the driver ---- */

static bool is_const_op(OpId op) {
    switch (op) {
    case OP_I32_CONST: case OP_I64_CONST: case OP_F32_CONST: case OP_F64_CONST:
    case OP_V128_CONST: case OP_REF_NULL: case OP_REF_FUNC: case OP_REF_I31:
    case OP_STRUCT_NEW: case OP_STRUCT_NEW_DEFAULT: case OP_ARRAY_NEW:
    case OP_ARRAY_NEW_DEFAULT: case OP_ARRAY_NEW_FIXED: case OP_ANY_CONVERT_EXTERN:
    case OP_EXTERN_CONVERT_ANY: case OP_GLOBAL_GET: case OP_I32_ADD: case OP_I32_SUB:
    case OP_I32_MUL: case OP_I64_ADD: case OP_I64_SUB: case OP_I64_MUL: case OP_END:
        return true;
    default:
        return false;
    }
}

/* Contract: types an instruction whose signature names number/vector types only. */
static inline void numeric_instr(Validator *v, const Instr *in) {
    const OpSig *s = &v->sigs[in->op];
    for (int i = s->np; i-- > 0;) val_pop_expect(v, in, vt_num(s->p[i]));
    if (s->r) val_push(v, vt_num(s->r));
}

/* Contract: types one instruction. */
static void step(Validator *v, const Instr *in) {
    switch (in->op) {
    case OP_LOCAL_GET: case OP_LOCAL_SET: case OP_LOCAL_TEE:
        if (v->const_expr) break;
        local_instr(v, in);
        return;
    case OP_BLOCK: case OP_LOOP: case OP_IF: case OP_TRY: case OP_TRY_TABLE:
        if (v->const_expr) break;
        open_block(v, in);
        return;
    case OP_ELSE: case OP_END: case OP_DELEGATE:
        close_block(v, in);
        return;
    case OP_CATCH: case OP_CATCH_ALL:
        if (v->const_expr) break;
        open_catch(v, in);
        return;
    default:
        if (v->const_expr && !is_const_op(in->op)) break;
        if (v->numeric[in->op]) numeric_instr(v, in);
        else validate_instr(v, in);
        return;
    }
    vfail(v, in->off, "constant expression required");
}

void validate_step_general(Validator *v, Cursor *c) {
    Instr in;
    instr_decode_canon(c, &in, &v->canonical);
    if (v->listen) v->listen->instr(v->listen->ctx, &in);
    step(v, &in);
}

/* Contract: runs the instructions at c until the outermost frame closes. */
static void run_code(Validator *v, Cursor *c) {
    Instr in;
    while (v->nctrls > 0) {
        if (cur_eof(c)) cur_fail(c, "unexpected end of section or function (END opcode expected)");
        instr_decode(c, &in);
        step(v, &in);
    }
}

/* Contract: a cursor over [p, p+len), with offsets relative to the input when the bytes
 * are in it, else relative to p with v->base = file_off. */
static Cursor code_cursor(Validator *v, const uint8_t *p, uint32_t len, size_t file_off) {
    Cursor c = module_cursor(v->m, p, len, v->err);
    v->file_start = c.file_start;
    v->base = c.file_start == v->m->input ? 0 : file_off;
    return c;
}

static void start_frame(Validator *v, const ValType *results, uint32_t n) {
    Frame sig;
    memset(&sig, 0, sizeof sig);
    sig.results = results;
    sig.nresults = n;
    v->nvals = v->nctrls = v->ninits = 0;
    ctrl_push(v, FK_FUNC, &sig);
}

/* Contract: after read_locals, for a listened check: true when the declarations (at
 * decls) are canonical and name each type in one group, as the writer groups them
 * (then the body is written as it is when its code is canonical too); false also when
 * there are too many groups to compare cheaply. */
static bool locals_written_as_they_are(const Validator *v, Cursor decls) {
    if (!local_decls_canonical(&decls)) return false;
    uint32_t first = v->nparams, n = v->nlgroups - first; /* every declared group is non-empty */
    if (n > 32) return false;
    for (uint32_t i = 1; i < n; i++)
        for (uint32_t k = 0; k < i; k++) {
            ValType a = v->lgroup_type[first + i], b = v->lgroup_type[first + k];
            if (a.code == b.code && a.heap == b.heap) return false;
        }
    return true;
}

void validate_body(Validator *v, const Func *f, uint32_t index) {
    (void)index;
    const TypeDef *ft = &v->m->types[f->type];
    Cursor c = code_cursor(v, f->body.p, f->body.len, f->body_offset);
    v->func = ft;
    v->const_expr = false;
    Cursor decls = c;
    read_locals(v, &c, ft);
    v->canonical = v->listen && locals_written_as_they_are(v, decls);
    start_frame(v, ft->results, ft->nresults);
    validate_code_quick(v, &c);
    if (!cur_eof(&c)) cur_fail(&c, "section size mismatch: code after the function's final end");
}

void validate_const_expr(Validator *v, const Expr *e, ValType t, uint32_t nglobals) {
    if (t.code == VT_I32 && instr_small_i32_expr(e->code, e->code + e->len) == e->len) return; /* valid */
    Cursor c = code_cursor(v, e->code, e->len, e->offset);
    v->func = NULL;
    v->const_expr = true;
    v->const_globals = nglobals;
    v->nlocals = 0;
    start_frame(v, &t, 1);
    run_code(v, &c);
    if (!cur_eof(&c)) cur_fail(&c, "constant expression required: code after its end");
    v->const_expr = false;
}
