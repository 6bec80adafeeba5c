/* meter.h - internals shared by the files of the metering pass (passes/meter*.c):
 * the module-level facts the function transform reads, the fuel plan, and a small
 * stack-machine emitter that appends instructions to the IR.  See meter.c for what the
 * pass injects and the host ABI. */
#ifndef WS_METER_H
#define WS_METER_H

#include "pass.h"
#include "../ir/edit.h"

/* What the call graph tells the plan (meter_calls.c), per function index. */
typedef struct MeterCalls {
    uint8_t *may_throw;           /* a call to it may end in an exception */
    uint8_t *returns_checked;     /* lazy mode: a call to it returns with no charge made
                                     since a check (a defined non-leaf without tail calls) */
    bool indirect_may_throw;      /* so may call_indirect and call_ref */
} MeterCalls;

/* Scans every body (on up to `jobs` threads) and fills *out; meter_calls_free
 * releases it. */
void meter_calls(const Module *m, uint32_t jobs, MeterCalls *out);
void meter_calls_free(MeterCalls *c);

/* Everything the per-function transform needs; read-only while functions run, except
 * the per-function result slots (each written by its own function only). */
typedef struct MeterCtx {
    const MeterOptions *opt;
    const Module *m;
    uint32_t costs[OP_COUNT];     /* cost per executed instruction, by opcode */
    uint32_t nfunc_imports;       /* function imports before the pass */
    bool fuel, stack, mem_cap;
    bool refill;                  /* --fuel-import: call the host when fuel runs out */
    uint64_t per_byte;            /* K of the dynamic charges (0: none) */
    uint32_t fuel_global, stack_global;
    uint32_t refill_func;         /* final index of the refill helper */
    uint32_t shift;               /* 1 when the fuel import shifts defined functions */
    uint32_t *block_type;         /* per type index: type of a [] -> results block, or ~0u */
    /* per defined function (index - nfunc_imports): for the lazy overrun bound */
    uint64_t *longest_path;       /* largest charge sum along a loop-free path */
    uint64_t *largest_point;      /* largest charge at a check point (entry, handler) */
    uint64_t *most_calls;         /* most calls along a loop-free path */
    uint8_t *leaf;                /* no loops, calls or handlers (lazy mode: no checks) */
    uint32_t *charges, *refunds;  /* charges that pay something, refunded loop exits (--stats) */
    MeterCalls calls;             /* what the call graph tells (meter_calls.c) */
} MeterCtx;
/* True when call node `in` (call, call_indirect, call_ref) may end in an exception. */
bool meter_call_may_throw(const MeterCtx *mc, const Instr *in);

/* Runs on every defined function (pass_for_each_function); ctx is the MeterCtx. */
bool meter_function(IrFunc *f, void *ctx, WsError *err);

/* ---- insertion positions and the emitter (meter_emit.c) ---- */

/* A point in a sequence: in arm `arm` of structured node parent (0 = the function
 * body), after node `after` (0 = at the arm's start). */
typedef struct MeterPos {
    NodeId parent;
    uint32_t arm;
    NodeId after;
} MeterPos;

/* Appends instructions at a point, keeping a virtual operand stack of the values it
 * produced (and of values pushed with em_push), so that operands are wired by stack
 * order just as the bytecode reads them. */
typedef struct Emit {
    IrFunc *f;
    NodeId parent;
    uint32_t arm;
    NodeId after;           /* last node inserted (or the position's node) */
    ValueRef stack[16];
    uint32_t sp;
} Emit;

void em_at(Emit *e, IrFunc *f, MeterPos p);
void em_before(Emit *e, IrFunc *f, NodeId before);
void em_push(Emit *e, ValueRef v);
/* Appends an instruction taking npop operands from the virtual stack and pushing its
 * nres results (of type t); returns its node. */
NodeId em_op(Emit *e, Instr in, uint32_t npop, uint32_t nres, ValType t);
NodeId em_simple(Emit *e, OpId op);          /* an instruction with a fixed signature */
NodeId em_i32(Emit *e, int32_t v);
NodeId em_i64(Emit *e, int64_t v);
NodeId em_local(Emit *e, OpId op, uint32_t local);   /* local.get / set / tee */
NodeId em_global(Emit *e, OpId op, uint32_t global); /* global.get / set */
NodeId em_br_if(Emit *e, uint32_t depth);
NodeId em_call(Emit *e, uint32_t func, uint32_t npop, uint32_t nres, ValType t);
/* Opens `if` (block type bt, nres results of type t) on the condition on top of the
 * stack; then/else are emitters for its arms (els NULL: no else arm).  em_arm_end gives the values left
 * on an arm's stack to the if node as its results. */
NodeId em_if(Emit *e, BlockType bt, uint32_t nres, ValType t, Emit *then, Emit *els);
void em_arm_end(Emit *arm, NodeId node, uint32_t k);
/* Adds an empty arm (head op) to structured node id; returns its index in f->arms. */
uint32_t em_add_arm(IrFunc *f, NodeId id, OpId head);

/* Label depth of structured node target as seen from inside arm-parent `parent`. */
uint32_t meter_depth(const IrFunc *f, NodeId parent, NodeId target);
/* The structured node branch label `depth` names from inside arm-parent `parent` (the
 * inverse of meter_depth): 0 for the function's label, or a depth past it. */
NodeId meter_label_target(const IrFunc *f, NodeId parent, uint32_t depth);

/* ---- the fuel plan (meter_plan.c) ---- */

enum {
    CP_CHECK = 1,       /* lazy check point: function entry, loop header, handler */
    CP_HEADER = 2,      /* loop header (a write-through point in cached loops) */
    CP_AFTER_CALL = 4,  /* starts right after a call */
    CP_ELSE = 8,        /* the implicit else arm of the if `after`: add the arm first */
    CP_ENTRY = 16,      /* the function's entry */
};

/* One charge: `amount` units at `pos` (with a check in lazy mode when CP_CHECK; the
 * check adds `unseen` back: what a refund may return of the amount). */
typedef struct Charge {
    MeterPos pos;
    uint64_t amount;
    uint32_t flags;
    uint64_t unseen;
} Charge;

/* Lazy mode: fuel given back where a loop is left by a cold exit (a br_if, br or
 * return beyond the loop), which the code after it was paid for in advance. */
typedef struct Refund {
    NodeId node;
    uint64_t amount;
} Refund;

typedef struct FuelPlan {
    Charge *charges;
    uint32_t ncharges, cap_charges;
    NodeId *reached;             /* nodes in reachable code that need a dynamic or call
                                    check (bulk operations, calls to imports, indirect
                                    calls), in bytecode order */
    uint32_t nreached, cap_reached;
    Refund *refunds;             /* before (or, for a br_if, in an `if` on) their node */
    uint32_t nrefunds, cap_refunds;
    uint64_t longest_path;       /* lazy overrun bound, this function's part */
    uint64_t largest_point;
    uint64_t most_calls;         /* most calls along a loop-free path */
    bool has_calls, has_loops, has_try;
    bool leaf;                   /* no loops, calls or handlers: lazy mode checks nothing */
    bool exit_checked;           /* every normal exit follows a check with no charge since
                                    (lazy mode: the check at the exit would always pass) */
    int64_t whole_less_loops;    /* bytes the fuel kept in a local in the whole function
                                    takes, less kept there in its loops only (estimated:
                                    layout_bytes, layout_charges in meter_plan.c) */
} FuelPlan;

/* Computes where fuel is charged in f (before any instrumentation); order is f's
 * preorder (ir_preorder, count nodes). */
void fuel_plan(const MeterCtx *mc, IrFunc *f, const NodeId *order, uint32_t count, FuelPlan *plan);
void fuel_plan_free(FuelPlan *plan);
/* The static cost of node id (0 for nodes the pass added). */
uint64_t meter_node_cost(const MeterCtx *mc, const IrFunc *f, NodeId id, uint32_t orig_nnodes);
/* What the pass asks of an opcode, in one table (meter_plan.c): asked for every node
 * several times over, where a chain of comparisons per question cost 4% of the run. */
enum {
    MK_CALL = 1,      /* call, call_indirect, call_ref (not the tail calls) */
    MK_BULK = 2,      /* memory/table copy, fill, init and grow: pay per byte, element or page too */
    MK_BRANCH = 4,    /* br, br_if, br_table, br_on_* */
    MK_COND = 8,      /* a branch that may fall through: br_if, br_on_* */
    MK_EXIT = 16,     /* nothing after it runs: return, tail calls, throws, unreachable */
    MK_STRUCT = 32,   /* block, loop, if, try, try_table */
    MK_TAIL = 64,     /* return_call, return_call_indirect, return_call_ref */
    MK_LOOP = 128,
    MK_TRY = 256,     /* try, try_table */
};
extern const uint16_t meter_op_kind[OP_COUNT];
static inline bool meter_is_call(OpId op) { return meter_op_kind[op] & MK_CALL; }
static inline bool meter_is_bulk(OpId op) { return meter_op_kind[op] & MK_BULK; }
static inline bool meter_is_branch(OpId op) { return meter_op_kind[op] & MK_BRANCH; }
/* The labels of branch node n: meter_label_count of them, read in turn by
 * meter_label_next from v = n->in.vec (a br_table's targets, then its default). */
static inline uint32_t meter_label_count(const IrNode *n) { return n->in.op == OP_BR_TABLE ? n->in.n + 1 : 1; }
static inline uint32_t meter_label_next(const IrNode *n, const uint8_t **v, uint32_t i) {
    return n->in.op == OP_BR_TABLE && i < n->in.n ? br_table_label_next(v) : n->in.a;
}

/* ---- emitting (meter_fuel.c, meter_frame.c) ---- */

/* What one function's instrumentation works with. */
typedef struct MeterFn {
    const MeterCtx *mc;
    IrFunc *f;
    uint32_t orig_nnodes;
    NodeId body;            /* the $body block wrapping the original code (0 = none) */
    NodeId tail;            /* no $body: the last node of the original code (0 = none) */
    NodeId oof;             /* the block whose end is the out-of-fuel trap (0 = none) */
    uint32_t fuel_local;    /* i64: the cached fuel */
    uint32_t dyn_local;     /* i64: a dynamic charge */
    uint32_t n32_local, n64_local; /* lengths of bulk operations */
    uint32_t entry_local;   /* i32: stack depth at entry */
    uint32_t frame_cost;    /* stack units of this frame */
    uint8_t *cached;        /* per node: structured node inside (or being) a cached loop */
    bool whole_cached;      /* the fuel is in $f in the whole function */
    uint8_t *charged_after; /* per original node: a charge that pays comes right after it */
    bool reload_here;       /* the charge being emitted reads the fuel from the global */
    const NodeId *order0;   /* the preorder of the original code (order0_count nodes) */
    uint32_t order0_count;
    NodeId *cur_after;      /* per node: last node inserted right after it */
    NodeId *cur_arm;        /* per arm: last node inserted at its start */
    uint32_t nnodes_cursor, narms_cursor; /* sizes of cur_after and cur_arm */
} MeterFn;

/* Lowers the plan: charges and checks, dynamic charges, calls to imports checked, the
 * fuel cached in $f (whole function or loops) and kept in step around calls. */
void fuel_emit(MeterFn *mf, const FuelPlan *plan, const NodeId *order, uint32_t count);
/* The position a plan position maps to once the body is wrapped in mf->body. */
MeterPos meter_map_pos(const MeterFn *mf, MeterPos p);
/* An emitter at p (a mapped position) that continues after what was inserted there
 * before; meter_em_done records where it ended. */
void meter_em_at(MeterFn *mf, Emit *e, MeterPos p);
void meter_em_done(MeterFn *mf, const Emit *e, MeterPos p);
void fuel_emit_flush(MeterFn *mf, Emit *e);
/* Contract: once everything is emitted, the write-backs of $f to the fuel global
 * (before calls, branches out of loops, exits) that follow a point where the two were
 * made equal (a write-through at a loop header, a write-back, a reload) with nothing in
 * between that may change either are dropped: stores of the value the global holds. */
void fuel_drop_synced_flushes(MeterFn *mf);
/* `if unreachable end` on the condition on the stack. */
void fuel_emit_trap_if(Emit *e);
/* True when some of f keeps the fuel in $f (a loop, or the whole function: decides
 * mf->whole_cached). */
bool fuel_caches(MeterFn *mf, const FuelPlan *plan); /* on mf->order0 */
bool meter_pos_cached(const MeterFn *mf, NodeId parent);

/* ---- module level (meter_module.c) ---- */

/* A mutable global of type t (i32 or i64) initialised to init; returns its index. */
uint32_t meter_add_global(Module *m, ValType t, int64_t init);
void meter_add_export(Module *m, const char *name, uint8_t kind, uint32_t index);
bool meter_has_export(const Module *m, const char *name);
/* Index of a function type params -> results, added in its own rec group if absent. */
uint32_t meter_func_type(Module *m, const ValType *params, uint32_t np, const ValType *results, uint32_t nr);
/* Inserts a function import at index m->nfunc_imports and renumbers every reference
 * to the defined functions (their bodies must already carry the new indices). */
void meter_insert_import(PassCtx *ctx, Module *m, const char *module, const char *name, uint32_t type);
/* Appends a defined function with the given body (locals + code + end). */
uint32_t meter_add_function(Module *m, uint32_t type, const uint8_t *body, size_t len);
/* A custom section at the end of the module. */

/* ---- the cost table (meter_costs.c) ---- */

void meter_costs_default(uint32_t *costs);
/* Reads a --fuel-costs file over the defaults; false with *err set on a bad file. */
bool meter_costs_load(const char *path, uint32_t *costs, WsError *err);
/* FNV-1a 64 of the table as "name cost\n" lines in opcode order, then the per-byte
 * cost line: names the cost model in the metering custom section. */
uint64_t meter_costs_digest(const uint32_t *costs, uint64_t per_byte);

#endif
