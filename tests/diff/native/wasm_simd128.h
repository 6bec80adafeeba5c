/*
 * Scalar stand-in for clang's <wasm_simd128.h>, for compiling the SIMD
 * fixture natively (tests/diff/check-fixtures-native.sh puts this folder on
 * the include path). It implements only the intrinsics the fixtures use,
 * lane by lane, with WebAssembly's semantics (wrapping integer arithmetic,
 * saturating conversions, NaN-propagating min/max, out-of-range swizzle
 * indices giving 0). Never used for wasm builds.
 */
#ifndef WASMSLIM_NATIVE_WASM_SIMD128_H
#define WASMSLIM_NATIVE_WASM_SIMD128_H

#include <math.h>
#include <stdint.h>
#include <string.h>

typedef union {
    int8_t i8[16];
    uint8_t u8[16];
    int16_t i16[8];
    uint16_t u16[8];
    int32_t i32[4];
    uint32_t u32[4];
    int64_t i64[2];
    uint64_t u64[2];
    float f32[4];
    double f64[2];
} v128_t;

#define W_UNARY(name, n, field, expr) \
    static inline v128_t name(v128_t a) { v128_t r; for (int i = 0; i < n; i++) r.field[i] = (expr); return r; }
#define W_BINARY(name, n, field, expr) \
    static inline v128_t name(v128_t a, v128_t b) { v128_t r; for (int i = 0; i < n; i++) r.field[i] = (expr); return r; }

static inline v128_t wasm_v128_load(const void *p) { v128_t r; memcpy(&r, p, 16); return r; }
static inline void wasm_v128_store(void *p, v128_t v) { memcpy(p, &v, 16); }

W_BINARY(wasm_v128_and, 2, u64, a.u64[i] & b.u64[i])
static inline v128_t wasm_v128_bitselect(v128_t a, v128_t b, v128_t m) {
    v128_t r;
    for (int i = 0; i < 2; i++) r.u64[i] = (a.u64[i] & m.u64[i]) | (b.u64[i] & ~m.u64[i]);
    return r;
}
static inline int wasm_v128_any_true(v128_t a) { return (a.u64[0] | a.u64[1]) != 0; }

/* i8x16 / u8x16 */
static inline v128_t wasm_i8x16_splat(int8_t x) { v128_t r; for (int i = 0; i < 16; i++) r.i8[i] = x; return r; }
W_BINARY(wasm_i8x16_eq, 16, i8, a.i8[i] == b.i8[i] ? -1 : 0)
W_BINARY(wasm_i8x16_add, 16, u8, (uint8_t)(a.u8[i] + b.u8[i]))
W_BINARY(wasm_u8x16_add_sat, 16, u8, a.u8[i] + b.u8[i] > 255 ? 255 : a.u8[i] + b.u8[i])
W_BINARY(wasm_u8x16_max, 16, u8, a.u8[i] > b.u8[i] ? a.u8[i] : b.u8[i])
W_UNARY(wasm_i8x16_popcnt, 16, u8, (uint8_t)__builtin_popcount(a.u8[i]))
W_BINARY(wasm_i8x16_swizzle, 16, u8, b.u8[i] < 16 ? a.u8[b.u8[i]] : 0)
static inline v128_t wasm_u8x16_shr(v128_t a, uint32_t n) {
    v128_t r;
    for (int i = 0; i < 16; i++) r.u8[i] = (uint8_t)(a.u8[i] >> (n & 7));
    return r;
}
static inline uint32_t wasm_i8x16_bitmask(v128_t a) {
    uint32_t m = 0;
    for (int i = 0; i < 16; i++) m |= (uint32_t)(a.u8[i] >> 7) << i;
    return m;
}
static inline v128_t wasm_native_shuffle(v128_t a, v128_t b, const int idx[16]) {
    v128_t r;
    for (int i = 0; i < 16; i++) r.u8[i] = idx[i] < 16 ? a.u8[idx[i]] : b.u8[idx[i] - 16];
    return r;
}
#define wasm_i8x16_shuffle(a, b, ...) wasm_native_shuffle((a), (b), (const int[16]){__VA_ARGS__})

/* u16x8 */
W_UNARY(wasm_u16x8_extend_low_u8x16, 8, u16, a.u8[i])
W_UNARY(wasm_u16x8_extend_high_u8x16, 8, u16, a.u8[i + 8])

/* i32x4 */
static inline v128_t wasm_i32x4_make(int32_t a, int32_t b, int32_t c, int32_t d) {
    v128_t r;
    r.i32[0] = a; r.i32[1] = b; r.i32[2] = c; r.i32[3] = d;
    return r;
}
static inline v128_t wasm_i32x4_splat(int32_t x) { return wasm_i32x4_make(x, x, x, x); }
#define wasm_i32x4_extract_lane(v, l) ((v).i32[(l)])
W_BINARY(wasm_i32x4_add, 4, u32, a.u32[i] + b.u32[i])
W_BINARY(wasm_i32x4_min, 4, i32, a.i32[i] < b.i32[i] ? a.i32[i] : b.i32[i])
W_BINARY(wasm_i32x4_gt, 4, i32, a.i32[i] > b.i32[i] ? -1 : 0)
W_BINARY(wasm_i32x4_dot_i16x8, 4, u32,
         (uint32_t)((int32_t)a.i16[2 * i] * b.i16[2 * i]) + (uint32_t)((int32_t)a.i16[2 * i + 1] * b.i16[2 * i + 1]))
static inline v128_t wasm_i32x4_shl(v128_t a, uint32_t n) {
    v128_t r;
    for (int i = 0; i < 4; i++) r.u32[i] = a.u32[i] << (n & 31);
    return r;
}
static inline v128_t wasm_i32x4_shr(v128_t a, uint32_t n) {
    v128_t r;
    for (int i = 0; i < 4; i++) r.i32[i] = a.i32[i] < 0 ? ~(~a.i32[i] >> (n & 31)) : a.i32[i] >> (n & 31);
    return r;
}
static inline v128_t wasm_u32x4_shr(v128_t a, uint32_t n) {
    v128_t r;
    for (int i = 0; i < 4; i++) r.u32[i] = a.u32[i] >> (n & 31);
    return r;
}
static inline int wasm_i32x4_all_true(v128_t a) { return a.i32[0] && a.i32[1] && a.i32[2] && a.i32[3]; }
static inline uint32_t wasm_i32x4_bitmask(v128_t a) {
    uint32_t m = 0;
    for (int i = 0; i < 4; i++) m |= (a.u32[i] >> 31) << i;
    return m;
}
W_UNARY(wasm_i32x4_trunc_sat_f32x4, 4, i32,
        a.f32[i] != a.f32[i] ? 0 : a.f32[i] >= 2147483648.0f ? INT32_MAX : a.f32[i] < -2147483648.0f ? INT32_MIN
                                                                                                   : (int32_t)a.f32[i])

/* f32x4 */
static inline v128_t wasm_f32x4_make(float a, float b, float c, float d) {
    v128_t r;
    r.f32[0] = a; r.f32[1] = b; r.f32[2] = c; r.f32[3] = d;
    return r;
}
static inline v128_t wasm_f32x4_splat(float x) { return wasm_f32x4_make(x, x, x, x); }
#define wasm_f32x4_extract_lane(v, l) ((v).f32[(l)])
W_BINARY(wasm_f32x4_add, 4, f32, a.f32[i] + b.f32[i])
W_BINARY(wasm_f32x4_sub, 4, f32, a.f32[i] - b.f32[i])
W_BINARY(wasm_f32x4_mul, 4, f32, a.f32[i] * b.f32[i])
W_BINARY(wasm_f32x4_div, 4, f32, a.f32[i] / b.f32[i])
W_BINARY(wasm_f32x4_lt, 4, i32, a.f32[i] < b.f32[i] ? -1 : 0)
W_BINARY(wasm_f32x4_max, 4, f32,
         a.f32[i] != a.f32[i] || b.f32[i] != b.f32[i] ? NAN
         : a.f32[i] > b.f32[i]                         ? a.f32[i]
         : b.f32[i] > a.f32[i]                         ? b.f32[i]
         : signbit(a.f32[i])                           ? b.f32[i]
                                                       : a.f32[i])
W_UNARY(wasm_f32x4_sqrt, 4, f32, sqrtf(a.f32[i]))
W_UNARY(wasm_f32x4_convert_i32x4, 4, f32, (float)a.i32[i])

/* i64x2 / f64x2 */
static inline v128_t wasm_i64x2_make(int64_t a, int64_t b) { v128_t r; r.i64[0] = a; r.i64[1] = b; return r; }
static inline v128_t wasm_i64x2_splat(int64_t x) { return wasm_i64x2_make(x, x); }
#define wasm_i64x2_extract_lane(v, l) ((v).i64[(l)])
W_BINARY(wasm_i64x2_add, 2, u64, a.u64[i] + b.u64[i])
W_BINARY(wasm_i64x2_mul, 2, u64, a.u64[i] * b.u64[i])
static inline v128_t wasm_f64x2_make(double a, double b) { v128_t r; r.f64[0] = a; r.f64[1] = b; return r; }
static inline v128_t wasm_f64x2_splat(double x) { return wasm_f64x2_make(x, x); }
#define wasm_f64x2_extract_lane(v, l) ((v).f64[(l)])
W_BINARY(wasm_f64x2_add, 2, f64, a.f64[i] + b.f64[i])
W_BINARY(wasm_f64x2_mul, 2, f64, a.f64[i] * b.f64[i])

#undef W_UNARY
#undef W_BINARY
#endif
