/* func.h - the function IR: one function's code as nodes with 32-bit ids.
 *
 * Every instruction is a node.  Nodes sit in sequences (doubly linked through next/prev)
 * in the order the bytecode has them; structured instructions (block, loop, if, try,
 * try_table) own one sequence per arm (then/else, body/catch clauses).  Operands are
 * value references to the nodes that produced them (SSA values of the operand stack,
 * multi-value included); each produced value records its one user.  Locals are slots
 * with def/use chains.  Everything lives in arrays owned by the IrFunc and freed at once.
 *
 * Lowering emits the sequences in order, so an untouched canonical function comes back
 * byte-identical.  Passes keep the stack discipline: a node's operands are the values
 * pushed just before it (the ir_* editing helpers maintain it). */
#ifndef WS_FUNC_H
#define WS_FUNC_H

#include "instr.h"
#include "module.h"

typedef uint32_t NodeId;           /* 0 = none */

/* A value: result `idx` of node `node`, or, when idx has IR_PARAM set, the parameter
 * (block params, caught exception values) number idx & 0xffff of arm (idx >> 16) & 0x7fff
 * of structured node `node`.  node 0 = a value popped from the polymorphic stack of
 * unreachable code (no producer). */
typedef struct ValueRef {
    NodeId node;
    uint32_t idx;
} ValueRef;
#define IR_PARAM 0x80000000u
#define IR_POLY ((ValueRef){0, 0})

/* The one user of a value: node and operand slot.  A value still on the stack when its
 * arm ends is used by the structured node (slot IR_ARM_END | arm << 16 | i); a value of
 * the function body's end by node 0. */
typedef struct IrUse {
    NodeId user;
    uint32_t slot;
} IrUse;
#define IR_ARM_END 0x80000000u

/* One arm of a structured node: its sequence, and the instruction that opened it
 * (else, catch TAG, catch_all; for the first arm, a copy of the opener). */
typedef struct IrArm {
    NodeId first, last;
    uint32_t next;              /* index of the node's next arm in f->arms, 0 = last */
    Instr head;
    uint32_t nparams;           /* values available at its start (block params, payload) */
    ValType *param_types;
} IrArm;

enum {
    IRN_DELEGATE = 1,           /* legacy try closed by delegate (label: ir_delegate) */
    IRN_UNREACHABLE_AFTER = 2,  /* node leaves the stack polymorphic (br, return, ...) */
    IRN_SRC = 4,                /* `in` is exactly the canonical input bytes at in.off,
                                   in.len (of f->src): lowering copies them.  Whoever
                                   changes `in` clears it (ir_touch) */
};

typedef struct IrNode {
    Instr in;                   /* opcode and immediates */
    NodeId next, prev;          /* sequence links */
    NodeId parent;              /* enclosing structured node, 0 = function body */
    uint16_t parent_arm;
    uint16_t flags;
    uint32_t args;              /* operands: f->refs[args .. args + nargs) */
    uint32_t uses;              /* users of results: f->uses[uses .. uses + nres) */
    uint32_t nargs, nres;
    union {                     /* a node is structured, a local access or neither: */
        uint32_t arms;          /* structured: first arm in f->arms (chained by next) */
        NodeId local_next;      /* local.get/set/tee: next get (or set/tee) of the local */
    };
    uint32_t narms;             /* 0 unless structured */
    ValType type;               /* type of result 0 */
} IrNode;                       /* 96 bytes */

/* The label of a try closed by delegate (IRN_DELEGATE): kept in its `in.a`, which a
 * block type's instructions have no other use for. */
static inline uint32_t ir_delegate(const IrNode *n) { return n->in.a; }

typedef struct IrLocal {
    ValType type;
    NodeId first_get, first_set; /* chains through IrNode.local_next; tee counts as set */
    uint32_t ngets, nsets;
} IrLocal;

typedef struct IrLocalGroup { uint32_t count; ValType type; } IrLocalGroup;

typedef struct IrFunc {
    const Module *m;
    uint32_t index;             /* function index in the module */
    const TypeDef *type;
    IrNode *nodes;              /* nodes[0] unused */
    uint32_t nnodes, cap_nodes;
    ValueRef *refs;
    uint32_t nrefs, cap_refs;
    IrUse *uses;
    uint32_t nuses, cap_uses;
    IrArm *arms;                /* arms[0] unused */
    uint32_t narms, cap_arms;
    IrArm body;                 /* the function body's sequence */
    IrLocal *locals;            /* params first, then declared locals */
    uint32_t nlocals, nparams, cap_locals;
    IrLocalGroup *groups;       /* declared locals as the input grouped them */
    uint32_t ngroups;
    uint32_t nbody_results;
    uint32_t body_end_refs;     /* refs of values left at the body's end */
    bool locals_changed;        /* declarations must be rebuilt from `locals` */
    bool checked;               /* ir_build typed every instruction as the validator
                                   does, and all passed: the body it read is valid */
    const uint8_t *src;         /* origin of in.off: the module input, or the body's own
                                   bytes when a pass rewrote it */
    size_t src_len;
    Arena arena;                /* small per-function allocations (types, names) */
    struct IrScratch *scratch;  /* the builder's reusable stacks */
    void *pass_scratch;         /* the arrays of the one pass whose functions this worker's
                                   IrFunc builds, kept from one function to the next; freed
                                   by ir_free with: */
    void (*pass_scratch_free)(void *);
} IrFunc;

static inline IrNode *ir_node(const IrFunc *f, NodeId id) { return &f->nodes[id]; }
/* Zeroes every field of n after its instruction (links, operands, uses, arms, type). */
static inline void ir_node_clear_links(IrNode *n) {
    memset((char *)n + offsetof(IrNode, next), 0, sizeof *n - offsetof(IrNode, next));
}
static inline ValueRef *ir_args(const IrFunc *f, const IrNode *n) { return &f->refs[n->args]; }
static inline IrUse *ir_uses(const IrFunc *f, const IrNode *n) { return &f->uses[n->uses]; }
/* Arm k of structured node n (walks the chain: arms are few). */
static inline IrArm *ir_arm(const IrFunc *f, const IrNode *n, uint32_t k) {
    uint32_t a = n->arms;
    while (k--) a = f->arms[a].next;
    return &f->arms[a];
}
/* Marks node id's instruction as changed: lowering encodes it instead of copying the
 * input bytes it was decoded from.  Call after writing to its `in`. */
static inline void ir_touch(IrFunc *f, NodeId id) { f->nodes[id].flags &= (uint16_t)~IRN_SRC; }
static inline bool ir_is_structured(OpId op) {
    return op == OP_BLOCK || op == OP_LOOP || op == OP_IF || op == OP_TRY || op == OP_TRY_TABLE;
}

/* Builds the IR of defined function `index` of m into f, which must be zeroed or hold
 * a previous function (its arrays are reused: building many functions into one IrFunc
 * allocates almost nothing).  Returns false with *err set on malformed code or on stack
 * misuse the builder cannot model (invalid code).  ir_free releases the arrays. */
bool ir_build(IrFunc *f, const Module *m, uint32_t index, WsError *err);
/* ir_build, typing the body as it goes with the validator's rules for the commonest
 * instructions and number/vector types (about 8% of the build's time): f->checked
 * then tells whether that check covered the whole body and passed, and so the body is
 * valid; when it is false nothing is known and the validator must decide. */
bool ir_build_checked(IrFunc *f, const Module *m, uint32_t index, WsError *err);
/* True (the default): ir_build takes its quick paths (straight-line runs of common
 * instructions with the counters in registers).  Tests clear it to build with the
 * general path alone, which must give the same IR. */
extern bool ir_build_quick;
void ir_free(IrFunc *f);

/* Writes the function body (local declarations and code, without the size prefix). */
void ir_lower(const IrFunc *f, Buf *out);

/* Checks the IR's internal consistency: ids in range, links, parents, def-use both ways,
 * local chains, operand types of typed instructions.  Returns false with a message in
 * msg (size n). */
bool ir_verify(const IrFunc *f, char *msg, size_t n);

/* Deterministic wat-like text with value ids and use counts. */
void ir_print(const IrFunc *f, FILE *out, Bytes name);

/* The type a signature letter of opcodes.def stands for in instruction in ('a': the
 * address type of its memory, 't': the index type of its table). */
ValType ir_sig_type(const Module *m, char ch, const Instr *in);

/* Effect bits of a node (opcode effects; calls carry every effect). */
uint32_t ir_effects(const IrFunc *f, NodeId id);

/* Arity of an instruction in its context: values popped and pushed, and the pushed
 * types in types[0..*npush) when types is non-NULL (capacity max_types).  Needs the
 * function's locals for local.*; returns false for an instruction it cannot type. */
typedef struct IrStackEffect { uint32_t npop, npush; } IrStackEffect;

#endif
