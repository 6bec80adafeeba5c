/* validate_int.h - shared state of the validator's files (validate.c: module level,
 * validate_code.c: the operand/control stack algorithm, validate_instr.c: instruction
 * typing rules).  Not for use outside the validator. */
#ifndef WS_VALIDATE_INT_H
#define WS_VALIDATE_INT_H

#include "instr.h"
#include "module.h"
#include "subtype.h"
#include "validate.h"

/* Kinds of control frames. */
enum {
    FK_FUNC, FK_BLOCK, FK_LOOP, FK_IF, FK_ELSE, FK_TRY, FK_CATCH, FK_CATCH_ALL, FK_TRY_TABLE
};

typedef struct Frame {
    uint8_t kind;           /* FK_* */
    bool unreachable;
    uint32_t height;        /* operand stack height at entry */
    uint32_t init_height;   /* height of the local-initialisation stack at entry */
    uint32_t nparams, nresults;
    const ValType *params;
    const ValType *results; /* NULL: the single result is `one` */
    ValType one;
} Frame;

/* Locals beyond this count are kept as run-length groups (binary search), not expanded. */
enum { LOCALS_DENSE_MAX = 1u << 20 };

/* Operand types of an instruction typed by its opcodes.def signature: parameters and at
 * most one result, as value type codes or SIG_MEM_ADDR / SIG_TABLE_ADDR (the address
 * type of the memory or table immediate); np = SIG_BY_HAND for "*". */
typedef struct OpSig {
    uint8_t np;
    uint8_t p[3];
    uint8_t r;              /* 0: no result */
} OpSig;
enum { SIG_BY_HAND = 0xff, SIG_MEM_ADDR = 1, SIG_TABLE_ADDR = 2 };

/* What the quick path (validate_fast.c) does with a one-byte opcode beyond the ones it
 * handles by name: nothing, its resolved signature, or a memarg then that signature. */
enum { QK_NONE, QK_SIG, QK_MEMARG };

typedef struct Validator {
    const Module *m;
    WsError *err;
    TypeSpace ts;
    uint8_t *declared;          /* per function: in C.refs (may be taken by ref.func) */
    bool skip_bodies;           /* module-level checks only (code is copied, not decoded) */
    uint8_t align[OP_COUNT];    /* memory instructions: log2 of the natural alignment */
    uint8_t lanes[OP_COUNT];    /* lane-indexed instructions: number of lanes */
    OpSig sigs[OP_COUNT];
    bool numeric[OP_COUNT];     /* typed by a signature of number/vector types alone, with
                                   no immediate to check (i32.add, f64.const, ...) */
    uint8_t qkind[256];         /* quick path, by first byte: QK_* */
    OpSig qsig[256];            /* its signature, memory 0's address type filled in */
    uint16_t qop[256];          /* its OpId */

    /* Everything from here on is the state of one thread checking code (bodies are
     * checked in parallel, each worker with a copy of the fields above). */
    /* operand and control stacks, reused from function to function */
    ValType *vals;
    uint32_t nvals, vals_cap;
    Frame *ctrls;
    uint32_t nctrls, ctrls_cap;

    /* locals of the current function: dense (ltypes/linit) or grouped (lgroup_end/type) */
    uint64_t nlocals;
    uint32_t nparams;
    bool dense;
    ValType *ltypes;
    uint8_t *linit;
    uint32_t ltypes_cap;
    uint32_t *lgroup_end;       /* exclusive end index of each group (params are group 0) */
    ValType *lgroup_type;
    uint32_t nlgroups, lgroups_cap;
    uint32_t *inits;            /* locals set since their enclosing frame began */
    uint32_t ninits, inits_cap;

    const TypeDef *func;        /* type of the function being checked; NULL in an expr */
    bool const_expr;            /* checking a constant expression */
    uint32_t const_globals;     /* globals visible to that expression */
    size_t base;                /* added to cursor offsets (bodies not in the input) */
    const uint8_t *file_start;  /* cursor origin for the code being checked */
    const struct ValidateListener *listen; /* told what the body names (or NULL) */
    bool listed_mem0;           /* the quick path told it of memory 0 in this body */
    bool canonical;             /* listened checks: the body's bytes so far are canonical */
} Validator;

/* Fails with err->offset = v->base + off. */
WS_NORETURN void vfail(Validator *v, size_t off, const char *fmt, ...) WS_PRINTF(3, 4);

/* validate_code.c */
ValType val_pop(Validator *v, const Instr *in);
void vals_grow(Validator *v, uint32_t extra);
/* The slow path of val_pop_expect: empty stack, or a reference type to compare. */
ValType val_pop_check(Validator *v, const Instr *in, ValType expect);

static inline void val_push(Validator *v, ValType t) {
    if (v->nvals == v->vals_cap) vals_grow(v, 1);
    v->vals[v->nvals++] = t;
}

/* Pops an operand that must match expect; returns the actual type (VT_BOT if unknown). */
static inline ValType val_pop_expect(Validator *v, const Instr *in, ValType expect) {
    if (v->nvals > v->ctrls[v->nctrls - 1].height) {
        ValType got = v->vals[v->nvals - 1];
        if (got.code == expect.code && !vt_is_ref(got)) {
            v->nvals--;
            return got;
        }
    }
    return val_pop_check(v, in, expect);
}
ValType val_pop_ref(Validator *v, const Instr *in);
void vals_pop(Validator *v, const Instr *in, const ValType *ts, uint32_t n);
void vals_push(Validator *v, const ValType *ts, uint32_t n);
void set_unreachable(Validator *v);
/* Label types of the frame `depth` levels out; fails "unknown label" if there is none. */
const ValType *label_types(Validator *v, const Instr *in, uint64_t depth, uint32_t *n);
Frame *frame_at(Validator *v, const Instr *in, uint64_t depth);
/* Writes a readable form of t ("i32", "(ref null 3)") into buf. */
const char *vt_str(ValType t, char *buf, size_t n);
/* Checks a function body (locals + code) against function f's type. */
void validate_body(Validator *v, const Func *f, uint32_t index);
/* Decodes the instruction at c and types it (the general path of the quick one). */
void validate_step_general(Validator *v, Cursor *c);
/* Forgets the initialisation of the locals set since the local stack had `height`. */
void validate_reset_locals(Validator *v, uint32_t height);
/* Checks constant expression e (valid, constant, of type t) seeing nglobals globals. */
void validate_const_expr(Validator *v, const Expr *e, ValType t, uint32_t nglobals);

/* validate_instr.c */
/* Types one instruction other than structured control (block/loop/if/else/end/try...). */
void validate_instr(Validator *v, const Instr *in);
/* Fills the signature, natural alignment and lane count tables. */
void validate_tables_init(Validator *v);
/* A value type is valid here (its type index, if any, is defined). */
void check_valtype(Validator *v, size_t off, ValType t);
void check_heaptype(Validator *v, size_t off, int32_t h);
/* Type index x is defined and its composite kind is `kind`; returns it. */
const TypeDef *type_of_kind(Validator *v, size_t off, uint64_t x, uint8_t kind);
const TypeDef *func_type_at(Validator *v, size_t off, uint64_t x);
/* Reference type of an element segment's elements: (ref func) for function indices. */
ValType elem_type(const Elem *e);

/* validate_fast.c */
/* Runs the instructions of a function body at c until its outermost frame closes, the
 * commonest ones through the quick path (results and errors as run_code's). */
void validate_code_quick(Validator *v, Cursor *c);
/* Fills qkind/qsig/qop for v->m (after validate_tables_init). */
void validate_quick_init(Validator *v);

/* validate_offsets.c */
/* File offset of entry k of section sec (for SEC_TYPE: of type index k) in m->input;
 * the section's payload offset if the entry cannot be found, 0 without the section. */
size_t entry_offset(const Module *m, uint8_t sec, uint32_t k);

/* validate_gc.c */
/* Types a GC instruction (struct, array, i31, casts, conversions); false if in is not one. */
bool validate_gc(Validator *v, const Instr *in);

#endif
