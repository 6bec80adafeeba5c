/* validate_instr.c - typing rules of the non-structured instructions: the numeric and
 * memory instructions through their opcodes.def signatures, and by hand branches, calls,
 * exceptions, parametric, variable, table and reference instructions (GC ones are in
 * validate_gc.c). */
#include "validate_int.h"
#include <stdlib.h>

/* ---- per-opcode tables ---- */

/* Contract: lanes of a SIMD shape prefix ("i8x16" -> 16, "f64x2" -> 2). */
static uint8_t shape_lanes(const char *name) {
    const char *x = strchr(name, 'x');
    return x ? (uint8_t)strtoul(x + 1, NULL, 10) : 0;
}

static uint8_t sig_code(char c) {
    return c == 't' ? SIG_TABLE_ADDR : c == 'a' ? SIG_MEM_ADDR : op_sig_numtype(c);
}

static void parse_sig(OpSig *s, const char *sig) {
    memset(s, 0, sizeof *s);
    if (sig[0] == '*') { s->np = SIG_BY_HAND; return; }
    const char *p = sig;
    while (*p != ':' && s->np < 3) s->p[s->np++] = sig_code(*p++);
    s->r = p[0] == ':' ? sig_code(p[1]) : 0;
}

/* True when s types an instruction by number/vector types alone and immediate kind k
 * has nothing check_imm would look at. */
static bool is_numeric_sig(const OpSig *s, ImmKind k) {
    if (s->np == SIG_BY_HAND) return false;
    if (k != IMM_NONE && k != IMM_I32 && k != IMM_I64 && k != IMM_F32 && k != IMM_F64 && k != IMM_V128)
        return false;
    for (int i = 0; i < s->np; i++)
        if (s->p[i] <= SIG_TABLE_ADDR) return false;
    return s->r == 0 || s->r > SIG_TABLE_ADDR;
}

void validate_tables_init(Validator *v) {
    for (int op = 0; op < OP_COUNT; op++) {
        const OpInfo *oi = &op_info[op];
        parse_sig(&v->sigs[op], oi->sig);
        v->align[op] = v->lanes[op] = 0;
        if (oi->imm == IMM_MEMARG || oi->imm == IMM_MEMARG_LANE) {
            unsigned bits = op_access_bits((OpId)op);
            v->align[op] = op_natural_align((OpId)op);
            v->lanes[op] = (uint8_t)(128 / bits);
        }
        if (oi->imm == IMM_LANE) v->lanes[op] = shape_lanes(oi->name);
        v->numeric[op] = is_numeric_sig(&v->sigs[op], (ImmKind)oi->imm);
    }
}

/* ---- index spaces and types ---- */

static const Memory *mem_at(Validator *v, const Instr *in, uint64_t x) {
    if (x >= v->m->nmems) vfail(v, in->off, "unknown memory %llu", (unsigned long long)x);
    return &v->m->mems[x];
}

static const Table *table_at(Validator *v, const Instr *in, uint64_t x) {
    if (x >= v->m->ntables) vfail(v, in->off, "unknown table %llu", (unsigned long long)x);
    return &v->m->tables[x];
}

static const Func *func_at(Validator *v, const Instr *in, uint64_t x) {
    if (x >= v->m->nfuncs) vfail(v, in->off, "unknown function %llu", (unsigned long long)x);
    return &v->m->funcs[x];
}

static const Elem *elem_at(Validator *v, const Instr *in, uint64_t x) {
    if (x >= v->m->nelems) vfail(v, in->off, "unknown elem segment %llu", (unsigned long long)x);
    return &v->m->elems[x];
}

static ValType addr_type(const Limits *l) { return vt_num(limits_addr_code(l)); }

void check_heaptype(Validator *v, size_t off, int32_t h) {
    if (h >= 0 && (uint32_t)h >= v->m->ntypes) vfail(v, off, "unknown type %d", (int)h);
}

void check_valtype(Validator *v, size_t off, ValType t) {
    if (vt_is_ref(t)) check_heaptype(v, off, t.heap);
}

const TypeDef *type_of_kind(Validator *v, size_t off, uint64_t x, uint8_t kind) {
    static const char *const kinds[] = {"func", "struct", "array"};
    if (x >= v->m->ntypes) vfail(v, off, "unknown type %llu", (unsigned long long)x);
    const TypeDef *t = &v->m->types[x];
    if (t->kind != kind)
        vfail(v, off, "type mismatch: type %llu is not a %s type", (unsigned long long)x,
              kinds[kind == COMP_FUNC ? 0 : kind == COMP_STRUCT ? 1 : 2]);
    return t;
}

const TypeDef *func_type_at(Validator *v, size_t off, uint64_t x) {
    return type_of_kind(v, off, x, COMP_FUNC);
}

ValType elem_type(const Elem *e) {
    if (!(e->flags & 4)) return vt_ref(HT_FUNC, false);  /* function indices: (ref func) */
    return e->type;
}

/* ---- immediates checked the same way for every instruction carrying them ---- */

static void check_data(Validator *v, const Instr *in, uint64_t x) {
    if (!v->m->has_datacount) vfail(v, in->off, "data count section required");
    if (x >= v->m->ndatas) vfail(v, in->off, "unknown data segment %llu", (unsigned long long)x);
}

static void check_memarg(Validator *v, const Instr *in) {
    const Memory *mem = mem_at(v, in, in->mem);
    unsigned natural = v->align[in->op];
    if (in->a > natural) vfail(v, in->off, "alignment must not be larger than natural");
    if (op_info[in->op].prefix == 0xFE && in->a != natural)
        vfail(v, in->off, "atomic alignment must be natural");
    if (!(mem->limits.flags & LIM_64) && in->b > UINT32_MAX) vfail(v, in->off, "offset out of range");
    if (op_imm[in->op] == IMM_MEMARG_LANE && in->lane >= v->lanes[in->op])
        vfail(v, in->off, "invalid lane index");
}

static void check_table_init(Validator *v, const Instr *in) {
    const Table *t = table_at(v, in, in->b);
    const Elem *e = elem_at(v, in, in->a);
    if (!val_sub(&v->ts, elem_type(e), t->elem))
        vfail(v, in->off, "type mismatch: elem segment %llu does not fit table %llu",
              (unsigned long long)in->a, (unsigned long long)in->b);
}

/* Contract: index ranges, alignment and lanes of the uniform immediate kinds. */
static void check_imm(Validator *v, const Instr *in) {
    switch ((ImmKind)op_imm[in->op]) {
    case IMM_MEMARG: case IMM_MEMARG_LANE: check_memarg(v, in); break;
    case IMM_MEM: mem_at(v, in, in->a); break;
    case IMM_MEM_MEM: mem_at(v, in, in->a); mem_at(v, in, in->b); break;
    case IMM_DATA: check_data(v, in, in->a); break;
    case IMM_DATA_MEM: mem_at(v, in, in->b); check_data(v, in, in->a); break;
    case IMM_ELEM: elem_at(v, in, in->a); break;
    case IMM_ELEM_TABLE: check_table_init(v, in); break;
    case IMM_TABLE: table_at(v, in, in->a); break;
    case IMM_TABLE_TABLE: table_at(v, in, in->a); table_at(v, in, in->b); break;
    case IMM_LANE:
        if (in->lane >= v->lanes[in->op]) vfail(v, in->off, "invalid lane index");
        break;
    case IMM_SHUFFLE:
        for (int i = 0; i < 16; i++)
            if (in->bytes[i] >= 32) vfail(v, in->off, "invalid lane index");
        break;
    default: break;
    }
}

/* ---- instructions typed by their signature ---- */

/* Contract: the value type of signature code c for instruction in (whose memory or
 * table immediate was checked). */
static ValType sig_val(Validator *v, const Instr *in, uint8_t c) {
    if (c > SIG_TABLE_ADDR) return vt_num(c);
    uint8_t imm = op_imm[in->op];
    if (c == SIG_TABLE_ADDR) return addr_type(&v->m->tables[imm == IMM_ELEM_TABLE ? in->b : in->a].limits);
    uint64_t x = imm == IMM_MEMARG || imm == IMM_MEMARG_LANE ? in->mem : imm == IMM_DATA_MEM ? in->b : in->a;
    return addr_type(&v->m->mems[x].limits);
}

static void by_sig(Validator *v, const Instr *in, const OpSig *s) {
    for (int i = s->np; i-- > 0;) val_pop_expect(v, in, sig_val(v, in, s->p[i]));
    if (s->r) val_push(v, sig_val(v, in, s->r));
}

/* ---- branches ---- */

/* Contract: pops values matching ts and pushes back the values popped (unknown ones
 * as bottom), as the spec's push_vals(pop_vals(ts)). */
static void pop_keep(Validator *v, const Instr *in, const ValType *ts, uint32_t n) {
    uint32_t before = v->nvals;
    vals_pop(v, in, ts, n);
    uint32_t real = before - v->nvals, missing = n - real, at = v->nvals;
    if (missing) {
        ws_grow((void **)&v->vals, &v->vals_cap, before + missing, sizeof(ValType));
        memmove(v->vals + at + missing, v->vals + at, real * sizeof(ValType));
        for (uint32_t i = 0; i < missing; i++) v->vals[at + i].code = VT_BOT;
    }
    v->nvals = before + missing;
}

static void br_table(Validator *v, const Instr *in) {
    uint32_t arity, n;
    val_pop_expect(v, in, vt_num(VT_I32));
    const ValType *def = label_types(v, in, in->a, &arity);
    const uint8_t *p = in->vec;
    for (uint32_t i = 0; i < in->n; i++) {
        uint32_t l = br_table_label_next(&p);
        const ValType *ts = label_types(v, in, l, &n);
        if (n != arity) vfail(v, in->off, "type mismatch: br_table targets differ in arity");
        pop_keep(v, in, ts, n);
    }
    vals_pop(v, in, def, arity);
    set_unreachable(v);
}

/* Contract: br, br_if, br_on_null, br_on_non_null. */
static void branch(Validator *v, const Instr *in) {
    uint32_t n;
    const ValType *ts = label_types(v, in, in->a, &n);
    if (in->op == OP_BR) {
        vals_pop(v, in, ts, n);
        set_unreachable(v);
        return;
    }
    if (in->op == OP_BR_IF) {
        val_pop_expect(v, in, vt_num(VT_I32));
        vals_pop(v, in, ts, n);
        vals_push(v, ts, n);
        return;
    }
    if (in->op == OP_BR_ON_NON_NULL && (n == 0 || !vt_is_ref(ts[n - 1])))
        vfail(v, in->off, "type mismatch: br_on_non_null needs a label ending in a reference");
    ValType rt = val_pop_ref(v, in);
    ValType nonnull = vt_ref(rt.heap, false);
    if (in->op == OP_BR_ON_NON_NULL) {
        if (!val_sub(&v->ts, nonnull, ts[n - 1]))
            vfail(v, in->off, "type mismatch: br_on_non_null operand does not match the label");
        n--;
    }
    vals_pop(v, in, ts, n);
    vals_push(v, ts, n);
    if (in->op == OP_BR_ON_NULL) val_push(v, nonnull);
}

/* ---- calls and exceptions ---- */

/* Contract: pops t's parameters; then pushes its results, or for a tail call checks
 * them against the caller's and ends the block. */
static void call_type(Validator *v, const Instr *in, const TypeDef *t, bool tail) {
    vals_pop(v, in, t->params, t->nparams);
    if (!tail) {
        vals_push(v, t->results, t->nresults);
        return;
    }
    const TypeDef *caller = v->func;
    bool ok = t->nresults == caller->nresults;
    for (uint32_t i = 0; ok && i < t->nresults; i++) ok = val_sub(&v->ts, t->results[i], caller->results[i]);
    if (!ok) vfail(v, in->off, "type mismatch: %s callee results do not match the caller's", op_info[in->op].name);
    set_unreachable(v);
}

static void call(Validator *v, const Instr *in) {
    bool tail = in->op == OP_RETURN_CALL || in->op == OP_RETURN_CALL_INDIRECT || in->op == OP_RETURN_CALL_REF;
    const TypeDef *t;
    if (in->op == OP_CALL || in->op == OP_RETURN_CALL) {
        t = &v->m->types[func_at(v, in, in->a)->type];
    } else if (in->op == OP_CALL_REF || in->op == OP_RETURN_CALL_REF) {
        t = func_type_at(v, in->off, in->a);
        val_pop_expect(v, in, vt_ref((int32_t)in->a, true));
    } else {
        t = func_type_at(v, in->off, in->a);
        const Table *tb = table_at(v, in, in->b);
        if (!val_sub(&v->ts, tb->elem, vt_ref(HT_FUNC, true)))
            vfail(v, in->off, "type mismatch: call_indirect table %llu is not a function table", (unsigned long long)in->b);
        val_pop_expect(v, in, addr_type(&tb->limits));
    }
    call_type(v, in, t, tail);
}

static void exception(Validator *v, const Instr *in) {
    if (in->op == OP_THROW) {
        if (in->a >= v->m->ntags) vfail(v, in->off, "unknown tag %llu", (unsigned long long)in->a);
        const TypeDef *t = func_type_at(v, in->off, v->m->tags[in->a].type);
        vals_pop(v, in, t->params, t->nparams);
    } else if (in->op == OP_THROW_REF) {
        val_pop_expect(v, in, vt_ref(HT_EXN, true));
    } else { /* rethrow */
        const Frame *f = frame_at(v, in, in->a);
        if (f->kind != FK_CATCH && f->kind != FK_CATCH_ALL) vfail(v, in->off, "invalid rethrow label");
    }
    set_unreachable(v);
}

/* ---- parametric and variable instructions ---- */

static void select_untyped(Validator *v, const Instr *in) {
    val_pop_expect(v, in, vt_num(VT_I32));
    ValType t1 = val_pop(v, in), t2 = val_pop(v, in);
    bool ok1 = t1.code == VT_BOT || vt_is_num(t1) || vt_is_vec(t1);
    bool ok2 = t2.code == VT_BOT || vt_is_num(t2) || vt_is_vec(t2);
    if (!ok1 || !ok2) vfail(v, in->off, "type mismatch: select without type needs numeric or vector operands");
    if (t1.code != t2.code && t1.code != VT_BOT && t2.code != VT_BOT)
        vfail(v, in->off, "type mismatch: select operands differ");
    val_push(v, t1.code == VT_BOT ? t2 : t1);
}

static void select_typed(Validator *v, const Instr *in) {
    if (in->n != 1) vfail(v, in->off, "invalid result arity");
    const uint8_t *p = in->vec;
    ValType t = select_type_next(&p);
    check_valtype(v, in->off, t);
    val_pop_expect(v, in, vt_num(VT_I32));
    val_pop_expect(v, in, t);
    val_pop_expect(v, in, t);
    val_push(v, t);
}

static void global_instr(Validator *v, const Instr *in) {
    uint64_t limit = v->const_expr ? v->const_globals : v->m->nglobals;
    if (in->a >= limit) vfail(v, in->off, "unknown global %llu", (unsigned long long)in->a);
    const Global *g = &v->m->globals[in->a];
    if (in->op == OP_GLOBAL_GET) {
        if (v->const_expr && g->mut) vfail(v, in->off, "constant expression required: global %llu is mutable", (unsigned long long)in->a);
        val_push(v, g->type);
        return;
    }
    if (!g->mut) vfail(v, in->off, "immutable global %llu", (unsigned long long)in->a);
    val_pop_expect(v, in, g->type);
}

/* ---- tables and memories ---- */

static void table_instr(Validator *v, const Instr *in) {
    const Table *t = &v->m->tables[in->a];
    ValType at = addr_type(&t->limits);
    switch (in->op) {
    case OP_TABLE_GET: val_pop_expect(v, in, at); val_push(v, t->elem); break;
    case OP_TABLE_SET: val_pop_expect(v, in, t->elem); val_pop_expect(v, in, at); break;
    case OP_TABLE_GROW:
        val_pop_expect(v, in, at);
        val_pop_expect(v, in, t->elem);
        val_push(v, at);
        break;
    default: /* table.fill */
        val_pop_expect(v, in, at);
        val_pop_expect(v, in, t->elem);
        val_pop_expect(v, in, at);
        break;
    }
}

/* Contract: table.copy / memory.copy: [at_dst at_src min(at_dst, at_src)] -> []. */
static void copy_instr(Validator *v, const Instr *in) {
    const Limits *d, *s;
    if (in->op == OP_TABLE_COPY) {
        const Table *td = &v->m->tables[in->a], *tsrc = &v->m->tables[in->b];
        if (!val_sub(&v->ts, tsrc->elem, td->elem))
            vfail(v, in->off, "type mismatch: table %llu elements do not fit table %llu",
                  (unsigned long long)in->b, (unsigned long long)in->a);
        d = &td->limits;
        s = &tsrc->limits;
    } else {
        d = &v->m->mems[in->a].limits;
        s = &v->m->mems[in->b].limits;
    }
    ValType ad = addr_type(d), as = addr_type(s);
    val_pop_expect(v, in, ad.code == VT_I64 && as.code == VT_I64 ? ad : vt_num(VT_I32));
    val_pop_expect(v, in, as);
    val_pop_expect(v, in, ad);
}

/* ---- references ---- */

static void ref_instr(Validator *v, const Instr *in) {
    switch (in->op) {
    case OP_REF_NULL:
        check_heaptype(v, in->off, in->heap);
        val_push(v, vt_ref(in->heap, true));
        break;
    case OP_REF_IS_NULL:
        val_pop_ref(v, in);
        val_push(v, vt_num(VT_I32));
        break;
    case OP_REF_AS_NON_NULL:
        val_push(v, vt_ref(val_pop_ref(v, in).heap, false));
        break;
    case OP_REF_EQ:
        val_pop_expect(v, in, vt_ref(HT_EQ, true));
        val_pop_expect(v, in, vt_ref(HT_EQ, true));
        val_push(v, vt_num(VT_I32));
        break;
    default: { /* ref.func */
        const Func *f = func_at(v, in, in->a);
        if (v->const_expr) v->declared[in->a] = 1;
        else if (!v->declared[in->a]) vfail(v, in->off, "undeclared function reference %llu", (unsigned long long)in->a);
        val_push(v, vt_ref((int32_t)f->type, false));
        break;
    }
    }
}

void validate_instr(Validator *v, const Instr *in) {
    check_imm(v, in);
    const OpSig *s = &v->sigs[in->op];
    if (s->np != SIG_BY_HAND) { by_sig(v, in, s); return; }
    switch (in->op) {
    case OP_UNREACHABLE: set_unreachable(v); break;
    case OP_BR: case OP_BR_IF: case OP_BR_ON_NULL: case OP_BR_ON_NON_NULL: branch(v, in); break;
    case OP_BR_TABLE: br_table(v, in); break;
    case OP_RETURN:
        vals_pop(v, in, v->func->results, v->func->nresults);
        set_unreachable(v);
        break;
    case OP_CALL: case OP_CALL_INDIRECT: case OP_RETURN_CALL: case OP_RETURN_CALL_INDIRECT:
    case OP_CALL_REF: case OP_RETURN_CALL_REF:
        call(v, in);
        break;
    case OP_THROW: case OP_THROW_REF: case OP_RETHROW: exception(v, in); break;
    case OP_DROP: val_pop(v, in); break;
    case OP_SELECT: select_untyped(v, in); break;
    case OP_SELECT_T: select_typed(v, in); break;
    case OP_GLOBAL_GET: case OP_GLOBAL_SET: global_instr(v, in); break;
    case OP_TABLE_GET: case OP_TABLE_SET: case OP_TABLE_GROW: case OP_TABLE_FILL: table_instr(v, in); break;
    case OP_TABLE_COPY: case OP_MEMORY_COPY: copy_instr(v, in); break;
    case OP_REF_NULL: case OP_REF_IS_NULL: case OP_REF_AS_NON_NULL: case OP_REF_EQ: case OP_REF_FUNC:
        ref_instr(v, in);
        break;
    default:
        if (!validate_gc(v, in)) vfail(v, in->off, "internal error: no typing rule for %s", op_info[in->op].name);
        break;
    }
}
