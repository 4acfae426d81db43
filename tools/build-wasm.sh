#!/usr/bin/env bash
# Builds csrc/exp_kernels.c into the two committed modules (development only; needs Debian's
# clang + lld, and wabt for the checks: apt-get install clang lld wabt):
#   wasm/exp-kernels-shared.wasm  imports a shared memory (tfjs-backend-wasm's threaded build)
#   wasm/exp-kernels.wasm         imports a plain memory (its single-threaded builds)
# Neither may use the linear-memory stack or own data: the memory is tfjs's heap.
set -euo pipefail
cd "$(dirname "$0")/.."
src=csrc/exp_kernels.c
common=(--target=wasm32 -O3 -msimd128 -mbulk-memory -nostdlib -ffreestanding -fno-builtin
  -Wall -Wextra -Werror -Wl,--no-entry -Wl,--import-memory -Wl,--strip-all)
clang "${common[@]}" -o wasm/exp-kernels.wasm "$src"
clang "${common[@]}" -matomics -Wl,--shared-memory -Wl,--max-memory=4294967296 -o wasm/exp-kernels-shared.wasm "$src"
for f in wasm/exp-kernels.wasm wasm/exp-kernels-shared.wasm; do
  dump=$(wasm-objdump -x -d "$f")
  # A stack frame that is computed and dropped unused (an LLVM leftover) touches nothing.
  gets=$(grep -c 'global\.get' <<<"$dump" || true)
  dropped=$(grep -A3 'global\.get' <<<"$dump" | grep -c '| drop$' || true)
  if grep -q 'global\.set\|Data\[' <<<"$dump" || [ "$gets" != "$dropped" ]; then
    echo "$f: uses the stack or has data segments (it must not touch memory it does not own)" >&2
    exit 1
  fi
  echo "$f: $(stat -c %s "$f") bytes, exports: $(grep -o 'func\[[0-9]*\] <[a-z_0-9]*> -> "[a-z_0-9]*"' <<<"$dump" | grep -o '"[a-z_0-9]*"' | tr '\n' ' ')"
done
