/* meter_options.h - options of the metering passes (fuel, memory cap, stack limit). */
#ifndef WS_METER_OPTIONS_H
#define WS_METER_OPTIONS_H

#include "../ir/common.h"

typedef struct MeterOptions {
    bool placeholder_;   /* replaced by the metering options */
} MeterOptions;

#endif
