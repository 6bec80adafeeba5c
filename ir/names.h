/* names.h - the "name" custom section: subsections by kind, filtering, function names. */
#ifndef WS_NAMES_H
#define WS_NAMES_H

#include "module.h"

enum {
    NAME_MODULE = 0, NAME_FUNCTION = 1, NAME_LOCAL = 2, NAME_LABEL = 3, NAME_TYPE = 4,
    NAME_TABLE = 5, NAME_MEMORY = 6, NAME_GLOBAL = 7, NAME_ELEM = 8, NAME_DATA = 9,
    NAME_FIELD = 10, NAME_TAG = 11, NAME_KIND_COUNT = 12
};

const char *name_kind_str(int kind);
/* Kind from its word ("function", "local", ...; also "func", "mem"), or -1. */
int name_kind_parse(const char *word, size_t len);

/* Copies the name section payload `in` without the subsections whose kind bit is set in
 * drop_mask (unknown subsections are kept).  Returns false, leaving *out untouched, when
 * the payload is malformed. */
bool names_filter(Arena *a, Bytes in, uint32_t drop_mask, Bytes *out);

/* True when the live name section has a subsection of this kind. */
bool names_has_subsection(const Module *m, int kind);
/* The "name" custom section of m, or NULL. */
const Custom *names_section(const Module *m);
/* Fills names[0..m->nfuncs) with function names (len 0 where none).  Malformed
 * sections give no names. */
void names_functions(const Module *m, Bytes *names);

#endif
