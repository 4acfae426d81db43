import { z } from 'zod';

/**
 * A search space in the sweep YAML: dotted experiment keys -> a distribution. Every key takes
 * exactly one of these forms (bounds inclusive):
 *   {loguniform: [lo, hi]}  a float whose log is uniform on [log lo, log hi] (lo > 0)
 *   {uniform: [lo, hi]}     a float uniform on [lo, hi]
 *   {int: [lo, hi]}         an integer uniform on lo..hi
 *   {choice: [a, b, ...]}   one of the listed values
 */
const Bounds = z.tuple([z.number(), z.number()]).refine(([lo, hi]) => lo < hi, 'expected [low, high] with low < high');

export const Param = z.union([
  z.strictObject({ loguniform: Bounds.refine(([lo]) => lo > 0, 'loguniform needs a low bound above 0') }),
  z.strictObject({ uniform: Bounds }),
  z.strictObject({
    int: z
      .tuple([z.number().int(), z.number().int()])
      .refine(([lo, hi]) => lo < hi, 'expected [low, high] integers with low < high'),
  }),
  z.strictObject({ choice: z.array(z.unknown()).min(1, 'choice needs at least one value') }),
]);
export type Param = z.infer<typeof Param>;

export const Space = z
  .record(z.string().min(1), Param)
  .refine((s) => Object.keys(s).length > 0, 'the search space is empty (give at least one key)');
export type Space = z.infer<typeof Space>;

/** A point of a space: dotted key -> value, in the space's key order. */
export type Point = Record<string, unknown>;

/**
 * The metric a search or pruner selects on. Test-set ones need allowTestSelection. valLoss and
 * valAcc (the ID-classification accuracy) are measured on the train.valSplit clips.
 */
export const TRAIN_SIDE_METRICS = ['valLoss', 'valAcc', 'loss'] as const;
export const TEST_METRICS = ['auc', 'pauc', 'paucMcclish'] as const;
export const Metric = z.enum([...TRAIN_SIDE_METRICS, ...TEST_METRICS]);
export type Metric = z.infer<typeof Metric>;
export const Mode = z.enum(['min', 'max']);
export type Mode = z.infer<typeof Mode>;

export const SearchSpec = z.strictObject({
  method: z.enum(['grid', 'random', 'tpe']),
  /** How many configurations to sample (random, tpe); grid takes every point and ignores it. */
  trials: z.number().int().positive().optional(),
  seed: z.number().int().default(0),
  space: Space,
  /** What TPE minimises / maximises (and prune's default). valLoss: the validation loss on train.valSplit clips. */
  metric: Metric.default('valLoss'),
  mode: Mode.optional(),
  /** TPE: the first `startup` configurations are random. */
  startup: z.number().int().positive().default(8),
  /**
   * TPE: configurations are proposed in batches of this size; a batch is proposed from the
   * results of the batches before it only (with constant-liar values for its own earlier points),
   * so the points never depend on how many workers there are.
   */
  batch: z.number().int().positive().default(4),
});
export type SearchSpec = z.infer<typeof SearchSpec>;

export const PruneSpec = z
  .strictObject({
    method: z.enum(['asha', 'median', 'none']),
    metric: Metric.optional(),
    mode: Mode.optional(),
    /** The first rung (epochs); rungs are minEpochs * reduction^k up to maxEpochs, which is always the last one. */
    minEpochs: z.number().int().positive(),
    maxEpochs: z.number().int().positive(),
    reduction: z.number().int().min(2).default(3),
    /** median: a configuration is judged at a rung only once this many others have a value there. */
    minPeers: z.number().int().nonnegative().default(2),
  })
  .refine((p) => p.minEpochs <= p.maxEpochs, { message: 'minEpochs must not exceed maxEpochs', path: ['minEpochs'] });
export type PruneSpec = z.infer<typeof PruneSpec>;

/** The natural direction of a metric: losses go down, accuracies and AUCs go up. */
export function defaultMode(metric: Metric): Mode {
  return metric === 'valLoss' || metric === 'loss' ? 'min' : 'max';
}

export const isTestMetric = (m: Metric): boolean => (TEST_METRICS as readonly string[]).includes(m);

/** Rung epochs: minEpochs * reduction^k below maxEpochs, then maxEpochs. */
export function rungEpochs(p: Pick<PruneSpec, 'minEpochs' | 'maxEpochs' | 'reduction'>): number[] {
  const out: number[] = [];
  for (let e = p.minEpochs; e < p.maxEpochs; e *= p.reduction) out.push(e);
  out.push(p.maxEpochs);
  return out;
}

/** The finite values of a parameter (grid search), or null for a continuous one. */
export function finiteValues(p: Param): unknown[] | null {
  if ('choice' in p) return p.choice;
  if ('int' in p) return Array.from({ length: p.int[1] - p.int[0] + 1 }, (_, i) => p.int[0] + i);
  return null;
}

/** Every point of a finite space, in key order (the last key varies fastest), or null if a key is continuous. */
export function gridOf(space: Space): Point[] | null {
  let points: Point[] = [{}];
  for (const [key, param] of Object.entries(space)) {
    const values = finiteValues(param);
    if (values === null) return null;
    points = points.flatMap((p) => values.map((v) => ({ ...p, [key]: v })));
  }
  return points;
}
