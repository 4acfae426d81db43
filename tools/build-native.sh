#!/usr/bin/env bash
# Builds the native x86-64 kernels (csrc/native/addon.c, which includes csrc/exp_kernels.c) into
# native/exp-kernels-linux-x64.node, committed like the wasm modules so that installing exp needs no
# C toolchain (development only; needs clang-16 and Debian's libsimde-dev, and Node's headers, which
# ship with Node: apt-get install clang-16 libsimde-dev).
# x86-64-v2 plus AVX2 and FMA, nothing else (not x86-64-v3, whose BMI / MOVBE / F16C the compiler
# could use anywhere): native.ts loads it only where /proc/cpuinfo lists avx2 and fma (Intel
# Haswell, AMD Zen and later), so older CPUs keep the wasm kernels.
set -euo pipefail
cd "$(dirname "$0")/.."
cc=${CC:-clang-16}
node_inc="$(dirname "$(dirname "$(command -v node)")")/include/node"
[ -f "$node_inc/node_api.h" ] || { echo "build-native: no node_api.h under $node_inc" >&2; exit 1; }
mkdir -p native
# Results must keep the wasm build's bits: -ffp-contract=off, or clang fuses scalar a * b + c into
# one FMA where wasm (no scalar FMA) rounds twice; no -ffast-math. -fno-math-errno: sqrtf becomes
# one instruction (no libm).
# Two builds: the AVX2 one, and one that adds AVX-512 (F, VL, BW, DQ: every AVX-512 CPU since
# Intel Skylake-SP and AMD Zen 4) with 512-bit product tiles, which native.ts loads where
# /proc/cpuinfo lists all four.
build() {
  local out=native/$1
  shift
  "$cc" -O3 -march=x86-64-v2 -mavx2 -mfma "$@" -ffp-contract=off -fno-math-errno -fPIC -shared -DEXP_NATIVE -Wall \
    -Wextra -Werror -Wno-unknown-attributes -Wno-unused-function -I"$node_inc" -Icsrc -o "$out" csrc/native/addon.c
  strip "$out"
  echo "$out: $(stat -c %s "$out") bytes"
}
build exp-kernels-linux-x64.node
build exp-kernels-linux-x64-avx512.node -mavx512f -mavx512vl -mavx512bw -mavx512dq -DEXP_AVX512
