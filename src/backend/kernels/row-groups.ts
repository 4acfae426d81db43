import { simd } from './simd.js';
import type { WasmBackend } from './wasm-util.js';

/**
 * Fixed row groups for the per-channel sums that threads split by rows (csrc/exp_kernels.c
 * `col_sums_rg`, `bn_prelu_sums_rg`, `dw_filter_grad_rg`). A thread given a slice of the channels
 * strides through every row of the tensor and the two threads stream it from memory twice; with
 * rows split each streams its own part once (measured: docs/backend.md, Threads). Each group sums
 * into float64 partials of its own, added in group order afterwards; the groups depend on the
 * shape only, never on the thread count, so the sums are the same bits at any thread count.
 */

/** Values per group: ~256 KB of each float32 operand, enough work to amortise a helper's chunk. */
const GROUP_VALUES = 65536;

export interface RowGroups {
  /** Rows per group (the last group may be shorter). */
  grows: number;
  groups: number;
}

/** Groups of whole multiples of `align` rows, ~GROUP_VALUES values each, for `rows` rows of `perRow` values. */
export function rowGroups(rows: number, perRow: number, align = 1): RowGroups {
  const units = Math.max(1, Math.round(GROUP_VALUES / (perRow * align)));
  const grows = units * align;
  return { grows, groups: Math.max(1, Math.ceil(rows / grows)) };
}

/** Adds float64 partials [groups][len] at byte offset `at` into the first group's slot, in group order. */
export function sumGroups(backend: WasmBackend, at: number, groups: number, len: number): void {
  if (groups > 1) simd(backend).f64_group_sum(at, groups, len, 0, len);
}
