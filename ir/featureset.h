/* featureset.h - which feature proposals a module uses, for wasm-opt's --mvp-features,
 * --disable-X and --enable-X: a module that uses a disabled feature is refused, and
 * so is an output the passes would make use one.
 *
 *   wasmslim m.wasm --mvp-features -o out.wasm
 *   m.wasm:0x2c: error: i32.extend8_s needs sign-ext, which the options disable */
#ifndef WS_FEATURESET_H
#define WS_FEATURESET_H

#include "module.h"

typedef enum FeatureId {
#define FEATURE(id, name, section) FEAT_##id,
#include "featureset.def"
#undef FEATURE
    FEAT_COUNT
} FeatureId;

enum {
#define FEATURE(id, name, section) FT_##id = 1u << FEAT_##id,
#include "featureset.def"
#undef FEATURE
    FT_ALL = (1u << FEAT_COUNT) - 1
};

/* The name of feature bit i ("sign-ext"), NULL past the last. */
const char *feature_name(uint32_t i);
/* Its name in the target_features section ("simd128" for simd), NULL past the last. */
const char *feature_section_name(uint32_t i);
/* The bit of a feature name, 0 when unknown. */
uint32_t feature_by_name(const char *name, size_t len);
/* Contract: true when the module uses no feature outside `allowed`; else false with *err
 * at the first use in file order (sections, then bodies), naming what uses it.  Bodies
 * and expressions must be well-formed (the module was read, or written by a pass). */
bool module_check_features(const Module *m, uint32_t allowed, WsError *err);
/* Contract: every feature the module uses into *used; false with *err only when a body
 * or expression does not decode. */
bool module_features_used(const Module *m, uint32_t *used, WsError *err);

#endif
