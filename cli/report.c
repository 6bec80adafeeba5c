/* report.c - per-section size reports, the summary line and their JSON form. */
#include "report.h"
#include <stdlib.h>

static const char *kind_names[KIND_COUNT] = {
    "debug", "names", "producers", "linking", "custom", "code", "data", "other",
};

/* Contract: classifies a custom section by name into the summary's kinds. */
SizeKind custom_kind(const Custom *c) {
    if (custom_has_prefix(c, ".debug_") || custom_is(c, "sourceMappingURL") ||
        custom_is(c, "external_debug_info") || custom_has_prefix(c, "reloc..debug_"))
        return KIND_DEBUG;
    if (custom_is(c, "name")) return KIND_NAMES;
    if (custom_is(c, "producers")) return KIND_PRODUCERS;
    if (custom_is(c, "linking") || custom_has_prefix(c, "reloc.")) return KIND_LINKING;
    return KIND_OTHER_CUSTOM;
}

static uint32_t known_count(const Module *m, uint8_t id) {
    switch (id) {
    case SEC_TYPE: return m->ntypes;
    case SEC_IMPORT: return m->nimports;
    case SEC_FUNCTION: case SEC_CODE: return module_ndefined_funcs(m);
    case SEC_TABLE: return m->ntables - m->ntable_imports;
    case SEC_MEMORY: return m->nmems - m->nmem_imports;
    case SEC_GLOBAL: return m->nglobals - m->nglobal_imports;
    case SEC_TAG: return m->ntags - m->ntag_imports;
    case SEC_EXPORT: return m->nexports;
    case SEC_ELEM: return m->nelems;
    case SEC_DATA: return m->ndatas;
    case SEC_DATACOUNT: return m->datacount;
    default: return 1;
    }
}

static void add_section(SizeReport *r, const char *name, size_t nlen, uint8_t id, size_t size,
                        uint32_t count) {
    SectionStat *s = &r->sections[r->nsections++];
    if (nlen > sizeof s->name - 1) nlen = sizeof s->name - 1;
    memcpy(s->name, name, nlen);
    s->name[nlen] = 0;
    s->id = id;
    s->size = size;
    s->count = count;
}

static void add_customs_after(SizeReport *r, const Module *m, int rank) {
    for (uint32_t i = 0; i < m->ncustoms; i++) {
        const Custom *c = &m->customs[i];
        if (c->removed || c->after_rank != rank) continue;
        add_section(r, (const char *)c->name.p, c->name.len, SEC_CUSTOM, c->size, 1);
        r->by_kind[custom_kind(c)] += c->size;
    }
}

/* Contract: the counts every report shares, from the module as it stands. */
static void fill_counts(SizeReport *r, const Module *m) {
    r->is_object = m->is_object;
    r->nfuncs = m->nfuncs;
    r->nimports = m->nimports;
    r->nexports = m->nexports;
    r->nglobals = m->nglobals;
    r->ndatas = m->ndatas;
    r->nelems = m->nelems;
    r->ntypes = m->ntypes;
    r->ntables = m->ntables;
    r->nmems = m->nmems;
    r->ntags = m->ntags;
}

/* Contract: fills r from a module as it was read (sizes are the input's section sizes). */
void report_build(SizeReport *r, const Module *m) {
    memset(r, 0, sizeof *r);
    r->total = m->input_len;
    r->sections = ws_calloc(m->ncustoms + RANK_COUNT, sizeof(SectionStat));
    add_customs_after(r, m, 0);
    for (int rank = 1; rank < RANK_COUNT; rank++) {
        if (m->present[rank]) {
            uint8_t id = section_id_of_rank(rank);
            const char *name = section_name(id);
            add_section(r, name, strlen(name), id, m->section_size[rank], known_count(m, id));
            SizeKind k = id == SEC_CODE ? KIND_CODE : id == SEC_DATA ? KIND_DATA : KIND_OTHER;
            r->by_kind[k] += m->section_size[rank];
        }
        add_customs_after(r, m, rank);
    }
    r->by_kind[KIND_OTHER] += 8; /* header */
    fill_counts(r, m);
}

/* Contract: fills r from what module_write_stream wrote for m (sizes as written). */
void report_build_written(SizeReport *r, const Module *m, const WriteLayout *l) {
    memset(r, 0, sizeof *r);
    r->total = l->total;
    r->sections = ws_calloc(l->nsections + 1, sizeof(SectionStat));
    for (uint32_t i = 0; i < l->nsections; i++) {
        const WrittenSection *w = &l->sections[i];
        if (w->id == SEC_CUSTOM) {
            Custom c = {.name = w->name};
            add_section(r, (const char *)w->name.p, w->name.len, SEC_CUSTOM, w->size, 1);
            r->by_kind[custom_kind(&c)] += w->size;
            continue;
        }
        const char *name = section_name(w->id);
        uint32_t count = w->id == SEC_DATACOUNT ? m->ndatas : known_count(m, w->id);
        add_section(r, name, strlen(name), w->id, w->size, count);
        r->by_kind[w->id == SEC_CODE ? KIND_CODE : w->id == SEC_DATA ? KIND_DATA : KIND_OTHER] += w->size;
    }
    r->by_kind[KIND_OTHER] += 8; /* header */
    fill_counts(r, m);
}

void report_free(SizeReport *r) {
    free(r->sections);
    r->sections = NULL;
}

/* Formats a byte count as "812 B", "4.2 KB", "16.3 MB" (decimal units). */
static const char *human(char *buf, size_t n, double bytes) {
    double a = bytes < 0 ? -bytes : bytes;
    if (a >= 1e6) snprintf(buf, n, "%.1f MB", bytes / 1e6);
    else if (a >= 1e3) snprintf(buf, n, "%.1f KB", bytes / 1e3);
    else snprintf(buf, n, "%.0f B", bytes);
    return buf;
}

void report_summary_line(FILE *out, const SizeReport *in, const SizeReport *o) {
    char a[32], b[32], d[32];
    double pct = in->total ? 100.0 * ((double)o->total - (double)in->total) / (double)in->total : 0;
    fprintf(out, "IN %s -> OUT %s (%+.1f%%)", human(a, sizeof a, (double)in->total),
            human(b, sizeof b, (double)o->total), pct);
    const char *sep = ": ";
    for (int k = 0; k < KIND_COUNT; k++) {
        double delta = (double)o->by_kind[k] - (double)in->by_kind[k];
        if (delta == 0) continue;
        fprintf(out, "%s%s %s%s", sep, kind_names[k], delta > 0 ? "+" : "", human(d, sizeof d, delta));
        sep = ", ";
    }
    fputc('\n', out);
}

static const SectionStat *find_section(const SizeReport *r, const SectionStat *s) {
    for (uint32_t i = 0; r && i < r->nsections; i++)
        if (r->sections[i].id == s->id && !strcmp(r->sections[i].name, s->name)) return &r->sections[i];
    return NULL;
}

static void print_counts(FILE *out, const SizeReport *r) {
    fprintf(out, "kind: %s; functions %u (imports %u total), exports %u, globals %u, "
                 "tables %u, memories %u, tags %u, types %u, element segments %u, "
                 "data segments %u\n",
            r->is_object ? "object" : "module", r->nfuncs, r->nimports, r->nexports, r->nglobals,
            r->ntables, r->nmems, r->ntags, r->ntypes, r->nelems, r->ndatas);
}

void report_print_text(FILE *out, const SizeReport *before, const SizeReport *after) {
    fprintf(out, "%-28s %8s %12s %7s", "section", "count", "bytes", "share");
    if (after) fprintf(out, " %12s %7s %12s", "after", "share", "change");
    fputc('\n', out);
    for (uint32_t i = 0; i < before->nsections; i++) {
        const SectionStat *s = &before->sections[i];
        char label[64];
        snprintf(label, sizeof label, s->id ? "%s" : "custom \"%s\"", s->name);
        fprintf(out, "%-28s %8u %12zu %6.1f%%", label, s->count, s->size,
                100.0 * (double)s->size / (double)before->total);
        const SectionStat *t = find_section(after, s);
        if (after && t)
            fprintf(out, " %12zu %6.1f%% %+12lld", t->size, 100.0 * (double)t->size / (double)after->total,
                    (long long)t->size - (long long)s->size);
        else if (after)
            fprintf(out, " %12s %7s %+12lld", "-", "-", -(long long)s->size);
        fputc('\n', out);
    }
    for (uint32_t i = 0; after && i < after->nsections; i++) {
        const SectionStat *t = &after->sections[i];
        if (find_section(before, t)) continue;
        fprintf(out, "%-28s %8u %12s %7s %12zu %6.1f%% %+12lld\n", t->name, t->count, "-", "-", t->size,
                100.0 * (double)t->size / (double)after->total, (long long)t->size);
    }
    fprintf(out, "%-28s %8s %12zu", "total", "", before->total);
    if (after) fprintf(out, " %20zu %7s %+12lld", after->total, "", (long long)after->total - (long long)before->total);
    fputc('\n', out);
    print_counts(out, before);
    if (after) print_counts(out, after);
}

static void json_string(FILE *out, const char *s) {
    fputc('"', out);
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\') fprintf(out, "\\%c", ch);
        else if (ch < 0x20) fprintf(out, "\\u%04x", ch);
        else fputc(ch, out);
    }
    fputc('"', out);
}

static void json_report(FILE *out, const SizeReport *r) {
    fprintf(out, "{\"kind\": \"%s\", \"size\": %zu, \"sections\": [", r->is_object ? "object" : "module", r->total);
    for (uint32_t i = 0; i < r->nsections; i++) {
        const SectionStat *s = &r->sections[i];
        fprintf(out, "%s{\"id\": %u, \"name\": ", i ? ", " : "", s->id);
        json_string(out, s->name);
        fprintf(out, ", \"size\": %zu, \"count\": %u}", s->size, s->count);
    }
    fprintf(out, "], \"by_kind\": {");
    for (int k = 0; k < KIND_COUNT; k++)
        fprintf(out, "%s\"%s\": %zu", k ? ", " : "", kind_names[k], r->by_kind[k]);
    fprintf(out, "}, \"counts\": {\"functions\": %u, \"imports\": %u, \"exports\": %u, "
                 "\"globals\": %u, \"tables\": %u, \"memories\": %u, \"tags\": %u, \"types\": %u, "
                 "\"elements\": %u, \"data\": %u}}",
            r->nfuncs, r->nimports, r->nexports, r->nglobals, r->ntables, r->nmems, r->ntags,
            r->ntypes, r->nelems, r->ndatas);
}

void report_print_json(FILE *out, const SizeReport *before, const SizeReport *after, const PassStats *stats) {
    fprintf(out, "{\"input\": ");
    json_report(out, before);
    if (after) {
        fprintf(out, ", \"output\": ");
        json_report(out, after);
    }
    if (stats) {
        fprintf(out, ", \"passes\": ");
        pass_stats_print(out, stats, true);
    }
    fprintf(out, "}\n");
}
