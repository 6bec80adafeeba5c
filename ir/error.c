/* error.c - failure recording and printing. */
#include "error.h"
#include <stdarg.h>

void ws_fail(WsError *e, size_t offset, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->msg, sizeof e->msg, fmt, ap);
    va_end(ap);
    e->offset = offset;
    longjmp(e->jb, 1);
}

void ws_error_print(const WsError *e, FILE *out) {
    fprintf(out, "%s:0x%zx: error: %s\n", e->file ? e->file : "<input>", e->offset, e->msg);
}
