/* report.h - size reports: per-section sizes and counts, the one-line summary, JSON. */
#ifndef WS_REPORT_H
#define WS_REPORT_H

#include "../ir/module.h"
#include "../passes/pass.h"
#include <stdio.h>

/* What a byte of a module is, for the summary line. */
typedef enum SizeKind {
    KIND_DEBUG, KIND_NAMES, KIND_PRODUCERS, KIND_LINKING, KIND_OTHER_CUSTOM,
    KIND_CODE, KIND_DATA, KIND_OTHER, KIND_COUNT
} SizeKind;

typedef struct SectionStat {
    char name[48];       /* "code", or the custom section's name (cut at 47 bytes) */
    uint8_t id;
    size_t size;         /* whole section: id byte, size LEB and payload */
    uint32_t count;      /* entries, for known sections */
} SectionStat;

typedef struct SizeReport {
    size_t total;
    bool is_object;
    uint32_t nsections;
    SectionStat *sections;
    size_t by_kind[KIND_COUNT];
    uint32_t nfuncs, nimports, nexports, nglobals, ndatas, nelems, ntypes, ntables, nmems, ntags;
} SizeReport;

void report_build(SizeReport *r, const Module *m);
/* The report of what module_write_stream wrote (layout) for module m. */
void report_build_written(SizeReport *r, const Module *m, const WriteLayout *layout);
void report_free(SizeReport *r);
SizeKind custom_kind(const Custom *c);
/* "IN 16.3 MB -> OUT 9.1 MB (-44.2%): debug -7.0 MB, names -0.2 MB" */
void report_summary_line(FILE *out, const SizeReport *in, const SizeReport *outr);
/* Table of sections; after may be NULL. */
void report_print_text(FILE *out, const SizeReport *before, const SizeReport *after);
/* One JSON object: input, output (if any) and what the passes did (if stats). */
void report_print_json(FILE *out, const SizeReport *before, const SizeReport *after, const PassStats *stats);

#endif
