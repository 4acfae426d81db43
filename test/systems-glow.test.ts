import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import fc from 'fast-check';
import { loadExperiment } from '../src/parts/experiment.js';
import { countParams } from '../src/parts/params.js';
import { Glow } from '../src/systems/glow/flow.js';
import { ActNorm, Coupling, InvConv1x1, squeeze, unsqueeze, type WeightMaker } from '../src/systems/glow/layers.js';
import { logAbsDetAndInverse } from '../src/systems/glow/linalg.js';
import { PerIdGlowDetector, outlierCrossEntropy } from '../src/systems/glow/per-id.js';
import { validateExperiment } from '../src/parts/experiment.js';
import { upgradeStoredConfig } from '../src/config/upgrade.js';
import { parseOverride } from '../src/config/load.js';
import { Init } from '../src/model/init.js';

before(async () => {
  await tf.setBackend('cpu');
});

const evalCtx = () => ({ training: false, updates: [] as Array<() => void> });

/** A weight maker outside a module, for testing single layers. */
function maker(seed: number): WeightMaker & { vars: tf.Variable[] } {
  const vars: tf.Variable[] = [];
  return {
    init: new Init(seed, 'layer'),
    vars,
    param: (_p, v) => (vars.push(v), v),
    buffer: (_p, v) => (vars.push(v), v),
  };
}

/** Gives every trainable weight a random value, so zero-initialised couplings are not the identity. */
function scramble(vars: Iterable<tf.Variable>, seed: number): void {
  let s = seed;
  for (const v of vars) {
    if (!v.trainable) continue;
    v.assign(tf.tidy(() => v.add(tf.randomNormal(v.shape, 0, 0.3, 'float32', s++))));
  }
}

function maxAbsDiff(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]!);
}

// Independent count of one full-size flow: per step actnorm 2C + 1x1 conv C^2 + coupling 9(C/2)h + h + h^2 + h + 9h(2 C/2) + 2 C/2, C = 4, 8, 16.
const FULL_FLOW = (() => {
  const h = 512;
  const step = (c: number) => 2 * c + c * c + 9 * (c / 2) * h + h + h * h + h + 9 * h * c + c;
  return 32 * (step(4) + step(8) + step(16));
})();

test('Glow-Aff at full size (L 3, K 32, 512 hidden), per ID: 31.47 M weights per machine ID, within 10 % of Table 5 (30 M)', () => {
  const r = countParams(loadExperiment('experiments/glow-aff.yaml'), 7);
  assert.equal(r.paper?.system, 'Glow-Aff');
  assert.ok(Math.abs(r.paper!.gap) < 0.1, `${r.total}: ${r.paper!.gap}`);
  // One ID's flow with its own top prior (2 x 16) and its outlier threshold (1).
  assert.equal(r.total, FULL_FLOW + 2 * 16 + 1);
  assert.deepEqual(r.perType && { models: r.perType.models, all: r.perType.allModels, per: r.perType.per }, {
    models: 7,
    all: 7 * r.total,
    per: 'machine ID',
  });
});

test('Glow-Aff id-conditioned: one flow per machine type with a prior per ID (2 x 7 x 16)', () => {
  const cfg = loadExperiment('experiments/glow-aff.yaml', [parseOverride('glow.training=id-conditioned')]);
  const r = countParams(cfg, 7);
  assert.equal(r.total, FULL_FLOW + 2 * 7 * 16);
  assert.equal(r.perType?.per, 'machine type');
});

test('a Glow-Aff run stored before glow.training reads back as the id-conditioned flow it trained', () => {
  const old = { system: 'glow-aff', glow: { segment: 32, hop: 32, levels: 3, steps: 32, hidden: 512, idWeight: 1 } };
  assert.equal((upgradeStoredConfig(old) as unknown as { glow: { training: string } }).glow.training, 'id-conditioned');
  const cfg = validateExperiment({ system: 'glow-aff' }, 'x');
  assert.equal(cfg.glow!.training, 'per-id');
});

test('each flow layer inverts: inverse(forward(x)) = x (actnorm, 1x1 conv, affine and additive coupling, squeeze)', async () => {
  await fc.assert(
    fc.asyncProperty(fc.integer({ min: 0, max: 1000 }), fc.constantFrom(2, 4, 6), async (seed, c) => {
      const m = maker(seed);
      const layers = [
        new ActNorm(m, 'a', c),
        new InvConv1x1(m, 'i', c),
        new Coupling(m, 'ca', c, 5, true),
        new Coupling(m, 'cd', c, 5, false),
      ];
      scramble(m.vars, seed);
      const x = tf.randomNormal([2, 4, 6, c], 0, 2, 'float32', seed) as tf.Tensor4D;
      for (const layer of layers) {
        await layer.prepare?.();
        const { y } = layer.forward(x, evalCtx());
        const back = layer.inverse(y);
        assert.ok(maxAbsDiff(back, x) < 1e-4, `${layer.constructor.name}: ${maxAbsDiff(back, x)}`);
        assert.ok(maxAbsDiff(y, x) > 1e-3, `${layer.constructor.name} is not the identity after scrambling`);
      }
      assert.equal(maxAbsDiff(unsqueeze(squeeze(x)), x), 0);
      tf.dispose([x, ...m.vars]);
    }),
    { numRuns: 8 },
  );
});

test("the flow's log-determinant matches log|det J| of a numerical Jacobian (tiny Glow, 2 levels, 16 dims)", async () => {
  const g = new Glow('g', 3, { height: 4, width: 4, levels: 2, steps: 1, hidden: 6, affine: true, classes: 2 });
  scramble(g.trainable().values(), 11);
  await g.prepare();
  const x0 = Float32Array.from({ length: 16 }, (_, i) => Math.sin(1.3 * i) * 1.5);
  const latent = (x: Float32Array): Float64Array =>
    tf.tidy(() => {
      const { z, factored, logdet } = g.encodeAll(tf.tensor4d(x, [1, 4, 4, 1]));
      logdet.dispose();
      return Float64Array.from(tf.concat([...factored.map((f) => f.reshape([-1])), z.reshape([-1])]).dataSync());
    });
  const analytic = tf.tidy(() => g.encodeAll(tf.tensor4d(x0, [1, 4, 4, 1])).logdet.dataSync()[0]!);
  const eps = 1e-2;
  const jac = new Float64Array(16 * 16);
  for (let j = 0; j < 16; j++) {
    const plus = Float32Array.from(x0);
    const minus = Float32Array.from(x0);
    plus[j]! += eps;
    minus[j]! -= eps;
    const a = latent(plus);
    const b = latent(minus);
    for (let i = 0; i < 16; i++) jac[i * 16 + j] = (a[i]! - b[i]!) / (2 * eps);
  }
  const numeric = logAbsDetAndInverse(jac, 16).logAbsDet;
  assert.ok(Math.abs(analytic) > 0.5, `the scrambled flow should change volume (log-det ${analytic})`);
  assert.ok(Math.abs(analytic - numeric) < 2e-2, `analytic ${analytic} vs numeric ${numeric}`);
  // And the whole flow inverts.
  const x = tf.tensor4d(x0, [1, 4, 4, 1]);
  const { z, factored } = g.encodeAll(x);
  assert.ok(maxAbsDiff(g.decode(z, factored), x) < 1e-4);
  g.dispose();
});

test('the ID-conditioned prior: log p(z | k) for every ID equals the plain diagonal-Gaussian log-density', () => {
  const g = new Glow('g', 5, { height: 4, width: 4, levels: 1, steps: 1, hidden: 4, affine: true, classes: 3 });
  scramble(g.trainable().values(), 21);
  const z = tf.randomNormal([2, 2, 2, 4], 0, 1.5, 'float32', 3) as tf.Tensor4D;
  const got = tf.tidy(() => g.topLogProbAll(z).arraySync());
  const zs = z.arraySync();
  const trainable = g.trainable();
  const mu = trainable.get('g/prior/mean')!.arraySync() as number[][];
  const ls = trainable.get('g/prior/logStd')!.arraySync() as number[][];
  for (let n = 0; n < 2; n++) {
    for (let k = 0; k < 3; k++) {
      let lp = 0;
      for (let h = 0; h < 2; h++)
        for (let w = 0; w < 2; w++)
          for (let c = 0; c < 4; c++) {
            const s = Math.exp(ls[k]![c]!);
            const d = (zs[n]![h]![w]![c]! - mu[k]![c]!) / s;
            lp += -0.5 * d * d - Math.log(s) - 0.5 * Math.log(2 * Math.PI);
          }
      assert.ok(Math.abs(got[n]![k]! - lp) < 1e-3 * (1 + Math.abs(lp)), `n ${n} k ${k}: ${got[n]![k]} vs ${lp}`);
    }
  }
  g.dispose();
  z.dispose();
});

test('actnorm initialises from the first training batch (zero mean, unit variance per channel) and only once', () => {
  const m = maker(1);
  const a = new ActNorm(m, 'a', 3);
  const x = tf.add(
    tf.mul(tf.randomNormal([4, 5, 5, 3], 0, 1, 'float32', 2), tf.tensor1d([10, 0.1, 3])),
    tf.tensor1d([-50, 4, 0]),
  ) as tf.Tensor4D;
  const { y } = a.forward(x, { training: true, updates: [] });
  const { mean, variance } = tf.moments(y, [0, 1, 2]);
  for (const v of mean.dataSync()) assert.ok(Math.abs(v) < 1e-3);
  for (const v of variance.dataSync()) assert.ok(Math.abs(v - 1) < 1e-3);
  const again = a.forward(tf.mul(x, 2) as tf.Tensor4D, { training: true, updates: [] }).y;
  assert.ok(maxAbsDiff(again, tf.mul(tf.add(tf.mul(x, 2), m.vars[0]!), tf.exp(m.vars[1]!))) < 1e-3);
});

const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));

test('outlier term = mean over (segment, flow) of -[t log sigmoid(z) + (1 - t) log(1 - sigmoid(z))], z = s (l - c); its gradient in l is s (sigmoid(z) - t) / (M K)', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 4 }),
      fc.integer({ min: 1, max: 3 }),
      fc.double({ min: 0.5, max: 40, noNaN: true }),
      fc.integer({ min: 0, max: 1e6 }),
      (m, k, scale, seed) => {
        let r = seed;
        const rand = () => ((r = (r * 16807) % 2147483647), r / 2147483647);
        const l = Array.from({ length: m * k }, () => -3 + 2 * rand());
        const c = Array.from({ length: k }, () => -3 + 2 * rand());
        const own = Array.from({ length: m }, () => Math.floor(rand() * k));
        const t = l.map((_, i) => (own[Math.floor(i / k)] === i % k ? 1 : 0));
        const z = l.map((v, i) => scale * (v - c[i % k]!));
        // Independent: -log sigmoid(z) = log(1 + e^-z) and -log(1 - sigmoid(z)) = log(1 + e^z), in float64.
        const want =
          z.reduce((a, zi, i) => a + (t[i] ? Math.log1p(Math.exp(-zi)) : Math.log1p(Math.exp(zi))), 0) / (m * k);
        -z.reduce((a, zi, i) => a + t[i]! * Math.log(sigmoid(zi)) + (1 - t[i]!) * Math.log(1 - sigmoid(zi)), 0) /
          (m * k);
        const wantGrad = z.map((zi, i) => (scale * (sigmoid(zi) - t[i]!)) / (m * k));
        const [got, grad] = tf.tidy(() => {
          const lt = tf.tensor2d(l, [m, k]);
          const tt = tf.tensor2d(t, [m, k]);
          const ct = tf.tensor1d(c);
          const f = (x: tf.Tensor) => outlierCrossEntropy(x as tf.Tensor2D, tt, ct, scale);
          return [f(lt).dataSync()[0]!, Array.from(tf.grad(f)(lt).dataSync())];
        });
        assert.ok(Math.abs(got - want) < 1e-4 * (1 + Math.abs(want)), `${got} vs ${want}`);
        grad.forEach((g, i) =>
          assert.ok(Math.abs(g - wantGrad[i]!) < 1e-4 * (1 + Math.abs(wantGrad[i]!)), `${g} vs ${wantGrad[i]}`),
        );
        // An outlier pair's loss rises with its likelihood, a target's falls.
        grad.forEach((g, i) => assert.ok(t[i] ? g <= 0 : g >= 0));
      },
    ),
    { numRuns: 40 },
  );
});

test("per-ID Glow-Aff: one flow per ID; score = mean over segments of -log p_own(x) / D under the own ID's flow; the NLL term is its mean over segments", async () => {
  const cfg = validateExperiment(
    { system: 'glow-aff', glow: { segment: 4, hop: 2, levels: 1, steps: 1, hidden: 4, outlierScale: 3 } },
    'x',
  ).glow!;
  const det = new PerIdGlowDetector(cfg, 4, ['id_00', 'id_02', 'id_04'], 'glow', 7);
  assert.equal(det.flows.length, 3);
  for (const f of det.flows) scramble(f.trainable().values(), 5);
  await det.prepare();
  // Distinct weights per flow (each has its own seed stream).
  const w0 = det.flows[0]!.trainable().get('glow/id_00/level0/step0/invconv/w')!;
  const w1 = det.flows[1]!.trainable().get('glow/id_02/level0/step0/invconv/w')!;
  assert.ok(maxAbsDiff(w0, w1) > 1e-3);
  const [b, m, t] = [3, 4, 8];
  const logmel = tf.tensor3d(
    Float32Array.from({ length: b * m * t }, (_, i) => Math.sin(i * 0.37) * 2),
    [b, m, t],
  );
  const labels = tf.tensor1d([2, 0, 1], 'int32');
  const scores = Array.from(tf.tidy(() => det.clipScores(logmel, labels).dataSync()));
  const ctx = evalCtx();
  const perClip = 3; // segments at frames 0, 2, 4
  let nllSum = 0;
  for (let c = 0; c < b; c++) {
    let sum = 0;
    for (let s = 0; s < perClip; s++) {
      const x = tf.tidy(() => logmel.slice([c, 0, 2 * s], [1, m, 4]).reshape([1, m, 4, 1]) as tf.Tensor4D);
      const ll = tf.tidy(() => det.flows[[2, 0, 1][c]!]!.logLikelihoods(x, ctx).dataSync()[0]!);
      sum += -ll / 16;
      x.dispose();
    }
    nllSum += sum;
    assert.ok(Math.abs(scores[c]! - sum / perClip) < 1e-4 * (1 + Math.abs(sum)), `${scores[c]} vs ${sum / perClip}`);
  }
  const terms = tf.tidy(() => {
    const r = det.objective(logmel, labels, ctx);
    return [r.terms.nll!.dataSync()[0]!, r.terms.outlier!.dataSync()[0]!, r.total.dataSync()[0]!];
  });
  assert.ok(Math.abs(terms[0]! - nllSum / (b * perClip)) < 1e-4 * (1 + Math.abs(terms[0]!)));
  assert.ok(Math.abs(terms[2]! - (terms[0]! + cfg.outlierWeight * terms[1]!)) < 1e-4 * (1 + Math.abs(terms[2]!)));
  for (const mod of det.modules) mod.dispose();
  tf.dispose([logmel, labels]);
});

test('per-ID thresholds start at the mean log-likelihood per dimension of each flow over the first training batch, once', async () => {
  const cfg = validateExperiment(
    { system: 'glow-aff', glow: { segment: 4, hop: 4, levels: 1, steps: 1, hidden: 4 } },
    'x',
  ).glow!;
  const det = new PerIdGlowDetector(cfg, 4, ['id_00', 'id_01'], 'glow', 3);
  await det.prepare();
  const logmel = tf.tensor3d(
    Float32Array.from({ length: 4 * 4 * 8 }, (_, i) => Math.cos(i * 0.21) * 3),
    [4, 4, 8],
  );
  const labels = tf.tensor1d([0, 1, 1, 0], 'int32');
  const train = { training: true, updates: [] as Array<() => void> };
  tf.tidy(() => det.objective(logmel, labels, train));
  // Actnorm initialised in that same pass: the per-dimension log-likelihoods now are those it saw.
  const want = tf.tidy(() =>
    Array.from(tf.mean(det.perDimLikelihoods(logmel, labels, evalCtx()).perDim, 0).dataSync()),
  );
  const got = Array.from(det.thresholds.threshold.dataSync());
  got.forEach((g, k) => assert.ok(Math.abs(g - want[k]!) < 1e-4 * (1 + Math.abs(want[k]!)), `${g} vs ${want[k]}`));
  tf.tidy(() => det.objective(tf.mul(logmel, 3) as tf.Tensor3D, labels, train));
  assert.deepEqual(Array.from(det.thresholds.threshold.dataSync()), got);
  for (const mod of det.modules) mod.dispose();
  tf.dispose([logmel, labels]);
});
