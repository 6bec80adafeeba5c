/* fuzz_read.c - libFuzzer target for the reader and writer.
 *
 * Arbitrary bytes go through module_read, with and without ReadOptions.decode_code.  The
 * reader must accept or reject, never crash, leak or hang (ASan, UBSan and libFuzzer's
 * -timeout see to that).  Beyond that, on every input (abort() = a finding):
 *   - what the full decode accepts, the light read accepts too, and module_decode_code on
 *     the light read agrees with the full decode;
 *   - when both reads succeed and both write, they write the same bytes;
 *   - the feature scan (ir/featureset.c) never crashes, and accepts every module the
 *     full decode accepts when every feature is allowed;
 *   - write-read-write fixpoint: when y = write(read(x)) succeeds, y reads back (with the
 *     full decode when x passed it) and writing it again gives y byte for byte.
 * Build: make build/fuzz_read; run: make fuzz (or build/fuzz_read CORPUS_DIR...). */
#include <stdio.h>
#include <stdlib.h>
#include "featureset.h"
#include "leb.h"
#include "module.h"

static void finding(const char *what, const WsError *err) {
    fprintf(stderr, "fuzz_read: %s", what);
    if (err) fprintf(stderr, " (0x%zx: %s)", err->offset, err->msg);
    fputc('\n', stderr);
    abort();
}

/* Reads bytes; on success writes them canonically into out (if out) and frees the
 * module.  Returns 0 if the read failed, 1 if it read but did not write, 2 if written. */
static int read_write(const uint8_t *data, size_t size, bool decode, Buf *out, bool *decode_agrees,
                      WsError *err) {
    Module m;
    ReadOptions ro = {.decode_code = decode};
    if (!module_read(&m, data, size, "fuzz", &ro, err)) return 0;
    WsError ferr; /* the feature scan: no crash on any module read; with every feature
                     allowed it accepts every module whose code decodes */
    module_check_features(&m, 0, &ferr);
    if (!module_check_features(&m, FT_ALL, &ferr) && decode) finding("the feature scan fails with all allowed", &ferr);
    if (decode_agrees) {
        WsError derr;
        *decode_agrees = module_decode_code(&m, &derr);
    }
    int r = 1;
    if (out) {
        WriteOptions wo = {CODE_CANONICAL, 0};
        if (module_write(&m, &wo, out, err)) r = 2;
        else out->len = 0;
    }
    module_free(&m);
    return r;
}

static bool same(const Buf *a, const Buf *b) {
    return a->len == b->len && (a->len == 0 || !memcmp(a->data, b->data, a->len));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    Buf full = {0}, light = {0};
    bool decodes = false;
    WsError err;
    int rf = read_write(data, size, true, &full, NULL, &err);
    int rl = read_write(data, size, false, &light, &decodes, &err);
    if (rf && !rl) finding("the full decode accepts what the light read rejects", NULL);
    if (rl && decodes != (rf != 0)) {
        finding(decodes ? "module_decode_code accepts what the full decode rejects"
                        : "module_decode_code rejects what the full decode accepts", NULL);
    }
    if (rf == 2 && rl == 2 && !same(&full, &light)) finding("the full and the light read write different bytes", NULL);

    /* Fixpoint on whichever read wrote. */
    Buf *y = rf == 2 ? &full : rl == 2 ? &light : NULL;
    if (y) {
        Buf z = {0};
        int r2 = read_write(y->data, y->len, rf == 2, &z, NULL, &err);
        if (r2 == 0) finding("the written module does not read back", &err);
        if (r2 == 1) finding("the written module reads back but does not write", &err);
        if (!same(y, &z)) finding("write(read(write(read(x)))) differs from write(read(x))", NULL);
        buf_free(&z);
    }
    buf_free(&full);
    buf_free(&light);
    return 0;
}
