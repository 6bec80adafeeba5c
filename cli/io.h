/* io.h - reading whole files and writing output atomically. */
#ifndef WS_IO_H
#define WS_IO_H

#include "../ir/common.h"

/* Reads all of path ("-" = stdin) into a malloc'd buffer.  Prints an error and returns
 * false on failure. */
bool io_read_file(const char *path, uint8_t **data, size_t *len);
/* Writes data to path ("-" = stdout) through a temp file beside it and a rename, so the
 * target is never left partial and may be the input itself.  Prints an error on failure. */
bool io_write_file_atomic(const char *path, const uint8_t *data, size_t len);

#endif
