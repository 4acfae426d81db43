import type { Trial, TrialMaker } from '../trial.js';
import { UserError } from '../../util/errors.js';
import { PointSequence } from './sampler.js';
import {
  defaultMode,
  gridOf,
  isTestMetric,
  rungEpochs,
  type Metric,
  type Mode,
  type PruneSpec,
  type SearchSpec,
} from './space.js';

/**
 * What an adaptive sweep does, checked before anything runs: where configurations come from
 * (a search space, or the sweep's listed trials / grid), the rungs, and the objective.
 */
export interface SearchPlan {
  /** The sampler, or null when the configurations are the sweep's listed trials / grid. */
  search: SearchSpec | null;
  prune: PruneSpec;
  metric: Metric;
  mode: Mode;
  /** True when the objective is a test-set metric (allowed by allowTestSelection). */
  testSelection: boolean;
  rungs: number[];
  /** Trials per configuration (one per --seeds value). */
  seeds: number;
  /** Listed configurations (no search): unit u is listed[u], its seeds. */
  listed: Trial[][] | null;
  makeTrials: TrialMaker;
  /** How many configurations the space holds as a full grid (null: a continuous key). */
  gridSize: number | null;
  /** The first configuration's trials, built while checking (the CLI preflights them). */
  sample: Trial[];
}

/** The sweep YAML's adaptive keys (a part of SweepSpec, src/sweep/spec.ts). */
export interface AdaptiveKeys {
  search?: SearchSpec | undefined;
  prune?: PruneSpec | undefined;
  allowTestSelection: boolean;
}

/** Refuses what cannot work, naming the sweep file and key; returns the plan. */
export function checkSearch(
  file: string,
  spec: AdaptiveKeys,
  trials: Trial[],
  seeds: number,
  makeTrials: TrialMaker,
): SearchPlan {
  const search = spec.search ?? null;
  const metric: Metric = spec.prune?.metric ?? search?.metric ?? 'valLoss';
  const mode: Mode = spec.prune?.mode ?? search?.mode ?? defaultMode(metric);
  const testSelection = isTestMetric(metric);
  if (testSelection && !spec.allowTestSelection) {
    throw new UserError(
      `${file}: ${spec.prune?.metric ? 'prune' : 'search'}.metric ${metric} is a test-set metric: selecting on it overstates the result; use valLoss (needs train.valSplit), or set allowTestSelection: true to do it anyway`,
    );
  }
  if (search && search.method !== 'grid' && search.trials === undefined)
    throw new UserError(`${file}: search.trials: how many configurations ${search.method} search samples is required`);
  const grid = search ? gridOf(search.space) : null;
  if (search?.method === 'grid' && grid === null) {
    const key = Object.entries(search.space).find(([, p]) => !('choice' in p) && !('int' in p))![0];
    throw new UserError(
      `${file}: search.space.${key}: a grid needs choice or int values (or use method: random / tpe)`,
    );
  }
  const maxEpochs = spec.prune?.maxEpochs;
  const prune: PruneSpec = spec.prune ?? { method: 'none', minEpochs: 1, maxEpochs: 1, reduction: 3, minPeers: 2 };
  let listed: Trial[][] | null = null;
  let sample: Trial[];
  if (search) {
    const first = new PointSequence(search).at(0, () => undefined);
    // The first configuration is built now, so a bad key or value stops the sweep before it starts.
    sample = first.kind === 'point' ? makeTrials(0, first.point) : [];
  } else {
    listed = [];
    for (let i = 0; i < trials.length; i += seeds) listed.push(trials.slice(i, i + seeds));
    sample = trials;
  }
  const epochsOf = (t: Trial) => t.config.train.epochs;
  const rungs = spec.prune ? rungEpochs(spec.prune) : [sample[0] ? epochsOf(sample[0]) : 1];
  for (const t of sample) {
    if ((metric === 'valLoss' || metric === 'valAcc') && t.config.train.valSplit === null) {
      throw new UserError(
        `${file} trial ${t.name}: the objective ${metric} needs train.valSplit (e.g. set: {train.valSplit: 0.1}); or choose prune.metric`,
      );
    }
    if (testSelection) {
      const every = t.config.train.evalEvery;
      const bad = rungs.slice(0, -1).find((r) => every === null || r % every !== 0);
      if (bad !== undefined)
        throw new UserError(
          `${file} trial ${t.name}: pruning on ${metric} needs a test evaluation at every rung: train.evalEvery must divide ${bad}`,
        );
    }
  }
  if (maxEpochs !== undefined) {
    for (const t of sample)
      if (epochsOf(t) !== maxEpochs)
        throw new Error(`trial ${t.name}: train.epochs ${epochsOf(t)} is not prune.maxEpochs ${maxEpochs}`);
  }
  return {
    search,
    prune,
    metric,
    mode,
    testSelection,
    rungs,
    seeds,
    listed,
    makeTrials,
    gridSize: grid?.length ?? null,
    sample,
  };
}
