/**
 * Dev-only (npm run fidelity): trains one exp run the way `exp run` does (prepareData, the
 * registry's system, runLoop) and writes what the PyTorch reference needs to replay it:
 *
 *   <out>/setup.json     config, clip lists, per-epoch batch plan (rows, partners, lambda),
 *   <out>/exp.json       the same plus per-epoch losses, test scores, exp's own metrics
 *   <out>/init.bin/.json initial weights and BatchNorm state (float32, little-endian, manifest)
 *   <out>/final.bin/.json weights and BatchNorm state after training
 *   <out>/probe.json     (--probe) one step at the initial weights: loss, terms, gradient norms
 *   <out>/probe-tensors.bin/.json (--probe) those gradients and the first batch's inputs
 *
 *   node --import tsx tools/fidelity/exp-side.ts --root DIR --seed 0 --out DIR \
 *     [--experiment experiments/fgaspecnet.yaml] [--set key=value ...] [--probe]
 */
import * as tf from '@tensorflow/tfjs';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { readExperiment } from '../../src/parts/experiment.js';
import { parseOverride } from '../../src/config/load.js';
import { initBackend, type BackendName } from '../../src/backend/select.js';
import { prepareData } from '../../src/train/data.js';
import { buildSystem } from '../../src/systems/build.js';
import { partsWith } from '../../src/registry/container.js';
import { catalogFor } from '../../src/parts/files.js';
import { runLoop, autoMicroBatch } from '../../src/train/loop.js';
import { epochBatches } from '../../src/train/plan.js';
import { epochPlan } from '../../src/train/epoch-plan.js';
import { makeInputs } from '../../src/train/batch.js';
import { accumulateGradients, trainedParams } from '../../src/train/step.js';
import type { TrainEvent } from '../../src/train/events.js';
import type { AsdSystem } from '../../src/systems/types.js';
import type { ClassifierSystem } from '../../src/systems/classifier.js';
import type { ForwardContext } from '../../src/model/types.js';

const { values } = parseArgs({
  options: {
    root: { type: 'string' },
    seed: { type: 'string', default: '0' },
    out: { type: 'string' },
    experiment: { type: 'string', default: 'experiments/fgaspecnet.yaml' },
    set: { type: 'string', multiple: true, default: [] },
    backend: { type: 'string', default: 'auto' },
    probe: { type: 'boolean', default: false },
    'probe-only': { type: 'boolean', default: false },
    'setup-only': { type: 'boolean', default: false },
  },
});
if (!values.root || !values.out) {
  process.stderr.write('exp-side: --root DIR and --out DIR are required\n');
  process.exit(1);
}
const out = resolve(values.out);
mkdirSync(out, { recursive: true });

/** Tensors as one float32 file plus a manifest of names, shapes and offsets (in floats). */
async function dumpTensors(base: string, tensors: Map<string, tf.Tensor>): Promise<void> {
  const entries: Array<{ name: string; shape: number[]; offset: number }> = [];
  const parts: Float32Array[] = [];
  let offset = 0;
  for (const [name, t] of tensors) {
    const data = Float32Array.from(await t.data());
    entries.push({ name, shape: t.shape, offset });
    parts.push(data);
    offset += data.length;
  }
  const all = new Float32Array(offset);
  let o = 0;
  for (const p of parts) {
    all.set(p, o);
    o += p.length;
  }
  writeFileSync(`${base}.bin`, Buffer.from(all.buffer));
  writeFileSync(`${base}.json`, JSON.stringify(entries));
}

function weightsAndState(system: AsdSystem): Map<string, tf.Tensor> {
  return new Map<string, tf.Tensor>([
    ...[...system.trainable()].map(([k, v]) => [`param/${k}`, v] as const),
    ...[...system.state()].map(([k, v]) => [`state/${k}`, v] as const),
  ]);
}

/**
 * Claims <out>/exp.json for this process (a marker with its pid), or returns false when the
 * result exists or another live process holds the claim: two harness processes share folders.
 */
function claim(marker: string, result: string): boolean {
  if (existsSync(result)) return false;
  if (existsSync(marker)) {
    const pid = Number(readFileSync(marker, 'utf8'));
    try {
      // A claim by this process or by the harness that started it (older harness versions claimed for their children).
      if (pid !== process.pid && pid !== process.ppid) {
        process.kill(pid, 0);
        return false;
      }
    } catch {
      // A stale claim: its process is gone.
    }
  }
  writeFileSync(marker, String(process.pid));
  return true;
}

async function main(): Promise<void> {
  const training = !values['setup-only'] && !values['probe-only'];
  const marker = join(out, 'exp.json.running');
  if (training && !claim(marker, join(out, 'exp.json'))) {
    process.stderr.write(`exp-side: ${out}/exp.json is done or being done by another process\n`);
    return;
  }
  try {
    await work();
  } finally {
    if (training) rmSync(marker, { force: true });
  }
}

async function work(): Promise<void> {
  const overrides = [`data.root=${resolve(values.root!)}`, `seed=${values.seed}`, ...(values.set as string[])].map(
    (s) => parseOverride(s),
  );
  const { config } = await readExperiment(values.experiment!, { overrides });
  const backend = await initBackend(values.backend as BackendName);
  const data = prepareData(config.data.root!, config);
  const classes = data.index.classes.map((c) => ({ type: c.type, machineId: c.machineId }));
  const parts = partsWith(await catalogFor(config), []);
  const system = buildSystem(config, classes, parts);
  await dumpTensors(join(out, 'init'), weightsAndState(system));

  const batches = epochBatches(data.train.count, config.train.batchSize, config.train.dropLast);
  const plan = Array.from({ length: config.train.epochs }, (_, e) =>
    epochPlan(config.seed, e + 1, data.train.count, batches, system.mixupAlpha),
  );
  const batch = Math.min(config.train.batchSize, data.train.count);
  const micro = config.train.microBatch ?? autoMicroBatch(backend.backend, config.data.seconds, batch);

  const meta = (s: typeof data.train) => s.meta.map((m, i) => ({ ...m, classIndex: s.classIndex[i]! }));
  const setup = {
    config,
    backend: backend.backend,
    microBatch: micro,
    numClasses: data.numClasses,
    classes,
    clip: system.clip,
    mixupAlpha: system.mixupAlpha,
    lrMultipliers: Object.fromEntries(system.lrMultipliers()),
    adamEpsilons: Object.fromEntries(system.adamEpsilons()),
    train: meta(data.train),
    test: meta(data.test),
    plan,
  };
  // Written before training too, so the reference can probe while exp trains.
  writeFileSync(join(out, 'setup.json'), JSON.stringify(setup));
  if (values['setup-only']) return system.dispose();
  if (values.probe) {
    await probe(system, data, plan[0]![0]!);
    if (values['probe-only']) return system.dispose();
  }

  const events: TrainEvent[] = [];
  const t0 = performance.now();
  await runLoop({
    config,
    system,
    train: data.train,
    val: data.val,
    test: data.test,
    runDir: join(out, 'run'),
    emit: async (e) => {
      if (e.kind === 'epoch')
        process.stderr.write(`exp seed ${config.seed}: epoch ${e.epoch} loss ${e.loss.toFixed(4)}\n`);
      if (e.kind === 'epoch' || e.kind === 'eval') events.push(e);
    },
    defaultMicroBatch: micro,
  });
  await dumpTensors(join(out, 'final'), weightsAndState(system));
  const epochs = events.flatMap((e) =>
    e.kind === 'epoch' ? [{ epoch: e.epoch, loss: e.loss, terms: e.terms, lr: e.lr }] : [],
  );
  const final = events.find((e) => e.kind === 'eval' && e.final);
  if (!final || final.kind !== 'eval') throw new Error('exp-side: the run ended without a final evaluation');
  writeFileSync(
    join(out, 'exp.json'),
    JSON.stringify({
      ...setup,
      seconds: (performance.now() - t0) / 1000,
      epochs,
      scores: final.scores.map((s) => s.score),
      average: final.average,
    }),
  );
  system.dispose();
}

/**
 * One training step's forward and backward at the initial weights on the first planned batch
 * (no update): the loss, its terms and every gradient, plus the batch's inputs, so the reference
 * can be compared op for op before any training.
 */
async function probe(
  system: AsdSystem,
  data: ReturnType<typeof prepareData>,
  step: { rows: number[]; partners: number[]; lam: number },
): Promise<void> {
  const params = trainedParams(system);
  const mix = system.mixupAlpha !== null;
  const inputs = makeInputs(data.train.clips, step.rows, mix ? { partners: step.partners, lam: step.lam } : undefined);
  const ids = Int32Array.from(step.rows, (r) => data.train.classIndex[r]!);
  const labelsA = tf.tensor1d(ids, 'int32');
  const labelsB = tf.tensor1d(
    step.partners.map((r) => data.train.classIndex[r]!),
    'int32',
  );
  const acc = new Map<string, tf.Tensor>();
  // No moments sink: the probe's own BatchNorm updates are queued and applied, then undone below.
  const before = new Map([...system.state()].map(([k, v]) => [k, v.clone()] as const));
  const res = await accumulateGradients(system, params.vars, inputs, { labelsA, labelsB, lam: step.lam, ids }, 1, acc);
  const grads = params.byParam(acc);
  const ctx: ForwardContext = { training: true, updates: [] };
  const model = (system as ClassifierSystem).model;
  const emb = tf.tidy(() => model.embed(inputs, ctx));
  const after = new Map([...system.state()].map(([k, v]) => [`bnAfterOneStep/${k}`, v.clone()] as const));
  for (const [k, v] of system.state()) v.assign(before.get(k)!);
  await dumpTensors(
    join(out, 'probe-tensors'),
    new Map<string, tf.Tensor>([
      ['input/wave', inputs.wave],
      ['input/logmel', inputs.logmel],
      ['embedding', emb],
      ...Object.entries(grads).map(([k, g]) => [`grad/${k}`, g] as const),
      ...after,
    ]),
  );
  writeFileSync(join(out, 'probe.json'), JSON.stringify({ loss: res.loss, terms: res.terms, lam: step.lam }));
  for (const u of ctx.updates) u();
  for (const [k, v] of system.state()) v.assign(before.get(k)!);
  tf.dispose([
    inputs.wave,
    inputs.logmel,
    labelsA,
    labelsB,
    emb,
    ...acc.values(),
    ...before.values(),
    ...after.values(),
  ]);
}

main().catch((e: unknown) => {
  process.stderr.write(`exp-side: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(2);
});
