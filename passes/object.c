/* object.c - keeps a relocatable object linkable after custom sections were removed.
 *
 * In an object, the "linking" section's SECTION symbols and the first field of every
 * reloc.* section are section indices: positions among ALL sections of the file, custom
 * sections included.  Removing a custom section shifts every later index:
 *
 *   before: 0 type .. 5 code 6 data 7 .debug_info 8 .debug_str 9 linking 10 reloc.CODE
 *           11 reloc..debug_info      symbols: #0 main, #1 SECTION 8, #2 f
 *           reloc.CODE: target 5, entries (type, offset, symbol #2)
 *   --strip-debug:
 *   after:  0 type .. 5 code 6 data 7 linking 8 reloc.CODE
 *           symbols: #0 main, #1 f       reloc.CODE: target 5, entries (..., symbol #1)
 *
 * object_fixup drops SECTION symbols of removed sections, renumbers symbols everywhere
 * (symbol table, init functions, relocation entries), remaps section indices (SECTION
 * symbols, COMDAT section entries, reloc targets), and removes reloc sections whose
 * target went.  A removal that would leave a dangling reference (a kept relocation using
 * a dropped symbol, a kept section losing its relocations, the linking section itself)
 * is undone with an error message: the object written always links.
 *
 * Stateless: linking and reloc.* payloads are always rebuilt from the INPUT bytes (whose
 * indices are the input's), using the current `removed` flags, so repeated calls (one
 * per strip pass) compose.  No other pass edits these payloads.  Malformed or unknown
 * linking/reloc data leaves the object exactly as read (every removal undone) with a
 * warning. */
#include "pass.h"
#include "../ir/leb.h"

enum { LINK_SEGMENT_INFO = 5, LINK_INIT_FUNCS = 6, LINK_COMDAT_INFO = 7, LINK_SYMBOL_TABLE = 8 };
enum { SYM_FUNCTION = 0, SYM_DATA = 1, SYM_GLOBAL = 2, SYM_SECTION = 3, SYM_TAG = 4, SYM_TABLE = 5 };
enum { SYMF_UNDEFINED = 0x10, SYMF_EXPLICIT_NAME = 0x40 };
enum { COMDAT_SECTION = 5 };
enum { R_TYPE_INDEX_LEB = 6, R_LAST = 27 };
#define OBJ_NONE UINT32_MAX

/* One relocation section of the input. */
typedef struct ObjReloc {
    uint32_t custom;    /* index in m->customs */
    uint32_t target;    /* input section index it applies to */
    uint32_t nrefs;
    uint32_t *refs;     /* symbol indices its entries use */
} ObjReloc;

typedef struct ObjState {
    PassCtx *ctx;
    Module *m;
    WsError err;
    Buf sub;                /* scratch: one linking subsection */
    Buf entries;            /* scratch: one COMDAT's entries */
    uint32_t norder;
    int32_t *order;         /* sections as written: custom index, or -1 for a known one */
    int32_t *order_old;     /* their input section index, -1 if not from the input */
    uint32_t nsecs;         /* sections in the input */
    int32_t *sec_custom;    /* input section index -> custom index, -1 for a known one */
    uint8_t *sec_id;        /* input section index -> section id */
    int32_t *sec_new;       /* input section index -> output index, -1 when removed */
    int32_t linking;        /* custom index of the linking section */
    uint32_t nsyms;
    uint32_t *sym_section;  /* SECTION symbols: input section index; OBJ_NONE otherwise */
    int32_t *sym_new;       /* input symbol index -> output index, -1 when dropped */
    uint32_t nrelocs;
    ObjReloc *relocs;
} ObjState;

/* ---- section numbering ---- */

static bool obj_from_input(const Module *m, const Custom *c) {
    return c->size >= 3 && c->offset + c->size <= m->input_len && m->input[c->offset] == 0;
}

/* Contract: the payload a custom section had in the input (its current one if it was
 * not read from the input). */
static Bytes obj_original(const Module *m, const Custom *c) {
    if (!obj_from_input(m, c)) return c->payload;
    const uint8_t *p = m->input + c->offset + 1, *end = m->input + c->offset + c->size;
    leb_u64_raw(&p);                    /* section size */
    p += leb_u64_raw(&p);               /* name (the reader validated all of it) */
    Bytes b = {p, (uint32_t)(end - p)};
    return b;
}

static void obj_push(ObjState *o, int32_t custom, bool from_input) {
    o->order[o->norder] = custom;
    o->order_old[o->norder++] = from_input ? (int32_t)o->nsecs++ : -1;
}

static void obj_push_customs(ObjState *o, int rank) {
    for (uint32_t i = 0; i < o->m->ncustoms; i++)
        if (o->m->customs[i].after_rank == rank)
            obj_push(o, (int32_t)i, obj_from_input(o->m, &o->m->customs[i]));
}

/* Contract: lists the sections in the order ir/write.c writes them (customs after rank 0,
 * then each present known section followed by the customs after it) and numbers the
 * input's ones.  Objects keep their known sections as read, so present[] is what is
 * written. */
static void obj_number_sections(ObjState *o) {
    Module *m = o->m;
    size_t cap = (size_t)m->ncustoms + RANK_COUNT;
    o->order = arena_array(&m->arena, cap, sizeof(int32_t));
    o->order_old = arena_array(&m->arena, cap, sizeof(int32_t));
    uint8_t *ids = arena_array(&m->arena, cap, 1);
    obj_push_customs(o, 0);
    for (int rank = 1; rank < RANK_COUNT; rank++) {
        if (m->present[rank]) {
            ids[o->norder] = section_id_of_rank(rank);
            obj_push(o, -1, true);
        }
        obj_push_customs(o, rank);
    }
    o->sec_custom = arena_array(&m->arena, o->nsecs + 1, sizeof(int32_t));
    o->sec_id = arena_array(&m->arena, o->nsecs + 1, 1);
    o->sec_new = arena_array(&m->arena, o->nsecs + 1, sizeof(int32_t));
    for (uint32_t k = 0; k < o->norder; k++) {
        if (o->order_old[k] < 0) continue;
        o->sec_custom[o->order_old[k]] = o->order[k];
        o->sec_id[o->order_old[k]] = ids[k];
    }
}

static bool obj_sec_live(const ObjState *o, uint32_t sec) {
    int32_t c = o->sec_custom[sec];
    return c < 0 || !o->m->customs[c].removed;
}

/* Contract: fills sec_new from the current removed flags. */
static void obj_map_sections(ObjState *o) {
    int32_t n = 0;
    for (uint32_t k = 0; k < o->norder; k++) {
        bool live = o->order[k] < 0 || !o->m->customs[o->order[k]].removed;
        if (o->order_old[k] >= 0) o->sec_new[o->order_old[k]] = live ? n : -1;
        if (live) n++;
    }
}

/* ---- entries of the symbol table and of reloc sections ---- */

/* Where an entry's remappable index lies, so the rest is copied byte for byte. */
typedef struct ObjEntry {
    const uint8_t *start, *index_at, *index_end, *end;
    uint32_t kind;      /* symbol kind, or relocation type */
    uint32_t index;
    bool has_index;     /* symbols: an index is present; relocs: it is a symbol index */
} ObjEntry;

static void obj_skip_name(Cursor *c) { cur_bytes(c, cur_u32(c)); }

static void obj_entry_index(Cursor *c, ObjEntry *e) {
    e->index_at = c->p;
    e->index = cur_u32(c);
    e->index_end = c->p;
    e->has_index = true;
}

/* Contract: reads one symbol table entry (tool-conventions Linking.md, LLVM's
 * WasmObjectFile::parseLinkingSectionSymtab); unknown kinds are malformed. */
static void obj_read_symbol(Cursor *c, ObjEntry *e) {
    memset(e, 0, sizeof *e);
    e->start = c->p;
    e->kind = cur_u8(c);
    uint32_t flags = cur_u32(c);
    bool defined = !(flags & SYMF_UNDEFINED);
    switch (e->kind) {
    case SYM_FUNCTION: case SYM_GLOBAL: case SYM_TAG: case SYM_TABLE:
        obj_entry_index(c, e);
        if (defined || (flags & SYMF_EXPLICIT_NAME)) obj_skip_name(c);
        break;
    case SYM_DATA:
        obj_skip_name(c);
        if (defined) { cur_u32(c); cur_u64(c); cur_u64(c); } /* segment, offset, size */
        break;
    case SYM_SECTION: obj_entry_index(c, e); break;
    default: c->p = e->start; cur_fail(c, "unknown symbol kind %u", e->kind);
    }
    e->end = c->p;
}

/* Addend width of each relocation type (0: none), from LLVM's WasmRelocs.def and
 * wasm::relocTypeHasAddend; R_WASM_TYPE_INDEX_LEB's index is a type, not a symbol. */
static const uint8_t obj_addend_bits[R_LAST + 1] = {
    [3] = 32, [4] = 32, [5] = 32, [8] = 32, [9] = 32, [11] = 32, [21] = 32, [23] = 32,
    [14] = 64, [15] = 64, [16] = 64, [17] = 64, [22] = 64, [25] = 64, [27] = 64,
};

/* Contract: reads one relocation entry: type, offset, index, and an addend if the type
 * has one; unknown types are malformed. */
static void obj_read_reloc(Cursor *c, ObjEntry *e) {
    memset(e, 0, sizeof *e);
    e->start = c->p;
    e->kind = cur_u32(c);
    if (e->kind > R_LAST) { c->p = e->start; cur_fail(c, "unknown relocation type %u", e->kind); }
    cur_u32(c);                                     /* offset */
    obj_entry_index(c, e);
    e->has_index = e->kind != R_TYPE_INDEX_LEB;
    if (obj_addend_bits[e->kind] == 32) cur_s32(c);
    if (obj_addend_bits[e->kind] == 64) cur_s64(c);
    e->end = c->p;
}

/* Contract: appends the entry with its index replaced by `index` (the original bytes
 * when it is unchanged). */
static void obj_put_entry(Buf *out, const ObjEntry *e, uint32_t index) {
    if (!e->index_at || index == e->index) { buf_bytes(out, e->start, (size_t)(e->end - e->start)); return; }
    buf_bytes(out, e->start, (size_t)(e->index_at - e->start));
    buf_u32(out, index);
    buf_bytes(out, e->index_end, (size_t)(e->end - e->index_end));
}

static Cursor obj_cursor(ObjState *o, Bytes b) { return module_cursor(o->m, b.p, b.len, &o->err); }

/* ---- reading: symbols and the references relocations make ---- */

/* Contract: reads the symbol table subsection: which symbols are SECTION symbols. */
static void obj_read_symtab(ObjState *o, Cursor *c) {
    if (o->sym_section) cur_fail(c, "two symbol tables");
    o->nsyms = cur_count(c, 3, "symbol");
    o->sym_section = arena_array(&o->m->arena, o->nsyms + 1, sizeof(uint32_t));
    o->sym_new = arena_array(&o->m->arena, o->nsyms + 1, sizeof(int32_t));
    for (uint32_t i = 0; i < o->nsyms; i++) {
        ObjEntry e;
        obj_read_symbol(c, &e);
        o->sym_section[i] = e.kind == SYM_SECTION ? e.index : OBJ_NONE;
        if (e.kind == SYM_SECTION && e.index >= o->nsecs) cur_fail(c, "section symbol %u: no section %u", i, e.index);
    }
}

/* Contract: reads the linking section's symbol table (other subsections are checked
 * when rewritten). */
static void obj_read_linking(ObjState *o, Cursor *c) {
    uint32_t version = cur_u32(c);
    if (version != 2) cur_fail(c, "linking section version %u (only 2 is known)", version);
    while (!cur_eof(c)) {
        uint8_t type = cur_u8(c);
        Cursor s = cur_sub(c, cur_u32(c));
        if (type != LINK_SYMBOL_TABLE) continue;
        obj_read_symtab(o, &s);
        if (!cur_eof(&s)) cur_fail(&s, "symbol table ended prematurely");
    }
}

/* Contract: reads one reloc section: its target and the symbols its entries use. */
static void obj_read_relocs(ObjState *o, Cursor *c, uint32_t custom) {
    ObjReloc *r = &o->relocs[o->nrelocs++];
    r->custom = custom;
    r->target = cur_u32(c);
    if (r->target >= o->nsecs) cur_fail(c, "relocations for section %u, which does not exist", r->target);
    uint32_t n = cur_count(c, 3, "relocation");
    r->refs = arena_array(&o->m->arena, (size_t)n + 1, sizeof(uint32_t));
    for (uint32_t i = 0; i < n; i++) {
        ObjEntry e;
        obj_read_reloc(c, &e);
        if (!e.has_index) continue;
        if (e.index >= o->nsyms) cur_fail(c, "relocation uses symbol %u of %u", e.index, o->nsyms);
        r->refs[r->nrefs++] = e.index;
    }
    if (!cur_eof(c)) cur_fail(c, "reloc section ended prematurely");
}

/* Contract: reads the input's linking and reloc.* sections (removed ones too); false
 * with o->err filled when they are malformed. */
static bool obj_read(ObjState *o) {
    Module *m = o->m;
    o->linking = -1;
    for (uint32_t i = 0; i < m->ncustoms && o->linking < 0; i++)
        if (custom_is(&m->customs[i], "linking")) o->linking = (int32_t)i;
    o->relocs = arena_array(&m->arena, (size_t)m->ncustoms + 1, sizeof(ObjReloc));
    if (setjmp(o->err.jb)) return false;
    if (o->linking < 0) ws_fail(&o->err, 0, "no linking section");
    Cursor c = obj_cursor(o, obj_original(m, &m->customs[o->linking]));
    obj_read_linking(o, &c);
    for (uint32_t i = 0; i < m->ncustoms; i++) {
        if (!custom_has_prefix(&m->customs[i], "reloc.")) continue;
        c = obj_cursor(o, obj_original(m, &m->customs[i]));
        obj_read_relocs(o, &c, i);
    }
    return true;
}

/* ---- settling which sections stay ---- */

/* Contract: the name of input section sec, for messages. */
static Bytes obj_sec_name(const ObjState *o, uint32_t sec) {
    int32_t c = o->sec_custom[sec];
    if (c >= 0) return o->m->customs[c].name;
    const char *name = section_name(o->sec_id[sec]);
    Bytes b = {(const uint8_t *)name, (uint32_t)strlen(name)};
    return b;
}

/* Contract: puts custom section i back (as read), undoing its count in the stats. */
static void obj_restore(ObjState *o, uint32_t i) {
    Custom *c = &o->m->customs[i];
    c->removed = false;
    c->payload = obj_original(o->m, c);
    PassStats *st = &o->ctx->stats;
    if (st->customs_removed) st->customs_removed--;
    st->custom_bytes_removed -= st->custom_bytes_removed < c->size ? st->custom_bytes_removed : c->size;
}

static void obj_remove(ObjState *o, uint32_t i) {
    Custom *c = &o->m->customs[i];
    c->removed = true;
    o->ctx->stats.customs_removed++;
    o->ctx->stats.custom_bytes_removed += c->size;
}

/* Contract: undoes the removal of custom section i with a warning saying why (the run
 * goes on: the object is written with the section, still linkable). */
static void obj_refuse(ObjState *o, uint32_t i, const char *why) {
    const Custom *c = &o->m->customs[i];
    fprintf(stderr, "wasmslim: warning: kept custom section \"%.*s\": a relocatable object cannot lose it: %s\n",
            (int)c->name.len, (const char *)c->name.p, why);
    obj_restore(o, i);
}

/* Contract: one round over the reloc sections: drops those whose target went, keeps
 * those whose target stays.  True if something changed. */
static bool obj_settle_relocs(ObjState *o) {
    bool changed = false;
    for (uint32_t k = 0; k < o->nrelocs; k++) {
        const ObjReloc *r = &o->relocs[k];
        Custom *c = &o->m->customs[r->custom];
        bool target_live = obj_sec_live(o, r->target);
        Bytes target = obj_sec_name(o, r->target);
        if (!c->removed && !target_live) {
            obj_remove(o, r->custom);
            if (o->ctx->log)
                fprintf(o->ctx->log, "wasmslim: removed custom section \"%.*s\" (relocations for the removed \"%.*s\")\n",
                        (int)c->name.len, (const char *)c->name.p, (int)target.len, (const char *)target.p);
            changed = true;
        } else if (c->removed && target_live) {
            char why[300];
            snprintf(why, sizeof why, "the section it relocates (\"%.*s\") is kept", (int)target.len, (const char *)target.p);
            obj_refuse(o, r->custom, why);
            changed = true;
        }
    }
    return changed;
}

/* Contract: one round over the kept reloc sections: a removed section whose SECTION
 * symbol they use is put back.  True if something changed. */
static bool obj_settle_symbols(ObjState *o) {
    bool changed = false;
    for (uint32_t k = 0; k < o->nrelocs; k++) {
        const ObjReloc *r = &o->relocs[k];
        if (o->m->customs[r->custom].removed) continue;
        for (uint32_t j = 0; j < r->nrefs; j++) {
            uint32_t sec = o->sym_section[r->refs[j]];
            if (sec == OBJ_NONE || obj_sec_live(o, sec)) continue;
            Bytes by = o->m->customs[r->custom].name;
            char why[300];
            snprintf(why, sizeof why, "relocations in \"%.*s\" use its section symbol", (int)by.len, (const char *)by.p);
            obj_refuse(o, (uint32_t)o->sec_custom[sec], why);
            changed = true;
        }
    }
    return changed;
}

/* Contract: settles the removed flags so that nothing kept refers to something removed. */
static void obj_settle(ObjState *o) {
    if (o->m->customs[o->linking].removed)
        obj_refuse(o, (uint32_t)o->linking, "wasm-ld needs it");
    bool changed = true;
    while (changed) {
        changed = obj_settle_relocs(o);
        changed |= obj_settle_symbols(o);
    }
}

/* Contract: symbols keep their order; SECTION symbols of removed sections go. */
static void obj_map_symbols(ObjState *o) {
    int32_t n = 0;
    for (uint32_t i = 0; i < o->nsyms; i++) {
        uint32_t sec = o->sym_section[i];
        o->sym_new[i] = sec != OBJ_NONE && o->sec_new[sec] < 0 ? -1 : n++;
    }
}

/* ---- rewriting ---- */

static uint32_t obj_new_symbol(ObjState *o, Cursor *c, uint32_t sym) {
    if (sym >= o->nsyms) cur_fail(c, "symbol %u of %u", sym, o->nsyms);
    if (o->sym_new[sym] < 0) cur_fail(c, "internal error: symbol %u was dropped but is used", sym);
    return (uint32_t)o->sym_new[sym];
}

static void obj_rewrite_symtab(ObjState *o, Cursor *c, Buf *out) {
    uint32_t n = cur_count(c, 3, "symbol"), kept = 0;
    if (n != o->nsyms) cur_fail(c, "symbol table changed while read");
    for (uint32_t i = 0; i < n; i++) kept += o->sym_new[i] >= 0;
    buf_u32(out, kept);
    for (uint32_t i = 0; i < n; i++) {
        ObjEntry e;
        obj_read_symbol(c, &e);
        if (o->sym_new[i] < 0) continue;
        obj_put_entry(out, &e, e.kind == SYM_SECTION ? (uint32_t)o->sec_new[e.index] : e.index);
    }
}

static void obj_rewrite_inits(ObjState *o, Cursor *c, Buf *out) {
    uint32_t n = cur_count(c, 2, "init function");
    buf_u32(out, n);
    for (uint32_t i = 0; i < n; i++) {
        buf_u32(out, cur_u32(c));                       /* priority */
        buf_u32(out, obj_new_symbol(o, c, cur_u32(c)));
    }
}

/* Contract: rewrites one COMDAT: section entries are remapped, or dropped with their
 * section. */
static void obj_rewrite_comdat(ObjState *o, Cursor *c, Buf *out) {
    uint32_t len = cur_u32(c);
    buf_name(out, cur_bytes(c, len), len);
    buf_u32(out, cur_u32(c));                           /* flags */
    uint32_t n = cur_count(c, 2, "comdat entry"), kept = 0;
    o->entries.len = 0;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t kind = cur_u32(c), index = cur_u32(c);
        if (kind == COMDAT_SECTION) {
            if (index >= o->nsecs) cur_fail(c, "comdat entry for section %u, which does not exist", index);
            if (o->sec_new[index] < 0) continue;
            index = (uint32_t)o->sec_new[index];
        }
        buf_u32(&o->entries, kind);
        buf_u32(&o->entries, index);
        kept++;
    }
    buf_u32(out, kept);
    buf_bytes(out, o->entries.data, o->entries.len);
}

static void obj_rewrite_comdats(ObjState *o, Cursor *c, Buf *out) {
    uint32_t n = cur_count(c, 3, "comdat");
    buf_u32(out, n);
    for (uint32_t i = 0; i < n; i++) obj_rewrite_comdat(o, c, out);
}

/* Contract: rebuilds the linking payload with the section and symbol maps; unknown and
 * unchanged subsections are copied as read. */
static void obj_rewrite_linking(ObjState *o, Cursor *c, Buf *out) {
    buf_u32(out, cur_u32(c));                           /* version, checked when read */
    while (!cur_eof(c)) {
        const uint8_t *start = c->p;
        uint8_t type = cur_u8(c);
        Cursor s = cur_sub(c, cur_u32(c));
        const uint8_t *content = s.p;
        o->sub.len = 0;
        switch (type) {
        case LINK_SYMBOL_TABLE: obj_rewrite_symtab(o, &s, &o->sub); break;
        case LINK_INIT_FUNCS: obj_rewrite_inits(o, &s, &o->sub); break;
        case LINK_COMDAT_INFO: obj_rewrite_comdats(o, &s, &o->sub); break;
        default: buf_bytes(&o->sub, s.p, cur_left(&s)); s.p = s.end; break;
        }
        if (!cur_eof(&s)) cur_fail(&s, "linking subsection %u ended prematurely", type);
        if (o->sub.len == (size_t)(s.end - content) && (!o->sub.len || !memcmp(o->sub.data, content, o->sub.len))) {
            buf_bytes(out, start, (size_t)(s.end - start));     /* unchanged: as read */
            continue;
        }
        buf_u8(out, type);
        buf_u32(out, (uint32_t)o->sub.len);
        buf_bytes(out, o->sub.data, o->sub.len);
    }
}

static void obj_rewrite_relocs(ObjState *o, Cursor *c, Buf *out) {
    uint32_t target = cur_u32(c);
    buf_u32(out, (uint32_t)o->sec_new[target]);
    uint32_t n = cur_count(c, 3, "relocation");
    buf_u32(out, n);
    for (uint32_t i = 0; i < n; i++) {
        ObjEntry e;
        obj_read_reloc(c, &e);
        obj_put_entry(out, &e, e.has_index ? obj_new_symbol(o, c, e.index) : e.index);
    }
}

/* Contract: rebuilds one payload (linking or reloc) from its input bytes into the arena. */
static Bytes obj_rebuild(ObjState *o, uint32_t custom, Buf *out) {
    Cursor c = obj_cursor(o, obj_original(o->m, &o->m->customs[custom]));
    out->len = 0;
    if ((int32_t)custom == o->linking) obj_rewrite_linking(o, &c, out);
    else obj_rewrite_relocs(o, &c, out);
    Bytes b = {out->len ? arena_dup(&o->m->arena, out->data, out->len) : c.p, (uint32_t)out->len};
    return b;
}

/* Contract: rebuilds the linking section and every kept reloc section, then installs
 * them all; false (nothing installed) with o->err filled on malformed data. */
static bool obj_rewrite(ObjState *o, Buf *out) {
    Module *m = o->m;
    Bytes *fresh = arena_array(&m->arena, (size_t)m->ncustoms + 1, sizeof(Bytes));
    if (setjmp(o->err.jb)) return false;
    fresh[o->linking] = obj_rebuild(o, (uint32_t)o->linking, out);
    for (uint32_t k = 0; k < o->nrelocs; k++)
        if (!m->customs[o->relocs[k].custom].removed)
            fresh[o->relocs[k].custom] = obj_rebuild(o, o->relocs[k].custom, out);
    m->customs[o->linking].payload = fresh[o->linking];
    for (uint32_t k = 0; k < o->nrelocs; k++)
        if (!m->customs[o->relocs[k].custom].removed)
            m->customs[o->relocs[k].custom].payload = fresh[o->relocs[k].custom];
    return true;
}

/* Contract: malformed linking data: puts every removed custom section back, so the
 * object is written as it was read, and says so. */
static void obj_keep_all(ObjState *o) {
    fprintf(stderr, "%s:0x%zx: warning: cannot renumber the linking/reloc sections (%s); "
            "no custom section removed from this object\n",
            o->m->file ? o->m->file : "<input>", o->err.offset, o->err.msg);
    for (uint32_t i = 0; i < o->m->ncustoms; i++) {
        Custom *c = &o->m->customs[i];
        if (c->removed) obj_restore(o, i);
        else if (custom_is(c, "linking") || custom_has_prefix(c, "reloc.")) c->payload = obj_original(o->m, c);
    }
}

/* Contract: decodes the u32 LEB at the start of b; false if it is not a complete one. */
static bool obj_peek_u32(Bytes b, uint32_t *v) {
    uint64_t x = 0;
    for (uint32_t i = 0; i < b.len && i < 5; i++) {
        x |= (uint64_t)(b.p[i] & 0x7f) << (7 * i);
        if (!(b.p[i] & 0x80)) { *v = (uint32_t)x; return x <= UINT32_MAX; }
    }
    return false;
}

/* Contract: true when input section index sec is a known section (or does not exist). */
static bool obj_index_is_known(const Module *m, uint32_t sec) {
    uint32_t n = 0;
    for (int rank = 0; rank < RANK_COUNT; rank++) {
        if (rank > 0 && m->present[rank] && n++ == sec) return true;
        for (uint32_t i = 0; i < m->ncustoms; i++)
            if (m->customs[i].after_rank == rank && obj_from_input(m, &m->customs[i]) && n++ == sec)
                return false;
    }
    return true;
}

bool object_reloc_for_known(const Module *m, const Custom *c) {
    if (!m->is_object || !custom_has_prefix(c, "reloc.")) return false;
    uint32_t target;
    return !obj_peek_u32(obj_original(m, c), &target) || obj_index_is_known(m, target);
}

void object_fixup(PassCtx *ctx, Module *m) {
    if (!m->is_object) return;
    ObjState *o = arena_zalloc(&m->arena, sizeof *o);   /* not a local: survives longjmp */
    o->ctx = ctx;
    o->m = m;
    o->err.file = m->file;
    Buf out = {0};
    obj_number_sections(o);
    bool ok = obj_read(o);
    if (ok) {
        obj_settle(o);
        obj_map_sections(o);
        obj_map_symbols(o);
        ok = obj_rewrite(o, &out);
    }
    if (!ok) obj_keep_all(o);
    buf_free(&out);
    buf_free(&o->sub);
    buf_free(&o->entries);
}
