/* subtype.h - type equivalence and subtyping of WebAssembly 3.0 (GC) types.
 *
 * Types are iso-recursive: two type indices denote the same type when they sit at the
 * same position of structurally equal rec groups, where references into the group
 * compare by position and references out of it compare as (already canonical) types.
 * A TypeSpace assigns every type index a canonical id (the smallest equivalent index),
 * after which equivalence is an integer compare and subtyping walks declared supertypes.
 *
 * The validator builds a TypeSpace group by group while it checks the type section; a
 * pass working on a valid module calls typespace_build once. */
#ifndef WS_SUBTYPE_H
#define WS_SUBTYPE_H

#include "module.h"

/* The validator's unknown operand type (bottom of every value type), and the bottom heap
 * type of `ref bot` (what ref.as_non_null of an unknown operand gives). */
enum { VT_BOT = 0 };
#define HT_BOT INT32_MIN

typedef struct TypeSpace {
    const Module *m;
    uint32_t ngroups;   /* rec groups added so far (types [0, ntypes)) */
    uint32_t ntypes;
    uint32_t *canon;    /* canon[i]: smallest type index equivalent to i */
    uint32_t *slots;    /* open-addressing set of canonical groups (group index + 1) */
    uint32_t nslots;    /* power of two */
    uint32_t *hashes;   /* hash of each added group */
} TypeSpace;

/* Prepares an empty space for m's types (allocates; free with typespace_free). */
void typespace_init(TypeSpace *ts, const Module *m);
/* Adds the next rec group (index ts->ngroups).  Every type index its types mention must
 * be below the end of the group (the validator checks that first). */
void typespace_add_group(TypeSpace *ts);
/* typespace_init + every group: for modules already known to be valid. */
void typespace_build(TypeSpace *ts, const Module *m);
void typespace_free(TypeSpace *ts);

static inline bool type_equiv(const TypeSpace *ts, uint32_t a, uint32_t b) {
    return ts->canon[a] == ts->canon[b];
}

/* Subtyping (the spec's "matches"), on types whose indices were added to ts. */
bool heap_sub(const TypeSpace *ts, int32_t a, int32_t b);
bool val_sub(const TypeSpace *ts, ValType a, ValType b);  /* also storage types; a may be VT_BOT */
bool val_equiv(const TypeSpace *ts, ValType a, ValType b);
/* Field a matches field b: same mutability; immutable covariant, mutable invariant. */
bool field_sub(const TypeSpace *ts, FieldType a, FieldType b);
/* Composite type a matches b (same kind; func contra/covariant; struct width+depth). */
bool comp_sub(const TypeSpace *ts, const TypeDef *a, const TypeDef *b);

/* Top of the hierarchy of heap type h: HT_ANY, HT_FUNC, HT_EXTERN or HT_EXN (HT_BOT for
 * bottom).  h must be abstract or an added index. */
int32_t heap_top(const TypeSpace *ts, int32_t h);

static inline bool vt_is_num(ValType t) { return t.code >= VT_F64 && t.code <= VT_I32; }
static inline bool vt_is_vec(ValType t) { return t.code == VT_V128; }
/* A packed storage type's value type (i8, i16 -> i32); others unchanged. */
static inline ValType vt_unpack(ValType t) {
    if (t.code == VT_I8 || t.code == VT_I16) t.code = VT_I32;
    return t;
}
/* Has a default value (numbers, vectors, nullable references). */
static inline bool vt_defaultable(ValType t) { return !vt_is_ref(t) || vt_nullable(t); }
/* Reference type (ref null? heap). */
static inline ValType vt_ref(int32_t heap, bool nullable) {
    ValType t = {nullable ? VT_REF_NULL : VT_REF, heap};
    return t;
}

#endif
