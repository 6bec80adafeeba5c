/* meter_options.h - options of the metering pass (fuel, memory cap, stack limit),
 * filled by cli/options_meter.c and read by passes/meter*.c. */
#ifndef WS_METER_OPTIONS_H
#define WS_METER_OPTIONS_H

#include "../ir/common.h"

typedef enum FuelMode { FUEL_LAZY = 0, FUEL_EXACT = 1 } FuelMode;
typedef enum StackCost { STACK_COST_ONE = 0, STACK_COST_FRAME = 1 } StackCost;

typedef struct MeterOptions {
    /* --fuel and its settings */
    bool fuel;
    FuelMode fuel_mode;             /* --fuel-mode=lazy|exact (default lazy) */
    const char *fuel_export;        /* --fuel-export=NAME (default "wasmslim_fuel") */
    int64_t fuel_init;              /* --fuel-init=N (default 0) */
    char fuel_import_module[256];   /* --fuel-import=MODULE.NAME ("" = trap when empty) */
    const char *fuel_import_name;
    const char *fuel_costs_file;    /* --fuel-costs=FILE, NULL = defaults */
    uint64_t fuel_per_byte;         /* --fuel-per-byte=K */
    bool fuel_per_byte_given;       /* else K = 1 */
    /* --max-memory-pages=N */
    bool mem_cap;
    uint64_t max_memory_pages;
    /* --stack-limit=N */
    bool stack;
    uint32_t stack_limit;
    StackCost stack_cost;           /* --stack-cost=1|frame */
    const char *stack_export;       /* --stack-export=NAME (default "wasmslim_stack") */
    bool force;                     /* --force: instrument an already metered module */
} MeterOptions;

#endif
