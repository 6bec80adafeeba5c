/* dce.h - what the function-level dce shares with its quick scan (passes/dce_scan.c). */
#ifndef WS_DCE_H
#define WS_DCE_H

#include "../ir/module.h"
#include "../ir/opcodes.h"

/* Effects that make a value's producer impure for dce: it cannot be removed when its
 * result is unused. */
enum {
    DCE_IMPURE = FX_WMEM | FX_WGLOB | FX_WTAB | FX_TRAP | FX_THROW | FX_CALL | FX_CTRL | FX_WHEAP |
                 FX_ATOMIC | FX_WLOCAL
};

/* Contract: false only when dce would leave defined function `index` exactly as it is
 * (no rule applies and its locals keep their order), judged from its bytes without
 * building the IR; true when some rule may apply or the scan cannot tell (including
 * malformed or invalid bodies, which the IR builder then reports). */
bool dce_may_change(const Module *m, uint32_t index);

#endif
