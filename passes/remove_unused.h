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
} Unused;

int unused_space_of(const Unused *u, uint32_t id);
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
