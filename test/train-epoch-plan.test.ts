import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { epochPlan } from '../src/train/epoch-plan.js';
import { epochBatches } from '../src/train/plan.js';
import { SeededRandom } from '../src/random/index.js';

test('epochPlan: each epoch visits every clip once, partners permute each batch, lambda in (0, 1)', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 1000 }),
      fc.integer({ min: 1, max: 20 }),
      fc.integer({ min: 2, max: 60 }),
      fc.integer({ min: 2, max: 16 }),
      (seed, epoch, count, batch) => {
        const plan = epochPlan(seed, epoch, count, epochBatches(count, batch, false), 0.5);
        assert.deepEqual(
          plan.flatMap((s) => s.rows).sort((x, y) => x - y),
          Array.from({ length: count }, (_, i) => i),
        );
        for (const s of plan) {
          assert.deepEqual(
            [...s.partners].sort((x, y) => x - y),
            [...s.rows].sort((x, y) => x - y),
          );
          assert.ok(s.lam > 0 && s.lam < 1);
        }
        assert.deepEqual(epochPlan(seed, epoch, count, epochBatches(count, batch, false), 0.5), plan);
      },
    ),
    { numRuns: 50 },
  );
});

test('epochPlan draws what the trainer always drew: shuffle, then per batch a permutation and a Beta(alpha, alpha)', () => {
  const batches = epochBatches(37, 8, false);
  const rng = new SeededRandom(3 * 1_000_003 + 2 * 7919 + 17);
  const order = rng.permutation(37);
  const want = batches.map((r) => {
    const rows = order.slice(...r);
    const perm = rng.permutation(rows.length);
    return { rows, partners: perm.map((k) => rows[k]!), lam: rng.beta(0.5, 0.5) };
  });
  assert.deepEqual(epochPlan(3, 2, 37, batches, 0.5), want);
  // Without mixup: lambda 1, and the shuffle is the same.
  const plain = epochPlan(3, 2, 37, batches, null);
  assert.deepEqual(
    plain.map((s) => s.rows),
    want.map((s) => s.rows),
  );
  assert.ok(plain.every((s) => s.lam === 1));
});
