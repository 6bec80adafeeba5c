/* remove_unused.h - state shared by the files of the remove-unused pass:
 * remove_unused.c (marking, sweep, ref.func declarations) and unused_why.c (the
 * --export-only / --keep-export roots and the --why-kept report). */
#ifndef WS_REMOVE_UNUSED_H
#define WS_REMOVE_UNUSED_H

#include "reindex.h"

/* How an item was reached: the roots first, then the references. */
enum {
    HOW_NONE, HOW_EXPORT, HOW_START, HOW_KEEP, HOW_TRAPS, HOW_IMPORTED,
    HOW_CALL, HOW_REFFUNC, HOW_USE, HOW_TYPE, HOW_ELEM, HOW_INIT, HOW_REC, HOW_SUPER,
    HOW_COUNT
};
#define HOW_IS_ROOT(h) ((h) <= HOW_IMPORTED)

/* One reference a body makes: item `index` of space `space`, found at file offset at. */
typedef struct BodyRef {
    uint8_t space, how;
    uint32_t index, at;
} BodyRef;

/* A scan worker: the references it listed, and per item the last body that named it
 * (stamp: function index + 1), for listing each item once per body. */
typedef struct ScanWorker {
    BodyRef *refs;
    uint32_t nrefs, cap_refs;
    uint32_t *seen, *seen_reffunc, stamp;
    WsError err;         /* the body being scanned fails through this */
    WsError *fails;      /* errors of the malformed bodies it met */
    uint32_t nfails, cap_fails;
    struct Validator *checker; /* ctx->input_checker's worker: bodies are checked too */
    uint32_t invalid;    /* 1 + the lowest function whose check failed, or 0 */
    WsError invalid_err; /* its error */
} ScanWorker;

/* Per function: where its references are (worker, first, count), or failed (then
 * first indexes the worker's fails). */
typedef struct BodyRefs {
    uint32_t worker, first, count;
    bool failed;
} BodyRefs;

/* The references of every body, listed in parallel before marking (marking itself is
 * a sequential worklist). */
typedef struct BodyScan {
    struct Unused *u;
    ScanWorker *workers;
    uint32_t nworkers;
    BodyRefs *list;      /* per function */
    const struct RefsCache *cache; /* the previous run's lists (may be NULL) */
} BodyScan;

/* Items of all index spaces share one numbering: item (k, i) is base[k] + i. */
typedef struct Unused {
    PassCtx *ctx;
    Module *m;
    WsError *err;
    uint32_t base[IX_COUNT + 1];  /* base[IX_COUNT] = number of items */
    uint8_t *live;                /* per item: kept */
    uint8_t *how;                 /* per item: HOW_* of the first reference */
    uint32_t *from;               /* per item: the referring item; export index for HOW_EXPORT */
    uint32_t *queue, qhead, qtail;
    uint32_t parent;              /* item whose references are being marked */
    uint8_t *reffunc;             /* per function: taken by ref.func in kept code */
    uint32_t *maxref;             /* per function and space: 1 + highest index its body names */
    uint32_t *cur_max;            /* the maxref row of the body being marked, or NULL */
    uint8_t *drop_export;         /* per export: dropped by --export-only */
    uint8_t *listed;              /* per export: named by --export-only / --keep-export */
    Bytes *names;                 /* function names (lazily, unused_names) */
    BodyScan *scan;               /* the bodies' references */
    ScanWorker *rec;              /* set in a scan worker's view: mark() lists, not marks */
} Unused;

int unused_space_of(const Unused *u, uint32_t id);
/* The cache of a previous run (unused_cache.c), or NULL when there is none or an index
 * space shrank since it was built. */
const struct RefsCache *unused_cache_get(const Module *m);
/* Contract: when the cache lists defined function f with the body it has now, appends
 * its references to w's list and fills its maxref row (IX_COUNT entries); else false. */
bool unused_cache_take(const struct RefsCache *c, const Module *m, uint32_t f, ScanWorker *w, uint32_t *maxrow);
/* Contract: when the cache lists defined function f with the body it has now, points
 * *refs at its references (each item once, with how it was first named) and sets *n;
 * else false.  c may be NULL. */
bool unused_cache_refs(const struct RefsCache *c, const Module *m, uint32_t f, const BodyRef **refs, uint32_t *n);
/* Contract: after the sweep and renumbering, stores in m the references of every kept
 * body in the new numbering, for the next run. */
void unused_cache_build(const Unused *u, const Reindex *r);
/* Function names from the name section, indexed by function (len 0: none). */
const Bytes *unused_names(Unused *u);
/* Marks item i of space k as a root (how = HOW_EXPORT ... HOW_IMPORTED). */
void unused_mark_root(Unused *u, int k, uint64_t i, uint8_t how, uint32_t detail);
/* Applies --export-only (fills drop_export) and --keep-export (roots); fails through
 * u->err on an unknown name. */
void unused_resolve_exports(Unused *u);
/* Prints the --why-kept chains (after marking); fails through u->err on an unknown
 * name. */
void unused_why_kept(Unused *u);

#endif
