/* inline.h - internals of the inline pass, shared by its files:
 *   inline.c         the pass: scan, trial, decide, apply, report
 *   inline_scan.c    call sites, references and recursion of the module
 *   inline_plan.c    the decisions, from measured sizes
 *   inline_splice.c  the IR surgery: a callee's body in place of one call
 * A site is one `call` or `return_call` of a defined function, numbered in bytecode
 * order within its function (its ordinal), which is how a splice finds the decisions
 * of the calls inside the body it copies. */
#ifndef WS_INLINE_H
#define WS_INLINE_H

#include "pass.h"
#include "../ir/func.h"

enum { INL_NO = 0, INL_MEASURE = 1, INL_YES = 2 };

/* Why a site is inlined (for the report). */
enum { WHY_NONE, WHY_TINY, WHY_SINGLE, WHY_HOT, WHY_SMALL, WHY_SMALLER };

typedef struct InlSite {
    uint32_t caller, callee;
    uint16_t loop_depth;      /* loops around the call in its function */
    uint8_t tail;             /* return_call */
    uint8_t state;            /* INL_* */
    uint8_t why;              /* WHY_* once INL_YES */
    uint8_t call_bytes;       /* the call instruction's canonical size */
    int32_t delta;            /* measured growth of the caller when the callee as it is in
                               * the module is spliced here (valid once measured) */
    bool measured;
} InlSite;

typedef struct InlFunc {
    uint32_t first_site, nsites;  /* its own calls: sites[first_site ..) by ordinal */
    uint32_t ncalls;              /* sites naming it */
    uint32_t ninlined;            /* of those, inlined */
    uint32_t code_size;           /* canonical body bytes (locals and code) */
    uint32_t nlocals;             /* params and declared locals */
    uint32_t code_only;           /* code_size without the local declarations */
    int64_t extra;                /* growth of its body from its own inlined sites */
    uint64_t extra_locals;        /* locals those sites add */
    bool defined, referenced, recursive, excluded;
} InlFunc;

typedef struct Inliner {
    PassCtx *ctx;
    Module *m;
    const InlineOptions *opt;
    int level;                    /* PassOptions.opt_level */
    bool size_mode;               /* -Os / -Oz: only measured shrinking */
    bool block_params;            /* a body's block may take parameters (multi-value) */
    uint32_t max_size;            /* callee bytes for the speed levels' budget */
    uint64_t budget;              /* bytes the speed levels may grow the code by */
    InlSite *sites;
    uint32_t nsites;
    InlFunc *funcs;               /* by function index */
    uint32_t *callee_sites;       /* site indices grouped by callee: */
    uint32_t *callee_first;       /* callee_sites[callee_first[f] .. callee_first[f + 1]) */
    uint32_t *order;              /* defined functions, callees before their callers */
    uint32_t norder;
    uint64_t code_total;          /* canonical code bytes of the module */
    uint32_t *spliced;            /* per defined function: splices the apply did */
} Inliner;

/* inline_scan.c: fills sites, funcs, callee index and order; false with ctx->err set on
 * malformed code. */
bool inline_scan(Inliner *in);
/* inline_plan.c */
void inline_choose_trials(Inliner *in);   /* marks the sites worth measuring */
void inline_decide(Inliner *in);          /* sets INL_YES from measurements */
/* Bytes deleting function f (no longer referenced) saves, given its final size. */
int64_t inline_removal_gain(const Inliner *in, uint32_t f);

/* The splicer: one caller's IR being edited, with a scratch IR for callees. */
typedef struct InlSplicer {
    const Module *m;
    IrFunc *f;                    /* the caller */
    IrFunc callee;                /* scratch: the callee's IR (rebuilt per splice) */
    const InlSite *sites;         /* all sites, for the decisions inside copied bodies */
    const InlFunc *funcs;
    NodeId *map;                  /* callee node -> caller node */
    uint32_t *depth;              /* callee node -> structured ancestors */
    NodeId *order;                /* callee preorder */
    uint32_t cap;
    uint8_t *access;              /* callee local -> how it is first accessed */
    NodeId *sets;                 /* the parameter stores of the splice */
    ValueRef *ends;               /* values the flat body leaves */
    uint32_t cap_access;
    ValueRef *args;               /* scratch operand list */
    uint32_t cap_args;
    NodeId *queue;                /* calls still to splice (apply mode) */
    uint32_t *queue_callee;
    uint32_t nqueue, cap_queue, cap_queue_callee;
    bool nested;                  /* queue the decided calls of copied bodies */
    bool no_block_params;         /* the module does not use multi-value (or it is off):
                                     parameters are stored before a body's block instead
                                     of being its parameters */
    Buf enc;                      /* scratch for measuring encodings */
    uint32_t nsplices;
} InlSplicer;

enum { INL_MAX_LOCALS = 16384 };  /* a caller never grows beyond this many locals */

void inline_splicer_init(InlSplicer *s, const Module *m, IrFunc *f, const InlSite *sites,
                         const InlFunc *funcs);
void inline_splicer_free(InlSplicer *s);
/* Replaces call node `call` of s->f (a call or return_call of defined function callee)
 * by the callee's body.  Sets *growth (if not NULL) to the encoded bytes the caller grew
 * by (negative: shrank).  Returns false with *err set if the callee's code is
 * malformed; sets *skipped when the site was left alone: the caller would pass
 * INL_MAX_LOCALS, or a tail call would end up inside exception handlers it escaped. */
bool inline_splice(InlSplicer *s, NodeId call, uint32_t callee, int64_t *growth, bool *skipped,
                   WsError *err);
/* Bytes of f's local declarations, counting only locals that are accessed (the cleanup
 * drops the others). */
uint32_t inline_decl_bytes(const IrFunc *f);

#endif
