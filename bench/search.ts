/**
 * npm run bench:search — adaptive-search measurements.
 *
 *   tpe     (default, cheap, runs in seconds): TPE vs random search at an equal budget on a known
 *           objective (the minimum of a 4-key quadratic-like bowl in the sweep's own space types),
 *           over many search seeds; prints the mean and median best value of each.
 *   asha    (real training, long): the quick Table 4 space widened to a grid of 12
 *           configurations, run once as a full grid, with ASHA live for one search seed and
 *           replayed on the grid's curves for 3; prints whether ASHA found the grid's best
 *           configuration (or one within its seed noise) and the fraction of the grid's epochs it
 *           spent. Usage: npm run bench:search -- asha [--db FILE]; `asha-summary` prints the
 *           table again from the store.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { SearchSpec, type Point } from '../src/sweep/search/space.js';
import { PointSequence } from '../src/sweep/search/sampler.js';
import { decideClosed, decideResult, nextWork } from '../src/sweep/search/scheduler.js';
import type { Decision, RungResult } from '../src/sweep/search/rules.js';
import { openRunReader } from '../src/store/open.js';
import type { RunReader } from '../src/store/run-store.js';

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

/** Runs one sweep file to completion in a child process (resolves on exit 0). */
function runSweep(cli: string, db: string, file: string, text: string, extra: string[] = []): Promise<void> {
  writeFileSync(file, text);
  return new Promise((done, fail) => {
    const args = [cli, 'sweep', file, '--db', db, '--no-dashboard', ...extra];
    const child = spawn(process.execPath, args, { stdio: 'inherit' });
    child.on('exit', (code) => (code === 0 ? done() : fail(new Error(`exp sweep ${file} exited ${code}`))));
  });
}

/**
 * The quick Table 4 space widened to a 3 x 4 grid (SoftTriple gamma x learning rate), on a
 * reduced quick profile (1 s clips, fan and pump, 8 training clips per ID, a quarter of them held
 * out for the validation loss): the full quick profile trains at about one clip per second on our
 * shared 2-core machine, which would take a day for the grid alone.
 */
const BENCH_SET =
  '{data.seconds: 1, data.types: [fan, pump], data.maxClipsPerId: 8, data.maxTestClipsPerId: 10, train.batchSize: 16, train.valSplit: 0.25}';
const GAMMAS = [0.05, 0.1, 0.2];
const LRS = [0.0003, 0.001, 0.003, 0.01];
const MAX_EPOCHS = 9;
const SEARCH_SEEDS = [1, 2, 3];
const NOISE_SEEDS = [1, 2];

/**
 * Real training: the grid in full (every configuration to 9 epochs), ASHA (rungs 1, 3, 9,
 * reduction 3) live for search seed 1, and the grid's default configuration (gamma 0.1, lr 1e-3)
 * with two more training seeds for the seed noise, all at once (epoch counts, not wall time, are
 * compared). Then ASHA for every search seed is replayed by the sweep's own scheduler on the
 * grid's measured per-epoch validation losses (a paused and resumed trial trains exactly as an
 * uninterrupted one, so a live ASHA run sees the same values at its rungs); the live seed-1 run
 * checks that replay.
 */
async function ashaVsGrid(db: string): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'exp-bench-search-'));
  const base = resolve('experiments/fgaspecnet.yaml');
  const common = `base: ${JSON.stringify(base)}\nset: ${BENCH_SET}\n`;
  const space = `  space:\n    loss.metric.gamma: {choice: [${GAMMAS.join(', ')}]}\n    train.lr: {choice: [${LRS.join(', ')}]}\n`;
  const cli = resolve('dist/cli/main.js');
  await Promise.all([
    runSweep(
      cli,
      db,
      join(dir, 'grid.yaml'),
      `name: bench-grid\n${common}search:\n  method: grid\n${space}prune: {method: none, minEpochs: ${MAX_EPOCHS}, maxEpochs: ${MAX_EPOCHS}}\n`,
      ['--concurrency', '2'],
    ),
    runSweep(
      cli,
      db,
      join(dir, 'asha-1.yaml'),
      `name: bench-asha-1\n${common}search:\n  method: random\n  trials: ${GAMMAS.length * LRS.length}\n  seed: 1\n${space}prune: {method: asha, minEpochs: 1, maxEpochs: ${MAX_EPOCHS}, reduction: 3}\n`,
    ),
    runSweep(
      cli,
      db,
      join(dir, 'noise.yaml'),
      `name: bench-noise\n${common}trials:\n  - name: default\n    set: {loss.metric.gamma: 0.1, train.lr: 0.001, train.epochs: ${MAX_EPOCHS}}\n`,
      ['--seeds', NOISE_SEEDS.join(',')],
    ),
  ]);
  await summarise(db);
}

const key = (gamma: unknown, lr: unknown): string => `gamma=${gamma},lr=${lr}`;

/** Per configuration of a sweep: its validation loss per epoch (from the store). */
async function curves(
  store: RunReader,
  sweep: string,
  by: 'config' | 'run' = 'config',
): Promise<Map<string, Map<number, number>>> {
  const out = new Map<string, Map<number, number>>();
  for (const r of await store.listRuns({ sweep })) {
    const m = r.config.loss.metric;
    const per = new Map<number, number>();
    for (const e of await store.getEpochs(r.id)) if (e.valLoss !== null) per.set(e.epoch, e.valLoss);
    // The seed-noise runs share one configuration: keyed by configuration they would overwrite each other.
    out.set(by === 'run' ? r.id : key(m?.gamma, r.config.train.lr), per);
  }
  return out;
}

/** ASHA with one worker, replayed by the sweep's scheduler on measured curves: the winner and the epochs spent. */
function replayAsha(seed: number, grid: Map<string, Map<number, number>>): { winner: string; epochs: number } {
  const spec = SearchSpec.parse({
    method: 'random',
    seed,
    trials: GAMMAS.length * LRS.length,
    space: { 'loss.metric.gamma': { choice: GAMMAS }, 'train.lr': { choice: LRS } },
  });
  const seq = new PointSequence(spec);
  const units: string[] = [];
  for (let k = 0; ; k++) {
    const r = seq.at(k, () => undefined);
    if (r.kind !== 'point') break;
    units.push(key(r.point['loss.metric.gamma'], r.point['train.lr']));
  }
  const cfg = { method: 'asha' as const, rungs: [1, 3, 9], reduction: 3, minPeers: 2 };
  const table: { results: RungResult[]; decisions: Decision[] } = { results: [], decisions: [] };
  const live = { running: new Set<number>(), failed: new Set<number>(), count: units.length, complete: true };
  const reached = new Map<number, number>();
  for (;;) {
    const w = nextWork(cfg, table, live);
    if (!w) {
      const closed = decideClosed(cfg, table, live);
      if (closed.length === 0) break;
      table.decisions.push(...closed);
      continue;
    }
    const value = grid.get(units[w.unit]!)?.get(w.toEpoch);
    if (value === undefined)
      throw new Error(`the grid has no validation loss for ${units[w.unit]} at epoch ${w.toEpoch}`);
    reached.set(w.unit, w.toEpoch);
    table.results.push({ unit: w.unit, rung: w.toEpoch, value });
    table.decisions.push(...decideResult(cfg, table, w.unit, w.toEpoch));
    table.decisions.push(...decideClosed(cfg, table, live));
  }
  const finished = [...reached].filter(([, e]) => e === MAX_EPOCHS).map(([u]) => u);
  const best = finished.sort(
    (a, b) => grid.get(units[a]!)!.get(MAX_EPOCHS)! - grid.get(units[b]!)!.get(MAX_EPOCHS)!,
  )[0]!;
  return { winner: units[best]!, epochs: [...reached.values()].reduce((a, b) => a + b, 0) };
}

async function summarise(db: string): Promise<void> {
  const store = await openRunReader(db);
  try {
    const grid = await curves(store, 'bench-grid');
    const final = [...grid].map(([k, c]) => ({ k, v: c.get(MAX_EPOCHS) })).filter((x) => x.v !== undefined);
    if (final.length < GAMMAS.length * LRS.length)
      throw new Error(`the grid has ${final.length} finished configurations`);
    final.sort((a, b) => a.v! - b.v!);
    const best = final[0]!;
    const noise = [...(await curves(store, 'bench-noise', 'run')).values()].map((c) => c.get(MAX_EPOCHS)!);
    noise.push(grid.get(key(0.1, 0.001))!.get(MAX_EPOCHS)!);
    const mean = noise.reduce((a, b) => a + b, 0) / noise.length;
    const sd = Math.sqrt(noise.reduce((a, b) => a + (b - mean) ** 2, 0) / (noise.length - 1));
    const gridEpochs = GAMMAS.length * LRS.length * MAX_EPOCHS;
    const out = (l: string) => process.stdout.write(`${l}\n`);
    out(
      `grid: ${final.length} configurations x ${MAX_EPOCHS} epochs = ${gridEpochs} epochs; validation loss at epoch ${MAX_EPOCHS}:`,
    );
    for (const x of final) out(`  ${x.k.padEnd(22)} ${x.v!.toFixed(4)}`);
    out(
      `seed noise: sd ${sd.toFixed(4)} of the validation loss of gamma=0.1,lr=0.001 over training seeds 0, ${NOISE_SEEDS.join(', ')} (${noise.map((v) => v.toFixed(4)).join(', ')})`,
    );
    out('search seed | ASHA winner | its loss | gap to the grid best | within seed noise | epochs | of the grid');
    for (const seed of SEARCH_SEEDS) {
      const r = replayAsha(seed, grid);
      const v = grid.get(r.winner)!.get(MAX_EPOCHS)!;
      out(
        `${seed} | ${r.winner} | ${v.toFixed(4)} | ${(v - best.v!).toFixed(4)} | ${v - best.v! <= sd ? 'yes' : 'no'} | ${r.epochs} | ${((100 * r.epochs) / gridEpochs).toFixed(0)} %`,
      );
    }
    const liveRuns = await store.listRuns({ sweep: 'bench-asha-1' });
    const liveEpochs = (await Promise.all(liveRuns.map((r) => store.getEpochs(r.id)))).reduce(
      (a, e) => a + e.length,
      0,
    );
    const liveWinner = liveRuns.find((r) => r.status === 'done');
    const replay = replayAsha(1, grid);
    out(
      `live ASHA, search seed 1: winner ${liveWinner ? key(liveWinner.config.loss.metric?.gamma, liveWinner.config.train.lr) : 'none'}, ${liveEpochs} epochs (replay: ${replay.winner}, ${replay.epochs} epochs)`,
    );
  } finally {
    await store.close();
  }
}

const mode = process.argv[2] ?? 'tpe';
if (mode === 'tpe') tpeVsRandom();
else if (mode === 'asha' || mode === 'asha-summary') {
  const db = process.argv[3] === '--db' && process.argv[4] ? process.argv[4] : 'runs/bench-search.db';
  await (mode === 'asha' ? ashaVsGrid(db) : summarise(db));
} else {
  process.stderr.write(`bench:search: unknown mode ${JSON.stringify(mode)} (tpe or asha)\n`);
  process.exit(1);
}
