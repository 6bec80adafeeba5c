/* validate_fast.c - the validator's quick path through function bodies: the commonest
 * one-byte instructions (locals, globals, constants, numeric operators, loads and stores
 * of memory 0 with one-byte alignment, calls, blocks with one-byte block types, branches,
 * end, drop, select) typed straight from their bytes, without building an Instr.
 *
 * The quick path takes an instruction only when it is well formed, valid, and its
 * operands have exactly the expected number/vector types, and then leaves the validator
 * in the state the general path (instr_decode + step, validate_code.c) would.  Anything
 * else - a reference operand, unknown operands of unreachable code it does not cover, an
 * index out of range, a padded or truncated LEB128, a prefixed opcode - goes to the
 * general path in the unchanged state, so the first error found, its offset and its
 * message are exactly the general path's. */
#include "validate_int.h"

/* Contract: an unsigned LEB128 of at most 32 bits at p, as the general decoder accepts it
 * (padded ones too: v->canonical is then cleared): its length with *out set, or 0 when
 * it is malformed or truncated. */
static inline size_t q_u32(Validator *v, const uint8_t *p, const uint8_t *end, uint32_t *out) {
    if (p < end && p[0] < 0x80) {
        *out = p[0];
        return 1;
    }
    uint32_t r = 0;
    for (size_t n = 0; n < 5 && p + n < end; n++) {
        r |= (uint32_t)(p[n] & 0x7f) << (7 * n);
        if (p[n] >= 0x80) continue;
        if (n == 4 && p[n] >= 0x10) return 0; /* bits beyond 32: "integer too large" */
        if (p[n] == 0) v->canonical = false; /* n > 0 here: padded */
        *out = r;
        return n + 1;
    }
    return 0;
}

/* Contract: the length of a well-formed signed LEB128 of `bytes` bytes at most (5: i32,
 * 10: i64) at p, or 0; the last allowed byte must hold only sign bits above the value.
 * A padded one (its last byte only extends the sign of the byte before) clears
 * v->canonical. */
static inline size_t q_sleb(Validator *v, const uint8_t *p, const uint8_t *end, size_t bytes) {
    for (size_t n = 0; n < bytes && p + n < end; n++) {
        uint8_t b = p[n];
        if (b >= 0x80) continue;
        if (n && instr_sleb_padded(p, n)) v->canonical = false;
        if (n + 1 < bytes) return n + 1;
        if (bytes == 5) return b < 0x08 || b >= 0x78 ? 5 : 0;
        return b == 0 || b == 0x7f ? 10 : 0;
    }
    return 0;
}

static inline Frame *q_top(Validator *v) { return &v->ctrls[v->nctrls - 1]; }

/* Contract: true when popping ts[0..n) (last first) would succeed by exact type codes:
 * every operand present above the frame's height is the number/vector type expected
 * (a reference type, whose check needs subtyping, is refused), and operands missing
 * below it are allowed only in unreachable code. */
static inline bool q_match(const Validator *v, const Frame *f, const ValType *ts, uint32_t n) {
    uint32_t have = v->nvals - f->height;
    if (have < n && !f->unreachable) return false;
    uint32_t k = have < n ? have : n;
    for (uint32_t i = 0; i < k; i++) {
        ValType t = ts[n - 1 - i];
        if (vt_is_ref(t) || v->vals[v->nvals - 1 - i].code != t.code) return false;
    }
    return true; /* a missing operand of unreachable code is unknown: it matches anything */
}

/* Contract: the same for one-byte type codes (signatures), all present (no unknowns). */
static inline bool q_match_codes(const Validator *v, const Frame *f, const uint8_t *codes, uint32_t n) {
    if (v->nvals - f->height < n) return false;
    for (uint32_t i = 0; i < n; i++)
        if (v->vals[v->nvals - 1 - i].code != codes[n - 1 - i]) return false;
    return true;
}

/* Contract: what vals_pop(ts, n) then vals_push(ts, n) leave, once q_match held with
 * every operand present: the top n operands become ts. */
static inline void q_retype(Validator *v, const ValType *ts, uint32_t n) {
    if (n) memcpy(v->vals + v->nvals - n, ts, n * sizeof(ValType));
}

static inline const ValType *q_results(const Frame *f) { return f->results ? f->results : &f->one; }

/* Contract: label types of the frame `depth` out (as label_types) in *ts, *n; false
 * when there is no such frame. */
static inline bool q_label(Validator *v, uint32_t depth, const ValType **ts, uint32_t *n) {
    if (depth >= v->nctrls) return false;
    const Frame *f = &v->ctrls[v->nctrls - 1 - depth];
    *n = f->kind == FK_LOOP ? f->nparams : f->nresults;
    *ts = f->kind == FK_LOOP ? f->params : q_results(f);
    return true;
}

/* Contract: block/loop/if with the one-byte block type bt (0x40 or a number/vector
 * type), after if's condition was popped: pushes the frame as ctrl_push does. */
static inline void q_open(Validator *v, uint8_t kind, uint8_t bt) {
    if (v->nctrls == v->ctrls_cap) ws_grow((void **)&v->ctrls, &v->ctrls_cap, v->nctrls + 1, sizeof(Frame));
    Frame *f = &v->ctrls[v->nctrls++];
    memset(f, 0, sizeof *f);
    f->kind = kind;
    if (bt != 0x40) {
        f->nresults = 1;
        f->one.code = bt;
    }
    f->height = v->nvals;
    f->init_height = v->ninits;
}

/* Contract: end of the innermost frame when it is a block, loop, else, the function, or
 * an if with no parameters and results (its implicit else is then valid): checks its
 * results, pops it and pushes them, as close_block does.  False, unchanged, otherwise. */
static inline bool q_end(Validator *v) {
    Frame *f = q_top(v);
    if (f->kind == FK_IF ? f->nresults || f->nparams : f->kind > FK_LOOP && f->kind != FK_ELSE) return false;
    if (!q_match(v, f, q_results(f), f->nresults)) return false;
    if (v->nvals - f->height > f->nresults) return false; /* values left over */
    validate_reset_locals(v, f->init_height);
    v->nvals = f->height;
    v->nctrls--;
    vals_push(v, q_results(f), f->nresults);
    return true;
}

/* Contract: else of an if without parameters: checks the then branch's results and
 * opens the else branch, as close_block does. */
static inline bool q_else(Validator *v) {
    Frame *f = q_top(v);
    if (f->kind != FK_IF || f->nparams) return false;
    if (!q_match(v, f, q_results(f), f->nresults)) return false;
    if (v->nvals - f->height > f->nresults) return false;
    validate_reset_locals(v, f->init_height);
    v->nvals = f->height;
    f->kind = FK_ELSE;
    f->unreachable = false;
    return true;
}

/* Contract: br / return to label types ts (n of them): checks them, then the rest of
 * the block is unreachable. */
static inline bool q_jump(Validator *v, const ValType *ts, uint32_t n) {
    Frame *f = q_top(v);
    if (!q_match(v, f, ts, n)) return false;
    v->nvals = f->height;
    f->unreachable = true;
    return true;
}

/* Contract: br_if: an i32 condition and the label's types, all present; they stay. */
static inline bool q_br_if(Validator *v, uint32_t depth) {
    Frame *f = q_top(v);
    uint32_t n;
    const ValType *ts;
    if (!q_label(v, depth, &ts, &n) || v->nvals - f->height < n + 1 || v->vals[v->nvals - 1].code != VT_I32) return false;
    v->nvals--;
    if (!q_match(v, f, ts, n)) {
        v->nvals++;
        return false;
    }
    q_retype(v, ts, n);
    return true;
}

/* Contract: call: pops the table index operand of type code `index` (call_indirect;
 * 0: none) and the parameters of function type t, all present, and pushes its results. */
static inline bool q_call_type(Validator *v, const TypeDef *t, uint8_t index) {
    uint32_t np = t->nparams, skip = index != 0;
    if (v->nvals - q_top(v)->height < np + skip) return false;
    if (index && v->vals[v->nvals - 1].code != index) return false;
    uint32_t first = v->nvals - skip - np;
    for (uint32_t i = 0; i < np; i++)
        if (vt_is_ref(t->params[i]) || v->vals[first + i].code != t->params[i].code) return false;
    v->nvals -= np + skip;
    vals_push(v, t->results, t->nresults);
    return true;
}

/* Contract: call_indirect of type x through table y, when y holds function references
 * (a subtype of funcref without subtyping) and the index operand is exact. */
static inline bool q_call_indirect(Validator *v, uint32_t x, uint32_t y) {
    const Module *m = v->m;
    if (x >= m->ntypes || m->types[x].kind != COMP_FUNC || y >= m->ntables) return false;
    const Table *tb = &m->tables[y];
    if (!vt_is_ref(tb->elem) || tb->elem.heap != HT_FUNC) return false;
    return q_call_type(v, &m->types[x], limits_addr_code(&tb->limits));
}

/* Contract: local.get/set/tee x of a dense frame, exact operand for set/tee. */
static inline bool q_local(Validator *v, uint8_t op, uint32_t x) {
    if (!v->dense || x >= v->nlocals || !v->linit[x]) return false;
    ValType t = v->ltypes[x];
    if (op == 0x20) {
        val_push(v, t);
        return true;
    }
    Frame *f = q_top(v);
    if (vt_is_ref(t) || v->nvals == f->height || v->vals[v->nvals - 1].code != t.code) return false;
    if (op == 0x21) v->nvals--;
    else v->vals[v->nvals - 1] = t;
    return true;
}

static inline bool q_global(Validator *v, uint8_t op, uint32_t x) {
    const Module *m = v->m;
    if (x >= m->nglobals) return false;
    const Global *g = &m->globals[x];
    if (op == 0x23) {
        val_push(v, g->type);
        return true;
    }
    Frame *f = q_top(v);
    if (!g->mut || vt_is_ref(g->type) || v->nvals == f->height || v->vals[v->nvals - 1].code != g->type.code)
        return false;
    v->nvals--;
    return true;
}

/* Contract: an instruction typed by the resolved signature s (number/vector codes). */
static inline bool q_sig(Validator *v, const OpSig *s) {
    if (!q_match_codes(v, q_top(v), s->p, s->np)) return false;
    v->nvals -= s->np;
    if (s->r) val_push(v, vt_num(s->r));
    return true;
}

/* Contract: a load or store of memory 0 (one-byte alignment flags without a memory
 * index; offset of at most 32 bits), then its signature; length or 0. */
static inline size_t q_memarg(Validator *v, const uint8_t *p, const uint8_t *end) {
    uint32_t off;
    /* flags above the natural alignment (at most 3 here) include those with a memory index */
    if (end - p < 3 || p[1] > v->align[v->qop[p[0]]]) return 0;
    size_t k = q_u32(v, p + 2, end, &off);
    return k && q_sig(v, &v->qsig[p[0]]) ? 2 + k : 0;
}

/* Contract: tells the listener of the item-naming instruction op at p (immediates a,
 * b; none for a load or store) the quick path just took. */
static inline void q_tell(Validator *v, uint16_t op, uint32_t a, uint32_t b, const uint8_t *p) {
    v->listen->item(v->listen->ctx, op, a, b, (size_t)(p - v->file_start));
}

/* Contract: types the instruction at p (p < end) when the quick path covers it and
 * returns its length; 0, with nothing changed, otherwise. */
static inline size_t q_step(Validator *v, const uint8_t *p, const uint8_t *end) {
    uint32_t a, b, n;
    size_t k = 0, k2;
    const ValType *ts;
    switch (p[0]) {
    case 0x00: set_unreachable(v); k = 1; break;
    case 0x02: case 0x03:
        if (!blocktype_is_one_byte(p + 1, end)) return false;
        q_open(v, p[0] == 0x02 ? FK_BLOCK : FK_LOOP, p[1]);
        k = 2;
        break;
    case 0x04:
        if (!blocktype_is_one_byte(p + 1, end)) return false;
        if (v->nvals == q_top(v)->height || v->vals[v->nvals - 1].code != VT_I32) return false;
        v->nvals--;
        q_open(v, FK_IF, p[1]);
        k = 2;
        break;
    case 0x05: k = q_else(v); break;
    case 0x0b: k = q_end(v); break;
    case 0x0c:
        if (!(k = q_u32(v, p + 1, end, &a)) || !q_label(v, a, &ts, &n) || !q_jump(v, ts, n)) return false;
        k++;
        break;
    case 0x0d:
        if (!(k = q_u32(v, p + 1, end, &a)) || !q_br_if(v, a)) return false;
        k++;
        break;
    case 0x0f: k = q_jump(v, v->func->results, v->func->nresults); break;
    case 0x10:
        if (!(k = q_u32(v, p + 1, end, &a)) || a >= v->m->nfuncs) return false;
        if (!q_call_type(v, &v->m->types[v->m->funcs[a].type], 0)) return false;
        if (v->listen) q_tell(v, OP_CALL, a, 0, p);
        k++;
        break;
    case 0x11:
        if (!(k = q_u32(v, p + 1, end, &a)) || !(k2 = q_u32(v, p + 1 + k, end, &b))) return false;
        k = q_call_indirect(v, a, b) ? 1 + k + k2 : 0;
        if (k && v->listen) q_tell(v, OP_CALL_INDIRECT, a, b, p);
        break;
    case 0x1a:
        if (v->nvals == q_top(v)->height) return false;
        v->nvals--;
        k = 1;
        break;
    case 0x1b: {
        if (v->nvals - q_top(v)->height < 3) return false;
        ValType *top = v->vals + v->nvals;
        if (top[-1].code != VT_I32 || top[-2].code != top[-3].code ||
            top[-2].code < VT_V128 || top[-2].code > VT_I32)
            return false;
        top[-3] = top[-2];
        v->nvals -= 2;
        k = 1;
        break;
    }
    case 0x20: case 0x21: case 0x22:
        if (!(k = q_u32(v, p + 1, end, &a)) || !q_local(v, p[0], a)) return false;
        k++;
        break;
    case 0x23: case 0x24:
        if (!(k = q_u32(v, p + 1, end, &a)) || !q_global(v, p[0], a)) return false;
        if (v->listen) q_tell(v, p[0] == 0x23 ? OP_GLOBAL_GET : OP_GLOBAL_SET, a, 0, p);
        k++;
        break;
    case 0x41: if ((k = q_sleb(v, p + 1, end, 5))) { val_push(v, vt_num(VT_I32)); k++; } break;
    case 0x42: if ((k = q_sleb(v, p + 1, end, 10))) { val_push(v, vt_num(VT_I64)); k++; } break;
    case 0x43: if (end - p >= 5) { val_push(v, vt_num(VT_F32)); k = 5; } break;
    case 0x44: if (end - p >= 9) { val_push(v, vt_num(VT_F64)); k = 9; } break;
    default:
        if (v->qkind[p[0]] == QK_SIG) k = q_sig(v, &v->qsig[p[0]]);
        else if (v->qkind[p[0]] == QK_MEMARG && (k = q_memarg(v, p, end)) && v->listen && !v->listed_mem0) {
            v->listed_mem0 = true; /* the next ones name nothing new */
            q_tell(v, v->qop[p[0]], 0, 0, p);
        }
        break;
    }
    return k;
}

void validate_code_quick(Validator *v, Cursor *c) {
    const uint8_t *p = c->p, *end = c->end; /* c->p is brought up to date for the general path */
    while (v->nctrls > 0) {
        size_t k;
        uint8_t op;
        do { /* quick steps: of these only end can close the last frame */
            if (p >= end) {
                c->p = p;
                cur_fail(c, "unexpected end of section or function (END opcode expected)");
            }
            op = p[0];
            /* local.get of a one-byte index (18% of ruby.wasm's instructions) before the
             * dispatch (the quick path's own case is the fallback) */
            if (op == 0x20 && end - p >= 2 && p[1] < 0x80 && q_local(v, 0x20, p[1])) k = 2;
            else k = q_step(v, p, end);
            p += k;
        } while (k && op != 0x0b);
        if (k) continue;
        c->p = p;
        validate_step_general(v, c);
        p = c->p;
    }
    c->p = p;
}

/* Contract: the quick path's per-first-byte tables: signatures of the one-byte numeric
 * instructions without immediates and of the loads and stores, their address operand
 * resolved for memory 0 (none when the module has no memory). */
void validate_quick_init(Validator *v) {
    const Module *m = v->m;
    memset(v->qkind, QK_NONE, sizeof v->qkind);
    for (int op = 0; op < OP_COUNT; op++) {
        const OpInfo *oi = &op_info[op];
        if (oi->prefix) continue;
        OpSig s = v->sigs[op];
        if (oi->imm == IMM_NONE && v->numeric[op]) {
            v->qkind[oi->code] = QK_SIG;
        } else if (oi->imm == IMM_MEMARG && s.np != SIG_BY_HAND && m->nmems > 0) {
            uint8_t at = limits_addr_code(&m->mems[0].limits);
            for (int i = 0; i < s.np; i++) if (s.p[i] == SIG_MEM_ADDR) s.p[i] = at;
            if (s.r == SIG_MEM_ADDR) s.r = at;
            v->qkind[oi->code] = QK_MEMARG;
        } else {
            continue;
        }
        v->qsig[oi->code] = s;
        v->qop[oi->code] = (uint16_t)op;
    }
}
