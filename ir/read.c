/* read.c - binary reader: bytes -> Module.
 *
 * Every section is parsed into the model; function bodies stay byte ranges (a light scan
 * of their sizes, or a full decode with ReadOptions.decode_code).  Every count is checked
 * against the bytes left before anything is allocated.  Errors longjmp to module_read,
 * which frees the module and returns false. */
#include "module.h"
#include "instr.h"
#include "leb.h"
#include <stdlib.h>

typedef struct Reader {
    Module *m;
    Cursor c;
    const ReadOptions *opt;
    uint32_t ndecls;          /* entries of the function section */
    uint32_t *decl_types;
    bool code_uses_data;
    int last_rank;
} Reader;

static int32_t import_slot(Reader *r) { return (int32_t)r->m->nimports; }

/* ---- types ---- */

static void read_functype(Cursor *c, Arena *a, TypeDef *t) {
    t->nparams = cur_count(c, 1, "parameter");
    t->params = arena_array(a, t->nparams, sizeof(ValType));
    for (uint32_t i = 0; i < t->nparams; i++) t->params[i] = read_valtype(c);
    t->nresults = cur_count(c, 1, "result");
    t->results = arena_array(a, t->nresults, sizeof(ValType));
    for (uint32_t i = 0; i < t->nresults; i++) t->results[i] = read_valtype(c);
}

static FieldType read_fieldtype(Cursor *c) {
    FieldType f;
    f.type = read_storagetype(c);
    size_t at = cur_offset(c);
    f.mut = cur_u8(c);
    if (f.mut > 1) { c->p = c->file_start + at; cur_fail(c, "malformed mutability"); }
    return f;
}

/* Contract: reads one comptype (func, struct or array) into t. */
static void read_comptype(Cursor *c, Arena *a, TypeDef *t) {
    size_t at = cur_offset(c);
    t->kind = cur_u8(c);
    switch (t->kind) {
    case COMP_FUNC: read_functype(c, a, t); break;
    case COMP_STRUCT:
        t->nfields = cur_count(c, 2, "field");
        t->fields = arena_array(a, t->nfields, sizeof(FieldType));
        for (uint32_t i = 0; i < t->nfields; i++) t->fields[i] = read_fieldtype(c);
        break;
    case COMP_ARRAY:
        t->nfields = 1;
        t->fields = arena_array(a, 1, sizeof(FieldType));
        t->fields[0] = read_fieldtype(c);
        break;
    default:
        c->p = c->file_start + at;
        cur_fail(c, "malformed composite type 0x%02x", t->kind);
    }
}

static void read_subtype(Cursor *c, Arena *a, TypeDef *t) {
    uint8_t b = c->p < c->end ? *c->p : 0;
    t->sub_form = SUB_BARE;
    if (b == SUB_OPEN || b == SUB_FINAL) {
        c->p++;
        t->sub_form = b;
        t->nsupers = cur_count(c, 1, "supertype");
        t->supers = arena_array(a, t->nsupers, sizeof(uint32_t));
        for (uint32_t i = 0; i < t->nsupers; i++) t->supers[i] = cur_u32(c);
    }
    read_comptype(c, a, t);
}

static TypeDef *push_type(Module *m, uint32_t *cap) {
    ws_grow((void **)&m->types, cap, m->ntypes + 1, sizeof(TypeDef));
    TypeDef *t = &m->types[m->ntypes++];
    memset(t, 0, sizeof *t);
    t->rec = m->nrecs;
    return t;
}

static void read_type_section(Reader *r, Cursor *c) {
    Module *m = r->m;
    uint32_t n = cur_count(c, 1, "type"), cap = 0;
    m->recs = arena_array(&m->arena, n, sizeof(RecGroup));
    for (uint32_t i = 0; i < n; i++) {
        RecGroup *g = &m->recs[m->nrecs];
        g->first = m->ntypes;
        if (c->p < c->end && *c->p == 0x4e) {
            c->p++;
            g->explicit_rec = true;
            g->count = cur_count(c, 1, "rec group type");
            for (uint32_t k = 0; k < g->count; k++) read_subtype(c, &m->arena, push_type(m, &cap));
        } else {
            g->count = 1;
            read_subtype(c, &m->arena, push_type(m, &cap));
        }
        m->nrecs++;
    }
}

/* ---- imports and the other declaration sections ---- */

static Limits read_limits(Cursor *c, bool is_table) {
    Limits l;
    size_t at = cur_offset(c);
    l.flags = cur_u8(c);
    if (l.flags > 7 || (is_table && (l.flags & LIM_SHARED))) {
        c->p = c->file_start + at;
        cur_fail(c, "malformed limits flags");
    }
    bool wide = l.flags & LIM_64;
    l.min = wide ? cur_u64(c) : cur_u32(c);
    l.max = (l.flags & LIM_HAS_MAX) ? (wide ? cur_u64(c) : cur_u32(c)) : 0;
    return l;
}

static uint8_t read_mut(Cursor *c) {
    size_t at = cur_offset(c);
    uint8_t v = cur_u8(c);
    if (v > 1) { c->p = c->file_start + at; cur_fail(c, "malformed mutability"); }
    return v;
}

static Tag read_tagtype(Cursor *c) {
    Tag t;
    size_t at = cur_offset(c);
    t.attr = cur_u8(c);
    if (t.attr != 0) { c->p = c->file_start + at; cur_fail(c, "malformed tag attribute"); }
    t.type = cur_u32(c);
    t.import = -1;
    return t;
}

/* Grow-on-demand slots for the index spaces (imports and definitions share them). */
typedef struct Spaces { uint32_t funcs, tables, mems, globals, tags, customs; } Spaces;

static void read_import(Reader *r, Cursor *c, Import *im, Spaces *cap) {
    Module *m = r->m;
    im->module.p = cur_name(c, &im->module.len);
    im->field.p = cur_name(c, &im->field.len);
    size_t at = cur_offset(c);
    im->kind = cur_u8(c);
    int32_t slot = import_slot(r);
    switch (im->kind) {
    case EXT_FUNC: {
        ws_grow((void **)&m->funcs, &cap->funcs, m->nfuncs + 1, sizeof(Func));
        Func *f = &m->funcs[m->nfuncs];
        memset(f, 0, sizeof *f);
        f->type = cur_u32(c);
        f->import = slot;
        im->index = m->nfuncs++;
        m->nfunc_imports++;
        break;
    }
    case EXT_TABLE: {
        ws_grow((void **)&m->tables, &cap->tables, m->ntables + 1, sizeof(Table));
        Table *t = &m->tables[m->ntables];
        memset(t, 0, sizeof *t);
        t->elem = read_reftype(c);
        t->limits = read_limits(c, true);
        t->import = slot;
        im->index = m->ntables++;
        m->ntable_imports++;
        break;
    }
    case EXT_MEMORY: {
        ws_grow((void **)&m->mems, &cap->mems, m->nmems + 1, sizeof(Memory));
        Memory *mem = &m->mems[m->nmems];
        mem->limits = read_limits(c, false);
        mem->import = slot;
        im->index = m->nmems++;
        m->nmem_imports++;
        break;
    }
    case EXT_GLOBAL: {
        ws_grow((void **)&m->globals, &cap->globals, m->nglobals + 1, sizeof(Global));
        Global *g = &m->globals[m->nglobals];
        memset(g, 0, sizeof *g);
        g->type = read_valtype(c);
        g->mut = read_mut(c);
        g->import = slot;
        im->index = m->nglobals++;
        m->nglobal_imports++;
        break;
    }
    case EXT_TAG: {
        ws_grow((void **)&m->tags, &cap->tags, m->ntags + 1, sizeof(Tag));
        m->tags[m->ntags] = read_tagtype(c);
        m->tags[m->ntags].import = slot;
        im->index = m->ntags++;
        m->ntag_imports++;
        break;
    }
    default:
        c->p = c->file_start + at;
        cur_fail(c, "malformed import kind");
    }
}

static void read_import_section(Reader *r, Cursor *c, Spaces *cap) {
    Module *m = r->m;
    uint32_t n = cur_count(c, 4, "import");
    m->imports = arena_array(&m->arena, n, sizeof(Import));
    for (uint32_t i = 0; i < n; i++) {
        read_import(r, c, &m->imports[i], cap);
        m->nimports++;
    }
}

static void read_function_section(Reader *r, Cursor *c) {
    r->ndecls = cur_count(c, 1, "function");
    r->decl_types = arena_array(&r->m->arena, r->ndecls, sizeof(uint32_t));
    for (uint32_t i = 0; i < r->ndecls; i++) r->decl_types[i] = cur_u32(c);
}

static Expr read_expr(Cursor *c) {
    Expr e;
    e.offset = (uint32_t)cur_offset(c);
    e.code = c->p;
    size_t small = instr_small_i32_expr(c->p, c->end);
    CodeInfo info;
    if (small) c->p += small;
    else expr_scan(c, &info);
    e.len = (uint32_t)(c->p - e.code);
    return e;
}

static void read_table_section(Reader *r, Cursor *c, Spaces *cap) {
    Module *m = r->m;
    uint32_t n = cur_count(c, 3, "table");
    ws_grow((void **)&m->tables, &cap->tables, m->ntables + n, sizeof(Table));
    for (uint32_t i = 0; i < n; i++) {
        Table *t = &m->tables[m->ntables++];
        memset(t, 0, sizeof *t);
        t->import = -1;
        if (c->p < c->end && *c->p == 0x40) {
            c->p++;
            size_t at = cur_offset(c);
            if (cur_u8(c) != 0) { c->p = c->file_start + at; cur_fail(c, "malformed table"); }
            t->has_init = true;
        }
        t->elem = read_reftype(c);
        t->limits = read_limits(c, true);
        if (t->has_init) t->init = read_expr(c);
    }
}

static void read_memory_section(Reader *r, Cursor *c, Spaces *cap) {
    Module *m = r->m;
    uint32_t n = cur_count(c, 2, "memory");
    ws_grow((void **)&m->mems, &cap->mems, m->nmems + n, sizeof(Memory));
    for (uint32_t i = 0; i < n; i++) {
        Memory *mem = &m->mems[m->nmems++];
        mem->limits = read_limits(c, false);
        mem->import = -1;
    }
}

static void read_global_section(Reader *r, Cursor *c, Spaces *cap) {
    Module *m = r->m;
    uint32_t n = cur_count(c, 3, "global");
    ws_grow((void **)&m->globals, &cap->globals, m->nglobals + n, sizeof(Global));
    for (uint32_t i = 0; i < n; i++) {
        Global *g = &m->globals[m->nglobals++];
        g->type = read_valtype(c);
        g->mut = read_mut(c);
        g->import = -1;
        g->init = read_expr(c);
    }
}

static void read_tag_section(Reader *r, Cursor *c, Spaces *cap) {
    Module *m = r->m;
    uint32_t n = cur_count(c, 2, "tag");
    ws_grow((void **)&m->tags, &cap->tags, m->ntags + n, sizeof(Tag));
    for (uint32_t i = 0; i < n; i++) m->tags[m->ntags++] = read_tagtype(c);
}

static void read_export_section(Reader *r, Cursor *c) {
    Module *m = r->m;
    uint32_t n = cur_count(c, 3, "export");
    m->exports = arena_array(&m->arena, n, sizeof(Export));
    for (uint32_t i = 0; i < n; i++) {
        Export *e = &m->exports[i];
        e->name.p = cur_name(c, &e->name.len);
        size_t at = cur_offset(c);
        e->kind = cur_u8(c);
        if (e->kind > EXT_TAG) { c->p = c->file_start + at; cur_fail(c, "malformed export kind"); }
        e->index = cur_u32(c);
    }
    m->nexports = n;
}

/* ---- element and data segments ---- */

static ValType read_elemkind(Cursor *c) {
    size_t at = cur_offset(c);
    if (cur_u8(c) != 0x00) { c->p = c->file_start + at; cur_fail(c, "malformed element kind"); }
    ValType t = {VT_FUNCREF, HT_FUNC};
    return t;
}

/* Contract: reads one element segment in any of the 8 encodings, keeping its flags. */
static void read_elem(Reader *r, Cursor *c, Elem *e) {
    Arena *a = &r->m->arena;
    size_t at = cur_offset(c);
    e->flags = cur_u32(c);
    if (e->flags > 7) { c->p = c->file_start + at; cur_fail(c, "malformed elements segment kind"); }
    bool passive = e->flags & 1, explicit_table = e->flags & 2, exprs = e->flags & 4;
    ValType funcref = {VT_FUNCREF, HT_FUNC};
    e->type = funcref;
    if (!passive && explicit_table) e->table = cur_u32(c);
    if (!passive) e->offset = read_expr(c);
    if (passive || explicit_table) e->type = exprs ? read_reftype(c) : read_elemkind(c);
    e->count = cur_count(c, 1, "element");
    if (exprs) {
        e->exprs = arena_array(a, e->count, sizeof(Expr));
        for (uint32_t i = 0; i < e->count; i++) e->exprs[i] = read_expr(c);
    } else {
        e->funcs = arena_array(a, e->count, sizeof(uint32_t));
        for (uint32_t i = 0; i < e->count; i++) e->funcs[i] = cur_u32(c);
    }
}

static void read_elem_section(Reader *r, Cursor *c) {
    Module *m = r->m;
    uint32_t n = cur_count(c, 2, "element segment");
    m->elems = arena_array(&m->arena, n, sizeof(Elem));
    for (uint32_t i = 0; i < n; i++) read_elem(r, c, &m->elems[i]);
    m->nelems = n;
}

static void read_data_section(Reader *r, Cursor *c) {
    Module *m = r->m;
    uint32_t n = cur_count(c, 2, "data segment");
    m->datas = arena_array(&m->arena, n, sizeof(Data));
    for (uint32_t i = 0; i < n; i++) {
        Data *d = &m->datas[i];
        size_t at = cur_offset(c);
        d->flags = cur_u32(c);
        if (d->flags > 2) { c->p = c->file_start + at; cur_fail(c, "malformed data segment kind"); }
        if (d->flags == 2) d->memory = cur_u32(c);
        if (d->flags != 1) d->offset = read_expr(c);
        d->bytes.len = cur_count(c, 1, "data byte");
        d->bytes.p = cur_bytes(c, d->bytes.len);
    }
    m->ndatas = n;
}

/* ---- code ---- */

static void scan_body(Reader *r, Cursor *c, Func *f) {
    Cursor body = *c;
    body.p = f->body.p;
    body.end = f->body.p + f->body.len;
    CodeInfo info;
    body_scan(&body, &info);
    if (info.uses_data_index) r->code_uses_data = true;
}

/* How far ahead of the body being read the next page is asked for: the walk from body
 * size to body size touches one cache line per body, each on a page the TLB has not
 * seen yet (ruby.wasm: 17,490 bodies in 11 MB, 4-5 ms of the read without it). */
enum { PREFETCH_AHEAD = 8192 };

static void read_code_section(Reader *r, Cursor *c, Spaces *cap) {
    Module *m = r->m;
    size_t at = cur_offset(c);
    uint32_t n = cur_count(c, 2, "function body");
    if (n != r->ndecls) {
        c->p = c->file_start + at;
        cur_fail(c, "function and code section have inconsistent lengths");
    }
    ws_grow((void **)&m->funcs, &cap->funcs, m->nfuncs + n, sizeof(Func));
    for (uint32_t i = 0; i < n; i++) {
        Func *f = &m->funcs[m->nfuncs++];
        memset(f, 0, sizeof *f);
        f->type = r->decl_types[i];
        f->import = -1;
        f->body.len = cur_count(c, 1, "function body size");
        f->body_offset = cur_offset(c);
        f->body.p = cur_bytes(c, f->body.len);
        if ((size_t)(c->end - c->p) > PREFETCH_AHEAD) WS_PREFETCH(c->p + PREFETCH_AHEAD);
        if (f->body.len == 0) { c->p = f->body.p; cur_fail(c, "unexpected end: empty function body"); }
        if (r->opt->decode_code) scan_body(r, c, f);
    }
}

/* ---- sections ---- */

static void read_custom(Reader *r, Cursor *c, size_t sec_start, Spaces *cap) {
    Module *m = r->m;
    Custom cs;
    memset(&cs, 0, sizeof cs);
    cs.name.p = cur_name(c, &cs.name.len);
    cs.payload.p = c->p;
    cs.payload.len = (uint32_t)cur_left(c);
    c->p = c->end;
    cs.after_rank = r->last_rank;
    cs.offset = sec_start;
    cs.size = (size_t)(c->end - (m->input + sec_start));
    ws_grow((void **)&m->customs, &cap->customs, m->ncustoms + 1, sizeof(Custom));
    m->customs[m->ncustoms++] = cs;
    if (custom_is(&cs, "linking")) m->is_object = true;
}

static void read_known_section(Reader *r, Cursor *c, uint8_t id, Spaces *cap) {
    Module *m = r->m;
    switch (id) {
    case SEC_TYPE: read_type_section(r, c); break;
    case SEC_IMPORT: read_import_section(r, c, cap); break;
    case SEC_FUNCTION: read_function_section(r, c); break;
    case SEC_TABLE: read_table_section(r, c, cap); break;
    case SEC_MEMORY: read_memory_section(r, c, cap); break;
    case SEC_GLOBAL: read_global_section(r, c, cap); break;
    case SEC_EXPORT: read_export_section(r, c); break;
    case SEC_START: m->has_start = true; m->start = cur_u32(c); break;
    case SEC_ELEM: read_elem_section(r, c); break;
    case SEC_DATACOUNT: m->has_datacount = true; m->datacount = cur_u32(c); break;
    case SEC_CODE: read_code_section(r, c, cap); break;
    case SEC_DATA: read_data_section(r, c); break;
    case SEC_TAG: read_tag_section(r, c, cap); break;
    }
}

/* Contract: reads one section (id, size, payload) at r->c, checking order and that the
 * payload is consumed exactly. */
static void read_section(Reader *r, Spaces *cap) {
    Cursor *c = &r->c;
    size_t start = cur_offset(c);
    uint8_t id = cur_u8(c);
    if (id >= SEC_ID_COUNT) { c->p--; cur_fail(c, "malformed section id %u", id); }
    uint32_t size = cur_u32(c);
    if (size > cur_left(c)) cur_fail(c, "section size %u exceeds the %zu bytes left (unexpected end)", size, cur_left(c));
    Cursor s = cur_sub(c, size);
    if (id == SEC_CUSTOM) { read_custom(r, &s, start, cap); return; }
    int rank = section_rank(id);
    if (rank <= r->last_rank) {
        c->p = c->file_start + start;
        cur_fail(c, "unexpected content after last section: %s section out of order", section_name(id));
    }
    r->last_rank = rank;
    r->m->present[rank] = true;
    r->m->section_size[rank] = (size_t)(s.end - (r->m->input + start));
    r->m->section_payload[rank].p = s.p;
    r->m->section_payload[rank].len = (uint32_t)(s.end - s.p);
    read_known_section(r, &s, id, cap);
    if (!cur_eof(&s)) cur_fail(&s, "section size mismatch: %zu bytes left in %s section", cur_left(&s), section_name(id));
}

static void check_module_end(Reader *r) {
    Module *m = r->m;
    Cursor *c = &r->c;
    if (r->ndecls && !m->present[section_rank(SEC_CODE)])
        cur_fail(c, "function and code section have inconsistent lengths");
    if (m->has_datacount && m->datacount != m->ndatas)
        cur_fail(c, "data count and data section have inconsistent lengths");
    if (r->code_uses_data && !m->has_datacount) cur_fail(c, "data count section required");
}

/* Contract: the custom sections after the input's last known section stay after every
 * known section, also one a pass adds (the name section after a global section the
 * metering pass adds, where wabt and the name section's own rules want it). */
static void keep_trailing_customs_last(Module *m, int last_rank) {
    for (uint32_t i = 0; i < m->ncustoms; i++)
        if (m->customs[i].after_rank == last_rank) m->customs[i].after_rank = RANK_COUNT - 1;
}

static void read_header(Cursor *c) {
    static const uint8_t magic[4] = {0, 'a', 's', 'm'};
    static const uint8_t version[4] = {1, 0, 0, 0};
    if (cur_left(c) < 4 || memcmp(c->p, magic, 4) != 0) cur_fail(c, "magic header not detected");
    c->p += 4;
    if (cur_left(c) < 4) cur_fail(c, "unexpected end: unknown binary version");
    if (memcmp(c->p, version, 4) != 0) cur_fail(c, "unknown binary version");
    c->p += 4;
}

bool module_read(Module *m, const uint8_t *bytes, size_t len, const char *file,
                 const ReadOptions *opt, WsError *err) {
    static const ReadOptions defaults = {0};
    memset(m, 0, sizeof *m);
    m->file = file;
    m->input = bytes;
    m->input_len = len;
    err->file = file;
    Reader r;
    memset(&r, 0, sizeof r);
    r.m = m;
    r.opt = opt ? opt : &defaults;
    r.c.file_start = bytes;
    r.c.p = bytes;
    r.c.end = bytes + len;
    r.c.err = err;
    Spaces cap = {0};
    if (setjmp(err->jb)) {
        module_free(m);
        return false;
    }
    if (len > MODULE_MAX_BYTES) ws_fail(err, 0, "module too large: %zu bytes (at most 4 GiB - 1)", len);
    read_header(&r.c);
    while (!cur_eof(&r.c)) read_section(&r, &cap);
    check_module_end(&r);
    keep_trailing_customs_last(m, r.last_rank);
    return true;
}

void module_free(Module *m) {
    module_drop_refs_cache(m);
    for (uint32_t i = 0; i < m->nowned; i++) free(m->owned[i]);
    free(m->owned);
    free(m->types);
    free(m->funcs);
    free(m->tables);
    free(m->mems);
    free(m->globals);
    free(m->tags);
    free(m->customs);
    arena_free(&m->arena);
    memset(m, 0, sizeof *m);
}

bool module_decode_code(const Module *m, WsError *err) {
    err->file = m->file;
    if (setjmp(err->jb)) return false;
    bool uses_data = false;
    for (uint32_t i = m->nfunc_imports; i < m->nfuncs; i++) {
        const Func *f = &m->funcs[i];
        Cursor c = {m->input, f->body.p, f->body.p + f->body.len, err};
        CodeInfo info;
        body_scan(&c, &info);
        uses_data |= info.uses_data_index;
    }
    if (uses_data && !m->has_datacount) ws_fail(err, m->input_len, "data count section required");
    return true;
}
