/* inline_plan.c - the inline pass's decisions, all made before any code changes, from
 * sizes measured by splicing and encoding (inline.c's trial), in an order that does not
 * depend on threads.
 *
 *   cost of a site = measured growth of its caller (delta)
 *                  + growth of the callee's body from its own inlined calls (extra)
 *   every level:       cost <= 0 (the body is no bigger than the call)      -> inline
 *   no -O, -O1..-O4:   one call site and no other reference (export, table,
 *                      ref.func, start): inline it, remove-unused deletes the callee
 *   -O2..-O4:          then small callees (<= --inline-max-size bytes, half that
 *                      outside loops), deepest loops and cheapest first, while the
 *                      growth budget (--inline-growth % of the code) lasts
 *   -Os/-Oz:           every site of an unreferenced callee when their costs add up to
 *                      less than deleting the callee saves (else the rule above)
 *
 *   before: $w (wrapper, 3 calls) -> $g;  $once (1 call, not exported)
 *   after:  the calls of $w become calls of $g; $once's body sits in its caller
 *
 * Callees are priced callees-first (inline_scan's order), so a callee's extra is final
 * before any call to it is priced.  Recursive and --no-inline callees never inline. */
#include "inline.h"
#include "../ir/leb.h"
#include <stdlib.h>

enum { MAX_CALLER_BYTES = 4u << 20 };  /* never grow a function beyond this */

static bool callee_ok(const Inliner *in, uint32_t f) {
    const InlFunc *fn = &in->funcs[f];
    return fn->defined && !fn->recursive && !fn->excluded;
}

static bool removable(const Inliner *in, uint32_t f) {
    return in->funcs[f].defined && !in->funcs[f].referenced && in->funcs[f].ncalls > 0;
}

static bool speed_level(const Inliner *in) { return in->level >= 2 && in->level <= 4; }

static uint32_t nparams(const Inliner *in, uint32_t f) { return in->m->types[in->m->funcs[f].type].nparams; }

/* A bound below any growth splicing f at s can measure: its code is copied (never
 * shorter) except the final end and the parameter reads that forwarding drops, and the
 * call goes. */
static int64_t growth_floor(const Inliner *in, const InlSite *s) {
    const InlFunc *f = &in->funcs[s->callee];
    return (int64_t)f->code_only - 1 - 6 * (int64_t)nparams(in, s->callee) - s->call_bytes;
}

int64_t inline_removal_gain(const Inliner *in, uint32_t f) {
    int64_t size = (int64_t)in->funcs[f].code_size + in->funcs[f].extra;
    if (size < 1) size = 1;
    return size + leb_size_u64((uint64_t)size) + leb_size_u64(in->m->funcs[f].type);
}

/* Contract: true when inlining every call of f could shrink the module (or f has one
 * call), by the growth floor: only then are all of its sites worth measuring. */
static bool worth_all(const Inliner *in, uint32_t f) {
    const InlFunc *fn = &in->funcs[f];
    if (!removable(in, f)) return false;
    if (fn->ncalls == 1) return true;
    if (!in->size_mode) return false;
    int64_t floor = 0;
    for (uint32_t i = in->callee_first[f]; i < in->callee_first[f + 1]; i++)
        floor += growth_floor(in, &in->sites[in->callee_sites[i]]);
    return floor <= (int64_t)fn->code_size + 16 + 4 * (int64_t)fn->nsites;
}

void inline_choose_trials(Inliner *in) {
    for (uint32_t f = in->m->nfunc_imports; f < in->m->nfuncs; f++) {
        if (!callee_ok(in, f) || !in->funcs[f].ncalls) continue;
        bool all = worth_all(in, f);
        bool small = speed_level(in) && in->funcs[f].code_size <= 2 * in->max_size + 32;
        for (uint32_t i = in->callee_first[f]; i < in->callee_first[f + 1]; i++) {
            InlSite *s = &in->sites[in->callee_sites[i]];
            if (s->caller != f && (all || small || growth_floor(in, s) <= 8)) s->state = INL_MEASURE;
        }
    }
}

/* ---- accepting ---- */

static int64_t cost_of(const Inliner *in, const InlSite *s) { return s->delta + in->funcs[s->callee].extra; }

/* Contract: true when s may be inlined without its caller passing the local or size
 * limits. */
static bool fits(const Inliner *in, const InlSite *s) {
    const InlFunc *a = &in->funcs[s->caller], *b = &in->funcs[s->callee];
    uint64_t locals = (uint64_t)a->nlocals + a->extra_locals + b->nlocals + b->extra_locals;
    int64_t size = (int64_t)a->code_size + a->extra + cost_of(in, s);
    return s->measured && locals <= INL_MAX_LOCALS && size <= MAX_CALLER_BYTES;
}

static void accept(Inliner *in, InlSite *s, uint8_t why) {
    InlFunc *a = &in->funcs[s->caller], *b = &in->funcs[s->callee];
    a->extra += cost_of(in, s);
    a->extra_locals += b->nlocals + b->extra_locals;
    b->ninlined++;
    s->state = INL_YES;
    s->why = why;
}

/* Contract: -Os/-Oz: inlines every site of f when that, with f deleted, measurably
 * shrinks the module.  Returns true if it did. */
static bool try_remove(Inliner *in, uint32_t f) {
    if (!removable(in, f)) return false;
    int64_t total = 0;
    for (uint32_t i = in->callee_first[f]; i < in->callee_first[f + 1]; i++) {
        const InlSite *s = &in->sites[in->callee_sites[i]];
        if (!fits(in, s)) return false;
        total += cost_of(in, s);
    }
    if (total - inline_removal_gain(in, f) >= 0) return false;
    uint8_t why = in->funcs[f].ncalls == 1 ? WHY_SINGLE : WHY_SMALLER;
    for (uint32_t i = in->callee_first[f]; i < in->callee_first[f + 1]; i++) accept(in, &in->sites[in->callee_sites[i]], why);
    return true;
}

/* Contract: the rules that price one callee's sites alone (see the header). */
static void decide_callee(Inliner *in, uint32_t f) {
    if (!callee_ok(in, f) || (in->size_mode && try_remove(in, f))) return;
    for (uint32_t i = in->callee_first[f]; i < in->callee_first[f + 1]; i++) {
        InlSite *s = &in->sites[in->callee_sites[i]];
        int64_t cost = cost_of(in, s);
        if (s->state == INL_MEASURE && cost <= 0 && fits(in, s)) accept(in, s, WHY_TINY);
    }
    if (in->size_mode || !removable(in, f) || in->funcs[f].ncalls != 1) return;
    InlSite *s = &in->sites[in->callee_sites[in->callee_first[f]]];
    if (s->state == INL_MEASURE && fits(in, s)) accept(in, s, WHY_SINGLE);
}

/* ---- the speed levels' budget ---- */

typedef struct Candidate {
    uint32_t depth;
    int64_t cost;
    uint32_t site;
} Candidate;

static int by_priority(const void *a, const void *b) {
    const Candidate *x = a, *y = b;
    if (x->depth != y->depth) return x->depth > y->depth ? -1 : 1;
    if (x->cost != y->cost) return x->cost < y->cost ? -1 : 1;
    return x->site < y->site ? -1 : x->site > y->site;
}

/* True when more than one copy of f's body will exist (it is kept and inlined, or
 * inlined twice): growing it then would cost more than the budget counts. */
static bool copied(const Inliner *in, uint32_t f) {
    const InlFunc *fn = &in->funcs[f];
    bool kept = fn->referenced || fn->ninlined < fn->ncalls;
    return (kept ? 1u : 0u) + fn->ninlined > 1;
}

/* Contract: -O2..-O4: small callees, by priority, while the growth budget lasts. */
static void spend_budget(Inliner *in) {
    Candidate *c = ws_malloc((in->nsites + 1) * sizeof(Candidate));
    uint32_t n = 0;
    for (uint32_t i = 0; i < in->nsites; i++) {
        const InlSite *s = &in->sites[i];
        const InlFunc *b = &in->funcs[s->callee];
        int64_t eff = (int64_t)b->code_size + b->extra, limit = s->loop_depth ? in->max_size : in->max_size / 2;
        if (s->state == INL_MEASURE && s->measured && callee_ok(in, s->callee) && eff <= limit)
            c[n++] = (Candidate){s->loop_depth, cost_of(in, s), i};
    }
    qsort(c, n, sizeof *c, by_priority);
    uint64_t left = in->budget;
    for (uint32_t k = 0; k < n; k++) {
        InlSite *s = &in->sites[c[k].site];
        int64_t cost = cost_of(in, s);
        if (copied(in, s->caller) || (cost > 0 && (uint64_t)cost > left) || !fits(in, s)) continue;
        accept(in, s, s->loop_depth ? WHY_HOT : WHY_SMALL);
        if (cost > 0) left -= (uint64_t)cost;
    }
    free(c);
}

void inline_decide(Inliner *in) {
    for (uint32_t i = 0; i < in->norder; i++) decide_callee(in, in->order[i]);
    if (speed_level(in) && in->max_size) spend_budget(in);
    for (uint32_t i = 0; i < in->nsites; i++)
        if (in->sites[i].state != INL_YES) in->sites[i].state = INL_NO;
}
