/* io.c - whole-file reads and atomic writes (temp file + rename). */
#define _GNU_SOURCE /* MAP_POPULATE, renameat2 (Linux) */
#include "io.h"
#include <errno.h>
#include <fcntl.h>
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
    struct stat st; /* which file it is (stdin too, when redirected from one) */
    if (fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode)) {
        in->dev = st.st_dev;
        in->ino = st.st_ino;
        in->is_file = true;
        if ((uint64_t)st.st_size > MODULE_MAX_BYTES) { /* as module_read says it, without reading it */
            fprintf(stderr, "%s:0x0: error: module too large: %lld bytes (at most 4 GiB - 1)\n", path,
                    (long long)st.st_size);
            if (!is_stdin) fclose(f);
            return false;
        }
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

bool io_out_open(OutputFile *o, const char *path, const InputFile *in) {
    memset(o, 0, sizeof *o);
    o->path = path;
    o->in = in;
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

/* Contract: puts the finished temp file in the target's place, atomically: 0, or -1
 * with errno, like rename().  rename() over an existing file makes ext4 (its
 * auto_da_alloc) write the new file's data out first, so that a crash cannot leave the
 * name empty: 14 ms for a 16 MB output, 0.7 ms for 300 KB.  That flush is kept where
 * it guards the input (the target is the input file, or anything but a regular file);
 * over another regular file the two names are swapped (renameat2's RENAME_EXCHANGE,
 * as atomic for readers as rename) and the old file, now under the temp name, is
 * unlinked: after a crash it may be lost, as after a plain write over it. */
static int replace_target(const OutputFile *o) {
    struct stat st;
    bool is_input = o->in && o->in->is_file;
    if (lstat(o->path, &st) != 0 || !S_ISREG(st.st_mode)) return rename(o->tmp, o->path);
    if (is_input && st.st_dev == o->in->dev && st.st_ino == o->in->ino) return rename(o->tmp, o->path);
    if (renameat2(AT_FDCWD, o->tmp, AT_FDCWD, o->path, RENAME_EXCHANGE) != 0) return rename(o->tmp, o->path);
    unlink(o->tmp); /* the old target */
    return 0;
}

/* Contract: on success gives the temp file the usual mode and puts it in the
 * target's place; on failure (or abort) removes it.  Prints the I/O error, if any. */
static bool out_finish(OutputFile *o, bool keep) {
    bool ok = keep && !o->failed;
    if (o->tmp) {
        mode_t mask = umask(0);
        umask(mask);
        fchmod(o->fd, 0666 & ~mask);
        if (close(o->fd) != 0 && ok) { o->failed = true; o->saved_errno = errno; ok = false; }
        if (ok && replace_target(o) != 0) { o->failed = true; o->saved_errno = errno; ok = false; }
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
