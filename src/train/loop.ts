import * as tf from '@tensorflow/tfjs';
import { join } from 'node:path';
import type { ExperimentConfig } from '../config/schema.js';
import type { TrainEvent, EvalEvent, ScoreRow } from './events.js';
import { makeInputs, type ClipArrays } from './batch.js';
import { trainedParams } from './step.js';
import { AdamW } from './adamw.js';
import { learningRate } from './schedule.js';
import { epochBatches } from './plan.js';
import { trainStep, type StepRig } from './train-step.js';
import { guarded } from '../backend/gpu-guard.js';
import { saveCheckpoint, loadCheckpoint, removeCheckpointLeftovers } from './checkpoint.js';
import type { AsdSystem } from '../systems/types.js';
import { evaluate } from '../metrics/index.js';
import { epochPlan } from './epoch-plan.js';

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
  /** Clips per validation / scoring batch (default 16; on a GPU, what fits the device). */
  evalBatch?: number;
}

/**
 * Clips per micro-batch when the config leaves it open. Measured on wasm (exp bench): the full
 * model at 10 s grows the 4 GB heap to 1.4 GB at 8 clips and 2.6 GB at 16, for nearly the same
 * throughput (8.4 vs 8.6 clips/s), so 8 clips of 10 s keep a wide margin; scaled inversely with
 * the clip length. Native TensorFlow (GPU) takes the whole batch.
 */
export function autoMicroBatch(backend: string, seconds: number, batchSize: number): number {
  // A GPU takes the whole batch; on WebGPU the pre-training check lowers it to what fits.
  if (backend === 'tensorflow' || backend === 'webgpu') return batchSize;
  return Math.max(2, Math.min(batchSize, Math.floor((8 * 10) / seconds)));
}

/**
 * Clips per validation / scoring batch on the CPU backends when nothing else decides (a GPU's is
 * what fits the device, src/train/fit.ts): 16 clips of 10 s, more for shorter clips, at most 64.
 * Evaluation keeps no activations for a backward pass, so a batch can be larger than a training
 * micro-batch; larger batches spread the per-op overhead of the small tfjs ops over more clips
 * (measured on the quick ablation's 2 s clips: 64 clips per batch took ~15 % less CPU time than
 * 16, with bit-identical scores: each clip's score does not depend on the batch it is in).
 */
export function autoEvalBatch(backend: string, seconds: number): number {
  if (backend === 'tensorflow' || backend === 'webgpu') return EVAL_BATCH;
  return Math.max(EVAL_BATCH, Math.min(64, Math.floor((EVAL_BATCH * 10) / seconds)));
}

export { DivergedError } from './train-step.js';

/** What a checkpoint's state records beside the weights. */
export interface LoopState {
  /** Last fully finished epoch. */
  epoch: number;
  optimizerStep: number;
  bestValLoss: number | null;
  bestCheckpoint: string | null;
  /** Steps already applied of the next epoch when a stop interrupted it (absent at epoch ends). */
  partial?: PartialEpoch | null;
}

/** How far an epoch got: its applied steps and the running sums of its epoch event. */
export interface PartialEpoch {
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

/**
 * A run's training loop as named steps: `open` (fresh, or resumed from a checkpoint), then per
 * epoch `runEpoch` (= `trainEpoch`, `validate`, `endEpoch` with its checkpoint, and the periodic
 * `evaluate`), then `finish` (model selection and the final evaluation). `runLoop` calls them in
 * that order; a scheduler that judges trials between epochs (ASHA) calls them itself, stopping
 * after any epoch's `runEpoch` and continuing later with `open` on the `last` checkpoint.
 */
export class TrainingLoop {
  /** Progress since the last checkpoint: a stop writes it, so no applied step is lost. */
  private unsaved: PartialEpoch | null = null;
  private resumePartial: PartialEpoch | null;
  private readonly batches: ReturnType<typeof epochBatches>;

  private constructor(
    private readonly s: LoopSetup,
    private readonly rig: StepRig,
    private state: LoopState,
  ) {
    this.resumePartial = state.partial ?? null;
    this.batches = epochBatches(s.train.count, s.config.train.batchSize, s.config.train.dropLast);
  }

  /** Builds the optimizer; with `resumeFrom`, restores weights, BatchNorm state, optimizer moments and progress. */
  static open(s: LoopSetup): TrainingLoop {
    const params = trainedParams(s.system);
    const optimizer = new AdamW(
      params.params,
      { weightDecay: s.config.train.weightDecay },
      params.multipliers,
      params.epsilons,
    );
    const micro = s.config.train.microBatch ?? s.defaultMicroBatch;
    const rig: StepRig = {
      system: s.system,
      params,
      optimizer,
      clips: s.train.clips,
      classIndex: s.train.classIndex,
      micro,
    };
    const loop = new TrainingLoop(s, rig, { epoch: 0, optimizerStep: 0, bestValLoss: null, bestCheckpoint: null });
    if (s.resumeFrom) {
      // What a save killed while writing left in this run's directory (a crash is why a run is resumed).
      removeCheckpointLeftovers(s.runDir);
      loop.restore(s.resumeFrom);
    }
    return loop;
  }

  /** The first epoch `runEpoch` has left to do (1 for a fresh run). */
  get nextEpoch(): number {
    return this.state.epoch + 1;
  }

  /** The state of the last checkpoint or finished epoch. */
  get progress(): Readonly<LoopState> {
    return this.state;
  }

  /** Everything a checkpoint holds: weights, BatchNorm state, optimizer moments. */
  private saved(): Map<string, tf.Variable> {
    return new Map<string, tf.Variable>([
      ...[...this.rig.params.params].map(([k, v]) => [`param/${k}`, v] as const),
      ...[...this.s.system.state()].map(([k, v]) => [`state/${k}`, v] as const),
      ...[...this.rig.optimizer.state()].map(([k, v]) => [`opt/${k}`, v] as const),
    ]);
  }

  private restore(dir: string): void {
    const ck = loadCheckpoint<LoopState>(dir);
    ck.restore(this.saved());
    this.state = ck.state;
    this.resumePartial = ck.state.partial ?? null;
    this.rig.optimizer.step = ck.state.optimizerStep;
  }

  /**
   * A stop (the signal aborted): checkpoint the progress to `last`, which a resume continues
   * from, and throw. Only whole optimizer steps are kept; a half-accumulated step is dropped
   * and redone on resume, so the resumed run equals an uninterrupted one.
   */
  private async stop(): Promise<never> {
    const unsaved = this.unsaved;
    if (unsaved !== null) {
      const midEpoch = unsaved.steps > 0;
      const next: LoopState = {
        ...this.state,
        optimizerStep: this.rig.optimizer.step,
        partial: midEpoch ? unsaved : null,
      };
      if (!midEpoch) next.epoch = unsaved.epoch;
      await saveCheckpoint(join(this.s.runDir, 'last'), this.saved(), next);
      await this.s.emit({ kind: 'checkpoint', epoch: unsaved.epoch, path: join(this.s.runDir, 'last'), best: false });
    }
    throw aborted();
  }

  /** A yield point: lets signals in, and stops (checkpointing) when the run's signal is aborted. */
  private readonly pause = async (): Promise<void> => {
    await yieldToEventLoop();
    if (this.s.signal?.aborted) await this.stop();
  };

  /** One epoch: train, validate, checkpoint, and the periodic test evaluation (train.evalEvery). */
  async runEpoch(epoch: number): Promise<void> {
    const progress = await this.trainEpoch(epoch);
    const val = await this.validate();
    await this.endEpoch(progress, val?.loss ?? null, val?.accuracy ?? null);
    const { evalEvery, epochs } = this.s.config.train;
    if (evalEvery !== null && epoch % evalEvery === 0 && epoch !== epochs)
      await this.s.emit(await this.evaluate(epoch, false));
  }

  /** The optimizer steps of one epoch (continuing an interrupted one), a step event after each. */
  async trainEpoch(epoch: number): Promise<PartialEpoch> {
    const { s, rig, batches } = this;
    const t0 = performance.now();
    const lr = learningRate(s.config.train, epoch - 1);
    const mixAlpha = s.system.mixupAlpha;
    // The whole epoch's draws up front: a resumed epoch skips its applied steps and continues alike.
    const plan = epochPlan(s.config.seed, epoch, s.train.count, batches, mixAlpha);
    let p: PartialEpoch = {
      epoch,
      steps: 0,
      lossSum: 0,
      termSums: Object.fromEntries(s.system.termNames.map((t) => [t, 0])),
      seen: 0,
      seconds: 0,
    };
    if (this.resumePartial?.epoch === epoch) {
      p = { ...this.resumePartial, termSums: { ...this.resumePartial.termSums } };
    }
    this.resumePartial = null;
    const secondsBefore = p.seconds;
    for (let step = p.steps; step < batches.length; step++) {
      const { rows, partners, lam } = plan[step]!;
      const ts = performance.now();
      // Features are computed as training reaches them: this step's clips first (in order, so
      // the first micro-batch can start), then the next step's, loaded while this one runs on
      // the device (partners are a permutation of the same rows). A failure surfaces when the
      // step asks for those clips itself.
      rig.clips.ready?.(rows).catch(() => {});
      if (step + 1 < batches.length) rig.clips.ready?.(plan[step + 1]!.rows).catch(() => {});
      const where = `at epoch ${epoch}, step ${step + 1} of ${batches.length}`;
      const termSums = { ...p.termSums };
      const loss = await trainStep(rig, { rows, partners, lam, mixup: mixAlpha !== null }, lr, {
        where,
        pause: this.pause,
        termSums,
      });
      p = {
        epoch,
        steps: step + 1,
        lossSum: p.lossSum + loss * rows.length,
        termSums,
        seen: p.seen + rows.length,
        seconds: secondsBefore + (performance.now() - t0) / 1000,
      };
      this.unsaved = p;
      await s.emit({
        kind: 'step',
        epoch,
        step: step + 1,
        stepsPerEpoch: batches.length,
        loss,
        clipsPerSec: rows.length / ((performance.now() - ts) / 1000),
      });
    }
    return { ...p, seconds: secondsBefore + (performance.now() - t0) / 1000 };
  }

  /** The system's validation loss (and ID accuracy, when it has one) on the held-out split; null without one. */
  async validate(): Promise<{ loss: number; accuracy: number | null } | null> {
    return this.s.val ? validation(this.s, this.s.val, this.pause) : null;
  }

  /**
   * Closes an epoch: its epoch event, then a checkpoint when validation improved, at
   * train.checkpointEvery and at the last epoch. Only two checkpoints live on disk: `last`
   * (resume) and `best` (selection by validation loss).
   */
  async endEpoch(p: PartialEpoch, valLoss: number | null, valAcc: number | null = null): Promise<void> {
    const { s, state } = this;
    const tc = s.config.train;
    const epoch = p.epoch;
    const seen = Math.max(p.seen, 1);
    await s.emit({
      kind: 'epoch',
      epoch,
      epochs: tc.epochs,
      loss: p.lossSum / seen,
      terms: Object.fromEntries(Object.entries(p.termSums).map(([t, v]) => [t, v / seen])),
      lr: learningRate(tc, epoch - 1),
      clipsPerSec: p.seen / p.seconds,
      seconds: p.seconds,
      valLoss,
      valAcc,
    });
    const improved = valLoss !== null && (state.bestValLoss === null || valLoss < state.bestValLoss);
    if (improved || epoch % tc.checkpointEvery === 0 || epoch === tc.epochs) {
      const dir = join(s.runDir, improved ? 'best' : 'last');
      const next: LoopState = {
        epoch,
        optimizerStep: this.rig.optimizer.step,
        bestValLoss: improved ? valLoss : state.bestValLoss,
        bestCheckpoint: improved ? dir : state.bestCheckpoint,
      };
      await saveCheckpoint(dir, this.saved(), next);
      // "last" must always be resumable, so the best one is written there too when it is newest.
      if (improved) await saveCheckpoint(join(s.runDir, 'last'), this.saved(), next);
      this.state = next;
      this.unsaved = null;
      await s.emit({
        kind: 'checkpoint',
        epoch,
        path: improved ? dir : join(s.runDir, 'last'),
        best: improved || s.val === null,
      });
    } else {
      this.state = { ...state, epoch, optimizerStep: this.rig.optimizer.step, partial: null };
      this.unsaved = { epoch, steps: 0, lossSum: 0, termSums: {}, seen: 0, seconds: 0 };
    }
  }

  /** Scores the test set with the current weights (an eval event for `epoch`). */
  async evaluate(epoch: number, final: boolean): Promise<EvalEvent> {
    return scoreTestSet(this.s, epoch, final, this.pause);
  }

  /**
   * The run's result: the weights of the lowest validation loss (else the last epoch's) scored
   * on the test set. Model selection never looks at test data.
   */
  async finish(): Promise<void> {
    let selectedEpoch = this.s.config.train.epochs;
    if (this.s.val && this.state.bestCheckpoint) {
      const best = loadCheckpoint<LoopState>(this.state.bestCheckpoint);
      best.restore(this.saved());
      selectedEpoch = best.state.epoch;
    }
    await this.s.emit(await this.evaluate(selectedEpoch, true));
  }

  dispose(): void {
    this.rig.optimizer.dispose();
  }
}

/** A whole run: every epoch left, then model selection and the final evaluation. */
export async function runLoop(s: LoopSetup): Promise<void> {
  const loop = TrainingLoop.open(s);
  try {
    for (let epoch = loop.nextEpoch; epoch <= s.config.train.epochs; epoch++) await loop.runEpoch(epoch);
    await loop.finish();
  } finally {
    loop.dispose();
  }
}

/** Batches of row indices [0, n). */
function chunks(n: number, size: number): number[][] {
  const out: number[][] = [];
  for (let i = 0; i < n; i += size) out.push(Array.from({ length: Math.min(size, n - i) }, (_, k) => i + k));
  return out;
}

/**
 * The batches of an evaluation pass, each one's clips loaded before it is built and the next
 * one's computed while it is scored.
 */
async function* evalBatches(split: Split, size: number, pause: () => Promise<void>): AsyncGenerator<number[]> {
  const all = chunks(split.count, size);
  for (let k = 0; k < all.length; k++) {
    await pause();
    await split.clips.ready?.(all[k]!);
    if (k + 1 < all.length) split.clips.ready?.(all[k + 1]!).catch(() => {});
    yield all[k]!;
  }
}

/**
 * The system's validation loss (e.g. ArcFace CE, reconstruction error), the references' selection
 * criterion, and its ID-classification accuracy when the system measures one (clip-weighted means).
 */
async function validation(
  s: LoopSetup,
  val: Split,
  pause: () => Promise<void>,
): Promise<{ loss: number; accuracy: number | null }> {
  let sum = 0;
  let hits: number | null = s.system.validationMetrics ? 0 : null;
  for await (const rows of evalBatches(val, s.evalBatch ?? EVAL_BATCH, pause)) {
    const inputs = makeInputs(val.clips, rows);
    const labels = tf.tensor1d(
      rows.map((r) => val.classIndex[r]!),
      'int32',
    );
    const m = await guarded('in a validation batch', async () =>
      s.system.validationMetrics
        ? s.system.validationMetrics(inputs, labels)
        : { loss: await s.system.validationLoss(inputs, labels), accuracy: null },
    );
    sum += m.loss * rows.length;
    if (hits !== null) hits += (m.accuracy ?? 0) * rows.length;
    tf.dispose([inputs.wave, inputs.logmel, labels]);
  }
  return { loss: sum / val.count, accuracy: hits === null ? null : hits / val.count };
}

/** Scores every test clip with the system's scorer (e.g. A(x) = -log softmax(z(x))[machine ID], §3.1) and evaluates them. */
async function scoreTestSet(
  s: LoopSetup,
  epoch: number,
  final: boolean,
  pause: () => Promise<void>,
): Promise<EvalEvent> {
  const test = s.test;
  const scores: ScoreRow[] = [];
  for await (const rows of evalBatches(test, s.evalBatch ?? EVAL_BATCH, pause)) {
    const inputs = makeInputs(test.clips, rows);
    const labels = tf.tensor1d(
      rows.map((r) => test.classIndex[r]!),
      'int32',
    );
    const a = await guarded('while scoring the test set', () => Promise.resolve(s.system.score(inputs, labels)));
    rows.forEach((r, k) => scores.push({ ...test.meta[r]!, score: a[k]! }));
    tf.dispose([inputs.wave, inputs.logmel, labels]);
  }
  const result = evaluate(scores, { maxFpr: s.config.eval.maxFpr, pooled: false });
  const ids: EvalEvent['ids'] = {};
  for (const [type, byId] of Object.entries(result.ids)) {
    for (const [id, m] of Object.entries(byId))
      ids[`${type}/${id}`] = { type, id, auc: m.auc, pauc: m.pauc, paucMcclish: m.paucMcclish };
  }
  return { kind: 'eval', epoch, final, ids, types: result.types, average: result.average, scores };
}
