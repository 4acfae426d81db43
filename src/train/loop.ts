import * as tf from '@tensorflow/tfjs';
import { join } from 'node:path';
import type { ExperimentConfig } from '../config/schema.js';
import type { ForwardContext } from '../model/types.js';
import type { TrainEvent, EvalEvent, ScoreRow } from './events.js';
import { makeInputs, type ClipArrays } from './batch.js';
import { accumulateGradients, trainedParams, type StepModel, type StepLosses } from './step.js';
import { AdamW } from './adamw.js';
import { learningRate } from './schedule.js';
import { epochBatches, microBatches } from './plan.js';
import { PooledBatchMoments } from '../model/batch-moments.js';
import { saveCheckpoint, loadCheckpoint } from './checkpoint.js';
import { arcFaceLoss, anomalyScores } from '../losses/index.js';
import { evaluate } from '../metrics/index.js';
import { SeededRandom } from '../losses/random.js';

/** A built model as the loop uses it (see src/model). */
export interface TrainModel extends StepModel {
  trainable(): Map<string, tf.Variable>;
  state(): Map<string, tf.Variable>;
}

/** Clips of one split with their class indices and metadata. */
export interface Split {
  clips: ClipArrays;
  count: number;
  classIndex: Int32Array;
  meta: Array<{ path: string; type: string; id: string; label: 0 | 1 }>;
}

export interface LoopSetup {
  config: ExperimentConfig;
  model: TrainModel;
  losses: StepLosses;
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
  epoch: number;
  optimizerStep: number;
  bestValLoss: number | null;
  bestCheckpoint: string | null;
}

const EVAL_BATCH = 16;

/** Per-epoch generator: shuffles and mixup draws depend only on (seed, epoch), so a resumed run replays them exactly. */
function epochRng(seed: number, epoch: number): SeededRandom {
  return new SeededRandom(seed * 1_000_003 + epoch * 7919 + 17);
}

export async function runLoop(s: LoopSetup): Promise<void> {
  const { config, model, losses } = s;
  const tc = config.train;
  const { params, multipliers, epsilons, vars, byParam } = trainedParams(model, losses.metric);
  const optimizer = new AdamW(params, { weightDecay: tc.weightDecay }, multipliers, epsilons);
  /** Everything a checkpoint holds: weights, BatchNorm state, optimizer moments. */
  const saved = (): Map<string, tf.Variable> =>
    new Map<string, tf.Variable>([
      ...[...params].map(([k, v]) => [`param/${k}`, v] as const),
      ...[...model.state()].map(([k, v]) => [`state/${k}`, v] as const),
      ...[...optimizer.state()].map(([k, v]) => [`opt/${k}`, v] as const),
    ]);

  let state: LoopState = { epoch: 0, optimizerStep: 0, bestValLoss: null, bestCheckpoint: null };
  if (s.resumeFrom) {
    const ck = loadCheckpoint<LoopState>(s.resumeFrom);
    ck.restore(saved());
    state = ck.state;
    optimizer.step = state.optimizerStep;
  }

  const micro = tc.microBatch ?? s.defaultMicroBatch;
  const batches = epochBatches(s.train.count, tc.batchSize, tc.dropLast);
  const stepsPerEpoch = batches.length;
  const cls = losses.classification;

  for (let epoch = state.epoch + 1; epoch <= tc.epochs; epoch++) {
    const t0 = performance.now();
    const lr = learningRate(tc, epoch - 1);
    const rng = epochRng(config.seed, epoch);
    const order = rng.permutation(s.train.count);
    let lossSum = 0;
    let clsSum = 0;
    let metricSum = 0;
    let seen = 0;
    for (let step = 0; step < stepsPerEpoch; step++) {
      if (s.signal?.aborted) throw new DOMException('training aborted', 'AbortError');
      const rows = order.slice(...batches[step]!);
      const perm = rng.permutation(rows.length);
      const lam = cls.mixup ? rng.beta(cls.alpha, cls.alpha) : 1;
      const partners = perm.map((p) => rows[p]!);
      const acc = new Map<string, tf.Tensor>();
      // BatchNorm running statistics: updated once per step from the whole batch's moments.
      const moments = new PooledBatchMoments();
      let stepLoss = 0;
      const ts = performance.now();
      for (const [m0, m1] of microBatches(rows.length, micro)) {
        const mRows = rows.slice(m0, m1);
        const mPartners = partners.slice(m0, m1);
        const inputs = makeInputs(s.train.clips, mRows, cls.mixup ? { partners: mPartners, lam } : undefined);
        const labelsA = tf.tensor1d(mRows.map((r) => s.train.classIndex[r]!), 'int32');
        const labelsB = tf.tensor1d(mPartners.map((r) => s.train.classIndex[r]!), 'int32');
        const share = mRows.length / rows.length;
        const res = accumulateGradients(model, losses, vars, inputs, { labelsA, labelsB, lam }, share, acc, moments);
        tf.dispose([inputs.wave, inputs.logmel, labelsA, labelsB]);
        if (!Number.isFinite(res.loss)) {
          tf.dispose([...acc.values()]);
          moments.dispose();
          throw new DivergedError(`loss became ${res.loss} at epoch ${epoch}, step ${step + 1} of ${stepsPerEpoch}`);
        }
        stepLoss += res.loss * share;
        clsSum += res.terms.cls * mRows.length;
        metricSum += res.terms.metric * mRows.length;
      }
      optimizer.apply(byParam(acc), lr);
      moments.commit();
      tf.dispose([...acc.values()]);
      lossSum += stepLoss * rows.length;
      seen += rows.length;
      await s.emit({
        kind: 'step',
        epoch,
        step: step + 1,
        stepsPerEpoch,
        loss: stepLoss,
        clipsPerSec: rows.length / ((performance.now() - ts) / 1000),
      });
    }
    const seconds = (performance.now() - t0) / 1000;
    const valLoss = s.val ? validationLoss(s, s.val) : null;
    await s.emit({
      kind: 'epoch',
      epoch,
      epochs: tc.epochs,
      loss: lossSum / Math.max(seen, 1),
      terms: { cls: clsSum / Math.max(seen, 1), metric: metricSum / Math.max(seen, 1) },
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
      // Only two checkpoints live on disk: `last` (resume) and `best` (selection by validation loss).
      await s.emit({ kind: 'checkpoint', epoch, path: improved ? dir : join(s.runDir, 'last'), best: improved || s.val === null });
    } else {
      state = { ...state, epoch, optimizerStep: optimizer.step };
    }
    if (tc.evalEvery !== null && epoch % tc.evalEvery === 0 && !isLast) {
      await s.emit(scoreTestSet(s, epoch, false));
    }
  }

  // Model selection never looks at test data: the lowest validation loss, else the last epoch.
  let selectedEpoch = tc.epochs;
  if (s.val && state.bestCheckpoint) {
    const best = loadCheckpoint<LoopState>(state.bestCheckpoint);
    best.restore(saved());
    selectedEpoch = best.state.epoch;
  }
  await s.emit(scoreTestSet(s, selectedEpoch, true));
  optimizer.dispose();
}

/** Batches of row indices [0, n). */
function* chunks(n: number, size: number): Generator<number[]> {
  for (let i = 0; i < n; i += size) yield Array.from({ length: Math.min(size, n - i) }, (_, k) => i + k);
}

function embedRows(s: LoopSetup, split: Split, rows: number[]): tf.Tensor2D {
  const inputs = makeInputs(split.clips, rows);
  const ctx: ForwardContext = { training: false, updates: [] };
  const emb = tf.tidy(() => s.model.embed(inputs, ctx));
  tf.dispose([inputs.wave, inputs.logmel]);
  return emb;
}

/** Validation cross-entropy (ArcFace logits with margin, no mixup), the references' selection criterion. */
function validationLoss(s: LoopSetup, val: Split): number {
  const cls = s.config.loss.classification!;
  let sum = 0;
  for (const rows of chunks(val.count, EVAL_BATCH)) {
    const emb = embedRows(s, val, rows);
    const labels = tf.tensor1d(rows.map((r) => val.classIndex[r]!), 'int32');
    const l = tf.tidy(() => arcFaceLoss(emb, s.model.head.weight as tf.Tensor as tf.Tensor2D, labels, { margin: cls.margin, scale: cls.scale }));
    sum += l.dataSync()[0]! * rows.length;
    tf.dispose([emb, labels, l]);
  }
  return sum / val.count;
}

/** Scores every test clip with A(x) = -log softmax(z(x))[machine ID] (§3.1) and evaluates them. */
function scoreTestSet(s: LoopSetup, epoch: number, final: boolean): EvalEvent {
  const cls = s.config.loss.classification!;
  const test = s.test;
  const scores: ScoreRow[] = [];
  for (const rows of chunks(test.count, EVAL_BATCH)) {
    const emb = embedRows(s, test, rows);
    const labels = tf.tensor1d(rows.map((r) => test.classIndex[r]!), 'int32');
    const a = anomalyScores(emb, s.model.head.weight as tf.Tensor as tf.Tensor2D, labels, {
      margin: cls.margin,
      scale: cls.scale,
      marginAtTest: s.config.eval.marginAtTest,
    });
    rows.forEach((r, k) => scores.push({ ...test.meta[r]!, score: a[k]! }));
    tf.dispose([emb, labels]);
  }
  const result = evaluate(scores, { maxFpr: s.config.eval.maxFpr, pooled: false });
  const ids: EvalEvent['ids'] = {};
  for (const [type, byId] of Object.entries(result.ids)) {
    for (const [id, m] of Object.entries(byId)) ids[`${type}/${id}`] = { type, id, auc: m.auc, pauc: m.pauc, paucMcclish: m.paucMcclish };
  }
  return { kind: 'eval', epoch, final, ids, types: result.types, average: result.average, scores };
}
