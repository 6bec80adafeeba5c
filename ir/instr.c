/* instr.c - decoding and canonical encoding of instructions, constant expressions and
 * function bodies (see instr.h).
 *
 * Every reader here takes a `bool *canon` that it clears when the bytes it consumed are
 * not the canonical encoding (a padded LEB128, an explicit memory index 0).  The public
 * entry points without that parameter pass a scratch flag. */
#include "instr.h"
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

/* ---- LEB128 with canonical-form tracking ---- */

/* An unsigned LEB128 is padded iff it has more than one byte and its last byte is 0. */
static inline void check_uleb(const uint8_t *s, const uint8_t *e, bool *canon) {
    if (e - s > 1 && e[-1] == 0) *canon = false;
}

/* A signed LEB128 is padded iff its last byte only repeats the sign held in bit 6 of the
 * byte before it. */
static inline void check_sleb(const uint8_t *s, const uint8_t *e, bool *canon) {
    if (e - s < 2) return;
    uint8_t last = e[-1], sign = e[-2] & 0x40;
    if ((last == 0 && !sign) || (last == 0x7f && sign)) *canon = false;
}

/* The low 32 bits of the five-byte LEB128 at p (p[0..3] continue, p[4] ends it). */
static inline uint32_t leb5_bits(const uint8_t *p) {
    return (uint32_t)(p[0] & 0x7f) | (uint32_t)(p[1] & 0x7f) << 7 | (uint32_t)(p[2] & 0x7f) << 14 |
           (uint32_t)(p[3] & 0x7f) << 21 | (uint32_t)p[4] << 28;
}

/* The rd_* readers take one-byte values, the common case, without a call. */
static inline uint32_t rd_u32(Cursor *c, bool *canon) {
    const uint8_t *p = c->p;
    if (p < c->end && p[0] < 0x80) return *c->p++;
    if (p + 1 < c->end && p[1] < 0x80) { /* two bytes: padded iff the second is 0 */
        c->p += 2;
        if (p[1] == 0) *canon = false;
        return (uint32_t)(p[0] & 0x7f) | (uint32_t)p[1] << 7;
    }
    if (c->end - p >= 5 && (p[1] & p[2] & p[3] & 0x80) && p[4] < 0x10) { /* five: wasm-ld's padding */
        c->p += 5;
        if (p[4] == 0) *canon = false;
        return leb5_bits(p);
    }
    const uint8_t *s = c->p;
    uint32_t v = cur_u32(c);
    check_uleb(s, c->p, canon);
    return v;
}

static inline uint64_t rd_u64(Cursor *c, bool *canon) {
    if (c->p < c->end && *c->p < 0x80) return *c->p++;
    const uint8_t *s = c->p;
    uint64_t v = cur_u64(c);
    check_uleb(s, c->p, canon);
    return v;
}

static inline int64_t rd_s(Cursor *c, bool *canon, int64_t (*read)(Cursor *)) {
    if (c->p < c->end && *c->p < 0x80) {
        uint8_t b = *c->p++;
        return b & 0x40 ? (int64_t)b - 0x80 : (int64_t)b;
    }
    const uint8_t *s = c->p;
    int64_t v = read(c);
    check_sleb(s, c->p, canon);
    return v;
}

static int64_t cur_s32_wide(Cursor *c) { return cur_s32(c); }

/* Contract: rd_s for an i32; five-byte encodings (wasm-ld pads addresses so) decoded
 * in line: bits 4-6 of the last byte must repeat the sign (bit 3). */
static inline int64_t rd_s32(Cursor *c, bool *canon) {
    const uint8_t *p = c->p;
    if (c->end - p >= 5 && (p[0] & p[1] & p[2] & p[3] & 0x80) && (p[4] < 0x08 || (p[4] >= 0x78 && p[4] < 0x80))) {
        c->p += 5;
        check_sleb(p, p + 5, canon);
        return (int64_t)(int32_t)leb5_bits(p);
    }
    return rd_s(c, canon, cur_s32_wide);
}

static uint32_t rd_count(Cursor *c, size_t min_elem, const char *what, bool *canon) {
    const uint8_t *s = c->p;
    uint32_t n = cur_count(c, min_elem, what);
    check_uleb(s, c->p, canon);
    return n;
}

static WS_NORETURN void fail_at(Cursor *c, const uint8_t *at, const char *msg) {
    c->p = at;
    cur_fail(c, "%s", msg);
}

/* ---- the type grammar ---- */

static bool is_abstract_heap_byte(uint8_t b) { return b >= 0x69 && b <= 0x74; }

/* Contract: reads a heap type: one abstract-type byte (0x69-0x74), or a non-negative s33
 * type index.  Indices above INT32_MAX do not fit ValType.heap and are refused (no
 * module can declare that many types). */
static int32_t heaptype(Cursor *c, bool *canon) {
    const uint8_t *s = c->p;
    if (c->p < c->end && is_abstract_heap_byte(*c->p)) return (int32_t)*c->p++ - 0x80;
    int64_t x = rd_s(c, canon, cur_s33);
    if (x < 0) fail_at(c, s, "malformed heap type");
    if (x > INT32_MAX) fail_at(c, s, "type index too large");
    return (int32_t)x;
}

/* Contract: reads a reference type if the next byte starts one (0x63/0x64 + heap type, or
 * a shorthand); returns false without consuming anything otherwise. */
static bool reftype_opt(Cursor *c, ValType *t, bool *canon) {
    if (cur_eof(c)) return false;
    uint8_t b = *c->p;
    if (b == VT_REF || b == VT_REF_NULL) {
        c->p++;
        t->code = b;
        t->heap = heaptype(c, canon);
        return true;
    }
    if (!is_abstract_heap_byte(b)) return false;
    c->p++;
    t->code = b;
    t->heap = (int32_t)b - 0x80;
    return true;
}

static bool is_numvec_byte(uint8_t b) { return b >= VT_V128 && b <= VT_I32; }

/* Contract: reads a value type; packed i8/i16 only when packed_ok. */
static ValType valtype(Cursor *c, bool *canon, bool packed_ok) {
    ValType t = {0, 0};
    const uint8_t *s = c->p;
    if (reftype_opt(c, &t, canon)) return t;
    uint8_t b = cur_u8(c);
    if (is_numvec_byte(b) || (packed_ok && (b == VT_I8 || b == VT_I16))) {
        t.code = b;
        return t;
    }
    fail_at(c, s, "malformed value type");
}

/* Contract: 0x40, a value type, or a non-negative s33 type index (always fits u32). */
static BlockType blocktype(Cursor *c, bool *canon) {
    BlockType bt = {BT_EMPTY, {0, 0}, 0};
    const uint8_t *s = c->p;
    if (s < c->end && *s == 0x40) {
        c->p++;
        return bt;
    }
    if (s < c->end && (is_numvec_byte(*s) || *s == VT_REF || *s == VT_REF_NULL ||
                       is_abstract_heap_byte(*s))) {
        bt.kind = BT_VAL;
        bt.val = valtype(c, canon, false);
        return bt;
    }
    int64_t x = rd_s(c, canon, cur_s33);
    if (x < 0) fail_at(c, s, "malformed block type");
    bt.kind = BT_TYPE;
    bt.type = (uint32_t)x;
    return bt;
}

ValType read_valtype(Cursor *c) { bool k; return valtype(c, &k, false); }
ValType read_storagetype(Cursor *c) { bool k; return valtype(c, &k, true); }
int32_t read_heaptype(Cursor *c) { bool k; return heaptype(c, &k); }
BlockType read_blocktype(Cursor *c) { bool k; return blocktype(c, &k); }

void skip_local_decls(Cursor *c) {
    uint32_t n = cur_count(c, 2, "local declaration");
    for (uint32_t i = 0; i < n; i++) {
        cur_u32(c);
        read_valtype(c);
    }
}

ValType read_reftype(Cursor *c) {
    ValType t = {0, 0};
    bool k;
    if (!reftype_opt(c, &t, &k)) {
        if (cur_eof(c)) cur_fail(c, "unexpected end");
        cur_fail(c, "malformed reference type");
    }
    return t;
}

void write_heaptype(Buf *b, int32_t heap) { buf_s64(b, heap); }

void write_valtype(Buf *b, ValType t) {
    buf_u8(b, t.code);
    if (t.code == VT_REF || t.code == VT_REF_NULL) write_heaptype(b, t.heap);
}

void write_blocktype(Buf *b, BlockType bt) {
    if (bt.kind == BT_EMPTY) buf_u8(b, 0x40);
    else if (bt.kind == BT_VAL) write_valtype(b, bt.val);
    else buf_s64(b, (int64_t)bt.type);
}

/* ---- immediates ---- */

/* Contract: align flags (u32 < 2^7; bit 6 = a memory index follows), memidx, u64 offset.
 * An explicit memory index 0 is legal but not canonical. */
static void memarg(Cursor *c, Instr *in, bool *canon) {
    const uint8_t *s = c->p;
    uint32_t flags = rd_u32(c, canon);
    if (flags >= 128) fail_at(c, s, "malformed memop flags");
    in->a = flags & 63;
    if (flags & 64) {
        in->mem = rd_u32(c, canon);
        if (in->mem == 0) *canon = false;
    }
    in->b = rd_u64(c, canon);
}

static void br_table(Cursor *c, Instr *in, bool *canon) {
    in->n = rd_count(c, 1, "br_table label", canon);
    in->vec = c->p;
    for (uint32_t i = 0; i < in->n; i++) rd_u32(c, canon);
    in->a = rd_u32(c, canon);
}

static void select_types(Cursor *c, Instr *in, bool *canon) {
    in->n = rd_count(c, 1, "select type", canon);
    in->vec = c->p;
    for (uint32_t i = 0; i < in->n; i++) valtype(c, canon, false);
}

static void try_table(Cursor *c, Instr *in, bool *canon) {
    in->bt = blocktype(c, canon);
    in->n = rd_count(c, 2, "catch clause", canon);
    in->vec = c->p;
    for (uint32_t i = 0; i < in->n; i++) {
        const uint8_t *s = c->p;
        uint8_t kind = cur_u8(c);
        if (kind > CATCH_ALL_REF) fail_at(c, s, "malformed catch clause");
        if (kind == CATCH_TAG || kind == CATCH_TAG_REF) rd_u32(c, canon);
        rd_u32(c, canon);
    }
}

static void br_on_cast(Cursor *c, Instr *in, bool *canon) {
    const uint8_t *s = c->p;
    in->flags = cur_u8(c);
    if (in->flags > 3) fail_at(c, s, "malformed cast flags");
    in->a = rd_u32(c, canon);
    in->heap = heaptype(c, canon);
    in->heap2 = heaptype(c, canon);
}

/* Contract: reads the immediates of in->op (already set) into in. */
static void decode_imm(Cursor *c, Instr *in, bool *canon) {
    switch ((ImmKind)op_imm[in->op]) {
    case IMM_NONE: break;
    case IMM_BLOCK: in->bt = blocktype(c, canon); break;
    case IMM_LABEL: case IMM_FUNC: case IMM_TYPE: case IMM_LOCAL: case IMM_GLOBAL:
    case IMM_TABLE: case IMM_ELEM: case IMM_MEM: case IMM_DATA: case IMM_TAG:
        in->a = rd_u32(c, canon);
        break;
    case IMM_CALL_INDIRECT: case IMM_TABLE_TABLE: case IMM_ELEM_TABLE: case IMM_MEM_MEM:
    case IMM_DATA_MEM: case IMM_TYPE_FIELD: case IMM_TYPE_U32: case IMM_TYPE_DATA:
    case IMM_TYPE_ELEM: case IMM_TYPE_TYPE:
        in->a = rd_u32(c, canon);
        in->b = rd_u32(c, canon);
        break;
    case IMM_BR_TABLE: br_table(c, in, canon); break;
    case IMM_MEMARG: memarg(c, in, canon); break;
    case IMM_MEMARG_LANE: memarg(c, in, canon); in->lane = cur_u8(c); break;
    case IMM_I32: in->i = rd_s32(c, canon); break;
    case IMM_I64: in->i = rd_s(c, canon, cur_s64); break;
    case IMM_F32: in->bytes = cur_bytes(c, 4); break;
    case IMM_F64: in->bytes = cur_bytes(c, 8); break;
    case IMM_V128: case IMM_SHUFFLE: in->bytes = cur_bytes(c, 16); break;
    case IMM_LANE: in->lane = cur_u8(c); break;
    case IMM_SELECT_T: select_types(c, in, canon); break;
    case IMM_HEAP: in->heap = heaptype(c, canon); break;
    case IMM_TRY_TABLE: try_table(c, in, canon); break;
    case IMM_BR_ON_CAST: br_on_cast(c, in, canon); break;
    case IMM_ZERO_BYTE:
        if (cur_u8(c) != 0) fail_at(c, c->p - 1, "zero byte expected");
        break;
    case IMM_COUNT: break;
    }
}

/* The quick decoding tables (instr.h: instr_decode_quick), built by the compiler from
 * ir/opcodes.def.  A prefixed opcode gets a slot of its own past the 256 one-byte
 * codes, so no slot is initialized twice; bytes that start no one-byte opcode stay
 * DQ_SLOW (0) and go through the general path, which reports them. */
#define DQ_OF(imm)                                                                             \
    ((imm) == IMM_NONE ? DQ_NONE                                                               \
     : (imm) == IMM_LABEL || (imm) == IMM_FUNC || (imm) == IMM_TYPE || (imm) == IMM_LOCAL ||   \
               (imm) == IMM_GLOBAL || (imm) == IMM_TABLE || (imm) == IMM_ELEM ||               \
               (imm) == IMM_MEM || (imm) == IMM_DATA || (imm) == IMM_TAG                       \
         ? DQ_IDX                                                                              \
     : (imm) == IMM_I32 || (imm) == IMM_I64 ? DQ_CONST                                          \
     : (imm) == IMM_MEMARG                  ? DQ_MEMARG                                         \
     : (imm) == IMM_BLOCK                   ? DQ_BLOCK                                          \
                                            : DQ_SLOW)
#define DQ_SLOT(id, prefix, code) ((prefix) ? 256 + OP_##id : (code))
const uint8_t instr_dq_kind[256 + OP_COUNT] = {
#define OP(id, prefix, code, name, imm, sig, fx, ft) [DQ_SLOT(id, prefix, code)] = DQ_OF(imm),
#include "opcodes.def"
#undef OP
};
const uint16_t instr_dq_op[256 + OP_COUNT] = {
#define OP(id, prefix, code, name, imm, sig, fx, ft) [DQ_SLOT(id, prefix, code)] = OP_##id,
#include "opcodes.def"
#undef OP
};

/* Contract: decodes one instruction at c->p into *in (all fields not used by its
 * immediate kind are zero) and clears *canon if its encoding is not canonical; the
 * general path, which instr_decode_canon (instr.h) takes for what its quick path does
 * not. */
void instr_decode_slow(Cursor *c, Instr *in, bool *canon) {
    static const Instr blank;
    const uint8_t *s = c->p;
    *in = blank;
    in->off = cur_offset(c);
    if (c->p >= c->end) cur_fail(c, "unexpected end");
    uint8_t b = *c->p++;
    if (b >= 0xFB && b <= 0xFE) {
        uint32_t code = rd_u32(c, canon);
        in->op = op_lookup(b, code);
        if (in->op == OP_COUNT) {
            c->p = s;
            cur_fail(c, "illegal opcode %02x %x", b, code);
        }
    } else {
        in->op = op_lookup(0, b);
        if (in->op == OP_COUNT) {
            c->p = s;
            cur_fail(c, "illegal opcode %02x", b);
        }
    }
    decode_imm(c, in, canon);
    in->len = (uint32_t)(c->p - s);
}

/* ---- iterators over variable-length immediates (input already checked) ---- */

uint32_t br_table_label_next(const uint8_t **p) { return (uint32_t)leb_u64_raw(p); }

ValType select_type_next(const uint8_t **p) {
    ValType t = {*(*p)++, 0};
    if (t.code == VT_REF || t.code == VT_REF_NULL) t.heap = (int32_t)leb_s64_raw(p);
    else if (is_abstract_heap_byte(t.code)) t.heap = (int32_t)t.code - 0x80;
    return t;
}

Catch catch_next(const uint8_t **p) {
    Catch k = {*(*p)++, 0, 0};
    if (k.kind == CATCH_TAG || k.kind == CATCH_TAG_REF) k.tag = (uint32_t)leb_u64_raw(p);
    k.label = (uint32_t)leb_u64_raw(p);
    return k;
}

/* ---- encoding ---- */

static void encode_vec_imm(Buf *b, const Instr *in) {
    const uint8_t *p = in->vec;
    buf_u32(b, in->n);
    for (uint32_t i = 0; i < in->n; i++) {
        if (op_imm[in->op] == IMM_BR_TABLE) {
            buf_u32(b, br_table_label_next(&p));
        } else if (op_imm[in->op] == IMM_SELECT_T) {
            write_valtype(b, select_type_next(&p));
        } else {
            Catch k = catch_next(&p);
            buf_u8(b, k.kind);
            if (k.kind == CATCH_TAG || k.kind == CATCH_TAG_REF) buf_u32(b, k.tag);
            buf_u32(b, k.label);
        }
    }
}

static void encode_memarg(Buf *b, const Instr *in) {
    buf_u32(b, (uint32_t)in->a | (in->mem ? 64u : 0u));
    if (in->mem) buf_u32(b, in->mem);
    buf_u64(b, in->b);
}

/* Contract: writes the immediates of in canonically. */
static void encode_imm(Buf *b, const Instr *in) {
    switch ((ImmKind)op_imm[in->op]) {
    case IMM_NONE: case IMM_COUNT: break;
    case IMM_BLOCK: write_blocktype(b, in->bt); break;
    case IMM_LABEL: case IMM_FUNC: case IMM_TYPE: case IMM_LOCAL: case IMM_GLOBAL:
    case IMM_TABLE: case IMM_ELEM: case IMM_MEM: case IMM_DATA: case IMM_TAG:
        buf_u32(b, (uint32_t)in->a);
        break;
    case IMM_CALL_INDIRECT: case IMM_TABLE_TABLE: case IMM_ELEM_TABLE: case IMM_MEM_MEM:
    case IMM_DATA_MEM: case IMM_TYPE_FIELD: case IMM_TYPE_U32: case IMM_TYPE_DATA:
    case IMM_TYPE_ELEM: case IMM_TYPE_TYPE:
        buf_u32(b, (uint32_t)in->a);
        buf_u32(b, (uint32_t)in->b);
        break;
    case IMM_BR_TABLE: encode_vec_imm(b, in); buf_u32(b, (uint32_t)in->a); break;
    case IMM_SELECT_T: encode_vec_imm(b, in); break;
    case IMM_TRY_TABLE: write_blocktype(b, in->bt); encode_vec_imm(b, in); break;
    case IMM_MEMARG: encode_memarg(b, in); break;
    case IMM_MEMARG_LANE: encode_memarg(b, in); buf_u8(b, in->lane); break;
    case IMM_I32: case IMM_I64: buf_s64(b, in->i); break;
    case IMM_F32: buf_bytes(b, in->bytes, 4); break;
    case IMM_F64: buf_bytes(b, in->bytes, 8); break;
    case IMM_V128: case IMM_SHUFFLE: buf_bytes(b, in->bytes, 16); break;
    case IMM_LANE: buf_u8(b, in->lane); break;
    case IMM_HEAP: write_heaptype(b, in->heap); break;
    case IMM_BR_ON_CAST:
        buf_u8(b, in->flags);
        buf_u32(b, (uint32_t)in->a);
        write_heaptype(b, in->heap);
        write_heaptype(b, in->heap2);
        break;
    case IMM_ZERO_BYTE: buf_u8(b, 0); break;
    }
}

/* Contract: the one- and two-byte encodings of the commonest instructions (no
 * immediate; an index below 128; a constant in [-64, 63]) written at once when the
 * buffer has room, as the general path would write them; false, nothing written,
 * otherwise.  (Metering lowers millions of injected instructions.) */
static inline bool encode_short(Buf *b, const Instr *in, const OpInfo *oi) {
    if (oi->prefix || b->len + 2 > b->cap) return false;
    uint8_t *d = b->data + b->len;
    switch ((ImmKind)op_imm[in->op]) {
    case IMM_NONE:
        d[0] = (uint8_t)oi->code;
        b->len += 1;
        return true;
    case IMM_LABEL: case IMM_FUNC: case IMM_LOCAL: case IMM_GLOBAL:
        if (in->a >= 0x80) return false;
        d[1] = (uint8_t)in->a;
        break;
    case IMM_I32: case IMM_I64:
        if (in->i < -64 || in->i > 63) return false;
        d[1] = (uint8_t)(in->i & 0x7f);
        break;
    default:
        return false;
    }
    d[0] = (uint8_t)oi->code;
    b->len += 2;
    return true;
}

void instr_encode(Buf *b, const Instr *in) {
    const OpInfo *oi = &op_info[in->op];
    if (encode_short(b, in, oi)) return;
    if (oi->prefix) {
        buf_u8(b, oi->prefix);
        buf_u32(b, oi->code);
    } else {
        buf_u8(b, (uint8_t)oi->code);
    }
    encode_imm(b, in);
}

/* ---- block structure ---- */

/* Open frames: F_IF admits else; F_TRY admits catch, catch_all, delegate; F_TRY_CATCH
 * (after a catch) admits catch and catch_all; F_PLAIN admits only end. */
enum { F_PLAIN, F_IF, F_TRY, F_TRY_CATCH };
enum { NEST_INLINE = 1024 };

typedef struct Nest {
    uint8_t *kind;
    uint32_t depth, cap;
} Nest;

static WS_NORETURN void misplaced(Cursor *c, const Instr *in, const char *where) {
    ws_fail(c->err, in->off, "END opcode expected: %s outside %s", op_info[in->op].name, where);
}

/* Contract: applies in to the frame stack.  Fails on else, catch, catch_all or delegate
 * outside their construct.  Returns false, changing nothing, when a push finds the stack
 * full. */
static bool nest_step(Cursor *c, Nest *n, const Instr *in) {
    uint8_t *top = &n->kind[n->depth - 1];
    uint8_t push;
    switch (in->op) {
    case OP_BLOCK: case OP_LOOP: case OP_TRY_TABLE: push = F_PLAIN; break;
    case OP_IF: push = F_IF; break;
    case OP_TRY: push = F_TRY; break;
    case OP_ELSE:
        if (*top != F_IF) misplaced(c, in, "if");
        *top = F_PLAIN;
        return true;
    case OP_CATCH: case OP_CATCH_ALL:
        if (*top != F_TRY && *top != F_TRY_CATCH) misplaced(c, in, "try");
        *top = in->op == OP_CATCH ? F_TRY_CATCH : F_PLAIN;
        return true;
    case OP_DELEGATE:
        if (*top != F_TRY) misplaced(c, in, "a try without catches");
        n->depth--;
        return true;
    case OP_END: n->depth--; return true;
    default: return true;
    }
    if (n->depth == n->cap) return false;
    n->kind[n->depth++] = push;
    return true;
}

static bool uses_data(OpId op) {
    return op == OP_MEMORY_INIT || op == OP_DATA_DROP || op == OP_ARRAY_NEW_DATA ||
           op == OP_ARRAY_INIT_DATA;
}

/* Contract: decodes instructions until the end that closes the outermost frame of n.
 * Returns false if n overflowed (the cursor is then somewhere inside the code). */
static bool scan_instrs(Cursor *c, CodeInfo *info, bool *canon, Nest *n) {
    while (n->depth > 0) {
        if (cur_eof(c))
            cur_fail(c, "unexpected end of section or function (END opcode expected)");
        Instr in;
        instr_decode_canon(c, &in, canon);
        info->ninstrs++;
        if (uses_data(in.op)) info->uses_data_index = true;
        if (!nest_step(c, n, &in)) return false;
    }
    return true;
}

/* Contract: like scan_instrs from the cursor with a heap stack big enough for any
 * nesting the remaining bytes can hold; frees it on failure too, by catching the
 * error, then passing it on to the caller's handler. */
static void scan_deep(Cursor *c, CodeInfo *info, bool *canon) {
    WsError *e = c->err;
    uint32_t cap = (uint32_t)(cur_left(c) / 2 + 2); /* an opener takes >= 2 bytes */
    uint8_t *const kinds = ws_malloc(cap);
    jmp_buf outer;
    memcpy(outer, e->jb, sizeof(jmp_buf));
    if (setjmp(e->jb)) {
        free(kinds);
        memcpy(e->jb, outer, sizeof(jmp_buf));
        longjmp(e->jb, 1);
    }
    Nest n = {kinds, 1, cap};
    kinds[0] = F_PLAIN;
    scan_instrs(c, info, canon, &n);
    free(kinds);
    memcpy(e->jb, outer, sizeof(jmp_buf));
}

/* Contract: scans code up to the end closing its implicit outer block.  Nesting up to
 * NEST_INLINE deep is tracked on the C stack; deeper code is rescanned by scan_deep. */
static void scan_code(Cursor *c, CodeInfo *info, bool *canon) {
    uint8_t kinds[NEST_INLINE];
    Nest n = {kinds, 1, NEST_INLINE};
    kinds[0] = F_PLAIN;
    const uint8_t *start = c->p;
    CodeInfo before = *info;
    bool canon_before = *canon;
    if (scan_instrs(c, info, canon, &n)) return;
    c->p = start;
    *info = before;
    *canon = canon_before;
    scan_deep(c, info, canon);
}

static bool same_encoding(ValType a, ValType b) { return a.code == b.code && a.heap == b.heap; }

/* Contract: reads the local declarations; returns the number of locals.  The sum over
 * all groups must fit u32 ("too many locals", reported at the declarations' start).  An
 * empty group, or a group of the same type as the one before, is legal but not
 * canonical: body_canonicalize folds them away. */
static uint64_t read_locals(Cursor *c, bool *canon) {
    size_t at = cur_offset(c);
    uint32_t groups = rd_count(c, 2, "local declaration", canon);
    uint64_t total = 0;
    ValType prev = {0, 0};
    for (uint32_t i = 0; i < groups; i++) {
        uint32_t n = rd_u32(c, canon);
        ValType t = valtype(c, canon, false);
        if (n == 0 || (i > 0 && same_encoding(t, prev))) *canon = false;
        total += n;
        prev = t;
    }
    if (total > UINT32_MAX) ws_fail(c->err, at, "too many locals");
    return total;
}

bool local_decls_canonical(Cursor *c) {
    bool canon = true;
    read_locals(c, &canon);
    return canon;
}

void body_scan(Cursor *c, CodeInfo *info) {
    bool canon = true;
    memset(info, 0, sizeof *info);
    info->nlocals = read_locals(c, &canon);
    scan_code(c, info, &canon);
    if (!cur_eof(c)) cur_fail(c, "section size mismatch: code after the function's final end");
    info->canonical = canon;
}

void expr_scan(Cursor *c, CodeInfo *info) {
    bool canon = true;
    memset(info, 0, sizeof *info);
    scan_code(c, info, &canon);
    info->canonical = canon;
}

/* ---- canonicalization ---- */

static int depth_change(OpId op) {
    switch (op) {
    case OP_BLOCK: case OP_LOOP: case OP_IF: case OP_TRY: case OP_TRY_TABLE: return 1;
    case OP_END: case OP_DELEGATE: return -1;
    default: return 0;
    }
}

/* ---- the fast path for function bodies ---- */

/* How canon_code treats a one-byte opcode: its immediates checked in place, without an
 * Instr; FK_SLOW (prefixes, rare immediates, unknown bytes) goes through instr_decode_canon. */
enum { FK_SLOW, FK_NONE, FK_U32, FK_LOCAL, FK_U32X2, FK_MEMARG, FK_I32, FK_I64, FK_F32, FK_F64, FK_BLOCK };
static uint8_t fast_kind[256];
static pthread_once_t fast_once = PTHREAD_ONCE_INIT;

static uint8_t fast_kind_of(ImmKind k) {
    switch (k) {
    case IMM_NONE: return FK_NONE;
    case IMM_LABEL: case IMM_FUNC: case IMM_TYPE: case IMM_GLOBAL: case IMM_TABLE: case IMM_ELEM:
    case IMM_MEM: case IMM_DATA: case IMM_TAG:
        return FK_U32;
    case IMM_LOCAL: return FK_LOCAL;
    case IMM_CALL_INDIRECT: return FK_U32X2;
    case IMM_MEMARG: return FK_MEMARG;
    case IMM_I32: return FK_I32;
    case IMM_I64: return FK_I64;
    case IMM_F32: return FK_F32;
    case IMM_F64: return FK_F64;
    case IMM_BLOCK: return FK_BLOCK;
    default: return FK_SLOW;
    }
}

/* How many bytes a one-byte opcode takes in its commonest canonical forms, checked
 * before anything else (QL_SLOW: go through fast_kind).  Local indices only when no
 * remap applies ([1]: with a remap, they take the fast_kind path). */
static uint8_t quick_len[3][256]; /* [2]: no remap, nops dropped (nop takes the slow path) */

static uint8_t quick_of(uint8_t kind, bool remapping) {
    switch (kind) {
    case FK_NONE: return QL_ONE;
    case FK_U32: return QL_U32;
    case FK_U32X2: return QL_U32X2;
    case FK_I32: return QL_S32;
    case FK_I64: return QL_S64;
    case FK_LOCAL: return remapping ? QL_SLOW : QL_U32;
    case FK_MEMARG: return QL_MEMARG;
    case FK_BLOCK: return QL_BLOCK1;
    default: return QL_SLOW;
    }
}

static void fast_init(void) {
    for (int op = 0; op < OP_COUNT; op++)
        if (op_info[op].prefix == 0) fast_kind[op_info[op].code] = fast_kind_of((ImmKind)op_imm[op]);
    for (int b = 0; b < 256; b++)
        for (int r = 0; r < 2; r++) quick_len[r][b] = quick_of(fast_kind[b], r);
    memcpy(quick_len[2], quick_len[0], sizeof quick_len[0]);
    quick_len[2][0x01] = QL_SLOW;
}

/* What instr_stable_len accepts, by first byte (from opcodes.def; prefixed opcodes get
 * slots of their own past 256, as in the quick decoding tables): instructions that name
 * no index of a module-level space, so renumbering never changes them.  A memarg without
 * a memory index names memory 0, which keeps index 0 whenever code uses it. */
#define STABLE_OF(imm)                                                                         \
    ((imm) == IMM_NONE                          ? QL_ONE                                       \
     : (imm) == IMM_LABEL || (imm) == IMM_LOCAL ? QL_U32                                       \
     : (imm) == IMM_I32                         ? QL_S32                                       \
     : (imm) == IMM_I64                         ? QL_S64                                       \
     : (imm) == IMM_MEMARG                      ? QL_MEMARG                                    \
     : (imm) == IMM_BLOCK                       ? QL_BLOCK1                                    \
                                                : QL_SLOW)
const uint8_t instr_stable_kind[2][256 + OP_COUNT] = {
    { /* memargs left to the caller */
#define OP(id, prefix, code, name, imm, sig, fx, ft) \
    [DQ_SLOT(id, prefix, code)] = (imm) == IMM_MEMARG ? QL_SLOW : STABLE_OF(imm),
#include "opcodes.def"
#undef OP
    },
    {
#define OP(id, prefix, code, name, imm, sig, fx, ft) [DQ_SLOT(id, prefix, code)] = STABLE_OF(imm),
#include "opcodes.def"
#undef OP
    },
};

/* What instr_any_len steps over, by first byte: every one-byte opcode whose immediates
 * are indices, constants, a memarg of memory 0 or a one-byte block type, whatever the
 * indices name. */
#define ANY_OF(imm)                                                                            \
    ((imm) == IMM_FUNC || (imm) == IMM_TYPE || (imm) == IMM_GLOBAL || (imm) == IMM_TABLE ||   \
             (imm) == IMM_ELEM || (imm) == IMM_MEM || (imm) == IMM_DATA || (imm) == IMM_TAG    \
         ? QL_U32                                                                              \
     : (imm) == IMM_CALL_INDIRECT ? QL_U32X2                                                   \
                                  : STABLE_OF(imm))
const uint8_t instr_any_kind[256 + OP_COUNT] = {
#define OP(id, prefix, code, name, imm, sig, fx, ft) [DQ_SLOT(id, prefix, code)] = ANY_OF(imm),
#include "opcodes.def"
#undef OP
};

/* The immediates of a fast-kind instruction, as read. */
typedef struct FastImm {
    uint64_t v[3];
    bool has_mem;            /* memarg with an explicit memory index (v[1]) */
} FastImm;

/* The new index of a local under remap. */
static inline uint32_t remap_apply(const LocalRemap *r, uint32_t local) {
    if (local - r->base < r->ndirect) return r->direct[local - r->base];
    if (local < r->base) return local;
    return r->fn(r->ctx, local);
}

/* Contract: reads the immediates of a fast-kind instruction whose opcode byte was just
 * consumed into *imm; false when they are not canonical (or a local index is remapped,
 * imm then holds the new index). */
static bool fast_immediates(Cursor *c, uint8_t kind, const LocalRemap *remap, FastImm *imm) {
    bool canon = true;
    Instr scratch;
    switch (kind) {
    case FK_U32: imm->v[0] = rd_u32(c, &canon); break;
    case FK_LOCAL: {
        uint32_t local = rd_u32(c, &canon);
        imm->v[0] = remap ? remap_apply(remap, local) : local;
        if (imm->v[0] != local) canon = false;
        break;
    }
    case FK_U32X2: imm->v[0] = rd_u32(c, &canon); imm->v[1] = rd_u32(c, &canon); break;
    case FK_MEMARG:
        if (c->p < c->end && *c->p < 0x40) { /* align only, no memory index */
            imm->v[0] = *c->p++;
            imm->has_mem = false;
            imm->v[2] = rd_u64(c, &canon);
        } else {
            scratch.mem = 0; /* memarg sets it only when a memory index follows */
            memarg(c, &scratch, &canon);
            imm->v[0] = scratch.a;
            imm->has_mem = scratch.mem != 0;
            imm->v[1] = scratch.mem;
            imm->v[2] = scratch.b;
        }
        break;
    case FK_I32: imm->v[0] = (uint64_t)rd_s32(c, &canon); break;
    case FK_I64: imm->v[0] = (uint64_t)rd_s(c, &canon, cur_s64); break;
    case FK_F32: cur_bytes(c, 4); break;
    case FK_F64: cur_bytes(c, 8); break;
    case FK_BLOCK: c->p++; break; /* blocktype_is_one_byte checked it */
    }
    return canon;
}

/* Contract: writes opcode byte op with the immediates fast_immediates read, canonically
 * (floats and block types are always canonical, so never come here). */
static void fast_encode(Buf *out, uint8_t op, uint8_t kind, const FastImm *imm) {
    buf_u8(out, op);
    switch (kind) {
    case FK_U32: case FK_LOCAL: buf_u32(out, (uint32_t)imm->v[0]); break;
    case FK_U32X2: buf_u32(out, (uint32_t)imm->v[0]); buf_u32(out, (uint32_t)imm->v[1]); break;
    case FK_MEMARG:
        buf_u32(out, (uint32_t)imm->v[0] | (imm->has_mem ? 64u : 0u));
        if (imm->has_mem) buf_u32(out, (uint32_t)imm->v[1]);
        buf_u64(out, imm->v[2]);
        break;
    case FK_I32: buf_s32(out, (int32_t)imm->v[0]); break;
    case FK_I64: buf_s64(out, (int64_t)imm->v[0]); break;
    }
}

/* Contract: decodes the instruction at c fully; if it is not canonical (or remapped),
 * writes the pending run [*run, start) and its canonical form to out and starts the
 * next run after it.  Returns its opcode. */
static OpId canon_one(Cursor *c, Buf *out, const uint8_t **run, const LocalRemap *remap) {
    const uint8_t *at = c->p;
    bool canon = true;
    Instr in;
    instr_decode_canon(c, &in, &canon);
    if (remap && op_imm[in.op] == IMM_LOCAL) {
        uint32_t to = remap_apply(remap, (uint32_t)in.a);
        if (to != in.a) canon = false;
        in.a = to;
    }
    if (!canon) {
        buf_bytes(out, *run, (size_t)(at - *run));
        instr_encode(out, &in);
        *run = c->p;
    }
    return in.op;
}

/* Contract: copies a constant expression from c to out up to and including the end
 * that closes it, re-encoding only its non-canonical instructions (canonical runs are
 * copied as bytes). */
static void canon_expr(Cursor *c, Buf *out) {
    size_t small = instr_small_i32_expr(c->p, c->end);
    if (small) { /* canonical already */
        buf_bytes(out, c->p, small);
        c->p += small;
        return;
    }
    const uint8_t *run = c->p;
    long depth = 1;
    while (!cur_eof(c) && depth > 0) depth += depth_change(canon_one(c, out, &run, NULL));
    buf_bytes(out, run, (size_t)(c->p - run));
}

/* Contract: the canonical re-encoding of a body's code (to the cursor's end), local
 * indices passed through remap (may be NULL); with nops (not NULL, remap NULL), every
 * nop left out and counted in *nops.  The immediates of common one-byte
 * opcodes are checked in place; canonical runs are copied as bytes, only non-canonical
 * instructions are re-encoded (the rare kinds after a full decode, canon_one). */
static void canon_code(Cursor *c, Buf *out, const LocalRemap *remap, uint32_t *nops) {
    pthread_once(&fast_once, fast_init);
    const uint8_t *run = c->p;
    const uint8_t *ql = quick_len[remap ? 1 : nops ? 2 : 0];
    while (c->p < c->end) {
        size_t step = instr_quick_step(ql, c->p, c->end);
        if (step) {
            c->p += step;
            continue;
        }
        const uint8_t *at = c->p; /* FK_NONE was stepped over by instr_quick_step */
        if (nops && *at == 0x01) { /* quick_len[2] sends nop here */
            buf_bytes(out, run, (size_t)(at - run));
            run = ++c->p;
            ++*nops;
            continue;
        }
        uint8_t kind = fast_kind[*at];
        if (kind == FK_LOCAL && remap && at + 1 < c->end && at[1] < 0x80) { /* the commonest */
            uint32_t to = remap_apply(remap, at[1]);
            c->p += 2;
            if (to == at[1]) continue;
            buf_bytes(out, run, (size_t)(at - run));
            buf_u8(out, *at);
            buf_u32(out, to);
            run = c->p;
            continue;
        }
        bool slow = kind == FK_SLOW || (kind == FK_BLOCK && !blocktype_is_one_byte(at + 1, c->end));
        if (slow) {
            canon_one(c, out, &run, remap);
            continue;
        }
        c->p++;
        FastImm imm = {{0, 0, 0}, false};
        if (fast_immediates(c, kind, remap, &imm)) continue;
        buf_bytes(out, run, (size_t)(at - run));
        fast_encode(out, *at, kind, &imm);
        run = c->p;
    }
    buf_bytes(out, run, (size_t)(c->p - run));
}

static void canon_instrs(Cursor *c, Buf *out, bool expr) {
    if (expr) canon_expr(c, out);
    else canon_code(c, out, NULL, NULL);
}

void code_canonicalize_remap(Cursor *c, Buf *out, const LocalRemap *remap) { canon_code(c, out, remap, NULL); }

static void emit_group(Buf *out, uint64_t n, ValType t) {
    if (!out) return;
    buf_u32(out, (uint32_t)n); /* fits: body_scan bounded the total */
    write_valtype(out, t);
}

/* Contract: reads the local declarations at c and writes them to out (if not NULL) as
 * canonical groups: none empty, no two neighbours of the same type.  Returns the number
 * of groups written. */
static uint32_t fold_locals(Cursor *c, Buf *out) {
    bool k;
    uint32_t groups = cur_u32(c), folded = 0;
    uint64_t run = 0;
    ValType prev = {0, 0};
    for (uint32_t i = 0; i < groups; i++) {
        uint32_t n = cur_u32(c);
        ValType t = valtype(c, &k, false);
        if (n == 0) continue;
        if (run && same_encoding(t, prev)) {
            run += n;
            continue;
        }
        if (run) {
            emit_group(out, run, prev);
            folded++;
        }
        run = n;
        prev = t;
    }
    if (run) {
        emit_group(out, run, prev);
        folded++;
    }
    return folded;
}

static void canon_locals(Cursor *c, Buf *out) {
    Cursor probe = *c;
    buf_u32(out, fold_locals(&probe, NULL));
    fold_locals(c, out);
}

void body_canonicalize(Cursor *c, Buf *out) {
    canon_locals(c, out);
    canon_instrs(c, out, false);
}

uint32_t body_canonicalize_without_nops(Cursor *c, Buf *out) {
    uint32_t nops = 0;
    canon_locals(c, out);
    canon_code(c, out, NULL, &nops);
    return nops;
}

void expr_canonicalize(Cursor *c, Buf *out) { canon_instrs(c, out, true); }
