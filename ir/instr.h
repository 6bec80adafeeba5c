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
    union {                /* the block type of IMM_BLOCK and IMM_TRY_TABLE shares bytes
                              with heap, heap2 and b/i, which those kinds never use (an
                              Instr is 48 bytes, not 64) */
        struct {
            int32_t heap, heap2;
            union {
                uint64_t b;        /* second index, or the memarg offset */
                int64_t i;         /* IMM_I32, IMM_I64 */
            };
        };
        BlockType bt;      /* IMM_BLOCK, IMM_TRY_TABLE */
    };
    union {
        const uint8_t *vec;   /* variable-length immediates */
        const uint8_t *bytes; /* f32/f64/v128/shuffle immediates */
    };
} Instr;

/* Type grammar shared with the module reader/writer. */
ValType read_valtype(Cursor *c);       /* any value type (not i8/i16) */
ValType read_storagetype(Cursor *c);   /* value type or packed i8/i16 */
ValType read_reftype(Cursor *c);       /* reference types only */
/* Steps over a body's local declarations (count, then count x (n, valtype)). */
void skip_local_decls(Cursor *c);
int32_t read_heaptype(Cursor *c);
BlockType read_blocktype(Cursor *c);
void write_valtype(Buf *b, ValType t);
void write_heaptype(Buf *b, int32_t heap);
void write_blocktype(Buf *b, BlockType bt);
/* True when the block type at p is one canonical byte naming no index: empty (0x40)
 * or a number/vector type. */
static inline bool blocktype_is_one_byte(const uint8_t *p, const uint8_t *end) {
    return p < end && (*p == 0x40 || (*p >= VT_V128 && *p <= VT_I32));
}

/* The general decoder (instr.c): what instr_decode_canon does, without its quick path. */
void instr_decode_slow(Cursor *c, Instr *in, bool *canon);

/* The commonest encodings of one-byte opcodes, decoded in line by instr_decode_canon:
 * no immediate; one index in one to three canonical LEB128 bytes; a constant in one to
 * four; a memarg of one-byte align (no memory index) and an offset of one to four; a
 * one-byte block type.  DQ_SLOW: everything else. */
enum { DQ_SLOW, DQ_NONE, DQ_IDX, DQ_CONST, DQ_MEMARG, DQ_BLOCK };
extern const uint8_t instr_dq_kind[];   /* by first byte (instr.c, from opcodes.def) */
extern const uint16_t instr_dq_op[];

/* Contract: a canonical unsigned LEB128 of at most `most` (<= 4) bytes at p: its length,
 * with *out set; 0 when it is longer, padded or truncated. */
static inline size_t instr_quick_uleb(const uint8_t *p, const uint8_t *end, size_t most, uint32_t *out) {
    uint32_t r = 0;
    for (size_t n = 0; n < most && p + n < end; n++) {
        r |= (uint32_t)(p[n] & 0x7f) << (7 * n);
        if (p[n] >= 0x80) continue;
        if (n && p[n] == 0) return 0; /* padded */
        *out = r;
        return n + 1;
    }
    return 0;
}

/* Contract: true when p[n] (n > 0), the last byte of a signed LEB128, only extends the
 * sign of the byte before it: the encoding is padded. */
static inline bool instr_sleb_padded(const uint8_t *p, size_t n) {
    return (p[n] == 0 && !(p[n - 1] & 0x40)) || (p[n] == 0x7f && (p[n - 1] & 0x40));
}

/* Contract: the same for a canonical signed LEB128 of at most four bytes. */
static inline size_t instr_quick_sleb(const uint8_t *p, const uint8_t *end, int64_t *out) {
    uint32_t r = 0;
    for (size_t n = 0; n < 4 && p + n < end; n++) {
        uint8_t b = p[n];
        r |= (uint32_t)(b & 0x7f) << (7 * n);
        if (b >= 0x80) continue;
        if (n && instr_sleb_padded(p, n)) return 0;
        uint32_t bits = 7 * (uint32_t)(n + 1);
        *out = b & 0x40 ? (int64_t)r - ((int64_t)1 << bits) : (int64_t)r;
        return n + 1;
    }
    return 0;
}

/* Contract: the length of `i32.const N end` at p, N canonical in at most four bytes (the
 * offset of most data and element segments: esbuild.wasm has 98,450), or 0: decoding,
 * validating and re-encoding it then reduce to this test. */
static inline size_t instr_small_i32_expr(const uint8_t *p, const uint8_t *end) {
    int64_t n;
    if (end - p < 3 || p[0] != 0x41) return 0;
    size_t k = instr_quick_sleb(p + 1, end, &n);
    return k && p + 1 + k < end && p[1 + k] == 0x0b ? k + 2 : 0;
}

/* Contract: decodes the instruction at p (p < end) into *in (already blank, off set)
 * when it has one of the quick encodings, returning its length; 0 otherwise. */
static inline size_t instr_decode_quick(const uint8_t *p, const uint8_t *end, Instr *in) {
    size_t left = (size_t)(end - p), k;
    switch (instr_dq_kind[p[0]]) {
    case DQ_NONE: in->op = instr_dq_op[p[0]]; return 1;
    case DQ_IDX:
        if (left >= 2 && p[1] < 0x80) {
            in->op = instr_dq_op[p[0]];
            in->a = p[1];
            return 2;
        }
        if (!(k = instr_quick_uleb(p + 1, end, 3, &in->a))) return 0;
        in->op = instr_dq_op[p[0]];
        return 1 + k;
    case DQ_CONST:
        if (left >= 2 && p[1] < 0x80) {
            in->op = instr_dq_op[p[0]];
            in->i = p[1] & 0x40 ? (int64_t)p[1] - 0x80 : (int64_t)p[1];
            return 2;
        }
        if (!(k = instr_quick_sleb(p + 1, end, &in->i))) return 0;
        in->op = instr_dq_op[p[0]];
        return 1 + k;
    case DQ_MEMARG: {
        uint32_t off;
        if (left < 3 || p[1] >= 0x40) return 0;
        if (p[2] < 0x80) {
            off = p[2];
            k = 1;
        } else if (!(k = instr_quick_uleb(p + 2, end, 4, &off))) {
            return 0;
        }
        in->op = instr_dq_op[p[0]];
        in->a = p[1];
        in->b = off;
        return 2 + k;
    }
    case DQ_BLOCK:
        if (left < 2 || !blocktype_is_one_byte(p + 1, end)) return 0;
        in->op = instr_dq_op[p[0]];
        if (p[1] != 0x40) {
            in->bt.kind = BT_VAL;
            in->bt.val.code = p[1];
        }
        return 2;
    default: return 0;
    }
}

/* Contract: reads one instruction at c->p into *in (fields its immediate kind does not
 * use are zero) and clears *canon when its bytes are not its canonical encoding; fails
 * on malformed encoding.  The quick encodings (all canonical) are decoded in line. */
static inline void instr_decode_canon(Cursor *c, Instr *in, bool *canon) {
    static const Instr blank;
    if (c->p < c->end) {
        *in = blank;
        in->off = (uint32_t)cur_offset(c);
        size_t n = instr_decode_quick(c->p, c->end, in);
        if (n) {
            c->p += n;
            in->len = (uint32_t)n;
            return;
        }
    }
    instr_decode_slow(c, in, canon);
}

/* Reads one instruction at c->p; fails on malformed encoding. */
static inline void instr_decode(Cursor *c, Instr *in) {
    bool canon = true;
    instr_decode_canon(c, in, &canon);
}

/* Verifying steps over canonical instructions, by a table of what each first byte
 * takes (QL_SLOW: decode it instead). */
enum { QL_SLOW, QL_ONE, QL_U32, QL_U32X2, QL_S32, QL_S64, QL_MEMARG, QL_BLOCK1 };

/* Contract: the length of the canonical unsigned LEB128 at p of at most max bytes (a
 * max-byte one ending in a byte <= top), or 0 when it is padded, malformed or runs past
 * end (the careful path then decides). */
static inline size_t instr_uleb_canon_len(const uint8_t *p, const uint8_t *end, size_t max, uint8_t top) {
    if (p < end && p[0] < 0x80) return 1;
    for (size_t n = 1; n < max && p + n < end; n++) {
        uint8_t b = p[n];
        if (b >= 0x80) continue;
        return b == 0 || (n + 1 == max && b > top) ? 0 : n + 1;
    }
    return 0;
}

/* Contract: as instr_uleb_canon_len for a signed LEB128 of at most max bytes (5: i32,
 * 10: i64); canonical when its last byte is not a sign extension of the byte before it. */
static inline size_t instr_sleb_canon_len(const uint8_t *p, const uint8_t *end, size_t max) {
    if (p < end && p[0] < 0x80) return 1;
    for (size_t n = 1; n < max && p + n < end; n++) {
        uint8_t b = p[n];
        if (b >= 0x80) continue;
        bool negative = p[n - 1] & 0x40;
        if ((b == 0 && !negative) || (b == 0x7f && negative)) return 0; /* padded */
        if (n + 1 < max) return n + 1;
        if (max == 5) return b < 0x08 || b >= 0x78 ? 5 : 0; /* bits 4-6 repeat the sign */
        return b == 0 || b == 0x7f ? 10 : 0;
    }
    return 0;
}

/* Contract: the length of the canonical instruction at p (p < end) when it is a
 * one-byte opcode whose immediates are canonical LEB128s (or none, or a one-byte block
 * type), else 0.  The immediates' values are not needed: a verifying scan. */
static inline size_t instr_quick_step(const uint8_t *ql, const uint8_t *p, const uint8_t *end) {
    size_t k, k2;
    switch (ql[*p]) {
    case QL_ONE: return 1;
    case QL_U32: return (k = instr_uleb_canon_len(p + 1, end, 5, 0x0f)) ? 1 + k : 0;
    case QL_S32: return (k = instr_sleb_canon_len(p + 1, end, 5)) ? 1 + k : 0;
    case QL_S64: return (k = instr_sleb_canon_len(p + 1, end, 10)) ? 1 + k : 0;
    case QL_U32X2:
        if (!(k = instr_uleb_canon_len(p + 1, end, 5, 0x0f))) return 0;
        return (k2 = instr_uleb_canon_len(p + 1 + k, end, 5, 0x0f)) ? 1 + k + k2 : 0;
    case QL_MEMARG: /* align without a memory index, then the offset */
        if (p + 1 >= end || p[1] >= 0x40) return 0;
        return (k = instr_uleb_canon_len(p + 2, end, 10, 0x01)) ? 2 + k : 0;
    case QL_BLOCK1: return blocktype_is_one_byte(p + 1, end) ? 2 : 0;
    default: return 0;
    }
}

/* Tables for instr_stable_len (instr.c, from opcodes.def): [0] leaves memargs to the
 * caller, [1] takes those of memory 0. */
extern const uint8_t instr_stable_kind[2][256 + OP_COUNT];

/* Contract: the length of the instruction at p (p < end) when it is canonically encoded
 * and names no index of a module-level space (no immediate; a local or a label; a
 * constant; a one-byte block type; with `memargs`, a memarg of memory 0, which keeps
 * index 0 whenever code uses it), else 0.  Code renumbering copies such an instruction
 * as it is, without decoding it. */
static inline size_t instr_stable_len(const uint8_t *p, const uint8_t *end, bool memargs) {
    return instr_quick_step(instr_stable_kind[memargs], p, end);
}
/* Table for instr_any_len (instr.c, from opcodes.def). */
extern const uint8_t instr_any_kind[256 + OP_COUNT];

/* Contract: the length of the instruction at p (p < end) when it is a canonically
 * encoded one-byte opcode with no immediate, indices, a constant, a memarg of memory 0
 * or a one-byte block type, else 0: a scan that wants only some opcodes steps over the
 * rest with it and decodes what it returns 0 for. */
static inline size_t instr_any_len(const uint8_t *p, const uint8_t *end) {
    return instr_quick_step(instr_any_kind, p, end);
}
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
/* Contract: steps over a body's local declarations; true when they are canonical
 * (minimal LEB128s, no empty group, no two neighbouring groups of one type).  Fails on
 * malformed ones or more than 2^32-1 locals. */
bool local_decls_canonical(Cursor *c);
/* Writes the body canonically to out (local declarations and instructions with minimal
 * LEB128s).  Input must already have passed body_scan. */
void body_canonicalize(Cursor *c, Buf *out);
/* Like body_canonicalize, and every nop left out; returns how many were. */
uint32_t body_canonicalize_without_nops(Cursor *c, Buf *out);

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
