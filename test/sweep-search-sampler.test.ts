import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { SearchSpec, PruneSpec, gridOf, type Point } from '../src/sweep/search/space.js';
import { PointSequence } from '../src/sweep/search/sampler.js';
import { canonicalJson } from '../src/config/hash.js';

const space = {
  'train.lr': { loguniform: [1e-4, 1e-2] },
  'loss.metric.gamma': { choice: [0.05, 0.1, 0.2] },
  'train.batchSize': { int: [8, 32] },
  'loss.metric.weight': { uniform: [0, 1] },
};

/** A cheap known objective with its minimum at lr = 1e-3, gamma = 0.1, batch 16, weight 0.3. */
function objective(p: Point): number {
  const lr = Math.log10(p['train.lr'] as number) + 3;
  const g = p['loss.metric.gamma'] === 0.1 ? 0 : 0.5;
  const b = ((p['train.batchSize'] as number) - 16) / 8;
  const w = (p['loss.metric.weight'] as number) - 0.3;
  return lr * lr + g + b * b + 4 * w * w;
}

/**
 * Runs a search with `workers` asynchronous workers: each takes the next point as soon as it is
 * ready and finishes after a random time, so results arrive in a different order with every
 * worker count. Returns the points in index order.
 */
function runAsync(spec: SearchSpec, workers: number, durations: number[]): Point[] {
  const seq = new PointSequence(spec);
  const values = new Map<number, number>();
  const running: Array<{ k: number; at: number }> = [];
  let next = 0;
  let now = 0;
  for (;;) {
    while (running.length < workers) {
      const p = seq.at(next, (j) => values.get(j));
      if (p.kind !== 'point') break;
      running.push({ k: next, at: now + durations[next % durations.length]! });
      next++;
    }
    if (running.length === 0) break;
    running.sort((a, b) => a.at - b.at || a.k - b.k);
    const done = running.shift()!;
    now = done.at;
    values.set(done.k, objective(seq.known[done.k]!));
  }
  return [...seq.known];
}

const parse = (x: unknown) => SearchSpec.parse(x);

test('tpe and random: the same seed proposes the same points whatever the number of workers and the order results arrive in', () => {
  fc.assert(
    fc.property(
      fc.constantFrom('tpe', 'random'),
      fc.integer({ min: 0, max: 1000 }),
      fc.integer({ min: 1, max: 4 }),
      fc.integer({ min: 1, max: 5 }),
      fc.array(fc.integer({ min: 1, max: 20 }), { minLength: 1, maxLength: 30 }),
      (method, seed, batch, workers, durations) => {
        const spec = parse({ method, seed, trials: 20, startup: 5, batch, space });
        const one = runAsync(spec, 1, [1]);
        const many = runAsync(spec, workers, durations);
        assert.equal(one.length, 20);
        assert.deepEqual(many.map(canonicalJson), one.map(canonicalJson));
      },
    ),
    { numRuns: 40 },
  );
});

test('no configuration is proposed twice, even in a small finite space that runs out', () => {
  fc.assert(
    fc.property(
      fc.constantFrom('tpe', 'random'),
      fc.integer({ min: 0, max: 1000 }),
      fc.integer({ min: 1, max: 4 }),
      (method, seed, workers) => {
        const small = { a: { choice: [1, 2, 3] }, b: { int: [0, 2] } };
        const spec = parse({ method, seed, trials: 30, startup: 3, batch: 2, space: small });
        const pts = runAsync(spec, workers, [3, 1, 2]);
        const keys = pts.map(canonicalJson);
        assert.equal(new Set(keys).size, keys.length);
        assert.equal(pts.length, 9, 'the whole 3 x 3 space, then the sequence ends');
      },
    ),
    { numRuns: 30 },
  );
});

test('a tpe point waits for every value its batch may see, and only for those', () => {
  const spec = parse({ method: 'tpe', seed: 1, trials: 12, startup: 4, batch: 3, space });
  const seq = new PointSequence(spec);
  for (let k = 0; k < 4; k++) assert.equal(seq.at(k, () => undefined).kind, 'point');
  const w = seq.at(4, (j) => (j === 2 ? undefined : 1));
  assert.deepEqual(w, { kind: 'wait', needs: [2] });
  assert.equal(seq.at(4, () => 1).kind, 'point');
  // Points 5 and 6 are in the same batch as 4: they need nothing more.
  assert.equal(seq.at(6, (j) => (j < 4 ? 1 : undefined)).kind, 'point');
  assert.equal(seq.at(7, (j) => (j < 4 ? 1 : undefined)).kind, 'wait');
});

test('grid: every point of the finite space in key order; a continuous key is not a grid', () => {
  const spec = parse({ method: 'grid', space: { a: { choice: ['x', 'y'] }, b: { int: [1, 3] } } });
  const seq = new PointSequence(spec);
  const pts: Point[] = [];
  for (let k = 0; ; k++) {
    const p = seq.at(k, () => undefined);
    if (p.kind !== 'point') break;
    pts.push(p.point);
  }
  assert.deepEqual(pts, [
    { a: 'x', b: 1 },
    { a: 'x', b: 2 },
    { a: 'x', b: 3 },
    { a: 'y', b: 1 },
    { a: 'y', b: 2 },
    { a: 'y', b: 3 },
  ]);
  assert.equal(gridOf({ lr: { loguniform: [1e-4, 1e-2] } }), null);
});

test('random points stay inside their bounds, and ints are integers', () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 10_000 }), (seed) => {
      const seq = new PointSequence(parse({ method: 'random', seed, trials: 10, space }));
      for (let k = 0; k < 10; k++) {
        const r = seq.at(k, () => undefined);
        assert.equal(r.kind, 'point');
        if (r.kind !== 'point') return;
        const p = r.point;
        assert.ok((p['train.lr'] as number) >= 1e-4 && (p['train.lr'] as number) <= 1e-2);
        assert.ok(
          Number.isInteger(p['train.batchSize']) &&
            (p['train.batchSize'] as number) >= 8 &&
            (p['train.batchSize'] as number) <= 32,
        );
        assert.ok([0.05, 0.1, 0.2].includes(p['loss.metric.gamma'] as number));
      }
    }),
    { numRuns: 50 },
  );
});

test('tpe finds a lower value than random search at an equal budget of 30 points, on average over 20 seeds', () => {
  const best = (method: 'tpe' | 'random', seed: number) =>
    Math.min(...runAsync(parse({ method, seed, trials: 30, startup: 8, batch: 1, space }), 1, [1]).map(objective));
  const seeds = Array.from({ length: 20 }, (_, i) => i + 1);
  const tpe = seeds.map((s) => best('tpe', s));
  const rnd = seeds.map((s) => best('random', s));
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  assert.ok(mean(tpe) < mean(rnd), `tpe ${mean(tpe)} vs random ${mean(rnd)}`);
});

test('space and pruning specs: clear errors for bad bounds, unknown forms and empty spaces', () => {
  const msg = (r: { success: boolean; error?: { issues: Array<{ message: string }> } }) =>
    r.error?.issues.map((i) => i.message).join('; ') ?? '';
  assert.match(msg(SearchSpec.safeParse({ method: 'tpe', space: { lr: { loguniform: [0, 1] } } })), /above 0/);
  assert.match(msg(SearchSpec.safeParse({ method: 'tpe', space: { lr: { uniform: [2, 1] } } })), /low < high/);
  assert.equal(SearchSpec.safeParse({ method: 'tpe', space: { lr: { normal: [0, 1] } } }).success, false);
  assert.match(msg(SearchSpec.safeParse({ method: 'random', space: {} })), /empty/);
  assert.match(
    msg(PruneSpec.safeParse({ method: 'asha', minEpochs: 9, maxEpochs: 3 })),
    /minEpochs must not exceed maxEpochs/,
  );
});
