/* error.h - the one error mechanism: record file, offset and message, then longjmp.
 *
 * A decoder (reader, validator, instruction scanner) owns a WsError whose jmp_buf was
 * set with setjmp by the entry point.  Any failure calls ws_fail(), which never returns.
 * The entry point frees what it allocated (everything lives in arenas) and reports
 * "FILE:0xOFFSET: error: MESSAGE". */
#ifndef WS_ERROR_H
#define WS_ERROR_H

#include "common.h"
#include <setjmp.h>
#include <stdio.h>

typedef struct WsError {
    jmp_buf jb;
    const char *file;   /* name used in messages */
    size_t offset;      /* byte offset into the input file */
    char msg[512];
} WsError;

WS_NORETURN void ws_fail(WsError *e, size_t offset, const char *fmt, ...) WS_PRINTF(3, 4);
/* Prints "FILE:0xOFFSET: error: MESSAGE\n". */
void ws_error_print(const WsError *e, FILE *out);

#endif
