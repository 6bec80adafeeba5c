/* types.h - value types, heap types, limits: the pieces of the type grammar shared by the
 * module model, the instruction decoder and the validator. */
#ifndef WS_TYPES_H
#define WS_TYPES_H

#include "common.h"

/* First byte of a value type (also the storage types i8/i16 of GC fields). */
enum {
    VT_I32 = 0x7f, VT_I64 = 0x7e, VT_F32 = 0x7d, VT_F64 = 0x7c, VT_V128 = 0x7b,
    VT_I8 = 0x78, VT_I16 = 0x77,             /* packed storage types (fields only) */
    VT_REF_NULL = 0x63, VT_REF = 0x64,       /* followed by a heap type */
    /* shorthands (ref null ABSTRACT): the byte is the abstract heap type's code */
    VT_FUNCREF = 0x70, VT_EXTERNREF = 0x6f, VT_ANYREF = 0x6e, VT_EQREF = 0x6d,
    VT_I31REF = 0x6c, VT_STRUCTREF = 0x6b, VT_ARRAYREF = 0x6a, VT_EXNREF = 0x69,
    VT_NULLEXNREF = 0x74, VT_NULLFUNCREF = 0x73, VT_NULLEXTERNREF = 0x72, VT_NULLREF = 0x71,
};

/* Abstract heap types, as the signed s33 value of their one-byte encoding (code - 0x80).
 * A heap type >= 0 is a type index. */
enum {
    HT_NOEXN = 0x74 - 0x80, HT_NOFUNC = 0x73 - 0x80, HT_NOEXTERN = 0x72 - 0x80, HT_NONE = 0x71 - 0x80,
    HT_FUNC = 0x70 - 0x80, HT_EXTERN = 0x6f - 0x80, HT_ANY = 0x6e - 0x80, HT_EQ = 0x6d - 0x80,
    HT_I31 = 0x6c - 0x80, HT_STRUCT = 0x6b - 0x80, HT_ARRAY = 0x6a - 0x80, HT_EXN = 0x69 - 0x80,
};

/* A value type as encoded.  code is the first byte; for VT_REF/VT_REF_NULL heap holds the
 * heap type; for a shorthand byte heap holds its abstract heap type too (so every
 * reference type has heap set and nullable = code != VT_REF). */
typedef struct ValType {
    uint8_t code;
    int32_t heap;
} ValType;

static inline bool vt_is_ref(ValType t) {
    return t.code == VT_REF || t.code == VT_REF_NULL || (t.code >= 0x69 && t.code <= 0x74);
}
static inline bool vt_nullable(ValType t) { return vt_is_ref(t) && t.code != VT_REF; }
static inline bool vt_eq(ValType a, ValType b) {
    if (!vt_is_ref(a) || !vt_is_ref(b)) return a.code == b.code;
    return a.heap == b.heap && vt_nullable(a) == vt_nullable(b);
}
static inline ValType vt_num(uint8_t code) { ValType t = {code, 0}; return t; }

/* Limits of a table or memory: flags bit 0 = has max, bit 1 = shared, bit 2 = 64-bit index. */
typedef struct Limits {
    uint8_t flags;
    uint64_t min, max;
} Limits;
enum { LIM_HAS_MAX = 1, LIM_SHARED = 2, LIM_64 = 4 };
/* The type code of the addresses (memory) or element indices (table) the limits take. */
static inline uint8_t limits_addr_code(const Limits *l) { return l->flags & LIM_64 ? VT_I64 : VT_I32; }

#endif
