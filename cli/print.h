/* print.h - --print / --print-function: the IR of functions as text. */
#ifndef WS_CLI_PRINT_H
#define WS_CLI_PRINT_H

#include "../ir/module.h"
#include <stdio.h>

/* Prints every defined function, or the one `which` names (name-section name or
 * index).  Returns false with a message when it is unknown or its code is invalid. */
bool print_functions(FILE *out, const Module *m, const char *which);

#endif
