/* io.c - whole-file reads and atomic writes (temp file + rename). */
#define _DEFAULT_SOURCE /* MAP_POPULATE (Linux) */
#include "io.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#ifndef MAP_POPULATE
#define MAP_POPULATE 0
#endif

static bool read_stream(FILE *f, uint8_t **data, size_t *len) {
    size_t cap = 1 << 16, n = 0;
    uint8_t *buf = ws_malloc(cap);
    for (;;) {
        if (n == cap) buf = ws_realloc(buf, cap *= 2);
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0) break;
    }
    if (ferror(f)) { free(buf); return false; }
    *data = buf;
    *len = n;
    return true;
}

/* Contract: maps a regular file read-only; false when it cannot be mapped.  With whole,
 * the page table is filled at once (MAP_POPULATE): one call instead of a fault every 16
 * pages (ruby.wasm: 9-10 ms of faults against about 6), but every page is read in, so
 * not for runs such as stripping, whose skipped sections are then never read. */
static bool map_file(FILE *f, InputFile *in, bool whole) {
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode) || st.st_size <= 0) return false;
    void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE | (whole ? MAP_POPULATE : 0), fileno(f), 0);
    if (p == MAP_FAILED) return false;
    in->data = p;
    in->len = (size_t)st.st_size;
    in->mapped = true;
    return true;
}

bool io_read_file(const char *path, InputFile *in, bool whole) {
    memset(in, 0, sizeof *in);
    bool is_stdin = !strcmp(path, "-");
    FILE *f = is_stdin ? stdin : fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "wasmslim: error: cannot open '%s': %s\n", path, strerror(errno));
        return false;
    }
    uint8_t *data = NULL;
    bool ok = (!is_stdin && map_file(f, in, whole)) || read_stream(f, &data, &in->len);
    if (data) in->data = data;
    if (!ok) fprintf(stderr, "wasmslim: error: cannot read '%s': %s\n", path, strerror(errno));
    if (!is_stdin) fclose(f);
    return ok;
}

void io_release(InputFile *in) {
    if (in->mapped) munmap((void *)in->data, in->len);
    else free((void *)in->data);
    memset(in, 0, sizeof *in);
}

enum { IOV_BATCH = 512 }; /* within every system's IOV_MAX (POSIX: at least 16; Linux 1024) */

/* Contract: writes iov[0..n) whole, resuming after short writes; false with errno set. */
static bool writev_all(int fd, struct iovec *iov, int n) {
    while (n > 0) {
        ssize_t done = writev(fd, iov, n);
        if (done < 0) {
            if (errno == EINTR) continue;
            return false;
        }
        while (n > 0 && (size_t)done >= iov->iov_len) {
            done -= (ssize_t)iov->iov_len;
            iov++;
            n--;
        }
        if (n > 0) {
            iov->iov_base = (uint8_t *)iov->iov_base + done;
            iov->iov_len -= (size_t)done;
        }
    }
    return true;
}

static bool write_pieces(int fd, const WritePiece *v, uint32_t n) {
    struct iovec iov[IOV_BATCH];
    while (n) {
        int k = n < IOV_BATCH ? (int)n : IOV_BATCH;
        for (int i = 0; i < k; i++) iov[i] = (struct iovec){(void *)v[i].p, v[i].n};
        if (!writev_all(fd, iov, k)) return false;
        v += k;
        n -= (uint32_t)k;
    }
    return true;
}

bool io_out_open(OutputFile *o, const char *path) {
    memset(o, 0, sizeof *o);
    o->path = path;
    if (!strcmp(path, "-")) {
        o->fd = STDOUT_FILENO;
        return true;
    }
    size_t n = strlen(path);
    o->tmp = ws_malloc(n + 16);
    memcpy(o->tmp, path, n);
    memcpy(o->tmp + n, ".tmp.XXXXXX", 12);
    o->fd = mkstemp(o->tmp);
    if (o->fd >= 0) return true;
    fprintf(stderr, "wasmslim: error: cannot write '%s': %s\n", path, strerror(errno));
    free(o->tmp);
    o->tmp = NULL;
    return false;
}

bool io_out_write(void *ctx, const WritePiece *v, uint32_t n) {
    OutputFile *o = ctx;
    if (o->failed) return false;
    if (write_pieces(o->fd, v, n)) return true;
    o->failed = true;
    o->saved_errno = errno;
    return false;
}

/* Contract: on success gives the temp file the usual mode and renames it over the
 * target; on failure (or abort) removes it.  Prints the I/O error, if any. */
static bool out_finish(OutputFile *o, bool keep) {
    bool ok = keep && !o->failed;
    if (o->tmp) {
        mode_t mask = umask(0);
        umask(mask);
        fchmod(o->fd, 0666 & ~mask);
        if (close(o->fd) != 0 && ok) { o->failed = true; o->saved_errno = errno; ok = false; }
        if (ok && rename(o->tmp, o->path) != 0) { o->failed = true; o->saved_errno = errno; ok = false; }
        if (!ok) unlink(o->tmp);
        free(o->tmp);
        o->tmp = NULL;
    }
    if (o->failed) {
        const char *what = strcmp(o->path, "-") ? o->path : "stdout";
        fprintf(stderr, "wasmslim: error: cannot write '%s': %s\n", what, strerror(o->saved_errno));
    }
    return ok;
}

bool io_out_commit(OutputFile *o) { return out_finish(o, true); }
void io_out_abort(OutputFile *o) { out_finish(o, false); }
