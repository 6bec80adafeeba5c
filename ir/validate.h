/* validate.h - the validator: WebAssembly 3.0 validation ("Validation" chapter of the
 * core spec) of everything the reader accepts: MVP, sign extension, saturating
 * truncation, multi-value, bulk memory, reference types, SIMD and relaxed SIMD,
 * threads, legacy and new exception handling, tail calls, multi-memory, memory64,
 * table64, extended constant expressions, typed function references and GC. */
#ifndef WS_VALIDATE_H
#define WS_VALIDATE_H

#include "instr.h"
#include "module.h"

/* Checks that m is valid.  On the first error returns false with *err filled: file
 * (m->file), offset (file offset of the offending instruction or section entry; for a
 * body a pass rewrote, its body_offset plus the offset inside the new body) and a
 * message worded like the spec testsuite's ("type mismatch", "unknown local 3",
 * "uninitialized local 1", "undeclared function reference", ...).  Bodies are decoded
 * here, so a module read without ReadOptions.decode_code is fully checked too. */
bool module_validate(const Module *m, WsError *err);
/* The same, skipping the function bodies when skip_bodies is set: for runs that copy
 * code without decoding it (stripping, --stats), whose code is as valid as the input's. */
bool module_validate_except_code(const Module *m, bool skip_bodies, WsError *err);

/* Validation of the bodies one at a time, by whoever reads them anyway (-O0's round
 * trip checks each body right before it builds its IR): validator_begin checks
 * everything but the bodies (NULL with *err on failure) and returns the checker; each
 * thread takes a validator_worker copy and calls validator_check_body per body. */
typedef struct Validator Validator;
Validator *validator_begin(const Module *m, WsError *err);
Validator *validator_worker(const Validator *v);
void validator_worker_free(Validator *w);
void validator_end(Validator *v);
/* Checks defined function `index`'s body on worker w; false with *err at its first error. */
bool validator_check_body(Validator *w, uint32_t index, WsError *err);
/* The module v checks bodies against (validator_begin's). */
const Module *validator_module(const Validator *v);

/* What a pass that reads every body anyway can learn from the check instead (remove-
 * unused lists each body's references): `local` is called on each local declaration's
 * type, in order, with its offset; then, in order, `item` on the calls, call_indirect,
 * global.get and global.set and the first load or store of memory 0 the quick path
 * takes (op, its index immediates a and b, or none for a memory access, and offset),
 * and `instr` on every instruction the quick path does not take.  Offsets count as
 * the check's (from the input). */
typedef struct ValidateListener {
    void (*local)(void *ctx, ValType t, size_t at);
    void (*item)(void *ctx, uint16_t op, uint32_t a, uint32_t b, size_t at);
    void (*instr)(void *ctx, const Instr *in);
    void *ctx;
} ValidateListener;
/* validator_check_body, telling l what it walks (until the error, if any); *canonical
 * then says whether the body's bytes are the writer's canonical form, its declared
 * locals one group per type (what Func.canonical_at records). */
bool validator_check_body_listened(Validator *w, uint32_t index, const ValidateListener *l, bool *canonical,
                                   WsError *err);

#endif
