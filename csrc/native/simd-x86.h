/*
 * The native x86-64 build of csrc/exp_kernels.c (tools/build-native.sh): the WebAssembly SIMD
 * intrinsics it is written in, mapped onto SSE/AVX by SIMDe (https://github.com/simd-everywhere/simde,
 * Debian's libsimde-dev, needed to build only), plus the AVX2 intrinsics of its wider tiles.
 */
#define SIMDE_ENABLE_NATIVE_ALIASES
#include <immintrin.h>
#include <simde/wasm/simd128.h>
#include <simde/wasm/relaxed-simd.h>
