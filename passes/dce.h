/* dce.h - what the function-level dce shares with its quick scan (passes/dce_scan.c). */
#ifndef WS_DCE_H
#define WS_DCE_H

#include "../ir/module.h"
#include "../ir/opcodes.h"
#include "dce_options.h"

/* Effects that make a value's producer impure for dce: it cannot be removed when its
 * result is unused. */
enum {
    DCE_IMPURE = FX_WMEM | FX_WGLOB | FX_WTAB | FX_TRAP | FX_THROW | FX_CALL | FX_CTRL | FX_WHEAP |
                 FX_ATOMIC | FX_WLOCAL
};

/* The effects that keep an unused value under the options: DCE_IMPURE, less a possible
 * trap under --ignore-implicit-traps (a dropped load or division may go). */
static inline uint32_t dce_impure(const DceOptions *o) {
    return o->ignore_traps ? DCE_IMPURE & ~(uint32_t)FX_TRAP : DCE_IMPURE;
}

/* What the quick scan (dce_scan.c) says of a body, judged from its bytes. */
typedef enum DceVerdict {
    DCE_STAYS,  /* dce would leave it exactly as it is: no rule applies, locals keep order */
    DCE_NOPS,   /* dce would only drop its nops: no other rule applies to the body
                   without them (an arm holding only nops counts as empty) */
    DCE_BUILD   /* some rule may apply, or the scan cannot tell (including malformed or
                   invalid bodies, which the IR builder then reports): build the IR */
} DceVerdict;

/* What the scan learned of a body besides its verdict. */
typedef struct DceScanInfo {
    bool canonical;          /* DCE_STAYS: its bytes are the writer's canonical form, the
                                locals one group per type (what Func.canonical_at records) */
    uint32_t params_untouched; /* unless DCE_BUILD: bit i for param i < 32 that no
                                  local.get, local.set or local.tee names (Func.params_at) */
} DceScanInfo;

/* Contract: the verdict on defined function `index`, and what *info says of it. */
DceVerdict dce_scan_function(const Module *m, uint32_t index, DceScanInfo *info);

#endif
