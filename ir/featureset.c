/* featureset.c - the feature proposals a module uses, checked against what the options
 * allow (--mvp-features, --disable-X, --enable-X).
 *
 *   (func (param i32) (result i32) (i32.extend8_s (local.get 0)))   uses sign-ext
 *   (global (export "g") (mut i32) (i32.const 0))                   uses mutable-globals
 *   (func (result i32 i32) ...)                                     uses multivalue
 *
 * The scan walks the sections in file order and then every body and constant
 * expression instruction by instruction (opcodes.def's FT column, plus what immediates
 * say: block types, memory and table indices, value types); the first use of a feature
 * the options leave out fails with its offset. */
#include "featureset.h"
#include "instr.h"
#include "validate_int.h"
#include <string.h>

static const char *const feature_names[FEAT_COUNT] = {
#define FEATURE(id, name, section) name,
#include "featureset.def"
#undef FEATURE
};

static const char *const feature_section_names[FEAT_COUNT] = {
#define FEATURE(id, name, section) section,
#include "featureset.def"
#undef FEATURE
};

static const uint32_t op_features[OP_COUNT] = {
#define OP(id, prefix, code, name, imm, sig, fx, ft) [OP_##id] = ft,
#include "opcodes.def"
#undef OP
};

const char *feature_name(uint32_t i) { return i < FEAT_COUNT ? feature_names[i] : NULL; }
const char *feature_section_name(uint32_t i) { return i < FEAT_COUNT ? feature_section_names[i] : NULL; }

uint32_t feature_by_name(const char *name, size_t len) {
    for (uint32_t i = 0; i < FEAT_COUNT; i++)
        if (strlen(feature_names[i]) == len && !memcmp(feature_names[i], name, len)) return 1u << i;
    return 0;
}

typedef struct Scan {
    const Module *m;
    uint32_t allowed;
    WsError *err;
    uint32_t *used;      /* collecting: every use goes here, none fails */
} Scan;

/* Contract: records `used` (when collecting); true when it holds a feature the options
 * leave out (the caller then refuses, naming what needs it). */
static bool uses_disabled(const Scan *s, uint32_t used) {
    if (s->used) *s->used |= used;
    return (used & ~s->allowed) != 0;
}

/* Contract: fails at offset off naming the first disabled feature in `used`. */
WS_NORETURN static void refuse(const Scan *s, uint32_t used, size_t off, const char *what) {
    uint32_t bad = used & ~s->allowed, i = 0;
    while (!(bad & (1u << i))) i++;
    ws_fail(s->err, off, "%s needs %s, which the options disable", what, feature_names[i]);
}

static void need(const Scan *s, uint32_t used, size_t off, const char *what) {
    if (uses_disabled(s, used)) refuse(s, used, off, what);
}

/* The features a heap type needs (in a reference type written out in full, or an
 * instruction's immediate). */
static uint32_t heap_features(const Module *m, int32_t heap) {
    if (heap >= 0) {
        bool func = (uint32_t)heap < m->ntypes && m->types[heap].kind == COMP_FUNC;
        return FT_FUNCTION_REFERENCES | (func ? 0 : FT_GC);
    }
    if (heap == HT_FUNC || heap == HT_EXTERN) return FT_REFERENCE_TYPES;
    if (heap == HT_EXN || heap == HT_NOEXN) return FT_EXCEPTIONS | FT_REFERENCE_TYPES;
    return FT_GC;
}

/* The features a value type needs wherever it appears (funcref in a table's element
 * type is MVP: the callers of tables say so). */
static uint32_t valtype_features(const Module *m, ValType t) {
    if (t.code == VT_V128) return FT_SIMD;
    if (!vt_is_ref(t)) return 0;
    uint32_t h = heap_features(m, t.heap);
    bool shorthand = t.code != VT_REF && t.code != VT_REF_NULL;
    if (shorthand || !(h & FT_REFERENCE_TYPES)) return h;
    return h | FT_FUNCTION_REFERENCES; /* (ref func), (ref null extern) written out */
}

static size_t section_offset(const Module *m, uint8_t id) {
    int rank = section_rank(id);
    const uint8_t *p = m->section_payload[rank].p;
    return p && p >= m->input && p < m->input + m->input_len ? (size_t)(p - m->input) : 0;
}

static uint32_t blocktype_features(const Module *m, const BlockType *bt) {
    if (bt->kind == BT_TYPE) return FT_MULTIVALUE;
    return bt->kind == BT_VAL ? valtype_features(m, bt->val) : 0;
}

/* Contract: what one instruction's immediates need beyond its opcode's feature. */
static uint32_t immediate_features(const Module *m, const Instr *in) {
    const uint8_t *v = in->vec;
    uint32_t ft = 0;
    switch (op_info[in->op].imm) {
    case IMM_BLOCK: case IMM_TRY_TABLE: return blocktype_features(m, &in->bt);
    case IMM_MEMARG: case IMM_MEMARG_LANE: return in->mem ? FT_MULTIMEMORY : 0;
    case IMM_MEM: return in->a ? FT_MULTIMEMORY : 0;
    case IMM_MEM_MEM: return in->a || in->b ? FT_MULTIMEMORY : 0;
    case IMM_DATA_MEM: return in->b ? FT_MULTIMEMORY : 0;
    case IMM_CALL_INDIRECT: case IMM_ELEM_TABLE: return in->b ? FT_REFERENCE_TYPES : 0;
    case IMM_TABLE_TABLE: return in->a || in->b ? FT_REFERENCE_TYPES : 0;
    case IMM_HEAP: return heap_features(m, in->heap);
    case IMM_SELECT_T:
        for (uint32_t i = 0; i < in->n; i++) ft |= valtype_features(m, select_type_next(&v));
        return ft;
    default: return 0;
    }
}

/* The features an instruction needs in a constant expression beyond its own: the
 * arithmetic of extended-const, and (GC) reading a global the module defines. */
static uint32_t const_expr_features(const Module *m, const Instr *in) {
    switch (in->op) {
    case OP_I32_ADD: case OP_I32_SUB: case OP_I32_MUL:
    case OP_I64_ADD: case OP_I64_SUB: case OP_I64_MUL:
        return FT_EXTENDED_CONST;
    case OP_GLOBAL_GET:
        return in->a >= m->nglobal_imports ? FT_GC : 0;
    default:
        return 0;
    }
}

/* Contract: the instructions of code (a body after its locals, or a constant
 * expression) up to its end. */
static void scan_code(const Scan *s, Cursor *c, bool const_expr) {
    Instr in;
    while (c->p < c->end) {
        instr_decode(c, &in);
        uint32_t ft = op_features[in.op] | immediate_features(s->m, &in);
        if (const_expr) ft |= const_expr_features(s->m, &in);
        need(s, ft, in.off, op_info[in.op].name);
    }
}

static void scan_expr(const Scan *s, const Expr *e) {
    Cursor c = module_cursor(s->m, e->code, e->len, s->err);
    scan_code(s, &c, true);
}

static void scan_body(const Scan *s, const Func *f) {
    Cursor c = module_cursor(s->m, f->body.p, f->body.len, s->err);
    uint32_t groups = cur_u32(&c);
    for (uint32_t g = 0; g < groups; g++) {
        cur_u32(&c);
        size_t off = cur_offset(&c);
        ValType t = read_valtype(&c);
        uint32_t ft = valtype_features(s->m, t);
        if (!uses_disabled(s, ft)) continue;
        char name[64], what[80];
        snprintf(what, sizeof what, "a local of type %s", vt_str(t, name, sizeof name));
        refuse(s, ft, off, what);
    }
    scan_code(s, &c, false);
}

static void scan_types(const Scan *s) {
    const Module *m = s->m;
    size_t off = section_offset(m, SEC_TYPE);
    for (uint32_t i = 0; i < m->ntypes; i++) {
        const TypeDef *t = &m->types[i];
        const RecGroup *r = &m->recs[t->rec];
        bool gc = t->kind != COMP_FUNC || t->sub_form != SUB_BARE || r->explicit_rec || r->count > 1;
        uint32_t ft = (gc ? FT_GC : 0) | (t->nresults > 1 ? FT_MULTIVALUE : 0);
        for (uint32_t k = 0; k < t->nparams; k++) ft |= valtype_features(m, t->params[k]);
        for (uint32_t k = 0; k < t->nresults; k++) ft |= valtype_features(m, t->results[k]);
        for (uint32_t k = 0; k < t->nfields; k++) ft |= valtype_features(m, t->fields[k].type);
        if (!uses_disabled(s, ft)) continue;
        char what[64];
        snprintf(what, sizeof what, "type %u", i);
        refuse(s, ft, off, what);
    }
}

/* The features of a table's or memory's limits and (tables) element type. */
static uint32_t table_features(const Module *m, const Table *t) {
    uint32_t ft = (t->limits.flags & LIM_64) ? FT_MEMORY64 : 0;
    if (t->elem.code != VT_FUNCREF) ft |= FT_REFERENCE_TYPES | valtype_features(m, t->elem);
    return ft | (t->has_init ? FT_FUNCTION_REFERENCES : 0);
}

static uint32_t memory_features(const Memory *mem) {
    return ((mem->limits.flags & LIM_64) ? FT_MEMORY64 : 0) | ((mem->limits.flags & LIM_SHARED) ? FT_THREADS : 0);
}

static void scan_imports(const Scan *s) {
    const Module *m = s->m;
    size_t off = section_offset(m, SEC_IMPORT);
    for (uint32_t i = 0; i < m->nimports; i++) {
        const Import *im = &m->imports[i];
        uint32_t ft = 0;
        if (im->kind == EXT_TABLE) ft = table_features(m, &m->tables[im->index]);
        if (im->kind == EXT_MEMORY) ft = memory_features(&m->mems[im->index]);
        if (im->kind == EXT_TAG) ft = FT_EXCEPTIONS;
        if (im->kind == EXT_GLOBAL) {
            const Global *g = &m->globals[im->index];
            ft = valtype_features(m, g->type) | (g->mut ? FT_MUTABLE_GLOBALS : 0);
        }
        if (!uses_disabled(s, ft)) continue;
        char what[96];
        snprintf(what, sizeof what, "import %u (%.*s.%.*s)", i, (int)(im->module.len > 32 ? 32 : im->module.len),
                 (const char *)im->module.p, (int)(im->field.len > 32 ? 32 : im->field.len), (const char *)im->field.p);
        refuse(s, ft, off, what);
    }
}

static void scan_tables_memories(const Scan *s) {
    const Module *m = s->m;
    need(s, m->ntables > 1 ? FT_REFERENCE_TYPES : 0, section_offset(m, SEC_TABLE), "a second table");
    need(s, m->nmems > 1 ? FT_MULTIMEMORY : 0, section_offset(m, SEC_MEMORY), "a second memory");
    for (uint32_t i = m->ntable_imports; i < m->ntables; i++) {
        need(s, table_features(m, &m->tables[i]), section_offset(m, SEC_TABLE), "a table");
        if (m->tables[i].has_init) scan_expr(s, &m->tables[i].init);
    }
    for (uint32_t i = m->nmem_imports; i < m->nmems; i++)
        need(s, memory_features(&m->mems[i]), section_offset(m, SEC_MEMORY), "a memory");
}

static void scan_globals_exports(const Scan *s) {
    const Module *m = s->m;
    for (uint32_t i = m->nglobal_imports; i < m->nglobals; i++) {
        need(s, valtype_features(m, m->globals[i].type), section_offset(m, SEC_GLOBAL), "a global");
        scan_expr(s, &m->globals[i].init);
    }
    size_t off = section_offset(m, SEC_EXPORT);
    for (uint32_t i = 0; i < m->nexports; i++) {
        const Export *e = &m->exports[i];
        bool mut = e->kind == EXT_GLOBAL && e->index < m->nglobals && m->globals[e->index].mut;
        need(s, mut ? FT_MUTABLE_GLOBALS : 0, off, "an exported mutable global");
        need(s, e->kind == EXT_TAG ? FT_EXCEPTIONS : 0, off, "an exported tag");
    }
    need(s, m->ntags > m->ntag_imports ? FT_EXCEPTIONS : 0, section_offset(m, SEC_TAG), "a tag");
}

/* Contract: element segments by their form (flags 0: MVP; passive or with expressions:
 * bulk-memory; declarative, another table or another element type: reference-types),
 * data segments (passive: bulk-memory; another memory: multimemory), their offsets and
 * expressions. */
static void scan_segments(const Scan *s) {
    const Module *m = s->m;
    size_t off = section_offset(m, SEC_ELEM);
    for (uint32_t i = 0; i < m->nelems; i++) {
        const Elem *e = &m->elems[i];
        uint32_t ft = e->flags & 5 ? FT_BULK_MEMORY : 0;
        if ((e->flags & 3) == 3 || e->table || e->type.code != VT_FUNCREF) ft |= FT_REFERENCE_TYPES;
        if ((e->flags & 3) == 2 && !e->table) ft |= FT_BULK_MEMORY;
        need(s, ft | (valtype_features(m, e->type) & ~FT_REFERENCE_TYPES), off, "an element segment");
        if (!(e->flags & 1)) scan_expr(s, &e->offset);
        for (uint32_t k = 0; (e->flags & 4) && k < e->count; k++) scan_expr(s, &e->exprs[k]);
    }
    need(s, m->has_datacount ? FT_BULK_MEMORY : 0, section_offset(m, SEC_DATACOUNT), "the data count section");
    off = section_offset(m, SEC_DATA);
    for (uint32_t i = 0; i < m->ndatas; i++) {
        const Data *d = &m->datas[i];
        uint32_t ft = d->flags == 1 || (d->flags == 2 && !d->memory) ? FT_BULK_MEMORY : 0;
        need(s, ft | (d->memory ? FT_MULTIMEMORY : 0), off, "a data segment");
        if (d->flags != 1) scan_expr(s, &d->offset);
    }
}

/* Contract: the scan of the whole module in file order. */
static bool scan_module(const Scan *s) {
    s->err->file = s->m->file;
    if (setjmp(s->err->jb)) return false;
    const Module *m = s->m;
    scan_types(s);
    scan_imports(s);
    scan_tables_memories(s);
    scan_globals_exports(s);
    scan_segments(s);
    for (uint32_t i = m->nfunc_imports; i < m->nfuncs; i++) scan_body(s, &m->funcs[i]);
    return true;
}

bool module_check_features(const Module *m, uint32_t allowed, WsError *err) {
    Scan s = {m, allowed, err, NULL};
    return scan_module(&s);
}

bool module_features_used(const Module *m, uint32_t *used, WsError *err) {
    *used = 0;
    Scan s = {m, FT_ALL, err, used};
    return scan_module(&s);
}
