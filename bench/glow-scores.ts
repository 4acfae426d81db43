/**
 * Why Glow-Aff ranks anomalies below chance on the built-in set: trains the quick Table 2 flow
 * (sweeps/table2.yaml, profile quick: 2 s clips, L 2, K 4, 64 hidden, 16-frame segments) on one
 * machine type, in process, and prints the AUC per ID of the parts of its score and of two
 * variants, plus the AUC per fault kind of the system's score. Not a timed test; a few minutes on
 * a 2-core CPU. Usage:
 *   node --import tsx bench/glow-scores.ts [--type valve] [--epochs 8] [--id-weight 1]
 *   node --import tsx bench/glow-scores.ts --type valve --only id_00            one flow for one ID (labels all 0)
 *   node --import tsx bench/glow-scores.ts --type valve --only id_00 --outliers  ... with the type's other IDs as outliers
 * Scores (higher = more anomalous), per clip, averaged over its segments:
 *   ownNll   -log p(x | own ID) / D: the system's score (GlowDetector.clipScores)
 *   baseOnly the ID-independent part: -(log|det| + the factored-out halves' log-density) / D
 *   topOwn   the ID-conditioned top prior's part: -log N(z; mu_own, sigma_own) / D
 *   idPost   -log softmax_k log p(x | k) at the own ID (the self-supervised classifier's score)
 * --outliers trains the one-ID flow on every clip of the type with its own NLL on the ID's clips
 * plus a binary cross-entropy on a*(log p(x)/D + 3) + b (own ID = 1, other IDs = 0; a, b learnt):
 * the same flow's likelihood is pushed down on the other machines' sounds, the mechanism of Dohi
 * et al. (ICASSP 2021) in a form of ours (their exact loss is not in our sources). That prototype
 * is now the system's own training, `glow.training: per-id` (src/systems/glow/per-id.ts, one flow
 * per ID, threshold learned per flow); this bench studies the `id-conditioned` flow.
 */
import { parseArgs } from 'node:util';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/backend/select.js';
import { parseOverride } from '../src/config/load.js';
import { loadExperiment } from '../src/parts/experiment.js';
import { resolveData } from '../src/data/resolve.js';
import { prepareData, type PreparedData } from '../src/train/data.js';
import { GlowDetector } from '../src/systems/glow/detector.js';
import { melWindows } from '../src/systems/frontends.js';
import { auc } from '../src/metrics/roc.js';
import { readSynthManifest } from '../src/data/synth/manifest.js';
import { faultKindAuc } from '../src/data/synth/fault-auc.js';

const { values } = parseArgs({
  options: {
    type: { type: 'string', default: 'valve' },
    epochs: { type: 'string', default: '8' },
    'id-weight': { type: 'string', default: '1' },
    only: { type: 'string' },
    outliers: { type: 'boolean', default: false },
    seed: { type: 'string', default: '1' },
  },
});
const onlyId = values.only ?? null;
const outliers = values.outliers && onlyId !== null;
const epochs = Number(values.epochs);
await initBackend('wasm');
const sets = [
  'data.seconds=2',
  'glow.levels=2',
  'glow.steps=4',
  'glow.hidden=64',
  'glow.segment=16',
  'glow.hop=16',
  `seed=${values.seed}`,
  `data.types=[${values.type}]`,
  `glow.idWeight=${onlyId ? 0 : values['id-weight']}`,
  'glow.training=id-conditioned',
];
const cfg = loadExperiment(
  'experiments/glow-aff.yaml',
  sets.map((s) => parseOverride(s)),
);
const root = resolveData(cfg);
const data = prepareData(root, cfg);
type Split = PreparedData['train'];
// One-ID flows keep two prior classes (tf.oneHot needs depth >= 2); class 1 is never used.
const det = new GlowDetector(
  cfg.glow!,
  data.train.clips.nMels,
  onlyId ? 2 : data.index.classes.length,
  'glow',
  Number(values.seed),
);
const label = (s: Split, i: number): number => (onlyId ? 0 : s.classIndex[i]!);
const mels = (s: Split, idx: number[]): tf.Tensor3D =>
  tf.tensor3d(Float32Array.from(idx.flatMap((i) => Array.from(s.clips.logmel(i)))), [
    idx.length,
    s.clips.nMels,
    s.clips.frames,
  ]);
const segments = (x: tf.Tensor3D): tf.Tensor4D => melWindows(x, cfg.glow!.segment, cfg.glow!.hop);
const train = { training: true, updates: [] as Array<() => void> };
const evalCtx = { training: false, updates: [] as Array<() => void> };

const scaleA = tf.variable(tf.scalar(20));
const biasB = tf.variable(tf.scalar(0));
function loss(x: tf.Tensor3D, idx: number[]): tf.Scalar {
  if (!outliers)
    return det.objective(
      x,
      tf.tensor1d(
        idx.map((i) => label(data.train, i)),
        'int32',
      ),
      train,
    ).total;
  const w = segments(x);
  const per = w.shape[0] / idx.length;
  const own = tf.tensor1d(idx.flatMap((i) => Array<number>(per).fill(data.train.meta[i]!.id === onlyId ? 1 : 0)));
  const lpd = tf.slice(det.flow.logLikelihoods(w, train), [0, 0], [-1, 1]).reshape([-1]).div(det.flow.dims);
  const nll = tf.neg(tf.sum(tf.mul(lpd, own))).div(tf.maximum(own.sum(), 1));
  return tf.add(nll, tf.losses.sigmoidCrossEntropy(own, tf.add(tf.mul(lpd.add(3), scaleA), biasB))) as tf.Scalar;
}

const vars = [...det.flow.trainable().values(), ...(outliers ? [scaleA, biasB] : [])];
const opt = tf.train.adam(1e-3);
const order = [...Array(data.train.count).keys()].filter(
  (i) => !onlyId || outliers || data.train.meta[i]!.id === onlyId,
);
let rng = Number(values.seed) + 1;
for (let e = 0; e < epochs; e++) {
  for (let i = order.length - 1; i > 0; i--) {
    rng = (rng * 48271) % 2147483647;
    const j = rng % (i + 1);
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  let sum = 0;
  let n = 0;
  for (let b = 0; b + 16 <= order.length; b += 16) {
    const idx = order.slice(b, b + 16);
    sum += tf.tidy(() => {
      const { value, grads } = tf.variableGrads(() => loss(mels(data.train, idx), idx), vars);
      opt.applyGradients(grads as unknown as Parameters<typeof opt.applyGradients>[0]);
      return value.dataSync()[0]!;
    });
    n++;
  }
  process.stderr.write(`epoch ${e + 1}/${epochs}: loss ${(sum / n).toFixed(4)}\n`);
}

const t = data.test;
const names = ['ownNll', 'baseOnly', 'topOwn', 'idPost'] as const;
const scores: Record<(typeof names)[number], number[]> = { ownNll: [], baseOnly: [], topOwn: [], idPost: [] };
for (let b = 0; b < t.count; b += 20) {
  const idx = [...Array(Math.min(20, t.count - b)).keys()].map((k) => b + k);
  tf.tidy(() => {
    const x = segments(mels(t, idx));
    const per = x.shape[0] / idx.length;
    const { base, z } = det.flow.encode(x, evalCtx);
    const top = det.flow.topLogProbAll(z);
    const baseA = base.dataSync();
    const topA = top.arraySync();
    const D = det.flow.dims;
    idx.forEach((ci, k) => {
      const own = label(t, ci);
      const acc = { ownNll: 0, baseOnly: 0, topOwn: 0, idPost: 0 };
      for (let s = 0; s < per; s++) {
        const r = k * per + s;
        const ll = topA[r]!.map((v) => v + baseA[r]!);
        const mx = Math.max(...ll);
        const lse = mx + Math.log(ll.reduce((a, v) => a + Math.exp(v - mx), 0));
        acc.ownNll += -ll[own]! / D;
        acc.baseOnly += -baseA[r]! / D;
        acc.topOwn += -topA[r]![own]! / D;
        acc.idPost += lse - ll[own]!;
      }
      for (const n of names) scores[n].push(acc[n] / per);
    });
  });
}

const ids = [...new Set(t.meta.map((m) => m.id))].filter((id) => !onlyId || id === onlyId);
const what = `${values.type}${onlyId ? `, one flow for ${onlyId}${outliers ? ' with the other IDs as outliers' : ''}` : `, glow.idWeight ${values['id-weight']}`}, ${epochs} epochs, seed ${values.seed}`;
process.stdout.write(`${what}: AUC % per ID (${ids.join(', ')}) and mean\n`);
for (const n of names) {
  if (onlyId && n === 'idPost') continue; // one real class: no ID posterior
  const per = ids.map((id) => {
    const rows = t.meta.flatMap((m, i) => (m.id === id ? [i] : []));
    return auc(
      rows.map((i) => t.meta[i]!.label),
      rows.map((i) => scores[n][i]!),
    );
  });
  process.stdout.write(
    `  ${n.padEnd(8)} ${per.map((v) => (100 * v).toFixed(1)).join('  ')}  mean ${((100 * per.reduce((a, v) => a + v, 0)) / per.length).toFixed(1)}\n`,
  );
}
const kinds = faultKindAuc(
  t.meta.flatMap((m, i) =>
    ids.includes(m.id) ? [{ path: m.path, type: m.type, id: m.id, label: m.label, score: scores.ownNll[i]! }] : [],
  ),
  readSynthManifest(join(root, 'synth.json')),
);
for (const [type, byKind] of kinds)
  process.stdout.write(
    `  ownNll AUC per fault kind (${type}): ${[...byKind].map(([k, a]) => `${k} ${(100 * a).toFixed(1)}`).join(', ')}\n`,
  );
