import * as tf from '@tensorflow/tfjs';
import { join } from 'node:path';
import type { ExperimentConfig } from '../config/schema.js';
import type { TrainEvent, EvalEvent, ScoreRow } from './events.js';
import { makeInputs, type ClipArrays } from './batch.js';
import { accumulateGradients, trainedParams } from './step.js';
import { AdamW } from './adamw.js';
import { learningRate } from './schedule.js';
import { epochBatches, microBatches } from './plan.js';
import { PooledBatchMoments } from '../model/batch-moments.js';
import { saveCheckpoint, loadCheckpoint } from './checkpoint.js';
import type { AsdSystem } from '../systems/types.js';
import { evaluate } from '../metrics/index.js';
import { SeededRandom } from '../losses/random.js';

/** Clips of one split with their class indices and metadata. */
export interface Split {
  clips: ClipArrays;
  count: number;
  classIndex: Int32Array;
  meta: Array<{ path: string; type: string; id: string; label: 0 | 1 }>;
}

export interface LoopSetup {
  config: ExperimentConfig;
  /** The system (model + objective + scorer) built by the registry from the config. */
  system: AsdSystem;
  train: Split;
  val: Split | null;
  test: Split;
  runDir: string;
  emit: (e: TrainEvent) => Promise<void>;
  signal?: AbortSignal;
  resumeFrom?: string;
  /** Micro-batch size when train.microBatch is null (see autoMicroBatch). */
  defaultMicroBatch: number;
}

/**
 * Clips per micro-batch when the config leaves it open. Measured on wasm (exp bench): the full
 * model at 10 s grows the 4 GB heap to 1.4 GB at 8 clips and 2.6 GB at 16, for nearly the same
 * throughput (8.4 vs 8.6 clips/s), so 8 clips of 10 s keep a wide margin; scaled inversely with
 * the clip length. Native TensorFlow (GPU) takes the whole batch.
 */
export function autoMicroBatch(backend: string, seconds: number, batchSize: number): number {
  if (backend === 'tensorflow') return batchSize;
  return Math.max(2, Math.min(batchSize, Math.floor((8 * 10) / seconds)));
}

/** Thrown when the loss stops being a finite number; names where it happened. */
export class DivergedError extends Error {
  override readonly name = 'DivergedError';
}

interface LoopState {
  /** Last fully finished epoch. */
  epoch: number;
  optimizerStep: number;
  bestValLoss: number | null;
  bestCheckpoint: string | null;
  /** Steps already applied of the next epoch when a stop interrupted it (absent at epoch ends). */
  partial?: PartialEpoch | null;
}

/** How far an interrupted epoch got: its applied steps and the running sums of its epoch event. */
interface PartialEpoch {
  epoch: number;
  steps: number;
  lossSum: number;
  termSums: Record<string, number>;
  seen: number;
  seconds: number;
}

/** Thrown at a yield point once the run's signal is aborted (after the progress is checkpointed). */
const aborted = (): DOMException => new DOMException('training aborted', 'AbortError');

/**
 * Lets Node's event loop run (a Ctrl-C handler, an IPC 'stop', a heartbeat timer) between two
 * pieces of synchronous tensor work: without it a signal is only seen when the run ends.
 */
const yieldToEventLoop = (): Promise<void> => new Promise((r) => setImmediate(r));

const EVAL_BATCH = 16;

/** Per-epoch generator: shuffles and mixup draws depend only on (seed, epoch), so a resumed run replays them exactly. */
function epochRng(seed: number, epoch: number): SeededRandom {
  return new SeededRandom(seed * 1_000_003 + epoch * 7919 + 17);
}

export async function runLoop(s: LoopSetup): Promise<void> {
  const { config, system } = s;
  const tc = config.train;
  const { params, multipliers, epsilons, vars, byParam } = trainedParams(system);
  const optimizer = new AdamW(params, { weightDecay: tc.weightDecay }, multipliers, epsilons);
  /** Everything a checkpoint holds: weights, BatchNorm state, optimizer moments. */
  const saved = (): Map<string, tf.Variable> =>
    new Map<string, tf.Variable>([
      ...[...params].map(([k, v]) => [`param/${k}`, v] as const),
      ...[...system.state()].map(([k, v]) => [`state/${k}`, v] as const),
      ...[...optimizer.state()].map(([k, v]) => [`opt/${k}`, v] as const),
    ]);

  let state: LoopState = { epoch: 0, optimizerStep: 0, bestValLoss: null, bestCheckpoint: null };
  if (s.resumeFrom) {
    const ck = loadCheckpoint<LoopState>(s.resumeFrom);
    ck.restore(saved());
    state = ck.state;
    optimizer.step = state.optimizerStep;
  }
  let resumePartial = state.partial ?? null;
  /** Progress since the last checkpoint: a stop writes it, so no applied step is lost. */
  let unsaved: PartialEpoch | null = null;
  /**
   * A stop (the signal aborted): checkpoint the progress to `last`, which a resume continues
   * from, and throw. Only whole optimizer steps are kept; a half-accumulated step is dropped
   * and redone on resume, so the resumed run equals an uninterrupted one.
   */
  const stop = async (): Promise<never> => {
    if (unsaved !== null) {
      const midEpoch = unsaved.steps > 0;
      const next: LoopState = { ...state, optimizerStep: optimizer.step, partial: midEpoch ? unsaved : null };
      if (!midEpoch) next.epoch = unsaved.epoch;
      saveCheckpoint(join(s.runDir, 'last'), saved(), next);
      await s.emit({ kind: 'checkpoint', epoch: unsaved.epoch, path: join(s.runDir, 'last'), best: false });
    }
    throw aborted();
  };
  const checkpointIfStopped = async (): Promise<void> => {
    await yieldToEventLoop();
    if (s.signal?.aborted) await stop();
  };

  const micro = tc.microBatch ?? s.defaultMicroBatch;
  const batches = epochBatches(s.train.count, tc.batchSize, tc.dropLast);
  const stepsPerEpoch = batches.length;
  const mixAlpha = system.mixupAlpha;

  for (let epoch = state.epoch + 1; epoch <= tc.epochs; epoch++) {
    const t0 = performance.now();
    const lr = learningRate(tc, epoch - 1);
    const rng = epochRng(config.seed, epoch);
    const order = rng.permutation(s.train.count);
    let lossSum = 0;
    let termSums: Record<string, number> = Object.fromEntries(system.termNames.map((t) => [t, 0]));
    let seen = 0;
    let firstStep = 0;
    let secondsBefore = 0;
    if (resumePartial?.epoch === epoch) {
      ({ lossSum, termSums, seen, seconds: secondsBefore, steps: firstStep } = resumePartial);
      termSums = { ...termSums };
      // Replay the generator's draws of the steps already applied, so the next steps draw the same.
      for (let k = 0; k < firstStep; k++) {
        rng.permutation(order.slice(...batches[k]!).length);
        if (mixAlpha !== null) rng.beta(mixAlpha, mixAlpha);
      }
    }
    resumePartial = null;
    for (let step = firstStep; step < stepsPerEpoch; step++) {
      const rows = order.slice(...batches[step]!);
      const perm = rng.permutation(rows.length);
      const lam = mixAlpha !== null ? rng.beta(mixAlpha, mixAlpha) : 1;
      const partners = perm.map((p) => rows[p]!);
      const acc = new Map<string, tf.Tensor>();
      // BatchNorm running statistics: updated once per step from the whole batch's moments.
      const moments = new PooledBatchMoments();
      let stepLoss = 0;
      const ts = performance.now();
      for (const [m0, m1] of microBatches(rows.length, micro)) {
        await yieldToEventLoop();
        if (s.signal?.aborted) {
          // Running statistics are only committed with the step, so dropping it leaves them as they were.
          tf.dispose([...acc.values()]);
          moments.dispose();
          await stop();
        }
        const mRows = rows.slice(m0, m1);
        const mPartners = partners.slice(m0, m1);
        const inputs = makeInputs(s.train.clips, mRows, mixAlpha !== null ? { partners: mPartners, lam } : undefined);
        const labelsA = tf.tensor1d(mRows.map((r) => s.train.classIndex[r]!), 'int32');
        const labelsB = tf.tensor1d(mPartners.map((r) => s.train.classIndex[r]!), 'int32');
        const share = mRows.length / rows.length;
        const res = accumulateGradients(system, vars, inputs, { labelsA, labelsB, lam }, share, acc, moments);
        tf.dispose([inputs.wave, inputs.logmel, labelsA, labelsB]);
        if (!Number.isFinite(res.loss)) {
          tf.dispose([...acc.values()]);
          moments.dispose();
          throw new DivergedError(`loss became ${res.loss} at epoch ${epoch}, step ${step + 1} of ${stepsPerEpoch}`);
        }
        stepLoss += res.loss * share;
        for (const [t, v] of Object.entries(res.terms)) termSums[t] = (termSums[t] ?? 0) + v * mRows.length;
      }
      optimizer.apply(byParam(acc), lr);
      moments.commit();
      tf.dispose([...acc.values()]);
      lossSum += stepLoss * rows.length;
      seen += rows.length;
      unsaved = { epoch, steps: step + 1, lossSum, termSums: { ...termSums }, seen, seconds: secondsBefore + (performance.now() - t0) / 1000 };
      await s.emit({
        kind: 'step',
        epoch,
        step: step + 1,
        stepsPerEpoch,
        loss: stepLoss,
        clipsPerSec: rows.length / ((performance.now() - ts) / 1000),
      });
    }
    const seconds = secondsBefore + (performance.now() - t0) / 1000;
    const valLoss = s.val ? await validationLoss(s, s.val, checkpointIfStopped) : null;
    await s.emit({
      kind: 'epoch',
      epoch,
      epochs: tc.epochs,
      loss: lossSum / Math.max(seen, 1),
      terms: Object.fromEntries(Object.entries(termSums).map(([t, v]) => [t, v / Math.max(seen, 1)])),
      lr,
      clipsPerSec: seen / seconds,
      seconds,
      valLoss,
    });

    const improved = valLoss !== null && (state.bestValLoss === null || valLoss < state.bestValLoss);
    const isLast = epoch === tc.epochs;
    if (improved || epoch % tc.checkpointEvery === 0 || isLast) {
      const dir = join(s.runDir, improved ? 'best' : 'last');
      const next: LoopState = {
        epoch,
        optimizerStep: optimizer.step,
        bestValLoss: improved ? valLoss : state.bestValLoss,
        bestCheckpoint: improved ? dir : state.bestCheckpoint,
      };
      saveCheckpoint(dir, saved(), next);
      // "last" must always be resumable, so the best one is written there too when it is newest.
      if (improved) saveCheckpoint(join(s.runDir, 'last'), saved(), next);
      state = next;
      unsaved = null;
      // Only two checkpoints live on disk: `last` (resume) and `best` (selection by validation loss).
      await s.emit({ kind: 'checkpoint', epoch, path: improved ? dir : join(s.runDir, 'last'), best: improved || s.val === null });
    } else {
      state = { ...state, epoch, optimizerStep: optimizer.step, partial: null };
      unsaved = { epoch, steps: 0, lossSum: 0, termSums: {}, seen: 0, seconds: 0 };
    }
    if (tc.evalEvery !== null && epoch % tc.evalEvery === 0 && !isLast) {
      await s.emit(await scoreTestSet(s, epoch, false, checkpointIfStopped));
    }
  }

  // Model selection never looks at test data: the lowest validation loss, else the last epoch.
  let selectedEpoch = tc.epochs;
  if (s.val && state.bestCheckpoint) {
    const best = loadCheckpoint<LoopState>(state.bestCheckpoint);
    best.restore(saved());
    selectedEpoch = best.state.epoch;
  }
  await s.emit(await scoreTestSet(s, selectedEpoch, true, checkpointIfStopped));
  optimizer.dispose();
}

/** Batches of row indices [0, n). */
function* chunks(n: number, size: number): Generator<number[]> {
  for (let i = 0; i < n; i += size) yield Array.from({ length: Math.min(size, n - i) }, (_, k) => i + k);
}

/** The system's validation loss (e.g. ArcFace CE, reconstruction error), the references' selection criterion. */
async function validationLoss(s: LoopSetup, val: Split, pause: () => Promise<void>): Promise<number> {
  let sum = 0;
  for (const rows of chunks(val.count, EVAL_BATCH)) {
    await pause();
    const inputs = makeInputs(val.clips, rows);
    const labels = tf.tensor1d(rows.map((r) => val.classIndex[r]!), 'int32');
    sum += s.system.validationLoss(inputs, labels) * rows.length;
    tf.dispose([inputs.wave, inputs.logmel, labels]);
  }
  return sum / val.count;
}

/** Scores every test clip with the system's scorer (e.g. A(x) = -log softmax(z(x))[machine ID], §3.1) and evaluates them. */
async function scoreTestSet(s: LoopSetup, epoch: number, final: boolean, pause: () => Promise<void>): Promise<EvalEvent> {
  const test = s.test;
  const scores: ScoreRow[] = [];
  for (const rows of chunks(test.count, EVAL_BATCH)) {
    await pause();
    const inputs = makeInputs(test.clips, rows);
    const labels = tf.tensor1d(rows.map((r) => test.classIndex[r]!), 'int32');
    const a = s.system.score(inputs, labels);
    rows.forEach((r, k) => scores.push({ ...test.meta[r]!, score: a[k]! }));
    tf.dispose([inputs.wave, inputs.logmel, labels]);
  }
  const result = evaluate(scores, { maxFpr: s.config.eval.maxFpr, pooled: false });
  const ids: EvalEvent['ids'] = {};
  for (const [type, byId] of Object.entries(result.ids)) {
    for (const [id, m] of Object.entries(byId)) ids[`${type}/${id}`] = { type, id, auc: m.auc, pauc: m.pauc, paucMcclish: m.paucMcclish };
  }
  return { kind: 'eval', epoch, final, ids, types: result.types, average: result.average, scores };
}
