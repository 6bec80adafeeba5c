/* meter_plan.c - where fuel is charged: the segments of a function, grouped into
 * classes that always run together, each class paid once at its first segment.
 *
 *   block                      segments: S0 = A,  S1 = B (after the br_if),
 *     A  br_if 0               S2 = C (after the block)
 *     B                        S2 runs exactly when S0 does: class {S0, S2},
 *   end                        charged before A;  class {S1}, charged after br_if
 *   C
 *
 * A segment is straight-line code: it ends at a branch, a call, a structured node's end
 * or an if's arms.  A call that may throw (meter_calls.c) has an edge to the exit, so
 * nothing after it is paid before it; after one that may not, the code runs whenever
 * the code before it does, unless something traps.
 * Each region (the function body, or one loop body with the back edges as exits and
 * inner loops collapsed to one node that may not terminate) is an acyclic graph in
 * creation order.  Two segments form one class when the first dominates the second
 * and the second post-dominates the first (both in the region's graph, where calls,
 * throws and inner loops have an edge to the exit): then on every path through the
 * region either both run or neither, so paying both at the first is exact whenever
 * the run does not trap.  Where a branch leads only to classes entered from it alone
 * (an if's two arms, the two ways on from a br_if, a br_table's targets), the cheapest
 * of them is paid before the branch and only the rest in the others (hoist_branches):
 *
 *   block                      S0 = A (ends at br_if), S1 = B, S2 = C (only the br_if
 *     block                    goes there: B leaves by br 1); D joins S0's class.
 *       A  br_if 0             Charges: A+D+min(B,C) before A, B-min in S1, C-min
 *       B  br 1                in S2: two charges instead of three, one when B = C
 *     end                      ("both arms paid at their join when equal")
 *     C
 *   end
 *   D
 *
 * Unreachable segments are never charged.  Lazy mode also finds whether a
 * check at the function's end could ever fail (exit_checked): not when every way there
 * passes a check after the last charge.
 *
 * Lazy mode takes the exits of a loop (a br_if, br or return beyond it) as cold: they
 * are left once per run of the loop, the code after them runs in every other
 * iteration.  A loop region is planned with them as edges (plan A) and without (B);
 * in B the code after a br_if exit joins the class before it, and the exit gives back
 * what was paid ahead for it (refund_exits):
 *
 *   loop                     A: header pays H, after the br_if pays R
 *     H  br_if 1 (exit)      B: header pays H+R (its check adds R back, so that it
 *     R  br_if 0                fails exactly when A's would); the br_if becomes
 *   end                         `if  fuel += R  br 2  end`
 *
 * B is kept only where every other check (calls, throws, bulk operations, inner
 * loops, handlers) would see the fuel as A leaves it there. */
#include "meter.h"
#include <stdlib.h>
#include <stdio.h>

enum {
    SG_VIRT = 1u << 8,
    SG_LOOP = 1u << 9,
    SG_OBSERVED = 1u << 10, /* a check elsewhere may see the fuel it leaves: a call, a
                               tail call, a throw, a bulk operation or import call */
    SG_WAY = 1u << 11,      /* scratch of hoist_branches: a way on already seen */
};
#define NONE UINT32_MAX

typedef struct Seg {
    MeterPos pos;
    uint64_t cost, inner, inner_calls, cc;
    uint32_t flags;
    uint32_t idom, ipdom, leader;
    uint32_t pre, post;          /* numbering in the post-dominator tree */
    uint64_t unseen;             /* of its charge, what a refund may give back: its
                                    check leaves it out (refund_exits) */
    bool reach;
} Seg;

typedef struct Edge { uint32_t from, to; bool exc; } Edge; /* exc: leaves by a throw or tail call */
typedef struct Pend { uint32_t from, next; } Pend;
typedef struct Noted { NodeId node; uint32_t seg; } Noted;
typedef struct Cand { uint32_t from; NodeId node; } Cand; /* a loop exit taken as cold */
/* Per segment, while refund_exits compares the plans: plan A's class (the exits as
 * edges), and the fuel each plan has charged ahead of the code at its start. */
typedef struct RefSeg { uint64_t cc; uint32_t leader; int64_t in_a, in_b; } RefSeg;

typedef struct Frame {
    NodeId node;
    uint32_t arm, k;             /* arm being walked: index in f->arms, ordinal */
    uint32_t pend;               /* pending edges to the join (list in Plan.pend) */
    uint32_t els;                /* if: the else segment */
} Frame;

typedef struct Plan {
    const MeterCtx *mc;
    IrFunc *f;
    FuelPlan *out;
    uint32_t orig_nnodes;
    uint8_t *landing;            /* per node: a try_table catch lands after it */
    uint64_t *loop_len;          /* per loop node: longest path of its region */
    Seg *seg;
    uint32_t nseg, cap_seg, base, cur;
    Edge *edge;
    uint32_t nedge, cap_edge;
    Pend *pend;
    uint32_t npend, cap_pend;
    Frame *fr;
    uint32_t nfr, cap_fr;
    Noted *noted;
    uint32_t nnoted, cap_noted;
    uint32_t *csr, *csr_at;      /* per region: predecessors then successors */
    bool leaf;                   /* lazy mode, no loops or calls: no checks at all */
    uint64_t *loop_calls;        /* per loop node: most calls along a path of its region */
    uint64_t calls_len;          /* the region's most calls along a path */
    uint8_t *loop_leaves;        /* per loop node: may return or throw out of the function */
    bool leaves;                 /* the region being built may return or throw */
    uint8_t *live;               /* per segment of the region: reaches its exit */
    uint8_t *loop_checked;       /* per loop node: left with no charge since a check */
    uint8_t *loop_try;           /* per loop node: a try or try_table is in it (then the
                                    fuel is not cached in it: no cold exits, below) */
    uint32_t *r32;               /* per-region scratch, reused by the function's regions: */
    uint64_t *r64;               /* CSR, post-dominator tree walk, path lengths, flags */
    uint8_t *r8;
    uint32_t cap_r32, cap_r64, cap_r8;
    uint32_t *level, *outer;     /* per structured node: its label's nesting level (1 the
                                    outermost) and that of the outermost loop that is it
                                    or holds it (0: none) */
    uint64_t *per_node;          /* the per-node arrays above (per_node_arrays) */
    uint32_t cap_per_node;
    NodeId root;                 /* the region's loop (0: the function body) */
    bool refunds;                /* lazy mode without a refill import: cold exits */
    bool refunded;               /* the region keeps plan B (refund_exits) */
    Cand *cand;                  /* the region's cold exits */
    uint32_t ncand, cap_cand;
    RefSeg *rs;
    uint32_t cap_rs;
} Plan;

const uint16_t meter_op_kind[OP_COUNT] = {
    [OP_CALL] = MK_CALL, [OP_CALL_INDIRECT] = MK_CALL, [OP_CALL_REF] = MK_CALL,
    [OP_MEMORY_COPY] = MK_BULK, [OP_MEMORY_FILL] = MK_BULK, [OP_MEMORY_INIT] = MK_BULK, [OP_MEMORY_GROW] = MK_BULK,
    [OP_TABLE_COPY] = MK_BULK, [OP_TABLE_FILL] = MK_BULK, [OP_TABLE_INIT] = MK_BULK, [OP_TABLE_GROW] = MK_BULK,
    [OP_BR] = MK_BRANCH, [OP_BR_TABLE] = MK_BRANCH, [OP_BR_IF] = MK_BRANCH | MK_COND,
    [OP_BR_ON_NULL] = MK_BRANCH | MK_COND, [OP_BR_ON_NON_NULL] = MK_BRANCH | MK_COND,
    [OP_BR_ON_CAST] = MK_BRANCH | MK_COND, [OP_BR_ON_CAST_FAIL] = MK_BRANCH | MK_COND,
    [OP_RETURN] = MK_EXIT, [OP_RETURN_CALL] = MK_EXIT | MK_TAIL, [OP_RETURN_CALL_INDIRECT] = MK_EXIT | MK_TAIL,
    [OP_RETURN_CALL_REF] = MK_EXIT | MK_TAIL, [OP_THROW] = MK_EXIT, [OP_RETHROW] = MK_EXIT,
    [OP_THROW_REF] = MK_EXIT, [OP_UNREACHABLE] = MK_EXIT,
    [OP_BLOCK] = MK_STRUCT, [OP_LOOP] = MK_STRUCT | MK_LOOP, [OP_IF] = MK_STRUCT, [OP_TRY] = MK_STRUCT | MK_TRY,
    [OP_TRY_TABLE] = MK_STRUCT | MK_TRY,
};

bool meter_call_may_throw(const MeterCtx *mc, const Instr *in) {
    if (in->op != OP_CALL) return mc->calls.indirect_may_throw;
    return in->a >= mc->m->nfuncs || mc->calls.may_throw[in->a];
}

uint64_t meter_node_cost(const MeterCtx *mc, const IrFunc *f, NodeId id, uint32_t orig_nnodes) {
    return id < orig_nnodes ? mc->costs[ir_node(f, id)->in.op] : 0;
}

static bool is_cond_branch(OpId op) { return meter_op_kind[op] & MK_COND; }

/* True for instructions after which nothing in the function runs (normally). */
static bool is_exit(OpId op) { return meter_op_kind[op] & MK_EXIT; }

/* Contract: a node that gets a check of its own: bulk operations (dynamic charge), and
 * calls to imports (the host then never sees a negative fuel). */
static bool needs_note(const Plan *p, const IrNode *n) {
    OpId op = n->in.op;
    if (meter_is_bulk(op)) return true;
    return (op == OP_CALL || op == OP_RETURN_CALL) && n->in.a < p->mc->nfunc_imports;
}

/* ---- graph construction ---- */

static uint32_t new_seg(Plan *p, MeterPos pos, uint32_t flags) {
    ws_grow((void **)&p->seg, &p->cap_seg, p->nseg + 1, sizeof(Seg));
    Seg *s = &p->seg[p->nseg];
    memset(s, 0, sizeof *s);
    s->pos = pos;
    s->flags = flags;
    return p->nseg++;
}

static void add_edge(Plan *p, uint32_t from, uint32_t to) {
    Edge e = {from, to, false};
    WS_VEC_PUSH(p->edge, p->nedge, p->cap_edge, e);
}

/* Contract: an edge to the region's exit that does not pass the function's end: an
 * exception, or a tail call. */
static void add_exc_edge(Plan *p, uint32_t from) {
    Edge e = {from, NONE, true};
    WS_VEC_PUSH(p->edge, p->nedge, p->cap_edge, e);
}

/* Contract: a pending edge from segment `from` to the join of frame level lvl, or to
 * the region's exit (NONE) when lvl is outside the region. */
static void pend_to(Plan *p, uint32_t lvl, uint32_t from) {
    if (lvl == NONE) { add_edge(p, from, NONE); return; }
    Pend e = {from, p->fr[lvl].pend};
    WS_VEC_PUSH(p->pend, p->npend, p->cap_pend, e);
    p->fr[lvl].pend = p->npend - 1;
}

/* Frame level a branch label names from the innermost frame, NONE when it leaves the
 * region (back edge to the region's loop, outer labels, the function label). */
static uint32_t label_level(const Plan *p, uint32_t depth) {
    return depth < p->nfr ? p->nfr - 1 - depth : NONE;
}

static MeterPos pos_after(const IrFunc *f, NodeId id) {
    const IrNode *n = ir_node(f, id);
    MeterPos pos = {n->parent, n->parent_arm, id};
    return pos;
}

/* Contract: calls fn(p, level, from) for each label of branch node n as seen from a
 * frame stack deeper by `nest` structured nodes than p->nfr (0 inside the region). */
static void branch_labels(Plan *p, const IrNode *n, uint32_t nest, uint32_t from,
                          void (*fn)(Plan *, uint32_t, uint32_t)) {
    const uint8_t *v = n->in.vec;
    for (uint32_t i = 0, count = meter_label_count(n); i < count; i++) {
        uint32_t d = meter_label_next(n, &v, i);
        if (d < nest) continue; /* stays inside */
        fn(p, label_level(p, d - nest), from);
    }
}


/* Contract: the edges of a collapsed inner loop (segment ls) to the joins its branches
 * leave it for: walks the loop's code (explicit stack) for labels beyond the loop. */
static void loop_escapes(Plan *p, NodeId loop, uint32_t ls) {
    IrFunc *f = p->f;
    typedef struct { NodeId node; uint32_t arm; } Open;
    Open *stack = NULL;
    uint32_t sp = 0, cap = 0;
    Open o = {loop, ir_node(f, loop)->arms};
    WS_VEC_PUSH(stack, sp, cap, o);
    NodeId cur = f->arms[o.arm].first;
    for (;;) {
        for (; cur; cur = ir_node(f, cur)->next) {
            const IrNode *n = ir_node(f, cur);
            if (meter_is_branch(n->in.op)) branch_labels(p, n, sp, ls, pend_to);
            if ((meter_op_kind[n->in.op] & MK_STRUCT) && n->arms) {
                Open in = {cur, n->arms};
                WS_VEC_PUSH(stack, sp, cap, in);
                cur = f->arms[n->arms].first;
                break;
            }
        }
        if (cur) continue;
        if (f->arms[stack[sp - 1].arm].next) {
            stack[sp - 1].arm = f->arms[stack[sp - 1].arm].next;
            cur = f->arms[stack[sp - 1].arm].first;
            continue;
        }
        if (--sp == 0) break;
        cur = ir_node(f, stack[sp].node)->next;
    }
    free(stack);
}

/* The number of values branch label d of node n carries (UINT32_MAX when d names no
 * label: an unvalidated body). */
static uint32_t label_arity(const IrFunc *f, const IrNode *n, uint32_t d) {
    NodeId t = meter_label_target(f, n->parent, d);
    if (!t) return d == meter_depth(f, n->parent, 0) ? f->type->nresults : UINT32_MAX;
    const IrNode *tn = ir_node(f, t);
    return tn->in.op == OP_LOOP ? f->arms[tn->arms].nparams : tn->nres;
}

/* Contract: true (and the exit listed in p->cand, not made an edge) when node id of a
 * loop region leaves the loop in a way refund_exits may take as cold: a return, a br
 * beyond the loop, or a br_if beyond it whose label carries no value (the refund then
 * goes in an `if` on its condition).  Leaving the loop happens once per run of it,
 * against every iteration that goes on. */
static bool cold_exit(Plan *p, NodeId id, const IrNode *n) {
    OpId op = n->in.op;
    if (!p->refunds || !p->root || p->loop_try[p->root]) return false;
    if (op != OP_RETURN && op != OP_BR && op != OP_BR_IF) return false;
    if (op != OP_RETURN && n->in.a <= p->nfr) return false; /* inside, or the back edge */
    if (op == OP_BR_IF && label_arity(p->f, n, n->in.a) != 0) return false;
    Cand c = {p->cur, id};
    WS_VEC_PUSH(p->cand, p->ncand, p->cap_cand, c);
    return true;
}

static void note(Plan *p, NodeId id) {
    Noted n = {id, p->cur};
    WS_VEC_PUSH(p->noted, p->nnoted, p->cap_noted, n);
}

/* Contract: opens a block, if, try or try_table; an if splits into its two arms. */
static void open_frame(Plan *p, NodeId id) {
    const IrNode *n = ir_node(p->f, id);
    Frame fr = {id, n->arms, 0, NONE, NONE};
    if (n->in.op == OP_IF) {
        uint32_t then = new_seg(p, (MeterPos){id, 0, 0}, 0);
        fr.els = new_seg(p, (MeterPos){id, 1, 0}, n->narms < 2 ? CP_ELSE : 0);
        add_edge(p, p->cur, then);
        add_edge(p, p->cur, fr.els);
        p->cur = then;
    }
    WS_VEC_PUSH(p->fr, p->nfr, p->cap_fr, fr);
}

/* Contract: one non-structured node (or a loop, collapsed) in the current segment. */
static void walk_node(Plan *p, NodeId id) {
    IrFunc *f = p->f;
    const IrNode *n = ir_node(f, id);
    OpId op = n->in.op;
    bool noted = needs_note(p, n);
    if (noted) note(p, id);
    if (noted || meter_is_call(op) || (is_exit(op) && op != OP_RETURN && op != OP_UNREACHABLE))
        p->seg[p->cur].flags |= SG_OBSERVED;
    if (op == OP_LOOP) {
#ifdef WS_DEBUG
        if (p->loop_len[id] == UINT64_MAX || p->loop_calls[id] == UINT64_MAX) {
            fprintf(stderr, "wasmslim: internal error: loop %u met before it was planned\n", id);
            abort();
        }
#endif
        uint32_t ls = new_seg(p, pos_after(f, id), SG_LOOP);
        p->seg[ls].inner = p->loop_len[id];
        p->seg[ls].inner_calls = p->loop_calls[id];
        add_edge(p, p->cur, ls);
        if (p->loop_leaves[id]) { /* a loop that never ends needs no edge: it never completes */
            add_edge(p, ls, NONE);
            p->leaves = true;
        }
        loop_escapes(p, id, ls);
        p->cur = new_seg(p, pos_after(f, id), 0);
        add_edge(p, ls, p->cur);
    } else if (meter_is_branch(op)) {
        if (!cold_exit(p, id, n)) branch_labels(p, n, 0, p->cur, pend_to);
        if (!is_cond_branch(op)) { p->cur = NONE; return; }
        uint32_t next = new_seg(p, pos_after(f, id), 0);
        add_edge(p, p->cur, next);
        p->cur = next;
    } else if (is_exit(op)) {
        if (op == OP_RETURN) {
            if (!cold_exit(p, id, n)) add_edge(p, p->cur, NONE);
        } else if (op != OP_UNREACHABLE) add_exc_edge(p, p->cur); /* a trap is a dead end: no run completes through it */
        p->leaves |= op != OP_UNREACHABLE;
        p->cur = NONE;
    } else if (meter_is_call(op)) {
        uint32_t next = new_seg(p, pos_after(f, id), CP_AFTER_CALL);
        if (meter_call_may_throw(p->mc, &n->in)) {
            add_exc_edge(p, p->cur);
            p->leaves = true;
        }
        add_edge(p, p->cur, next);
        p->cur = next;
    }
}

/* Contract: the current arm of the top frame ended; moves to its next arm (returning
 * its first node) or closes the frame (returning the node after it). */
static NodeId end_arm(Plan *p) {
    IrFunc *f = p->f;
    Frame *fr = &p->fr[p->nfr - 1];
    const IrNode *n = ir_node(f, fr->node);
    uint32_t next = f->arms[fr->arm].next;
    OpId delim = next ? f->arms[next].head.op : (n->flags & IRN_DELEGATE) ? OP_DELEGATE : OP_END;
    if (p->cur != NONE) {
        p->seg[p->cur].cost += p->mc->costs[delim] * (fr->node < p->orig_nnodes);
        pend_to(p, p->nfr - 1, p->cur);
    }
    if (n->in.op == OP_IF && fr->k == 0 && !next) { /* implicit else: falls into end */
        p->seg[fr->els].cost += p->mc->costs[OP_END];
        pend_to(p, p->nfr - 1, fr->els);
    }
    if (next) {
        fr->arm = next;
        fr->k++;
        if (n->in.op == OP_IF) p->cur = fr->els;
        else { /* a catch arm: entered by an exception */
            p->cur = new_seg(p, (MeterPos){fr->node, fr->k, 0}, CP_CHECK);
            add_edge(p, p->base, p->cur);
        }
        return f->arms[next].first;
    }
    uint32_t join = new_seg(p, pos_after(f, fr->node), 0);
    for (uint32_t e = fr->pend; e != NONE; e = p->pend[e].next) add_edge(p, p->pend[e].from, join);
    if (p->landing[fr->node]) {
        add_edge(p, p->base, join);
        p->seg[join].flags |= CP_CHECK;
    }
    p->cur = join;
    p->nfr--;
    return n->next;
}

/* Contract: builds the segments and edges of the region rooted at loop `root` (0 = the
 * function body); the exit is the last segment. */
static void build_region(Plan *p, NodeId root) {
    IrFunc *f = p->f;
    p->base = new_seg(p, (MeterPos){0, 0, 0}, SG_VIRT);
    uint32_t entry = root ? CP_CHECK | CP_HEADER : p->leaf ? CP_ENTRY : CP_CHECK | CP_ENTRY;
    p->cur = new_seg(p, (MeterPos){root, 0, 0}, entry);
    add_edge(p, p->base, p->cur);
    NodeId cur = root ? f->arms[ir_node(f, root)->arms].first : f->body.first;
    for (;;) {
        for (; cur; cur = ir_node(f, cur)->next) {
            const IrNode *n = ir_node(f, cur);
            if (p->cur == NONE) p->cur = new_seg(p, (MeterPos){n->parent, n->parent_arm, n->prev}, 0);
            p->seg[p->cur].cost += meter_node_cost(p->mc, f, cur, p->orig_nnodes);
            if ((meter_op_kind[n->in.op] & MK_STRUCT) && n->in.op != OP_LOOP) {
                open_frame(p, cur);
                cur = f->arms[n->arms].first;
                break;
            }
            walk_node(p, cur);
        }
        if (cur) continue;
        if (p->nfr == 0) break;
        cur = end_arm(p);
    }
    if (p->cur != NONE) {
        p->seg[p->cur].cost += p->mc->costs[OP_END];
        add_edge(p, p->cur, NONE);
    }
    uint32_t exit = new_seg(p, (MeterPos){0, 0, 0}, SG_VIRT);
    for (uint32_t e = 0; e < p->nedge; e++)
        if (p->edge[e].to == NONE) p->edge[e].to = exit;
}

/* ---- dominators, classes ---- */

/* Contract: CSR of the region's edges: preds of local v in csr[at[v] .. at[v+1]),
 * succs of v in csr[at[n+1+v] .. at[n+2+v]). */
static void build_csr(Plan *p, uint32_t n) {
    uint32_t *at = p->r32, *fill = at + 2 * n + 3, *csr = fill + 2 * n + 3;
    memset(at, 0, (2 * n + 3) * sizeof(uint32_t));
    for (uint32_t e = 0; e < p->nedge; e++) {
        at[p->edge[e].to - p->base + 1]++;
        at[n + 1 + p->edge[e].from - p->base + 1]++;
    }
    for (uint32_t i = 1; i < 2 * n + 3; i++) at[i] += at[i - 1];
    memcpy(fill, at, (2 * n + 3) * sizeof(uint32_t));
    for (uint32_t e = 0; e < p->nedge; e++) {
        uint32_t from = p->edge[e].from - p->base, to = p->edge[e].to - p->base;
        csr[fill[to]++] = from;
        csr[fill[n + 1 + from]++] = to;
    }
    p->csr = csr;
    p->csr_at = at;
}

static uint32_t meet_dom(const Seg *s, uint32_t a, uint32_t b) {
    while (a != b) {
        while (a > b) a = s[a].idom;
        while (b > a) b = s[b].idom;
    }
    return a;
}

static uint32_t meet_pdom(const Seg *s, uint32_t a, uint32_t b) {
    while (a != b) {
        while (a < b) a = s[a].ipdom;
        while (b < a) b = s[b].ipdom;
    }
    return a;
}

/* Contract: reachability and immediate dominators in creation (topological) order,
 * then immediate post-dominators in reverse order over the live segments (those from
 * which the exit can be reached: a segment ending in a trap is not, and post-dominance
 * speaks of the runs that complete).  s is the region's segments. */
static void dominators(Plan *p, Seg *s, uint32_t n) {
    const uint32_t *at = p->csr_at, *csr = p->csr;
    s[0].reach = true;
    s[0].idom = 0;
    for (uint32_t v = 1; v < n; v++) {
        uint32_t d = NONE;
        for (uint32_t i = at[v]; i < at[v + 1]; i++) {
            uint32_t u = csr[i];
            if (!s[u].reach) continue;
            d = d == NONE ? u : meet_dom(s, d, u);
        }
        s[v].reach = d != NONE;
        s[v].idom = d;
    }
    uint8_t *live = p->live;
    live[n - 1] = 1;
    s[n - 1].ipdom = n - 1;
    for (uint32_t v = n - 1; v-- > 0;) {
        uint32_t d = NONE;
        for (uint32_t i = at[n + 1 + v]; i < at[n + 2 + v]; i++) {
            if (!live[csr[i]]) continue;
            d = d == NONE ? csr[i] : meet_pdom(s, d, csr[i]);
        }
        live[v] = d != NONE;
        s[v].ipdom = d == NONE ? n - 1 : d;
    }
}

/* Contract: pre/post numbers of the post-dominator tree (children of v: the reachable
 * u with ipdom u = v), for O(1) "a post-dominates b" tests; tmp has room for 3(n+1). */
static void number_pdom_tree(Seg *s, uint32_t n, uint32_t *tmp) {
    uint32_t *first = tmp, *next = tmp + n + 1;
    for (uint32_t v = 0; v < n; v++) first[v] = NONE;
    for (uint32_t v = n - 1; v-- > 0;) {
        if (!s[v].reach) continue;
        next[v] = first[s[v].ipdom];
        first[s[v].ipdom] = v;
    }
    uint32_t *stack = tmp + 2 * (n + 1), sp = 0, clock = 0;
    stack[sp++] = n - 1;
    s[n - 1].pre = clock++;
    while (sp) {
        uint32_t v = stack[sp - 1], c = first[v];
        if (c == NONE) { s[v].post = clock++; sp--; continue; }
        first[v] = next[c];
        s[c].pre = clock++;
        stack[sp++] = c;
    }
}

static bool pdominates(const Seg *s, uint32_t a, uint32_t b) {
    return s[a].pre <= s[b].pre && s[b].post <= s[a].post;
}

/* Contract: leaders and class charges: a live v joins the class of its nearest real
 * dominator (inner loops are passed through) when it post-dominates it.  A loop that
 * cannot return or throw has no edge to the exit: the code after it is paid before it,
 * which is exact for every run that completes (one that never leaves the loop does not). */
static void classes(Seg *s, uint32_t n, const uint8_t *live) {
    for (uint32_t v = 1; v + 1 < n; v++) {
        s[v].leader = v;
        if (!s[v].reach || (s[v].flags & SG_LOOP)) continue;
        uint32_t d = s[v].idom;
        while (d != 0 && (s[d].flags & SG_LOOP)) d = s[d].idom;
        if (d != 0 && live[v] && pdominates(s, v, d)) s[v].leader = s[d].leader;
        s[s[v].leader].cc += s[v].cost;
    }
}

/* True when segment w, a successor of v, leads a class that runs only when v branches
 * to it: v is its one predecessor, and it is neither an inner loop nor the end. */
static bool entered_from(const Plan *p, const Seg *s, uint32_t n, uint32_t v, uint32_t w) {
    if (w == v || w + 1 >= n || !s[w].reach || s[w].leader != w || (s[w].flags & SG_LOOP)) return false;
    for (uint32_t i = p->csr_at[w]; i < p->csr_at[w + 1]; i++)
        if (p->csr[i] != v && s[p->csr[i]].reach) return false;
    return true;
}

/* Contract: where every way out of segment v leads to a class entered only from v (an
 * if's arms, a br_if's two continuations, a br_table's targets), the cheapest of those
 * classes is paid with v's class and only the rest in the others: one charge fewer.
 * Latest segments first, so that what an inner branch hoists may go further out. */
static void hoist_branches(Plan *p, Seg *s, uint32_t n) {
    const uint32_t *at = p->csr_at + n + 1, *csr = p->csr;
    for (uint32_t v = n - 1; v-- > 1;) {
        if (!s[v].reach || (s[v].flags & SG_LOOP) || at[v + 1] - at[v] < 2) continue;
        uint64_t m = UINT64_MAX;
        uint32_t ways = 0;
        for (uint32_t i = at[v]; i < at[v + 1]; i++) { /* each way once: a br_table may repeat it */
            Seg *w = &s[csr[i]];
            if (w->flags & SG_WAY) continue;
            w->flags |= SG_WAY;
            ways++;
            if (m == 0) continue;
            if (!entered_from(p, s, n, v, csr[i])) m = 0;
            else if (w->cc < m) m = w->cc;
        }
        bool hoist = ways >= 2 && m != 0;
        for (uint32_t i = at[v]; i < at[v + 1]; i++) {
            Seg *w = &s[csr[i]];
            if (hoist && (w->flags & SG_WAY)) w->cc -= m;
            w->flags &= ~(uint32_t)SG_WAY;
        }
        if (hoist) s[s[v].leader].cc += m;
    }
}

/* Contract: longest charge sum from the entry to each segment (the region's is the
 * exit's), and separately the most calls along a path (p->calls_len).  Also tracks
 * the largest charge at a check point. */
static uint64_t longest_path(Plan *p, Seg *s, uint32_t n) {
    const uint32_t *at = p->csr_at, *csr = p->csr;
    uint64_t *dist = p->r64, *calls = dist + n + 1;
    memset(dist, 0, (2 * n + 2) * sizeof(uint64_t));
    for (uint32_t v = 1; v < n; v++) {
        if (!s[v].reach) continue;
        uint64_t best = 0, most = 0;
        for (uint32_t i = at[v]; i < at[v + 1]; i++) {
            if (!s[csr[i]].reach) continue;
            if (dist[csr[i]] > best) best = dist[csr[i]];
            if (calls[csr[i]] > most) most = calls[csr[i]];
        }
        uint64_t own = s[v].leader == v ? s[v].cc : 0;
        dist[v] = best + own + s[v].inner;
        calls[v] = most + ((s[v].flags & CP_AFTER_CALL) ? 1 : 0) + s[v].inner_calls;
        if ((s[v].flags & CP_CHECK) && own > p->out->largest_point) p->out->largest_point = own;
    }
    uint64_t len = dist[n - 1];
    p->calls_len = calls[n - 1];
    return len;
}

/* Contract: the charges of the region's classes, and its noted nodes that are reached,
 * less the calls to imports a check at the start of their segment covers already (lazy:
 * nothing is charged between, their segment is straight-line code). */
static void emit_region(Plan *p, Seg *s, uint32_t n, uint32_t first_note) {
    bool lazy = p->mc->opt->fuel_mode == FUEL_LAZY;
    for (uint32_t v = 1; v + 1 < n; v++) {
        if (!s[v].reach || s[v].leader != v || (s[v].flags & SG_LOOP)) continue;
        bool check = lazy && (s[v].flags & CP_CHECK);
        if (s[v].cc == 0 && !check) continue;
        Charge c = {s[v].pos, s[v].cc, s[v].flags & (CP_CHECK | CP_HEADER | CP_AFTER_CALL | CP_ELSE | CP_ENTRY),
                    s[v].unseen};
        WS_VEC_PUSH(p->out->charges, p->out->ncharges, p->out->cap_charges, c);
    }
    for (uint32_t i = first_note; i < p->nnoted; i++) {
        uint32_t v = p->noted[i].seg - p->base;
        if (!s[v].reach) continue;
        bool bulk = meter_is_bulk(ir_node(p->f, p->noted[i].node)->in.op);
        bool first = i == first_note || p->noted[i - 1].seg != p->noted[i].seg;
        if (!bulk && first && lazy && s[v].leader == v && (s[v].flags & CP_CHECK))
            continue; /* its segment's check, at its start, is still current */
        WS_VEC_PUSH(p->out->reached, p->out->nreached, p->out->cap_reached, p->noted[i].node);
    }
}

/* Contract: true when call node id returns with no charge made since a check (lazy
 * mode): a direct call to a function that returns checked (meter_calls.c). */
static bool call_returns_checked(const Plan *p, NodeId id) {
    const Instr *in = &ir_node(p->f, id)->in;
    return in->op == OP_CALL && in->a < p->mc->m->nfuncs && p->mc->calls.returns_checked[in->a];
}

/* Contract: (lazy mode) true when every edge to the region's exit but throws and tail
 * calls (falling off the end, return, a branch to a label outside the region: for the
 * function body, the ways to the function's end; for a loop, its back edges too)
 * leaves a segment where no charge was made since the last check, so that a check
 * there would always pass.  A segment is checked after its own check (entry, loop
 * header, handler), after a call that returns checked, after an inner loop left
 * checked, or when each of its predecessors is and it charges nothing; after a charge
 * without a check or any other call it is not.  s is the region's n segments. */
static bool exit_checked(const Plan *p, const Seg *s, uint32_t n) {
    const uint32_t *at = p->csr_at, *csr = p->csr;
    uint8_t *ok = p->r8 + n + 1;
    memset(ok, 0, n + 1);
    ok[0] = 1; /* the virtual entry: nothing charged yet */
    for (uint32_t v = 1; v + 1 < n; v++) {
        if (!s[v].reach) continue;
        if (s[v].flags & SG_LOOP) { /* its header checks; what matters is how it is left */
            ok[v] = p->loop_checked[s[v].pos.after];
            continue;
        }
        bool in = true;
        for (uint32_t i = at[v]; i < at[v + 1] && in; i++) in = !s[csr[i]].reach || ok[csr[i]];
        if (s[v].flags & CP_AFTER_CALL) in = call_returns_checked(p, s[v].pos.after);
        if (s[v].leader == v && (s[v].flags & CP_CHECK)) in = !s[v].unseen; /* unseen: checked as far as plan A goes */
        else if (s[v].leader == v && s[v].cc) in = false;
        ok[v] = in;
    }
    bool all = true;
    for (uint32_t e = 0; e < p->nedge && all; e++) {
        uint32_t from = p->edge[e].from - p->base;
        if (p->edge[e].to - p->base == n - 1 && !p->edge[e].exc && s[from].reach) all = ok[from];
    }
    for (uint32_t i = 0; p->refunded && i < p->ncand && all; i++) { /* cold exits: after their refund */
        uint32_t from = p->cand[i].from - p->base;
        if (s[from].reach) all = ok[from];
    }
    return all;
}

/* Contract: the classes and their charges of the region's n segments s over the edges
 * in p->edge (segments' cc all 0 before). */
static void analyse(Plan *p, Seg *s, uint32_t n) {
    build_csr(p, n);
    p->live = p->r8;
    memset(p->live, 0, n + 1);
    dominators(p, s, n);
    number_pdom_tree(s, n, p->csr + 2 * p->nedge + 1);
    classes(s, n, p->live);
    hoist_branches(p, s, n);
}

/* What segment v of the region charges when a plan gives it `leader` and `cc` (the
 * class it leads, as emit_region pays it). */
static int64_t charge_of(const Seg *s, uint32_t v, uint32_t n, uint32_t leader, uint64_t cc) {
    bool paid = v > 0 && v + 1 < n && s[v].reach && leader == v && !(s[v].flags & SG_LOOP);
    return paid ? (int64_t)cc : 0;
}
static int64_t charge_b(const Seg *s, uint32_t v, uint32_t n) { return charge_of(s, v, n, s[v].leader, s[v].cc); }
static int64_t charge_a(const Seg *s, const RefSeg *r, uint32_t v, uint32_t n) {
    return charge_of(s, v, n, r[v].leader, r[v].cc);
}
static int64_t out_a(const Seg *s, const RefSeg *r, uint32_t v, uint32_t n) {
    return r[v].in_a + charge_a(s, r, v, n) - (int64_t)s[v].cost;
}
static int64_t out_b(const Seg *s, const RefSeg *r, uint32_t v, uint32_t n) {
    return r[v].in_b + charge_b(s, v, n) - (int64_t)s[v].cost;
}

/* Contract: the fuel each plan has charged ahead of the code run at the start of every
 * reachable segment (r[].in_a, r[].in_b), over plan B's edges in creation (topological)
 * order; false when a segment's predecessors disagree, a value is negative or anything
 * is still ahead at the region's end: then plan B is not used. */
static bool ahead_of_code(const Plan *p, const Seg *s, RefSeg *r, uint32_t n) {
    const uint32_t *at = p->csr_at, *csr = p->csr;
    r[0].in_a = r[0].in_b = 0;
    for (uint32_t v = 1; v < n; v++) {
        bool first = true;
        for (uint32_t i = at[v]; i < at[v + 1]; i++) {
            uint32_t u = csr[i];
            if (!s[u].reach) continue;
            int64_t a = out_a(s, r, u, n), b = out_b(s, r, u, n);
            if (first) r[v].in_a = a, r[v].in_b = b;
            else if (a != r[v].in_a || b != r[v].in_b) return false;
            first = false;
        }
        if (first) r[v].in_a = r[v].in_b = 0;
        if (!s[v].reach) continue;
        if (r[v].in_a < 0 || r[v].in_b < 0 || out_a(s, r, v, n) < 0 || out_b(s, r, v, n) < 0) return false;
    }
    return r[n - 1].in_a == 0 && r[n - 1].in_b == 0;
}

/* Contract: (plan B in s, A's classes in r, ahead_of_code done) true when B may be
 * used: every check sees the fuel as in plan A (what B charged ahead that a refund may
 * give back, constant along a segment, is nothing wherever a check elsewhere may see
 * the fuel: calls, throws, bulk operations, inner loops, handlers; at the region's
 * header it is the check's `unseen`), and each cold exit leaves nothing charged ahead in
 * A.  Records the header's unseen amount and the refunds. */
static bool refunds_sound(Plan *p, Seg *s, const RefSeg *r, uint32_t n) {
    for (uint32_t v = 1; v + 1 < n; v++) {
        if (!s[v].reach) continue;
        int64_t extra = r[v].in_b + charge_b(s, v, n) - r[v].in_a - charge_a(s, r, v, n);
        if (extra < 0) return false;
        bool seen = (s[v].flags & (SG_OBSERVED | SG_LOOP)) || ((s[v].flags & CP_CHECK) && v != 1);
        if (seen && extra) return false;
        if (v == 1) s[v].unseen = (uint64_t)extra;
    }
    for (uint32_t i = 0; i < p->ncand; i++) {
        uint32_t u = p->cand[i].from - p->base;
        if (s[u].reach && out_a(s, r, u, n) != 0) return false;
    }
    for (uint32_t i = 0; i < p->ncand; i++) {
        uint32_t u = p->cand[i].from - p->base;
        int64_t back = s[u].reach ? out_b(s, r, u, n) : 0;
        if (back == 0) continue;
        /* a br or return ends its segment, which leads a class of its own (nothing
         * follows it), checks nothing and has no observer (back would be 0): its
         * charge and its refund become one */
        if (ir_node(p->f, p->cand[i].node)->in.op != OP_BR_IF && !(s[u].flags & CP_CHECK)) {
            uint64_t cc = s[u].cc;
            s[u].cc = (uint64_t)back <= cc ? cc - (uint64_t)back : 0;
            back = (uint64_t)back <= cc ? 0 : back - (int64_t)cc;
            if (back == 0) continue;
        }
        Refund f = {p->cand[i].node, (uint64_t)back};
        WS_VEC_PUSH(p->out->refunds, p->out->nrefunds, p->out->cap_refunds, f);
    }
    return true;
}

/* Contract: plan A (the region analysed with its cold exits as edges to its end) in s
 * becomes plan B, analysed without them, when B is sound (refunds_sound): B pays the
 * code after a cold exit with what comes before it, so that each iteration that goes
 * on pays once where A paid twice or more, and the exit gives back what it skips.
 * Else s holds plan A again (its classes, and its edges in p->edge; what the analyses
 * after read of the CSR, the segments' predecessors but the end's, is the same in
 * both).  Returns whether B is kept. */
static bool refund_exits(Plan *p, Seg *s, uint32_t n) {
    ws_grow((void **)&p->rs, &p->cap_rs, n, sizeof(RefSeg));
    RefSeg *r = p->rs;
    for (uint32_t v = 0; v < n; v++) {
        r[v].cc = s[v].cc;
        r[v].leader = s[v].leader;
        s[v].cc = 0;
    }
    uint32_t nedge = p->nedge;
    p->nedge -= p->ncand; /* the cold exits' edges came last */
    analyse(p, s, n);
    uint32_t nrefunds = p->out->nrefunds;
    if (ahead_of_code(p, s, r, n) && refunds_sound(p, s, r, n)) return true;
    p->out->nrefunds = nrefunds;
    for (uint32_t v = 0; v < n; v++) {
        s[v].cc = r[v].cc;
        s[v].leader = r[v].leader;
        s[v].unseen = 0;
    }
    p->nedge = nedge; /* (the CSR stays B's: its predecessors differ from A's only at the end) */
    return false;
}

/* Contract: builds and analyses one region; returns its longest path. */
static uint64_t plan_region(Plan *p, NodeId root) {
    uint32_t first_note = p->nnoted;
    p->nedge = 0;
    p->nfr = 0;
    p->leaves = false;
    p->ncand = 0;
    p->root = root;
    p->refunded = false;
    build_region(p, root);
    uint32_t n = p->nseg - p->base;
    Seg *s = p->seg + p->base;
    for (uint32_t i = 0; i < p->ncand; i++) add_edge(p, p->cand[i].from, p->nseg - 1); /* plan A */
    ws_grow((void **)&p->r32, &p->cap_r32, 2 * (2 * n + 3) + 2 * p->nedge + 1 + 3 * (n + 1), sizeof(uint32_t));
    ws_grow((void **)&p->r64, &p->cap_r64, 2 * n + 2, sizeof(uint64_t));
    ws_grow((void **)&p->r8, &p->cap_r8, 2 * (n + 1), 1);
    analyse(p, s, n);
    uint64_t len = longest_path(p, s, n); /* plan A's: the checks see the fuel as A has it */
    if (p->ncand) p->refunded = refund_exits(p, s, n);
    bool checked = p->mc->opt->fuel_mode == FUEL_LAZY && exit_checked(p, s, n);
    if (root == 0) p->out->exit_checked = checked;
    else p->loop_checked[root] = checked;
    emit_region(p, s, n, first_note);
    p->nseg = p->base; /* segments are per region */
    return len;
}

/* Contract: node id's part in FuelPlan.whole_less_loops (the bytes keeping the fuel
 * in a local in the whole function adds, less keeping it there in the loops only):
 * whole, a call outside loops writes the local back and reads it again (8) and a
 * return, tail call or throw there writes it back (4); loops only, each outermost loop
 * reads it before and writes it after (8) and each branch that leaves the loops for
 * code outside them writes it back (4).  Sets a structured node's levels (Plan). */
static int64_t layout_bytes(Plan *p, NodeId id, const IrNode *n, uint32_t kind) {
    if (!(kind & (MK_STRUCT | MK_CALL | MK_EXIT | MK_BRANCH))) return 0;
    uint32_t par = n->parent;
    int64_t d = 0;
    if (kind & MK_STRUCT) {
        p->level[id] = p->level[par] + 1;
        p->outer[id] = p->outer[par] ? p->outer[par] : n->in.op == OP_LOOP ? p->level[id] : 0;
        if (n->in.op == OP_LOOP && !p->outer[par]) d -= 8;
    }
    if (!p->outer[par]) {
        if (kind & MK_CALL) d += 8;
        else if ((kind & MK_EXIT) && n->in.op != OP_UNREACHABLE) d += 4;
        return d;
    }
    if (!(kind & MK_BRANCH)) return d;
    const uint8_t *v = n->in.vec;
    uint32_t level = p->level[par];
    for (uint32_t k = 0, labels = meter_label_count(n); k < labels; k++) {
        uint32_t depth = meter_label_next(n, &v, k);
        if (depth < level && level - depth < p->outer[par]) return d - 4; /* not the function's label */
    }
    return d;
}

/* Contract: marks the structured nodes try_table catch clauses land after, lists the
 * loops in preorder, and adds up the nodes' layout_bytes. */
static void scan(Plan *p, const NodeId *order, uint32_t count, NodeId **loops, uint32_t *nloops) {
    IrFunc *f = p->f;
    NodeId *stack = ws_malloc((f->nnodes + 1) * sizeof(NodeId));
    uint32_t cap = 0, seen = 0;
    for (uint32_t i = 0; i < count; i++) {
        const IrNode *n = ir_node(f, order[i]);
        uint32_t kind = meter_op_kind[n->in.op];
        seen |= kind;
        p->out->whole_less_loops += layout_bytes(p, order[i], n, kind);
        if (!(kind & (MK_LOOP | MK_TRY))) continue;
        if (n->in.op == OP_LOOP) WS_VEC_PUSH(*loops, *nloops, cap, order[i]);
        if (n->in.op == OP_LOOP) continue;
        for (NodeId a = n->parent; a && !p->loop_try[a]; a = ir_node(f, a)->parent)
            if (ir_node(f, a)->in.op == OP_LOOP) p->loop_try[a] = 1;
        if (n->in.op != OP_TRY_TABLE) continue;
        uint32_t sp = 0;
        for (NodeId a = n->parent; a; a = ir_node(f, a)->parent) stack[sp++] = a;
        const uint8_t *v = n->in.vec;
        for (uint32_t k = 0; k < n->in.n; k++) {
            Catch c = catch_next(&v);
            if (c.label < sp) p->landing[stack[c.label]] = 1;
        }
    }
    p->out->has_calls = seen & (MK_CALL | MK_TAIL);
    p->out->has_loops = seen & MK_LOOP;
    p->out->has_try = seen & MK_TRY;
    free(stack);
}

/* Contract: the function body's charges (from index `first`: all outside loops) in
 * FuelPlan.whole_less_loops: the entry reads the local and the exit writes it back (8),
 * a charge right after a call reads the global itself instead of the local being read
 * again first (-4), and a check tests the local in place (`local.tee $f  i64.clz
 * i64.eqz  br_if`), 4 bytes less than storing the global, reading it back and
 * trapping in an `if` (-4). */
static void layout_charges(Plan *p, uint32_t first) {
    FuelPlan *out = p->out;
    bool exact = p->mc->opt->fuel_mode == FUEL_EXACT;
    out->whole_less_loops += 8;
    for (uint32_t i = first; i < out->ncharges; i++) {
        const Charge *c = &out->charges[i];
        if (c->pos.after && c->amount && meter_is_call(ir_node(p->f, c->pos.after)->in.op)) out->whole_less_loops -= 4;
        if (exact || (c->flags & CP_CHECK)) out->whole_less_loops -= 4;
    }
}

/* The plan's growable arrays: a function's plan takes them from the worker's pass
 * scratch and gives them back, grown, for the next (not allocated for every function:
 * ruby.wasm has 17,490), unless the function was one of the few large enough that
 * keeping its arrays would hold memory the other functions never need. */
#define PLAN_ARRAYS(X) X(seg) X(edge) X(pend) X(fr) X(noted) X(r32) X(r64) X(r8) X(per_node) X(cand) X(rs)
enum { PLAN_KEEP_NODES = 1 << 14 };

static void plan_arrays_free(void *arg) {
    Plan *kept = arg;
    if (!kept) return;
#define FREE_ONE(name) free(kept->name);
    PLAN_ARRAYS(FREE_ONE)
#undef FREE_ONE
    free(kept);
}

/* Contract: p (blank) gets the arrays f's worker kept (a Plan of which only they are
 * used), or none the first time. */
static void plan_arrays_take(Plan *p, IrFunc *f) {
    if (!f->pass_scratch) {
        f->pass_scratch = ws_calloc(1, sizeof(Plan));
        f->pass_scratch_free = plan_arrays_free;
    }
    Plan *kept = f->pass_scratch;
#define TAKE_ONE(name) p->name = kept->name; p->cap_##name = kept->cap_##name;
    PLAN_ARRAYS(TAKE_ONE)
#undef TAKE_ONE
}

static void plan_arrays_give_back(const Plan *p, IrFunc *f) {
    Plan *kept = f->pass_scratch;
#define GIVE_ONE(name) kept->name = p->name; kept->cap_##name = p->cap_##name;
    PLAN_ARRAYS(GIVE_ONE)
#undef GIVE_ONE
    if (p->orig_nnodes <= PLAN_KEEP_NODES) return;
    plan_arrays_free(kept); /* the next function starts afresh */
    f->pass_scratch = NULL;
}

/* Contract: the per-node arrays (loop lengths, calls, flags, landings) carved from one
 * kept block; the flags zeroed, the loops' lengths and calls and the levels not:
 * fuel_plan writes a loop's before any region that holds it is planned (inner loops
 * first), and only loops' are read (zeroing them was 16 of every 19 bytes, 140 MB on
 * ruby.wasm); scan writes a structured node's levels before its children read them. */
static void per_node_arrays(Plan *p, uint32_t nnodes) {
    uint32_t n = nnodes + 1, words = 3 * n + (4 * n + 7) / 8;
    ws_grow((void **)&p->per_node, &p->cap_per_node, words, sizeof(uint64_t));
    p->loop_len = p->per_node;
    p->loop_calls = p->per_node + n;
    p->level = (uint32_t *)(p->per_node + 2 * n);
    p->outer = p->level + n;
    p->level[0] = p->outer[0] = 0;
    p->landing = (uint8_t *)(p->per_node + 3 * n);
    p->loop_leaves = p->landing + n;
    p->loop_checked = p->loop_leaves + n;
    p->loop_try = p->loop_checked + n;
    memset(p->landing, 0, 4 * (size_t)n);
#ifdef WS_DEBUG
    memset(p->per_node, 0xff, 2 * (size_t)n * sizeof(uint64_t)); /* read before written: caught */
#endif
}

void fuel_plan(const MeterCtx *mc, IrFunc *f, const NodeId *order, uint32_t count, FuelPlan *out) {
    memset(out, 0, sizeof *out);
    Plan p;
    memset(&p, 0, sizeof p);
    plan_arrays_take(&p, f);
    p.mc = mc;
    p.f = f;
    p.out = out;
    p.orig_nnodes = f->nnodes;
    per_node_arrays(&p, f->nnodes);
    /* room for a typical function's regions at once: the arrays would otherwise be grown
     * by doubling from 8 in every function (ruby.wasm: 277,000 reallocations) */
    uint32_t guess = f->nnodes / 2 + 8;
    ws_grow((void **)&p.seg, &p.cap_seg, guess, sizeof *p.seg);
    ws_grow((void **)&p.edge, &p.cap_edge, guess, sizeof *p.edge);
    ws_grow((void **)&p.pend, &p.cap_pend, guess / 2, sizeof *p.pend);
    ws_grow((void **)&p.fr, &p.cap_fr, 64, sizeof *p.fr);
    NodeId *loops = NULL;
    uint32_t nloops = 0;
    scan(&p, order, count, &loops, &nloops);
    out->leaf = !out->has_calls && !out->has_loops && !out->has_try;
    p.leaf = out->leaf && mc->opt->fuel_mode == FUEL_LAZY;
    p.refunds = mc->opt->fuel_mode == FUEL_LAZY && !mc->refill;
    for (uint32_t i = nloops; i-- > 0;) {
        p.loop_len[loops[i]] = plan_region(&p, loops[i]);
        p.loop_calls[loops[i]] = p.calls_len;
        p.loop_leaves[loops[i]] = p.leaves;
    }
    uint32_t outside = out->ncharges;
    out->longest_path = plan_region(&p, 0);
    layout_charges(&p, outside);
    out->most_calls = p.calls_len;
    free(loops);
    plan_arrays_give_back(&p, f);
}

void fuel_plan_free(FuelPlan *plan) {
    free(plan->charges);
    free(plan->reached);
    free(plan->refunds);
    memset(plan, 0, sizeof *plan);
}
