import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import fc from 'fast-check';
import { loadExperiment } from '../src/parts/experiment.js';
import { countParams } from '../src/parts/params.js';
import { Glow } from '../src/systems/glow/flow.js';
import { ActNorm, Coupling, InvConv1x1, squeeze, unsqueeze, type WeightMaker } from '../src/systems/glow/layers.js';
import { logAbsDetAndInverse } from '../src/systems/glow/linalg.js';
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

test('Glow-Aff at full size (L 3, K 32, 512 hidden): 31.47 M weights per machine type, within 10 % of Table 5 (30 M)', () => {
  const r = countParams(loadExperiment('experiments/glow-aff.yaml'), 7);
  assert.equal(r.paper?.system, 'Glow-Aff');
  assert.ok(Math.abs(r.paper!.gap) < 0.1, `${r.total}: ${r.paper!.gap}`);
  // Independent count: per step actnorm 2C + 1x1 conv C^2 + coupling 9(C/2)h + h + h^2 + h + 9h(2 C/2) + 2 C/2, C = 4, 8, 16; prior 2 x 7 IDs x 16.
  const h = 512;
  const step = (c: number) => 2 * c + c * c + 9 * (c / 2) * h + h + h * h + h + 9 * h * c + c;
  assert.equal(r.total, 32 * (step(4) + step(8) + step(16)) + 2 * 7 * 16);
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
