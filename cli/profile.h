/* profile.h - --profile: the largest functions, by body size and by retained size. */
#ifndef WS_PROFILE_H
#define WS_PROFILE_H

#include "../ir/module.h"
#include <stdio.h>

/* Prints the n largest functions of m (text or JSON).  Returns false with a message on
 * stderr when the code is malformed. */
bool profile_print(FILE *out, const Module *m, uint32_t n, bool json);

#endif
