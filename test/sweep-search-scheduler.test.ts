import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { rungEpochs } from '../src/sweep/search/space.js';
import { decideClosed, decideResult, type SchedulerConfig } from '../src/sweep/search/scheduler.js';
import { latestDecision, medianOf, type Decision, type RungTable } from '../src/sweep/search/rules.js';
import { Sim, type SimSpec } from './fixtures/search-sim.js';

/** A random fake sweep: values per (unit, epoch), epoch durations, workers, maybe failures. */
const arbSpec = (method: SchedulerConfig['method']) =>
  fc
    .record({
      units: fc.integer({ min: 1, max: 14 }),
      workers: fc.integer({ min: 1, max: 5 }),
      reduction: fc.integer({ min: 2, max: 4 }),
      minEpochs: fc.integer({ min: 1, max: 3 }),
      factor: fc.integer({ min: 1, max: 12 }),
      values: fc.array(fc.integer({ min: 0, max: 50 }), { minLength: 14 * 40, maxLength: 14 * 40 }),
      durations: fc.array(fc.integer({ min: 1, max: 9 }), { minLength: 14, maxLength: 14 }),
      fails: fc.array(fc.option(fc.integer({ min: 1, max: 40 }), { freq: 4 }), { minLength: 14, maxLength: 14 }),
    })
    .map((r): SimSpec => {
      const maxEpochs = Math.min(36, r.minEpochs * r.factor);
      return {
        cfg: {
          method,
          rungs: rungEpochs({ minEpochs: r.minEpochs, maxEpochs, reduction: r.reduction }),
          reduction: r.reduction,
          minPeers: 2,
        },
        units: r.units,
        workers: r.workers,
        // Integer values make ties frequent, which the tie-breaking rule must handle.
        value: (u, e) => r.values[u * 40 + e]!,
        epochMs: (u) => r.durations[u]!,
        failsAt: (u) => r.fails[u] ?? null,
      };
    });

function maxTrained(ranges: Array<[number, number]> | undefined): number {
  return Math.max(0, ...(ranges ?? []).map(([, to]) => to));
}

for (const method of ['asha', 'median', 'none'] as const) {
  test(`${method}: a stopped or paused configuration never trains past its rung; every configuration ends finished, stopped or failed`, () => {
    fc.assert(
      fc.property(arbSpec(method), (spec) => {
        const r = new Sim(spec).run();
        const last = spec.cfg.rungs[spec.cfg.rungs.length - 1]!;
        assert.deepEqual(r.doubleBooked, []);
        for (let u = 0; u < spec.units; u++) {
          const top = maxTrained(r.trained.get(u));
          if (r.failed.has(u)) continue;
          const stopped = r.table.decisions.find((d) => d.unit === u && d.action === 'stop');
          if (stopped) assert.equal(top, stopped.rung, `unit ${u} stopped at ${stopped.rung} but trained to ${top}`);
          else assert.equal(top, last, `unit ${u} neither stopped nor finished (trained to ${top})`);
          // Training beyond a rung needs a promotion there.
          for (const rung of spec.cfg.rungs) {
            if (top > rung)
              assert.equal(
                latestDecision(r.table, u, rung)?.action,
                'promote',
                `unit ${u} passed epoch ${rung} without a promotion`,
              );
          }
          // Epochs are trained once each, in order, from the checkpoint (never from scratch again).
          let at = 0;
          for (const [from, to] of r.trained.get(u) ?? []) {
            assert.equal(from, at, `unit ${u} restarted at ${from}, its checkpoint was at ${at}`);
            at = to;
          }
        }
        // Nothing stays paused once the sweep is over.
        for (const d of r.table.decisions) {
          if (d.action === 'pause')
            assert.notEqual(
              latestDecision(r.table, d.unit, d.rung)?.action,
              'pause',
              `unit ${d.unit} left paused at ${d.rung}`,
            );
        }
      }),
      { numRuns: 150 },
    );
  });
}

test('asha: at most floor(n / reduction) promotions per rung (n counted when each is made), or the best one when fewer than reduction reached it', () => {
  fc.assert(
    fc.property(arbSpec('asha'), (spec) => {
      const r = new Sim(spec).run();
      for (const rung of spec.cfg.rungs.slice(0, -1)) {
        let promoted = 0;
        for (const { d, nAtRung } of r.madeWith) {
          if (d.rung !== rung || d.action !== 'promote') continue;
          promoted++;
          assert.ok(
            promoted <= Math.max(1, Math.floor(nAtRung / spec.cfg.reduction)),
            `rung ${rung}: promotion ${promoted} with only ${nAtRung} results`,
          );
        }
        const n = r.table.results.filter((x) => x.rung === rung).length;
        const quota = n === 0 ? 0 : Math.max(1, Math.floor(n / spec.cfg.reduction));
        // Once the sweep is over every rung promoted exactly its quota.
        assert.equal(promoted, quota, `rung ${rung}: ${promoted} promoted of ${n}`);
      }
    }),
    { numRuns: 200 },
  );
});

test('decisions are a function of the stored results: replaying the result log gives the same decisions', () => {
  fc.assert(
    fc.property(
      fc.constantFrom('asha', 'median', 'none' as const),
      fc.integer({ min: 0, max: 2 ** 31 - 1 }),
      (method, seed) => {
        const spec = fc.sample(arbSpec(method), { seed, numRuns: 1 })[0]!;
        const r = new Sim(spec).run();
        // A fresh process that reads the results back in stored order decides the same thing, row for row.
        const replay: { results: RungTable['results'][number][]; decisions: Decision[] } = {
          results: [],
          decisions: [],
        };
        for (const res of r.table.results) {
          replay.results.push(res);
          replay.decisions.push(...decideResult(spec.cfg, replay, res.unit, res.rung));
        }
        const live = { running: new Set<number>(), failed: r.failed, count: spec.units, complete: true };
        replay.decisions.push(...decideClosed(spec.cfg, replay, live));
        const final = (t: RungTable) =>
          [...new Set(t.decisions.map((d) => `${d.unit}@${d.rung}`))].sort().map((k) => {
            const [u, g] = k.split('@').map(Number);
            return `${k}:${latestDecision(t, u!, g!)!.action}`;
          });
        assert.deepEqual(final(replay), final(r.table));
      },
    ),
    { numRuns: 100 },
  );
});

test('kill -9 at any step, then resume: decisions made before stay, no epoch is trained twice, none lost; one worker decides exactly as without the kill', () => {
  fc.assert(
    fc.property(arbSpec('asha'), fc.array(fc.integer({ min: 0, max: 60 }), { maxLength: 4 }), (spec, killSteps) => {
      const clean = new Sim(spec).run();
      const sim = new Sim(spec);
      for (const k of [...killSteps].sort((a, b) => a - b)) {
        while (sim.steps < k && sim.step());
        const before = sim.table.decisions.map((d) => ({ ...d }));
        sim.kill();
        // The restarted sweep keeps only the table: the decisions it had are untouched afterwards.
        assert.deepEqual(sim.table.decisions.slice(0, before.length), before);
      }
      const r = sim.run();
      for (const [u, ranges] of r.trained) {
        let at = 0;
        for (const [from, to] of ranges) {
          assert.equal(from, at, `unit ${u}: epochs ${from + 1}..${to} after a checkpoint at ${at}`);
          at = to;
        }
      }
      if (spec.workers === 1) {
        const key = (t: RungTable) => t.decisions.map((d) => `${d.unit}@${d.rung}:${d.action}`);
        assert.deepEqual(key(r.table), key(clean.table));
      }
    }),
    { numRuns: 150 },
  );
});

test('asha: a configuration best at every rung that reports first reaches the end (a late one may not: the quota can be spent)', () => {
  fc.assert(
    fc.property(arbSpec('asha'), (spec0) => {
      // The first configuration, with one worker, is first at every rung, and strictly best.
      const spec: SimSpec = {
        ...spec0,
        workers: 1,
        value: (u, e) => (u === 0 ? -1 : spec0.value(u, e)),
        failsAt: (u) => (u === 0 ? null : spec0.failsAt!(u)),
      };
      const r = new Sim(spec).run();
      assert.equal(maxTrained(r.trained.get(0)), spec.cfg.rungs[spec.cfg.rungs.length - 1]);
    }),
    { numRuns: 150 },
  );
  // The counterexample to the stronger claim: seven configurations, the best one last, reduction 2.
  const late: SimSpec = {
    cfg: { method: 'asha', rungs: [1, 2], reduction: 2, minPeers: 2 },
    units: 7,
    workers: 1,
    value: (u) => (u === 6 ? -1 : u),
    epochMs: () => 1,
  };
  const r = new Sim(late).run();
  assert.equal(maxTrained(r.trained.get(6)), 1, 'asynchronous promotion spent the quota before the best arrived');
});

test('median: stops exactly the configurations worse than the median of the others at that rung', () => {
  fc.assert(
    fc.property(arbSpec('median'), (spec) => {
      const r = new Sim(spec).run();
      for (const { d } of r.madeWith) {
        if (d.basis.median === undefined) continue;
        const at = r.table.results
          .slice(0, r.table.results.findIndex((x) => x.unit === d.unit && x.rung === d.rung) + 1)
          .filter((x) => x.rung === d.rung && x.unit !== d.unit);
        assert.equal(d.basis.median, medianOf(at.map((x) => x.value)));
        assert.equal(d.action, d.basis.value > d.basis.median ? 'stop' : 'promote');
      }
    }),
    { numRuns: 100 },
  );
});

test('rung epochs: minEpochs * reduction^k below maxEpochs, then maxEpochs', () => {
  assert.deepEqual(rungEpochs({ minEpochs: 1, maxEpochs: 9, reduction: 3 }), [1, 3, 9]);
  assert.deepEqual(rungEpochs({ minEpochs: 2, maxEpochs: 8, reduction: 3 }), [2, 6, 8]);
  assert.deepEqual(rungEpochs({ minEpochs: 4, maxEpochs: 4, reduction: 2 }), [4]);
});
