/* opcodes.c - the opcode table expanded from opcodes.def, and its two lookups. */
#include "opcodes.h"
#include "types.h"
#include <stdlib.h>

const OpInfo op_info[OP_COUNT] = {
#define OP(id, prefix, code, name, imm, sig, fx, ft) [OP_##id] = {prefix, code, name, imm, sig, fx},
#include "opcodes.def"
#undef OP
};

/* Each opcode's immediate kind alone: 571 bytes, so the per-instruction lookup in the
 * decoder and encoder stays in a few cache lines (op_info is 40 bytes an entry). */
const uint8_t op_imm[OP_COUNT] = {
#define OP(id, prefix, code, name, imm, sig, fx, ft) [OP_##id] = imm,
#include "opcodes.def"
#undef OP
};

/* Dense lookup by (prefix, code), made by the compiler from the same X-macro, so it needs
 * no initialisation at run time and is safe to read from any thread.  Row 0 holds the
 * one-byte opcodes, rows 1-4 the prefixes 0xFB-0xFE.  Entries are OpId + 1; 0 = none.
 * A code past OP_LUT_CODES does not compile; a duplicate (prefix, code) is an
 * -Woverride-init (gcc, in -Wextra) / -Winitializer-overrides (clang) warning. */
const uint16_t op_lut[5][OP_LUT_CODES] = {
#define OP(id, prefix, code, name, imm, sig, fx, ft) [OP_LUT_ROW(prefix)][code] = OP_##id + 1,
#include "opcodes.def"
#undef OP
};

_Static_assert(OP_COUNT < UINT16_MAX, "OpId + 1 must fit the lookup table's entries");

/* Contract: the opcode whose text name is name, else OP_COUNT.  A linear scan: callers
 * (cost tables, tests) look names up once at start-up, not per instruction. */
OpId op_by_name(const char *name) {
    for (unsigned i = 0; i < OP_COUNT; i++)
        if (strcmp(op_info[i].name, name) == 0) return (OpId)i;
    return OP_COUNT;
}

/* Contract: bits a memory instruction accesses, read from its name ("i64.load16_s" ->
 * 16, "v128.load8x8_s" -> 64, "i32.atomic.rmw.add" -> 32, "memory.atomic.notify" -> 32).
 * For table set-up, not per instruction. */
unsigned op_access_bits(OpId op) {
    const char *name = op_info[op].name;
    unsigned prefix = !strncmp(name, "v128", 4) ? 128 : name[1] == '6' ? 64 : 32;
    const char *p = strchr(name, '.');
    while (p && *p && (*p < '0' || *p > '9')) p++;
    if (!p || !*p) return prefix;
    char *end;
    unsigned long n = strtoul(p, &end, 10);
    if (*end == 'x') n *= strtoul(end + 1, NULL, 10);
    return (unsigned)n;
}

uint8_t op_natural_align(OpId op) {
    uint8_t k = 0;
    while ((8u << k) < op_access_bits(op)) k++;
    return k;
}

uint8_t op_sig_numtype(char c) {
    switch (c) {
    case 'i': return VT_I32;
    case 'l': return VT_I64;
    case 'f': return VT_F32;
    case 'd': return VT_F64;
    case 'v': return VT_V128;
    default: return 0;
    }
}
