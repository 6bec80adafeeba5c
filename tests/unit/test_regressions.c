/* test_regressions.c - every input the fuzzers ever broke on (tests/fuzz/regressions/)
 * goes through both fuzz targets' checks again: fuzz_read's (read with and without the
 * full decode, write, write-read-write fixpoint) and fuzz_pipeline's (valid modules through
 * every pass, output valid).  The targets are compiled in here under other names; a
 * finding abort()s, which Criterion reports as a crash of that test (the stderr line says
 * which file and what).  Under test_unit-san the inputs also run under ASan+UBSan. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>

#define LLVMFuzzerTestOneInput fuzz_read_one
#define finding fuzz_read_finding
#define read_write fuzz_read_read_write
#define same fuzz_read_same
#include "../fuzz/fuzz_read.c"
#undef LLVMFuzzerTestOneInput
#undef finding
#undef read_write
#undef same

#define LLVMFuzzerTestOneInput fuzz_pipeline_one
#define finding fuzz_pipeline_finding
#define internal fuzz_pipeline_internal
#define valid fuzz_pipeline_valid
#define run fuzz_pipeline_run
#include "../fuzz/fuzz_pipeline.c"
#undef LLVMFuzzerTestOneInput
#undef finding
#undef internal
#undef valid
#undef run

/* The regressions directory, found from this file's path (as the compiler saw it: the
 * tests run from the repository root, where the Makefile compiles). */
static void regressions_dir(char *out, size_t n) {
    const char *file = __FILE__;
    const char *slash = strrchr(file, '/');
    int len = slash ? (int)(slash - file) : 1;
    snprintf(out, n, "%.*s/../fuzz/regressions", len, slash ? file : ".");
}

static int by_name(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

typedef int (*Target)(const uint8_t *data, size_t size);

/* Runs target on every input (every file but *.md); returns how many. */
static unsigned run_all(Target target, const char *label) {
    char dir[4096];
    regressions_dir(dir, sizeof dir);
    DIR *d = opendir(dir);
    cr_assert(d, "no regressions directory %s", dir);
    char **names = NULL;
    size_t count = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t len = strlen(e->d_name);
        if (e->d_name[0] == '.' || (len > 3 && !strcmp(e->d_name + len - 3, ".md"))) continue;
        names = realloc(names, (count + 1) * sizeof *names);
        names[count++] = strdup(e->d_name);
    }
    closedir(d);
    qsort(names, count, sizeof *names, by_name);
    for (size_t i = 0; i < count; i++) {
        char path[8192];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        FILE *f = fopen(path, "rb");
        cr_assert(f, "cannot open %s", path);
        uint8_t *data = NULL;
        size_t size = 0, cap = 0, got;
        do {
            if (size == cap) data = realloc(data, cap = cap ? 2 * cap : 4096);
            got = fread(data + size, 1, cap - size, f);
            size += got;
        } while (got);
        fclose(f);
        fprintf(stderr, "%s: %s\n", label, names[i]); /* names the input if it aborts */
        target(data, size);
        free(data);
        free(names[i]);
    }
    free(names);
    return (unsigned)count;
}

Test(regressions, reader_and_writer) {
    cr_assert_gt(run_all(fuzz_read_one, "fuzz_read"), 0);
}

Test(regressions, pipeline) {
    cr_assert_gt(run_all(fuzz_pipeline_one, "fuzz_pipeline"), 0);
}
