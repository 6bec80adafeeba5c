/* effects.c - what a node may do, from the opcode table. */
#include "func.h"

enum { FX_ANY = FX_RMEM | FX_WMEM | FX_RGLOB | FX_WGLOB | FX_RTAB | FX_WTAB | FX_TRAP | FX_THROW |
                FX_RHEAP | FX_WHEAP | FX_ALLOC };

uint32_t ir_effects(const IrFunc *f, NodeId id) {
    uint32_t fx = op_info[ir_node(f, id)->in.op].fx;
    if (fx & FX_CALL) fx |= FX_ANY; /* a callee may do anything */
    return fx;
}
