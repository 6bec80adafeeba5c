/* write.c - Module -> bytes, in canonical encoding.
 *
 * Section sizes are recomputed, every LEB128 is minimal, custom sections are written
 * back after the known section they followed.  Function bodies are re-encoded with
 * minimal LEBs (CODE_CANONICAL) or copied exactly (CODE_RAW: relocatable objects and
 * modules whose DWARF is kept, since both point at code offsets). */
#include "module.h"
#include "instr.h"
#include "names.h"
#include "leb.h"
#include "pool.h"
#include <stdatomic.h>
#include <stdlib.h>

/* Work shared by the threads of one parallel step over the bodies. */
typedef struct CodeJob {
    struct Writer *w;
    uint32_t first;          /* body index of item 0 */
    Buf *out;                /* per item (write step) or NULL (sizing step: per worker) */
    Buf *scratch;            /* per worker */
    WsError *errors;         /* per worker */
    uint32_t *failed_at;     /* per worker: body index + 1 of its first malformed body */
} CodeJob;

/* Pending output is gathered into up to MAX_PIECES pieces and handed over once it
 * reaches FLUSH_BYTES; runs shorter than COPY_BELOW are copied into the stage. */
enum { MAX_PIECES = 256, FLUSH_BYTES = 1 << 20, COPY_BELOW = 512 };

/* A pending run: p, or (p NULL) the stage's bytes from offset off (the stage may move
 * while it grows). */
typedef struct Piece {
    const uint8_t *p;
    size_t off, n;
} Piece;

typedef struct Writer {
    const Module *m;
    const WriteOptions *opt;
    Cursor cur;         /* cursor template for re-reading input bytes */
    CodeJob job;        /* parallel re-encoding of bodies */
    Buf *batch;         /* one batch of re-encoded bodies */
    Buf section;        /* scratch for one small section's payload */
    Buf stage;          /* small bytes not yet handed to the sink */
    size_t staged_upto; /* stage bytes [0, staged_upto) are already in pieces[] */
    Piece pieces[MAX_PIECES]; /* the pending output, in order */
    uint32_t npieces;
    size_t pending_ext; /* bytes of pending pieces outside the stage */
    WriteSink *sink;
    WriteLayout *layout;
    uint32_t *body_len; /* code sizing pass: canonical length of each defined body */
    uint8_t *body_same; /* ... and whether it equals the input bytes */
    uint8_t **body_kept; /* ... or its re-encoded bytes, kept while the budget lasts */
    uint8_t *keep_area;  /* where they are kept: KEEP_BYTES, pages touched as used */
    atomic_size_t keep_used;
    bool group_locals;  /* nothing names local indices: locals may be grouped by type */
} Writer;


static void write_expr(Writer *w, Buf *b, Expr e) {
    if (instr_small_i32_expr(e.code, e.code + e.len) == e.len) { /* canonical as it is */
        buf_bytes(b, e.code, e.len);
        return;
    }
    Cursor c = w->cur;
    c.p = e.code;
    c.end = e.code + e.len;
    expr_canonicalize(&c, b);
}

static void write_limits(Buf *b, Limits l) {
    buf_u8(b, l.flags);
    buf_u64(b, l.min);
    if (l.flags & LIM_HAS_MAX) buf_u64(b, l.max);
}

static void write_subtype(Buf *b, const TypeDef *t) {
    if (t->sub_form != SUB_BARE) {
        buf_u8(b, t->sub_form);
        buf_u32(b, t->nsupers);
        for (uint32_t i = 0; i < t->nsupers; i++) buf_u32(b, t->supers[i]);
    }
    buf_u8(b, t->kind);
    if (t->kind == COMP_FUNC) {
        buf_u32(b, t->nparams);
        for (uint32_t i = 0; i < t->nparams; i++) write_valtype(b, t->params[i]);
        buf_u32(b, t->nresults);
        for (uint32_t i = 0; i < t->nresults; i++) write_valtype(b, t->results[i]);
        return;
    }
    if (t->kind == COMP_STRUCT) buf_u32(b, t->nfields);
    for (uint32_t i = 0; i < t->nfields; i++) {
        write_valtype(b, t->fields[i].type);
        buf_u8(b, t->fields[i].mut);
    }
}

static void write_types(Writer *w, Buf *b) {
    const Module *m = w->m;
    buf_u32(b, m->nrecs);
    for (uint32_t g = 0; g < m->nrecs; g++) {
        const RecGroup *rg = &m->recs[g];
        if (rg->explicit_rec) {
            buf_u8(b, 0x4e);
            buf_u32(b, rg->count);
        }
        for (uint32_t k = 0; k < rg->count; k++) write_subtype(b, &m->types[rg->first + k]);
    }
}

static void write_tabletype(Buf *b, const Table *t) {
    write_valtype(b, t->elem);
    write_limits(b, t->limits);
}

/* Contract: writes the description of import im (its kind byte and type). */
static void write_import_desc(Buf *b, const Module *m, const Import *im) {
    buf_u8(b, im->kind);
    switch (im->kind) {
    case EXT_FUNC: buf_u32(b, m->funcs[im->index].type); break;
    case EXT_TABLE: write_tabletype(b, &m->tables[im->index]); break;
    case EXT_MEMORY: write_limits(b, m->mems[im->index].limits); break;
    case EXT_GLOBAL:
        write_valtype(b, m->globals[im->index].type);
        buf_u8(b, m->globals[im->index].mut);
        break;
    case EXT_TAG:
        buf_u8(b, m->tags[im->index].attr);
        buf_u32(b, m->tags[im->index].type);
        break;
    }
}

static void write_imports(Writer *w, Buf *b) {
    const Module *m = w->m;
    buf_u32(b, m->nimports);
    for (uint32_t i = 0; i < m->nimports; i++) {
        const Import *im = &m->imports[i];
        buf_name(b, im->module.p, im->module.len);
        buf_name(b, im->field.p, im->field.len);
        write_import_desc(b, m, im);
    }
}

static void write_functions(Writer *w, Buf *b) {
    const Module *m = w->m;
    buf_u32(b, module_ndefined_funcs(m));
    for (uint32_t i = m->nfunc_imports; i < m->nfuncs; i++) buf_u32(b, m->funcs[i].type);
}

static void write_tables(Writer *w, Buf *b) {
    const Module *m = w->m;
    buf_u32(b, m->ntables - m->ntable_imports);
    for (uint32_t i = m->ntable_imports; i < m->ntables; i++) {
        const Table *t = &m->tables[i];
        if (t->has_init) { buf_u8(b, 0x40); buf_u8(b, 0x00); }
        write_tabletype(b, t);
        if (t->has_init) write_expr(w, b, t->init);
    }
}

static void write_memories(Writer *w, Buf *b) {
    const Module *m = w->m;
    buf_u32(b, m->nmems - m->nmem_imports);
    for (uint32_t i = m->nmem_imports; i < m->nmems; i++) write_limits(b, m->mems[i].limits);
}

static void write_tags(Writer *w, Buf *b) {
    const Module *m = w->m;
    buf_u32(b, m->ntags - m->ntag_imports);
    for (uint32_t i = m->ntag_imports; i < m->ntags; i++) {
        buf_u8(b, m->tags[i].attr);
        buf_u32(b, m->tags[i].type);
    }
}

static void write_globals(Writer *w, Buf *b) {
    const Module *m = w->m;
    buf_u32(b, m->nglobals - m->nglobal_imports);
    for (uint32_t i = m->nglobal_imports; i < m->nglobals; i++) {
        write_valtype(b, m->globals[i].type);
        buf_u8(b, m->globals[i].mut);
        write_expr(w, b, m->globals[i].init);
    }
}

static void write_exports(Writer *w, Buf *b) {
    const Module *m = w->m;
    buf_u32(b, m->nexports);
    for (uint32_t i = 0; i < m->nexports; i++) {
        buf_name(b, m->exports[i].name.p, m->exports[i].name.len);
        buf_u8(b, m->exports[i].kind);
        buf_u32(b, m->exports[i].index);
    }
}

/* Contract: writes one element segment in the encoding its flags name. */
static void write_elem(Writer *w, Buf *b, const Elem *e) {
    bool passive = e->flags & 1, explicit_table = e->flags & 2, exprs = e->flags & 4;
    buf_u32(b, e->flags);
    if (!passive && explicit_table) buf_u32(b, e->table);
    if (!passive) write_expr(w, b, e->offset);
    if (passive || explicit_table) {
        if (exprs) write_valtype(b, e->type);
        else buf_u8(b, 0x00);
    }
    buf_u32(b, e->count);
    for (uint32_t i = 0; i < e->count; i++) {
        if (exprs) write_expr(w, b, e->exprs[i]);
        else buf_u32(b, e->funcs[i]);
    }
}

static void write_elems(Writer *w, Buf *b) {
    buf_u32(b, w->m->nelems);
    for (uint32_t i = 0; i < w->m->nelems; i++) write_elem(w, b, &w->m->elems[i]);
}

/* Contract: true when the known section of this rank must be written. */
static bool section_wanted(const Module *m, int rank) {
    uint8_t id = section_id_of_rank(rank);
    switch (id) {
    case SEC_START: return m->has_start;
    case SEC_DATACOUNT: return m->has_datacount;
    case SEC_TYPE: return m->present[rank] || m->ntypes;
    case SEC_IMPORT: return m->present[rank] || m->nimports;
    case SEC_FUNCTION: case SEC_CODE: return m->present[rank] || module_ndefined_funcs(m);
    case SEC_TABLE: return m->present[rank] || m->ntables > m->ntable_imports;
    case SEC_MEMORY: return m->present[rank] || m->nmems > m->nmem_imports;
    case SEC_TAG: return m->present[rank] || m->ntags > m->ntag_imports;
    case SEC_GLOBAL: return m->present[rank] || m->nglobals > m->nglobal_imports;
    case SEC_EXPORT: return m->present[rank] || m->nexports;
    case SEC_ELEM: return m->present[rank] || m->nelems;
    case SEC_DATA: return m->present[rank] || m->ndatas;
    }
    return false;
}

/* Contract: true for the code and data sections of a relocatable object whose code is
 * untouched: reloc.CODE / reloc.DATA offsets count from their payload's first byte, so
 * they are copied exactly (counts and sizes included). */
static bool keep_raw_payload(const Writer *w, uint8_t id) {
    const Module *m = w->m;
    if (!m->is_object || w->opt->code_mode != CODE_RAW || (id != SEC_CODE && id != SEC_DATA)) return false;
    for (uint32_t i = m->nfunc_imports; i < m->nfuncs; i++)
        if (m->funcs[i].changed) return false;
    return m->section_payload[section_rank(id)].p != NULL;
}

/* ---- output: pieces gathered in front of the sink ---- */

/* Contract: the stage bytes written since the last piece become a piece (the caller
 * makes room). */
static void close_stage_piece(Writer *w) {
    if (w->stage.len == w->staged_upto) return;
    w->pieces[w->npieces++] = (Piece){NULL, w->staged_upto, w->stage.len - w->staged_upto};
    w->staged_upto = w->stage.len;
}

/* Contract: hands all pending output to the sink; a sink failure aborts the write
 * (sink->failed tells the caller it was the sink, not the module). */
static void flush(Writer *w) {
    WritePiece v[MAX_PIECES + 1];
    uint32_t n = 0;
    size_t total = 0;
    for (uint32_t i = 0; i < w->npieces; i++) {
        const Piece *pc = &w->pieces[i];
        v[n++] = (WritePiece){pc->p ? pc->p : w->stage.data + pc->off, pc->n};
        total += pc->n;
    }
    if (w->stage.len > w->staged_upto) {
        v[n++] = (WritePiece){w->stage.data + w->staged_upto, w->stage.len - w->staged_upto};
        total += w->stage.len - w->staged_upto;
    }
    if (n && !w->sink->emit(w->sink->ctx, v, n)) {
        w->sink->failed = true;
        ws_fail(w->cur.err, 0, "cannot write the output");
    }
    w->layout->total += total;
    w->stage.len = w->staged_upto = 0;
    w->npieces = 0;
    w->pending_ext = 0;
}

static void maybe_flush(Writer *w) {
    if (w->pending_ext + w->stage.len >= FLUSH_BYTES) flush(w);
}

/* Appends n bytes that stay where they are until the write ends (the input, the
 * module's own blocks, kept bodies; a batch's bodies until write_code flushes): long
 * runs are referenced, not copied, so the output is never held whole in memory. */
static void emit_bytes(Writer *w, const uint8_t *p, size_t n) {
    Piece *last = w->npieces ? &w->pieces[w->npieces - 1] : NULL;
    if (last && last->p && last->p + last->n == p && w->stage.len == w->staged_upto) {
        last->n += n; /* continues the previous run: one piece */
        w->pending_ext += n;
        maybe_flush(w);
        return;
    }
    if (n < COPY_BELOW) {
        buf_bytes(&w->stage, p, n);
    } else {
        if (w->npieces + 2 > MAX_PIECES) flush(w);
        close_stage_piece(w);
        w->pieces[w->npieces++] = (Piece){p, 0, n};
        w->pending_ext += n;
    }
    maybe_flush(w);
}

/* Appends n bytes from a buffer the writer will reuse: copied. */
static void emit_copy(Writer *w, const uint8_t *p, size_t n) {
    buf_bytes(&w->stage, p, n);
    maybe_flush(w);
}

/* Contract: stages a section's id and size, and records it in the layout. */
static void section_header(Writer *w, uint8_t id, size_t payload, Bytes name) {
    WriteLayout *l = w->layout;
    if (l->nsections == l->cap_sections)
        ws_grow((void **)&l->sections, &l->cap_sections, l->nsections + 1, sizeof *l->sections);
    WrittenSection *s = &l->sections[l->nsections++];
    s->id = id;
    s->name = name;
    s->size = 1 + leb_size_u64(payload) + payload;
    buf_u8(&w->stage, id);
    buf_u32(&w->stage, (uint32_t)payload);
}

/* ---- code: sized first, then written; bodies re-encoded in parallel ---- */

/* Contract: true when the body's bytes are what the writer writes: rewritten by a pass
 * (canonical), raw mode, or found canonical by a scan (dce's) since it last changed. */
static bool copies_body(const Writer *w, const Func *f) {
    return f->changed || w->opt->code_mode == CODE_RAW || f->canonical_at == f->body.p;
}

/* Contract: re-encodes an unchanged body canonically into out (longjmps through err on
 * malformed code: bodies may only have been read lightly). */
static void canonicalize_body(const Writer *w, const Func *f, Buf *out, WsError *err) {
    Cursor c = w->cur;
    c.p = f->body.p;
    c.end = f->body.p + f->body.len;
    c.err = err;
    out->len = 0;
    const Module *m = w->m;
    bool typed = f->type < m->ntypes && m->types[f->type].kind == COMP_FUNC;
    if (w->group_locals && typed) body_canonicalize_grouped(&c, out, m->types[f->type].nparams);
    else body_canonicalize(&c, out);
}

#ifdef WS_DEBUG
/* Contract (debug builds): a body copied because a scan marked it canonical is what
 * re-encoding it gives; aborts otherwise. */
static void check_canonical_mark(const Writer *w, const Func *f, Buf *scratch) {
    if (f->changed || w->opt->code_mode == CODE_RAW) return;
    WsError err = {0};
    if (setjmp(err.jb)) abort(); /* a marked body failed to decode */
    canonicalize_body(w, f, scratch, &err);
    if (scratch->len != f->body.len || memcmp(scratch->data, f->body.p, f->body.len)) {
        fprintf(stderr, "internal error: body at 0x%zx marked canonical is not\n", f->body_offset);
        abort();
    }
}
#else
static void check_canonical_mark(const Writer *w, const Func *f, Buf *scratch) { (void)w; (void)f; (void)scratch; }
#endif

/* Bodies re-encoded when written: at most this many at once, and this many bytes; the
 * sizing pass keeps up to KEEP_BYTES of re-encoded bodies so they are not re-encoded
 * twice (peak memory stays within the input's size plus 16 MB). */
enum { BATCH_FUNCS = 1024, BATCH_BYTES = 4 << 20, KEEP_BYTES = 10 << 20 };

/* Contract: a place for len bytes in the keep area, or NULL once it is full (any thread). */
static uint8_t *keep_alloc(Writer *w, size_t len) {
    size_t used = atomic_load(&w->keep_used);
    while (len <= KEEP_BYTES - used)
        if (atomic_compare_exchange_weak(&w->keep_used, &used, used + len)) return w->keep_area + used;
    return NULL;
}

static const Func *defined_func(const Writer *w, uint32_t k) { return &w->m->funcs[w->m->nfunc_imports + k]; }

/* Contract: the sizing step's record of body k, which copies_body says is written as
 * it is. */
static void note_copied(Writer *w, uint32_t k, Buf *scratch) {
    const Func *f = defined_func(w, k);
    check_canonical_mark(w, f, scratch);
    w->body_same[k] = 1;
    w->body_len[k] = f->body.len;
}

/* Contract: item i of the job: the sizing step records body k's output length and
 * whether its canonical form is the input itself; the write step re-encodes it into
 * out[i].  A worker's first malformed body is recorded; it skips the rest. */
static void code_item(void *arg, uint32_t i, uint32_t worker) {
    CodeJob *job = arg;
    Writer *w = job->w;
    uint32_t k = job->first + i;
    const Func *f = defined_func(w, k);
    if (job->failed_at[worker] || (job->out && (w->body_same[k] || w->body_kept[k]))) return;
    if (!job->out && copies_body(w, f)) {
        note_copied(w, k, &job->scratch[worker]);
        return;
    }
    if (setjmp(job->errors[worker].jb)) {
        job->failed_at[worker] = k + 1;
        return;
    }
    Buf *b = job->out ? &job->out[i] : &job->scratch[worker];
    canonicalize_body(w, f, b, &job->errors[worker]);
    if (job->out) return;
    w->body_same[k] = b->len == f->body.len && !memcmp(b->data, f->body.p, f->body.len);
    w->body_len[k] = (uint32_t)b->len;
    if (!w->body_same[k] && (w->body_kept[k] = keep_alloc(w, b->len))) memcpy(w->body_kept[k], b->data, b->len);
}

/* True when some body of [first, first + n) is neither the input's bytes nor kept from
 * the sizing step, so the write step has to re-encode it. */
static bool batch_needs_encoding(const Writer *w, uint32_t first, uint32_t n) {
    for (uint32_t k = first; k < first + n; k++)
        if (!w->body_same[k] && !w->body_kept[k]) return true;
    return false;
}

/* Contract: runs code_item over n items from body `first`; on a malformed body fails
 * with the error of the lowest-numbered one (whatever the thread count). */
static void run_code_job(Writer *w, CodeJob *job, uint32_t first, uint32_t n) {
    uint32_t jobs = w->opt->jobs > 1 ? w->opt->jobs : 1;
    if (job->out && !batch_needs_encoding(w, first, n)) return; /* no thread started for nothing */
    job->first = first;
    memset(job->failed_at, 0, jobs * sizeof *job->failed_at);
    pool_for(jobs, n, code_item, job);
    uint32_t worst = 0;
    for (uint32_t t = 0; t < jobs; t++)
        if (job->failed_at[t] && (!worst || job->failed_at[t] < job->failed_at[worst - 1])) worst = t + 1;
    if (!worst) return;
    WsError *e = w->cur.err;
    e->offset = job->errors[worst - 1].offset;
    memcpy(e->msg, job->errors[worst - 1].msg, sizeof e->msg);
    longjmp(e->jb, 1);
}

static void code_job_init(Writer *w, CodeJob *job) {
    uint32_t jobs = w->opt->jobs > 1 ? w->opt->jobs : 1;
    memset(job, 0, sizeof *job);
    job->w = w;
    job->scratch = ws_calloc(jobs, sizeof(Buf));
    job->errors = ws_calloc(jobs, sizeof(WsError));
    job->failed_at = ws_calloc(jobs, sizeof(uint32_t));
    for (uint32_t t = 0; t < jobs; t++) job->errors[t].file = w->m->file;
}

/* Frees the job and the batch (also after a longjmp: both live in the writer). */
static void code_job_free(Writer *w) {
    CodeJob *job = &w->job;
    uint32_t jobs = w->opt->jobs > 1 ? w->opt->jobs : 1;
    for (uint32_t t = 0; job->scratch && t < jobs; t++) buf_free(&job->scratch[t]);
    for (uint32_t i = 0; w->batch && i < BATCH_FUNCS; i++) buf_free(&w->batch[i]);
    free(job->scratch);
    free(job->errors);
    free(job->failed_at);
    free(w->batch);
    memset(job, 0, sizeof *job);
    w->batch = NULL;
}

/* Contract: the code section's payload size, from each body's output length. */
static size_t size_code(Writer *w, CodeJob *job) {
    uint32_t n = module_ndefined_funcs(w->m);
    w->body_len = ws_malloc((size_t)n * sizeof *w->body_len + 1);
    w->body_same = ws_malloc((size_t)n + 1);
    w->body_kept = ws_calloc((size_t)n + 1, sizeof *w->body_kept);
    atomic_store(&w->keep_used, 0);
    job->out = NULL;
    uint32_t copied = 0;
    while (copied < n && copies_body(w, defined_func(w, copied))) copied++;
    if (copied == n) { /* every body as it is (-O0, -O1 on canonical input): no thread started */
        for (uint32_t k = 0; k < n; k++) note_copied(w, k, &job->scratch[0]);
    } else {
        w->keep_area = ws_big_alloc(KEEP_BYTES);
        run_code_job(w, job, 0, n);
    }
    size_t payload = leb_size_u64(n);
    for (uint32_t k = 0; k < n; k++) payload += leb_size_u64(w->body_len[k]) + w->body_len[k];
    return payload;
}

/* Contract: the number of bodies from `first` that make one write batch: re-encoded
 * together in parallel, so held in memory together (bounded in count and bytes). */
static uint32_t batch_size(const Writer *w, uint32_t first, uint32_t n) {
    uint32_t count = 0;
    size_t bytes = 0;
    while (first + count < n && count < BATCH_FUNCS && (count == 0 || bytes < BATCH_BYTES)) {
        if (!w->body_same[first + count] && !w->body_kept[first + count]) bytes += w->body_len[first + count];
        count++;
    }
    return count;
}

/* Contract: when the n bytes at p lie in the module's input right after the canonical
 * LEB128 of n (a body the input sized as the output does), that LEB128's length; else
 * 0.  Such a body and its size are then one run of the input, and runs of them one
 * piece (ruby.wasm -O0: 26,000 pieces of writev -> 20). */
static unsigned input_size_prefix(const Module *m, const uint8_t *p, size_t n) {
    unsigned k = leb_size_u64(n);
    if (!m->input || p < m->input + k || p + n > m->input + m->input_len) return 0;
    const uint8_t *q = p - k;
    uint64_t v = 0;
    for (unsigned i = 0; i < k; i++) {
        if (!(q[i] & 0x80) != (i + 1 == k)) return 0; /* continuation bits: all but the last */
        v |= (uint64_t)(q[i] & 0x7f) << (7 * i);
    }
    return v == n ? k : 0;
}

static void write_code(Writer *w) {
    uint32_t n = module_ndefined_funcs(w->m);
    code_job_init(w, &w->job);
    section_header(w, SEC_CODE, size_code(w, &w->job), (Bytes){NULL, 0});
    buf_u32(&w->stage, n);
    Buf *batch = w->batch = ws_calloc(BATCH_FUNCS, sizeof(Buf));
    w->job.out = batch;
    for (uint32_t first = 0; first < n;) {
        uint32_t count = batch_size(w, first, n);
        run_code_job(w, &w->job, first, count);
        for (uint32_t i = 0; i < count; i++) {
            uint32_t k = first + i;
            const uint8_t *at = defined_func(w, k)->body.p;
            unsigned size_len = w->body_same[k] ? input_size_prefix(w->m, at, w->body_len[k]) : 0;
            if (size_len) {
                emit_bytes(w, at - size_len, size_len + w->body_len[k]);
                continue;
            }
            buf_u32(&w->stage, w->body_len[k]);
            if (w->body_same[k]) {
                emit_bytes(w, at, w->body_len[k]);
            } else if (w->body_kept[k]) {
                emit_bytes(w, w->body_kept[k], w->body_len[k]);
            } else {
                emit_bytes(w, batch[i].data, batch[i].len);
            }
        }
        flush(w); /* the batch's buffers are reused next */
        first += count;
    }
    code_job_free(w);
}

/* ---- data: headers sized apart from their bytes ---- */

static void data_header(Writer *w, Buf *b, const Data *d) {
    buf_u32(b, d->flags);
    if (d->flags == 2) buf_u32(b, d->memory);
    if (d->flags != 1) write_expr(w, b, d->offset);
    buf_u32(b, d->bytes.len);
}

/* Contract: the length data_header gives d, without writing the common offset
 * (`i32.const N end`, canonical as it is) anywhere. */
static size_t data_header_size(Writer *w, const Data *d) {
    size_t n = leb_size_u64(d->flags) + leb_size_u64(d->bytes.len);
    if (d->flags == 2) n += leb_size_u64(d->memory);
    if (d->flags == 1) return n;
    const Expr *e = &d->offset;
    if (instr_small_i32_expr(e->code, e->code + e->len) == e->len) return n + e->len;
    w->section.len = 0;
    write_expr(w, &w->section, *e);
    return n + w->section.len;
}

static void write_datas(Writer *w) {
    const Module *m = w->m;
    size_t payload = leb_size_u64(m->ndatas);
    for (uint32_t i = 0; i < m->ndatas; i++) payload += data_header_size(w, &m->datas[i]) + m->datas[i].bytes.len;
    section_header(w, SEC_DATA, payload, (Bytes){NULL, 0});
    buf_u32(&w->stage, m->ndatas);
    for (uint32_t i = 0; i < m->ndatas; i++) {
        data_header(w, &w->stage, &m->datas[i]);
        emit_bytes(w, m->datas[i].bytes.p, m->datas[i].bytes.len);
    }
}

/* ---- sections ---- */

static void write_small_payload(Writer *w, uint8_t id, Buf *b) {
    const Module *m = w->m;
    switch (id) {
    case SEC_TYPE: write_types(w, b); break;
    case SEC_IMPORT: write_imports(w, b); break;
    case SEC_FUNCTION: write_functions(w, b); break;
    case SEC_TABLE: write_tables(w, b); break;
    case SEC_MEMORY: write_memories(w, b); break;
    case SEC_TAG: write_tags(w, b); break;
    case SEC_GLOBAL: write_globals(w, b); break;
    case SEC_EXPORT: write_exports(w, b); break;
    case SEC_START: buf_u32(b, m->start); break;
    case SEC_ELEM: write_elems(w, b); break;
    case SEC_DATACOUNT: buf_u32(b, m->ndatas); break;
    }
}

/* Contract: writes known section id: code and data are streamed after a sizing pass,
 * the others are rendered into a scratch buffer first. */
static void write_section(Writer *w, uint8_t id) {
    if (keep_raw_payload(w, id)) {
        Bytes raw = w->m->section_payload[section_rank(id)];
        section_header(w, id, raw.len, (Bytes){NULL, 0});
        emit_bytes(w, raw.p, raw.len);
    } else if (id == SEC_CODE) {
        write_code(w);
    } else if (id == SEC_DATA) {
        write_datas(w);
    } else {
        w->section.len = 0;
        write_small_payload(w, id, &w->section);
        section_header(w, id, w->section.len, (Bytes){NULL, 0});
        emit_copy(w, w->section.data, w->section.len);
    }
    maybe_flush(w);
}

static void write_customs_after(Writer *w, int rank) {
    const Module *m = w->m;
    for (uint32_t i = 0; i < m->ncustoms; i++) {
        const Custom *cs = &m->customs[i];
        if (cs->removed || cs->after_rank != rank) continue;
        section_header(w, SEC_CUSTOM, leb_size_u64(cs->name.len) + cs->name.len + cs->payload.len, cs->name);
        buf_name(&w->stage, cs->name.p, cs->name.len);
        emit_bytes(w, cs->payload.p, cs->payload.len);
    }
}

/* Contract: the whole module, in order, through the staging buffer. */
static void write_module(Writer *w) {
    static const uint8_t header[8] = {0, 'a', 's', 'm', 1, 0, 0, 0};
    buf_bytes(&w->stage, header, sizeof header);
    write_customs_after(w, 0);
    for (int rank = 1; rank < RANK_COUNT; rank++) {
        if (section_wanted(w->m, rank)) write_section(w, section_id_of_rank(rank));
        write_customs_after(w, rank);
    }
    flush(w);
}

bool module_write_stream(const Module *m, const WriteOptions *opt, WriteSink *sink, WriteLayout *layout,
                         WsError *err) {
    static const WriteOptions defaults = {CODE_CANONICAL, 0};
    Writer *w = ws_calloc(1, sizeof *w); /* on the heap: survives the longjmp intact */
    w->m = m;
    w->opt = opt ? opt : &defaults;
    w->sink = sink;
    w->layout = layout;
    w->cur.file_start = m->input;
    w->cur.err = err;
    w->group_locals = !names_has_subsection(m, NAME_LOCAL);
    memset(layout, 0, sizeof *layout);
    sink->failed = false;
    err->file = m->file;
    bool ok = false;
    if (setjmp(err->jb)) goto done; /* malformed code in a lightly read body, or the sink failed */
    write_module(w);
    ok = true;
done:
    code_job_free(w);
    buf_free(&w->section);
    buf_free(&w->stage);
    free(w->body_kept);
    ws_big_free(w->keep_area, KEEP_BYTES);
    free(w->body_len);
    free(w->body_same);
    free(w);
    return ok;
}

void write_layout_free(WriteLayout *layout) {
    free(layout->sections);
    memset(layout, 0, sizeof *layout);
}

static bool append_to_buf(void *ctx, const WritePiece *v, uint32_t n) {
    for (uint32_t i = 0; i < n; i++) buf_bytes(ctx, v[i].p, v[i].n);
    return true;
}

bool module_write(const Module *m, const WriteOptions *opt, Buf *out, WsError *err) {
    WriteSink sink = {append_to_buf, out, false};
    WriteLayout layout;
    bool ok = module_write_stream(m, opt, &sink, &layout, err);
    write_layout_free(&layout);
    return ok;
}
