/* dce_options.h - options of the dead-code passes (roots, exports kept, --why-kept). */
#ifndef WS_DCE_OPTIONS_H
#define WS_DCE_OPTIONS_H

#include "../ir/common.h"

typedef struct DceOptions {
    bool placeholder_;   /* replaced by the dead-code options */
} DceOptions;

#endif
