#!/usr/bin/env bash
# Builds csrc/exp_kernels.c into the four committed modules (development only; needs Debian's
# clang-16 + lld-16 for relaxed SIMD, and wabt for the checks: apt-get install clang-16 lld-16 wabt):
#   wasm/exp-kernels[-shared][-relaxed].wasm
#     -shared   imports a shared memory (tfjs-backend-wasm's threaded build), else a plain one
#     -relaxed  uses relaxed-SIMD fused multiply-add in the GEMM tiles (V8 >= 11.4, or Node 20 with
#               --experimental-wasm-relaxed-simd, which simd.ts sets); the others run everywhere
# None may use the linear-memory stack or own data: the memory is tfjs's heap.
set -euo pipefail
cd "$(dirname "$0")/.."
src=csrc/exp_kernels.c
cc=${CC:-clang-16}
common=(--target=wasm32 -O3 -msimd128 -mbulk-memory -nostdlib -ffreestanding -fno-builtin -fuse-ld=lld
  -Wall -Wextra -Werror -Wl,--no-entry -Wl,--import-memory -Wl,--strip-all)
shared=(-matomics -Wl,--shared-memory -Wl,--max-memory=4294967296)
"$cc" "${common[@]}" -o wasm/exp-kernels.wasm "$src"
"$cc" "${common[@]}" "${shared[@]}" -o wasm/exp-kernels-shared.wasm "$src"
"$cc" "${common[@]}" -mrelaxed-simd -o wasm/exp-kernels-relaxed.wasm "$src"
"$cc" "${common[@]}" "${shared[@]}" -mrelaxed-simd -o wasm/exp-kernels-shared-relaxed.wasm "$src"
for f in wasm/exp-kernels.wasm wasm/exp-kernels-shared.wasm wasm/exp-kernels-relaxed.wasm wasm/exp-kernels-shared-relaxed.wasm; do
  dump=$(wasm-objdump -x -d "$f")
  # A stack frame that is computed and dropped unused (an LLVM leftover) touches nothing.
  gets=$(grep -c 'global\.get' <<<"$dump" || true)
  dropped=$(grep -A3 'global\.get' <<<"$dump" | grep -c '| drop$' || true)
  if grep -q 'global\.set\|Data\[' <<<"$dump" || [ "$gets" != "$dropped" ]; then
    echo "$f: uses the stack or has data segments (it must not touch memory it does not own)" >&2
    exit 1
  fi
  echo "$f: $(stat -c %s "$f") bytes"
done
