/* validate_gc.c - typing rules of the GC instructions: struct and array access, i31,
 * ref.test/ref.cast/br_on_cast(_fail) and the any/extern conversions. */
#include "validate_int.h"

static ValType i32(void) { return vt_num(VT_I32); }

/* Contract: struct type x and its field i; fails "unknown field" past the end. */
static const FieldType *struct_field(Validator *v, const Instr *in, uint64_t x, uint64_t i) {
    const TypeDef *t = type_of_kind(v, in->off, x, COMP_STRUCT);
    if (i >= t->nfields) vfail(v, in->off, "unknown field %llu", (unsigned long long)i);
    return &t->fields[i];
}

static const FieldType *array_field(Validator *v, const Instr *in, uint64_t x) {
    return &type_of_kind(v, in->off, x, COMP_ARRAY)->fields[0];
}

/* Contract: the _s/_u forms exactly for packed fields. */
static void check_packed(Validator *v, const Instr *in, const FieldType *f, bool signed_or_unsigned) {
    bool packed = f->type.code == VT_I8 || f->type.code == VT_I16;
    if (packed != signed_or_unsigned)
        vfail(v, in->off, "type mismatch: %s on a %spacked field", op_info[in->op].name, packed ? "" : "non-");
}

static void check_mutable(Validator *v, const Instr *in, const FieldType *f, const char *msg) {
    if (!f->mut) vfail(v, in->off, "%s", msg);
}

static void check_defaultable(Validator *v, const Instr *in, const FieldType *f) {
    if (!vt_defaultable(f->type))
        vfail(v, in->off, "type mismatch: %s needs defaultable fields", op_info[in->op].name);
}

static void check_numeric(Validator *v, const Instr *in, const FieldType *f) {
    ValType t = vt_unpack(f->type);
    if (!vt_is_num(t) && !vt_is_vec(t)) vfail(v, in->off, "array type is not numeric or vector");
}

static void check_elem_fits(Validator *v, const Instr *in, uint64_t y, const FieldType *f) {
    if (y >= v->m->nelems) vfail(v, in->off, "unknown elem segment %llu", (unsigned long long)y);
    if (!val_sub(&v->ts, elem_type(&v->m->elems[y]), f->type))
        vfail(v, in->off, "type mismatch: elem segment %llu does not fit the array", (unsigned long long)y);
}

static void check_data_seg(Validator *v, const Instr *in, uint64_t y) {
    if (!v->m->has_datacount) vfail(v, in->off, "data count section required");
    if (y >= v->m->ndatas) vfail(v, in->off, "unknown data segment %llu", (unsigned long long)y);
}

/* Contract: pops n operands of type t; in unreachable code only the known ones (the
 * rest are bottom), so a huge n costs nothing. */
static void pop_n(Validator *v, const Instr *in, ValType t, uint64_t n) {
    const Frame *f = &v->ctrls[v->nctrls - 1];
    for (uint64_t i = 0; i < n; i++) {
        if (v->nvals == f->height && f->unreachable) return;
        val_pop_expect(v, in, t);
    }
}

static void struct_instr(Validator *v, const Instr *in) {
    ValType self = vt_ref((int32_t)in->a, true);
    if (in->op == OP_STRUCT_NEW || in->op == OP_STRUCT_NEW_DEFAULT) {
        const TypeDef *t = type_of_kind(v, in->off, in->a, COMP_STRUCT);
        for (uint32_t i = t->nfields; i-- > 0;) {
            if (in->op == OP_STRUCT_NEW) val_pop_expect(v, in, vt_unpack(t->fields[i].type));
            else check_defaultable(v, in, &t->fields[i]);
        }
        val_push(v, vt_ref((int32_t)in->a, false));
        return;
    }
    const FieldType *f = struct_field(v, in, in->a, in->b);
    if (in->op == OP_STRUCT_SET) {
        check_mutable(v, in, f, "immutable field");
        val_pop_expect(v, in, vt_unpack(f->type));
        val_pop_expect(v, in, self);
        return;
    }
    check_packed(v, in, f, in->op != OP_STRUCT_GET);
    val_pop_expect(v, in, self);
    val_push(v, vt_unpack(f->type));
}

/* Contract: array.new, new_default, new_fixed, new_data, new_elem. */
static void array_new(Validator *v, const Instr *in) {
    const FieldType *f = array_field(v, in, in->a);
    ValType t = vt_unpack(f->type);
    switch (in->op) {
    case OP_ARRAY_NEW: val_pop_expect(v, in, i32()); val_pop_expect(v, in, t); break;
    case OP_ARRAY_NEW_DEFAULT: check_defaultable(v, in, f); val_pop_expect(v, in, i32()); break;
    case OP_ARRAY_NEW_FIXED: pop_n(v, in, t, in->b); break;
    case OP_ARRAY_NEW_DATA:
        check_numeric(v, in, f);
        check_data_seg(v, in, in->b);
        val_pop_expect(v, in, i32());
        val_pop_expect(v, in, i32());
        break;
    default: /* array.new_elem */
        check_elem_fits(v, in, in->b, f);
        val_pop_expect(v, in, i32());
        val_pop_expect(v, in, i32());
        break;
    }
    val_push(v, vt_ref((int32_t)in->a, false));
}

static void array_copy(Validator *v, const Instr *in) {
    const FieldType *dst = array_field(v, in, in->a), *src = array_field(v, in, in->b);
    check_mutable(v, in, dst, "immutable array");
    if (!val_sub(&v->ts, src->type, dst->type)) vfail(v, in->off, "array types do not match");
    val_pop_expect(v, in, i32());
    val_pop_expect(v, in, i32());
    val_pop_expect(v, in, vt_ref((int32_t)in->b, true));
    val_pop_expect(v, in, i32());
    val_pop_expect(v, in, vt_ref((int32_t)in->a, true));
}

/* Contract: array.get(_s/_u), set, fill, init_data, init_elem. */
static void array_access(Validator *v, const Instr *in) {
    const FieldType *f = array_field(v, in, in->a);
    ValType t = vt_unpack(f->type), self = vt_ref((int32_t)in->a, true);
    switch (in->op) {
    case OP_ARRAY_GET: case OP_ARRAY_GET_S: case OP_ARRAY_GET_U:
        check_packed(v, in, f, in->op != OP_ARRAY_GET);
        val_pop_expect(v, in, i32());
        val_pop_expect(v, in, self);
        val_push(v, t);
        return;
    case OP_ARRAY_SET: check_mutable(v, in, f, "immutable array"); break;
    case OP_ARRAY_FILL:
        check_mutable(v, in, f, "immutable array");
        val_pop_expect(v, in, i32());
        break;
    case OP_ARRAY_INIT_DATA:
        check_mutable(v, in, f, "immutable array");
        check_numeric(v, in, f);
        check_data_seg(v, in, in->b);
        t = i32();
        val_pop_expect(v, in, i32());
        break;
    default: /* array.init_elem */
        check_mutable(v, in, f, "immutable array");
        check_elem_fits(v, in, in->b, f);
        t = i32();
        val_pop_expect(v, in, i32());
        break;
    }
    val_pop_expect(v, in, t);
    val_pop_expect(v, in, i32());
    val_pop_expect(v, in, self);
}

/* Contract: ref.test / ref.cast (nullable forms too): the operand must be in the
 * target's hierarchy. */
static void ref_cast(Validator *v, const Instr *in) {
    check_heaptype(v, in->off, in->heap);
    val_pop_expect(v, in, vt_ref(heap_top(&v->ts, in->heap), true));
    bool nullable = in->op == OP_REF_TEST_NULL || in->op == OP_REF_CAST_NULL;
    if (in->op == OP_REF_TEST || in->op == OP_REF_TEST_NULL) val_push(v, i32());
    else val_push(v, vt_ref(in->heap, nullable));
}

/* Contract: br_on_cast / br_on_cast_fail l rt1 rt2: rt2 <: rt1, the label ends in a
 * supertype of what is sent (rt2, or rt1 minus rt2 for _fail). */
static void br_on_cast(Validator *v, const Instr *in) {
    check_heaptype(v, in->off, in->heap);
    check_heaptype(v, in->off, in->heap2);
    ValType rt1 = vt_ref(in->heap, in->flags & 1), rt2 = vt_ref(in->heap2, in->flags & 2);
    if (!val_sub(&v->ts, rt2, rt1)) vfail(v, in->off, "type mismatch: cast target is not a subtype of the source");
    ValType diff = vt_nullable(rt2) ? vt_ref(rt1.heap, false) : rt1;
    ValType sent = in->op == OP_BR_ON_CAST ? rt2 : diff;
    ValType stays = in->op == OP_BR_ON_CAST ? diff : rt2;
    uint32_t n;
    const ValType *ts = label_types(v, in, in->a, &n);
    if (n == 0 || !val_sub(&v->ts, sent, ts[n - 1]))
        vfail(v, in->off, "type mismatch: %s does not match its label", op_info[in->op].name);
    val_pop_expect(v, in, rt1);
    vals_pop(v, in, ts, n - 1);
    vals_push(v, ts, n - 1);
    val_push(v, stays);
}

/* Contract: any.convert_extern / extern.convert_any keep the operand's nullability. */
static void convert(Validator *v, const Instr *in) {
    bool to_any = in->op == OP_ANY_CONVERT_EXTERN;
    ValType t = val_pop_expect(v, in, vt_ref(to_any ? HT_EXTERN : HT_ANY, true));
    val_push(v, vt_ref(to_any ? HT_ANY : HT_EXTERN, t.code != VT_BOT && vt_nullable(t)));
}

bool validate_gc(Validator *v, const Instr *in) {
    switch (in->op) {
    case OP_STRUCT_NEW: case OP_STRUCT_NEW_DEFAULT: case OP_STRUCT_GET: case OP_STRUCT_GET_S:
    case OP_STRUCT_GET_U: case OP_STRUCT_SET:
        struct_instr(v, in);
        return true;
    case OP_ARRAY_NEW: case OP_ARRAY_NEW_DEFAULT: case OP_ARRAY_NEW_FIXED: case OP_ARRAY_NEW_DATA:
    case OP_ARRAY_NEW_ELEM:
        array_new(v, in);
        return true;
    case OP_ARRAY_GET: case OP_ARRAY_GET_S: case OP_ARRAY_GET_U: case OP_ARRAY_SET:
    case OP_ARRAY_FILL: case OP_ARRAY_INIT_DATA: case OP_ARRAY_INIT_ELEM:
        array_access(v, in);
        return true;
    case OP_ARRAY_COPY: array_copy(v, in); return true;
    case OP_ARRAY_LEN:
        val_pop_expect(v, in, vt_ref(HT_ARRAY, true));
        val_push(v, i32());
        return true;
    case OP_REF_TEST: case OP_REF_TEST_NULL: case OP_REF_CAST: case OP_REF_CAST_NULL:
        ref_cast(v, in);
        return true;
    case OP_BR_ON_CAST: case OP_BR_ON_CAST_FAIL: br_on_cast(v, in); return true;
    case OP_ANY_CONVERT_EXTERN: case OP_EXTERN_CONVERT_ANY: convert(v, in); return true;
    case OP_REF_I31:
        val_pop_expect(v, in, i32());
        val_push(v, vt_ref(HT_I31, false));
        return true;
    case OP_I31_GET_S: case OP_I31_GET_U:
        val_pop_expect(v, in, vt_ref(HT_I31, true));
        val_push(v, i32());
        return true;
    default:
        return false;
    }
}
