/**
 * Why MobileNetV2 learns poorly on the built-in set: trains the quick Table 2 MobileNetV2
 * (sweeps/table2.yaml, profile quick: 2 s clips, 32-frame windows) on ONE machine type, in process,
 * with batches of that type only (as the DCASE reference trains each type), and prints per epoch
 * the training cross-entropy, then on the test set: the ID accuracy of normal clips, and the AUC
 * per ID of the score (mean over windows of -log p(own ID)) with (a) the running BatchNorm
 * statistics as trained, (b) the statistics re-estimated with the final weights on the training
 * set ("precise BN"), and (c) (a) with the DCASE 2021 reference's score, mean log((1 - p) / p).
 * Not a timed test; a few minutes on a 2-core CPU. Usage:
 *   node --import tsx bench/mobilenetv2-scores.ts [--type valve] [--epochs 8] [--hop 16] [--batch 16] [--lr 0.001] [--seed 1] [--synth-version 3]
 */
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/backend/select.js';
import { parseOverride } from '../src/config/load.js';
import { loadExperiment } from '../src/parts/experiment.js';
import { resolveData } from '../src/data/resolve.js';
import { prepareData, type PreparedData } from '../src/train/data.js';
import { MobileNetV2 } from '../src/systems/mobilenetv2/model.js';
import { melWindows } from '../src/systems/frontends.js';
import { applyUpdates } from '../src/model/nn.js';
import { auc } from '../src/metrics/roc.js';

const { values } = parseArgs({
  options: {
    type: { type: 'string', default: 'valve' },
    epochs: { type: 'string', default: '8' },
    hop: { type: 'string', default: '16' },
    window: { type: 'string', default: '32' },
    batch: { type: 'string', default: '16' },
    lr: { type: 'string', default: '0.001' },
    seed: { type: 'string', default: '1' },
    'synth-version': { type: 'string', default: '3' },
  },
});
const epochs = Number(values.epochs);
const batch = Number(values.batch);
const win = Number(values.window);
const hop = Number(values.hop);
await initBackend('wasm');
const cfg = loadExperiment(
  'experiments/mobilenetv2.yaml',
  [
    'data.seconds=2',
    `seed=${values.seed}`,
    `data.types=[${values.type}]`,
    `data.synthVersion=${values['synth-version']}`,
    'data.maxClipsPerId=null',
    'data.maxTestClipsPerId=null',
  ].map((s) => parseOverride(s)),
);
const data = prepareData(resolveData(cfg), cfg);
type Split = PreparedData['train'];
const classes = data.index.classes.length;
const net = new MobileNetV2('mobilenetv2', Number(values.seed), {
  width: cfg.mobilenetv2!.width,
  lastChannels: cfg.mobilenetv2!.lastChannels,
  classes,
});
const mels = (s: Split, idx: number[]): tf.Tensor3D =>
  tf.tensor3d(Float32Array.from(idx.flatMap((i) => Array.from(s.clips.logmel(i)))), [
    idx.length,
    s.clips.nMels,
    s.clips.frames,
  ]);
const windows = (x: tf.Tensor3D): tf.Tensor4D => melWindows(x, win, hop);
const perClipLabels = (s: Split, idx: number[], per: number) =>
  tf.tensor1d(
    idx.flatMap((i) => Array<number>(per).fill(s.classIndex[i]!)),
    'int32',
  );

const opt = tf.train.adam(Number(values.lr));
const vars = [...net.trainable().values()];
const order = [...Array(data.train.count).keys()];
let rng = Number(values.seed) + 1;
const shuffle = () => {
  for (let i = order.length - 1; i > 0; i--) {
    rng = (rng * 48271) % 2147483647;
    const j = rng % (i + 1);
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
};
for (let e = 0; e < epochs; e++) {
  shuffle();
  let sum = 0;
  let n = 0;
  for (let b = 0; b + batch <= order.length; b += batch) {
    const idx = order.slice(b, b + batch);
    const ctx = { training: true, updates: [] as Array<() => void> };
    sum += tf.tidy(() => {
      const { value, grads } = tf.variableGrads(() => {
        const x = windows(mels(data.train, idx));
        const y = perClipLabels(data.train, idx, x.shape[0] / idx.length);
        return tf.losses.softmaxCrossEntropy(tf.oneHot(y, classes), net.apply(x, ctx)) as tf.Scalar;
      }, vars);
      opt.applyGradients(grads as unknown as Parameters<typeof opt.applyGradients>[0]);
      return value.dataSync()[0]!;
    });
    applyUpdates(ctx);
    n++;
  }
  process.stderr.write(`epoch ${e + 1}/${epochs}: train CE ${(sum / n).toFixed(4)} (${n} steps)\n`);
}

/** Per test clip: mean -log p(own) and mean log((1 - p) / p) over its windows, and the argmax ID of its mean log-softmax. */
function scoreTest(t: Split = data.test): { nlp: number[]; logit: number[]; pred: number[] } {
  const out = { nlp: [] as number[], logit: [] as number[], pred: [] as number[] };
  for (let b = 0; b < t.count; b += 20) {
    const idx = [...Array(Math.min(20, t.count - b)).keys()].map((k) => b + k);
    const lp = tf.tidy(() => tf.logSoftmax(net.apply(windows(mels(t, idx)), { training: false, updates: [] })));
    const rows = lp.arraySync() as number[][];
    lp.dispose();
    const per = rows.length / idx.length;
    idx.forEach((ci, k) => {
      const own = t.classIndex[ci]!;
      let nlp = 0;
      let logit = 0;
      const mean = Array<number>(classes).fill(0);
      for (let s = 0; s < per; s++) {
        const r = rows[k * per + s]!;
        nlp += -r[own]!;
        const p = Math.min(Math.max(Math.exp(r[own]!), 1e-12), 1 - 1e-12);
        logit += Math.log((1 - p) / p);
        r.forEach((v, c) => (mean[c]! += v));
      }
      out.nlp.push(nlp / per);
      out.logit.push(logit / per);
      out.pred.push(mean.indexOf(Math.max(...mean)));
    });
  }
  return out;
}

function report(name: string, s: number[]): void {
  const t = data.test;
  const ids = [...new Set(t.meta.map((m) => m.id))];
  const per = ids.map((id) => {
    const rows = t.meta.flatMap((m, i) => (m.id === id ? [i] : []));
    return auc(
      rows.map((i) => t.meta[i]!.label),
      rows.map((i) => s[i]!),
    );
  });
  const mean = per.reduce((a, v) => a + v, 0) / per.length;
  process.stdout.write(
    `  ${name.padEnd(26)} AUC % per ID ${per.map((v) => (100 * v).toFixed(1)).join('  ')}  mean ${(100 * mean).toFixed(1)}\n`,
  );
}

const t = data.test;
const what = `${values.type}, ${epochs} epochs, window ${win} hop ${hop}, batch ${batch} clips of one type, lr ${values.lr}, seed ${values.seed}, synth v${values['synth-version']}`;
process.stdout.write(`${what}\n`);
const a = scoreTest();
const normals = t.meta.flatMap((m, i) => (m.label === 0 ? [i] : []));
const acc = normals.filter((i) => a.pred[i] === t.classIndex[i]).length / normals.length;
const tr = scoreTest(data.train);
const trainAcc = tr.pred.filter((p, i) => p === data.train.classIndex[i]).length / data.train.count;
process.stdout.write(
  `  ID accuracy (evaluation mode): training clips ${(100 * trainAcc).toFixed(1)} %, normal test clips ${(100 * acc).toFixed(1)} %\n`,
);
report('-log p(own), BN as trained', a.nlp);
report('log((1-p)/p), BN as trained', a.logit);
// Precise BN: running statistics re-estimated with the final weights (momentum 0.1, 3 passes).
for (let pass = 0; pass < 3; pass++) {
  for (let b = 0; b + batch <= order.length; b += batch) {
    const idx = order.slice(b, b + batch);
    const ctx = { training: true, updates: [] as Array<() => void> };
    tf.tidy(() => net.apply(windows(mels(data.train, idx)), ctx));
    applyUpdates(ctx);
  }
}
report('-log p(own), precise BN', scoreTest().nlp);
