/* naive.c - a deliberately naive fuel instrumentation, for tests only: the reference
 * the metering pass is checked against.  It shares nothing with passes/meter*.c (only
 * the module reader/writer and the instruction decoder/encoder): every instruction of
 * every body gets its own charge, in the bytecode, right before it.
 *
 *   before:  local.get 0  i32.const 1  i32.add  end
 *   after:   global.get $g  i64.const 1  i64.sub  global.set $g  local.get 0
 *            global.get $g  i64.const 1  i64.sub  global.set $g  i32.const 1
 *            global.get $g  i64.const 1  i64.sub  global.set $g  i32.add  end
 *
 * A charge placed before an instruction runs exactly when control reaches that
 * instruction in sequence, which is the definition of "executed" (passes/meter.c):
 * branches land after the instructions they skip, a delimiter's charge sits at the end
 * of the arm before it, and an if without else gets `else <charge of end>` so that its
 * false path pays its `end` too.  Bulk operations also pay
 * K * min(n, 2^62 / K) with n their last operand (saved in an added local).
 *
 * Usage: naive IN.wasm OUT.wasm [--costs FILE] [--per-byte K] [--export NAME] [--init N]
 * The global (mutable i64, initial value N, default 0) is exported as NAME
 * (default wasmslim_fuel).  It never traps: the fuel just goes negative. */
#include "../../ir/instr.h"
#include "../../ir/leb.h"
#include "../../ir/module.h"
#include <stdio.h>
#include <stdlib.h>

static uint32_t cost[OP_COUNT];
static uint64_t per_byte = 1;

static void die(const char *msg, const char *arg) {
    fprintf(stderr, "naive: %s%s\n", msg, arg ? arg : "");
    exit(2);
}

static void load_costs(const char *path) {
    FILE *in = fopen(path, "r");
    if (!in) die("cannot read ", path);
    char line[512], name[64];
    unsigned long long c;
    while (fgets(line, sizeof line, in)) {
        line[strcspn(line, "#\r\n")] = 0;
        if (sscanf(line, "%63s %llu", name, &c) != 2) continue;
        OpId op = op_by_name(name);
        if (op == OP_COUNT) die("unknown instruction ", name);
        cost[op] = (uint32_t)c;
    }
    fclose(in);
}

typedef struct Ctx {
    Module *m;
    uint32_t g, l64, l32;   /* the fuel global, the added locals */
} Ctx;

static void charge(Buf *b, const Ctx *x, uint32_t c) {
    if (!c) return;
    buf_u8(b, 0x23); buf_u32(b, x->g);
    buf_u8(b, 0x42); buf_s64(b, c);
    buf_u8(b, 0x7d);
    buf_u8(b, 0x24); buf_u32(b, x->g);
}

static bool mem64(const Module *m, uint32_t i) { return i < m->nmems && (m->mems[i].limits.flags & LIM_64); }
static bool tab64(const Module *m, uint32_t i) { return i < m->ntables && (m->tables[i].limits.flags & LIM_64); }

/* 1: the length is i32, 2: i64, 0: not a bulk operation. */
static int bulk_kind(const Module *m, const Instr *in) {
    switch (in->op) {
    case OP_MEMORY_FILL: case OP_MEMORY_GROW: return mem64(m, in->a) ? 2 : 1;
    case OP_MEMORY_COPY: return mem64(m, in->a) && mem64(m, (uint32_t)in->b) ? 2 : 1;
    case OP_TABLE_FILL: case OP_TABLE_GROW: return tab64(m, in->a) ? 2 : 1;
    case OP_TABLE_COPY: return tab64(m, in->a) && tab64(m, (uint32_t)in->b) ? 2 : 1;
    case OP_MEMORY_INIT: case OP_TABLE_INIT: return 1;
    default: return 0;
    }
}

/* The length on top of the stack, kept; fuel -= K * min(n, 2^62 / K). */
static void bulk_charge(Buf *b, const Ctx *x, int kind) {
    if (!per_byte) return;
    uint32_t l = kind == 2 ? x->l64 : x->l32;
    uint64_t cap = (1ull << 62) / per_byte;
    buf_u8(b, 0x22); buf_u32(b, l);                   /* local.tee n */
    buf_u8(b, 0x23); buf_u32(b, x->g);                /* fuel */
    buf_u8(b, 0x20); buf_u32(b, l);
    if (kind == 1) buf_u8(b, 0xad);                   /* i64.extend_i32_u */
    buf_u8(b, 0x42); buf_s64(b, (int64_t)cap);
    buf_u8(b, 0x20); buf_u32(b, l);
    if (kind == 1) buf_u8(b, 0xad);
    buf_u8(b, 0x42); buf_s64(b, (int64_t)cap);
    buf_u8(b, 0x54);                                  /* i64.lt_u */
    buf_u8(b, 0x1b);                                  /* select: min(n, cap) */
    buf_u8(b, 0x42); buf_s64(b, (int64_t)per_byte);
    buf_u8(b, 0x7e);                                  /* i64.mul */
    buf_u8(b, 0x7d);
    buf_u8(b, 0x24); buf_u32(b, x->g);
}

/* Rewrites one body: declarations plus two locals, a charge before every instruction. */
static void rewrite_body(Ctx *x, Func *fn, WsError *err) {
    Module *m = x->m;
    Cursor c = {m->input, fn->body.p, fn->body.p + fn->body.len, err};
    Buf b = {0};
    uint32_t ngroups = cur_u32(&c), nparams = m->types[fn->type].nparams;
    uint64_t total = nparams;
    buf_u32(&b, ngroups + 2);
    for (uint32_t i = 0; i < ngroups; i++) {
        uint32_t n = cur_u32(&c);
        ValType t = read_valtype(&c);
        total += n;
        buf_u32(&b, n);
        write_valtype(&b, t);
    }
    x->l64 = (uint32_t)total;
    x->l32 = (uint32_t)total + 1;
    buf_bytes(&b, "\x01\x7e\x01\x7f", 4);
    /* per open frame: 1 = if whose else has not been seen */
    uint8_t *open_if = ws_calloc(fn->body.len + 2, 1);
    uint32_t depth = 1;
    while (depth > 0) {
        Instr in;
        instr_decode(&c, &in);
        if (in.op == OP_END && open_if[depth] && cost[OP_END]) {
            charge(&b, x, cost[OP_END]);
            buf_u8(&b, 0x05); /* else: the false path falls into end too */
        }
        charge(&b, x, cost[in.op]);
        int kind = bulk_kind(m, &in);
        if (kind) bulk_charge(&b, x, kind);
        instr_encode(&b, &in);
        if (in.op == OP_BLOCK || in.op == OP_LOOP || in.op == OP_IF || in.op == OP_TRY || in.op == OP_TRY_TABLE)
            open_if[++depth] = in.op == OP_IF;
        if (in.op == OP_ELSE) open_if[depth] = 0;
        if (in.op == OP_END || in.op == OP_DELEGATE) depth--;
    }
    free(open_if);
    fn->body.p = b.data;
    fn->body.len = (uint32_t)b.len;
    fn->changed = true;
}

static void add_global_and_export(Module *m, const char *name, int64_t value, Ctx *x) {
    Buf init = {0};
    buf_u8(&init, 0x42);
    buf_s64(&init, value);
    buf_u8(&init, 0x0b);
    m->globals = ws_realloc(m->globals, (m->nglobals + 1) * sizeof(Global));
    Global *g = &m->globals[m->nglobals];
    memset(g, 0, sizeof *g);
    g->type = (ValType){VT_I64, 0};
    g->mut = 1;
    g->import = -1;
    g->init.code = init.data;
    g->init.len = (uint32_t)init.len;
    x->g = m->nglobals++;
    Export *e = ws_calloc(m->nexports + 1, sizeof(Export));
    if (m->nexports) memcpy(e, m->exports, m->nexports * sizeof(Export));
    e[m->nexports].name.p = (const uint8_t *)name;
    e[m->nexports].name.len = (uint32_t)strlen(name);
    e[m->nexports].kind = EXT_GLOBAL;
    e[m->nexports].index = x->g;
    m->exports = e;
    m->nexports++;
}

static uint8_t *read_all(const char *path, size_t *len) {
    FILE *in = fopen(path, "rb");
    if (!in) die("cannot read ", path);
    fseek(in, 0, SEEK_END);
    long n = ftell(in);
    fseek(in, 0, SEEK_SET);
    uint8_t *p = ws_malloc((size_t)n + 1);
    if (fread(p, 1, (size_t)n, in) != (size_t)n) die("short read ", path);
    fclose(in);
    *len = (size_t)n;
    return p;
}

int main(int argc, char **argv) {
    if (argc < 3) die("usage: naive IN.wasm OUT.wasm [--costs FILE] [--per-byte K] [--export NAME] [--init N]", NULL);
    static const OpId free_ops[] = {OP_NOP, OP_DROP, OP_BLOCK, OP_LOOP, OP_END, OP_ELSE, OP_UNREACHABLE, OP_RETURN};
    for (int op = 0; op < OP_COUNT; op++) cost[op] = 1;
    for (size_t i = 0; i < sizeof free_ops / sizeof free_ops[0]; i++) cost[free_ops[i]] = 0;
    const char *export_name = "wasmslim_fuel";
    int64_t init = 0;
    for (int i = 3; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--costs")) load_costs(argv[i + 1]);
        else if (!strcmp(argv[i], "--per-byte")) per_byte = strtoull(argv[i + 1], NULL, 10);
        else if (!strcmp(argv[i], "--export")) export_name = argv[i + 1];
        else if (!strcmp(argv[i], "--init")) init = strtoll(argv[i + 1], NULL, 10);
        else die("unknown option ", argv[i]);
    }
    size_t len;
    uint8_t *bytes = read_all(argv[1], &len);
    Module m;
    WsError err;
    ReadOptions ro = {.decode_code = true};
    if (!module_read(&m, bytes, len, argv[1], &ro, &err)) { ws_error_print(&err, stderr); return 1; }
    Ctx x = {&m, 0, 0, 0};
    add_global_and_export(&m, export_name, init, &x);
    if (setjmp(err.jb)) { ws_error_print(&err, stderr); return 1; }
    for (uint32_t f = m.nfunc_imports; f < m.nfuncs; f++) rewrite_body(&x, &m.funcs[f], &err);
    Buf out = {0};
    WriteOptions wo = {CODE_CANONICAL, 0};
    if (!module_write(&m, &wo, &out, &err)) { ws_error_print(&err, stderr); return 1; }
    FILE *o = fopen(argv[2], "wb");
    if (!o || fwrite(out.data, 1, out.len, o) != out.len || fclose(o)) die("cannot write ", argv[2]);
    return 0;
}
