/* inline_options.h - options of the inline pass (cli/options_inline.c fills them).
 * The strings point into argv; a --no-inline value may hold comma-separated names. */
#ifndef WS_INLINE_OPTIONS_H
#define WS_INLINE_OPTIONS_H

#include "../ir/common.h"
#include <stdio.h>

enum { INLINE_MAX_FLAGS = 64 };   /* occurrences of --no-inline */

typedef struct InlineOptions {
    const char *no_inline[INLINE_MAX_FLAGS]; /* --no-inline=NAME[,NAME...]: name, export or index */
    uint32_t nno_inline;
    uint32_t max_size;        /* --inline-max-size=N (callee bytes); 0 = the level's default */
    uint32_t growth_pct;      /* --inline-growth=PCT of the module's code bytes */
    bool has_growth;          /* growth_pct was given (else the level's default) */
    bool report;              /* --inline-report */
    FILE *report_out;         /* where the report goes; NULL = stderr */
} InlineOptions;

#endif
