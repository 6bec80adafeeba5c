/* opcodes.h - the opcode table, expanded from ir/opcodes.def.
 *
 * Each line of opcodes.def is
 *     OP(ID, PREFIX, CODE, "name", IMM, "SIG", FX, FT)
 * ID      C identifier; the enum constant is OP_##ID (e.g. OP_I32_ADD)
 * PREFIX  0 for one-byte opcodes, else 0xFB (GC), 0xFC (misc), 0xFD (SIMD), 0xFE (threads)
 * CODE    the byte, or the u32 sub-opcode after the prefix
 * "name"  text-format name ("i32.add")
 * IMM     immediate kind, IMM_* below (what follows the opcode in the binary)
 * "SIG"   operand and result types "PARAMS:RESULTS" in push order, one letter each:
 *         i i32, l i64, f f32, d f64, v v128, a address type of the memory immediate
 *         (i32, or i64 for memory64), t index type of the table immediate;
 *         "*" when the validator types the instruction by hand (control, calls, locals,
 *         references, GC, ...)
 * FX      effect bits FX_* below, or 0
 * FT      the feature proposal it belongs to, FT_* (ir/featureset.h), or 0 for the MVP
 */
#ifndef WS_OPCODES_H
#define WS_OPCODES_H

#include "common.h"

typedef enum ImmKind {
    IMM_NONE,
    IMM_BLOCK,        /* blocktype: block, loop, if, try */
    IMM_LABEL,        /* u32 label: br, br_if, br_on_null, br_on_non_null, rethrow, delegate */
    IMM_BR_TABLE,     /* vec(u32 label) + u32 default */
    IMM_FUNC,         /* u32 funcidx: call, return_call, ref.func */
    IMM_CALL_INDIRECT,/* u32 typeidx, u32 tableidx */
    IMM_TYPE,         /* u32 typeidx: call_ref, struct.new, array.new, ... */
    IMM_LOCAL,        /* u32 localidx */
    IMM_GLOBAL,       /* u32 globalidx */
    IMM_TABLE,        /* u32 tableidx */
    IMM_TABLE_TABLE,  /* u32 dst tableidx, u32 src tableidx: table.copy */
    IMM_ELEM,         /* u32 elemidx: elem.drop */
    IMM_ELEM_TABLE,   /* u32 elemidx, u32 tableidx: table.init */
    IMM_MEM,          /* u32 memidx: memory.size, memory.grow, memory.fill */
    IMM_MEM_MEM,      /* u32 dst memidx, u32 src memidx: memory.copy */
    IMM_DATA,         /* u32 dataidx: data.drop */
    IMM_DATA_MEM,     /* u32 dataidx, u32 memidx: memory.init */
    IMM_MEMARG,       /* align (bit 6: memidx follows), [memidx], u64 offset */
    IMM_MEMARG_LANE,  /* memarg, then a lane byte */
    IMM_I32,          /* s32 */
    IMM_I64,          /* s64 */
    IMM_F32,          /* 4 raw bytes */
    IMM_F64,          /* 8 raw bytes */
    IMM_V128,         /* 16 raw bytes */
    IMM_LANE,         /* one lane-index byte */
    IMM_SHUFFLE,      /* 16 lane-index bytes */
    IMM_SELECT_T,     /* vec(valtype): typed select */
    IMM_HEAP,         /* heaptype: ref.null, ref.test, ref.cast (and nullable variants) */
    IMM_TAG,          /* u32 tagidx: throw, catch */
    IMM_TRY_TABLE,    /* blocktype, vec(catch clause) */
    IMM_TYPE_FIELD,   /* u32 typeidx, u32 fieldidx: struct.get/set */
    IMM_TYPE_U32,     /* u32 typeidx, u32 count: array.new_fixed */
    IMM_TYPE_DATA,    /* u32 typeidx, u32 dataidx: array.new_data, array.init_data */
    IMM_TYPE_ELEM,    /* u32 typeidx, u32 elemidx: array.new_elem, array.init_elem */
    IMM_TYPE_TYPE,    /* u32 typeidx, u32 typeidx: array.copy */
    IMM_BR_ON_CAST,   /* u8 flags, u32 label, heaptype, heaptype */
    IMM_ZERO_BYTE,    /* one byte that must be 0x00: atomic.fence */
    IMM_COUNT
} ImmKind;

enum {
    FX_RMEM = 1 << 0,   /* reads linear memory */
    FX_WMEM = 1 << 1,   /* writes linear memory (or grows it) */
    FX_RGLOB = 1 << 2,  /* reads a global */
    FX_WGLOB = 1 << 3,  /* writes a global */
    FX_RTAB = 1 << 4,   /* reads a table */
    FX_WTAB = 1 << 5,   /* writes a table (or grows it) */
    FX_TRAP = 1 << 6,   /* may trap */
    FX_THROW = 1 << 7,  /* may throw */
    FX_CALL = 1 << 8,   /* calls (any effect) */
    FX_CTRL = 1 << 9,   /* structured control or branch */
    FX_ALLOC = 1 << 10, /* allocates a GC object (not pure for identity) */
    FX_RHEAP = 1 << 11, /* reads GC heap (struct/array fields) */
    FX_WHEAP = 1 << 12, /* writes GC heap */
    FX_ATOMIC = 1 << 13,/* atomic / ordering */
    FX_RLOCAL = 1 << 14,/* reads a local */
    FX_WLOCAL = 1 << 15,/* writes a local */
};

typedef enum OpId {
#define OP(id, prefix, code, name, imm, sig, fx, ft) OP_##id,
#include "opcodes.def"
#undef OP
    OP_COUNT
} OpId;

typedef struct OpInfo {
    uint8_t prefix;
    uint32_t code;
    const char *name;
    uint8_t imm;      /* ImmKind */
    const char *sig;
    uint32_t fx;
} OpInfo;

extern const OpInfo op_info[OP_COUNT];
/* op_info[op].imm, packed (the hot lookup of decoding and encoding). */
extern const uint8_t op_imm[OP_COUNT];

/* Dense lookup by (prefix, code): row 0 holds the one-byte opcodes, rows 1-4 the
 * prefixes 0xFB-0xFE; entries are OpId + 1, 0 = none (built in opcodes.c). */
enum { OP_LUT_CODES = 0x114 };
#define OP_LUT_ROW(prefix) ((prefix) == 0 ? 0 : (prefix) - 0xFA)
extern const uint16_t op_lut[5][OP_LUT_CODES];

/* The opcode (prefix, code) names, or OP_COUNT; inline: it runs once per instruction. */
static inline OpId op_lookup(uint8_t prefix, uint32_t code) {
    unsigned row;
    if (prefix == 0) row = 0;
    else if (prefix >= 0xFB && prefix <= 0xFE) row = OP_LUT_ROW(prefix);
    else return OP_COUNT;
    if (code >= OP_LUT_CODES || !op_lut[row][code]) return OP_COUNT;
    return (OpId)(op_lut[row][code] - 1);
}
/* Finds an opcode by its text name; OP_COUNT if none.  For cost tables and tests. */
OpId op_by_name(const char *name);
/* The number/vector type code opcodes.def's signature letter c names ('i' 'l' 'f' 'd'
 * 'v'); 0 for any other letter (the address letters 'a' and 't' depend on the memory or
 * table the instruction names). */
uint8_t op_sig_numtype(char c);
/* Bits a memory instruction (memarg immediate) accesses, and log2 of the bytes: its
 * natural alignment, the largest alignment exponent it may carry.  Set-up time only. */
unsigned op_access_bits(OpId op);
uint8_t op_natural_align(OpId op);

#endif
