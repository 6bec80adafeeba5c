/* options_dce.c - command-line flags of the dead-code passes. */
#include <stdio.h>
#include "options.h"

int options_parse_dce(Options *o, const char *arg) {
    (void)o;
    (void)arg;
    return 0;
}
