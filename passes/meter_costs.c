/* meter_costs.c - the fuel cost table: defaults, --fuel-costs files, and the digest
 * that names the table in the wasmslim.metering custom section.
 *
 *   file:    # memory is dear
 *            i32.load 4
 *            call 10
 *   table:   every opcode 1, except nop drop block loop end else unreachable return 0,
 *            then i32.load 4 and call 10 from the file. */
#include "meter.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

void meter_costs_default(uint32_t *costs) {
    static const OpId free_ops[] = {OP_NOP, OP_DROP, OP_BLOCK, OP_LOOP, OP_END, OP_ELSE,
                                    OP_UNREACHABLE, OP_RETURN};
    for (int op = 0; op < OP_COUNT; op++) costs[op] = 1;
    for (size_t i = 0; i < WS_ARRAY_LEN(free_ops); i++) costs[free_ops[i]] = 0;
}

/* Contract: parses one "name cost" line (already stripped of its comment) into costs;
 * false with msg set when it is not one. */
static bool parse_line(char *line, uint32_t *costs, char *msg, size_t n) {
    char name[64], extra[2];
    unsigned long long cost;
    int got = sscanf(line, "%63s %llu %1s", name, &cost, extra);
    if (got == EOF || got == 0) return true; /* blank */
    if (got != 2) {
        snprintf(msg, n, "expected \"name cost\"");
        return false;
    }
    OpId op = op_by_name(name);
    if (op == OP_COUNT) {
        snprintf(msg, n, "unknown instruction \"%s\"", name);
        return false;
    }
    if (cost > 1000000000ull) {
        snprintf(msg, n, "cost of %s above 10^9", name);
        return false;
    }
    costs[op] = (uint32_t)cost;
    return true;
}

bool meter_costs_load(const char *path, uint32_t *costs, WsError *err) {
    meter_costs_default(costs);
    err->file = path;
    err->offset = 0;
    FILE *in = fopen(path, "r");
    if (!in) {
        snprintf(err->msg, sizeof err->msg, "cannot read the fuel cost file: %s", strerror(errno));
        return false;
    }
    char line[512], msg[160];
    bool ok = true;
    for (unsigned lineno = 1; ok && fgets(line, sizeof line, in); lineno++) {
        line[strcspn(line, "#\r\n")] = 0;
        ok = parse_line(line, costs, msg, sizeof msg);
        if (!ok) snprintf(err->msg, sizeof err->msg, "fuel cost file, line %u: %s", lineno, msg);
    }
    fclose(in);
    return ok;
}

static uint64_t fnv_bytes(uint64_t h, const char *s) {
    for (; *s; s++) {
        h ^= (uint8_t)*s;
        h *= 0x100000001b3ull;
    }
    return h;
}

uint64_t meter_costs_digest(const uint32_t *costs, uint64_t per_byte) {
    uint64_t h = 0xcbf29ce484222325ull;
    char line[96];
    for (int op = 0; op < OP_COUNT; op++) {
        snprintf(line, sizeof line, "%s %u\n", op_info[op].name, costs[op]);
        h = fnv_bytes(h, line);
    }
    snprintf(line, sizeof line, "per-byte %llu\n", (unsigned long long)per_byte);
    return fnv_bytes(h, line);
}
