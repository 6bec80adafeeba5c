/* module.h - the module model: every section of a module as vectors indexed like the
 * binary's index spaces.  Function bodies and constant expressions are byte ranges (into
 * the input, or into the module's arena once a pass rewrites them); custom sections keep
 * their payload bytes and their position relative to the known sections. */
#ifndef WS_MODULE_H
#define WS_MODULE_H

#include "arena.h"
#include "common.h"
#include "error.h"
#include "leb.h"
#include "types.h"

/* Known section ids, and their required order ("rank") in a module. */
enum {
    SEC_CUSTOM = 0, SEC_TYPE = 1, SEC_IMPORT = 2, SEC_FUNCTION = 3, SEC_TABLE = 4,
    SEC_MEMORY = 5, SEC_GLOBAL = 6, SEC_EXPORT = 7, SEC_START = 8, SEC_ELEM = 9,
    SEC_CODE = 10, SEC_DATA = 11, SEC_DATACOUNT = 12, SEC_TAG = 13, SEC_ID_COUNT = 14
};
/* Rank of a section id in the required order (type=1 ... data=13), 0 for custom. */
int section_rank(uint8_t id);
uint8_t section_id_of_rank(int rank);
const char *section_name(uint8_t id);
enum { RANK_COUNT = 14 }; /* ranks 1..13 */

enum { EXT_FUNC = 0, EXT_TABLE = 1, EXT_MEMORY = 2, EXT_GLOBAL = 3, EXT_TAG = 4 };
enum { COMP_FUNC = 0x60, COMP_STRUCT = 0x5f, COMP_ARRAY = 0x5e };
/* How a subtype was written: bare composite type, `sub`, or `sub final`. */
enum { SUB_BARE = 0, SUB_FINAL = 0x4f, SUB_OPEN = 0x50 };

typedef struct Bytes {
    const uint8_t *p;
    uint32_t len;
} Bytes;

typedef struct FieldType {
    ValType type;   /* storage type: may be VT_I8/VT_I16 */
    uint8_t mut;
} FieldType;

typedef struct TypeDef {
    uint8_t kind;       /* COMP_* */
    uint8_t sub_form;   /* SUB_* */
    uint32_t nsupers;
    uint32_t *supers;
    uint32_t nparams, nresults;
    ValType *params, *results;    /* COMP_FUNC */
    uint32_t nfields;
    FieldType *fields;            /* COMP_STRUCT; COMP_ARRAY has exactly one */
    uint32_t rec;                 /* index of its rec group */
} TypeDef;

typedef struct RecGroup {
    uint32_t first, count;
    bool explicit_rec;  /* written with 0x4e (a lone type may be either way) */
} RecGroup;

/* A constant expression, including its final end. */
typedef struct Expr {
    const uint8_t *code;
    uint32_t len;
    uint32_t offset;    /* file offset, for messages (0 if synthesized); inputs are
                           below 4 GiB (module_read) */
} Expr;

typedef struct Import {
    Bytes module, field;
    uint8_t kind;       /* EXT_* */
    uint32_t index;     /* index in that kind's index space */
} Import;

typedef struct Func {
    uint32_t type;
    int32_t import;     /* index into imports, or -1 for a defined function */
    Bytes body;         /* locals + code, without the size prefix */
    size_t body_offset; /* file offset of the body, for messages */
    bool changed;       /* body rewritten by a pass: canonical bytes, never raw input */
    bool valid;         /* body validated in the module as it stands (the validator skips it) */
    const uint8_t *dce_fixpoint; /* body.p when dce's scan last found nothing to do in it
                                    (bodies are never freed before the module, so a
                                    rewritten body never matches) */
    const uint8_t *canonical_at; /* body.p when a scan found its bytes canonical, its
                                    locals one group per type: the writer copies it */
    const uint8_t *params_at;    /* body.p when dce's scan walked it whole: then bit i of
                                    params_untouched is set when param i (< 32) is never
                                    read nor written (dead-params takes it from there) */
    uint32_t params_untouched;
} Func;

typedef struct Table {
    ValType elem;
    Limits limits;
    int32_t import;
    bool has_init;      /* written as 0x40 0x00 tabletype expr */
    Expr init;
} Table;

typedef struct Memory {
    Limits limits;
    int32_t import;
} Memory;

typedef struct Global {
    ValType type;
    uint8_t mut;
    int32_t import;
    Expr init;
} Global;

typedef struct Tag {
    uint8_t attr;
    uint32_t type;
    int32_t import;
} Tag;

typedef struct Export {
    Bytes name;
    uint8_t kind;
    uint32_t index;
} Export;

/* Element segment; flags as in the binary (0..7): bit 0 passive/declarative, bit 1
 * explicit table (active) or declarative (passive), bit 2 expressions instead of indices. */
typedef struct Elem {
    uint32_t flags;
    uint32_t table;
    Expr offset;
    ValType type;       /* element reference type (funcref for elemkind 0x00) */
    uint32_t count;
    uint32_t *funcs;    /* flags & 4 == 0 */
    Expr *exprs;        /* flags & 4 */
} Elem;

/* Data segment; flags 0 (active, memory 0), 1 (passive), 2 (active, explicit memory). */
typedef struct Data {
    uint32_t flags;
    uint32_t memory;
    Expr offset;
    Bytes bytes;
} Data;

typedef struct Custom {
    Bytes name;
    Bytes payload;
    int after_rank;     /* rank of the last known section before it, 0 = at the start */
    size_t offset;      /* file offset of the section id byte */
    size_t size;        /* whole section size in the input (id + size LEB + payload) */
    bool removed;
} Custom;

typedef struct Module {
    Arena arena;
    const char *file;
    const uint8_t *input;   /* the input bytes (not owned) */
    size_t input_len;

    uint32_t ntypes, nrecs, nimports, nfuncs, ntables, nmems, nglobals, ntags;
    uint32_t nexports, nelems, ndatas, ncustoms;
    TypeDef *types;
    RecGroup *recs;
    Import *imports;
    Func *funcs;            /* imported first, then defined */
    Table *tables;
    Memory *mems;
    Global *globals;
    Tag *tags;
    Export *exports;
    Elem *elems;
    Data *datas;
    Custom *customs;
    uint32_t nfunc_imports, ntable_imports, nmem_imports, nglobal_imports, ntag_imports;

    bool has_start;
    uint32_t start;
    bool has_datacount;
    uint32_t datacount;
    bool present[RANK_COUNT];   /* known sections present in the input, by rank */
    size_t section_size[RANK_COUNT]; /* their whole size in the input (id + size + payload) */
    Bytes section_payload[RANK_COUNT]; /* their payload bytes in the input */

    void **owned;           /* heap blocks the module owns (rewritten bodies, ...) */
    uint32_t nowned, cap_owned;
    /* What remove-unused learned of the bodies, for its next run (passes/unused_cache.c);
     * freed by its hook.  Stale once any index space is renumbered: module_drop_refs_cache. */
    struct RefsCache *refs_cache;
    void (*refs_cache_free)(struct RefsCache *);
    void (*refs_cache_rebind)(struct RefsCache *, uint32_t f, const uint8_t *old, const uint8_t *now);

    bool is_object;         /* has a "linking" custom section: relocatable object */
    bool code_changed;      /* some pass rewrote code */
    bool dwarf_dropped;     /* stale DWARF was dropped (notice printed) */
} Module;

typedef struct ReadOptions {
    bool decode_code;       /* full decode of every body (else a light scan of sizes) */
} ReadOptions;

/* The largest module read: offsets (Instr.off, Expr.offset) are 32-bit. */
#define MODULE_MAX_BYTES ((size_t)UINT32_MAX)

/* Reads a module from bytes (kept alive by the caller while the module lives).  On
 * malformed input returns false with *err filled (file, offset, message); nothing leaks. */
bool module_read(Module *m, const uint8_t *bytes, size_t len, const char *file,
                 const ReadOptions *opt, WsError *err);
void module_free(Module *m);
/* Full decode of every body of a module read without ReadOptions.decode_code (what
 * that option would have checked).  Returns false with *err set on malformed code. */
bool module_decode_code(const Module *m, WsError *err);

/* How function bodies are written. */
typedef enum CodeMode {
    CODE_CANONICAL,   /* minimal LEBs: unchanged canonical bodies are copied as bytes */
    CODE_RAW,         /* bodies copied exactly (relocatable objects, kept DWARF) */
} CodeMode;

typedef struct WriteOptions {
    CodeMode code_mode;
    uint32_t jobs;          /* threads that re-encode bodies (0 or 1: the caller's only) */
} WriteOptions;

typedef struct Buf Buf;
/* Writes the module in canonical encoding, appended to out.  Returns false with *err set
 * when a body that was only lightly read turns out to be malformed. */
bool module_write(const Module *m, const WriteOptions *opt, Buf *out, WsError *err);

/* One run of output bytes handed to a sink. */
typedef struct WritePiece {
    const uint8_t *p;
    size_t n;
} WritePiece;

/* Where streamed output goes, in gathered runs of pieces (a file sink writes them with
 * one writev: the kernel then works in large folios, 3x faster than piece by piece).
 * emit returns false on a write error (then the write stops and `failed` is set, so the
 * caller reports its own I/O error rather than *err). */
typedef struct WriteSink {
    bool (*emit)(void *ctx, const WritePiece *v, uint32_t n);
    void *ctx;
    bool failed;
} WriteSink;

/* What was written: each section (id, custom name, whole size) and the total. */
typedef struct WrittenSection {
    uint8_t id;
    Bytes name;          /* custom sections only */
    size_t size;         /* id byte + size LEB + payload */
} WrittenSection;
typedef struct WriteLayout {
    WrittenSection *sections;
    uint32_t nsections, cap_sections;
    size_t total;
} WriteLayout;

/* Like module_write, but hands the bytes to sink in chunks as they are produced (code is
 * sized in a first pass), so the output is never held whole in memory.  Fills *layout
 * (freed with write_layout_free) whether or not it succeeds. */
bool module_write_stream(const Module *m, const WriteOptions *opt, WriteSink *sink, WriteLayout *layout,
                         WsError *err);
void write_layout_free(WriteLayout *layout);

/* Hands a malloc'd block to the module (freed by module_free); returns it. */
void *module_own(Module *m, void *block);

/* Marks every defined body as validated (after a validation that checked them), or
 * clears the marks (once anything outside the bodies may have changed). */
void module_mark_bodies_valid(Module *m, bool valid);
/* Frees and forgets m->refs_cache (whoever renumbers an index space calls it). */
void module_drop_refs_cache(Module *m);
/* A pass that gave function f a new body naming exactly the items the old one named
 * (dropping nops) says so: what remove-unused keeps of the old body then holds for the
 * new one, which it need not scan again. */
void module_note_same_refs(Module *m, uint32_t f, const uint8_t *old, const uint8_t *now);

/* Helpers on the model. */
/* Contract: a cursor over [p, p + len) that reports to err, its offsets relative to the
 * input when the bytes are in it, else to p (bytes a pass wrote). */
Cursor module_cursor(const Module *m, const uint8_t *p, size_t len, WsError *err);
/* Contract: appends a custom section (name and payload copied into the module's arena)
 * after every known section. */
void module_add_custom(Module *m, const char *name, const uint8_t *payload, size_t len);
bool custom_is(const Custom *c, const char *name);
bool custom_has_prefix(const Custom *c, const char *prefix);
uint32_t module_ndefined_funcs(const Module *m);
/* Name of function f from the name section, or NULL; len in *len. */
const uint8_t *module_func_name(const Module *m, uint32_t f, uint32_t *len);

#endif
