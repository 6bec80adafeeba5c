/* instr.h - decoding and canonical encoding of single instructions, constant expressions
 * and function bodies, driven by ir/opcodes.def.
 *
 * Decoding checks the binary format only (malformed input): opcodes exist, LEB128s are
 * well-formed, immediates are complete, blocks nest and end where they must.  Index ranges
 * and types are the validator's job.  All failures go through the cursor's WsError. */
#ifndef WS_INSTR_H
#define WS_INSTR_H

#include "common.h"
#include "leb.h"
#include "opcodes.h"
#include "types.h"

enum { BT_EMPTY, BT_VAL, BT_TYPE };
typedef struct BlockType {
    uint8_t kind;   /* BT_EMPTY (0x40), BT_VAL (a value type), BT_TYPE (type index) */
    ValType val;
    uint32_t type;
} BlockType;

/* try_table catch clause kinds */
enum { CATCH_TAG = 0, CATCH_TAG_REF = 1, CATCH_ALL = 2, CATCH_ALL_REF = 3 };
typedef struct Catch {
    uint8_t kind;
    uint32_t tag;   /* CATCH_TAG, CATCH_TAG_REF only */
    uint32_t label;
} Catch;

/* One decoded instruction.  Which fields are meaningful depends on op_info[op].imm:
 *   IMM_BLOCK, IMM_TRY_TABLE: bt; IMM_TRY_TABLE also n (catch count) and vec (first clause)
 *   single-index kinds (LABEL FUNC TYPE LOCAL GLOBAL TABLE ELEM MEM DATA TAG): a
 *   two-index kinds (CALL_INDIRECT TABLE_TABLE ELEM_TABLE MEM_MEM DATA_MEM TYPE_FIELD
 *     TYPE_U32 TYPE_DATA TYPE_ELEM TYPE_TYPE): a, b in binary order
 *   IMM_BR_TABLE: n labels (without the default) starting at vec; a = default label
 *   IMM_MEMARG(_LANE): a = alignment exponent, b = offset, mem = memory index, lane
 *   IMM_I32, IMM_I64: i;  IMM_F32/F64/V128/SHUFFLE: bytes (raw, in the input)
 *   IMM_LANE: lane;  IMM_SELECT_T: n types starting at vec;  IMM_HEAP: heap
 *   IMM_BR_ON_CAST: flags, a = label, heap, heap2
 * vec points into the input; iterate it with the *_next functions below. */
typedef struct Instr {
    uint16_t op;           /* OpId */
    uint8_t lane, flags;
    uint32_t off;          /* file offset of the instruction's first byte */
    uint32_t len;          /* its encoded length in the input */
    uint32_t a;
    uint32_t mem;
    uint32_t n;
    int32_t heap, heap2;
    union {
        uint64_t b;        /* second index, or the memarg offset */
        int64_t i;         /* IMM_I32, IMM_I64 */
    };
    BlockType bt;
    union {
        const uint8_t *vec;   /* variable-length immediates */
        const uint8_t *bytes; /* f32/f64/v128/shuffle immediates */
    };
} Instr;

/* Type grammar shared with the module reader/writer. */
ValType read_valtype(Cursor *c);       /* any value type (not i8/i16) */
ValType read_storagetype(Cursor *c);   /* value type or packed i8/i16 */
ValType read_reftype(Cursor *c);       /* reference types only */
int32_t read_heaptype(Cursor *c);
BlockType read_blocktype(Cursor *c);
void write_valtype(Buf *b, ValType t);
void write_heaptype(Buf *b, int32_t heap);
void write_blocktype(Buf *b, BlockType bt);
/* True when the block type at p is one canonical byte naming no index: empty (0x40)
 * or a number/vector type. */
bool blocktype_is_one_byte(const uint8_t *p, const uint8_t *end);

/* Reads one instruction at c->p; fails on malformed encoding. */
void instr_decode(Cursor *c, Instr *in);
/* Like instr_decode, and clears *canon when its bytes are not its canonical encoding. */
void instr_decode_canon(Cursor *c, Instr *in, bool *canon);
/* Writes in canonically: minimal LEB128s, memory index omitted when 0. */
void instr_encode(Buf *b, const Instr *in);

/* Iterators over the variable-length immediates of an already-decoded instruction. */
uint32_t br_table_label_next(const uint8_t **p);
ValType select_type_next(const uint8_t **p);
Catch catch_next(const uint8_t **p);

/* What a full scan of code learned. */
typedef struct CodeInfo {
    uint64_t nlocals;        /* declared locals (not params) */
    uint32_t ninstrs;
    bool canonical;          /* re-encoding would give the same bytes */
    bool uses_data_index;    /* memory.init or data.drop, array.new_data, array.init_data seen */
} CodeInfo;

/* Decodes a whole function body (local declarations, then instructions up to the final
 * end, which must be the body's last byte).  Checks block nesting (else only in if,
 * catch/catch_all/delegate only in try, ...) and that the total number of locals fits
 * in u32.  The cursor must cover exactly the body. */
void body_scan(Cursor *c, CodeInfo *info);
/* Writes the body canonically to out (local declarations and instructions with minimal
 * LEB128s).  Input must already have passed body_scan. */
void body_canonicalize(Cursor *c, Buf *out);

/* Canonical re-encoding of the instructions after a body's local declarations (the
 * cursor must be past them), with every local index passed through remap->fn. */
typedef struct LocalRemap {
    uint32_t (*fn)(void *ctx, uint32_t local);
    void *ctx;
    const uint32_t *direct; /* new index of local base+i, for i < ndirect (may be NULL) */
    uint32_t base, ndirect; /* locals below base are kept as they are */
} LocalRemap;
void code_canonicalize_remap(Cursor *c, Buf *out, const LocalRemap *remap);

/* Like body_canonicalize, and the declared locals grouped by type (one group per type,
 * types in order of first appearance; params, the first nparams indices, stay), with
 * every local index in the code renumbered to match.  Only for functions whose local
 * indices nothing else names (no local names, no DWARF). */
void body_canonicalize_grouped(Cursor *c, Buf *out, uint32_t nparams);

/* Constant expressions: instructions up to and including the matching end.  The cursor
 * is left after the end.  expr_scan only checks the encoding (which instructions are
 * constant is the validator's job). */
void expr_scan(Cursor *c, CodeInfo *info);
void expr_canonicalize(Cursor *c, Buf *out);

#endif
