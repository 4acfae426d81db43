/**
 * npm run bench:search — adaptive-search measurements.
 *
 *   tpe     (default, cheap, runs in seconds): TPE vs random search at an equal budget on a known
 *           objective (the minimum of a 4-key quadratic-like bowl in the sweep's own space types),
 *           over many search seeds; prints the mean and median best value of each.
 *   asha    (real training, long): the quick Table 4 space widened to a grid of 12
 *           configurations, run once as a full grid and with ASHA over 3 search seeds, prints
 *           whether ASHA found the grid's best configuration (or one within its seed noise) and
 *           the fraction of the grid's epochs it spent. Usage: npm run bench:search -- asha [--db FILE]
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { SearchSpec, type Point } from '../src/sweep/search/space.js';
import { PointSequence } from '../src/sweep/search/sampler.js';

const space = {
  'train.lr': { loguniform: [1e-5, 1e-1] },
  'loss.metric.gamma': { choice: [0.05, 0.1, 0.2, 0.4] },
  'train.batchSize': { int: [8, 64] },
  'loss.metric.weight': { uniform: [0, 1] },
};

/** Known objective: minimum 0 at lr = 1e-3, gamma = 0.1, batch 24, weight 0.3. */
function objective(p: Point): number {
  const lr = Math.log10(p['train.lr'] as number) + 3;
  const g = p['loss.metric.gamma'] === 0.1 ? 0 : 0.3;
  const b = ((p['train.batchSize'] as number) - 24) / 16;
  const w = (p['loss.metric.weight'] as number) - 0.3;
  return lr * lr + g + b * b + 4 * w * w;
}

function bestOf(method: 'tpe' | 'random', seed: number, budget: number): number {
  const seq = new PointSequence(SearchSpec.parse({ method, seed, trials: budget, startup: 10, batch: 1, space }));
  const values = new Map<number, number>();
  for (let k = 0; k < budget; k++) {
    const r = seq.at(k, (j) => values.get(j));
    if (r.kind !== 'point') throw new Error(`point ${k}: ${r.kind}`);
    values.set(k, objective(r.point));
  }
  return Math.min(...values.values());
}

function tpeVsRandom(): void {
  const seeds = Array.from({ length: 50 }, (_, i) => i + 1);
  const stat = (xs: number[]) => {
    const s = [...xs].sort((a, b) => a - b);
    return { mean: xs.reduce((a, b) => a + b, 0) / xs.length, median: s[Math.floor(s.length / 2)]! };
  };
  process.stdout.write(`TPE vs random search, known objective (minimum 0), ${seeds.length} search seeds\n`);
  process.stdout.write(`budget  random mean / median   tpe mean / median   tpe better on\n`);
  for (const budget of [20, 40, 80]) {
    const rnd = seeds.map((s) => bestOf('random', s, budget));
    const tpe = seeds.map((s) => bestOf('tpe', s, budget));
    const wins = seeds.filter((_, i) => tpe[i]! < rnd[i]!).length;
    const r = stat(rnd);
    const t = stat(tpe);
    process.stdout.write(
      `${String(budget).padStart(6)}  ${r.mean.toFixed(4)} / ${r.median.toFixed(4)}      ${t.mean.toFixed(4)} / ${t.median.toFixed(4)}     ${wins}/${seeds.length} seeds\n`,
    );
  }
}

/** Real training: full grid vs ASHA on the quick Table 4 space widened to 12 configurations. */
function ashaVsGrid(db: string): void {
  const dir = mkdtempSync(join(tmpdir(), 'exp-bench-search-'));
  const base = resolve('experiments/fgaspecnet.yaml');
  const common = `base: ${JSON.stringify(base)}\nset: {data.seconds: 2, data.maxClipsPerId: null, data.maxTestClipsPerId: null, train.batchSize: 16, train.valSplit: 0.1}\n`;
  const gridSpace = `  space:\n    loss.metric.gamma: {choice: [0.05, 0.1, 0.2]}\n    train.lr: {choice: [0.0003, 0.001, 0.003, 0.01]}\n`;
  const cli = resolve('dist/cli/main.js');
  const run = (file: string, text: string) => {
    writeFileSync(file, text);
    execFileSync(process.execPath, [cli, 'sweep', file, '--db', db, '--no-dashboard'], { stdio: 'inherit' });
  };
  run(
    join(dir, 'grid.yaml'),
    `name: bench-grid\n${common}search:\n  method: grid\n${gridSpace}prune: {method: none, minEpochs: 9, maxEpochs: 9}\n`,
  );
  for (const seed of [1, 2, 3]) {
    run(
      join(dir, `asha-${seed}.yaml`),
      `name: bench-asha-${seed}\n${common}search:\n  method: random\n  trials: 12\n  seed: ${seed}\n${gridSpace}prune: {method: asha, minEpochs: 1, maxEpochs: 9, reduction: 3}\n`,
    );
  }
  process.stdout.write(
    `done: compare with  exp sweep status bench-grid / bench-asha-N --db ${db}  and  exp compare bench-grid\n`,
  );
}

const mode = process.argv[2] ?? 'tpe';
if (mode === 'tpe') tpeVsRandom();
else if (mode === 'asha')
  ashaVsGrid(process.argv[3] === '--db' && process.argv[4] ? process.argv[4] : 'runs/bench-search.db');
else {
  process.stderr.write(`bench:search: unknown mode ${JSON.stringify(mode)} (tpe or asha)\n`);
  process.exit(1);
}
