/** A half-open range [start, end) of positions in an epoch's shuffled order. */
export type Range = readonly [start: number, end: number];

/**
 * The batches of one epoch over `count` shuffled clips. Like PyTorch's DataLoader, which both
 * references use with its default drop_last = False, the last partial batch is kept unless
 * `dropLast`; a remainder of one clip joins the previous batch instead, since training-mode
 * BatchNorm needs two clips (a batch of one has no variance in the embedding's BatchNorm).
 */
export function epochBatches(count: number, batchSize: number, dropLast: boolean): Range[] {
  const size = Math.min(batchSize, count);
  const full = Math.floor(count / size);
  const out: Range[] = Array.from({ length: full }, (_, i) => [i * size, (i + 1) * size] as const);
  const rest = count - full * size;
  if (dropLast || rest === 0) return out;
  if (rest === 1) out[full - 1] = [(full - 1) * size, count];
  else out.push([full * size, count]);
  return out;
}

/**
 * Splits a batch of n >= 2 clips into micro-batches of at most `micro` clips, as even as possible
 * (sizes differ by at most one), so no micro-batch is left with a single clip (BatchNorm). The
 * one exception to the cap: micro 2 and an odd batch, where one micro-batch takes 3 clips.
 */
export function microBatches(n: number, micro: number): Range[] {
  const parts = Math.max(1, Math.min(Math.ceil(n / micro), Math.floor(n / 2)));
  const out: Range[] = [];
  let start = 0;
  for (let i = 0; i < parts; i++) {
    const end = start + Math.floor(n / parts) + (i < n % parts ? 1 : 0);
    out.push([start, end]);
    start = end;
  }
  return out;
}
