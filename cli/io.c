/* io.c - whole-file reads and atomic writes (temp file + rename). */
#include "io.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

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

bool io_read_file(const char *path, uint8_t **data, size_t *len) {
    bool is_stdin = !strcmp(path, "-");
    FILE *f = is_stdin ? stdin : fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "wasmslim: error: cannot open '%s': %s\n", path, strerror(errno));
        return false;
    }
    struct stat st;
    bool ok;
    if (!is_stdin && fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode)) {
        size_t size = (size_t)st.st_size;
        *data = ws_malloc(size);
        ok = fread(*data, 1, size, f) == size;
        *len = size;
        if (!ok) free(*data);
    } else {
        ok = read_stream(f, data, len);
    }
    if (!ok) fprintf(stderr, "wasmslim: error: cannot read '%s': %s\n", path, strerror(errno));
    if (!is_stdin) fclose(f);
    return ok;
}

static bool write_all(int fd, const uint8_t *data, size_t len) {
    while (len) {
        ssize_t n = write(fd, data, len);
        if (n < 0) {
            if (errno == EINTR) continue;
            return false;
        }
        data += n;
        len -= (size_t)n;
    }
    return true;
}

bool io_write_file_atomic(const char *path, const uint8_t *data, size_t len) {
    if (!strcmp(path, "-")) {
        bool ok = write_all(STDOUT_FILENO, data, len);
        if (!ok) fprintf(stderr, "wasmslim: error: cannot write stdout: %s\n", strerror(errno));
        return ok;
    }
    size_t n = strlen(path);
    char *tmp = ws_malloc(n + 16);
    memcpy(tmp, path, n);
    memcpy(tmp + n, ".tmp.XXXXXX", 12);
    int fd = mkstemp(tmp);
    bool ok = fd >= 0 && write_all(fd, data, len);
    if (fd >= 0) {
        mode_t mask = umask(0);
        umask(mask);
        fchmod(fd, 0666 & ~mask);
        ok = (close(fd) == 0) && ok;
    }
    ok = ok && rename(tmp, path) == 0;
    if (!ok) {
        fprintf(stderr, "wasmslim: error: cannot write '%s': %s\n", path, strerror(errno));
        if (fd >= 0) unlink(tmp);
    }
    free(tmp);
    return ok;
}
