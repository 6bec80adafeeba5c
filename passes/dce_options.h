/* dce_options.h - options of the dead-code passes (roots, exports kept, --why-kept).
 * The strings point into argv; a list flag holds comma-separated names. */
#ifndef WS_DCE_OPTIONS_H
#define WS_DCE_OPTIONS_H

#include "../ir/common.h"
#include <stdio.h>

enum { DCE_MAX_FLAGS = 64 };   /* occurrences of each repeatable flag */

typedef struct DceOptions {
    const char *keep_exports[DCE_MAX_FLAGS];  /* --keep-export=NAME[,NAME...]: export or function name */
    uint32_t nkeep_exports;
    const char *export_only[DCE_MAX_FLAGS];   /* --export-only=NAME[,NAME...]: drop other exports */
    uint32_t nexport_only;
    const char *why_kept[DCE_MAX_FLAGS];      /* --why-kept=NAME|INDEX (one name; may hold commas) */
    uint32_t nwhy_kept;
    FILE *report;                             /* where --why-kept prints; NULL = stdout */
    bool ignore_traps;                        /* -iit, -tnh: a value whose only effect is a
                                                 possible trap may go when unused */
    bool traps_never_happen;                  /* -tnh: also an if arm that starts with
                                                 unreachable is never taken */
} DceOptions;

#endif
