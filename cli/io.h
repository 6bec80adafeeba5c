/* io.h - reading whole files and writing output atomically. */
#ifndef WS_IO_H
#define WS_IO_H

#include "../ir/module.h"
#include <sys/types.h>

/* An input file's bytes: mapped read-only when it is a regular file, else read whole
 * into a malloc'd buffer (stdin, pipes). */
typedef struct InputFile {
    const uint8_t *data;
    size_t len;
    bool mapped;
    bool is_file;       /* a regular file: dev and ino name it */
    dev_t dev;
    ino_t ino;
} InputFile;

/* Reads path ("-" = stdin).  Prints an error and returns false on failure.  whole: the
 * run will read (nearly) every byte, so a mapped file's pages are mapped in at once. */
bool io_read_file(const char *path, InputFile *in, bool whole);
void io_release(InputFile *in);

/* Output written as it is produced to a temp file beside the target, renamed over it
 * only once complete: the target is never left partial and may be the input itself
 * ("-" = stdout, written directly). */
typedef struct OutputFile {
    const char *path;
    const InputFile *in; /* the run's input (a target that is the input is replaced
                            with the file system's crash guard), or NULL */
    char *tmp;
    int fd;
    bool failed;
    int saved_errno;
} OutputFile;

/* Opens the temp file; prints an error and returns false on failure.  in: the run's
 * input, or NULL. */
bool io_out_open(OutputFile *o, const char *path, const InputFile *in);
/* A WriteSink emit function: ctx is the OutputFile; the pieces go out with writev. */
bool io_out_write(void *ctx, const WritePiece *v, uint32_t n);
/* Renames the temp file over the target; prints the error and removes it on failure. */
bool io_out_commit(OutputFile *o);
/* Removes the temp file (prints an I/O error that caused the abort, if any). */
void io_out_abort(OutputFile *o);

#endif
