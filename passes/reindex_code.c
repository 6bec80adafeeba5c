/* reindex_code.c - renumbering the index immediates of function bodies and constant
 * expressions: decode -> remap -> instr_encode.
 *
 *   before: (local (ref null 12))  call 7  global.get 3  ref.test (ref 12)
 *   after:  (local (ref null 9))   call 5  global.get 3  ref.test (ref 9)
 *           (func 7 -> 5, type 12 -> 9, globals unchanged)
 *
 * A body none of whose indices move keeps its bytes.  One that changes is copied in
 * runs, re-encoding only the instructions that move or are not canonically encoded,
 * so the result is canonical (the writer copies changed bodies as they are). */
#include "reindex.h"
#include "../ir/instr.h"
#include "../ir/leb.h"

static int32_t map_heap(const Reindex *r, int32_t h) {
    return h >= 0 ? (int32_t)reindex_map(r, IX_TYPE, (uint32_t)h) : h;
}

ValType reindex_valtype(const Reindex *r, ValType t) {
    if (vt_is_ref(t)) t.heap = map_heap(r, t.heap);
    return t;
}

static bool set_heap(const Reindex *r, int32_t *h) {
    int32_t n = map_heap(r, *h);
    bool moved = n != *h;
    *h = n;
    return moved;
}

static bool set_bt(const Reindex *r, BlockType *bt) {
    if (bt->kind == BT_VAL) return set_heap(r, &bt->val.heap);
    if (bt->kind != BT_TYPE) return false;
    uint32_t t = reindex_map(r, IX_TYPE, bt->type);
    bool moved = t != bt->type;
    bt->type = t;
    return moved;
}

/* Contract: true when an item of the vector immediate (typed select types, try_table
 * catch tags) moves. */
static bool vec_moves(const Reindex *r, const Instr *in) {
    const uint8_t *p = in->vec;
    for (uint32_t i = 0; i < in->n; i++) {
        if (op_info[in->op].imm == IMM_SELECT_T) {
            ValType t = select_type_next(&p);
            if (reindex_valtype(r, t).heap != t.heap) return true;
            continue;
        }
        Catch k = catch_next(&p);
        bool tagged = k.kind == CATCH_TAG || k.kind == CATCH_TAG_REF;
        if (tagged && reindex_map(r, IX_TAG, k.tag) != k.tag) return true;
    }
    return false;
}

/* Contract: if an item of in's vector immediate moves, writes the renumbered vector to
 * vec, points in->vec at it and returns true. */
static bool set_vec(const Reindex *r, Instr *in, Buf *vec) {
    if (!vec_moves(r, in)) return false;
    const uint8_t *p = in->vec;
    vec->len = 0;
    for (uint32_t i = 0; i < in->n; i++) {
        if (op_info[in->op].imm == IMM_SELECT_T) {
            write_valtype(vec, reindex_valtype(r, select_type_next(&p)));
            continue;
        }
        Catch k = catch_next(&p);
        buf_u8(vec, k.kind);
        if (k.kind == CATCH_TAG || k.kind == CATCH_TAG_REF) buf_u32(vec, reindex_map(r, IX_TAG, k.tag));
        buf_u32(vec, k.label);
    }
    in->vec = vec->data;
    return true;
}

void reindex_imm_spaces(int imm, int *a, int *b) {
    *a = *b = -1;
    switch ((ImmKind)imm) {
    case IMM_FUNC: *a = IX_FUNC; break;
    case IMM_CALL_INDIRECT: *a = IX_TYPE; *b = IX_TABLE; break;
    case IMM_TYPE: case IMM_TYPE_FIELD: case IMM_TYPE_U32: *a = IX_TYPE; break;
    case IMM_GLOBAL: *a = IX_GLOBAL; break;
    case IMM_TABLE: *a = IX_TABLE; break;
    case IMM_TABLE_TABLE: *a = *b = IX_TABLE; break;
    case IMM_ELEM: *a = IX_ELEM; break;
    case IMM_ELEM_TABLE: *a = IX_ELEM; *b = IX_TABLE; break;
    case IMM_MEM: *a = IX_MEM; break;
    case IMM_MEM_MEM: *a = *b = IX_MEM; break;
    case IMM_DATA: *a = IX_DATA; break;
    case IMM_DATA_MEM: *a = IX_DATA; *b = IX_MEM; break;
    case IMM_TAG: *a = IX_TAG; break;
    case IMM_TYPE_DATA: *a = IX_TYPE; *b = IX_DATA; break;
    case IMM_TYPE_ELEM: *a = IX_TYPE; *b = IX_ELEM; break;
    case IMM_TYPE_TYPE: *a = *b = IX_TYPE; break;
    default: break;
    }
}

/* Contract: renumbers every index immediate of in (a vector immediate into vec);
 * returns whether any moved. */
static bool remap_instr(const Reindex *r, Instr *in, Buf *vec) {
    int ka, kb;
    bool moved = false;
    switch ((ImmKind)op_info[in->op].imm) {
    case IMM_BLOCK: return set_bt(r, &in->bt);
    case IMM_HEAP: return set_heap(r, &in->heap);
    case IMM_BR_ON_CAST: moved = set_heap(r, &in->heap); return set_heap(r, &in->heap2) || moved;
    case IMM_SELECT_T: return set_vec(r, in, vec);
    case IMM_TRY_TABLE: moved = set_bt(r, &in->bt); return set_vec(r, in, vec) || moved;
    case IMM_MEMARG: case IMM_MEMARG_LANE: {
        uint32_t mem = reindex_map(r, IX_MEM, in->mem);
        moved = mem != in->mem;
        in->mem = mem;
        return moved;
    }
    default: break;
    }
    reindex_imm_spaces(op_info[in->op].imm, &ka, &kb);
    if (ka >= 0) {
        uint32_t v = reindex_map(r, ka, in->a);
        moved = v != in->a;
        in->a = v;
    }
    if (kb >= 0) {
        uint32_t v = reindex_map(r, kb, in->b);
        moved |= v != in->b;
        in->b = v;
    }
    return moved;
}

/* Contract: reads the local declarations at c; true when a type in them moves. */
static bool locals_move(const Reindex *r, Cursor *c) {
    uint32_t n = cur_count(c, 2, "local declaration");
    bool moved = false;
    for (uint32_t i = 0; i < n; i++) {
        cur_u32(c);
        ValType t = read_valtype(c);
        if (reindex_valtype(r, t).heap != t.heap) moved = true;
    }
    return moved;
}

/* Contract: the commonest instructions naming an index (call, return_call, global.get,
 * global.set, the index canonical in at most three bytes) renumbered from their bytes:
 * their length, with the new index in *to and the original in *from; 0 for the others. */
static inline size_t quick_index(const Reindex *r, const uint8_t *p, const uint8_t *end, uint32_t *from,
                                 uint32_t *to) {
    int space;
    switch (p[0]) {
    case 0x10: case 0x12: space = IX_FUNC; break;
    case 0x23: case 0x24: space = IX_GLOBAL; break;
    default: return 0;
    }
    size_t n = instr_quick_uleb(p + 1, end, 3, from);
    if (!n) return 0;
    *to = reindex_map(r, space, *from);
    return 1 + n;
}

/* Contract: true when an index in the code from c to its end moves (stops at the first). */
static bool code_moves(const Reindex *r, Cursor *c, Buf *vec) {
    Instr in;
    while (!cur_eof(c)) {
        size_t stable = instr_stable_len(c->p, c->end, true);
        if (stable) {
            c->p += stable;
            continue;
        }
        uint32_t from, to;
        size_t quick = quick_index(r, c->p, c->end, &from, &to);
        if (quick && to == from) {
            c->p += quick;
            continue;
        }
        if (quick) return true;
        instr_decode(c, &in);
        if (remap_instr(r, &in, vec)) return true;
    }
    return false;
}

/* Contract: true when in (decoded from in->len bytes) is canonically encoded: it is
 * re-encoded into tmp and the lengths compared (a non-canonical encoding, with padded
 * LEBs or an explicit memory 0, is always longer).  Two bytes or less are canonical:
 * a padded LEB128 alone takes two. */
static bool is_canonical(const Instr *in, Buf *tmp) {
    if (in->len <= 2) return true;
    tmp->len = 0;
    instr_encode(tmp, in);
    return tmp->len == in->len;
}

/* Contract: copies code from c to out in runs, re-encoding the instructions whose
 * indices move or whose encoding is not canonical: the output is canonical. */
static void copy_remapped(const Reindex *r, Cursor *c, Buf *out, ReindexScratch *s) {
    const uint8_t *run = c->p;
    Instr in;
    while (!cur_eof(c)) {
        size_t stable = instr_stable_len(c->p, c->end, true);
        if (stable) {
            c->p += stable;
            continue;
        }
        const uint8_t *at = c->p;
        uint32_t from, to;
        size_t quick = quick_index(r, at, c->end, &from, &to);
        if (quick) {
            c->p += quick;
            if (to == from) continue; /* canonical already */
            buf_bytes(out, run, (size_t)(at - run));
            buf_u8(out, *at);
            buf_u32(out, to);
            run = c->p;
            continue;
        }
        instr_decode(c, &in);
        if (!remap_instr(r, &in, &s->vec) && is_canonical(&in, &s->canon)) continue;
        buf_bytes(out, run, (size_t)(at - run));
        instr_encode(out, &in);
        run = c->p;
    }
    buf_bytes(out, run, (size_t)(c->p - run));
}

static void emit_group(Buf *out, uint64_t n, ValType t) {
    if (!out) return;
    buf_u32(out, (uint32_t)n);
    write_valtype(out, t);
}

/* Contract: reads the local declarations at c and writes them renumbered to out (if not
 * NULL) as canonical groups: none empty, no two neighbours of one type.  Returns the
 * number of groups; fails when the locals do not fit u32. */
static uint32_t fold_locals(const Reindex *r, Cursor *c, Buf *out) {
    size_t at = cur_offset(c);
    uint32_t groups = cur_count(c, 2, "local declaration"), folded = 0;
    uint64_t run = 0, total = 0;
    ValType prev = {0, 0};
    for (uint32_t i = 0; i < groups; i++) {
        uint32_t n = cur_u32(c);
        ValType t = reindex_valtype(r, read_valtype(c));
        total += n;
        if (n == 0) continue;
        if (run && t.code == prev.code && t.heap == prev.heap) {
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
    if (total > UINT32_MAX) ws_fail(c->err, at, "too many locals");
    if (run) {
        emit_group(out, run, prev);
        folded++;
    }
    return folded;
}

bool reindex_body(const Reindex *r, const Module *m, Bytes body, bool moves, ReindexScratch *s,
                  Buf *out, WsError *err) {
    Cursor c = {m->input, body.p, body.p + body.len, err};
    if (!moves) {
        bool moved = locals_move(r, &c);
        if (!moved && !code_moves(r, &c, &s->vec)) return false;
        c.p = body.p;
    }
    Cursor probe = c;
    buf_u32(out, fold_locals(r, &probe, NULL));
    fold_locals(r, &c, out);
    copy_remapped(r, &c, out, s);
    return true;
}

void reindex_expr(const Reindex *r, Module *m, Expr *e, ReindexScratch *s, WsError *err) {
    Cursor c = {m->input, e->code, e->code + e->len, err};
    if (!code_moves(r, &c, &s->vec)) return;
    c.p = e->code;
    s->out.len = 0;
    copy_remapped(r, &c, &s->out, s);
    e->code = arena_dup(&m->arena, s->out.data, s->out.len);
    e->len = (uint32_t)s->out.len;
}

void reindex_scratch_free(ReindexScratch *s) {
    buf_free(&s->canon);
    buf_free(&s->vec);
    buf_free(&s->out);
}
